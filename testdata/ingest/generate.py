#!/usr/bin/env python3
"""Regenerates the ingest fixtures (pass/, fail/, hostile/).

File names carry the expectation the table tests check:
  pass/<kind>__<records>__<what>.<ext>      kind: records|jsonl|array|object|lookup-events|digest
  fail/<reason-kind>__<what>.<ext>          reason-kind: FileError::kind() in kebab-case
  hostile/<what>.<ext>                      must ingest and export back exactly
Run from this directory: python3 generate.py
"""
import gzip, json, os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def rec(i, **extra):
    r = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "AROAEXAMPLEID:alice",
            "arn": "arn:aws:sts::111122223333:assumed-role/Ops/alice",
            "accountId": "111122223333",
            "accessKeyId": "ASIAEXAMPLEKEY%04d" % i,
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEID",
                                  "arn": "arn:aws:iam::111122223333:role/Ops",
                                  "accountId": "111122223333", "userName": "Ops"},
                "attributes": {"creationDate": "2024-03-01T09:00:00Z", "mfaAuthenticated": "true"},
            },
        },
        "eventTime": "2024-03-01T09:%02d:%02dZ" % (i // 60 % 60, i % 60),
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "eu-west-1",
        "sourceIPAddress": "198.51.100.%d" % (i % 250),
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"bucketName": "finance", "key": "q%d.csv" % i},
        "responseElements": None,
        "requestID": "REQ%06d" % i,
        "eventID": "00000000-0000-4000-8000-%012d" % i,
        "readOnly": True,
        "resources": [{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::finance/q%d.csv" % i}],
        "eventType": "AwsApiCall",
        "managementEvent": False,
        "recipientAccountId": "111122223333",
        "eventCategory": "Data",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": "finance.s3.eu-west-1.amazonaws.com"},
    }
    r.update(extra)
    return r


def write(folder, name, data, gz=False):
    d = os.path.join(HERE, folder)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    if gz:
        data = gzip.compress(data, mtime=0)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    for folder in ("pass", "fail", "hostile"):
        shutil.rmtree(os.path.join(HERE, folder), ignore_errors=True)

    recs = [rec(i) for i in range(3)]
    shapes = {
        "records__3__delivery-file": json.dumps({"Records": recs}),
        "jsonl__3__one-record-a-line": "".join(json.dumps(r) + "\n" for r in recs),
        "array__3__json-array": json.dumps(recs, indent=2),
        "object__1__single-record": json.dumps(recs[0], indent=2),
        "lookup-events__3__cli-output": json.dumps({"Events": [
            {"EventId": r["eventID"], "EventName": r["eventName"], "ReadOnly": "true",
             "EventTime": 1709283600 + i, "EventSource": r["eventSource"], "Username": "alice",
             "Resources": [], "CloudTrailEvent": json.dumps(r)} for i, r in enumerate(recs)]}, indent=4),
        "digest__0__digest-file": json.dumps({
            "awsAccountId": "111122223333", "digestStartTime": "2024-03-01T09:00:00Z",
            "digestEndTime": "2024-03-01T10:00:00Z", "digestS3Bucket": "logs",
            "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2024/03/01/x.json.gz",
            "newestEventTime": "2024-03-01T09:59:59Z", "oldestEventTime": "2024-03-01T09:00:00Z",
            "previousDigestS3Bucket": None, "previousDigestS3Object": None,
            "previousDigestHashValue": None, "previousDigestHashAlgorithm": None,
            "previousDigestSignature": None, "digestPublicKeyFingerprint": "00",
            "digestSignatureAlgorithm": "SHA256withRSA", "logFiles": []}),
    }
    for name, text in shapes.items():
        ext = ".jsonl" if name.startswith("jsonl") else ".json"
        write("pass", name + ext, text)
        write("pass", name + ext + ".gz", text, gz=True)
    insight = {"eventVersion": "1.07", "eventTime": "2024-03-01T09:00:00Z", "awsRegion": "eu-west-1",
               "eventID": "11111111-2222-3333-4444-555555555555", "eventType": "AwsCloudTrailInsight",
               "recipientAccountId": "111122223333", "sharedEventID": "aaaa",
               "insightDetails": {"state": "Start", "eventSource": "ec2.amazonaws.com",
                                  "eventName": "RunInstances", "insightType": "ApiCallRateInsight",
                                  "insightContext": {"statistics": {"baseline": {"average": 0.0000882},
                                                                    "insight": {"average": 0.6}}}},
               "eventCategory": "Insight"}
    write("pass", "records__1__insights-only.json", json.dumps({"Records": [insight]}))
    two = gzip.compress(json.dumps(recs[0]).encode() + b"\n", mtime=0) + \
        gzip.compress(json.dumps(recs[1]).encode() + b"\n", mtime=0)
    write("pass", "jsonl__2__multi-member.jsonl.gz", two)
    write("pass", "jsonl__3__bom-crlf.jsonl", "\ufeff" + "".join(json.dumps(r) + "\r\n" for r in recs))

    good = json.dumps({"Records": [rec(i) for i in range(40)]}).encode()
    gz = gzip.compress(good, mtime=0)
    write("fail", "truncated-gzip__half-a-download.json.gz", gz[: len(gz) // 2])
    bad = bytearray(gz)
    bad[len(bad) // 3] ^= 0xFF
    bad[len(bad) // 3 + 1] ^= 0x5A
    write("fail", "bad-gzip__corrupt-deflate.json.gz", bytes(bad))
    write("fail", "not-json__s3-error-page.json.gz",
          '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
          "<Message>Access Denied</Message><RequestId>X</RequestId></Error>")
    write("fail", "json-syntax__missing-brace.json", json.dumps({"Records": recs})[:-1])
    write("fail", "json-syntax__bad-third-line.jsonl",
          json.dumps(recs[0]) + "\n" + json.dumps(recs[1]) + "\n{\"eventVersion\": \n")
    write("fail", "empty-records__empty-records-array.json", '{"Records": []}')
    write("fail", "not-cloudtrail__missing-records.json", json.dumps({"records": recs}))
    write("fail", "empty__zero-bytes.json.gz", b"")
    write("fail", "empty__whitespace-only.json", " \n\t\n")
    write("fail", "empty__gzip-of-nothing.json.gz", b"", gz=True)
    write("fail", "not-cloudtrail__config-snapshot.json", json.dumps({
        "fileVersion": "1.0", "configSnapshotId": "1c9b6d1e-0000", "configurationItems": [
            {"configurationItemVersion": "1.3", "resourceType": "AWS::S3::Bucket", "resourceId": "b"}]}))
    write("fail", "not-cloudtrail__config-history.json", json.dumps({
        "fileVersion": "1.0", "configurationItems": [
            {"configurationItemVersion": "1.3", "resourceType": "AWS::EC2::Instance", "resourceId": "i-1"}]}))
    write("fail", "no-records__empty-array.json", "[]")
    write("fail", "bad-record__number-in-records.json", json.dumps({"Records": [recs[0], 42]}))
    # Inflates to ~2 MiB; the fixture test runs with a 1 MiB limit.
    big = json.dumps({"Records": [rec(0, requestParameters={"pad": "x" * (2 << 20)})]})
    write("fail", "too-large__inflates-past-limit.json.gz", big, gz=True)
    link = os.path.join(HERE, "fail", "unreadable__dangling-symlink.json")
    os.symlink("does-not-exist.json", link)

    hostile = [
        rec(100, userAgent="\x1b[31mred\x1b[0m \x1b]0;owned\x07 \x1b[2J curl/8"),
        rec(101, userAgent="=cmd|' /C calc'!A0", requestParameters={"bucketName": "+SUM(1+1)*cmd|'/C calc'!A0", "key": "@x"}),
        rec(102, requestParameters={"html": "<script>alert(document.cookie)</script>", "q": "\"><img src=x onerror=alert(1)>"}),
        rec(103, userAgent="nul\u0000byte \u202eevil\u202c \U0001F600 \u00e9\u0301 \ufeff", errorMessage="tab\there\nnewline\rcr \\ backslash \" quote"),
        rec(104, requestParameters={"long": "A" * 20000, "unicode": "\u65e5\u672c\u8a9e", "escapes": "\u0001\u001f\u007f"}),
        rec(105, **{"@timestamp": "2024-03-01T09:00:00.000Z", "p_any_ip_addresses": ["198.51.100.1"], "readOnly": "true",
                    "managementEvent": None, "eventTime": "2024-03-01T09:00:00.000Z", "resources": "not-a-list",
                    "additionalEventData": [1, 1.0, -0.5, 1e300, 12345678901234567890, {}, [], None]}),
    ]
    # Written with \\u escapes for non-ASCII, as many shippers do.
    write("hostile", "hostile-strings.jsonl", "".join(json.dumps(r, ensure_ascii=True) + "\n" for r in hostile))
    write("hostile", "hostile-strings-raw-utf8.json.gz",
          json.dumps({"Records": [rec(200 + i, userAgent=h["userAgent"], requestParameters=h["requestParameters"])
                                  for i, h in enumerate(hostile)]}, ensure_ascii=False), gz=True)


if __name__ == "__main__":
    main()
