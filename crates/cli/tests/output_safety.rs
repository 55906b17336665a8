//! What an attacker writes into a log field never acts on the reader:
//! tables and CSV show control characters as visible escapes and defuse
//! spreadsheet formulas; JSON keeps the exact value.

mod common;
use common::*;

const ACTOR: &str = "arn:aws:sts::111122223333:assumed-role/Ops/alice";

fn dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let hostile = testdata().join("ingest/hostile");
    ok(&[
        "ingest",
        s(&hostile),
        "--out",
        s(&dir.path().join("d")),
        "--quiet",
    ]);
    dir
}

fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\r')
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

#[test]
fn hostile_values_are_inert_in_table_and_csv_and_exact_in_json() {
    let dir = dataset();
    let data = dir.path().join("d");
    let base = ["timeline", "--principal", ACTOR, "--data", s(&data)];

    let json = ok(&[&base[..], &["--format", "json"]].concat());
    let rows = json_lines(&json);
    assert!(
        rows.len() >= 2,
        "hostile fixture events found: {}",
        rows.len()
    );
    assert!(
        rows.iter().any(|r| r["user_agent"]
            .as_str()
            .is_some_and(|u| u.contains('\u{1b}'))),
        "JSON keeps the exact (escape-carrying) user agent"
    );

    for format in ["table", "csv"] {
        let out = ok(&[&base[..], &["--format", format]].concat());
        assert!(
            !out.chars().any(is_dangerous),
            "{format} output carries a raw control character:\n{out}"
        );
        assert!(out.contains("\\x1b"), "{format} shows the escape visibly");
    }

    let csv = ok(&[&base[..], &["--format", "csv"]].concat());
    for line in csv.lines().skip(1) {
        for cell in line.split(',') {
            let c = cell.trim_start_matches('"');
            assert!(
                !c.starts_with(['=', '+', '@']),
                "formula survives in CSV: {line}"
            );
        }
    }
}

#[test]
fn no_match_says_so_and_exits_zero() {
    let dir = dataset();
    let data = dir.path().join("d");
    let out = run(&[
        "timeline",
        "--key",
        "AKIANOTINTHEARCHIVE1",
        "--data",
        s(&data),
        "--format",
        "json",
    ]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no "));
}

#[test]
fn malformed_arguments_exit_2() {
    let dir = dataset();
    let data = dir.path().join("d");
    for args in [
        vec![
            "timeline",
            "--key",
            "K",
            "--from",
            "not-a-time",
            "--data",
            s(&data),
        ],
        vec!["timeline", "--data", s(&data)],
        vec![
            "touched",
            "x",
            "--from",
            "2024-02-01T00:00:00Z",
            "--to",
            "2024-01-01T00:00:00Z",
            "--data",
            s(&data),
        ],
        vec![
            "who-assumed",
            "--format",
            "yaml",
            "Admin",
            "--data",
            s(&data),
        ],
    ] {
        let out = run(&args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
