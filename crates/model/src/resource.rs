//! What an event touched, normalised to ARNs.
//!
//! Sources, in order: `resources[].ARN`, then the request parameters that
//! name data (`bucketName` + `key`, `keyId`, `secretId`, `tableName`,
//! `snapshotId`, `recoveryPointArn`, `backupVaultName`, `functionName`, …),
//! then any other top-level request parameter whose value is an ARN.
//! Where the request gives a name rather than an ARN, the ARN is built from
//! the event's region and account; where that cannot be done faithfully
//! (a secret's random suffix), the ARN is built without it and queries
//! match secrets by name.

use crate::arn::Arn;

/// Where the event happened, for building ARNs from names.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// `eventSource`.
    pub event_source: &'a str,
    /// `awsRegion`.
    pub region: &'a str,
    /// `recipientAccountId` (else the actor's account).
    pub account: &'a str,
    /// The partition of the actor's ARN, `aws` by default.
    pub partition: &'a str,
}

fn push(out: &mut Vec<String>, s: String) {
    if !s.is_empty() && !out.contains(&s) {
        out.push(s);
    }
}

/// The ARN for a name given in request parameter `key` of a call to
/// `ctx.event_source`, if the pair names a resource.
pub fn arn_for_param(
    ctx: &Context<'_>,
    key: &str,
    value: &str,
    params: &[(&str, &str)],
) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    let (p, r, a) = (ctx.partition, ctx.region, ctx.account);
    if value.starts_with("arn:") {
        return Arn::parse(value).map(|_| value.to_owned());
    }
    let svc = ctx
        .event_source
        .strip_suffix(".amazonaws.com")
        .unwrap_or(ctx.event_source);
    Some(match (svc, key) {
        ("s3", "bucketName") => {
            let obj = params.iter().find(|(k, _)| *k == "key").map(|(_, v)| *v);
            match obj {
                Some(k) if !k.is_empty() => format!("arn:{p}:s3:::{value}/{k}"),
                _ => format!("arn:{p}:s3:::{value}"),
            }
        }
        ("kms", "keyId" | "targetKeyId" | "destinationKeyId" | "sourceKeyId") => {
            if value.starts_with("alias/") {
                format!("arn:{p}:kms:{r}:{a}:{value}")
            } else {
                format!("arn:{p}:kms:{r}:{a}:key/{value}")
            }
        }
        ("kms", "aliasName") => format!("arn:{p}:kms:{r}:{a}:{value}"),
        ("secretsmanager", "secretId" | "name") => {
            format!("arn:{p}:secretsmanager:{r}:{a}:secret:{value}")
        }
        ("dynamodb", "tableName") => format!("arn:{p}:dynamodb:{r}:{a}:table/{value}"),
        ("ec2", "snapshotId" | "sourceSnapshotId") => format!("arn:{p}:ec2:{r}::snapshot/{value}"),
        ("ec2", "imageId") => format!("arn:{p}:ec2:{r}::image/{value}"),
        ("ec2", "volumeId") => format!("arn:{p}:ec2:{r}:{a}:volume/{value}"),
        ("rds", "dBSnapshotIdentifier") => format!("arn:{p}:rds:{r}:{a}:snapshot:{value}"),
        ("rds", "dBClusterSnapshotIdentifier") => {
            format!("arn:{p}:rds:{r}:{a}:cluster-snapshot:{value}")
        }
        ("rds", "dBInstanceIdentifier") => format!("arn:{p}:rds:{r}:{a}:db:{value}"),
        ("backup", "backupVaultName") => format!("arn:{p}:backup:{r}:{a}:backup-vault:{value}"),
        ("backup", "backupPlanId") => format!("arn:{p}:backup:{r}:{a}:backup-plan:{value}"),
        ("lambda", "functionName") => format!("arn:{p}:lambda:{r}:{a}:function:{value}"),
        ("iam", "roleName") => format!("arn:{p}:iam::{a}:role/{value}"),
        ("iam", "userName") => format!("arn:{p}:iam::{a}:user/{value}"),
        ("iam", "groupName") => format!("arn:{p}:iam::{a}:group/{value}"),
        ("cloudtrail", "name" | "trailName") => format!("arn:{p}:cloudtrail:{r}:{a}:trail/{value}"),
        ("ssm", "name") => format!(
            "arn:{p}:ssm:{r}:{a}:parameter/{}",
            value.trim_start_matches('/')
        ),
        ("guardduty", "detectorId") => format!("arn:{p}:guardduty:{r}:{a}:detector/{value}"),
        ("logs", "logGroupName") => format!("arn:{p}:logs:{r}:{a}:log-group:{value}"),
        ("sqs", "queueUrl") => {
            let name = value.rsplit('/').next()?;
            format!("arn:{p}:sqs:{r}:{a}:{name}")
        }
        _ => return None,
    })
}

