//! The run: discover inputs, decode them on a rayon pool (one file a task),
//! and on the calling thread dedup, partition, write and commit.
//!
//! ```text
//!  rayon workers (cfg.threads)            calling thread (coordinator)        encoder threads
//!  stat → skip? → read → SHA-256 →  ──►   sha dedup → row dedup (per-day LRU)
//!  gunzip → parse → Arrow rows   bounded  → per-day buffers  ──── bounded ──► Parquet files
//!                                channel  → commit: wait for files, fsync, manifest
//! ```
//!
//! Two shortcuts keep the workers' CPU for new rows:
//!
//! * Rows of consecutive files share one Arrow batch per worker (up to
//!   [`GROUP_ROWS`] rows), handed on per file as pieces of it (batch,
//!   offset, length; no copy, no slice): delivery files hold tens of
//!   records, and finishing ~60 builders per file cost more than building
//!   the rows. Results of a group are sent when it is full
//!   (and at the end).
//! * The first file with a given content (sha256) claims it; later copies
//!   (and contents an earlier run stored) are not decoded at all: a copy
//!   has its claimer's shape and record count, which the coordinator
//!   fills in. A copy reaching the coordinator before its claimer waits
//!   for it, so a commit never lists a copy without the rows it
//!   duplicates. (Contents an earlier run quarantined are decoded again,
//!   count only, to state the reason.)
//!
//! The channel holds at most `threads × queue_per_thread` decoded files, so
//! memory stays bounded whatever the archive size: in flight are the
//! queued files, one file per worker, the day buffers (capped by
//! `max_buffered_bytes`), the open Parquet files (one row group each, at
//! most `writer::MAX_OPEN_FILES`) and the resident dedup shards.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs::{self, File};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use arrow_array::UInt32Array;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rayon::prelude::*;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::config::IngestConfig;
use crate::decode::{Decoded, Decoder, GROUP_ROWS, GroupedFile, Kind};
use crate::dedup::{Seen, Verdict, keys_of_batch};
use crate::error::{Error, FileError};
use crate::manifest::{self, FileEntry, Manifest, Status};
use crate::piece::Piece;
use crate::writer::{PartitionWriter, partition_of};

/// Most files a decode thread takes in one piece (the rest of the list
/// stays stealable by idle threads).
const STEAL_FILES: usize = 4;

/// Progress callbacks (the CLI draws a bar; libraries stay silent).
pub trait Progress: Sync {
    /// Called once, after discovery.
    fn start(&self, files: u64, bytes: u64);
    /// Called after each file is handled.
    fn file_done(&self, bytes: u64, events: u64);
}

/// A [`Progress`] that does nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _files: u64, _bytes: u64) {}
    fn file_done(&self, _bytes: u64, _events: u64) {}
}

/// One discovered input file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputFile {
    /// Path as found (input root joined with the relative path).
    pub path: PathBuf,
    /// Size in bytes (0 if it could not be stat'ed; reading it will say why).
    pub size: u64,
}

/// A quarantined file and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Quarantined {
    /// The file.
    pub path: String,
    /// Short reason name.
    pub kind: crate::error::ReasonKind,
    /// One line naming the file and the reason.
    pub reason: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Input files discovered.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Records read (including duplicates).
    pub events_read: u64,
    /// Records stored for the first time.
    pub events_new: u64,
    /// Records dropped as already stored.
    pub duplicates: u64,
    /// Records stored although their eventID was stored with another content.
    pub collisions: u64,
    /// Digest files seen.
    pub digests: u64,
    /// Files skipped because an earlier run ingested the same path and bytes.
    pub skipped_files: u64,
    /// Files whose bytes were already ingested under another name.
    pub duplicate_files: u64,
    /// Quarantined files.
    pub quarantined: Vec<Quarantined>,
    /// Parquet data files written.
    pub data_files_written: u64,
    /// `event_date` values that received rows (for incremental index builds).
    pub partitions: Vec<String>,
    /// Commits written.
    pub commits: u64,
    /// Orphan files of an earlier killed run removed at start.
    pub orphans_removed: u64,
    /// Dedup shards (days) loaded from the dataset or rebuilt after eviction.
    pub shard_loads: u64,
    /// Wall time.
    pub elapsed_ms: u64,
}

