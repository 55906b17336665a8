//! The `ISSUANCE` section: one record per credential-issuing event, in
//! ordinal order, in blocks of [`ISSUANCE_BLOCK`] records.
//!
//! ```text
//! ISSUANCE := n:u32 nblocks:u32 block_off:u32{nblocks+1} blocks
//! record   := mask:varint ord_delta:varint field*
//! ```
//! Each record is coded against the previous record of its block (the
//! first against [`Issuance::block_start`]): bit `f` of `mask` is set when
//! field `f` (in [`FIELDS`] order) differs, and only those fields follow,
//! in that order. Issuing events of a segment share most fields with their
//! neighbour (account, region, event name, caller type, expiration…), so a
//! record costs about 47 bytes (16 of them the event id) instead of the 96
//! of version 3 plus a 36-byte id string, while reading record `i` decodes
//! at most [`ISSUANCE_BLOCK`] records.
//!
//! Event ids that are canonical lowercase UUIDs (all CloudTrail ids) are
//! kept inline as their 16 bytes ([`EventId::Uuid`]) instead of as a
//! string id: they are random, so front coding in `STRINGS` barely shrank
//! them, and nothing else refers to them. Any other id (uppercase,
//! hand-written, empty) keeps a string id, so every id reads back exactly.
//! The grammar is in `docs/formats/index.md`.

use crate::format::{Cur, put_u32, put_varint};
use crate::layout::NONE;

/// Records per block of `ISSUANCE`: reading one record decodes at most
/// this many; each block costs a 4-byte offset.
pub const ISSUANCE_BLOCK: usize = 16;

/// Fields of a record in mask-bit order (bit 0 first): those that change
/// from one issuing event to the next come first, so the mask of a
/// typical record fits a 2-byte varint.
const FIELDS: [&str; 21] = [
    "time",
    "expiration",
    "event_id",
    "issued_key",
    "issued_session",
    "target_session",
    "target_role",
    "caller",
    "ip",
    "user_agent",
    "expiration_raw",
    "caller_type",
    "event_name",
    "caller_key",
    "event_source",
    "account",
    "region",
    "caller_role",
    "error",
    "source_identity",
    "mfa",
];

/// Number of string-id fields (`FIELDS[3..20]`).
const SIDS: usize = 17;
const BIT_TIME: u32 = 1;
const BIT_EXPIRATION: u32 = 1 << 1;
const BIT_EVENT_ID: u32 = 1 << 2;
const SID_SHIFT: u32 = 3;
const BIT_MFA: u32 = 1 << (FIELDS.len() - 1);
const ALL_BITS: u32 = (1 << FIELDS.len()) - 1;

/// The `eventID` of an issuing event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventId {
    /// No event id.
    Absent,
    /// A canonical lowercase UUID, as its 16 bytes.
    Uuid([u8; 16]),
    /// Any other id: its string id.
    Sid(u32),
}

impl EventId {
    /// The id of `s`: inline when it is a canonical UUID, else the string
    /// id `intern` gives it (so such ids alone enter the string table).
    pub fn of(s: Option<&str>, intern: impl FnOnce(&str) -> u32) -> Self {
        match s {
            None => EventId::Absent,
            Some(s) => match parse_uuid(s) {
                Some(b) => EventId::Uuid(b),
                None => EventId::Sid(intern(s)),
            },
        }
    }

    /// The same id with its string id (if any) mapped by `f`.
    pub fn map_sid(self, f: impl FnOnce(u32) -> u32) -> Self {
        match self {
            EventId::Sid(s) => EventId::Sid(f(s)),
            other => other,
        }
    }
}

const UUID_LEN: usize = 36;
const HYPHENS: [usize; 4] = [8, 13, 18, 23];

