//! Management reads and writes: KMS, EC2, Secrets Manager, SSM, IAM,
//! CloudTrail, Backup, Organizations.

use super::*;
use crate::background::{Background, Call};
use crate::org::RoleKind;

pub(super) fn kms(b: &mut Background<'_>, name: &'static str) -> Call {
    if b.rng.chance(0.75) {
        return kms_by_service(b, name);
    }
    b.workload();
    let via = *b.rng.pick(&[
        "s3.amazonaws.com",
        "secretsmanager.amazonaws.com",
        "dynamodb.amazonaws.com",
        "",
    ]);
    let regional = &b.org.accounts[b.acct].regional[b.region];
    let key = regional.kms_keys[b.rng.index(regional.kms_keys.len())].clone();
    let (acct, region) = (b.account_id(), b.region_name);
    let key_arn = format!("arn:aws:kms:{region}:{acct}:key/{key}");
    let bucket = pick_bucket(b);
    let mut w = b.req_writer();
    w.begin_object();
    if name != "Decrypt" {
        w.field("keyId", &key_arn);
    }
    w.field("encryptionAlgorithm", "SYMMETRIC_DEFAULT");
    w.object_field("encryptionContext");
    match via {
        "s3.amazonaws.com" => w.field("aws:s3:arn", &format!("arn:aws:s3:::{bucket}")),
        "secretsmanager.amazonaws.com" => w.field(
            "SecretARN",
            &format!(
                "arn:aws:secretsmanager:{region}:{acct}:secret:{}",
                regional.secrets[0]
            ),
        ),
        "dynamodb.amazonaws.com" => {
            w.field("aws:dynamodb:tableName", &regional.tables[0]);
            w.field("aws:dynamodb:subscriberId", acct);
        }
        _ => w.field("service", "orders"),
    }
    w.end_object();
    if name == "GenerateDataKey" {
        w.field("keySpec", "AES_256");
    }
    w.end_object();
    if !via.is_empty() {
        b.actor.invoked_by.clear();
        b.actor.invoked_by.push_str(via);
        b.actor.ip.clear();
        b.actor.ip.push_str(via);
    } else {
        b.regional_host("kms");
    }
    let mut call = Call::mgmt("kms.amazonaws.com", name, true);
    b.resource("AWS::KMS::Key", true, format_args!("{key_arn}"));
    call.error = b.maybe_error(KMS_ERR);
    call
}

/// KMS used by an AWS service with its own principal (CloudTrail and
/// CloudWatch Logs encrypting what they write, EBS, RDS, Backup).
pub(super) fn kms_by_service(b: &mut Background<'_>, name: &'static str) -> Call {
    let svc = *b.rng.pick(&[
        "cloudtrail.amazonaws.com",
        "logs.amazonaws.com",
        "ebs.amazonaws.com",
        "rds.amazonaws.com",
        "backup.amazonaws.com",
    ]);
    b.service(svc);
    let regional = &b.org.accounts[b.acct].regional[b.region];
    let key = regional.kms_keys[b.rng.index(regional.kms_keys.len())].clone();
    let (acct, region) = (b.account_id(), b.region_name);
    let key_arn = format!("arn:aws:kms:{region}:{acct}:key/{key}");
    let mut w = b.req_writer();
    w.begin_object();
    w.field("keyId", &key_arn);
    w.object_field("encryptionContext");
    w.field(
        "aws:cloudtrail:arn",
        &format!("arn:aws:cloudtrail:us-east-1:{acct}:trail/org-trail"),
    );
    w.end_object();
    if name == "GenerateDataKey" {
        w.field("keySpec", "AES_256");
    } else {
        w.field("encryptionAlgorithm", "SYMMETRIC_DEFAULT");
    }
    w.end_object();
    let mut call = Call::mgmt("kms.amazonaws.com", name, true);
    call.shared = b.rng.chance(0.5);
    b.resource("AWS::KMS::Key", true, format_args!("{key_arn}"));
    call
}

