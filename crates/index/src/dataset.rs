//! The dataset as the index sees it: partitions, their Parquet files and
//! fingerprints, and reading just the columns (and rows) a task needs.
//!
//! Event order inside a partition is the order of its `*.parquet` files by
//! name, then row order: an event's *ordinal* is its position in that
//! sequence, so the index stores no file id or row number per event.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{
    Array, ArrayRef, BooleanArray, DictionaryArray, ListArray, PrimitiveArray, RecordBatch,
    StringArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use backtrail_model::schema::col;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader,
    ParquetRecordBatchReaderBuilder, RowSelection, RowSelectionPolicy, RowSelector,
};
use parquet::file::metadata::{ColumnChunkMask, PageIndexPolicy};

use crate::error::{Error, Result, io};
use crate::pages;
use crate::rows::{EventRow, FullRow};

/// Directory of the event partitions under the dataset root.
pub const EVENTS_DIR: &str = "events";
/// Directory of the index under the dataset root.
pub const INDEX_DIR: &str = "index";
/// The partition of events without a time.
pub const NO_DATE_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// One Parquet file of a partition as it was when indexed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFingerprint {
    /// File name inside the partition directory.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i64,
}

/// The directory of partition `p`.
pub fn partition_dir(dataset: &Path, p: &str) -> PathBuf {
    dataset
        .join(EVENTS_DIR)
        .join(format!("{}={p}", col::EVENT_DATE))
}

