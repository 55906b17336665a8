//! The partitioned Parquet writer: rows buffered per day, flushed as
//! `events/event_date=D/part-RUN-SEQ.parquet` when a day reaches
//! `rows_per_file`, when the memory cap is hit (largest day first), or at
//! a commit.
//!
//! A file is written under a temp name (`.part-….parquet.tmp`, which no
//! `*.parquet` glob matches and Hive readers skip as hidden), fsynced, then
//! renamed into place; partition directories are fsynced at commit. Until
//! the manifest lists it, a data file is an orphan that the next run deletes.
//!
//! Encoding and compression run on dedicated encoder threads (one per
//! decode thread), fed through a bounded channel, so the coordinator keeps
//! deduplicating and buffering (and the decoders keep decoding) while
//! files are written, and the final flush of every day's buffer uses all
//! cores instead of one.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use arrow::compute::concat_batches;
use arrow_array::RecordBatch;
use backtrail_model::schema::{self, DICTIONARY_COLUMNS};
use backtrail_model::time::{MICROS_PER_DAY, format_date};
use crossbeam_channel::{Receiver, Sender};
use parquet::arrow::{ArrowSchemaConverter, ArrowWriter};
use parquet::basic::{Compression as PqCompression, Type as PhysicalType, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::config::{Compression, IngestConfig};
use crate::error::Error;
use crate::manifest::{DEFAULT_PARTITION, DataFile, events_dir, sync_dir};
use crate::record::NO_DAY;

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
        .set_data_page_row_count_limit(cfg.page_rows())
        .set_write_batch_size(cfg.page_rows().min(1024))
        .set_max_row_group_row_count(Some(cfg.row_group_rows()));
    for c in DICTIONARY_COLUMNS {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), true);
    }
    // Min/max of strings cost a byte comparison per value and prune
    // nothing here (event IDs, ARNs, JSON text, names are spread evenly
    // over every row group): string columns carry no statistics; the
    // others (times, booleans, integers) keep page-level statistics.
    if let Ok(descr) = ArrowSchemaConverter::new().convert(&schema::event_schema()) {
        for c in descr.columns() {
            if c.physical_type() == PhysicalType::BYTE_ARRAY {
                b = b.set_column_statistics_enabled(c.path().clone(), EnabledStatistics::None);
            }
        }
    }
    b.build()
}

/// Rows `offset..offset + len` of `batch` (a batch that decoders share
/// between the files of one group): adjacent pieces of the same batch
/// join into one, so a day's rows reach the encoder in large batches
/// without being copied.
pub(crate) struct Piece {
    batch: RecordBatch,
    offset: usize,
    len: usize,
}

impl Piece {
    /// Rows `offset..offset + len` of `batch`.
    pub(crate) fn new(batch: RecordBatch, offset: usize, len: usize) -> Self {
        Self { batch, offset, len }
    }

    /// All rows of `batch`.
    pub(crate) fn whole(batch: RecordBatch) -> Self {
        let len = batch.num_rows();
        Self::new(batch, 0, len)
    }

    /// Extends `self` by `next` if `next` starts where `self` ends in the
    /// same shared batch.
    fn join(&mut self, next: &Piece) -> bool {
        let same = match (self.batch.columns().first(), next.batch.columns().first()) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if same && self.offset + self.len == next.offset {
            self.len += next.len;
            true
        } else {
            false
        }
    }

    /// The rows as a batch (zero-copy).
    fn rows(&self) -> RecordBatch {
        if self.offset == 0 && self.len == self.batch.num_rows() {
            self.batch.clone()
        } else {
            self.batch.slice(self.offset, self.len)
        }
    }
}

#[derive(Default)]
struct DayBuf {
    batches: Vec<Piece>,
    rows: usize,
    bytes: usize,
}

/// One data file for the encoder thread to write.
struct Job {
    day: i32,
    partition: String,
    dir: PathBuf,
    name: String,
    batches: Vec<RecordBatch>,
    rows: usize,
    bytes: usize,
}

/// What the encoder thread reports back.
struct Done {
    day: i32,
    dir: PathBuf,
    path: PathBuf,
    arrow_bytes: usize,
    result: Result<DataFile, Error>,
}

