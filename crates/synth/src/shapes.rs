//! Request and response shapes shared by background APIs and scenarios.

use crate::json::JsonWriter;
use crate::rng::Rng;
use crate::time::{console_form, event_time};

const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// A session token the length STS issues (`IQoJb3JpZ2luX2Vj…`, ~700 chars).
pub fn session_token(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(720);
    s.push_str("IQoJb3JpZ2luX2VjE");
    let n = 600 + rng.index(120);
    while s.len() < n {
        let mut v = rng.next_u64();
        for _ in 0..10 {
            s.push(B64[(v & 63) as usize] as char);
            v >>= 6;
        }
    }
    s.push_str("==");
    s
}

/// `x-amz-id-2` style host id (76 base64 characters).
pub fn host_id(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(76);
    while s.len() < 76 {
        let mut v = rng.next_u64();
        for _ in 0..10 {
            if s.len() < 76 {
                s.push(B64[(v & 63) as usize] as char);
            }
            v >>= 6;
        }
    }
    s
}

/// How an expiration is spelled: STS's console form for most calls, ISO
/// 8601 for Identity Center and some SDK paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpiryForm {
    /// `Sep 14, 2020, 7:14:11 AM`.
    Console,
    /// `2020-09-14T07:14:11Z`.
    Iso,
}

/// Writes `"credentials":{…}` and `"assumedRoleUser":{…}` into an open
/// response object.
#[allow(clippy::too_many_arguments)]
pub fn write_role_credentials(
    w: &mut JsonWriter<'_>,
    rng: &mut Rng,
    key: &str,
    expires_us: i64,
    form: ExpiryForm,
    role_principal_id: &str,
    session_arn: &str,
    session_name: &str,
) {
    w.object_field("credentials");
    w.field("accessKeyId", key);
    w.field("sessionToken", &session_token(rng));
    let exp = match form {
        ExpiryForm::Console => console_form(expires_us),
        ExpiryForm::Iso => event_time(expires_us),
    };
    w.field("expiration", &exp);
    w.end_object();
    w.object_field("assumedRoleUser");
    let id = format!("{role_principal_id}:{session_name}");
    w.field("assumedRoleId", &id);
    w.field("arn", session_arn);
    w.end_object();
}

/// `arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION`.
pub fn session_arn(account: &str, role: &str, session: &str) -> String {
    format!("arn:aws:sts::{account}:assumed-role/{role}/{session}")
}

/// An S3 object key of the kinds buckets hold.
pub fn object_key(rng: &mut Rng, bucket: &str, day: &str) -> String {
    let n = rng.below(5000);
    if bucket.ends_with("-logs") {
        format!("app/{day}/{:02}/{n:05}.log.gz", rng.below(24))
    } else if bucket.ends_with("-artifacts") {
        format!("builds/{}/service-{}.zip", 1000 + rng.below(400), n % 12)
    } else if bucket.ends_with("-exports") {
        format!("customers/{day}/{n:04}.csv")
    } else if bucket.ends_with("-backups") {
        format!("db/{day}/dump-{n:04}.sql.gz")
    } else {
        format!("orders/dt={day}/part-{n:05}.parquet")
    }
}
