//! Reading a few rows of a Parquet file page by page, for point queries.
//!
//! parquet's own page reader creates a compression codec per column chunk,
//! and its ZSTD codec allocates both a decompression and a compression
//! context each time (measured: a quarter of a timeline query's time went
//! to `ZSTD_createCCtx` and `ZSTD_createDCtx` for 14 columns of 2 files).
//! Here each page is read by [`crate::page_read`] (one positioned read,
//! the thread's ZSTD context) and handed to parquet's Arrow decoding
//! through its public [`RowGroups`] / [`PageReader`] interface, so rows
//! decode exactly as with parquet's reader.
//!
//! (Reading a selection's pages ahead on every core before decoding was
//! tried: no faster for a timeline at 10M events, and more CPU.)
//!
//! Only uncompressed and ZSTD column chunks with an offset index are read
//! this way ([`supported`]); `dataset::reader` uses parquet's reader for
//! anything else.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;

use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ParquetRecordBatchReader, RowGroups, RowSelection,
};
use parquet::arrow::{ProjectionMask, parquet_to_arrow_field_levels};
use parquet::basic::Compression;
use parquet::column::page::{Page, PageIterator, PageMetadata, PageReader};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::{ParquetMetaData, RowGroupMetaData};
use parquet::file::page_index::offset_index::PageLocation;

use crate::page_read::read_page;

fn err(msg: impl Into<String>) -> ParquetError {
    ParquetError::General(msg.into())
}

/// Whether every chunk of `leaves` (Parquet leaf-column indices) can be
/// read page by page: uncompressed or ZSTD, with page locations.
pub fn supported(meta: &ParquetMetaData, leaves: &[usize]) -> bool {
    (0..meta.num_row_groups()).all(|rg| leaves.iter().all(|&c| chunk(meta, rg, c).is_ok()))
}

/// Where the pages of one column chunk are, and how they are compressed.
struct Chunk {
    zstd: bool,
    dict: Option<PageLocation>,
    pages: Vec<PageLocation>,
    rows: usize,
}

/// Chunk `leaf` of row group `rg`, if it can be read page by page.
fn chunk(meta: &ParquetMetaData, rg: usize, leaf: usize) -> Result<Chunk> {
    let group = meta.row_group(rg);
    let c = group
        .columns()
        .get(leaf)
        .ok_or_else(|| err(format!("no column {leaf}")))?;
    let pages = meta
        .page_index_for_row_group(rg)
        .page_locations(leaf)
        .filter(|l| !l.is_empty())
        .cloned()
        .ok_or_else(|| err(format!("no offset index for column {leaf}")))?;
    let zstd = match c.compression() {
        Compression::UNCOMPRESSED => false,
        Compression::ZSTD(_) => true,
        other => return Err(err(format!("codec {other:?} not read page by page"))),
    };
    let (start, _) = c.byte_range();
    // As in parquet: bytes before the first data page hold the dictionary.
    let dict = match pages.first() {
        Some(first) if first.offset as u64 != start => Some(PageLocation {
            offset: start as i64,
            compressed_page_size: i32::try_from((first.offset as u64).wrapping_sub(start))
                .map_err(|_| err("dictionary page too large"))?,
            first_row_index: 0,
        }),
        _ => None,
    };
    Ok(Chunk {
        zstd,
        dict,
        pages,
        rows: usize::try_from(group.num_rows()).unwrap_or(0),
    })
}

/// Reads the columns of `mask` of the `selection` rows of `file` (whose
/// footer is `meta`) page by page. The caller checks [`supported`].
pub fn read(
    file: File,
    meta: &ArrowReaderMetadata,
    mask: ProjectionMask,
    selection: RowSelection,
    batch_size: usize,
) -> Result<ParquetRecordBatchReader> {
    let levels =
        parquet_to_arrow_field_levels(meta.parquet_schema(), mask, Some(meta.schema().fields()))?;
    let pages = FilePages {
        file: Arc::new(file),
        meta: Arc::clone(meta.metadata()),
    };
    ParquetRecordBatchReader::try_new_with_row_groups(&levels, &pages, batch_size, Some(selection))
}

/// The row groups of one open file, read page by page.
struct FilePages {
    file: Arc<File>,
    meta: Arc<ParquetMetaData>,
}

impl RowGroups for FilePages {
    fn num_rows(&self) -> usize {
        self.meta
            .row_groups()
            .iter()
            .map(|r| usize::try_from(r.num_rows()).unwrap_or(0))
            .sum()
    }