/// Rows gathered into one batch before it is handed to the Parquet writer.
const WRITE_ROWS: usize = 8_192;

/// Writes `batches` as `dir/name` through a temp name; returns the size.
fn write_file(
    props: &WriterProperties,
    dir: &Path,
    name: &str,
    batches: &[RecordBatch],
) -> Result<u64, Error> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let path = dir.join(name);
    let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    let handle = file.try_clone().map_err(|e| Error::io(&tmp, e))?;
    let mut w = ArrowWriter::try_new(file, schema::event_schema(), Some(props.clone()))
        .map_err(|e| Error::parquet(&tmp, e))?;
    // Delivery files are small (tens of rows): the writer's fixed cost per
    // batch and leaf column dwarfs a copy, so runs of small batches are
    // merged; large ones (adjacent pieces joined) are written as they are.
    let mut small: Vec<RecordBatch> = Vec::new();
    let mut small_rows = 0;
    let write_small = |small: &mut Vec<RecordBatch>, w: &mut ArrowWriter<File>| {
        let r = match small.len() {
            0 => return Ok(()),
            1 => w.write(&small[0]),
            _ => {
                let merged = concat_batches(&schema::event_schema(), small.iter())?;
                w.write(&merged)
            }
        };
        small.clear();
        r.map_err(|e| Error::parquet(&tmp, e))
    };
    for b in batches {
        if b.num_rows() >= WRITE_ROWS / 4 {
            write_small(&mut small, &mut w)?;
            small_rows = 0;
            w.write(b).map_err(|e| Error::parquet(&tmp, e))?;
            continue;
        }
        small_rows += b.num_rows();
        small.push(b.clone());
        if small_rows >= WRITE_ROWS {
            write_small(&mut small, &mut w)?;
            small_rows = 0;
        }
    }
    write_small(&mut small, &mut w)?;
    w.close().map_err(|e| Error::parquet(&tmp, e))?;
    handle.sync_all().map_err(|e| Error::io(&tmp, e))?;
    let bytes = handle.metadata().map_err(|e| Error::io(&tmp, e))?.len();
    drop(handle);
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    Ok(bytes)
}

/// An encoder thread: Parquet encoding and compression run beside the
/// coordinator, so decoding goes on while a day is written.
fn encoder(props: WriterProperties, jobs: Receiver<Job>, done: Sender<Done>) {
    for j in jobs {
        // A panic while encoding one file becomes that file's error: with
        // several encoders a dead thread would leave its job unanswered
        // while the others keep the result channel open.
        let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            write_file(&props, &j.dir, &j.name, &j.batches)
        }))
        .unwrap_or_else(|_| {
            Err(Error::Internal(format!(
                "the Parquet encoder panicked while writing {}",
                j.name
            )))
        });
        let result = written.map(|bytes| DataFile {
            path: format!("events/event_date={}/{}", j.partition, j.name),
            partition: j.partition.clone(),
            rows: j.rows as u64,
            bytes,
        });
        drop(j.batches);
        let d = Done {
            day: j.day,
            path: j.dir.join(&j.name),
            dir: j.dir,
            arrow_bytes: j.bytes,
            result,
        };
        if done.send(d).is_err() {
            return;
        }
    }
}

