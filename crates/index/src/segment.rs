//! Reads one partition segment through a memory map.
//!
//! Opening checks the header (magic, version, length, header CRC) and the
//! small META section. Every other byte is read through a [`Section`],
//! which checks each block's CRC the first time a read touches it (the
//! result is remembered), so a query pays only for the blocks it reads and
//! never uses a byte that was not verified. All reads are bounds-checked: a
//! malformed file yields [`Error::Corrupt`], never a panic.

use std::cmp::Ordering;
use std::fs::File;
use std::ops::Range;
use std::path::{Path, PathBuf};

use memmap2::Mmap;

use crate::dataset::FileFingerprint;
use crate::error::{Error, Result, io};
use crate::format::{Cur, FormatError, SEGMENT_MAGIC, SectionEntry, parse_header, u32_at};
use crate::issuance::{ISSUANCE_BLOCK, decode_block, format_uuid};
use crate::layout::{EventId, INLINE, Issuance, KeyUse, POSTING_ENTRY, STRING_BLOCK, sec};
use crate::section::{Checks, Damage, Section};

/// The parts of the `STRINGS` section.
struct StrTable<'a> {
    s: Section<'a>,
    n: usize,
    nb: usize,
    /// Byte offset of the first block.
    data: usize,
}

/// One Parquet file as recorded in a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    /// Name, size and mtime when indexed.
    pub fp: FileFingerprint,
    /// Rows in the file.
    pub rows: u32,
    /// Ordinal of the file's first row.
    pub first_ord: u32,
}

/// The META section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// Partition value.
    pub partition: String,
    /// Events in the partition.
    pub events: u64,
    /// Base of the key-use times, minutes since the epoch (the earliest event's minute).
    pub base_min: i64,
    /// Earliest event time (µs) or `NO_TIME`.
    pub min_us: i64,
    /// Latest event time (µs) or `NO_TIME`.
    pub max_us: i64,
    /// The partition's files, in ordinal order.
    pub files: Vec<SegmentFile>,
    /// ARN partitions (`aws`, `aws-cn`, …) among the resource ARNs.
    pub arn_partitions: Vec<String>,
}

fn parse_meta(b: &[u8]) -> Option<Meta> {
    let mut c = Cur::new(b);
    let partition = c.str()?.to_owned();
    let (events, base_min, min_us, max_us) = (c.u64()?, c.i64()?, c.i64()?, c.i64()?);
    let n = c.u32()?;
    let mut files = Vec::new();
    let mut ord = 0u64;
    for _ in 0..n {
        let fp = FileFingerprint {
            name: c.str()?.to_owned(),
            size: c.u64()?,
            mtime_ns: c.i64()?,
        };
        let rows = c.u32()?;
        files.push(SegmentFile {
            fp,
            rows,
            first_ord: u32::try_from(ord).ok()?,
        });
        ord += u64::from(rows);
    }
    if ord != events {
        return None;
    }
    let np = c.u32()?;
    let arn_partitions = (0..np)
        .map(|_| c.str().map(str::to_owned))
        .collect::<Option<_>>()?;
    Some(Meta {
        partition,
        events,
        base_min,
        min_us,
        max_us,
        files,
        arn_partitions,
    })
}

/// A memory-mapped, verified-on-read segment.
pub struct Segment {
    path: PathBuf,
    dataset: PathBuf,
    map: Mmap,
    entries: Vec<SectionEntry>,
    checks: Vec<Checks>,
    /// The parsed META section.
    pub meta: Meta,
    /// CRC of the header, recorded in the catalogue.
    pub header_crc: u32,
}

/// A postings section: directory plus delta-varint lists.
#[derive(Clone, Copy)]
pub struct Postings<'a> {
    s: Section<'a>,
    n: usize,
    /// Byte offset of the lists (the end of the directory).
    data: usize,
}

/// One directory entry of a postings section.
#[derive(Debug, Clone, Copy)]
pub struct PostingEntry {
    /// String id.
    pub sid: u32,
    reference: u32,
}

