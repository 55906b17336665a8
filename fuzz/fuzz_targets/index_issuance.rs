//! The index's `ISSUANCE` block decoder over arbitrary bytes: a damaged
//! segment must give `None`, never a panic or a hang, and whatever decodes
//! must survive a re-encode unchanged.
#![no_main]
use libfuzzer_sys::fuzz_target;

use backtrail_index::issuance::{ISSUANCE_BLOCK, decode_block, encode_section};

fuzz_target!(|data: &[u8]| {
    let Some((head, block)) = data.split_first_chunk::<9>() else {
        return;
    };
    let take = usize::from(head[0]) % (ISSUANCE_BLOCK + 1);
    let base = i64::from_le_bytes([
        head[1], head[2], head[3], head[4], head[5], head[6], head[7], head[8],
    ]);
    let mut recs = Vec::new();
    if decode_block(block, take, base, |_, r| recs.push(*r)).is_none() {
        return;
    }
    assert_eq!(recs.len(), take);
    // One block: the section is n, nblocks = 1, two offsets, then its bytes.
    let Ok(section) = encode_section(&recs, base) else {
        return;
    };
    if recs.is_empty() {
        return;
    }
    let off = |i: usize| u32::from_le_bytes(section[8 + 4 * i..12 + 4 * i].try_into().unwrap());
    let bytes = &section[16 + off(0) as usize..16 + off(1) as usize];
    let mut again = Vec::new();
    assert!(decode_block(bytes, take, base, |_, r| again.push(*r)).is_some());
    assert_eq!(again, recs);
});
