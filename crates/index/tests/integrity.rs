//! A missing, stale, truncated, corrupt or other-version index is detected
//! and explained (never a panic, never a wrong answer); incremental builds.

mod common;

use std::path::Path;

use backtrail_index::testkit::{Synth, TestEvent, write_dataset};
use backtrail_index::{
    Actor, BuildOptions, CATALOG_FILE, Error, Filter, Index, SegmentState, Sessions, WhoAssumed,
    build, index_dir, segment_name, status,
};

fn dataset(n: usize) -> (tempfile::TempDir, Vec<TestEvent>) {
    let events = Synth::small(n, 42).generate();
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), &events, 64).unwrap();
    build(dir.path(), None, &BuildOptions::new()).unwrap();
    (dir, events)
}

fn first_partition(events: &[TestEvent]) -> String {
    backtrail_index::testkit::partition_of(events.iter().filter_map(|e| e.event_time).min())
}

fn seg_path(root: &Path, p: &str) -> std::path::PathBuf {
    index_dir(root).join(segment_name(p))
}

/// Every query over the index, as comparable text (or the error).
fn run_all(root: &Path, events: &[TestEvent]) -> Result<String, Error> {
    let index = Index::open(root)?;
    let f = Filter::default();
    let key = events.iter().find_map(|e| e.issued_key.clone()).unwrap();
    let ip = events.iter().find_map(|e| e.source_ip.clone()).unwrap();
    let principal = events.iter().find_map(|e| e.principal_arn.clone()).unwrap();
    let mut out = String::new();
    out += &format!("{:?}", index.timeline(&Actor::parse(&principal)?, &f)?);
    out += &format!("{:?}", index.timeline(&Actor::parse(&ip)?, &f)?);
    out += &format!("{:?}", index.touched("bucket1", &f)?);
    out += &format!(
        "{:?}",
        index.who_assumed(
            &WhoAssumed {
                role: "Role1".into(),
                by: None
            },
            &f
        )?
    );
    out += &format!("{:?}", index.sessions(&Sessions::default(), &f)?);
    out += &format!("{:?}", index.chain(&key, &f)?);
    out += &format!("{:?}", index.chain(&ip, &f)?);
    Ok(out)
}

fn says_what_to_do(e: &Error) {
    let m = e.to_string();
    assert!(m.contains("run `backtrail index --data"), "{m}");
}

#[test]
fn truncated_segment() {
    let (d, events) = dataset(300);
    let p = seg_path(d.path(), &first_partition(&events));
    let bytes = std::fs::read(&p).unwrap();
    for cut in [0, 10, 40, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let e = Index::open(d.path()).err().unwrap();
        assert!(matches!(e, Error::Corrupt { .. }), "{cut}: {e}");
        assert!(e.to_string().contains("--rebuild"), "{e}");
        says_what_to_do(&e);
    }
}

#[test]
fn flipped_bytes_never_give_a_wrong_answer() {
    let (d, events) = dataset(300);
    let good = run_all(d.path(), &events).unwrap();
    let part = first_partition(&events);
    let p = seg_path(d.path(), &part);
    let bytes = std::fs::read(&p).unwrap();
    let mut detected = 0;
    for at in (0..bytes.len()).step_by(bytes.len() / 60 + 1) {
        let mut b = bytes.clone();
        b[at] ^= 0x20;
        std::fs::write(&p, &b).unwrap();
        match run_all(d.path(), &events) {
            Ok(answer) => assert_eq!(answer, good, "byte {at} flipped gave a different answer"),
            Err(e) => {
                assert!(
                    matches!(e, Error::Corrupt { .. } | Error::Version { .. }),
                    "byte {at}: {e}"
                );
                says_what_to_do(&e);
                detected += 1;
            }
        }
        let st = status(d.path()).unwrap();
        let s = st.iter().find(|s| s.partition == part).unwrap();
        assert!(
            matches!(s.state, SegmentState::Corrupt(_)),
            "status missed byte {at}: {s:?}"
        );
    }
    assert!(detected > 0);
    std::fs::write(&p, &bytes).unwrap();
    assert_eq!(run_all(d.path(), &events).unwrap(), good);
}

