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
//! Encoding and compression run on one dedicated thread, fed through a
//! channel of depth one, so the coordinator keeps deduplicating and
//! buffering (and the decoders keep decoding) while a file is written.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use backtrail_model::schema::{self, DICTIONARY_COLUMNS, col, user_identity};
use backtrail_model::time::{MICROS_PER_DAY, format_date};
use crossbeam_channel::{Receiver, Sender};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression as PqCompression, ZstdLevel};
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
        .set_max_row_group_row_count(Some(cfg.row_group_rows()));
    for c in DICTIONARY_COLUMNS {
        b = b.set_column_dictionary_enabled(ColumnPath::from(*c), true);
    }
    // Min/max of free-form JSON text prune nothing and cost string
    // comparisons on every value: statistics stay on for every other column.
    for c in schema::TOP_JSON.iter().chain([&col::UNMAPPED]) {
        b = b.set_column_statistics_enabled(ColumnPath::from(*c), EnabledStatistics::None);
    }
    for path in [
        vec![col::USER_IDENTITY, user_identity::IN_SCOPE_OF],
        vec![
            col::USER_IDENTITY,
            user_identity::SESSION_CONTEXT,
            user_identity::SESSION_CONTEXT_JSON[0],
        ],
    ] {
        let p = ColumnPath::new(path.into_iter().map(str::to_owned).collect());
        b = b.set_column_statistics_enabled(p, EnabledStatistics::None);
    }
    b.build()
}

#[derive(Default)]
struct DayBuf {
    batches: Vec<RecordBatch>,
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
    for b in batches {
        w.write(b).map_err(|e| Error::parquet(&tmp, e))?;
    }
    w.close().map_err(|e| Error::parquet(&tmp, e))?;
    handle.sync_all().map_err(|e| Error::io(&tmp, e))?;
    let bytes = handle.metadata().map_err(|e| Error::io(&tmp, e))?.len();
    drop(handle);
    fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    Ok(bytes)
}

/// The encoder thread: Parquet encoding and compression run beside the
/// coordinator, so decoding goes on while a day is written.
fn encoder(props: WriterProperties, jobs: Receiver<Job>, done: Sender<Done>) {
    for j in jobs {
        let result = write_file(&props, &j.dir, &j.name, &j.batches).map(|bytes| DataFile {
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

/// Buffers rows per day and writes data files (on one encoder thread).
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
    thread: Option<JoinHandle<()>>,
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
        let (jobs, jobs_rx) = crossbeam_channel::bounded::<Job>(1);
        let (done_tx, done) = crossbeam_channel::unbounded::<Done>();
        let props = writer_properties(cfg);
        let thread = std::thread::Builder::new()
            .name("backtrail-parquet".into())
            .spawn(move || encoder(props, jobs_rx, done_tx))
            .map_err(|e| {
                Error::Internal(format!("cannot start the Parquet encoder thread: {e}"))
            })?;
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
            thread: Some(thread),
            in_flight: 0,
            in_flight_bytes: 0,
            in_flight_days: HashMap::new(),
            pending: Vec::new(),
            run_files: HashMap::new(),
            dirs_to_sync: HashSet::new(),
        })
    }

    /// Buffers `batch` (all rows of `day`), flushing as the limits say.
    pub(crate) fn push(&mut self, day: i32, batch: RecordBatch) -> Result<(), Error> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let bytes = batch.get_array_memory_size();
        let buf = self.days.entry(day).or_default();
        buf.rows += batch.num_rows();
        buf.bytes += bytes;
        buf.batches.push(batch);
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
    pub(crate) fn buffered(&self, day: i32) -> &[RecordBatch] {
        self.days.get(&day).map_or(&[], |b| b.batches.as_slice())
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
            batches: buf.batches,
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
        // The encoder thread is gone: a panic (or it was shut down).
        self.jobs = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Err(_)) => Error::Internal("the Parquet encoder thread panicked".into()),
            _ => Error::Internal("the Parquet encoder thread stopped".into()),
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
        // Closing the job channel ends the encoder after its current file.
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
