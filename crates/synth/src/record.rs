//! One CloudTrail record, borrowed, and its serialisation in CloudTrail's
//! key order.
//!
//! Both the background traffic and the planned scenario events are written
//! through [`Record::write`], so every record in an archive has the same
//! shape rules: `eventVersion` first, `userIdentity` with its
//! `sessionContext`, the free-form parts as JSON text, then `requestID`,
//! `eventID`, `readOnly`, `resources`, `eventType`, `managementEvent`,
//! `recipientAccountId`, `sharedEventID`, `vpcEndpointId`,
//! `eventCategory`, `tlsDetails`, `sessionCredentialFromConsole`.

use crate::json::JsonWriter;

/// `userIdentity.sessionContext`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Session<'a> {
    /// `sessionIssuer.type` (`Role`, or `IAMUser` for federation tokens);
    /// `None` leaves `sessionIssuer` out.
    pub issuer_type: Option<&'a str>,
    /// `sessionIssuer.principalId`.
    pub issuer_principal_id: &'a str,
    /// `sessionIssuer.arn`.
    pub issuer_arn: &'a str,
    /// `sessionIssuer.accountId`.
    pub issuer_account: &'a str,
    /// `sessionIssuer.userName`.
    pub issuer_user_name: &'a str,
    /// `attributes.creationDate`.
    pub creation_date: &'a str,
    /// `attributes.mfaAuthenticated`.
    pub mfa: bool,
    /// `sourceIdentity`.
    pub source_identity: Option<&'a str>,
    /// `ec2RoleDelivery` (`"1.0"`, `"2.0"`) for instance-profile sessions.
    pub ec2_role_delivery: Option<&'a str>,
    /// Write an empty `webIdFederationData` object.
    pub web_id_federation: bool,
}

/// `userIdentity`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Identity<'a> {
    /// `type`.
    pub kind: &'a str,
    /// `principalId`.
    pub principal_id: Option<&'a str>,
    /// `arn`.
    pub arn: Option<&'a str>,
    /// `accountId`.
    pub account_id: Option<&'a str>,
    /// `accessKeyId`.
    pub access_key_id: Option<&'a str>,
    /// `userName`.
    pub user_name: Option<&'a str>,
    /// `sessionContext`.
    pub session: Option<Session<'a>>,
    /// `invokedBy`.
    pub invoked_by: Option<&'a str>,
    /// `identityProvider` (SAML, web identity).
    pub identity_provider: Option<&'a str>,
    /// `onBehalfOf` (`userId`, `identityStoreArn`) for Identity Center users.
    pub on_behalf_of: Option<(&'a str, &'a str)>,
    /// `credentialId` (Identity Center).
    pub credential_id: Option<&'a str>,
}

/// `tlsDetails`.
#[derive(Debug, Clone, Copy)]
pub struct Tls<'a> {
    /// `tlsVersion`.
    pub version: &'a str,
    /// `cipherSuite`.
    pub cipher: &'a str,
    /// `clientProvidedHostHeader`.
    pub host: &'a str,
}

/// One `resources[]` entry.
#[derive(Debug, Clone, Copy)]
pub struct Resource<'a> {
    /// `accountId` (left out for S3 objects, as CloudTrail does).
    pub account: Option<&'a str>,
    /// `type`, e.g. `AWS::S3::Object`.
    pub kind: &'a str,
    /// `ARN`.
    pub arn: &'a str,
}

/// One CloudTrail record, every part borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// `eventVersion`.
    pub version: &'a str,
    /// `userIdentity`.
    pub identity: Identity<'a>,
    /// `eventTime`, already formatted.
    pub time: &'a str,
    /// `eventSource`.
    pub source: &'a str,
    /// `eventName`.
    pub name: &'a str,
    /// `awsRegion`.
    pub region: &'a str,
    /// `sourceIPAddress`.
    pub source_ip: &'a str,
    /// `userAgent`.
    pub user_agent: &'a str,
    /// `errorCode` and `errorMessage`.
    pub error: Option<(&'a str, &'a str)>,
    /// `requestParameters` as JSON text; `None` writes `null`.
    pub request: Option<&'a str>,
    /// `responseElements` as JSON text; `None` writes `null`.
    pub response: Option<&'a str>,
    /// `additionalEventData` as JSON text; `None` leaves it out.
    pub additional: Option<&'a str>,
    /// `requestID`.
    pub request_id: &'a str,
    /// `eventID`.
    pub event_id: &'a str,
    /// `readOnly`.
    pub read_only: bool,
    /// `resources`; empty leaves the key out.
    pub resources: &'a [Resource<'a>],
    /// `eventType`: `AwsApiCall`, `AwsConsoleSignIn`, `AwsServiceEvent`.
    pub event_type: &'a str,
    /// `managementEvent`.
    pub management: bool,
    /// `recipientAccountId`.
    pub recipient: &'a str,
    /// `sharedEventID`.
    pub shared_event_id: Option<&'a str>,
    /// `vpcEndpointId`.
    pub vpc_endpoint: Option<&'a str>,
    /// `eventCategory`: `Management` or `Data`.
    pub category: &'a str,
    /// `tlsDetails`.
    pub tls: Option<Tls<'a>>,
    /// `sessionCredentialFromConsole`.
    pub from_console: bool,
}

