//! Test support (feature `testkit`): writes valid dataset Parquet files from
//! simple event structs, filling the full model schema (nulls for the
//! columns left out) and partitioning by day exactly as a real dataset is,
//! and a deterministic generator of synthetic events with role chains,
//! resources, errors and sessions.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{
    ArrayRef, BooleanArray, RecordBatch, StringArray, TimestampMicrosecondArray, new_null_array,
};
use arrow_schema::DataType;
use backtrail_model::schema::{col, event_schema};
use backtrail_model::time::{format_date, format_event_time};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;

use crate::dataset::{NO_DATE_PARTITION, partition_dir};

/// One event, as the columns the index reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct TestEvent {
    pub event_time: Option<i64>,
    pub event_id: Option<String>,
    pub event_source: Option<String>,
    pub event_name: Option<String>,
    pub aws_region: Option<String>,
    pub recipient_account_id: Option<String>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    pub error_code: Option<String>,
    pub principal_arn: Option<String>,
    pub principal_type: Option<String>,
    pub access_key_id: Option<String>,
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

/// The partition an event lands in.
pub fn partition_of(t: Option<i64>) -> String {
    t.map_or_else(|| NO_DATE_PARTITION.to_owned(), format_date)
}

/// A record batch with the full dataset schema.
pub fn record_batch(events: &[&TestEvent]) -> RecordBatch {
    let schema = event_schema();
    let n = events.len();
    let s = |f: fn(&TestEvent) -> Option<&str>| -> ArrayRef {
        Arc::new(StringArray::from(
            events.iter().map(|e| f(e)).collect::<Vec<_>>(),
        ))
    };
    let ts = |f: fn(&TestEvent) -> Option<i64>| -> ArrayRef {
        Arc::new(
            TimestampMicrosecondArray::from(events.iter().map(|e| f(e)).collect::<Vec<_>>())
                .with_timezone("UTC"),
        )
    };
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|field| match field.name().as_str() {
            col::EVENT_TIME => ts(|e| e.event_time),
            col::EVENT_ID => s(|e| e.event_id.as_deref()),
            col::EVENT_SOURCE => s(|e| e.event_source.as_deref()),
            col::EVENT_NAME => s(|e| e.event_name.as_deref()),
            col::AWS_REGION => s(|e| e.aws_region.as_deref()),
            col::RECIPIENT_ACCOUNT_ID => s(|e| e.recipient_account_id.as_deref()),
            col::SOURCE_IP_ADDRESS => s(|e| e.source_ip.as_deref()),
            col::USER_AGENT => s(|e| e.user_agent.as_deref()),
            col::ERROR_CODE => s(|e| e.error_code.as_deref()),
            col::PRINCIPAL_ARN => s(|e| e.principal_arn.as_deref()),
            col::PRINCIPAL_TYPE => s(|e| e.principal_type.as_deref()),
            col::ACCESS_KEY_ID => s(|e| e.access_key_id.as_deref()),
            col::ROLE_ARN => s(|e| e.role_arn.as_deref()),
            col::SESSION_NAME => s(|e| e.session_name.as_deref()),
            col::MFA => Arc::new(BooleanArray::from(
                events.iter().map(|e| e.mfa).collect::<Vec<_>>(),
            )),
            col::TARGET_ROLE_ARN => s(|e| e.target_role_arn.as_deref()),
            col::TARGET_SESSION_NAME => s(|e| e.target_session_name.as_deref()),
            col::SOURCE_IDENTITY => s(|e| e.source_identity.as_deref()),
            col::ISSUED_KEY => s(|e| e.issued_key.as_deref()),
            col::ISSUED_SESSION_ARN => s(|e| e.issued_session_arn.as_deref()),
            col::EXPIRATION => ts(|e| e.expiration),
            col::EXPIRATION_RAW => s(|e| e.expiration_raw.as_deref()),
            col::RESOURCE_ARNS => {
                let item = match field.data_type() {
                    DataType::List(f) => f.clone(),
                    _ => unreachable!("resource_arns is a list in the model schema"),
                };
                let mut b = ListBuilder::new(StringBuilder::new()).with_field(item);
                for e in events {
                    for r in &e.resource_arns {
                        b.values().append_value(r);
                    }
                    b.append(true);
                }
                Arc::new(b.finish())
            }
            _ => new_null_array(field.data_type(), n),
        })
        .collect();
    RecordBatch::try_new(schema, cols).expect("test batch matches the model schema")
}

