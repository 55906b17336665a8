//! The records look like a real organization's trail, checked against the
//! real CloudTrail records in `shared/corpus` where that is measurable.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use backtrail_model::identity::{EventView, derive};
use backtrail_model::time::{parse_expiration, parse_iso8601};
use common::{fixture, fixture_files, fixture_records, s};
use serde_json::Value;

fn corpus() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        println!(
            "SKIP: corpus not found at {} (shared/corpus is absent)",
            p.display()
        );
        None
    }
}

/// Compact serialised size, as `serde_json` writes it with key order kept.
fn size(v: &Value) -> usize {
    serde_json::to_vec(v).unwrap().len()
}

/// Mean serialised record size over the stratus-red-team detonation logs
/// and the awsdocs examples: `(records, mean)`.
fn corpus_mean(root: &std::path::Path) -> (usize, f64) {
    let mut sizes = Vec::new();
    let strat = root.join("stratus-red-team/detonation-logs");
    for e in std::fs::read_dir(strat).unwrap().flatten() {
        let v: Value = serde_json::from_slice(&std::fs::read(e.path()).unwrap()).unwrap();
        sizes.extend(v.as_array().unwrap().iter().map(size));
    }
    for guide in std::fs::read_dir(root.join("awsdocs")).unwrap().flatten() {
        let Ok(rd) = std::fs::read_dir(guide.path().join("extracted")) else {
            continue;
        };
        for e in rd.flatten() {
            if !e.path().to_string_lossy().ends_with(".records.jsonl") {
                continue;
            }
            for line in std::fs::read_to_string(e.path()).unwrap().lines() {
                if let Ok(v) = serde_json::from_str::<Value>(line) {
                    match v.get("Records").and_then(Value::as_array) {
                        Some(rs) => sizes.extend(rs.iter().map(size)),
                        None => sizes.push(size(&v)),
                    }
                }
            }
        }
    }
    let n = sizes.len();
    (n, sizes.iter().sum::<usize>() as f64 / n as f64)
}

#[test]
fn mean_record_size_is_within_20_percent_of_the_corpus() {
    let Some(root) = corpus() else { return };
    let (n, want) = corpus_mean(&root);
    assert!(n > 400, "corpus records: {n}");
    let recs = fixture_records();
    let got = recs.iter().map(|(_, r)| size(r)).sum::<usize>() as f64 / recs.len() as f64;
    println!(
        "mean record size: generated {got:.0} bytes over {} records, corpus {want:.0} bytes over {n} records",
        recs.len()
    );
    assert!(
        (got - want).abs() / want <= 0.20,
        "generated {got:.0} vs corpus {want:.0}"
    );
}

