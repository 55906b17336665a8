//! Decode → rebuild equals the input, for every record of the real corpus,
//! without touching disk.

mod common;

use backtrail_ingest::decode::{Decoder, Kind};
use backtrail_ingest::rebuild::rebuild_row;
use serde_json::Value;

fn decode_all(bytes: &[u8], name: &str) -> (Kind, Vec<Value>) {
    let mut dec = Decoder::new(1 << 30);
    let mut buf = bytes.to_vec();
    let d = dec
        .decode(&mut buf, name)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut out = Vec::new();
    for b in &d.batches() {
        for r in 0..b.num_rows() {
            out.push(rebuild_row(b, r).unwrap());
        }
    }
    (d.kind, out)
}

#[test]
fn corpus_decode_rebuild_round_trip() {
    let Some(root) = common::corpus_dir() else {
        return;
    };
    let files = common::corpus_files(&root);
    assert!(files.len() > 50, "corpus has {} files", files.len());
    let mut total = 0;
    for f in &files {
        let (_, got) = decode_all(&f.bytes, &f.name);
        assert_eq!(got.len(), f.records.len(), "{}", f.name);
        for (g, w) in got.iter().zip(&f.records) {
            assert!(common::json_eq(g, w), "{}:\n got {}\nwant {}", f.name, g, w);
        }
        total += got.len();
    }
    assert!(total > 900, "only {total} records");
}
