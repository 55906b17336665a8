//! The floors: what reading, gunzip and a SIMD parse cost on their own, on
//! the same files and thread counts as the full ingest.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, Result};
use backtrail_ingest::decode::Decoder;
use backtrail_ingest::gunzip::gunzip_into;

use crate::measure::time_in_process;

/// Every CloudTrail delivery file of an archive (digests excluded), sorted.
pub fn log_files(archive: &Path) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let p = e?.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n == "CloudTrail-Digest") {
                    continue;
                }
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "gz") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut v = Vec::new();
    walk(archive, &mut v)?;
    v.sort();
    Ok(v)
}

/// The first of `files` with each content: an archive's org trail and
/// account trails deliver byte-identical copies, which ingest recognises by
/// their SHA-256 and does not decode again.
pub fn distinct_contents(files: &[PathBuf]) -> Result<Vec<PathBuf>> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
        let mut h = DefaultHasher::new();
        bytes.hash(&mut h);
        if seen.insert((bytes.len(), h.finish())) {
            out.push(f.clone());
        }
    }
    Ok(out)
}

fn pool(threads: usize) -> Result<rayon::ThreadPool> {
    Ok(rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?)
}

/// Median time to read and gunzip every file (whole-buffer inflate into a
/// reused per-thread buffer, as ingest does).
pub fn gunzip(files: &[PathBuf], threads: usize, repeats: usize) -> Result<Duration> {
    let pool = pool(threads)?;
    time_in_process(repeats, || {
        pool.install(|| {
            use rayon::prelude::*;
            files.par_iter().try_for_each_init(
                || (Vec::new(), Vec::new()),
                |(raw, out): &mut (Vec<u8>, Vec<u8>), f| -> Result<()> {
                    raw.clear();
                    std::io::Read::read_to_end(&mut std::fs::File::open(f)?, raw)?;
                    gunzip_into(raw, out, u64::MAX)?;
                    Ok(())
                },
            )
        })
    })
}

/// Median time to read, gunzip and tape-parse every file; also returns the
/// number of records seen.
pub fn gunzip_parse(files: &[PathBuf], threads: usize, repeats: usize) -> Result<(Duration, u64)> {
    let pool = pool(threads)?;
    let records = AtomicU64::new(0);
    let d = time_in_process(repeats, || {
        records.store(0, Ordering::Relaxed);
        pool.install(|| {
            use rayon::prelude::*;
            files.par_iter().try_for_each_init(
                || (Vec::new(), Vec::new(), Decoder::new(u64::MAX)),
                |(raw, out, dec): &mut (Vec<u8>, Vec<u8>, Decoder), f| -> Result<()> {
                    raw.clear();
                    std::io::Read::read_to_end(&mut std::fs::File::open(f)?, raw)?;
                    gunzip_into(raw, out, u64::MAX)?;
                    let n = dec.parse_only(out)?;
                    records.fetch_add(n as u64, Ordering::Relaxed);
                    Ok(())
                },
            )
        })
    })?;
    Ok((d, records.load(Ordering::Relaxed)))
}
