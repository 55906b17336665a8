//! DuckDB, from PyPI, in a virtualenv the harness makes under `bench-data/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::measure::{Run, run};

/// A Python with DuckDB installed.
pub struct Duck {
    python: PathBuf,
    scripts: PathBuf,
    /// DuckDB's version string.
    pub version: String,
}

impl Duck {
    /// Makes (once) `dir/venv` with DuckDB in it.
    pub fn setup(dir: &Path, scripts: &Path) -> Result<Duck> {
        let venv = dir.join("venv");
        let python = venv.join("bin/python");
        if !python.exists() {
            eprintln!("installing DuckDB from PyPI into {}", venv.display());
            let st = Command::new("python3")
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .status()?;
            if !st.success() {
                bail!("python3 -m venv failed; install python3-venv");
            }
        }
        let has = Command::new(&python)
            .args(["-c", "import duckdb"])
            .status()?
            .success();
        if !has {
            let st = Command::new(venv.join("bin/pip"))
                .args([
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "duckdb",
                ])
                .status()?;
            if !st.success() {
                bail!("pip install duckdb failed (is PyPI reachable?)");
            }
        }
        let out = Command::new(&python)
            .args(["-c", "import duckdb; print(duckdb.__version__)"])
            .output()?;
        Ok(Duck {
            python,
            scripts: scripts.to_path_buf(),
            version: String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        })
    }

    /// DuckDB converting the archive to one Parquet file: time, peak RSS and
    /// rows.
    pub fn ingest(&self, archive: &Path, out: &Path, threads: usize) -> Result<(Run, u64)> {
        let r = run(Command::new(&self.python)
            .arg(self.scripts.join("duckdb_ingest.py"))
            .arg(archive)
            .arg(out)
            .arg(threads.to_string()))?;
        let rows = r
            .stdout
            .trim()
            .parse()
            .context("duckdb_ingest.py row count")?;
        Ok((r, rows))
    }

    /// Runs the query set over `dataset`: warm medians (`repeats` > 0, one
    /// process) or a single fresh-process run (`repeats` = 0).
    pub fn queries(
        &self,
        dataset: &Path,
        queries: &serde_json::Value,
        repeats: usize,
        threads: usize,
    ) -> Result<serde_json::Value> {
        use std::io::Write;
        let mut child = Command::new(&self.python)
            .arg(self.scripts.join("duckdb_queries.py"))
            .arg(dataset)
            .arg(repeats.to_string())
            .arg(threads.to_string())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()?;
        child
            .stdin
            .take()
            .context("stdin")?
            .write_all(queries.to_string().as_bytes())?;
        let out = child.wait_with_output()?;
        if !out.status.success() {
            bail!("duckdb_queries.py failed");
        }
        Ok(serde_json::from_slice(&out.stdout)?)
    }

    /// One query in a fresh DuckDB process, timed as a whole process
    /// (interpreter start, `import duckdb`, connect, query, fetch).
    pub fn fresh_process(
        &self,
        dataset: &Path,
        query: &serde_json::Value,
        threads: usize,
    ) -> Result<std::time::Duration> {
        let file =
            std::env::temp_dir().join(format!("backtrail-bench-q-{}.json", std::process::id()));
        std::fs::write(
            &file,
            serde_json::Value::Array(vec![query.clone()]).to_string(),
        )?;
        let r = run(Command::new(&self.python)
            .arg(self.scripts.join("duckdb_queries.py"))
            .arg(dataset)
            .arg("0")
            .arg(threads.to_string())
            .arg(&file));
        let _ = std::fs::remove_file(&file);
        Ok(r?.wall)
    }
}
