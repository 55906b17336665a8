//! backtrail-synth: a deterministic generator of realistic CloudTrail
//! archives with embedded breach scenarios and their ground truth.
//!
//! # Overview
//!
//! [`generate`] writes, under an output folder, exactly what an export of
//! an organization's log-archive bucket holds: gzip log files under
//! `AWSLogs/o-ORGID/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/` (the organization
//! trail) and, for a share of accounts, the same records again under
//! `AWSLogs/ACCOUNT/CloudTrail/…` (an overlapping account trail); hourly
//! digest files under `CloudTrail-Digest/` with correct hashes and chains;
//! the digests' exported S3 metadata under `s3-metadata/`; and
//! `ground-truth.json` describing every embedded [`Scenario`].
//! [`verify_digests`] checks an archive's digests by AWS's rules.
//!
//! ```no_run
//! use backtrail_synth::{generate, GenConfig, Scenario};
//! let cfg = GenConfig::builder().events(100_000).seed(7).scenarios(Scenario::ALL.to_vec()).build()?;
//! let report = generate(std::path::Path::new("/tmp/archive"), &cfg)?;
//! assert!(backtrail_synth::verify_digests(std::path::Path::new("/tmp/archive"))?.is_clean());
//! println!("{} events in {} files", report.events, report.files);
//! # Ok::<(), backtrail_synth::Error>(())
//! ```
//!
//! # Memory
//!
//! Generation streams: each worker (one per account and region, run on
//! rayon's pool) holds one delivery file and one hour of digest entries.
//! Scenario events are planned up front; there are a few thousand at most.
//!
//! # Quirks
//!
//! * Same seed and configuration, same bytes (file modification times are
//!   not part of the contract).
//! * Digests are not RSA-signed; see `docs/formats/digest.md` for how an
//!   integrity checker tells synthetic digests apart.
//! * `events` counts distinct events; account-trail duplicates come on top
//!   and are reported in [`GenReport::duplicates_delivered`].

mod actor;
mod apis;
mod background;
mod calls;
pub mod config;
pub mod digest;
mod error;
mod generate;
mod json;
mod org;
mod planner;
mod record;
mod rng;
mod scenario;
mod scenarios;
mod shapes;
mod time;
pub mod truth;

pub use config::{GenConfig, GenConfigBuilder};
pub use digest::{DigestReport, verify_digests};
pub use error::Error;
pub use generate::{FILE_MAX_RECORDS, GROUND_TRUTH_FILE, GenReport, WINDOW_US, generate};
pub use scenario::Scenario;
pub use truth::GroundTruth;
