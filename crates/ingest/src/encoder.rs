//! The encoder threads: each keeps the Parquet files of the days assigned
//! to it open and streams batches into them, so a day's rows leave Arrow
//! memory as soon as a batch is encoded instead of waiting for a whole
//! file's worth.
//!
//! A file is written under a temp name (`.part-….parquet.tmp`, which no
//! `*.parquet` glob matches and Hive readers skip as hidden), and only on
//! close is it finished, fsynced and renamed into place. Until the manifest
//! lists it, a data file is an orphan that the next run deletes.
//!
//! Jobs for one day always go to the same encoder (the coordinator routes
//! them), so a day's writes and its close arrive in order.

use std::collections::HashMap;
use std::fs::{self, File};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use arrow::compute::concat_batches;
use arrow_array::RecordBatch;
use backtrail_model::schema;
use crossbeam_channel::{Receiver, Sender};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;

use crate::error::Error;
use crate::manifest::DataFile;

/// Rows gathered into one batch before it is handed to the Parquet writer.
const WRITE_ROWS: usize = 8_192;

/// Where a new data file goes.
pub(crate) struct FileSpec {
    /// The partition directory.
    pub dir: PathBuf,
    /// The `event_date` value.
    pub partition: String,
    /// The file name (`part-RUN-SEQ.parquet`).
    pub name: String,
}

/// Work for an encoder.
pub(crate) enum Job {
    /// Append `batches` to the day's open file (opening `spec`: set
    /// exactly when the coordinator has no file of the day open here),
    /// then close it if `close`.
    Write {
        day: i32,
        spec: Option<FileSpec>,
        batches: Vec<RecordBatch>,
        bytes: usize,
        close: bool,
    },
    /// Close the day's open file, if any.
    Close { day: i32 },
}

/// A finished, durable data file.
pub(crate) struct Closed {
    /// Its partition directory (to fsync at commit).
    pub dir: PathBuf,
    /// Its full path.
    pub path: PathBuf,
    /// The manifest entry.
    pub data: DataFile,
}

/// The answer to one [`Job`].
pub(crate) struct Done {
    /// Which encoder answered.
    pub encoder: usize,
    /// The job's day.
    pub day: i32,
    /// Arrow bytes the job held (now freed).
    pub arrow_bytes: usize,
    /// The file the job closed, if it closed one.
    pub result: Result<Option<Closed>, Error>,
}

/// One data file being written.
struct OpenFile {
    writer: ArrowWriter<File>,
    handle: File,
    tmp: PathBuf,
    spec: FileSpec,
    rows: u64,
}

impl OpenFile {
    fn create(props: &WriterProperties, spec: FileSpec) -> Result<Self, Error> {
        let tmp = spec.dir.join(format!(".{}.tmp", spec.name));
        let file = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let handle = file.try_clone().map_err(|e| Error::io(&tmp, e))?;
        let writer = ArrowWriter::try_new(file, schema::event_schema(), Some(props.clone()))
            .map_err(|e| Error::parquet(&tmp, e))?;
        Ok(Self {
            writer,
            handle,
            tmp,
            spec,
            rows: 0,
        })
    }

    /// Writes `batches`. Delivery files are small (tens of rows): the
    /// writer's fixed cost per batch and leaf column dwarfs a copy, so runs
    /// of small batches are merged; large ones (adjacent pieces joined)
    /// are written as they are.
    fn write(&mut self, batches: &[RecordBatch]) -> Result<(), Error> {
        let tmp = &self.tmp;
        let w = &mut self.writer;
        let mut small: Vec<RecordBatch> = Vec::new();
        let mut small_rows = 0;
        let mut write_small = |small: &mut Vec<RecordBatch>| {
            let r = match small.len() {
                0 => return Ok(()),
                1 => w.write(&small[0]),
                _ => {
                    let merged = concat_batches(&schema::event_schema(), small.iter())?;
                    w.write(&merged)
                }
            };
            small.clear();
            r.map_err(|e| Error::parquet(tmp, e))
        };
        for b in batches {
            self.rows += b.num_rows() as u64;
            if b.num_rows() >= WRITE_ROWS / 4 {
                write_small(&mut small)?;
                small_rows = 0;
                write_small(&mut vec![b.clone()])?;
                continue;
            }
            small_rows += b.num_rows();
            small.push(b.clone());
            if small_rows >= WRITE_ROWS {
                write_small(&mut small)?;
                small_rows = 0;
            }
        }
        write_small(&mut small)
    }

    /// Finishes the file, makes it durable and renames it into place.
    fn finish(self) -> Result<Closed, Error> {
        let Self {
            writer,
            handle,
            tmp,
            spec,
            rows,
        } = self;
        writer.close().map_err(|e| Error::parquet(&tmp, e))?;
        handle.sync_all().map_err(|e| Error::io(&tmp, e))?;
        let bytes = handle.metadata().map_err(|e| Error::io(&tmp, e))?.len();
        drop(handle);
        let path = spec.dir.join(&spec.name);
        fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
        Ok(Closed {
            data: DataFile {
                path: format!("events/event_date={}/{}", spec.partition, spec.name),
                partition: spec.partition,
                rows,
                bytes,
            },
            dir: spec.dir,
            path,
        })
    }
}

/// Runs `f`, turning a panic into an error naming `what`: with several
/// encoders a dead thread would leave its jobs unanswered while the others
/// keep the answer channel open.
fn guarded<T>(what: &str, f: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| {
        Err(Error::Internal(format!(
            "the Parquet encoder panicked while {what}"
        )))
    })
}

/// An encoder thread's loop: until the job channel closes. Files still
/// open then are abandoned under their temp names (the run failed; the
/// next one removes them).
pub(crate) fn run(
    encoder: usize,
    props: WriterProperties,
    jobs: Receiver<Job>,
    done: Sender<Done>,
) {
    let mut open: HashMap<i32, OpenFile> = HashMap::new();
    for job in jobs {
        let (day, arrow_bytes, result) = match job {
            Job::Write {
                day,
                spec,
                batches,
                bytes,
                close,
            } => {
                let what = match (&spec, open.get(&day)) {
                    (Some(s), _) => format!("writing {}", s.name),
                    (None, Some(f)) => format!("writing {}", f.spec.name),
                    (None, None) => format!("writing day {day}"),
                };
                let result = guarded(&what, || {
                    let mut file = match (open.remove(&day), spec) {
                        (None, Some(spec)) => OpenFile::create(&props, spec)?,
                        (Some(f), None) => f,
                        (Some(_), Some(spec)) => {
                            return Err(Error::Internal(format!(
                                "encoder asked to open {} while a file of its day is open",
                                spec.name
                            )));
                        }
                        (None, None) => {
                            return Err(Error::Internal(format!(
                                "encoder asked to append to day {day} with no file open"
                            )));
                        }
                    };
                    file.write(&batches)?;
                    if close {
                        file.finish().map(Some)
                    } else {
                        open.insert(day, file);
                        Ok(None)
                    }
                });
                drop(batches);
                (day, bytes, result)
            }
            Job::Close { day } => {
                let result = match open.remove(&day) {
                    Some(f) => {
                        let what = format!("closing {}", f.spec.name);
                        guarded(&what, || f.finish().map(Some))
                    }
                    None => Ok(None),
                };
                (day, 0, result)
            }
        };
        let d = Done {
            encoder,
            day,
            arrow_bytes,
            result,
        };
        if done.send(d).is_err() {
            return;
        }
    }
}
