#!/usr/bin/env bash
# Installs DuckDB, pyarrow (and pyspark where a JVM exists) from PyPI into a throwaway venv, generates and
# ingests a small archive with the debug binary, and checks that both read the
# Parquet dataset with Hive partitioning: row counts equal what ingest
# reported, and the column types are what docs/schema.md promises.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check duckdb pyarrow
cargo build --quiet -p backtrail
bin=target/debug/backtrail
"$bin" gen --out "$work/archive" --events 20000 --seed 7 --scenario leaked-key >/dev/null
"$bin" ingest "$work/archive/AWSLogs" ../shared/corpus --out "$work/data" --json --quiet > "$work/summary.json"
"$work/venv/bin/python" .ci/ecosystem.py "$work/data" "$work/summary.json"

# Spark needs a JVM; where the machine has one, pyspark from PyPI reads the
# same dataset with plain spark.read.parquet.
if command -v java >/dev/null 2>&1; then
  "$work/venv/bin/pip" install --quiet --disable-pip-version-check pyspark
  "$work/venv/bin/python" .ci/spark_check.py "$work/data" "$work/summary.json"
else
  echo "spark: skipped (no java on this machine)"
fi
