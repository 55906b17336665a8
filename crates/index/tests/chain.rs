//! Hand-made chains: a 3-hop cross-account chain back to a long-term user
//! key, a missing link, a cycle, resolution by session and time, and chains
//! from an IP and from a session ARN. Plus the JSON field names.

mod common;

use backtrail_index::testkit::{TestEvent, write_dataset};
use backtrail_index::{
    BuildOptions, Chain, Filter, HopKind, Index, PathStatus, Resolution, StartKind, build,
};

const T0: i64 = 1_717_200_000_000_000; // 2024-06-01T00:00:00Z
const MIN: i64 = 60_000_000;

fn use_ev(t: i64, principal: &str, ptype: &str, key: &str, ip: &str) -> TestEvent {
    TestEvent {
        event_time: Some(t),
        event_id: Some(format!("id-{t}")),
        event_source: Some("s3.amazonaws.com".into()),
        event_name: Some("GetObject".into()),
        aws_region: Some("us-east-1".into()),
        recipient_account_id: principal.split(':').nth(4).map(str::to_owned),
        source_ip: Some(ip.into()),
        user_agent: Some("aws-cli/2".into()),
        principal_arn: Some(principal.into()),
        principal_type: Some(ptype.into()),
        access_key_id: (!key.is_empty()).then(|| key.to_owned()),
        mfa: Some(false),
        resource_arns: vec!["arn:aws:s3:::crown-jewels/data.csv".into()],
        ..TestEvent::default()
    }
}

fn session(acct: &str, role: &str, name: &str) -> String {
    format!("arn:aws:sts::{acct}:assumed-role/{role}/{name}")
}

#[allow(clippy::too_many_arguments)]
fn assume(
    t: i64,
    caller: &str,
    ctype: &str,
    ckey: &str,
    ip: &str,
    target_acct: &str,
    role: &str,
    name: &str,
    issued: Option<&str>,
) -> TestEvent {
    TestEvent {
        event_source: Some("sts.amazonaws.com".into()),
        event_name: Some("AssumeRole".into()),
        recipient_account_id: Some(target_acct.into()),
        target_role_arn: Some(format!("arn:aws:iam::{target_acct}:role/{role}")),
        target_session_name: Some(name.into()),
        issued_key: issued.map(str::to_owned),
        issued_session_arn: Some(session(target_acct, role, name)),
        expiration: Some(t + 60 * MIN),
        expiration_raw: Some("Jun 1, 2024, 1:00:00 AM".into()),
        resource_arns: vec![],
        ..use_ev(t, caller, ctype, ckey, ip)
    }
}

fn open(events: &[TestEvent]) -> (tempfile::TempDir, Index, common::Brute) {
    let dir = tempfile::tempdir().unwrap();
    write_dataset(dir.path(), events, 3).unwrap();
    build(dir.path(), None, &BuildOptions::new()).unwrap();
    let index = Index::open(dir.path()).unwrap();
    (dir, index, common::Brute::new(events))
}

fn kinds(c: &Chain) -> Vec<Vec<HopKind>> {
    c.paths
        .iter()
        .map(|p| p.hops.iter().map(|h| h.hop).collect())
        .collect()
}

const ALICE: &str = "arn:aws:iam::111111111111:user/alice";
const AKIA: &str = "AKIAALICE00000000001";
const K1: &str = "ASIAHOPONE0000000001";
const K2: &str = "ASIAHOPTWO0000000002";
const K3: &str = "ASIAHOPTHREE00000003";

fn three_hops() -> Vec<TestEvent> {
    let s1 = session("222222222222", "Deploy", "a1");
    let s2 = session("333333333333", "Audit", "a2");
    let s3 = session("444444444444", "Admin", "a3");
    vec![
        use_ev(T0, ALICE, "IAMUser", AKIA, "192.0.2.10"),
        assume(
            T0 + MIN,
            ALICE,
            "IAMUser",
            AKIA,
            "192.0.2.10",
            "222222222222",
            "Deploy",
            "a1",
            Some(K1),
        ),
        assume(
            T0 + 2 * MIN,
            &s1,
            "AssumedRole",
            K1,
            "192.0.2.11",
            "333333333333",
            "Audit",
            "a2",
            Some(K2),
        ),
        assume(
            T0 + 3 * MIN,
            &s2,
            "AssumedRole",
            K2,
            "192.0.2.12",
            "444444444444",
            "Admin",
            "a3",
            Some(K3),
        ),
        use_ev(T0 + 4 * MIN, &s3, "AssumedRole", K3, "198.51.100.9"),
        use_ev(T0 + 5 * MIN, &s3, "AssumedRole", K3, "198.51.100.9"),
    ]
}

