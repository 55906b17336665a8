//! `backtrail-bench`: every stage of backtrail beside its floor and beside
//! DuckDB doing the same job, on the same machine, in the same run.
//!
//! For each archive size it generates (once, cached under `bench-data/`) a
//! synthetic archive with `backtrail gen`, then measures:
//!
//! * `gen` itself (first time only);
//! * the floors: read + gunzip, read + gunzip + simd-json tape parse, on 1
//!   and 2 threads, in this process;
//! * `backtrail ingest` on 1 and 2 threads as a whole process (wall time,
//!   peak RSS from `wait4`);
//! * DuckDB converting the same archive to Parquet (`COPY … TO … (FORMAT
//!   parquet)` over `read_json` with an explicit schema);
//! * the index build, its size against the Parquet's;
//! * each query as a whole `backtrail` process with a warm page cache,
//!   against DuckDB's equivalent SQL over the same Parquet, warm (one
//!   process, repeated) and fresh (a new process).
//!
//! It prints one Markdown table per size and appends it to
//! `bench-data/results.md`.

mod duck;
mod floors;
mod measure;
mod queries;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Parser;

use measure::{dir_size, median, median_ms, run};

/// Command-line options.
#[derive(Debug, Parser)]
#[command(about = "backtrail benchmark harness")]
struct Args {
    /// Archive sizes in events, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1000000,10000000")]
    sizes: Vec<u64>,
    /// Cache and scratch folder.
    #[arg(long, default_value = "bench-data")]
    dir: PathBuf,
    /// Repetitions of each timed step (at least 10M events: 1 for ingest).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Repetitions of each query.
    #[arg(long, default_value_t = 10)]
    query_repeats: usize,
    /// Skip DuckDB (no PyPI needed).
    #[arg(long)]
    no_duckdb: bool,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn fmt_dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

fn fmt_rate(events: u64, d: Duration) -> String {
    format!("{:.0}k/s", events as f64 / d.as_secs_f64() / 1e3)
}

fn mib(b: u64) -> String {
    format!("{:.0} MiB", b as f64 / (1024.0 * 1024.0))
}

fn build_binary() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let st = Command::new(cargo)
        .args(["build", "--release", "-p", "backtrail"])
        .current_dir(repo_root())
        .status()?;
    if !st.success() {
        bail!("building the release binary failed");
    }
    Ok(repo_root().join("target/release/backtrail"))
}

/// Generates the archive for `n` events unless cached; returns its folder
/// and the generation time if it ran.
fn archive(bin: &Path, dir: &Path, n: u64) -> Result<(PathBuf, Option<Duration>)> {
    let dest = dir.join(format!("archive-{n}"));
    if dest.join("ground-truth.json").exists() {
        return Ok((dest, None));
    }
    let tmp = dir.join(format!("archive-{n}.tmp"));
    let _ = std::fs::remove_dir_all(&tmp);
    let r = run(Command::new(bin)
        .args([
            "gen",
            "--events",
            &n.to_string(),
            "--seed",
            "1",
            "--json",
            "--out",
        ])
        .arg(&tmp))?;
    std::fs::rename(&tmp, &dest)?;
    Ok((dest, Some(r.wall)))
}