impl Segment {
    /// Maps and checks `path` (header and META).
    pub fn open(path: &Path, dataset: &Path) -> Result<Segment> {
        let file = File::open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::SegmentMissing {
                    path: path.to_owned(),
                    dataset: dataset.to_owned(),
                }
            } else {
                io(path)(e)
            }
        })?;
        // SAFETY: segment files are only ever replaced by rename, never
        // written in place, so the mapped inode's bytes do not change while
        // mapped; all reads through the map are bounds-checked slices.
        let map = unsafe { Mmap::map(&file) }.map_err(io(path))?;
        let entries =
            parse_header(&map, SEGMENT_MAGIC).map_err(|e| format_error(e, path, dataset))?;
        let hl = 8 + 4 + 4 + 8 + 24 * entries.len();
        let header_crc = u32_at(&map[hl..hl + 4], 0).unwrap_or_default();
        let mut seg = Segment {
            path: path.to_owned(),
            dataset: dataset.to_owned(),
            checks: entries.iter().map(Checks::new).collect(),
            entries,
            map,
            meta: Meta {
                partition: String::new(),
                events: 0,
                base_min: 0,
                min_us: 0,
                max_us: 0,
                files: Vec::new(),
                arn_partitions: Vec::new(),
            },
            header_crc,
        };
        for kind in sec::ALL {
            if !seg.entries.iter().any(|e| e.kind == kind) {
                return Err(seg.corrupt(format!("section {} absent", sec::name(kind))));
            }
        }
        let meta = parse_meta(seg.section(sec::META)?);
        seg.meta = meta.ok_or_else(|| seg.corrupt("malformed META".into()))?;
        Ok(seg)
    }

    /// Size of the segment file.
    pub fn len(&self) -> u64 {
        self.map.len() as u64
    }

    pub(crate) fn corrupt(&self, detail: String) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            detail,
            dataset: self.dataset.clone(),
        }
    }

    /// Section `kind`, read block by block (each block checked on first read).
    pub fn sect(&self, kind: u32) -> Result<Section<'_>> {
        let i = self
            .entries
            .iter()
            .position(|e| e.kind == kind)
            .ok_or_else(|| self.corrupt(format!("section {} absent", sec::name(kind))))?;
        Section::open(&self.map, &self.entries[i], &self.checks[i], self)
    }

    /// The bytes of section `kind`, every block checked.
    pub fn section(&self, kind: u32) -> Result<&[u8]> {
        self.sect(kind)?.all()
    }

    /// Checks every section now (used by `status` and after building).
    pub fn verify_all(&self) -> Result<()> {
        for kind in sec::ALL {
            self.section(kind)?;
        }
        Ok(())
    }

    fn strings(&self) -> Result<StrTable<'_>> {
        let s = self.sect(sec::STRINGS)?;
        let bad = || self.corrupt("malformed STRINGS".into());
        let (n, nb) = (s.u32(0)? as usize, s.u32(4)? as usize);
        let data = nb
            .checked_add(3)
            .and_then(|m| m.checked_mul(4))
            .filter(|&e| e <= s.len())
            .ok_or_else(bad)?;
        if nb != n.div_ceil(STRING_BLOCK) {
            return Err(bad());
        }
        Ok(StrTable { s, n, nb, data })
    }

    /// The front-coded bytes of string block `b`.
    fn block_bytes<'a>(&self, t: &StrTable<'a>, b: usize) -> Result<&'a [u8]> {
        let bad = || self.corrupt("malformed STRINGS block".into());
        if b >= t.nb {
            return Err(bad());
        }
        let (lo, hi) = (
            t.s.u32(8 + 4 * b)? as usize,
            t.s.u32(8 + 4 * (b + 1))? as usize,
        );
        if lo > hi {
            return Err(bad());
        }
        t.s.get(t.data + lo..t.data + hi)
    }

    /// The strings of block `b`, decoded one after another, until `f` says stop.
    fn scan_block(
        &self,
        t: &StrTable<'_>,
        b: usize,
        mut f: impl FnMut(usize, &[u8]) -> bool,
    ) -> Result<()> {
        let bad = || self.corrupt("malformed STRINGS block".into());
        let mut c = Cur::new(self.block_bytes(t, b)?);
        let mut cur: Vec<u8> = Vec::with_capacity(128);
        let count = (t.n - b * STRING_BLOCK).min(STRING_BLOCK);
        for i in 0..count {
            let shared = c.varint().ok_or_else(bad)? as usize;
            let len = c.varint().ok_or_else(bad)? as usize;
            if shared > cur.len() || (i == 0 && shared != 0) {
                return Err(bad());
            }
            cur.truncate(shared);
            cur.extend_from_slice(c.bytes(len).ok_or_else(bad)?);
            if !f(b * STRING_BLOCK + i, &cur) {
                break;
            }
        }
        Ok(())
    }

    /// The first string of block `b` (stored whole).
    fn block_first<'a>(&self, t: &StrTable<'a>, b: usize) -> Result<&'a [u8]> {
        let bad = || self.corrupt("malformed STRINGS block".into());
        let mut c = Cur::new(self.block_bytes(t, b)?);
        if c.varint() != Some(0) {
            return Err(bad());
        }
        let len = c.varint().ok_or_else(bad)? as usize;
        c.bytes(len).ok_or_else(bad)
    }

    /// The first string id for which `below` is false (`below` must be
    /// true for a prefix of the sorted strings and false after).
    fn partition_point(&self, below: impl Fn(&[u8]) -> bool) -> Result<u32> {
        let t = self.strings()?;
        let (mut lo, mut hi) = (0usize, t.nb);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if below(self.block_first(&t, mid)?) {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        if lo == 0 {
            return Ok(0);
        }
        let mut at = (lo - 1) * STRING_BLOCK;
        self.scan_block(&t, lo - 1, |i, s| {
            let b = below(s);
            if b {
                at = i + 1;
            }
            b
        })?;
        Ok(at as u32)
    }

    /// String `sid`.
    pub fn str(&self, sid: u32) -> Result<String> {
        let t = self.strings()?;
        let sid = sid as usize;
        if sid >= t.n {
            return Err(self.corrupt(format!("string id {sid} out of range")));
        }
        let mut out = None;
        self.scan_block(&t, sid / STRING_BLOCK, |i, s| {
            if i == sid {
                out = Some(s.to_vec());
            }
            i < sid
        })?;
        let bytes = out.ok_or_else(|| self.corrupt("malformed STRINGS block".into()))?;
        String::from_utf8(bytes).map_err(|_| self.corrupt("STRINGS not UTF-8".into()))
    }

    /// String `sid`, or `None` for the `NONE` id.
    pub fn opt_str(&self, sid: u32) -> Result<Option<String>> {
        if sid == crate::layout::NONE {
            Ok(None)
        } else {
            self.str(sid).map(Some)
        }
    }

    /// The id of `s`, if the segment has it: binary search over the block
    /// heads, then one pass over at most one block, without allocating.
    pub fn find(&self, s: &str) -> Result<Option<u32>> {
        let t = self.strings()?;
        let s = s.as_bytes();
        let (mut lo, mut hi) = (0usize, t.nb);
        while lo < hi {
            let mid = (lo + hi) / 2;
            match self.block_first(&t, mid)?.cmp(s) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Ok(Some((mid * STRING_BLOCK) as u32)),
            }
        }
        if lo == 0 {
            return Ok(None);
        }
        let mut found = None;
        self.scan_block(&t, lo - 1, |i, x| match x.cmp(s) {
            Ordering::Less => true,
            Ordering::Equal => {
                found = Some(i as u32);
                false
            }
            Ordering::Greater => false,
        })?;
        Ok(found)
    }

    /// The ids of every string starting with `prefix` (a contiguous range,
    /// since ids follow byte order).
    pub fn prefix_range(&self, prefix: &str) -> Result<Range<u32>> {
        let p = prefix.as_bytes();
        let lo = self.partition_point(|x| x < p)?;
        let hi = self.partition_point(|x| x < p || x.starts_with(p))?;
        Ok(lo..hi)
    }

    /// Earliest and latest time (µs) of the timed events in the `TIMES`
    /// block of event `ord`; `None` when the block has no timed event.
    pub fn time_block(&self, ord: u32) -> Result<Option<(i64, i64)>> {
        let t = self.sect(sec::TIMES)?;
        let bad = || self.corrupt(format!("TIMES has no event {ord}"));
        let block = t.u32(0)?;
        if block == 0 {
            return Err(bad());
        }
        let at = 4 + (ord / block) as usize * 16;
        if at + 16 > t.len() {
            return Err(bad());
        }
        let b = t.get(at..at + 16)?;
        let lo = i64::from_le_bytes(b[..8].try_into().map_err(|_| bad())?);
        let hi = i64::from_le_bytes(b[8..].try_into().map_err(|_| bad())?);
        Ok((lo <= hi).then_some((lo, hi)))
    }

    /// A postings section.
    pub fn postings(&self, kind: u32) -> Result<Postings<'_>> {
        let s = self.sect(kind)?;
        let n = s.u32(0)? as usize;
        let end = n
            .checked_mul(POSTING_ENTRY)
            .and_then(|d| d.checked_add(4))
            .filter(|&e| e <= s.len());
        let data = end.ok_or_else(|| self.corrupt(format!("{} directory", sec::name(kind))))?;
        Ok(Postings { s, n, data })
    }

    /// The ISSUANCE section, its record and block counts and the byte
    /// offset of its first block.
    fn issuance_table(&self) -> Result<(Section<'_>, usize, usize, usize)> {
        let s = self.sect(sec::ISSUANCE)?;
        let (n, nb) = (s.u32(0)?, s.u32(4)?);
        let (n, nb, data) = crate::issuance::parse_header(n, nb, s.len())
            .ok_or_else(|| self.corrupt("malformed ISSUANCE header".into()))?;
        Ok((s, n, nb, data))
    }

    /// Number of issuance records.
    pub fn issuance_count(&self) -> Result<usize> {
        Ok(self.issuance_table()?.1)
    }

    /// Decodes the first `take` records of issuance block `b`, calling `f`
    /// with each record's index.
    fn issuance_block(
        &self,
        b: usize,
        take: usize,
        mut f: impl FnMut(u32, &Issuance),
    ) -> Result<()> {
        let (s, n, nb, data) = self.issuance_table()?;
        let bad = || self.corrupt(format!("malformed ISSUANCE block {b}"));
        if b >= nb || take > (n - b * ISSUANCE_BLOCK).min(ISSUANCE_BLOCK) {
            return Err(bad());
        }
        let (lo, hi) = (s.u32(8 + 4 * b)? as usize, s.u32(12 + 4 * b)? as usize);
        let range = data.checked_add(lo).zip(data.checked_add(hi));
        let bytes = match range {
            Some((lo, hi)) if lo <= hi => s.get(lo..hi)?,
            _ => return Err(bad()),
        };
        let base = self.meta.base_min.saturating_mul(60_000_000);
        let first = (b * ISSUANCE_BLOCK) as u32;
        decode_block(bytes, take, base, |j, r| f(first + j as u32, r)).ok_or_else(bad)
    }

    /// Issuance record `i`.
    pub fn issuance(&self, i: u32) -> Result<Issuance> {
        let i = i as usize;
        if i >= self.issuance_count()? {
            return Err(self.corrupt(format!("ISSUANCE has no record {i}")));
        }
        let mut out = None;
        let (b, j) = (i / ISSUANCE_BLOCK, i % ISSUANCE_BLOCK);
        self.issuance_block(b, j + 1, |_, r| out = Some(*r))?;
        out.ok_or_else(|| self.corrupt(format!("ISSUANCE has no record {i}")))
    }

    /// Issuance records `idxs`, in that order. When `idxs` ascend (as
    /// postings lists do) each block is decoded once, however many of its
    /// records are wanted.
    pub fn issuances(&self, idxs: &[u32]) -> Result<Vec<Issuance>> {
        if !idxs.is_sorted() {
            return idxs.iter().map(|&i| self.issuance(i)).collect();
        }
        let n = self.issuance_count()?;
        let mut out = Vec::with_capacity(idxs.len());
        let mut k = 0;
        while let Some(&i) = idxs.get(k) {
            let i = i as usize;
            if i >= n || out.len() != k {
                return Err(self.corrupt(format!("ISSUANCE has no record {i}")));
            }
            let b = i / ISSUANCE_BLOCK;
            let end = idxs[k..].partition_point(|&x| (x as usize) / ISSUANCE_BLOCK == b) + k;
            let take = idxs[end - 1] as usize % ISSUANCE_BLOCK + 1;
            let want = &idxs[k..end];
            let mut w = 0;
            self.issuance_block(b, take, |at, r| {
                while want.get(w) == Some(&at) {
                    out.push(*r);
                    w += 1;
                }
            })?;
            k = end;
        }
        if out.len() != idxs.len() {
            return Err(self.corrupt("ISSUANCE records out of order".into()));
        }
        Ok(out)
    }

    /// The text of an issuance record's event id.
    pub fn event_id(&self, id: EventId) -> Result<Option<String>> {
        match id {
            EventId::Absent => Ok(None),
            EventId::Uuid(b) => Ok(Some(format_uuid(&b))),
            EventId::Sid(sid) => self.str(sid).map(Some),
        }
    }

    /// The KEYUSE section, its entry count and the byte offset of its records.
    fn keyuse(&self) -> Result<(Section<'_>, usize, usize)> {
        let s = self.sect(sec::KEYUSE)?;
        let n = s.u32(0)? as usize;
        let end = n
            .checked_mul(8)
            .and_then(|d| d.checked_add(4))
            .filter(|&e| e <= s.len());
        let end = end.ok_or_else(|| self.corrupt("KEYUSE directory".into()))?;
        Ok((s, n, end))
    }

    /// Number of keys with a use summary.
    pub fn key_use_count(&self) -> Result<usize> {
        Ok(self.keyuse()?.1)
    }

    /// Use summary `i` (in key-id order) with its distinct source IP ids.
    pub fn key_use_at(&self, i: usize) -> Result<(KeyUse, Vec<u32>)> {
        let (s, n, data) = self.keyuse()?;
        if i >= n {
            return Err(self.corrupt(format!("KEYUSE has no record {i}")));
        }
        let (key, off) = (s.u32(4 + 8 * i)?, s.u32(8 + 8 * i)? as usize);
        let base = self.meta.base_min.saturating_mul(60_000_000);
        s.parse(data + off, |b| KeyUse::decode(key, b, base))
    }

    /// The use summary of key `sid`.
    pub fn key_use(&self, sid: u32) -> Result<Option<(KeyUse, Vec<u32>)>> {
        let (s, n, _) = self.keyuse()?;
        let (mut lo, mut hi) = (0usize, n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            let k = s.u32(4 + 8 * mid)?;
            match k.cmp(&sid) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return self.key_use_at(mid).map(Some),
            }
        }
        Ok(None)
    }

    /// The file and row of event `ord`.
    pub fn locate(&self, ord: u32) -> Result<(usize, u32)> {
        let files = &self.meta.files;
        let i = files.partition_point(|f| f.first_ord <= ord);
        match i.checked_sub(1).map(|i| (i, &files[i])) {
            Some((i, f)) if ord - f.first_ord < f.rows => Ok((i, ord - f.first_ord)),
            _ => Err(self.corrupt(format!("event {ord} beyond the recorded files"))),
        }
    }
}

