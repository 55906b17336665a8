//! ARN parsing and the identity ARN forms CloudTrail writes.
//!
//! `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, where RESOURCE may hold
//! further `:` and `/`. Parsing borrows from the input and never fails on odd
//! values beyond "not an ARN": real logs carry pseudonymised regions and
//! 9- or 13-digit account ids, and those are kept as they are.

/// A borrowed, split ARN.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, …
    pub partition: &'a str,
    /// `iam`, `sts`, `s3`, …
    pub service: &'a str,
    /// Empty for global services.
    pub region: &'a str,
    /// Empty for S3 buckets and some others.
    pub account: &'a str,
    /// Everything after the fifth colon.
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    /// Splits `s` if it has the six ARN parts; `None` otherwise.
    pub fn parse(s: &'a str) -> Option<Self> {
        let mut it = s.splitn(6, ':');
        if it.next()? != "arn" {
            return None;
        }
        let partition = it.next()?;
        let service = it.next()?;
        let region = it.next()?;
        let account = it.next()?;
        let resource = it.next()?;
        if partition.is_empty() || service.is_empty() {
            return None;
        }
        Some(Arn {
            partition,
            service,
            region,
            account,
            resource,
        })
    }

    /// The resource type: the part of `resource` before the first `/` or `:`
    /// (`role`, `user`, `assumed-role`, `key`, `secret`, …).
    pub fn resource_type(&self) -> &'a str {
        let end = self
            .resource
            .find(['/', ':'])
            .unwrap_or(self.resource.len());
        &self.resource[..end]
    }

    /// The last `/`-separated segment of the resource (a role's or user's
    /// name without its path, a session's name).
    pub fn last_segment(&self) -> &'a str {
        self.resource.rsplit('/').next().unwrap_or(self.resource)
    }
}

/// For `arn:aws:sts::A:assumed-role/ROLE/SESSION`, the pair
/// `(ROLE, SESSION)`. The session name may itself contain `/`? No: AWS
/// forbids it; everything after the second `/` is the session name anyway.
pub fn assumed_role_parts(session_arn: &str) -> Option<(&str, &str)> {
    let arn = Arn::parse(session_arn)?;
    let rest = arn.resource.strip_prefix("assumed-role/")?;
    let (role, session) = rest.split_once('/')?;
    Some((role, session))
}

/// The IAM role ARN behind an assumed-role session ARN. The role's path is
/// not in the session ARN, so this is `arn:P:iam::A:role/ROLE`; prefer
/// `sessionContext.sessionIssuer.arn` where the record has it.
pub fn role_arn_of_session(session_arn: &str) -> Option<String> {
    let arn = Arn::parse(session_arn)?;
    let (role, _) = assumed_role_parts(session_arn)?;
    Some(format!(
        "arn:{}:iam::{}:role/{}",
        arn.partition, arn.account, role
    ))
}

/// The name of a role given as ARN (`arn:aws:iam::A:role/path/NAME` →
/// `NAME`) or already as a bare name.
pub fn role_name(role: &str) -> &str {
    match Arn::parse(role) {
        Some(a) if a.resource_type() == "role" => a.last_segment(),
        Some(a) if a.resource_type() == "assumed-role" => assumed_role_parts(role)
            .map(|(r, _)| r)
            .unwrap_or(a.resource),
        _ => role,
    }
}

/// Whether two role references name the same role: ARNs compare by account
/// and name (paths ignored, since session ARNs drop them); a bare name
/// matches any account's role of that name.
pub fn same_role(a: &str, b: &str) -> bool {
    let (pa, pb) = (Arn::parse(a), Arn::parse(b));
    let name_eq = role_name(a) == role_name(b);
    match (pa, pb) {
        (Some(x), Some(y)) => name_eq && x.account == y.account,
        _ => name_eq,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_parts() {
        let a = Arn::parse("arn:aws:iam::123456789012:role/path/to/Admin").unwrap();
        assert_eq!(a.service, "iam");
        assert_eq!(a.region, "");
        assert_eq!(a.account, "123456789012");
        assert_eq!(a.resource_type(), "role");
        assert_eq!(a.last_segment(), "Admin");
        let k = Arn::parse("arn:aws:kms:us-east-1:111122223333:key/1234abcd").unwrap();
        assert_eq!(k.resource_type(), "key");
        let s = Arn::parse("arn:aws:secretsmanager:r:1:secret:db/pass-AbCdEf").unwrap();
        assert_eq!(s.resource_type(), "secret");
        assert_eq!(
            Arn::parse("arn:aws:s3:::bucket/key/with:colon")
                .unwrap()
                .resource,
            "bucket/key/with:colon"
        );
    }

    #[test]
    fn rejects_non_arns() {
        for s in [
            "",
            "arn",
            "arn:aws",
            "ec2.amazonaws.com",
            "arn::iam::1:x",
            "urn:a:b:c:d:e",
        ] {
            assert!(Arn::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn assumed_roles() {
        let s = "arn:aws:sts::111122223333:assumed-role/Deploy/i-0abc";
        assert_eq!(assumed_role_parts(s), Some(("Deploy", "i-0abc")));
        assert_eq!(
            role_arn_of_session(s).unwrap(),
            "arn:aws:iam::111122223333:role/Deploy"
        );
        assert_eq!(role_name(s), "Deploy");
        assert!(same_role("arn:aws:iam::111122223333:role/x/Deploy", s));
        assert!(same_role("Deploy", "arn:aws:iam::9:role/Deploy"));
        assert!(!same_role(
            "arn:aws:iam::1:role/Deploy",
            "arn:aws:iam::2:role/Deploy"
        ));
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,60}") {
            if let Some(a) = Arn::parse(&s) {
                let _ = (a.resource_type(), a.last_segment());
            }
            let _ = (assumed_role_parts(&s), role_name(&s));
        }
    }
}