fn bench_size(
    args: &Args,
    bin: &Path,
    duck: Option<&duck::Duck>,
    n: u64,
    out: &mut String,
) -> Result<()> {
    let (arch, gen_time) = archive(bin, &args.dir, n)?;
    let logs = arch.join("AWSLogs");
    let files = floors::log_files(&logs)?;
    let gz_bytes: u64 = files
        .iter()
        .map(|f| f.metadata().map(|m| m.len()).unwrap_or(0))
        .sum();
    let reps = if n >= 10_000_000 { 1 } else { args.repeats };
    let truth: serde_json::Value =
        serde_json::from_slice(&std::fs::read(arch.join("ground-truth.json"))?)?;

    // Floors (also warms the page cache).
    let (_, records) = floors::gunzip_parse(&files, 2, 1)?;
    let mut rows: Vec<[String; 6]> = Vec::new();
    // The rate column counts every record read, except where a stage reads
    // fewer (`rate_of`).
    let rate_of = std::cell::Cell::new(records);
    let mut row = |stage: &str, threads: &str, d: Duration, rss: &str, vs: String| {
        rows.push([
            stage.into(),
            threads.into(),
            fmt_dur(d),
            fmt_rate(rate_of.get(), d),
            rss.into(),
            vs,
        ]);
    };
    if let Some(g) = gen_time {
        row(
            "backtrail gen (synthetic archive)",
            "2",
            g,
            "",
            String::new(),
        );
    }
    let gz1 = floors::gunzip(&files, 1, reps)?;
    let gz2 = floors::gunzip(&files, 2, reps)?;
    let (gp1, _) = floors::gunzip_parse(&files, 1, reps)?;
    let (gp2, _) = floors::gunzip_parse(&files, 2, reps)?;
    row("floor: read + gunzip", "1", gz1, "", String::new());
    row("floor: read + gunzip", "2", gz2, "", String::new());
    row(
        "floor: read + gunzip + tape parse",
        "1",
        gp1,
        "",
        String::new(),
    );
    row(
        "floor: read + gunzip + tape parse",
        "2",
        gp2,
        "",
        String::new(),
    );
    // The same over distinct contents only: the work ingest cannot skip.
    let distinct = floors::distinct_contents(&files)?;
    let (gpd, distinct_records) = floors::gunzip_parse(&distinct, 2, reps)?;
    rate_of.set(distinct_records);
    row(
        "floor: read + gunzip + tape parse, distinct contents",
        "2",
        gpd,
        "",
        format!(
            "{} of {} files, {distinct_records} records",
            distinct.len(),
            files.len()
        ),
    );
    rate_of.set(records);

    // Full ingest as a process.
    let data = args.dir.join(format!("data-{n}"));
    let ingest = |threads: usize| -> Result<(Duration, u64, serde_json::Value)> {
        let mut walls = Vec::new();
        let mut peak = 0;
        let mut summary = serde_json::Value::Null;
        for _ in 0..reps {
            let _ = std::fs::remove_dir_all(&data);
            let r = run(Command::new(bin)
                .args([
                    "ingest",
                    "--quiet",
                    "--json",
                    "--no-index",
                    "--threads",
                    &threads.to_string(),
                    "--out",
                ])
                .arg(&data)
                .arg(&logs))?;
            walls.push(r.wall);
            peak = peak.max(r.peak_rss);
            summary = serde_json::from_str(r.stdout.trim()).context("ingest --json")?;
        }
        Ok((median(walls), peak, summary))
    };
    let (in1, rss1, _) = ingest(1)?;
    let (in2, rss2, summary) = ingest(2)?;
    let duck_ingest = match duck {
        Some(d) => {
            let pq = args.dir.join(format!("duckdb-{n}.parquet"));
            let (r, duck_rows) = d.ingest(&logs, &pq, 2)?;
            let _ = std::fs::remove_file(&pq);
            Some((r, duck_rows))
        }
        None => None,
    };
    row("backtrail ingest", "1", in1, &mib(rss1), String::new());
    let mut vs = format!(
        "{:.2}× of floor ({:.2}× of the distinct-content floor)",
        gp2.as_secs_f64() / in2.as_secs_f64(),
        gpd.as_secs_f64() / in2.as_secs_f64()
    );
    if let Some((r, _)) = &duck_ingest {
        let _ = write!(
            vs,
            ", {:.1}× DuckDB",
            r.wall.as_secs_f64() / in2.as_secs_f64()
        );
    }
    row("backtrail ingest", "2", in2, &mib(rss2), vs);
    if let Some((r, duck_rows)) = &duck_ingest {
        row(
            &format!(
                "DuckDB {} read_json → Parquet ({duck_rows} rows)",
                duck.map_or("", |d| &d.version)
            ),
            "2",
            r.wall,
            &mib(r.peak_rss),
            String::new(),
        );
    }

    // Index build (full rebuild over the fresh dataset).
    let idx = run(Command::new(bin)
        .args(["index", "--rebuild", "--data"])
        .arg(&data))?;
    let parquet_bytes = dir_size(&data.join("events"));
    let index_bytes = dir_size(&data.join("index"));
    row(
        "backtrail index --rebuild",
        "2",
        idx.wall,
        &mib(idx.peak_rss),
        format!(
            "{:.1}% of ingest time; index {} = {:.1}% of Parquet {}",
            100.0 * idx.wall.as_secs_f64() / in2.as_secs_f64(),
            mib(index_bytes),
            100.0 * index_bytes as f64 / parquet_bytes.max(1) as f64,
            mib(parquet_bytes)
        ),
    );

    let _ = writeln!(
        out,
        "\n### {} events ({} distinct stored, {} log files, {} gzip)\n",
        records,
        summary["events_new"],
        files.len(),
        mib(gz_bytes)
    );
    let _ = writeln!(
        out,
        "| stage | threads | median | events/s | peak RSS | comparison |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|");
    for r in &rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }

    // Queries.
    let work = queries::workload(&truth)?;
    let sql = queries::sql_json(&work);
    let warm = duck
        .map(|d| d.queries(&data, &sql, args.query_repeats, 2))
        .transpose()?;
    let _ = writeln!(
        out,
        "\n| query | backtrail (whole process) | rows | DuckDB warm (median) | DuckDB fresh process | rows | × vs warm DuckDB | × vs fresh DuckDB |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---|---|---|");
    for qy in &work {
        let mut cmd = Command::new(bin);
        cmd.args(&qy.args)
            .args(["--format", "json", "--data"])
            .arg(&data);
        run(&mut cmd)?; // warm-up
        let mut walls = Vec::new();
        let mut nrows = 0;
        for _ in 0..args.query_repeats {
            let r = run(&mut cmd)?;
            nrows = r.stdout.lines().count();
            walls.push(r.wall);
        }
        let bt = median(walls);
        let (warm_ms, duck_rows) = warm
            .as_ref()
            .map(|w| {
                let e = &w[qy.name];
                let v: Vec<f64> = e["warm_ms"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
                    .unwrap_or_default();
                (
                    if v.is_empty() { f64::NAN } else { median_ms(v) },
                    e["rows"].as_u64().unwrap_or(0),
                )
            })
            .unwrap_or((f64::NAN, 0));
        // A fresh DuckDB process per query, timed whole (interpreter,
        // import, connect, query), as an analyst running it once would pay.
        let fresh_med = match duck {
            Some(d) => {
                let one = serde_json::json!({"name": qy.name, "sql": qy.sql});
                let mut v = Vec::new();
                for _ in 0..3 {
                    v.push(d.fresh_process(&data, &one, 2)?);
                }
                median(v).as_secs_f64() * 1e3
            }
            None => f64::NAN,
        };
        let bt_ms = bt.as_secs_f64() * 1e3;
        let _ = writeln!(
            out,
            "| {} | {:.1} ms | {} | {:.1} ms | {:.1} ms | {} | {:.1}× | {:.1}× |",
            qy.args.join(" "),
            bt_ms,
            nrows,
            warm_ms,
            fresh_med,
            duck_rows,
            warm_ms / bt_ms,
            fresh_med / bt_ms
        );
    }
    Ok(())
}

fn main() -> Result<()> {
    let args = Args::parse();
    std::fs::create_dir_all(&args.dir)?;
    let bin = build_binary()?;
    let duck = if args.no_duckdb {
        None
    } else {
        Some(duck::Duck::setup(
            &args.dir,
            &repo_root().join("benches/py"),
        )?)
    };
    let mut out = String::new();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "## backtrail-bench — {} cores ({cpu}), `{}`",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    for &n in &args.sizes {
        bench_size(&args, &bin, duck.as_ref(), n, &mut out)?;
    }
    println!("{out}");
    let results = args.dir.join("results.md");
    let mut prev = std::fs::read_to_string(&results).unwrap_or_default();
    prev.push_str(&out);
    std::fs::write(&results, prev)?;
    println!("(appended to {})", results.display());
    Ok(())
}