impl Damage for Segment {
    fn corrupt(&self, detail: String) -> Error {
        Segment::corrupt(self, detail)
    }
}

/// The ordinals of one delta-varint list (`count`, first, deltas), or
/// `None` when `b` does not hold a whole, valid list.
fn decode_list(b: &[u8]) -> Option<Vec<u32>> {
    let mut c = Cur::new(b);
    let count = c.varint()?;
    let mut out = Vec::with_capacity(count.min(b.len() as u64) as usize);
    let mut prev = 0u64;
    for j in 0..count {
        let d = c.varint()?;
        prev = if j == 0 { d } else { prev.checked_add(d)? };
        out.push(u32::try_from(prev).ok()?);
    }
    Some(out)
}

impl<'a> Postings<'a> {
    /// Directory entry `i`.
    pub fn entry(&self, i: usize) -> Result<PostingEntry> {
        if i >= self.n {
            return Err(self.s.malformed(&format!("no entry {i}")));
        }
        let at = 4 + i * POSTING_ENTRY;
        Ok(PostingEntry {
            sid: self.s.u32(at)?,
            reference: self.s.u32(at + 4)?,
        })
    }

    /// The number of entries whose string id is below `sid`.
    fn lower_bound(&self, sid: u32) -> Result<usize> {
        let (mut lo, mut hi) = (0usize, self.n);
        while lo < hi {
            let mid = (lo + hi) / 2;
            if self.entry(mid)?.sid < sid {
                lo = mid + 1
            } else {
                hi = mid
            }
        }
        Ok(lo)
    }

