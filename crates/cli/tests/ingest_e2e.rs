//! `backtrail ingest` and `export` end to end: bad files quarantined with a
//! reason while good records land, `--strict`, re-runs add nothing, export
//! gives back what came in.

mod common;
use common::*;

#[test]
fn bad_files_are_quarantined_and_good_records_land() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pass = testdata().join("ingest/pass");
    let fail = testdata().join("ingest/fail");
    // The too-large fixture inflates to 2 MiB: a 1 MiB limit makes it
    // oversized the way a multi-GB file is under the default limit.
    let out = ok(&[
        "ingest",
        s(&pass),
        s(&fail),
        "--out",
        s(&data),
        "--json",
        "--no-index",
        "--max-inflated-bytes",
        "1048576",
    ]);
    let sum = summary(&out);
    let quarantined = sum["quarantined"].as_array().unwrap();
    let fail_files = std::fs::read_dir(&fail).unwrap().count();
    assert_eq!(
        quarantined.len(),
        fail_files,
        "every fail/ fixture is quarantined: {sum}"
    );
    for q in quarantined {
        let reason = q["reason"].as_str().unwrap();
        assert!(
            !reason.is_empty() && !reason.contains('\n'),
            "one-line reason: {q}"
        );
        assert!(q["path"].as_str().unwrap().contains("ingest/fail"), "{q}");
    }
    assert!(sum["events_new"].as_u64().unwrap() > 0);
    assert_eq!(
        sum["events_new"],
        sum["events_read"].as_u64().unwrap() - sum["duplicates"].as_u64().unwrap()
    );

    // --strict turns quarantine into a failure exit, and says why on stderr.
    let data2 = dir.path().join("data2");
    let strict = run(&[
        "ingest",
        s(&fail),
        "--out",
        s(&data2),
        "--strict",
        "--quiet",
        "--no-index",
    ]);
    assert_eq!(strict.status.code(), Some(1));

    // Re-running adds nothing.
    let again = summary(&ok(&[
        "ingest",
        s(&pass),
        s(&fail),
        "--out",
        s(&data),
        "--json",
        "--no-index",
        "--max-inflated-bytes",
        "1048576",
    ]));
    assert_eq!(again["events_new"], 0, "{again}");

    // Export gives back exactly the stored records.
    let exported = json_lines(&ok(&["export", "--data", s(&data)]));
    assert_eq!(exported.len() as u64, sum["events_new"].as_u64().unwrap());
}

#[test]
fn human_summary_names_quarantined_files() {
    let dir = tempfile::tempdir().unwrap();
    let fail = testdata().join("ingest/fail");
    let out = run(&[
        "ingest",
        s(&fail),
        "--out",
        s(&dir.path().join("d")),
        "--no-index",
    ]);
    assert!(out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("quarantined"), "{text}");
    let some_fixture = std::fs::read_dir(&fail)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    assert!(text.contains(some_fixture.to_str().unwrap()), "{text}");
}

#[test]
fn corpus_round_trips_through_the_binary() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sum = summary(&ok(&[
        "ingest",
        s(&corpus),
        "--out",
        s(&data),
        "--json",
        "--no-index",
    ]));
    // The corpus holds CloudTrail records in several shapes (arrays, Records
    // envelopes, JSON lines) plus non-CloudTrail text (SOURCE.md, technique
    // docs) that must be quarantined, not crash the run.
    assert!(sum["events_new"].as_u64().unwrap() >= 300, "{sum}");
    let exported = json_lines(&ok(&["export", "--data", s(&data)]));
    assert_eq!(exported.len() as u64, sum["events_new"].as_u64().unwrap());
}

#[test]
fn missing_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&[
        "ingest",
        "/definitely/not/here",
        "--out",
        s(&dir.path().join("d")),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/definitely/not/here"), "{err}");
}

#[test]
fn a_second_ingest_into_a_busy_dataset_is_refused_and_the_first_is_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    let pass = testdata().join("ingest/pass");
    ok(&["ingest", s(&pass), "--out", s(&data), "--json"]);
    let before = ok(&["export", "--data", s(&data)]);
    // Hold the lock as a running ingest would.
    let held = backtrail_ingest::lock::DatasetLock::acquire(&data).unwrap();
    let out = run(&["ingest", s(&pass), "--out", s(&data)]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("another ingest is writing"), "{err}");
    assert!(
        err.contains(&format!("pid {}", std::process::id())),
        "{err}"
    );
    drop(held);
    assert_eq!(ok(&["export", "--data", s(&data)]), before);
    // Once free, the dataset takes ingests again.
    ok(&["ingest", s(&pass), "--out", s(&data), "--json"]);
}
