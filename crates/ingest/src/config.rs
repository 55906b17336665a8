//! [`IngestConfig`]: every knob of a run, with named defaults, built once
//! through [`IngestConfigBuilder`] and frozen afterwards.

/// Default decode threads: `0` means one per available core.
pub const DEFAULT_THREADS: usize = 0;
/// Default inflate limit per file: 4 GiB, far above any real delivery file.
pub const DEFAULT_MAX_INFLATED_BYTES: u64 = 4 << 30;
/// Default rows per Parquet data file (a day's buffer is flushed at this size).
pub const DEFAULT_ROWS_PER_FILE: usize = 262_144;
/// Default rows per Parquet row group.
pub const DEFAULT_ROW_GROUP_ROWS: usize = 131_072;
/// Default cap on Arrow rows buffered or being encoded, across all days
/// (the largest day is sent to the encoders once half is reached). Files
/// still reach `rows_per_file` whatever the cap; 64 MiB rather than 128
/// took the 10M-event ingest from ~0.97 to 0.90 GB at the same speed.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 64 << 20;
/// Default commit interval in input files.
pub const DEFAULT_COMMIT_EVERY_FILES: usize = 5_000;
/// Default commit interval in new events.
pub const DEFAULT_COMMIT_EVERY_EVENTS: u64 = 4_000_000;
/// Default number of days whose seen-set (dedup keys) stays in memory.
pub const DEFAULT_RESIDENT_DAYS: usize = 16;
/// Default decoded files waiting for the writer, per decode thread.
pub const DEFAULT_QUEUE_PER_THREAD: usize = 2;
/// Default rows per Parquet data page of the columns the index reads back
/// row by row (`schema::POINT_READ_COLUMNS`; the others keep 20,000-row
/// pages): small pages let a point read decompress a few KiB per row
/// instead of a 20k-row page.
pub const DEFAULT_PAGE_ROWS: usize = 2_048;
/// Default Parquet compression.
pub const DEFAULT_COMPRESSION: Compression = Compression::Zstd(1);

/// Parquet page compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Zstandard at the given level (1–22; 1–3 is the sweet spot).
    Zstd(i32),
    /// Snappy.
    Snappy,
    /// No compression.
    None,
}

/// The frozen configuration of one ingest run.
#[derive(Debug, Clone)]
pub struct IngestConfig {
    threads: usize,
    max_inflated_bytes: u64,
    rows_per_file: usize,
    row_group_rows: usize,
    max_buffered_bytes: usize,
    commit_every_files: usize,
    commit_every_events: u64,
    resident_days: usize,
    queue_per_thread: usize,
    page_rows: usize,
    compression: Compression,
    abort_after_files: Option<usize>,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            threads: DEFAULT_THREADS,
            max_inflated_bytes: DEFAULT_MAX_INFLATED_BYTES,
            rows_per_file: DEFAULT_ROWS_PER_FILE,
            row_group_rows: DEFAULT_ROW_GROUP_ROWS,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            commit_every_files: DEFAULT_COMMIT_EVERY_FILES,
            commit_every_events: DEFAULT_COMMIT_EVERY_EVENTS,
            resident_days: DEFAULT_RESIDENT_DAYS,
            queue_per_thread: DEFAULT_QUEUE_PER_THREAD,
            page_rows: DEFAULT_PAGE_ROWS,
            compression: DEFAULT_COMPRESSION,
            abort_after_files: None,
        }
    }
}

