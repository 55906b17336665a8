//! `chain`: from a key, a session ARN or an IP back to the root of trust.
//!
//! Walk (oldest hop first in the answer):
//! 1. For key K, the issuing event is the earliest issuance whose
//!    `issued_key` is K ([`Resolution::Key`]). Failing that, the principal
//!    of K's first use is looked up as an issued session ARN, and the latest
//!    such issuance at or before that first use is taken
//!    ([`Resolution::SessionTime`]): role sessions of one name are issued
//!    many times, and the latest one before use is the one in force.
//! 2. An issuing event's caller key is walked next. A caller without a key
//!    (SAML, web identity, …) of a root-of-trust type ends the chain there.
//! 3. A key without an issuing event ends the chain: at a root of trust if
//!    its holder (first use) is one (`IdentityType::is_root_of_trust`: IAM
//!    user key or console session, root, service, SAML, web identity,
//!    Identity Center user), else at a missing link.
//! 4. A key or issuing event met twice ends the chain with a cycle hop.
//!
//! Nothing is guessed: each hop says how it was resolved.

use ahash::AHashSet;
use backtrail_model::identity::{IdentityType, KeyKind};
use serde::Serialize;

use backtrail_model::schema::col;

use crate::dataset::ROW_COLUMNS;
use crate::error::{Error, Result};
use crate::index::{Filter, Index, Loc, order_key};
use crate::layout::{Issuance, NO_TIME, NONE, sec};
use crate::matching::is_access_key_id;
use crate::rows::AssumeRow;

/// What a chain started from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StartKind {
    /// An access key id.
    Key,
    /// A session (or other principal) ARN.
    Session,
    /// A source IP.
    Ip,
}

/// How a path ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStatus {
    /// At a root of trust.
    Complete,
    /// At a key or session whose issuing event is not in the archive.
    MissingLink,
    /// At a key or issuing event already on the path.
    Cycle,
}

/// What a hop is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HopKind {
    /// The root of trust: the first use of its key, or, for a caller
    /// without a key, the issuing call it made.
    Root,
    /// A credential-issuing call.
    Issue,
    /// The issuing event of this key or session is outside the archive; the
    /// row is the key's first use when known.
    MissingLink,
    /// This key (or issuing event) was already on the path.
    Cycle,
}

/// How an issuing event was tied to the key it issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// `issued_key` equals the key.
    Key,
    /// `issued_session_arn` equals the session that used the key, latest
    /// issuance at or before the key's first use.
    SessionTime,
}

/// One hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// What the hop is.
    pub hop: HopKind,
    /// For a root: `long_term_key`, `console_login`, `root`, `service`,
    /// `saml`, `web_identity`, `identity_center`, `aws_account`, `unknown`.
    pub root_of_trust: Option<String>,
    /// For an issue hop, how it was found.
    pub resolved_by: Option<Resolution>,
    /// The event (time, identity, key, source IP, user agent, MFA, …).
    #[serde(flatten)]
    pub row: AssumeRow,
}

/// One chain, oldest hop first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainPath {
    /// The key the chain explains, when it starts from one.
    pub key: Option<String>,
    /// How it ends.
    pub status: PathStatus,
    /// The hops, root (or break) first, the start last.
    pub hops: Vec<Hop>,
}

/// The answer of [`Index::chain`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Chain {
    /// The argument.
    pub start: String,
    /// How it was read.
    pub start_kind: StartKind,
    /// One path per key (an IP or session can lead to several); empty when
    /// the start is not in the archive.
    pub paths: Vec<ChainPath>,
}

/// Classifies a root of trust by its identity type and key.
pub fn root_of_trust(principal_type: Option<&str>, key: Option<&str>) -> &'static str {
    match principal_type {
        Some("IAMUser") if key.is_some_and(|k| KeyKind::of(k) == KeyKind::LongTerm) => {
            "long_term_key"
        }
        Some("IAMUser") => "console_login",
        Some("Root") => "root",
        Some("AWSService") => "service",
        Some("SAMLUser") => "saml",
        Some("WebIdentityUser") => "web_identity",
        Some("IdentityCenterUser") => "identity_center",
        Some("AWSAccount") => "aws_account",
        _ => "unknown",
    }
}

