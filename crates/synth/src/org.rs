//! The simulated organization: accounts, principals, resources, addresses.
//!
//! Built once from the seed, read-only afterwards and shared by every
//! worker. Names follow what real organizations use (a management account,
//! a log archive, security tooling, prod/staging/dev workloads, a data
//! platform, a sandbox); principals are humans with console access and MFA,
//! service users with long-term keys, workload roles (instance profiles,
//! Lambda, ECS tasks, EKS pods through web identity), CI roles that chain
//! into other accounts, Identity Center permission-set roles and a SAML
//! role. Role sessions rotate every hour, so the temporary keys and session
//! names in an archive are many and short-lived, like real ones.

use crate::rng::{Rng, hash_str, splitmix};

/// What a role is for; decides who assumes it and what it calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleKind {
    /// ECS task / application role, assumed by the service.
    App,
    /// EC2 instance profile role (sessions named after the instance).
    Instance,
    /// Lambda execution role.
    Lambda,
    /// CI deploy role, assumed across accounts by the CI chain.
    Ci,
    /// Identity Center permission-set role (`AWSReservedSSO_…`).
    Sso,
    /// SAML-federated role.
    Saml,
    /// EKS pod role through web identity (IRSA).
    WebIdentity,
    /// Security audit role that reads every region.
    Audit,
    /// `OrganizationAccountAccessRole`.
    OrgAccess,
    /// AWS Backup service role.
    Backup,
}

/// One of a role's concurrent sessions in a region (a new key each hour).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionRef {
    /// Account index.
    pub account: usize,
    /// Role index in the account.
    pub role: usize,
    /// Region index.
    pub region: usize,
    /// Slot, `0..role.sessions`.
    pub slot: u32,
}

/// An IAM role.
#[derive(Debug, Clone)]
pub struct Role {
    /// Role name.
    pub name: String,
    /// `arn:aws:iam::ACCOUNT:role/NAME`.
    pub arn: String,
    /// `AROA…` unique id.
    pub principal_id: String,
    /// What it is for.
    pub kind: RoleKind,
    /// How many concurrent sessions it has in an hour.
    pub sessions: u32,
}

/// An IAM user.
#[derive(Debug, Clone)]
pub struct User {
    /// User name.
    pub name: String,
    /// `arn:aws:iam::ACCOUNT:user/NAME`.
    pub arn: String,
    /// `AIDA…` unique id.
    pub principal_id: String,
    /// Long-term access key `AKIA…`.
    pub key: String,
    /// A person (console, MFA) rather than a service user.
    pub human: bool,
}

/// An EC2 instance with an instance profile.
#[derive(Debug, Clone)]
pub struct Instance {
    /// `i-…`.
    pub id: String,
    /// Index of its role in the account's roles.
    pub role: usize,
    /// Region it runs in.
    pub region: usize,
    /// Its public egress address (inside AWS's ranges).
    pub ip: String,
}

/// Resources of one account in one region.
#[derive(Debug, Clone, Default)]
pub struct RegionalResources {
    /// KMS key ids (UUIDs).
    pub kms_keys: Vec<String>,
    /// Secret names with the 6-character suffix (`prod/db/password-AbCdEf`).
    pub secrets: Vec<String>,
    /// DynamoDB table names.
    pub tables: Vec<String>,
    /// Lambda function names.
    pub functions: Vec<String>,
    /// Backup vault name.
    pub vault: String,
}

/// One member account.
#[derive(Debug, Clone)]
pub struct Account {
    /// 12-digit id.
    pub id: String,
    /// Short name (`prod`, `security`, …).
    pub name: &'static str,
    /// Relative share of the organization's activity.
    pub weight: f64,
    /// IAM users.
    pub users: Vec<User>,
    /// IAM roles.
    pub roles: Vec<Role>,
    /// S3 buckets (global names).
    pub buckets: Vec<String>,
    /// Instances with instance profiles.
    pub instances: Vec<Instance>,
    /// Per configured region.
    pub regional: Vec<RegionalResources>,
    /// Delivers to its own account trail as well as the org trail.
    pub has_account_trail: bool,
}

/// The whole organization.
#[derive(Debug, Clone)]
pub struct Org {
    /// `o-…`.
    pub org_id: String,
    /// Accounts; index 0 is the management account.
    pub accounts: Vec<Account>,
    /// Regions with regular activity.
    pub regions: Vec<String>,
    /// Corporate egress addresses (humans, on-premises CI).
    pub corp_ips: Vec<String>,
    /// Identity Center identity store ARN.
    pub identity_store_arn: String,
    /// Seed the per-session keys are derived from.
    pub seed: u64,
}

const ACCOUNT_NAMES: [(&str, f64); 10] = [
    ("management", 0.6),
    ("log-archive", 0.5),
    ("security", 1.0),
    ("prod", 4.0),
    ("staging", 1.6),
    ("dev", 1.3),
    ("data", 3.0),
    ("sandbox", 0.4),
    ("shared-services", 1.2),
    ("analytics", 2.0),
];

