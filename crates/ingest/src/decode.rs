//! One input file's bytes → rows, with no I/O: gunzip (by magic bytes),
//! recognise the shape by content, SIMD-parse in place, build the batch.
//!
//! Shapes recognised ([`Kind`]): a CloudTrail delivery file
//! `{"Records":[…]}`, JSON lines (one record a line), a JSON array of
//! records, a single record object, `aws cloudtrail lookup-events` output
//! (`{"Events":[{"CloudTrailEvent":"<json text>",…}]}`) and CloudTrail
//! digest files (counted, no rows). Anything else is a [`FileError`].
//!
//! A [`Decoder`] owns every buffer it needs (inflate output, simd-json
//! `Buffers`, the tape, Arrow builders) and reuses them file after file:
//! one per worker thread.

use arrow_array::RecordBatch;
use serde::{Deserialize, Serialize};
use simd_json::{Buffers, INPUT_PADDING, Node, Tape, fill_tape_padded};

use crate::error::FileError;
use crate::gunzip::{gunzip_into, is_gzip};
use crate::json;
use crate::piece::Piece;
use crate::record::{RowBuilder, RowKey};

/// The shape of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// `{"Records":[…]}` (a CloudTrail delivery file).
    Records,
    /// One record per line.
    Jsonl,
    /// A JSON array of records.
    Array,
    /// A single record object.
    Object,
    /// `aws cloudtrail lookup-events` output.
    LookupEvents,
    /// A CloudTrail-Digest file (no events).
    Digest,
}

/// The result of decoding one file.
#[derive(Debug)]
pub struct Decoded {
    /// The shape recognised.
    pub kind: Kind,
    /// Whether the bytes were gzip.
    pub gzip: bool,
    /// Bytes of JSON after inflation.
    pub json_bytes: u64,
    /// The rows, in pieces of batches shared with the other files of the
    /// same group (none for digests); see [`Decoded::batches`].
    pub(crate) pieces: Vec<Piece>,
    /// Dedup keys, one per row, in row order.
    pub keys: Vec<RowKey>,
    /// Records the file holds (equal to `keys.len()` unless the file was
    /// only counted, see [`Decoder::count`]).
    pub count: usize,
    /// Arrow memory these rows hold (their share of the shared batches).
    pub arrow_bytes: usize,
}

/// A file decoded by [`Decoder::decode_grouped`] whose rows still sit in
/// the decoder's builders, beside other files' rows; [`Decoder::finish_group`]
/// turns it into a [`Decoded`].
#[derive(Debug)]
pub struct GroupedFile {
    kind: Kind,
    gzip: bool,
    json_bytes: u64,
    start: usize,
    keys: Vec<RowKey>,
    /// The group it belongs to (see [`Decoder::finish_group`]).
    group: u64,
}

/// Rows gathered from several small files before their shared batch is
/// finished: delivery files hold tens of records, and finishing ~60 Arrow
/// builders per file (allocations, validation, frees on the encoder
/// thread) cost more than building the rows.
pub const GROUP_ROWS: usize = 8_192;

impl Decoded {
    /// Number of records decoded (or counted).
    pub fn records(&self) -> usize {
        self.count
    }

    /// The rows, as zero-copy slices of at most [`BATCH_ROWS`] rows (none
    /// for digests and counted files).
    pub fn batches(&self) -> Vec<RecordBatch> {
        self.pieces.iter().map(Piece::rows).collect()
    }
}

/// Where records are, once the shape is known.
enum Found {
    Records(Kind, usize),
    Lookup(usize),
    Single,
    Digest,
}

/// Position of the first `\n` in `b` (8 bytes at a time: a delivery file
/// is one line of megabytes).
fn find_newline(b: &[u8]) -> Option<usize> {
    use crate::json::{LO, has_zero_byte, word};
    let mut i = 0;
    while i + 8 <= b.len() {
        if has_zero_byte(word(&b[i..]) ^ (LO * u64::from(b'\n'))) != 0 {
            break;
        }
        i += 8;
    }
    b[i..].iter().position(|&c| c == b'\n').map(|p| i + p)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t')
}

