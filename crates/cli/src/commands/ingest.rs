//! `backtrail ingest`: archive → dataset, then the index of the touched days.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use anyhow::{Context, Result};
use backtrail_ingest::{IngestConfig, Summary};

use crate::args::IngestArgs;
use crate::progress::Bar;
use crate::sanitize::visible;

/// Ingests, updates the index, prints the summary.
pub fn run(a: &IngestArgs) -> Result<ExitCode> {
    let summary = ingest(a)?;
    release_free_memory();
    if !a.no_index {
        super::index::update(&a.out, &summary.partitions, a.quiet)?;
    }
    if a.json {
        serde_json::to_writer(io::stdout().lock(), &summary)?;
        println!();
    } else if !a.quiet {
        print_summary(&summary);
    }
    if a.strict && !summary.quarantined.is_empty() {
        eprintln!(
            "error: {} file(s) quarantined and --strict is set; see the list above or {}/quarantine.jsonl",
            summary.quarantined.len(),
            a.out.display()
        );
        return Ok(ExitCode::from(crate::EXIT_FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

/// Hands memory the ingest freed back to the OS before the index build.
///
/// glibc keeps freed blocks in its per-thread arenas: after a large
/// ingest the process kept ~500 MB it no longer used, on top of which the
/// index build allocated its own (10M events: 1.33 GB peak instead of the
/// larger of the two phases, 1.03 GB).
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only walks glibc's own heap under its locks; no
    // pointer of ours is involved and no allocation is live in between.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Runs the ingest with a progress bar on a terminal.
pub fn ingest(a: &IngestArgs) -> Result<Summary> {
    let mut cfg = IngestConfig::builder();
    if let Some(t) = a.threads {
        cfg = cfg.threads(t);
    }
    if let Some(b) = a.max_inflated_bytes {
        cfg = cfg.max_inflated_bytes(b);
    }
    let cfg = cfg.build();
    let bar = Bar::new(!a.quiet && !a.json && io::stderr().is_terminal());
    let result = backtrail_ingest::ingest(&a.inputs, &a.out, &cfg, &bar);
    bar.finish();
    result.with_context(|| format!("ingesting into {}", a.out.display()))
}

/// The human summary: counts, then each quarantined file with its reason.
pub fn print_summary(s: &Summary) {
    let secs = s.elapsed_ms as f64 / 1000.0;
    println!(
        "{} files ({:.1} MB) in {:.1}s ({:.0} events/s)",
        s.files,
        s.bytes as f64 / 1e6,
        secs,
        if secs > 0.0 {
            s.events_read as f64 / secs
        } else {
            0.0
        }
    );
    println!(
        "  {} events read, {} new, {} duplicate deliveries dropped, {} eventID collisions kept",
        s.events_read, s.events_new, s.duplicates, s.collisions
    );
    println!(
        "  {} files identical to one already read (same SHA-256, e.g. org and account trail), {} already ingested, {} digests",
        s.duplicate_files, s.skipped_files, s.digests
    );
    if !s.quarantined.is_empty() {
        println!("{} file(s) quarantined:", s.quarantined.len());
        for q in &s.quarantined {
            // The reason already names the file.
            println!("  {}", visible(&q.reason));
        }
    }
}
