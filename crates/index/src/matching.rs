//! The matching rules of the queries, each a plain documented function with
//! a table test: which resources a `touched` argument names, which events
//! belong to a `timeline` actor, which callers a by-principal filter keeps,
//! which error codes mean "expired credentials".
//!
//! The index only narrows candidates; every answer row is re-checked with
//! these functions on the Parquet row, so they alone define the semantics.

use std::borrow::Cow;
use std::net::IpAddr;

use backtrail_model::arn::{Arn, same_role};

use crate::error::{Error, Result};

/// Whether an `errorCode` means the credentials had expired: any code
/// containing `Expired` (`ExpiredToken`, `ExpiredTokenException`,
/// `RequestExpired`, `SignatureExpired`, …) and `TokenRefreshRequired`.
pub fn is_expired_credential_error(code: &str) -> bool {
    code.contains("Expired") || code == "TokenRefreshRequired"
}

/// Whether `s` looks like an AWS access key id: 16–128 upper-case ASCII
/// letters and digits starting with `AKIA`, `ASIA`, `ABIA` or `ACCA`.
pub fn is_access_key_id(s: &str) -> bool {
    (16..=128).contains(&s.len())
        && ["AKIA", "ASIA", "ABIA", "ACCA"]
            .iter()
            .any(|p| s.starts_with(p))
        && s.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
}

fn plain_token(what: &'static str, s: &str, expected: &'static str) -> Result<String> {
    let t = s.trim();
    if t.is_empty() || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::BadArgument {
            what,
            value: s.to_owned(),
            expected,
        });
    }
    // A full ARN must parse; an ARN prefix (`arn:…*`) only needs to start so.
    if t.starts_with("arn:") && !t.ends_with('*') && Arn::parse(t).is_none() {
        return Err(Error::BadArgument {
            what,
            value: s.to_owned(),
            expected,
        });
    }
    Ok(t.to_owned())
}

/// Checks a role argument (`who_assumed`, `sessions`): a role ARN or a
/// bare role name.
pub fn parse_role(s: &str) -> Result<String> {
    plain_token(
        "role",
        s,
        "a role ARN (arn:aws:iam::ACCOUNT:role/NAME) or a role name",
    )
}

/// Checks a principal argument (by-principal filters).
pub fn parse_principal(s: &str) -> Result<String> {
    plain_token(
        "principal",
        s,
        "a principal ARN, a role name or a service name",
    )
}

/// Whether a caller passes a by-principal filter `p`: the caller's ARN is
/// `p`, or the caller is a session of role `p` (`same_role` semantics, so a
/// bare role name matches that role in any account).
pub fn caller_matches(p: &str, caller_arn: Option<&str>, caller_role: Option<&str>) -> bool {
    caller_arn == Some(p) || caller_role.is_some_and(|r| same_role(r, p))
}

/// Whether a credential-issuing event's target is role `role` (`same_role`).
pub fn target_matches(role: &str, target: Option<&str>) -> bool {
    target.is_some_and(|t| same_role(t, role))
}

/// Whose events a `timeline` lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// Events whose `principal_arn` is this; for an IAM role ARN also every
    /// event of any session of that role (`role_arn`, `same_role`).
    Principal(String),
    /// Events signed with this access key.
    Key(String),
    /// Events from this source IP.
    Ip(String),
    /// Events of this role or federated session (`principal_arn`).
    Session(String),
}

impl Actor {
    /// Recognises the argument: an IP address, an access key id, a session
    /// ARN (`assumed-role/…`, `federated-user/…`), any other ARN, or another
    /// principal spelling (service names such as `ec2.amazonaws.com`).
    pub fn parse(s: &str) -> Result<Self> {
        let t = plain_token(
            "actor",
            s,
            "a principal or session ARN, an access key id or an IP address",
        )?;
        if t.parse::<IpAddr>().is_ok() {
            return Ok(Self::Ip(t));
        }
        if is_access_key_id(&t) {
            return Ok(Self::Key(t));
        }
        Ok(match Arn::parse(&t).map(|a| a.resource_type()) {
            Some("assumed-role" | "federated-user") => Self::Session(t),
            _ => Self::Principal(t),
        })
    }

