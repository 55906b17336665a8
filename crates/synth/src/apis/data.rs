//! Data events: S3 objects, DynamoDB items, Lambda invocations.

use super::*;
use crate::background::{Background, Call};
use crate::org::RoleKind;
use crate::rng::Rng;
use crate::shapes::{host_id, object_key};
use crate::time::{HOUR, civil};

pub(super) fn day(b: &Background<'_>) -> String {
    let c = civil(b.now_us);
    format!("{:04}-{:02}-{:02}", c.y, c.mo, c.d)
}

pub(super) fn pick_bucket(b: &mut Background<'_>) -> String {
    let acct = &b.org.accounts[b.acct];
    acct.buckets[b.rng.index(acct.buckets.len())].clone()
}

pub(super) fn s3_host(b: &mut Background<'_>, bucket: &str) {
    b.host.clear();
    b.host.push_str(bucket);
    b.host.push_str(".s3.");
    b.host.push_str(b.region_name);
    b.host.push_str(".amazonaws.com");
}

pub(super) fn s3_additional(b: &mut Background<'_>, bytes_in: u64, bytes_out: u64) {
    let id2 = host_id(&mut b.rng);
    let mut w = b.add_writer();
    w.begin_object();
    w.field("SignatureVersion", "SigV4");
    w.field("CipherSuite", "TLS_AES_128_GCM_SHA256");
    w.field_int("bytesTransferredIn", bytes_in as i64);
    w.field("AuthenticationMethod", "AuthHeader");
    w.field("x-amz-id-2", &id2);
    w.field_int("bytesTransferredOut", bytes_out as i64);
    w.end_object();
}

pub(super) fn s3_object(b: &mut Background<'_>, name: &'static str) -> Call {
    let r = b.rng.unit();
    if r < 0.3 {
        b.workload();
    } else if r < 0.45 {
        // Athena and Glue reading on the caller's behalf (forward access
        // sessions): the service is the source, no TLS details.
        b.workload();
        let via = *b.rng.pick(&["athena.amazonaws.com", "glue.amazonaws.com"]);
        b.actor.invoked_by.clear();
        b.actor.invoked_by.push_str(via);
        b.actor.ip.clear();
        b.actor.ip.push_str(via);
    } else {
        b.service_user();
    }
    let error = b.maybe_error(if matches!(name, "GetObject" | "HeadObject") {
        S3_ERR
    } else {
        S3_WRITE_ERR
    });
    let bucket = pick_bucket(b);
    let d = day(b);
    let key = object_key(&mut b.rng, &bucket, &d);
    s3_host(b, &bucket);
    let host = b.host.clone();
    let mut w = b.req_writer();
    w.begin_object();
    w.field("bucketName", &bucket);
    w.field("Host", &host);
    w.field("key", &key);
    w.end_object();
    let (bin, bout) = match name {
        _ if error.is_some() => (0, 0),
        "PutObject" => (1024 + b.rng.below(4_000_000), 0),
        "GetObject" => (0, 512 + b.rng.below(8_000_000)),
        _ => (0, 0),
    };
    s3_additional(b, bin, bout);
    let mut call = Call::data(
        "s3.amazonaws.com",
        name,
        matches!(name, "GetObject" | "HeadObject"),
    );
    call.additional = true;
    call.vpc = b.rng.chance(0.1);
    if name == "PutObject" {
        let mut w = b.resp_writer();
        w.begin_object();
        w.field("x-amz-server-side-encryption", "AES256");
        w.end_object();
        call.response = true;
    }
    b.resource(
        "AWS::S3::Object",
        false,
        format_args!("arn:aws:s3:::{bucket}/{key}"),
    );
    b.resource(
        "AWS::S3::Bucket",
        true,
        format_args!("arn:aws:s3:::{bucket}"),
    );
    call.error = error;
    call
}

/// AWS services delivering logs into buckets (CloudTrail, Config, VPC
/// flow logs): `PutObject` data events by `AWSService` callers.
pub(super) fn s3_service_delivery(b: &mut Background<'_>) -> Call {
    let svc = *b.rng.pick(&[
        "cloudtrail.amazonaws.com",
        "config.amazonaws.com",
        "delivery.logs.amazonaws.com",
    ]);
    b.service(svc);
    let acct = &b.org.accounts[b.acct];
    let bucket = acct
        .buckets
        .iter()
        .find(|n| n.ends_with("-logs"))
        .unwrap_or(&acct.buckets[0])
        .clone();
    let c = civil(b.now_us);
    let key = format!(
        "{}/{:04}/{:02}/{:02}/{}.gz",
        svc.split('.').next().unwrap_or("logs"),
        c.y,
        c.mo,
        c.d,
        b.rng.hex(8)
    );
    s3_host(b, &bucket);
    let host = b.host.clone();
    let mut w = b.req_writer();
    w.begin_object();
    w.field("bucketName", &bucket);
    w.field("Host", &host);
    w.field("key", &key);
    w.field("x-amz-acl", "bucket-owner-full-control");
    w.end_object();
    let size = 2048 + b.rng.below(200_000);
    s3_additional(b, size, 0);
    let mut call = Call::data("s3.amazonaws.com", "PutObject", false);
    call.additional = true;
    b.resource(
        "AWS::S3::Object",
        false,
        format_args!("arn:aws:s3:::{bucket}/{key}"),
    );
    b.resource(
        "AWS::S3::Bucket",
        true,
        format_args!("arn:aws:s3:::{bucket}"),
    );
    call
}