    /// The entry of string `sid`.
    pub fn lookup(&self, sid: u32) -> Result<Option<PostingEntry>> {
        let i = self.lower_bound(sid)?;
        if i < self.n {
            let e = self.entry(i)?;
            if e.sid == sid {
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// Entries `range` of the directory (checked once, then read in place).
    fn slice(&self, range: Range<usize>) -> Result<impl Iterator<Item = PostingEntry> + 'a> {
        let dir = self
            .s
            .get(4 + range.start * POSTING_ENTRY..4 + range.end * POSTING_ENTRY)?;
        Ok(dir.chunks_exact(POSTING_ENTRY).map(|e| PostingEntry {
            sid: u32_at(e, 0).unwrap_or_default(),
            reference: u32_at(e, 1).unwrap_or_default(),
        }))
    }

    /// Entries whose string id lies in `r`.
    pub fn entries_in(&self, r: Range<u32>) -> Result<impl Iterator<Item = PostingEntry> + 'a> {
        let start = self.lower_bound(r.start)?;
        let end = self.lower_bound(r.end)?.max(start);
        self.slice(start..end)
    }

    /// Every entry.
    pub fn entries(&self) -> Result<impl Iterator<Item = PostingEntry> + 'a> {
        self.slice(0..self.n)
    }

