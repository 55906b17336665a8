//! The container every index file shares: header, section table, checksums,
//! and the little-endian primitives the sections are written with.
//!
//! ```text
//! file    := header (section sums)*
//! header  := magic[8] version:u32 n:u32 file_len:u64 entry{n} header_crc:u32
//! entry   := kind:u32 crc:u32 offset:u64 len:u64
//! sums    := block_crc:u32{ceil(len / CHECK_BLOCK)}
//! ```
//! `header_crc` is CRC-32 (IEEE, `crc32fast`) of every header byte before it.
//! Each section is followed by `sums`, the CRC-32 of each [`CHECK_BLOCK`]
//! bytes of it (the last block may be shorter); the entry's `crc` covers
//! `sums`. The header is checked when a file is opened; a block of a
//! section the first time a read touches it (see `segment.rs`), so a point
//! query pays for the few kilobytes it reads, not for whole sections of
//! megabytes. The grammar of each section is in `docs/formats/index.md`.

/// Format version this build reads and writes. Bumped on any layout change.
pub const FORMAT_VERSION: u32 = 4;
/// Bytes of a section covered by one block checksum (the last block of a
/// section may be shorter). Small enough that a lookup checks only what it
/// reads (a binary search touches a few blocks, not the section), large
/// enough that the sums cost 0.1% of the file.
pub const CHECK_BLOCK: usize = 4096;
/// Magic number of a partition segment.
pub const SEGMENT_MAGIC: [u8; 8] = *b"BTIXSEG\0";
/// Magic number of the catalogue.
pub const CATALOG_MAGIC: [u8; 8] = *b"BTIXCAT\0";

const FIXED_HEADER: usize = 8 + 4 + 4 + 8;
const ENTRY: usize = 4 + 4 + 8 + 8;

/// Why a container did not parse; the caller adds the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormatError {
    /// Shorter than its header or than the length the header records.
    Truncated(String),
    /// Not an index file of the expected kind.
    BadMagic,
    /// Written by another format version.
    Version(u32),
    /// A checksum did not match.
    Checksum(String),
    /// Structurally invalid content.
    Malformed(String),
}

impl std::fmt::Display for FormatError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Truncated(s) => write!(f, "truncated: {s}"),
            Self::BadMagic => write!(f, "bad magic number, not a backtrail index file"),
            Self::Version(v) => write!(f, "format version {v}"),
            Self::Checksum(s) => write!(f, "checksum mismatch in {s}"),
            Self::Malformed(s) => write!(f, "malformed {s}"),
        }
    }
}

/// Where one section lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SectionEntry {
    /// Section kind (see the `sec` constants of each file kind).
    pub kind: u32,
    /// CRC-32 of the section's block checksums.
    pub crc: u32,
    /// Byte offset from the start of the file.
    pub offset: u64,
    /// Length in bytes (without the block checksums that follow).
    pub len: u64,
}

impl SectionEntry {
    /// Number of checksummed blocks.
    pub fn blocks(&self) -> usize {
        (self.len as usize).div_ceil(CHECK_BLOCK)
    }

    /// Byte range of the section in the file.
    pub fn range(&self) -> std::ops::Range<usize> {
        self.offset as usize..(self.offset + self.len) as usize
    }

    /// Byte range of the block checksums in the file (right after the section).
    pub fn sums_range(&self) -> std::ops::Range<usize> {
        let start = (self.offset + self.len) as usize;
        start..start + 4 * self.blocks()
    }
}

/// The block checksums of `section`.
fn block_sums(section: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 * section.len().div_ceil(CHECK_BLOCK));
    for b in section.chunks(CHECK_BLOCK) {
        put_u32(&mut out, crc32fast::hash(b));
    }
    out
}

/// Assembles sections into one file image.
#[derive(Default)]
pub struct FileBuilder {
    sections: Vec<(u32, Vec<u8>)>,
}

impl FileBuilder {
    /// Appends a section.
    pub fn section(&mut self, kind: u32, bytes: Vec<u8>) {
        self.sections.push((kind, bytes));
    }

