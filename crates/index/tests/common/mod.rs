//! Brute force: every query answered the slow, obvious way, by scanning the
//! same events the dataset was written from.

#![allow(dead_code)]

use std::collections::{BTreeSet, HashSet};

use backtrail_index::matching::{caller_matches, is_expired_credential_error, target_matches};
use backtrail_index::testkit::{TestEvent, partition_of};
use backtrail_index::{
    Actor, AssumeRow, Chain, ChainPath, EventRow, Filter, Hop, HopKind, PathStatus, Resolution,
    ResourceQuery, SessionRow, StartKind, TimelineRow, TouchedRow, root_of_trust,
};
use backtrail_model::identity::{IdentityType, is_credential_issuing};

/// The events with their place in the dataset (partition, position).
pub struct Brute {
    pub evs: Vec<(TestEvent, String, usize)>,
}

type Order = (i64, String, usize);

impl Brute {
    pub fn new(events: &[TestEvent]) -> Self {
        let mut counts: std::collections::HashMap<String, usize> = Default::default();
        let evs = events
            .iter()
            .map(|e| {
                let p = partition_of(e.event_time);
                let c = counts.entry(p.clone()).or_default();
                *c += 1;
                (e.clone(), p, *c - 1)
            })
            .collect();
        Brute { evs }
    }

    fn order(&self, i: usize) -> Order {
        let (e, p, pos) = &self.evs[i];
        (e.event_time.unwrap_or(i64::MAX), p.clone(), *pos)
    }

    fn sorted(&self, mut idx: Vec<usize>) -> Vec<usize> {
        idx.sort_by_key(|&i| self.order(i));
        idx
    }

    fn accepts(f: &Filter, e: &TestEvent) -> bool {
        if f.from.is_some() || f.to.is_some() {
            match e.event_time {
                None => return false,
                Some(t) => {
                    if f.from.is_some_and(|x| t < x) || f.to.is_some_and(|x| t >= x) {
                        return false;
                    }
                }
            }
        }
        if let Some(a) = &f.account
            && e.recipient_account_id.as_ref() != Some(a)
        {
            return false;
        }
        if let Some(r) = &f.region
            && e.aws_region.as_ref() != Some(r)
        {
            return false;
        }
        true
    }

    fn issuing(e: &TestEvent) -> bool {
        match (&e.event_source, &e.event_name) {
            (Some(s), Some(n)) => is_credential_issuing(s, n),
            _ => false,
        }
    }

    pub fn event_row(e: &TestEvent) -> EventRow {
        EventRow {
            event_time: e.event_time,
            event_id: e.event_id.clone(),
            event_source: e.event_source.clone(),
            event_name: e.event_name.clone(),
            aws_region: e.aws_region.clone(),
            recipient_account_id: e.recipient_account_id.clone(),
            principal_arn: e.principal_arn.clone(),
            principal_type: e.principal_type.clone(),
            access_key_id: e.access_key_id.clone(),
            source_ip: e.source_ip.clone(),
            user_agent: e.user_agent.clone(),
            error_code: e.error_code.clone(),
        }
    }

    pub fn assume_row(e: &TestEvent) -> AssumeRow {
        let issuing = Self::issuing(e);
        AssumeRow {
            event: Self::event_row(e),
            role_arn: if issuing {
                e.target_role_arn.clone()
            } else {
                e.role_arn.clone()
            },
            caller_arn: e.principal_arn.clone(),
            caller_key: e.access_key_id.clone(),
            session_name: if issuing {
                e.target_session_name.clone()
            } else {
                e.session_name.clone()
            },
            source_identity: e.source_identity.clone(),
            mfa: e.mfa,
            issued_key: e.issued_key.clone(),
            session_arn: e.issued_session_arn.clone(),
            expiration: e.expiration,
            expiration_raw: e.expiration_raw.clone(),
        }
    }

