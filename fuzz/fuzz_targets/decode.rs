//! Any bytes through the whole decode of one input file (sniffing, gunzip,
//! simd-json, row building): an error is fine, a panic or a hang is not.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    // 64 MiB inflate limit keeps gzip bombs from exhausting the fuzzer.
    let _ = backtrail_ingest::decode::decode(&mut bytes, "fuzz", 64 << 20);
});