/// The 16 bytes of `s` when it is a canonical UUID: 36 characters,
/// `8-4-4-4-12` lowercase hex digits, and [`format_uuid`] of the bytes
/// gives `s` back exactly. Anything else (uppercase, braces, other
/// lengths) is `None`.
pub fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != UUID_LEN {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 16];
    let mut digits = b
        .iter()
        .enumerate()
        .filter(|(i, _)| !HYPHENS.contains(i))
        .map(|(_, &c)| c);
    if HYPHENS.iter().any(|&i| b[i] != b'-') {
        return None;
    }
    for byte in &mut out {
        let (hi, lo) = (digits.next()?, digits.next()?);
        *byte = (nibble(hi)? << 4) | nibble(lo)?;
    }
    (format_uuid(&out) == s).then_some(out)
}

/// The canonical lowercase `8-4-4-4-12` text of a UUID.
pub fn format_uuid(b: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(UUID_LEN);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        s.push(HEX[usize::from(byte >> 4)] as char);
        s.push(HEX[usize::from(byte & 15)] as char);
    }
    s
}

/// One credential-issuing event, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issuance {
    /// Event ordinal in the segment.
    pub ord: u32,
    /// `eventTime` (µs) or [`NO_TIME`](crate::layout::NO_TIME).
    pub time: i64,
    /// `expiration` (µs) or [`NO_TIME`](crate::layout::NO_TIME).
    pub expiration: i64,
    /// String ids (or [`NONE`]):
    pub issued_key: u32,
    /// `issued_session_arn`.
    pub issued_session: u32,
    /// `target_role_arn`.
    pub target_role: u32,
    /// The caller's `principal_arn`.
    pub caller: u32,
    /// The caller's `access_key_id`.
    pub caller_key: u32,
    /// The caller's `principal_type`.
    pub caller_type: u32,
    /// The caller's `role_arn`.
    pub caller_role: u32,
    /// `sourceIPAddress`.
    pub ip: u32,
    /// `recipientAccountId`.
    pub account: u32,
    /// `awsRegion`.
    pub region: u32,
    /// `errorCode`.
    pub error: u32,
    /// `userAgent`.
    pub user_agent: u32,
    /// `eventSource`.
    pub event_source: u32,
    /// `eventName`.
    pub event_name: u32,
    /// `target_session_name`.
    pub target_session: u32,
    /// `source_identity`.
    pub source_identity: u32,
    /// `expiration_raw`.
    pub expiration_raw: u32,
    /// `eventID` (issuing events are few, so their ids are kept).
    pub event_id: EventId,
    /// `mfa`: 0 absent, 1 false, 2 true.
    pub mfa: u8,
}

impl Issuance {
    /// The state each block's first record is coded against: ordinal 0,
    /// both times `base`, every string id [`NONE`], no event id, mfa 0.
    pub fn block_start(base: i64) -> Self {
        Issuance {
            ord: 0,
            time: base,
            expiration: base,
            issued_key: NONE,
            issued_session: NONE,
            target_role: NONE,
            caller: NONE,
            caller_key: NONE,
            caller_type: NONE,
            caller_role: NONE,
            ip: NONE,
            account: NONE,
            region: NONE,
            error: NONE,
            user_agent: NONE,
            event_source: NONE,
            event_name: NONE,
            target_session: NONE,
            source_identity: NONE,
            expiration_raw: NONE,
            event_id: EventId::Absent,
            mfa: 0,
        }
    }

    /// The string-id fields in [`FIELDS`] order: the one list both
    /// [`Issuance::sids`] and [`Issuance::set_sids`] go through.
    fn sid_fields(&mut self) -> [&mut u32; SIDS] {
        [
            &mut self.issued_key,
            &mut self.issued_session,
            &mut self.target_session,
            &mut self.target_role,
            &mut self.caller,
            &mut self.ip,
            &mut self.user_agent,
            &mut self.expiration_raw,
            &mut self.caller_type,
            &mut self.event_name,
            &mut self.caller_key,
            &mut self.event_source,
            &mut self.account,
            &mut self.region,
            &mut self.caller_role,
            &mut self.error,
            &mut self.source_identity,
        ]
    }

    /// The string-id fields in [`FIELDS`] order.
    fn sids(&self) -> [u32; SIDS] {
        let mut copy = *self;
        copy.sid_fields().map(|f| *f)
    }

