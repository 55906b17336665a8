//! Scenarios about what a foothold does: console privilege escalation
//! without MFA, instances in an unapproved region, a federated session
//! reading secrets and opening a bucket.

use super::{CLI, hop, user_named};
use crate::actor::{Actor, CONSOLE_AGENTS, SDK_AGENTS};
use crate::calls::*;
use crate::config::GenConfig;
use crate::org::RoleKind;
use crate::planner::{Mode, Planner, Spec, obj};
use crate::shapes::{ExpiryForm, object_key, session_arn, write_role_credentials};
use crate::time::{HOUR, MIN, SEC, event_time};
use crate::truth::{Assumption, Chain};

pub(super) fn console_no_mfa(p: &mut Planner<'_>, idx: usize, t2: i64, ips: &[String]) {
    let n = p.org.accounts.len();
    let acct = 4 % n;
    let ip = ips[0].clone();
    let accts = &p.org.accounts[acct];
    let victim = accts.users.iter().position(|u| u.human).unwrap_or(0);
    let other = user_named(p, acct, "svc-backup-export");
    let other_name = p.org.accounts[acct].users[other].name.clone();
    let other_arn = p.org.accounts[acct].users[other].arn.clone();
    let base = p.user(acct, victim, &ip, CONSOLE_AGENTS[2]);
    let (vname, varn) = (base.user_name.clone(), base.arn.clone());
    p.mode = Mode::Attacker(idx);
    let login = p.emit(console_login(acct, t2, &base, false));
    let ck = p.rng.aws_id("ASIA");
    let console = console_session(&base, &ck, t2, false);
    let mut t = t2 + 45 * SEC;
    let list = Spec::new(
        acct,
        "us-east-1",
        t,
        &console,
        "iam.amazonaws.com",
        "ListUsers",
        true,
    )
    .req(|w| w.field_int("maxItems", 1000));
    p.emit(list);
    t += 50 * SEC;
    p.emit(iam_user_call(
        acct,
        t,
        &console,
        "AttachUserPolicy",
        &vname,
        &[("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess")],
    ));
    t += 70 * SEC;
    let nk = p.rng.aws_id("AKIA");
    let s = create_access_key(acct, t, &console, &other_name, &nk);
    let create_id = p.emit(s);
    let t_create = t;
    t += 40 * SEC;
    let doc =
        r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
    p.emit(iam_user_call(
        acct,
        t,
        &console,
        "PutUserPolicy",
        &other_name,
        &[("policyName", "s3-maintenance"), ("policyDocument", doc)],
    ));
    // The new key, from the same address, through the CLI.
    let mut newkey = p.user(acct, other, &ip, CLI);
    newkey.key = nk.clone();
    t += 4 * MIN;
    let region = p.org.regions[0].clone();
    p.emit(whoami(acct, &region, t, &newkey));
    t += 30 * SEC;
    p.emit(s3_list_buckets(acct, &region, t, &newkey));
    let bucket = p.org.accounts[acct]
        .buckets
        .last()
        .cloned()
        .unwrap_or_default();
    for _ in 0..3 {
        t += 25 * SEC;
        let k = object_key(&mut p.rng, &bucket, "2025-03-09");
        let s = s3_object(p, acct, &region, t, &newkey, "GetObject", &bucket, &k);
        p.emit(s);
    }
    let root = hop(&varn, Some(&ck), &ip, t2, &login);
    p.truth[idx].chains = vec![
        Chain {
            key: ck.clone(),
            root_kind: "ConsoleLogin".into(),
            hops: vec![root.clone()],
        },
        Chain {
            key: nk.clone(),
            root_kind: "ConsoleLogin".into(),
            hops: vec![root, hop(&other_arn, Some(&nk), &ip, t_create, &create_id)],
        },
    ];
    p.truth[idx].assumptions = vec![Assumption {
        event_name: "CreateAccessKey".into(),
        actor: varn.clone(),
        actor_key: Some(ck),
        role_arn: other_arn.clone(),
        session_arn: other_arn,
        issued_key: nk,
        source_ip: ip,
        time: event_time(t_create),
        event_ids: vec![create_id],
        shared_event_id: None,
    }];
    // Look-alike: an administrator signs in with MFA from the office and
    // makes routine IAM changes.
    p.mode = Mode::Lookalike(idx);
    let admin = p.org.accounts[acct]
        .users
        .iter()
        .rposition(|u| u.human)
        .unwrap_or(0);
    let corp = p.org.corp_ips[0].clone();
    let abase = p.user(acct, admin, &corp, CONSOLE_AGENTS[0]);
    let tl = t2 - 2 * HOUR;
    p.emit(console_login(acct, tl, &abase, true));
    let akey = p.rng.aws_id("ASIA");
    let asess = console_session(&abase, &akey, tl, true);
    p.emit(iam_user_call(
        acct,
        tl + 2 * MIN,
        &asess,
        "AttachUserPolicy",
        &vname,
        &[("policyArn", "arn:aws:iam::aws:policy/ReadOnlyAccess")],
    ));
    let monitoring = user_named(p, acct, "svc-monitoring");
    let mname = p.org.accounts[acct].users[monitoring].name.clone();
    let rotated = p.rng.aws_id("AKIA");
    let s = create_access_key(acct, tl + 5 * MIN, &asess, &mname, &rotated);
    p.emit(s);
}

