//! Generation: the plan, the event budget, and one worker per account and
//! region writing log files and digests as they are delivered.
//!
//! Determinism: every random choice comes from a generator derived from the
//! seed and the stream's identity, each stream writes only its own files,
//! and the report is a sum, so rayon's scheduling does not reach the bytes.
//! Memory: a worker holds one delivery file (at most [`FILE_MAX_RECORDS`]
//! records) and one hour of digest entries at a time.

use std::path::{Path, PathBuf};

use libdeflater::{CompressionLvl, Compressor};
use rayon::prelude::*;
use serde::Serialize;

use crate::background::Background;
use crate::config::GenConfig;
use crate::digest::{self, DigestTarget, LogFileEntry, PrevDigest};
use crate::error::Error;
use crate::org::Org;
use crate::planner::{Planned, Planner};
use crate::rng::Rng;
use crate::scenarios;
use crate::time::{HOUR, MIN, SEC, compact_minute, date_path, event_time};
use crate::truth::{AccountInfo, FORMAT, GroundTruth};

/// CloudTrail delivers about every five minutes per account and region.
pub const WINDOW_US: i64 = 5 * MIN;
/// A window with more records than this is split into several files.
pub const FILE_MAX_RECORDS: usize = 5000;
/// Name of the ground-truth file beside `AWSLogs/`.
pub const GROUND_TRUTH_FILE: &str = "ground-truth.json";

/// What [`generate`] wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct GenReport {
    /// Log files written (both trails).
    pub files: u64,
    /// Digest files written.
    pub digest_files: u64,
    /// Distinct events (each counted once, whatever the trails).
    pub events: u64,
    /// Bytes of gzip log files on disk.
    pub bytes_compressed: u64,
    /// Bytes of those files uncompressed.
    pub bytes_uncompressed: u64,
    /// Records delivered a second time by an overlapping account trail.
    pub duplicates_delivered: u64,
    /// The ground truth (also written to `ground-truth.json`).
    pub truth: GroundTruth,
}

#[derive(Default)]
struct Stats {
    files: u64,
    digest_files: u64,
    events: u64,
    bytes_compressed: u64,
    bytes_uncompressed: u64,
    duplicates: u64,
}

struct Trail {
    prefix: String,
    name: String,
    org: bool,
    stop_us: Option<i64>,
    period_start: i64,
    pending: Vec<LogFileEntry>,
    prev: Option<PrevDigest>,
    finished: bool,
    last_delivery: i64,
}

struct Stream<'a> {
    cfg: &'a GenConfig,
    org: &'a Org,
    out: &'a Path,
    acct: usize,
    region: String,
    last_dir: PathBuf,
    stats: Stats,
}

/// Activity by UTC hour: a working day peaking early afternoon
/// (`1 + 1.6·sin(π(h−7)/12)` from 07:00 to 19:00, 0.55 at night), as a
/// table so no platform `sin` reaches the bytes.
const HOURLY: [f64; 24] = [
    0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 0.55, 1.0, 1.414, 1.8, 2.131, 2.386, 2.545, 2.6, 2.545,
    2.386, 2.131, 1.8, 1.414, 0.55, 0.55, 0.55, 0.55, 0.55,
];

fn diurnal(t_us: i64) -> f64 {
    let day = t_us.div_euclid(crate::time::DAY);
    let weekend = matches!((day + 4).rem_euclid(7), 0 | 6);
    let base = HOURLY[(t_us.rem_euclid(crate::time::DAY) / HOUR) as usize];
    if weekend { base * 0.45 } else { base }
}

const REGION_WEIGHTS: [f64; 6] = [1.0, 0.45, 0.22, 0.1, 0.06, 0.04];

