//! The index's Parquet page-header decoder (Thrift compact protocol) over
//! arbitrary bytes: a damaged data file must give `None`, never a panic, a
//! hang or a header claiming more bytes than it read.
#![no_main]
use libfuzzer_sys::fuzz_target;

use backtrail_index::page_header;

fuzz_target!(|data: &[u8]| {
    if let Some((h, len)) = page_header::parse(data) {
        assert!(len <= data.len());
        assert!(h.uncompressed >= 0 && h.compressed >= 0);
    }
});