    /// Sets the string-id fields from [`FIELDS`] order.
    fn set_sids(&mut self, s: [u32; SIDS]) {
        for (f, v) in self.sid_fields().into_iter().zip(s) {
            *f = v;
        }
    }

    /// Appends this record coded against `prev` (the previous record of
    /// the block, or [`Issuance::block_start`]); `ord` must exceed
    /// `prev.ord` unless `prev` is the block start.
    fn encode(&self, prev: &Issuance, out: &mut Vec<u8>) {
        let (sids, psids) = (self.sids(), prev.sids());
        let mut mask = 0u32;
        mask |= if self.time != prev.time { BIT_TIME } else { 0 };
        mask |= if self.expiration != prev.expiration {
            BIT_EXPIRATION
        } else {
            0
        };
        mask |= if self.event_id != prev.event_id {
            BIT_EVENT_ID
        } else {
            0
        };
        for (k, (a, b)) in sids.iter().zip(&psids).enumerate() {
            if a != b {
                mask |= 1 << (SID_SHIFT + k as u32);
            }
        }
        mask |= if self.mfa != prev.mfa { BIT_MFA } else { 0 };
        put_varint(out, u64::from(mask));
        put_varint(out, u64::from(self.ord.wrapping_sub(prev.ord)));
        if mask & BIT_TIME != 0 {
            put_varint(out, zigzag(self.time.wrapping_sub(prev.time)));
        }
        if mask & BIT_EXPIRATION != 0 {
            put_varint(out, zigzag(self.expiration.wrapping_sub(prev.expiration)));
        }
        if mask & BIT_EVENT_ID != 0 {
            match self.event_id {
                EventId::Absent => put_varint(out, 0),
                EventId::Uuid(b) => {
                    put_varint(out, 1);
                    out.extend_from_slice(&b);
                }
                EventId::Sid(s) => put_varint(out, u64::from(s) + 2),
            }
        }
        for (k, s) in sids.iter().enumerate() {
            if mask & (1 << (SID_SHIFT + k as u32)) != 0 {
                put_varint(out, if *s == NONE { 0 } else { u64::from(*s) + 1 });
            }
        }
        if mask & BIT_MFA != 0 {
            out.push(self.mfa);
        }
    }

    /// Reads a record written by [`Issuance::encode`] against `prev`;
    /// `first` says whether `prev` is the block start (whose ordinal the
    /// delta is not required to exceed).
    fn decode(c: &mut Cur<'_>, prev: &Issuance, first: bool) -> Option<Self> {
        let mask = u32::try_from(c.varint()?).ok()?;
        if mask & !ALL_BITS != 0 {
            return None;
        }
        let delta = u32::try_from(c.varint()?).ok()?;
        if delta == 0 && !first {
            return None;
        }
        let mut r = *prev;
        r.ord = prev.ord.checked_add(delta)?;
        if mask & BIT_TIME != 0 {
            r.time = prev.time.wrapping_add(unzigzag(c.varint()?));
        }
        if mask & BIT_EXPIRATION != 0 {
            r.expiration = prev.expiration.wrapping_add(unzigzag(c.varint()?));
        }
        if mask & BIT_EVENT_ID != 0 {
            r.event_id = match c.varint()? {
                0 => EventId::Absent,
                1 => EventId::Uuid(c.bytes(16)?.try_into().ok()?),
                v => EventId::Sid(u32::try_from(v - 2).ok().filter(|s| *s != NONE)?),
            };
        }
        let mut sids = prev.sids();
        for (k, s) in sids.iter_mut().enumerate() {
            if mask & (1 << (SID_SHIFT + k as u32)) != 0 {
                *s = match c.varint()? {
                    0 => NONE,
                    v => u32::try_from(v - 1).ok().filter(|s| *s != NONE)?,
                };
            }
        }
        r.set_sids(sids);
        if mask & BIT_MFA != 0 {
            r.mfa = c.u8()?;
        }
        Some(r)
    }
}

fn zigzag(d: i64) -> u64 {
    ((d << 1) ^ (d >> 63)) as u64
}

fn unzigzag(z: u64) -> i64 {
    ((z >> 1) as i64) ^ -((z & 1) as i64)
}

