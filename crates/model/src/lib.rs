//! The vocabulary every other backtrail crate speaks.
//!
//! * [`schema`] — the one Arrow schema of the dataset, with a constant for
//!   every column name, used by the writer (`ingest`) and the readers
//!   (`index`, `hunt`) alike.
//! * [`arn`] — parsing ARNs and the identity forms CloudTrail writes.
//! * [`identity`] — principal types, access-key kinds, which calls issue
//!   credentials, and the derived forensic fields computed once per event.
//! * [`time`] — CloudTrail's time forms (ISO 8601 event times and the
//!   several spellings of a credential expiration) to UTC microseconds.
//! * [`resource`] — normalising what an event touched to ARNs.
//!
//! The crate has no I/O and no JSON dependency: functions that need to look
//! into a record take a small accessor (`&dyn Fn(&str) -> Option<&str>`), so
//! the ingest's SIMD parser, a test's `serde_json::Value` and the index all
//! feed it the same way.

pub mod arn;
pub mod identity;
pub mod resource;
pub mod schema;
pub mod time;

pub use arn::Arn;
pub use identity::{IdentityType, KeyKind};
pub use schema::event_schema;