#[test]
fn three_hop_cross_account_chain_to_a_user_key() {
    let events = three_hops();
    let (_d, index, brute) = open(&events);
    let c = index.chain(K3, &Filter::default()).unwrap();
    assert_eq!(c, brute.chain(K3, &Filter::default()));
    assert_eq!(c.start_kind, StartKind::Key);
    assert_eq!(
        kinds(&c),
        vec![vec![
            HopKind::Root,
            HopKind::Issue,
            HopKind::Issue,
            HopKind::Issue
        ]]
    );
    let p = &c.paths[0];
    assert_eq!(p.status, PathStatus::Complete);
    assert_eq!(p.hops[0].root_of_trust.as_deref(), Some("long_term_key"));
    assert_eq!(p.hops[0].row.event.access_key_id.as_deref(), Some(AKIA));
    assert_eq!(
        p.hops[0].row.event.event_time,
        Some(T0),
        "root is the key's first use"
    );
    let issued: Vec<_> = p.hops[1..]
        .iter()
        .map(|h| h.row.issued_key.as_deref().unwrap())
        .collect();
    assert_eq!(issued, [K1, K2, K3]);
    let accounts: Vec<_> = p.hops[1..]
        .iter()
        .map(|h| h.row.event.recipient_account_id.as_deref().unwrap())
        .collect();
    assert_eq!(accounts, ["222222222222", "333333333333", "444444444444"]);
    assert!(
        p.hops[1..]
            .iter()
            .all(|h| h.resolved_by == Some(Resolution::Key))
    );
    assert_eq!(p.hops[3].row.event.source_ip.as_deref(), Some("192.0.2.12"));
    assert_eq!(p.hops[3].row.event.user_agent.as_deref(), Some("aws-cli/2"));
    assert_eq!(p.hops[3].row.mfa, Some(false));

    // From the session ARN: the same path.
    let s3 = session("444444444444", "Admin", "a3");
    let by_session = index.chain(&s3, &Filter::default()).unwrap();
    assert_eq!(by_session.start_kind, StartKind::Session);
    assert_eq!(by_session.paths, c.paths);
    assert_eq!(by_session, brute.chain(&s3, &Filter::default()));

    // From the attacker's IP: K3 was first used there.
    let by_ip = index.chain("198.51.100.9", &Filter::default()).unwrap();
    assert_eq!(by_ip.start_kind, StartKind::Ip);
    assert_eq!(by_ip.paths, c.paths);
    // The IP's keys can be filtered by time of first use.
    let later = Filter {
        from: Some(T0 + 10 * MIN),
        ..Filter::default()
    };
    assert!(
        index
            .chain("198.51.100.9", &later)
            .unwrap()
            .paths
            .is_empty()
    );
    // An IP that used several keys first gives a chain for each.
    let alice_ip = index.chain("192.0.2.10", &Filter::default()).unwrap();
    assert_eq!(
        alice_ip
            .paths
            .iter()
            .map(|p| p.key.as_deref().unwrap())
            .collect::<Vec<_>>(),
        [AKIA]
    );
    let k1_ip = index.chain("192.0.2.11", &Filter::default()).unwrap();
    assert_eq!(k1_ip, brute.chain("192.0.2.11", &Filter::default()));
}

#[test]
fn missing_links_are_reported_not_guessed() {
    let ghost = session("555555555555", "Ghost", "g");
    let mid = session("666666666666", "Mid", "m");
    let events = vec![
        // A session key whose issuing event is outside the archive.
        use_ev(
            T0,
            &ghost,
            "AssumedRole",
            "ASIAGHOST00000000001",
            "192.0.2.50",
        ),
        // It issues another key: chain from that key ends at a missing link.
        assume(
            T0 + MIN,
            &ghost,
            "AssumedRole",
            "ASIAGHOST00000000001",
            "192.0.2.50",
            "666666666666",
            "Mid",
            "m",
            Some("ASIAMID0000000000001"),
        ),
        use_ev(
            T0 + 2 * MIN,
            &mid,
            "AssumedRole",
            "ASIAMID0000000000001",
            "192.0.2.51",
        ),
    ];
    let (_d, index, brute) = open(&events);
    let c = index
        .chain("ASIAGHOST00000000001", &Filter::default())
        .unwrap();
    assert_eq!(c, brute.chain("ASIAGHOST00000000001", &Filter::default()));
    assert_eq!(kinds(&c), vec![vec![HopKind::MissingLink]]);
    assert_eq!(c.paths[0].status, PathStatus::MissingLink);
    assert_eq!(c.paths[0].hops[0].row.event.event_time, Some(T0));

    let c = index
        .chain("ASIAMID0000000000001", &Filter::default())
        .unwrap();
    assert_eq!(c, brute.chain("ASIAMID0000000000001", &Filter::default()));
    assert_eq!(kinds(&c), vec![vec![HopKind::MissingLink, HopKind::Issue]]);

    // A key nobody used or issued: no path at all.
    assert!(
        index
            .chain("ASIANOBODY0000000001", &Filter::default())
            .unwrap()
            .paths
            .is_empty()
    );
    // A session seen acting but never issued: one missing-link path.
    let c = index.chain(&ghost, &Filter::default()).unwrap();
    assert_eq!(c, brute.chain(&ghost, &Filter::default()));
    assert_eq!(c.paths[0].status, PathStatus::MissingLink);
    assert_eq!(
        c.paths[0].hops[0].row.event.principal_arn.as_deref(),
        Some(ghost.as_str())
    );
}

