//! Every scenario the generator embeds, reconstructed by the queries and
//! compared with its ground truth: the chain behind every attacker key hop
//! for hop (full recall, no false hops), every credential the attacker
//! obtained found by `who-assumed`, every resource found by `touched`, and
//! every tamper call in the attacker keys' timelines. Plus the real corpus:
//! a stolen instance-profile key whose issuing event is outside the archive
//! is reported as a missing link, never guessed.

mod common;
use common::*;

use std::collections::BTreeSet;

use serde_json::Value;

fn query(data: &std::path::Path, args: &[&str]) -> Vec<Value> {
    let mut a: Vec<&str> = args.to_vec();
    a.extend(["--format", "json", "--data", s(data)]);
    json_lines(&ok(&a))
}

fn strs<'a>(v: &'a Value, key: &str) -> BTreeSet<&'a str> {
    v[key]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

#[test]
fn every_scenario_is_reconstructed_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    ok(&[
        "gen",
        "--out",
        s(&root),
        "--events",
        "30000",
        "--seed",
        "11",
    ]);
    let data = dir.path().join("data");
    let sum = summary(&ok(&[
        "ingest",
        s(&root.join("AWSLogs")),
        "--out",
        s(&data),
        "--json",
        "--quiet",
    ]));
    assert!(
        sum["quarantined"].as_array().unwrap().is_empty(),
        "generated files never quarantine: {sum}"
    );
    let truth: Value =
        serde_json::from_slice(&std::fs::read(root.join("ground-truth.json")).unwrap()).unwrap();
    let scenarios = truth["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 5);

    for sc in scenarios {
        let name = sc["scenario"].as_str().unwrap();
        let attacker_ids = strs(sc, "attacker_event_ids");

        // Chains: hop for hop.
        let mut attacker_keys = BTreeSet::new();
        for c in sc["chains"].as_array().unwrap() {
            let key = c["key"].as_str().unwrap();
            // Keys issued along the chain are the attacker's alone; the
            // root's long-term key also serves its legitimate owner.
            for h in c["hops"].as_array().unwrap().iter().skip(1) {
                attacker_keys.extend(h["key"].as_str().map(str::to_owned));
            }
            let want: Vec<Option<&str>> = c["hops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| h["key"].as_str())
                .collect();
            let rows = query(&data, &["chain", key]);
            let got: Vec<Option<&str>> = rows
                .iter()
                .map(|h| match h["hop"].as_str() {
                    Some("root") => h["access_key_id"].as_str(),
                    Some("issue") => h["issued_key"].as_str(),
                    other => panic!("{name}: chain of {key} has a {other:?} hop: {rows:#?}"),
                })
                .collect();
            assert_eq!(got, want, "{name}: chain of {key}");
            assert!(
                rows.iter().all(|r| r["path_status"] == "complete"),
                "{name}: {key} chain complete"
            );
            let want_issue_ids: Vec<&str> = c["hops"]
                .as_array()
                .unwrap()
                .iter()
                .skip(1)
                .filter_map(|h| h["event_id"].as_str())
                .collect();
            let got_issue_ids: Vec<&str> = rows
                .iter()
                .filter(|r| r["hop"] == "issue")
                .filter_map(|r| r["event_id"].as_str())
                .collect();
            assert_eq!(
                got_issue_ids, want_issue_ids,
                "{name}: issuing events of {key}"
            );
        }

        // Credentials obtained: each found by who-assumed, with caller,
        // address and issued key.
        for a in sc["assumptions"].as_array().unwrap() {
            let role = a["role_arn"].as_str().unwrap();
            let ids = strs(a, "event_ids");
            let rows = query(&data, &["who-assumed", role]);
            let hit = rows.iter().find(|r| {
                r["event_id"].as_str().is_some_and(|id| ids.contains(id))
                    && r["caller_arn"] == a["actor"]
            });
            let Some(hit) = hit else {
                // CreateAccessKey "assumes" a user, not a role: found by timeline instead.
                assert_eq!(
                    a["event_name"], "CreateAccessKey",
                    "{name}: {a} not in who-assumed {role}"
                );
                continue;
            };
            assert_eq!(hit["issued_key"], a["issued_key"], "{name}");
            assert_eq!(hit["source_ip"], a["source_ip"], "{name}");
            attacker_keys.insert(a["issued_key"].as_str().unwrap().to_owned());
        }

        // Resources: every one the attacker touched is found, by an
        // attacker event.
        for r in strs(sc, "resources_touched") {
            let rows = query(&data, &["touched", r]);
            assert!(
                rows.iter().any(|row| row["event_id"]
                    .as_str()
                    .is_some_and(|id| attacker_ids.contains(id))),
                "{name}: touched {r} finds no attacker event"
            );
        }

        // Tamper calls: in the timelines of the attacker's keys.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for k in &attacker_keys {
            for row in query(&data, &["timeline", "--key", k]) {
                seen.insert(row["event_id"].as_str().unwrap_or_default().to_owned());
            }
        }
        // Addresses are the attacker's alone (a stolen key may also serve
        // its owner, an address does not): nothing from the benign
        // look-alikes may show up there.
        let lookalikes = strs(sc, "lookalike_event_ids");
        for ip in strs(sc, "attacker_ips") {
            for row in query(&data, &["timeline", "--ip", ip]) {
                let id = row["event_id"].as_str().unwrap_or_default();
                assert!(
                    !lookalikes.contains(id),
                    "{name}: look-alike {id} in timeline --ip {ip}"
                );
                seen.insert(id.to_owned());
            }
        }
        for t in sc["tamper_events"].as_array().unwrap() {
            let id = t["event_id"].as_str().unwrap();
            assert!(
                seen.contains(id),
                "{name}: tamper event {t} not in the attacker's timelines"
            );
        }
    }
}

