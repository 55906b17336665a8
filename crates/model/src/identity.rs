//! Who acted, and which calls hand out credentials.
//!
//! [`derive`] computes, once per event at ingest, the forensic columns the
//! queries rely on (actor ARN, role, session, key, MFA) and, for
//! credential-issuing calls, what was issued ([`Issuance`]). It reads the
//! record through [`EventView`], so it works over any JSON representation.

use crate::arn::{Arn, assumed_role_parts, role_arn_of_session};
use crate::time::parse_expiration;

/// `userIdentity.type` values CloudTrail writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentityType {
    /// A role session.
    AssumedRole,
    /// An IAM user (long-term key or console password).
    IamUser,
    /// The account's root user.
    Root,
    /// An AWS service acting on its own behalf.
    AwsService,
    /// Another AWS account.
    AwsAccount,
    /// `GetFederationToken` session.
    FederatedUser,
    /// SAML federation.
    SamlUser,
    /// OIDC / web identity federation.
    WebIdentityUser,
    /// IAM Identity Center user.
    IdentityCenterUser,
    /// `Unknown` (failed sign-ins, some Identity Center events).
    Unknown,
}

impl IdentityType {
    /// Parses the CloudTrail spelling; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "AssumedRole" => Self::AssumedRole,
            "IAMUser" => Self::IamUser,
            "Root" => Self::Root,
            "AWSService" => Self::AwsService,
            "AWSAccount" => Self::AwsAccount,
            "FederatedUser" => Self::FederatedUser,
            "SAMLUser" => Self::SamlUser,
            "WebIdentityUser" => Self::WebIdentityUser,
            "IdentityCenterUser" => Self::IdentityCenterUser,
            "Unknown" => Self::Unknown,
            _ => return None,
        })
    }

    /// The CloudTrail spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::AssumedRole => "AssumedRole",
            Self::IamUser => "IAMUser",
            Self::Root => "Root",
            Self::AwsService => "AWSService",
            Self::AwsAccount => "AWSAccount",
            Self::FederatedUser => "FederatedUser",
            Self::SamlUser => "SAMLUser",
            Self::WebIdentityUser => "WebIdentityUser",
            Self::IdentityCenterUser => "IdentityCenterUser",
            Self::Unknown => "Unknown",
        }
    }

    /// Whether an identity of this type is a root of trust for a chain:
    /// nothing in CloudTrail issued it from another key.
    pub fn is_root_of_trust(self) -> bool {
        !matches!(self, Self::AssumedRole | Self::FederatedUser)
    }
}

/// What an access key id's prefix says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// `AKIA…`: an IAM user's (or root's) long-term key.
    LongTerm,
    /// `ASIA…`: temporary credentials from STS.
    Temporary,
    /// Anything else (placeholders, console sessions, redacted).
    Other,
}

impl KeyKind {
    /// Classifies a key id by its prefix.
    pub fn of(key: &str) -> Self {
        if key.starts_with("AKIA") {
            Self::LongTerm
        } else if key.starts_with("ASIA") {
            Self::Temporary
        } else {
            Self::Other
        }
    }
}

/// Whether `eventSource`/`eventName` is a call that issues credentials.
pub fn is_credential_issuing(event_source: &str, event_name: &str) -> bool {
    match event_source {
        "sts.amazonaws.com" => matches!(
            event_name,
            "AssumeRole"
                | "AssumeRoleWithSAML"
                | "AssumeRoleWithWebIdentity"
                | "GetFederationToken"
                | "GetSessionToken"
                | "AssumeRoot"
        ),
        "sso.amazonaws.com" | "portal.sso.amazonaws.com" => event_name == "GetRoleCredentials",
        "iam.amazonaws.com" => event_name == "CreateAccessKey",
        _ => false,
    }
}

