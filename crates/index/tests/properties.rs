//! Property tests: for random datasets written through the test-support
//! writer, every query equals the brute-force scan of the same events.

mod common;

use std::collections::BTreeSet;

use backtrail_index::testkit::{Rng, Synth, TestEvent, write_dataset};
use backtrail_index::{Actor, BuildOptions, Filter, Index, Sessions, WhoAssumed, build};
use common::Brute;
use proptest::prelude::*;

fn pick<T: Clone>(rng: &mut Rng, v: &[T]) -> Option<T> {
    (!v.is_empty()).then(|| v[rng.below(v.len())].clone())
}

fn uniq(it: impl Iterator<Item = Option<String>>) -> Vec<String> {
    it.flatten().collect::<BTreeSet<_>>().into_iter().collect()
}

fn filters(rng: &mut Rng, events: &[TestEvent]) -> Vec<Filter> {
    let times: Vec<i64> = events.iter().filter_map(|e| e.event_time).collect();
    let accts = uniq(events.iter().map(|e| e.recipient_account_id.clone()));
    let mut out = vec![Filter::default()];
    if let Some(t) = pick(rng, &times) {
        out.push(Filter {
            from: Some(t),
            to: Some(t + 86_400_000_000),
            ..Filter::default()
        });
        out.push(Filter {
            to: Some(t),
            ..Filter::default()
        });
    }
    out.push(Filter {
        account: pick(rng, &accts),
        region: Some("us-east-1".into()),
        ..Filter::default()
    });
    out
}

/// How many non-empty answers each query gave, to show the test is not vacuous.
#[derive(Debug, Default)]
struct Seen {
    timeline: usize,
    touched: usize,
    assumed: usize,
    sessions: usize,
    chains: std::collections::BTreeMap<String, usize>,
}

fn check(seed: u64, n: usize, rows_per_file: usize) -> Seen {
    let mut seen = Seen::default();
    let events = Synth::small(n, seed).generate();
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), &events, rows_per_file).unwrap();
    build(dir.path(), None, &BuildOptions::new().threads(1)).unwrap();
    let index = Index::open(dir.path()).unwrap();
    let brute = Brute::new(&events);
    let mut rng = Rng::new(seed ^ 0x5555);

    let principals = uniq(events.iter().map(|e| e.principal_arn.clone()));
    let keys = uniq(
        events
            .iter()
            .map(|e| e.access_key_id.clone())
            .chain(events.iter().map(|e| e.issued_key.clone())),
    );
    let ips = uniq(events.iter().map(|e| e.source_ip.clone()));
    let roles = uniq(
        events
            .iter()
            .map(|e| e.target_role_arn.clone())
            .chain(events.iter().map(|e| e.role_arn.clone())),
    );
    let sessions = uniq(events.iter().map(|e| e.issued_session_arn.clone()));
    let resources = uniq(
        events
            .iter()
            .flat_map(|e| e.resource_arns.iter().cloned().map(Some)),
    );

    for f in filters(&mut rng, &events) {
        // timeline
        let mut actors: Vec<String> = Vec::new();
        for v in [&principals, &keys, &ips, &roles, &sessions] {
            actors.extend(pick(&mut rng, v));
        }
        actors.push("203.0.113.254".into());
        for a in actors {
            let actor = Actor::parse(&a).unwrap();
            let got = index.timeline(&actor, &f).unwrap();
            assert_eq!(got, brute.timeline(&actor, &f), "timeline {a} {f:?}");
            seen.timeline += usize::from(!got.is_empty());
        }
        // touched
        let mut qs: Vec<String> = Vec::new();
        qs.extend(pick(&mut rng, &resources));
        qs.extend(pick(&mut rng, &resources).map(|r| format!("{}*", &r[..r.len().min(20)])));
        let b = rng.below(7);
        qs.extend([
            format!("bucket{b}"),
            format!("bucket{b}/dir{}", rng.below(3)),
            // Ends inside object names: reached through the object keys of
            // the directory (`D#`).
            format!("bucket{b}/dir{}/obj1", rng.below(3)),
            format!("{:08x}-1111-2222-3333-444455556666", rng.below(4)),
            format!("prod/db{}", rng.below(4)),
            format!("orders{}", rng.below(4)),
            "nothing-here".into(),
        ]);
        for q in qs {
            let got = index.touched(&q, &f).unwrap();
            assert_eq!(got, brute.touched(&q, &f), "touched {q} {f:?}");
            seen.touched += usize::from(!got.is_empty());
        }
        // who_assumed and sessions
        let mut role_args: Vec<String> = roles.iter().take(2).cloned().collect();
        role_args.extend([
            "Role0".to_owned(),
            "Role1".to_owned(),
            "NoSuchRole".to_owned(),
        ]);
        for r in &role_args {
            let by = pick(&mut rng, &principals).filter(|_| rng.pct(30));
            let q = WhoAssumed {
                role: r.clone(),
                by: by.clone(),
            };
            let got = index.who_assumed(&q, &f).unwrap();
            assert_eq!(
                got,
                brute.who_assumed(r, by.as_deref(), &f),
                "who_assumed {r} {by:?} {f:?}"
            );
            seen.assumed += usize::from(!got.is_empty());
            let q = Sessions {
                role: Some(r.clone()),
                principal: by.clone(),
            };
            assert_eq!(
                index.sessions(&q, &f).unwrap(),
                brute.sessions(Some(r), by.as_deref(), &f),
                "sessions {r} {f:?}"
            );
        }
        let got = index.sessions(&Sessions::default(), &f).unwrap();
        assert_eq!(got, brute.sessions(None, None, &f), "sessions {f:?}");
        seen.sessions += usize::from(!got.is_empty());
        // chain
        let mut starts: Vec<String> = Vec::new();
        for _ in 0..3 {
            starts.extend(pick(&mut rng, &keys));
        }
        starts.extend(pick(&mut rng, &sessions));
        starts.extend(pick(&mut rng, &principals).filter(|p| p.contains(":assumed-role/")));
        starts.extend(pick(&mut rng, &ips));
        starts.push("ASIA0000000000009999".into());
        for s in starts {
            let got = index.chain(&s, &f).unwrap();
            assert_eq!(got, brute.chain(&s, &f), "chain {s} {f:?}");
            for p in &got.paths {
                *seen.chains.entry(format!("{:?}", p.status)).or_default() += 1;
                for h in &p.hops {
                    *seen
                        .chains
                        .entry(format!("{:?}/{:?}", h.hop, h.resolved_by))
                        .or_default() += 1;
                }
            }
        }
    }
    seen
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, ..ProptestConfig::default() })]

    #[test]
    fn index_answers_equal_brute_force(seed in any::<u64>(), n in 60usize..260, rows in 20usize..120) {
        check(seed, n, rows);
    }
}

#[test]
fn fixed_seed_larger_dataset() {
    let seen = check(7, 1500, 400);
    println!("{seen:?}");
    assert!(
        seen.timeline > 10 && seen.touched > 10 && seen.assumed > 3 && seen.sessions > 2,
        "{seen:?}"
    );
    for k in [
        "Complete",
        "MissingLink",
        "Issue/Some(Key)",
        "Issue/Some(SessionTime)",
        "Root/None",
        "MissingLink/None",
    ] {
        assert!(
            seen.chains.get(k).is_some_and(|n| *n > 0),
            "no {k} in {seen:?}"
        );
    }
}
