//! `backtrail index`: build or rebuild the lookup index; also the
//! incremental update run at the end of every ingest.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use backtrail_index::{BuildOptions, build};

use crate::args::IndexArgs;

/// Runs `index`.
pub fn run(a: &IndexArgs) -> Result<ExitCode> {
    let data = &a.data.data;
    let r = build(data, None, &BuildOptions::new().rebuild(a.rebuild))
        .with_context(|| format!("indexing {}", data.display()))?;
    println!(
        "index: {} partition(s) built, {} up to date, {} removed; {} events indexed ({} in total), {:.1} MB, {:.2}s",
        r.built.len(),
        r.up_to_date.len(),
        r.removed.len(),
        r.events_built,
        r.events_total,
        r.index_bytes as f64 / 1e6,
        r.elapsed.as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

/// After an ingest: index the partitions it touched.
pub fn update(data: &Path, partitions: &[String], quiet: bool) -> Result<()> {
    if partitions.is_empty() {
        return Ok(());
    }
    let r = build(data, Some(partitions), &BuildOptions::new()).with_context(|| {
        format!(
            "updating the index of {} (the data is safe; run `backtrail index --data {}` to retry)",
            data.display(),
            data.display()
        )
    })?;
    if !quiet {
        eprintln!(
            "index: {} partition(s) updated in {:.2}s",
            r.built.len(),
            r.elapsed.as_secs_f64()
        );
    }
    Ok(())
}
