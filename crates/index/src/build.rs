//! Building the index: which partitions need a segment, building them in
//! parallel (one partition a rayon task), removing segments of partitions
//! that are gone, and writing the catalogue last.
//!
//! Every file is written to a temporary name and renamed into place, so an
//! interrupted build leaves the previous segment (reported stale) or the new
//! one, never half a file.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::catalog::{self, CatalogEntry, index_dir, segment_name, staleness, write_atomic};
use crate::dataset::{list_files, list_partitions};
use crate::error::{Error, Result, io};
use crate::segment::Segment;
use crate::segment_write::build_segment;

/// How to build. Frozen once passed to [`build`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildOptions {
    rebuild: bool,
    threads: usize,
    batch_size: usize,
}

impl BuildOptions {
    /// Rows per Parquet batch while reading.
    pub const DEFAULT_BATCH_SIZE: usize = 64 * 1024;
    /// Worker threads; 0 = rayon's default (one per core).
    pub const DEFAULT_THREADS: usize = 0;
    /// Whether to rebuild every partition.
    pub const DEFAULT_REBUILD: bool = false;

    /// The defaults.
    pub fn new() -> Self {
        BuildOptions {
            rebuild: Self::DEFAULT_REBUILD,
            threads: Self::DEFAULT_THREADS,
            batch_size: Self::DEFAULT_BATCH_SIZE,
        }
    }
    /// Rebuild every partition, whatever its state (the partition list is then ignored).
    pub fn rebuild(mut self, yes: bool) -> Self {
        self.rebuild = yes;
        self
    }
    /// Worker threads (0 = one per core).
    pub fn threads(mut self, n: usize) -> Self {
        self.threads = n;
        self
    }
    /// Rows per Parquet batch (at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }
}

impl Default for BuildOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// What [`build`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildReport {
    /// Partitions whose segment was (re)built.
    pub built: Vec<String>,
    /// Partitions whose segment was already fresh.
    pub up_to_date: Vec<String>,
    /// Segments removed because their partition is gone.
    pub removed: Vec<String>,
    /// Events in the partitions built.
    pub events_built: u64,
    /// Events in the whole index.
    pub events_total: u64,
    /// Bytes of all index files.
    pub index_bytes: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// The state of one partition's segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SegmentState {
    /// Present, intact, describes the partition's current files.
    Fresh,
    /// No segment.
    Missing,
    /// The partition changed since the segment was built (or is gone).
    Stale(String),
    /// Truncated, failing a checksum, malformed or of another version.
    Corrupt(String),
}

/// One partition (or orphan segment) in [`status`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionStatus {
    /// Partition value.
    pub partition: String,
    /// Segment state.
    pub state: SegmentState,
    /// Events indexed (0 unless the segment opened).
    pub events: u64,
    /// Segment bytes (0 unless the segment opened).
    pub bytes: u64,
}

fn segment_state(dataset: &Path, partition: &str, verify: bool) -> Result<PartitionStatus> {
    let path = index_dir(dataset).join(segment_name(partition));
    let mut st = PartitionStatus {
        partition: partition.to_owned(),
        state: SegmentState::Fresh,
        events: 0,
        bytes: 0,
    };
    let seg = match Segment::open(&path, dataset) {
        Ok(s) => s,
        Err(Error::SegmentMissing { .. }) => {
            st.state = SegmentState::Missing;
            return Ok(st);
        }
        Err(e @ (Error::Corrupt { .. } | Error::Version { .. })) => {
            st.state = SegmentState::Corrupt(e.to_string());
            return Ok(st);
        }
        Err(e) => return Err(e),
    };
    (st.events, st.bytes) = (seg.meta.events, seg.len());
    if verify && let Err(e) = seg.verify_all() {
        st.state = SegmentState::Corrupt(e.to_string());
    } else if seg.meta.partition != partition {
        st.state = SegmentState::Corrupt(format!(
            "segment describes partition {}",
            seg.meta.partition
        ));
    } else if let Some(why) = staleness(dataset, &seg)? {
        st.state = SegmentState::Stale(why);
    }
    Ok(st)
}

