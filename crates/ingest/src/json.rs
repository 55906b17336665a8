//! Reading a simd-json tape: navigation, JSON text output and the
//! order-independent structural hash.
//!
//! The tape is a flat `&[Node]`: an object or array node is followed by its
//! contents (`count` nodes, keys included), so a value is addressed by its
//! index and skipped in O(1). Everything here works on `(&[Node], index)`
//! pairs and never allocates, except the growing output of [`write_json`].
//!
//! Duplicate keys: [`get`] returns the LAST value of a key, as serde_json
//! and most readers do; [`write_json`] writes every pair as it came, so the
//! text reads back the same way.

use std::fmt::Write;

use simd_json::{Node, StaticNode};

/// Number of tape nodes the value at `i` spans (1 for scalars).
#[inline]
pub(crate) fn span(nodes: &[Node<'_>], i: usize) -> usize {
    match nodes[i] {
        Node::Object { count, .. } | Node::Array { count, .. } => count + 1,
        _ => 1,
    }
}

/// Iterator over an object's `(key, value index)` pairs.
pub(crate) struct ObjIter<'t, 'a> {
    nodes: &'t [Node<'a>],
    pos: usize,
    left: usize,
}

impl<'a> Iterator for ObjIter<'_, 'a> {
    type Item = (&'a str, usize);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let Node::String(k) = self.nodes[self.pos] else {
            return None;
        };
        let v = self.pos + 1;
        self.pos = v + span(self.nodes, v);
        Some((k, v))
    }
}

/// The pairs of the object at `i`, or `None` if it is not an object.
#[inline]
pub(crate) fn obj<'t, 'a>(nodes: &'t [Node<'a>], i: usize) -> Option<ObjIter<'t, 'a>> {
    match nodes.get(i)? {
        Node::Object { len, .. } => Some(ObjIter {
            nodes,
            pos: i + 1,
            left: *len,
        }),
        _ => None,
    }
}

/// Iterator over an array's element indices.
pub(crate) struct ArrIter<'t, 'a> {
    nodes: &'t [Node<'a>],
    pos: usize,
    left: usize,
}

impl Iterator for ArrIter<'_, '_> {
    type Item = usize;
    #[inline]
    fn next(&mut self) -> Option<usize> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        let v = self.pos;
        self.pos += span(self.nodes, v);
        Some(v)
    }
}

/// The elements of the array at `i`, or `None` if it is not an array.
#[inline]
pub(crate) fn arr<'t, 'a>(nodes: &'t [Node<'a>], i: usize) -> Option<ArrIter<'t, 'a>> {
    match nodes.get(i)? {
        Node::Array { len, .. } => Some(ArrIter {
            nodes,
            pos: i + 1,
            left: *len,
        }),
        _ => None,
    }
}

/// Length of the array at `i`.
pub(crate) fn arr_len(nodes: &[Node<'_>], i: usize) -> Option<usize> {
    match nodes.get(i)? {
        Node::Array { len, .. } => Some(*len),
        _ => None,
    }
}

/// The value of `key` in the object at `i` (last one if repeated).
#[inline]
pub(crate) fn get(nodes: &[Node<'_>], i: usize, key: &str) -> Option<usize> {
    obj(nodes, i)?
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .last()
}

/// Follows a dotted path (`sessionContext.sessionIssuer.arn`) from object `i`.
pub(crate) fn get_path(nodes: &[Node<'_>], mut i: usize, path: &str) -> Option<usize> {
    for part in path.split('.') {
        i = get(nodes, i, part)?;
    }
    Some(i)
}

/// The string at `i`, if it is one.
#[inline]
pub(crate) fn as_str<'a>(nodes: &[Node<'a>], i: usize) -> Option<&'a str> {
    match nodes.get(i)? {
        Node::String(s) => Some(s),
        _ => None,
    }
}

