"""Runs the DuckDB equivalents of backtrail's queries over the same Parquet.

Usage: duckdb_queries.py DATASET REPEATS THREADS [QUERIES_FILE] (else stdin)
queries.json: [{"name": ..., "sql": ...}] where SQL reads the view `events`.
Prints one JSON object: {name: {"warm_ms": [...], "rows": n}} — the first
run of each query is a warm-up and not reported.
With REPEATS = 0 it runs each query once in this (fresh) process and reports
that single time as "fresh_ms".
"""
import json
import sys
import time

import duckdb

data, repeats, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
queries = json.load(open(sys.argv[4]) if len(sys.argv) > 4 else sys.stdin)
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute(
    "CREATE VIEW events AS SELECT * FROM "
    f"read_parquet('{data}/events/**/*.parquet', hive_partitioning = true)"
)
out = {}
for q in queries:
    if repeats == 0:
        t = time.perf_counter()
        rows = len(con.execute(q["sql"]).fetchall())
        out[q["name"]] = {"fresh_ms": [(time.perf_counter() - t) * 1000], "rows": rows}
        continue
    rows = len(con.execute(q["sql"]).fetchall())
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        con.execute(q["sql"]).fetchall()
        times.append((time.perf_counter() - t) * 1000)
    out[q["name"]] = {"warm_ms": times, "rows": rows}
print(json.dumps(out))
