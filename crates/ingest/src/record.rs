//! One CloudTrail record (a tape object) → one row of the event schema.
//!
//! Typed columns take what they can hold EXACTLY; everything else goes to
//! `unmapped`, a JSON object with the record's own nesting
//! (`{"userIdentity":{"sessionContext":{"newField":1}},"@timestamp":"…"}`):
//!
//! * keys the schema does not know, at any typed level;
//! * values of an unexpected JSON type (`"readOnly":"true"`, a number where
//!   a string is expected, a string where an object is expected);
//! * explicit `null`s (a null column means "absent", so a JSON `null` must
//!   be remembered elsewhere);
//! * an `eventTime` whose text is not exactly
//!   `format_event_time(parse_iso8601(text))` (the column still holds the
//!   parsed time when there is one; `unmapped` keeps the original text);
//! * a `resources` value that is not an array of objects with only string
//!   `ARN`/`accountId`/`type` (the column keeps what it can, `unmapped`
//!   keeps the whole original array, which wins on rebuild).
//!
//! Free-form fields (`requestParameters`, …, `inScopeOf`,
//! `webIdFederationData`) hold the JSON text of any non-null value.
//! Rebuild = typed columns → JSON, then deep-merge `unmapped` on top
//! (see [`crate::rebuild`]).
//!
//! Duplicate keys: the last occurrence of a typed key wins (as in
//! serde_json); unknown keys and free-form text keep every occurrence in
//! order, so readers that take the last one agree with the input.

use arrow_array::RecordBatch;
use backtrail_model::arn::Arn;
use backtrail_model::identity::{self, EventView};
use backtrail_model::resource::{self, Context};
use backtrail_model::schema::{self, col};
use backtrail_model::time::{MICROS_PER_DAY, format_event_time, parse_iso8601};
use simd_json::{Node, StaticNode};

use crate::columns::{Col, Name, key_sig, schema_columns};
use crate::json;

/// Sentinel day for records without a parseable `eventTime` (the Hive
/// default partition).
pub const NO_DAY: i32 = i32::MIN;

/// What dedup needs to know about one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowKey {
    /// Days since 1970-01-01 of `eventTime`, or [`NO_DAY`].
    pub day: i32,
    /// Stable hash of the `eventID` string, if the record has one.
    pub event_id: Option<u64>,
    /// The record's structural hash (`record_hash` column).
    pub record_hash: u64,
}

/// Path of a nested typed object inside the record: the tape indices of the
/// keys leading to it (depth ≤ 3 in the schema).
#[derive(Clone, Copy, Default)]
struct Path {
    keys: [u32; 4],
    len: u8,
}

impl Path {
    fn child(mut self, key_idx: usize) -> Self {
        self.keys[self.len as usize] = key_idx as u32;
        self.len += 1;
        self
    }
    fn as_slice(&self) -> &[u32] {
        &self.keys[..self.len as usize]
    }
}

/// One value that goes to `unmapped`: where, and which tape value (its key
/// is the node just before it).
#[derive(Clone, Copy)]
struct Lost {
    path: Path,
    value: u32,
}

struct Fill<'t, 'a, 'u> {
    nodes: &'t [Node<'a>],
    lost: Option<&'u mut Vec<Lost>>,
}

const NONE: usize = usize::MAX;