/// Read access to the parts of one record [`derive`] needs. Paths are
/// dotted (`sessionContext.sessionIssuer.arn`), relative to the named
/// object; only string values are returned (booleans as `"true"`/`"false"`).
pub trait EventView {
    /// `eventSource`, `eventName`, `recipientAccountId`, … (top-level strings).
    fn top(&self, key: &str) -> Option<&str>;
    /// A string under `userIdentity`.
    fn identity(&self, path: &str) -> Option<&str>;
    /// A string under `requestParameters`.
    fn request(&self, path: &str) -> Option<&str>;
    /// A string under `responseElements`.
    fn response(&self, path: &str) -> Option<&str>;
    /// A string under `additionalEventData`.
    fn additional(&self, path: &str) -> Option<&str>;
}

/// What a credential-issuing call issued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issuance {
    /// The role, user or federated identity the credentials act as.
    pub target_role_arn: Option<String>,
    /// Requested session name.
    pub target_session_name: Option<String>,
    /// `sourceIdentity` set on the new session.
    pub source_identity: Option<String>,
    /// Access key id issued.
    pub issued_key: Option<String>,
    /// Session ARN issued (`assumedRoleUser.arn`, `federatedUser.arn`).
    pub issued_session_arn: Option<String>,
    /// Expiration as written.
    pub expiration_raw: Option<String>,
    /// Expiration parsed, UTC microseconds.
    pub expiration: Option<i64>,
}

/// The derived forensic fields of one event.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// The acting principal's ARN (or service name / user id where no ARN).
    pub principal_arn: Option<String>,
    /// `userIdentity.type`.
    pub principal_type: Option<String>,
    /// The key the call was signed with.
    pub access_key_id: Option<String>,
    /// The role behind a role session.
    pub role_arn: Option<String>,
    /// The session name of a role or federated session.
    pub session_name: Option<String>,
    /// MFA used, where the record says.
    pub mfa: Option<bool>,
    /// Set for credential-issuing calls.
    pub issuance: Option<Issuance>,
}

fn owned(s: Option<&str>) -> Option<String> {
    s.filter(|v| !v.is_empty()).map(str::to_owned)
}

fn principal_arn(v: &dyn EventView, ty: Option<&str>) -> Option<String> {
    if let Some(arn) = v.identity("arn").filter(|a| !a.is_empty()) {
        return Some(arn.to_owned());
    }
    let account = v
        .identity("accountId")
        .or_else(|| v.top("recipientAccountId"));
    match ty {
        Some("Root") => account.map(|a| format!("arn:aws:iam::{a}:root")),
        Some("AWSService") => owned(v.identity("invokedBy")),
        Some("AWSAccount") => owned(v.identity("accountId"))
            .map(|a| format!("arn:aws:iam::{a}:root"))
            .or_else(|| owned(v.identity("principalId"))),
        Some("IdentityCenterUser") => owned(v.identity("onBehalfOf.userId"))
            .or_else(|| owned(v.identity("userName")))
            .or_else(|| owned(v.identity("principalId"))),
        _ => owned(v.identity("userName")).or_else(|| owned(v.identity("principalId"))),
    }
}

