//! Section kinds and fixed record layouts of a partition segment, shared by
//! the writer (`segment_write.rs`) and the reader (`segment.rs`). The
//! grammar is written down in `docs/formats/index.md`.

/// "No string" in any string-id field.
pub const NONE: u32 = u32::MAX;
/// Events (consecutive ordinals) per `TIMES` entry. Events of a partition
/// come roughly in time order, so a block's time range stays narrow (a few
/// minutes at 1M events) while costing 1/8 byte an event instead of 2.
pub const TIME_BLOCK: u32 = 128;
/// Strings per front-coded block of `STRINGS`.
pub const STRING_BLOCK: usize = 16;
/// Top bit of a postings `ref`: the list is this one inline ordinal.
pub const INLINE: u32 = 0x8000_0000;
/// "No time" in the 64-bit time fields.
pub const NO_TIME: i64 = i64::MIN;

/// Section kinds of a segment, in file order.
pub mod sec {
    /// Partition, counts, time window, Parquet file fingerprints.
    pub const META: u32 = 1;
    /// Sorted, deduplicated strings.
    pub const STRINGS: u32 = 2;
    /// Time range (exact µs) per block of [`TIME_BLOCK`] events.
    pub const TIMES: u32 = 3;
    /// Event postings by `principal_arn`.
    pub const POST_PRINCIPAL: u32 = 4;
    /// Event postings by `access_key_id`.
    pub const POST_KEY: u32 = 5;
    /// Event postings by `sourceIPAddress`.
    pub const POST_IP: u32 = 6;
    /// Event postings by `role_arn` (the role behind the acting session).
    pub const POST_ROLE: u32 = 7;
    /// Event postings by each of `resource_arns`.
    pub const POST_RESOURCE: u32 = 8;
    /// Credential-issuing events.
    pub const ISSUANCE: u32 = 9;
    /// Issuance postings by `issued_key`.
    pub const POST_ISSUED_KEY: u32 = 10;
    /// Issuance postings by `issued_session_arn`.
    pub const POST_ISSUED_SESSION: u32 = 11;
    /// Issuance postings by `target_role_arn`.
    pub const POST_TARGET_ROLE: u32 = 12;
    /// Per access key: use summary.
    pub const KEYUSE: u32 = 13;

    /// Every kind a v1 segment must have.
    pub const ALL: [u32; 13] = [
        META,
        STRINGS,
        TIMES,
        POST_PRINCIPAL,
        POST_KEY,
        POST_IP,
        POST_ROLE,
        POST_RESOURCE,
        ISSUANCE,
        POST_ISSUED_KEY,
        POST_ISSUED_SESSION,
        POST_TARGET_ROLE,
        KEYUSE,
    ];

    /// Name used in messages.
    pub fn name(kind: u32) -> &'static str {
        match kind {
            META => "META",
            STRINGS => "STRINGS",
            TIMES => "TIMES",
            POST_PRINCIPAL => "POST_PRINCIPAL",
            POST_KEY => "POST_KEY",
            POST_IP => "POST_IP",
            POST_ROLE => "POST_ROLE",
            POST_RESOURCE => "POST_RESOURCE",
            ISSUANCE => "ISSUANCE",
            POST_ISSUED_KEY => "POST_ISSUED_KEY",
            POST_ISSUED_SESSION => "POST_ISSUED_SESSION",
            POST_TARGET_ROLE => "POST_TARGET_ROLE",
            KEYUSE => "KEYUSE",
            _ => "unknown",
        }
    }
}

/// Bytes of one postings directory entry.
pub const POSTING_ENTRY: usize = 8;

pub use crate::issuance::{EventId, Issuance};

/// Use summary of one access key within a segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyUse {
    /// String id of the key.
    pub key: u32,
    /// Ordinal of the first use (earliest time, then lowest ordinal;
    /// events without time count as latest).
    pub first_ord: u32,
    /// Time of the first use, or [`NO_TIME`].
    pub first_time: i64,
    /// Latest time of a use, or [`NO_TIME`].
    pub last_time: i64,
    /// Calls signed with the key.
    pub calls: u32,
    /// Calls with an `errorCode`.
    pub errors: u32,
    /// Calls failing on expired credentials.
    pub expired_errors: u32,
    /// `principal_arn` of the first use.
    pub first_principal: u32,
    /// `principal_type` of the first use.
    pub first_type: u32,
    /// `sourceIPAddress` of the first use.
    pub first_ip: u32,
}

fn put_sid(out: &mut Vec<u8>, sid: u32) {
    crate::format::put_varint(out, if sid == NONE { 0 } else { u64::from(sid) + 1 });
}

fn get_sid(c: &mut crate::format::Cur<'_>) -> Option<u32> {
    match c.varint()? {
        0 => Some(NONE),
        v => u32::try_from(v - 1).ok().filter(|s| *s != NONE),
    }
}

fn put_time(out: &mut Vec<u8>, t: i64, base: i64) {
    let v = if t == NO_TIME {
        0
    } else {
        let d = t.wrapping_sub(base);
        ((d << 1) ^ (d >> 63)) as u64 + 1
    };
    crate::format::put_varint(out, v);
}

fn get_time(c: &mut crate::format::Cur<'_>, base: i64) -> Option<i64> {
    match c.varint()? {
        0 => Some(NO_TIME),
        v => {
            let z = v - 1;
            let d = ((z >> 1) as i64) ^ -((z & 1) as i64);
            Some(base.wrapping_add(d))
        }
    }
}

impl KeyUse {
    /// Appends the varint record (times relative to `base` µs) and the
    /// key's distinct source IP ids (ascending, delta-coded).
    pub fn encode(&self, ips: &[u32], base: i64, out: &mut Vec<u8>) {
        use crate::format::put_varint;
        put_varint(out, u64::from(self.first_ord));
        put_time(out, self.first_time, base);
        put_time(out, self.last_time, base);
        put_varint(out, u64::from(self.calls));
        put_varint(out, u64::from(self.errors));
        put_varint(out, u64::from(self.expired_errors));
        put_sid(out, self.first_principal);
        put_sid(out, self.first_type);
        put_sid(out, self.first_ip);
        put_varint(out, ips.len() as u64);
        let mut prev = 0;
        for &ip in ips {
            put_varint(out, u64::from(ip - prev));
            prev = ip;
        }
    }

    /// Reads a record written by [`KeyUse::encode`] for key `key`.
    pub fn decode(key: u32, b: &[u8], base: i64) -> Option<(Self, Vec<u32>)> {
        let mut c = crate::format::Cur::new(b);
        let small = |c: &mut crate::format::Cur<'_>| c.varint().and_then(|v| u32::try_from(v).ok());
        let u = KeyUse {
            key,
            first_ord: small(&mut c)?,
            first_time: get_time(&mut c, base)?,
            last_time: get_time(&mut c, base)?,
            calls: small(&mut c)?,
            errors: small(&mut c)?,
            expired_errors: small(&mut c)?,
            first_principal: get_sid(&mut c)?,
            first_type: get_sid(&mut c)?,
            first_ip: get_sid(&mut c)?,
        };
        let n = c.varint()?;
        let mut ips = Vec::with_capacity(n.min(1024) as usize);
        let mut prev = 0u32;
        for _ in 0..n {
            prev = prev.checked_add(small(&mut c)?)?;
            ips.push(prev);
        }
        Some((u, ips))
    }
}
