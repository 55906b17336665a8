//! Ingests a directory into a dataset and prints the summary as JSON.
//!
//! `cargo run -p backtrail-ingest --example ingest_dir -- INPUT DATASET`

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [input, dataset] = args.as_slice() else {
        return Err("usage: ingest_dir INPUT DATASET".into());
    };
    let mut b = backtrail_ingest::IngestConfig::builder();
    // Experiments: BACKTRAIL_PAGE_ROWS overrides the page row limit.
    if let Some(n) = std::env::var("BACKTRAIL_PAGE_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        b = b.page_rows(n);
    }
    if let Some(n) = std::env::var("BACKTRAIL_MAX_BUFFERED_MB")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
    {
        b = b.max_buffered_bytes(n << 20);
    }
    // BACKTRAIL_COMPRESSION = snappy | none | zstd-N overrides the codec.
    match std::env::var("BACKTRAIL_COMPRESSION").as_deref() {
        Ok("snappy") => b = b.compression(backtrail_ingest::Compression::Snappy),
        Ok("none") => b = b.compression(backtrail_ingest::Compression::None),
        Ok(z) if z.starts_with("zstd-") => {
            b = b.compression(backtrail_ingest::Compression::Zstd(z[5..].parse()?));
        }
        _ => {}
    }
    let cfg = b.build();
    let s = backtrail_ingest::ingest(
        &[PathBuf::from(input)],
        &PathBuf::from(dataset),
        &cfg,
        &backtrail_ingest::NoProgress,
    )?;
    println!("{}", serde_json::to_string_pretty(&s)?);
    Ok(())
}
