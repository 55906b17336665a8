//! The crate's errors: [`Error`] for a run that cannot go on (the dataset
//! is unwritable, the manifest is corrupt, an input path does not exist),
//! and [`FileError`] for one bad input file, which is quarantined while the
//! run goes on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Why one input file was quarantined. The short name (`kind()`) is what
/// the manifest and tests match on; `Display` is the one-line reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    /// The file could not be opened or read (permission denied, vanished,
    /// a directory that cannot be listed).
    #[error("unreadable: {0}")]
    Unreadable(String),
    /// Zero bytes (or only whitespace).
    #[error("empty file")]
    Empty,
    /// A gzip stream that ends before its end marker (an interrupted download).
    #[error("truncated gzip stream: ended after {inflated} inflated bytes without its end marker")]
    TruncatedGzip {
        /// Bytes inflated before the stream ended.
        inflated: u64,
    },
    /// The gzip magic is there but the stream is corrupt.
    #[error("corrupt gzip stream: {0}")]
    BadGzip(String),
    /// Inflates (or is) larger than `max_inflated_bytes`.
    #[error(
        "too large: more than {limit} bytes once inflated (raise max_inflated_bytes if this is real)"
    )]
    TooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// Neither gzip nor JSON (e.g. an S3 error page saved as `.json.gz`).
    #[error("not gzip or JSON: starts with {0:?}")]
    NotJson(String),
    /// A JSON syntax error.
    #[error("JSON syntax error{}: {msg}", line.map(|l| format!(" on line {l}")).unwrap_or_default())]
    JsonSyntax {
        /// 1-based line for JSON lines input.
        line: Option<usize>,
        /// The parser's message.
        msg: String,
    },
    /// `{"Records":[]}`: a delivery file with no records.
    #[error("empty Records: the file holds no events")]
    EmptyRecords,
    /// A container with nothing in it (`[]`, `{"Events":[]}`).
    #[error("no records: {0}")]
    NoRecords(String),
    /// JSON, but not CloudTrail (AWS Config snapshots, other services).
    #[error("not CloudTrail: {0}")]
    NotCloudTrail(String),
    /// The rows could not be assembled (a bug; please report it).
    #[error("cannot build rows: {0}")]
    Batch(String),
    /// A CloudTrail container holding something that is not a record.
    #[error("bad record {index}: {msg}")]
    BadRecord {
        /// 0-based position of the offending element.
        index: usize,
        /// What is wrong with it.
        msg: String,
    },
}

/// The short, stable name of a quarantine reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// [`FileError::Unreadable`].
    Unreadable,
    /// [`FileError::Empty`].
    Empty,
    /// [`FileError::TruncatedGzip`].
    TruncatedGzip,
    /// [`FileError::BadGzip`].
    BadGzip,
    /// [`FileError::TooLarge`].
    TooLarge,
    /// [`FileError::NotJson`].
    NotJson,
    /// [`FileError::JsonSyntax`].
    JsonSyntax,
    /// [`FileError::EmptyRecords`].
    EmptyRecords,
    /// [`FileError::NoRecords`].
    NoRecords,
    /// [`FileError::NotCloudTrail`].
    NotCloudtrail,
    /// [`FileError::BadRecord`].
    BadRecord,
    /// [`FileError::Batch`].
    Internal,
}

impl FileError {
    /// The short name of this reason.
    pub fn kind(&self) -> ReasonKind {
        match self {
            Self::Unreadable(_) => ReasonKind::Unreadable,
            Self::Empty => ReasonKind::Empty,
            Self::TruncatedGzip { .. } => ReasonKind::TruncatedGzip,
            Self::BadGzip(_) => ReasonKind::BadGzip,
            Self::TooLarge { .. } => ReasonKind::TooLarge,
            Self::NotJson(_) => ReasonKind::NotJson,
            Self::JsonSyntax { .. } => ReasonKind::JsonSyntax,
            Self::EmptyRecords => ReasonKind::EmptyRecords,
            Self::NoRecords(_) => ReasonKind::NoRecords,
            Self::NotCloudTrail(_) => ReasonKind::NotCloudtrail,
            Self::BadRecord { .. } => ReasonKind::BadRecord,
            Self::Batch(_) => ReasonKind::Internal,
        }
    }

    /// Whether the same bytes would fail the same way again whatever the
    /// configuration (so a re-run may skip the file by its SHA-256).
    /// Unreadable and too-large files are retried.
    pub fn is_content_error(&self) -> bool {
        !matches!(
            self,
            Self::Unreadable(_) | Self::Batch(_) | Self::TooLarge { .. }
        )
    }
}

/// An error that stops a run (or an export / manifest read).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input path given on the command line does not exist.
    #[error("input {path} not found: {source}; check the path")]
    InputNotFound {
        /// The path as given.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// I/O on the dataset failed.
    #[error("dataset I/O on {path}: {source}; check free space and permissions")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// Writing or reading a Parquet file failed.
    #[error("parquet file {path}: {source}")]
    Parquet {
        /// The data file.
        path: PathBuf,
        /// The parquet error.
        source: parquet::errors::ParquetError,
    },
    /// Building Arrow arrays failed (a bug: the builders disagree with the schema).
    #[error("building Arrow batch: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// The manifest cannot be read.
    #[error(
        "manifest {path} is corrupt at line {line}: {msg}; restore it from backup or re-ingest into a new dataset"
    )]
    CorruptManifest {
        /// The manifest segment.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong.
        msg: String,
    },
    /// The manifest was written by a newer build.
    #[error(
        "manifest {path} has format version {found}, this build reads {supported}; upgrade backtrail"
    )]
    ManifestVersion {
        /// The manifest segment.
        path: PathBuf,
        /// Version found.
        found: u32,
        /// Version this build reads.
        supported: u32,
    },
    /// A stored row cannot be turned back into a record.
    #[error(
        "data file {path} row {row}: {msg}; the dataset was not written by this build or is damaged"
    )]
    Rebuild {
        /// The data file.
        path: PathBuf,
        /// Row within the file.
        row: usize,
        /// What is wrong.
        msg: String,
    },
    /// Writing the export stream failed.
    #[error("writing export: {0}")]
    Output(std::io::Error),
    /// The `abort_after_files` failpoint fired (tests only): the run stopped
    /// without committing, as if killed.
    #[error("aborted by failpoint after {files} files (test failpoint; nothing was committed)")]
    Aborted {
        /// Files processed before the abort.
        files: usize,
    },
    /// Another process is ingesting into the same dataset.
    #[error(
        "another ingest is writing {dataset} ({holder}); wait for it to finish, \
         or ingest into another --out directory"
    )]
    Locked {
        /// The dataset.
        dataset: PathBuf,
        /// What the lock file says about its holder.
        holder: String,
    },
    /// A worker thread panicked.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io {
            path: path.into(),
            source,
        }
    }
    pub(crate) fn parquet(path: impl Into<PathBuf>, source: parquet::errors::ParquetError) -> Self {
        Self::Parquet {
            path: path.into(),
            source,
        }
    }
}