#[test]
fn event_mix_looks_like_an_organization() {
    let f = fixture();
    let recs = fixture_records();
    let n = recs.len() as f64;
    let total = recs.len() as u64;
    assert!(
        total.abs_diff(f.report.events) == 0
            && total.abs_diff(common::FIXTURE_EVENTS) < common::FIXTURE_EVENTS / 50,
        "{total}"
    );
    let mut names: BTreeMap<(&str, &str), usize> = BTreeMap::new();
    let mut types: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut data, mut errors) = (0usize, 0usize);
    for (_, r) in &recs {
        *names
            .entry((s(r, "/eventSource").unwrap(), s(r, "/eventName").unwrap()))
            .or_default() += 1;
        *types
            .entry(s(r, "/userIdentity/type").unwrap())
            .or_default() += 1;
        data += usize::from(s(r, "/eventCategory") == Some("Data"));
        errors += usize::from(r.get("errorCode").is_some());
    }
    assert!(data as f64 / n > 0.5, "data events dominate: {data}/{n}");
    let err = errors as f64 / n;
    assert!((0.01..0.06).contains(&err), "error share {err}");
    for t in [
        "IAMUser",
        "AssumedRole",
        "Root",
        "AWSService",
        "AWSAccount",
        "FederatedUser",
        "SAMLUser",
        "WebIdentityUser",
        "IdentityCenterUser",
    ] {
        assert!(
            types.get(t).copied().unwrap_or(0) > 0,
            "identity type {t} missing: {types:?}"
        );
    }
    let get = |src: &str, name: &str| names.get(&(src, name)).copied().unwrap_or(0);
    // The head of the distribution, in order of volume.
    assert!(get("s3.amazonaws.com", "GetObject") > get("kms.amazonaws.com", "Decrypt"));
    assert!(get("kms.amazonaws.com", "Decrypt") > get("sts.amazonaws.com", "AssumeRole"));
    assert!(get("sts.amazonaws.com", "AssumeRole") > get("iam.amazonaws.com", "GetRole"));
    for (src, name) in [
        ("s3.amazonaws.com", "PutObject"),
        ("s3.amazonaws.com", "HeadObject"),
        ("s3.amazonaws.com", "ListObjects"),
        ("kms.amazonaws.com", "GenerateDataKey"),
        ("kms.amazonaws.com", "Encrypt"),
        ("sts.amazonaws.com", "GetCallerIdentity"),
        ("ec2.amazonaws.com", "DescribeInstances"),
        ("lambda.amazonaws.com", "Invoke"),
        ("dynamodb.amazonaws.com", "GetItem"),
        ("dynamodb.amazonaws.com", "Query"),
        ("dynamodb.amazonaws.com", "PutItem"),
        ("secretsmanager.amazonaws.com", "GetSecretValue"),
        ("signin.amazonaws.com", "ConsoleLogin"),
        ("backup.amazonaws.com", "DeleteRecoveryPoint"),
        ("organizations.amazonaws.com", "DescribeOrganization"),
        ("sso.amazonaws.com", "GetRoleCredentials"),
    ] {
        assert!(get(src, name) > 0, "{src} {name} missing");
    }
    // Hundreds of principals.
    let principals: BTreeSet<&str> = recs
        .iter()
        .filter_map(|(_, r)| s(r, "/userIdentity/arn"))
        .collect();
    assert!(principals.len() > 300, "{} principals", principals.len());
}

struct View<'a>(&'a Value);

impl EventView for View<'_> {
    fn top(&self, k: &str) -> Option<&str> {
        self.0.get(k).and_then(Value::as_str)
    }
    fn identity(&self, p: &str) -> Option<&str> {
        path(&self.0["userIdentity"], p)
    }
    fn request(&self, p: &str) -> Option<&str> {
        path(&self.0["requestParameters"], p)
    }
    fn response(&self, p: &str) -> Option<&str> {
        path(&self.0["responseElements"], p)
    }
    fn additional(&self, p: &str) -> Option<&str> {
        path(&self.0["additionalEventData"], p)
    }
}

fn path<'a>(v: &'a Value, p: &str) -> Option<&'a str> {
    p.split('.').try_fold(v, |v, k| v.get(k))?.as_str()
}

#[test]
fn records_are_internally_consistent() {
    let f = fixture();
    let start = parse_iso8601(&f.report.truth.start).unwrap();
    let end = parse_iso8601(&f.report.truth.end).unwrap();
    let (mut ec2_delivery, mut console_forms, mut iso_forms, mut source_identity) = (0, 0, 0, 0);
    for (key, r) in fixture_records() {
        let parts: Vec<&str> = key.split('/').collect();
        assert_eq!(s(r, "/recipientAccountId"), Some(parts[2]), "{key}");
        assert_eq!(s(r, "/awsRegion"), Some(parts[4]), "{key}");
        let t = parse_iso8601(s(r, "/eventTime").unwrap()).unwrap();
        assert!((start..end).contains(&t));
        let cat = s(r, "/eventCategory").unwrap();
        assert_eq!(r["managementEvent"].as_bool(), Some(cat == "Management"));
        assert!(
            r["readOnly"].is_boolean() && r["eventID"].is_string() && r["requestID"].is_string()
        );
        if let Some(c) = s(r, "/userIdentity/sessionContext/attributes/creationDate") {
            assert!(
                parse_iso8601(c).unwrap() <= t,
                "session created after use: {r}"
            );
        }
        let d = derive(&View(r));
        assert!(d.principal_arn.is_some(), "no principal: {r}");
        if s(r, "/userIdentity/type") == Some("AssumedRole") {
            assert!(d.role_arn.is_some() && d.session_name.is_some());
            assert!(
                parse_iso8601(
                    s(r, "/userIdentity/sessionContext/attributes/creationDate").unwrap()
                )
                .is_some()
            );
            ec2_delivery += usize::from(
                r.pointer("/userIdentity/sessionContext/ec2RoleDelivery")
                    .is_some(),
            );
            source_identity += usize::from(
                r.pointer("/userIdentity/sessionContext/sourceIdentity")
                    .is_some(),
            );
        }
        if let Some(i) = d.issuance
            && r.get("errorCode").is_none()
            && s(r, "/eventName") != Some("GetRoleCredentials")
        {
            let key = i.issued_key.unwrap_or_else(|| panic!("no issued key: {r}"));
            assert!(key.starts_with("ASIA") || key.starts_with("AKIA"));
            if let Some(raw) = i.expiration_raw {
                assert!(parse_expiration(&raw).is_some(), "{raw}");
                if raw.contains('T') {
                    iso_forms += 1
                } else {
                    console_forms += 1
                }
            }
        }
        if s(r, "/eventSource") == Some("s3.amazonaws.com")
            && s(r, "/eventCategory") == Some("Data")
        {
            let kinds: Vec<&str> = r["resources"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|x| x["type"].as_str())
                .collect();
            assert!(kinds.contains(&"AWS::S3::Bucket"));
        }
    }
    assert!(ec2_delivery > 0 && console_forms > 0 && iso_forms > 0 && source_identity > 0);
}

