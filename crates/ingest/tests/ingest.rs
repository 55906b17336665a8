//! End-to-end: ingest into a temp dataset, export, compare; dedup,
//! collisions, re-runs and resume after an abort.

mod common;

use std::path::{Path, PathBuf};

use backtrail_ingest::{IngestConfig, NoProgress, Status, Summary, export, ingest, read_manifest};
use serde_json::{Value, json};

fn cfg() -> IngestConfig {
    IngestConfig::builder().threads(2).build()
}

fn run(inputs: &[PathBuf], ds: &Path, cfg: &IngestConfig) -> Summary {
    ingest(inputs, ds, cfg, &NoProgress).expect("ingest")
}

fn exported(ds: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let n = export(ds, &mut out).expect("export");
    let text = String::from_utf8(out).unwrap();
    let v: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(v.len() as u64, n);
    v
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

fn rec(id: &str, time: &str, extra: Value) -> Value {
    let mut r = json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice", "accountId": "111122223333"},
        "eventTime": time,
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "eventID": id,
        "requestParameters": {"bucketName": "b", "key": "k"},
    });
    backtrail_ingest::rebuild::merge(&mut r, extra);
    r
}

#[test]
fn corpus_ingest_export_round_trip() {
    let Some(root) = common::corpus_dir() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in");
    let mut want = Vec::new();
    for (i, f) in common::corpus_files(&root).into_iter().enumerate() {
        let p = input.join(format!("{i:03}.json"));
        std::fs::create_dir_all(&input).unwrap();
        std::fs::write(&p, &f.bytes).unwrap();
        want.extend(f.records);
    }
    // The corpus holds records that are byte-for-byte the same event twice
    // (panther's copies); those must land once. Expected = distinct records.
    let mut distinct: Vec<Value> = Vec::new();
    for w in want {
        if !distinct.iter().any(|d| common::json_eq(d, &w)) {
            distinct.push(w);
        }
    }
    let ds = tmp.path().join("ds");
    let s = run(&[input], &ds, &cfg());
    assert!(s.quarantined.is_empty(), "{:?}", s.quarantined);
    let got = exported(&ds);
    common::same_multiset(&got, &distinct).unwrap();
    assert_eq!(s.events_new as usize, distinct.len());
}

#[test]
fn same_file_twice_under_two_names_and_two_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let recs: Vec<Value> = (0..50)
        .map(|i| rec(&format!("id-{i}"), "2024-01-02T03:04:05Z", json!({})))
        .collect();
    let text = serde_json::to_string(&json!({ "Records": recs })).unwrap();
    let a = write(tmp.path(), "in/a.json", &text);
    write(tmp.path(), "in/sub/b.json", &text);
    // Same records in another file with other bytes (an org trail copy).
    let jsonl: String = recs.iter().rev().map(|r| r.to_string() + "\n").collect();
    write(tmp.path(), "in/c.jsonl", &jsonl);
    let ds = tmp.path().join("ds");
    let s1 = run(&[tmp.path().join("in")], &ds, &cfg());
    assert_eq!(s1.events_new, 50);
    assert_eq!(s1.duplicate_files, 1);
    assert_eq!(s1.duplicates, 50);
    assert_eq!(s1.partitions, vec!["2024-01-02".to_string()]);
    assert_eq!(exported(&ds).len(), 50);

    let s2 = run(&[tmp.path().join("in")], &ds, &cfg());
    assert_eq!(s2.events_new, 0);
    assert_eq!(s2.skipped_files, 3);
    assert_eq!(s2.data_files_written, 0);

    // The same bytes under a new name in a later run: a duplicate file.
    std::fs::copy(&a, tmp.path().join("in/d.json")).unwrap();
    let s3 = run(&[tmp.path().join("in")], &ds, &cfg());
    assert_eq!(
        (s3.events_new, s3.duplicate_files, s3.skipped_files),
        (0, 1, 3)
    );
    // Different bytes, same records: read, all duplicates.
    write(
        tmp.path(),
        "in/e.json",
        &serde_json::to_string(&recs).unwrap(),
    );
    let s4 = run(&[tmp.path().join("in")], &ds, &cfg());
    assert_eq!((s4.events_new, s4.duplicates), (0, 50));
    assert_eq!(exported(&ds).len(), 50);
    let m = read_manifest(&ds).unwrap();
    assert!(m.files.iter().any(|f| f.status == Status::DuplicateFile));
}