/// Writes `events` as dataset files under `root/events/event_date=…/`,
/// `rows_per_file` rows a file, in input order within each partition. Files
/// are numbered after any already in the partition, so calling it again
/// appends files. Returns the partitions written.
pub fn write_dataset(
    root: &Path,
    events: &[TestEvent],
    rows_per_file: usize,
) -> std::io::Result<Vec<String>> {
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    write_dataset_with(root, events, rows_per_file, &props)
}

/// [`write_dataset`] with the given writer properties (to vary encodings:
/// dictionaries or not, dictionaries falling back to plain pages).
pub fn write_dataset_with(
    root: &Path,
    events: &[TestEvent],
    rows_per_file: usize,
    props: &WriterProperties,
) -> std::io::Result<Vec<String>> {
    let mut parts: std::collections::BTreeMap<String, Vec<&TestEvent>> = Default::default();
    for e in events {
        parts.entry(partition_of(e.event_time)).or_default().push(e);
    }
    for (p, evs) in &parts {
        let dir = partition_dir(root, p);
        std::fs::create_dir_all(&dir)?;
        let existing = std::fs::read_dir(&dir)?.count();
        for (n, chunk) in (existing..).zip(evs.chunks(rows_per_file.max(1))) {
            let path = dir.join(format!("part-{n:05}.parquet"));
            let mut w =
                ArrowWriter::try_new(File::create(&path)?, event_schema(), Some(props.clone()))
                    .map_err(std::io::Error::other)?;
            w.write(&record_batch(chunk))
                .map_err(std::io::Error::other)?;
            w.close().map_err(std::io::Error::other)?;
        }
    }
    Ok(parts.into_keys().collect())
}

/// A small deterministic generator (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    /// True with probability `pct`/100.
    pub fn pct(&mut self, pct: u64) -> bool {
        self.next_u64() % 100 < pct
    }
}

/// Shape of a synthetic dataset.
#[derive(Debug, Clone)]
pub struct Synth {
    /// Events to generate.
    pub events: usize,
    /// Days the events span.
    pub days: u32,
    /// Accounts.
    pub accounts: usize,
    /// IAM users (each with one long-term key).
    pub users: usize,
    /// Roles per account.
    pub roles: usize,
    /// Source IPs.
    pub ips: usize,
    /// Distinct resources per kind.
    pub resources: usize,
    /// Percent of events that issue credentials.
    pub issue_pct: u64,
    /// Shuffle events (dataset order then differs from time order).
    pub shuffle: bool,
    /// Seed.
    pub seed: u64,
}

impl Synth {
    /// A small, collision-heavy shape for property tests.
    pub fn small(events: usize, seed: u64) -> Self {
        Synth {
            events,
            days: 3,
            accounts: 2,
            users: 3,
            roles: 3,
            ips: 5,
            resources: 4,
            issue_pct: 12,
            shuffle: true,
            seed,
        }
    }

    /// A realistic shape for measurements.
    pub fn large(events: usize, seed: u64) -> Self {
        Synth {
            events,
            days: 30,
            accounts: 5,
            users: 200,
            roles: 40,
            ips: 2000,
            resources: 20_000,
            issue_pct: 2,
            shuffle: false,
            seed,
        }
    }

    /// Generates the events (shuffled if asked).
    pub fn generate(&self) -> Vec<TestEvent> {
        let mut out = Vec::with_capacity(self.events);
        let mut rng = Generator::new(self).run(self.events.max(1), |chunk| out.extend(chunk));
        if self.shuffle {
            for i in (1..out.len()).rev() {
                let j = rng.below(i + 1);
                out.swap(i, j);
            }
        }
        out
    }

    /// Generates the events in time order, `chunk` at a time (for datasets
    /// too large to hold; `shuffle` is ignored).
    pub fn generate_chunks(&self, chunk: usize, sink: impl FnMut(Vec<TestEvent>)) {
        Generator::new(self).run(chunk.max(1), sink);
    }
}

/// First event time of synthetic data: 2024-03-01T00:00:00Z.
pub const SYNTH_START_US: i64 = 1_709_251_200_000_000;

struct Session {
    key: String,
    arn: String,
    role: String,
    name: String,
    account: String,
    ip: String,
}

struct Generator<'a> {
    s: &'a Synth,
    rng: Rng,
    sessions: Vec<Session>,
    next_key: u64,
    next_id: u64,
}

