//! `who_assumed` and `sessions`: both start from the segments' issuance
//! tables; `sessions` adds each issued key's use summary merged across all
//! segments.

use std::collections::BTreeSet;

use ahash::{AHashMap, AHashSet};

use crate::error::Result;
use crate::index::{Filter, Index, Loc, order_key};
use crate::layout::{Issuance, KeyUse, NO_TIME, NONE, sec};
use crate::matching::{caller_matches, parse_principal, parse_role, target_matches};
use crate::rows::{AssumeRow, SessionRow};
use crate::segment::Segment;

/// Arguments of [`Index::who_assumed`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WhoAssumed {
    /// The role: an ARN or a bare name (`same_role` semantics: paths are
    /// ignored, a bare name matches that role in every account).
    pub role: String,
    /// Only calls by this principal (see `matching::caller_matches`).
    pub by: Option<String>,
}

/// Arguments of [`Index::sessions`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sessions {
    /// Only credentials for this role (ARN or bare name).
    pub role: Option<String>,
    /// Only credentials obtained by this principal.
    pub principal: Option<String>,
}

/// A key's use merged over every segment.
#[derive(Debug, Clone, Default)]
pub(crate) struct Usage {
    /// Order key and place of the first use.
    pub first: Option<((i64, usize, u32), Loc)>,
    pub first_principal: Option<String>,
    pub first_type: Option<String>,
    pub first_ip: Option<String>,
    pub last_time: Option<i64>,
    pub calls: u64,
    pub errors: u64,
    pub expired: u64,
    pub ips: BTreeSet<String>,
}

impl Usage {
    pub fn first_time(&self) -> Option<i64> {
        self.first
            .and_then(|((t, _, _), _)| (t != i64::MAX).then_some(t))
    }

    fn merge(&mut self, seg: &Segment, si: usize, u: &KeyUse, ips: Option<&[u32]>) -> Result<()> {
        let t = (u.first_time != NO_TIME).then_some(u.first_time);
        let loc = (si, u.first_ord);
        let k = order_key(t, loc);
        if self.first.is_none_or(|(old, _)| k < old) {
            self.first = Some((k, loc));
            self.first_principal = seg.opt_str(u.first_principal)?;
            self.first_type = seg.opt_str(u.first_type)?;
            self.first_ip = seg.opt_str(u.first_ip)?;
        }
        if u.last_time != NO_TIME {
            self.last_time = Some(self.last_time.map_or(u.last_time, |l| l.max(u.last_time)));
        }
        self.calls += u64::from(u.calls);
        self.errors += u64::from(u.errors);
        self.expired += u64::from(u.expired_errors);
        for &ip in ips.unwrap_or_default() {
            self.ips.insert(seg.str(ip)?);
        }
        Ok(())
    }
}

