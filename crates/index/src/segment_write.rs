//! Builds one partition's segment: one pass over the partition's Parquet
//! files (projected to [`BUILD_COLUMNS`]), strings interned, then sorted and
//! renumbered so string ids follow byte order (prefix queries become range
//! scans), then the sections written (layout in `layout.rs`, grammar in
//! `docs/formats/index.md`).

use arrow_array::Array;
use std::path::Path;

use ahash::AHashSet;
use backtrail_model::arn::Arn;
use backtrail_model::identity::is_credential_issuing;
use backtrail_model::schema::col;

use crate::dataset::{
    BUILD_COLUMNS, Cols, DictMemo, FileFingerprint, StrCol, dict_reader, get_str, get_ts,
    partition_dir,
};
use crate::error::{Error, Result};
use crate::format::{FileBuilder, SEGMENT_MAGIC, put_i64, put_str, put_u32, put_u64, put_varint};
use crate::layout::{
    EventId, INLINE, Issuance, KeyUse, NO_TIME, NONE, STRING_BLOCK, TIME_BLOCK, sec,
};
use crate::matching::is_expired_credential_error;
use crate::matching::resource_key;
use crate::strtab::StrTable;

const MICROS_PER_MINUTE: i64 = 60_000_000;

#[derive(Default)]
struct Interner {
    table: StrTable,
}

impl Interner {
    #[inline]
    fn id(&mut self, s: Option<&str>) -> u32 {
        match s {
            Some(s) => self.table.intern(s).0,
            None => NONE,
        }
    }
}

/// Resource ARNs as read → id of their [`resource_key`], so each distinct
/// ARN is parsed (for its partition) and keyed once.
#[derive(Default)]
struct Resources {
    arns: StrTable,
    /// String id of the key of ARN `i` of `arns`.
    ids: Vec<u32>,
}

impl Resources {
    #[inline]
    fn id(&mut self, arn: &str, st: &mut Interner, partitions: &mut AHashSet<String>) -> u32 {
        let (i, new) = self.arns.intern(arn);
        if !new {
            return self.ids[i as usize];
        }
        if let Some(a) = Arn::parse(arn)
            && !partitions.contains(a.partition)
        {
            partitions.insert(a.partition.to_owned());
        }
        let id = st.id(Some(&resource_key(arn)));
        self.ids.push(id);
        id
    }
}

struct KeyAcc {
    first: (i64, u32),
    last_time: i64,
    calls: u32,
    errors: u32,
    expired: u32,
    first_principal: u32,
    first_type: u32,
    first_ip: u32,
    /// The ip last added to `ips` (repeats skip the set).
    last_ip: u32,
    ips: AHashSet<u32>,
}

/// Ordering key of a use: events without time sort after every timed one.
fn order_key(t: Option<i64>, ord: u32) -> (i64, u32) {
    (t.unwrap_or(i64::MAX), ord)
}

#[derive(Default)]
struct Acc {
    strings: Interner,
    times: Vec<Option<i64>>,
    post: [Postings; 5],
    issuance: Vec<Issuance>,
    /// Index in `key_uses` by string id of the key (`NONE`: not seen).
    key_slot: Vec<u32>,
    key_uses: Vec<(u32, KeyAcc)>,
    arn_partitions: AHashSet<String>,
    resources: Resources,
}

const P_PRINCIPAL: usize = 0;
const P_KEY: usize = 1;
const P_IP: usize = 2;
const P_ROLE: usize = 3;
const P_RESOURCE: usize = 4;

// Dictionary memos (string ids by dictionary entry), one a string column.
const M_PRINCIPAL: usize = 0;
const M_TYPE: usize = 1;
const M_KEY: usize = 2;
const M_IP: usize = 3;
const M_ROLE: usize = 4;
const M_ISSUED_KEY: usize = 5;
const M_ISSUED_SESSION: usize = 6;
const M_TARGET_ROLE: usize = 7;
const M_ACCOUNT: usize = 8;
const M_REGION: usize = 9;
const M_ERROR: usize = 10;
const M_USER_AGENT: usize = 11;
const M_SOURCE: usize = 12;
const M_NAME: usize = 13;
const M_TARGET_SESSION: usize = 14;
const M_SOURCE_IDENTITY: usize = 15;
const M_EXPIRATION_RAW: usize = 16;
const M_COUNT: usize = 17;