    fn column_chunks(&self, i: usize) -> Result<Box<dyn PageIterator>> {
        let mut chunks: Vec<Result<Box<dyn PageReader>>> = Vec::new();
        for rg in 0..self.meta.num_row_groups() {
            let c = chunk(&self.meta, rg, i)?;
            chunks.push(Ok(Box::new(ChunkPages {
                file: Arc::clone(&self.file),
                zstd: c.zstd,
                dict: c.dict,
                deferred: None,
                pages: c.pages.into(),
                rows: c.rows,
            })));
        }
        Ok(Box::new(Chunks(chunks.into_iter())))
    }

    fn row_groups(&self) -> Box<dyn Iterator<Item = &RowGroupMetaData> + '_> {
        Box::new(self.meta.row_groups().iter())
    }

    fn metadata(&self) -> &ParquetMetaData {
        &self.meta
    }
}

/// The page readers of one column, one per row group.
struct Chunks(std::vec::IntoIter<Result<Box<dyn PageReader>>>);

impl Iterator for Chunks {
    type Item = Result<Box<dyn PageReader>>;
    fn next(&mut self) -> Option<Self::Item> {
        self.0.next()
    }
}

impl PageIterator for Chunks {}

/// The pages of one column chunk, read when asked for.
struct ChunkPages {
    file: Arc<File>,
    zstd: bool,
    /// The dictionary page, until it is read or skipped.
    dict: Option<PageLocation>,
    /// A skipped dictionary page, read if a later page needs it.
    deferred: Option<PageLocation>,
    /// Data pages not yet read or skipped.
    pages: VecDeque<PageLocation>,
    /// Rows of the row group.
    rows: usize,
}

impl Iterator for ChunkPages {
    type Item = Result<Page>;
    fn next(&mut self) -> Option<Self::Item> {
        self.get_next_page().transpose()
    }
}

impl PageReader for ChunkPages {
    fn get_next_page(&mut self) -> Result<Option<Page>> {
        if let Some(d) = self.dict.take() {
            return read_page(&self.file, &d, self.zstd, true).map(Some);
        }
        match self.pages.pop_front() {
            Some(loc) => read_page(&self.file, &loc, self.zstd, false).map(Some),
            None => Ok(None),
        }
    }

    fn peek_next_page(&mut self) -> Result<Option<PageMetadata>> {
        if self.dict.is_some() {
            return Ok(Some(PageMetadata {
                num_rows: None,
                num_levels: None,
                is_dict: true,
            }));
        }
        let Some(page) = self.pages.front() else {
            return Ok(None);
        };
        let row = |l: &PageLocation| usize::try_from(l.first_row_index).unwrap_or(0);
        let next = self.pages.get(1).map_or(self.rows, row);
        let rows = next
            .checked_sub(row(page))
            .ok_or_else(|| err("offset index rows not ascending"))?;
        Ok(Some(PageMetadata {
            num_rows: Some(rows),
            num_levels: None,
            is_dict: false,
        }))
    }

    fn skip_next_page(&mut self) -> Result<()> {
        if let Some(d) = self.dict.take() {
            self.deferred = Some(d);
        } else {
            self.pages.pop_front();
        }
        Ok(())
    }

    fn supports_deferred_dictionary(&self) -> bool {
        self.dict.is_some()
    }

    fn take_deferred_dictionary(&mut self) -> Result<Option<Page>> {
        match self.deferred.take() {
            Some(d) => read_page(&self.file, &d, self.zstd, true).map(Some),
            None => Ok(None),
        }
    }

    fn at_record_boundary(&mut self) -> Result<bool> {
        // Pages listed in an offset index start at record boundaries.
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ROW_COLUMNS, RowView, leaf_indices, selection};
    use crate::testkit::{Rng, Synth, TestEvent, record_batch};
    use backtrail_model::event_schema;
    use backtrail_model::schema::col;
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::{ArrowReaderOptions, ParquetRecordBatchReaderBuilder};
    use parquet::basic::ZstdLevel;
    use parquet::file::metadata::PageIndexPolicy;
    use parquet::file::properties::{WriterProperties, WriterVersion};

