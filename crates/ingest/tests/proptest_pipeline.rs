//! Property: whatever the scheduling knobs (threads, file size, memory cap,
//! commit interval, open files spread over days and encoders), an ingest
//! stores every distinct record exactly once, and a second run adds
//! nothing.

mod common;

use std::path::Path;

use backtrail_ingest::{IngestConfig, NoProgress, export, ingest, read_manifest};
use proptest::prelude::*;
use serde_json::{Value, json};

fn record(id: u32, day: u32, variant: u32) -> Value {
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/a", "accountId": "111122223333"},
        "eventTime": format!("2024-05-{:02}T10:{:02}:00Z", 1 + day, id % 60),
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "eventID": format!("id-{id}"),
        "requestParameters": {"bucketName": "b", "key": format!("k{variant}")},
    })
}

/// One input file: `(id, day, variant)` triples. The same id always has
/// the same day (duplicates share eventTime); a different variant of an
/// id is an eventID collision.
fn files() -> impl Strategy<Value = Vec<Vec<(u32, u32, u32)>>> {
    let rec = (0u32..60, 0u32..2).prop_map(|(id, variant)| (id, id % 7, variant));
    prop::collection::vec(prop::collection::vec(rec, 1..30), 1..12)
}

fn exported(ds: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    export(ds, &mut out).expect("export");
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn every_distinct_record_lands_exactly_once(
        files in files(),
        threads in 1usize..4,
        rows_per_file in 1usize..40,
        page_rows in 1usize..16,
        tiny_cap in any::<bool>(),
        commit_every in 1usize..5,
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("in");
        std::fs::create_dir_all(&input).unwrap();
        let mut want: Vec<(u32, u32)> = Vec::new();
        for (n, f) in files.iter().enumerate() {
            let recs: Vec<Value> = f.iter().map(|&(id, d, v)| record(id, d, v)).collect();
            std::fs::write(input.join(format!("{n:02}.json")), json!({"Records": recs}).to_string()).unwrap();
            for &(id, _, v) in f {
                if !want.contains(&(id, v)) {
                    want.push((id, v));
                }
            }
        }
        let mut cfg = IngestConfig::builder()
            .threads(threads)
            .rows_per_file(rows_per_file)
            .page_rows(page_rows)
            .commit_every_files(commit_every);
        if tiny_cap {
            cfg = cfg.max_buffered_bytes(1);
        }
        let cfg = cfg.build();
        let ds = tmp.path().join("ds");
        let s = ingest(std::slice::from_ref(&input), &ds, &cfg, &NoProgress).unwrap();
        prop_assert_eq!(s.events_new as usize, want.len());

        let expected: Vec<Value> = want.iter().map(|&(id, v)| record(id, id % 7, v)).collect();
        let got = exported(&ds);
        prop_assert!(common::same_multiset(&got, &expected).is_ok(), "{:?}", common::same_multiset(&got, &expected));
        let m = read_manifest(&ds).unwrap();
        prop_assert_eq!(m.data_files.iter().map(|d| d.rows).sum::<u64>() as usize, want.len());

        let again = ingest(std::slice::from_ref(&input), &ds, &cfg, &NoProgress).unwrap();
        prop_assert_eq!(again.events_new, 0);
        prop_assert_eq!(exported(&ds).len(), want.len());
    }
}