    /// The complete file: header followed by each section and its block
    /// checksums, in order.
    pub fn finish(self, magic: [u8; 8]) -> Vec<u8> {
        let header_len = FIXED_HEADER + ENTRY * self.sections.len() + 4;
        let sums: Vec<Vec<u8>> = self.sections.iter().map(|(_, b)| block_sums(b)).collect();
        let body: usize = self
            .sections
            .iter()
            .zip(&sums)
            .map(|((_, b), s)| b.len() + s.len())
            .sum();
        let mut out = Vec::with_capacity(header_len + body);
        out.extend_from_slice(&magic);
        put_u32(&mut out, FORMAT_VERSION);
        put_u32(&mut out, self.sections.len() as u32);
        put_u64(&mut out, (header_len + body) as u64);
        let mut offset = header_len as u64;
        for ((kind, bytes), s) in self.sections.iter().zip(&sums) {
            put_u32(&mut out, *kind);
            put_u32(&mut out, crc32fast::hash(s));
            put_u64(&mut out, offset);
            put_u64(&mut out, bytes.len() as u64);
            offset += (bytes.len() + s.len()) as u64;
        }
        let crc = crc32fast::hash(&out);
        put_u32(&mut out, crc);
        for ((_, bytes), s) in self.sections.iter().zip(&sums) {
            out.extend_from_slice(bytes);
            out.extend_from_slice(s);
        }
        out
    }
}

/// Checks magic, version, length and header checksum; returns the sections.
pub fn parse_header(bytes: &[u8], magic: [u8; 8]) -> Result<Vec<SectionEntry>, FormatError> {
    if bytes.len() < FIXED_HEADER + 4 {
        return Err(FormatError::Truncated(format!(
            "{} bytes, shorter than a header",
            bytes.len()
        )));
    }
    if bytes[..8] != magic {
        return Err(FormatError::BadMagic);
    }
    let mut c = Cur::new(&bytes[8..FIXED_HEADER]);
    let (version, n, file_len) = (c.u32(), c.u32(), c.u64());
    let (Some(version), Some(n), Some(file_len)) = (version, n, file_len) else {
        return Err(FormatError::Truncated("header".into()));
    };
    // Magic and version sit at fixed offsets in every format version, so a
    // file from another version is reported as such, not as corrupt.
    if version != FORMAT_VERSION {
        return Err(FormatError::Version(version));
    }
    let header_len = (n as usize)
        .checked_mul(ENTRY)
        .and_then(|e| e.checked_add(FIXED_HEADER + 4))
        .ok_or_else(|| FormatError::Malformed("section count".into()))?;
    if bytes.len() < header_len {
        return Err(FormatError::Truncated(format!(
            "{} bytes, header needs {header_len}",
            bytes.len()
        )));
    }
    let stored = u32::from_le_bytes(
        bytes[header_len - 4..header_len]
            .try_into()
            .unwrap_or_default(),
    );
    if crc32fast::hash(&bytes[..header_len - 4]) != stored {
        return Err(FormatError::Checksum("header".into()));
    }
    if (bytes.len() as u64) != file_len {
        return Err(FormatError::Truncated(format!(
            "{} bytes, header records {file_len}",
            bytes.len()
        )));
    }
    let mut c = Cur::new(&bytes[FIXED_HEADER..header_len - 4]);
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        let e = (|| {
            Some(SectionEntry {
                kind: c.u32()?,
                crc: c.u32()?,
                offset: c.u64()?,
                len: c.u64()?,
            })
        })()
        .ok_or_else(|| FormatError::Malformed("section table".into()))?;
        let end = e
            .offset
            .checked_add(e.len)
            .and_then(|end| end.checked_add(4 * e.len.div_ceil(CHECK_BLOCK as u64)));
        if end.is_none_or(|end| end > file_len) || e.offset < header_len as u64 {
            return Err(FormatError::Malformed(format!("section {} bounds", e.kind)));
        }
        out.push(e);
    }
    Ok(out)
}

/// The block checksums of section `e` after checking them against the
/// entry's `crc`.
pub fn checked_sums<'a>(
    bytes: &'a [u8],
    e: &SectionEntry,
    name: &str,
) -> Result<&'a [u8], FormatError> {
    let sums = bytes
        .get(e.sums_range())
        .ok_or_else(|| FormatError::Truncated(format!("section {name}")))?;
    if crc32fast::hash(sums) != e.crc {
        return Err(FormatError::Checksum(format!("section {name}")));
    }
    Ok(sums)
}

/// Whether block `b` of `section` matches its checksum in `sums` (already
/// checked with [`checked_sums`]).
pub fn block_ok(section: &[u8], sums: &[u8], b: usize) -> bool {
    let start = b * CHECK_BLOCK;
    let end = (start + CHECK_BLOCK).min(section.len());
    match (section.get(start..end), u32_at(sums, b)) {
        (Some(block), Some(want)) => crc32fast::hash(block) == want,
        _ => false,
    }
}

