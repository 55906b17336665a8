//! Sanity benchmark: the floor stages beside the full pipeline on one archive.
//!
//! `cargo run --release -p backtrail-ingest --example ingest_floor -- ARCHIVE_DIR [THREADS] [zstd|snappy|none]`
//!
//! Prints events/s for gunzip only, gunzip + tape parse, full decode
//! (rows built, no disk), the Parquet encoding of those rows alone (in
//! memory) and the full ingest into a temp dataset.

use std::path::PathBuf;
use std::time::Instant;

use backtrail_ingest::{
    Compression, Decoder, IngestConfig, NoProgress, Summary, discover, gunzip_into, ingest,
    writer_properties,
};
use rayon::prelude::*;

/// gunzip + tape parse of every file on `pool`; the events counted.
fn gunzip_parse(pool: &rayon::ThreadPool, raw: &[Vec<u8>]) -> usize {
    pool.install(|| {
        raw.par_iter()
            .map_init(
                || (Vec::new(), Decoder::new(u64::MAX)),
                |(out, dec), r| {
                    gunzip_into(r, out, u64::MAX).expect("gunzip");
                    dec.parse_only(out).expect("parse")
                },
            )
            .sum()
    })
}

/// The full decode (rows built, nothing written) of every file on `pool`.
fn decode_rows(pool: &rayon::ThreadPool, raw: &[Vec<u8>]) -> usize {
    pool.install(|| {
        raw.par_iter()
            .map_init(
                || Decoder::new(u64::MAX),
                |dec, r| {
                    let mut b = r.clone();
                    dec.decode(&mut b, "x").expect("decode").records()
                },
            )
            .sum()
    })
}

/// Counts the bytes written to it.
struct Counting(usize);