/// Buffers rows per day and writes data files (on the encoder threads).
///
/// Memory: buffered rows plus rows being encoded stay under
/// `max_buffered_bytes` (the largest day is flushed once buffered rows pass
/// half of it; the coordinator waits for the encoder past the whole of it).
pub(crate) struct PartitionWriter {
    dataset: PathBuf,
    run: String,
    seq: u64,
    rows_per_file: usize,
    max_buffered_bytes: usize,
    days: HashMap<i32, DayBuf>,
    buffered_bytes: usize,
    jobs: Option<Sender<Job>>,
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
        let (jobs, jobs_rx) = crossbeam_channel::bounded::<Job>(encoders);
        let (done_tx, done) = crossbeam_channel::unbounded::<Done>();
        let props = writer_properties(cfg);
        let mut threads = Vec::with_capacity(encoders);
        for i in 0..encoders {
            let (props, jobs_rx, done_tx) = (props.clone(), jobs_rx.clone(), done_tx.clone());
            let t = std::thread::Builder::new()
                .name(format!("backtrail-parquet-{i}"))
                .spawn(move || encoder(props, jobs_rx, done_tx))
                .map_err(|e| {
                    Error::Internal(format!("cannot start a Parquet encoder thread: {e}"))
                })?;
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
            jobs: Some(jobs),
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
    /// for a slice is its share of the shared buffers), flushing as the
    /// limits say.
    pub(crate) fn push(&mut self, day: i32, batch: Piece, bytes: usize) -> Result<(), Error> {
        if batch.len == 0 {
            return Ok(());
        }
        let buf = self.days.entry(day).or_default();
        buf.rows += batch.len;
        buf.bytes += bytes;
        if !buf.batches.last_mut().is_some_and(|l| l.join(&batch)) {
            buf.batches.push(batch);
        }
        self.buffered_bytes += bytes;
        if buf.rows >= self.rows_per_file {
            self.flush_day(day)?;
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
            self.flush_day(largest)?;
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

    /// Waits until no file of `day` is being encoded, so that
    /// [`Self::buffered`] and [`Self::run_files`] together hold all its rows.
    pub(crate) fn settle(&mut self, day: i32) -> Result<(), Error> {
        while self.in_flight_days.get(&day).is_some_and(|n| *n > 0) {
            self.collect(true)?;
        }
        Ok(())
    }

    /// Files of `day` written by this run (committed or not).
    pub(crate) fn run_files(&self, day: i32) -> &[PathBuf] {
        self.run_files.get(&day).map_or(&[], Vec::as_slice)
    }

    /// Hands one day's buffer to the encoder thread.
    pub(crate) fn flush_day(&mut self, day: i32) -> Result<(), Error> {
        let Some(buf) = self.days.remove(&day) else {
            return Ok(());
        };
        self.buffered_bytes -= buf.bytes;
        if buf.rows == 0 {
            return Ok(());
        }
        let partition = partition_of(day);
        let dir = events_dir(&self.dataset).join(format!("event_date={partition}"));
        if !dir.is_dir() {
            fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
            self.dirs_to_sync.insert(events_dir(&self.dataset));
        }
        self.seq += 1;
        let name = format!("part-{}-{:06}.parquet", self.run, self.seq);
        let job = Job {
            day,
            partition,
            dir,
            name,
            batches: buf.batches.iter().map(Piece::rows).collect(),
            rows: buf.rows,
            bytes: buf.bytes,
        };
        self.in_flight += 1;
        self.in_flight_bytes += buf.bytes;
        *self.in_flight_days.entry(day).or_default() += 1;
        let sent = self
            .jobs
            .as_ref()
            .map(|j| j.send(job).is_ok())
            .unwrap_or(false);
        if !sent {
            return Err(self.encoder_failure());
        }
        Ok(())
    }

    fn encoder_failure(&mut self) -> Error {
        // The encoder threads are gone: a panic (or they were shut down).
        self.jobs = None;
        let panicked = self.threads.drain(..).any(|t| t.join().is_err());
        if panicked {
            Error::Internal("a Parquet encoder thread panicked".into())
        } else {
            Error::Internal("the Parquet encoder threads stopped".into())
        }
    }

    /// Takes finished files from the encoder (waiting for one if `block`).
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
            if let Some(n) = self.in_flight_days.get_mut(&d.day) {
                *n -= 1;
            }
            let data = d.result?;
            self.dirs_to_sync.insert(d.dir);
            self.pending.push(data);
            self.run_files.entry(d.day).or_default().push(d.path);
            if block {
                return Ok(());
            }
        }
        Ok(())
    }

    /// Writes every buffered day and waits for the encoder to finish them.
    pub(crate) fn flush_all(&mut self) -> Result<(), Error> {
        let mut days: Vec<i32> = self.days.keys().copied().collect();
        days.sort_unstable();
        for d in days {
            self.flush_day(d)?;
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
        // Closing the job channel ends each encoder after its current file.
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}