    pub fn timeline(&self, a: &Actor, f: &Filter) -> Vec<TimelineRow> {
        let idx = (0..self.evs.len())
            .filter(|&i| {
                let e = &self.evs[i].0;
                Self::accepts(f, e)
                    && a.matches(
                        e.principal_arn.as_deref(),
                        e.role_arn.as_deref(),
                        e.access_key_id.as_deref(),
                        e.source_ip.as_deref(),
                    )
            })
            .collect();
        self.sorted(idx)
            .into_iter()
            .map(|i| TimelineRow {
                event: Self::event_row(&self.evs[i].0),
                resource_arns: self.evs[i].0.resource_arns.clone(),
            })
            .collect()
    }

    pub fn touched(&self, q: &str, f: &Filter) -> Vec<TouchedRow> {
        let q = ResourceQuery::parse(q).unwrap();
        let idx = (0..self.evs.len())
            .filter(|&i| {
                Self::accepts(f, &self.evs[i].0)
                    && self.evs[i].0.resource_arns.iter().any(|r| q.matches(r))
            })
            .collect();
        self.sorted(idx)
            .into_iter()
            .map(|i| {
                let e = &self.evs[i].0;
                TouchedRow {
                    event: Self::event_row(e),
                    resource_arn: e
                        .resource_arns
                        .iter()
                        .find(|r| q.matches(r))
                        .unwrap()
                        .clone(),
                }
            })
            .collect()
    }

    fn assumed_idx(&self, role: Option<&str>, by: Option<&str>, f: &Filter) -> Vec<usize> {
        let idx = (0..self.evs.len())
            .filter(|&i| {
                let e = &self.evs[i].0;
                Self::issuing(e)
                    && Self::accepts(f, e)
                    && role.is_none_or(|r| target_matches(r, e.target_role_arn.as_deref()))
                    && by.is_none_or(|b| {
                        caller_matches(b, e.principal_arn.as_deref(), e.role_arn.as_deref())
                    })
            })
            .collect();
        self.sorted(idx)
    }

    pub fn who_assumed(&self, role: &str, by: Option<&str>, f: &Filter) -> Vec<AssumeRow> {
        self.assumed_idx(Some(role), by, f)
            .into_iter()
            .map(|i| Self::assume_row(&self.evs[i].0))
            .collect()
    }

    pub fn sessions(&self, role: Option<&str>, by: Option<&str>, f: &Filter) -> Vec<SessionRow> {
        let mut out = Vec::new();
        for i in self.assumed_idx(role, by, f) {
            let e = &self.evs[i].0;
            let Some(key) = e.issued_key.clone() else {
                continue;
            };
            let uses: Vec<usize> = (0..self.evs.len())
                .filter(|&j| self.evs[j].0.access_key_id.as_ref() == Some(&key))
                .collect();
            let uses = self.sorted(uses);
            let first_use = uses.first().and_then(|&j| self.evs[j].0.event_time);
            let last_use = uses.iter().filter_map(|&j| self.evs[j].0.event_time).max();
            let ips: BTreeSet<String> = uses
                .iter()
                .filter_map(|&j| self.evs[j].0.source_ip.clone())
                .collect();
            let a = Self::assume_row(e);
            out.push(SessionRow {
                first_use,
                last_use,
                calls: uses.len() as u64,
                errors: uses
                    .iter()
                    .filter(|&&j| self.evs[j].0.error_code.is_some())
                    .count() as u64,
                expired_errors: uses
                    .iter()
                    .filter(|&&j| {
                        self.evs[j]
                            .0
                            .error_code
                            .as_deref()
                            .is_some_and(is_expired_credential_error)
                    })
                    .count() as u64,
                used_from_other_ip: ips.iter().any(|ip| Some(ip) != e.source_ip.as_ref()),
                used_after_expiry: e
                    .expiration
                    .is_some_and(|x| last_use.is_some_and(|l| l > x)),
                source_ips: ips.into_iter().collect(),
                issued_key: key,
                event: a.event,
                role_arn: a.role_arn,
                caller_arn: a.caller_arn,
                caller_key: a.caller_key,
                session_name: a.session_name,
                source_identity: a.source_identity,
                mfa: a.mfa,
                session_arn: a.session_arn,
                expiration: a.expiration,
                expiration_raw: a.expiration_raw,
            });
        }
        out
    }