#[test]
fn cross_account_calls_share_an_event_id() {
    let recs = fixture_records();
    let mut groups: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
    for (_, r) in &recs {
        if let Some(id) = s(r, "/sharedEventID") {
            groups.entry(id).or_default().push(r);
        }
    }
    let pairs: Vec<&Vec<&Value>> = groups.values().filter(|g| g.len() == 2).collect();
    assert!(pairs.len() >= 10, "{} pairs", pairs.len());
    for g in pairs {
        assert_ne!(s(g[0], "/eventID"), s(g[1], "/eventID"));
        assert_ne!(
            s(g[0], "/recipientAccountId"),
            s(g[1], "/recipientAccountId")
        );
        assert_eq!(s(g[0], "/eventName"), s(g[1], "/eventName"));
        let types: BTreeSet<&str> = g
            .iter()
            .map(|r| s(r, "/userIdentity/type").unwrap())
            .collect();
        assert!(types.contains("AWSAccount"), "{types:?}");
    }
}

#[test]
fn file_sizes_are_uneven() {
    let files = fixture_files();
    let mut counts: Vec<usize> = files.iter().map(|f| f.records.len()).collect();
    counts.sort_unstable();
    let (min, median, max) = (
        counts[0],
        counts[counts.len() / 2],
        counts[counts.len() - 1],
    );
    assert!(
        min <= 2 && max >= 10 * median.max(1) && max <= backtrail_synth::FILE_MAX_RECORDS,
        "{min} {median} {max}"
    );
    // Every file is one line, as CloudTrail delivers.
    assert!(
        files
            .iter()
            .all(|f| !f.raw.contains(&b'\n') && f.raw.starts_with(b"{\"Records\":["))
    );
}

#[test]
fn issued_sessions_match_their_use() {
    // Every key an AssumeRole* call issued is used under the session ARN
    // that call announced, so chains resolve by key and by ARN alike.
    let recs = fixture_records();
    let mut issued: BTreeMap<&str, &str> = BTreeMap::new();
    for (_, r) in &recs {
        if let (Some(k), Some(arn)) = (
            s(r, "/responseElements/credentials/accessKeyId"),
            s(r, "/responseElements/assumedRoleUser/arn"),
        ) && let Some(prev) = issued.insert(k, arn)
        {
            assert_eq!(prev, arn, "key {k} issued for two sessions");
        }
    }
    assert!(issued.len() > 100, "{} issued sessions", issued.len());
    let mut used = 0;
    for (_, r) in &recs {
        if s(r, "/userIdentity/type") != Some("AssumedRole") {
            continue;
        }
        if let Some(arn) = s(r, "/userIdentity/accessKeyId").and_then(|k| issued.get(k)) {
            assert_eq!(s(r, "/userIdentity/arn"), Some(*arn), "{r}");
            used += 1;
        }
    }
    assert!(used > 1000, "{used} calls with a key issued in the archive");
}
