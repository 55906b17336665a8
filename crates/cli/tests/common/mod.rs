//! Helpers shared by the binary's end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `backtrail` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_backtrail"))
}

/// Runs the binary with `args`, returning its output (never panics on a
/// non-zero exit; tests assert on the status).
pub fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run backtrail")
}

/// Runs and asserts success; returns stdout.
pub fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "backtrail {args:?} failed: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `testdata/` at the repository root.
pub fn testdata() -> PathBuf {
    repo().join("testdata")
}

/// `../shared/corpus` beside the repository, if present.
pub fn corpus() -> Option<PathBuf> {
    let p = repo().join("../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("skipping: ../shared/corpus is absent (real CloudTrail records live there)");
        None
    }
}

/// Parses `--json` output of `ingest`.
pub fn summary(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("summary is not JSON ({e}): {stdout}"))
}

/// Parses JSON lines.
pub fn json_lines(stdout: &str) -> Vec<serde_json::Value> {
    stdout
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line ({e}): {l}")))
        .collect()
}

/// A path as &str.
pub fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}
