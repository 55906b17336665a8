//! Compares gzip speed and ratio on generated CloudTrail JSON: flate2
//! (zlib-rs) against libdeflate, at a few levels.
//!
//! `cargo run --release -p backtrail-synth --example gzip_levels -- ARCHIVE`
//! (an archive written by the `gen` example).

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use backtrail_synth::digest::gunzip_file;

fn collect(dir: &Path, out: &mut Vec<Vec<u8>>, budget: &mut usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out, budget);
        } else if *budget > 0
            && p.to_string_lossy().contains("/CloudTrail/")
            && let Ok(raw) = gunzip_file(&p)
        {
            *budget = budget.saturating_sub(raw.len());
            out.push(raw);
        }
    }
}

fn main() {
    let root = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/tmp/backtrail-synth".into());
    let mut inputs = Vec::new();
    let mut budget = 200_000_000usize;
    collect(&Path::new(&root).join("AWSLogs"), &mut inputs, &mut budget);
    let total: usize = inputs.iter().map(Vec::len).sum();
    println!(
        "{} files, {:.1} MB uncompressed",
        inputs.len(),
        total as f64 / 1e6
    );
    for level in [1u32, 4, 6] {
        let t = Instant::now();
        let mut out = 0;
        for i in &inputs {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(i).unwrap();
            out += e.finish().unwrap().len();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "flate2/zlib-rs level {level}: {:.0} MB/s, ratio {:.2}",
            total as f64 / 1e6 / s,
            total as f64 / out as f64
        );
    }
    for level in [1i32, 4, 6, 9] {
        let mut c = libdeflater::Compressor::new(libdeflater::CompressionLvl::new(level).unwrap());
        let mut buf = Vec::new();
        let t = Instant::now();
        let mut out = 0;
        for i in &inputs {
            buf.resize(c.gzip_compress_bound(i.len()), 0);
            out += c.gzip_compress(i, &mut buf).unwrap();
        }
        let s = t.elapsed().as_secs_f64();
        println!(
            "libdeflate level {level}: {:.0} MB/s, ratio {:.2}",
            total as f64 / 1e6 / s,
            total as f64 / out as f64
        );
    }
}
