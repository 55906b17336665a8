//! Generates an archive and prints throughput.
//!
//! `cargo run --release -p backtrail-synth --example gen -- OUT [EVENTS] [SEED] [--verify]`

use std::path::PathBuf;
use std::time::Instant;

use backtrail_synth::{GenConfig, Scenario, generate, verify_digests};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(args.first().map_or("/tmp/backtrail-synth", String::as_str));
    let events: u64 = args.get(1).map_or(Ok(1_000_000), |s| s.parse())?;
    let seed: u64 = args.get(2).map_or(Ok(42), |s| s.parse())?;
    let days: u32 = std::env::var("SYNTH_DAYS")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(2);
    let cfg = GenConfig::builder()
        .events(events)
        .seed(seed)
        .days(days)
        .scenarios(Scenario::ALL.to_vec())
        .build()?;
    let t = Instant::now();
    let r = generate(&out, &cfg)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "{} events ({} duplicates) in {} files + {} digests: {:.1} MB gzip, {:.1} MB raw, {:.2} s, {:.0} MB/s raw, {:.0} events/s, threads {}",
        r.events,
        r.duplicates_delivered,
        r.files,
        r.digest_files,
        r.bytes_compressed as f64 / 1e6,
        r.bytes_uncompressed as f64 / 1e6,
        secs,
        r.bytes_uncompressed as f64 / 1e6 / secs,
        r.events as f64 / secs,
        rayon::current_num_threads()
    );
    if args.iter().any(|a| a == "--verify") {
        let t = Instant::now();
        let v = verify_digests(&out)?;
        println!(
            "verify: {} digests, {} log files, clean {} in {:.2} s",
            v.digests,
            v.log_files_checked,
            v.is_clean(),
            t.elapsed().as_secs_f64()
        );
        for p in v.problems.iter().take(10) {
            println!("  {p}");
        }
    }
    Ok(())
}
