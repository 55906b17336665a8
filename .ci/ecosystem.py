"""Reads a backtrail dataset with DuckDB and pyarrow, as an analyst would.

Usage: ecosystem.py DATASET SUMMARY_JSON
Fails (exit 1) unless both engines see exactly the events ingest reported as
stored, with the promised column types and Hive partition column.
"""
import json
import sys

import duckdb
import pyarrow as pa
import pyarrow.dataset as ds

data, summary_path = sys.argv[1], sys.argv[2]
summary = json.load(open(summary_path))
# Every new event of this single run is in the dataset, once.
expected = summary["events_new"]
glob = f"{data}/events/**/*.parquet"

con = duckdb.connect()
rel = f"read_parquet('{glob}', hive_partitioning = true)"
(count,) = con.execute(f"SELECT count(*) FROM {rel}").fetchone()
assert count == expected, f"duckdb sees {count} rows, ingest stored {expected}"
(distinct,) = con.execute(
    f"SELECT count(*) FROM (SELECT DISTINCT eventID, record_hash FROM {rel})"
).fetchone()
assert distinct == count, f"duplicates in dataset: {count - distinct}"
types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {rel}").fetchall()}
assert types["eventTime"] == "TIMESTAMP WITH TIME ZONE", types["eventTime"]
assert types["event_date"] == "DATE", types["event_date"]
assert types["userIdentity"].startswith("STRUCT("), types["userIdentity"]
assert types["resources"].startswith("STRUCT(") and types["resources"].endswith("[]"), types["resources"]
assert types["readOnly"] == "BOOLEAN", types["readOnly"]
assert types["source_record"] == "BIGINT", types["source_record"]
assert not any(t.startswith("U") for t in types.values()), "unsigned type found"
# Athena-style SQL reads naturally.
(assumes,) = con.execute(
    f"SELECT count(*) FROM {rel} WHERE eventName = 'AssumeRole' "
    "AND userIdentity.type IS NOT NULL"
).fetchone()
assert assumes > 0, "no AssumeRole events visible through userIdentity.type"
(bad_days,) = con.execute(
    f"SELECT count(*) FROM {rel} WHERE event_date IS NOT NULL "
    "AND CAST(eventTime AT TIME ZONE 'UTC' AS DATE) <> event_date"
).fetchone()
assert bad_days == 0, f"{bad_days} rows in the wrong event_date partition"
print(f"duckdb {duckdb.__version__}: {count} rows, types ok")

dataset = ds.dataset(f"{data}/events", format="parquet", partitioning="hive")
table = dataset.to_table()
assert table.num_rows == expected, f"pyarrow sees {table.num_rows}, expected {expected}"
schema = table.schema
assert schema.field("eventTime").type == pa.timestamp("us", tz="UTC"), schema.field("eventTime").type
assert pa.types.is_struct(schema.field("userIdentity").type)
assert pa.types.is_list(schema.field("resource_arns").type)
assert schema.field("event_date").type in (pa.int32(), pa.string(), pa.date32()), schema.field("event_date").type
print(f"pyarrow {pa.__version__}: {table.num_rows} rows, types ok")
print("ecosystem: 2 passed, 0 failed")
