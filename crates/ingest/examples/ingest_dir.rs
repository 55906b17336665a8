//! Ingests a directory into a dataset and prints the summary as JSON.
//!
//! `cargo run -p backtrail-ingest --example ingest_dir -- INPUT DATASET`

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, dataset] = args.as_slice() else {
        return Err("usage: ingest_dir INPUT DATASET".into());
    };
    let cfg = backtrail_ingest::IngestConfig::builder().build();
    let s = backtrail_ingest::ingest(
        &[PathBuf::from(input)],
        &PathBuf::from(dataset),
        &cfg,
        &backtrail_ingest::NoProgress,
    )?;
    println!("{}", serde_json::to_string_pretty(&s)?);
    Ok(())
}