/// The bytes of a section after checking every block of it.
pub fn checked_section<'a>(
    bytes: &'a [u8],
    e: &SectionEntry,
    name: &str,
) -> Result<&'a [u8], FormatError> {
    let sums = checked_sums(bytes, e, name)?;
    let s = bytes
        .get(e.range())
        .ok_or_else(|| FormatError::Truncated(format!("section {name}")))?;
    if (0..e.blocks()).all(|b| block_ok(s, sums, b)) {
        Ok(s)
    } else {
        Err(FormatError::Checksum(format!("section {name}")))
    }
}

/// Appends a little-endian `u32`.
pub fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian `u64`.
pub fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a little-endian `i64`.
pub fn put_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Appends a length-prefixed (`u32`) UTF-8 string.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len() as u32);
    out.extend_from_slice(s.as_bytes());
}

/// Appends an unsigned LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A bounds-checked little-endian reader: every read returns `None` past the end.
#[derive(Debug, Clone)]
pub struct Cur<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cur<'a> {
    /// Reads from the start of `b`.
    pub fn new(b: &'a [u8]) -> Self {
        Cur { b, pos: 0 }
    }
    /// Bytes read so far.
    pub fn pos(&self) -> usize {
        self.pos
    }
    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    /// A `u8`.
    pub fn u8(&mut self) -> Option<u8> {
        self.bytes(1).map(|b| b[0])
    }
    /// A `u32`.
    pub fn u32(&mut self) -> Option<u32> {
        self.bytes(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// A `u64`.
    pub fn u64(&mut self) -> Option<u64> {
        self.bytes(8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    }
    /// An `i64`.
    pub fn i64(&mut self) -> Option<i64> {
        self.bytes(8)
            .and_then(|b| b.try_into().ok())
            .map(i64::from_le_bytes)
    }
    /// A length-prefixed UTF-8 string.
    pub fn str(&mut self) -> Option<&'a str> {
        let n = self.u32()? as usize;
        std::str::from_utf8(self.bytes(n)?).ok()
    }
    /// An unsigned LEB128 varint (at most 10 bytes).
    pub fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.u8()?;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

/// Reads the `i`-th little-endian `u32` of a fixed-width array.
pub fn u32_at(b: &[u8], i: usize) -> Option<u32> {
    let s = b.get(i.checked_mul(4)?..i.checked_mul(4)? + 4)?;
    Some(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<u8> {
        let mut b = FileBuilder::default();
        b.section(1, b"hello".to_vec());
        b.section(2, vec![1, 2, 3]);
        b.finish(SEGMENT_MAGIC)
    }

    #[test]
    fn round_trip() {
        let f = sample();
        let s = parse_header(&f, SEGMENT_MAGIC).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(checked_section(&f, &s[0], "a").unwrap(), b"hello");
        assert_eq!(checked_section(&f, &s[1], "b").unwrap(), &[1, 2, 3]);
    }

    #[test]
    fn detects_damage() {
        let f = sample();
        assert_eq!(parse_header(&f, CATALOG_MAGIC), Err(FormatError::BadMagic));
        assert!(matches!(
            parse_header(&f[..f.len() - 1], SEGMENT_MAGIC),
            Err(FormatError::Truncated(_))
        ));
        assert!(matches!(
            parse_header(&f[..10], SEGMENT_MAGIC),
            Err(FormatError::Truncated(_))
        ));
        let mut v = f.clone();
        v[8] = 9; // version
        assert_eq!(
            parse_header(&v, SEGMENT_MAGIC),
            Err(FormatError::Version(9))
        );
        let mut h = f.clone();
        h[13] ^= 1; // section count
        assert!(parse_header(&h, SEGMENT_MAGIC).is_err());
        let mut e = f.clone();
        e[30] ^= 1; // a section entry
        assert!(matches!(
            parse_header(&e, SEGMENT_MAGIC),
            Err(FormatError::Checksum(_))
        ));
        let mut body = f.clone();
        let last = body.len() - 1;
        body[last] ^= 1;
        let s = parse_header(&body, SEGMENT_MAGIC).unwrap();
        assert!(matches!(
            checked_section(&body, &s[1], "b"),
            Err(FormatError::Checksum(_))
        ));
    }

    #[test]
    fn varints() {
        for v in [0u64, 1, 127, 128, 300, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            assert_eq!(Cur::new(&b).varint(), Some(v));
        }
        assert_eq!(Cur::new(&[0x80]).varint(), None);
    }
}
