//! Background traffic: the everyday calls of an organization, per account
//! and region.
//!
//! A [`Background`] writes one record at a time straight into the file
//! buffer. It picks an API by weight (data events first: S3 objects,
//! DynamoDB items, Lambda invocations; then KMS, STS, EC2 reads, Secrets
//! Manager, SSM, IAM, sign-in, Backup, Organizations, …), an actor that
//! makes that call in real life (workload role sessions from AWS
//! addresses, people through Identity Center from the office, service
//! users, AWS services, rarely root), and fills request, response,
//! resources and errors in the shapes CloudTrail writes. The API bodies
//! live in [`crate::apis`].

use crate::actor::{Actor, ActorKind, CONSOLE_AGENTS, SDK_AGENTS};
use crate::json::JsonWriter;
use crate::org::{Org, RoleKind, SessionRef, aws_ip};
use crate::record::{Record, Resource, Tls};
use crate::rng::{Rng, hash_str, splitmix};
use crate::time::{HOUR, TimeBuf};

/// What the API body decided about the call.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    /// `eventSource`.
    pub source: &'static str,
    /// `eventName`.
    pub name: &'static str,
    /// `readOnly`.
    pub read_only: bool,
    /// A data event (`eventCategory: Data`, `managementEvent: false`).
    pub data: bool,
    /// `eventType`.
    pub event_type: &'static str,
    /// `requestParameters` written (else `null`).
    pub request: bool,
    /// `responseElements` written (else `null`).
    pub response: bool,
    /// `additionalEventData` written.
    pub additional: bool,
    /// `errorCode` / `errorMessage`.
    pub error: Option<(&'static str, &'static str)>,
    /// `sharedEventID` written.
    pub shared: bool,
    /// `vpcEndpointId` written.
    pub vpc: bool,
    /// `tlsDetails` written.
    pub tls: bool,
}

impl Call {
    /// A management call with defaults (request and TLS present).
    pub fn mgmt(source: &'static str, name: &'static str, read_only: bool) -> Self {
        Call {
            source,
            name,
            read_only,
            data: false,
            event_type: "AwsApiCall",
            request: true,
            response: false,
            additional: false,
            error: None,
            shared: false,
            vpc: false,
            tls: true,
        }
    }

    /// A data call.
    pub fn data(source: &'static str, name: &'static str, read_only: bool) -> Self {
        Call {
            data: true,
            ..Call::mgmt(source, name, read_only)
        }
    }
}

/// One API in the weighted catalog.
pub struct Api {
    /// Relative weight.
    pub weight: f64,
    /// Logged only in the home region (IAM, sign-in, Organizations, …).
    pub global: bool,
    /// Only in the management account.
    pub mgmt_only: bool,
    /// Writes the body and returns the call.
    pub body: fn(&mut Background<'_>) -> Call,
}

/// Writes background records for one account and region.
pub struct Background<'o> {
    /// The organization.
    pub org: &'o Org,
    /// Account index.
    pub acct: usize,
    /// Region index in `org.regions` (activity only happens in those).
    pub region: usize,
    /// Region name.
    pub region_name: &'o str,
    /// Share of failed calls.
    pub error_rate: f64,
    /// This stream's generator.
    pub rng: Rng,
    /// The current actor.
    pub actor: Actor,
    /// Request JSON scratch.
    pub req: Vec<u8>,
    /// Response JSON scratch.
    pub resp: Vec<u8>,
    /// Additional-data JSON scratch.
    pub add: Vec<u8>,
    /// Resource ARNs scratch.
    pub res_arn: [String; 2],
    /// Resource types.
    pub res_kind: [&'static str; 2],
    /// Resource accounts (`None`: left out).
    pub res_acct: [bool; 2],
    /// Resources used.
    pub res_n: usize,
    /// `clientProvidedHostHeader`.
    pub host: String,
    /// Scratch for names.
    pub scratch: String,
    /// Start of the current hour.
    pub hour_us: i64,
    /// Current event time.
    pub now_us: i64,
    cumulative: Vec<f64>,
    apis: &'static [Api],
    event_id: String,
    request_id: String,
    shared_id: String,
    time: TimeBuf,
}

impl<'o> Background<'o> {
    /// A writer for `acct` in `region`, seeded per stream.
    pub fn new(
        org: &'o Org,
        acct: usize,
        region: usize,
        seed: u64,
        error_rate: f64,
        home_region: &str,
    ) -> Self {
        let region_name = org.regions[region].as_str();
        let is_home = region_name == home_region
            || (!org.regions.iter().any(|r| r == home_region) && region == 0);
        let apis = crate::apis::CATALOG;
        let mut cumulative = Vec::with_capacity(apis.len());
        let mut total = 0.0;
        for a in apis {
            let ok = (!a.global || is_home) && (!a.mgmt_only || acct == 0);
            total += if ok { a.weight } else { 0.0 };
            cumulative.push(total);
        }
        Background {
            org,
            acct,
            region,
            region_name,
            error_rate,
            rng: Rng::derive(seed, "background", (acct as u64) << 16 | region as u64),
            actor: Actor::default(),
            req: Vec::with_capacity(512),
            resp: Vec::with_capacity(2048),
            add: Vec::with_capacity(256),
            res_arn: [String::new(), String::new()],
            res_kind: ["", ""],
            res_acct: [true, true],
            res_n: 0,
            host: String::new(),
            scratch: String::new(),
            hour_us: 0,
            now_us: 0,
            cumulative,
            apis,
            event_id: String::with_capacity(36),
            request_id: String::with_capacity(36),
            shared_id: String::with_capacity(36),
            time: TimeBuf::default(),
        }
    }

