//! Planned events: the scenarios, their benign look-alikes and the
//! cross-account CI chains, rendered once before the parallel part.
//!
//! Planned events are few (thousands at most, whatever the archive size),
//! so they are fully rendered here and spliced into the right account's
//! and region's delivery window by the workers. While rendering, the
//! planner records the ground truth of attacker events: ids, resources
//! touched (through `backtrail_model::resource::resource_arns`, as ingest
//! will normalise them) and tamper calls.

use std::collections::BTreeSet;

use backtrail_model::resource::{Context, resource_arns};

use crate::actor::{Actor, ActorKind};
use crate::json::JsonWriter;
use crate::org::Org;
use crate::record::{Record, Resource, Tls};
use crate::rng::Rng;
use crate::shapes::{ExpiryForm, session_arn, write_role_credentials};
use crate::time::{HOUR, TimeBuf, event_time};
use crate::truth::{Assumption, ScenarioTruth, TamperEvent, is_tamper};

/// One rendered planned record.
#[derive(Debug, Clone)]
pub struct Planned {
    /// Recipient account index.
    pub acct: usize,
    /// Region name.
    pub region: String,
    /// `eventTime`, microseconds.
    pub time_us: i64,
    /// The record's JSON.
    pub json: String,
}

/// A planned call, owned.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Recipient account index.
    pub acct: usize,
    /// Region.
    pub region: String,
    /// Time.
    pub time_us: i64,
    /// Caller, source address, user agent.
    pub actor: Actor,
    /// `eventSource`.
    pub source: &'static str,
    /// `eventName`.
    pub name: &'static str,
    /// `requestParameters` JSON.
    pub request: Option<String>,
    /// `responseElements` JSON.
    pub response: Option<String>,
    /// `additionalEventData` JSON.
    pub additional: Option<String>,
    /// Error.
    pub error: Option<(&'static str, &'static str)>,
    /// `readOnly`.
    pub read_only: bool,
    /// Data event.
    pub data: bool,
    /// `eventType`.
    pub event_type: &'static str,
    /// `(type, ARN, with account)` entries.
    pub resources: Vec<(&'static str, String, bool)>,
    /// `sharedEventID`.
    pub shared: Option<String>,
    /// `requestID` (shared by both copies of a cross-account call).
    pub request_id: Option<String>,
    /// TLS host (empty: no `tlsDetails`).
    pub host: String,
}

impl Spec {
    /// A management call with no parameters.
    pub fn new(
        acct: usize,
        region: &str,
        time_us: i64,
        actor: &Actor,
        source: &'static str,
        name: &'static str,
        read_only: bool,
    ) -> Self {
        let host = if source == "iam.amazonaws.com" || source == "signin.amazonaws.com" {
            source.replace("signin.amazonaws.com", "signin.aws.amazon.com")
        } else {
            format!(
                "{}.{region}.amazonaws.com",
                source.trim_end_matches(".amazonaws.com")
            )
        };
        Spec {
            acct,
            region: region.to_owned(),
            time_us,
            actor: actor.clone(),
            source,
            name,
            request: None,
            response: None,
            additional: None,
            error: None,
            read_only,
            data: false,
            event_type: "AwsApiCall",
            resources: Vec::new(),
            shared: None,
            request_id: None,
            host,
        }
    }

    /// Sets `requestParameters` from a writer closure.
    pub fn req(mut self, f: impl FnOnce(&mut JsonWriter<'_>)) -> Self {
        self.request = Some(obj(f));
        self
    }

    /// Sets `responseElements` from a writer closure.
    pub fn resp(mut self, f: impl FnOnce(&mut JsonWriter<'_>)) -> Self {
        self.response = Some(obj(f));
        self
    }

    /// Adds a resource.
    pub fn resource(mut self, kind: &'static str, arn: String, with_account: bool) -> Self {
        self.resources.push((kind, arn, with_account));
        self
    }
}

/// A JSON object built by `f`.
pub fn obj(f: impl FnOnce(&mut JsonWriter<'_>)) -> String {
    let mut buf = Vec::new();
    let mut w = JsonWriter::new(&mut buf);
    w.begin_object();
    f(&mut w);
    w.end_object();
    String::from_utf8(buf).unwrap_or_default()
}

/// Who the next emitted events belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Ordinary planned traffic (CI chains).
    Benign,
    /// The attacker of scenario `i`.
    Attacker(usize),
    /// A benign look-alike of scenario `i`.
    Lookalike(usize),
}

/// Collects planned events and the ground truth.
pub struct Planner<'o> {
    /// The organization.
    pub org: &'o Org,
    /// Generator for ids.
    pub rng: Rng,
    /// Rendered events.
    pub events: Vec<Planned>,
    /// Truth per scenario.
    pub truth: Vec<ScenarioTruth>,
    resources: Vec<BTreeSet<String>>,
    /// Current attribution.
    pub mode: Mode,
    /// Account-trail stops: `(account index, time)` from `StopLogging`.
    pub trail_stops: Vec<(usize, i64)>,
}

impl<'o> Planner<'o> {
    /// An empty plan.
    pub fn new(org: &'o Org, seed: u64) -> Self {
        Planner {
            org,
            rng: Rng::derive(seed, "planner", 0),
            events: Vec::new(),
            truth: Vec::new(),
            resources: Vec::new(),
            mode: Mode::Benign,
            trail_stops: Vec::new(),
        }
    }