fn is_root_type(t: Option<&str>) -> bool {
    t.and_then(IdentityType::parse)
        .is_some_and(IdentityType::is_root_of_trust)
}

struct HopSpec {
    kind: HopKind,
    loc: Option<Loc>,
    principal: Option<String>,
    key: Option<String>,
    root: Option<&'static str>,
    resolved: Option<Resolution>,
    /// The issuance record when the hop is an issuing event (its row then
    /// comes from the index, only the event id from Parquet).
    iss: Option<Issuance>,
}

impl HopSpec {
    fn new(kind: HopKind, loc: Option<Loc>) -> Self {
        HopSpec {
            kind,
            loc,
            principal: None,
            key: None,
            root: None,
            resolved: None,
            iss: None,
        }
    }
}

type IssRef = (Loc, u32, Issuance);

/// A path before its rows are read.
struct PathSpec {
    key: Option<String>,
    status: PathStatus,
    hops: Vec<HopSpec>,
}

enum From {
    Key(String),
    Issuance(IssRef),
}

impl Index {
    fn issuances_by(&self, kind: u32, s: &str) -> Result<Vec<IssRef>> {
        let mut out = Vec::new();
        for (si, seg) in self.segments.iter().enumerate() {
            let idxs = self.postings_of(seg, kind, s)?;
            for (i, r) in idxs.iter().zip(seg.issuances(&idxs)?) {
                out.push(((si, r.ord), *i, r));
            }
        }
        Ok(out)
    }

    fn key_str(&self, si: usize, sid: u32) -> Result<Option<String>> {
        self.segments[si].opt_str(sid)
    }

    fn walk(&self, from: From) -> Result<Option<PathSpec>> {
        let start_key = match &from {
            From::Key(k) => Some(k.clone()),
            From::Issuance(_) => None,
        };
        let mut hops: Vec<HopSpec> = Vec::new();
        let mut keys_seen: AHashSet<String> = AHashSet::new();
        let mut iss_seen: AHashSet<(usize, u32)> = AHashSet::new();
        let mut next = from;
        let status = loop {
            let (iss, resolved) = match next {
                From::Issuance(r) => (Some(r), Resolution::Key),
                From::Key(k) => {
                    if !keys_seen.insert(k.clone()) {
                        let mut h = HopSpec::new(HopKind::Cycle, None);
                        h.key = Some(k);
                        hops.push(h);
                        break PathStatus::Cycle;
                    }
                    let by_key = self.issuances_by(sec::POST_ISSUED_KEY, &k)?;
                    // A cross-account call is recorded in both accounts with
                    // the same time; the caller's copy carries the caller's
                    // key and continues the chain, the role owner's copy
                    // (`AWSAccount`) does not, so at equal times it loses.
                    let earliest = by_key.into_iter().min_by_key(|(l, _, r)| {
                        let (t, s, o) = order_key((r.time != NO_TIME).then_some(r.time), *l);
                        (t, r.caller_key == NONE, s, o)
                    });
                    if earliest.is_some() {
                        (earliest, Resolution::Key)
                    } else {
                        let usage = self.key_usage(&[k.clone()].into_iter().collect(), false)?;
                        let Some(u) = usage.get(&k).filter(|u| u.first.is_some()) else {
                            if hops.is_empty() {
                                return Ok(None);
                            }
                            let mut h = HopSpec::new(HopKind::MissingLink, None);
                            h.key = Some(k);
                            hops.push(h);
                            break PathStatus::MissingLink;
                        };
                        let first_loc = u.first.map(|(_, l)| l);
                        let by_session = match (&u.first_principal, u.first_time()) {
                            (Some(p), Some(t)) => self
                                .issuances_by(sec::POST_ISSUED_SESSION, p)?
                                .into_iter()
                                .filter(|(_, _, r)| r.time != NO_TIME && r.time <= t)
                                .max_by_key(|(l, _, r)| {
                                    let (t, s, o) = order_key(Some(r.time), *l);
                                    (t, r.caller_key != NONE, s, o)
                                }),
                            _ => None,
                        };
                        if by_session.is_some() {
                            (by_session, Resolution::SessionTime)
                        } else {
                            let root = is_root_type(u.first_type.as_deref());
                            let mut h = HopSpec::new(
                                if root {
                                    HopKind::Root
                                } else {
                                    HopKind::MissingLink
                                },
                                first_loc,
                            );
                            h.key = Some(k.clone());
                            if root {
                                h.root = Some(root_of_trust(u.first_type.as_deref(), Some(&k)));
                            }
                            hops.push(h);
                            break if root {
                                PathStatus::Complete
                            } else {
                                PathStatus::MissingLink
                            };
                        }
                    }
                }
            };
            let Some((loc, idx, r)) = iss else {
                break PathStatus::MissingLink;
            };
            if !iss_seen.insert((loc.0, idx)) {
                let mut h = HopSpec::new(HopKind::Cycle, Some(loc));
                h.key = self.key_str(loc.0, r.issued_key)?;
                h.iss = Some(r);
                hops.push(h);
                break PathStatus::Cycle;
            }
            let mut h = HopSpec::new(HopKind::Issue, Some(loc));
            h.resolved = Some(resolved);
            h.iss = Some(r);
            hops.push(h);
            match self.key_str(loc.0, r.caller_key)? {
                Some(k) => next = From::Key(k),
                None => {
                    let ty = self.segments[loc.0].opt_str(r.caller_type)?;
                    let ty = ty.as_deref();
                    if is_root_type(ty) {
                        let mut h = HopSpec::new(HopKind::Root, Some(loc));
                        h.root = Some(root_of_trust(ty, None));
                        h.iss = Some(r);
                        hops.push(h);
                        break PathStatus::Complete;
                    }
                    let mut h = HopSpec::new(HopKind::MissingLink, None);
                    h.principal = self.key_str(loc.0, r.caller)?;
                    hops.push(h);
                    break PathStatus::MissingLink;
                }
            }
        };
        hops.reverse();
        Ok(Some(PathSpec {
            key: start_key,
            status,
            hops,
        }))
    }