    /// The account id.
    pub fn account_id(&self) -> &'o str {
        &self.org.accounts[self.acct].id
    }

    /// Adds a `resources[]` entry.
    pub fn resource(
        &mut self,
        kind: &'static str,
        with_account: bool,
        arn: std::fmt::Arguments<'_>,
    ) {
        use std::fmt::Write;
        let i = self.res_n.min(1);
        self.res_arn[i].clear();
        let _ = self.res_arn[i].write_fmt(arn);
        self.res_kind[i] = kind;
        self.res_acct[i] = with_account;
        self.res_n = i + 1;
    }

    /// Sets `clientProvidedHostHeader` to `svc.REGION.amazonaws.com`.
    pub fn regional_host(&mut self, svc: &str) {
        self.host.clear();
        self.host.push_str(svc);
        self.host.push('.');
        self.host.push_str(self.region_name);
        self.host.push_str(".amazonaws.com");
    }

    /// Chooses a workload role session (task, Lambda, instance, pod, CI).
    pub fn workload(&mut self) {
        let kinds = [
            (RoleKind::App, 5.0),
            (RoleKind::Lambda, 3.0),
            (RoleKind::Instance, 3.0),
            (RoleKind::WebIdentity, 2.0),
            (RoleKind::Ci, 0.5),
            (RoleKind::Audit, 0.3),
        ];
        let cum: Vec<f64> = kinds
            .iter()
            .scan(0.0, |s, (_, w)| {
                *s += w;
                Some(*s)
            })
            .collect();
        let kind = kinds[self.rng.weighted(&cum)].0;
        self.role_session(kind);
    }

    /// A role of `kind` in this account (uniformly among them) and a
    /// session slot of it: `(role index, slot)`.
    pub fn pick_session(&mut self, kind: RoleKind) -> (usize, u32) {
        let acct = &self.org.accounts[self.acct];
        let of_kind: Vec<usize> = (0..acct.roles.len())
            .filter(|&i| acct.roles[i].kind == kind)
            .collect();
        let role_idx = if of_kind.is_empty() {
            0
        } else {
            of_kind[self.rng.index(of_kind.len())]
        };
        let slot = self
            .rng
            .below(u64::from(acct.roles[role_idx].sessions.max(1))) as u32;
        (role_idx, slot)
    }