fn walk(dir: &Path, out: &mut Vec<InputFile>) {
    let mut entries: Vec<fs::DirEntry> = match fs::read_dir(dir) {
        Ok(rd) => rd.filter_map(|e| e.ok()).collect(),
        Err(_) => {
            // Listed but unreadable: reading it will quarantine it with the OS error.
            out.push(InputFile {
                path: dir.to_owned(),
                size: 0,
            });
            return;
        }
    };
    entries.sort_by_key(fs::DirEntry::file_name);
    for e in entries {
        let p = e.path();
        // The entry's own type and size come from the directory (no path
        // lookup); only symlinks are followed by path.
        let meta = match e.file_type() {
            Ok(t) if t.is_symlink() => fs::metadata(&p),
            _ => e.metadata(),
        };
        match meta {
            Ok(m) if m.is_dir() => walk(&p, out),
            Ok(m) => out.push(InputFile {
                path: p,
                size: m.len(),
            }),
            Err(_) => out.push(InputFile { path: p, size: 0 }),
        }
    }
}

/// Every file under `inputs` (files as given, directories recursively, in
/// sorted order). Fails only if an input itself does not exist.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<InputFile>, Error> {
    let mut out: Vec<InputFile> = Vec::new();
    for i in inputs {
        match fs::metadata(i) {
            Ok(m) if m.is_dir() => walk(i, &mut out),
            Ok(m) => out.push(InputFile {
                path: i.clone(),
                size: m.len(),
            }),
            // The entry exists (a dangling symlink, no permission on its
            // target): reading it will quarantine it with the OS error.
            Err(_) if fs::symlink_metadata(i).is_ok() => out.push(InputFile {
                path: i.clone(),
                size: 0,
            }),
            Err(e) => {
                return Err(Error::InputNotFound {
                    path: i.clone(),
                    source: e,
                });
            }
        }
    }
    // An input named twice (a directory and a file in it) is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|f| seen.insert(f.path.clone()));
    Ok(out)
}

fn hex(bytes: &[u8]) -> String {
    const H: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(H[(b >> 4) as usize] as char);
        s.push(H[(b & 15) as usize] as char);
    }
    s
}

fn mtime_ns(m: &fs::Metadata) -> Option<u64> {
    m.modified()
        .ok()?
        .duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_nanos() as u64)
}

/// What a worker hands the coordinator for one file.
struct FileResult {
    path: String,
    size: u64,
    mtime_ns: Option<u64>,
    sha256: Option<String>,
    outcome: Outcome,
    /// Not decoded for rows because another file with the same bytes was
    /// claimed first: it can only be a duplicate.
    counted: bool,
}

/// What decode workers share: files and contents already known.
struct Shared<'a> {
    /// path → (size, mtime) of files an earlier run handled.
    known: &'a HashMap<String, (u64, Option<u64>)>,
    /// sha256 of contents an earlier run stored (or quarantined).
    prior: &'a HashMap<String, String>,
    /// What an earlier run read from each content it stored.
    prior_info: &'a HashMap<String, CopyInfo>,
    /// sha256 of contents a worker of this run decodes with rows.
    claimed: Mutex<HashSet<String>>,
}

/// What a file with a given content held: all a byte-identical copy needs.
#[derive(Debug, Clone, Copy)]
struct CopyInfo {
    kind: Kind,
    gzip: bool,
    records: usize,
}

impl CopyInfo {
    fn of(d: &Decoded) -> Self {
        Self {
            kind: d.kind,
            gzip: d.gzip,
            records: d.records(),
        }
    }

    /// A copy's outcome: the claimer's shape and count, no rows (and no
    /// JSON size, which nothing after the worker reads).
    fn decoded(self) -> Decoded {
        Decoded {
            kind: self.kind,
            gzip: self.gzip,
            json_bytes: 0,
            pieces: Vec::new(),
            keys: Vec::new(),
            count: self.records,
            arrow_bytes: 0,
        }
    }
}

impl Shared<'_> {
    /// Whether the rows of `sha` are (or will be) built by another file:
    /// the first caller for a content claims it.
    fn is_claimed(&self, sha: &str) -> bool {
        if self.prior.contains_key(sha) {
            return true;
        }
        match self.claimed.lock() {
            Ok(mut c) => !c.insert(sha.to_owned()),
            Err(_) => false,
        }
    }
}

enum Outcome {
    Skipped,
    Decoded(Decoded),
    /// The same bytes as the file that claimed the content (this run's or
    /// an earlier run's): not decoded.
    Copy,
    Failed(FileError),
}