    /// The ascending ordinals of an entry.
    pub fn decode(&self, e: PostingEntry) -> Result<Vec<u32>> {
        if e.reference & INLINE != 0 {
            return Ok(vec![e.reference & !INLINE]);
        }
        // A list of `count` ordinals takes at least `count` bytes, and
        // about twice that for dense ones: start with a window that holds
        // most lists whole, so a long list is not decoded again and again.
        let at = self.data + e.reference as usize;
        let count = self.s.parse(at, |b| Cur::new(b).varint())?;
        let hint = usize::try_from(count).unwrap_or(usize::MAX / 4);
        self.s
            .parse_sized(at, hint.saturating_mul(2).saturating_add(16), decode_list)
    }
}

pub(crate) fn format_error(e: FormatError, path: &Path, dataset: &Path) -> Error {
    match e {
        FormatError::Version(found) => Error::Version {
            path: path.to_owned(),
            found,
            expected: crate::format::FORMAT_VERSION,
            dataset: dataset.to_owned(),
        },
        other => Error::Corrupt {
            path: path.to_owned(),
            detail: other.to_string(),
            dataset: dataset.to_owned(),
        },
    }
}

pub(crate) use format_error as container_error;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{TestEvent, write_dataset};

    /// Front-coded strings: every string is found, decoded and range-scanned
    /// correctly across block boundaries, including the empty string,
    /// strings that are prefixes of others and multi-byte UTF-8.
    #[test]
    fn string_table_lookups() {
        let mut names: Vec<String> = vec![
            "".into(),
            "a".into(),
            "ab".into(),
            "abc".into(),
            "abd".into(),
            "é".into(),
            "éé".into(),
        ];
        names.extend((0..70).map(|i| format!("arn:aws:s3:::bucket/dir{}/obj{i}", i % 4)));
        let events: Vec<TestEvent> = names
            .iter()
            .map(|n| TestEvent {
                event_time: Some(1_700_000_000_000_000),
                principal_arn: Some(n.clone()),
                ..TestEvent::default()
            })
            .collect();
        let dir = tempfile::tempdir().unwrap();
        write_dataset(dir.path(), &events, 1000).unwrap();
        crate::build(dir.path(), None, &crate::BuildOptions::new()).unwrap();
        let p = crate::dataset::list_partitions(dir.path())
            .unwrap()
            .remove(0);
        let seg = Segment::open(
            &crate::catalog::index_dir(dir.path()).join(crate::catalog::segment_name(&p)),
            dir.path(),
        )
        .unwrap();
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        for (i, s) in sorted.iter().enumerate() {
            assert_eq!(seg.find(s).unwrap(), Some(i as u32), "{s:?}");
            assert_eq!(&seg.str(i as u32).unwrap(), s);
        }
        assert_eq!(seg.find("abcd").unwrap(), None);
        assert_eq!(seg.find("zzz").unwrap(), None);
        for prefix in ["", "a", "ab", "arn:aws:s3:::bucket/dir1/", "é", "nothing"] {
            let want: Vec<u32> = (0..sorted.len() as u32)
                .filter(|&i| sorted[i as usize].starts_with(prefix))
                .collect();
            let got: Vec<u32> = seg.prefix_range(prefix).unwrap().collect();
            assert_eq!(got, want, "{prefix:?}");
        }
        assert!(seg.str(sorted.len() as u32).is_err());
    }

    fn issuing_events(ids: &[Option<&str>]) -> Vec<TestEvent> {
        ids.iter()
            .enumerate()
            .map(|(k, id)| TestEvent {
                event_time: Some(1_700_000_000_000_000 + k as i64 * 999),
                event_id: id.map(str::to_owned),
                event_source: Some("sts.amazonaws.com".into()),
                event_name: Some(
                    if k % 3 == 0 {
                        "AssumeRole"
                    } else {
                        "GetSessionToken"
                    }
                    .into(),
                ),
                recipient_account_id: Some("123456789012".into()),
                principal_arn: Some(format!("arn:aws:iam::123456789012:user/u{}", k % 4)),
                issued_key: (!k.is_multiple_of(5)).then(|| format!("ASIA{k:016}")),
                expiration: k.is_multiple_of(2).then_some(1_700_000_900_000_000),
                mfa: (!k.is_multiple_of(4)).then_some(k.is_multiple_of(2)),
                ..TestEvent::default()
            })
            .collect()
    }

    fn open_first(dir: &Path) -> (Segment, PathBuf) {
        let p = crate::dataset::list_partitions(dir).unwrap().remove(0);
        let path = crate::catalog::index_dir(dir).join(crate::catalog::segment_name(&p));
        (Segment::open(&path, dir).unwrap(), path)
    }

    /// Issuance records read back one by one and in batches; canonical
    /// UUID event ids are inline (not in the string table), every other
    /// id (uppercase, hand-written, empty) keeps its exact text.
    #[test]
    fn issuance_records_and_event_ids() {
        let uuid = |k: usize| format!("{k:08x}-b7eb-40a8-8a99-290488c7da91");
        let mut ids: Vec<Option<String>> = (0..45).map(|k| Some(uuid(k))).collect();
        ids[3] = Some("A54B2ABD-B7EB-40A8-8A99-290488C7DA91".into());
        ids[17] = Some("e1".into());
        ids[20] = Some(String::new());
        ids[33] = None;
        let refs: Vec<Option<&str>> = ids.iter().map(Option::as_deref).collect();
        let events = issuing_events(&refs);
        let dir = tempfile::tempdir().unwrap();
        write_dataset(dir.path(), &events, 1000).unwrap();
        crate::build(dir.path(), None, &crate::BuildOptions::new()).unwrap();
        let (seg, _) = open_first(dir.path());
        assert_eq!(seg.issuance_count().unwrap(), ids.len());
        let all: Vec<u32> = (0..ids.len() as u32).collect();
        let batch = seg.issuances(&all).unwrap();
        for (i, r) in batch.iter().enumerate() {
            assert_eq!(*r, seg.issuance(i as u32).unwrap());
            assert_eq!(seg.event_id(r.event_id).unwrap(), ids[i], "record {i}");
            let e = &events[r.ord as usize];
            assert_eq!(Some(r.time), e.event_time);
            assert_eq!(r.expiration, e.expiration.unwrap_or(crate::layout::NO_TIME));
            assert_eq!(r.mfa, e.mfa.map_or(0, |m| 1 + u8::from(m)));
            assert_eq!(
                seg.opt_str(r.issued_key).unwrap(),
                e.issued_key,
                "record {i}"
            );
        }
        assert!(matches!(batch[0].event_id, EventId::Uuid(_)));
        assert!(matches!(batch[17].event_id, EventId::Sid(_)));
        assert_eq!(seg.find(&uuid(0)).unwrap(), None);
        assert!(seg.find("e1").unwrap().is_some());
        assert!(
            seg.find("A54B2ABD-B7EB-40A8-8A99-290488C7DA91")
                .unwrap()
                .is_some()
        );
        // Unsorted and repeated indexes, and indexes out of range.
        let picked = seg.issuances(&[40, 2, 2, 17]).unwrap();
        assert_eq!(picked, vec![batch[40], batch[2], batch[2], batch[17]]);
        assert_eq!(
            seg.issuances(&[1, 1, 16]).unwrap(),
            vec![batch[1], batch[1], batch[16]]
        );
        assert!(seg.issuance(ids.len() as u32).is_err());
        assert!(seg.issuances(&[3, ids.len() as u32]).is_err());
    }

    type Edit = Box<dyn Fn(&mut Vec<u8>)>;

    /// An ISSUANCE section that is truncated or garbled (with valid
    /// checksums) is an error, never a panic.
    #[test]
    fn malformed_issuance_is_an_error() {
        let ids: Vec<String> = (0..40).map(|k| format!("id-{k}")).collect();
        let refs: Vec<Option<&str>> = ids.iter().map(|s| Some(s.as_str())).collect();
        let dir = tempfile::tempdir().unwrap();
        write_dataset(dir.path(), &issuing_events(&refs), 1000).unwrap();
        crate::build(dir.path(), None, &crate::BuildOptions::new()).unwrap();
        let (_, path) = open_first(dir.path());
        let good = std::fs::read(&path).unwrap();
        let entries = parse_header(&good, SEGMENT_MAGIC).unwrap();
        let rewrite = |f: &dyn Fn(&mut Vec<u8>)| {
            let mut fb = crate::format::FileBuilder::default();
            for e in &entries {
                let mut b = good[e.range()].to_vec();
                if e.kind == sec::ISSUANCE {
                    f(&mut b);
                }
                fb.section(e.kind, b);
            }
            std::fs::write(&path, fb.finish(SEGMENT_MAGIC)).unwrap();
            Segment::open(&path, dir.path()).unwrap()
        };
        let len = entries
            .iter()
            .find(|e| e.kind == sec::ISSUANCE)
            .unwrap()
            .len as usize;
        let mut failed = 0;
        let mut cases: Vec<Edit> = vec![
            Box::new(|b| b.truncate(0)),
            Box::new(|b| b.truncate(6)),
            Box::new(|b| b[0] = 200),
            Box::new(|b| b[4] = 0),
            Box::new(|b| b[12..16].copy_from_slice(&u32::MAX.to_le_bytes())),
        ];
        for cut in [len - 1, len / 2, 20] {
            cases.push(Box::new(move |b| b.truncate(cut)));
        }
        for at in (8..len).step_by(3) {
            cases.push(Box::new(move |b| b[at] ^= 0xFF));
        }
        for f in &cases {
            let seg = rewrite(f.as_ref());
            let all: Vec<u32> = (0..40).collect();
            let one = (0..40).map(|i| seg.issuance(i)).collect::<Result<Vec<_>>>();
            match (seg.issuances(&all), one) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(e), _) | (_, Err(e)) => {
                    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
                    failed += 1;
                }
            }
        }
        assert!(failed >= 8, "{failed}");
    }

    #[test]
    fn key_use_round_trip() {
        let u = KeyUse {
            key: 7,
            first_ord: 3,
            first_time: 1_700_000_000_000_000,
            last_time: crate::layout::NO_TIME,
            calls: 9,
            errors: 2,
            expired_errors: 1,
            first_principal: crate::layout::NONE,
            first_type: 0,
            first_ip: 12,
        };
        let mut b = Vec::new();
        u.encode(&[1, 5, 900], 1_700_000_000_000_000 + 60_000_000, &mut b);
        assert_eq!(
            KeyUse::decode(7, &b, 1_700_000_000_000_000 + 60_000_000),
            Some((u, vec![1, 5, 900]))
        );
        assert_eq!(KeyUse::decode(7, &b[..b.len() - 1], 0), None);
    }
}