/// The `ISSUANCE` section for `recs` (ascending ordinals), times coded
/// relative to `base` (µs).
pub fn encode_section(recs: &[Issuance], base: i64) -> Result<Vec<u8>, String> {
    let too_big = || "ISSUANCE over 4 GiB".to_owned();
    let mut data = Vec::with_capacity(recs.len() * 48);
    let mut offs = Vec::with_capacity(recs.len().div_ceil(ISSUANCE_BLOCK) + 1);
    for block in recs.chunks(ISSUANCE_BLOCK) {
        offs.push(u32::try_from(data.len()).map_err(|_| too_big())?);
        let mut prev = Issuance::block_start(base);
        for r in block {
            r.encode(&prev, &mut data);
            prev = *r;
        }
    }
    offs.push(u32::try_from(data.len()).map_err(|_| too_big())?);
    let n = u32::try_from(recs.len()).map_err(|_| too_big())?;
    let mut out = Vec::with_capacity(8 + 4 * offs.len() + data.len());
    put_u32(&mut out, n);
    put_u32(&mut out, (offs.len() - 1) as u32);
    for o in offs {
        put_u32(&mut out, o);
    }
    out.extend_from_slice(&data);
    Ok(out)
}

/// Decodes the first `take` records of a block's bytes `b`, calling `f`
/// with each record's position in the block; `None` when `b` does not
/// hold them.
pub fn decode_block(
    b: &[u8],
    take: usize,
    base: i64,
    mut f: impl FnMut(usize, &Issuance),
) -> Option<()> {
    let mut c = Cur::new(b);
    let mut prev = Issuance::block_start(base);
    for j in 0..take {
        prev = Issuance::decode(&mut c, &prev, j == 0)?;
        f(j, &prev);
    }
    Some(())
}

