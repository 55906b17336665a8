//! The model's parsers of attacker-written text: times, ARNs, resources.
#![no_main]
use libfuzzer_sys::fuzz_target;

use backtrail_model::{arn, resource, time};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    let _ = time::parse_iso8601(s);
    let _ = time::parse_expiration(s);
    if let Some(a) = arn::Arn::parse(s) {
        let _ = (a.resource_type(), a.last_segment());
    }
    let _ = arn::role_arn_of_session(s);
    let ctx = resource::Context { event_source: "s3.amazonaws.com", region: "r", account: "1", partition: "aws" };
    let _ = resource::resource_arns(&ctx, [s], &[("bucketName", s), ("key", s)]);
});