/// Per-thread state: the read buffer, the decoder and the decoded files
/// whose rows share the decoder's current group of batches.
struct Worker {
    raw: Vec<u8>,
    dec: Decoder,
    grouped: Vec<(FileResult, GroupedFile)>,
}

impl Worker {
    fn new(limit: u64) -> Self {
        Self {
            raw: Vec::new(),
            dec: Decoder::new(limit),
            grouped: Vec::new(),
        }
    }

    /// Handles one file: a result ready now, or `None` when its rows joined
    /// the group (handed out by [`Worker::finish_group`]).
    fn process(&mut self, f: &InputFile, shared: &Shared<'_>, limit: u64) -> Option<FileResult> {
        let mut r = self.read(f, shared.known, limit);
        let Some(sha) = r.sha256.as_deref() else {
            return Some(r);
        };
        if !matches!(r.outcome, Outcome::Skipped) {
            return Some(r);
        }
        if shared.is_claimed(sha) {
            // A duplicate (this run or an earlier one): same outcome,
            // no rows.
            r.counted = true;
            if shared.prior.contains_key(sha) && !shared.prior_info.contains_key(sha) {
                // Quarantined by an earlier run: decoded again for the reason.
                r.outcome = match self.dec.count(&mut self.raw, &r.path) {
                    Ok(d) => Outcome::Decoded(d),
                    Err(e) => Outcome::Failed(e),
                };
            } else {
                r.outcome = Outcome::Copy;
            }
            self.trim();
            return Some(r);
        }
        let result = self.dec.decode_grouped(&mut self.raw, &r.path);
        self.trim();
        match result {
            Ok(g) => {
                self.grouped.push((r, g));
                None
            }
            Err(e) => {
                r.outcome = Outcome::Failed(e);
                Some(r)
            }
        }
    }

    /// Does not keep a giant read buffer per thread.
    fn trim(&mut self) {
        if self.raw.capacity() > (64 << 20) {
            self.raw = Vec::new();
        }
    }

    /// Finishes the group: every grouped file with its rows.
    fn finish_group(&mut self) -> Vec<FileResult> {
        let (mut results, files): (Vec<FileResult>, Vec<GroupedFile>) =
            std::mem::take(&mut self.grouped).into_iter().unzip();
        if results.is_empty() {
            return results;
        }
        match self.dec.finish_group(files) {
            Ok(decoded) => {
                for (r, d) in results.iter_mut().zip(decoded) {
                    r.outcome = Outcome::Decoded(d);
                }
            }
            Err(e) => {
                for r in &mut results {
                    r.outcome = Outcome::Failed(e.clone());
                }
            }
        }
        results
    }

    /// Stats and reads one file into `raw` and hashes it. Returns with the
    /// outcome still `Skipped` and `sha256` set when the bytes are to be
    /// decoded.
    fn read(
        &mut self,
        f: &InputFile,
        known: &HashMap<String, (u64, Option<u64>)>,
        limit: u64,
    ) -> FileResult {
        let path = f.path.to_string_lossy().into_owned();
        let mut r = FileResult {
            path,
            size: f.size,
            mtime_ns: None,
            sha256: None,
            outcome: Outcome::Skipped,
            counted: false,
        };
        // Opened first, then asked for its size and time: one path lookup.
        let opened = File::open(&f.path).and_then(|fh| fh.metadata().map(|m| (fh, m)));
        let (mut fh, meta) = match opened {
            Ok((_, m)) if m.is_dir() => {
                r.outcome = Outcome::Failed(FileError::Unreadable(
                    "a directory that cannot be listed".into(),
                ));
                return r;
            }
            Ok(x) => x,
            Err(e) => {
                r.outcome = Outcome::Failed(FileError::Unreadable(e.to_string()));
                return r;
            }
        };
        r.size = meta.len();
        r.mtime_ns = mtime_ns(&meta);
        if let Some((size, mtime)) = known.get(&r.path)
            && *size == r.size
            && mtime.is_some()
            && *mtime == r.mtime_ns
        {
            return r;
        }
        if r.size > limit {
            r.outcome = Outcome::Failed(FileError::TooLarge { limit });
            return r;
        }
        self.raw.clear();
        let read = fh.read_to_end(&mut self.raw);
        if let Err(e) = read {
            r.outcome = Outcome::Failed(FileError::Unreadable(e.to_string()));
            return r;
        }
        r.size = self.raw.len() as u64;
        r.sha256 = Some(hex(&Sha256::digest(&self.raw)));
        r
    }
}