#[test]
fn event_id_collisions_are_kept_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let a = rec("1", "2024-01-02T03:04:05Z", json!({"eventName": "A"}));
    let b = rec("1", "2024-01-02T03:04:05Z", json!({"eventName": "B"}));
    let c = rec("1", "2024-01-02T03:04:05Z", json!({"eventName": "A"}));
    let text = format!("{a}\n{b}\n{c}\n");
    write(tmp.path(), "in/x.jsonl", &text);
    let ds = tmp.path().join("ds");
    let s = run(&[tmp.path().join("in")], &ds, &cfg());
    assert_eq!(
        (s.events_read, s.events_new, s.collisions, s.duplicates),
        (3, 2, 1, 1)
    );
    common::same_multiset(&exported(&ds), &[a, b]).unwrap();
    // Across runs: a third variant collides again, the old ones are duplicates.
    let d = rec("1", "2024-01-02T03:04:05Z", json!({"eventName": "D"}));
    write(tmp.path(), "in/y.jsonl", &format!("{d}\n{c}\n"));
    let s = run(&[tmp.path().join("in")], &ds, &cfg());
    assert_eq!((s.events_new, s.collisions, s.duplicates), (1, 1, 1));
}

#[test]
fn records_without_event_time_or_id() {
    let tmp = tempfile::tempdir().unwrap();
    let a = json!({"eventName": "NoTime", "eventSource": "x.amazonaws.com"});
    let b = json!({"eventName": "BadTime", "eventTime": "yesterday", "eventID": "z"});
    write(
        tmp.path(),
        "in/x.json",
        &serde_json::to_string(&json!([a, b, a])).unwrap(),
    );
    let ds = tmp.path().join("ds");
    let s = run(&[tmp.path().join("in")], &ds, &cfg());
    assert_eq!((s.events_new, s.duplicates), (2, 1));
    assert_eq!(s.partitions, vec!["__HIVE_DEFAULT_PARTITION__".to_string()]);
    assert!(
        ds.join("events/event_date=__HIVE_DEFAULT_PARTITION__")
            .is_dir()
    );
    common::same_multiset(&exported(&ds), &[a, b]).unwrap();
}

#[test]
fn resume_after_abort_stores_every_record_once() {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for f in 0..12 {
        let recs: Vec<Value> = (0..40)
            .map(|i| {
                rec(
                    &format!("f{f}-{i}"),
                    &format!("2024-01-{:02}T00:00:{:02}Z", 1 + (f + i) % 5, i % 60),
                    json!({}),
                )
            })
            .collect();
        write(
            tmp.path(),
            &format!("in/{f:02}.json"),
            &serde_json::to_string(&json!({"Records": recs})).unwrap(),
        );
        all.extend(recs);
    }
    let ds = tmp.path().join("ds");
    // Small files and frequent commits so the abort leaves committed data,
    // written-but-uncommitted data files and buffered rows behind.
    let base = || {
        IngestConfig::builder()
            .threads(2)
            .rows_per_file(10)
            .commit_every_files(4)
    };
    let err = ingest(
        &[tmp.path().join("in")],
        &ds,
        &base().abort_after_files(Some(7)).build(),
        &NoProgress,
    )
    .unwrap_err();
    assert!(
        matches!(err, backtrail_ingest::Error::Aborted { .. }),
        "{err}"
    );
    let partial = exported(&ds);
    assert!(
        !partial.is_empty() && partial.len() < all.len(),
        "{}",
        partial.len()
    );
    let s = run(&[tmp.path().join("in")], &ds, &base().build());
    assert!(s.orphans_removed > 0, "{s:?}");
    common::same_multiset(&exported(&ds), &all).unwrap();
    let again = run(&[tmp.path().join("in")], &ds, &base().build());
    assert_eq!(again.events_new, 0);
}

#[test]
fn lru_eviction_still_dedups() {
    let tmp = tempfile::tempdir().unwrap();
    // 10 days, records interleaved across days, delivered twice.
    let recs: Vec<Value> = (0..100)
        .map(|i| {
            rec(
                &format!("e{i}"),
                &format!("2024-02-{:02}T01:00:00Z", 1 + i % 10),
                json!({}),
            )
        })
        .collect();
    // Each record twice in the same file too: a shard evicted and reloaded
    // mid-file must still know the rows accepted earlier in that file.
    let twice: String = recs
        .iter()
        .chain(&recs)
        .map(|r| r.to_string() + "\n")
        .collect();
    write(tmp.path(), "in/a.jsonl", &twice);
    write(
        tmp.path(),
        "in/b.json",
        &serde_json::to_string(&recs).unwrap(),
    );
    let ds = tmp.path().join("ds");
    let c = IngestConfig::builder()
        .threads(1)
        .resident_days(2)
        .rows_per_file(7)
        .build();
    let s = run(&[tmp.path().join("in")], &ds, &c);
    assert_eq!((s.events_new, s.duplicates), (100, 200));
    assert!(s.shard_loads > 10, "{s:?}");
    assert_eq!(s.partitions.len(), 10);
}

