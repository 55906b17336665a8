//! The one error type of the index crate.
//!
//! Every variant names what went wrong at this layer and its `Display` ends
//! with what the user should do next; `source()` chains to the cause.

use std::path::PathBuf;

/// Everything that can go wrong while building, opening or querying an index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}; check the path and permissions")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A dataset Parquet file could not be read.
    #[error("cannot read dataset file {path}: {source}; re-run ingest for this partition")]
    Parquet {
        /// The Parquet file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// A dataset file lacks a column the index needs, or has it with another type.
    #[error(
        "dataset file {path} does not have the backtrail schema ({detail}); re-run ingest with this build"
    )]
    Schema {
        /// The Parquet file.
        path: PathBuf,
        /// Which column and what was expected.
        detail: String,
    },
    /// There is no index at all under the dataset.
    #[error("no index under {dataset}; run `backtrail index --data {dataset}`")]
    NotBuilt {
        /// The dataset root.
        dataset: PathBuf,
    },
    /// A dataset partition has no index segment.
    #[error(
        "partition event_date={partition} is not indexed; run `backtrail index --data {dataset}`"
    )]
    Missing {
        /// The partition value (`YYYY-MM-DD`).
        partition: String,
        /// The dataset root.
        dataset: PathBuf,
    },
    /// The segment file named by the catalogue is not there.
    #[error("index segment {path} is missing; run `backtrail index --data {dataset} --rebuild`")]
    SegmentMissing {
        /// The segment file.
        path: PathBuf,
        /// The dataset root.
        dataset: PathBuf,
    },
    /// A partition changed (files added, removed, rewritten) after its segment was built.
    #[error(
        "index segment for event_date={partition} is stale ({reason}); run `backtrail index --data {dataset}`"
    )]
    Stale {
        /// The partition value.
        partition: String,
        /// What differs.
        reason: String,
        /// The dataset root.
        dataset: PathBuf,
    },
    /// An index file is truncated, fails its checksum or is malformed.
    #[error(
        "index file {path} is corrupt ({detail}); run `backtrail index --data {dataset} --rebuild`"
    )]
    Corrupt {
        /// The index file.
        path: PathBuf,
        /// What check failed.
        detail: String,
        /// The dataset root.
        dataset: PathBuf,
    },
    /// An index file was written by another format version.
    #[error(
        "index file {path} has format version {found}, this build reads version {expected}; run `backtrail index --data {dataset} --rebuild`"
    )]
    Version {
        /// The index file.
        path: PathBuf,
        /// Version in the file.
        found: u32,
        /// Version this build reads and writes.
        expected: u32,
        /// The dataset root.
        dataset: PathBuf,
    },
    /// A partition named to `build` does not exist in the dataset.
    #[error(
        "partition event_date={partition} does not exist under {dataset}; check the partition list"
    )]
    NoSuchPartition {
        /// The partition value.
        partition: String,
        /// The dataset root.
        dataset: PathBuf,
    },
    /// A query argument is malformed.
    #[error("invalid {what} {value:?}: expected {expected}; fix the argument")]
    BadArgument {
        /// Which argument.
        what: &'static str,
        /// The value given.
        value: String,
        /// What is accepted.
        expected: &'static str,
    },
    /// A partition holds more than the format's limits (2^32 - 2 events, 4 GiB sections).
    #[error(
        "partition event_date={partition} is too large for index format v1 ({detail}); split the partition"
    )]
    TooLarge {
        /// The partition value.
        partition: String,
        /// Which limit.
        detail: String,
    },
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
    let path = path.into();
    move |source| Error::Io { path, source }
}