fn looks_like_record(nodes: &[Node<'_>], i: usize) -> bool {
    [
        "eventVersion",
        "eventSource",
        "eventName",
        "eventID",
        "userIdentity",
    ]
    .iter()
    .any(|k| json::get(nodes, i, k).is_some())
}

fn type_name(nodes: &[Node<'_>], i: usize) -> &'static str {
    match nodes[i] {
        Node::String(_) => "string",
        Node::Object { .. } => "object",
        Node::Array { .. } => "array",
        Node::Static(simd_json::StaticNode::Null) => "null",
        Node::Static(simd_json::StaticNode::Bool(_)) => "boolean",
        Node::Static(_) => "number",
    }
}

/// Classifies a parsed document.
fn classify(nodes: &[Node<'_>]) -> Result<Found, FileError> {
    match nodes.first() {
        Some(Node::Object { .. }) => {}
        Some(Node::Array { len, .. }) => {
            if *len == 0 {
                return Err(FileError::NoRecords("empty JSON array".into()));
            }
            let first = 1;
            if json::obj(nodes, first).is_some() && looks_like_record(nodes, first) {
                return Ok(Found::Records(Kind::Array, 0));
            }
            return Err(FileError::NotCloudTrail(format!(
                "a JSON array whose first element is not a CloudTrail record (a {})",
                type_name(nodes, first)
            )));
        }
        _ => {
            return Err(FileError::NotCloudTrail(format!(
                "a JSON {}",
                type_name(nodes, 0)
            )));
        }
    }
    if let Some(r) = json::get(nodes, 0, "Records") {
        return match json::arr_len(nodes, r) {
            Some(0) => Err(FileError::EmptyRecords),
            Some(_) => Ok(Found::Records(Kind::Records, r)),
            None => Err(FileError::NotCloudTrail(format!(
                "\"Records\" is a {}, not an array",
                type_name(nodes, r)
            ))),
        };
    }
    if let Some(e) = json::get(nodes, 0, "Events") {
        return match json::arr_len(nodes, e) {
            Some(0) => Err(FileError::NoRecords(
                "empty lookup-events \"Events\"".into(),
            )),
            Some(_) => {
                let first = e + 1;
                if json::get(nodes, first, "CloudTrailEvent")
                    .and_then(|i| json::as_str(nodes, i))
                    .is_some()
                {
                    Ok(Found::Lookup(e))
                } else {
                    Err(FileError::NotCloudTrail(
                        "\"Events\" without \"CloudTrailEvent\" text".into(),
                    ))
                }
            }
            None => Err(FileError::NotCloudTrail(
                "\"Events\" is not an array".into(),
            )),
        };
    }
    let has = |k: &str| json::get(nodes, 0, k).is_some();
    if has("digestStartTime") || has("digestS3Object") || (has("logFiles") && has("digestEndTime"))
    {
        return Ok(Found::Digest);
    }
    if looks_like_record(nodes, 0) {
        return Ok(Found::Single);
    }
    if has("configSnapshotId") {
        return Err(FileError::NotCloudTrail("an AWS Config snapshot".into()));
    }
    if has("configurationItems") {
        return Err(FileError::NotCloudTrail(
            "an AWS Config history file".into(),
        ));
    }
    let keys: Vec<&str> = json::obj(nodes, 0)
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .take(5)
        .collect();
    Err(FileError::NotCloudTrail(format!(
        "an object with keys {keys:?}"
    )))
}

fn syntax(line: Option<usize>, e: &simd_json::Error) -> FileError {
    FileError::JsonSyntax {
        line,
        msg: e.to_string(),
    }
}

/// Rows per batch within one file (keeps Arrow string offsets small).
pub const BATCH_ROWS: usize = 65_536;

/// Where decoded rows go.
struct Sink {
    rows: RowBuilder,
    keys: Vec<RowKey>,
    batches: Vec<RecordBatch>,
    build: bool,
    count: usize,
}

impl Sink {
    fn push(&mut self, nodes: &[Node<'_>], i: usize, source: &str) -> Result<(), FileError> {
        if json::obj(nodes, i).is_none() {
            return Err(FileError::BadRecord {
                index: self.count,
                msg: format!("a {}, not an object", type_name(nodes, i)),
            });
        }
        if self.build {
            let key = self.rows.append(nodes, i, source, self.count as i64);
            self.keys.push(key);
            if self.rows.len() >= BATCH_ROWS {
                self.flush()?;
            }
        }
        self.count += 1;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), FileError> {
        if !self.rows.is_empty() {
            let b = self
                .rows
                .finish()
                .map_err(|e| FileError::Batch(e.to_string()))?;
            self.batches.push(b);
        }
        Ok(())
    }

    /// Rows of the current group so far (finished batches + builders).
    fn position(&self) -> usize {
        self.batches
            .iter()
            .map(RecordBatch::num_rows)
            .sum::<usize>()
            + self.rows.len()
    }

    fn reset(&mut self) {
        if !self.rows.is_empty() {
            let _ = self.rows.finish();
        }
        self.keys.clear();
        self.batches.clear();
        self.count = 0;
    }
}

/// Reusable decoding state (one per worker).
pub struct Decoder {
    limit: u64,
    inflated: Vec<u8>,
    scratch: Vec<u8>,
    buffers: Buffers,
    tape: Vec<Node<'static>>,
    inner_tape: Vec<Node<'static>>,
    sink: Sink,
    /// Files of the current group (see [`Decoder::decode_grouped`]).
    pending: usize,
    /// Groups finished so far (a [`GroupedFile`] is valid in its own only).
    group: u64,
}

/// A short, printable preview of bytes that are not JSON.
fn preview(b: &[u8]) -> String {
    let head = &b[..b.len().min(24)];
    String::from_utf8_lossy(head).into_owned()
}

impl Decoder {
    /// A decoder that quarantines files inflating past `limit` bytes.
    pub fn new(limit: u64) -> Self {
        Self {
            limit,
            inflated: Vec::new(),
            scratch: Vec::new(),
            buffers: Buffers::default(),
            tape: Vec::new(),
            inner_tape: Vec::new(),
            sink: Sink {
                rows: RowBuilder::new(),
                keys: Vec::new(),
                batches: Vec::new(),
                build: true,
                count: 0,
            },
            pending: 0,
            group: 0,
        }
    }

    /// Decodes one file's bytes (`bytes` is parsed in place: its content is
    /// garbage afterwards, its allocation is kept). `source` is written to
    /// the `source_file` column. A pending group (see
    /// [`Decoder::decode_grouped`]) is finished with it, its other files'
    /// rows dropped.
    pub fn decode(&mut self, bytes: &mut Vec<u8>, source: &str) -> Result<Decoded, FileError> {
        let g = self.decode_grouped(bytes, source)?;
        let mut v = self.finish_group(vec![g])?;
        Ok(v.pop().expect("one file"))
    }

    /// Decodes one file like [`Decoder::decode`] but leaves its rows in the
    /// builders, after those of the files decoded before it; call
    /// [`Decoder::finish_group`] with every file of the group (once
    /// [`Decoder::group_rows`] reaches [`GROUP_ROWS`], say). Rows of a file
    /// that fails stay in the group but belong to no file.
    pub fn decode_grouped(
        &mut self,
        bytes: &mut Vec<u8>,
        source: &str,
    ) -> Result<GroupedFile, FileError> {
        self.sink.build = true;
        self.sink.count = 0;
        self.sink.keys.clear();
        let start = self.sink.position();
        match self.run(bytes, source) {
            Ok((kind, gzip, json_bytes)) => {
                self.sink.count = 0;
                self.pending += 1;
                Ok(GroupedFile {
                    kind,
                    gzip,
                    json_bytes,
                    start,
                    keys: std::mem::take(&mut self.sink.keys),
                    group: self.group,
                })
            }
            Err(e) => {
                if self.pending == 0 {
                    self.sink.reset();
                } else {
                    self.sink.keys.clear();
                    self.sink.count = 0;
                }
                Err(e)
            }
        }
    }

    /// Rows built in the current group (including rows of failed files).
    pub fn group_rows(&self) -> usize {
        self.sink.position()
    }

    /// Finishes the group: one shared batch (per [`BATCH_ROWS`]), each
    /// file's rows a piece of it (zero-copy). `files` are every file of the group, as
    /// [`Decoder::decode_grouped`] returned them.
    pub fn finish_group(&mut self, files: Vec<GroupedFile>) -> Result<Vec<Decoded>, FileError> {
        let group = self.group;
        self.group += 1;
        self.pending = 0;
        if files.iter().any(|f| f.group != group) {
            self.sink.reset();
            return Err(FileError::Batch(
                "a file decoded in another group (rows already handed out)".into(),
            ));
        }
        if let Err(e) = self.sink.flush() {
            self.sink.reset();
            return Err(e);
        }
        let batches = std::mem::take(&mut self.sink.batches);
        let sizes: Vec<usize> = batches
            .iter()
            .map(RecordBatch::get_array_memory_size)
            .collect();
        let mut out = Vec::with_capacity(files.len());
        for f in files {
            let (lo, hi) = (f.start, f.start + f.keys.len());
            let mut pieces = Vec::new();
            let mut arrow_bytes = 0;
            let mut base = 0;
            for (b, size) in batches.iter().zip(&sizes) {
                let n = b.num_rows();
                let (from, to) = (lo.max(base), hi.min(base + n));
                if from < to {
                    pieces.push(Piece::new(b.clone(), from - base, to - from));
                    arrow_bytes += size * (to - from) / n;
                }
                base += n;
            }
            out.push(Decoded {
                kind: f.kind,
                gzip: f.gzip,
                json_bytes: f.json_bytes,
                pieces,
                count: f.keys.len(),
                keys: f.keys,
                arrow_bytes,
            });
        }
        Ok(out)
    }

    /// Decodes one file as [`Decoder::decode`] would, with the same outcome
    /// (shape, or the same error), but builds no rows: for files whose
    /// bytes are already stored, only their record count is needed.
    /// A pending group is left untouched.
    pub fn count(&mut self, bytes: &mut Vec<u8>, source: &str) -> Result<Decoded, FileError> {
        self.sink.build = false;
        self.sink.count = 0;
        let r = self.run(bytes, source);
        let count = self.sink.count;
        self.sink.count = 0;
        self.sink.build = true;
        let (kind, gzip, json_bytes) = r?;
        Ok(Decoded {
            kind,
            gzip,
            json_bytes,
            pieces: Vec::new(),
            keys: Vec::new(),
            count,
            arrow_bytes: 0,
        })
    }

    /// Parses (tape only) and counts records, building no rows: the
    /// "parse floor" for benchmarks. `bytes` must be plain JSON.
    pub fn parse_only(&mut self, bytes: &mut Vec<u8>) -> Result<usize, FileError> {
        self.sink.build = false;
        let r = self.parse_doc(bytes, "");
        let n = self.sink.count;
        self.sink.count = 0; // no rows were built: a pending group is untouched
        r.map(|_| n)
    }

    fn run(&mut self, bytes: &mut Vec<u8>, source: &str) -> Result<(Kind, bool, u64), FileError> {
        let gzip = is_gzip(bytes);
        if gzip {
            let mut doc = std::mem::take(&mut self.inflated);
            let r = gunzip_into(bytes, &mut doc, self.limit).and_then(|()| {
                let n = doc.len() as u64;
                self.parse_doc(&mut doc, source).map(|k| (k, true, n))
            });
            self.inflated = doc;
            r
        } else {
            if bytes.len() as u64 > self.limit {
                return Err(FileError::TooLarge { limit: self.limit });
            }
            let n = bytes.len() as u64;
            self.parse_doc(bytes, source).map(|k| (k, false, n))
        }
    }

    fn parse_doc(&mut self, doc: &mut Vec<u8>, source: &str) -> Result<Kind, FileError> {
        let n = doc.len();
        let mut start = if doc.starts_with(&[0xEF, 0xBB, 0xBF]) {
            3
        } else {
            0
        };
        while start < n && is_ws(doc[start]) {
            start += 1;
        }
        if start == n {
            return Err(FileError::Empty);
        }
        if !matches!(doc[start], b'{' | b'[') {
            return Err(FileError::NotJson(preview(&doc[start..])));
        }
        doc.resize(n + INPUT_PADDING, 0);
        let r = if self.is_jsonl(doc, start, n) {
            self.parse_lines(doc, start, n, source)
                .map(|()| Kind::Jsonl)
        } else {
            self.parse_whole(doc, start, n, source)
        };
        doc.truncate(n);
        r
    }

    /// JSON lines if a second non-blank line follows a first line that is a
    /// complete JSON object on its own (pretty-printed JSON's first line never is).
    fn is_jsonl(&mut self, doc: &[u8], start: usize, n: usize) -> bool {
        let Some(p) = find_newline(&doc[start..n]).map(|p| start + p) else {
            return false;
        };
        if doc[p + 1..n].iter().all(|&b| is_ws(b)) {
            return false;
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(&doc[start..p]);
        let len = self.scratch.len();
        self.scratch.resize(len + INPUT_PADDING, 0);
        let mut tape = Tape(std::mem::take(&mut self.inner_tape));
        let ok = fill_tape_padded(&mut self.scratch, len, &mut self.buffers, &mut tape).is_ok()
            && matches!(tape.0.first(), Some(Node::Object { .. }));
        self.inner_tape = tape.reset().0;
        ok
    }

    fn parse_lines(
        &mut self,
        doc: &mut [u8],
        start: usize,
        n: usize,
        source: &str,
    ) -> Result<(), FileError> {
        let mut line_no = 1 + doc[..start].iter().filter(|&&b| b == b'\n').count();
        let mut pos = start;
        while pos < n {
            let end = find_newline(&doc[pos..n]).map_or(n, |p| pos + p);
            if !doc[pos..end].iter().all(|&b| is_ws(b)) {
                let mut tape = Tape(std::mem::take(&mut self.tape));
                fill_tape_padded(&mut doc[pos..], end - pos, &mut self.buffers, &mut tape)
                    .map_err(|e| syntax(Some(line_no), &e))?;
                let nodes = &tape.0;
                match json::get(nodes, 0, "Records") {
                    Some(r)
                        if json::arr_len(nodes, r).is_some() && !looks_like_record(nodes, 0) =>
                    {
                        for it in json::arr(nodes, r).into_iter().flatten() {
                            self.sink.push(nodes, it, source)?;
                        }
                    }
                    _ => self.sink.push(nodes, 0, source)?,
                }
                self.tape = tape.reset().0;
            }
            pos = end + 1;
            line_no += 1;
        }
        if self.sink.count == 0 {
            return Err(FileError::EmptyRecords);
        }
        Ok(())
    }

    fn parse_whole(
        &mut self,
        doc: &mut [u8],
        start: usize,
        n: usize,
        source: &str,
    ) -> Result<Kind, FileError> {
        let mut tape = Tape(std::mem::take(&mut self.tape));
        fill_tape_padded(&mut doc[start..], n - start, &mut self.buffers, &mut tape)
            .map_err(|e| syntax(None, &e))?;
        let nodes = &tape.0;
        let kind = match classify(nodes)? {
            Found::Records(kind, arr) => {
                for it in json::arr(nodes, arr).into_iter().flatten() {
                    self.sink.push(nodes, it, source)?;
                }
                kind
            }
            Found::Single => {
                self.sink.push(nodes, 0, source)?;
                Kind::Object
            }
            Found::Digest => Kind::Digest,
            Found::Lookup(events) => {
                for (idx, ev) in json::arr(nodes, events).into_iter().flatten().enumerate() {
                    let Some(text) = json::get(nodes, ev, "CloudTrailEvent")
                        .and_then(|i| json::as_str(nodes, i))
                    else {
                        return Err(FileError::BadRecord {
                            index: idx,
                            msg: "no \"CloudTrailEvent\" text".into(),
                        });
                    };
                    self.scratch.clear();
                    self.scratch.extend_from_slice(text.as_bytes());
                    let len = self.scratch.len();
                    self.scratch.resize(len + INPUT_PADDING, 0);
                    let mut inner = Tape(std::mem::take(&mut self.inner_tape));
                    fill_tape_padded(&mut self.scratch, len, &mut self.buffers, &mut inner)
                        .map_err(|e| FileError::BadRecord {
                            index: idx,
                            msg: format!("CloudTrailEvent is not JSON: {e}"),
                        })?;
                    self.sink.push(&inner.0, 0, source)?;
                    self.inner_tape = inner.reset().0;
                }
                Kind::LookupEvents
            }
        };
        self.tape = tape.reset().0;
        Ok(kind)
    }
}

/// One-shot [`Decoder::decode`] with fresh buffers (tests, simple callers).
pub fn decode(bytes: &mut Vec<u8>, source: &str, limit: u64) -> Result<Decoded, FileError> {
    Decoder::new(limit).decode(bytes, source)
}

/// One-shot [`Decoder::parse_only`]: simd-json tape parse + record count.
pub fn parse_only(buf: &mut Vec<u8>) -> Result<usize, FileError> {
    Decoder::new(u64::MAX).parse_only(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(ids: &[&str], bad_tail: bool) -> Vec<u8> {
        let mut items: Vec<String> = ids
            .iter()
            .map(|id| {
                format!(
                    r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"2024-01-02T03:04:05Z","eventName":"GetObject","requestParameters":{{"k":[1,"{id}"]}}}}"#
                )
            })
            .collect();
        if bad_tail {
            items.push("7".into());
        }
        format!(r#"{{"Records":[{}]}}"#, items.join(",")).into_bytes()
    }

    fn joined(d: &Decoded) -> Option<RecordBatch> {
        let b = d.batches();
        (!b.is_empty()).then(|| arrow::compute::concat_batches(&b[0].schema(), &b).unwrap())
    }

    #[test]
    fn groups_slice_the_same_rows_as_single_files() {
        let files: [(&str, &[&str], bool); 4] = [
            ("a", &["a1", "a2"], false),
            ("bad", &["b1", "b2", "b3"], true), // rows built, then fails
            ("c", &["c1"], false),
            ("d", &["d1", "d2", "d3"], false),
        ];
        let mut dec = Decoder::new(u64::MAX);
        let mut grouped = Vec::new();
        for (name, ids, bad) in files {
            match dec.decode_grouped(&mut records(ids, bad), name) {
                Ok(g) => grouped.push(g),
                Err(e) => assert!(bad, "{name}: {e}"),
            }
        }
        assert_eq!(dec.group_rows(), 9);
        let got = dec.finish_group(grouped).unwrap();
        let want: Vec<Decoded> = files
            .iter()
            .filter(|f| !f.2)
            .map(|(name, ids, _)| decode(&mut records(ids, false), name, u64::MAX).unwrap())
            .collect();
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g.keys, w.keys);
            assert_eq!(g.records(), w.records());
            assert_eq!(joined(g), joined(w));
            assert!(g.arrow_bytes > 0);
        }
        // Counting leaves a pending group alone and agrees on the outcome.
        let g = dec
            .decode_grouped(&mut records(&["e1"], false), "e")
            .unwrap();
        let counted = dec.count(&mut records(&["x", "y"], false), "x").unwrap();
        assert_eq!((counted.records(), counted.batches().len()), (2, 0));
        assert!(dec.count(&mut records(&["z"], true), "z").is_err());
        let e = dec.finish_group(vec![g]).unwrap();
        assert_eq!(e[0].records(), 1);
        // A handle from a finished group is refused, not misread.
        let stale = dec
            .decode_grouped(&mut records(&["f1"], false), "f")
            .unwrap();
        dec.decode(&mut records(&["g1"], false), "g").unwrap();
        assert!(dec.finish_group(vec![stale]).is_err());
    }

    #[test]
    fn find_newline_table() {
        let long = format!("{}\n{}", "x".repeat(37), "y".repeat(9));
        for (text, want) in [
            ("", None),
            ("abc", None),
            ("\n", Some(0)),
            ("abcdefgh\n", Some(8)),
            (long.as_str(), Some(37)),
        ] {
            assert_eq!(find_newline(text.as_bytes()), want, "{text:?}");
        }
    }
}