    /// Whether `p` is a role ARN (principal timelines then include the
    /// role's sessions).
    pub(crate) fn role_of_principal(&self) -> Option<&str> {
        match self {
            Self::Principal(p) if Arn::parse(p).is_some_and(|a| a.resource_type() == "role") => {
                Some(p)
            }
            _ => None,
        }
    }

    /// Whether an event with these fields belongs to the actor.
    pub fn matches(
        &self,
        principal: Option<&str>,
        role: Option<&str>,
        key: Option<&str>,
        ip: Option<&str>,
    ) -> bool {
        match self {
            Self::Principal(p) => {
                principal == Some(p.as_str())
                    || self
                        .role_of_principal()
                        .is_some_and(|r| role.is_some_and(|x| same_role(x, r)))
            }
            Self::Key(k) => key == Some(k.as_str()),
            Self::Ip(i) => ip == Some(i.as_str()),
            Self::Session(s) => principal == Some(s.as_str()),
        }
    }
}

/// What a `touched` argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResourceQuery {
    /// A full ARN: that resource (for Secrets Manager also the same secret
    /// with or without its random `-XXXXXX` suffix).
    Arn(String),
    /// An ARN ending in `*`: every resource ARN starting with the rest.
    ArnPrefix(String),
    /// A name: bucket, bucket/prefix, KMS key id or alias, secret name,
    /// DynamoDB table, EBS/RDS snapshot id, backup recovery point id. All
    /// readings are tried (see [`ResourceQuery::matches`]).
    Name(String),
}

/// Byte offset of the resource part of an S3 ARN (`arn:P:s3:::…`).
fn s3_resource_start(arn: &str) -> Option<usize> {
    let p = arn.strip_prefix("arn:")?;
    let colon = p.find(':')?;
    p[colon..]
        .starts_with(":s3:::")
        .then_some("arn:".len() + colon + ":s3:::".len())
}

/// End of the "directory" of an S3 object ARN: just past the last `/` of
/// its resource part (`None` for a bucket or any other ARN).
fn s3_dir_end(arn: &str) -> Option<usize> {
    let r = s3_resource_start(arn)?;
    Some(r + arn[r..].rfind('/')? + 1)
}

/// Buckets an S3 directory's objects are spread over in the index (one
/// hex digit of tag).
const NAME_BUCKETS: u32 = 16;

/// The bucket of an object name: FNV-1a (fixed, so every build agrees)
/// modulo [`NAME_BUCKETS`].
fn name_bucket(name: &str) -> u32 {
    let h = name.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    h % NAME_BUCKETS
}

/// The key the index files a resource ARN under. An S3 object ARN
/// (`arn:P:s3:::bucket/dir/obj`) is filed under its directory plus `#` and
/// one hex digit, a hash of the object name (`arn:P:s3:::bucket/dir/#7`):
/// objects are mostly distinct and touched once, so one key per object
/// made the string table and the resource directory most of the index,
/// while one key per directory would make a query for one object read all
/// of its directory. Every other ARN is its own key. A key only narrows
/// the candidates; `touched` re-checks every row with
/// [`ResourceQuery::matches`].
pub(crate) fn resource_key(arn: &str) -> Cow<'_, str> {
    match s3_dir_end(arn) {
        Some(end) => Cow::Owned(format!("{}#{:x}", &arn[..end], name_bucket(&arn[end..]))),
        None => Cow::Borrowed(arn),
    }
}

/// For an S3 object key (see [`resource_key`]): where its directory ends
/// and its name bucket.
fn object_key(key: &str) -> Option<(usize, u32)> {
    let end = s3_dir_end(key)?;
    let tag = key[end..].strip_prefix('#')?;
    let h = u32::from_str_radix(tag, 16)
        .ok()
        .filter(|_| tag.len() == 1)?;
    Some((end, h))
}

/// `rest` has no `/`.
fn no_slash(rest: &str) -> bool {
    !rest.contains('/')
}

/// Services a [`ResourceQuery::Name`] is tried against.
const NAME_SERVICES: &[&str] = &[
    "s3",
    "kms",
    "secretsmanager",
    "dynamodb",
    "ec2",
    "rds",
    "backup",
];

/// `-` plus 6 ASCII alphanumerics: the random suffix Secrets Manager adds.
fn is_secret_suffix(s: &str) -> bool {
    s.len() == 7 && s.starts_with('-') && s[1..].bytes().all(|b| b.is_ascii_alphanumeric())
}

