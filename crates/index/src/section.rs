//! One section of a memory-mapped segment, checked block by block as it is
//! read.
//!
//! Every read goes through [`Section::get`] (or the helpers built on it),
//! which checks the CRC of each [`CHECK_BLOCK`]-byte block the read touches
//! the first time any read in the process touches it, and remembers the
//! result in a bitmap. A point query thus checks the few kilobytes it reads
//! (a binary search touches a handful of blocks) instead of whole sections
//! of megabytes, and still never uses a byte that was not verified.

use std::ops::Range;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::format::{CHECK_BLOCK, SectionEntry, block_ok, checked_sums};
use crate::layout::sec;

/// Verification state of one section: whether its block checksums match
/// the header, and which blocks were found intact.
pub(crate) struct Checks {
    sums_ok: OnceLock<bool>,
    done: Vec<AtomicU64>,
}

impl Checks {
    /// Nothing checked yet, for section `e`.
    pub(crate) fn new(e: &SectionEntry) -> Self {
        Checks {
            sums_ok: OnceLock::new(),
            done: (0..e.blocks().div_ceil(64))
                .map(|_| AtomicU64::new(0))
                .collect(),
        }
    }
}

/// What turns a description of damage into the error naming the file.
pub(crate) trait Damage: Sync {
    /// The error for a corrupt file, with `detail`.
    fn corrupt(&self, detail: String) -> Error;
}

/// A section of a mapped file whose blocks are checked on first read.
#[derive(Clone, Copy)]
pub struct Section<'a> {
    bytes: &'a [u8],
    sums: &'a [u8],
    done: &'a [AtomicU64],
    kind: u32,
    owner: &'a dyn Damage,
}

impl<'a> Section<'a> {
    /// The section `e` of the mapped file `file`, after checking its block
    /// checksums against the header (once per process).
    pub(crate) fn open(
        file: &'a [u8],
        e: &SectionEntry,
        checks: &'a Checks,
        owner: &'a dyn Damage,
    ) -> Result<Self> {
        let name = sec::name(e.kind);
        let mismatch = || owner.corrupt(format!("checksum mismatch in section {name}"));
        if !*checks
            .sums_ok
            .get_or_init(|| checked_sums(file, e, name).is_ok())
        {
            return Err(mismatch());
        }
        // Bounds were checked against the file length with the header;
        // a failure here is a malformed header, reported as such.
        let (Some(bytes), Some(sums)) = (file.get(e.range()), file.get(e.sums_range())) else {
            return Err(owner.corrupt(format!("section {name} bounds")));
        };
        Ok(Section {
            bytes,
            sums,
            done: &checks.done,
            kind: e.kind,
            owner,
        })
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// The error for malformed content of this section.
    pub fn malformed(&self, what: &str) -> Error {
        self.owner
            .corrupt(format!("malformed {} ({what})", sec::name(self.kind)))
    }

    fn check_block(&self, b: usize) -> Result<()> {
        let (word, bit) = (b / 64, 1u64 << (b % 64));
        let cell = self
            .done
            .get(word)
            .ok_or_else(|| self.malformed("block out of range"))?;
        // The mapped bytes never change, so the bit is only a cache of a
        // pure result: relaxed ordering is enough.
        if cell.load(Ordering::Relaxed) & bit != 0 {
            return Ok(());
        }
        if !block_ok(self.bytes, self.sums, b) {
            return Err(self.owner.corrupt(format!(
                "checksum mismatch in section {}",
                sec::name(self.kind)
            )));
        }
        cell.fetch_or(bit, Ordering::Relaxed);
        Ok(())
    }

    /// Bytes `r` of the section, every block they touch checked.
    pub fn get(&self, r: Range<usize>) -> Result<&'a [u8]> {
        let s = self
            .bytes
            .get(r.clone())
            .ok_or_else(|| self.malformed(&format!("bytes {}..{} out of range", r.start, r.end)))?;
        if !s.is_empty() {
            for b in r.start / CHECK_BLOCK..=(r.end - 1) / CHECK_BLOCK {
                self.check_block(b)?;
            }
        }
        Ok(s)
    }