    /// Writes `events` with small pages and row groups, so selections skip
    /// pages, dictionaries and whole row groups.
    fn write(
        path: &std::path::Path,
        events: &[TestEvent],
        codec: Compression,
        dict: bool,
        version: WriterVersion,
    ) {
        let props = WriterProperties::builder()
            .set_writer_version(version)
            .set_compression(codec)
            .set_dictionary_enabled(dict)
            .set_data_page_row_count_limit(7)
            .set_write_batch_size(7)
            .set_max_row_group_row_count(Some(50))
            .build();
        let rows: Vec<&TestEvent> = events.iter().collect();
        let mut w =
            ArrowWriter::try_new(File::create(path).unwrap(), event_schema(), Some(props)).unwrap();
        for chunk in rows.chunks(33) {
            w.write(&record_batch(chunk)).unwrap();
        }
        w.close().unwrap();
    }

    /// Every row of every batch, as comparable text.
    fn rows(reader: ParquetRecordBatchReader, path: &std::path::Path) -> Vec<String> {
        let mut out = Vec::new();
        for b in reader {
            let b = b.unwrap();
            let v = RowView::new(&b, path).unwrap();
            out.extend((0..b.num_rows()).map(|i| format!("{:?}", v.full(i))));
        }
        out
    }

    /// Pages read here decode to exactly the rows parquet's own reader
    /// gives, for sparse selections over dictionary and plain, compressed
    /// and uncompressed chunks spanning several pages and row groups.
    #[test]
    fn same_rows_as_parquet() {
        let events = Synth::small(230, 7).generate();
        let dir = tempfile::tempdir().unwrap();
        let zstd = Compression::ZSTD(ZstdLevel::default());
        let cases = [
            (zstd, true, WriterVersion::PARQUET_1_0),
            (zstd, false, WriterVersion::PARQUET_1_0),
            (Compression::UNCOMPRESSED, true, WriterVersion::PARQUET_1_0),
            // Data pages v2 (levels stored uncompressed before the values).
            (zstd, true, WriterVersion::PARQUET_2_0),
            (zstd, false, WriterVersion::PARQUET_2_0),
        ];
        let mut rng = Rng::new(3);
        for (n, (codec, dict, version)) in cases.into_iter().enumerate() {
            let path = dir.path().join(format!("f{n}.parquet"));
            write(&path, &events, codec, dict, version);
            let opts = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
            let all: Vec<String> = {
                let b =
                    ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
                rows(b.build().unwrap(), &path)
            };
            assert_eq!(all.len(), events.len());
            let some: Vec<String> = {
                let b =
                    ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap();
                let mask = ProjectionMask::leaves(
                    b.parquet_schema(),
                    leaf_indices(&[col::EVENT_TIME, col::EVENT_ID, col::RESOURCE_ARNS]),
                );
                rows(b.with_projection(mask).build().unwrap(), &path)
            };
            let mut picks: Vec<Vec<u32>> = vec![vec![0], vec![229], vec![49, 50], vec![6, 7, 8]];
            for _ in 0..20 {
                let mut r: Vec<u32> = (0..1 + rng.below(8))
                    .map(|_| rng.below(230) as u32)
                    .collect();
                r.sort_unstable();
                r.dedup();
                picks.push(r);
            }
            // Every row column, and three of them.
            let few = [col::EVENT_TIME, col::EVENT_ID, col::RESOURCE_ARNS];
            for (columns, full) in [(ROW_COLUMNS, &all), (&few[..], &some)] {
                for want in &picks {
                    let file = File::open(&path).unwrap();
                    let meta = ArrowReaderMetadata::load(&file, opts.clone()).unwrap();
                    let leaves = leaf_indices(columns);
                    assert!(supported(meta.metadata(), &leaves));
                    let mask = ProjectionMask::leaves(meta.parquet_schema(), leaves);
                    let got = rows(read(file, &meta, mask, selection(want), 16).unwrap(), &path);
                    let expect: Vec<String> =
                        want.iter().map(|&r| full[r as usize].clone()).collect();
                    assert_eq!(
                        got, expect,
                        "{codec:?} dict {dict} {version:?} rows {want:?}"
                    );
                }
            }
        }
    }

    /// Snappy chunks are left to parquet's reader.
    #[test]
    fn other_codecs_are_not_supported() {
        let events = Synth::small(20, 1).generate();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.parquet");
        write(
            &path,
            &events,
            Compression::SNAPPY,
            true,
            WriterVersion::PARQUET_1_0,
        );
        let opts = ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required);
        let meta = ArrowReaderMetadata::load(&File::open(&path).unwrap(), opts).unwrap();
        assert!(!supported(meta.metadata(), &leaf_indices(ROW_COLUMNS)));
    }
}
