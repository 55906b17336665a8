//! Command-line arguments (clap). Libraries never see these structs: the
//! commands translate them into each crate's own configuration.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::Format;

/// Default dataset location for every command that reads one.
pub const DEFAULT_DATA: &str = "backtrail-data";

/// Reconstructs a cloud breach from an AWS CloudTrail log archive, offline.
#[derive(Debug, Parser)]
#[command(name = "backtrail", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Turn CloudTrail files (.json.gz, .json, JSON lines, lookup-events
    /// exports; files or folders) into a Parquet dataset.
    Ingest(IngestArgs),
    /// Write every stored record back as JSON lines on stdout.
    Export(DataArg),
    /// Generate a realistic synthetic archive with breach scenarios.
    Gen(GenArgs),
    /// Generate a small archive with a breach in it, ingest it and
    /// reconstruct what happened.
    Demo(DemoArgs),
    /// Build (or rebuild) the lookup index of a dataset.
    Index(IndexArgs),
    /// Every credential-issuing call for a role: who assumed it, from where.
    WhoAssumed(WhoAssumedArgs),
    /// The chain of identities behind a key, session ARN or IP, back to its root.
    Chain(ChainArgs),
    /// Lifecycle of each issued credential: issued, expires, used, from where.
    Sessions(SessionsArgs),
    /// Who touched a resource (ARN, bucket[/prefix], KMS key or alias, secret, …).
    Touched(TouchedArgs),
    /// Every event of one actor, in time order.
    Timeline(TimelineArgs),
}

/// `--data`.
#[derive(Debug, Args)]
pub struct DataArg {
    /// The dataset folder.
    #[arg(long, default_value = DEFAULT_DATA)]
    pub data: PathBuf,
}

/// `backtrail ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files and folders to read (folders recursively).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// The dataset folder to create or extend.
    #[arg(long, short, default_value = DEFAULT_DATA)]
    pub out: PathBuf,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Quarantine any file that inflates past this many bytes.
    #[arg(long, value_name = "BYTES")]
    pub max_inflated_bytes: Option<u64>,
    /// Exit non-zero if any file was quarantined.
    #[arg(long)]
    pub strict: bool,
    /// No progress bar and no summary (errors still print).
    #[arg(long, short)]
    pub quiet: bool,
    /// Print the summary as one JSON object.
    #[arg(long)]
    pub json: bool,
    /// Do not update the lookup index after ingesting.
    #[arg(long)]
    pub no_index: bool,
}

/// `backtrail gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// Output folder (the archive lands under OUT/AWSLogs/).
    #[arg(long)]
    pub out: PathBuf,
    /// Approximate number of distinct events.
    #[arg(long, default_value_t = 100_000)]
    pub events: u64,
    /// Seed: the same seed gives the same archive, byte for byte.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Breach scenario to embed (repeatable; default: all).
    #[arg(long = "scenario", value_name = "NAME")]
    pub scenarios: Vec<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// `backtrail demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Work folder (default: a temporary folder removed afterwards).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Size of the generated archive.
    #[arg(long, default_value_t = 200_000)]
    pub events: u64,
    /// Seed of the generated archive.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
}

/// `backtrail index`.
#[derive(Debug, Args)]
pub struct IndexArgs {
    #[command(flatten)]
    pub data: DataArg,
    /// Rebuild every segment, not only missing or stale ones.
    #[arg(long)]
    pub rebuild: bool,
}

/// Options shared by every query.
#[derive(Debug, Args)]
pub struct QueryOpts {
    /// The dataset folder.
    #[arg(long, default_value = DEFAULT_DATA, global = true)]
    pub data: PathBuf,
    /// Output: table on a terminal, JSON lines in a pipe, or CSV.
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    pub format: Format,
    /// Only events at or after this time (RFC 3339, UTC).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<i64>,
    /// Only events before this time (RFC 3339, UTC).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<i64>,
    /// Only events recorded in this account (recipientAccountId).
    #[arg(long)]
    pub account: Option<String>,
    /// Only events in this region.
    #[arg(long)]
    pub region: Option<String>,
}

/// `backtrail who-assumed`.
#[derive(Debug, Args)]
pub struct WhoAssumedArgs {
    /// Role ARN or role name.
    pub role: String,
    /// Only calls made by this principal (ARN, or a substring of it).
    #[arg(long)]
    pub by: Option<String>,
    #[command(flatten)]
    pub q: QueryOpts,
}

/// `backtrail chain`.
#[derive(Debug, Args)]
pub struct ChainArgs {
    /// An access key id, a session ARN or a source IP.
    pub start: String,
    #[command(flatten)]
    pub q: QueryOpts,
}

/// `backtrail sessions`.
#[derive(Debug, Args)]
pub struct SessionsArgs {
    /// Only credentials for this role (ARN or name).
    #[arg(long)]
    pub role: Option<String>,
    /// Only credentials obtained by this principal.
    #[arg(long)]
    pub principal: Option<String>,
    #[command(flatten)]
    pub q: QueryOpts,
}

/// `backtrail touched`.
#[derive(Debug, Args)]
pub struct TouchedArgs {
    /// ARN, bucket, bucket/prefix, KMS key id or alias, secret, table,
    /// snapshot or recovery point.
    pub resource: String,
    #[command(flatten)]
    pub q: QueryOpts,
}

/// `backtrail timeline`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("actor").required(true).args(["principal", "key", "ip", "session"])))]
pub struct TimelineArgs {
    /// Principal ARN.
    #[arg(long)]
    pub principal: Option<String>,
    /// Access key id.
    #[arg(long)]
    pub key: Option<String>,
    /// Source IP address.
    #[arg(long)]
    pub ip: Option<String>,
    /// Session ARN.
    #[arg(long)]
    pub session: Option<String>,
    #[command(flatten)]
    pub q: QueryOpts,
}

fn parse_time(s: &str) -> Result<i64, String> {
    backtrail_model::time::parse_iso8601(s)
        .ok_or_else(|| format!("`{s}` is not an RFC 3339 time; write it like 2024-05-01T13:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn malformed_time_is_a_usage_error() {
        let err =
            Cli::try_parse_from(["backtrail", "touched", "b", "--from", "yesterday"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("RFC 3339"));
    }
}
