//! Scenarios about stolen credentials: a leaked long-term key that chains
//! roles across accounts, and instance-profile credentials used from outside.

use super::{CLI, chain_accounts, hop, user_named};
use crate::actor::{Actor, SDK_AGENTS};
use crate::calls::*;
use crate::org::RoleKind;
use crate::planner::{Mode, Planner, Spec, obj};
use crate::shapes::{ExpiryForm, object_key, session_arn, write_role_credentials};
use crate::time::{HOUR, MIN, SEC};
use crate::truth::Chain;

pub(super) fn leaked_key(p: &mut Planner<'_>, idx: usize, t0: i64, ips: &[String]) {
    let (a, b, c) = chain_accounts(p);
    let region = p.org.regions[0].clone();
    let ip = ips[0].clone();
    let user = user_named(p, a, "svc-deploy");
    let attacker = p.user(a, user, &ip, CLI);
    let uarn = attacker.arn.clone();
    let ukey = attacker.key.clone();
    p.mode = Mode::Attacker(idx);
    let first = p.emit(whoami(a, &region, t0, &attacker));
    let mut s = Spec::new(
        a,
        "us-east-1",
        t0 + 40 * SEC,
        &attacker,
        "iam.amazonaws.com",
        "GetAccountAuthorizationDetails",
        true,
    );
    s.error = Some((
        "AccessDenied",
        "User is not authorized to perform: iam:GetAccountAuthorizationDetails",
    ));
    p.emit(s);
    let rb = p.org.role_of(b, RoleKind::Ci) + 1;
    let (sb, ab) = p.assume_role(
        &attacker,
        a,
        b,
        rb,
        "deploy",
        t0 + 3 * MIN,
        &region,
        ExpiryForm::Console,
    );
    p.emit(whoami(b, &region, t0 + 3 * MIN + 20 * SEC, &sb));
    let rc = p.org.role_of(c, RoleKind::OrgAccess);
    let (mut sc, ac) = p.assume_role(
        &sb,
        b,
        c,
        rc,
        "admin",
        t0 + 5 * MIN,
        &region,
        ExpiryForm::Iso,
    );
    // The session is then used from a second address.
    sc.ip = ips[1].clone();
    let mut t = t0 + 6 * MIN;
    let buckets = p.org.accounts[c].buckets.clone();
    p.emit(s3_list_buckets(c, &region, t, &sc));
    for bucket in buckets.iter().take(2) {
        t += 30 * SEC;
        p.emit(s3_list(c, &region, t, &sc, bucket, ""));
        for _ in 0..4 {
            t += 7 * SEC + p.rng.below(20) as i64 * SEC;
            let key = object_key(&mut p.rng, bucket, "2025-03-09");
            let s = s3_object(p, c, &region, t, &sc, "GetObject", bucket, &key);
            p.emit(s);
        }
    }
    t += MIN;
    p.emit(list_secrets(c, &region, t, &sc));
    let secrets = p.org.accounts[c].regional[0].secrets.clone();
    for s in secrets.iter().take(3) {
        t += 15 * SEC;
        let spec = get_secret(p, c, &region, t, &sc, s);
        p.emit(spec);
    }
    let keys = p.org.accounts[c].regional[0].kms_keys.clone();
    for k in keys.iter().take(2) {
        t += 40 * SEC;
        let s = schedule_key_deletion(p, c, &region, t, &sc, k, 7);
        p.emit(s);
    }
    t += MIN;
    let s = list_recovery_points(p, c, &region, t, &sc);
    p.emit(s);
    for _ in 0..3 {
        t += 10 * SEC;
        let s = delete_recovery_point(p, c, &region, t, &sc);
        p.emit(s);
    }
    t += MIN;
    p.emit(trail_call(c, &region, t, &sc, "DescribeTrails", ""));
    t += 20 * SEC;
    p.emit(trail_call(
        c,
        &region,
        t,
        &sc,
        "StopLogging",
        "account-trail",
    ));
    p.trail_stops.push((c, t));
    t += 90 * SEC;
    p.emit(trail_call(
        c,
        &region,
        t,
        &sc,
        "DeleteTrail",
        "account-trail",
    ));

    let root = hop(&uarn, Some(&ukey), &ip, t0, &first);
    let hb = hop(
        &ab.session_arn,
        Some(&ab.issued_key),
        &ab.source_ip,
        t0 + 3 * MIN,
        &ab.event_ids[0],
    );
    let hc = hop(
        &ac.session_arn,
        Some(&ac.issued_key),
        &ac.source_ip,
        t0 + 5 * MIN,
        &ac.event_ids[0],
    );
    let kind = "IAMUser long-term key".to_owned();
    let truth = &mut p.truth[idx];
    truth.chains = vec![
        Chain {
            key: ukey.clone(),
            root_kind: kind.clone(),
            hops: vec![root.clone()],
        },
        Chain {
            key: ab.issued_key.clone(),
            root_kind: kind.clone(),
            hops: vec![root.clone(), hb.clone()],
        },
        Chain {
            key: ac.issued_key.clone(),
            root_kind: kind,
            hops: vec![root, hb, hc],
        },
    ];
    truth.assumptions = vec![ab, ac];

    // Look-alikes: a planned key deletion by Terraform in the sandbox-like
    // account A, and a lifecycle recovery-point deletion in C.
    p.mode = Mode::Lookalike(idx);
    let corp = p.org.corp_ips[4].clone();
    let tf_role = p.org.role_of(a, RoleKind::Ci) + 1;
    let tf = p.session(
        a,
        tf_role,
        "terraform-destroy",
        &p.rng.clone().aws_id("ASIA"),
        t0 - 3 * HOUR,
        &corp,
        SDK_AGENTS[6],
    );
    let k = p.org.accounts[a].regional[0].kms_keys[2].clone();
    let s = schedule_key_deletion(p, a, &region, t0 - 3 * HOUR + 30 * SEC, &tf, &k, 30);
    p.emit(s);
    let mut backup = Actor::default();
    backup.set_service("backup.amazonaws.com");
    let s = delete_recovery_point(p, c, &region, t0 - 40 * MIN, &backup);
    p.emit(s);
}

