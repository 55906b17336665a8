//! The manifest: what every input file became and which data files hold
//! the committed rows. Format and crash-safety protocol in
//! `docs/formats/manifest.md`.
//!
//! On disk: `DATASET/_backtrail/manifest/commit-NNNNNNNN.jsonl`, one file
//! per commit, each written atomically (temp name, fsync, rename, fsync
//! directory) after the data files it lists are durable. Reading the
//! manifest = reading every commit in order; a data file not listed in
//! any commit is an orphan of a killed run.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::decode::Kind;
use crate::error::{Error, ReasonKind};

/// Manifest format version written by this build.
pub const MANIFEST_VERSION: u32 = 1;
/// The `format` string of a commit header.
pub const MANIFEST_FORMAT: &str = "backtrail-manifest";
/// Hive partition value of records without a parseable `eventTime`.
pub const DEFAULT_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// `DATASET/events`.
pub fn events_dir(dataset: &Path) -> PathBuf {
    dataset.join("events")
}
/// `DATASET/_backtrail/manifest`.
pub fn manifest_dir(dataset: &Path) -> PathBuf {
    dataset.join("_backtrail").join("manifest")
}
/// `DATASET/quarantine.jsonl`.
pub fn quarantine_path(dataset: &Path) -> PathBuf {
    dataset.join("quarantine.jsonl")
}

/// What became of an input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Its records were read (new ones stored, duplicates dropped).
    Ingested,
    /// The same bytes (SHA-256) were already ingested under another name.
    DuplicateFile,
    /// A CloudTrail digest file: counted, no events.
    Digest,
    /// Rejected; see `reason`.
    Quarantined,
    /// Same path and bytes as an earlier run: nothing to do.
    SkippedAlreadyIngested,
}

/// One input file's manifest entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path as discovered.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, nanoseconds since the epoch (skip check).
    pub mtime_ns: Option<u64>,
    /// SHA-256 of the bytes as read (hex); absent if the file was not read.
    pub sha256: Option<String>,
    /// Shape recognised.
    pub kind: Option<Kind>,
    /// Whether the bytes were gzip.
    pub gzip: Option<bool>,
    /// Records in the file.
    pub events_read: u64,
    /// Records stored for the first time.
    pub events_new: u64,
    /// Records already stored (identical record, same eventID).
    pub duplicates: u64,
    /// Records stored although their eventID was already stored with a
    /// different content.
    pub collisions: u64,
    /// What became of the file.
    pub status: Status,
    /// Short reason name, for quarantined files.
    pub reason_kind: Option<ReasonKind>,
    /// One-line reason naming the file, for quarantined files.
    pub reason: Option<String>,
}

/// One committed Parquet data file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// Path relative to the dataset root (`events/event_date=…/part-….parquet`).
    pub path: String,
    /// The `event_date` partition value.
    pub partition: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
enum Line {
    Header {
        format: String,
        version: u32,
        commit: u64,
        run: String,
        created_unix_ms: u64,
    },
    Data(DataFile),
    File(FileEntry),
    End {
        entries: u64,
    },
}

/// The whole manifest: every commit, in order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Manifest {
    /// Number of commits.
    pub commits: u64,
    /// Every file entry, in commit order (a path may appear again in a
    /// later run; the last entry is current).
    pub files: Vec<FileEntry>,
    /// Every committed data file, in commit order.
    pub data_files: Vec<DataFile>,
}

impl Manifest {
    /// The latest entry of each path.
    pub fn latest_by_path(&self) -> HashMap<&str, &FileEntry> {
        self.files.iter().map(|f| (f.path.as_str(), f)).collect()
    }

    /// Data files of one partition.
    pub fn data_files_of<'a>(
        &'a self,
        partition: &'a str,
    ) -> impl Iterator<Item = &'a DataFile> + 'a {
        self.data_files
            .iter()
            .filter(move |d| d.partition == partition)
    }

    /// Relative paths of all committed data files.
    pub fn data_paths(&self) -> HashSet<&str> {
        self.data_files.iter().map(|d| d.path.as_str()).collect()
    }

    /// Current quarantined entries (latest entry per path).
    pub fn quarantined(&self) -> Vec<&FileEntry> {
        let latest = self.latest_by_path();
        let mut seen = HashSet::new();
        self.files
            .iter()
            .filter(|f| {
                latest
                    .get(f.path.as_str())
                    .is_some_and(|l| std::ptr::eq(*l, *f))
            })
            .filter(|f| f.status == Status::Quarantined && seen.insert(f.path.as_str()))
            .collect()
    }
}