    // ---- chain ----

    fn first_use(&self, key: &str) -> Option<usize> {
        let uses = (0..self.evs.len())
            .filter(|&j| self.evs[j].0.access_key_id.as_deref() == Some(key))
            .collect();
        self.sorted(uses).first().copied()
    }

    fn root_type(t: Option<&str>) -> bool {
        t.and_then(IdentityType::parse)
            .is_some_and(IdentityType::is_root_of_trust)
    }

    fn hop(
        &self,
        kind: HopKind,
        ev: Option<usize>,
        principal: Option<&str>,
        key: Option<&str>,
    ) -> Hop {
        let row = match ev {
            Some(i) => Self::assume_row(&self.evs[i].0),
            None => {
                let mut r = AssumeRow::default();
                r.event.principal_arn = principal.map(str::to_owned);
                r.caller_arn = principal.map(str::to_owned);
                r.event.access_key_id = key.map(str::to_owned);
                r.caller_key = key.map(str::to_owned);
                r
            }
        };
        Hop {
            hop: kind,
            root_of_trust: None,
            resolved_by: None,
            row,
        }
    }

    fn walk(&self, start_key: Option<&str>, start_iss: Option<usize>) -> Option<ChainPath> {
        let mut hops: Vec<Hop> = Vec::new();
        let mut keys_seen: HashSet<String> = HashSet::new();
        let mut iss_seen: HashSet<usize> = HashSet::new();
        let mut key = start_key.map(str::to_owned);
        let mut iss_next = start_iss;
        let status = loop {
            let (iss, how) = if let Some(i) = iss_next.take() {
                (i, Resolution::Key)
            } else {
                let k = key.clone().unwrap();
                if !keys_seen.insert(k.clone()) {
                    hops.push(self.hop(HopKind::Cycle, None, None, Some(&k)));
                    break PathStatus::Cycle;
                }
                let by_key: Vec<usize> = (0..self.evs.len())
                    .filter(|&j| {
                        Self::issuing(&self.evs[j].0)
                            && self.evs[j].0.issued_key.as_deref() == Some(&k)
                    })
                    .collect();
                // Earliest; at equal times the copy with a caller key.
                let keyed = |j: &usize| {
                    let (t, p, pos) = self.order(*j);
                    (t, self.evs[*j].0.access_key_id.is_none(), p, pos)
                };
                if let Some(j) = by_key.into_iter().min_by_key(keyed) {
                    (j, Resolution::Key)
                } else {
                    let Some(fu) = self.first_use(&k) else {
                        if hops.is_empty() {
                            return None;
                        }
                        hops.push(self.hop(HopKind::MissingLink, None, None, Some(&k)));
                        break PathStatus::MissingLink;
                    };
                    let fe = &self.evs[fu].0;
                    let by_session: Vec<usize> = match (&fe.principal_arn, fe.event_time) {
                        (Some(p), Some(t)) => (0..self.evs.len())
                            .filter(|&j| {
                                let x = &self.evs[j].0;
                                Self::issuing(x)
                                    && x.issued_session_arn.as_ref() == Some(p)
                                    && x.event_time.is_some_and(|xt| xt <= t)
                            })
                            .collect(),
                        _ => Vec::new(),
                    };
                    let keyed = |j: &usize| {
                        let (t, p, pos) = self.order(*j);
                        (t, self.evs[*j].0.access_key_id.is_some(), p, pos)
                    };
                    if let Some(j) = by_session.into_iter().max_by_key(keyed) {
                        (j, Resolution::SessionTime)
                    } else {
                        let root = Self::root_type(fe.principal_type.as_deref());
                        let mut h = self.hop(
                            if root {
                                HopKind::Root
                            } else {
                                HopKind::MissingLink
                            },
                            Some(fu),
                            None,
                            None,
                        );
                        if root {
                            h.root_of_trust = Some(
                                root_of_trust(fe.principal_type.as_deref(), Some(&k)).to_owned(),
                            );
                        }
                        hops.push(h);
                        break if root {
                            PathStatus::Complete
                        } else {
                            PathStatus::MissingLink
                        };
                    }
                }
            };
            if !iss_seen.insert(iss) {
                let e = &self.evs[iss].0;
                let mut h = self.hop(HopKind::Cycle, Some(iss), None, None);
                h.row = Self::assume_row(e);
                hops.push(h);
                break PathStatus::Cycle;
            }
            let mut h = self.hop(HopKind::Issue, Some(iss), None, None);
            h.resolved_by = Some(how);
            hops.push(h);
            let e = &self.evs[iss].0;
            match &e.access_key_id {
                Some(k) => key = Some(k.clone()),
                None => {
                    if Self::root_type(e.principal_type.as_deref()) {
                        let mut h = self.hop(HopKind::Root, Some(iss), None, None);
                        h.root_of_trust =
                            Some(root_of_trust(e.principal_type.as_deref(), None).to_owned());
                        hops.push(h);
                        break PathStatus::Complete;
                    }
                    hops.push(self.hop(
                        HopKind::MissingLink,
                        None,
                        e.principal_arn.as_deref(),
                        None,
                    ));
                    break PathStatus::MissingLink;
                }
            }
        };
        hops.reverse();
        Some(ChainPath {
            key: start_key.map(str::to_owned),
            status,
            hops,
        })
    }