    /// The session name, source address and user agent of session `slot`
    /// of role `role_idx` in the current hour: derived from the role, the
    /// hour and the slot only, so the `AssumeRole` that issues a session and
    /// the calls made with it agree. The name is left in `self.scratch`.
    pub fn session_shape(&mut self, role_idx: usize, slot: u32) -> (String, &'static str) {
        let org = self.org;
        let acct = &org.accounts[self.acct];
        let role = &acct.roles[role_idx];
        let hour = self.hour_us / HOUR;
        let h = splitmix(hash_str(&role.arn) ^ splitmix((hour as u64) << 8 | u64::from(slot)));
        let mut hr = Rng::new(h);
        self.scratch.clear();
        let mut agent = SDK_AGENTS[hr.index(6)];
        let mut ip = None;
        match role.kind {
            RoleKind::App => {
                if hr.chance(0.3) {
                    self.scratch.push_str(&hr.hex(32));
                } else {
                    self.scratch.push_str("aws-sdk-java-");
                    self.scratch
                        .push_str(&(1_741_000_000_000 + hr.below(9_000_000_000)).to_string());
                }
            }
            RoleKind::Lambda => {
                self.scratch.push_str(role.name.trim_end_matches("-lambda"));
                self.scratch.push_str("-handler");
                agent = SDK_AGENTS[4];
            }
            RoleKind::Instance => {
                let inst = acct
                    .instances
                    .iter()
                    .find(|i| i.role == role_idx && i.region == self.region);
                match inst {
                    Some(i) => {
                        self.scratch.push_str(&i.id);
                        ip = Some(i.ip.clone());
                    }
                    None => {
                        self.scratch.push_str("i-0");
                        self.scratch.push_str(&hr.hex(16));
                    }
                }
            }
            RoleKind::WebIdentity => {
                self.scratch.push_str("botocore-session-");
                self.scratch
                    .push_str(&(1_741_000_000 + hr.below(9_000_000)).to_string());
            }
            RoleKind::Ci => {
                self.scratch.push_str("GitHubActions");
                agent = SDK_AGENTS[6];
            }
            RoleKind::Sso | RoleKind::Saml => {
                let u = &acct.users[hr.index(acct.users.len())];
                self.scratch.push_str(&u.name);
                self.scratch.push_str("@acme.example");
                agent = if hr.chance(0.6) {
                    CONSOLE_AGENTS[hr.index(3)]
                } else {
                    SDK_AGENTS[0]
                };
                ip = Some(org.corp_ips[hr.index(org.corp_ips.len())].clone());
            }
            RoleKind::Audit => {
                self.scratch.push_str("prowler-scan");
                agent = SDK_AGENTS[1];
            }
            _ => self.scratch.push_str("session"),
        }
        (ip.unwrap_or_else(|| aws_ip(&mut hr)), agent)
    }

    /// The session `slot` of `role` in this account and region.
    pub fn session_ref(&self, role: usize, slot: u32) -> SessionRef {
        SessionRef {
            account: self.acct,
            role,
            region: self.region,
            slot,
        }
    }

    /// Fills the actor as a session of a role of `kind` in this account.
    pub fn role_session(&mut self, kind: RoleKind) {
        let (role_idx, slot) = self.pick_session(kind);
        let (ip, agent) = self.session_shape(role_idx, slot);
        let name = std::mem::take(&mut self.scratch);
        self.actor.set_role(
            self.org,
            self.session_ref(role_idx, slot),
            self.hour_us,
            &name,
        );
        self.scratch = name;
        self.actor.ip = ip;
        self.actor.agent = agent;
        let kind = self.org.accounts[self.acct].roles[role_idx].kind;
        self.actor.console = kind == RoleKind::Sso && agent.starts_with("Mozilla");
    }

    /// Fills the actor as a person through Identity Center.
    /// People arrive through Identity Center (70 %) or the Okta SAML role,
    /// whose sessions carry the person's e-mail as `sourceIdentity`.
    pub fn human(&mut self) {
        if self.rng.chance(0.7) {
            self.role_session(RoleKind::Sso);
        } else {
            self.role_session(RoleKind::Saml);
            self.actor.source_identity.clear();
            self.actor.source_identity.push_str(&self.scratch);
        }
    }

    /// Fills the actor as a service user with a long-term key.
    pub fn service_user(&mut self) {
        let acct = &self.org.accounts[self.acct];
        let svc: Vec<usize> = (0..acct.users.len())
            .filter(|&i| !acct.users[i].human)
            .collect();
        let u = *self.rng.pick(&svc);
        self.actor.set_user(self.org, self.acct, u);
        let mut hr = Rng::new(hash_str(&acct.users[u].key));
        self.actor.ip = if u.is_multiple_of(2) {
            self.org.corp_ips[hr.index(6)].clone()
        } else {
            aws_ip(&mut hr)
        };
        self.actor.agent = SDK_AGENTS[hr.index(4)];
    }

    /// Fills the actor as the AWS service `svc`.
    pub fn service(&mut self, svc: &str) {
        self.actor.set_service(svc);
    }