impl IngestConfig {
    /// A builder starting from the defaults.
    pub fn builder() -> IngestConfigBuilder {
        IngestConfigBuilder(Self::default())
    }
    /// Decode threads actually used (resolves `0` to the core count).
    pub fn threads(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism().map_or(2, |n| n.get())
        } else {
            self.threads
        }
    }
    /// Inflate limit per file, in bytes.
    pub fn max_inflated_bytes(&self) -> u64 {
        self.max_inflated_bytes
    }
    /// Rows per data file.
    pub fn rows_per_file(&self) -> usize {
        self.rows_per_file
    }
    /// Rows per row group.
    pub fn row_group_rows(&self) -> usize {
        self.row_group_rows
    }
    /// Memory cap on buffered rows, in Arrow bytes.
    pub fn max_buffered_bytes(&self) -> usize {
        self.max_buffered_bytes
    }
    /// Commit after this many input files.
    pub fn commit_every_files(&self) -> usize {
        self.commit_every_files
    }
    /// Commit after this many new events.
    pub fn commit_every_events(&self) -> u64 {
        self.commit_every_events
    }
    /// Days of dedup keys kept in memory.
    pub fn resident_days(&self) -> usize {
        self.resident_days
    }
    /// Queue depth per decode thread.
    pub fn queue_per_thread(&self) -> usize {
        self.queue_per_thread
    }
    /// Rows per Parquet data page (at most) of `schema::POINT_READ_COLUMNS`.
    pub fn page_rows(&self) -> usize {
        self.page_rows
    }
    /// Parquet compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }
    /// Test failpoint: stop abruptly (no commit) after this many files.
    pub fn abort_after_files(&self) -> Option<usize> {
        self.abort_after_files
    }
}

/// Builds an [`IngestConfig`]; every setter has a `DEFAULT_*` constant.
#[derive(Debug, Clone)]
pub struct IngestConfigBuilder(IngestConfig);

impl IngestConfigBuilder {
    /// Decode threads (`0` = one per core). See [`DEFAULT_THREADS`].
    pub fn threads(mut self, n: usize) -> Self {
        self.0.threads = n;
        self
    }
    /// Files inflating past this are quarantined. See [`DEFAULT_MAX_INFLATED_BYTES`].
    pub fn max_inflated_bytes(mut self, b: u64) -> Self {
        self.0.max_inflated_bytes = b;
        self
    }
    /// Rows per data file. See [`DEFAULT_ROWS_PER_FILE`].
    pub fn rows_per_file(mut self, n: usize) -> Self {
        self.0.rows_per_file = n.max(1);
        self
    }
    /// Rows per row group. See [`DEFAULT_ROW_GROUP_ROWS`].
    pub fn row_group_rows(mut self, n: usize) -> Self {
        self.0.row_group_rows = n.max(1);
        self
    }
    /// Memory cap on buffered rows. See [`DEFAULT_MAX_BUFFERED_BYTES`].
    pub fn max_buffered_bytes(mut self, b: usize) -> Self {
        self.0.max_buffered_bytes = b;
        self
    }
    /// Commit interval in files. See [`DEFAULT_COMMIT_EVERY_FILES`].
    pub fn commit_every_files(mut self, n: usize) -> Self {
        self.0.commit_every_files = n.max(1);
        self
    }
    /// Commit interval in new events. See [`DEFAULT_COMMIT_EVERY_EVENTS`].
    pub fn commit_every_events(mut self, n: u64) -> Self {
        self.0.commit_every_events = n.max(1);
        self
    }
    /// Days of dedup keys kept in memory. See [`DEFAULT_RESIDENT_DAYS`].
    pub fn resident_days(mut self, n: usize) -> Self {
        self.0.resident_days = n.max(1);
        self
    }
    /// Decoded files queued per thread. See [`DEFAULT_QUEUE_PER_THREAD`].
    pub fn queue_per_thread(mut self, n: usize) -> Self {
        self.0.queue_per_thread = n.max(1);
        self
    }
    /// Rows per Parquet data page. See [`DEFAULT_PAGE_ROWS`].
    pub fn page_rows(mut self, n: usize) -> Self {
        self.0.page_rows = n.max(1);
        self
    }
    /// Parquet compression. See [`DEFAULT_COMPRESSION`].
    pub fn compression(mut self, c: Compression) -> Self {
        self.0.compression = c;
        self
    }
    /// Test failpoint: after this many files, stop without committing
    /// (simulates `kill -9`; [`crate::ingest`] returns [`crate::Error::Aborted`]).
    pub fn abort_after_files(mut self, n: Option<usize>) -> Self {
        self.0.abort_after_files = n;
        self
    }
    /// Freezes the configuration.
    pub fn build(self) -> IngestConfig {
        self.0
    }
}
