//! Any bytes through the whole-buffer, multi-member gunzip with its limit.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut out = Vec::new();
    if backtrail_ingest::gunzip::gunzip_into(data, &mut out, 1 << 20).is_ok() {
        assert!(out.len() <= 1 << 20, "inflated past the limit");
    }
});
