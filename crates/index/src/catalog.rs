//! The catalogue (`DATASET/index/catalog.btx`): which partitions are
//! indexed, by which segment file, with the segment's header CRC so a
//! segment swapped behind the catalogue's back is noticed. Also the
//! freshness check of a segment against its partition's current files.

use std::path::{Path, PathBuf};

use crate::dataset::{FileFingerprint, INDEX_DIR, list_files};
use crate::error::{Error, Result, io};
use crate::format::{CATALOG_MAGIC, Cur, FileBuilder, parse_header, put_str, put_u32, put_u64};
use crate::segment::{Segment, container_error};

/// File name of the catalogue inside the index directory.
pub const CATALOG_FILE: &str = "catalog.btx";
const SEC_ENTRIES: u32 = 1;

/// One indexed partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogEntry {
    /// Partition value.
    pub partition: String,
    /// Segment file name inside the index directory.
    pub segment: String,
    /// Events in the partition.
    pub events: u64,
    /// Segment file size.
    pub bytes: u64,
    /// The segment's header CRC.
    pub header_crc: u32,
}

/// The index directory of a dataset.
pub fn index_dir(dataset: &Path) -> PathBuf {
    dataset.join(INDEX_DIR)
}

/// Segment file name of a partition.
pub fn segment_name(partition: &str) -> String {
    format!("seg-{partition}.bts")
}

/// Writes `bytes` to `path` atomically (temporary file, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::File::create(&tmp).map_err(io(&tmp))?;
    f.write_all(bytes).map_err(io(&tmp))?;
    f.sync_all().map_err(io(&tmp))?;
    drop(f);
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Encodes the catalogue.
pub fn encode(entries: &[CatalogEntry]) -> Vec<u8> {
    let mut b = Vec::new();
    put_u32(&mut b, entries.len() as u32);
    for e in entries {
        put_str(&mut b, &e.partition);
        put_str(&mut b, &e.segment);
        put_u64(&mut b, e.events);
        put_u64(&mut b, e.bytes);
        put_u32(&mut b, e.header_crc);
    }
    let mut fb = FileBuilder::default();
    fb.section(SEC_ENTRIES, b);
    fb.finish(CATALOG_MAGIC)
}

/// Reads and checks the catalogue; [`Error::NotBuilt`] when there is none.
pub fn read(dataset: &Path) -> Result<Vec<CatalogEntry>> {
    let path = index_dir(dataset).join(CATALOG_FILE);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::NotBuilt {
                dataset: dataset.to_owned(),
            });
        }
        Err(e) => return Err(io(&path)(e)),
    };
    let corrupt = |detail: &str| Error::Corrupt {
        path: path.clone(),
        detail: detail.to_owned(),
        dataset: dataset.to_owned(),
    };
    let secs =
        parse_header(&bytes, CATALOG_MAGIC).map_err(|e| container_error(e, &path, dataset))?;
    let e = secs
        .iter()
        .find(|e| e.kind == SEC_ENTRIES)
        .ok_or_else(|| corrupt("no entries section"))?;
    let body = crate::format::checked_section(&bytes, e, "ENTRIES")
        .map_err(|e| corrupt(&e.to_string()))?;
    let mut c = Cur::new(body);
    let n = c.u32().ok_or_else(|| corrupt("malformed entries"))?;
    (0..n)
        .map(|_| {
            Some(CatalogEntry {
                partition: c.str()?.to_owned(),
                segment: c.str()?.to_owned(),
                events: c.u64()?,
                bytes: c.u64()?,
                header_crc: c.u32()?,
            })
        })
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| corrupt("malformed entries"))
}

/// Why `seg` no longer describes partition `p`'s files, if it does not.
pub fn staleness(dataset: &Path, seg: &Segment) -> Result<Option<String>> {
    // `list_files` sorts by name; a partition holds hundreds of files, so
    // look names up by binary search rather than comparing every pair.
    let now = list_files(dataset, &seg.meta.partition)?;
    let then: Vec<&FileFingerprint> = seg.meta.files.iter().map(|f| &f.fp).collect();
    for f in &then {
        match now
            .binary_search_by(|n| n.name.cmp(&f.name))
            .ok()
            .map(|i| &now[i])
        {
            None => return Ok(Some(format!("file {} was removed", f.name))),
            Some(n) if n.size != f.size || n.mtime_ns != f.mtime_ns => {
                return Ok(Some(format!(
                    "file {} changed (size or modification time)",
                    f.name
                )));
            }
            Some(_) => {}
        }
    }
    let mut names: Vec<&str> = then.iter().map(|f| f.name.as_str()).collect();
    names.sort_unstable();
    if let Some(n) = now
        .iter()
        .find(|n| names.binary_search(&n.name.as_str()).is_err())
    {
        return Ok(Some(format!("file {} was added", n.name)));
    }
    Ok(None)
}
