//! Who gets credentials: STS calls of every kind, console sign-in,
//! Identity Center, root.

use super::*;
use crate::background::{Background, Call};
use crate::org::RoleKind;
use crate::rng::Rng;
use crate::shapes::{ExpiryForm, session_arn, write_role_credentials};
use crate::time::HOUR;

/// Writes an AssumeRole issuing the current hour's key of a role session.
pub(super) fn issue_session(
    b: &mut Background<'_>,
    role_kind: RoleKind,
    form: ExpiryForm,
) -> (String, String) {
    let (idx, slot) = b.pick_session(role_kind);
    b.session_shape(idx, slot);
    let session = b.scratch.clone();
    let hour = b.hour_us;
    let acct = &b.org.accounts[b.acct];
    let role = &acct.roles[idx];
    let key = b.org.session_key(b.session_ref(idx, slot), hour / HOUR);
    let sarn = session_arn(&acct.id, &role.name, &session);
    let role_arn = role.arn.clone();
    let mut w = b.req_writer();
    w.begin_object();
    w.field("roleArn", &role_arn);
    w.field("roleSessionName", &session);
    if role_kind == RoleKind::Saml {
        w.field(
            "principalArn",
            &format!("arn:aws:iam::{}:saml-provider/Okta", acct.id),
        );
        w.field_int("durationSeconds", 3600);
    } else if role_kind == RoleKind::WebIdentity {
        w.field_int("durationSeconds", 3600);
    }
    w.end_object();
    let pid = role.principal_id.clone();
    let mut rng = Rng::new(b.rng.next_u64());
    let mut w = crate::json::JsonWriter::new(&mut b.resp);
    w.begin_object();
    write_role_credentials(
        &mut w,
        &mut rng,
        &key,
        hour + 2 * HOUR,
        form,
        &pid,
        &sarn,
        &session,
    );
    (role_arn, sarn)
}

pub(super) fn assume_role_service(b: &mut Background<'_>) -> Call {
    let kind = *b.rng.pick(&[RoleKind::Lambda, RoleKind::App]);
    let svc = if kind == RoleKind::Lambda {
        "lambda.amazonaws.com"
    } else {
        "ecs-tasks.amazonaws.com"
    };
    b.service(svc);
    // ECS writes the expiration in ISO 8601, Lambda in the console form.
    let form = if kind == RoleKind::App {
        ExpiryForm::Iso
    } else {
        ExpiryForm::Console
    };
    let (role_arn, _) = issue_session(b, kind, form);
    b.resp.push(b'}');
    b.regional_host("sts");
    let mut call = Call::mgmt("sts.amazonaws.com", "AssumeRole", true);
    call.response = true;
    b.resource("AWS::IAM::Role", true, format_args!("{role_arn}"));
    call
}

pub(super) fn assume_role_instance(b: &mut Background<'_>) -> Call {
    b.service("ec2.amazonaws.com");
    let (role_arn, _) = issue_session(b, RoleKind::Instance, ExpiryForm::Console);
    b.resp.push(b'}');
    let mut call = Call::mgmt("sts.amazonaws.com", "AssumeRole", true);
    call.response = true;
    call.shared = true;
    b.resource("AWS::IAM::Role", true, format_args!("{role_arn}"));
    call
}

pub(super) fn assume_role_web_identity(b: &mut Background<'_>) -> Call {
    let acct = b.account_id();
    let region = b.region_name;
    let oidc = format!(
        "oidc.eks.{region}.amazonaws.com/id/{:032X}",
        u128::from(crate::rng::hash_str(acct))
    );
    let provider = format!("arn:aws:iam::{acct}:oidc-provider/{oidc}");
    let sa = "system:serviceaccount:payments:payments-api";
    b.actor.kind = crate::actor::ActorKind::WebIdentity;
    b.actor.principal_id = format!("{provider}:sts.amazonaws.com:{sa}");
    b.actor.user_name = sa.to_owned();
    b.actor.issuer_arn = provider.clone();
    let mut hr = Rng::new(crate::rng::hash_str(acct) ^ b.hour_us as u64);
    b.actor.ip = crate::org::aws_ip(&mut hr);
    b.actor.agent = crate::actor::SDK_AGENTS[1];
    b.actor.invoked_by.clear();
    b.actor.console = false;
    let (role_arn, _) = issue_session(b, RoleKind::WebIdentity, ExpiryForm::Console);
    let mut w = crate::json::JsonWriter::append(&mut b.resp);
    w.field("subjectFromWebIdentityToken", sa);
    w.field("audience", "sts.amazonaws.com");
    w.field("provider", &provider);
    w.end_object();
    b.regional_host("sts");
    let mut call = Call::mgmt("sts.amazonaws.com", "AssumeRoleWithWebIdentity", true);
    call.response = true;
    b.resource("AWS::IAM::Role", true, format_args!("{role_arn}"));
    call
}