#[test]
fn real_stolen_instance_credentials_end_at_a_missing_link() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = corpus
        .join("stratus-red-team/detonation-logs/aws.credential-access.ec2-steal-instance-credentials.json");
    ok(&["ingest", s(&file), "--out", s(&data), "--quiet"]);
    // The attacker's calls come from outside AWS with the instance role's
    // session key; the AssumeRole by ec2.amazonaws.com that issued it is
    // not in this detonation log.
    let rows = query(&data, &["timeline", "--ip", "18.236.253.47"]);
    assert!(!rows.is_empty(), "the outside IP's calls are found");
    // The operator's own IAM user calls come from the same address; the
    // stolen session is the AssumedRole one.
    let stolen = rows
        .iter()
        .find(|r| r["principal_type"] == "AssumedRole")
        .expect("stolen session used");
    let key = stolen["access_key_id"].as_str().unwrap().to_owned();
    assert!(key.starts_with("ASIA"));
    let chain = query(&data, &["chain", &key]);
    assert!(!chain.is_empty());
    assert!(
        chain.iter().all(|h| h["path_status"] == "missing_link"),
        "issuing event outside the archive is a missing link: {chain:#?}"
    );
    assert_eq!(chain[0]["hop"], "missing_link");
}

#[test]
fn real_federated_sessions_are_roots_of_trust() {
    let Some(corpus) = corpus() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    ok(&[
        "ingest",
        s(&corpus.join("awsdocs")),
        "--out",
        s(&data),
        "--quiet",
    ]);
    // AWS's documented AssumeRoleWithSAML and AssumeRoleWithWebIdentity
    // records: who-assumed finds each by role name, and the key each issued
    // chains back to the federated identity, a root of trust.
    for (role, key, root) in [
        ("SAMLTestRoleShibboleth", "AKIAIOSFODNN7EXAMPLE", "saml"),
        (
            "FederatedWebIdentityRole",
            "ASIACQRSTUVWRAOEXAMPLE",
            "web_identity",
        ),
    ] {
        let rows = query(&data, &["who-assumed", role]);
        assert!(
            rows.iter().any(|r| r["issued_key"] == key),
            "{role}: {rows:#?}"
        );
        let chain = query(&data, &["chain", key]);
        assert_eq!(chain[0]["hop"], "root", "{role}: {chain:#?}");
        assert_eq!(chain[0]["root_of_trust"], root, "{role}");
        assert!(chain.iter().all(|h| h["path_status"] == "complete"));
    }
}