    /// With probability `error_rate`, one of `errors`.
    pub fn maybe_error(
        &mut self,
        errors: &[(&'static str, &'static str)],
    ) -> Option<(&'static str, &'static str)> {
        if !errors.is_empty() && self.rng.chance(self.error_rate) {
            Some(*self.rng.pick(errors))
        } else {
            None
        }
    }

    /// Writes one background record at `t_us` into `out`.
    pub fn write_one(&mut self, t_us: i64, out: &mut Vec<u8>) {
        self.now_us = t_us;
        self.hour_us = t_us - t_us.rem_euclid(HOUR);
        self.req.clear();
        self.resp.clear();
        self.add.clear();
        self.res_n = 0;
        self.host.clear();
        let i = self.rng.weighted(&self.cumulative);
        let call = (self.apis[i].body)(self);
        self.render(&call, out);
    }

    /// Serialises the current actor and scratch buffers as one record.
    pub fn render(&mut self, call: &Call, out: &mut Vec<u8>) {
        self.time.set(self.now_us);
        self.event_id.clear();
        self.rng.uuid_into(&mut self.event_id);
        self.request_id.clear();
        if call.source == "s3.amazonaws.com" {
            self.request_id.push_str(&self.rng.s3_request_id());
        } else {
            self.rng.uuid_into(&mut self.request_id);
        }
        if call.shared {
            self.shared_id.clear();
            self.rng.uuid_into(&mut self.shared_id);
        }
        let res: [Resource<'_>; 2] = std::array::from_fn(|i| Resource {
            account: self.res_acct[i].then_some(self.org.accounts[self.acct].id.as_str()),
            kind: self.res_kind[i],
            arn: &self.res_arn[i],
        });
        let req = std::str::from_utf8(&self.req).unwrap_or("{}");
        let resp = std::str::from_utf8(&self.resp).unwrap_or("{}");
        let add = std::str::from_utf8(&self.add).unwrap_or("{}");
        let vpc = if call.vpc {
            format!(
                "vpce-0{:012x}",
                hash_str(self.account_id()) & 0xffff_ffff_ffff
            )
        } else {
            String::new()
        };
        let browser = self.actor.agent.starts_with("Mozilla");
        let tls = if browser {
            TLS[0]
        } else {
            TLS[usize::from(self.event_id.as_bytes()[0] & 1)]
        };
        let service_call =
            self.actor.kind == ActorKind::Service || !self.actor.invoked_by.is_empty();
        let record = Record {
            version: if call.data { "1.09" } else { "1.08" },
            identity: self.actor.identity(),
            time: self.time.as_str(),
            source: call.source,
            name: call.name,
            region: self.region_name,
            source_ip: &self.actor.ip,
            user_agent: if service_call {
                &self.actor.invoked_by
            } else {
                self.actor.agent
            },
            error: call.error,
            request: call.request.then_some(req),
            response: (call.response && call.error.is_none()).then_some(resp),
            additional: call.additional.then_some(add),
            request_id: &self.request_id,
            event_id: &self.event_id,
            read_only: call.read_only,
            resources: &res[..self.res_n],
            event_type: call.event_type,
            management: !call.data,
            recipient: self.account_id(),
            shared_event_id: call.shared.then_some(self.shared_id.as_str()),
            vpc_endpoint: call.vpc.then_some(vpc.as_str()),
            category: if call.data { "Data" } else { "Management" },
            tls: (call.tls && !service_call && !self.host.is_empty()).then_some(Tls {
                version: tls.0,
                cipher: tls.1,
                host: &self.host,
            }),
            from_console: self.actor.console,
        };
        let mut w = JsonWriter::new(out);
        record.write(&mut w);
    }

    /// A JSON writer over the request scratch.
    pub fn req_writer(&mut self) -> JsonWriter<'_> {
        JsonWriter::new(&mut self.req)
    }

    /// A JSON writer over the response scratch.
    pub fn resp_writer(&mut self) -> JsonWriter<'_> {
        JsonWriter::new(&mut self.resp)
    }

    /// A JSON writer over the additional-data scratch.
    pub fn add_writer(&mut self) -> JsonWriter<'_> {
        JsonWriter::new(&mut self.add)
    }
}

const TLS: [(&str, &str); 2] = [
    ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
    ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
];