pub(super) fn ec2_describe(b: &mut Background<'_>) -> Call {
    if b.rng.chance(0.5) {
        b.role_session(RoleKind::Audit);
    } else if b.rng.chance(0.5) {
        b.workload();
    } else {
        b.human();
    }
    let name = *b.rng.pick(&[
        "DescribeInstances",
        "DescribeSecurityGroups",
        "DescribeVolumes",
        "DescribeSnapshots",
        "DescribeVpcs",
        "DescribeNetworkInterfaces",
    ]);
    b.regional_host("ec2");
    let mut w = b.req_writer();
    w.begin_object();
    match name {
        "DescribeInstances" => {
            w.object_field("instancesSet");
            w.end_object();
            w.object_field("filterSet");
            w.end_object();
        }
        "DescribeSnapshots" => {
            w.object_field("snapshotSet");
            w.end_object();
            w.object_field("ownersSet");
            w.array_field("items");
            w.begin_object();
            w.field("owner", "self");
            w.end_object();
            w.end_array();
            w.end_object();
            w.field_int("maxResults", 1000);
        }
        _ => {
            w.object_field("filterSet");
            w.end_object();
            w.field_int("maxResults", 1000);
        }
    }
    w.end_object();
    let mut call = Call::mgmt("ec2.amazonaws.com", name, true);
    call.error = b.maybe_error(EC2_ERR);
    call
}

pub(super) fn get_secret_value(b: &mut Background<'_>) -> Call {
    b.workload();
    let regional = &b.org.accounts[b.acct].regional[b.region];
    let s = regional.secrets[b.rng.index(regional.secrets.len())].clone();
    let (acct, region) = (b.account_id(), b.region_name);
    let id = if b.rng.chance(0.6) {
        format!("arn:aws:secretsmanager:{region}:{acct}:secret:{s}")
    } else {
        s
    };
    b.regional_host("secretsmanager");
    let mut w = b.req_writer();
    w.begin_object();
    w.field("secretId", &id);
    w.end_object();
    let mut call = Call::mgmt("secretsmanager.amazonaws.com", "GetSecretValue", true);
    call.error = b.maybe_error(SM_ERR);
    call
}

pub(super) fn ssm_get_parameter(b: &mut Background<'_>) -> Call {
    b.workload();
    let name = format!(
        "/{}/{}/db-host",
        b.org.accounts[b.acct].name,
        *b.rng.pick(&["orders", "payments", "catalog"])
    );
    b.regional_host("ssm");
    let mut w = b.req_writer();
    w.begin_object();
    w.field("name", &name);
    w.field_bool("withDecryption", true);
    w.end_object();
    let mut call = Call::mgmt("ssm.amazonaws.com", "GetParameter", true);
    call.error = b.maybe_error(&SM_ERR[..1]);
    call
}

pub(super) fn iam_read(b: &mut Background<'_>) -> Call {
    if b.rng.chance(0.5) {
        b.role_session(RoleKind::Audit);
    } else if b.rng.chance(0.5) {
        b.role_session(RoleKind::Ci);
    } else {
        b.human();
    }
    let acct = &b.org.accounts[b.acct];
    let role = acct.roles[b.rng.index(acct.roles.len())].name.clone();
    let name = *b.rng.pick(&[
        "GetRole",
        "ListAttachedRolePolicies",
        "ListRoles",
        "GetAccountAuthorizationDetails",
        "ListUsers",
    ]);
    b.host.clear();
    b.host.push_str("iam.amazonaws.com");
    let mut w = b.req_writer();
    w.begin_object();
    if matches!(name, "GetRole" | "ListAttachedRolePolicies") {
        w.field("roleName", &role);
    } else {
        w.field_int("maxItems", 100);
    }
    w.end_object();
    let mut call = Call::mgmt("iam.amazonaws.com", name, true);
    call.error = b.maybe_error(IAM_ERR);
    call
}

pub(super) fn cloudtrail_read(b: &mut Background<'_>) -> Call {
    b.role_session(RoleKind::Audit);
    let name = *b.rng.pick(&[
        "DescribeTrails",
        "GetTrailStatus",
        "GetEventSelectors",
        "LookupEvents",
    ]);
    b.regional_host("cloudtrail");
    let mut w = b.req_writer();
    w.begin_object();
    match name {
        "LookupEvents" => w.field_int("maxResults", 50),
        "DescribeTrails" => w.field_bool("includeShadowTrails", true),
        _ => w.field(
            "name",
            "arn:aws:cloudtrail:us-east-1:000000000000:trail/org-trail",
        ),
    }
    w.end_object();
    Call::mgmt("cloudtrail.amazonaws.com", name, true)
}

