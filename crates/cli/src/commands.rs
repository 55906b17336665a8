//! One function per subcommand: translate arguments into library calls,
//! print what comes back.

use std::fmt;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::args::{Cli, Command};

mod demo;
mod index;
mod ingest;
mod query;
mod synth;

/// A malformed argument found after parsing (exit status 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Ingest(a) => ingest::run(&a),
        Command::Export(a) => export(&a.data),
        Command::Gen(a) => synth::run(&a),
        Command::Demo(a) => demo::run(&a),
        Command::Index(a) => index::run(&a),
        Command::WhoAssumed(a) => query::who_assumed(&a),
        Command::Chain(a) => query::chain(&a),
        Command::Sessions(a) => query::sessions(&a),
        Command::Touched(a) => query::touched(&a),
        Command::Timeline(a) => query::timeline(&a),
    }
}

fn export(data: &std::path::Path) -> Result<ExitCode> {
    let stdout = io::stdout().lock();
    let mut out = BufWriter::with_capacity(1 << 20, stdout);
    let n = backtrail_ingest::export(data, &mut out)
        .with_context(|| format!("exporting {}", data.display()))?;
    out.flush()?;
    if io::stderr().is_terminal() {
        eprintln!("exported {n} records");
    }
    Ok(ExitCode::SUCCESS)
}