/// A posting kind while reading (of events, or of issuance records):
/// string ids in reading order (so by ordinal), grouped by string id only
/// when encoding (one counting sort instead of a growing list per string).
/// Kinds of at most one string an event keep one id an event (`NONE`:
/// none) and no ordinals.
#[derive(Default)]
struct Postings {
    sids: Vec<u32>,
    /// Ordinal of each of `sids`; empty for a one-an-event kind.
    ords: Vec<u32>,
}

impl Postings {
    /// The string of the next event (one-an-event kinds only).
    #[inline]
    fn push_event(&mut self, sid: u32) {
        self.sids.push(sid);
    }

    #[inline]
    fn push(&mut self, sid: u32, ord: u32) {
        if sid != NONE {
            self.sids.push(sid);
            self.ords.push(ord);
        }
    }

    /// The section (see [`write_postings`]), with string ids mapped by
    /// `remap` (a permutation of `0..remap.len()`); an ordinal repeated
    /// for one string is kept once.
    fn encode(self, remap: &[u32]) -> Result<Vec<u8>, String> {
        let Postings { sids, ords: by } = self;
        let mut start = vec![0u32; remap.len() + 1];
        for &sid in &sids {
            if sid != NONE {
                start[remap[sid as usize] as usize + 1] += 1;
            }
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut at = start.clone();
        let mut ords = vec![0u32; start[remap.len()] as usize];
        for (n, &sid) in sids.iter().enumerate() {
            if sid != NONE {
                let a = &mut at[remap[sid as usize] as usize];
                ords[*a as usize] = if by.is_empty() { n as u32 } else { by[n] };
                *a += 1;
            }
        }
        drop((sids, by, at));
        // Drop repeats (same string, same event), compacting in place.
        let mut lists = Vec::new();
        let mut w = 0usize;
        for sid in 0..remap.len() {
            let (a, b) = (start[sid] as usize, start[sid + 1] as usize);
            if a == b {
                continue;
            }
            let from = w;
            for r in a..b {
                let o = ords[r];
                if w == from || ords[w - 1] != o {
                    ords[w] = o;
                    w += 1;
                }
            }
            lists.push((sid as u32, from..w));
        }
        write_postings(lists.iter().map(|(sid, r)| (*sid, &ords[r.clone()])))
    }
}

/// Reads the partition and returns the segment file image.
pub fn build_segment(
    dataset: &Path,
    partition: &str,
    files: &[FileFingerprint],
    batch_size: usize,
) -> Result<Vec<u8>> {
    let dir = partition_dir(dataset, partition);
    let mut acc = Acc::default();
    let mut memos: [DictMemo; M_COUNT] = Default::default();
    let mut rows_per_file = Vec::with_capacity(files.len());
    let too_large = |detail: &str| Error::TooLarge {
        partition: partition.to_owned(),
        detail: detail.to_owned(),
    };
    for f in files {
        let path = dir.join(&f.name);
        let before = acc.times.len();
        for batch in dict_reader(&path, BUILD_COLUMNS, batch_size)? {
            let batch = batch.map_err(|e| Error::Parquet {
                path: path.clone(),
                source: e.into(),
            })?;
            let c = Cols::new(&batch, &path);
            let s = |n: &str| c.str_col(n);
            let (time, src, name, ip, err, acct, region) = (
                c.ts(col::EVENT_TIME)?,
                s(col::EVENT_SOURCE)?,
                s(col::EVENT_NAME)?,
                s(col::SOURCE_IP_ADDRESS)?,
                s(col::ERROR_CODE)?,
                s(col::RECIPIENT_ACCOUNT_ID)?,
                s(col::AWS_REGION)?,
            );
            let (pa, pt, key, role, trole, ikey, isess, exp, res) = (
                s(col::PRINCIPAL_ARN)?,
                s(col::PRINCIPAL_TYPE)?,
                s(col::ACCESS_KEY_ID)?,
                s(col::ROLE_ARN)?,
                s(col::TARGET_ROLE_ARN)?,
                s(col::ISSUED_KEY)?,
                s(col::ISSUED_SESSION_ARN)?,
                c.ts(col::EXPIRATION)?,
                c.str_list(col::RESOURCE_ARNS)?,
            );
            let (res, res_vals) = res;
            let res_offs = res.value_offsets();
            let event_id = s(col::EVENT_ID)?;
            let (ua, mfa, tsess, srcid, expraw) = (
                s(col::USER_AGENT)?,
                c.bool(col::MFA)?,
                s(col::TARGET_SESSION_NAME)?,
                s(col::SOURCE_IDENTITY)?,
                s(col::EXPIRATION_RAW)?,
            );
            for i in 0..batch.num_rows() {
                let ord = u32::try_from(acc.times.len())
                    .ok()
                    .filter(|o| *o < u32::MAX - 1)
                    .ok_or_else(|| too_large("more than 2^32 - 2 events"))?;
                let t = get_ts(time, i);
                acc.times.push(t);
                let st = &mut acc.strings;
                let memo = &mut memos;
                let (principal, ptype, k, ipid, r) = (
                    memo[M_PRINCIPAL].id(pa, i, |v| st.id(v)),
                    memo[M_TYPE].id(pt, i, |v| st.id(v)),
                    memo[M_KEY].id(key, i, |v| st.id(v)),
                    memo[M_IP].id(ip, i, |v| st.id(v)),
                    memo[M_ROLE].id(role, i, |v| st.id(v)),
                );
                acc.post[P_PRINCIPAL].push_event(principal);
                acc.post[P_KEY].push_event(k);
                acc.post[P_IP].push_event(ipid);
                acc.post[P_ROLE].push_event(r);
                if res.is_valid(i) {
                    // Offsets are non-negative and ascending in a valid list array.
                    let (a, b) = (res_offs[i].max(0) as usize, res_offs[i + 1].max(0) as usize);
                    for j in a..b.max(a) {
                        if let Some(arn) = get_str(res_vals, j) {
                            let id = acc.resources.id(arn, st, &mut acc.arn_partitions);
                            acc.post[P_RESOURCE].push(id, ord);
                        }
                    }
                }
                let code = err.get(i);
                if k != NONE {
                    let expired = code.is_some_and(is_expired_credential_error);
                    if acc.key_slot.len() <= k as usize {
                        acc.key_slot.resize(k as usize + 1, NONE);
                    }
                    let slot = &mut acc.key_slot[k as usize];
                    if *slot == NONE {
                        *slot = acc.key_uses.len() as u32;
                        acc.key_uses.push((
                            k,
                            KeyAcc {
                                first: order_key(t, ord),
                                last_time: t.unwrap_or(NO_TIME),
                                calls: 1,
                                errors: u32::from(code.is_some()),
                                expired: u32::from(expired),
                                first_principal: principal,
                                first_type: ptype,
                                first_ip: ipid,
                                last_ip: ipid,
                                ips: (ipid != NONE).then_some(ipid).into_iter().collect(),
                            },
                        ));
                    } else {
                        let u = &mut acc.key_uses[*slot as usize].1;
                        if order_key(t, ord) < u.first {
                            u.first = order_key(t, ord);
                            (u.first_principal, u.first_type, u.first_ip) =
                                (principal, ptype, ipid);
                        }
                        u.last_time = u.last_time.max(t.unwrap_or(NO_TIME));
                        u.calls += 1;
                        u.errors += u32::from(code.is_some());
                        u.expired += u32::from(expired);
                        if ipid != NONE && ipid != u.last_ip {
                            u.ips.insert(ipid);
                            u.last_ip = ipid;
                        }
                    }
                }
                if let (Some(s), Some(n)) = (src.get(i), name.get(i))
                    && is_credential_issuing(s, n)
                {
                    let mut id = |m: usize, col: StrCol<'_>| memo[m].id(col, i, |v| st.id(v));
                    acc.issuance.push(Issuance {
                        ord,
                        time: t.unwrap_or(NO_TIME),
                        expiration: get_ts(exp, i).unwrap_or(NO_TIME),
                        issued_key: id(M_ISSUED_KEY, ikey),
                        issued_session: id(M_ISSUED_SESSION, isess),
                        target_role: id(M_TARGET_ROLE, trole),
                        caller: principal,
                        caller_key: k,
                        caller_type: ptype,
                        caller_role: r,
                        ip: ipid,
                        account: id(M_ACCOUNT, acct),
                        region: id(M_REGION, region),
                        error: id(M_ERROR, err),
                        user_agent: id(M_USER_AGENT, ua),
                        event_source: id(M_SOURCE, src),
                        event_name: id(M_NAME, name),
                        target_session: id(M_TARGET_SESSION, tsess),
                        source_identity: id(M_SOURCE_IDENTITY, srcid),
                        expiration_raw: id(M_EXPIRATION_RAW, expraw),
                        event_id: EventId::of(event_id.get(i), |e| st.id(Some(e))),
                        mfa: if mfa.is_valid(i) {
                            1 + u8::from(mfa.value(i))
                        } else {
                            0
                        },
                    });
                }
            }
        }
        rows_per_file.push((acc.times.len() - before) as u32);
    }
    encode(acc, partition, files, &rows_per_file).map_err(|d| too_large(&d))
}

fn encode(
    mut acc: Acc,
    partition: &str,
    files: &[FileFingerprint],
    rows: &[u32],
) -> Result<Vec<u8>, String> {
    // Sort strings and renumber.
    let strs = std::mem::take(&mut acc.strings.table);
    let mut order: Vec<u32> = (0..strs.len() as u32).collect();
    order.sort_unstable_by(|&a, &b| strs.get(a).cmp(strs.get(b)));
    let mut remap = vec![0u32; strs.len()];
    for (new, &old) in order.iter().enumerate() {
        remap[old as usize] = new as u32;
    }
    let m = |id: u32| if id == NONE { NONE } else { remap[id as usize] };

    let mut fb = FileBuilder::default();
    // META
    let timed = acc.times.iter().flatten();
    let (min_us, max_us) = timed.fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
    let base_min = if min_us == i64::MAX {
        0
    } else {
        min_us.div_euclid(MICROS_PER_MINUTE)
    };
    let mut meta = Vec::new();
    put_str(&mut meta, partition);
    put_u64(&mut meta, acc.times.len() as u64);
    put_i64(&mut meta, base_min);
    put_i64(&mut meta, if min_us == i64::MAX { NO_TIME } else { min_us });
    put_i64(&mut meta, if max_us == i64::MIN { NO_TIME } else { max_us });
    put_u32(&mut meta, files.len() as u32);
    for (f, n) in files.iter().zip(rows) {
        put_str(&mut meta, &f.name);
        put_u64(&mut meta, f.size);
        put_i64(&mut meta, f.mtime_ns);
        put_u32(&mut meta, *n);
    }
    let mut parts: Vec<_> = acc.arn_partitions.into_iter().collect();
    parts.sort();
    put_u32(&mut meta, parts.len() as u32);
    for p in &parts {
        put_str(&mut meta, p);
    }
    fb.section(sec::META, meta);
    // STRINGS: front-coded blocks of STRING_BLOCK strings.
    let sorted: Vec<&[u8]> = order.iter().map(|&i| strs.get(i).as_bytes()).collect();
    fb.section(sec::STRINGS, encode_strings(&sorted)?);
    // TIMES: exact [earliest, latest] time of each block of TIME_BLOCK
    // events (i64::MAX, i64::MIN when the block has no timed event).
    let mut times = Vec::with_capacity(4 + acc.times.len().div_ceil(TIME_BLOCK as usize) * 16);
    put_u32(&mut times, TIME_BLOCK);
    for block in acc.times.chunks(TIME_BLOCK as usize) {
        let (lo, hi) = block
            .iter()
            .flatten()
            .fold((i64::MAX, i64::MIN), |(lo, hi), &t| (lo.min(t), hi.max(t)));
        put_i64(&mut times, lo);
        put_i64(&mut times, hi);
    }
    fb.section(sec::TIMES, times);
    // Event postings.
    for (i, kind) in [
        sec::POST_PRINCIPAL,
        sec::POST_KEY,
        sec::POST_IP,
        sec::POST_ROLE,
        sec::POST_RESOURCE,
    ]
    .into_iter()
    .enumerate()
    {
        let p = std::mem::take(&mut acc.post[i]);
        fb.section(kind, p.encode(&remap)?);
    }
    // ISSUANCE and its postings.
    let mut iss = Vec::with_capacity(acc.issuance.len());
    let (mut by_key, mut by_session, mut by_target) = (
        Postings::default(),
        Postings::default(),
        Postings::default(),
    );
    for (n, r) in acc.issuance.iter().enumerate() {
        by_key.push(r.issued_key, n as u32);
        by_session.push(r.issued_session, n as u32);
        by_target.push(r.target_role, n as u32);
        let r = Issuance {
            issued_key: m(r.issued_key),
            issued_session: m(r.issued_session),
            target_role: m(r.target_role),
            caller: m(r.caller),
            caller_key: m(r.caller_key),
            caller_type: m(r.caller_type),
            caller_role: m(r.caller_role),
            ip: m(r.ip),
            account: m(r.account),
            region: m(r.region),
            error: m(r.error),
            user_agent: m(r.user_agent),
            event_source: m(r.event_source),
            event_name: m(r.event_name),
            target_session: m(r.target_session),
            source_identity: m(r.source_identity),
            expiration_raw: m(r.expiration_raw),
            event_id: r.event_id.map_sid(m),
            ..*r
        };
        iss.push(r);
    }
    let base_us = base_min.saturating_mul(MICROS_PER_MINUTE);
    fb.section(
        sec::ISSUANCE,
        crate::issuance::encode_section(&iss, base_us)?,
    );
    fb.section(sec::POST_ISSUED_KEY, by_key.encode(&remap)?);
    fb.section(sec::POST_ISSUED_SESSION, by_session.encode(&remap)?);
    fb.section(sec::POST_TARGET_ROLE, by_target.encode(&remap)?);
    // KEYUSE
    let mut keys: Vec<(u32, KeyAcc)> = acc.key_uses.into_iter().map(|(k, v)| (m(k), v)).collect();
    keys.sort_unstable_by_key(|(k, _)| *k);
    let mut dir = Vec::with_capacity(4 + keys.len() * 8);
    let mut data = Vec::new();
    put_u32(&mut dir, keys.len() as u32);
    for (key, u) in &keys {
        let mut ips: Vec<u32> = u.ips.iter().map(|&i| m(i)).collect();
        ips.sort_unstable();
        let first_time = if u.first.0 == i64::MAX {
            NO_TIME
        } else {
            u.first.0
        };
        let ku = KeyUse {
            key: *key,
            first_ord: u.first.1,
            first_time,
            last_time: u.last_time,
            calls: u.calls,
            errors: u.errors,
            expired_errors: u.expired,
            first_principal: m(u.first_principal),
            first_type: m(u.first_type),
            first_ip: m(u.first_ip),
        };
        put_u32(&mut dir, *key);
        put_u32(
            &mut dir,
            u32::try_from(data.len()).map_err(|_| "KEYUSE over 4 GiB".to_owned())?,
        );
        ku.encode(&ips, base_us, &mut data);
    }
    dir.extend_from_slice(&data);
    fb.section(sec::KEYUSE, dir);
    Ok(fb.finish(SEGMENT_MAGIC))
}

/// `n:u32 nblocks:u32 block_off:u32{nblocks+1} data`: strings in blocks of
/// [`STRING_BLOCK`], each string `shared:varint suffix_len:varint suffix`
/// (bytes shared with the previous string of the block; 0 for the first).
fn encode_strings(sorted: &[&[u8]]) -> Result<Vec<u8>, String> {
    let mut data = Vec::new();
    let mut offs = Vec::new();
    for block in sorted.chunks(STRING_BLOCK) {
        offs.push(u32::try_from(data.len()).map_err(|_| "string table over 4 GiB".to_owned())?);
        let mut prev: &[u8] = &[];
        for s in block {
            let shared = prev
                .iter()
                .zip(s.iter())
                .take_while(|(a, b)| a == b)
                .count();
            put_varint(&mut data, shared as u64);
            put_varint(&mut data, (s.len() - shared) as u64);
            data.extend_from_slice(&s[shared..]);
            prev = s;
        }
    }
    offs.push(u32::try_from(data.len()).map_err(|_| "string table over 4 GiB".to_owned())?);
    let mut out = Vec::with_capacity(8 + 4 * offs.len() + data.len());
    put_u32(&mut out, sorted.len() as u32);
    put_u32(&mut out, (offs.len() - 1) as u32);
    for o in offs {
        put_u32(&mut out, o);
    }
    out.extend_from_slice(&data);
    Ok(out)
}

/// `n:u32 (sid:u32 ref:u32){n} data` of lists sorted by sid. A `ref`
/// with the top bit set is the list's only ordinal (`ref & 0x7FFF_FFFF`);
/// otherwise it is the offset in `data` of `count:varint` followed by the
/// first ordinal and then the deltas, as varints.
fn write_postings<'a>(
    lists: impl ExactSizeIterator<Item = (u32, &'a [u32])>,
) -> Result<Vec<u8>, String> {
    let mut dir = Vec::with_capacity(4 + lists.len() * crate::layout::POSTING_ENTRY);
    let mut data = Vec::new();
    put_u32(&mut dir, lists.len() as u32);
    for (sid, list) in lists {
        put_u32(&mut dir, sid);
        if let [only] = list[..]
            && only & INLINE == 0
        {
            put_u32(&mut dir, only | INLINE);
            continue;
        }
        let off = u32::try_from(data.len()).ok().filter(|o| o & INLINE == 0);
        put_u32(
            &mut dir,
            off.ok_or_else(|| "postings over 2 GiB".to_owned())?,
        );
        put_varint(&mut data, list.len() as u64);
        let mut prev = 0u32;
        for (j, &o) in list.iter().enumerate() {
            put_varint(&mut data, u64::from(if j == 0 { o } else { o - prev }));
            prev = o;
        }
    }
    dir.extend_from_slice(&data);
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::list_files;
    use crate::testkit::{Synth, write_dataset_with};
    use parquet::basic::{Compression, ZstdLevel};
    use parquet::file::properties::WriterProperties;

    /// (any chunk has a dictionary page, any chunk with one also has
    /// plain data pages) over the files of `dir`.
    fn page_kinds(dir: &Path) -> (bool, bool) {
        use parquet::basic::{Encoding, PageType};
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let (mut dict, mut mixed) = (false, false);
        for f in std::fs::read_dir(dir).unwrap() {
            let r =
                SerializedFileReader::new(std::fs::File::open(f.unwrap().path()).unwrap()).unwrap();
            for g in 0..r.num_row_groups() {
                let rg = r.get_row_group(g).unwrap();
                for c in 0..rg.num_columns() {
                    let pages: Vec<_> = rg
                        .get_column_page_reader(c)
                        .unwrap()
                        .map(|p| p.unwrap())
                        .map(|p| (p.page_type(), p.encoding()))
                        .collect();
                    if pages.iter().any(|p| p.0 == PageType::DICTIONARY_PAGE) {
                        dict = true;
                        mixed |= pages
                            .iter()
                            .any(|p| p.0 != PageType::DICTIONARY_PAGE && p.1 == Encoding::PLAIN);
                    }
                }
            }
        }
        (dict, mixed)
    }

    /// The segment does not depend on how the Parquet strings are encoded
    /// (plain, dictionary, dictionary falling back to plain pages mid
    /// chunk) nor on the batch size: string columns read as dictionaries
    /// give the same bytes as read plain.
    #[test]
    fn same_segment_whatever_the_encoding() {
        let events = Synth::small(3000, 7).generate();
        let base =
            || WriterProperties::builder().set_compression(Compression::ZSTD(ZstdLevel::default()));
        let variants = [
            ("plain", base().set_dictionary_enabled(false).build()),
            ("dict", base().build()),
            (
                "fallback",
                base()
                    .set_dictionary_page_size_limit(256)
                    .set_data_page_row_count_limit(64)
                    .set_write_batch_size(64)
                    .build(),
            ),
        ];
        let tmp = tempfile::tempdir().unwrap();
        let mut want: Option<Vec<(String, Vec<u8>)>> = None;
        for (name, props) in &variants {
            let root = tmp.path().join(name);
            let parts = write_dataset_with(&root, &events, 700, props).unwrap();
            assert!(parts.len() > 1);
            let kinds = page_kinds(&crate::dataset::partition_dir(&root, &parts[0]));
            let expect = match *name {
                "plain" => (false, false),
                "dict" => (true, false),
                _ => (true, true),
            };
            assert_eq!(kinds, expect, "{name}: (dictionary pages, fallback pages)");
            for batch in [7, 1000, 65_536] {
                let got: Vec<(String, Vec<u8>)> = parts
                    .iter()
                    .map(|p| {
                        // Same fingerprints for every variant: only contents differ.
                        let mut files = list_files(&root, p).unwrap();
                        for f in &mut files {
                            (f.size, f.mtime_ns) = (1, 2);
                        }
                        (p.clone(), build_segment(&root, p, &files, batch).unwrap())
                    })
                    .collect();
                match &want {
                    None => want = Some(got),
                    Some(w) => assert!(w == &got, "{name}, batch {batch}"),
                }
            }
        }
    }
}