/// The coordinator's state.
struct Run<'a> {
    dataset: &'a Path,
    cfg: &'a IngestConfig,
    progress: &'a dyn Progress,
    run_id: String,
    manifest: Manifest,
    /// sha256 → path of every file ingested (or digest) by this run, and
    /// what it held (all a copy of it needs).
    shas: HashMap<String, (String, CopyInfo)>,
    /// sha256 → path for earlier runs (read-only, shared with the workers).
    prior: &'a HashMap<String, String>,
    /// sha256 → what an earlier run's file with that content held.
    prior_info: &'a HashMap<String, CopyInfo>,
    /// sha256 → why the first file with that content failed, this run.
    failed: HashMap<String, FileError>,
    writer: PartitionWriter,
    seen: Seen,
    pending_files: Vec<FileEntry>,
    files_since_commit: usize,
    events_since_commit: u64,
    handled: usize,
    /// Days that received rows.
    partitions: HashSet<i32>,
    summary: Summary,
    /// Copies waiting for the file that claimed their content
    /// (by sha256), so that a duplicate is never committed before the rows
    /// it duplicates.
    waiting: HashMap<String, Vec<FileResult>>,
}

impl Run<'_> {
    /// Makes sure `day`'s dedup shard is resident, rebuilding it from what is stored.
    /// `extra` are rows of `day` accepted but not handed to the writer yet.
    fn ensure_day(&mut self, day: i32, extra: &[(Option<u64>, u64)]) -> Result<(), Error> {
        if self.seen.is_resident(day) {
            return Ok(());
        }
        self.writer.settle(day)?;
        let partition = partition_of(day);
        let mut keys = Vec::new();
        let mut files: Vec<PathBuf> = self
            .manifest
            .data_files_of(&partition)
            .map(|d| self.dataset.join(&d.path))
            .collect();
        files.extend(self.writer.run_files(day).iter().cloned());
        for p in files {
            read_keys(&p, &mut keys)?;
        }
        for b in self.writer.buffered(day) {
            keys_of_batch(&b, &mut keys);
        }
        keys.extend_from_slice(extra);
        self.seen.load(day, &keys);
        Ok(())
    }

    fn entry(&self, r: &FileResult, status: Status) -> FileEntry {
        FileEntry {
            path: r.path.clone(),
            size: r.size,
            mtime_ns: r.mtime_ns,
            sha256: r.sha256.clone(),
            kind: None,
            gzip: None,
            events_read: 0,
            events_new: 0,
            duplicates: 0,
            collisions: 0,
            status,
            reason_kind: None,
            reason: None,
        }
    }

    /// The first path stored with content `sha` (this run or before).
    fn first_of(&self, sha: &str) -> Option<&String> {
        self.shas
            .get(sha)
            .map(|(path, _)| path)
            .or_else(|| self.prior.get(sha))
    }

    /// What the first file with content `sha` held (this run or before).
    fn copy_info(&self, sha: &str) -> Option<CopyInfo> {
        self.shas
            .get(sha)
            .map(|(_, info)| info)
            .or_else(|| self.prior_info.get(sha))
            .copied()
    }

    fn handle(&mut self, mut r: FileResult) -> Result<(), Error> {
        let sha = r.sha256.clone();
        if let (Outcome::Copy, Some(s)) = (&r.outcome, &sha) {
            match self.copy_outcome(s) {
                Some(o) => r.outcome = o,
                None => {
                    // The claimer is not handled yet.
                    self.waiting.entry(s.clone()).or_default().push(r);
                    return Ok(());
                }
            }
        }
        if let (Outcome::Failed(e), Some(s)) = (&r.outcome, &sha) {
            self.failed.insert(s.clone(), e.clone());
        }
        self.handle_now(r)?;
        if let Some(s) = sha
            && let Some(list) = self.waiting.remove(&s)
        {
            for mut w in list {
                w.outcome = self.copy_outcome(&s).ok_or_else(|| {
                    Error::Internal(format!("{}: a copy of a file not decoded", w.path))
                })?;
                self.handle_now(w)?;
            }
        }
        Ok(())
    }

    /// A copy's outcome once the file it copies is handled: that file's
    /// shape and count, or its failure (same bytes, same verdict).
    fn copy_outcome(&self, sha: &str) -> Option<Outcome> {
        match self.copy_info(sha) {
            Some(info) => Some(Outcome::Decoded(info.decoded())),
            None => self.failed.get(sha).cloned().map(Outcome::Failed),
        }
    }

    fn handle_now(&mut self, r: FileResult) -> Result<(), Error> {
        let mut events = 0;
        match r.outcome {
            Outcome::Skipped => self.summary.skipped_files += 1,
            Outcome::Copy => {
                return Err(Error::Internal(format!(
                    "{}: a copy handled before the file it copies",
                    r.path
                )));
            }
            Outcome::Failed(ref e) => {
                let reason = format!("{}: {e}", r.path);
                let mut ent = self.entry(&r, Status::Quarantined);
                if !e.is_content_error() {
                    ent.sha256 = None;
                }
                ent.reason_kind = Some(e.kind());
                ent.reason = Some(reason.clone());
                self.summary.quarantined.push(Quarantined {
                    path: r.path.clone(),
                    kind: e.kind(),
                    reason,
                });
                self.pending_files.push(ent);
            }
            Outcome::Decoded(ref d) => {
                let sha = r.sha256.clone().unwrap_or_default();
                let mut ent = self.entry(&r, Status::Ingested);
                ent.kind = Some(d.kind);
                ent.gzip = Some(d.gzip);
                ent.events_read = d.records() as u64;
                events = ent.events_read;
                if let Some(first) = self.first_of(&sha) {
                    if *first == r.path {
                        ent.status = Status::SkippedAlreadyIngested;
                        self.summary.skipped_files += 1;
                    } else {
                        ent.status = Status::DuplicateFile;
                        self.summary.duplicate_files += 1;
                    }
                } else {
                    if d.kind == Kind::Digest {
                        ent.status = Status::Digest;
                        self.summary.digests += 1;
                    } else {
                        self.store(d, &mut ent)?;
                    }
                    self.shas.insert(sha, (r.path.clone(), CopyInfo::of(d)));
                }
                self.summary.events_read += ent.events_read;
                self.pending_files.push(ent);
            }
        }
        self.progress.file_done(r.size, events);
        self.files_since_commit += 1;
        self.handled += 1;
        if let Some(n) = self.cfg.abort_after_files()
            && self.handled >= n
        {
            return Err(Error::Aborted {
                files: self.handled,
            });
        }
        if self.files_since_commit >= self.cfg.commit_every_files()
            || self.events_since_commit >= self.cfg.commit_every_events()
        {
            self.commit()?;
        }
        Ok(())
    }

    /// Dedups the rows of one decoded file and hands the new ones to the writer.
    fn store(&mut self, d: &Decoded, ent: &mut FileEntry) -> Result<(), Error> {
        let mut offset = 0;
        for piece in &d.pieces {
            let keys = &d.keys[offset..offset + piece.len()];
            offset += piece.len();
            let mut by_day: Vec<(i32, Vec<u32>)> = Vec::new();
            let mut kept = 0usize;
            for (i, k) in keys.iter().enumerate() {
                if !self.seen.is_resident(k.day) {
                    // Rows of this day already accepted from this batch are
                    // not in the writer yet: the reloaded shard must know them.
                    let extra: Vec<(Option<u64>, u64)> = by_day
                        .iter()
                        .filter(|(d, _)| *d == k.day)
                        .flat_map(|(_, v)| {
                            v.iter()
                                .map(|&j| (keys[j as usize].event_id, keys[j as usize].record_hash))
                        })
                        .collect();
                    self.ensure_day(k.day, &extra)?;
                }
                match self.seen.check(k) {
                    Verdict::Duplicate => {
                        ent.duplicates += 1;
                        continue;
                    }
                    Verdict::Collision => ent.collisions += 1,
                    Verdict::New => {}
                }
                kept += 1;
                match by_day.iter_mut().find(|(d, _)| *d == k.day) {
                    Some((_, v)) => v.push(i as u32),
                    None => by_day.push((k.day, vec![i as u32])),
                }
            }
            ent.events_new += kept as u64;
            if by_day.len() == 1 && kept == piece.len() {
                let day = by_day[0].0;
                // The piece's share of the Arrow memory of the batch it
                // shares with other files.
                let bytes = d.arrow_bytes * piece.len() / d.records().max(1);
                self.push(day, piece.clone(), bytes)?;
            } else {
                let (shared, at) = piece.shared();
                for (day, idx) in by_day {
                    let idx = UInt32Array::from_iter_values(idx.iter().map(|&i| i + at as u32));
                    let part = arrow::compute::take_record_batch(shared, &idx)?;
                    let bytes = part.get_array_memory_size();
                    self.push(day, Piece::whole(part), bytes)?;
                }
            }
        }
        self.summary.duplicates += ent.duplicates;
        self.summary.collisions += ent.collisions;
        self.summary.events_new += ent.events_new;
        self.events_since_commit += ent.events_new;
        Ok(())
    }

    fn push(&mut self, day: i32, b: Piece, bytes: usize) -> Result<(), Error> {
        self.partitions.insert(day);
        self.writer.push(day, b, bytes)
    }

    /// Flushes every buffer, makes the files durable, then writes the
    /// manifest commit that lists them.
    fn commit(&mut self) -> Result<(), Error> {
        self.files_since_commit = 0;
        self.events_since_commit = 0;
        self.writer.flush_all()?;
        let data = self.writer.take_pending()?;
        if data.is_empty() && self.pending_files.is_empty() {
            return Ok(());
        }
        let n = self.manifest.commits + 1;
        manifest::write_commit(self.dataset, n, &self.run_id, &data, &self.pending_files)?;
        self.summary.data_files_written += data.len() as u64;
        self.summary.commits += 1;
        self.manifest.commits = n;
        self.manifest.data_files.extend(data);
        self.manifest.files.append(&mut self.pending_files);
        Ok(())
    }
}