/// Every partition value under `dataset/events`, sorted.
pub fn list_partitions(dataset: &Path) -> Result<Vec<String>> {
    let dir = dataset.join(EVENTS_DIR);
    let rd = match std::fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(&dir)(e)),
    };
    let prefix = format!("{}=", col::EVENT_DATE);
    let mut out = Vec::new();
    for entry in rd {
        let entry = entry.map_err(io(&dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(p) = name.strip_prefix(&prefix)
            && entry.file_type().map_err(io(entry.path()))?.is_dir()
        {
            out.push(p.to_owned());
        }
    }
    out.sort();
    Ok(out)
}

/// The `*.parquet` files of a partition, sorted by name (hidden and
/// `_`-prefixed files, which writers use while writing, are ignored).
pub fn list_files(dataset: &Path, p: &str) -> Result<Vec<FileFingerprint>> {
    let dir = partition_dir(dataset, p);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
        let entry = entry.map_err(io(&dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.ends_with(".parquet") || name.starts_with('.') || name.starts_with('_') {
            continue;
        }
        let md = entry.metadata().map_err(io(entry.path()))?;
        if !md.is_file() {
            continue;
        }
        let mtime_ns = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        out.push(FileFingerprint {
            name: name.to_owned(),
            size: md.len(),
            mtime_ns,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Columns read when building a segment.
pub const BUILD_COLUMNS: &[&str] = &[
    col::EVENT_TIME,
    col::EVENT_ID,
    col::USER_AGENT,
    col::MFA,
    col::TARGET_SESSION_NAME,
    col::SOURCE_IDENTITY,
    col::EXPIRATION_RAW,
    col::EVENT_SOURCE,
    col::EVENT_NAME,
    col::SOURCE_IP_ADDRESS,
    col::ERROR_CODE,
    col::RECIPIENT_ACCOUNT_ID,
    col::AWS_REGION,
    col::PRINCIPAL_ARN,
    col::PRINCIPAL_TYPE,
    col::ACCESS_KEY_ID,
    col::ROLE_ARN,
    col::TARGET_ROLE_ARN,
    col::ISSUED_KEY,
    col::ISSUED_SESSION_ARN,
    col::EXPIRATION,
    col::RESOURCE_ARNS,
];

/// Columns read for result rows: exactly the columns the ingest gives
/// small pages for point reads.
pub const ROW_COLUMNS: &[&str] = backtrail_model::schema::POINT_READ_COLUMNS;

/// Average rows per selector below which parquet's default selection
/// policy decodes whole batches and filters them (`RowSelectionPolicy`'s
/// default `Auto` threshold).
const AUTO_MASK_THRESHOLD: usize = 32;

/// Whether parquet's default policy would decode `selection` as a mask
/// (every row from the first selected to the last, then filtered) rather
/// than run by run, and that would cost more than `batch_size` rows (the
/// same rule as parquet's `RowSelectionPolicy::Auto`).
fn costly_as_mask(selection: &RowSelection, batch_size: usize) -> bool {
    let (rows, runs) = selection
        .iter()
        .filter(|s| s.row_count > 0)
        .fold((0usize, 0usize), |(r, n), s| (r + s.row_count, n + 1));
    let min_runs = rows / AUTO_MASK_THRESHOLD + 1;
    rows > batch_size && min_runs <= rows && runs >= min_runs
}

/// Opens `path` for reading `columns` (checked against the expected types),
/// optionally only the selected rows.
///
/// A sparse selection over uncompressed or ZSTD column chunks is read page
/// by page with [`crate::pages`] (one positioned read per needed page, one
/// decompression context per thread); anything else with parquet's reader.
pub fn reader(
    path: &Path,
    columns: &[&str],
    selection: Option<RowSelection>,
    batch_size: usize,
) -> Result<ParquetRecordBatchReader> {
    open(path, columns, selection, batch_size, false)
}

/// Opens `path` for reading all rows of `columns`, as [`reader`] does, except
/// that each string column whose chunks carry a dictionary page comes as
/// `Dictionary(Int32, Utf8)` (read with [`StrCol`]): a reader of many rows
/// then handles each distinct value once per dictionary instead of once a
/// row, and parquet copies keys instead of strings. (A chunk that fell back
/// to plain pages still reads as a dictionary, which parquet builds.)
pub fn dict_reader(
    path: &Path,
    columns: &[&str],
    batch_size: usize,
) -> Result<ParquetRecordBatchReader> {
    open(path, columns, None, batch_size, true)
}

/// The model schema's `Utf8` columns among `columns` whose chunks in `meta`
/// have a dictionary page, as a schema hint reading them as dictionaries
/// (`None` when there is none).
fn dict_schema(meta: &ArrowReaderMetadata, columns: &[&str]) -> Option<SchemaRef> {
    let model = backtrail_model::event_schema();
    let pq = meta.metadata();
    let dict: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| {
            model
                .field_with_name(c)
                .is_ok_and(|f| f.data_type() == &DataType::Utf8)
        })
        .filter(|c| {
            let leaves = leaf_indices(&[c]);
            let [leaf] = leaves[..] else { return false };
            leaf < pq.file_metadata().schema_descr().num_columns()
                && pq
                    .row_groups()
                    .iter()
                    .any(|rg| rg.column(leaf).dictionary_page_offset().is_some())
        })
        .collect();
    if dict.is_empty() {
        return None;
    }
    let schema = meta.schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let f = f.as_ref().clone();
            if dict.contains(&f.name().as_str()) && f.data_type() == &DataType::Utf8 {
                f.with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(DataType::Utf8),
                ))
            } else {
                f
            }
        })
        .collect();
    Some(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

fn open(
    path: &Path,
    columns: &[&str],
    selection: Option<RowSelection>,
    batch_size: usize,
    dictionaries: bool,
) -> Result<ParquetRecordBatchReader> {
    let file = File::open(path).map_err(io(path))?;
    let pq = |source| Error::Parquet {
        path: path.to_owned(),
        source,
    };
    // With a row selection, the offset index (for the projected columns
    // only) lets the reader decode just the pages holding selected rows.
    let opts = if selection.is_some() {
        ArrowReaderOptions::new()
            .with_offset_index_policy(PageIndexPolicy::Optional)
            .with_offset_index_mask(ColumnChunkMask::columns(leaf_indices(columns)))
    } else {
        ArrowReaderOptions::new()
    };
    let mut meta = ArrowReaderMetadata::load(&file, opts).map_err(pq)?;
    if dictionaries && let Some(hint) = dict_schema(&meta, columns) {
        let opts = ArrowReaderOptions::new().with_schema(hint);
        meta = ArrowReaderMetadata::try_new(meta.metadata().clone(), opts).map_err(pq)?;
    }
    let schema = meta.schema().clone();
    let mut roots = Vec::with_capacity(columns.len());
    for c in columns {
        let i = schema.index_of(c).map_err(|_| Error::Schema {
            path: path.to_owned(),
            detail: format!("column {c} missing"),
        })?;
        let want = backtrail_model::event_schema()
            .field_with_name(c)
            .map(|f| f.data_type().clone());
        let got = schema.field(i).data_type();
        let ok = match (&want, got) {
            (Ok(DataType::List(_)), DataType::List(f)) => f.data_type() == &DataType::Utf8,
            (Ok(DataType::Utf8), DataType::Dictionary(k, v)) => {
                dictionaries && **k == DataType::Int32 && **v == DataType::Utf8
            }
            (Ok(w), g) => w == g,
            (Err(_), _) => false,
        };
        if !ok {
            return Err(Error::Schema {
                path: path.to_owned(),
                detail: format!("column {c} has type {got}"),
            });
        }
        roots.push(i);
    }
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
    if let Some(s) = &selection {
        let leaves: Vec<usize> = (0..meta.parquet_schema().num_columns())
            .filter(|&i| mask.leaf_included(i))
            .collect();
        // Dense selections keep parquet's reader with the `Selectors`
        // policy (below): the page reader goes through parquet's default
        // policy, which would decode them as a mask.
        if !costly_as_mask(s, batch_size) && pages::supported(meta.metadata(), &leaves) {
            return pages::read(file, &meta, mask, s.clone(), batch_size).map_err(pq);
        }
    }
    let b = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta);
    let mut b = b.with_projection(mask).with_batch_size(batch_size);
    if let Some(s) = selection {
        // Selected rows are sparse (a few percent of a file): decoding just
        // them (skipping the rest run by run) beats decoding whole batches
        // and filtering them, which parquet's default picks for short runs
        // (measured: less CPU, and far fewer page faults from big buffers).
        b = b
            .with_row_selection(s)
            .with_row_selection_policy(RowSelectionPolicy::Selectors);
    }
    b.build().map_err(pq)
}

/// Parquet leaf-column indices of top-level `columns` of the model schema.
pub fn leaf_indices(columns: &[&str]) -> Vec<usize> {
    fn leaves(dt: &DataType) -> usize {
        match dt {
            DataType::Struct(fs) => fs.iter().map(|f| leaves(f.data_type())).sum(),
            DataType::List(f) => leaves(f.data_type()),
            _ => 1,
        }
    }
    let mut out = Vec::new();
    let mut at = 0;
    for f in backtrail_model::event_schema().fields() {
        let n = leaves(f.data_type());
        if columns.contains(&f.name().as_str()) {
            out.extend(at..at + n);
        }
        at += n;
    }
    out
}

/// Typed access to the projected columns of one batch.
pub struct Cols<'a> {
    batch: &'a RecordBatch,
    path: &'a Path,
}

impl<'a> Cols<'a> {
    /// Wraps a batch read from `path`.
    pub fn new(batch: &'a RecordBatch, path: &'a Path) -> Self {
        Cols { batch, path }
    }
    fn col(&self, name: &str) -> Result<&'a dyn Array> {
        self.batch
            .column_by_name(name)
            .map(|a| a.as_ref())
            .ok_or_else(|| Error::Schema {
                path: self.path.to_owned(),
                detail: format!("column {name} missing"),
            })
    }
    /// A string column.
    pub fn str(&self, name: &str) -> Result<&'a StringArray> {
        Ok(self.col(name)?.as_string::<i32>())
    }
    /// A string column, plain or (from [`dict_reader`]) dictionary-encoded.
    pub fn str_col(&self, name: &str) -> Result<StrCol<'a>> {
        let a = self.col(name)?;
        if let Some(d) = a.as_dictionary_opt::<Int32Type>() {
            let values = self.strings(d.values(), name, "a dictionary of strings")?;
            Ok(StrCol::Dict(d, values))
        } else {
            self.str(name).map(StrCol::Plain)
        }
    }
    /// A timestamp column.
    pub fn ts(&self, name: &str) -> Result<&'a PrimitiveArray<TimestampMicrosecondType>> {
        Ok(self.col(name)?.as_primitive::<TimestampMicrosecondType>())
    }
    /// A boolean column.
    pub fn bool(&self, name: &str) -> Result<&'a BooleanArray> {
        Ok(self.col(name)?.as_boolean())
    }
    /// A list-of-strings column.
    pub fn list(&self, name: &str) -> Result<&'a ListArray> {
        Ok(self.col(name)?.as_list::<i32>())
    }
    /// A list-of-strings column with its string values.
    pub fn str_list(&self, name: &str) -> Result<(&'a ListArray, &'a StringArray)> {
        let l = self.list(name)?;
        Ok((l, self.strings(l.values(), name, "a list of strings")?))
    }
    /// `values` (inside column `name`, which should be `what`) as strings.
    fn strings(&self, values: &'a ArrayRef, name: &str, what: &str) -> Result<&'a StringArray> {
        values.as_string_opt::<i32>().ok_or_else(|| Error::Schema {
            path: self.path.to_owned(),
            detail: format!("column {name} is not {what}"),
        })
    }
}

