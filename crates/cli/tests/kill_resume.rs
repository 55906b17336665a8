//! A run killed with SIGKILL at any moment leaves a dataset that reads
//! correctly, and the next run completes it with every record exactly once.

mod common;
use common::*;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// (eventID, record) multiset of an export, as sorted canonical JSON text.
fn export_multiset(data: &std::path::Path) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for v in json_lines(&ok(&["export", "--data", s(data)])) {
        *m.entry(v.to_string()).or_insert(0) += 1;
    }
    m
}

#[test]
fn sigkill_at_any_moment_then_resume_gives_every_record_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    let archive = root.join("AWSLogs");
    ok(&[
        "gen",
        "--out",
        s(&root),
        "--events",
        "60000",
        "--seed",
        "3",
        "--scenario",
        "leaked-key",
    ]);

    // Reference: one clean run.
    let clean = dir.path().join("clean");
    let want = summary(&ok(&[
        "ingest",
        s(&archive),
        "--out",
        s(&clean),
        "--json",
        "--no-index",
        "--threads",
        "2",
    ]));
    let clean_time = {
        let t = Instant::now();
        ok(&[
            "ingest",
            s(&archive),
            "--out",
            s(&dir.path().join("timing")),
            "--quiet",
            "--no-index",
        ]);
        t.elapsed()
    };
    let expected = export_multiset(&clean);
    assert_eq!(
        expected.values().sum::<usize>() as u64,
        want["events_new"].as_u64().unwrap()
    );

    // Kill at spread-out moments of a run, resuming the same dataset each time.
    let data = dir.path().join("killed");
    for i in 1..=5u32 {
        let at = clean_time.mul_f64(f64::from(i) / 6.0);
        let mut child = bin()
            .args([
                "ingest",
                s(&archive),
                "--out",
                s(&data),
                "--quiet",
                "--no-index",
            ])
            .spawn()
            .unwrap();
        std::thread::sleep(at.max(Duration::from_millis(5)));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        // Whatever is visible now must read: export succeeds and holds no
        // record twice and nothing that is not in the input.
        let partial = export_multiset(&data);
        for (rec, n) in &partial {
            assert_eq!(*n, 1, "record twice after kill {i}: {rec}");
            assert!(
                expected.contains_key(rec),
                "record not in input after kill {i}"
            );
        }
    }
    ok(&[
        "ingest",
        s(&archive),
        "--out",
        s(&data),
        "--quiet",
        "--no-index",
    ]);
    assert_eq!(
        export_multiset(&data),
        expected,
        "resumed dataset differs from a clean run"
    );
    // And one more run adds nothing.
    let again = summary(&ok(&[
        "ingest",
        s(&archive),
        "--out",
        s(&data),
        "--json",
        "--no-index",
    ]));
    assert_eq!(again["events_new"], 0);
}
