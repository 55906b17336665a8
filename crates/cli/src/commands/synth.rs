//! `backtrail gen`: a synthetic archive with breach scenarios.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use backtrail_synth::{GenConfig, GenReport, Scenario};

use crate::args::GenArgs;
use crate::commands::UsageError;

/// Parses scenario names; none given means all of them.
pub fn scenarios(names: &[String]) -> Result<Vec<Scenario>> {
    if names.is_empty() {
        return Ok(Scenario::ALL.to_vec());
    }
    names
        .iter()
        .map(|n| {
            n.parse::<Scenario>()
                .map_err(|e| UsageError(e.to_string()).into())
        })
        .collect()
}

/// Generates into `out` and returns the report.
pub fn generate(
    out: &std::path::Path,
    events: u64,
    seed: u64,
    sc: Vec<Scenario>,
) -> Result<GenReport> {
    let cfg = GenConfig::builder()
        .events(events)
        .seed(seed)
        .scenarios(sc)
        .build()
        .map_err(|e| UsageError(e.to_string()))?;
    backtrail_synth::generate(out, &cfg)
        .with_context(|| format!("generating into {}", out.display()))
}

/// Runs `gen`.
pub fn run(a: &GenArgs) -> Result<ExitCode> {
    let sc = scenarios(&a.scenarios)?;
    let t = Instant::now();
    let r = generate(&a.out, a.events, a.seed, sc)?;
    if a.json {
        let mut v = serde_json::to_value(&r)?;
        if let Some(o) = v.as_object_mut() {
            o.remove("truth");
            o.insert("elapsed_ms".into(), (t.elapsed().as_millis() as u64).into());
        }
        println!("{v}");
    } else {
        println!(
            "wrote {} events in {} log files ({:.1} MB gzip, {:.1} MB JSON), {} digest files, {} duplicate deliveries in {:.1}s",
            r.events,
            r.files,
            r.bytes_compressed as f64 / 1e6,
            r.bytes_uncompressed as f64 / 1e6,
            r.digest_files,
            r.duplicates_delivered,
            t.elapsed().as_secs_f64()
        );
        for s in &r.truth.scenarios {
            println!("  scenario {}: {}", s.scenario, s.summary);
        }
        println!(
            "archive: {}/AWSLogs   ground truth: {}/{}",
            a.out.display(),
            a.out.display(),
            backtrail_synth::GROUND_TRUTH_FILE
        );
    }
    Ok(ExitCode::SUCCESS)
}
