//! The five breach scenarios, their benign look-alikes, and the legitimate
//! cross-account CI chains every archive carries.
//!
//! Each scenario runs at its own time inside the archive's span, from
//! attacker addresses no benign actor uses, and records its ground truth
//! through the [`Planner`]. The look-alikes are what an over-matching query
//! would also return: the same role chain run by CI from the office, the
//! backup lifecycle deleting recovery points, console logins with MFA, the
//! instance using its own credentials from inside AWS, audit scans of the
//! unapproved region, the same SAML user signing in from the office.

mod credentials;
mod escalation;

use crate::actor::SDK_AGENTS;
use crate::calls::*;
use crate::config::GenConfig;
use crate::org::RoleKind;
use crate::planner::{Mode, Planner};
use crate::scenario::Scenario;
use crate::shapes::ExpiryForm;
use crate::time::{HOUR, MIN, SEC, event_time};
use crate::truth::Hop;
use credentials::{leaked_key, stolen_instance};
use escalation::{console_no_mfa, federated, unapproved_region};

/// The attacker's user agent.
const CLI: &str =
    "aws-cli/2.13.5 Python/3.11.4 Linux/6.2.0-1009-kali exe/x86_64.kali.2023 prompt/off";

fn hop(identity: &str, key: Option<&str>, ip: &str, t: i64, event_id: &str) -> Hop {
    Hop {
        identity_arn: identity.to_owned(),
        key: key.map(str::to_owned),
        source_ip: ip.to_owned(),
        time: event_time(t),
        event_id: event_id.to_owned(),
    }
}

fn user_named(p: &Planner<'_>, acct: usize, prefix: &str) -> usize {
    p.org.accounts[acct]
        .users
        .iter()
        .position(|u| u.name.starts_with(prefix))
        .unwrap_or(0)
}

/// Which accounts the leaked-key chain crosses: `(A, B, C)` where C keeps an
/// account trail (so its `StopLogging` cuts a real digest chain).
pub fn chain_accounts(p: &Planner<'_>) -> (usize, usize, usize) {
    let n = p.org.accounts.len();
    let c = p
        .org
        .accounts
        .iter()
        .position(|a| a.has_account_trail)
        .unwrap_or(0);
    let a = (0..n).rev().find(|&i| i != c).unwrap_or(0);
    let b = (0..n).rev().find(|&i| i != c && i != a).unwrap_or(0);
    (a, b, c)
}

/// Plans everything: CI chains, then each configured scenario.
pub fn plan(p: &mut Planner<'_>, cfg: &GenConfig) {
    let leaked = cfg.scenarios.iter().position(|s| *s == Scenario::LeakedKey);
    let span = cfg.end_us() - cfg.start_us;
    // Scenario slots spread over the span, each with jitter.
    let slot = |i: usize, p: &mut Planner<'_>| {
        let frac = 0.3 + 0.55 * (i as f64 + 0.5) / cfg.scenarios.len().max(1) as f64;
        cfg.start_us + (span as f64 * frac) as i64 + p.rng.below(20) as i64 * MIN
    };
    let mut times = Vec::new();
    for i in 0..cfg.scenarios.len() {
        times.push(slot(i, p));
    }
    let mut indices = Vec::new();
    for s in &cfg.scenarios {
        // The leaked-key attacker switches address after reaching account C.
        let n_ips = if *s == Scenario::LeakedKey { 2 } else { 1 };
        let ips: Vec<String> = (0..n_ips).map(|_| attacker_ip(&mut p.rng)).collect();
        let summary = match s {
            Scenario::LeakedKey => {
                "A leaked long-term key of a deploy user is used from outside, chains roles into two more accounts, reads data and secrets, schedules KMS key deletion, deletes recovery points and stops and deletes the account trail."
            }
            Scenario::StolenInstanceCreds => {
                "Instance-profile credentials are taken from an instance and used from outside AWS to list and read data."
            }
            Scenario::ConsoleNoMfa => {
                "A console login without MFA from an unknown address escalates privileges: AdministratorAccess attached to itself, an access key created for another user, an inline admin policy, then the new key is used."
            }
            Scenario::UnapprovedRegion => {
                "A service user's key launches large instances in a region outside the approved list."
            }
            Scenario::FederatedSession => {
                "A SAML-federated session from an unknown address reads secrets, opens a bucket to the world and reads its objects."
            }
        };
        indices.push(p.begin_scenario(s.name(), summary, &ips));
    }
    ci_chains(p, cfg, leaked.map(|i| indices[i]));
    for (i, s) in cfg.scenarios.iter().enumerate() {
        let (idx, t) = (indices[i], times[i]);
        let ips = p.truth[idx].attacker_ips.clone();
        match s {
            Scenario::LeakedKey => leaked_key(p, idx, t, &ips),
            Scenario::StolenInstanceCreds => stolen_instance(p, idx, t, &ips),
            Scenario::ConsoleNoMfa => console_no_mfa(p, idx, t, &ips),
            Scenario::UnapprovedRegion => unapproved_region(p, cfg, idx, t, &ips),
            Scenario::FederatedSession => federated(p, idx, t, &ips),
        }
    }
    p.mode = Mode::Benign;
}

/// Legitimate role chains every two hours: the deploy user from the office
/// CI runner → B's `terraform-apply` → C's `OrganizationAccountAccessRole`.
fn ci_chains(p: &mut Planner<'_>, cfg: &GenConfig, lookalike_of: Option<usize>) {
    let (a, b, c) = chain_accounts(p);
    let region = cfg.regions[0].clone();
    let user = user_named(p, a, "svc-deploy");
    let ip = p.org.corp_ips[4].clone();
    let runs = (cfg.end_us() - cfg.start_us) / (2 * HOUR);
    for run in 0..runs {
        p.mode = lookalike_of.map_or(Mode::Benign, Mode::Lookalike);
        let t = cfg.start_us + run * 2 * HOUR + 17 * MIN + p.rng.below(600) as i64 * SEC;
        let caller = p.user(a, user, &ip, SDK_AGENTS[6]);
        let name = format!("terraform-{}", 7000 + run);
        let rb = p.org.role_of(b, RoleKind::Ci) + 1; // terraform-apply follows github-actions-deploy
        let (sb, _) = p.assume_role(&caller, a, b, rb, &name, t, &region, ExpiryForm::Console);
        let rc = p.org.role_of(c, RoleKind::OrgAccess);
        let (sc, _) = p.assume_role(
            &sb,
            b,
            c,
            rc,
            &name,
            t + 4 * SEC,
            &region,
            ExpiryForm::Console,
        );
        let bucket = p.org.accounts[c].buckets[1].clone();
        let key = format!("builds/{}/plan.tfplan", 7000 + run);
        let s = whoami(c, &region, t + 6 * SEC, &sc);
        p.emit(s);
        let s = s3_object(p, c, &region, t + 9 * SEC, &sc, "PutObject", &bucket, &key);
        p.emit(s);
        let s = ec2_read(c, &region, t + 12 * SEC, &sc, "DescribeInstances");
        p.emit(s);
        let s = trail_call(c, &region, t + 14 * SEC, &sc, "DescribeTrails", "");
        p.emit(s);
    }
}