#[test]
fn other_format_version() {
    let (d, events) = dataset(200);
    let p = seg_path(d.path(), &first_partition(&events));
    let mut b = std::fs::read(&p).unwrap();
    // Files of earlier versions (1: resources not yet filed by S3
    // directory; 3: fixed 96-byte issuance records) are refused by
    // version, not read.
    for old in [1u32, 3] {
        b[8..12].copy_from_slice(&old.to_le_bytes());
        std::fs::write(&p, &b).unwrap();
        let e = Index::open(d.path()).err().unwrap();
        assert!(
            matches!(
                e,
                Error::Version {
                    found,
                    expected: backtrail_index::FORMAT_VERSION,
                    ..
                } if found == old
            ),
            "{e}"
        );
        let text = e.to_string();
        assert!(
            text.contains(&format!(
                "has format version {old}, this build reads version 4"
            )),
            "{text}"
        );
        says_what_to_do(&e);
    }
    // The catalogue too.
    let (d, _) = dataset(50);
    let c = index_dir(d.path()).join(CATALOG_FILE);
    let mut b = std::fs::read(&c).unwrap();
    b[8] = 7;
    std::fs::write(&c, &b).unwrap();
    assert!(matches!(
        Index::open(d.path()),
        Err(Error::Version { found: 7, .. })
    ));
}

#[test]
fn deleted_segment_and_catalogue() {
    let (d, events) = dataset(200);
    std::fs::remove_file(seg_path(d.path(), &first_partition(&events))).unwrap();
    let e = Index::open(d.path()).err().unwrap();
    assert!(matches!(e, Error::SegmentMissing { .. }), "{e}");
    says_what_to_do(&e);
    std::fs::remove_file(index_dir(d.path()).join(CATALOG_FILE)).unwrap();
    let e = Index::open(d.path()).err().unwrap();
    assert!(matches!(e, Error::NotBuilt { .. }), "{e}");
    says_what_to_do(&e);
    // Building with no partition list repairs exactly what is missing.
    let r = build(d.path(), None, &BuildOptions::new()).unwrap();
    assert_eq!(r.built, vec![first_partition(&events)]);
    assert!(run_all(d.path(), &events).is_ok());
}

#[test]
fn changed_partitions_are_stale_until_rebuilt() {
    let (d, mut events) = dataset(300);
    let part = first_partition(&events);
    let t = events.iter().filter_map(|e| e.event_time).min().unwrap();
    // A new file in an indexed partition.
    let extra = TestEvent {
        event_time: Some(t + 1),
        event_id: Some("extra".into()),
        source_ip: Some("192.0.2.77".into()),
        ..TestEvent::default()
    };
    write_dataset(d.path(), std::slice::from_ref(&extra), 10).unwrap();
    events.push(extra);
    let e = Index::open(d.path()).err().unwrap();
    assert!(
        matches!(&e, Error::Stale { partition, reason, .. } if *partition == part && reason.contains("added")),
        "{e}"
    );
    says_what_to_do(&e);
    // Incremental build of the touched partition only.
    let r = build(
        d.path(),
        Some(std::slice::from_ref(&part)),
        &BuildOptions::new(),
    )
    .unwrap();
    assert_eq!(r.built, vec![part.clone()]);
    let index = Index::open(d.path()).unwrap();
    let got = index
        .timeline(&Actor::Ip("192.0.2.77".into()), &Filter::default())
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got,
        common::Brute::new(&events).timeline(&Actor::Ip("192.0.2.77".into()), &Filter::default())
    );
    drop(index);

    // A rewritten file (different size).
    let dir = backtrail_index::EVENTS_DIR;
    let pdir = d.path().join(dir).join(format!("event_date={part}"));
    let first_file = pdir.join("part-00000.parquet");
    let mut b = std::fs::read(&first_file).unwrap();
    b.push(0);
    std::fs::write(&first_file, &b).unwrap();
    let e = Index::open(d.path()).err().unwrap();
    assert!(
        matches!(&e, Error::Stale { reason, .. } if reason.contains("changed")),
        "{e}"
    );
    // A removed file.
    std::fs::remove_file(&first_file).unwrap();
    let e = Index::open(d.path()).err().unwrap();
    assert!(
        matches!(&e, Error::Stale { reason, .. } if reason.contains("removed")),
        "{e}"
    );
    // A new partition.
    let new_day = TestEvent {
        event_time: Some(t + 400 * 86_400_000_000),
        ..TestEvent::default()
    };
    write_dataset(d.path(), &[new_day], 10).unwrap();
    build(
        d.path(),
        Some(std::slice::from_ref(&part)),
        &BuildOptions::new(),
    )
    .unwrap();
    let e = Index::open(d.path()).err().unwrap();
    assert!(matches!(e, Error::Missing { .. }), "{e}");
    says_what_to_do(&e);
    // A removed partition.
    std::fs::remove_dir_all(&pdir).unwrap();
    let e = Index::open(d.path()).err().unwrap();
    assert!(
        matches!(&e, Error::Stale { reason, .. } if reason.contains("partition removed")),
        "{e}"
    );
    let st = status(d.path()).unwrap();
    assert!(
        st.iter()
            .any(|s| s.partition == part && matches!(s.state, SegmentState::Stale(_)))
    );
    let r = build(d.path(), None, &BuildOptions::new()).unwrap();
    assert_eq!(r.removed, vec![part]);
    assert_eq!(r.built.len(), 1);
    assert!(Index::open(d.path()).is_ok());
    assert!(
        status(d.path())
            .unwrap()
            .iter()
            .all(|s| s.state == SegmentState::Fresh)
    );
    // Rebuild rebuilds everything; naming an unknown partition is an error.
    let r = build(d.path(), None, &BuildOptions::new().rebuild(true)).unwrap();
    assert!(r.up_to_date.is_empty() && !r.built.is_empty());
    let e = build(
        d.path(),
        Some(&["1999-01-01".to_owned()]),
        &BuildOptions::new(),
    )
    .err()
    .unwrap();
    assert!(matches!(e, Error::NoSuchPartition { .. }), "{e}");
}