    /// Turns path specs into paths, reading every hop's row in one batch.
    fn render(&self, paths: Vec<PathSpec>) -> Result<Vec<ChainPath>> {
        let specs = paths.iter().flat_map(|p| &p.hops);
        let issued: Vec<(Loc, Issuance)> = specs
            .clone()
            .filter_map(|h| Some((h.loc?, h.iss?)))
            .collect();
        let mut issued = self.issuance_rows(&issued)?.into_iter();
        let used: Vec<Loc> = specs
            .filter(|h| h.iss.is_none())
            .filter_map(|h| h.loc)
            .collect();
        let mut used = self.fetch(&used, ROW_COLUMNS)?.into_iter();
        let mut out = Vec::with_capacity(paths.len());
        for p in paths {
            let mut hops = Vec::with_capacity(p.hops.len());
            for h in p.hops {
                let row = match (h.loc, h.iss) {
                    (Some(_), Some(_)) => issued.next().unwrap_or_default(),
                    (Some(_), None) => used.next().map(|r| r.into_assume_row()).unwrap_or_default(),
                    (None, _) => {
                        let mut r = AssumeRow::default();
                        r.event.principal_arn = h.principal.clone();
                        r.caller_arn = h.principal;
                        r.event.access_key_id = h.key.clone();
                        r.caller_key = h.key;
                        r
                    }
                };
                hops.push(Hop {
                    hop: h.kind,
                    root_of_trust: h.root.map(str::to_owned),
                    resolved_by: h.resolved,
                    row,
                });
            }
            out.push(ChainPath {
                key: p.key,
                status: p.status,
                hops,
            });
        }
        Ok(out)
    }

