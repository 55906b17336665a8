//! [`Index`]: the opened, checked set of segments of one dataset, with the
//! helpers every query shares (candidate ordinals, time pruning, fetching
//! result rows from Parquet, result order).

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::{self, index_dir, staleness};
use crate::dataset::{RowView, list_partitions, partition_dir, scan_rows};
use crate::error::{Error, Result};
use crate::layout::{Issuance, NO_TIME};
use crate::rows::{AssumeRow, EventRow, FullRow};
use crate::segment::{PostingEntry, Segment};

/// Which events a query considers. Times are UTC microseconds, `from`
/// inclusive and `to` exclusive; with either set, events without a time are
/// left out. `account` is `recipientAccountId`, `region` is `awsRegion`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Earliest event time, inclusive.
    pub from: Option<i64>,
    /// Latest event time, exclusive.
    pub to: Option<i64>,
    /// Only events recorded in this account.
    pub account: Option<String>,
    /// Only events in this region.
    pub region: Option<String>,
}

impl Filter {
    /// Whether an event passes the filter.
    pub fn accepts(&self, e: &EventRow) -> bool {
        self.accepts_parts(
            e.event_time,
            e.recipient_account_id.as_deref(),
            e.aws_region.as_deref(),
        )
    }

    /// Whether an event with these fields passes the filter.
    pub fn accepts_parts(
        &self,
        time: Option<i64>,
        account: Option<&str>,
        region: Option<&str>,
    ) -> bool {
        if self.from.is_some() || self.to.is_some() {
            let Some(t) = time else { return false };
            if self.from.is_some_and(|f| t < f) || self.to.is_some_and(|to| t >= to) {
                return false;
            }
        }
        self.account.as_deref().is_none_or(|a| account == Some(a))
            && self.region.as_deref().is_none_or(|r| region == Some(r))
    }

    fn has_time(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }
}

/// An event's place: segment number and ordinal.
pub(crate) type Loc = (usize, u32);

/// Result order: time (events without one last), then dataset order.
pub(crate) fn order_key(time: Option<i64>, loc: Loc) -> (i64, usize, u32) {
    (time.unwrap_or(i64::MAX), loc.0, loc.1)
}

/// Reorders `v` so that position `i` holds the element that was at
/// `perm[i]` (`perm` a permutation of `0..v.len()`), by swaps along the
/// permutation's cycles.
pub(crate) fn permute<T>(v: &mut [T], mut perm: Vec<usize>) {
    debug_assert_eq!(v.len(), perm.len());
    for i in 0..v.len() {
        let mut j = i;
        loop {
            let k = perm[j];
            perm[j] = j;
            if k == i {
                break;
            }
            v.swap(j, k);
            j = k;
        }
    }
}

/// Summary of an opened index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatus {
    /// The dataset root.
    pub dataset: PathBuf,
    /// Partitions (one segment each), sorted.
    pub partitions: Vec<String>,
    /// Events indexed.
    pub events: u64,
    /// Bytes of all segments.
    pub index_bytes: u64,
    /// Earliest and latest event time (µs), if any event has one.
    pub time_range: Option<(i64, i64)>,
}

/// The opened index of one dataset.
pub struct Index {
    pub(crate) dataset: PathBuf,
    pub(crate) segments: Vec<Segment>,
}

impl Index {
    /// Opens the index of `dataset`, checking that every partition has a
    /// segment, that each segment's header and META check out and match the
    /// catalogue, and that no partition changed since it was indexed.
    /// Other sections are checked on first read.
    pub fn open(dataset: &Path) -> Result<Index> {
        let entries = catalog::read(dataset)?;
        let parts = list_partitions(dataset)?;
        for e in &entries {
            if parts.binary_search(&e.partition).is_err() {
                return Err(Error::Stale {
                    partition: e.partition.clone(),
                    reason: "partition removed from the dataset".into(),
                    dataset: dataset.to_owned(),
                });
            }
        }
        let mut segments = Vec::with_capacity(parts.len());
        for p in &parts {
            let Some(e) = entries.iter().find(|e| &e.partition == p) else {
                return Err(Error::Missing {
                    partition: p.clone(),
                    dataset: dataset.to_owned(),
                });
            };
            let path = index_dir(dataset).join(&e.segment);
            let seg = Segment::open(&path, dataset)?;
            if seg.header_crc != e.header_crc || seg.meta.partition != *p {
                return Err(seg.corrupt("segment does not match the catalogue".into()));
            }
            if let Some(reason) = staleness(dataset, &seg)? {
                return Err(Error::Stale {
                    partition: p.clone(),
                    reason,
                    dataset: dataset.to_owned(),
                });
            }
            segments.push(seg);
        }
        Ok(Index {
            dataset: dataset.to_owned(),
            segments,
        })
    }

