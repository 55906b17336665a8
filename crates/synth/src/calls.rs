//! Planned-call builders shared by the scenarios and their look-alikes.
//!
//! Each returns a [`Spec`] in the shape CloudTrail writes for that API, so
//! the attacker's `GetObject` and a CI job's `GetObject` differ only in who,
//! from where and when, as in a real trail.

use crate::actor::Actor;
use crate::planner::{Planner, Spec};
use crate::rng::Rng;
use crate::shapes::host_id;
use crate::time::console_form;

/// S3 object call (`GetObject`, `PutObject`) as a data event.
#[allow(clippy::too_many_arguments)] // who, where, when, what: all needed
pub fn s3_object(
    p: &mut Planner<'_>,
    acct: usize,
    region: &str,
    t: i64,
    a: &Actor,
    name: &'static str,
    bucket: &str,
    key: &str,
) -> Spec {
    let host = format!("{bucket}.s3.{region}.amazonaws.com");
    let id2 = host_id(&mut p.rng);
    let out = 2048 + p.rng.below(9_000_000) as i64;
    let mut s = Spec::new(
        acct,
        region,
        t,
        a,
        "s3.amazonaws.com",
        name,
        name == "GetObject",
    )
    .req(|w| {
        w.field("bucketName", bucket);
        w.field("Host", &host);
        w.field("key", key);
    })
    .resource(
        "AWS::S3::Object",
        format!("arn:aws:s3:::{bucket}/{key}"),
        false,
    )
    .resource("AWS::S3::Bucket", format!("arn:aws:s3:::{bucket}"), true);
    s.additional = Some(crate::planner::obj(|w| {
        w.field("SignatureVersion", "SigV4");
        w.field("CipherSuite", "TLS_AES_128_GCM_SHA256");
        w.field_int("bytesTransferredIn", 0);
        w.field("AuthenticationMethod", "AuthHeader");
        w.field("x-amz-id-2", &id2);
        w.field_int(
            "bytesTransferredOut",
            if name == "GetObject" { out } else { 0 },
        );
    }));
    s.data = true;
    s.host = host;
    s
}

/// `ListObjects` (V2) on a bucket.
pub fn s3_list(acct: usize, region: &str, t: i64, a: &Actor, bucket: &str, prefix: &str) -> Spec {
    let host = format!("{bucket}.s3.{region}.amazonaws.com");
    let mut s = Spec::new(acct, region, t, a, "s3.amazonaws.com", "ListObjects", true)
        .req(|w| {
            w.field("list-type", "2");
            w.field("bucketName", bucket);
            w.field("prefix", prefix);
            w.field("Host", &host);
        })
        .resource("AWS::S3::Bucket", format!("arn:aws:s3:::{bucket}"), true);
    s.data = true;
    s.host = host;
    s
}

/// `ListBuckets` (a management event).
pub fn s3_list_buckets(acct: usize, region: &str, t: i64, a: &Actor) -> Spec {
    let host = format!("s3.{region}.amazonaws.com");
    let mut s = Spec::new(acct, region, t, a, "s3.amazonaws.com", "ListBuckets", true)
        .req(|w| w.field("Host", &host));
    s.host = host;
    s
}

/// `GetCallerIdentity`.
pub fn whoami(acct: usize, region: &str, t: i64, a: &Actor) -> Spec {
    Spec::new(
        acct,
        region,
        t,
        a,
        "sts.amazonaws.com",
        "GetCallerIdentity",
        true,
    )
}

/// `GetSecretValue` by ARN.
pub fn get_secret(
    p: &Planner<'_>,
    acct: usize,
    region: &str,
    t: i64,
    a: &Actor,
    secret: &str,
) -> Spec {
    let id = &p.org.accounts[acct].id;
    let arn = format!("arn:aws:secretsmanager:{region}:{id}:secret:{secret}");
    Spec::new(
        acct,
        region,
        t,
        a,
        "secretsmanager.amazonaws.com",
        "GetSecretValue",
        true,
    )
    .req(|w| w.field("secretId", &arn))
}