fn corrupt(path: &Path, line: usize, msg: impl Into<String>) -> Error {
    Error::CorruptManifest {
        path: path.to_owned(),
        line,
        msg: msg.into(),
    }
}

fn commit_name(n: u64) -> String {
    format!("commit-{n:08}.jsonl")
}

/// Reads every commit of the dataset's manifest (empty if there is none).
pub fn read_manifest(dataset: &Path) -> Result<Manifest, Error> {
    let dir = manifest_dir(dataset);
    let mut m = Manifest::default();
    let rd = match fs::read_dir(&dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(m),
        Err(e) => return Err(Error::io(&dir, e)),
    };
    let mut names: Vec<String> = rd
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("commit-") && n.ends_with(".jsonl"))
        .collect();
    names.sort();
    for name in names {
        let path = dir.join(&name);
        let f = File::open(&path).map_err(|e| Error::io(&path, e))?;
        let mut entries = 0u64;
        let mut ended = false;
        let mut header = false;
        for (i, line) in BufReader::new(f).lines().enumerate() {
            let line = line.map_err(|e| Error::io(&path, e))?;
            if ended {
                return Err(corrupt(&path, i + 1, "content after the end line"));
            }
            let parsed: Line =
                serde_json::from_str(&line).map_err(|e| corrupt(&path, i + 1, e.to_string()))?;
            match parsed {
                Line::Header {
                    format, version, ..
                } => {
                    if format != MANIFEST_FORMAT {
                        return Err(corrupt(&path, i + 1, format!("format {format:?}")));
                    }
                    if version > MANIFEST_VERSION {
                        return Err(Error::ManifestVersion {
                            path,
                            found: version,
                            supported: MANIFEST_VERSION,
                        });
                    }
                    header = true;
                }
                _ if !header => return Err(corrupt(&path, i + 1, "missing header")),
                Line::Data(d) => {
                    entries += 1;
                    m.data_files.push(d);
                }
                Line::File(f) => {
                    entries += 1;
                    m.files.push(f);
                }
                Line::End { entries: n } => {
                    if n != entries {
                        return Err(corrupt(
                            &path,
                            i + 1,
                            format!("end line says {n} entries, found {entries}"),
                        ));
                    }
                    ended = true;
                }
            }
        }
        if !ended {
            return Err(corrupt(&path, 0, "no end line (torn write)"));
        }
        m.commits += 1;
    }
    Ok(m)
}

/// Writes `bytes` to `path` atomically: a temp file beside it (not matching
/// `*.jsonl`/`*.parquet`), fsync, rename, fsync the directory.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes).map_err(|e| Error::io(&tmp, e))?;
    f.sync_all().map_err(|e| Error::io(&tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    sync_dir(dir)
}

/// fsyncs a directory so renames and creations in it are durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    match File::open(dir) {
        Ok(d) => d.sync_all().or_else(|e| {
            // Some filesystems refuse fsync on directories; nothing more can be done there.
            if e.kind() == std::io::ErrorKind::InvalidInput
                || e.kind() == std::io::ErrorKind::Unsupported
            {
                Ok(())
            } else {
                Err(Error::io(dir, e))
            }
        }),
        Err(e) => Err(Error::io(dir, e)),
    }
}

/// Writes commit number `commit` listing `data` and `files`.
pub(crate) fn write_commit(
    dataset: &Path,
    commit: u64,
    run: &str,
    data: &[DataFile],
    files: &[FileEntry],
) -> Result<(), Error> {
    let dir = manifest_dir(dataset);
    fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
    let created_unix_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let mut out = String::new();
    let mut push = |l: &Line| {
        out.push_str(&serde_json::to_string(l).expect("manifest line serialises"));
        out.push('\n');
    };
    push(&Line::Header {
        format: MANIFEST_FORMAT.into(),
        version: MANIFEST_VERSION,
        commit,
        run: run.into(),
        created_unix_ms,
    });
    for d in data {
        push(&Line::Data(d.clone()));
    }
    for f in files {
        push(&Line::File(f.clone()));
    }
    push(&Line::End {
        entries: (data.len() + files.len()) as u64,
    });
    write_atomic(&dir.join(commit_name(commit)), out.as_bytes())
}

