//! The queries. Each narrows candidates with the segments' postings, reads
//! only the result rows from Parquet, re-checks every row with the rules in
//! `matching.rs` and the [`Filter`], and returns rows in time order (events
//! without a time last, ties in dataset order).

mod assume;
mod chain;

pub use assume::{Sessions, WhoAssumed};
pub use chain::{Chain, ChainPath, Hop, HopKind, PathStatus, Resolution, StartKind, root_of_trust};

use ahash::AHashSet;
use backtrail_model::arn::same_role;

use backtrail_model::schema::col;

use crate::error::Result;
use crate::index::{Filter, Index, Loc};
use crate::layout::sec;
use crate::matching::{Actor, ResourceQuery};
use crate::rows::{TimelineRow, TouchedRow};

/// Columns a timeline reads: the event's, and `role_arn` to re-check a
/// role's sessions.
const TIMELINE_COLUMNS: &[&str] = &[
    col::EVENT_TIME,
    col::EVENT_ID,
    col::EVENT_SOURCE,
    col::EVENT_NAME,
    col::AWS_REGION,
    col::RECIPIENT_ACCOUNT_ID,
    col::PRINCIPAL_ARN,
    col::PRINCIPAL_TYPE,
    col::ACCESS_KEY_ID,
    col::SOURCE_IP_ADDRESS,
    col::USER_AGENT,
    col::ERROR_CODE,
    col::ROLE_ARN,
    col::RESOURCE_ARNS,
];

/// Columns `touched` reads: the event's and its resources.
const TOUCHED_COLUMNS: &[&str] = &[
    col::EVENT_TIME,
    col::EVENT_ID,
    col::EVENT_SOURCE,
    col::EVENT_NAME,
    col::AWS_REGION,
    col::RECIPIENT_ACCOUNT_ID,
    col::PRINCIPAL_ARN,
    col::PRINCIPAL_TYPE,
    col::ACCESS_KEY_ID,
    col::SOURCE_IP_ADDRESS,
    col::USER_AGENT,
    col::ERROR_CODE,
    col::RESOURCE_ARNS,
];

impl Index {
    /// Every event of an actor, in time order (see [`Actor`] for who counts).
    pub fn timeline(&self, actor: &Actor, f: &Filter) -> Result<Vec<TimelineRow>> {
        let mut locs: Vec<Loc> = Vec::new();
        for (si, seg) in self.segments_for(f) {
            let mut ords = match actor {
                Actor::Principal(p) | Actor::Session(p) => {
                    self.postings_of(seg, sec::POST_PRINCIPAL, p)?
                }
                Actor::Key(k) => self.postings_of(seg, sec::POST_KEY, k)?,
                Actor::Ip(i) => self.postings_of(seg, sec::POST_IP, i)?,
            };
            if let Some(role) = actor.role_of_principal() {
                let post = seg.postings(sec::POST_ROLE)?;
                for e in post.entries()? {
                    if same_role(&seg.str(e.sid)?, role) {
                        ords.extend(self.decode(seg, sec::POST_ROLE, e)?);
                    }
                }
                ords.sort_unstable();
                ords.dedup();
            }
            self.push_time_candidates(si, seg, ords, f, &mut locs)?;
        }
        self.fetch_sorted(
            locs,
            TIMELINE_COLUMNS,
            |v, i| {
                let keep = f.accepts_parts(v.time(i), v.account(i), v.region(i))
                    && actor.matches(v.principal(i), v.role(i), v.key(i), v.ip(i));
                keep.then(|| TimelineRow {
                    event: v.event(i),
                    resource_arns: v.resources(i).map(str::to_owned).collect(),
                })
            },
            |r| r.event.event_time,
        )
    }

    /// Every event that touched a resource named by `resource` (parsed with
    /// [`ResourceQuery::parse`]): one row an event, with the first of its
    /// resources that matched.
    pub fn touched(&self, resource: &str, f: &Filter) -> Result<Vec<TouchedRow>> {
        let q = ResourceQuery::parse(resource)?;
        let mut locs: Vec<Loc> = Vec::new();
        for (si, seg) in self.segments_for(f) {
            let post = seg.postings(sec::POST_RESOURCE)?;
            let mut seen = AHashSet::new();
            let mut ords = Vec::new();
            // Resource keys (S3 objects are filed by directory and name
            // hash, see `matching::resource_key`) in the prefix ranges,
            // and the object keys of the directory of a prefix that ends
            // inside an object name.
            let parts = &seg.meta.arn_partitions;
            let mut entries = Vec::new();
            for prefix in q
                .scan_prefixes(parts)
                .into_iter()
                .chain(q.extra_prefixes(parts))
            {
                entries.extend(post.entries_in(seg.prefix_range(&prefix)?)?);
            }
            for e in entries {
                if seen.insert(e.sid) && q.matches_key(&seg.str(e.sid)?) {
                    ords.extend(self.decode(seg, sec::POST_RESOURCE, e)?);
                }
            }
            ords.sort_unstable();
            ords.dedup();
            self.push_time_candidates(si, seg, ords, f, &mut locs)?;
        }
        self.fetch_sorted(
            locs,
            TOUCHED_COLUMNS,
            |v, i| {
                if !f.accepts_parts(v.time(i), v.account(i), v.region(i)) {
                    return None;
                }
                let arn = v.resources(i).find(|a| q.matches(a))?;
                Some(TouchedRow {
                    event: v.event(i),
                    resource_arn: arn.to_owned(),
                })
            },
            |r| r.event.event_time,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use backtrail_model::schema::POINT_READ_COLUMNS;

    /// The ingest writes small pages only for `POINT_READ_COLUMNS` (which
    /// `ROW_COLUMNS` is); a column read row by row but missing there would
    /// decompress whole 20,000-row pages on every point read.
    #[test]
    fn every_column_read_row_by_row_has_small_pages() {
        for c in TIMELINE_COLUMNS.iter().chain(TOUCHED_COLUMNS) {
            assert!(POINT_READ_COLUMNS.contains(c), "{c}");
        }
    }
}