    pub fn chain(&self, start: &str, f: &Filter) -> Chain {
        if !backtrail_index::matching::is_access_key_id(start) && !start.starts_with("arn:") {
            let mut keys: Vec<(Order, String)> = Vec::new();
            let all: BTreeSet<String> = self
                .evs
                .iter()
                .filter_map(|(e, _, _)| e.access_key_id.clone())
                .collect();
            for k in all {
                let fu = self.first_use(&k).unwrap();
                let e = &self.evs[fu].0;
                if e.source_ip.as_deref() == Some(start) && Self::accepts(f, e) {
                    keys.push((self.order(fu), k));
                }
            }
            keys.sort();
            let paths = keys
                .iter()
                .filter_map(|(_, k)| self.walk(Some(k), None))
                .collect();
            return Chain {
                start: start.to_owned(),
                start_kind: StartKind::Ip,
                paths,
            };
        }
        if start.starts_with("arn:") {
            let iss: Vec<usize> = (0..self.evs.len())
                .filter(|&j| {
                    Self::issuing(&self.evs[j].0)
                        && self.evs[j].0.issued_session_arn.as_deref() == Some(start)
                })
                .collect();
            let mut paths = Vec::new();
            let mut seen = HashSet::new();
            for j in self.sorted(iss) {
                let e = &self.evs[j].0;
                match &e.issued_key {
                    Some(k) => {
                        if seen.insert(k.clone()) {
                            paths.extend(self.walk(Some(k), None));
                        }
                    }
                    None => paths.extend(self.walk(None, Some(j))),
                }
            }
            if paths.is_empty()
                && self
                    .evs
                    .iter()
                    .any(|(e, _, _)| e.principal_arn.as_deref() == Some(start))
            {
                paths.push(ChainPath {
                    key: None,
                    status: PathStatus::MissingLink,
                    hops: vec![self.hop(HopKind::MissingLink, None, Some(start), None)],
                });
            }
            return Chain {
                start: start.to_owned(),
                start_kind: StartKind::Session,
                paths,
            };
        }
        Chain {
            start: start.to_owned(),
            start_kind: StartKind::Key,
            paths: self.walk(Some(start), None).into_iter().collect(),
        }
    }
}