const FIRST: [&str; 24] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "wendy", "xavier", "yolanda",
    "zoe", "marcus", "priya",
];
const LAST: [&str; 12] = [
    "smith", "jones", "garcia", "chen", "patel", "muller", "rossi", "kowalski", "nguyen", "silva",
    "tanaka", "okafor",
];
const SERVICES: [&str; 8] = [
    "orders",
    "payments",
    "catalog",
    "search",
    "billing",
    "users",
    "ledger",
    "notifications",
];

fn role(rng: &mut Rng, account: &str, name: String, kind: RoleKind, sessions: u32) -> Role {
    Role {
        arn: format!("arn:aws:iam::{account}:role/{name}"),
        principal_id: rng.aws_id("AROA"),
        name,
        kind,
        sessions,
    }
}

fn user(rng: &mut Rng, account: &str, name: String, human: bool) -> User {
    User {
        arn: format!("arn:aws:iam::{account}:user/{name}"),
        principal_id: rng.aws_id("AIDA"),
        key: rng.aws_id("AKIA"),
        name,
        human,
    }
}

/// A public address inside AWS's ranges (`3.x`, `18.x`, `34.x`, `52.x`, `54.x`).
pub fn aws_ip(rng: &mut Rng) -> String {
    let first = *rng.pick(&[3u8, 18, 34, 35, 44, 52, 54]);
    format!(
        "{first}.{}.{}.{}",
        rng.below(256),
        rng.below(256),
        1 + rng.below(254)
    )
}

impl Org {
    /// Builds the organization for `seed`.
    pub fn build(seed: u64, accounts: usize, regions: &[String], account_trail_share: f64) -> Org {
        let mut rng = Rng::derive(seed, "org", 0);
        let org_id = format!("o-{}", rng.alnum(10).to_ascii_lowercase());
        let corp_ips = (0..6)
            .map(|i| {
                if i < 3 {
                    format!("198.51.100.{}", 10 + rng.below(200))
                } else {
                    format!("203.0.113.{}", 10 + rng.below(200))
                }
            })
            .collect();
        let mut accts = Vec::new();
        for a in 0..accounts {
            let (name, weight) = ACCOUNT_NAMES[a % ACCOUNT_NAMES.len()];
            let id = format!("{:012}", 100_000_000_000 + rng.below(899_999_999_999));
            accts.push(Self::account(&mut rng, id, name, weight, a, regions));
        }
        // A fraction of accounts keep their own trail beside the org trail;
        // at least one whenever the share is positive, so overlap exists.
        let n_trail = ((accounts as f64) * account_trail_share).round() as usize;
        let n_trail = if account_trail_share > 0.0 {
            n_trail.max(1)
        } else {
            0
        };
        for (i, a) in accts.iter_mut().enumerate() {
            // Prefer workload accounts (they are the ones with local trails).
            a.has_account_trail = ((i + 3 * accounts - 3) % accounts) < n_trail;
        }
        let mgmt = accts[0].id.clone();
        Org {
            org_id,
            identity_store_arn: format!(
                "arn:aws:identitystore::{mgmt}:identitystore/d-{}",
                rng.hex(10)
            ),
            accounts: accts,
            regions: regions.to_vec(),
            corp_ips,
            seed,
        }
    }

