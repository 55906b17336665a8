//! One check per fixture file under `testdata/ingest/`: the name says what
//! to expect (see `testdata/ingest/generate.py`).

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};

use backtrail_ingest::{IngestConfig, Kind, NoProgress, Status, export, ingest, read_manifest};
use serde_json::Value;

fn folder(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/ingest")
        .join(name)
}

fn files(name: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(folder(name))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no fixtures in {name}");
    v
}

fn stem(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn cfg() -> IngestConfig {
    IngestConfig::builder()
        .threads(2)
        .max_inflated_bytes(1 << 20)
        .build()
}

fn exported(ds: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    export(ds, &mut out).unwrap();
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn every_fail_fixture_is_quarantined_with_its_reason() {
    for p in files("fail") {
        let name = stem(&p);
        let want = name.split("__").next().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let s = ingest(std::slice::from_ref(&p), tmp.path(), &cfg(), &NoProgress)
            .unwrap_or_else(|e| panic!("{name}: run failed: {e}"));
        assert_eq!(s.quarantined.len(), 1, "{name}: {s:?}");
        let q = &s.quarantined[0];
        eprintln!("{}", q.reason);
        let kind = serde_json::to_value(q.kind).unwrap();
        assert_eq!(kind.as_str(), Some(want), "{name}: {}", q.reason);
        assert!(
            q.reason.starts_with(&p.to_string_lossy().into_owned()),
            "{name}: reason must name the file: {}",
            q.reason
        );
        assert!(
            !q.reason.contains('\n'),
            "{name}: reason must be one line: {}",
            q.reason
        );
        assert_eq!(s.events_new, 0, "{name}");
        let m = read_manifest(tmp.path()).unwrap();
        assert_eq!(m.files.len(), 1, "{name}");
        assert_eq!(m.files[0].status, Status::Quarantined, "{name}");
        let qfile = std::fs::read_to_string(tmp.path().join("quarantine.jsonl")).unwrap();
        assert_eq!(qfile.lines().count(), 1, "{name}: {qfile}");
    }
}

#[test]
fn every_pass_fixture_decodes_to_its_shape_and_count() {
    for p in files("pass") {
        let name = stem(&p);
        let mut parts = name.split("__");
        let kind: Kind =
            serde_json::from_value(Value::String(parts.next().unwrap().into())).unwrap();
        let count: usize = parts.next().unwrap().parse().unwrap();
        let mut bytes = std::fs::read(&p).unwrap();
        let gz = name.ends_with(".gz");
        let d = backtrail_ingest::decode(&mut bytes, &name, 1 << 20)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!((d.kind, d.records(), d.gzip), (kind, count, gz), "{name}");
    }
}

#[test]
fn pass_folder_ingests_each_record_once() {
    let tmp = tempfile::tempdir().unwrap();
    let s = ingest(&[folder("pass")], tmp.path(), &cfg(), &NoProgress).unwrap();
    assert!(s.quarantined.is_empty(), "{:?}", s.quarantined);
    assert_eq!(s.digests, 2);
    // Every shape carries the same three records, plus one Insights event.
    assert_eq!(s.events_new, 4, "{s:?}");
    let m = read_manifest(tmp.path()).unwrap();
    for f in &m.files {
        let name = stem(Path::new(&f.path));
        let kind: Kind =
            serde_json::from_value(Value::String(name.split("__").next().unwrap().into())).unwrap();
        assert_eq!(f.kind, Some(kind), "{name}");
        assert_eq!(f.gzip, Some(name.ends_with(".gz")), "{name}");
        assert_eq!(f.sha256.as_ref().map(String::len), Some(64), "{name}");
    }
}

#[test]
fn good_records_land_beside_bad_files() {
    let tmp = tempfile::tempdir().unwrap();
    let s = ingest(
        &[folder("fail"), folder("pass")],
        tmp.path(),
        &cfg(),
        &NoProgress,
    )
    .unwrap();
    assert_eq!(s.quarantined.len(), files("fail").len());
    assert_eq!(s.events_new, 4);
    assert_eq!(exported(tmp.path()).len(), 4);
}

fn read_records(p: &Path) -> Vec<Value> {
    let mut bytes = std::fs::read(p).unwrap();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        bytes = out;
    }
    let text = String::from_utf8(bytes).unwrap();
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(mut m)) if m.contains_key("Records") => match m.remove("Records") {
            Some(Value::Array(a)) => a,
            _ => unreachable!(),
        },
        Ok(Value::Array(a)) => a,
        Ok(v) => vec![v],
        Err(_) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    }
}

#[test]
fn hostile_strings_round_trip_exactly() {
    for p in files("hostile") {
        let tmp = tempfile::tempdir().unwrap();
        let s = ingest(std::slice::from_ref(&p), tmp.path(), &cfg(), &NoProgress).unwrap();
        assert!(s.quarantined.is_empty(), "{:?}", s.quarantined);
        let want = read_records(&p);
        assert_eq!(s.events_new as usize, want.len());
        common::same_multiset(&exported(tmp.path()), &want)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    }
}

#[test]
fn too_large_is_retried_with_a_higher_limit() {
    let p = folder("fail").join("too-large__inflates-past-limit.json.gz");
    let tmp = tempfile::tempdir().unwrap();
    let s = ingest(std::slice::from_ref(&p), tmp.path(), &cfg(), &NoProgress).unwrap();
    assert_eq!(s.quarantined.len(), 1);
    let bigger = IngestConfig::builder()
        .threads(2)
        .max_inflated_bytes(8 << 20)
        .build();
    let s = ingest(std::slice::from_ref(&p), tmp.path(), &bigger, &NoProgress).unwrap();
    assert_eq!((s.quarantined.len(), s.events_new), (0, 1), "{s:?}");
    assert!(
        std::fs::read_to_string(tmp.path().join("quarantine.jsonl"))
            .unwrap()
            .is_empty()
    );
}