/// A string column of one batch: plain, or dictionary keys and values.
#[derive(Clone, Copy)]
pub enum StrCol<'a> {
    /// One string a row.
    Plain(&'a StringArray),
    /// A key a row into the values.
    Dict(&'a DictionaryArray<Int32Type>, &'a StringArray),
}

impl<'a> StrCol<'a> {
    /// The value at `i`, `None` when null.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        match *self {
            StrCol::Plain(a) => get_str(a, i),
            StrCol::Dict(d, v) => {
                // Keys of a valid dictionary array are in range.
                d.is_valid(i)
                    .then(|| get_str(v, d.keys().value(i) as usize))
                    .flatten()
            }
        }
    }
}

/// Per-column memo of the ids of dictionary values: lets a reader of many
/// rows work out what a value maps to once per dictionary entry. Holds the
/// dictionary it was filled for (so it stays alive and cannot be confused
/// with a later one at the same address) and starts over on a new one.
#[derive(Default)]
pub struct DictMemo {
    values: Option<ArrayRef>,
    ids: Vec<u32>,
}

impl DictMemo {
    /// "Not computed yet" in the memo.
    pub const UNSET: u32 = u32::MAX - 1;

    /// The id of row `i` of `col`: [`crate::layout::NONE`] when null,
    /// otherwise `f` of the value, computed once per dictionary entry
    /// (`f` must not return [`Self::UNSET`]).
    #[inline]
    pub fn id(&mut self, col: StrCol<'_>, i: usize, f: impl FnOnce(Option<&str>) -> u32) -> u32 {
        match col {
            StrCol::Plain(a) => f(get_str(a, i)),
            StrCol::Dict(d, v) => {
                if d.is_null(i) {
                    return f(None);
                }
                if !matches!(&self.values, Some(have) if Arc::ptr_eq(have, d.values())) {
                    self.values = Some(d.values().clone());
                    self.ids.clear();
                    self.ids.resize(v.len(), Self::UNSET);
                }
                let k = d.keys().value(i) as usize;
                let slot = &mut self.ids[k];
                if *slot == Self::UNSET {
                    *slot = f(get_str(v, k));
                }
                *slot
            }
        }
    }
}

