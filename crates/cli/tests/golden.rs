//! Golden tests of the query commands' output on a small deterministic
//! archive. The generator is byte-for-byte deterministic for a seed, so the
//! output is too; a change in it is a change in what analysts see and must
//! be reviewed in the diff. Regenerate with `BACKTRAIL_BLESS=1 cargo test
//! -p backtrail --test golden`.

mod common;
use common::*;

use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn check(name: &str, actual: &str) {
    let path = golden_dir().join(name);
    if std::env::var_os("BACKTRAIL_BLESS").is_some() {
        std::fs::create_dir_all(golden_dir()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing golden file {}; run with BACKTRAIL_BLESS=1",
            path.display()
        )
    });
    if want != actual {
        panic!(
            "output of {name} changed; review and re-bless with BACKTRAIL_BLESS=1\n--- want\n{want}\n--- got\n{actual}"
        );
    }
}

#[test]
fn query_output_matches_golden_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    ok(&[
        "gen",
        "--out",
        s(&root),
        "--events",
        "3000",
        "--seed",
        "5",
        "--scenario",
        "leaked-key",
    ]);
    let data = dir.path().join("data");
    ok(&[
        "ingest",
        s(&root.join("AWSLogs")),
        "--out",
        s(&data),
        "--quiet",
    ]);
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("ground-truth.json")).unwrap()).unwrap();
    let sc = &truth["scenarios"][0];
    let role = sc["assumptions"][0]["role_arn"].as_str().unwrap();
    let key = sc["chains"].as_array().unwrap().last().unwrap()["key"]
        .as_str()
        .unwrap();
    let ip = sc["attacker_ips"][0].as_str().unwrap();
    let bucket = sc["resources_touched"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r.as_str()?.strip_prefix("arn:aws:s3:::"))
        .next()
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "who-assumed.table",
            vec!["who-assumed", role, "--format", "table"],
        ),
        ("chain-key.table", vec!["chain", key, "--format", "table"]),
        ("chain-ip.csv", vec!["chain", ip, "--format", "csv"]),
        (
            "sessions.csv",
            vec!["sessions", "--role", role, "--format", "csv"],
        ),
        (
            "touched.table",
            vec!["touched", &bucket, "--format", "table"],
        ),
        (
            "timeline.json",
            vec!["timeline", "--key", key, "--format", "json"],
        ),
    ];
    for (name, mut args) in cases {
        args.extend(["--data", s(&data)]);
        check(name, &ok(&args));
    }
}
