//! The one error type of the synth crate.

use std::path::PathBuf;

/// What can go wrong while generating or verifying an archive.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error("synth: I/O on {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The configuration cannot produce an archive.
    #[error("synth: invalid configuration: {0}")]
    Config(String),
    /// A scenario name on the command line is not known.
    #[error("synth: unknown scenario {name:?}; known: {known}")]
    UnknownScenario {
        /// What was given.
        name: String,
        /// The valid names, comma-separated.
        known: String,
    },
    /// A digest or ground-truth file is not the JSON it should be.
    #[error("synth: {path} is not valid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Compression failed (output buffer sizing bug).
    #[error("synth: gzip compression of {path} failed")]
    Compress {
        /// The file being written.
        path: PathBuf,
    },
}

impl Error {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
