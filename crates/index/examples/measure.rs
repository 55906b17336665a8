//! Quick measurement (no criterion): writes a synthetic dataset with the
//! test-support writer, builds the index and times each query.
//!
//! ```text
//! cargo run --release -p backtrail-index --features testkit --example measure -- [EVENTS] [DIR]
//! ```
//! EVENTS defaults to 1,000,000; DIR to a temporary directory (removed at
//! the end). With DIR given and already holding a dataset, generation is
//! skipped; with a third argument `queries`, the build is skipped too.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use backtrail_index::testkit::{Synth, TestEvent, write_dataset};
use backtrail_index::{Actor, BuildOptions, Filter, Index, Sessions, WhoAssumed, build};

fn dir_bytes(p: &Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else {
        return 0;
    };
    rd.flatten()
        .map(|e| {
            let md = e.metadata().unwrap();
            if md.is_dir() {
                dir_bytes(&e.path())
            } else {
                md.len()
            }
        })
        .sum()
}

/// The first run's time (it also checks the checksums of the index sections
/// it reads, as a fresh process would), the median of `runs` more, and the
/// row count.
fn time<T>(runs: usize, mut f: impl FnMut() -> Vec<T>) -> (Duration, Duration, usize) {
    let t = Instant::now();
    let n = f().len();
    let first = t.elapsed();
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            std::hint::black_box(f());
            t.elapsed()
        })
        .collect();
    v.sort();
    (first, v[v.len() / 2], n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let events: usize = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let (root, _tmp) = match args.get(2) {
        Some(d) => (PathBuf::from(d), None),
        None => {
            let t = tempfile::tempdir().unwrap();
            (t.path().to_owned(), Some(t))
        }
    };
    let synth = Synth::large(events, 1);
    // Query arguments sampled from the data while writing it.
    let mut sample: Vec<TestEvent> = Vec::new();
    if !root.join("events").exists() {
        let t = Instant::now();
        let mut written = 0usize;
        synth.generate_chunks(100_000, |chunk| {
            for e in chunk.iter().step_by(997) {
                sample.push(e.clone());
            }
            write_dataset(&root, &chunk, 100_000).unwrap();
            written += chunk.len();
        });
        println!(
            "generated and wrote {written} events in {:.1?}",
            t.elapsed()
        );
    } else {
        synth.generate_chunks(100_000, |chunk| {
            sample.extend(chunk.iter().step_by(997).cloned())
        });
    }
    let parquet = dir_bytes(&root.join("events"));
    let rebuild = args.get(3).is_none_or(|a| a != "queries");
    let t = Instant::now();
    let report = build(&root, None, &BuildOptions::new().rebuild(rebuild)).unwrap();
    let build_time = t.elapsed();
    let index_bytes = dir_bytes(&root.join("index"));
    println!(
        "build: {:.2?} for {} events in {} partitions ({:.0} k events/s)",
        build_time,
        report.events_total,
        report.built.len(),
        report.events_total as f64 / build_time.as_secs_f64() / 1000.0
    );
    let n = report.events_total.max(1) as f64;
    println!(
        "size: parquet {:.1} B/event ({} bytes), index {:.1} B/event ({} bytes) = {:.1}% of parquet",
        parquet as f64 / n,
        parquet,
        index_bytes as f64 / n,
        index_bytes,
        100.0 * index_bytes as f64 / parquet as f64
    );
    let t = Instant::now();
    let index = Index::open(&root).unwrap();
    println!("open: {:.2?}", t.elapsed());

    let f = Filter::default();
    let pick = |g: &dyn Fn(&TestEvent) -> Option<String>| sample.iter().find_map(g).unwrap();
    let session_key = pick(&|e| {
        e.access_key_id.clone().filter(|k| {
            k.starts_with("ASIA") && e.role_arn.as_deref().is_some_and(|r| !r.contains("Ghost"))
        })
    });
    let user = pick(&|e| e.principal_arn.clone().filter(|p| p.contains(":user/")));
    let ip = pick(&|e| e.source_ip.clone().filter(|i| i.starts_with("203.")));
    let session = pick(&|e| e.issued_session_arn.clone());
    let role = pick(&|e| e.target_role_arn.clone());
    let object = pick(&|e| {
        e.resource_arns
            .iter()
            .find(|r| r.starts_with("arn:aws:s3:::"))
            .cloned()
    });
    let day = pick(&|e| e.event_time.map(|t| t.to_string()))
        .parse::<i64>()
        .unwrap();
    let window = Filter {
        from: Some(day),
        to: Some(day + 3_600_000_000),
        ..Filter::default()
    };
    let runs = 5;
    println!(
        "{:<44} {:>10} {:>10} {:>9}",
        "query", "first run", "median", "rows"
    );
    let show = |name: &str, (first, d, n): (Duration, Duration, usize)| {
        println!("{name:<44} {first:>10.2?} {d:>10.2?} {n:>9}")
    };
    show(
        &format!("timeline key {session_key}"),
        time(runs, || {
            index
                .timeline(&Actor::Key(session_key.clone()), &f)
                .unwrap()
        }),
    );
    show(
        "timeline user (1 h window)",
        time(runs, || {
            index
                .timeline(&Actor::parse(&user).unwrap(), &window)
                .unwrap()
        }),
    );
    show(
        "timeline ip (1 h window)",
        time(runs, || {
            index.timeline(&Actor::Ip(ip.clone()), &window).unwrap()
        }),
    );
    show(
        "timeline session",
        time(runs, || {
            index
                .timeline(&Actor::parse(&session).unwrap(), &f)
                .unwrap()
        }),
    );
    show(
        "touched kms key id (1 h window)",
        time(runs, || {
            index
                .touched("00000007-1111-2222-3333-444455556666", &window)
                .unwrap()
        }),
    );
    show(
        "touched bucket/prefix (1 h window)",
        time(runs, || index.touched("bucket3/dir1", &window).unwrap()),
    );
    show(
        "touched one object",
        time(runs, || index.touched(&object, &f).unwrap()),
    );
    show(
        "touched secret name",
        time(runs, || index.touched("prod/db4", &window).unwrap()),
    );
    show(
        "who_assumed role ARN",
        time(runs, || {
            index
                .who_assumed(
                    &WhoAssumed {
                        role: role.clone(),
                        by: None,
                    },
                    &f,
                )
                .unwrap()
        }),
    );
    show(
        "who_assumed bare name (all accounts)",
        time(runs, || {
            index
                .who_assumed(
                    &WhoAssumed {
                        role: "Role3".into(),
                        by: None,
                    },
                    &window,
                )
                .unwrap()
        }),
    );
    show(
        "sessions of a role",
        time(runs, || {
            index
                .sessions(
                    &Sessions {
                        role: Some(role.clone()),
                        principal: None,
                    },
                    &f,
                )
                .unwrap()
        }),
    );
    show(
        "sessions, all (1 h window)",
        time(runs, || {
            index.sessions(&Sessions::default(), &window).unwrap()
        }),
    );
    show(
        "chain from key",
        time(runs, || index.chain(&session_key, &f).unwrap().paths),
    );
    show(
        "chain from session ARN",
        time(runs, || index.chain(&session, &f).unwrap().paths),
    );
    show(
        "chain from IP",
        time(runs, || index.chain(&ip, &f).unwrap().paths),
    );
}