impl ResourceQuery {
    /// Recognises the argument (`arn:…` → [`Self::Arn`], `arn:…*` →
    /// [`Self::ArnPrefix`], anything else → [`Self::Name`]).
    pub fn parse(s: &str) -> Result<Self> {
        let t = plain_token(
            "resource",
            s,
            "a resource ARN (optionally ending in *), a bucket, bucket/prefix, KMS key id or alias/NAME, secret name, table, snapshot or recovery point id",
        )?;
        Ok(
            if let Some(p) = t.strip_suffix('*').filter(|_| t.starts_with("arn:")) {
                Self::ArnPrefix(p.to_owned())
            } else if t.starts_with("arn:") {
                Self::Arn(t)
            } else {
                Self::Name(t)
            },
        )
    }

    /// Whether resource ARN `arn` is named by the query.
    ///
    /// | query | matches |
    /// |---|---|
    /// | full ARN `A` | `A`; a secret ARN also with/without `-XXXXXX` |
    /// | `A*` | ARNs starting with `A` |
    /// | `bucket` | `arn:P:s3:::bucket` and `arn:P:s3:::bucket/…` |
    /// | `bucket/prefix` | `arn:P:s3:::bucket/prefix…` |
    /// | key id `ID` | `arn:P:kms:R:A:key/ID` |
    /// | `alias/x` | `arn:P:kms:R:A:alias/x` |
    /// | secret name `N` | `…:secret:N` and `…:secret:N-XXXXXX` |
    /// | table `T` | `arn:P:dynamodb:R:A:table/T` |
    /// | snapshot `S` | `arn:P:ec2:R::snapshot/S`, `arn:P:rds:R:A:snapshot:S`, `…:cluster-snapshot:S` |
    /// | recovery point `RP` | `arn:P:backup:R:A:recovery-point:RP` |
    pub fn matches(&self, arn: &str) -> bool {
        match self {
            Self::Arn(a) => {
                arn == a
                    || (a.contains(":secretsmanager:")
                        && (arn.strip_prefix(a.as_str()).is_some_and(is_secret_suffix)
                            || a.strip_prefix(arn).is_some_and(is_secret_suffix)))
            }
            Self::ArnPrefix(p) => arn.starts_with(p.as_str()),
            Self::Name(w) => {
                let Some(a) = Arn::parse(arn) else {
                    return false;
                };
                let r = a.resource;
                let eq = |prefix: &str| r.strip_prefix(prefix) == Some(w.as_str());
                match a.service {
                    "s3" if w.contains('/') => r.starts_with(w.as_str()),
                    "s3" => {
                        r == w
                            || r.strip_prefix(w.as_str())
                                .is_some_and(|rest| rest.starts_with('/'))
                    }
                    "kms" => eq("key/") || (w.starts_with("alias/") && r == w),
                    "secretsmanager" => r
                        .strip_prefix("secret:")
                        .and_then(|n| n.strip_prefix(w.as_str()))
                        .is_some_and(|rest| rest.is_empty() || is_secret_suffix(rest)),
                    "dynamodb" => eq("table/"),
                    "ec2" => eq("snapshot/"),
                    "rds" => eq("snapshot:") || eq("cluster-snapshot:"),
                    "backup" => eq("recovery-point:"),
                    _ => false,
                }
            }
        }
    }

