//! The query commands: open the index, ask, print rows.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::{Context, Result};
use backtrail_index::{Actor, Chain, EventRow, Filter, Index, Sessions, WhoAssumed};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::args::{ChainArgs, QueryOpts, SessionsArgs, TimelineArgs, TouchedArgs, WhoAssumedArgs};
use crate::commands::UsageError;
use crate::output::{Format, to_objects, write_json_lines, write_rows};

/// Columns a person scans first, per query (JSON and CSV carry all).
const EVENT_COLS: &[&str] = &[
    "event_time",
    "event_name",
    "principal_arn",
    "access_key_id",
    "source_ip",
    "aws_region",
    "recipient_account_id",
    "error_code",
    "resource_arns",
    "user_agent",
];
const ASSUME_COLS: &[&str] = &[
    "event_time",
    "caller_arn",
    "caller_key",
    "source_ip",
    "mfa",
    "role_arn",
    "session_name",
    "issued_key",
    "expiration",
    "error_code",
    "user_agent",
];
const SESSION_COLS: &[&str] = &[
    "event_time",
    "role_arn",
    "caller_arn",
    "source_ip",
    "issued_key",
    "expiration",
    "first_use",
    "last_use",
    "calls",
    "source_ips",
    "errors",
    "used_from_other_ip",
    "used_after_expiry",
];
const TOUCHED_COLS: &[&str] = &[
    "event_time",
    "event_name",
    "resource_arn",
    "principal_arn",
    "access_key_id",
    "source_ip",
    "error_code",
];
const CHAIN_COLS: &[&str] = &[
    "path",
    "hop",
    "root_of_trust",
    "event_time",
    "principal_arn",
    "access_key_id",
    "source_ip",
    "mfa",
    "event_name",
    "issued_key",
    "session_arn",
    "user_agent",
];

/// Opens the dataset's index with an error that says what to do.
pub fn open(q: &QueryOpts) -> Result<Index> {
    Index::open(&q.data).with_context(|| format!("opening the index of {}", q.data.display()))
}

/// A query error, with malformed arguments turned into usage errors
/// (exit status 2) and everything else kept as it is.
fn ask<T>(r: backtrail_index::Result<T>) -> Result<T> {
    r.map_err(|e| match e {
        backtrail_index::Error::BadArgument { .. } => UsageError(e.to_string()).into(),
        other => anyhow::Error::new(other),
    })
}

/// Orders rows by time (events without one last), then event id. The index
/// breaks time ties by dataset order, which depends on how an ingest's
/// workers happened to batch files; printing by event id makes the same
/// archive print the same answer whatever the ingest's scheduling.
///
/// The index answers in time order already, so only runs of equal times
/// are sorted (by event id): a large answer is not merge-sorted whole,
/// which moved every row several times and took a buffer of half of them.
fn stable_order<T>(rows: &mut [T], event: impl Fn(&T) -> &EventRow) {
    let time = |r: &T| {
        let t = event(r).event_time;
        (t.is_none(), t)
    };
    let by_id = |a: &T, b: &T| event(a).event_id.cmp(&event(b).event_id);
    if rows.is_sorted_by_key(time) {
        for run in rows.chunk_by_mut(|a, b| time(a) == time(b)) {
            run.sort_by(by_id);
        }
    } else {
        rows.sort_by(|a, b| time(a).cmp(&time(b)).then_with(|| by_id(a, b)));
    }
}

/// [`print`] as the command's last act: the process then exits without
/// freeing `rows` one string at a time (a few million allocations for a
/// large answer: about a tenth of `touched`'s time on a bucket of 400k
/// events).
fn finish<T: Serialize + Sync>(
    q: &QueryOpts,
    rows: Vec<T>,
    table: &[&str],
    what: &str,
) -> Result<ExitCode> {
    let code = print(q, &rows, table, what);
    std::mem::forget(rows);
    code
}

/// The query filter from the shared options.
pub fn filter(q: &QueryOpts) -> Result<Filter> {
    if let (Some(f), Some(t)) = (q.from, q.to)
        && f >= t
    {
        return Err(UsageError("--from must be earlier than --to".into()).into());
    }
    Ok(Filter {
        from: q.from,
        to: q.to,
        account: q.account.clone(),
        region: q.region.clone(),
    })
}