/// Rewrites `DATASET/quarantine.jsonl` (`{path, reason_kind, reason}` per
/// line) from the manifest's current quarantined entries.
pub(crate) fn write_quarantine(dataset: &Path, m: &Manifest) -> Result<(), Error> {
    let mut out = String::new();
    for f in m.quarantined() {
        let v =
            serde_json::json!({ "path": f.path, "reason_kind": f.reason_kind, "reason": f.reason });
        out.push_str(&v.to_string());
        out.push('\n');
    }
    write_atomic(&quarantine_path(dataset), out.as_bytes())
}

/// Deletes what a killed run left behind: data files no commit lists and
/// temp files (`.*.tmp`) under `events/` and the manifest directory.
/// Returns how many files were removed.
pub(crate) fn remove_orphans(dataset: &Path, m: &Manifest) -> Result<usize, Error> {
    let known = m.data_paths();
    let mut removed = 0;
    let events = events_dir(dataset);
    if let Ok(parts) = fs::read_dir(&events) {
        for part in parts.filter_map(|e| e.ok()) {
            let pname = part.file_name().to_string_lossy().into_owned();
            if !part.path().is_dir() {
                continue;
            }
            let Ok(files) = fs::read_dir(part.path()) else {
                continue;
            };
            for f in files.filter_map(|e| e.ok()) {
                let fname = f.file_name().to_string_lossy().into_owned();
                let rel = format!("events/{pname}/{fname}");
                let orphan = (fname.ends_with(".parquet") && !known.contains(rel.as_str()))
                    || (fname.starts_with('.') && fname.ends_with(".tmp"));
                if orphan {
                    fs::remove_file(f.path()).map_err(|e| Error::io(f.path(), e))?;
                    removed += 1;
                }
            }
        }
    }
    if let Ok(files) = fs::read_dir(manifest_dir(dataset)) {
        for f in files.filter_map(|e| e.ok()) {
            let fname = f.file_name().to_string_lossy().into_owned();
            if fname.starts_with('.') && fname.ends_with(".tmp") {
                fs::remove_file(f.path()).map_err(|e| Error::io(f.path(), e))?;
                removed += 1;
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, status: Status) -> FileEntry {
        FileEntry {
            path: path.into(),
            size: 1,
            mtime_ns: Some(2),
            sha256: Some("ab".into()),
            kind: Some(Kind::Records),
            gzip: Some(true),
            events_read: 3,
            events_new: 2,
            duplicates: 1,
            collisions: 0,
            status,
            reason_kind: None,
            reason: None,
        }
    }

    #[test]
    fn commits_read_back_in_order() {
        let tmp = tempfile::tempdir().unwrap();
        let d = DataFile {
            path: "events/event_date=2024-01-01/part-x-000001.parquet".into(),
            partition: "2024-01-01".into(),
            rows: 2,
            bytes: 9,
        };
        write_commit(
            tmp.path(),
            1,
            "r",
            std::slice::from_ref(&d),
            &[entry("a", Status::Ingested)],
        )
        .unwrap();
        let later = [entry("a", Status::Quarantined), entry("b", Status::Digest)];
        write_commit(tmp.path(), 2, "r", &[], &later).unwrap();
        let m = read_manifest(tmp.path()).unwrap();
        assert_eq!(m.commits, 2);
        assert_eq!(m.data_files, vec![d]);
        assert_eq!(m.files.len(), 3);
        assert_eq!(m.latest_by_path()["a"].status, Status::Quarantined);
        assert_eq!(m.quarantined().len(), 1);
    }

    #[test]
    fn damaged_commits_are_refused() {
        let header = r#"{"type":"header","format":"backtrail-manifest","version":1,"commit":1,"run":"r","created_unix_ms":0}"#;
        let newer = header.replace("\"version\":1", "\"version\":99");
        let cases = [
            ("torn", format!("{header}\n")),
            (
                "no header",
                "{\"type\":\"end\",\"entries\":0}\n".to_string(),
            ),
            (
                "bad count",
                format!("{header}\n{{\"type\":\"end\",\"entries\":5}}\n"),
            ),
            ("not json", format!("{header}\nnot json\n")),
            (
                "newer",
                format!("{newer}\n{{\"type\":\"end\",\"entries\":0}}\n"),
            ),
        ];
        for (name, text) in cases {
            let tmp = tempfile::tempdir().unwrap();
            let dir = manifest_dir(tmp.path());
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join(commit_name(1)), text).unwrap();
            let e = read_manifest(tmp.path()).unwrap_err();
            match (name, &e) {
                ("newer", Error::ManifestVersion { found: 99, .. }) => {}
                ("newer", _) => panic!("{name}: {e}"),
                (_, Error::CorruptManifest { .. }) => {}
                _ => panic!("{name}: {e}"),
            }
        }
    }
}