pub(super) fn unapproved_region(
    p: &mut Planner<'_>,
    cfg: &GenConfig,
    idx: usize,
    t3: i64,
    ips: &[String],
) {
    let n = p.org.accounts.len();
    let acct = 7 % n;
    let region = cfg.unapproved_region.clone();
    let ip = ips[0].clone();
    let user = user_named(p, acct, "svc-monitoring");
    let a = p.user(acct, user, &ip, CLI);
    p.mode = Mode::Attacker(idx);
    let first = p.emit(ec2_read(acct, &region, t3, &a, "DescribeRegions"));
    let mut t = t3 + 30 * SEC;
    p.emit(ec2_read(acct, &region, t, &a, "DescribeImages"));
    t += 40 * SEC;
    let kp = "ops-key";
    p.emit(
        Spec::new(
            acct,
            &region,
            t,
            &a,
            "ec2.amazonaws.com",
            "CreateKeyPair",
            false,
        )
        .req(|w| w.field("keyName", kp)),
    );
    t += 30 * SEC;
    let sg = format!("sg-0{}", p.rng.hex(16));
    p.emit(
        Spec::new(
            acct,
            &region,
            t,
            &a,
            "ec2.amazonaws.com",
            "CreateSecurityGroup",
            false,
        )
        .req(|w| {
            w.field("groupName", "default-ssh");
            w.field("groupDescription", "ssh");
        }),
    );
    t += 20 * SEC;
    let sg2 = sg.clone();
    p.emit(
        Spec::new(
            acct,
            &region,
            t,
            &a,
            "ec2.amazonaws.com",
            "AuthorizeSecurityGroupIngress",
            false,
        )
        .req(move |w| {
            w.field("groupId", &sg2);
            w.field("cidrIp", "0.0.0.0/0");
            w.field("ipProtocol", "tcp");
            w.field_int("fromPort", 22);
            w.field_int("toPort", 22);
        }),
    );
    t += 45 * SEC;
    let s = run_instances(p, acct, &region, t, &a, "c5.9xlarge", 12, kp, &sg);
    p.emit(s);
    t += 5 * MIN;
    let s = run_instances(p, acct, &region, t, &a, "p3.8xlarge", 4, kp, &sg);
    p.emit(s);
    let (uarn, ukey) = (a.arn.clone(), a.key.clone());
    p.truth[idx].chains = vec![Chain {
        key: ukey.clone(),
        root_kind: "IAMUser long-term key".into(),
        hops: vec![hop(&uarn, Some(&ukey), &ip, t3, &first)],
    }];
    // Look-alike: the audit role scans every region, the unapproved one too.
    p.mode = Mode::Lookalike(idx);
    let audit = p.org.role_of(acct, RoleKind::Audit);
    let hours = (cfg.end_us() - cfg.start_us) / HOUR;
    for h in (0..hours).step_by(3) {
        let th = cfg.start_us + h * HOUR + 31 * MIN;
        let k = p.rng.aws_id("ASIA");
        let aip = crate::org::aws_ip(&mut p.rng);
        let s = p.session(
            acct,
            audit,
            "prowler-scan",
            &k,
            th - MIN,
            &aip,
            SDK_AGENTS[1],
        );
        p.emit(ec2_read(acct, &region, th, &s, "DescribeInstances"));
        p.emit(ec2_read(
            acct,
            &region,
            th + 2 * SEC,
            &s,
            "DescribeSecurityGroups",
        ));
    }
}