impl Fill<'_, '_, '_> {
    fn lose(&mut self, path: Path, value: usize, exact: &mut bool) {
        *exact = false;
        if let Some(l) = self.lost.as_deref_mut() {
            l.push(Lost {
                path,
                value: value as u32,
            });
        }
    }

    /// Fills entry `row` of `cols` (named `names`) from the object at
    /// `obj`; `slots` gets the value index of each named child (or
    /// [`NONE`]). Absent children append nothing (see [`Col::pad_to`]).
    /// Returns whether everything was captured exactly.
    fn fill_object(
        &mut self,
        cols: &mut [Col],
        names: &[Name],
        obj: usize,
        path: Path,
        slots: &mut [usize],
        row: usize,
    ) -> bool {
        let mut exact = true;
        slots.iter_mut().for_each(|s| *s = NONE);
        let n = names.len();
        let mut hint = 0;
        if let Some(pairs) = json::obj(self.nodes, obj) {
            'pairs: for (k, v) in pairs {
                let sig = key_sig(k);
                for j in 0..n {
                    let c = if hint + j >= n {
                        hint + j - n
                    } else {
                        hint + j
                    };
                    if names[c].is(k, sig) {
                        slots[c] = v;
                        hint = c + 1;
                        continue 'pairs;
                    }
                }
                self.lose(path, v, &mut exact);
            }
        }
        for (i, c) in cols.iter_mut().enumerate() {
            let v = slots[i];
            if v != NONE && !self.fill_value(c, v, path, row) {
                exact = false;
            }
        }
        exact
    }

    /// Sets entry `row` of `c` from the value at `v` (a member of the
    /// object at `path`); a value the column cannot hold stays null.
    fn fill_value(&mut self, c: &mut Col, v: usize, path: Path, row: usize) -> bool {
        let mut exact = true;
        let node = self.nodes[v];
        c.pad_to(row);
        match c {
            Col::Str { b, json: false } => match node {
                Node::String(s) => b.append_value(s),
                _ => self.lose(path, v, &mut exact),
            },
            Col::Str { b, json: true } => {
                if json::is_null(self.nodes, v) {
                    self.lose(path, v, &mut exact);
                } else {
                    // Written straight into the builder's value buffer,
                    // committed by the empty append.
                    json::write_json(self.nodes, v, b);
                    b.append_value("");
                }
            }
            Col::Bool(b) => match node {
                Node::Static(StaticNode::Bool(x)) => b.append_value(x),
                _ => self.lose(path, v, &mut exact),
            },
            Col::Ts(b) => match node {
                Node::String(s) => match parse_iso8601(s) {
                    Some(us) => {
                        b.append_value(us);
                        if !is_canonical_time(s, us) {
                            self.lose(path, v, &mut exact);
                        }
                    }
                    None => self.lose(path, v, &mut exact),
                },
                _ => self.lose(path, v, &mut exact),
            },
            Col::Struct {
                names,
                nulls,
                children,
                ..
            } => {
                if json::obj(self.nodes, v).is_some() {
                    nulls.append_non_null();
                    let mut slots = [NONE; 16];
                    let slots = &mut slots[..names.len()];
                    if !self.fill_object(children, names, v, path.child(v - 1), slots, row) {
                        exact = false;
                    }
                } else {
                    self.lose(path, v, &mut exact);
                }
            }
            Col::List {
                offsets,
                nulls,
                child,
                ..
            } => {
                // `resources`: a list of structs.
                let nodes = self.nodes;
                let last = *offsets.last().unwrap_or(&0);
                let Some(items) = json::arr(nodes, v) else {
                    self.lose(path, v, &mut exact);
                    return false;
                };
                nulls.append_non_null();
                let mut all_exact = true;
                let mut count = 0i32;
                let mut inner = Fill { nodes, lost: None };
                for it in items {
                    count += 1;
                    match child.as_mut() {
                        Col::Struct {
                            names,
                            nulls,
                            children,
                            ..
                        } if json::obj(nodes, it).is_some() => {
                            let at = nulls.len();
                            nulls.append_non_null();
                            let mut slots = [NONE; 16];
                            let slots = &mut slots[..names.len()];
                            all_exact &=
                                inner.fill_object(children, names, it, Path::default(), slots, at);
                        }
                        other => {
                            other.append_null();
                            all_exact = false;
                        }
                    }
                }
                offsets.push(last + count);
                if !all_exact {
                    self.lose(path, v, &mut exact);
                }
            }
            Col::I64(_) => unreachable!("no integer CloudTrail field"),
        }
        exact
    }
}

/// Whether `s` is exactly how `format_event_time` writes `us`.
fn is_canonical_time(s: &str, us: i64) -> bool {
    let b = s.as_bytes();
    if b.len() == 20
        && b[10] == b'T'
        && b[19] == b'Z'
        && &b[17..19] != b"60"
        && b[0].is_ascii_digit()
    {
        return true;
    }
    format_event_time(us) == s
}