impl std::io::Write for Counting {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0 += b.len();
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The Parquet encoding alone: the rows of each distinct content (as
/// ingest stores them), decoded slice by slice without the clock running,
/// then written by `threads` writers with the ingest's writer properties
/// into byte counters, in 16,384-row batches as the ingest's writer sends
/// them. Returns the seconds, the rows and the bytes written.
fn encode_only(
    pool: &rayon::ThreadPool,
    raw: &[Vec<u8>],
    threads: usize,
    compression: Compression,
) -> Result<(f64, usize, usize), Box<dyn std::error::Error>> {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut seen = std::collections::HashSet::new();
    let distinct: Vec<&Vec<u8>> = raw
        .iter()
        .filter(|r| {
            let mut h = DefaultHasher::new();
            r.hash(&mut h);
            seen.insert((r.len(), h.finish()))
        })
        .collect();
    let schema = backtrail_model::schema::event_schema();
    let props = writer_properties(&IngestConfig::builder().compression(compression).build());
    let mut writers = (0..threads)
        .map(|_| {
            parquet::arrow::ArrowWriter::try_new(Counting(0), schema.clone(), Some(props.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let (mut secs, mut rows) = (0.0, 0);
    for slice in distinct.chunks(2048) {
        let batches: Vec<arrow::record_batch::RecordBatch> = pool.install(|| {
            slice
                .par_iter()
                .map_init(
                    || Decoder::new(u64::MAX),
                    |dec, r| {
                        dec.decode(&mut (*r).clone(), "x")
                            .expect("decode")
                            .batches()
                    },
                )
                .flatten()
                .collect()
        });
        let mut chunks = Vec::new();
        let mut pending = Vec::new();
        let mut n = 0;
        for b in batches {
            n += b.num_rows();
            rows += b.num_rows();
            pending.push(b);
            if n >= 16_384 {
                chunks.push(arrow::compute::concat_batches(&schema, &pending)?);
                pending.clear();
                n = 0;
            }
        }
        if !pending.is_empty() {
            chunks.push(arrow::compute::concat_batches(&schema, &pending)?);
        }
        let t = Instant::now();
        pool.install(|| {
            writers.par_iter_mut().enumerate().for_each(|(k, w)| {
                for b in chunks.iter().skip(k).step_by(threads) {
                    w.write(b).expect("write");
                }
            })
        });
        secs += t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let bytes: usize = pool.install(|| {
        writers
            .into_par_iter()
            .map(|w| w.into_inner().expect("close").0)
            .sum()
    });
    secs += t.elapsed().as_secs_f64();
    Ok((secs, rows, bytes))
}

/// A full ingest of `dir` into a temp dataset, removed afterwards: the
/// summary, the seconds it took and the Parquet bytes written.
fn ingest_once(
    dir: PathBuf,
    threads: usize,
    compression: Compression,
) -> Result<(Summary, f64, u64), Box<dyn std::error::Error>> {
    let tmp = std::env::temp_dir().join(format!("bt-floor-{}", std::process::id()));
    let cfg = IngestConfig::builder()
        .threads(threads)
        .compression(compression)
        .build();
    let t = Instant::now();
    let s = ingest(&[dir], &tmp, &cfg, &NoProgress)?;
    let secs = t.elapsed().as_secs_f64();
    let out_bytes: u64 = backtrail_ingest::read_manifest(&tmp)?
        .data_files
        .iter()
        .map(|d| d.bytes)
        .sum();
    std::fs::remove_dir_all(&tmp)?;
    Ok((s, secs, out_bytes))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .ok_or("usage: ingest_floor ARCHIVE_DIR [THREADS] [zstd|snappy|none]")?,
    );
    let threads: usize = args.next().map_or(Ok(2), |t| t.parse())?;
    let compression = match args.next().as_deref() {
        Some("snappy") => Compression::Snappy,
        Some("none") => Compression::None,
        _ => Compression::Zstd(1),
    };
    if std::env::var_os("BT_INGEST_ONLY").is_some() {
        // For profiling and RSS: the full ingest alone.
        let (s, secs, _) = ingest_once(dir, threads, compression)?;
        println!(
            "full ingest {secs:.2} s {:.0} ev/s ({} new)",
            s.events_new as f64 / secs,
            s.events_new
        );
        return Ok(());
    }
    let files = discover(std::slice::from_ref(&dir))?;
    // The floor stages take the gzip files only (an archive also holds
    // signature sidecars and S3 metadata, which ingest quarantines).
    let raw: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(&f.path))
        .filter(|r| r.as_ref().map_or(true, |b| b.starts_with(&[0x1f, 0x8b])))
        .collect::<Result<_, _>>()?;
    let bytes: usize = raw.iter().map(Vec::len).sum();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    println!(
        "{} files, {:.1} MB, {threads} threads",
        raw.len(),
        bytes as f64 / 1e6
    );

    if std::env::var_os("BT_FLOOR_ONLY").is_some() {
        let t = Instant::now();
        let n = gunzip_parse(&pool, &raw);
        println!(
            "gunzip + parse {:.2} s {n} events",
            t.elapsed().as_secs_f64()
        );
        return Ok(());
    }
    if std::env::var_os("BT_DECODE_ONLY").is_some() {
        let t = Instant::now();
        let n = decode_rows(&pool, &raw);
        println!("full decode {:.2} s {n} events", t.elapsed().as_secs_f64());
        return Ok(());
    }
    let t = Instant::now();
    let inflated: usize = pool.install(|| {
        raw.par_iter()
            .map_init(Vec::new, |out, r| {
                gunzip_into(r, out, u64::MAX).expect("gunzip");
                out.len()
            })
            .sum()
    });
    let gunzip_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let events = gunzip_parse(&pool, &raw);
    let parse_s = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let decoded = decode_rows(&pool, &raw);
    let decode_s = t.elapsed().as_secs_f64();
    assert_eq!(decoded, events);

    let (encode_s, encoded_rows, encoded_bytes) = encode_only(&pool, &raw, threads, compression)?;

    let (s, ingest_s, out_bytes) = ingest_once(dir, threads, compression)?;

    let ev = events as f64;
    println!("inflated {:.1} MB, {events} events", inflated as f64 / 1e6);
    println!(
        "gunzip only        {:>8.2} s  {:>10.0} ev/s",
        gunzip_s,
        ev / gunzip_s
    );
    println!(
        "gunzip + parse     {:>8.2} s  {:>10.0} ev/s",
        parse_s,
        ev / parse_s
    );
    println!(
        "full decode        {:>8.2} s  {:>10.0} ev/s",
        decode_s,
        ev / decode_s
    );
    println!(
        "parquet encode only{:>8.2} s  {:>10.0} rows/s  ({encoded_rows} rows, {:.1} MB)",
        encode_s,
        encoded_rows as f64 / encode_s,
        encoded_bytes as f64 / 1e6
    );
    println!(
        "full ingest        {:>8.2} s  {:>10.0} ev/s  ({} new, {} files, {:.1} MB parquet)",
        ingest_s,
        s.events_new as f64 / ingest_s,
        s.events_new,
        s.data_files_written,
        out_bytes as f64 / 1e6
    );
    Ok(())
}