/// The value at `i`, `None` when null.
pub fn get_str(a: &StringArray, i: usize) -> Option<&str> {
    a.is_valid(i).then(|| a.value(i))
}

/// The timestamp at `i`, `None` when null.
pub fn get_ts(a: &PrimitiveArray<TimestampMicrosecondType>, i: usize) -> Option<i64> {
    a.is_valid(i).then(|| a.value(i))
}

/// The selection that reads exactly `rows` (sorted, unique) of a file.
pub fn selection(rows: &[u32]) -> RowSelection {
    let mut sel = Vec::new();
    let mut next = 0u32;
    let mut i = 0;
    while i < rows.len() {
        let start = rows[i];
        let mut end = start + 1;
        while i + 1 < rows.len() && rows[i + 1] == end {
            end += 1;
            i += 1;
        }
        if start > next {
            sel.push(RowSelector::skip((start - next) as usize));
        }
        sel.push(RowSelector::select((end - start) as usize));
        next = end;
        i += 1;
    }
    RowSelection::from(sel)
}

/// The projected columns of one batch, by meaning, for reading fields of a
/// row in place (no copy until a row is kept). A column that was not
/// projected reads as absent.
pub struct RowView<'a> {
    time: Option<&'a PrimitiveArray<TimestampMicrosecondType>>,
    id: Option<&'a StringArray>,
    src: Option<&'a StringArray>,
    name: Option<&'a StringArray>,
    region: Option<&'a StringArray>,
    acct: Option<&'a StringArray>,
    pa: Option<&'a StringArray>,
    pt: Option<&'a StringArray>,
    key: Option<&'a StringArray>,
    ip: Option<&'a StringArray>,
    ua: Option<&'a StringArray>,
    err: Option<&'a StringArray>,
    role: Option<&'a StringArray>,
    sess: Option<&'a StringArray>,
    mfa: Option<&'a BooleanArray>,
    trole: Option<&'a StringArray>,
    tsess: Option<&'a StringArray>,
    sid: Option<&'a StringArray>,
    ikey: Option<&'a StringArray>,
    isess: Option<&'a StringArray>,
    exp: Option<&'a PrimitiveArray<TimestampMicrosecondType>>,
    expraw: Option<&'a StringArray>,
    res: Option<(&'a [i32], &'a StringArray, &'a ListArray)>,
}