#[test]
fn malformed_arguments_are_typed_errors() {
    let (d, _) = dataset(50);
    let index = Index::open(d.path()).unwrap();
    let f = Filter::default();
    let bad =
        |r: Result<String, Error>| assert!(matches!(r, Err(Error::BadArgument { .. })), "{r:?}");
    bad(index
        .who_assumed(
            &WhoAssumed {
                role: " ".into(),
                by: None,
            },
            &f,
        )
        .map(|r| format!("{r:?}")));
    bad(index
        .who_assumed(
            &WhoAssumed {
                role: "arn:nope".into(),
                by: None,
            },
            &f,
        )
        .map(|r| format!("{r:?}")));
    bad(index.touched("two words", &f).map(|r| format!("{r:?}")));
    bad(index.chain("", &f).map(|r| format!("{r:?}")));
    bad(index.chain("arn:bad", &f).map(|r| format!("{r:?}")));
    bad(index
        .sessions(
            &Sessions {
                role: Some(String::new()),
                principal: None,
            },
            &f,
        )
        .map(|r| format!("{r:?}")));
    // No match is an empty answer, not an error.
    assert!(index.touched("no-such-bucket", &f).unwrap().is_empty());
    assert!(
        index
            .timeline(&Actor::Ip("192.0.2.200".into()), &f)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn empty_dataset_and_timeless_partition() {
    let d = tempfile::tempdir().unwrap();
    let r = build(d.path(), None, &BuildOptions::new()).unwrap();
    assert_eq!(r.events_total, 0);
    let index = Index::open(d.path()).unwrap();
    assert_eq!(index.status().events, 0);
    // Events without time land in the default partition and are indexed.
    let e = TestEvent {
        source_ip: Some("192.0.2.5".into()),
        event_id: Some("x".into()),
        ..TestEvent::default()
    };
    write_dataset(d.path(), &[e], 10).unwrap();
    build(d.path(), None, &BuildOptions::new()).unwrap();
    let index = Index::open(d.path()).unwrap();
    let a = Actor::Ip("192.0.2.5".into());
    assert_eq!(index.timeline(&a, &Filter::default()).unwrap().len(), 1);
    assert!(
        index
            .timeline(
                &a,
                &Filter {
                    from: Some(0),
                    ..Filter::default()
                }
            )
            .unwrap()
            .is_empty()
    );
}