/// Per stream, per window: how many background records to write.
fn budget(
    cfg: &GenConfig,
    org: &Org,
    streams: &[(usize, usize)],
    background: u64,
) -> Vec<Vec<u32>> {
    let windows = (cfg.end_us() - cfg.start_us) / WINDOW_US;
    let raw: Vec<Vec<f64>> = streams
        .iter()
        .enumerate()
        .map(|(i, &(a, r))| {
            if r >= cfg.regions.len() {
                return Vec::new();
            }
            let mut rng = Rng::derive(cfg.seed, "weights", i as u64);
            let base = org.accounts[a].weight * REGION_WEIGHTS[r.min(REGION_WEIGHTS.len() - 1)];
            (0..windows)
                .map(|w| {
                    let t = cfg.start_us + w * WINDOW_US;
                    let spike = if rng.chance(0.02) { 6.0 } else { 1.0 };
                    base * diurnal(t) * rng.burst(0.7) * spike
                })
                .collect()
        })
        .collect();
    let total: f64 = raw.iter().flatten().sum();
    raw.iter()
        .enumerate()
        .map(|(i, ws)| {
            let mut rng = Rng::derive(cfg.seed, "rounding", i as u64);
            ws.iter()
                .map(|w| {
                    let x = background as f64 * w / total.max(f64::MIN_POSITIVE);
                    let n = x.floor();
                    (n + if rng.unit() < x - n { 1.0 } else { 0.0 }) as u32
                })
                .collect()
        })
        .collect()
}

/// Writes the archive for `cfg` under `out` (`out/AWSLogs/…`,
/// `out/s3-metadata/…`, `out/ground-truth.json`) and returns what it wrote.
///
/// `out` should be absent or empty: files of an earlier run with another
/// configuration would stay beside the new ones (and show up as unlisted
/// in [`crate::verify_digests`]). A run with the same configuration
/// rewrites the same files with the same bytes.
pub fn generate(out: &Path, cfg: &GenConfig) -> Result<GenReport, Error> {
    let org = Org::build(
        cfg.seed,
        cfg.accounts,
        &cfg.regions,
        cfg.account_trail_share,
    );
    let mut planner = Planner::new(&org, cfg.seed);
    scenarios::plan(&mut planner, cfg);
    planner.finish();
    let regions = cfg.trail_regions();
    let streams: Vec<(usize, usize)> = (0..org.accounts.len())
        .flat_map(|a| (0..regions.len()).map(move |r| (a, r)))
        .collect();
    let background = cfg.events.saturating_sub(planner.events.len() as u64);
    let counts = budget(cfg, &org, &streams, background);
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let planned = &planner.events;
    let stops = &planner.trail_stops;
    let results: Vec<Result<Stats, Error>> = streams
        .par_iter()
        .enumerate()
        .map(|(i, &(a, r))| {
            let lo =
                planned.partition_point(|p| (p.acct, p.region.as_str()) < (a, regions[r].as_str()));
            let hi = planned
                .partition_point(|p| (p.acct, p.region.as_str()) <= (a, regions[r].as_str()));
            let stop = stops.iter().find(|(acct, _)| *acct == a).map(|(_, t)| *t);
            let mut s = Stream {
                cfg,
                org: &org,
                out,
                acct: a,
                region: regions[r].clone(),
                last_dir: PathBuf::new(),
                stats: Stats::default(),
            };
            s.run(i, r, &counts[i], &planned[lo..hi], stop)?;
            Ok(s.stats)
        })
        .collect();
    let mut report = GenReport::default();
    for r in results {
        let s = r?;
        report.files += s.files;
        report.digest_files += s.digest_files;
        report.events += s.events;
        report.bytes_compressed += s.bytes_compressed;
        report.bytes_uncompressed += s.bytes_uncompressed;
        report.duplicates_delivered += s.duplicates;
    }
    report.truth = GroundTruth {
        format: FORMAT.into(),
        seed: cfg.seed,
        events_requested: cfg.events,
        start: event_time(cfg.start_us),
        end: event_time(cfg.end_us()),
        org_id: org.org_id.clone(),
        bucket: cfg.bucket.clone(),
        accounts: org
            .accounts
            .iter()
            .map(|a| AccountInfo {
                id: a.id.clone(),
                name: a.name.into(),
                account_trail: a.has_account_trail,
            })
            .collect(),
        approved_regions: cfg.regions.clone(),
        trail_regions: regions.clone(),
        scenarios: planner.truth.clone(),
    };
    let path = out.join(GROUND_TRUTH_FILE);
    let mut json = serde_json::to_vec_pretty(&report.truth).map_err(|e| Error::Json {
        path: path.clone(),
        source: e,
    })?;
    json.push(b'\n');
    std::fs::write(&path, json).map_err(|e| Error::io(&path, e))?;
    Ok(report)
}