pub(super) fn s3_list(b: &mut Background<'_>) -> Call {
    b.workload();
    let bucket = pick_bucket(b);
    s3_host(b, &bucket);
    let host = b.host.clone();
    let d = day(b);
    let mut w = b.req_writer();
    w.begin_object();
    w.field("list-type", "2");
    w.field("bucketName", &bucket);
    w.field("encoding-type", "url");
    w.field("prefix", &format!("orders/dt={d}/"));
    w.field("Host", &host);
    w.end_object();
    s3_additional(b, 0, 0);
    let mut call = Call::data("s3.amazonaws.com", "ListObjects", true);
    call.additional = true;
    b.resource(
        "AWS::S3::Bucket",
        true,
        format_args!("arn:aws:s3:::{bucket}"),
    );
    call.error = b.maybe_error(&S3_ERR[..1]);
    call
}

/// A role of another account of the organization reading this account's
/// bucket: the bucket owner's copy shows the caller as `AWSAccount`.
pub(super) fn s3_cross_account(b: &mut Background<'_>) -> Call {
    let mut call = s3_object(b, "GetObject");
    let other = (b.acct + 1 + b.rng.index(b.org.accounts.len() - 1)) % b.org.accounts.len();
    let role = b.org.role_of(other, RoleKind::App);
    let hour = b.hour_us;
    let sess = b.rng.hex(32);
    let s = crate::org::SessionRef {
        account: other,
        role,
        region: b.region,
        slot: 0,
    };
    b.actor.set_role(b.org, s, hour, &sess);
    b.actor.kind = crate::actor::ActorKind::Account;
    call.shared = true;
    call
}

/// A `GetFederationToken` session of a legacy ETL user reading exports.
pub(super) fn federated_read(b: &mut Background<'_>) -> Call {
    let call = s3_object(b, "GetObject");
    let acct = &b.org.accounts[b.acct];
    let u = acct
        .users
        .iter()
        .position(|u| u.name.starts_with("svc-etl"))
        .unwrap_or(0);
    b.actor.set_user(b.org, b.acct, u);
    let user = &acct.users[u];
    b.actor.kind = crate::actor::ActorKind::Federated;
    b.actor.arn = format!("arn:aws:sts::{}:federated-user/etl-reader", acct.id);
    b.actor.principal_id = format!("{}:etl-reader", acct.id);
    b.actor.issuer_arn = user.arn.clone();
    b.actor.issuer_principal_id = user.principal_id.clone();
    b.actor.key = Rng::derive(
        b.org.seed,
        "federated",
        (b.hour_us / HOUR) as u64 ^ b.acct as u64,
    )
    .aws_id("ASIA");
    b.actor.created.set(b.hour_us - 60_000_000);
    b.actor.ip = b.org.corp_ips[0].clone();
    call
}

pub(super) fn dynamodb(b: &mut Background<'_>, name: &'static str) -> Call {
    b.workload();
    let regional = &b.org.accounts[b.acct].regional[b.region];
    let table = regional.tables[b.rng.index(regional.tables.len())].clone();
    b.regional_host("dynamodb");
    let mut w = b.req_writer();
    w.begin_object();
    w.field("tableName", &table);
    match name {
        "Query" => {
            w.field("keyConditionExpression", "pk = :pk");
            w.object_field("expressionAttributeValues");
            w.field(":pk", "HIDDEN_DUE_TO_SECURITY_REASONS");
            w.end_object();
            w.field_int("limit", 100);
        }
        "PutItem" => {
            w.object_field("key");
            w.field("pk", "HIDDEN_DUE_TO_SECURITY_REASONS");
            w.field("sk", "HIDDEN_DUE_TO_SECURITY_REASONS");
            w.end_object();
            w.field("conditionExpression", "attribute_not_exists(pk)");
        }
        _ => {
            w.object_field("key");
            w.field("pk", "HIDDEN_DUE_TO_SECURITY_REASONS");
            w.end_object();
            w.field_bool("consistentRead", false);
        }
    }
    w.end_object();
    let mut call = Call::data("dynamodb.amazonaws.com", name, name != "PutItem");
    let (acct, region) = (b.account_id(), b.region_name);
    b.resource(
        "AWS::DynamoDB::Table",
        true,
        format_args!("arn:aws:dynamodb:{region}:{acct}:table/{table}"),
    );
    call.error = b.maybe_error(DDB_ERR);
    call
}

pub(super) fn lambda_invoke(b: &mut Background<'_>) -> Call {
    if b.rng.chance(0.3) {
        let svc = *b.rng.pick(&[
            "apigateway.amazonaws.com",
            "events.amazonaws.com",
            "sqs.amazonaws.com",
        ]);
        b.service(svc);
    } else {
        b.workload();
    }
    let regional = &b.org.accounts[b.acct].regional[b.region];
    let f = regional.functions[b.rng.index(regional.functions.len())].clone();
    let (acct, region) = (b.account_id(), b.region_name);
    let arn = format!("arn:aws:lambda:{region}:{acct}:function:{f}");
    b.regional_host("lambda");
    let mut w = b.req_writer();
    w.begin_object();
    w.field("functionName", &arn);
    w.field("invocationType", "RequestResponse");
    w.end_object();
    let mut w = b.add_writer();
    w.begin_object();
    w.field("functionVersion", &format!("{arn}:$LATEST"));
    w.end_object();
    let mut call = Call::data("lambda.amazonaws.com", "Invoke", false);
    call.additional = true;
    b.resource("AWS::Lambda::Function", true, format_args!("{arn}"));
    call.error = b.maybe_error(LAMBDA_ERR);
    call
}