const AGENTS: &[&str] = &[
    "aws-cli/2.15.0",
    "Boto3/1.34.0",
    "console.amazonaws.com",
    "terraform/1.7",
    "curl/8.0 <script>",
];
const REGIONS: &[&str] = &["us-east-1", "eu-west-1"];

impl<'a> Generator<'a> {
    fn new(s: &'a Synth) -> Self {
        Generator {
            s,
            rng: Rng::new(s.seed),
            sessions: Vec::new(),
            next_key: 0,
            next_id: 0,
        }
    }

    fn account(&mut self, i: usize) -> String {
        format!("{:012}", 111_111_111_111u64 * (i as u64 % 9 + 1))
    }

    fn ip(&mut self) -> String {
        let i = self.rng.below(self.s.ips);
        format!("203.0.{}.{}", i / 250, i % 250 + 1)
    }

    fn key(&mut self, prefix: &str) -> String {
        self.next_key += 1;
        format!("{prefix}{:016}", self.next_key)
    }

    fn role(&mut self) -> (String, String, String) {
        let acct = self.rng.below(self.s.accounts);
        let acct = self.account(acct);
        let r = self.rng.below(self.s.roles);
        let name = format!("Role{r}");
        let arn = if r.is_multiple_of(2) {
            format!("arn:aws:iam::{acct}:role/{name}")
        } else {
            format!("arn:aws:iam::{acct}:role/ops/{name}")
        };
        (arn, name, acct)
    }

    fn resource(&mut self, account: &str) -> (&'static str, &'static str, String) {
        let n = self.rng.below(self.s.resources);
        match self.rng.below(5) {
            0 | 1 => (
                "s3.amazonaws.com",
                "GetObject",
                format!("arn:aws:s3:::bucket{}/dir{}/obj{n}", n % 7, n % 3),
            ),
            2 => (
                "kms.amazonaws.com",
                "Decrypt",
                format!(
                    "arn:aws:kms:us-east-1:{account}:key/{:08x}-1111-2222-3333-444455556666",
                    n % 50
                ),
            ),
            3 => {
                let suffix = if n.is_multiple_of(2) { "-AbC123" } else { "" };
                (
                    "secretsmanager.amazonaws.com",
                    "GetSecretValue",
                    format!(
                        "arn:aws:secretsmanager:us-east-1:{account}:secret:prod/db{}{suffix}",
                        n % 20
                    ),
                )
            }
            _ => (
                "dynamodb.amazonaws.com",
                "GetItem",
                format!(
                    "arn:aws:dynamodb:eu-west-1:{account}:table/orders{}",
                    n % 10
                ),
            ),
        }
    }

    fn base(&mut self, t: Option<i64>) -> TestEvent {
        self.next_id += 1;
        let id = self.next_id;
        TestEvent {
            event_time: t,
            event_id: Some(format!("{:08x}-0000-4000-8000-{:012x}", id >> 16, id)),
            aws_region: Some(REGIONS[self.rng.below(REGIONS.len())].to_owned()),
            user_agent: Some(AGENTS[self.rng.below(AGENTS.len())].to_owned()),
            mfa: match self.rng.below(3) {
                0 => None,
                1 => Some(true),
                _ => Some(false),
            },
            ..TestEvent::default()
        }
    }

    /// Sets the actor: a user (long-term key), a live session, an orphan
    /// temporary key, a console user or a service.
    fn actor(&mut self, e: &mut TestEvent) -> String {
        let roll = self.rng.below(100);
        if roll < 55 && !self.sessions.is_empty() {
            let i = self.rng.below(self.sessions.len());
            let s = &self.sessions[i];
            e.principal_arn = Some(s.arn.clone());
            e.principal_type = Some("AssumedRole".into());
            e.access_key_id = Some(s.key.clone());
            e.role_arn = Some(s.role.clone());
            e.session_name = Some(s.name.clone());
            let acct = s.account.clone();
            let ip = s.ip.clone();
            e.source_ip = Some(if self.rng.pct(85) { ip } else { self.ip() });
            return acct;
        }
        let u = self.rng.below(self.s.users);
        let acct = self.account(u);
        e.source_ip = Some(self.ip());
        if roll < 90 {
            e.principal_arn = Some(format!("arn:aws:iam::{acct}:user/user{u}"));
            e.principal_type = Some("IAMUser".into());
            e.access_key_id = Some(format!("AKIA{:016}", 9_000_000 + u));
        } else if roll < 94 {
            // A session whose issuing event is not in the archive.
            e.principal_arn = Some(format!("arn:aws:sts::{acct}:assumed-role/Ghost/g{u}"));
            e.principal_type = Some("AssumedRole".into());
            e.access_key_id = Some(format!("ASIA{:016}", 8_000_000 + u));
            e.role_arn = Some(format!("arn:aws:iam::{acct}:role/Ghost"));
        } else if roll < 97 {
            e.principal_arn = Some(format!("arn:aws:iam::{acct}:user/user{u}"));
            e.principal_type = Some("IAMUser".into());
            e.access_key_id = Some(format!("ASIA{:016}", 7_000_000 + u));
        } else {
            e.principal_arn = Some("ec2.amazonaws.com".into());
            e.principal_type = Some("AWSService".into());
            e.source_ip = Some("ec2.amazonaws.com".into());
        }
        acct
    }