    /// The little-endian `u32` at byte `at`.
    pub fn u32(&self, at: usize) -> Result<u32> {
        let b = self.get(at..at.saturating_add(4))?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// Parses a variable-length record starting at byte `from` with `f`,
    /// which gets the bytes from `from` on (checked) and returns `None` if
    /// they do not hold a whole record. `f` first sees a short window,
    /// then longer ones up to the end of the section, so a short record
    /// checks only the blocks it lies in; `f` must read sequentially from
    /// the start of what it gets (as [`crate::format::Cur`] does), so that
    /// a record parsed from a window is the one the whole section holds.
    pub fn parse<T>(&self, from: usize, f: impl Fn(&'a [u8]) -> Option<T>) -> Result<T> {
        self.parse_sized(from, 256, f)
    }

    /// [`Self::parse`] with a first window of `hint` bytes (a lower bound
    /// of the record's length, when the caller knows one).
    pub fn parse_sized<T>(
        &self,
        from: usize,
        hint: usize,
        f: impl Fn(&'a [u8]) -> Option<T>,
    ) -> Result<T> {
        if from > self.len() {
            return Err(self.malformed(&format!("record at {from} out of range")));
        }
        let mut window = hint.max(16);
        loop {
            let end = from.saturating_add(window).min(self.len());
            if let Some(t) = f(self.get(from..end)?) {
                return Ok(t);
            }
            if end == self.len() {
                return Err(self.malformed(&format!("record at {from}")));
            }
            window = window.saturating_mul(16);
        }
    }

    /// Checks every block now; the whole section.
    pub fn all(&self) -> Result<&'a [u8]> {
        self.get(0..self.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{FileBuilder, SEGMENT_MAGIC, parse_header};

    fn file(len: usize) -> Vec<u8> {
        let mut b = FileBuilder::default();
        b.section(sec::META, (0..len).map(|i| (i % 251) as u8).collect());
        b.finish(SEGMENT_MAGIC)
    }

    struct Test;
    impl Damage for Test {
        fn corrupt(&self, detail: String) -> Error {
            Error::Corrupt {
                path: "seg".into(),
                detail,
                dataset: "data".into(),
            }
        }
    }

    /// A flipped byte fails exactly the reads that touch its block; other
    /// blocks stay readable, and a block found intact stays so.
    #[test]
    fn blocks_are_checked_when_read() {
        let len = 5 * CHECK_BLOCK + 100;
        let good = file(len);
        let e = parse_header(&good, SEGMENT_MAGIC).unwrap()[0];
        let mut bad = good.clone();
        bad[e.offset as usize + 2 * CHECK_BLOCK + 7] ^= 0x10;
        let checks = Checks::new(&e);
        let s = Section::open(&bad, &e, &checks, &Test).unwrap();
        assert_eq!(s.len(), len);
        assert!(s.get(0..CHECK_BLOCK).is_ok());
        assert!(s.get(3 * CHECK_BLOCK..len).is_ok());
        assert!(s.get(2 * CHECK_BLOCK + 7..2 * CHECK_BLOCK + 8).is_err());
        assert!(s.get(CHECK_BLOCK - 1..2 * CHECK_BLOCK + 1).is_err());
        assert!(s.all().is_err());
        assert!(s.u32(2 * CHECK_BLOCK - 2).is_err());
        assert_eq!(s.u32(4).unwrap(), u32::from_le_bytes([4, 5, 6, 7]));
        assert!(s.get(len - 1..len + 1).is_err());
        assert!(s.get(10..10).unwrap().is_empty());
        let checks = Checks::new(&e);
        let s = Section::open(&good, &e, &checks, &Test).unwrap();
        assert_eq!(s.all().unwrap().len(), len);
    }

    /// Damaged block checksums fail the section at first use.
    #[test]
    fn damaged_sums_fail_the_section() {
        let mut f = file(3 * CHECK_BLOCK);
        let e = parse_header(&f, SEGMENT_MAGIC).unwrap()[0];
        f[e.sums_range().start + 5] ^= 1;
        let checks = Checks::new(&e);
        let err = Section::open(&f, &e, &checks, &Test).err().unwrap();
        assert!(err.to_string().contains("checksum mismatch"), "{err}");
    }

    /// Records are parsed from growing windows: short and long records,
    /// one running past the end is malformed.
    #[test]
    fn parse_grows_the_window() {
        let f = file(3 * CHECK_BLOCK);
        let e = parse_header(&f, SEGMENT_MAGIC).unwrap()[0];
        let checks = Checks::new(&e);
        let s = Section::open(&f, &e, &checks, &Test).unwrap();
        let take = |n: usize| move |b: &[u8]| b.get(..n).map(<[u8]>::to_vec);
        assert_eq!(s.parse(10, take(3)).unwrap(), vec![10, 11, 12]);
        assert_eq!(
            s.parse(0, take(2 * CHECK_BLOCK)).unwrap().len(),
            2 * CHECK_BLOCK
        );
        assert!(s.parse(CHECK_BLOCK, take(2 * CHECK_BLOCK + 1)).is_err());
        assert!(s.parse(3 * CHECK_BLOCK + 1, take(0)).is_err());
        assert_eq!(s.parse_sized(5, 0, take(3000)).unwrap().len(), 3000);
        assert_eq!(s.parse_sized(5, 1 << 40, take(2)).unwrap(), vec![5, 6]);
    }
}