#[test]
fn input_shapes_are_recognised() {
    use backtrail_ingest::Kind;
    let r1 = rec("a", "2024-01-02T03:04:05Z", json!({}));
    let r2 = rec("b", "2024-01-02T03:04:06Z", json!({}));
    let lookup = json!({"Events": [
        {"EventId": "a", "EventName": "GetObject", "CloudTrailEvent": r1.to_string()},
        {"EventId": "b", "EventName": "GetObject", "CloudTrailEvent": r2.to_string()}
    ]});
    let cases: Vec<(&str, String, Kind)> = vec![
        (
            "records.json",
            json!({"Records": [r1, r2]}).to_string(),
            Kind::Records,
        ),
        ("lines.jsonl", format!("{r1}\n\n{r2}\n"), Kind::Jsonl),
        ("array.json", json!([r1, r2]).to_string(), Kind::Array),
        (
            "object.json",
            serde_json::to_string_pretty(&r1).unwrap(),
            Kind::Object,
        ),
        ("lookup.json", lookup.to_string(), Kind::LookupEvents),
    ];
    for (name, text, kind) in cases {
        let mut bytes = text.into_bytes();
        let d = backtrail_ingest::decode(&mut bytes, name, 1 << 30)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(d.kind, kind, "{name}");
        let want = if kind == Kind::Object { 1 } else { 2 };
        assert_eq!(d.records(), want, "{name}");
    }
}