pub(super) fn stolen_instance(p: &mut Planner<'_>, idx: usize, t1: i64, ips: &[String]) {
    let n = p.org.accounts.len();
    let acct = 3 % n;
    let region = p.org.regions[0].clone();
    let inst = p.org.accounts[acct]
        .instances
        .iter()
        .find(|i| i.region == 0)
        .cloned();
    let Some(inst) = inst else { return };
    let role = inst.role;
    let (role_arn, role_name, role_pid) = {
        let r = &p.org.accounts[acct].roles[role];
        (r.arn.clone(), r.name.clone(), r.principal_id.clone())
    };
    let acct_id = p.org.accounts[acct].id.clone();
    let key = p.rng.aws_id("ASIA");
    let t_issue = t1 - 25 * MIN;
    let sarn = session_arn(&acct_id, &role_name, &inst.id);
    // The delivery by EC2 (the chain's root), benign in itself.
    p.mode = Mode::Benign;
    let mut ec2 = Actor::default();
    ec2.set_service("ec2.amazonaws.com");
    let mut tok = crate::rng::Rng::new(p.rng.next_u64());
    let mut s = Spec::new(
        acct,
        &region,
        t_issue,
        &ec2,
        "sts.amazonaws.com",
        "AssumeRole",
        true,
    )
    .req(|w| {
        w.field("roleArn", &role_arn);
        w.field("roleSessionName", &inst.id);
    })
    .resource("AWS::IAM::Role", role_arn.clone(), true);
    s.response = Some(obj(|w| {
        write_role_credentials(
            w,
            &mut tok,
            &key,
            t_issue + 6 * HOUR,
            ExpiryForm::Console,
            &role_pid,
            &sarn,
            &inst.id,
        )
    }));
    s.shared = Some(p.rng.uuid());
    let issue_id = p.emit(s);
    let mut session = p.session(acct, role, &inst.id, &key, t_issue, &inst.ip, SDK_AGENTS[2]);
    session.ec2_delivery = Some("2.0");
    // The instance's own use, from its address (look-alike).
    p.mode = Mode::Lookalike(idx);
    let bucket = p.org.accounts[acct].buckets[0].clone();
    for i in 0..6 {
        let t = t_issue + 2 * MIN + i * 7 * MIN;
        let k = object_key(&mut p.rng, &bucket, "2025-03-10");
        let s = s3_object(p, acct, &region, t, &session, "GetObject", &bucket, &k);
        p.emit(s);
    }
    p.emit(ec2_read(
        acct,
        &region,
        t_issue + 5 * MIN,
        &session,
        "DescribeInstances",
    ));
    // The attacker, from outside.
    p.mode = Mode::Attacker(idx);
    let mut stolen = session.clone();
    stolen.ip = ips[0].clone();
    stolen.agent = CLI;
    p.emit(whoami(acct, &region, t1, &stolen));
    let mut t = t1 + 40 * SEC;
    p.emit(s3_list_buckets(acct, &region, t, &stolen));
    t += 30 * SEC;
    p.emit(s3_list(acct, &region, t, &stolen, &bucket, "warehouse/"));
    for _ in 0..5 {
        t += 11 * SEC;
        let k = object_key(&mut p.rng, &bucket, "2025-03-09");
        let s = s3_object(p, acct, &region, t, &stolen, "GetObject", &bucket, &k);
        p.emit(s);
    }
    t += 20 * SEC;
    p.emit(ec2_read(acct, &region, t, &stolen, "DescribeInstances"));
    t += 20 * SEC;
    let secret = p.org.accounts[acct].regional[0].secrets[0].clone();
    let mut s = get_secret(p, acct, &region, t, &stolen, &secret);
    s.error = Some((
        "AccessDenied",
        "User is not authorized to perform: secretsmanager:GetSecretValue",
    ));
    p.emit(s);
    let root = hop(
        "ec2.amazonaws.com",
        None,
        "ec2.amazonaws.com",
        t_issue,
        &issue_id,
    );
    let h = hop(&sarn, Some(&key), "ec2.amazonaws.com", t_issue, &issue_id);
    p.truth[idx].chains = vec![Chain {
        key,
        root_kind: "AWSService ec2.amazonaws.com".into(),
        hops: vec![root, h],
    }];
}