impl Stream<'_> {
    fn write(&mut self, key: &str, bytes: &[u8]) -> Result<(), Error> {
        let path = self.out.join(key);
        if let Some(dir) = path.parent()
            && dir != self.last_dir
        {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            self.last_dir = dir.to_path_buf();
        }
        std::fs::write(&path, bytes).map_err(|e| Error::io(&path, e))
    }

    fn gzip(
        &self,
        comp: &mut Compressor,
        raw: &[u8],
        gz: &mut Vec<u8>,
        key: &str,
    ) -> Result<(), Error> {
        gz.resize(comp.gzip_compress_bound(raw.len()), 0);
        let n = comp.gzip_compress(raw, gz).map_err(|_| Error::Compress {
            path: self.out.join(key),
        })?;
        gz.truncate(n);
        Ok(())
    }

    /// Emits every digest period of `t` that ends at or before `limit`.
    fn flush(
        &mut self,
        t: &mut Trail,
        comp: &mut Compressor,
        gz: &mut Vec<u8>,
        limit: i64,
    ) -> Result<(), Error> {
        while t.period_start + HOUR <= limit {
            let target = DigestTarget {
                prefix: &t.prefix,
                account: &self.org.accounts[self.acct].id,
                region: &self.region,
                trail: &t.name,
                home_region: &self.cfg.home_region,
                bucket: &self.cfg.bucket,
            };
            let d = digest::build(
                &target,
                t.period_start,
                t.period_start + HOUR,
                &t.pending,
                t.prev.as_ref(),
            );
            self.gzip(comp, &d.bytes, gz, &d.key)?;
            let gzbytes = std::mem::take(gz);
            self.write(&d.key, &gzbytes)?;
            *gz = gzbytes;
            let meta_key = format!("{}/{}.json", digest::METADATA_DIR, d.key);
            self.write(&meta_key, &digest::metadata_json(&d))?;
            self.stats.digest_files += 1;
            t.pending.clear();
            t.prev = Some(d.link);
            t.period_start += HOUR;
        }
        Ok(())
    }

    fn run(
        &mut self,
        index: usize,
        region_idx: usize,
        counts: &[u32],
        planned: &[Planned],
        stop: Option<i64>,
    ) -> Result<(), Error> {
        let cfg = self.cfg;
        let org = self.org;
        let acct = &org.accounts[self.acct];
        let mut rng = Rng::derive(cfg.seed, "delivery", index as u64);
        let offset = (1 + rng.below(58) as i64) * MIN + rng.below(60) as i64 * SEC;
        let mut trails = vec![Trail {
            prefix: format!("AWSLogs/{}/", org.org_id),
            name: cfg.org_trail.clone(),
            org: true,
            stop_us: None,
            period_start: cfg.start_us - HOUR + offset,
            pending: Vec::new(),
            prev: None,
            finished: false,
            last_delivery: cfg.start_us,
        }];
        if acct.has_account_trail {
            let off2 = (1 + rng.below(58) as i64) * MIN + rng.below(60) as i64 * SEC;
            trails.push(Trail {
                prefix: "AWSLogs/".into(),
                name: cfg.account_trail.clone(),
                org: false,
                stop_us: stop,
                period_start: cfg.start_us - HOUR + off2,
                pending: Vec::new(),
                prev: None,
                finished: false,
                last_delivery: cfg.start_us,
            });
        }
        let level =
            CompressionLvl::new(cfg.gzip_level).map_err(|_| Error::Config("gzip level".into()))?;
        let mut comp = Compressor::new(level);
        let mut bg = (region_idx < cfg.regions.len()).then(|| {
            Background::new(
                org,
                self.acct,
                region_idx,
                cfg.seed,
                cfg.error_rate,
                &cfg.home_region,
            )
        });
        let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
        let mut gz: Vec<u8> = Vec::with_capacity(1 << 18);
        let mut dgz: Vec<u8> = Vec::with_capacity(1 << 14);
        let mut times: Vec<i64> = Vec::new();
        let mut next_planned = 0usize;
        let windows = (cfg.end_us() - cfg.start_us) / WINDOW_US;
        for w in 0..windows {
            let t0 = cfg.start_us + w * WINDOW_US;
            let t1 = t0 + WINDOW_US;
            let n = counts.get(w as usize).copied().unwrap_or(0) as usize;
            let p_lo = next_planned;
            while next_planned < planned.len() && planned[next_planned].time_us < t1 {
                next_planned += 1;
            }
            let window_planned = &planned[p_lo..next_planned];
            if n == 0 && window_planned.is_empty() {
                continue;
            }
            times.clear();
            times.extend((0..n).map(|_| t0 + rng.below(300) as i64 * SEC));
            times.sort_unstable();
            // Merge background times and planned events into delivery files.
            let total = n + window_planned.len();
            let files = total.div_ceil(FILE_MAX_RECORDS);
            let (mut bi, mut pi) = (0usize, 0usize);
            for f in 0..files {
                let take = if f + 1 == files {
                    total - f * FILE_MAX_RECORDS
                } else {
                    FILE_MAX_RECORDS
                };
                buf.clear();
                buf.extend_from_slice(b"{\"Records\":[");
                let (mut newest, mut oldest) = (i64::MIN, i64::MAX);
                for k in 0..take {
                    if k > 0 {
                        buf.push(b',');
                    }
                    let use_planned = pi < window_planned.len()
                        && (bi >= n || window_planned[pi].time_us <= times[bi]);
                    let t = if use_planned {
                        buf.extend_from_slice(window_planned[pi].json.as_bytes());
                        pi += 1;
                        window_planned[pi - 1].time_us
                    } else {
                        let t = times[bi];
                        bi += 1;
                        match bg.as_mut() {
                            Some(b) => b.write_one(t, &mut buf),
                            None => buf.extend_from_slice(b"{}"),
                        }
                        t
                    };
                    newest = newest.max(t);
                    oldest = oldest.min(t);
                }
                buf.extend_from_slice(b"]}");
                let delivery = t1 + 20 * SEC + rng.below(250) as i64 * SEC + f as i64 * 3 * SEC;
                let hash = digest::sha256_hex(&buf);
                self.gzip(&mut comp, &buf, &mut gz, "log file")?;
                self.stats.events += take as u64;
                for t in trails.iter_mut() {
                    if t.finished {
                        continue;
                    }
                    if let Some(s) = t.stop_us
                        && t0 > s
                    {
                        // The trail was stopped: a last digest covers its
                        // final deliveries, then its chain ends.
                        let limit = t.last_delivery
                            - (t.last_delivery - t.period_start).rem_euclid(HOUR)
                            + HOUR;
                        self.flush(t, &mut comp, &mut dgz, limit)?;
                        t.finished = true;
                        continue;
                    }
                    self.flush(t, &mut comp, &mut dgz, delivery)?;
                    let region = &self.region;
                    let id = &acct.id;
                    let key = format!(
                        "{}{id}/CloudTrail/{region}/{}/{id}_CloudTrail_{region}_{}_{}.json.gz",
                        t.prefix,
                        date_path(delivery),
                        compact_minute(delivery),
                        rng.alnum(16)
                    );
                    self.write(&key, &gz)?;
                    t.pending.push(LogFileEntry {
                        key,
                        hash: hash.clone(),
                        newest_us: newest,
                        oldest_us: oldest,
                    });
                    t.last_delivery = delivery;
                    self.stats.files += 1;
                    self.stats.bytes_compressed += gz.len() as u64;
                    self.stats.bytes_uncompressed += buf.len() as u64;
                    if !t.org {
                        self.stats.duplicates += take as u64;
                    }
                }
            }
        }
        let end_limit = cfg.end_us() + 2 * HOUR;
        for t in trails.iter_mut() {
            if t.finished {
                continue;
            }
            let limit = match t.stop_us {
                Some(_) => {
                    t.last_delivery - (t.last_delivery - t.period_start).rem_euclid(HOUR) + HOUR
                }
                None => end_limit,
            };
            self.flush(t, &mut comp, &mut dgz, limit)?;
        }
        Ok(())
    }
}
