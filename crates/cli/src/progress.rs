//! The ingest progress bar: files, bytes, events, events/s and time left on
//! a terminal; nothing at all in a pipe or with `--quiet`.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// An [`backtrail_ingest::Progress`] drawn with indicatif on stderr.
pub struct Bar {
    bar: ProgressBar,
    files: AtomicU64,
    total_files: AtomicU64,
    events: AtomicU64,
}

impl Bar {
    /// A bar that draws only if `visible` (stderr is a terminal and not
    /// `--quiet`).
    pub fn new(visible: bool) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(0),
            if visible {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg} (ETA {eta})",
            )
            .expect("static template")
            .progress_chars("=> "),
        );
        Bar {
            bar,
            files: AtomicU64::new(0),
            total_files: AtomicU64::new(0),
            events: AtomicU64::new(0),
        }
    }

    /// Removes the bar from the screen.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }

    fn refresh_message(&self) {
        let secs = self.bar.elapsed().as_secs_f64().max(1e-3);
        let events = self.events.load(Ordering::Relaxed);
        self.bar.set_message(format!(
            "files {}/{}  events {}  {:.0} ev/s",
            self.files.load(Ordering::Relaxed),
            self.total_files.load(Ordering::Relaxed),
            events,
            events as f64 / secs
        ));
    }
}

impl backtrail_ingest::Progress for Bar {
    fn start(&self, files: u64, bytes: u64) {
        self.total_files.store(files, Ordering::Relaxed);
        self.bar.set_length(bytes);
        self.refresh_message();
    }

    fn file_done(&self, bytes: u64, events: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.events.fetch_add(events, Ordering::Relaxed);
        self.bar.inc(bytes);
        self.refresh_message();
    }
}