pub(super) fn backup_start(b: &mut Background<'_>) -> Call {
    b.service("backup.amazonaws.com");
    let regional = &b.org.accounts[b.acct].regional[b.region];
    let (acct, region) = (b.account_id(), b.region_name);
    let table = regional.tables[b.rng.index(regional.tables.len())].clone();
    let vault = regional.vault.clone();
    let role = b.org.accounts[b.acct].roles[b.org.role_of(b.acct, RoleKind::Backup)]
        .arn
        .clone();
    let rp = b.rng.uuid();
    let job = b.rng.uuid().to_ascii_uppercase();
    let mut w = b.req_writer();
    w.begin_object();
    w.field("backupVaultName", &vault);
    w.field(
        "resourceArn",
        &format!("arn:aws:dynamodb:{region}:{acct}:table/{table}"),
    );
    w.field("iamRoleArn", &role);
    w.field_int("startWindowMinutes", 60);
    w.field_int("completeWindowMinutes", 10080);
    w.object_field("lifecycle");
    w.field_int("deleteAfterDays", 35);
    w.end_object();
    w.end_object();
    let created = crate::time::console_form(b.now_us);
    let mut w = b.resp_writer();
    w.begin_object();
    w.field("backupJobId", &job);
    w.field(
        "recoveryPointArn",
        &format!("arn:aws:backup:{region}:{acct}:recovery-point:{rp}"),
    );
    w.field("creationDate", &created);
    w.end_object();
    let mut call = Call::mgmt("backup.amazonaws.com", "StartBackupJob", false);
    call.response = true;
    call
}

/// Lifecycle expiry of recovery points: the benign twin of the attacker's
/// `DeleteRecoveryPoint`.
pub(super) fn backup_lifecycle_delete(b: &mut Background<'_>) -> Call {
    b.service("backup.amazonaws.com");
    let regional = &b.org.accounts[b.acct].regional[b.region];
    let (acct, region) = (b.account_id(), b.region_name);
    let vault = regional.vault.clone();
    let rp = b.rng.uuid();
    let mut w = b.req_writer();
    w.begin_object();
    w.field("backupVaultName", &vault);
    w.field(
        "recoveryPointArn",
        &format!("arn:aws:backup:{region}:{acct}:recovery-point:{rp}"),
    );
    w.end_object();
    Call::mgmt("backup.amazonaws.com", "DeleteRecoveryPoint", false)
}

pub(super) fn backup_list(b: &mut Background<'_>) -> Call {
    b.role_session(RoleKind::Audit);
    let vault = b.org.accounts[b.acct].regional[b.region].vault.clone();
    b.regional_host("backup");
    let mut w = b.req_writer();
    w.begin_object();
    w.field("backupVaultName", &vault);
    w.field_int("maxResults", 100);
    w.end_object();
    Call::mgmt(
        "backup.amazonaws.com",
        "ListRecoveryPointsByBackupVault",
        true,
    )
}

pub(super) fn organizations_read(b: &mut Background<'_>) -> Call {
    if b.rng.chance(0.5) {
        b.human();
    } else {
        b.role_session(RoleKind::Audit);
    }
    let name = *b.rng.pick(&[
        "DescribeOrganization",
        "DescribeOrganization",
        "ListAccounts",
        "ListPolicies",
        "DescribeAccount",
    ]);
    b.host.clear();
    b.host.push_str("organizations.us-east-1.amazonaws.com");
    let target = b.org.accounts[b.rng.index(b.org.accounts.len())].id.clone();
    let mut w = b.req_writer();
    w.begin_object();
    match name {
        "DescribeAccount" => w.field("accountId", &target),
        "ListPolicies" => w.field("filter", "SERVICE_CONTROL_POLICY"),
        _ => {}
    }
    w.end_object();
    Call::mgmt("organizations.amazonaws.com", name, true)
}
