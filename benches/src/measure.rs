//! Timing and peak memory of whole processes, and medians.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One measured run of a child process.
#[derive(Debug, Clone)]
pub struct Run {
    /// Wall-clock time.
    pub wall: Duration,
    /// Peak resident set size of the child, bytes.
    pub peak_rss: u64,
    /// What it printed on stdout.
    pub stdout: String,
}

/// Runs `cmd` to completion, capturing stdout, and reports its wall time and
/// peak RSS (from `wait4`'s rusage, so only this child is counted).
pub fn run(cmd: &mut Command) -> Result<Run> {
    let out_file = tempfile_path();
    let file = std::fs::File::create(&out_file)?;
    let start = Instant::now();
    let child = cmd
        .stdout(Stdio::from(file))
        .stderr(Stdio::inherit())
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data, zero is a valid bit pattern.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; pointers are valid
    // for the duration of the call.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    if r != pid {
        bail!(
            "wait4 failed for {cmd:?}: {}",
            std::io::Error::last_os_error()
        );
    }
    let stdout = std::fs::read_to_string(&out_file).unwrap_or_default();
    let _ = std::fs::remove_file(&out_file);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        bail!("{cmd:?} failed (status {status}); stdout: {stdout}");
    }
    // ru_maxrss is in KiB on Linux.
    Ok(Run {
        wall,
        peak_rss: usage.ru_maxrss as u64 * 1024,
        stdout,
    })
}

fn tempfile_path() -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "backtrail-bench-{}-{}.out",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Median of a non-empty set of durations.
pub fn median(mut v: Vec<Duration>) -> Duration {
    assert!(!v.is_empty(), "median of nothing");
    v.sort();
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2
    }
}

/// Median in milliseconds of a list of millisecond values.
pub fn median_ms(mut v: Vec<f64>) -> f64 {
    assert!(!v.is_empty(), "median of nothing");
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Times `f` `repeats` times in this process; returns the median.
pub fn time_in_process(repeats: usize, mut f: impl FnMut() -> Result<()>) -> Result<Duration> {
    let mut v = Vec::with_capacity(repeats);
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        f()?;
        v.push(t.elapsed());
    }
    Ok(median(v))
}

/// Total size in bytes of the files under `dir`.
pub fn dir_size(dir: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return 0;
    };
    rd.flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_size(&e.path()),
            Ok(_) => e.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians() {
        let ms = Duration::from_millis;
        assert_eq!(median(vec![ms(3), ms(1), ms(2)]), ms(2));
        assert_eq!(
            median(vec![ms(4), ms(1), ms(2), ms(3)]),
            Duration::from_micros(2500)
        );
        assert_eq!(median_ms(vec![5.0, 1.0, 9.0]), 5.0);
    }

    #[test]
    fn measures_a_child() {
        let r = run(Command::new("sh").args(["-c", "echo hi"])).unwrap();
        assert_eq!(r.stdout.trim(), "hi");
        assert!(r.peak_rss > 0);
        assert!(run(&mut Command::new("false")).is_err());
    }
}
