//! The weighted catalog of background APIs and their bodies.
//!
//! Weights follow the mix of a busy organization trail with data events
//! on: S3 object calls first, then DynamoDB items, KMS cryptography (driven
//! by S3 and Secrets Manager on the caller's behalf), Lambda invocations,
//! STS, EC2 reads, and a long tail of IAM, sign-in, Backup and
//! Organizations calls. Request and response shapes are those of the
//! AWS documentation's examples and of real trails.

mod data;
mod identity;
mod mgmt;

use crate::background::Api;
use data::*;
use identity::*;
use mgmt::*;

pub(super) const S3_ERR: &[(&str, &str)] = &[
    ("AccessDenied", "Access Denied"),
    ("NoSuchKey", "The specified key does not exist."),
    ("SlowDown", "Please reduce your request rate."),
];
pub(super) const S3_WRITE_ERR: &[(&str, &str)] = &[
    ("AccessDenied", "Access Denied"),
    ("SlowDown", "Please reduce your request rate."),
];
pub(super) const KMS_ERR: &[(&str, &str)] = &[
    (
        "AccessDeniedException",
        "The ciphertext refers to a customer master key that does not exist, does not exist in this region, or you are not allowed to access.",
    ),
    ("ThrottlingException", "Rate exceeded"),
];
pub(super) const DDB_ERR: &[(&str, &str)] = &[
    (
        "ThrottlingException",
        "Rate of requests exceeds the allowed throughput.",
    ),
    (
        "AccessDenied",
        "User is not authorized to perform: dynamodb:GetItem",
    ),
];
pub(super) const STS_ERR: &[(&str, &str)] = &[
    (
        "AccessDenied",
        "User is not authorized to perform: sts:AssumeRole",
    ),
    (
        "ExpiredToken",
        "The security token included in the request is expired",
    ),
];
pub(super) const EC2_ERR: &[(&str, &str)] = &[
    (
        "Client.UnauthorizedOperation",
        "You are not authorized to perform this operation.",
    ),
    ("Client.RequestLimitExceeded", "Request limit exceeded."),
];
pub(super) const SM_ERR: &[(&str, &str)] = &[
    ("AccessDenied", "Access to KMS is not allowed"),
    (
        "ResourceNotFoundException",
        "Secrets Manager can't find the specified secret.",
    ),
];
pub(super) const IAM_ERR: &[(&str, &str)] = &[
    (
        "AccessDenied",
        "User is not authorized to perform this action",
    ),
    (
        "NoSuchEntityException",
        "The role with name cannot be found.",
    ),
];
pub(super) const LAMBDA_ERR: &[(&str, &str)] = &[
    ("TooManyRequestsException", "Rate Exceeded."),
    (
        "AccessDenied",
        "User is not authorized to perform: lambda:InvokeFunction",
    ),
];

macro_rules! api {
    ($w:expr, $f:expr) => {
        Api {
            weight: $w,
            global: false,
            mgmt_only: false,
            body: $f,
        }
    };
    ($w:expr, $f:expr, global) => {
        Api {
            weight: $w,
            global: true,
            mgmt_only: false,
            body: $f,
        }
    };
    ($w:expr, $f:expr, mgmt) => {
        Api {
            weight: $w,
            global: true,
            mgmt_only: true,
            body: $f,
        }
    };
}

/// Every background API with its weight.
pub static CATALOG: &[Api] = &[
    api!(15.0, |b| s3_object(b, "GetObject")),
    api!(8.0, |b| s3_object(b, "PutObject")),
    api!(6.0, |b| s3_object(b, "HeadObject")),
    api!(4.0, s3_list),
    api!(1.0, |b| s3_object(b, "DeleteObject")),
    api!(7.0, s3_service_delivery),
    api!(0.3, s3_cross_account),
    api!(0.2, federated_read),
    api!(6.0, |b| dynamodb(b, "GetItem")),
    api!(4.0, |b| dynamodb(b, "Query")),
    api!(2.5, |b| dynamodb(b, "PutItem")),
    api!(4.0, lambda_invoke),
    api!(12.0, |b| kms(b, "Decrypt")),
    api!(7.0, |b| kms(b, "GenerateDataKey")),
    api!(1.0, |b| kms(b, "Encrypt")),
    api!(2.2, assume_role_service),
    api!(0.8, assume_role_instance),
    api!(2.0, get_caller_identity),
    api!(0.4, assume_role_web_identity),
    api!(0.15, assume_role_saml, global),
    api!(0.05, get_federation_token),
    api!(5.0, ec2_describe),
    api!(1.8, get_secret_value),
    api!(1.5, ssm_get_parameter),
    api!(1.5, iam_read, global),
    api!(0.3, cloudtrail_read),
    api!(0.15, console_login, global),
    api!(1.0, get_role_credentials, mgmt),
    api!(0.05, root_activity, global),
    api!(0.2, backup_start),
    api!(0.2, backup_lifecycle_delete),
    api!(0.2, backup_list),
    api!(3.0, organizations_read, mgmt),
];