fn parse_mfa(s: &str) -> Option<bool> {
    match s {
        "true" | "Yes" | "yes" | "TRUE" | "True" => Some(true),
        "false" | "No" | "no" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

fn issuance(v: &dyn EventView, source: &str, name: &str, actor: Option<&str>) -> Issuance {
    let account = v
        .top("recipientAccountId")
        .or_else(|| v.identity("accountId"));
    let mut i = Issuance {
        issued_key: owned(v.response("credentials.accessKeyId")),
        expiration_raw: owned(v.response("credentials.expiration")),
        source_identity: owned(v.request("sourceIdentity"))
            .or_else(|| owned(v.response("sourceIdentity"))),
        ..Issuance::default()
    };
    match (source, name) {
        (
            "sts.amazonaws.com",
            "AssumeRole" | "AssumeRoleWithSAML" | "AssumeRoleWithWebIdentity",
        ) => {
            i.target_role_arn = owned(v.request("roleArn"));
            i.issued_session_arn = owned(v.response("assumedRoleUser.arn"));
            i.target_session_name = owned(v.request("roleSessionName")).or_else(|| {
                i.issued_session_arn
                    .as_deref()
                    .and_then(assumed_role_parts)
                    .map(|(_, s)| s.to_owned())
            });
        }
        ("sts.amazonaws.com", "GetFederationToken") => {
            i.issued_session_arn = owned(v.response("federatedUser.arn"));
            i.target_session_name = owned(v.request("name"));
            i.target_role_arn = i.issued_session_arn.clone();
        }
        ("sts.amazonaws.com", "GetSessionToken") => {
            i.target_role_arn = actor.map(str::to_owned);
            i.issued_session_arn = actor.map(str::to_owned);
        }
        ("sts.amazonaws.com", "AssumeRoot") => {
            i.target_role_arn = owned(v.request("targetPrincipal")).map(|p| {
                if p.starts_with("arn:") {
                    p
                } else {
                    format!("arn:aws:iam::{p}:root")
                }
            });
        }
        (_, "GetRoleCredentials") => {
            let role = v.request("roleName");
            let acct = v.request("accountId").or(account);
            i.target_role_arn = match (role, acct) {
                (Some(r), Some(a)) => Some(format!("arn:aws:iam::{a}:role/{r}")),
                (Some(r), None) => Some(r.to_owned()),
                _ => None,
            };
            i.target_session_name =
                owned(v.identity("userName")).or_else(|| owned(v.identity("onBehalfOf.userId")));
        }
        ("iam.amazonaws.com", "CreateAccessKey") => {
            i.issued_key = owned(v.response("accessKey.accessKeyId"));
            let user = v
                .request("userName")
                .or_else(|| v.response("accessKey.userName"));
            i.target_role_arn = match (user, account) {
                (Some(u), Some(a)) => Some(format!("arn:aws:iam::{a}:user/{u}")),
                _ => actor.map(str::to_owned),
            };
        }
        _ => {}
    }
    i.expiration = i.expiration_raw.as_deref().and_then(parse_expiration);
    i
}

/// Computes the derived forensic fields of one event.
pub fn derive(v: &dyn EventView) -> Derived {
    let ty = v.identity("type");
    let principal = principal_arn(v, ty);
    let mut d = Derived {
        principal_type: owned(ty),
        access_key_id: owned(v.identity("accessKeyId")),
        ..Derived::default()
    };
    match ty {
        Some("AssumedRole") => {
            d.role_arn = owned(v.identity("sessionContext.sessionIssuer.arn"))
                .or_else(|| principal.as_deref().and_then(role_arn_of_session));
            d.session_name = principal
                .as_deref()
                .and_then(assumed_role_parts)
                .map(|(_, s)| s.to_owned());
        }
        Some("FederatedUser") => {
            d.role_arn = owned(v.identity("sessionContext.sessionIssuer.arn"));
            d.session_name = principal
                .as_deref()
                .and_then(Arn::parse)
                .map(|a| a.last_segment().to_owned());
        }
        _ => {}
    }
    d.mfa = v
        .identity("sessionContext.attributes.mfaAuthenticated")
        .and_then(parse_mfa)
        .or_else(|| v.additional("MFAUsed").and_then(parse_mfa));
    let (source, name) = (v.top("eventSource"), v.top("eventName"));
    if let (Some(s), Some(n)) = (source, name)
        && is_credential_issuing(s, n)
    {
        d.issuance = Some(issuance(v, s, n, principal.as_deref()));
    }
    d.principal_arn = principal;
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct Map(HashMap<String, String>);
    impl Map {
        fn with(mut self, k: &str, v: &str) -> Self {
            self.0.insert(k.into(), v.into());
            self
        }
        fn get(&self, prefix: &str, k: &str) -> Option<&str> {
            self.0.get(&format!("{prefix}{k}")).map(String::as_str)
        }
    }
    impl EventView for Map {
        fn top(&self, k: &str) -> Option<&str> {
            self.get("", k)
        }
        fn identity(&self, p: &str) -> Option<&str> {
            self.get("userIdentity.", p)
        }
        fn request(&self, p: &str) -> Option<&str> {
            self.get("requestParameters.", p)
        }
        fn response(&self, p: &str) -> Option<&str> {
            self.get("responseElements.", p)
        }
        fn additional(&self, p: &str) -> Option<&str> {
            self.get("additionalEventData.", p)
        }
    }

    #[test]
    fn assume_role_by_a_role_session() {
        let m = Map::default()
            .with("eventSource", "sts.amazonaws.com")
            .with("eventName", "AssumeRole")
            .with("userIdentity.type", "AssumedRole")
            .with(
                "userIdentity.arn",
                "arn:aws:sts::111:assumed-role/Ops/alice",
            )
            .with("userIdentity.accessKeyId", "ASIAAAA")
            .with(
                "userIdentity.sessionContext.sessionIssuer.arn",
                "arn:aws:iam::111:role/team/Ops",
            )
            .with(
                "userIdentity.sessionContext.attributes.mfaAuthenticated",
                "true",
            )
            .with("requestParameters.roleArn", "arn:aws:iam::222:role/Admin")
            .with("requestParameters.roleSessionName", "x")
            .with("responseElements.credentials.accessKeyId", "ASIABBBB")
            .with(
                "responseElements.credentials.expiration",
                "Sep 14, 2020, 7:14:11 AM",
            )
            .with(
                "responseElements.assumedRoleUser.arn",
                "arn:aws:sts::222:assumed-role/Admin/x",
            );
        let d = derive(&m);
        assert_eq!(
            d.role_arn.as_deref(),
            Some("arn:aws:iam::111:role/team/Ops")
        );
        assert_eq!(d.session_name.as_deref(), Some("alice"));
        assert_eq!(d.mfa, Some(true));
        let i = d.issuance.unwrap();
        assert_eq!(i.issued_key.as_deref(), Some("ASIABBBB"));
        assert_eq!(
            i.target_role_arn.as_deref(),
            Some("arn:aws:iam::222:role/Admin")
        );
        assert!(i.expiration.is_some());
    }

    #[test]
    fn root_and_service_principals() {
        let root = Map::default()
            .with("userIdentity.type", "Root")
            .with("userIdentity.accountId", "123");
        assert_eq!(
            derive(&root).principal_arn.as_deref(),
            Some("arn:aws:iam::123:root")
        );
        let svc = Map::default()
            .with("userIdentity.type", "AWSService")
            .with("userIdentity.invokedBy", "ec2.amazonaws.com");
        assert_eq!(
            derive(&svc).principal_arn.as_deref(),
            Some("ec2.amazonaws.com")
        );
    }

    #[test]
    fn console_login_mfa_comes_from_additional_data() {
        let m = Map::default()
            .with("eventName", "ConsoleLogin")
            .with("userIdentity.type", "IAMUser")
            .with("additionalEventData.MFAUsed", "No");
        assert_eq!(derive(&m).mfa, Some(false));
    }

    #[test]
    fn create_access_key_issues_a_long_term_key() {
        let m = Map::default()
            .with("eventSource", "iam.amazonaws.com")
            .with("eventName", "CreateAccessKey")
            .with("recipientAccountId", "123")
            .with("requestParameters.userName", "backdoor")
            .with("responseElements.accessKey.accessKeyId", "AKIANEW");
        let i = derive(&m).issuance.unwrap();
        assert_eq!(i.issued_key.as_deref(), Some("AKIANEW"));
        assert_eq!(
            i.target_role_arn.as_deref(),
            Some("arn:aws:iam::123:user/backdoor")
        );
    }

    #[test]
    fn key_kinds() {
        assert_eq!(KeyKind::of("AKIAEXAMPLE"), KeyKind::LongTerm);
        assert_eq!(KeyKind::of("ASIAEXAMPLE"), KeyKind::Temporary);
        assert_eq!(KeyKind::of(""), KeyKind::Other);
    }
}