    /// Opens the truth record of a scenario and returns its index.
    pub fn begin_scenario(&mut self, name: &str, summary: &str, ips: &[String]) -> usize {
        self.truth.push(ScenarioTruth {
            scenario: name.to_owned(),
            summary: summary.to_owned(),
            attacker_ips: ips.to_vec(),
            ..ScenarioTruth::default()
        });
        self.resources.push(BTreeSet::new());
        self.truth.len() - 1
    }

    /// Finishes: sorts ids and resources into the truth records.
    pub fn finish(&mut self) {
        for (t, r) in self.truth.iter_mut().zip(&self.resources) {
            t.resources_touched = r.iter().cloned().collect();
            t.attacker_event_ids.sort();
            t.lookalike_event_ids.sort();
        }
        self.events
            .sort_by(|a, b| (a.acct, &a.region, a.time_us).cmp(&(b.acct, &b.region, b.time_us)));
    }

    /// Renders and records one call; returns its `eventID`.
    pub fn emit(&mut self, spec: Spec) -> String {
        let event_id = self.rng.uuid();
        let request_id = spec.request_id.clone().unwrap_or_else(|| self.rng.uuid());
        let recipient = self.org.accounts[spec.acct].id.as_str();
        let time = TimeBuf::new(spec.time_us);
        let res: Vec<Resource<'_>> = spec
            .resources
            .iter()
            .map(|(k, arn, with)| Resource {
                account: with.then_some(recipient),
                kind: k,
                arn,
            })
            .collect();
        let service = spec.actor.kind == ActorKind::Service || !spec.actor.invoked_by.is_empty();
        let record = Record {
            version: if spec.data { "1.09" } else { "1.08" },
            identity: spec.actor.identity(),
            time: time.as_str(),
            source: spec.source,
            name: spec.name,
            region: &spec.region,
            source_ip: &spec.actor.ip,
            user_agent: if service {
                &spec.actor.invoked_by
            } else {
                spec.actor.agent
            },
            error: spec.error,
            request: spec.request.as_deref(),
            response: if spec.error.is_some() {
                None
            } else {
                spec.response.as_deref()
            },
            additional: spec.additional.as_deref(),
            request_id: &request_id,
            event_id: &event_id,
            read_only: spec.read_only,
            resources: &res,
            event_type: spec.event_type,
            management: !spec.data,
            recipient,
            shared_event_id: spec.shared.as_deref(),
            vpc_endpoint: None,
            category: if spec.data { "Data" } else { "Management" },
            tls: (!service && !spec.host.is_empty()).then_some(Tls {
                version: "TLSv1.3",
                cipher: "TLS_AES_128_GCM_SHA256",
                host: &spec.host,
            }),
            from_console: spec.actor.console,
        };
        let mut buf = Vec::with_capacity(2048);
        record.write(&mut JsonWriter::new(&mut buf));
        let json = String::from_utf8(buf).unwrap_or_default();
        match self.mode {
            Mode::Attacker(i) => {
                self.truth[i].attacker_event_ids.push(event_id.clone());
                let params = top_level_strings(spec.request.as_deref());
                let pairs: Vec<(&str, &str)> = params
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                let ctx = Context {
                    event_source: spec.source,
                    region: &spec.region,
                    account: recipient,
                    partition: "aws",
                };
                for arn in resource_arns(&ctx, spec.resources.iter().map(|r| r.1.as_str()), &pairs)
                {
                    self.resources[i].insert(arn);
                }
                if is_tamper(spec.source, spec.name) {
                    self.truth[i].tamper_events.push(TamperEvent {
                        event_source: spec.source.to_owned(),
                        event_name: spec.name.to_owned(),
                        event_id: event_id.clone(),
                        account: recipient.to_owned(),
                        region: spec.region.clone(),
                        time: event_time(spec.time_us),
                        failed: spec.error.is_some(),
                    });
                }
            }
            Mode::Lookalike(i) => self.truth[i].lookalike_event_ids.push(event_id.clone()),
            Mode::Benign => {}
        }
        self.events.push(Planned {
            acct: spec.acct,
            region: spec.region,
            time_us: spec.time_us,
            json,
        });
        event_id
    }