    /// What is indexed.
    pub fn status(&self) -> IndexStatus {
        let timed = self.segments.iter().filter(|s| s.meta.min_us != NO_TIME);
        let range = timed.fold(None, |acc: Option<(i64, i64)>, s| {
            let (lo, hi) = (s.meta.min_us, s.meta.max_us);
            Some(acc.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))))
        });
        IndexStatus {
            dataset: self.dataset.clone(),
            partitions: self
                .segments
                .iter()
                .map(|s| s.meta.partition.clone())
                .collect(),
            events: self.segments.iter().map(|s| s.meta.events).sum(),
            index_bytes: self.segments.iter().map(Segment::len).sum(),
            time_range: range,
        }
    }

    /// Segments whose time window meets the filter's.
    pub(crate) fn segments_for(&self, f: &Filter) -> impl Iterator<Item = (usize, &Segment)> {
        self.segments.iter().enumerate().filter(move |(_, s)| {
            if !f.has_time() {
                return true;
            }
            if s.meta.min_us == NO_TIME {
                return false;
            }
            f.from.is_none_or(|from| s.meta.max_us >= from)
                && f.to.is_none_or(|to| s.meta.min_us < to)
        })
    }

    /// Appends to `locs` the events `ords` of segment `si` whose time may
    /// pass the filter's window.
    pub(crate) fn push_time_candidates(
        &self,
        si: usize,
        seg: &Segment,
        ords: Vec<u32>,
        f: &Filter,
        locs: &mut Vec<Loc>,
    ) -> Result<()> {
        for o in ords {
            if self.time_candidate(seg, o, f)? {
                locs.push((si, o));
            }
        }
        Ok(())
    }

    /// Whether event `ord` of `seg` may pass the filter's time window (the
    /// exact check is made on the Parquet row).
    pub(crate) fn time_candidate(&self, seg: &Segment, ord: u32, f: &Filter) -> Result<bool> {
        if !f.has_time() {
            return Ok(true);
        }
        Ok(match seg.time_block(ord)? {
            None => false,
            Some((lo, hi)) => f.from.is_none_or(|from| hi >= from) && f.to.is_none_or(|to| lo < to),
        })
    }

    /// Decodes a postings entry of `seg` (a corrupt list is an error).
    pub(crate) fn decode(&self, seg: &Segment, kind: u32, e: PostingEntry) -> Result<Vec<u32>> {
        seg.postings(kind)?.decode(e)
    }

    /// The ordinals of string `s` in postings `kind` of `seg`.
    pub(crate) fn postings_of(&self, seg: &Segment, kind: u32, s: &str) -> Result<Vec<u32>> {
        let Some(sid) = seg.find(s)? else {
            return Ok(Vec::new());
        };
        match seg.postings(kind)?.lookup(sid)? {
            Some(e) => self.decode(seg, kind, e),
            None => Ok(Vec::new()),
        }
    }

    /// Reads the rows at `locs` (sorted, unique) from Parquet, one rayon
    /// task per file, hands each row to `f` and keeps what it returns, in
    /// `locs` order. Nothing is copied out of a row `f` rejects.
    pub(crate) fn fetch_map<T: Send>(
        &self,
        locs: &[Loc],
        columns: &[&str],
        f: impl Fn(&RowView<'_>, usize) -> Option<T> + Sync,
    ) -> Result<Vec<(Loc, T)>> {
        debug_assert!(locs.windows(2).all(|w| w[0] < w[1]));
        // Ordinals of a segment run through its files in order, so sorted
        // locations fall into consecutive runs, one per file.
        let mut groups: Vec<((usize, usize), Vec<u32>)> = Vec::new();
        for &(si, ord) in locs {
            let (fi, row) = self.segments[si].locate(ord)?;
            match groups.last_mut() {
                Some((k, rows)) if *k == (si, fi) => rows.push(row),
                _ => groups.push(((si, fi), vec![row])),
            }
        }
        let read = |((si, fi), rows): ((usize, usize), Vec<u32>)| {
            let seg = &self.segments[si];
            let file = &seg.meta.files[fi];
            let path = partition_dir(&self.dataset, &seg.meta.partition).join(&file.fp.name);
            let first = file.first_ord;
            scan_rows(&path, &rows, columns, |row, v, i| {
                f(v, i).map(|t| ((si, first + row), t))
            })
        };
        // One file needs no thread pool (starting one costs more than a
        // small read).
        let parts: Vec<Vec<(Loc, T)>> = if groups.len() == 1 {
            groups.into_iter().map(read).collect::<Result<_>>()?
        } else {
            groups.into_par_iter().map(read).collect::<Result<_>>()?
        };
        let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for mut p in parts {
            out.append(&mut p);
        }
        Ok(out)
    }

    /// Reads the result rows of `locs` from Parquet, in the order given.
    pub(crate) fn fetch(&self, locs: &[Loc], columns: &[&str]) -> Result<Vec<FullRow>> {
        let mut uniq = locs.to_vec();
        uniq.sort_unstable();
        uniq.dedup();
        let got = self.fetch_map(&uniq, columns, |v, i| Some(v.full(i)))?;
        locs.iter()
            .map(|l| match uniq.binary_search(l) {
                Ok(k) if got.get(k).is_some_and(|(g, _)| g == l) => Ok(got[k].1.clone()),
                _ => Err(self.segments[l.0].corrupt(format!("event {} not found in Parquet", l.1))),
            })
            .collect()
    }

    /// The [`AssumeRow`] of issuance record `r` at `loc`, from the index alone.
    pub(crate) fn issuance_row(&self, loc: Loc, r: &Issuance) -> Result<AssumeRow> {
        let seg = &self.segments[loc.0];
        let s = |sid| seg.opt_str(sid);
        let t = |v: i64| (v != NO_TIME).then_some(v);
        let (caller, key) = (s(r.caller)?, s(r.caller_key)?);
        Ok(AssumeRow {
            event: EventRow {
                event_time: t(r.time),
                event_id: seg.event_id(r.event_id)?,
                event_source: s(r.event_source)?,
                event_name: s(r.event_name)?,
                aws_region: s(r.region)?,
                recipient_account_id: s(r.account)?,
                principal_arn: caller.clone(),
                principal_type: s(r.caller_type)?,
                access_key_id: key.clone(),
                source_ip: s(r.ip)?,
                user_agent: s(r.user_agent)?,
                error_code: s(r.error)?,
            },
            role_arn: s(r.target_role)?,
            caller_arn: caller,
            caller_key: key,
            session_name: s(r.target_session)?,
            source_identity: s(r.source_identity)?,
            mfa: match r.mfa {
                1 => Some(false),
                2 => Some(true),
                _ => None,
            },
            issued_key: s(r.issued_key)?,
            session_arn: s(r.issued_session)?,
            expiration: t(r.expiration),
            expiration_raw: s(r.expiration_raw)?,
        })
    }

    /// [`Self::issuance_row`] for many records.
    pub(crate) fn issuance_rows(&self, recs: &[(Loc, Issuance)]) -> Result<Vec<AssumeRow>> {
        recs.iter().map(|(l, r)| self.issuance_row(*l, r)).collect()
    }

    /// Reads `locs` (any order), turns each row into a result with `make`
    /// (`None` drops it; rows are re-checked there, before anything is
    /// copied) and returns the results in result order by their `time`.
    pub(crate) fn fetch_sorted<T: Send>(
        &self,
        mut locs: Vec<Loc>,
        columns: &[&str],
        make: impl Fn(&RowView<'_>, usize) -> Option<T> + Sync,
        time: impl Fn(&T) -> Option<i64>,
    ) -> Result<Vec<T>> {
        locs.sort_unstable();
        locs.dedup();
        let mut rows = self.fetch_map(&locs, columns, make)?;
        // Sort small keys, then put each row in place by swaps: no second
        // buffer of rows (hundreds of MB for a large answer).
        let mut keys: Vec<((i64, usize, u32), usize)> = rows
            .iter()
            .enumerate()
            .map(|(k, (l, r))| (order_key(time(r), *l), k))
            .collect();
        keys.sort_unstable();
        permute(&mut rows, keys.into_iter().map(|(_, k)| k).collect());
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    /// Every permutation of up to six elements is applied exactly.
    #[test]
    fn permute_applies_every_permutation() {
        fn all(n: usize) -> Vec<Vec<usize>> {
            if n == 0 {
                return vec![vec![]];
            }
            let mut out = Vec::new();
            for p in all(n - 1) {
                for at in 0..=p.len() {
                    let mut q = p.clone();
                    q.insert(at, n - 1);
                    out.push(q);
                }
            }
            out
        }
        for n in 0..=6 {
            for perm in all(n) {
                let mut v: Vec<String> = (0..n).map(|i| format!("r{i}")).collect();
                let want: Vec<String> = perm.iter().map(|&k| format!("r{k}")).collect();
                permute(&mut v, perm.clone());
                assert_eq!(v, want, "{perm:?}");
            }
        }
    }
}
