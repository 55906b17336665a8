//! A string interner for building segments: ids in first-seen order,
//! strings stored end to end in one buffer, found through an
//! open-addressing table of ids (no allocation per string, and one free
//! of a few buffers at the end instead of one per string).

use ahash::RandomState;

/// "Empty" in the slot table.
const EMPTY: u32 = u32::MAX;

/// Interned strings, ids `0..len()` in first-seen order.
pub(crate) struct StrTable {
    bytes: String,
    /// End of string `i` in `bytes` (it starts where `i - 1` ends).
    ends: Vec<usize>,
    hashes: Vec<u64>,
    /// Ids by hash, linear probing; a power of two, at most half full.
    slots: Vec<u32>,
    state: RandomState,
}

impl Default for StrTable {
    fn default() -> Self {
        StrTable {
            bytes: String::new(),
            ends: Vec::new(),
            hashes: Vec::new(),
            slots: vec![EMPTY; 1024],
            state: RandomState::new(),
        }
    }
}

impl StrTable {
    /// Number of strings.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// String `i` (`i < len()`).
    #[inline]
    pub(crate) fn get(&self, i: u32) -> &str {
        let i = i as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The id of `s` and whether it was new. Panics past `u32::MAX - 2`
    /// strings (ids `u32::MAX - 1` and `u32::MAX` are kept for markers).
    #[inline]
    pub(crate) fn intern(&mut self, s: &str) -> (u32, bool) {
        let h = self.state.hash_one(s);
        let mask = self.slots.len() - 1;
        let mut at = h as usize & mask;
        loop {
            let id = self.slots[at];
            if id == EMPTY {
                break;
            }
            if self.hashes[id as usize] == h && self.get(id) == s {
                return (id, false);
            }
            at = (at + 1) & mask;
        }
        let id = u32::try_from(self.len())
            .ok()
            .filter(|&i| i < u32::MAX - 1)
            .expect("fewer than 2^32 - 2 strings");
        self.bytes.push_str(s);
        self.ends.push(self.bytes.len());
        self.hashes.push(h);
        self.slots[at] = id;
        if self.len() * 2 > self.slots.len() {
            self.grow();
        }
        (id, true)
    }

    fn grow(&mut self) {
        let n = self.slots.len() * 2;
        let mask = n - 1;
        let mut slots = vec![EMPTY; n];
        for (id, &h) in self.hashes.iter().enumerate() {
            let mut at = h as usize & mask;
            while slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            slots[at] = id as u32;
        }
        self.slots = slots;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_first_seen_order_through_growth() {
        let mut t = StrTable::default();
        let words: Vec<String> = (0..5000).map(|i| format!("w{}", i % 3000)).collect();
        for (n, w) in words.iter().enumerate() {
            let (id, new) = t.intern(w);
            assert_eq!(new, n < 3000, "{w}");
            assert_eq!(id as usize, n % 3000);
        }
        assert_eq!(t.len(), 3000);
        assert_eq!(t.get(0), "w0");
        assert_eq!(t.get(2999), "w2999");
        let (e, new) = t.intern("");
        assert!(new);
        assert_eq!(t.get(e), "");
        assert_eq!(t.intern(""), (e, false));
    }
}