impl Index {
    /// Use summaries of `keys`: per-key lookups in every segment, or one scan
    /// of every summary when that is cheaper (many keys).
    /// `with_ips`: also collect the distinct source IPs (costly for keys
    /// used from many addresses; chains do not need them).
    pub(crate) fn key_usage(
        &self,
        keys: &AHashSet<String>,
        with_ips: bool,
    ) -> Result<AHashMap<String, Usage>> {
        let mut out: AHashMap<String, Usage> = AHashMap::new();
        let total: usize = self
            .segments
            .iter()
            .map(|s| s.key_use_count())
            .sum::<Result<usize>>()?;
        let scan = keys.len().saturating_mul(self.segments.len()) > total;
        for (si, seg) in self.segments.iter().enumerate() {
            if scan {
                for i in 0..seg.key_use_count()? {
                    let (u, ips) = seg.key_use_at(i)?;
                    let k = seg.str(u.key)?;
                    if keys.contains(&k) {
                        out.entry(k.to_owned()).or_default().merge(
                            seg,
                            si,
                            &u,
                            with_ips.then_some(ips.as_slice()),
                        )?;
                    }
                }
            } else {
                for k in keys {
                    if let Some(sid) = seg.find(k)?
                        && let Some((u, ips)) = seg.key_use(sid)?
                    {
                        out.entry(k.clone()).or_default().merge(
                            seg,
                            si,
                            &u,
                            with_ips.then_some(ips.as_slice()),
                        )?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Issuance records passing the role, caller and event filters.
    fn select_issuances(
        &self,
        role: Option<&str>,
        by: Option<&str>,
        f: &Filter,
        need_key: bool,
    ) -> Result<Vec<(Loc, Issuance)>> {
        let mut out = Vec::new();
        for (si, seg) in self.segments_for(f) {
            let idxs: Vec<u32> = match role {
                Some(role) => {
                    let post = seg.postings(sec::POST_TARGET_ROLE)?;
                    let mut v = Vec::new();
                    for e in post.entries()? {
                        if target_matches(role, Some(&seg.str(e.sid)?)) {
                            v.extend(self.decode(seg, sec::POST_TARGET_ROLE, e)?);
                        }
                    }
                    v.sort_unstable();
                    v
                }
                None => (0..seg.issuance_count()? as u32).collect(),
            };
            for r in seg.issuances(&idxs)? {
                if need_key && r.issued_key == NONE {
                    continue;
                }
                let t = (r.time != NO_TIME).then_some(r.time);
                // Account and region are only looked up when filtered on.
                let str_if = |sid, wanted: bool| match wanted {
                    true => seg.opt_str(sid),
                    false => Ok(None),
                };
                if !f.accepts_parts(
                    t,
                    str_if(r.account, f.account.is_some())?.as_deref(),
                    str_if(r.region, f.region.is_some())?.as_deref(),
                ) {
                    continue;
                }
                if let Some(by) = by
                    && !caller_matches(
                        by,
                        seg.opt_str(r.caller)?.as_deref(),
                        seg.opt_str(r.caller_role)?.as_deref(),
                    )
                {
                    continue;
                }
                out.push(((si, r.ord), r));
            }
        }
        Ok(out)
    }

    /// Every credential-issuing call for a role (ARN or bare name), in time
    /// order, optionally only those made by one principal.
    pub fn who_assumed(&self, q: &WhoAssumed, f: &Filter) -> Result<Vec<AssumeRow>> {
        let role = parse_role(&q.role)?;
        let by = q.by.as_deref().map(parse_principal).transpose()?;
        let mut sel = self.select_issuances(Some(&role), by.as_deref(), f, false)?;
        sel.sort_by_key(|(l, r)| order_key((r.time != NO_TIME).then_some(r.time), *l));
        self.issuance_rows(&sel)
    }

    /// The lifecycle of every issued credential (issuing events with an
    /// issued key) passing the filters, in issuing order. The filter applies
    /// to the issuing event; use figures cover the whole archive.
    pub fn sessions(&self, q: &Sessions, f: &Filter) -> Result<Vec<SessionRow>> {
        let role = q.role.as_deref().map(parse_role).transpose()?;
        let by = q.principal.as_deref().map(parse_principal).transpose()?;
        let mut sel = self.select_issuances(role.as_deref(), by.as_deref(), f, true)?;
        sel.sort_by_key(|(l, r)| order_key((r.time != NO_TIME).then_some(r.time), *l));
        let rows = self.issuance_rows(&sel)?;
        let keys: AHashSet<String> = rows.iter().filter_map(|r| r.issued_key.clone()).collect();
        let usage = self.key_usage(&keys, true)?;
        Ok(rows
            .into_iter()
            .map(|a| {
                let key = a.issued_key.clone().unwrap_or_default();
                let u = usage.get(&key).cloned().unwrap_or_default();
                let issuing_ip = a.event.source_ip.clone();
                SessionRow {
                    first_use: u.first_time(),
                    last_use: u.last_time,
                    calls: u.calls,
                    errors: u.errors,
                    expired_errors: u.expired,
                    used_from_other_ip: u.ips.iter().any(|ip| Some(ip) != issuing_ip.as_ref()),
                    used_after_expiry: a
                        .expiration
                        .is_some_and(|x| u.last_time.is_some_and(|l| l > x)),
                    source_ips: u.ips.into_iter().collect(),
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
                }
            })
            .collect())
    }
}