/// Every resource the event touched, deduplicated, in discovery order.
///
/// `resource_arns` are the `resources[].ARN` values; `params` the top-level
/// string-valued request parameters, in record order.
pub fn resource_arns<'a>(
    ctx: &Context<'_>,
    resource_arns: impl IntoIterator<Item = &'a str>,
    params: &[(&str, &str)],
) -> Vec<String> {
    let mut out = Vec::new();
    for arn in resource_arns {
        push(&mut out, arn.to_owned());
    }
    // SSM's GetParameters lists names in an array the caller flattens to
    // repeated "names" pairs; every pair is examined.
    for (k, v) in params {
        let key = if *k == "names" && ctx.event_source.starts_with("ssm.") {
            "name"
        } else {
            k
        };
        if let Some(arn) = arn_for_param(ctx, key, v, params) {
            push(&mut out, arn);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(src: &'static str) -> Context<'static> {
        Context {
            event_source: src,
            region: "us-east-1",
            account: "111122223333",
            partition: "aws",
        }
    }

    /// One case: event source, request parameters, expected ARNs.
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);

    #[test]
    fn table() {
        let cases: &[Case<'_>] = &[
            (
                "s3.amazonaws.com",
                &[("bucketName", "b"), ("key", "a/b.txt")],
                &["arn:aws:s3:::b/a/b.txt"],
            ),
            (
                "s3.amazonaws.com",
                &[("bucketName", "b")],
                &["arn:aws:s3:::b"],
            ),
            (
                "kms.amazonaws.com",
                &[("keyId", "alias/prod")],
                &["arn:aws:kms:us-east-1:111122223333:alias/prod"],
            ),
            (
                "kms.amazonaws.com",
                &[("keyId", "1234")],
                &["arn:aws:kms:us-east-1:111122223333:key/1234"],
            ),
            (
                "secretsmanager.amazonaws.com",
                &[("secretId", "db")],
                &["arn:aws:secretsmanager:us-east-1:111122223333:secret:db"],
            ),
            (
                "dynamodb.amazonaws.com",
                &[("tableName", "t")],
                &["arn:aws:dynamodb:us-east-1:111122223333:table/t"],
            ),
            (
                "ec2.amazonaws.com",
                &[("snapshotId", "snap-1")],
                &["arn:aws:ec2:us-east-1::snapshot/snap-1"],
            ),
            (
                "backup.amazonaws.com",
                &[
                    ("backupVaultName", "v"),
                    (
                        "recoveryPointArn",
                        "arn:aws:backup:us-east-1:111122223333:recovery-point:rp1",
                    ),
                ],
                &[
                    "arn:aws:backup:us-east-1:111122223333:backup-vault:v",
                    "arn:aws:backup:us-east-1:111122223333:recovery-point:rp1",
                ],
            ),
            (
                "lambda.amazonaws.com",
                &[("functionName", "arn:aws:lambda:us-east-1:1:function:f")],
                &["arn:aws:lambda:us-east-1:1:function:f"],
            ),
            (
                "ssm.amazonaws.com",
                &[("names", "/prod/db"), ("names", "x")],
                &[
                    "arn:aws:ssm:us-east-1:111122223333:parameter/prod/db",
                    "arn:aws:ssm:us-east-1:111122223333:parameter/x",
                ],
            ),
            ("ec2.amazonaws.com", &[("instanceType", "t3.micro")], &[]),
        ];
        for (src, params, want) in cases {
            assert_eq!(
                resource_arns(&ctx(src), [], params),
                *want,
                "{src} {params:?}"
            );
        }
    }

    #[test]
    fn resources_first_and_deduplicated() {
        let got = resource_arns(
            &ctx("kms.amazonaws.com"),
            ["arn:aws:kms:us-east-1:111122223333:key/1234"],
            &[("keyId", "1234")],
        );
        assert_eq!(got, ["arn:aws:kms:us-east-1:111122223333:key/1234"]);
    }
}