/// Writes the `unmapped` object for `lost` (in fill order, which keeps each
/// nested path contiguous).
fn write_unmapped(nodes: &[Node<'_>], lost: &[Lost], out: &mut String) {
    out.push('{');
    let mut stack: Vec<u32> = Vec::new();
    let mut first: Vec<bool> = vec![true];
    for l in lost {
        let p = l.path.as_slice();
        let common = stack.iter().zip(p).take_while(|(a, b)| a == b).count();
        while stack.len() > common {
            out.push('}');
            stack.pop();
            first.pop();
        }
        while stack.len() < p.len() {
            let k = p[stack.len()];
            if !std::mem::replace(first.last_mut().expect("level"), false) {
                out.push(',');
            }
            if let Node::String(s) = nodes[k as usize] {
                json::write_str(s, out);
            }
            out.push_str(":{");
            stack.push(k);
            first.push(true);
        }
        if !std::mem::replace(first.last_mut().expect("level"), false) {
            out.push(',');
        }
        let v = l.value as usize;
        if let Node::String(s) = nodes[v - 1] {
            json::write_str(s, out);
        }
        out.push(':');
        json::write_json(nodes, v, out);
    }
    for _ in &stack {
        out.push('}');
    }
    out.push('}');
}

/// [`EventView`] over a tape record whose top-level slots are known.
struct View<'t, 'a> {
    nodes: &'t [Node<'a>],
    root: usize,
    names: &'t [Name],
    slots: &'t [usize],
    ui: usize,
    req: usize,
    resp: usize,
    add: usize,
}

impl View<'_, '_> {
    fn under(&self, base: usize, path: &str) -> Option<&str> {
        if base == NONE {
            return None;
        }
        json::get_path(self.nodes, base, path).and_then(|i| json::as_str_or_bool(self.nodes, i))
    }
}

impl EventView for View<'_, '_> {
    fn top(&self, key: &str) -> Option<&str> {
        let sig = key_sig(key);
        let i = match self.names.iter().position(|n| n.is(key, sig)) {
            Some(p) if self.slots[p] != NONE => self.slots[p],
            Some(_) => return None,
            None => json::get(self.nodes, self.root, key)?,
        };
        json::as_str_or_bool(self.nodes, i)
    }
    fn identity(&self, path: &str) -> Option<&str> {
        self.under(self.ui, path)
    }
    fn request(&self, path: &str) -> Option<&str> {
        self.under(self.req, path)
    }
    fn response(&self, path: &str) -> Option<&str> {
        self.under(self.resp, path)
    }
    fn additional(&self, path: &str) -> Option<&str> {
        self.under(self.add, path)
    }
}

/// Column positions looked up once from the schema.
struct Idx {
    n_record: usize,
    event_time: usize,
    event_id: usize,
    user_identity: usize,
    request: usize,
    response: usize,
    additional: usize,
    resources: usize,
    principal_arn: usize,
    principal_type: usize,
    access_key_id: usize,
    role_arn: usize,
    session_name: usize,
    mfa: usize,
    target_role_arn: usize,
    target_session_name: usize,
    source_identity: usize,
    issued_key: usize,
    issued_session_arn: usize,
    expiration: usize,
    expiration_raw: usize,
    resource_arns: usize,
    source_file: usize,
    source_record: usize,
    record_hash: usize,
    unmapped: usize,
}

