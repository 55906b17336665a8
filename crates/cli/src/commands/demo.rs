//! `backtrail demo`: the main job on a built-in example. Generate an
//! organization's archive with a leaked access key hidden in it, ingest it,
//! index it, and reconstruct the breach from one alert, then check the
//! reconstruction against the generator's ground truth.

use std::collections::BTreeSet;
use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use backtrail_index::{Actor, Filter, HopKind, Index, WhoAssumed};
use backtrail_synth::Scenario;
use backtrail_synth::truth::ScenarioTruth;

use crate::args::{DemoArgs, IngestArgs};
use crate::output::{Format, to_objects, write_rows};
use crate::sanitize::visible;

fn heading(s: &str) {
    let tty = io::stdout().is_terminal();
    if tty {
        println!("\n\u{1b}[1m{s}\u{1b}[0m");
    } else {
        println!("\n{s}");
    }
}

fn table<T: serde::Serialize>(rows: &[T], cols: &[&str]) -> Result<()> {
    let objs = to_objects(rows)?;
    write_rows(&mut io::stdout().lock(), Format::Table, &objs, Some(cols))?;
    Ok(())
}

/// Runs the demo.
pub fn run(a: &DemoArgs) -> Result<ExitCode> {
    let tmp;
    let dir: PathBuf = match &a.dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir().context("creating a temporary folder")?;
            tmp.path().to_path_buf()
        }
    };
    let archive = dir.join("archive");
    let data = dir.join("data");
    if archive.exists() || data.exists() {
        anyhow::bail!(
            "{} already holds an archive or dataset; give an empty --dir",
            dir.display()
        );
    }

    println!(
        "backtrail demo: a synthetic AWS organization with a leaked access key hidden in its CloudTrail archive"
    );
    let t = Instant::now();
    let report = super::synth::generate(&archive, a.events, a.seed, vec![Scenario::LeakedKey])?;
    println!(
        "  generated {} events in {} log files ({:.0} MB gzip) across {} accounts, org trail + account trails, in {:.1}s",
        report.events,
        report.files,
        report.bytes_compressed as f64 / 1e6,
        report.truth.accounts.len(),
        t.elapsed().as_secs_f64()
    );
    let ingest_args = IngestArgs {
        inputs: vec![archive.join("AWSLogs")],
        out: data.clone(),
        threads: None,
        max_inflated_bytes: None,
        strict: true,
        quiet: false,
        json: false,
        no_index: false,
    };
    let s = super::ingest::ingest(&ingest_args)?;
    println!(
        "  ingested {} records: {} stored, {} duplicates dropped ({} files delivered twice), {} digests, {} quarantined, in {:.1}s",
        s.events_read,
        s.events_new,
        s.events_read - s.events_new,
        s.duplicate_files,
        s.digests,
        s.quarantined.len(),
        s.elapsed_ms as f64 / 1000.0
    );
    let t = Instant::now();
    super::index::update(&data, &s.partitions, true)?;
    println!(
        "  indexed {} day partitions in {:.2}s",
        s.partitions.len(),
        t.elapsed().as_secs_f64()
    );

    let truth = &report.truth;
    let sc = truth
        .scenarios
        .iter()
        .find(|x| x.scenario == Scenario::LeakedKey.name())
        .context("the generator wrote no leaked-key scenario")?;
    let ip = sc
        .attacker_ips
        .first()
        .context("scenario has no attacker IP")?;
    let index = Index::open(&data)?;
    let all = Filter::default();

    heading(&format!(
        "The alert: API calls from {ip}, an address no one in the organization uses. Whose credentials, and where do they come from?"
    ));
    println!("  $ backtrail chain {ip}");
    let chain = index.chain(ip, &all)?;
    let rows = super::query::chain_rows(&chain)?;
    write_rows(
        &mut io::stdout().lock(),
        Format::Table,
        &rows,
        Some(&[
            "path",
            "hop",
            "root_of_trust",
            "event_time",
            "principal_arn",
            "access_key_id",
            "source_ip",
            "event_name",
            "issued_key",
        ]),
    )?;

    // The attacker's credentials: every key the chains issued, then, going
    // forward, every credential those keys obtained in turn (an analyst's
    // `sessions --principal SESSION`, kept to calls signed by that key).
    let hops: Vec<&backtrail_index::Hop> = chain.paths.iter().flat_map(|p| &p.hops).collect();
    let issues: Vec<&backtrail_index::Hop> = hops
        .iter()
        .copied()
        .filter(|h| h.hop == HopKind::Issue)
        .collect();
    let mut frontier: Vec<(String, Option<String>)> = issues
        .iter()
        .filter_map(|h| {
            h.row
                .issued_key
                .clone()
                .map(|k| (k, h.row.session_arn.clone()))
        })
        .collect();
    let mut attacker_keys: BTreeSet<String> = BTreeSet::new();
    let mut roles: BTreeSet<String> = issues
        .iter()
        .filter_map(|h| h.row.role_arn.clone())
        .collect();
    let mut attacker_ips: BTreeSet<String> = BTreeSet::from([ip.clone()]);
    attacker_ips.extend(issues.iter().filter_map(|h| h.row.event.source_ip.clone()));
    while let Some((key, session)) = frontier.pop() {
        if !attacker_keys.insert(key.clone()) {
            continue;
        }
        let Some(session) = session else { continue };
        let q = backtrail_index::Sessions {
            role: None,
            principal: Some(session),
        };
        for r in index.sessions(&q, &all)? {
            if r.caller_key.as_deref() == Some(key.as_str()) {
                roles.extend(r.role_arn.clone());
                attacker_ips.extend(r.event.source_ip.clone());
                frontier.push((r.issued_key.clone(), r.session_arn.clone()));
            }
        }
    }
    if !attacker_keys.is_empty() {
        println!(
            "  following the chain forward, those credentials obtained {} session key(s) in all: {}",
            attacker_keys.len(),
            attacker_keys.iter().cloned().collect::<Vec<_>>().join(", ")
        );
    }

    heading("Which roles were assumed along the way, by whom, from where?");
    for role in &roles {
        println!("  $ backtrail who-assumed {role}");
        let rows = index.who_assumed(
            &WhoAssumed {
                role: role.clone(),
                by: None,
            },
            &all,
        )?;
        // A cross-account call is logged in both accounts; show the
        // caller's copy once. Calls from the attacker's addresses are shown,
        // the rest summarised by caller and address.
        let callers: Vec<_> = rows
            .iter()
            .filter(|r| r.event.principal_type.as_deref() != Some("AWSAccount"))
            .collect();
        let (suspicious, usual): (Vec<_>, Vec<_>) = callers.into_iter().partition(|r| {
            r.event
                .source_ip
                .as_ref()
                .is_some_and(|i| attacker_ips.contains(i))
        });
        let shown: Vec<_> = suspicious.into_iter().cloned().collect();
        table(
            &shown,
            &[
                "event_time",
                "caller_arn",
                "caller_key",
                "source_ip",
                "mfa",
                "session_name",
                "issued_key",
                "error_code",
            ],
        )?;
        let mut groups: std::collections::BTreeMap<(String, String), usize> = Default::default();
        for r in usual {
            // Sessions of one role count as one caller.
            let caller = r.caller_arn.clone().unwrap_or_default();
            let caller = backtrail_model::arn::role_arn_of_session(&caller).unwrap_or(caller);
            let k = (caller, r.event.source_ip.clone().unwrap_or_default());
            *groups.entry(k).or_default() += 1;
        }
        for ((caller, from), n) in groups {
            println!(
                "  … and {n} usual call(s) by {} from {}",
                visible(&caller),
                visible(&from)
            );
        }
    }

    heading("What did those credentials do? Data touched and tampering:");
    let mut events: Vec<backtrail_index::TimelineRow> = Vec::new();
    let mut seen = BTreeSet::new();
    for k in &attacker_keys {
        println!("  $ backtrail timeline --key {k}");
        for e in index.timeline(&Actor::Key(k.clone()), &all)? {
            if seen.insert(e.event.event_id.clone()) {
                events.push(e);
            }
        }
    }
    // The long-term keys at the roots: their calls from the attacker's
    // addresses only (the same key also serves its legitimate owner).
    let root_keys: BTreeSet<String> = hops
        .iter()
        .filter(|h| h.hop == HopKind::Root)
        .filter_map(|h| h.row.event.access_key_id.clone())
        .collect();
    for k in &root_keys {
        println!("  $ backtrail timeline --key {k}   (calls from the attacker's addresses)");
        for e in index.timeline(&Actor::Key(k.clone()), &all)? {
            let from_attacker = e
                .event
                .source_ip
                .as_ref()
                .is_some_and(|i| attacker_ips.contains(i));
            if from_attacker && seen.insert(e.event.event_id.clone()) {
                events.push(e);
            }
        }
    }
    events.sort_by_key(|e| e.event.event_time);
    let notable: Vec<_> = events
        .iter()
        .filter(|e| {
            let name = e.event.event_name.as_deref().unwrap_or("");
            let source = e.event.event_source.as_deref().unwrap_or("");
            (!e.resource_arns.is_empty() && source != "sts.amazonaws.com")
                || backtrail_synth::truth::is_tamper(source, name)
        })
        .cloned()
        .collect();
    table(
        &notable,
        &[
            "event_time",
            "event_name",
            "resource_arns",
            "source_ip",
            "recipient_account_id",
            "error_code",
        ],
    )?;
    println!(
        "  ({} calls by the attacker's credentials; {} shown: data access and tampering)",
        events.len(),
        notable.len()
    );

    heading("Checked against the generator's ground truth:");
    let found_keys: BTreeSet<String> = attacker_keys.union(&root_keys).cloned().collect();
    check(sc, &found_keys, &events);
    if a.dir.is_some() {
        println!("\nThe dataset stays in {}; try:", data.display());
        println!(
            "  backtrail sessions --data {} --role {}",
            data.display(),
            roles.iter().next().map_or("ROLE", String::as_str)
        );
        println!(
            "  duckdb -c \"SELECT eventName, count(*) FROM read_parquet('{}/events/**/*.parquet', hive_partitioning = true) GROUP BY 1 ORDER BY 2 DESC\"",
            data.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints recall of keys, resources and tamper events against the truth.
fn check(sc: &ScenarioTruth, keys: &BTreeSet<String>, events: &[backtrail_index::TimelineRow]) {
    let want_keys: BTreeSet<&str> = sc
        .chains
        .iter()
        .flat_map(|c| c.hops.iter().filter_map(|h| h.key.as_deref()))
        .collect();
    let got_keys: BTreeSet<&str> = keys.iter().map(String::as_str).collect();
    let want_res: BTreeSet<&str> = sc.resources_touched.iter().map(String::as_str).collect();
    let got_res: BTreeSet<&str> = events
        .iter()
        .flat_map(|e| e.resource_arns.iter().map(String::as_str))
        .collect();
    let want_tamper: BTreeSet<&str> = sc
        .tamper_events
        .iter()
        .map(|t| t.event_id.as_str())
        .collect();
    let got_ids: BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e.event.event_id.as_deref())
        .collect();
    let line = |what: &str, want: &BTreeSet<&str>, found: usize| {
        let mark = if found == want.len() { "✓" } else { "✗" };
        println!("  {mark} {what}: {found} of {} found", want.len());
    };
    line(
        "keys in the attacker's chain",
        &want_keys,
        want_keys.intersection(&got_keys).count(),
    );
    line(
        "resources the attacker touched",
        &want_res,
        want_res.intersection(&got_res).count(),
    );
    line(
        "tamper events (logging, keys, backups)",
        &want_tamper,
        want_tamper.intersection(&got_ids).count(),
    );
    let extra = got_res.difference(&want_res).count();
    println!(
        "  {} resource(s) reported that the attacker did not touch",
        extra
    );
}
