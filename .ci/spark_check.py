"""Reads a backtrail dataset with Spark (pyspark, local[2]), as a data
engineer would: plain `spark.read.parquet`, partition discovery on.

Usage: spark_check.py DATASET SUMMARY_JSON
"""
import json
import sys

from pyspark.sql import SparkSession

data, summary_path = sys.argv[1], sys.argv[2]
expected = json.load(open(summary_path))["events_new"]
spark = (
    SparkSession.builder.master("local[2]")
    .appName("backtrail-ecosystem")
    .config("spark.ui.enabled", "false")
    .config("spark.ui.showConsoleProgress", "false")
    .config("spark.sql.session.timeZone", "UTC")
    .getOrCreate()
)
spark.sparkContext.setLogLevel("ERROR")
df = spark.read.parquet(f"{data}/events")
n = df.count()
assert n == expected, f"spark sees {n} rows, ingest stored {expected}"
types = dict(df.dtypes)
assert types["eventTime"] == "timestamp", types["eventTime"]
assert types["event_date"] == "date", types["event_date"]
assert types["userIdentity"].startswith("struct<"), types["userIdentity"]
assert types["resource_arns"] == "array<string>", types["resource_arns"]
assumes = df.where("eventName = 'AssumeRole' AND userIdentity.type IS NOT NULL").count()
assert assumes > 0
print(f"spark {spark.version}: {n} rows, types ok")
# Wait for the JVM to exit before the caller removes the venv its jars live
# in: otherwise its shutdown hooks fail loading them and print a stack trace.
gateway = spark.sparkContext._gateway
jvm = getattr(gateway, "proc", None)
spark.stop()
gateway.shutdown()
if jvm is not None:
    if jvm.stdin is not None:
        jvm.stdin.close()
    jvm.wait(timeout=120)
print("spark: 1 passed, 0 failed")