impl<'a> RowView<'a> {
    /// The view of a batch read from `path`.
    pub fn new(batch: &'a RecordBatch, path: &'a Path) -> Result<Self> {
        let c = Cols::new(batch, path);
        let has = |n: &str| batch.column_by_name(n).is_some();
        let s = |n: &str| if has(n) { c.str(n).map(Some) } else { Ok(None) };
        let t = |n: &str| if has(n) { c.ts(n).map(Some) } else { Ok(None) };
        let res = if has(col::RESOURCE_ARNS) {
            let (l, vals) = c.str_list(col::RESOURCE_ARNS)?;
            Some((l.value_offsets(), vals, l))
        } else {
            None
        };
        Ok(RowView {
            time: t(col::EVENT_TIME)?,
            id: s(col::EVENT_ID)?,
            src: s(col::EVENT_SOURCE)?,
            name: s(col::EVENT_NAME)?,
            region: s(col::AWS_REGION)?,
            acct: s(col::RECIPIENT_ACCOUNT_ID)?,
            pa: s(col::PRINCIPAL_ARN)?,
            pt: s(col::PRINCIPAL_TYPE)?,
            key: s(col::ACCESS_KEY_ID)?,
            ip: s(col::SOURCE_IP_ADDRESS)?,
            ua: s(col::USER_AGENT)?,
            err: s(col::ERROR_CODE)?,
            role: s(col::ROLE_ARN)?,
            sess: s(col::SESSION_NAME)?,
            mfa: if has(col::MFA) {
                Some(c.bool(col::MFA)?)
            } else {
                None
            },
            trole: s(col::TARGET_ROLE_ARN)?,
            tsess: s(col::TARGET_SESSION_NAME)?,
            sid: s(col::SOURCE_IDENTITY)?,
            ikey: s(col::ISSUED_KEY)?,
            isess: s(col::ISSUED_SESSION_ARN)?,
            exp: t(col::EXPIRATION)?,
            expraw: s(col::EXPIRATION_RAW)?,
            res,
        })
    }

