//! Shared fixture: one archive generated once per test binary, and helpers
//! to read it back with serde_json (the slow, obvious way).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use backtrail_synth::{GenConfig, GenReport, Scenario, generate};
use serde_json::Value;

/// Events in the shared fixture.
pub const FIXTURE_EVENTS: u64 = 20_000;

/// The shared archive: its folder (kept alive) and report.
pub struct Fixture {
    _dir: tempfile::TempDir,
    /// Archive root.
    pub root: PathBuf,
    /// What `generate` returned.
    pub report: GenReport,
}

/// Generates (once) a 20k-event, one-day archive with every scenario, seed 7.
pub fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = GenConfig::builder()
            .events(FIXTURE_EVENTS)
            .seed(7)
            .days(1)
            .scenarios(Scenario::ALL.to_vec())
            .build()
            .expect("config");
        let report = generate(dir.path(), &cfg).expect("generate");
        Fixture {
            root: dir.path().to_path_buf(),
            report,
            _dir: dir,
        }
    })
}

/// The fixture's log files, read and parsed once per test binary.
pub fn fixture_files() -> &'static [LogFile] {
    static F: OnceLock<Vec<LogFile>> = OnceLock::new();
    F.get_or_init(|| log_files(&fixture().root))
}

/// The fixture's organization-trail records: `(file key, record)`.
pub fn fixture_records() -> Vec<(&'static str, &'static Value)> {
    fixture_files()
        .iter()
        .filter(|f| f.key.starts_with("AWSLogs/o-"))
        .flat_map(|f| f.records.iter().map(move |r| (f.key.as_str(), r)))
        .collect()
}

/// Every file under `dir`, relative to `root`, sorted.
pub fn files_under(root: &Path, dir: &Path) -> Vec<String> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        if let Ok(rd) = std::fs::read_dir(d) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else {
                    out.push(p);
                }
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, &mut v);
    let mut out: Vec<String> = v
        .into_iter()
        .map(|p| {
            p.strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect();
    out.sort();
    out
}

/// One log file: key and its records.
pub struct LogFile {
    /// Key relative to the archive root.
    pub key: String,
    /// Uncompressed bytes.
    pub raw: Vec<u8>,
    /// Parsed `Records`.
    pub records: Vec<Value>,
}

/// Every CloudTrail log file (not digests) under the archive.
pub fn log_files(root: &Path) -> Vec<LogFile> {
    files_under(root, &root.join("AWSLogs"))
        .into_iter()
        .filter(|k| k.contains("/CloudTrail/"))
        .map(|key| {
            let raw = backtrail_synth::digest::gunzip_file(&root.join(&key)).expect("gunzip");
            let v: Value = serde_json::from_slice(&raw).expect("json");
            let records = v["Records"].as_array().expect("Records").clone();
            LogFile { key, raw, records }
        })
        .collect()
}

/// Records delivered by the organization trail (each event once).
pub fn org_records(root: &Path) -> Vec<(String, Value)> {
    log_files(root)
        .into_iter()
        .filter(|f| f.key.starts_with("AWSLogs/o-"))
        .flat_map(|f| {
            let k = f.key.clone();
            f.records.into_iter().map(move |r| (k.clone(), r))
        })
        .collect()
}

/// A string at a JSON pointer.
pub fn s<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}
