//! backtrail-index: memory-mapped lookup structures over the backtrail
//! Parquet dataset, and the analyst's queries answered from them without
//! scanning.
//!
//! # Overview
//!
//! [`build`] writes one *segment* per `event_date` partition plus a small
//! catalogue under `DATASET/index/` (grammar: `docs/formats/index.md`). A
//! segment holds a sorted, front-coded string table, the time range of
//! each block of 128 events, postings (delta-varint event ordinals) by
//! principal, key, IP, role and resource (S3 objects filed by directory and
//! name hash),
//! an issuance table of credential-issuing events with
//! postings by issued key, issued session and target role, and a use
//! summary per access key. No per-event strings are copied: result rows
//! (event id, user agent, …) are read from Parquet for just the matching
//! rows and just the columns shown (who-assumed and sessions read no Parquet
//! at all: their rows come from the issuance table).
//!
//! [`Index::open`] maps the segments and refuses a missing, stale, truncated,
//! corrupt or other-version index with an [`Error`] that says what to run.
//!
//! ```no_run
//! use backtrail_index::{build, BuildOptions, Filter, Index, WhoAssumed};
//! # fn main() -> Result<(), backtrail_index::Error> {
//! let data = std::path::Path::new("dataset");
//! build(data, None, &BuildOptions::new())?;
//! let index = Index::open(data)?;
//! let q = WhoAssumed { role: "Admin".into(), by: None };
//! for row in index.who_assumed(&q, &Filter::default())? {
//!     let _ = (row.caller_arn, row.event.source_ip, row.mfa);
//! }
//! # Ok(()) }
//! ```
//!
//! # Memory
//!
//! Building holds one partition's interned strings, postings and times per
//! worker (tens of bytes per event of that partition). Queries touch only
//! the mapped pages they need plus the rows they return.
//!
//! # Quirks
//!
//! * Time filters are checked per block of 128 events in the index and
//!   exactly on the Parquet row (issuance times are exact in the index).
//! * `touched` candidates are re-checked on the row's `resource_arns`: an
//!   S3 object's key in the index is its directory and a name hash.
//! * Segments are checksummed per 4 KiB block, each block when a read first
//!   touches it in a process (not at open); `status` checks every byte.

mod build;
mod catalog;
mod dataset;
mod error;
mod format;
mod index;
/// The `ISSUANCE` section's record codec (public for the fuzz target).
pub mod issuance;
mod layout;
pub mod matching;
pub mod page_header;
mod page_read;
mod pages;
mod query;
mod rows;
mod section;
mod segment;
mod segment_write;
mod strtab;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use build::{BuildOptions, BuildReport, PartitionStatus, SegmentState, build, status};
pub use catalog::{CATALOG_FILE, index_dir, segment_name};
pub use dataset::{EVENTS_DIR, INDEX_DIR, NO_DATE_PARTITION};
pub use error::{Error, Result};
pub use format::FORMAT_VERSION;
pub use index::{Filter, Index, IndexStatus};
pub use matching::{Actor, ResourceQuery};
pub use query::{
    Chain, ChainPath, Hop, HopKind, PathStatus, Resolution, Sessions, StartKind, WhoAssumed,
    root_of_trust,
};
pub use rows::{AssumeRow, EventRow, SessionRow, TimelineRow, TouchedRow};