fn write_identity(w: &mut JsonWriter<'_>, id: &Identity<'_>) {
    w.object_field("userIdentity");
    w.field("type", id.kind);
    let opt = |w: &mut JsonWriter<'_>, k: &str, v: Option<&str>| {
        if let Some(v) = v {
            w.field(k, v);
        }
    };
    opt(w, "principalId", id.principal_id);
    opt(w, "arn", id.arn);
    opt(w, "accountId", id.account_id);
    opt(w, "accessKeyId", id.access_key_id);
    opt(w, "userName", id.user_name);
    if let Some((user_id, store)) = id.on_behalf_of {
        w.object_field("onBehalfOf");
        w.field("userId", user_id);
        w.field("identityStoreArn", store);
        w.end_object();
    }
    opt(w, "identityProvider", id.identity_provider);
    opt(w, "credentialId", id.credential_id);
    if let Some(s) = &id.session {
        w.object_field("sessionContext");
        if let Some(t) = s.issuer_type {
            w.object_field("sessionIssuer");
            w.field("type", t);
            w.field("principalId", s.issuer_principal_id);
            w.field("arn", s.issuer_arn);
            w.field("accountId", s.issuer_account);
            w.field("userName", s.issuer_user_name);
            w.end_object();
        }
        if s.web_id_federation {
            w.object_field("webIdFederationData");
            w.end_object();
        }
        w.object_field("attributes");
        w.field("creationDate", s.creation_date);
        w.field("mfaAuthenticated", if s.mfa { "true" } else { "false" });
        w.end_object();
        opt(w, "sourceIdentity", s.source_identity);
        opt(w, "ec2RoleDelivery", s.ec2_role_delivery);
        w.end_object();
    }
    opt(w, "invokedBy", id.invoked_by);
    w.end_object();
}

impl Record<'_> {
    /// Appends the record as one JSON object.
    pub fn write(&self, w: &mut JsonWriter<'_>) {
        w.begin_object();
        w.field("eventVersion", self.version);
        write_identity(w, &self.identity);
        w.field("eventTime", self.time);
        w.field("eventSource", self.source);
        w.field("eventName", self.name);
        w.field("awsRegion", self.region);
        w.field("sourceIPAddress", self.source_ip);
        w.field("userAgent", self.user_agent);
        if let Some((code, msg)) = self.error {
            w.field("errorCode", code);
            w.field("errorMessage", msg);
        }
        w.key("requestParameters");
        match self.request {
            Some(r) => w.raw(r),
            None => w.null(),
        }
        w.key("responseElements");
        match self.response {
            Some(r) => w.raw(r),
            None => w.null(),
        }
        if let Some(a) = self.additional {
            w.key("additionalEventData");
            w.raw(a);
        }
        w.field("requestID", self.request_id);
        w.field("eventID", self.event_id);
        w.field_bool("readOnly", self.read_only);
        if !self.resources.is_empty() {
            w.array_field("resources");
            for r in self.resources {
                w.begin_object();
                if let Some(a) = r.account {
                    w.field("accountId", a);
                }
                w.field("type", r.kind);
                w.field("ARN", r.arn);
                w.end_object();
            }
            w.end_array();
        }
        w.field("eventType", self.event_type);
        w.field_bool("managementEvent", self.management);
        w.field("recipientAccountId", self.recipient);
        if let Some(s) = self.shared_event_id {
            w.field("sharedEventID", s);
        }
        if let Some(v) = self.vpc_endpoint {
            w.field("vpcEndpointId", v);
        }
        w.field("eventCategory", self.category);
        if let Some(t) = &self.tls {
            w.object_field("tlsDetails");
            w.field("tlsVersion", t.version);
            w.field("cipherSuite", t.cipher);
            w.field("clientProvidedHostHeader", t.host);
            w.end_object();
        }
        if self.from_console {
            w.field_bool("sessionCredentialFromConsole", true);
        }
        w.end_object();
    }
}