#[test]
fn cycles_are_reported() {
    let a = session("111111111111", "A", "a");
    let b = session("111111111111", "B", "b");
    let ka = "ASIACYCLEA0000000001";
    let kb = "ASIACYCLEB0000000002";
    let events = vec![
        assume(
            T0,
            &b,
            "AssumedRole",
            kb,
            "192.0.2.1",
            "111111111111",
            "A",
            "a",
            Some(ka),
        ),
        assume(
            T0 + MIN,
            &a,
            "AssumedRole",
            ka,
            "192.0.2.2",
            "111111111111",
            "B",
            "b",
            Some(kb),
        ),
        use_ev(T0 + 2 * MIN, &a, "AssumedRole", ka, "192.0.2.2"),
    ];
    let (_d, index, brute) = open(&events);
    let c = index.chain(ka, &Filter::default()).unwrap();
    assert_eq!(c, brute.chain(ka, &Filter::default()));
    assert_eq!(
        kinds(&c),
        vec![vec![HopKind::Cycle, HopKind::Issue, HopKind::Issue]]
    );
    assert_eq!(c.paths[0].status, PathStatus::Cycle);
    assert_eq!(
        c.paths[0].hops[0].row.event.access_key_id.as_deref(),
        Some(ka)
    );
}

#[test]
fn session_reissued_resolves_by_latest_issuance_before_use() {
    let user = "arn:aws:iam::111111111111:user/ops";
    let ukey = "AKIAOPS0000000000001";
    let s = session("222222222222", "Batch", "nightly");
    let k = "ASIABATCH00000000001";
    let events = vec![
        // Two issuances of the same session ARN whose keys were not recorded.
        assume(
            T0,
            user,
            "IAMUser",
            ukey,
            "192.0.2.1",
            "222222222222",
            "Batch",
            "nightly",
            None,
        ),
        assume(
            T0 + 10 * MIN,
            user,
            "IAMUser",
            ukey,
            "192.0.2.2",
            "222222222222",
            "Batch",
            "nightly",
            None,
        ),
        use_ev(T0 + 12 * MIN, &s, "AssumedRole", k, "192.0.2.2"),
        assume(
            T0 + 20 * MIN,
            user,
            "IAMUser",
            ukey,
            "192.0.2.3",
            "222222222222",
            "Batch",
            "nightly",
            None,
        ),
    ];
    let (_d, index, brute) = open(&events);
    let c = index.chain(k, &Filter::default()).unwrap();
    assert_eq!(c, brute.chain(k, &Filter::default()));
    assert_eq!(kinds(&c), vec![vec![HopKind::Root, HopKind::Issue]]);
    let hop = &c.paths[0].hops[1];
    assert_eq!(hop.resolved_by, Some(Resolution::SessionTime));
    assert_eq!(
        hop.row.event.event_time,
        Some(T0 + 10 * MIN),
        "latest issuance before the use"
    );
    // From the session ARN: one path per issuance (none issued a key).
    let c = index.chain(&s, &Filter::default()).unwrap();
    assert_eq!(c, brute.chain(&s, &Filter::default()));
    assert_eq!(c.paths.len(), 3);
}

#[test]
fn saml_caller_is_a_root_of_trust() {
    let saml = TestEvent {
        event_name: Some("AssumeRoleWithSAML".into()),
        ..assume(
            T0,
            "arn:aws:iam::111111111111:saml-provider/Okta",
            "SAMLUser",
            "",
            "192.0.2.9",
            "111111111111",
            "SSO",
            "bob",
            Some("ASIASAML000000000001"),
        )
    };
    let events = vec![
        saml,
        use_ev(
            T0 + MIN,
            &session("111111111111", "SSO", "bob"),
            "AssumedRole",
            "ASIASAML000000000001",
            "192.0.2.9",
        ),
    ];
    let (_d, index, brute) = open(&events);
    let c = index
        .chain("ASIASAML000000000001", &Filter::default())
        .unwrap();
    assert_eq!(c, brute.chain("ASIASAML000000000001", &Filter::default()));
    assert_eq!(kinds(&c), vec![vec![HopKind::Root, HopKind::Issue]]);
    assert_eq!(c.paths[0].hops[0].root_of_trust.as_deref(), Some("saml"));
}