    fn account(
        rng: &mut Rng,
        id: String,
        name: &'static str,
        weight: f64,
        index: usize,
        regions: &[String],
    ) -> Account {
        let mut users = Vec::new();
        let humans = if index == 0 { 14 } else { 6 + rng.index(8) };
        for _ in 0..humans {
            let n = format!("{}.{}", rng.pick(&FIRST), rng.pick(&LAST));
            if users.iter().any(|u: &User| u.name == n) {
                continue;
            }
            users.push(user(rng, &id, n, true));
        }
        for s in [
            "svc-deploy",
            "svc-backup-export",
            "svc-monitoring",
            "svc-etl",
        ] {
            users.push(user(rng, &id, format!("{s}-{name}"), false));
        }
        let mut roles = Vec::new();
        for s in SERVICES.iter().take(3 + rng.index(5)) {
            roles.push(role(rng, &id, format!("{s}-task"), RoleKind::App, 3));
            roles.push(role(rng, &id, format!("{s}-lambda"), RoleKind::Lambda, 2));
        }
        for s in ["app", "batch", "bastion", "web"] {
            roles.push(role(rng, &id, format!("ec2-{s}"), RoleKind::Instance, 1));
        }
        roles.push(role(
            rng,
            &id,
            "github-actions-deploy".into(),
            RoleKind::Ci,
            2,
        ));
        roles.push(role(rng, &id, "terraform-apply".into(), RoleKind::Ci, 1));
        for ps in ["AdministratorAccess", "ReadOnlyAccess", "PowerUserAccess"] {
            let n = format!("AWSReservedSSO_{ps}_{}", rng.hex(16));
            roles.push(role(rng, &id, n, RoleKind::Sso, 2));
        }
        roles.push(role(rng, &id, "okta-engineer".into(), RoleKind::Saml, 2));
        roles.push(role(
            rng,
            &id,
            format!("eks-{name}-pod-role"),
            RoleKind::WebIdentity,
            4,
        ));
        roles.push(role(rng, &id, "security-audit".into(), RoleKind::Audit, 1));
        roles.push(role(
            rng,
            &id,
            "OrganizationAccountAccessRole".into(),
            RoleKind::OrgAccess,
            1,
        ));
        roles.push(role(
            rng,
            &id,
            "AWSBackupDefaultServiceRole".into(),
            RoleKind::Backup,
            1,
        ));
        let buckets = ["lake", "artifacts", "logs", "exports", "backups"]
            .iter()
            .take(3 + rng.index(3))
            .map(|b| format!("acme-{name}-{b}"))
            .collect();
        let mut instances = Vec::new();
        let inst_roles: Vec<usize> = roles
            .iter()
            .enumerate()
            .filter(|(_, r)| r.kind == RoleKind::Instance)
            .map(|(i, _)| i)
            .collect();
        for r in 0..regions.len() {
            for _ in 0..(if r == 0 { 6 } else { 2 }) {
                instances.push(Instance {
                    id: format!("i-0{}", rng.hex(16)),
                    role: *rng.pick(&inst_roles),
                    region: r,
                    ip: aws_ip(rng),
                });
            }
        }
        let regional = regions
            .iter()
            .map(|_| RegionalResources {
                kms_keys: (0..3).map(|_| rng.uuid()).collect(),
                secrets: [
                    "db/password",
                    "api/stripe-key",
                    "rds/reporting",
                    "app/jwt-signing",
                ]
                .iter()
                .map(|s| format!("{name}/{s}-{}", rng.alnum(6)))
                .collect(),
                tables: SERVICES
                    .iter()
                    .take(4)
                    .map(|s| format!("{name}-{s}"))
                    .collect(),
                functions: SERVICES
                    .iter()
                    .take(4)
                    .map(|s| format!("{s}-handler"))
                    .collect(),
                vault: format!("{name}-backup-vault"),
            })
            .collect();
        Account {
            id,
            name,
            weight,
            users,
            roles,
            buckets,
            instances,
            regional,
            has_account_trail: false,
        }
    }

    /// The temporary key of session `s` in the hour `hour` (hours since the
    /// epoch), derived, not stored.
    pub fn session_key(&self, s: SessionRef, hour: i64) -> String {
        let h = splitmix(
            self.seed
                ^ hash_str(&self.accounts[s.account].roles[s.role].name)
                ^ splitmix(
                    (s.account as u64) << 48
                        ^ (s.region as u64) << 40
                        ^ u64::from(s.slot) << 32
                        ^ hour as u64,
                ),
        );
        Rng::new(h).aws_id("ASIA")
    }

    /// Index of the first role of `kind` in an account.
    pub fn role_of(&self, account: usize, kind: RoleKind) -> usize {
        self.accounts[account]
            .roles
            .iter()
            .position(|r| r.kind == kind)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regions() -> Vec<String> {
        vec!["us-east-1".into(), "eu-west-1".into()]
    }

    #[test]
    fn organizations_are_deterministic_and_well_formed() {
        let a = Org::build(9, 7, &regions(), 0.3);
        let b = Org::build(9, 7, &regions(), 0.3);
        let ids: Vec<&str> = a.accounts.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(
            ids,
            b.accounts.iter().map(|x| x.id.as_str()).collect::<Vec<_>>()
        );
        let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), 7);
        assert!(
            ids.iter()
                .all(|i| i.len() == 12 && i.bytes().all(|c| c.is_ascii_digit()))
        );
        assert!(a.org_id.starts_with("o-") && a.org_id.len() == 12);
        for acct in &a.accounts {
            let names: std::collections::BTreeSet<&str> =
                acct.roles.iter().map(|r| r.name.as_str()).collect();
            assert_eq!(
                names.len(),
                acct.roles.len(),
                "role names unique in {}",
                acct.name
            );
            assert!(
                acct.users
                    .iter()
                    .all(|u| u.key.starts_with("AKIA") && u.principal_id.starts_with("AIDA"))
            );
            assert!(
                acct.roles
                    .iter()
                    .all(|r| r.principal_id.starts_with("AROA"))
            );
            assert_eq!(acct.regional.len(), 2);
        }
        let s = SessionRef {
            account: 1,
            role: 2,
            region: 0,
            slot: 0,
        };
        assert_eq!(a.session_key(s, 100), b.session_key(s, 100));
        assert_ne!(a.session_key(s, 100), a.session_key(s, 101));
        assert_ne!(
            a.session_key(s, 100),
            a.session_key(SessionRef { region: 1, ..s }, 100)
        );
    }

    #[test]
    fn account_trail_share_table() {
        for (accounts, share, want) in [
            (7, 0.3, 2),
            (7, 0.0, 0),
            (3, 0.3, 1),
            (10, 1.0, 10),
            (5, 0.01, 1),
        ] {
            let o = Org::build(1, accounts, &regions(), share);
            let n = o.accounts.iter().filter(|a| a.has_account_trail).count();
            assert_eq!(n, want, "{accounts} accounts, share {share}");
        }
    }
}
