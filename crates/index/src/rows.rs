//! The rows queries return. Field names are part of the interface: scripts
//! read the JSON (`serde`) output by these names, so they never change.
//!
//! Times are UTC microseconds in Rust and RFC 3339 strings
//! (`2024-05-01T12:00:00Z`, CloudTrail's own spelling) in JSON.

use backtrail_model::identity::is_credential_issuing;
use backtrail_model::time::format_event_time;
use serde::{Serialize, Serializer};

#[allow(clippy::ref_option)] // serde's `serialize_with` hands us `&Option<_>`
fn rfc3339<S: Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(us) => s.serialize_str(&format_event_time(*us)),
        None => s.serialize_none(),
    }
}

/// The fields every event row carries.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventRow {
    /// `eventTime`, UTC microseconds (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub event_time: Option<i64>,
    /// `eventID`.
    pub event_id: Option<String>,
    /// `eventSource`.
    pub event_source: Option<String>,
    /// `eventName`.
    pub event_name: Option<String>,
    /// `awsRegion`.
    pub aws_region: Option<String>,
    /// `recipientAccountId`.
    pub recipient_account_id: Option<String>,
    /// The acting principal (derived `principal_arn`).
    pub principal_arn: Option<String>,
    /// `userIdentity.type`.
    pub principal_type: Option<String>,
    /// The key the call was signed with.
    pub access_key_id: Option<String>,
    /// `sourceIPAddress`.
    pub source_ip: Option<String>,
    /// `userAgent`.
    pub user_agent: Option<String>,
    /// `errorCode` (absent when the call succeeded).
    pub error_code: Option<String>,
}

/// One event of an actor (`timeline`): the event and everything it
/// touched, so an analyst sees the data a chain reached without a second
/// query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TimelineRow {
    /// The event.
    #[serde(flatten)]
    pub event: EventRow,
    /// Every resource the event touched (derived `resource_arns`).
    pub resource_arns: Vec<String>,
}

/// One event that touched a resource (`touched`): one row an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TouchedRow {
    /// The event.
    #[serde(flatten)]
    pub event: EventRow,
    /// The first of the event's resources (in the event's own order) that
    /// matched the query.
    pub resource_arn: String,
}

/// A credential-issuing call (`who_assumed`), also the shape of a chain hop.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AssumeRow {
    /// The event; `principal_arn`/`access_key_id` are the caller's.
    #[serde(flatten)]
    pub event: EventRow,
    /// For an issuing call the role (or user) the credentials are for; for
    /// any other event the role behind the acting session.
    pub role_arn: Option<String>,
    /// Who made the call (same as `principal_arn`).
    pub caller_arn: Option<String>,
    /// The key the caller signed with (same as `access_key_id`).
    pub caller_key: Option<String>,
    /// Requested session name (issuing call) or acting session name.
    pub session_name: Option<String>,
    /// `sourceIdentity` set on the new session.
    pub source_identity: Option<String>,
    /// Whether the caller had authenticated with MFA.
    pub mfa: Option<bool>,
    /// The access key id issued.
    pub issued_key: Option<String>,
    /// The session ARN issued.
    pub session_arn: Option<String>,
    /// Expiration of the issued credentials (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub expiration: Option<i64>,
    /// Expiration exactly as CloudTrail wrote it.
    pub expiration_raw: Option<String>,
}

/// Everything the queries read from a dataset row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FullRow {
    pub event: EventRow,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    pub mfa: Option<bool>,
    pub target_role_arn: Option<String>,
    pub target_session_name: Option<String>,
    pub source_identity: Option<String>,
    pub issued_key: Option<String>,
    pub issued_session_arn: Option<String>,
    pub expiration: Option<i64>,
    pub expiration_raw: Option<String>,
    pub resource_arns: Vec<String>,
}

impl FullRow {
    pub fn is_issuing(&self) -> bool {
        let e = &self.event;
        matches!((&e.event_source, &e.event_name), (Some(s), Some(n)) if is_credential_issuing(s, n))
    }

    /// The row as an [`AssumeRow`] (see its field docs for what differs
    /// between issuing and other events).
    pub fn into_assume_row(self) -> AssumeRow {
        let issuing = self.is_issuing();
        let (role_arn, session_name) = if issuing {
            (self.target_role_arn, self.target_session_name)
        } else {
            (self.role_arn, self.session_name)
        };
        AssumeRow {
            caller_arn: self.event.principal_arn.clone(),
            caller_key: self.event.access_key_id.clone(),
            event: self.event,
            role_arn,
            session_name,
            source_identity: self.source_identity,
            mfa: self.mfa,
            issued_key: self.issued_key,
            session_arn: self.issued_session_arn,
            expiration: self.expiration,
            expiration_raw: self.expiration_raw,
        }
    }
}

/// The lifecycle of one issued credential (`sessions`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SessionRow {
    /// The issuing event (its `principal_arn`/`access_key_id` are the caller's).
    #[serde(flatten)]
    pub event: EventRow,
    /// The role (or user) the credentials are for.
    pub role_arn: Option<String>,
    /// Who obtained the credentials.
    pub caller_arn: Option<String>,
    /// The key the caller signed the issuing call with.
    pub caller_key: Option<String>,
    /// Requested session name.
    pub session_name: Option<String>,
    /// `sourceIdentity` of the new session.
    pub source_identity: Option<String>,
    /// MFA of the caller.
    pub mfa: Option<bool>,
    /// The access key id issued.
    pub issued_key: String,
    /// The session ARN issued.
    pub session_arn: Option<String>,
    /// When the credentials expire (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub expiration: Option<i64>,
    /// Expiration exactly as CloudTrail wrote it.
    pub expiration_raw: Option<String>,
    /// Earliest call signed with the key (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub first_use: Option<i64>,
    /// Latest call signed with the key (RFC 3339 in JSON).
    #[serde(serialize_with = "rfc3339")]
    pub last_use: Option<i64>,
    /// Number of calls signed with the key, in the whole archive.
    pub calls: u64,
    /// Distinct source IPs of those calls, sorted.
    pub source_ips: Vec<String>,
    /// Calls that returned an error code.
    pub errors: u64,
    /// Calls that failed because credentials had expired (see
    /// `is_expired_credential_error`).
    pub expired_errors: u64,
    /// Some call came from an IP other than the one that obtained the key.
    pub used_from_other_ip: bool,
    /// Some call was made after the expiration.
    pub used_after_expiry: bool,
}