/// `ListSecrets`.
pub fn list_secrets(acct: usize, region: &str, t: i64, a: &Actor) -> Spec {
    Spec::new(
        acct,
        region,
        t,
        a,
        "secretsmanager.amazonaws.com",
        "ListSecrets",
        true,
    )
    .req(|w| w.field_int("maxResults", 100))
}

/// `ScheduleKeyDeletion` of a key id.
pub fn schedule_key_deletion(
    p: &Planner<'_>,
    acct: usize,
    region: &str,
    t: i64,
    a: &Actor,
    key: &str,
    days: i64,
) -> Spec {
    let id = &p.org.accounts[acct].id;
    let arn = format!("arn:aws:kms:{region}:{id}:key/{key}");
    let when = console_form(t + days * crate::time::DAY);
    let arn2 = arn.clone();
    Spec::new(
        acct,
        region,
        t,
        a,
        "kms.amazonaws.com",
        "ScheduleKeyDeletion",
        false,
    )
    .req(|w| {
        w.field("keyId", key);
        w.field_int("pendingWindowInDays", days);
    })
    .resp(|w| {
        w.field("keyId", &arn2);
        w.field("keyState", "PendingDeletion");
        w.field("deletionDate", &when);
        w.field_int("pendingWindowInDays", days);
    })
    .resource("AWS::KMS::Key", arn, true)
}

/// `DeleteRecoveryPoint`.
pub fn delete_recovery_point(
    p: &mut Planner<'_>,
    acct: usize,
    region: &str,
    t: i64,
    a: &Actor,
) -> Spec {
    let id = p.org.accounts[acct].id.clone();
    let vault = p.org.accounts[acct].regional[0].vault.clone();
    let rp = p.rng.uuid();
    Spec::new(
        acct,
        region,
        t,
        a,
        "backup.amazonaws.com",
        "DeleteRecoveryPoint",
        false,
    )
    .req(|w| {
        w.field("backupVaultName", &vault);
        w.field(
            "recoveryPointArn",
            &format!("arn:aws:backup:{region}:{id}:recovery-point:{rp}"),
        );
    })
}

/// `ListRecoveryPointsByBackupVault`.
pub fn list_recovery_points(p: &Planner<'_>, acct: usize, region: &str, t: i64, a: &Actor) -> Spec {
    let vault = p.org.accounts[acct].regional[0].vault.clone();
    Spec::new(
        acct,
        region,
        t,
        a,
        "backup.amazonaws.com",
        "ListRecoveryPointsByBackupVault",
        true,
    )
    .req(|w| w.field("backupVaultName", &vault))
}

/// A CloudTrail call on a trail by name (`StopLogging`, `DeleteTrail`, `DescribeTrails`).
pub fn trail_call(
    acct: usize,
    region: &str,
    t: i64,
    a: &Actor,
    name: &'static str,
    trail: &str,
) -> Spec {
    let s = Spec::new(
        acct,
        region,
        t,
        a,
        "cloudtrail.amazonaws.com",
        name,
        name.starts_with("Describe"),
    );
    if name == "DescribeTrails" {
        s.req(|w| w.field_bool("includeShadowTrails", true))
    } else {
        s.req(|w| w.field("name", trail))
    }
}

/// An EC2 read in `region`.
pub fn ec2_read(acct: usize, region: &str, t: i64, a: &Actor, name: &'static str) -> Spec {
    Spec::new(acct, region, t, a, "ec2.amazonaws.com", name, true).req(|w| {
        w.object_field("filterSet");
        w.end_object();
    })
}