/// The string at `i`, or a boolean spelled `"true"`/`"false"` (what
/// [`backtrail_model::identity::EventView`] promises).
pub(crate) fn as_str_or_bool<'a>(nodes: &[Node<'a>], i: usize) -> Option<&'a str> {
    match nodes.get(i)? {
        Node::String(s) => Some(s),
        Node::Static(StaticNode::Bool(true)) => Some("true"),
        Node::Static(StaticNode::Bool(false)) => Some("false"),
        _ => None,
    }
}

/// Whether the value at `i` is JSON `null`.
#[inline]
pub(crate) fn is_null(nodes: &[Node<'_>], i: usize) -> bool {
    matches!(nodes[i], Node::Static(StaticNode::Null))
}

/// `0x01` in every byte of a word (SWAR).
pub(crate) const LO: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte of a word (SWAR).
pub(crate) const HI: u64 = 0x8080_8080_8080_8080;

/// SWAR: non-zero iff some byte of `x` is zero.
#[inline(always)]
pub(crate) fn has_zero_byte(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

/// SWAR test: does any byte of `w` need escaping (`< 0x20`, `"` or `\\`)?
#[inline]
fn needs_escape(w: u64) -> bool {
    let ctrl = w.wrapping_sub(LO * 0x20) & !w & HI;
    (ctrl | has_zero_byte(w ^ (LO * b'"' as u64)) | has_zero_byte(w ^ (LO * b'\\' as u64))) != 0
}

/// Writes `s` as a JSON string literal: `"` and `\` escaped, control
/// characters as `\n`/`\t`/… or `\u00XX`, everything else as UTF-8.
pub(crate) fn write_str<W: Write>(s: &str, out: &mut W) {
    let _ = out.write_char('"');
    let b = s.as_bytes();
    // Fast path: skip 8-byte words with nothing to escape.
    let mut i = 0;
    while i + 8 <= b.len() {
        if needs_escape(word(&b[i..])) {
            break;
        }
        i += 8;
    }
    let mut start = 0;
    for (j, &c) in b.iter().enumerate().skip(i) {
        let esc: &str = match c {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        let _ = out.write_str(&s[start..j]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{c:04x}");
        } else {
            let _ = out.write_str(esc);
        }
        start = j + 1;
    }
    let _ = out.write_str(&s[start..]);
    let _ = out.write_char('"');
}

/// Writes a number or literal. Floats use Rust's shortest round-trip form
/// (`{:?}`: `1.0`, `1e300`), so they read back as the same float and stay
/// floats (`1.0` is not turned into the integer `1`).
#[allow(unreachable_patterns)] // 128-bit variants exist only with a simd-json feature
pub(crate) fn write_static<W: Write>(n: &StaticNode, out: &mut W) {
    let _ = match n {
        StaticNode::Null => write!(out, "null"),
        StaticNode::Bool(b) => write!(out, "{b}"),
        StaticNode::I64(v) => write!(out, "{v}"),
        StaticNode::U64(v) => write!(out, "{v}"),
        StaticNode::F64(v) if v.is_finite() => write!(out, "{v:?}"),
        StaticNode::F64(_) => write!(out, "null"),
        other => write!(out, "{other}"),
    };
}

/// Appends the value at `i` as compact JSON text (to a `String`, or straight
/// into an Arrow `StringBuilder`, which implements `fmt::Write`). Returns the index just past it.
pub(crate) fn write_json<W: Write>(nodes: &[Node<'_>], i: usize, out: &mut W) -> usize {
    match &nodes[i] {
        Node::String(s) => {
            write_str(s, out);
            i + 1
        }
        Node::Static(n) => {
            write_static(n, out);
            i + 1
        }
        Node::Object { len, .. } => {
            let _ = out.write_char('{');
            let mut p = i + 1;
            for n in 0..*len {
                if n > 0 {
                    let _ = out.write_char(',');
                }
                if let Node::String(k) = nodes[p] {
                    write_str(k, out);
                }
                let _ = out.write_char(':');
                p = write_json(nodes, p + 1, out);
            }
            let _ = out.write_char('}');
            p
        }
        Node::Array { len, .. } => {
            let _ = out.write_char('[');
            let mut p = i + 1;
            for n in 0..*len {
                if n > 0 {
                    let _ = out.write_char(',');
                }
                p = write_json(nodes, p, out);
            }
            let _ = out.write_char(']');
            p
        }
    }
}

// ---------------------------------------------------------------------------
// Structural hash.
//
// Fixed constants, explicit little-endian reads: the same record hashes the
// same on every run, build and platform. Objects combine their pairs with a
// wrapping sum, so key order does not matter; arrays are ordered.

const K1: u64 = 0x9E37_79B9_7F4A_7C15;
const K2: u64 = 0xC2B2_AE3D_27D4_EB4F;
const K3: u64 = 0x1656_67B1_9E37_79F9;
const SEED_STR: u64 = 0x2545_F491_4F6C_DD1D;
const SEED_INT: u64 = 0x8CB9_2BA7_2F3D_8DD7;
const SEED_UINT: u64 = 0x5851_F42D_4C95_7F2D;
const SEED_FLOAT: u64 = 0x1405_7B7E_F767_814F;
const SEED_ARR: u64 = 0xD6E8_FEB8_6659_FD93;
const SEED_OBJ: u64 = 0xA076_1D64_78BD_642F;
const HASH_NULL: u64 = 0xE703_7ED1_A0B4_28DB;
const HASH_TRUE: u64 = 0x8EBC_6AF0_9C88_C6E3;
const HASH_FALSE: u64 = 0x5899_65CC_7537_4CC3;

#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

/// MurmurHash3's 64-bit finaliser.
#[inline]
pub(crate) fn fmix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

/// The first 8 bytes of `c` (at least 8 long) as a little-endian word.
#[inline(always)]
pub(crate) fn word(c: &[u8]) -> u64 {
    u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

/// A stable 64-bit hash of `b` (the foldhash construction): inputs of up
/// to 16 bytes are read with two overlapping loads (no copy, one
/// 64×64→128 multiply-fold), longer ones fold 16-byte words (two lanes from
/// 64 bytes on) and their overlapping last 16 bytes; one more fold finishes.
#[inline]
pub(crate) fn hash_bytes(seed: u64, b: &[u8]) -> u64 {
    let len = b.len();
    let mut h = seed ^ (len as u64).wrapping_mul(K1);
    if len <= 16 {
        let (lo, hi) = if len >= 8 {
            (word(&b[..8]), word(&b[len - 8..]))
        } else if len >= 4 {
            let w = |c: &[u8]| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
            (w(&b[..4]), w(&b[len - 4..]))
        } else if len > 0 {
            (
                u64::from(b[0]) << 16 | u64::from(b[len / 2]) << 8 | u64::from(b[len - 1]),
                0,
            )
        } else {
            (0, 0)
        };
        h = fold_mul(lo ^ K1 ^ h, hi ^ K2);
        return fold_mul(h ^ K3, K1);
    }
    let mut rest = b;
    if len >= 64 {
        // Two independent lanes over 32-byte blocks (instruction-level
        // parallelism for long strings), folded together.
        let mut g = h ^ K3;
        let mut blocks = b.chunks_exact(32);
        for c in &mut blocks {
            h = fold_mul(word(&c[..8]) ^ K1 ^ h, word(&c[8..16]) ^ K2);
            g = fold_mul(word(&c[16..24]) ^ K1 ^ g, word(&c[24..]) ^ K2);
        }
        h = fold_mul(h ^ K2, g ^ K1);
        rest = blocks.remainder();
    }
    let mut chunks = rest.chunks_exact(16);
    for c in &mut chunks {
        h = fold_mul(word(&c[..8]) ^ K1 ^ h, word(&c[8..]) ^ K2);
    }
    if !chunks.remainder().is_empty() {
        // The last 16 bytes of the input, overlapping what was folded.
        h = fold_mul(
            word(&b[len - 16..len - 8]) ^ K3 ^ h,
            word(&b[len - 8..]) ^ K2,
        );
    }
    fold_mul(h ^ K3, K1)
}

/// The stable hash of a string value (also used for `eventID` keys).
#[inline]
pub(crate) fn hash_str(s: &str) -> u64 {
    hash_bytes(SEED_STR, s.as_bytes())
}

#[allow(unreachable_patterns)]
fn hash_static(n: &StaticNode) -> u64 {
    match n {
        StaticNode::Null => HASH_NULL,
        StaticNode::Bool(true) => HASH_TRUE,
        StaticNode::Bool(false) => HASH_FALSE,
        StaticNode::I64(v) => fold_mul(SEED_INT ^ *v as u64, K1),
        StaticNode::U64(v) if *v <= i64::MAX as u64 => fold_mul(SEED_INT ^ *v, K1),
        StaticNode::U64(v) => fold_mul(SEED_UINT ^ *v, K1),
        StaticNode::F64(v) => {
            let v = if *v == 0.0 { 0.0 } else { *v };
            fold_mul(SEED_FLOAT ^ v.to_bits(), K1)
        }
        other => hash_bytes(SEED_UINT, other.to_string().as_bytes()),
    }
}

/// Hash of a scalar node, `None` for containers.
#[inline]
fn hash_scalar(n: &Node<'_>) -> Option<u64> {
    match n {
        Node::String(s) => Some(hash_str(s)),
        Node::Static(v) => Some(hash_static(v)),
        _ => None,
    }
}

/// Order-independent structural hash of the value at `i`; returns the hash
/// and the index just past the value. Scalars are hashed in place; only
/// nested containers recurse.
pub(crate) fn hash_value(nodes: &[Node<'_>], i: usize) -> (u64, usize) {
    match &nodes[i] {
        Node::Array { len, .. } => {
            let mut h = SEED_ARR ^ (*len as u64).wrapping_mul(K2);
            let mut p = i + 1;
            for _ in 0..*len {
                let v = match hash_scalar(&nodes[p]) {
                    Some(v) => {
                        p += 1;
                        v
                    }
                    None => {
                        let (v, next) = hash_value(nodes, p);
                        p = next;
                        v
                    }
                };
                h = fold_mul(h ^ v, K1);
            }
            (fold_mul(h ^ K3, K2), p)
        }
        Node::Object { len, .. } => {
            // Pairs are combined by a wrapping sum: key order does not matter.
            let mut acc = 0u64;
            let mut p = i + 1;
            for _ in 0..*len {
                let k = match nodes[p] {
                    Node::String(k) => hash_str(k),
                    _ => 0,
                };
                p += 1;
                let v = match hash_scalar(&nodes[p]) {
                    Some(v) => {
                        p += 1;
                        v
                    }
                    None => {
                        let (v, next) = hash_value(nodes, p);
                        p = next;
                        v
                    }
                };
                acc = acc.wrapping_add(fold_mul(k ^ K3, v ^ K2));
            }
            (fold_mul(SEED_OBJ ^ acc, K1 ^ (*len as u64)), p)
        }
        n => (hash_scalar(n).unwrap_or(HASH_NULL), i + 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_tape<R>(text: &str, f: impl FnOnce(&[Node<'_>]) -> R) -> R {
        let mut b = text.as_bytes().to_vec();
        let tape = simd_json::to_tape(&mut b).expect("valid json");
        f(&tape.0)
    }

    const PIN: [u64; 5] = [
        0x8baf83acfbc55715,
        0x19b95cefd00ae04b,
        0x887312658bdaa0c0,
        0x48280a8b101e2240,
        0x79c53ab4d677a5dc,
    ];

    fn hash(text: &str) -> u64 {
        with_tape(text, |n| hash_value(n, 0).0)
    }

    #[test]
    fn hash_ignores_key_order_but_not_values() {
        assert_eq!(
            hash(r#"{"a":1,"b":[1,2],"c":{"x":"y","z":null}}"#),
            hash(r#"{"c":{"z":null,"x":"y"},"b":[1,2],"a":1}"#)
        );
        let cases = [
            (r#"{"a":1}"#, r#"{"a":2}"#),
            (r#"{"a":1}"#, r#"{"b":1}"#),
            (r#"[1,2]"#, r#"[2,1]"#),
            (r#"{"a":"1"}"#, r#"{"a":1}"#),
            (r#"{"a":1}"#, r#"{"a":1.0}"#),
            (r#"{"a":{}}"#, r#"{"a":[]}"#),
            (r#"{"a":null}"#, r#"{}"#),
            (r#"{"a":"b","c":"d"}"#, r#"{"a":"d","c":"b"}"#),
        ];
        for (a, b) in cases {
            assert_ne!(hash(a), hash(b), "{a} vs {b}");
        }
    }

    #[test]
    fn hash_is_stable_across_builds() {
        // Pinned values: a silent change would break dedup against datasets
        // written by earlier builds (record_hash is stored).
        let cases: [(&str, u64); 5] = [
            (r#""1""#, PIN[0]),
            (
                r#"{"eventID":"1","eventTime":"2024-01-02T03:04:05Z"}"#,
                PIN[1],
            ),
            (r#"[1,2.5,true,null,{}]"#, PIN[2]),
            (r#"{"a":{"b":[{"c":"é"}]}}"#, PIN[3]),
            (
                r#""a string longer than sixty-four bytes takes the two-lane path, 0123456789""#,
                PIN[4],
            ),
        ];
        for (text, want) in cases {
            assert_eq!(hash(text), want, "{text}: {:#x}", hash(text));
        }
    }

    #[test]
    fn every_byte_of_every_length_counts() {
        for len in 0..80usize {
            let base: Vec<u8> = (0..len as u8)
                .map(|i| i.wrapping_mul(37).wrapping_add(11))
                .collect();
            let h0 = hash_bytes(SEED_STR, &base);
            if len > 0 {
                assert_ne!(
                    h0,
                    hash_bytes(SEED_STR, &base[..len - 1]),
                    "len {len} vs shorter"
                );
            }
            for pos in 0..len {
                let mut v = base.clone();
                v[pos] ^= 0x20;
                assert_ne!(h0, hash_bytes(SEED_STR, &v), "len {len} byte {pos}");
            }
        }
    }

    #[test]
    fn write_json_round_trips() {
        for text in [
            r#"{"a":"x\"y\\z\n\u0000\u001f","b":[1,-2,3.5,1.0,1e300,true,false,null],"c":{}}"#,
            r#"[]"#,
            r#""é😀""#,
            r#"{"k":{"k":{"k":[{"a":[]}]}}}"#,
        ] {
            let out = with_tape(text, |n| {
                let mut s = String::new();
                write_json(n, 0, &mut s);
                s
            });
            let a: serde_json::Value = serde_json::from_str(text).unwrap();
            let b: serde_json::Value = serde_json::from_str(&out).unwrap();
            assert_eq!(a, b, "{out}");
        }
    }

    #[test]
    fn navigation() {
        with_tape(
            r#"{"a":{"b":{"c":"d"}},"e":[1,{"f":2}],"a2":1,"a":{"b":{"c":"last"}}}"#,
            |n| {
                let c = get_path(n, 0, "a.b.c").unwrap();
                assert_eq!(as_str(n, c), Some("last"));
                let e = get(n, 0, "e").unwrap();
                assert_eq!(arr(n, e).unwrap().count(), 2);
                assert_eq!(obj(n, 0).unwrap().count(), 4);
            },
        );
    }
}
