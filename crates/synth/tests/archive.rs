//! The archive itself: byte-for-byte determinism, AWS's object key layout,
//! digests that verify by AWS's rules (and stop verifying when a file is
//! changed), and the overlapping account trail.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use backtrail_synth::{GenConfig, Scenario, generate, verify_digests};
use common::{files_under, fixture, fixture_files};

fn small(seed: u64, dir: &Path) {
    let cfg = GenConfig::builder()
        .events(3_000)
        .seed(seed)
        .days(1)
        .accounts(4)
        .regions(vec!["us-east-1".into(), "eu-west-1".into()])
        .scenarios(Scenario::ALL.to_vec())
        .build()
        .unwrap();
    generate(dir, &cfg).unwrap();
}

fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    files_under(root, root)
        .into_iter()
        .map(|k| (k.clone(), std::fs::read(root.join(&k)).unwrap()))
        .collect()
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    small(11, a.path());
    // The second run on a one-thread pool: scheduling must not matter.
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| small(11, b.path()));
    small(12, c.path());
    let (ta, tb, tc) = (tree(a.path()), tree(b.path()), tree(c.path()));
    assert!(ta.len() > 100);
    assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
    for (k, v) in &ta {
        assert!(
            tb[k] == *v,
            "{k} differs between two runs with the same seed"
        );
    }
    assert_ne!(ta.keys().collect::<Vec<_>>(), tc.keys().collect::<Vec<_>>());
}

fn is_digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `YYYY/MM/DD` path parts and a `YYYYMMDDTHHMM[SS]Z` stamp on that day.
fn check_date(parts: &[&str], stamp: &str, secs: bool) -> bool {
    let n = if secs { 16 } else { 14 };
    is_digits(parts[0], 4)
        && is_digits(parts[1], 2)
        && is_digits(parts[2], 2)
        && stamp.len() == n
        && stamp.as_bytes()[8] == b'T'
        && stamp.ends_with('Z')
        && is_digits(&stamp[..8], 8)
        && is_digits(&stamp[9..n - 1], n - 10)
        && stamp[..8] == format!("{}{}{}", parts[0], parts[1], parts[2])
}

/// Checks one key against AWS's layouts; returns why not.
fn key_problem(key: &str, org_id: &str, trail_names: &[&str]) -> Option<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let rest = match parts.get(1) {
        Some(p) if *p == org_id => &parts[2..],
        Some(_) => &parts[1..],
        None => return Some("too short".into()),
    };
    if parts[0] != "AWSLogs" || rest.len() != 7 {
        return Some("wrong depth".into());
    }
    let (acct, kind, region, file) = (rest[0], rest[1], rest[2], rest[6]);
    if !is_digits(acct, 12) {
        return Some("account".into());
    }
    let Some(stem) = file.strip_suffix(".json.gz") else {
        return Some("suffix".into());
    };
    let f: Vec<&str> = stem.split('_').collect();
    match kind {
        "CloudTrail" => {
            let ok = f.len() == 5
                && f[0] == acct
                && f[1] == "CloudTrail"
                && f[2] == region
                && check_date(&rest[3..6], f[3], false)
                && f[4].len() == 16
                && f[4].bytes().all(|b| b.is_ascii_alphanumeric());
            (!ok).then(|| "log file name".into())
        }
        "CloudTrail-Digest" => {
            let ok = f.len() == 6
                && f[0] == acct
                && f[1] == "CloudTrail-Digest"
                && f[2] == region
                && trail_names.contains(&f[3])
                && f[4] == "us-east-1"
                && check_date(&rest[3..6], f[5], true);
            (!ok).then(|| "digest name".into())
        }
        _ => Some("kind".into()),
    }
}

#[test]
fn object_keys_follow_the_aws_layout() {
    let f = fixture();
    let org = &f.report.truth.org_id;
    assert!(org.starts_with("o-") && org.len() == 12);
    let keys = files_under(&f.root, &f.root.join("AWSLogs"));
    assert_eq!(keys.len() as u64, f.report.files + f.report.digest_files);
    for k in &keys {
        if let Some(p) = key_problem(k, org, &["org-trail", "account-trail"]) {
            panic!("{k}: {p}");
        }
    }
    // The checker itself rejects near misses.
    let good = format!(
        "AWSLogs/{org}/111122223333/CloudTrail/us-east-1/2025/03/10/111122223333_CloudTrail_us-east-1_20250310T0005Z_AbCdEfGhIjKlMnOp.json.gz"
    );
    assert_eq!(key_problem(&good, org, &[]), None);
    for bad in [
        good.replace("_AbCdEfGhIjKlMnOp", "_AbCdEfGhIjKlMnO"),
        good.replace("20250310T0005Z", "20250311T0005Z"),
        good.replace("20250310T0005Z", "20250310T000500Z"),
        good.replace(".json.gz", ".json"),
        good.replace("111122223333_CloudTrail", "111122223334_CloudTrail"),
    ] {
        assert!(key_problem(&bad, org, &[]).is_some(), "{bad}");
    }
}