/// `RunInstances` of `count` instances of `itype`.
#[allow(clippy::too_many_arguments)] // who, where, when, what: all needed
pub fn run_instances(
    p: &mut Planner<'_>,
    acct: usize,
    region: &str,
    t: i64,
    a: &Actor,
    itype: &str,
    count: i64,
    key_name: &str,
    sg: &str,
) -> Spec {
    let ami = format!("ami-0{}", p.rng.hex(16));
    let reservation = format!("r-0{}", p.rng.hex(16));
    let ids: Vec<String> = (0..count)
        .map(|_| format!("i-0{}", p.rng.hex(16)))
        .collect();
    let owner = p.org.accounts[acct].id.clone();
    Spec::new(
        acct,
        region,
        t,
        a,
        "ec2.amazonaws.com",
        "RunInstances",
        false,
    )
    .req(|w| {
        w.object_field("instancesSet");
        w.array_field("items");
        w.begin_object();
        w.field("imageId", &ami);
        w.field_int("minCount", count);
        w.field_int("maxCount", count);
        w.field("keyName", key_name);
        w.end_object();
        w.end_array();
        w.end_object();
        w.field("instanceType", itype);
        w.object_field("groupSet");
        w.array_field("items");
        w.begin_object();
        w.field("groupId", sg);
        w.end_object();
        w.end_array();
        w.end_object();
        w.field_bool("disableApiTermination", false);
    })
    .resp(|w| {
        w.field("requestId", &owner);
        w.field("reservationId", &reservation);
        w.field("ownerId", &owner);
        w.object_field("instancesSet");
        w.array_field("items");
        for id in &ids {
            w.begin_object();
            w.field("instanceId", id);
            w.field("imageId", &ami);
            w.field("instanceType", itype);
            w.object_field("instanceState");
            w.field_int("code", 0);
            w.field("name", "pending");
            w.end_object();
            w.end_object();
        }
        w.end_array();
        w.end_object();
    })
}

/// An IAM call on a user with extra string parameters.
pub fn iam_user_call(
    acct: usize,
    t: i64,
    a: &Actor,
    name: &'static str,
    user: &str,
    extra: &[(&str, &str)],
) -> Spec {
    Spec::new(
        acct,
        "us-east-1",
        t,
        a,
        "iam.amazonaws.com",
        name,
        name.starts_with("Get") || name.starts_with("List"),
    )
    .req(|w| {
        w.field("userName", user);
        for (k, v) in extra {
            w.field(k, v);
        }
    })
}

/// `CreateAccessKey` for `user`, issuing `key`.
pub fn create_access_key(acct: usize, t: i64, a: &Actor, user: &str, key: &str) -> Spec {
    let created = console_form(t);
    iam_user_call(acct, t, a, "CreateAccessKey", user, &[]).resp(|w| {
        w.object_field("accessKey");
        w.field("userName", user);
        w.field("accessKeyId", key);
        w.field("status", "Active");
        w.field("createDate", &created);
        w.end_object();
    })
}

/// `ConsoleLogin` of an IAM user, MFA or not.
pub fn console_login(acct: usize, t: i64, a: &Actor, mfa: bool) -> Spec {
    let mut s = Spec::new(
        acct,
        "us-east-1",
        t,
        a,
        "signin.amazonaws.com",
        "ConsoleLogin",
        false,
    )
    .resp(|w| w.field("ConsoleLogin", "Success"));
    s.actor.key.clear();
    s.request = None;
    s.event_type = "AwsConsoleSignIn";
    s.additional = Some(crate::planner::obj(|w| {
        w.field("LoginTo", "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_5d1a8c3f2b0e4e6a");
        w.field("MobileVersion", "No");
        w.field("MFAUsed", if mfa { "Yes" } else { "No" });
    }));
    s
}

/// A console session of an IAM user (key `key`, created at login).
pub fn console_session(base: &Actor, key: &str, login_us: i64, mfa: bool) -> Actor {
    let mut a = base.clone();
    a.key = key.to_owned();
    a.console = true;
    a.mfa = mfa;
    a.created.set(login_us);
    a
}

/// A random attacker-looking address outside every benign pool.
pub fn attacker_ip(rng: &mut Rng) -> String {
    let first = *rng.pick(&[185u8, 45, 91, 193, 89, 5]);
    format!(
        "{first}.{}.{}.{}",
        rng.below(256),
        rng.below(256),
        2 + rng.below(250)
    )
}
