//! Nothing twice: the seen-set of `(eventID, record_hash)` keys, sharded by
//! day and kept in memory for the most recently used days only.
//!
//! Key = the stable hash of `eventID` (records without one use their
//! record hash, salted); identity = `record_hash`. A key already seen with
//! the same record hash is a duplicate (dropped); with a different one, a
//! collision (kept, counted). Duplicates share `eventTime`, hence the day,
//! so a day's shard answers for every record of that day.
//!
//! Shards are not stored separately: a day's shard is rebuilt from the
//! `eventID` and `record_hash` columns of that day's committed data files
//! (plus the files and buffered rows of the current run), so it can never
//! disagree with the data after a crash. Memory bound: `resident_days` ×
//! (events of the busiest day) × ~24–40 bytes (a `u64 → u64` hash map).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use arrow_array::cast::AsArray;
use arrow_array::types::Int64Type;
use arrow_array::{Array, RecordBatch};
use backtrail_model::schema::col;

use crate::json::{fmix, hash_str};
use crate::record::RowKey;

const NO_ID_SALT: u64 = 0x6A09_E667_F3BC_C909;

/// What a row is, against everything stored before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Never seen: store it.
    New,
    /// The same record is stored already: drop it.
    Duplicate,
    /// Its eventID is stored with a different content: store it, count it.
    Collision,
}

/// Pass-through hasher: keys are already well-mixed 64-bit hashes.
#[derive(Default)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// The dedup key of a row.
pub(crate) fn key_of(event_id: Option<u64>, record_hash: u64) -> u64 {
    event_id.unwrap_or_else(|| fmix(record_hash ^ NO_ID_SALT))
}

/// Sub-tables per day. A hash table grows by doubling, and while it
/// rehashes the old and new tables are both alive: one table for a 5M-event
/// day had a 210 MB peak for 140 MB of keys. Split 64 ways, the tables
/// grow one at a time and the transient is 1/64th.
const SUB_TABLES: usize = 64;

/// The sub-table of `key`: bits 40..46, clear of the bits the table itself
/// uses (the low ones pick the bucket, the top 7 are its tag byte).
fn sub_table(key: u64) -> usize {
    (key >> 40) as usize % SUB_TABLES
}

struct DaySet {
    first: Vec<IdMap<u64>>,
    more: IdMap<Vec<u64>>,
    last_used: u64,
}

impl Default for DaySet {
    fn default() -> Self {
        Self {
            first: (0..SUB_TABLES).map(|_| IdMap::default()).collect(),
            more: IdMap::default(),
            last_used: 0,
        }
    }
}

impl DaySet {
    fn reserve(&mut self, keys: usize) {
        for t in &mut self.first {
            t.reserve(keys / SUB_TABLES + 1);
        }
    }

    fn check(&mut self, key: u64, rh: u64) -> Verdict {
        use std::collections::hash_map::Entry;
        // One probe: nearly every key is new, and each probe is a cache miss.
        match self.first[sub_table(key)].entry(key) {
            Entry::Vacant(e) => {
                e.insert(rh);
                Verdict::New
            }
            Entry::Occupied(e) if *e.get() == rh => Verdict::Duplicate,
            Entry::Occupied(_) => {
                let v = self.more.entry(key).or_default();
                if v.contains(&rh) {
                    Verdict::Duplicate
                } else {
                    v.push(rh);
                    Verdict::Collision
                }
            }
        }
    }
}

/// Adds the keys of a stored batch (its `eventID` and `record_hash`
/// columns) to `out`.
pub(crate) fn keys_of_batch(b: &RecordBatch, out: &mut Vec<(Option<u64>, u64)>) {
    let (Some(ids), Some(hs)) = (
        b.column_by_name(col::EVENT_ID),
        b.column_by_name(col::RECORD_HASH),
    ) else {
        return;
    };
    let ids = ids.as_string::<i32>();
    let hs = hs.as_primitive::<Int64Type>();
    for i in 0..b.num_rows() {
        let id = (!ids.is_null(i)).then(|| hash_str(ids.value(i)));
        out.push((id, hs.value(i) as u64));
    }
}

/// The LRU of per-day seen-sets.
pub(crate) struct Seen {
    days: HashMap<i32, DaySet>,
    cap: usize,
    tick: u64,
    loads: u64,
}

impl Seen {
    pub(crate) fn new(resident_days: usize) -> Self {
        Self {
            days: HashMap::new(),
            cap: resident_days.max(1),
            tick: 0,
            loads: 0,
        }
    }

    /// Whether `day`'s shard is in memory.
    pub(crate) fn is_resident(&self, day: i32) -> bool {
        self.days.contains_key(&day)
    }

    /// Installs `day`'s shard from the keys of what is stored for it,
    /// evicting the least recently used day if over capacity.
    pub(crate) fn load(&mut self, day: i32, stored: &[(Option<u64>, u64)]) {
        if self.days.len() >= self.cap
            && let Some(old) = self
                .days
                .iter()
                .min_by_key(|(_, s)| s.last_used)
                .map(|(d, _)| *d)
        {
            self.days.remove(&old);
        }
        let mut set = DaySet::default();
        set.reserve(stored.len());
        for (id, rh) in stored {
            set.check(key_of(*id, *rh), *rh);
        }
        self.loads += 1;
        self.days.insert(day, set);
    }

    /// Judges one row (its shard must be resident) and records it.
    pub(crate) fn check(&mut self, k: &RowKey) -> Verdict {
        self.tick += 1;
        let set = self
            .days
            .get_mut(&k.day)
            .expect("shard loaded before check");
        set.last_used = self.tick;
        set.check(key_of(k.event_id, k.record_hash), k.record_hash)
    }

    /// How many shards were (re)loaded so far.
    pub(crate) fn loads(&self) -> u64 {
        self.loads
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let mut s = Seen::new(2);
        s.load(1, &[(Some(7), 100)]);
        let k = |id: Option<u64>, rh: u64| RowKey {
            day: 1,
            event_id: id,
            record_hash: rh,
        };
        let cases = [
            (k(Some(7), 100), Verdict::Duplicate),
            (k(Some(7), 101), Verdict::Collision),
            (k(Some(7), 101), Verdict::Duplicate),
            (k(Some(8), 100), Verdict::New),
            (k(None, 100), Verdict::New),
            (k(None, 100), Verdict::Duplicate),
        ];
        for (i, (key, want)) in cases.iter().enumerate() {
            assert_eq!(s.check(key), *want, "case {i}");
        }
    }

    #[test]
    fn lru_evicts_least_recent() {
        let mut s = Seen::new(2);
        s.load(1, &[]);
        s.load(2, &[]);
        s.check(&RowKey {
            day: 1,
            event_id: None,
            record_hash: 1,
        });
        s.load(3, &[]);
        assert!(s.is_resident(1) && s.is_resident(3) && !s.is_resident(2));
    }
}
