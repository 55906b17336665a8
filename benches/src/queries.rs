//! The query workload: each backtrail query and the SQL that answers the
//! same question over the same Parquet, with arguments taken from the
//! archive's ground truth (the leaked-key scenario's role, key and data).

use anyhow::{Context, Result};
use serde_json::{Value, json};

/// One query in both forms.
pub struct Query {
    /// Short name for the table.
    pub name: &'static str,
    /// `backtrail` arguments (after the subcommand name's position).
    pub args: Vec<String>,
    /// DuckDB SQL over the view `events`.
    pub sql: String,
}

fn q(s: &str) -> String {
    s.replace('\'', "''")
}

/// Builds the workload from `ground-truth.json`.
pub fn workload(truth: &Value) -> Result<Vec<Query>> {
    let sc = truth["scenarios"]
        .as_array()
        .and_then(|v| v.iter().find(|s| s["scenario"] == "leaked-key"))
        .context("ground truth has no leaked-key scenario")?;
    let role = sc["assumptions"][0]["role_arn"]
        .as_str()
        .context("no assumption")?
        .to_owned();
    let key = sc["chains"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .max_by_key(|c| c["hops"].as_array().map_or(0, Vec::len))
        })
        .and_then(|c| c["key"].as_str())
        .context("no chain")?
        .to_owned();
    let bucket = sc["resources_touched"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .find_map(|a| a.strip_prefix("arn:aws:s3:::"))
        })
        .map(|b| b.split('/').next().unwrap_or(b).to_owned())
        .context("no S3 resource touched")?;
    let common = "eventTime, eventID, eventSource, eventName, awsRegion, recipientAccountId, principal_arn, principal_type, access_key_id, sourceIPAddress, userAgent, errorCode";
    Ok(vec![
        Query {
            name: "who-assumed",
            args: vec!["who-assumed".into(), role.clone()],
            sql: format!(
                "SELECT {common}, target_role_arn, target_session_name, source_identity, mfa, issued_key, issued_session_arn, expiration \
                 FROM events WHERE target_role_arn = '{r}' AND eventName IN ('AssumeRole','AssumeRoleWithSAML','AssumeRoleWithWebIdentity','GetRoleCredentials') ORDER BY eventTime",
                r = q(&role)
            ),
        },
        Query {
            name: "chain",
            args: vec!["chain".into(), key.clone()],
            sql: format!(
                "WITH RECURSIVE hops(depth, issued, caller_key, t, ip) AS ( \
                   SELECT 0, issued_key, access_key_id, eventTime, sourceIPAddress FROM events WHERE issued_key = '{k}' \
                   UNION ALL \
                   SELECT h.depth + 1, e.issued_key, e.access_key_id, e.eventTime, e.sourceIPAddress \
                   FROM events e JOIN hops h ON e.issued_key = h.caller_key WHERE h.depth < 16) \
                 SELECT * FROM hops ORDER BY depth DESC",
                k = q(&key)
            ),
        },
        Query {
            name: "sessions",
            args: vec!["sessions".into(), "--role".into(), role.clone()],
            sql: format!(
                "SELECT i.issued_key, any_value(i.eventTime) AS issued, any_value(i.expiration) AS expires, \
                   min(u.eventTime), max(u.eventTime), count(u.eventID), count(DISTINCT u.sourceIPAddress), \
                   count(u.errorCode) \
                 FROM events i LEFT JOIN events u ON u.access_key_id = i.issued_key \
                 WHERE i.target_role_arn = '{r}' AND i.issued_key IS NOT NULL GROUP BY i.issued_key",
                r = q(&role)
            ),
        },
        Query {
            name: "touched",
            args: vec!["touched".into(), bucket.clone()],
            sql: format!(
                "SELECT {common} FROM events WHERE len(list_filter(resource_arns, lambda x: x = 'arn:aws:s3:::{b}' OR starts_with(x, 'arn:aws:s3:::{b}/'))) > 0 ORDER BY eventTime",
                b = q(&bucket)
            ),
        },
        Query {
            name: "timeline",
            args: vec!["timeline".into(), "--key".into(), key.clone()],
            sql: format!(
                "SELECT {common} FROM events WHERE access_key_id = '{k}' ORDER BY eventTime",
                k = q(&key)
            ),
        },
    ])
}

/// The SQL half as the JSON `duckdb_queries.py` reads.
pub fn sql_json(w: &[Query]) -> Value {
    Value::Array(
        w.iter()
            .map(|x| json!({"name": x.name, "sql": x.sql}))
            .collect(),
    )
}