#[test]
fn progress_commits_and_memory_cap() {
    use std::sync::atomic::{AtomicU64, Ordering};
    #[derive(Default)]
    struct Count {
        files: AtomicU64,
        done: AtomicU64,
        events: AtomicU64,
    }
    impl backtrail_ingest::Progress for Count {
        fn start(&self, files: u64, _bytes: u64) {
            self.files.store(files, Ordering::SeqCst);
        }
        fn file_done(&self, _bytes: u64, events: u64) {
            self.done.fetch_add(1, Ordering::SeqCst);
            self.events.fetch_add(events, Ordering::SeqCst);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    for f in 0..6 {
        let recs: Vec<Value> = (0..30)
            .map(|i| rec(&format!("{f}-{i}"), "2024-01-02T03:04:05Z", json!({})))
            .collect();
        write(
            tmp.path(),
            &format!("in/{f}.json"),
            &serde_json::to_string(&recs).unwrap(),
        );
    }
    let ds = tmp.path().join("ds");
    // A tiny memory cap forces every row to the encoders at once; commits
    // every 2 files.
    let c = IngestConfig::builder()
        .threads(2)
        .max_buffered_bytes(1)
        .commit_every_files(2)
        .build();
    let p = Count::default();
    // The input directory named twice, and one of its files: each read once.
    let inputs = [
        tmp.path().join("in"),
        tmp.path().join("in/0.json"),
        tmp.path().join("in"),
    ];
    let s = ingest(&inputs, &ds, &c, &p).unwrap();
    assert_eq!(
        (
            p.files.load(Ordering::SeqCst),
            p.done.load(Ordering::SeqCst)
        ),
        (6, 6)
    );
    assert_eq!(p.events.load(Ordering::SeqCst), 180);
    assert!(s.commits >= 3, "{s:?}");
    // The cap streams rows into the day's open files early; it does not cut
    // files short: per commit, at most one file per encoder for this
    // one-day input.
    assert_eq!(s.partitions.len(), 1, "{s:?}");
    assert!(
        (s.commits..=2 * s.commits).contains(&s.data_files_written),
        "{s:?}"
    );
    assert_eq!(
        read_manifest(&ds)
            .unwrap()
            .data_files
            .iter()
            .map(|d| d.rows)
            .sum::<u64>(),
        180
    );
    assert_eq!(exported(&ds).len(), 180);
}

#[test]
fn copies_are_counted_never_committed_before_their_original() {
    // Workers build rows for the first file of each content only; copies
    // are not decoded and wait for it (taking its count, or its failure),
    // so an abort at any file never leaves a copy committed (its content
    // then skipped) without the rows.
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    for f in 0..6 {
        let recs: Vec<Value> = (0..30)
            .map(|i| rec(&format!("c{f}-{i}"), "2024-02-03T04:05:06Z", json!({})))
            .collect();
        let text = serde_json::to_string(&json!({ "Records": recs })).unwrap();
        for copy in 0..3 {
            write(tmp.path(), &format!("in/{copy}/{f}.json"), &text);
        }
        all.extend(recs);
    }
    // A bad file and its copy: both quarantined, for the same reason.
    write(tmp.path(), "in/0/bad.json", "{\"Records\":[1]}");
    write(tmp.path(), "in/1/bad.json", "{\"Records\":[1]}");
    let input = tmp.path().join("in");
    let base = || IngestConfig::builder().threads(2).commit_every_files(1);

    // On one thread the order is fixed: a good file's rows wait in its
    // group, so its copies reach the coordinator first and must wait; a
    // bad file fails at once, so its copy comes after the failure.
    for threads in [1, 2] {
        let ds = tmp.path().join(format!("ds-full-{threads}"));
        let cfg = base().threads(threads).build();
        let s = run(std::slice::from_ref(&input), &ds, &cfg);
        assert_eq!(
            (s.events_read, s.events_new, s.duplicate_files),
            (540, 180, 12)
        );
        assert_eq!(s.quarantined.len(), 2, "{:?}", s.quarantined);
        assert_eq!(s.quarantined[0].kind, s.quarantined[1].kind);
        common::same_multiset(&exported(&ds), &all).unwrap();
    }

    for abort in [1, 2, 3, 5, 8, 13] {
        let ds = tmp.path().join(format!("ds-{abort}"));
        let cfg = base().abort_after_files(Some(abort)).build();
        assert!(ingest(std::slice::from_ref(&input), &ds, &cfg, &NoProgress).is_err());
        run(std::slice::from_ref(&input), &ds, &base().build());
        common::same_multiset(&exported(&ds), &all).unwrap();
    }
}

#[test]
fn many_small_files_on_several_encoders_keep_every_row_and_small_pages_where_read() {
    use parquet::file::reader::FileReader;
    use parquet::file::serialized_reader::{ReadOptionsBuilder, SerializedFileReader};

    let tmp = tempfile::tempdir().unwrap();
    let recs: Vec<Value> = (0..3_000)
        .map(|i| {
            rec(
                &format!("e{i}"),
                &format!("2024-03-{:02}T02:00:00Z", 1 + i % 6),
                json!({}),
            )
        })
        .collect();
    for (n, chunk) in recs.chunks(250).enumerate() {
        write(
            tmp.path(),
            &format!("in/{n}.json"),
            &json!({ "Records": chunk }).to_string(),
        );
    }
    let ds = tmp.path().join("ds");
    // Files of 100 rows flushed from six days at once keep both encoder
    // threads busy; pages of 64 rows split each file into several pages.
    let c = IngestConfig::builder()
        .threads(2)
        .rows_per_file(100)
        .page_rows(64)
        .build();
    let s = run(&[tmp.path().join("in")], &ds, &c);
    assert_eq!(s.events_new, 3_000);
    let mut got: Vec<String> = exported(&ds)
        .iter()
        .map(|r| r["eventID"].as_str().unwrap().to_owned())
        .collect();
    got.sort();
    let mut want: Vec<String> = (0..3_000).map(|i| format!("e{i}")).collect();
    want.sort();
    assert_eq!(got, want);

    let m = read_manifest(&ds).unwrap();
    let files = &m.data_files;
    assert!(files.len() >= 20, "{} files", files.len());
    for f in files {
        let file = std::fs::File::open(ds.join(&f.path)).unwrap();
        let opts = ReadOptionsBuilder::new().with_page_index().build();
        let r = SerializedFileReader::new_with_options(file, opts).unwrap();
        let meta = r.metadata();
        let mut checked = 0;
        for rg in 0..meta.num_row_groups() {
            let rows = meta.row_group(rg).num_rows();
            let index = meta.page_index_for_row_group(rg);
            for c in 0..meta.row_group(rg).num_columns() {
                let path = meta.row_group(rg).column(c).column_path();
                let root = path.parts()[0].as_str();
                if !backtrail_model::schema::POINT_READ_COLUMNS.contains(&root) {
                    continue;
                }
                checked += 1;
                let locs = index.page_locations(c).expect("offset index written");
                for (i, p) in locs.iter().enumerate() {
                    let end = locs.get(i + 1).map_or(rows, |n| n.first_row_index);
                    let len = end - p.first_row_index;
                    assert!(len <= 64, "{}: page of {len} rows", f.path);
                }
            }
        }
        assert!(checked >= backtrail_model::schema::POINT_READ_COLUMNS.len());
    }
}