    fn issue(&mut self, t: Option<i64>) -> TestEvent {
        let mut e = self.base(t);
        let saml = self.rng.pct(5);
        if saml {
            e.principal_arn = Some("arn:aws:iam::111111111111:saml-provider/Okta".into());
            e.principal_type = Some("SAMLUser".into());
            e.source_ip = Some(self.ip());
        } else {
            self.actor(&mut e);
        }
        let (role, name, acct) = self.role();
        let session = format!("s{}", self.rng.below(self.s.users * 4));
        let arn = format!("arn:aws:sts::{acct}:assumed-role/{name}/{session}");
        e.event_source = Some("sts.amazonaws.com".into());
        e.event_name = Some(
            if saml {
                "AssumeRoleWithSAML"
            } else {
                "AssumeRole"
            }
            .into(),
        );
        e.recipient_account_id = Some(acct.clone());
        e.target_role_arn = Some(role.clone());
        e.target_session_name = Some(session.clone());
        e.source_identity = self.rng.pct(20).then(|| "alice@example.com".to_owned());
        e.resource_arns = vec![role.clone()];
        if self.rng.pct(8) {
            e.error_code = Some("AccessDenied".into());
            return e;
        }
        e.issued_session_arn = Some(arn.clone());
        let exp = t.map(|t| t + 3_600_000_000);
        e.expiration = exp;
        e.expiration_raw = exp.map(format_event_time);
        // Some issuing records lack the key (redacted or lost response).
        let key = self.key("ASIA");
        if !self.rng.pct(5) {
            e.issued_key = Some(key.clone());
        }
        let ip = e.source_ip.clone().unwrap_or_default();
        self.sessions.push(Session {
            key,
            arn,
            role,
            name: session,
            account: acct,
            ip,
        });
        if self.sessions.len() > 64 {
            let i = self.rng.below(self.sessions.len());
            self.sessions.swap_remove(i);
        }
        e
    }

    fn use_event(&mut self, t: Option<i64>) -> TestEvent {
        let mut e = self.base(t);
        let acct = self.actor(&mut e);
        e.recipient_account_id = Some(acct.clone());
        if self.rng.pct(10) {
            e.event_source = Some("ec2.amazonaws.com".into());
            e.event_name = Some("DescribeInstances".into());
        } else {
            let (src, name, arn) = self.resource(&acct);
            e.event_source = Some(src.into());
            e.event_name = Some(name.into());
            e.resource_arns = vec![arn];
            if self.rng.pct(10) {
                let (_, _, extra) = self.resource(&acct);
                if !e.resource_arns.contains(&extra) {
                    e.resource_arns.push(extra);
                }
            }
        }
        match self.rng.below(20) {
            0 => e.error_code = Some("AccessDenied".into()),
            1 => e.error_code = Some("ExpiredToken".into()),
            _ => {}
        }
        e
    }

    fn run(mut self, chunk: usize, mut sink: impl FnMut(Vec<TestEvent>)) -> Rng {
        let span = i64::from(self.s.days) * 86_400_000_000;
        let step = (span / self.s.events.max(1) as i64).max(1);
        let mut t = SYNTH_START_US;
        let mut out = Vec::with_capacity(chunk.min(self.s.events));
        for _ in 0..self.s.events {
            t += (self.rng.next_u64() % (2 * step as u64)) as i64;
            let time = if self.rng.pct(1) { None } else { Some(t) };
            let e = if self.rng.pct(self.s.issue_pct) {
                self.issue(time)
            } else {
                self.use_event(time)
            };
            out.push(e);
            if out.len() == chunk {
                sink(std::mem::take(&mut out));
            }
        }
        if !out.is_empty() {
            sink(out);
        }
        self.rng
    }
}