    /// An IAM user actor.
    pub fn user(&self, acct: usize, user: usize, ip: &str, agent: &'static str) -> Actor {
        let mut a = Actor::default();
        a.set_user(self.org, acct, user);
        a.ip = ip.to_owned();
        a.agent = agent;
        a
    }

    /// A role-session actor with an explicit key.
    #[allow(clippy::too_many_arguments)]
    pub fn session(
        &self,
        acct: usize,
        role: usize,
        name: &str,
        key: &str,
        created_us: i64,
        ip: &str,
        agent: &'static str,
    ) -> Actor {
        let mut a = Actor::default();
        let s = crate::org::SessionRef {
            account: acct,
            role,
            region: 0,
            slot: 0,
        };
        a.set_role(self.org, s, created_us - created_us.rem_euclid(HOUR), name);
        a.key = key.to_owned();
        a.created.set(created_us);
        a.ip = ip.to_owned();
        a.agent = agent;
        a
    }

    /// `AssumeRole` by `caller` (acting in `caller_acct`) into `role` of
    /// `target`. Cross-account calls are delivered to both accounts with one
    /// `sharedEventID`; the role owner's copy shows the caller as
    /// `AWSAccount`. Returns the new session and the assumption record.
    #[allow(clippy::too_many_arguments)]
    pub fn assume_role(
        &mut self,
        caller: &Actor,
        caller_acct: usize,
        target: usize,
        role: usize,
        session: &str,
        t: i64,
        region: &str,
        form: ExpiryForm,
    ) -> (Actor, Assumption) {
        let role_ref = &self.org.accounts[target].roles[role];
        let target_id = self.org.accounts[target].id.clone();
        let key = self.rng.aws_id("ASIA");
        let sarn = session_arn(&target_id, &role_ref.name, session);
        let (role_arn, role_pid) = (role_ref.arn.clone(), role_ref.principal_id.clone());
        let mut tok = Rng::new(self.rng.next_u64());
        let response = obj(|w| {
            write_role_credentials(w, &mut tok, &key, t + HOUR, form, &role_pid, &sarn, session)
        });
        let request = obj(|w| {
            w.field("roleArn", &role_arn);
            w.field("roleSessionName", session);
            w.field_int("durationSeconds", 3600);
        });
        let cross = caller_acct != target;
        let shared = cross.then(|| self.rng.uuid());
        let request_id = self.rng.uuid();
        let mut spec = Spec::new(
            caller_acct,
            region,
            t,
            caller,
            "sts.amazonaws.com",
            "AssumeRole",
            true,
        );
        spec.request = Some(request);
        spec.response = Some(response);
        spec.resources
            .push(("AWS::IAM::Role", role_arn.clone(), true));
        spec.shared = shared.clone();
        spec.request_id = Some(request_id);
        let mut ids = vec![self.emit(spec.clone())];
        if cross {
            let mut owner = Actor {
                kind: ActorKind::Account,
                ..caller.clone()
            };
            owner.account = self.org.accounts[caller_acct].id.clone();
            spec.acct = target;
            spec.actor = owner;
            ids.push(self.emit(spec));
        }
        let new = self.session(target, role, session, &key, t, &caller.ip, caller.agent);
        let actor_name = if caller.arn.is_empty() {
            caller.user_name.clone()
        } else {
            caller.arn.clone()
        };
        let a = Assumption {
            event_name: "AssumeRole".into(),
            actor: actor_name,
            actor_key: (!caller.key.is_empty()).then(|| caller.key.clone()),
            role_arn,
            session_arn: sarn,
            issued_key: key,
            source_ip: caller.ip.clone(),
            time: event_time(t),
            event_ids: ids,
            shared_event_id: shared,
        };
        (new, a)
    }
}

/// The top-level string-valued request parameters, in record order (what
/// `resource_arns` takes).
pub fn top_level_strings(request: Option<&str>) -> Vec<(String, String)> {
    let Some(r) = request else { return Vec::new() };
    let Ok(serde_json::Value::Object(m)) = serde_json::from_str::<serde_json::Value>(r) else {
        return Vec::new();
    };
    m.into_iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
        .collect()
}
