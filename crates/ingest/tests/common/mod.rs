//! Shared test helpers: the real-record corpus and JSON equality.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// `../shared/corpus` resolved from this crate, or `None` (with a message)
/// if it is absent.
pub fn corpus_dir() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("SKIP: corpus folder {} is absent", p.display());
        None
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// One input file for ingest built from the corpus: a name, its bytes and
/// the records it holds (parsed independently with serde_json).
pub struct CorpusFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub records: Vec<Value>,
}

fn jsonl_records(text: &str) -> Vec<Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every CloudTrail record of every corpus folder, as input files.
/// Panther's rule tests are unwrapped (`log` field) into a JSON lines
/// fixture built here.
pub fn corpus_files(root: &Path) -> Vec<CorpusFile> {
    let mut all = Vec::new();
    files_under(root, &mut all);
    let mut out = Vec::new();
    for p in all {
        let rel = p.strip_prefix(root).unwrap().display().to_string();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if rel.ends_with(".md") || rel.ends_with(".yml") || name.contains("digest") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        let records = if rel.starts_with("panther-analysis/panther_cloudtrail_rule_tests") {
            let logs: Vec<Value> = jsonl_records(&text)
                .into_iter()
                .map(|v| v["log"].clone())
                .collect();
            let lines: String = logs
                .iter()
                .map(|v| serde_json::to_string(v).unwrap() + "\n")
                .collect();
            out.push(CorpusFile {
                name: rel,
                bytes: lines.into_bytes(),
                records: logs,
            });
            continue;
        } else if name.ends_with(".jsonl") {
            jsonl_records(&text)
        } else {
            let v: Value = serde_json::from_str(&text).unwrap();
            match v {
                Value::Array(a) => a,
                Value::Object(mut m) => match m.remove("Records") {
                    Some(Value::Array(a)) => a,
                    _ => vec![Value::Object(m)],
                },
                other => panic!("{rel}: unexpected {other}"),
            }
        };
        out.push(CorpusFile {
            name: rel,
            bytes: text.into_bytes(),
            records,
        });
    }
    out
}

/// JSON equality with numbers compared sensibly: integers exactly, and a
/// float equal to anything that has the same f64 value.
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                i == j
            } else if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                i == j
            } else {
                x.as_f64() == y.as_f64()
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Multiset equality of two record lists under [`json_eq`]; on mismatch,
/// the first record of `want` with no partner.
pub fn same_multiset(got: &[Value], want: &[Value]) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!("{} records, want {}", got.len(), want.len()));
    }
    let mut used = vec![false; got.len()];
    for w in want {
        let hit = got
            .iter()
            .enumerate()
            .position(|(i, g)| !used[i] && json_eq(g, w));
        match hit {
            Some(i) => used[i] = true,
            None => {
                return Err(format!(
                    "no match for {}",
                    serde_json::to_string(w).unwrap()
                ));
            }
        }
    }
    Ok(())
}
