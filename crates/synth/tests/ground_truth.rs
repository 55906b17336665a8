//! The ground truth agrees with a brute-force scan of the generated events:
//! the attacker's events are found from the attacker addresses alone (plus
//! every key those events issued), and everything the truth file claims is
//! recomputed from them — full recall, no extras.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use backtrail_model::identity::is_credential_issuing;
use backtrail_model::resource::{Context, resource_arns};
use backtrail_synth::truth::is_tamper;
use backtrail_synth::{GROUND_TRUTH_FILE, GroundTruth, Scenario};
use common::{fixture, fixture_records, s};
use serde_json::Value;

fn issued_key(r: &Value) -> Option<&str> {
    s(r, "/responseElements/credentials/accessKeyId")
        .or_else(|| s(r, "/responseElements/accessKey/accessKeyId"))
}

fn touched(r: &Value) -> Vec<String> {
    let arns: Vec<&str> = r["resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x["ARN"].as_str())
        .collect();
    let params: Vec<(&str, &str)> = r["requestParameters"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
        .collect();
    let ctx = Context {
        event_source: s(r, "/eventSource").unwrap(),
        region: s(r, "/awsRegion").unwrap(),
        account: s(r, "/recipientAccountId").unwrap(),
        partition: "aws",
    };
    resource_arns(&ctx, arns, &params)
}

#[test]
fn truth_file_on_disk_equals_report() {
    let f = fixture();
    let text = std::fs::read(f.root.join(GROUND_TRUTH_FILE)).unwrap();
    let on_disk: GroundTruth = serde_json::from_slice(&text).unwrap();
    assert_eq!(on_disk, f.report.truth);
    let names: Vec<&str> = on_disk
        .scenarios
        .iter()
        .map(|s| s.scenario.as_str())
        .collect();
    assert_eq!(names, Scenario::ALL.map(Scenario::name));
}

#[test]
fn ground_truth_matches_brute_force_scan() {
    let f = fixture();
    let records = fixture_records();
    let by_id: BTreeMap<&str, &Value> = records
        .iter()
        .map(|(_, r)| (s(r, "/eventID").unwrap(), *r))
        .collect();
    assert_eq!(
        by_id.len(),
        records.len(),
        "event ids are unique in the org trail"
    );
    let mut all_attack_ids = BTreeSet::new();
    for sc in &f.report.truth.scenarios {
        let ips: BTreeSet<&str> = sc.attacker_ips.iter().map(String::as_str).collect();
        // Seed: every event from an attacker address; then close over keys
        // those events issued.
        let mut attack: BTreeSet<&str> = records
            .iter()
            .filter(|(_, r)| s(r, "/sourceIPAddress").is_some_and(|ip| ips.contains(ip)))
            .map(|(_, r)| s(r, "/eventID").unwrap())
            .collect();
        loop {
            let keys: BTreeSet<&str> = attack
                .iter()
                .filter_map(|id| issued_key(by_id[id]))
                .collect();
            let more: Vec<&str> = records
                .iter()
                .filter(|(_, r)| {
                    s(r, "/userIdentity/accessKeyId").is_some_and(|k| keys.contains(k))
                })
                .map(|(_, r)| s(r, "/eventID").unwrap())
                .filter(|id| !attack.contains(id))
                .collect();
            if more.is_empty() {
                break;
            }
            attack.extend(more);
        }
        assert!(
            !attack.is_empty(),
            "{}: no attacker events found",
            sc.scenario
        );
        let want: BTreeSet<&str> = sc.attacker_event_ids.iter().map(String::as_str).collect();
        assert_eq!(attack, want, "{}: attacker events", sc.scenario);
        all_attack_ids.extend(attack.iter().copied());

        let resources: BTreeSet<String> = attack.iter().flat_map(|id| touched(by_id[id])).collect();
        let want: BTreeSet<String> = sc.resources_touched.iter().cloned().collect();
        assert_eq!(resources, want, "{}: resources touched", sc.scenario);

        let tamper: BTreeSet<(&str, &str)> = attack
            .iter()
            .map(|id| by_id[id])
            .filter(|r| is_tamper(s(r, "/eventSource").unwrap(), s(r, "/eventName").unwrap()))
            .map(|r| (s(r, "/eventName").unwrap(), s(r, "/eventID").unwrap()))
            .collect();
        let want: BTreeSet<(&str, &str)> = sc
            .tamper_events
            .iter()
            .map(|t| (t.event_name.as_str(), t.event_id.as_str()))
            .collect();
        assert_eq!(tamper, want, "{}: tamper events", sc.scenario);

        // Credentials the attacker obtained: issuing calls in the caller's copy.
        let issued: BTreeSet<&str> = attack
            .iter()
            .map(|id| by_id[id])
            .filter(|r| {
                is_credential_issuing(s(r, "/eventSource").unwrap(), s(r, "/eventName").unwrap())
            })
            .filter_map(issued_key)
            .collect();
        let want: BTreeSet<&str> = sc
            .assumptions
            .iter()
            .map(|a| a.issued_key.as_str())
            .collect();
        assert_eq!(issued, want, "{}: issued keys", sc.scenario);
        for a in &sc.assumptions {
            for id in &a.event_ids {
                let r = by_id[id.as_str()];
                assert_eq!(issued_key(r), Some(a.issued_key.as_str()));
                assert_eq!(s(r, "/sourceIPAddress"), Some(a.source_ip.as_str()));
                assert_eq!(s(r, "/sharedEventID"), a.shared_event_id.as_deref());
            }
        }

        // Every key the attacker signed with has a chain, and nothing else does.
        let used: BTreeSet<&str> = attack
            .iter()
            .map(|id| by_id[id])
            .filter(|r| s(r, "/userIdentity/type") != Some("AWSAccount"))
            .filter_map(|r| s(r, "/userIdentity/accessKeyId"))
            .filter(|k| !k.is_empty())
            .collect();
        let chained: BTreeSet<&str> = sc.chains.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(used, chained, "{}: chain keys", sc.scenario);
        for c in &sc.chains {
            assert_eq!(
                c.hops.last().and_then(|h| h.key.as_deref()),
                Some(c.key.as_str()),
                "{}: chain ends at its key",
                sc.scenario
            );
            for (i, h) in c.hops.iter().enumerate() {
                let r = by_id
                    .get(h.event_id.as_str())
                    .unwrap_or_else(|| panic!("{}: hop event {} missing", sc.scenario, h.event_id));
                assert_eq!(
                    s(r, "/sourceIPAddress"),
                    Some(h.source_ip.as_str()),
                    "{}: hop {i} address",
                    sc.scenario
                );
                assert_eq!(
                    s(r, "/eventTime"),
                    Some(h.time.as_str()),
                    "{}: hop {i} time",
                    sc.scenario
                );
                if i > 0 {
                    assert_eq!(
                        issued_key(r),
                        h.key.as_deref(),
                        "{}: hop {i} issued by its event",
                        sc.scenario
                    );
                }
            }
        }
        // Look-alikes exist and are not attacker events.
        assert!(
            !sc.lookalike_event_ids.is_empty(),
            "{}: no look-alikes",
            sc.scenario
        );
        for id in &sc.lookalike_event_ids {
            assert!(
                by_id.contains_key(id.as_str()) && !attack.contains(id.as_str()),
                "{}: look-alike {id}",
                sc.scenario
            );
        }
    }
    // Attacker activity is a tiny fraction, interleaved with everything
    // else: most attacker events share their delivery file with others.
    assert!((all_attack_ids.len() as f64) < 0.01 * records.len() as f64);
    let mut per_file: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for (file, r) in &records {
        let e = per_file.entry(file).or_default();
        if all_attack_ids.contains(s(r, "/eventID").unwrap()) {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let mixed: usize = per_file
        .values()
        .filter(|(a, o)| *a > 0 && *o > 0)
        .map(|(a, _)| a)
        .sum();
    assert!(
        mixed * 2 > all_attack_ids.len(),
        "{mixed} of {} attacker events share a file",
        all_attack_ids.len()
    );
}

#[test]
fn leaked_key_chain_crosses_three_accounts_and_stops_logging() {
    let f = fixture();
    let sc = f
        .report
        .truth
        .scenarios
        .iter()
        .find(|s| s.scenario == "leaked-key")
        .unwrap();
    let longest = sc.chains.iter().map(|c| c.hops.len()).max().unwrap();
    assert_eq!(longest, 3);
    let accounts: BTreeSet<&str> = sc
        .chains
        .iter()
        .flat_map(|c| &c.hops)
        .map(|h| h.identity_arn.split(':').nth(4).unwrap())
        .collect();
    assert_eq!(accounts.len(), 3, "{accounts:?}");
    for a in &sc.assumptions {
        assert_eq!(
            a.event_ids.len(),
            2,
            "cross-account AssumeRole is delivered to both accounts"
        );
        assert!(a.shared_event_id.is_some());
    }
    let names: BTreeSet<&str> = sc
        .tamper_events
        .iter()
        .map(|t| t.event_name.as_str())
        .collect();
    for n in [
        "ScheduleKeyDeletion",
        "DeleteRecoveryPoint",
        "StopLogging",
        "DeleteTrail",
    ] {
        assert!(names.contains(n), "{n}");
    }
}