pub(super) fn assume_role_saml(b: &mut Background<'_>) -> Call {
    let idp = format!("arn:aws:iam::{}:saml-provider/Okta", b.account_id());
    b.actor.kind = crate::actor::ActorKind::Saml;
    b.actor.issuer_arn = "Ld3dzQjQ5ZTctZjc1Ni00".to_owned();
    b.actor.ip = b.org.corp_ips[1].clone();
    b.actor.agent = crate::actor::CONSOLE_AGENTS[0];
    b.actor.invoked_by.clear();
    b.actor.console = false;
    let assertion = format!("_{}", b.rng.hex(32));
    let (role_arn, _) = issue_session(b, RoleKind::Saml, ExpiryForm::Console);
    // The person is the session's name (their e-mail).
    let person = b.scratch.clone();
    b.actor.principal_id = format!("Ld3dzQjQ5ZTctZjc1Ni00:{person}");
    b.actor.user_name.clone_from(&person);
    // issue_session wrote roleArn and roleSessionName; add the assertion id.
    b.req.pop();
    let mut w = crate::json::JsonWriter::append(&mut b.req);
    w.field("sAMLAssertionID", &assertion);
    w.end_object();
    let mut w = crate::json::JsonWriter::append(&mut b.resp);
    w.field("subjectType", "persistent");
    w.field("issuer", "http://www.okta.com/exk1a2b3c4d5e6f7g8h9");
    w.field("audience", "https://signin.aws.amazon.com/saml");
    w.field("nameQualifier", "Ld3dzQjQ5ZTctZjc1Ni00");
    w.field("subject", &person);
    w.end_object();
    b.host.clear();
    b.host.push_str("sts.amazonaws.com");
    let mut call = Call::mgmt("sts.amazonaws.com", "AssumeRoleWithSAML", true);
    call.response = true;
    b.resource("AWS::IAM::Role", true, format_args!("{role_arn}"));
    b.resource("AWS::IAM::SAMLProvider", true, format_args!("{idp}"));
    call
}

pub(super) fn get_federation_token(b: &mut Background<'_>) -> Call {
    let acct = &b.org.accounts[b.acct];
    let u = acct
        .users
        .iter()
        .position(|u| u.name.starts_with("svc-etl"))
        .unwrap_or(0);
    b.actor.set_user(b.org, b.acct, u);
    b.actor.ip = b.org.corp_ips[0].clone();
    b.actor.agent = crate::actor::SDK_AGENTS[1];
    let key = Rng::derive(
        b.org.seed,
        "federated",
        (b.hour_us / HOUR) as u64 ^ b.acct as u64,
    )
    .aws_id("ASIA");
    let id = acct.id.clone();
    let mut w = b.req_writer();
    w.begin_object();
    w.field("name", "etl-reader");
    w.field_int("durationSeconds", 43200);
    w.end_object();
    let token = crate::shapes::session_token(&mut b.rng);
    let exp = crate::time::console_form(b.hour_us + 13 * HOUR);
    let mut w = b.resp_writer();
    w.begin_object();
    w.object_field("credentials");
    w.field("accessKeyId", &key);
    w.field("sessionToken", &token);
    w.field("expiration", &exp);
    w.end_object();
    w.object_field("federatedUser");
    w.field("federatedUserId", &format!("{id}:etl-reader"));
    w.field(
        "arn",
        &format!("arn:aws:sts::{id}:federated-user/etl-reader"),
    );
    w.end_object();
    w.field_int("packedPolicySize", 6);
    w.end_object();
    b.regional_host("sts");
    let mut call = Call::mgmt("sts.amazonaws.com", "GetFederationToken", false);
    call.response = true;
    call
}

