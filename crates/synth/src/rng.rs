//! The seeded pseudo-random generator and the id spellings built from it.
//!
//! Everything random in an archive comes from [`Rng`] (xoshiro256\*\*,
//! seeded through splitmix64), and every independent part of the work
//! (an account/region stream, a scenario, the organisation) derives its own
//! generator with [`Rng::derive`] from the run's seed and a label, so the
//! output does not depend on the order rayon schedules the parts in.

/// splitmix64 step: the mixing function used to seed and to hash labels.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A stable 64-bit hash of a byte string (FNV-1a folded through splitmix).
pub fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    splitmix(h)
}

/// xoshiro256\*\* generator.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HEX: &[u8] = b"0123456789abcdef";

impl Rng {
    /// A generator seeded from one number.
    pub fn new(seed: u64) -> Self {
        let mut z = seed;
        let mut s = [0u64; 4];
        for v in &mut s {
            z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
            *v = splitmix(z);
        }
        Rng { s }
    }

    /// An independent generator for part `label` / `index` of a run.
    pub fn derive(seed: u64, label: &str, index: u64) -> Self {
        Rng::new(splitmix(seed ^ hash_str(label)) ^ splitmix(index.wrapping_add(0x5151)))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let r = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        r
    }

    /// Uniform in `0..n` (`n > 0`), by multiply-shift.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform index into a slice of length `n`.
    pub fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// A uniformly chosen element.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// Index chosen with probability proportional to `weights` (cumulative
    /// weights, ascending, last = total).
    pub fn weighted(&mut self, cumulative: &[f64]) -> usize {
        let total = *cumulative.last().unwrap_or(&0.0);
        let x = self.unit() * total;
        cumulative
            .partition_point(|&c| c <= x)
            .min(cumulative.len().saturating_sub(1))
    }

    /// A log-normal-ish burst factor with median 1 (exp of a sum of uniforms).
    pub fn burst(&mut self, spread: f64) -> f64 {
        let g = self.unit() + self.unit() + self.unit() - 1.5;
        exp(g * spread)
    }

    fn chars(&mut self, out: &mut String, alphabet: &[u8], n: usize) {
        for _ in 0..n {
            out.push(alphabet[self.index(alphabet.len())] as char);
        }
    }

    /// `n` characters from `[A-Za-z0-9]` (log file name suffixes).
    pub fn alnum(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        self.chars(&mut s, ALNUM, n);
        s
    }

    /// `n` lower-case hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        self.chars(&mut s, HEX, n);
        s
    }

    /// An AWS unique id: `prefix` + 16 characters of `[A-Z2-7]`
    /// (`AKIA…`, `ASIA…`, `AIDA…`, `AROA…`).
    pub fn aws_id(&mut self, prefix: &str) -> String {
        let mut s = String::with_capacity(20);
        s.push_str(prefix);
        self.chars(&mut s, UPPER_DIGITS, 20 - prefix.len());
        s
    }

    /// A random (version 4) UUID, lower case.
    pub fn uuid(&mut self) -> String {
        let mut out = String::with_capacity(36);
        self.uuid_into(&mut out);
        out
    }

    /// Appends a random UUID to `out`, without allocating.
    pub fn uuid_into(&mut self, out: &mut String) {
        let a = self.next_u64();
        let b = self.next_u64();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&a.to_le_bytes());
        bytes[8..].copy_from_slice(&b.to_le_bytes());
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        for (i, byte) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                out.push('-');
            }
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 15)] as char);
        }
    }

    /// An S3-style request id: 16 upper-case hex digits.
    pub fn s3_request_id(&mut self) -> String {
        let v = self.next_u64();
        format!("{v:016X}")
    }
}

/// `e^x` from additions, multiplications and divisions only, so the result
/// is the same bit for bit on every platform (the system `exp` may differ in
/// the last place, and archive bytes depend on it). Accurate to ~1e-15 for
/// the small arguments used here.
pub fn exp(x: f64) -> f64 {
    const LN2: f64 = std::f64::consts::LN_2;
    let n = (x / LN2).round();
    let r = x - n * LN2;
    let (mut term, mut sum) = (1.0f64, 1.0f64);
    for k in 1..=18 {
        term = term * r / f64::from(k);
        sum += term;
    }
    let mut scale = 1.0;
    for _ in 0..(n.abs() as i64).min(1100) {
        scale *= 2.0;
    }
    if n < 0.0 { sum / scale } else { sum * scale }
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_labels_separate() {
        let mut a = Rng::derive(7, "x", 1);
        let mut b = Rng::derive(7, "x", 1);
        let mut c = Rng::derive(7, "x", 2);
        let va: Vec<u64> = (0..8).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..8).map(|_| b.next_u64()).collect();
        let vc: Vec<u64> = (0..8).map(|_| c.next_u64()).collect();
        assert_eq!(va, vb);
        assert_ne!(va, vc);
    }

    #[test]
    fn exp_matches_std() {
        for x in [-3.0, -1.05, -0.5, 0.0, 1e-9, 0.3, 1.05, 2.5] {
            let (a, b) = (exp(x), f64::exp(x));
            assert!((a - b).abs() <= 1e-14 * b, "{x}: {a} vs {b}");
        }
    }

    #[test]
    fn id_shapes() {
        let mut r = Rng::new(1);
        let u = r.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4");
        let k = r.aws_id("ASIA");
        assert_eq!(k.len(), 20);
        assert!(k.starts_with("ASIA"));
        assert!(r.alnum(16).chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(to_hex(&[0, 255, 16]), "00ff10");
    }

    proptest::proptest! {
        #[test]
        fn below_stays_in_range(seed in 0u64..u64::MAX, n in 1u64..1000) {
            let mut r = Rng::new(seed);
            for _ in 0..16 {
                proptest::prop_assert!(r.below(n) < n);
            }
        }

        #[test]
        fn weighted_in_range(seed in 0u64..u64::MAX) {
            let mut r = Rng::new(seed);
            let cum = [0.5, 0.5, 3.0, 10.0];
            let i = r.weighted(&cum);
            proptest::prop_assert!(i < 4 && i != 1);
        }
    }
}