impl Idx {
    fn new() -> Self {
        let s = schema::event_schema();
        let at = |n: &str| s.index_of(n).expect("schema column");
        let known: Vec<&str> = schema::known_top_level_keys().collect();
        // The CloudTrail fields come first in the schema; derived after.
        let n_record = s
            .fields()
            .iter()
            .take_while(|f| known.contains(&f.name().as_str()))
            .count();
        assert_eq!(
            n_record,
            known.len(),
            "CloudTrail fields must lead the schema"
        );
        Self {
            n_record,
            event_time: at(col::EVENT_TIME),
            event_id: at(col::EVENT_ID),
            user_identity: at(col::USER_IDENTITY),
            request: at(col::REQUEST_PARAMETERS),
            response: at(col::RESPONSE_ELEMENTS),
            additional: at(col::ADDITIONAL_EVENT_DATA),
            resources: at(col::RESOURCES),
            principal_arn: at(col::PRINCIPAL_ARN),
            principal_type: at(col::PRINCIPAL_TYPE),
            access_key_id: at(col::ACCESS_KEY_ID),
            role_arn: at(col::ROLE_ARN),
            session_name: at(col::SESSION_NAME),
            mfa: at(col::MFA),
            target_role_arn: at(col::TARGET_ROLE_ARN),
            target_session_name: at(col::TARGET_SESSION_NAME),
            source_identity: at(col::SOURCE_IDENTITY),
            issued_key: at(col::ISSUED_KEY),
            issued_session_arn: at(col::ISSUED_SESSION_ARN),
            expiration: at(col::EXPIRATION),
            expiration_raw: at(col::EXPIRATION_RAW),
            resource_arns: at(col::RESOURCE_ARNS),
            source_file: at(col::SOURCE_FILE),
            source_record: at(col::SOURCE_RECORD),
            record_hash: at(col::RECORD_HASH),
            unmapped: at(col::UNMAPPED),
        }
    }
}

/// Accumulates rows of the event schema; reused across files by a worker.
pub struct RowBuilder {
    cols: Vec<Col>,
    names: Vec<Name>,
    idx: Idx,
    slots: Vec<usize>,
    lost: Vec<Lost>,
    scratch: String,
    rows: usize,
}

impl Default for RowBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl RowBuilder {
    /// Empty builders for the event schema.
    pub fn new() -> Self {
        let idx = Idx::new();
        let s = schema::event_schema();
        let names = s
            .fields()
            .iter()
            .take(idx.n_record)
            .map(|f| Name::new(f.name()))
            .collect();
        Self {
            cols: schema_columns(),
            names,
            slots: vec![NONE; idx.n_record],
            idx,
            lost: Vec::new(),
            scratch: String::new(),
            rows: 0,
        }
    }

    /// Rows appended since the last [`RowBuilder::finish`].
    pub fn len(&self) -> usize {
        self.rows
    }

