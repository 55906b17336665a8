//! The header of one Parquet page (Thrift compact protocol), decoded just
//! far enough to hand the page to the Arrow reader: its type and sizes and
//! the fields of a data (v1 or v2) or dictionary page header. Statistics
//! and fields this reader does not know are skipped. `parquet` keeps its
//! own decoder private, and [`crate::pages`] reads pages itself.
//!
//! Field ids follow `PageHeader` in the Parquet format's `parquet.thrift`.

use crate::format::Cur;

/// `PageType` of a data page (format v1).
pub const DATA_PAGE: i32 = 0;
/// `PageType` of a dictionary page.
pub const DICTIONARY_PAGE: i32 = 2;
/// `PageType` of a data page (format v2).
pub const DATA_PAGE_V2: i32 = 3;

/// Nesting deeper than this is malformed (a page header nests two levels).
const MAX_DEPTH: usize = 16;

/// `DataPageHeader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataHeader {
    /// Values (levels) in the page, nulls included.
    pub num_values: i32,
    /// Encoding of the values.
    pub encoding: i32,
    /// Encoding of the definition levels.
    pub def_encoding: i32,
    /// Encoding of the repetition levels.
    pub rep_encoding: i32,
}

/// `DictionaryPageHeader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DictHeader {
    /// Values in the dictionary.
    pub num_values: i32,
    /// Encoding of the values.
    pub encoding: i32,
    /// Whether the values are sorted.
    pub is_sorted: bool,
}

/// `DataPageHeaderV2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataV2Header {
    /// Values (levels) in the page, nulls included.
    pub num_values: i32,
    /// Null values.
    pub num_nulls: i32,
    /// Rows.
    pub num_rows: i32,
    /// Encoding of the values.
    pub encoding: i32,
    /// Bytes of definition levels (stored uncompressed, first).
    pub def_len: i32,
    /// Bytes of repetition levels (stored uncompressed, first).
    pub rep_len: i32,
    /// Whether the values are compressed.
    pub is_compressed: bool,
}

/// `PageHeader`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageHeader {
    /// `PageType`.
    pub kind: i32,
    /// Bytes of the page body after decompression.
    pub uncompressed: i32,
    /// Bytes of the page body as stored.
    pub compressed: i32,
    /// Header of a v1 data page.
    pub data: Option<DataHeader>,
    /// Header of a dictionary page.
    pub dict: Option<DictHeader>,
    /// Header of a v2 data page.
    pub data_v2: Option<DataV2Header>,
}

/// Thrift compact type ids.
mod ty {
    pub const TRUE: u8 = 1;
    pub const FALSE: u8 = 2;
    pub const BYTE: u8 = 3;
    pub const I16: u8 = 4;
    pub const I32: u8 = 5;
    pub const I64: u8 = 6;
    pub const DOUBLE: u8 = 7;
    pub const BINARY: u8 = 8;
    pub const LIST: u8 = 9;
    pub const SET: u8 = 10;
    pub const MAP: u8 = 11;
    pub const STRUCT: u8 = 12;
}

