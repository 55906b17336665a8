//! The ground truth written beside an archive (`ground-truth.json`).
//!
//! For every embedded scenario: the attacker's source addresses, every
//! credential the attacker obtained (who assumed what, from where, which
//! key came out), the chain from each attacker key back to its root of
//! trust, every resource touched (normalised with
//! `backtrail_model::resource::resource_arns`), every tamper event, the ids
//! of all attacker events and of the benign look-alikes planted around
//! them. Field by field in `docs/synth.md`.

use serde::{Deserialize, Serialize};

/// Format tag of the file.
pub const FORMAT: &str = "backtrail-synth-ground-truth/1";

/// Calls that weaken logging, keys, backups or guardrails.
pub const TAMPER_EVENTS: &[(&str, &str)] = &[
    ("cloudtrail.amazonaws.com", "StopLogging"),
    ("cloudtrail.amazonaws.com", "DeleteTrail"),
    ("cloudtrail.amazonaws.com", "UpdateTrail"),
    ("cloudtrail.amazonaws.com", "PutEventSelectors"),
    ("kms.amazonaws.com", "ScheduleKeyDeletion"),
    ("kms.amazonaws.com", "DisableKey"),
    ("backup.amazonaws.com", "DeleteRecoveryPoint"),
    ("backup.amazonaws.com", "DeleteBackupVault"),
    ("backup.amazonaws.com", "DeleteBackupPlan"),
    ("guardduty.amazonaws.com", "DeleteDetector"),
    ("config.amazonaws.com", "StopConfigurationRecorder"),
    ("organizations.amazonaws.com", "LeaveOrganization"),
];

/// Whether `source`/`name` is a tamper call.
pub fn is_tamper(source: &str, name: &str) -> bool {
    TAMPER_EVENTS
        .iter()
        .any(|(s, n)| *s == source && *n == name)
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    /// [`FORMAT`].
    pub format: String,
    /// Seed the archive was generated with.
    pub seed: u64,
    /// Distinct events asked for.
    pub events_requested: u64,
    /// First instant covered (ISO 8601).
    pub start: String,
    /// End of the covered span (exclusive).
    pub end: String,
    /// Organization id (`o-…`).
    pub org_id: String,
    /// Bucket named in digests.
    pub bucket: String,
    /// Accounts of the organization.
    pub accounts: Vec<AccountInfo>,
    /// Approved regions (regular activity).
    pub approved_regions: Vec<String>,
    /// Every region trails deliver for.
    pub trail_regions: Vec<String>,
    /// One entry per embedded scenario.
    pub scenarios: Vec<ScenarioTruth>,
}

/// One account.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountInfo {
    /// 12-digit id.
    pub id: String,
    /// Short name.
    pub name: String,
    /// Also delivers to an account trail (its events appear twice).
    pub account_trail: bool,
}

/// What happened in one scenario.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScenarioTruth {
    /// Command-line name.
    pub scenario: String,
    /// One sentence.
    pub summary: String,
    /// Addresses the attacker acted from (only the attacker uses them).
    pub attacker_ips: Vec<String>,
    /// Credentials the attacker obtained, in time order.
    pub assumptions: Vec<Assumption>,
    /// For each key the attacker used, the chain back to its root.
    pub chains: Vec<Chain>,
    /// Every resource the attacker's events touched, normalised, sorted.
    pub resources_touched: Vec<String>,
    /// Every tamper call by the attacker, in time order.
    pub tamper_events: Vec<TamperEvent>,
    /// Ids of every attacker event (each delivered copy of a cross-account
    /// call counts, org/account trail duplicates do not), sorted.
    pub attacker_event_ids: Vec<String>,
    /// Ids of the benign look-alike events planted for this scenario, sorted.
    pub lookalike_event_ids: Vec<String>,
}

/// One credential-issuing call by the attacker.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Assumption {
    /// `AssumeRole`, `AssumeRoleWithSAML`, `CreateAccessKey`, …
    pub event_name: String,
    /// The caller (model-derived principal: ARN, or user name / service).
    pub actor: String,
    /// Key the caller signed with, if any.
    pub actor_key: Option<String>,
    /// Role (or user) the new credentials act as.
    pub role_arn: String,
    /// Session ARN issued (or the user ARN for access keys).
    pub session_arn: String,
    /// Access key issued.
    pub issued_key: String,
    /// Source address of the call.
    pub source_ip: String,
    /// `eventTime`.
    pub time: String,
    /// `eventID` of every delivered copy (caller's and role owner's).
    pub event_ids: Vec<String>,
    /// `sharedEventID` when the call crossed accounts.
    pub shared_event_id: Option<String>,
}

/// The chain of one attacker key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    /// The key at the end of the chain.
    pub key: String,
    /// What the root of trust is (`IAMUser long-term key`, `ConsoleLogin`,
    /// `AWSService ec2.amazonaws.com`, `SAMLUser`).
    pub root_kind: String,
    /// Root first, the key's own session last.
    pub hops: Vec<Hop>,
}

/// One hop of a chain.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hop {
    /// The identity (model-derived principal).
    pub identity_arn: String,
    /// The key that identity signs with, where it has one.
    pub key: Option<String>,
    /// Root hop: address of its first use; later hops: address of the call
    /// that issued the credentials.
    pub source_ip: String,
    /// Time of that call.
    pub time: String,
    /// `eventID` of that call (the caller's copy).
    pub event_id: String,
}

/// One tamper call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TamperEvent {
    /// `eventSource`.
    pub event_source: String,
    /// `eventName`.
    pub event_name: String,
    /// `eventID`.
    pub event_id: String,
    /// `recipientAccountId`.
    pub account: String,
    /// `awsRegion`.
    pub region: String,
    /// `eventTime`.
    pub time: String,
    /// Whether the call failed (`errorCode` present).
    pub failed: bool,
}