    /// The chain(s) of identities behind `start`: an access key id, a session
    /// ARN (resolved through the issuances of that session, by key where they
    /// issued one) or a source address, i.e. an IP or the service host name
    /// CloudTrail writes as `sourceIPAddress` (every key whose first use in
    /// the archive came from it and passes the filter, in order of that first
    /// use). The
    /// filter only selects an IP's keys; hops are never filtered.
    pub fn chain(&self, start: &str, f: &Filter) -> Result<Chain> {
        let s = start.trim();
        let bad = || Error::BadArgument {
            what: "chain start",
            value: start.to_owned(),
            expected: "an access key id, a session ARN or an IP address",
        };
        if s.is_empty() || s.chars().any(char::is_whitespace) {
            return Err(bad());
        }
        let (kind, paths) = if is_access_key_id(s) {
            (
                StartKind::Key,
                self.walk(From::Key(s.to_owned()))?.into_iter().collect(),
            )
        } else if s.starts_with("arn:") {
            if backtrail_model::arn::Arn::parse(s).is_none() {
                return Err(bad());
            }
            (StartKind::Session, self.chains_from_session(s)?)
        } else {
            // An IP address, or a service host name: CloudTrail's
            // `sourceIPAddress` holds either.
            (StartKind::Ip, self.chains_from_ip(s, f)?)
        };
        Ok(Chain {
            start: s.to_owned(),
            start_kind: kind,
            paths: self.render(paths)?,
        })
    }

    fn chains_from_session(&self, s: &str) -> Result<Vec<PathSpec>> {
        let mut iss = self.issuances_by(sec::POST_ISSUED_SESSION, s)?;
        iss.sort_by_key(|(l, _, r)| order_key((r.time != NO_TIME).then_some(r.time), *l));
        let mut out = Vec::new();
        let mut keys = AHashSet::new();
        for (loc, idx, r) in iss {
            let from = if r.issued_key != NONE {
                let k = self.segments[loc.0].str(r.issued_key)?;
                if !keys.insert(k.clone()) {
                    continue;
                }
                From::Key(k)
            } else {
                From::Issuance((loc, idx, r))
            };
            out.extend(self.walk(from)?);
        }
        let mut seen = false;
        for seg in &self.segments {
            seen = seen || !self.postings_of(seg, sec::POST_PRINCIPAL, s)?.is_empty();
        }
        if out.is_empty() && seen {
            let mut h = HopSpec::new(HopKind::MissingLink, None);
            h.principal = Some(s.to_owned());
            out.push(PathSpec {
                key: None,
                status: PathStatus::MissingLink,
                hops: vec![h],
            });
        }
        Ok(out)
    }

    fn chains_from_ip(&self, ip: &str, f: &Filter) -> Result<Vec<PathSpec>> {
        let mut cands: Vec<String> = Vec::new();
        for seg in &self.segments {
            let Some(sid) = seg.find(ip)? else { continue };
            for i in 0..seg.key_use_count()? {
                let (u, _) = seg.key_use_at(i)?;
                if u.first_ip == sid {
                    cands.push(seg.str(u.key)?);
                }
            }
        }
        let set: AHashSet<String> = cands.into_iter().collect();
        let usage = self.key_usage(&set, false)?;
        // First uses from this address, exact time from the key-use summary.
        let firsts: Vec<(Loc, Option<i64>, String)> = usage
            .into_iter()
            .filter(|(_, u)| u.first_ip.as_deref() == Some(ip))
            .filter_map(|(k, u)| u.first.map(|(_, l)| (l, u.first_time(), k)))
            .filter(|(_, t, _)| {
                f.accepts_parts(*t, None, None) || f.account.is_some() || f.region.is_some()
            })
            .collect();
        // Account and region of those uses are on the Parquet rows.
        let mut keep: Vec<((i64, usize, u32), String)> = Vec::new();
        if f.account.is_some() || f.region.is_some() {
            let locs: Vec<Loc> = firsts.iter().map(|(l, _, _)| *l).collect();
            let rows = self.fetch(
                &locs,
                &[col::EVENT_TIME, col::RECIPIENT_ACCOUNT_ID, col::AWS_REGION],
            )?;
            for ((l, t, k), r) in firsts.into_iter().zip(rows) {
                if f.accepts(&r.event) {
                    keep.push((order_key(t, l), k));
                }
            }
        } else {
            keep = firsts
                .into_iter()
                .map(|(l, t, k)| (order_key(t, l), k))
                .collect();
        }
        keep.sort();
        let mut out = Vec::new();
        for (_, k) in keep {
            out.extend(self.walk(From::Key(k))?);
        }
        Ok(out)
    }
}