/// The compact protocol's reads over the index's bounds-checked cursor.
struct Reader<'a> {
    c: Cur<'a>,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        self.c.u8()
    }

    fn skip_bytes(&mut self, n: usize) -> Option<()> {
        self.c.bytes(n).map(|_| ())
    }

    fn varint(&mut self) -> Option<u64> {
        self.c.varint()
    }

    fn zigzag(&mut self) -> Option<i64> {
        let v = self.varint()?;
        Some(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    fn i32(&mut self) -> Option<i32> {
        i32::try_from(self.zigzag()?).ok()
    }

    /// The next field's id and type, `None` inside the option at the end
    /// of a struct.
    fn field(&mut self, last: &mut i16) -> Option<Option<(i16, u8)>> {
        let h = self.byte()?;
        if h == 0 {
            return Some(None);
        }
        let (delta, t) = (h >> 4, h & 0x0f);
        let id = if delta == 0 {
            i16::try_from(self.zigzag()?).ok()?
        } else {
            last.checked_add(i16::from(delta))?
        };
        *last = id;
        Some(Some((id, t)))
    }

    /// Skips a value of type `t` (`in_collection`: booleans take a byte).
    fn skip(&mut self, t: u8, in_collection: bool, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match t {
            ty::TRUE | ty::FALSE if in_collection => self.skip_bytes(1),
            ty::TRUE | ty::FALSE => Some(()),
            ty::BYTE => self.skip_bytes(1),
            ty::I16 | ty::I32 | ty::I64 => self.varint().map(drop),
            ty::DOUBLE => self.skip_bytes(8),
            ty::BINARY => {
                let n = usize::try_from(self.varint()?).ok()?;
                self.skip_bytes(n)
            }
            ty::LIST | ty::SET => {
                let h = self.byte()?;
                let mut n = u64::from(h >> 4);
                if n == 15 {
                    n = self.varint()?;
                }
                for _ in 0..n {
                    self.skip(h & 0x0f, true, depth + 1)?;
                }
                Some(())
            }
            ty::MAP => {
                let n = self.varint()?;
                if n > 0 {
                    let kv = self.byte()?;
                    for _ in 0..n {
                        self.skip(kv >> 4, true, depth + 1)?;
                        self.skip(kv & 0x0f, true, depth + 1)?;
                    }
                }
                Some(())
            }
            ty::STRUCT => self.fields(depth + 1, |r, _, t| r.skip(t, false, depth + 1)),
            _ => None,
        }
    }

    /// Reads the fields of a struct up to its end, handing each to `f`
    /// (which must consume the value).
    fn fields(
        &mut self,
        depth: usize,
        mut f: impl FnMut(&mut Self, i16, u8) -> Option<()>,
    ) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut last = 0i16;
        while let Some((id, t)) = self.field(&mut last)? {
            f(self, id, t)?;
        }
        Some(())
    }

    fn bool_field(t: u8) -> Option<bool> {
        match t {
            ty::TRUE => Some(true),
            ty::FALSE => Some(false),
            _ => None,
        }
    }

    fn data_header(&mut self) -> Option<DataHeader> {
        let (mut n, mut enc, mut def, mut rep) = (None, None, None, None);
        self.fields(1, |r, id, t| {
            match (id, t) {
                (1, ty::I32) => n = Some(r.i32()?),
                (2, ty::I32) => enc = Some(r.i32()?),
                (3, ty::I32) => def = Some(r.i32()?),
                (4, ty::I32) => rep = Some(r.i32()?),
                _ => r.skip(t, false, 2)?,
            }
            Some(())
        })?;
        Some(DataHeader {
            num_values: n?,
            encoding: enc?,
            def_encoding: def?,
            rep_encoding: rep?,
        })
    }

    fn dict_header(&mut self) -> Option<DictHeader> {
        let (mut n, mut enc, mut sorted) = (None, None, false);
        self.fields(1, |r, id, t| {
            match (id, t) {
                (1, ty::I32) => n = Some(r.i32()?),
                (2, ty::I32) => enc = Some(r.i32()?),
                (3, ty::TRUE | ty::FALSE) => sorted = Self::bool_field(t)?,
                _ => r.skip(t, false, 2)?,
            }
            Some(())
        })?;
        Some(DictHeader {
            num_values: n?,
            encoding: enc?,
            is_sorted: sorted,
        })
    }

    fn data_v2_header(&mut self) -> Option<DataV2Header> {
        let mut v = [None; 6];
        let mut compressed = true;
        self.fields(1, |r, id, t| {
            match (id, t) {
                (1..=6, ty::I32) => v[id as usize - 1] = Some(r.i32()?),
                (7, ty::TRUE | ty::FALSE) => compressed = Self::bool_field(t)?,
                _ => r.skip(t, false, 2)?,
            }
            Some(())
        })?;
        Some(DataV2Header {
            num_values: v[0]?,
            num_nulls: v[1]?,
            num_rows: v[2]?,
            encoding: v[3]?,
            def_len: v[4]?,
            rep_len: v[5]?,
            is_compressed: compressed,
        })
    }
}

