//! `backtrail`: reconstructs a cloud breach from an AWS CloudTrail log
//! archive, offline.
//!
//! This crate is the only place that knows about the command line, the
//! terminal and `anyhow`; it wires the library crates together (ingest then
//! index, synth for `gen` and `demo`) and prints their rows.

mod args;
mod commands;
mod output;
mod progress;
mod sanitize;

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use clap::Parser;

/// Exit status for a usage error or a malformed argument.
pub const EXIT_USAGE: u8 = 2;
/// Exit status when the run failed, or `--strict` saw quarantined input.
pub const EXIT_FAILURE: u8 = 1;

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        // `backtrail export | head` closes the pipe early: that is success.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let color = io::stderr().is_terminal();
            let (on, off) = if color {
                ("\u{1b}[1;31m", "\u{1b}[0m")
            } else {
                ("", "")
            };
            // Messages may quote file names and log values: make them inert.
            eprintln!("{on}error{off}: {}", sanitize::visible(&e.to_string()));
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {}", sanitize::visible(&cause.to_string()));
            }
            match e.downcast_ref::<commands::UsageError>() {
                Some(_) => ExitCode::from(EXIT_USAGE),
                None => ExitCode::from(EXIT_FAILURE),
            }
        }
    }
}