    /// Whether no row is pending.
    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    /// Appends the record (an object) at `root` of `nodes`.
    pub fn append(
        &mut self,
        nodes: &[Node<'_>],
        root: usize,
        source_file: &str,
        source_record: i64,
    ) -> RowKey {
        let ix = &self.idx;
        self.lost.clear();
        let (record_cols, rest) = self.cols.split_at_mut(ix.n_record);
        let mut fill = Fill {
            nodes,
            lost: Some(&mut self.lost),
        };
        let row = self.rows;
        fill.fill_object(
            record_cols,
            &self.names,
            root,
            Path::default(),
            &mut self.slots,
            row,
        );

        let slot = |i: usize| self.slots[i];
        let ui = slot(ix.user_identity);
        let obj_or_none = |i: usize| {
            if i != NONE && json::obj(nodes, i).is_some() {
                i
            } else {
                NONE
            }
        };
        let view = View {
            nodes,
            root,
            names: &self.names,
            slots: &self.slots,
            ui: obj_or_none(ui),
            req: obj_or_none(slot(ix.request)),
            resp: obj_or_none(slot(ix.response)),
            add: obj_or_none(slot(ix.additional)),
        };
        let d = identity::derive(&view);
        let arns = resource_arns_of(&view, nodes, slot(ix.resources), d.principal_arn.as_deref());

        let at = |i: usize| i - ix.n_record;
        let s = |rest: &mut [Col], i: usize, v: Option<&str>| rest[at(i)].set_str(row, v);
        s(rest, ix.principal_arn, d.principal_arn.as_deref());
        s(rest, ix.principal_type, d.principal_type.as_deref());
        s(rest, ix.access_key_id, d.access_key_id.as_deref());
        s(rest, ix.role_arn, d.role_arn.as_deref());
        s(rest, ix.session_name, d.session_name.as_deref());
        if let Some(mfa) = d.mfa {
            let c = &mut rest[at(ix.mfa)];
            c.pad_to(row);
            if let Col::Bool(b) = c {
                b.append_value(mfa);
            }
        }
        let iss = d.issuance.unwrap_or_default();
        s(rest, ix.target_role_arn, iss.target_role_arn.as_deref());
        s(
            rest,
            ix.target_session_name,
            iss.target_session_name.as_deref(),
        );
        s(rest, ix.source_identity, iss.source_identity.as_deref());
        s(rest, ix.issued_key, iss.issued_key.as_deref());
        s(
            rest,
            ix.issued_session_arn,
            iss.issued_session_arn.as_deref(),
        );
        if let Some(t) = iss.expiration {
            let c = &mut rest[at(ix.expiration)];
            c.pad_to(row);
            if let Col::Ts(b) = c {
                b.append_value(t);
            }
        }
        s(rest, ix.expiration_raw, iss.expiration_raw.as_deref());
        if !arns.is_empty() {
            let c = &mut rest[at(ix.resource_arns)];
            c.pad_to(row);
            if let Col::List {
                offsets,
                nulls,
                child,
                ..
            } = c
            {
                nulls.append_non_null();
                for a in &arns {
                    let n = child.len();
                    child.set_str(n, Some(a));
                }
                let last = *offsets.last().unwrap_or(&0);
                offsets.push(last + arns.len() as i32);
            }
        }
        s(rest, ix.source_file, Some(source_file));
        let record_hash = json::hash_value(nodes, root).0;
        for (i, v) in [
            (ix.source_record, source_record),
            (ix.record_hash, record_hash as i64),
        ] {
            let c = &mut rest[at(i)];
            c.pad_to(row);
            if let Col::I64(b) = c {
                b.append_value(v);
            }
        }
        if !self.lost.is_empty() {
            self.scratch.clear();
            write_unmapped(nodes, &self.lost, &mut self.scratch);
            s(rest, ix.unmapped, Some(&self.scratch));
        }
        self.rows += 1;

        let t = slot(ix.event_time);
        let day = if t == NONE {
            NO_DAY
        } else {
            json::as_str(nodes, t)
                .and_then(parse_iso8601)
                .map_or(NO_DAY, |us| us.div_euclid(MICROS_PER_DAY) as i32)
        };
        let e = slot(ix.event_id);
        let event_id = if e == NONE {
            None
        } else {
            json::as_str(nodes, e).map(json::hash_str)
        };
        RowKey {
            day,
            event_id,
            record_hash,
        }
    }

    /// Finishes the pending rows into a batch and resets the builders.
    pub fn finish(&mut self) -> Result<RecordBatch, arrow_schema::ArrowError> {
        let rows = self.rows;
        let arrays = self
            .cols
            .iter_mut()
            .map(|c| {
                c.pad_to(rows);
                c.finish()
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.rows = 0;
        RecordBatch::try_new(schema::event_schema(), arrays)
    }
}

/// `resource::resource_arns` fed from the tape.
fn resource_arns_of(
    view: &View<'_, '_>,
    nodes: &[Node<'_>],
    resources: usize,
    principal: Option<&str>,
) -> Vec<String> {
    let account = view
        .top(col::RECIPIENT_ACCOUNT_ID)
        .or_else(|| view.identity("accountId"))
        .unwrap_or("");
    let ctx = Context {
        event_source: view.top(col::EVENT_SOURCE).unwrap_or(""),
        region: view.top(col::AWS_REGION).unwrap_or(""),
        account,
        partition: principal
            .and_then(Arn::parse)
            .map_or("aws", |a| a.partition),
    };
    let mut from_resources = Vec::new();
    if resources != NONE
        && let Some(items) = json::arr(nodes, resources)
    {
        for it in items {
            if let Some(a) = json::get(nodes, it, "ARN").and_then(|i| json::as_str(nodes, i)) {
                from_resources.push(a);
            }
        }
    }
    let mut params: Vec<(&str, &str)> = Vec::new();
    if view.req != NONE
        && let Some(pairs) = json::obj(nodes, view.req)
    {
        for (k, v) in pairs {
            if let Some(s) = json::as_str(nodes, v) {
                params.push((k, s));
            } else if let Some(items) = json::arr(nodes, v) {
                params.extend(items.filter_map(|i| json::as_str(nodes, i)).map(|s| (k, s)));
            }
        }
    }
    if from_resources.is_empty() && params.is_empty() {
        return Vec::new();
    }
    resource::resource_arns(&ctx, from_resources, &params)
}