/// Decodes the page header at the start of `b`; returns it and its length
/// in bytes, `None` when `b` does not start with a whole, valid header.
pub fn parse(b: &[u8]) -> Option<(PageHeader, usize)> {
    let mut r = Reader { c: Cur::new(b) };
    let (mut kind, mut unc, mut comp) = (None, None, None);
    let (mut data, mut dict, mut data_v2) = (None, None, None);
    r.fields(0, |r, id, t| {
        match (id, t) {
            (1, ty::I32) => kind = Some(r.i32()?),
            (2, ty::I32) => unc = Some(r.i32()?),
            (3, ty::I32) => comp = Some(r.i32()?),
            (5, ty::STRUCT) => data = Some(r.data_header()?),
            (7, ty::STRUCT) => dict = Some(r.dict_header()?),
            (8, ty::STRUCT) => data_v2 = Some(r.data_v2_header()?),
            _ => r.skip(t, false, 1)?,
        }
        Some(())
    })?;
    let h = PageHeader {
        kind: kind?,
        uncompressed: unc.filter(|&n| n >= 0)?,
        compressed: comp.filter(|&n| n >= 0)?,
        data,
        dict,
        data_v2,
    };
    Some((h, r.c.pos()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer of the few compact-protocol pieces the tests need.
    #[derive(Default)]
    struct W {
        out: Vec<u8>,
        last: Vec<i16>,
    }

    impl W {
        fn varint(&mut self, mut v: u64) {
            while v >= 0x80 {
                self.out.push((v as u8) | 0x80);
                v >>= 7;
            }
            self.out.push(v as u8);
        }
        fn head(&mut self, id: i16, t: u8) {
            let last = self.last.last_mut().unwrap();
            let d = id - *last;
            *last = id;
            if (1..=15).contains(&d) {
                self.out.push(((d as u8) << 4) | t);
            } else {
                self.out.push(t);
                self.varint(((id << 1) ^ (id >> 15)) as u16 as u64);
            }
        }
        fn i32(&mut self, id: i16, v: i32) {
            self.head(id, ty::I32);
            self.varint(((v << 1) ^ (v >> 31)) as u32 as u64);
        }
        fn bool(&mut self, id: i16, v: bool) {
            self.head(id, if v { ty::TRUE } else { ty::FALSE });
        }
        fn begin(&mut self, id: Option<i16>) {
            if let Some(id) = id {
                self.head(id, ty::STRUCT);
            }
            self.last.push(0);
        }
        fn end(&mut self) {
            self.out.push(0);
            self.last.pop();
        }
    }

    fn data_page(with_stats: bool) -> Vec<u8> {
        let mut w = W::default();
        w.begin(None);
        w.i32(1, DATA_PAGE);
        w.i32(2, 5000);
        w.i32(3, 1200);
        w.i32(4, -77); // crc
        w.begin(Some(5));
        w.i32(1, 2048);
        w.i32(2, 8);
        w.i32(3, 3);
        w.i32(4, 3);
        if with_stats {
            w.begin(Some(5));
            w.head(1, ty::BINARY);
            w.varint(3);
            w.out.extend_from_slice(b"max");
            w.head(3, ty::I64);
            w.varint(10);
            w.head(20, ty::LIST);
            w.out.push(0x21); // two booleans
            w.out.extend_from_slice(&[1, 2]);
            w.head(21, ty::MAP);
            w.varint(1);
            w.out.push((ty::BINARY << 4) | ty::DOUBLE);
            w.varint(1);
            w.out.push(b'k');
            w.out.extend_from_slice(&[0; 8]);
            w.end();
        }
        w.end();
        w.end();
        w.out
    }

    #[test]
    fn data_page_header() {
        for stats in [false, true] {
            let mut b = data_page(stats);
            let len = b.len();
            b.extend_from_slice(b"page body");
            let (h, n) = parse(&b).unwrap();
            assert_eq!(n, len);
            assert_eq!(
                (h.kind, h.uncompressed, h.compressed),
                (DATA_PAGE, 5000, 1200)
            );
            assert_eq!(
                h.data,
                Some(DataHeader {
                    num_values: 2048,
                    encoding: 8,
                    def_encoding: 3,
                    rep_encoding: 3
                })
            );
            assert_eq!((h.dict, h.data_v2), (None, None));
        }
    }

    #[test]
    fn dictionary_and_v2_headers() {
        let mut w = W::default();
        w.begin(None);
        w.i32(1, DICTIONARY_PAGE);
        w.i32(2, 10);
        w.i32(3, 9);
        w.begin(Some(7));
        w.i32(1, 4);
        w.i32(2, 0);
        w.bool(3, true);
        w.end();
        w.end();
        let (h, _) = parse(&w.out).unwrap();
        assert_eq!(
            h.dict,
            Some(DictHeader {
                num_values: 4,
                encoding: 0,
                is_sorted: true
            })
        );

        let mut w = W::default();
        w.begin(None);
        w.i32(1, DATA_PAGE_V2);
        w.i32(2, 100);
        w.i32(3, 60);
        w.begin(Some(8));
        for (id, v) in [(1, 10), (2, 1), (3, 10), (4, 0), (5, 2), (6, 0)] {
            w.i32(id, v);
        }
        w.bool(7, false);
        w.end();
        w.end();
        let (h, n) = parse(&w.out).unwrap();
        assert_eq!(n, w.out.len());
        let v2 = h.data_v2.unwrap();
        assert_eq!((v2.num_rows, v2.def_len, v2.is_compressed), (10, 2, false));
    }

    /// Truncated or nonsensical headers are refused, never a panic.
    #[test]
    fn damaged_headers_are_refused() {
        let b = data_page(true);
        for cut in 0..b.len() {
            assert_eq!(parse(&b[..cut]), None, "cut at {cut}");
        }
        let mut w = W::default();
        w.begin(None);
        w.i32(1, DATA_PAGE);
        w.i32(3, 12);
        w.end();
        assert_eq!(parse(&w.out), None, "uncompressed size missing");
        let deep: Vec<u8> = std::iter::repeat_n(0x1c, 100).collect();
        assert_eq!(parse(&deep), None);
        assert_eq!(parse(&[0x1f, 0x00]), None, "unknown type");
    }
}