/// Reads the `eventID` and `record_hash` columns of a data file.
fn read_keys(path: &Path, out: &mut Vec<(Option<u64>, u64)>) -> Result<(), Error> {
    let f = File::open(path).map_err(|e| Error::io(path, e))?;
    let b = ParquetRecordBatchReaderBuilder::try_new(f).map_err(|e| Error::parquet(path, e))?;
    let schema = b.schema().clone();
    let idx: Vec<usize> = [
        backtrail_model::schema::col::EVENT_ID,
        backtrail_model::schema::col::RECORD_HASH,
    ]
    .iter()
    .filter_map(|c| schema.index_of(c).ok())
    .collect();
    let mask = ProjectionMask::roots(b.parquet_schema(), idx);
    let reader = b
        .with_projection(mask)
        .with_batch_size(65_536)
        .build()
        .map_err(|e| Error::parquet(path, e))?;
    for batch in reader {
        let batch = batch?;
        keys_of_batch(&batch, out);
    }
    Ok(())
}

fn run_id() -> String {
    let ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    format!("{ms:x}{:04x}", std::process::id() & 0xffff)
}

/// Ingests every file under `inputs` into `dataset` (created if needed).
///
/// Bad files are quarantined and listed in the summary; the run goes on.
/// Re-running adds only files (and records) not stored yet. A run that is
/// killed leaves the dataset readable; the next run completes it.
pub fn ingest(
    inputs: &[PathBuf],
    dataset: &Path,
    cfg: &IngestConfig,
    progress: &dyn Progress,
) -> Result<Summary, Error> {
    let t0 = Instant::now();
    let mut files = discover(inputs)?;
    files.retain(|f| !f.path.starts_with(dataset));
    let bytes: u64 = files.iter().map(|f| f.size).sum();
    progress.start(files.len() as u64, bytes);

    for d in [
        manifest::events_dir(dataset),
        manifest::manifest_dir(dataset),
    ] {
        fs::create_dir_all(&d).map_err(|e| Error::io(&d, e))?;
    }
    // Before anything reads the manifest or removes orphans: a concurrent
    // run's uncommitted files look exactly like orphans.
    let _lock = crate::lock::DatasetLock::acquire(dataset)?;
    let manifest = manifest::read_manifest(dataset)?;
    let orphans = manifest::remove_orphans(dataset, &manifest)?;

    let mut known: HashMap<String, (u64, Option<u64>)> = HashMap::new();
    let mut prior = HashMap::new();
    let mut prior_info = HashMap::new();
    for f in &manifest.files {
        let content_known = matches!(
            f.status,
            Status::Ingested
                | Status::Digest
                | Status::DuplicateFile
                | Status::SkippedAlreadyIngested
        ) || (f.status == Status::Quarantined && f.sha256.is_some());
        if content_known {
            known.insert(f.path.clone(), (f.size, f.mtime_ns));
            if let Some(s) = &f.sha256 {
                prior.entry(s.clone()).or_insert_with(|| f.path.clone());
                if let (Some(kind), Some(gzip)) = (f.kind, f.gzip)
                    && f.status != Status::Quarantined
                {
                    prior_info.entry(s.clone()).or_insert(CopyInfo {
                        kind,
                        gzip,
                        records: f.events_read as usize,
                    });
                }
            }
        } else {
            known.remove(&f.path);
        }
    }

    let shared = Shared {
        known: &known,
        prior: &prior,
        prior_info: &prior_info,
        claimed: Mutex::new(HashSet::new()),
    };
    let threads = cfg.threads();
    let run_id = run_id();
    let mut run = Run {
        dataset,
        cfg,
        progress,
        writer: PartitionWriter::new(dataset, &run_id, cfg)?,
        run_id,
        manifest,
        shas: HashMap::new(),
        prior: &prior,
        prior_info: &prior_info,
        failed: HashMap::new(),
        seen: Seen::new(cfg.resident_days()),
        pending_files: Vec::new(),
        files_since_commit: 0,
        events_since_commit: 0,
        handled: 0,
        partitions: HashSet::new(),
        waiting: HashMap::new(),
        summary: Summary {
            files: files.len() as u64,
            bytes,
            orphans_removed: orphans as u64,
            ..Summary::default()
        },
    };

    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("backtrail-decode-{i}"))
        .build()
        .map_err(|e| Error::Internal(e.to_string()))?;
    let (tx, rx) = crossbeam_channel::bounded::<FileResult>(threads * cfg.queue_per_thread());
    let stop = AtomicBool::new(false);
    let limit = cfg.max_inflated_bytes();
    let result = std::thread::scope(|s| {
        let producer = s.spawn(|| {
            let send = |out: Vec<FileResult>| {
                for r in out {
                    if tx.send(r).is_err() {
                        stop.store(true, Ordering::Relaxed);
                        return;
                    }
                }
            };
            pool.install(|| {
                // rayon may call an init closure many times per thread, so
                // workers (and their grown buffers) live in a small pool:
                // at most one per thread, reused file after file.
                let workers: Mutex<Vec<Worker>> = Mutex::new(Vec::new());
                // Leaves of at most a few files: rayon otherwise hands each
                // thread a few long ranges, and the range a thread is in
                // cannot be stolen, so one core decoded the last ~1/8th of
                // the files alone (a quarter of the 1M-event run's time).
                files.par_iter().with_max_len(STEAL_FILES).for_each(|f| {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    let taken = workers.lock().ok().and_then(|mut v| v.pop());
                    let mut w = taken.unwrap_or_else(|| Worker::new(limit));
                    let mut out: Vec<FileResult> =
                        w.process(f, &shared, limit).into_iter().collect();
                    if w.dec.group_rows() >= GROUP_ROWS {
                        out.extend(w.finish_group());
                    }
                    if let Ok(mut v) = workers.lock() {
                        v.push(w);
                    }
                    send(out);
                });
                // The last groups of every worker.
                let rest: Vec<Worker> = workers
                    .lock()
                    .map(|mut v| std::mem::take(&mut *v))
                    .unwrap_or_default();
                for mut w in rest {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    send(w.finish_group());
                }
            });
            drop(tx);
        });
        let mut outcome = Ok(());
        for r in &rx {
            if let Err(e) = run.handle(r) {
                outcome = Err(e);
                break;
            }
        }
        stop.store(true, Ordering::Relaxed);
        drop(rx);
        if producer.join().is_err() && outcome.is_ok() {
            outcome = Err(Error::Internal("a decode worker panicked".into()));
        }
        outcome
    });
    result?;
    // Every claimer sends its result, so nothing waits once all are handled.
    debug_assert!(run.waiting.is_empty(), "duplicates left waiting");
    run.commit()?;
    manifest::write_quarantine(dataset, &run.manifest)?;
    let mut summary = run.summary;
    summary.shard_loads = run.seen.loads();
    summary.partitions = run
        .partitions
        .into_iter()
        .map(partition_of)
        .collect::<BTreeSet<String>>()
        .into_iter()
        .collect();
    summary.elapsed_ms = t0.elapsed().as_millis() as u64;
    Ok(summary)
}
