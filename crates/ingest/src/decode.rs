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
    /// The rows, in batches of at most [`BATCH_ROWS`] (empty for digests).
    pub batches: Vec<RecordBatch>,
    /// Dedup keys, one per row, in row order.
    pub keys: Vec<RowKey>,
}

impl Decoded {
    /// Number of records decoded.
    pub fn records(&self) -> usize {
        self.keys.len()
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
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let mut i = 0;
    while i + 8 <= b.len() {
        let w = u64::from_le_bytes([
            b[i],
            b[i + 1],
            b[i + 2],
            b[i + 3],
            b[i + 4],
            b[i + 5],
            b[i + 6],
            b[i + 7],
        ]);
        let x = w ^ (LO * u64::from(b'\n'));
        if x.wrapping_sub(LO) & !x & HI != 0 {
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
        }
    }

    /// Decodes one file's bytes (`bytes` is parsed in place: its content is
    /// garbage afterwards, its allocation is kept). `source` is written to
    /// the `source_file` column.
    pub fn decode(&mut self, bytes: &mut Vec<u8>, source: &str) -> Result<Decoded, FileError> {
        self.sink.build = true;
        let r = self.run(bytes, source);
        match r {
            Ok((kind, gzip, json_bytes)) => {
                if let Err(e) = self.sink.flush() {
                    self.sink.reset();
                    return Err(e);
                }
                self.sink.count = 0;
                Ok(Decoded {
                    kind,
                    gzip,
                    json_bytes,
                    batches: std::mem::take(&mut self.sink.batches),
                    keys: std::mem::take(&mut self.sink.keys),
                })
            }
            Err(e) => {
                self.sink.reset();
                Err(e)
            }
        }
    }

    /// Parses (tape only) and counts records, building no rows: the
    /// "parse floor" for benchmarks. `bytes` must be plain JSON.
    pub fn parse_only(&mut self, bytes: &mut Vec<u8>) -> Result<usize, FileError> {
        self.sink.build = false;
        let r = self.parse_doc(bytes, "");
        let n = self.sink.count;
        self.sink.reset();
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
