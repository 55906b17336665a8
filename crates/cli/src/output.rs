//! Rows out: an aligned table for people, JSON lines for pipes, CSV for
//! spreadsheets.
//!
//! Query results arrive as `Serialize` rows; they are turned into JSON
//! objects once (field order kept), then rendered. Table and CSV cells go
//! through [`crate::sanitize`]; JSON keeps exact values.

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::sanitize::{csv_cell, visible};

/// Output format chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Table on a terminal, JSON lines in a pipe.
    Auto,
    /// Aligned columns, long values truncated, control characters visible.
    Table,
    /// One JSON object a line, exact values.
    Json,
    /// RFC 4180 CSV with a header; formulas neutralised.
    Csv,
}

impl Format {
    /// Resolves `Auto` against whether stdout is a terminal.
    pub fn resolve(self, stdout_is_tty: bool) -> Format {
        match self {
            Format::Auto if stdout_is_tty => Format::Table,
            Format::Auto => Format::Json,
            f => f,
        }
    }
}

/// Widest a table cell may be before it is cut with `…`.
pub const DEFAULT_MAX_CELL: usize = 48;

/// Rows a task turns into JSON lines at once in a large answer.
pub const DEFAULT_JSON_CHUNK: usize = 2048;
/// Chunks turned into JSON at once (bounds the output held in memory).
pub const DEFAULT_JSON_WAVE: usize = 8;

/// Appends `rows` to `buf` as JSON lines.
fn json_lines<T: Serialize>(buf: &mut Vec<u8>, rows: &[T]) -> io::Result<()> {
    for r in rows {
        serde_json::to_writer(&mut *buf, r).map_err(io::Error::from)?;
        buf.push(b'\n');
    }
    Ok(())
}

/// Writes `rows` as JSON lines, in order. A large answer (hundreds of
/// thousands of rows, hundreds of MB) is serialised in chunks on every
/// core, a wave of chunks at a time into buffers kept from wave to wave
/// (fresh buffers cost a page fault every 4 KiB), and written in order.
pub fn write_json_lines<T: Serialize + Sync>(out: &mut dyn Write, rows: &[T]) -> io::Result<()> {
    if rows.len() <= DEFAULT_JSON_CHUNK {
        let mut buf = Vec::new();
        json_lines(&mut buf, rows)?;
        return out.write_all(&buf);
    }
    let mut bufs: Vec<Vec<u8>> = vec![Vec::new(); DEFAULT_JSON_WAVE];
    for wave in rows.chunks(DEFAULT_JSON_CHUNK * DEFAULT_JSON_WAVE) {
        let n = wave.len().div_ceil(DEFAULT_JSON_CHUNK);
        bufs[..n]
            .par_iter_mut()
            .zip(wave.par_chunks(DEFAULT_JSON_CHUNK))
            .try_for_each(|(buf, chunk)| {
                buf.clear();
                json_lines(buf, chunk)
            })?;
        for b in &bufs[..n] {
            out.write_all(b)?;
        }
    }
    Ok(())
}

/// Converts rows to JSON objects, keeping field order.
pub fn to_objects<T: Serialize>(rows: &[T]) -> serde_json::Result<Vec<Map<String, Value>>> {
    rows.iter()
        .map(|r| match serde_json::to_value(r)? {
            Value::Object(m) => Ok(m),
            other => {
                let mut m = Map::new();
                m.insert("value".into(), other);
                Ok(m)
            }
        })
        .collect()
}

/// The text of a value as a person reads it (strings unquoted, null empty).
fn plain(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(","),
        other => other.to_string(),
    }
}

fn columns(rows: &[Map<String, Value>]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in rows {
        for k in r.keys() {
            if !cols.contains(k) {
                cols.push(k.clone());
            }
        }
    }
    cols
}

/// Cuts a long cell in the middle, keeping its start and its end: the end
/// of an ARN (the object, key or recovery point) and the start of a user
/// agent are what a reader needs.
fn truncate(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub(1);
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut t: String = s.chars().take(head).collect();
    t.push('…');
    t.extend(s.chars().skip(n - tail));
    t
}

/// Writes rows in `format` (already resolved, not `Auto`). A table shows
/// `table_columns` when given (the ones a person scans first); JSON and CSV
/// always carry every field.
pub fn write_rows(
    out: &mut dyn Write,
    format: Format,
    rows: &[Map<String, Value>],
    table_columns: Option<&[&str]>,
) -> io::Result<()> {
    match format {
        Format::Json | Format::Auto => {
            for r in rows {
                serde_json::to_writer(&mut *out, r)?;
                out.write_all(b"\n")?;
            }
        }
        Format::Csv => {
            let cols = columns(rows);
            write_csv_line(out, cols.iter().map(String::as_str))?;
            for r in rows {
                let cells: Vec<String> = cols
                    .iter()
                    .map(|c| r.get(c).map(plain).unwrap_or_default())
                    .collect();
                write_csv_line(out, cells.iter().map(String::as_str))?;
            }
        }
        Format::Table => match table_columns {
            Some(cols) => {
                let narrowed: Vec<Map<String, Value>> = rows
                    .iter()
                    .map(|r| {
                        cols.iter()
                            .map(|c| ((*c).to_owned(), r.get(*c).cloned().unwrap_or(Value::Null)))
                            .collect()
                    })
                    .collect();
                write_table(out, &narrowed, DEFAULT_MAX_CELL)?;
            }
            None => write_table(out, rows, DEFAULT_MAX_CELL)?,
        },
    }
    Ok(())
}

