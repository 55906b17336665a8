//! One Parquet page: read with one positioned read at the place the
//! offset index gives, its header decoded by [`crate::page_header`], its
//! body decompressed with the thread's ZSTD context (kept for the life of
//! the thread: parquet's ZSTD codec allocates a decompression and a
//! compression context per column chunk).

use std::cell::RefCell;
use std::fs::File;

use bytes::Bytes;
use parquet::basic::Encoding;
use parquet::column::page::Page;
use parquet::errors::{ParquetError, Result};
use parquet::file::page_index::offset_index::PageLocation;

use crate::page_header::{self, DATA_PAGE, DATA_PAGE_V2, DICTIONARY_PAGE, PageHeader};

fn err(msg: impl Into<String>) -> ParquetError {
    ParquetError::General(msg.into())
}

thread_local! {
    /// One ZSTD decompression context per thread, reused for every page.
    static ZSTD: RefCell<Option<zstd::bulk::Decompressor<'static>>> = const { RefCell::new(None) };
}

/// Decompresses ZSTD `src` (exactly `len` bytes once decompressed),
/// appended to `out`.
fn unzstd(src: &[u8], len: usize, out: &mut Vec<u8>) -> Result<()> {
    ZSTD.with(|cell| {
        let mut slot = cell.borrow_mut();
        let d = match slot.as_mut() {
            Some(d) => d,
            None => slot.insert(zstd::bulk::Decompressor::new().map_err(|e| err(e.to_string()))?),
        };
        let at = out.len();
        out.reserve_exact(len);
        let mut cursor = std::io::Cursor::new(&mut *out);
        cursor.set_position(at as u64);
        let n = d
            .decompress_to_buffer(src, &mut cursor)
            .map_err(|e| err(format!("zstd: {e}")))?;
        if n != len {
            return Err(err(format!(
                "page decompressed to {n} bytes, header says {len}"
            )));
        }
        Ok(())
    })
}

/// Reads `len` bytes at `offset`.
fn read_at(file: &File, offset: u64, len: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileExt;
        file.read_exact_at(&mut buf, offset)?;
    }
    #[cfg(not(unix))]
    {
        use std::io::{Read, Seek, SeekFrom};
        let mut f = file.try_clone()?;
        f.seek(SeekFrom::Start(offset))?;
        f.read_exact(&mut buf)?;
    }
    Ok(buf)
}

/// The `Encoding` with Thrift value `v`.
fn encoding(v: i32) -> Result<Encoding> {
    Ok(match v {
        0 => Encoding::PLAIN,
        2 => Encoding::PLAIN_DICTIONARY,
        3 => Encoding::RLE,
        5 => Encoding::DELTA_BINARY_PACKED,
        6 => Encoding::DELTA_LENGTH_BYTE_ARRAY,
        7 => Encoding::DELTA_BYTE_ARRAY,
        8 => Encoding::RLE_DICTIONARY,
        9 => Encoding::BYTE_STREAM_SPLIT,
        10 => Encoding::ALP,
        other => return Err(err(format!("unsupported page encoding {other}"))),
    })
}

fn count(v: i32) -> Result<u32> {
    u32::try_from(v).map_err(|_| err(format!("negative count {v} in a page header")))
}

/// Reads the page at `loc` of `file`, decodes its header and decompresses
/// its body (`zstd`: the chunk is ZSTD-compressed, else uncompressed).
/// `dictionary`: the page must be the chunk's dictionary page (else a data
/// page).
pub fn read_page(file: &File, loc: &PageLocation, zstd: bool, dictionary: bool) -> Result<Page> {
    let len = usize::try_from(loc.compressed_page_size)
        .map_err(|_| err("negative page size in the offset index"))?;
    let offset = u64::try_from(loc.offset).map_err(|_| err("negative page offset"))?;
    let buf = Bytes::from(read_at(file, offset, len)?);
    let (h, hlen) = page_header::parse(&buf).ok_or_else(|| err("malformed page header"))?;
    let body = buf.slice(hlen..);
    if body.len() != h.compressed as usize {
        return Err(err(format!(
            "page of {} bytes, header says {}",
            body.len(),
            h.compressed
        )));
    }
    if dictionary != (h.kind == DICTIONARY_PAGE) {
        return Err(err(format!("unexpected page type {}", h.kind)));
    }
    let buf = decompress(&h, body, zstd)?;
    match (h.kind, h.data, h.dict, h.data_v2) {
        (DICTIONARY_PAGE, _, Some(d), _) => Ok(Page::DictionaryPage {
            buf,
            num_values: count(d.num_values)?,
            encoding: encoding(d.encoding)?,
            is_sorted: d.is_sorted,
        }),
        (DATA_PAGE, Some(d), _, _) => Ok(Page::DataPage {
            buf,
            num_values: count(d.num_values)?,
            encoding: encoding(d.encoding)?,
            def_level_encoding: encoding(d.def_encoding)?,
            rep_level_encoding: encoding(d.rep_encoding)?,
            statistics: None,
        }),
        (DATA_PAGE_V2, _, _, Some(d)) => Ok(Page::DataPageV2 {
            buf,
            num_values: count(d.num_values)?,
            encoding: encoding(d.encoding)?,
            num_nulls: count(d.num_nulls)?,
            num_rows: count(d.num_rows)?,
            def_levels_byte_len: count(d.def_len)?,
            rep_levels_byte_len: count(d.rep_len)?,
            is_compressed: d.is_compressed,
            statistics: None,
        }),
        (kind, ..) => Err(err(format!("page of type {kind} without its header"))),
    }
}

/// The page body as the decoders read it (v2 levels stay as stored).
fn decompress(h: &PageHeader, body: Bytes, zstd: bool) -> Result<Bytes> {
    let (levels, compressed) = match h.data_v2 {
        Some(v2) => {
            let n = count(v2.def_len)? as usize + count(v2.rep_len)? as usize;
            (n, v2.is_compressed)
        }
        None => (0, true),
    };
    let size = h.uncompressed as usize;
    if !zstd || !compressed {
        return Ok(body);
    }
    if levels > body.len() || levels > size {
        return Err(err("page levels longer than the page"));
    }
    let mut out = Vec::with_capacity(size);
    out.extend_from_slice(&body[..levels]);
    if size > levels {
        unzstd(&body[levels..], size - levels, &mut out)?;
    }
    Ok(Bytes::from(out))
}
