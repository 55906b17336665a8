//! The partitioned Parquet writer, coordinator side: rows buffered per
//! day in Arrow and streamed in chunks of [`CHUNK_ROWS`] (or sooner, the
//! largest day first, when buffered rows pass half the memory cap) to the
//! encoder threads, which keep one open file per day
//! (`events/event_date=D/part-RUN-SEQ.parquet`) until it reaches
//! `rows_per_file`, a commit, or the open-file cap closes it (see
//! [`crate::encoder`]). Partition directories are fsynced at commit.
//!
//! Memory: Arrow rows buffered or in flight stay under
//! `max_buffered_bytes`; each open file holds at most one row group,
//! encoded and compressed; at most [`MAX_OPEN_FILES`] files are open.
//! Files still reach `rows_per_file` rows however the memory cap is set,
//! which a buffer-whole-files design could not promise (with a 256 MiB cap
//! the 10M-event bench archive came out in 44k-row files).
//!
//! Encoding and compression run on `threads` encoder threads. Each chunk
//! goes to the least busy encoder, into that encoder's open file for the
//! chunk's day (opened if need be), so a day can have one file open per
//! encoder: when one day gets all the rows, every encoder still works.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use backtrail_model::schema;
use backtrail_model::time::{MICROS_PER_DAY, format_date};
use crossbeam_channel::{Receiver, Sender};
use parquet::arrow::ArrowSchemaConverter;
use parquet::basic::{Compression as PqCompression, Type as PhysicalType, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use crate::config::{Compression, IngestConfig};
use crate::encoder::{self, Done, FileSpec, Job};
use crate::error::Error;
use crate::manifest::{DEFAULT_PARTITION, DataFile, events_dir, sync_dir};
use crate::piece::Piece;
use crate::record::NO_DAY;

/// Rows per page of the columns no query reads row by row (parquet's
/// default).
const LARGE_PAGE_ROWS: usize = 20_000;

/// Rows of a day sent to its encoder at once.
pub const CHUNK_ROWS: usize = 16_384;
/// Files open at once across all encoders; opening one more closes the
/// least recently written.
pub const MAX_OPEN_FILES: usize = 8;

/// The Hive partition value of a day number.
pub fn partition_of(day: i32) -> String {
    if day == NO_DAY {
        DEFAULT_PARTITION.to_owned()
    } else {
        format_date(i64::from(day) * MICROS_PER_DAY)
    }
}

/// Parquet writer properties for the event schema under `cfg`.
pub fn writer_properties(cfg: &IngestConfig) -> WriterProperties {
    let compression = match cfg.compression() {
        Compression::Zstd(l) => PqCompression::ZSTD(ZstdLevel::try_new(l).unwrap_or_default()),
        Compression::Snappy => PqCompression::SNAPPY,
        Compression::None => PqCompression::UNCOMPRESSED,
    };
    let mut b = WriterProperties::builder()
        .set_compression(compression)
        .set_dictionary_enabled(false)
        .set_data_page_row_count_limit(LARGE_PAGE_ROWS)
        .set_write_batch_size(cfg.page_rows().min(1024))
        .set_max_row_group_row_count(Some(cfg.row_group_rows()));

    // Min/max of strings cost a byte comparison per value and prune
    // nothing here (event IDs, ARNs, JSON text, names are spread evenly
    // over every row group): string columns carry no statistics; the
    // others (times, booleans, integers) keep page-level statistics.
    // Small pages only where the index reads rows back one by one
    // (`schema::POINT_READ_COLUMNS`): on every column they made the
    // 1M-event ingest 4% slower, most of it in the ~80 sparse columns no
    // query reads.
    if let Ok(descr) = ArrowSchemaConverter::new().convert(&schema::event_schema()) {
        for c in descr.columns() {
            let root = c.path().parts().first().map(String::as_str);
            if root.is_some_and(|r| schema::POINT_READ_COLUMNS.contains(&r)) {
                b = b.set_column_data_page_row_count_limit(c.path().clone(), cfg.page_rows());
            }
        }
        // Dictionaries for strings outside `schema::PLAIN_COLUMNS` (see
        // there); never for numbers and times, which are near unique.
        for c in descr.columns() {
            if c.physical_type() == PhysicalType::BYTE_ARRAY {
                b = b.set_column_statistics_enabled(c.path().clone(), EnabledStatistics::None);
                let root = c.path().parts().first().map(String::as_str);
                if !root.is_some_and(|r| schema::PLAIN_COLUMNS.contains(&r)) {
                    b = b.set_column_dictionary_enabled(c.path().clone(), true);
                }
            }
        }
    }
    b.build()
}

#[derive(Default)]
struct DayBuf {
    batches: Vec<Piece>,
    rows: usize,
    bytes: usize,
}

/// A file open on an encoder, keyed by `(day, encoder)`.
struct OpenDay {
    /// Rows sent into the open file so far.
    rows: usize,
    /// When it was last written (for the open-file cap).
    last_write: u64,
}

/// Buffers rows per day and streams them to the encoder threads.
pub(crate) struct PartitionWriter {
    dataset: PathBuf,
    run: String,
    seq: u64,
    rows_per_file: usize,
    max_buffered_bytes: usize,
    days: HashMap<i32, DayBuf>,
    buffered_bytes: usize,
    open: HashMap<(i32, usize), OpenDay>,
    tick: u64,
    jobs: Vec<Sender<Job>>,
    /// Jobs sent and not answered, per encoder.
    load: Vec<usize>,
    done: Receiver<Done>,
    threads: Vec<JoinHandle<()>>,
    in_flight: usize,
    in_flight_bytes: usize,
    in_flight_days: HashMap<i32, usize>,
    /// Written since the last commit.
    pending: Vec<DataFile>,
    /// Every file written this run, by day (for dedup reloads).
    run_files: HashMap<i32, Vec<PathBuf>>,
    dirs_to_sync: HashSet<PathBuf>,
}

impl PartitionWriter {
    pub(crate) fn new(dataset: &Path, run: &str, cfg: &IngestConfig) -> Result<Self, Error> {
        let encoders = cfg.threads().max(1);
        let (done_tx, done) = crossbeam_channel::unbounded::<Done>();
        let props = writer_properties(cfg);
        let mut jobs = Vec::with_capacity(encoders);
        let mut threads = Vec::with_capacity(encoders);
        for i in 0..encoders {
            let (tx, rx) = crossbeam_channel::bounded::<Job>(2);
            let (props, done_tx) = (props.clone(), done_tx.clone());
            let t = std::thread::Builder::new()
                .name(format!("backtrail-parquet-{i}"))
                .spawn(move || encoder::run(i, props, rx, done_tx))
                .map_err(|e| {
                    Error::Internal(format!("cannot start a Parquet encoder thread: {e}"))
                })?;
            jobs.push(tx);
            threads.push(t);
        }
        Ok(Self {
            dataset: dataset.to_owned(),
            run: run.to_owned(),
            seq: 0,
            rows_per_file: cfg.rows_per_file(),
            max_buffered_bytes: cfg.max_buffered_bytes(),
            days: HashMap::new(),
            buffered_bytes: 0,
            open: HashMap::new(),
            tick: 0,
            load: vec![0; encoders],
            jobs,
            done,
            threads,
            in_flight: 0,
            in_flight_bytes: 0,
            in_flight_days: HashMap::new(),
            pending: Vec::new(),
            run_files: HashMap::new(),
            dirs_to_sync: HashSet::new(),
        })
    }

    /// Buffers `batch` (all rows of `day`; `bytes` of Arrow memory, which
    /// for a slice is its share of the shared buffers), sending chunks to
    /// the encoders as the limits say.
    pub(crate) fn push(&mut self, day: i32, batch: Piece, bytes: usize) -> Result<(), Error> {
        if batch.len() == 0 {
            return Ok(());
        }
        let buf = self.days.entry(day).or_default();
        buf.rows += batch.len();
        buf.bytes += bytes;
        if !buf.batches.last_mut().is_some_and(|l| l.join(&batch)) {
            buf.batches.push(batch);
        }
        self.buffered_bytes += bytes;
        let in_file = (0..self.jobs.len())
            .filter_map(|e| self.open.get(&(day, e)))
            .map(|o| o.rows)
            .max()
            .unwrap_or(0);
        if buf.rows >= CHUNK_ROWS || in_file + buf.rows >= self.rows_per_file {
            self.send_day(day, false)?;
        }
        while self.buffered_bytes > self.max_buffered_bytes / 2 {
            let Some(largest) = self
                .days
                .iter()
                .max_by_key(|(_, b)| b.bytes)
                .map(|(d, _)| *d)
            else {
                break;
            };
            self.send_day(largest, false)?;
        }
        while self.in_flight > 0
            && self.buffered_bytes + self.in_flight_bytes > self.max_buffered_bytes
        {
            self.collect(true)?;
        }
        self.collect(false)
    }

    /// Batches of `day` still in memory.
    pub(crate) fn buffered(&self, day: i32) -> Vec<RecordBatch> {
        self.days
            .get(&day)
            .map_or_else(Vec::new, |b| b.batches.iter().map(Piece::rows).collect())
    }

    /// Closes `day`'s open file and waits until none of its jobs is in
    /// flight, so that [`Self::buffered`] and [`Self::run_files`] together
    /// hold all its rows.
    pub(crate) fn settle(&mut self, day: i32) -> Result<(), Error> {
        self.close_day(day)?;
        while self.in_flight_days.get(&day).is_some_and(|n| *n > 0) {
            self.collect(true)?;
        }
        Ok(())
    }

    /// Files of `day` written by this run (committed or not).
    pub(crate) fn run_files(&self, day: i32) -> &[PathBuf] {
        self.run_files.get(&day).map_or(&[], Vec::as_slice)
    }

    /// The encoder for a new file: the least busy one.
    fn pick_encoder(&self) -> usize {
        (0..self.load.len())
            .min_by_key(|&i| self.load[i])
            .unwrap_or(0)
    }

    fn send(&mut self, encoder: usize, day: i32, job: Job, bytes: usize) -> Result<(), Error> {
        self.in_flight += 1;
        self.in_flight_bytes += bytes;
        self.load[encoder] += 1;
        *self.in_flight_days.entry(day).or_default() += 1;
        if self.jobs[encoder].send(job).is_err() {
            return Err(self.encoder_failure());
        }
        Ok(())
    }

    /// Sends `day`'s buffered rows to the least busy encoder, into its
    /// open file for the day (opening one if none), closing that file once
    /// it holds `rows_per_file` rows; with `close`, closes every file of
    /// the day too.
    fn send_day(&mut self, day: i32, close: bool) -> Result<(), Error> {
        let buf = self.days.remove(&day).unwrap_or_default();
        self.buffered_bytes -= buf.bytes;
        if buf.rows > 0 {
            self.send_rows(day, buf, close)?;
        }
        if close { self.close_day(day) } else { Ok(()) }
    }

    fn send_rows(&mut self, day: i32, buf: DayBuf, close: bool) -> Result<(), Error> {
        let encoder = self.pick_encoder();
        let key = (day, encoder);
        // The file's place only when a file is opened: a chunk for an open
        // file needs neither the path nor the directory check.
        let spec = if self.open.contains_key(&key) {
            None
        } else {
            if self.open.len() >= MAX_OPEN_FILES {
                let oldest = self
                    .open
                    .iter()
                    .min_by_key(|(_, o)| o.last_write)
                    .map(|(k, _)| *k);
                if let Some(k) = oldest {
                    self.close_file(k)?;
                }
            }
            let partition = partition_of(day);
            let dir = events_dir(&self.dataset).join(format!("event_date={partition}"));
            if !dir.is_dir() {
                fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
                self.dirs_to_sync.insert(events_dir(&self.dataset));
            }
            self.seq += 1;
            let name = format!("part-{}-{:06}.parquet", self.run, self.seq);
            Some(FileSpec {
                dir,
                partition,
                name,
            })
        };
        self.tick += 1;
        let tick = self.tick;
        let o = self.open.entry(key).or_insert(OpenDay {
            rows: 0,
            last_write: tick,
        });
        o.rows += buf.rows;
        o.last_write = tick;
        let close = close || o.rows >= self.rows_per_file;
        if close {
            self.open.remove(&key);
        }
        let job = Job::Write {
            day,
            spec,
            batches: buf.batches.iter().map(Piece::rows).collect(),
            bytes: buf.bytes,
            close,
        };
        self.send(encoder, day, job, buf.bytes)
    }

    /// Closes every open file of `day`.
    fn close_day(&mut self, day: i32) -> Result<(), Error> {
        for e in 0..self.jobs.len() {
            self.close_file((day, e))?;
        }
        Ok(())
    }

    /// Closes the file of `day` open on `encoder`, if there is one.
    fn close_file(&mut self, (day, encoder): (i32, usize)) -> Result<(), Error> {
        match self.open.remove(&(day, encoder)) {
            Some(_) => self.send(encoder, day, Job::Close { day }, 0),
            None => Ok(()),
        }
    }

    fn encoder_failure(&mut self) -> Error {
        // An encoder thread is gone: it was shut down (panics while
        // encoding are caught and reported as the job's error).
        self.jobs.clear();
        let panicked = self.threads.drain(..).any(|t| t.join().is_err());
        if panicked {
            Error::Internal("a Parquet encoder thread panicked".into())
        } else {
            Error::Internal("the Parquet encoder threads stopped".into())
        }
    }

    /// Takes answers from the encoders (waiting for one if `block`).
    fn collect(&mut self, block: bool) -> Result<(), Error> {
        while self.in_flight > 0 {
            let d = if block {
                match self.done.recv() {
                    Ok(d) => d,
                    Err(_) => return Err(self.encoder_failure()),
                }
            } else {
                match self.done.try_recv() {
                    Ok(d) => d,
                    Err(_) => return Ok(()),
                }
            };
            self.in_flight -= 1;
            self.in_flight_bytes -= d.arrow_bytes;
            self.load[d.encoder] -= 1;
            if let Some(n) = self.in_flight_days.get_mut(&d.day) {
                *n -= 1;
            }
            if let Some(c) = d.result? {
                self.dirs_to_sync.insert(c.dir);
                self.pending.push(c.data);
                self.run_files.entry(d.day).or_default().push(c.path);
            }
            if block {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Writes every buffered day, closes every open file and waits for the
    /// encoders to finish them.
    pub(crate) fn flush_all(&mut self) -> Result<(), Error> {
        let mut days: Vec<i32> = self
            .days
            .keys()
            .copied()
            .chain(self.open.keys().map(|(d, _)| *d))
            .collect();
        days.sort_unstable();
        days.dedup();
        for d in days {
            self.send_day(d, true)?;
        }
        while self.in_flight > 0 {
            self.collect(true)?;
        }
        Ok(())
    }

    /// Makes the written files durable (fsync their directories) and hands
    /// over the list for the manifest. Call after [`Self::flush_all`].
    pub(crate) fn take_pending(&mut self) -> Result<Vec<DataFile>, Error> {
        while self.in_flight > 0 {
            self.collect(true)?;
        }
        for d in self.dirs_to_sync.drain() {
            sync_dir(&d)?;
        }
        Ok(std::mem::take(&mut self.pending))
    }
}

impl Drop for PartitionWriter {
    fn drop(&mut self) {
        // Closing the job channels ends each encoder after its current job.
        self.jobs.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