/// The header of an `ISSUANCE` section of `len` bytes: record count and
/// block count, once checked (`u32_at` reads the section's `u32`s); the
/// blocks' bytes start at `4 · (nblocks + 3)`.
pub fn parse_header(n: u32, nblocks: u32, len: usize) -> Option<(usize, usize, usize)> {
    let (n, nb) = (n as usize, nblocks as usize);
    let data = nb.checked_add(3)?.checked_mul(4)?;
    (nb == n.div_ceil(ISSUANCE_BLOCK) && data <= len).then_some((n, nb, data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::NO_TIME;

    #[test]
    fn uuids_round_trip_only_when_canonical() {
        let id = "a54b2abd-b7eb-40a8-8a99-290488c7da91";
        let b = parse_uuid(id).unwrap();
        assert_eq!(b[0], 0xa5);
        assert_eq!(b[15], 0x91);
        assert_eq!(format_uuid(&b), id);
        assert_eq!(
            format_uuid(&parse_uuid("00000000-0000-0000-0000-000000000000").unwrap()),
            "00000000-0000-0000-0000-000000000000"
        );
        for bad in [
            "",
            "e1",
            "A54B2ABD-B7EB-40A8-8A99-290488C7DA91",
            "a54b2abd-b7eb-40a8-8a99-290488c7da9",
            "a54b2abd-b7eb-40a8-8a99-290488c7da911",
            "a54b2abdb7eb-40a8-8a99-290488c7da91-",
            "{a54b2abd-b7eb-40a8-8a99-290488c7da9}",
            "a54b2abd_b7eb_40a8_8a99_290488c7da91",
            "g54b2abd-b7eb-40a8-8a99-290488c7da91",
            "a54b2abd-b7eb-40a8-8a99-290488c7dé1",
            "a54b2abdb7eb40a88a99290488c7da91abcd",
        ] {
            assert_eq!(parse_uuid(bad), None, "{bad:?}");
        }
        let mut interned = Vec::new();
        let mut intern = |s: &str| {
            interned.push(s.to_owned());
            7
        };
        assert_eq!(EventId::of(Some(id), &mut intern), EventId::Uuid(b));
        assert_eq!(EventId::of(Some("E1"), &mut intern), EventId::Sid(7));
        assert_eq!(EventId::of(None, &mut intern), EventId::Absent);
        assert_eq!(interned, vec!["E1".to_owned()]);
    }

    fn rec(ord: u32, k: u32) -> Issuance {
        Issuance {
            ord,
            time: if k % 5 == 4 {
                NO_TIME
            } else {
                1_741_566_156_000_000 + i64::from(k) * 1_000_003
            },
            expiration: if k.is_multiple_of(3) {
                NO_TIME
            } else {
                i64::MAX - 1
            },
            issued_key: if k.is_multiple_of(2) { NONE } else { k * 3 },
            caller: k / 4,
            account: 5,
            error: if k == 7 { NONE - 1 } else { NONE },
            event_id: match k % 4 {
                0 => EventId::Absent,
                1 => EventId::Sid(k),
                _ => EventId::Uuid([k as u8; 16]),
            },
            mfa: (k % 3) as u8,
            ..Issuance::block_start(0)
        }
    }

    fn section(recs: &[Issuance], base: i64) -> Vec<u8> {
        encode_section(recs, base).unwrap()
    }

    fn read_all(b: &[u8], base: i64) -> Option<Vec<Issuance>> {
        let u = |i: usize| crate::format::u32_at(b, i);
        let (n, nb, data) = parse_header(u(0)?, u(1)?, b.len())?;
        let mut out = Vec::new();
        for k in 0..nb {
            let (lo, hi) = (u(2 + k)? as usize, u(3 + k)? as usize);
            let take = (n - k * ISSUANCE_BLOCK).min(ISSUANCE_BLOCK);
            decode_block(b.get(data + lo..data + hi)?, take, base, |_, r| {
                out.push(*r)
            })?;
        }
        Some(out)
    }

    /// Records of every shape read back exactly, across block boundaries
    /// and with extreme times, ordinals and string ids.
    #[test]
    fn records_round_trip() {
        let mut recs: Vec<Issuance> = (0..40).map(|k| rec(k * 7 + 3, k)).collect();
        recs[0].ord = 0;
        recs[39].ord = u32::MAX - 2;
        recs[38].time = i64::MAX;
        recs[37].time = i64::MIN + 1;
        recs[36].caller = NONE - 1;
        for base in [0, 1_741_564_800_000_000, i64::MIN, i64::MAX] {
            let b = section(&recs, base);
            assert_eq!(read_all(&b, base), Some(recs.clone()), "base {base}");
        }
        assert_eq!(read_all(&section(&[], 0), 0), Some(vec![]));
    }

    /// A truncated or damaged section is `None`, never a panic.
    #[test]
    fn damage_is_detected() {
        let recs: Vec<Issuance> = (0..20).map(|k| rec(k * 2 + 1, k)).collect();
        let b = section(&recs, 5);
        for cut in 0..b.len() {
            let _ = read_all(&b[..cut], 5);
        }
        assert_eq!(read_all(&b[..b.len() - 1], 5), None);
        for at in 0..b.len() {
            for bit in [0x01, 0x80] {
                let mut d = b.clone();
                d[at] ^= bit;
                let _ = read_all(&d, 5);
            }
        }
        // A repeated ordinal within a block, a mask bit out of range and
        // a string id of NONE are malformed.
        let mut c = Vec::new();
        let start = Issuance::block_start(0);
        recs[0].encode(&start, &mut c);
        recs[0].encode(&recs[0], &mut c);
        assert!(decode_block(&c, 2, 0, |_, _| ()).is_none());
        assert!(decode_block(&[0x80, 0x80, 0x80, 0x01, 0], 1, 0, |_, _| ()).is_none());
        let mut c = Vec::new();
        put_varint(&mut c, u64::from(1u32 << SID_SHIFT));
        put_varint(&mut c, 0);
        put_varint(&mut c, u64::from(NONE) + 1);
        assert!(decode_block(&c, 1, 0, |_, _| ()).is_none());
        assert_eq!(parse_header(17, 1, 100), None);
        assert_eq!(parse_header(17, 2, 19), None);
        assert_eq!(parse_header(17, 2, 20), Some((17, 2, 20)));
    }
}