/// Prints rows in the chosen format, or says on stderr that nothing matched.
pub fn print<T: Serialize + Sync>(
    q: &QueryOpts,
    rows: &[T],
    table: &[&str],
    what: &str,
) -> Result<ExitCode> {
    // JSON lines need no column selection: write the rows as they are,
    // without building an intermediate map per row (large answers).
    if !rows.is_empty() && q.format.resolve(io::stdout().is_terminal()) == Format::Json {
        let mut out = BufWriter::with_capacity(1 << 16, io::stdout().lock());
        write_json_lines(&mut out, rows)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    print_objects(q, to_objects(rows)?, table, what)
}

fn print_objects(
    q: &QueryOpts,
    rows: Vec<Map<String, Value>>,
    table: &[&str],
    what: &str,
) -> Result<ExitCode> {
    if rows.is_empty() {
        eprintln!(
            "no {what} match (the index covers every ingested partition; widen --from/--to, --account or --region?)"
        );
        return Ok(ExitCode::SUCCESS);
    }
    let format = q.format.resolve(io::stdout().is_terminal());
    let mut out = BufWriter::new(io::stdout().lock());
    write_rows(&mut out, format, &rows, Some(table))?;
    out.flush()?;
    if format == Format::Table && io::stderr().is_terminal() {
        eprintln!("{} row(s)", rows.len());
    }
    Ok(ExitCode::SUCCESS)
}

/// `who-assumed`.
pub fn who_assumed(a: &WhoAssumedArgs) -> Result<ExitCode> {
    let f = filter(&a.q)?;
    let q = WhoAssumed {
        role: a.role.clone(),
        by: a.by.clone(),
    };
    let mut rows = ask(open(&a.q)?.who_assumed(&q, &f))?;
    stable_order(&mut rows, |r| &r.event);
    finish(&a.q, rows, ASSUME_COLS, "credential-issuing calls")
}

/// The chain as rows: one a hop, each carrying its path number and status.
pub fn chain_rows(c: &Chain) -> Result<Vec<Map<String, Value>>> {
    let mut rows = Vec::new();
    for (i, p) in c.paths.iter().enumerate() {
        for h in &p.hops {
            let mut m = Map::new();
            m.insert("path".into(), (i + 1).into());
            m.insert("path_status".into(), serde_json::to_value(p.status)?);
            m.insert("chain_key".into(), serde_json::to_value(&p.key)?);
            if let Value::Object(o) = serde_json::to_value(h)? {
                m.extend(o);
            }
            rows.push(m);
        }
    }
    Ok(rows)
}

/// `chain`.
pub fn chain(a: &ChainArgs) -> Result<ExitCode> {
    let f = filter(&a.q)?;
    let c = ask(open(&a.q)?.chain(&a.start, &f))?;
    let rows = chain_rows(&c)?;
    let tty = io::stderr().is_terminal();
    if tty && !rows.is_empty() {
        for (i, p) in c.paths.iter().enumerate() {
            eprintln!(
                "path {}: {} ({} hop(s)){}",
                i + 1,
                serde_json::to_value(p.status)?.as_str().unwrap_or("?"),
                p.hops.len(),
                p.key
                    .as_deref()
                    .map(|k| format!(" for key {k}"))
                    .unwrap_or_default()
            );
        }
    }
    print_objects(&a.q, rows, CHAIN_COLS, "chains")
}

/// `sessions`.
pub fn sessions(a: &SessionsArgs) -> Result<ExitCode> {
    let f = filter(&a.q)?;
    let q = Sessions {
        role: a.role.clone(),
        principal: a.principal.clone(),
    };
    let mut rows = ask(open(&a.q)?.sessions(&q, &f))?;
    stable_order(&mut rows, |r| &r.event);
    finish(&a.q, rows, SESSION_COLS, "issued credentials")
}

/// `touched`.
pub fn touched(a: &TouchedArgs) -> Result<ExitCode> {
    let f = filter(&a.q)?;
    let mut rows = ask(open(&a.q)?.touched(&a.resource, &f))?;
    stable_order(&mut rows, |r| &r.event);
    finish(&a.q, rows, TOUCHED_COLS, "events")
}

/// `timeline`.
pub fn timeline(a: &TimelineArgs) -> Result<ExitCode> {
    let f = filter(&a.q)?;
    let actor = match (&a.principal, &a.key, &a.ip, &a.session) {
        (Some(p), ..) => Actor::Principal(p.clone()),
        (_, Some(k), ..) => Actor::Key(k.clone()),
        (_, _, Some(i), _) => Actor::Ip(i.clone()),
        (.., Some(s)) => Actor::Session(s.clone()),
        _ => {
            return Err(
                UsageError("give one of --principal, --key, --ip, --session".into()).into(),
            );
        }
    };
    let mut rows = ask(open(&a.q)?.timeline(&actor, &f))?;
    stable_order(&mut rows, |r| &r.event);
    finish(&a.q, rows, EVENT_COLS, "events")
}
