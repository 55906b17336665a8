//! Table test over configurations: every shape of archive verifies, counts
//! what it says, and honours its options.

mod common;

use backtrail_synth::{GenConfig, Scenario, generate, verify_digests};
use common::{log_files, org_records, s};

struct Case {
    name: &'static str,
    cfg: GenConfig,
    duplicates: bool,
    scenarios: usize,
}

fn cases() -> Vec<Case> {
    let base = || {
        GenConfig::builder()
            .events(1_000)
            .days(1)
            .regions(vec!["us-east-1".into(), "us-west-2".into()])
    };
    vec![
        Case {
            name: "minimal org",
            cfg: base()
                .accounts(3)
                .regions(vec!["eu-west-1".into()])
                .build()
                .unwrap(),
            duplicates: true,
            scenarios: 5,
        },
        Case {
            name: "no scenarios",
            cfg: base().scenarios(vec![]).build().unwrap(),
            duplicates: true,
            scenarios: 0,
        },
        Case {
            name: "no account trails",
            cfg: base()
                .account_trail_share(0.0)
                .scenarios(vec![Scenario::LeakedKey])
                .build()
                .unwrap(),
            duplicates: false,
            scenarios: 1,
        },
        Case {
            name: "fast gzip, many accounts",
            cfg: base().gzip_level(1).accounts(10).seed(3).build().unwrap(),
            duplicates: true,
            scenarios: 5,
        },
        Case {
            name: "other start and region",
            cfg: base()
                .start("2024-02-28T22:00:00Z")
                .unapproved_region("sa-east-1")
                .scenarios(vec![Scenario::UnapprovedRegion])
                .build()
                .unwrap(),
            duplicates: true,
            scenarios: 1,
        },
    ]
}

#[test]
fn every_configuration_verifies() {
    for c in cases() {
        let dir = tempfile::tempdir().unwrap();
        let r = generate(dir.path(), &c.cfg).unwrap();
        let v = verify_digests(dir.path()).unwrap();
        assert!(v.is_clean(), "{}: {:?}", c.name, v.problems);
        assert_eq!(v.log_files_checked as u64, r.files, "{}", c.name);
        assert_eq!(r.truth.scenarios.len(), c.scenarios, "{}", c.name);
        assert_eq!(r.duplicates_delivered > 0, c.duplicates, "{}", c.name);
        let recs = org_records(dir.path());
        assert_eq!(recs.len() as u64, r.events, "{}", c.name);
        assert!(
            r.events.abs_diff(c.cfg.events()) <= c.cfg.events() / 10 + 150,
            "{}: {}",
            c.name,
            r.events
        );
        let raw: u64 = log_files(dir.path())
            .iter()
            .map(|f| f.raw.len() as u64)
            .sum();
        assert_eq!(raw, r.bytes_uncompressed, "{}", c.name);
        let regions: std::collections::BTreeSet<&str> = recs
            .iter()
            .map(|(_, r)| s(r, "/awsRegion").unwrap())
            .collect();
        for reg in &regions {
            assert!(
                r.truth.trail_regions.iter().any(|t| t == reg),
                "{}: {reg}",
                c.name
            );
        }
        if c.cfg.scenarios().contains(&Scenario::UnapprovedRegion) {
            assert!(regions.contains(c.cfg.unapproved_region()), "{}", c.name);
        }
    }
}