/// The state of every partition's segment, checking every byte of every
/// segment; never fails on a bad segment (that is what it reports). Orphan
/// segments (partition gone) are listed as stale.
pub fn status(dataset: &Path) -> Result<Vec<PartitionStatus>> {
    let parts = list_partitions(dataset)?;
    let mut out: Vec<PartitionStatus> = parts
        .iter()
        .map(|p| segment_state(dataset, p, true))
        .collect::<Result<_>>()?;
    for p in orphan_segments(dataset, &parts)? {
        out.push(PartitionStatus {
            partition: p,
            state: SegmentState::Stale("partition removed from the dataset".into()),
            events: 0,
            bytes: 0,
        });
    }
    Ok(out)
}

fn orphan_segments(dataset: &Path, parts: &[String]) -> Result<Vec<String>> {
    let dir = index_dir(dataset);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&dir)(e)),
    };
    let mut out = Vec::new();
    for entry in rd {
        let name = entry.map_err(io(&dir))?.file_name();
        let Some(p) = name
            .to_str()
            .and_then(|n| n.strip_prefix("seg-"))
            .and_then(|n| n.strip_suffix(".bts"))
        else {
            continue;
        };
        if parts.binary_search_by(|x| x.as_str().cmp(p)).is_err() {
            out.push(p.to_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// Builds the segments of `partitions` (`None`: every partition whose
/// segment is missing, stale or corrupt), removes segments of partitions
/// that no longer exist and rewrites the catalogue.
pub fn build(
    dataset: &Path,
    partitions: Option<&[String]>,
    opts: &BuildOptions,
) -> Result<BuildReport> {
    let t0 = Instant::now();
    let all = list_partitions(dataset)?;
    let dir = index_dir(dataset);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let targets: BTreeSet<String> = if opts.rebuild {
        all.iter().cloned().collect()
    } else if let Some(list) = partitions {
        for p in list {
            if all.binary_search(p).is_err() {
                return Err(Error::NoSuchPartition {
                    partition: p.clone(),
                    dataset: dataset.to_owned(),
                });
            }
        }
        list.iter().cloned().collect()
    } else {
        let mut t = BTreeSet::new();
        for p in &all {
            if segment_state(dataset, p, true)?.state != SegmentState::Fresh {
                t.insert(p.clone());
            }
        }
        t
    };
    let work = |p: &String| -> Result<u64> {
        let files = list_files(dataset, p)?;
        let bytes = build_segment(dataset, p, &files, opts.batch_size)?;
        write_atomic(&dir.join(segment_name(p)), &bytes)?;
        let seg = Segment::open(&dir.join(segment_name(p)), dataset)?;
        Ok(seg.meta.events)
    };
    let targets: Vec<String> = targets.into_iter().collect();
    let run = || targets.par_iter().map(work).collect::<Result<Vec<u64>>>();
    let built_events = if opts.threads == 0 {
        run()?
    } else {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .build();
        match pool {
            Ok(pool) => pool.install(run)?,
            Err(_) => run()?,
        }
    };
    let removed = orphan_segments(dataset, &all)?;
    for p in &removed {
        let path = dir.join(segment_name(p));
        std::fs::remove_file(&path).map_err(io(&path))?;
    }
    let mut entries = Vec::new();
    for p in &all {
        match Segment::open(&dir.join(segment_name(p)), dataset) {
            Ok(seg) => entries.push(CatalogEntry {
                partition: p.clone(),
                segment: segment_name(p),
                events: seg.meta.events,
                bytes: seg.len(),
                header_crc: seg.header_crc,
            }),
            Err(Error::SegmentMissing { .. } | Error::Corrupt { .. } | Error::Version { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    let cat = catalog::encode(&entries);
    write_atomic(&dir.join(catalog::CATALOG_FILE), &cat)?;
    Ok(BuildReport {
        up_to_date: all
            .iter()
            .filter(|p| targets.binary_search(p).is_err())
            .cloned()
            .collect(),
        built: targets,
        removed,
        events_built: built_events.iter().sum(),
        events_total: entries.iter().map(|e| e.events).sum(),
        index_bytes: entries.iter().map(|e| e.bytes).sum::<u64>() + cat.len() as u64,
        elapsed: t0.elapsed(),
    })
}
