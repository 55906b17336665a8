"""DuckDB converting a CloudTrail archive to Parquet: the baseline for ingest.

Usage: duckdb_ingest.py LOGS_DIR OUT_FILE THREADS
Reads every .json.gz under LOGS_DIR (digest files have no Records and add no rows) with read_json and an
explicit schema that keeps the free-form parts as JSON text, unnests the
Records and COPYs them to one Parquet file. Prints the row count.
"""
import sys
import duckdb

archive, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
S = "VARCHAR"
record = (
    "STRUCT("
    f"eventVersion {S}, "
    "userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, "
    "accessKeyId VARCHAR, userName VARCHAR, invokedBy VARCHAR, sessionContext JSON, onBehalfOf JSON), "
    f"eventTime TIMESTAMPTZ, eventSource {S}, eventName {S}, awsRegion {S}, sourceIPAddress {S}, "
    f"userAgent {S}, errorCode {S}, errorMessage {S}, requestParameters JSON, responseElements JSON, "
    f"additionalEventData JSON, requestID {S}, eventID {S}, eventType {S}, apiVersion {S}, "
    "managementEvent BOOLEAN, readOnly BOOLEAN, "
    "resources STRUCT(ARN VARCHAR, accountId VARCHAR, type VARCHAR)[], "
    f"recipientAccountId {S}, serviceEventDetails JSON, sharedEventID {S}, vpcEndpointId {S}, "
    f"eventCategory {S}, tlsDetails STRUCT(tlsVersion VARCHAR, cipherSuite VARCHAR, "
    "clientProvidedHostHeader VARCHAR), sessionCredentialFromConsole VARCHAR"
    ")"
)
con = duckdb.connect()
con.execute(f"SET threads = {threads}")
con.execute("SET preserve_insertion_order = false")
glob = f"{archive}/**/*.json.gz"
con.execute(
    f"""COPY (
          SELECT r.* FROM (
            SELECT unnest(Records) AS r
            FROM read_json('{glob}', format = 'auto', records = true,
                           columns = {{'Records': '{record}[]'}},
                           maximum_object_size = 1073741824)
          )
        ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)"""
)
(n,) = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()
print(n)