#[test]
fn json_field_names_are_the_documented_ones() {
    let (_d, index, _) = open(&three_hops());
    let rows = index
        .who_assumed(
            &backtrail_index::WhoAssumed {
                role: "Audit".into(),
                by: None,
            },
            &Filter::default(),
        )
        .unwrap();
    assert_eq!(rows.len(), 1);
    let v = serde_json::to_value(&rows[0]).unwrap();
    let mut keys: Vec<_> = v.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    let mut want = vec![
        "event_time",
        "event_id",
        "event_source",
        "event_name",
        "aws_region",
        "recipient_account_id",
        "principal_arn",
        "principal_type",
        "access_key_id",
        "source_ip",
        "user_agent",
        "error_code",
        "role_arn",
        "caller_arn",
        "caller_key",
        "session_name",
        "source_identity",
        "mfa",
        "issued_key",
        "session_arn",
        "expiration",
        "expiration_raw",
    ];
    want.sort();
    assert_eq!(keys, want);
    assert_eq!(v["event_time"], "2024-06-01T00:02:00Z");
    assert_eq!(v["expiration"], "2024-06-01T01:02:00Z");
    let t = index.touched("crown-jewels", &Filter::default()).unwrap();
    assert_eq!(t.len(), 3);
    let v = serde_json::to_value(&t[0]).unwrap();
    assert_eq!(v["resource_arn"], "arn:aws:s3:::crown-jewels/data.csv");
    assert_eq!(v["source_ip"], "192.0.2.10");
    let s = index
        .sessions(&Default::default(), &Filter::default())
        .unwrap();
    let k3 = s.iter().find(|r| r.issued_key == K3).unwrap();
    assert_eq!(
        (k3.calls, k3.used_from_other_ip, k3.used_after_expiry),
        (2, true, false)
    );
    let v = serde_json::to_value(k3).unwrap();
    assert_eq!(v["first_use"], "2024-06-01T00:04:00Z");
    assert_eq!(v["source_ips"], serde_json::json!(["198.51.100.9"]));
}

/// A cross-account AssumeRole is delivered to both accounts with the same
/// time: the role owner's copy names the caller only as `AWSAccount` with
/// no key. Whatever the dataset order, the chain follows the caller's copy
/// back to the long-term key, not to the account.
#[test]
fn cross_account_copy_without_key_does_not_end_the_chain() {
    let t = T0 + 10 * MIN;
    let owner_copy = TestEvent {
        event_id: Some("owner-copy".into()),
        ..assume(
            t,
            "arn:aws:iam::111111111111:root",
            "AWSAccount",
            "",
            "198.51.100.9",
            "222222222222",
            "Deploy",
            "x",
            Some("ASIAXACCOUNTCOPY0001"),
        )
    };
    let caller_copy = TestEvent {
        event_id: Some("caller-copy".into()),
        ..assume(
            t,
            ALICE,
            "IAMUser",
            "AKIAALICE00000000001",
            "198.51.100.9",
            "222222222222",
            "Deploy",
            "x",
            Some("ASIAXACCOUNTCOPY0001"),
        )
    };
    let first_use = use_ev(T0, ALICE, "IAMUser", "AKIAALICE00000000001", "198.51.100.9");
    let later_use = use_ev(
        t + MIN,
        &session("222222222222", "Deploy", "x"),
        "AssumedRole",
        "ASIAXACCOUNTCOPY0001",
        "198.51.100.9",
    );
    for events in [
        vec![
            first_use.clone(),
            owner_copy.clone(),
            caller_copy.clone(),
            later_use.clone(),
        ],
        vec![
            first_use.clone(),
            caller_copy.clone(),
            owner_copy.clone(),
            later_use.clone(),
        ],
    ] {
        let (_d, index, brute) = open(&events);
        let c = index
            .chain("ASIAXACCOUNTCOPY0001", &Filter::default())
            .unwrap();
        assert_eq!(c, brute.chain("ASIAXACCOUNTCOPY0001", &Filter::default()));
        assert_eq!(kinds(&c), vec![vec![HopKind::Root, HopKind::Issue]]);
        assert_eq!(c.paths[0].status, PathStatus::Complete);
        assert_eq!(
            c.paths[0].hops[1].row.event.event_id.as_deref(),
            Some("caller-copy")
        );
    }
}