    fn s(a: Option<&'a StringArray>, i: usize) -> Option<&'a str> {
        a.and_then(|a| get_str(a, i))
    }
    fn o(a: Option<&'a StringArray>, i: usize) -> Option<String> {
        Self::s(a, i).map(str::to_owned)
    }

    /// `eventTime` of row `i`.
    pub fn time(&self, i: usize) -> Option<i64> {
        self.time.and_then(|a| get_ts(a, i))
    }
    /// `recipientAccountId` of row `i`.
    pub fn account(&self, i: usize) -> Option<&'a str> {
        Self::s(self.acct, i)
    }
    /// `awsRegion` of row `i`.
    pub fn region(&self, i: usize) -> Option<&'a str> {
        Self::s(self.region, i)
    }
    /// `principal_arn` of row `i`.
    pub fn principal(&self, i: usize) -> Option<&'a str> {
        Self::s(self.pa, i)
    }
    /// `role_arn` of row `i`.
    pub fn role(&self, i: usize) -> Option<&'a str> {
        Self::s(self.role, i)
    }
    /// `access_key_id` of row `i`.
    pub fn key(&self, i: usize) -> Option<&'a str> {
        Self::s(self.key, i)
    }
    /// `sourceIPAddress` of row `i`.
    pub fn ip(&self, i: usize) -> Option<&'a str> {
        Self::s(self.ip, i)
    }

    /// The non-null `resource_arns` of row `i`, in order.
    pub fn resources(&self, i: usize) -> impl Iterator<Item = &'a str> + use<'a> {
        let (range, vals) = match self.res {
            Some((offs, vals, l)) if l.is_valid(i) => {
                // Offsets are non-negative and ascending in a valid list array.
                let (a, b) = (offs[i].max(0) as usize, offs[i + 1].max(0) as usize);
                (a..b.max(a), Some(vals))
            }
            _ => (0..0, None),
        };
        range.filter_map(move |j| vals.and_then(|v| get_str(v, j)))
    }

    /// The common fields of row `i`.
    pub fn event(&self, i: usize) -> EventRow {
        EventRow {
            event_time: self.time(i),
            event_id: Self::o(self.id, i),
            event_source: Self::o(self.src, i),
            event_name: Self::o(self.name, i),
            aws_region: Self::o(self.region, i),
            recipient_account_id: Self::o(self.acct, i),
            principal_arn: Self::o(self.pa, i),
            principal_type: Self::o(self.pt, i),
            access_key_id: Self::o(self.key, i),
            source_ip: Self::o(self.ip, i),
            user_agent: Self::o(self.ua, i),
            error_code: Self::o(self.err, i),
        }
    }

    /// Every field of row `i` (fields of columns not read stay empty).
    pub fn full(&self, i: usize) -> FullRow {
        FullRow {
            event: self.event(i),
            role_arn: Self::o(self.role, i),
            session_name: Self::o(self.sess, i),
            mfa: self.mfa.and_then(|m| m.is_valid(i).then(|| m.value(i))),
            target_role_arn: Self::o(self.trole, i),
            target_session_name: Self::o(self.tsess, i),
            source_identity: Self::o(self.sid, i),
            issued_key: Self::o(self.ikey, i),
            issued_session_arn: Self::o(self.isess, i),
            expiration: self.exp.and_then(|a| get_ts(a, i)),
            expiration_raw: Self::o(self.expraw, i),
            resource_arns: self.resources(i).map(str::to_owned).collect(),
        }
    }
}

/// Reads `columns` (a subset of [`ROW_COLUMNS`]) of `rows` (sorted,
/// unique) of one file, in order, and hands each row to `f` (row number,
/// view, index in the view); keeps what `f` returns.
pub fn scan_rows<T>(
    path: &Path,
    rows: &[u32],
    columns: &[&str],
    mut f: impl FnMut(u32, &RowView<'_>, usize) -> Option<T>,
) -> Result<Vec<T>> {
    let mut out = Vec::with_capacity(rows.len());
    if rows.is_empty() {
        return Ok(out);
    }
    let pq = |source| Error::Parquet {
        path: path.to_owned(),
        source: parquet::errors::ParquetError::from(source),
    };
    let mut next = rows.iter();
    let mut read = 0usize;
    for batch in reader(path, columns, Some(selection(rows)), 8192)? {
        let batch = batch.map_err(pq)?;
        let view = RowView::new(&batch, path)?;
        read += batch.num_rows();
        for (i, &row) in next.by_ref().take(batch.num_rows()).enumerate() {
            if let Some(t) = f(row, &view, i) {
                out.push(t);
            }
        }
    }
    if read != rows.len() {
        return Err(Error::Schema {
            path: path.to_owned(),
            detail: format!("expected {} selected rows, read {read}", rows.len()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sparse selections and short ones go page by page; dense long ones
    /// (which parquet's default policy would decode as a mask) do not.
    #[test]
    fn dense_selections_stay_with_parquet() {
        let every =
            |step: u32, n: u32| selection(&(0..n).step_by(step as usize).collect::<Vec<_>>());
        assert!(!costly_as_mask(&selection(&[40_000]), 8192));
        assert!(!costly_as_mask(&selection(&[3, 9000, 40_000]), 8192));
        assert!(!costly_as_mask(&every(2, 100), 8192), "short");
        assert!(!costly_as_mask(&every(100, 100_000), 8192), "sparse");
        assert!(costly_as_mask(&every(2, 100_000), 8192), "dense");
        assert!(costly_as_mask(&every(10, 100_000), 8192), "dense");
        assert!(!costly_as_mask(&selection(&[]), 8192));
    }

    #[test]
    fn selection_runs() {
        let s: Vec<RowSelector> = selection(&[0, 1, 2, 5, 9, 10]).into();
        assert_eq!(
            s,
            vec![
                RowSelector::select(3),
                RowSelector::skip(2),
                RowSelector::select(1),
                RowSelector::skip(3),
                RowSelector::select(2)
            ]
        );
    }
}