#[test]
fn digests_verify_by_the_aws_rules() {
    let f = fixture();
    let r = verify_digests(&f.root).unwrap();
    assert!(
        r.is_clean(),
        "{:?} {:?}",
        &r.problems[..r.problems.len().min(5)],
        &r.unlisted_log_files[..r.unlisted_log_files.len().min(5)]
    );
    assert_eq!(r.digests as u64, f.report.digest_files);
    assert_eq!(r.log_files_checked as u64, f.report.files);
    assert_eq!(r.signatures_checked, r.digests);
    // One chain per trail, account and region.
    let accounts = f.report.truth.accounts.len();
    let with_trail = f
        .report
        .truth
        .accounts
        .iter()
        .filter(|a| a.account_trail)
        .count();
    assert_eq!(
        r.chain_starts,
        (accounts + with_trail) * f.report.truth.trail_regions.len()
    );
}

#[test]
fn a_stopped_trail_ends_its_digest_chain() {
    let f = fixture();
    let sc = f
        .report
        .truth
        .scenarios
        .iter()
        .find(|s| s.scenario == "leaked-key")
        .unwrap();
    let stop = sc
        .tamper_events
        .iter()
        .find(|t| t.event_name == "StopLogging")
        .unwrap();
    let digests: Vec<String> = files_under(
        &f.root,
        &f.root
            .join("AWSLogs")
            .join(&stop.account)
            .join("CloudTrail-Digest"),
    );
    let org_digests = files_under(
        &f.root,
        &f.root
            .join("AWSLogs")
            .join(&f.report.truth.org_id)
            .join(&stop.account)
            .join("CloudTrail-Digest"),
    );
    assert!(!digests.is_empty());
    assert!(
        digests.len() < org_digests.len(),
        "the account trail's chain stops, the org trail's goes on"
    );
}

#[test]
fn tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    small(5, dir.path());
    assert!(verify_digests(dir.path()).unwrap().is_clean());
    let logs: Vec<String> = files_under(dir.path(), &dir.path().join("AWSLogs"))
        .into_iter()
        .filter(|k| k.contains("/CloudTrail/"))
        .collect();
    // Rewrite one log file with one byte changed (valid gzip, other bytes).
    let victim = dir.path().join(&logs[logs.len() / 2]);
    let mut raw = backtrail_synth::digest::gunzip_file(&victim).unwrap();
    let pos = raw.len() / 2;
    raw[pos] = if raw[pos] == b'a' { b'b' } else { b'a' };
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut enc, &raw).unwrap();
    std::fs::write(&victim, enc.finish().unwrap()).unwrap();
    // Remove one digest in the middle of a chain.
    let digests: Vec<String> = files_under(dir.path(), &dir.path().join("AWSLogs"))
        .into_iter()
        .filter(|k| k.contains("/CloudTrail-Digest/"))
        .collect();
    std::fs::remove_file(dir.path().join(&digests[5])).unwrap();
    let r = verify_digests(dir.path()).unwrap();
    assert!(
        r.problems.iter().any(|p| p.contains("hash differs")),
        "{:?}",
        r.problems
    );
    assert!(
        r.problems.iter().any(|p| p.contains("is missing")),
        "{:?}",
        r.problems
    );
}

#[test]
fn account_trail_duplicates_are_byte_identical() {
    let f = fixture();
    let files = fixture_files();
    let org: BTreeSet<&[u8]> = files
        .iter()
        .filter(|l| l.key.starts_with("AWSLogs/o-"))
        .map(|l| l.raw.as_slice())
        .collect();
    let dups: Vec<_> = files
        .iter()
        .filter(|l| !l.key.starts_with("AWSLogs/o-"))
        .collect();
    assert!(!dups.is_empty());
    let mut dup_records = 0;
    for d in &dups {
        assert!(
            org.contains(d.raw.as_slice()),
            "{} has no identical org-trail delivery",
            d.key
        );
        dup_records += d.records.len() as u64;
    }
    assert_eq!(dup_records, f.report.duplicates_delivered);
    assert!(f.report.duplicates_delivered > 0);
}