fn write_csv_line<'a>(out: &mut dyn Write, cells: impl Iterator<Item = &'a str>) -> io::Result<()> {
    let mut first = true;
    for c in cells {
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        let c = csv_cell(c);
        if c.contains([',', '"', '\n', '\r']) {
            write!(out, "\"{}\"", c.replace('"', "\"\""))?;
        } else {
            out.write_all(c.as_bytes())?;
        }
    }
    out.write_all(b"\r\n")
}

/// Aligned table: header, rule, rows; every cell made visible and cut at
/// `max` characters.
pub fn write_table(out: &mut dyn Write, rows: &[Map<String, Value>], max: usize) -> io::Result<()> {
    let cols = columns(rows);
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            cols.iter()
                .map(|c| truncate(&visible(&r.get(c).map(plain).unwrap_or_default()), max))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .chain([c.len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |out: &mut dyn Write, vals: &[String]| -> io::Result<()> {
        let mut s = String::new();
        for (i, v) in vals.iter().enumerate() {
            if i > 0 {
                s.push_str("  ");
            }
            s.push_str(v);
            if i + 1 < vals.len() {
                s.extend(std::iter::repeat_n(' ', widths[i] - v.chars().count()));
            }
        }
        writeln!(out, "{s}")
    };
    line(out, &cols)?;
    let rule: Vec<String> = widths.iter().map(|w| "─".repeat(*w)).collect();
    line(out, &rule)?;
    for r in &cells {
        line(out, r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Map<String, Value>> {
        vec![
            json!({"event_time": "2024-01-01T00:00:00Z", "user_agent": "\u{1b}[31mred", "n": 3})
                .as_object()
                .unwrap()
                .clone(),
            json!({"event_time": "2024-01-02T00:00:00Z", "user_agent": "=HYPERLINK(\"x\")", "n": null})
                .as_object()
                .unwrap()
                .clone(),
        ]
    }

    fn render(f: Format) -> String {
        let mut v = Vec::new();
        write_rows(&mut v, f, &rows(), None).unwrap();
        String::from_utf8(v).unwrap()
    }

    /// Large answers come out line for line as one serialisation would
    /// write them, in order.
    #[test]
    fn json_lines_in_order() {
        for n in [
            0,
            1,
            DEFAULT_JSON_CHUNK,
            DEFAULT_JSON_CHUNK * DEFAULT_JSON_WAVE + 7,
        ] {
            let rows: Vec<(usize, String)> = (0..n).map(|i| (i, format!("r\"{i}"))).collect();
            let mut got = Vec::new();
            write_json_lines(&mut got, &rows).unwrap();
            let want: String = rows
                .iter()
                .map(|r| serde_json::to_string(r).unwrap() + "\n")
                .collect();
            assert_eq!(String::from_utf8(got).unwrap(), want, "{n} rows");
        }
    }

    #[test]
    fn json_keeps_exact_values() {
        let s = render(Format::Json);
        let back: Value = serde_json::from_str(s.lines().next().unwrap()).unwrap();
        assert_eq!(back["user_agent"], "\u{1b}[31mred");
    }

    #[test]
    fn table_is_aligned_and_inert() {
        let s = render(Format::Table);
        assert!(!s.contains('\u{1b}'));
        assert!(s.contains("\\x1b[31mred"));
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines.len(), 4);
        let col = lines[0].find("user_agent").unwrap();
        assert_eq!(lines[2].chars().nth(col), Some('\\'));
    }

    #[test]
    fn csv_neutralises_formulas() {
        let s = render(Format::Csv);
        assert!(s.starts_with("event_time,user_agent,n\r\n"));
        assert!(s.contains("\"'=HYPERLINK(\"\"x\"\")\""));
        assert!(!s.contains('\u{1b}'));
    }

    #[test]
    fn long_cells_are_cut() {
        assert_eq!(truncate("abcdef", 4), "ab…f");
        assert_eq!(
            truncate("arn:aws:s3:::bucket/very/long/key.csv", 20),
            "arn:aws:s3…g/key.csv"
        );
        assert_eq!(truncate("abc", 4), "abc");
    }
}