pub(super) fn get_caller_identity(b: &mut Background<'_>) -> Call {
    if b.rng.chance(0.7) {
        b.workload();
    } else {
        b.human();
    }
    b.regional_host("sts");
    let mut call = Call::mgmt("sts.amazonaws.com", "GetCallerIdentity", true);
    call.request = false;
    call.error = b.maybe_error(&STS_ERR[1..]);
    call
}

pub(super) fn console_login(b: &mut Background<'_>) -> Call {
    let acct = &b.org.accounts[b.acct];
    let humans: Vec<usize> = (0..acct.users.len())
        .filter(|&i| acct.users[i].human)
        .collect();
    let u = *b.rng.pick(&humans);
    b.actor.set_user(b.org, b.acct, u);
    b.actor.key.clear();
    b.actor.ip = b.org.corp_ips[b.rng.index(b.org.corp_ips.len())].clone();
    b.actor.agent = crate::actor::CONSOLE_AGENTS[b.rng.index(3)];
    b.host.clear();
    b.host.push_str("signin.aws.amazon.com");
    let failed = b.rng.chance(b.error_rate);
    let mut w = b.resp_writer();
    w.begin_object();
    w.field("ConsoleLogin", if failed { "Failure" } else { "Success" });
    w.end_object();
    let mut w = b.add_writer();
    w.begin_object();
    w.field("LoginTo", "https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_c885b81ed0514ab4");
    w.field("MobileVersion", "No");
    w.field("MFAUsed", "Yes");
    w.end_object();
    let mut call = Call::mgmt("signin.amazonaws.com", "ConsoleLogin", false);
    call.event_type = "AwsConsoleSignIn";
    call.request = false;
    call.response = true;
    call.additional = true;
    if failed {
        call.error = Some(("Failed authentication", "Failed authentication"));
        b.resp.clear();
        let mut w = b.resp_writer();
        w.begin_object();
        w.field("ConsoleLogin", "Failure");
        w.end_object();
    }
    call
}

pub(super) fn get_role_credentials(b: &mut Background<'_>) -> Call {
    let mgmt = b.org.accounts[0].id.clone();
    let target = &b.org.accounts[b.rng.index(b.org.accounts.len())];
    let ps = *b
        .rng
        .pick(&["AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess"]);
    b.actor.kind = crate::actor::ActorKind::IdentityCenter;
    b.actor.account = mgmt;
    b.actor.principal_id = b.rng.uuid();
    b.actor.user_name = b.actor.principal_id.clone();
    b.actor.issuer_arn = b.org.identity_store_arn.clone();
    b.actor.key = crate::shapes::host_id(&mut b.rng)[..40].to_owned();
    b.actor.ip = b.org.corp_ips[b.rng.index(b.org.corp_ips.len())].clone();
    b.actor.agent = crate::actor::SDK_AGENTS[0];
    b.actor.invoked_by.clear();
    b.actor.console = false;
    b.host.clear();
    b.host.push_str("portal.sso.us-east-1.amazonaws.com");
    let target_id = target.id.clone();
    let mut w = b.req_writer();
    w.begin_object();
    w.field("accountId", &target_id);
    w.field("roleName", ps);
    w.end_object();
    Call::mgmt("sso.amazonaws.com", "GetRoleCredentials", true)
}

pub(super) fn root_activity(b: &mut Background<'_>) -> Call {
    let hour = b.hour_us;
    let mut rng = Rng::new(b.rng.next_u64());
    b.actor.set_root(b.org, b.acct, &mut rng, hour);
    b.actor.ip = b.org.corp_ips[2].clone();
    b.actor.agent = crate::actor::CONSOLE_AGENTS[0];
    b.host.clear();
    b.host.push_str("iam.amazonaws.com");
    let name = *b.rng.pick(&[
        "GetAccountSummary",
        "ListMFADevices",
        "GetAccountPasswordPolicy",
    ]);
    let mut call = Call::mgmt("iam.amazonaws.com", name, true);
    call.request = false;
    call
}