pub(super) fn federated(p: &mut Planner<'_>, idx: usize, t4: i64, ips: &[String]) {
    let n = p.org.accounts.len();
    let acct = 6 % n;
    let ip = ips[0].clone();
    let user = "bob.jones@acme.example";
    let acct_id = p.org.accounts[acct].id.clone();
    let role = p.org.role_of(acct, RoleKind::Saml);
    let region = p.org.regions[0].clone();
    let go = |p: &mut Planner<'_>, t: i64, ip: &str, agent: &'static str| {
        let (role_arn, role_name, role_pid) = {
            let r = &p.org.accounts[acct].roles[role];
            (r.arn.clone(), r.name.clone(), r.principal_id.clone())
        };
        let idp = format!("arn:aws:iam::{acct_id}:saml-provider/Okta");
        let mut saml = Actor {
            kind: crate::actor::ActorKind::Saml,
            ..Actor::default()
        };
        saml.principal_id = format!("Ld3dzQjQ5ZTctZjc1Ni00:{user}");
        saml.user_name = user.to_owned();
        saml.issuer_arn = "Ld3dzQjQ5ZTctZjc1Ni00".to_owned();
        saml.ip = ip.to_owned();
        saml.agent = agent;
        let key = p.rng.aws_id("ASIA");
        let sarn = session_arn(&acct_id, &role_name, user);
        let assertion = format!("_{}", p.rng.hex(32));
        let mut tok = crate::rng::Rng::new(p.rng.next_u64());
        let mut s = Spec::new(
            acct,
            "us-east-1",
            t,
            &saml,
            "sts.amazonaws.com",
            "AssumeRoleWithSAML",
            true,
        )
        .req(|w| {
            w.field("sAMLAssertionID", &assertion);
            w.field("roleSessionName", user);
            w.field_int("durationSeconds", 3600);
            w.field("roleArn", &role_arn);
            w.field("principalArn", &idp);
        })
        .resource("AWS::IAM::Role", role_arn.clone(), true)
        .resource("AWS::IAM::SAMLProvider", idp.clone(), true);
        s.response = Some(obj(|w| {
            write_role_credentials(
                w,
                &mut tok,
                &key,
                t + HOUR,
                ExpiryForm::Console,
                &role_pid,
                &sarn,
                user,
            );
            w.field("subjectType", "persistent");
            w.field("issuer", "http://www.okta.com/exk1a2b3c4d5e6f7g8h9");
            w.field("audience", "https://signin.aws.amazon.com/saml");
            w.field("nameQualifier", "Ld3dzQjQ5ZTctZjc1Ni00");
            w.field("subject", user);
        }));
        s.host = "sts.amazonaws.com".into();
        let id = p.emit(s);
        let sess = p.session(acct, role, user, &key, t, ip, agent);
        (id, key, sarn, role_arn, sess)
    };
    // Look-alike first: the same person, from the office, earlier.
    p.mode = Mode::Lookalike(idx);
    let corp = p.org.corp_ips[3].clone();
    let (_, _, _, _, legit) = go(p, t4 - 3 * HOUR, &corp, CONSOLE_AGENTS[0]);
    let secret0 = p.org.accounts[acct].regional[0].secrets[1].clone();
    let s = get_secret(p, acct, &region, t4 - 3 * HOUR + 4 * MIN, &legit, &secret0);
    p.emit(s);
    p.mode = Mode::Attacker(idx);
    let (saml_id, key, sarn, role_arn, sess) = go(p, t4, &ip, CONSOLE_AGENTS[1]);
    let mut t = t4 + MIN;
    p.emit(list_secrets(acct, &region, t, &sess));
    let secrets = p.org.accounts[acct].regional[0].secrets.clone();
    for s in &secrets {
        t += 12 * SEC;
        let spec = get_secret(p, acct, &region, t, &sess, s);
        p.emit(spec);
    }
    let bucket = p.org.accounts[acct].buckets[0].clone();
    t += 2 * MIN;
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::{bucket}/*"}}]}}"#
    );
    let host = format!("{bucket}.s3.{region}.amazonaws.com");
    let mut s = Spec::new(
        acct,
        &region,
        t,
        &sess,
        "s3.amazonaws.com",
        "PutBucketPolicy",
        false,
    )
    .req(|w| {
        w.field("bucketName", &bucket);
        w.field("Host", &host);
        w.field("bucketPolicy", &policy);
    });
    s.host = host;
    p.emit(s);
    for _ in 0..4 {
        t += 20 * SEC;
        let k = object_key(&mut p.rng, &bucket, "2025-03-09");
        let s = s3_object(p, acct, &region, t, &sess, "GetObject", &bucket, &k);
        p.emit(s);
    }
    let root = hop(user, None, &ip, t4, &saml_id);
    let h = hop(&sarn, Some(&key), &ip, t4, &saml_id);
    p.truth[idx].chains = vec![Chain {
        key: key.clone(),
        root_kind: "SAMLUser".into(),
        hops: vec![root, h],
    }];
    p.truth[idx].assumptions = vec![Assumption {
        event_name: "AssumeRoleWithSAML".into(),
        actor: user.to_owned(),
        actor_key: None,
        role_arn,
        session_arn: sarn,
        issued_key: key,
        source_ip: ip,
        time: event_time(t4),
        event_ids: vec![saml_id],
        shared_event_id: None,
    }];
}