    /// Whether index resource key `key` (see [`resource_key`]) may stand
    /// for an ARN the query matches: for an S3 object key `D#h`, whether
    /// some object `D` + name-without-`/` (of bucket `h`, for a full ARN)
    /// could match (conservative); otherwise [`Self::matches`].
    pub(crate) fn matches_key(&self, key: &str) -> bool {
        let Some((end, h)) = object_key(key) else {
            return self.matches(key);
        };
        let dir = &key[..end];
        match self {
            // A secret-shaped full ARN inside an S3 key is nonsense; stay
            // conservative rather than reason about it.
            Self::Arn(a) if a.contains(":secretsmanager:") => true,
            Self::Arn(a) => a
                .strip_prefix(dir)
                .is_some_and(|n| no_slash(n) && name_bucket(n) == h),
            Self::ArnPrefix(p) => {
                dir.starts_with(p.as_str()) || p.strip_prefix(dir).is_some_and(no_slash)
            }
            Self::Name(w) => {
                let Some(r) = s3_resource_start(dir).map(|i| &dir[i..]) else {
                    return false;
                };
                if w.contains('/') {
                    r.starts_with(w.as_str()) || w.strip_prefix(r).is_some_and(no_slash)
                } else {
                    r.strip_prefix(w.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
                }
            }
        }
    }

    /// Prefixes to scan besides [`Self::scan_prefixes`]: for each prefix
    /// that ends inside an S3 object name, the object keys of its directory
    /// (`D#`; its objects may match though their keys do not start with the
    /// prefix).
    pub(crate) fn extra_prefixes(&self, partitions: &[String]) -> Vec<String> {
        self.scan_prefixes(partitions)
            .iter()
            .filter_map(|p| {
                s3_dir_end(p)
                    .filter(|&e| e < p.len())
                    .map(|e| format!("{}#", &p[..e]))
            })
            .collect()
    }

    /// Prefixes of the sorted string table that hold every ARN the query
    /// can match, given the ARN partitions (`aws`, `aws-cn`, …) present.
    pub(crate) fn scan_prefixes(&self, partitions: &[String]) -> Vec<String> {
        match self {
            Self::Arn(a) => {
                let mut v = vec![a.clone()];
                if a.contains(":secretsmanager:")
                    && a.len() > 7
                    && is_secret_suffix(&a[a.len() - 7..])
                {
                    v.push(a[..a.len() - 7].to_owned());
                }
                v
            }
            Self::ArnPrefix(p) => vec![p.clone()],
            Self::Name(w) => partitions
                .iter()
                .flat_map(|p| {
                    NAME_SERVICES.iter().map(move |s| {
                        if *s == "s3" {
                            format!("arn:{p}:s3:::{w}")
                        } else {
                            format!("arn:{p}:{s}:")
                        }
                    })
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn touched_matching_table() {
        let secret = "arn:aws:secretsmanager:us-east-1:111:secret:prod/db-AbC123";
        let cases: &[(&str, &str, bool)] = &[
            ("arn:aws:s3:::logs/a.txt", "arn:aws:s3:::logs/a.txt", true),
            (
                "arn:aws:s3:::logs/a.txt",
                "arn:aws:s3:::logs/a.txt.bak",
                false,
            ),
            ("logs", "arn:aws:s3:::logs", true),
            ("logs", "arn:aws:s3:::logs/2024/x.gz", true),
            ("logs", "arn:aws:s3:::logs-archive/x", false),
            ("logs/2024", "arn:aws:s3:::logs/2024/x.gz", true),
            ("logs/2024", "arn:aws:s3:::logs/2024-old/x.gz", true),
            ("logs/2024", "arn:aws:s3:::logs/2023/x.gz", false),
            ("arn:aws:s3:::logs/2024*", "arn:aws:s3:::logs/2024/x", true),
            ("arn:aws:s3:::logs/2024*", "arn:aws:s3:::logs/2023/x", false),
            (
                "1234abcd-12ab-34cd-56ef-1234567890ab",
                "arn:aws:kms:us-east-1:111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                true,
            ),
            (
                "1234abcd-12ab-34cd-56ef-1234567890ab",
                "arn:aws:kms:eu-west-1:222:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                true,
            ),
            (
                "1234abcd",
                "arn:aws:kms:us-east-1:111:key/1234abcd-12ab",
                false,
            ),
            ("alias/prod", "arn:aws:kms:us-east-1:111:alias/prod", true),
            ("alias/prod", "arn:aws:kms:us-east-1:111:alias/prod2", false),
            ("prod/db", secret, true),
            (
                "prod/db",
                "arn:aws:secretsmanager:us-east-1:111:secret:prod/db",
                true,
            ),
            (
                "prod/db",
                "arn:aws:secretsmanager:us-east-1:111:secret:prod/db-old-AbC123",
                false,
            ),
            ("prod", secret, false),
            (
                secret,
                "arn:aws:secretsmanager:us-east-1:111:secret:prod/db",
                true,
            ),
            (
                "arn:aws:secretsmanager:us-east-1:111:secret:prod/db",
                secret,
                true,
            ),
            (
                "orders",
                "arn:aws:dynamodb:us-east-1:111:table/orders",
                true,
            ),
            (
                "orders",
                "arn:aws:dynamodb:us-east-1:111:table/orders2",
                false,
            ),
            (
                "snap-0abc",
                "arn:aws:ec2:us-east-1::snapshot/snap-0abc",
                true,
            ),
            (
                "mydb-snap",
                "arn:aws:rds:us-east-1:111:snapshot:mydb-snap",
                true,
            ),
            (
                "mydb-snap",
                "arn:aws:rds:us-east-1:111:cluster-snapshot:mydb-snap",
                true,
            ),
            (
                "rp-1",
                "arn:aws:backup:us-east-1:111:recovery-point:rp-1",
                true,
            ),
            (
                "rp-1",
                "arn:aws:backup:us-east-1:111:backup-vault:rp-1",
                false,
            ),
            (
                "orders",
                "arn:aws:lambda:us-east-1:111:function:orders",
                false,
            ),
            ("logs", "not-an-arn", false),
            ("logs", "arn:aws-cn:s3:::logs/x", true),
        ];
        for (q, arn, want) in cases {
            let rq = ResourceQuery::parse(q).unwrap();
            assert_eq!(rq.matches(arn), *want, "query {q} vs {arn}");
            if *want {
                let parts = vec![Arn::parse(arn).unwrap().partition.to_owned()];
                assert!(
                    rq.scan_prefixes(&parts)
                        .iter()
                        .any(|p| arn.starts_with(p.as_str())),
                    "no scan prefix covers {arn} for {q}"
                );
                assert_key_found(&rq, arn, &parts);
            }
        }
    }

    /// A matching ARN's index key is reached (in a scanned range) and kept
    /// by `matches_key`.
    fn assert_key_found(rq: &ResourceQuery, arn: &str, parts: &[String]) {
        let key = resource_key(arn);
        let reached = rq
            .scan_prefixes(parts)
            .iter()
            .chain(&rq.extra_prefixes(parts))
            .any(|p| key.starts_with(p.as_str()));
        assert!(reached, "key {key} of {arn} not scanned for {rq:?}");
        assert!(
            rq.matches_key(&key),
            "key {key} of {arn} dropped for {rq:?}"
        );
    }

    #[test]
    fn resource_keys() {
        let b = |n: &str| format!("{:x}", name_bucket(n));
        let cases: Vec<(&str, String, bool)> = vec![
            (
                "arn:aws:s3:::logs/2024/x.gz",
                format!("arn:aws:s3:::logs/2024/#{}", b("x.gz")),
                true,
            ),
            (
                "arn:aws:s3:::logs/x",
                format!("arn:aws:s3:::logs/#{}", b("x")),
                true,
            ),
            (
                "arn:aws:s3:::logs/dir/",
                format!("arn:aws:s3:::logs/dir/#{}", b("")),
                true,
            ),
            ("arn:aws:s3:::logs", "arn:aws:s3:::logs".into(), false),
            (
                "arn:aws-cn:s3:::b/k",
                format!("arn:aws-cn:s3:::b/#{}", b("k")),
                true,
            ),
            (
                "arn:aws:kms:us-east-1:111:key/abc",
                "arn:aws:kms:us-east-1:111:key/abc".into(),
                false,
            ),
            (
                "arn:aws:iam::111:role/a/b",
                "arn:aws:iam::111:role/a/b".into(),
                false,
            ),
        ];
        for (arn, key, object) in &cases {
            assert_eq!(resource_key(arn), key.as_str(), "{arn}");
            assert_eq!(object_key(key).is_some(), *object, "{key}");
        }
        // The hash is fixed: indexes built by any build agree.
        assert_eq!(name_bucket(""), 0x811c_9dc5 % NAME_BUCKETS);
        assert_eq!(name_bucket("a"), 0xe40c_292c % NAME_BUCKETS);
        // Object keys that cannot hold a match are dropped.
        let other = (0..NAME_BUCKETS)
            .find(|&h| h != name_bucket("x.gz"))
            .unwrap();
        let drops: Vec<(&str, String)> = vec![
            ("logs", "arn:aws:s3:::logs-archive/#0".into()),
            ("logs/2024", "arn:aws:s3:::logs/2023/#0".into()),
            ("logs/2024/a", "arn:aws:s3:::logs/#0".into()),
            ("arn:aws:s3:::logs/2024/x.gz", "arn:aws:s3:::logs/#0".into()),
            (
                "arn:aws:s3:::logs/2024/x.gz",
                "arn:aws:s3:::logs/2024/y/#0".into(),
            ),
            (
                "arn:aws:s3:::logs/2024/x.gz",
                format!("arn:aws:s3:::logs/2024/#{other:x}"),
            ),
            ("arn:aws:s3:::logs/20*", "arn:aws:s3:::logs/19/#0".into()),
            ("arn:aws:s3:::logs/2024/a*", "arn:aws:s3:::logs/#0".into()),
        ];
        for (q, key) in &drops {
            let rq = ResourceQuery::parse(q).unwrap();
            assert!(!rq.matches_key(key), "{q} kept {key}");
        }
        // Every S3 object that matches is reached through its key.
        let parts = vec!["aws".to_owned()];
        let objects = [
            "arn:aws:s3:::logs/2024/x.gz",
            "arn:aws:s3:::logs/2024-old/x.gz",
            "arn:aws:s3:::logs/a",
            "arn:aws:s3:::logs/ab",
            "arn:aws:s3:::logs/dir/",
            "arn:aws:s3:::logs-archive/2024/x",
        ];
        let queries = [
            "logs",
            "logs/",
            "logs/2024",
            "logs/2024/",
            "logs/2024/x",
            "logs/a",
            "logs/dir/",
            "arn:aws:s3:::logs/2024/x.gz",
            "arn:aws:s3:::logs/dir/",
            "arn:aws:s3:::logs/a",
            "arn:aws:s3:::logs/20*",
            "arn:aws:s3:::logs/2024/x*",
            "arn:aws:s3:::log*",
            "arn:aws:s3:::logs/a*",
        ];
        for q in queries {
            let rq = ResourceQuery::parse(q).unwrap();
            for arn in objects {
                if rq.matches(arn) {
                    assert_key_found(&rq, arn, &parts);
                }
            }
        }
    }

    #[test]
    fn bad_arguments_are_typed_errors() {
        for s in ["", "  ", "a b", "arn:broken", "x\u{7}"] {
            assert!(
                matches!(ResourceQuery::parse(s), Err(Error::BadArgument { .. })),
                "{s:?}"
            );
            assert!(
                matches!(Actor::parse(s), Err(Error::BadArgument { .. })),
                "{s:?}"
            );
            assert!(
                matches!(parse_role(s), Err(Error::BadArgument { .. })),
                "{s:?}"
            );
        }
    }

    #[test]
    fn actor_kinds() {
        let cases: &[(&str, Actor)] = &[
            ("203.0.113.7", Actor::Ip("203.0.113.7".into())),
            ("2001:db8::1", Actor::Ip("2001:db8::1".into())),
            (
                "AKIAIOSFODNN7EXAMPLE",
                Actor::Key("AKIAIOSFODNN7EXAMPLE".into()),
            ),
            (
                "ASIAY34FZKBOKMUTVV7A",
                Actor::Key("ASIAY34FZKBOKMUTVV7A".into()),
            ),
            (
                "arn:aws:sts::1:assumed-role/R/s",
                Actor::Session("arn:aws:sts::1:assumed-role/R/s".into()),
            ),
            (
                "arn:aws:iam::1:user/bob",
                Actor::Principal("arn:aws:iam::1:user/bob".into()),
            ),
            (
                "ec2.amazonaws.com",
                Actor::Principal("ec2.amazonaws.com".into()),
            ),
            (
                "AIDAEXAMPLEUSERID",
                Actor::Principal("AIDAEXAMPLEUSERID".into()),
            ),
        ];
        for (s, want) in cases {
            assert_eq!(&Actor::parse(s).unwrap(), want, "{s}");
        }
        let role = Actor::parse("arn:aws:iam::1:role/path/Deploy").unwrap();
        assert!(role.matches(
            Some("arn:aws:sts::1:assumed-role/Deploy/x"),
            Some("arn:aws:iam::1:role/path/Deploy"),
            None,
            None
        ));
        assert!(!role.matches(
            Some("arn:aws:sts::2:assumed-role/Deploy/x"),
            Some("arn:aws:iam::2:role/Deploy"),
            None,
            None
        ));
    }

    #[test]
    fn expired_codes() {
        for (c, want) in [
            ("ExpiredToken", true),
            ("ExpiredTokenException", true),
            ("RequestExpired", true),
            ("AccessDenied", false),
            ("TokenRefreshRequired", true),
        ] {
            assert_eq!(is_expired_credential_error(c), want, "{c}");
        }
    }
}
