//! Arrow builders shaped like the event schema: one [`Col`] per field,
//! nested for structs and lists, fed value by value and finished into
//! arrays. Built from `backtrail_model::schema::event_schema()` itself, so
//! builders and schema cannot drift apart.

use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, BooleanBuilder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{Array, ArrayRef, ListArray, StructArray};
use arrow_buffer::{NullBufferBuilder, OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, DataType, FieldRef, Fields};
use backtrail_model::schema::{self, col, user_identity};

use crate::json::word;

/// A field name with a cheap signature, so that matching a record's keys
/// against the schema rarely calls `memcmp`.
pub(crate) struct Name {
    /// The name.
    pub(crate) text: String,
    sig: u64,
    /// The last 8 bytes, for names of 9 to 16 bytes (with `sig`, every byte).
    tail: u64,
}

/// The last 8 bytes of `b` (at least 8 long) as a word.
#[inline]
fn tail_word(b: &[u8]) -> u64 {
    word(&b[b.len() - 8..])
}

/// A signature of `k` that, together with its length, identifies any key
/// of up to 8 bytes exactly: overlapping loads, no copy.
#[inline]
pub(crate) fn key_sig(k: &str) -> u64 {
    let b = k.as_bytes();
    let len = b.len();
    if len >= 8 {
        word(b)
    } else if len >= 4 {
        let w = |c: &[u8]| u64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]));
        w(&b[..4]) | w(&b[len - 4..]) << 32
    } else if len > 0 {
        u64::from(b[0]) << 16 | u64::from(b[len / 2]) << 8 | u64::from(b[len - 1])
    } else {
        0
    }
}

impl Name {
    pub(crate) fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            sig: key_sig(text),
            tail: if text.len() > 8 {
                tail_word(text.as_bytes())
            } else {
                0
            },
        }
    }

    /// Whether `k` (with signature `sig`) is this name. Keys of up to 16
    /// bytes (nearly every CloudTrail key) are told apart by two words,
    /// longer ones by a full comparison.
    #[inline]
    pub(crate) fn is(&self, k: &str, sig: u64) -> bool {
        self.sig == sig
            && self.text.len() == k.len()
            && match k.len() {
                0..=8 => true,
                9..=16 => self.tail == tail_word(k.as_bytes()),
                _ => self.text == k,
            }
    }
}

/// A builder for one column (or struct field).
pub(crate) enum Col {
    /// A string column; `json` marks free-form fields kept as JSON text.
    Str { b: StringBuilder, json: bool },
    /// A boolean column.
    Bool(BooleanBuilder),
    /// A UTC microsecond timestamp column.
    Ts(TimestampMicrosecondBuilder),
    /// A 64-bit integer column.
    I64(Int64Builder),
    /// A struct: its children and their names.
    Struct {
        fields: Fields,
        names: Vec<Name>,
        nulls: NullBufferBuilder,
        children: Vec<Col>,
    },
    /// A list.
    List {
        field: FieldRef,
        offsets: Vec<i32>,
        nulls: NullBufferBuilder,
        child: Box<Col>,
    },
}

pub(crate) fn is_json_text(name: &str) -> bool {
    schema::TOP_JSON.contains(&name)
        || name == user_identity::IN_SCOPE_OF
        || user_identity::SESSION_CONTEXT_JSON.contains(&name)
        || name == col::UNMAPPED
}

impl Col {
    /// A builder for a field of type `dt` named `name`.
    pub(crate) fn new(name: &str, dt: &DataType) -> Self {
        match dt {
            DataType::Utf8 => Col::Str {
                b: StringBuilder::new(),
                json: is_json_text(name),
            },
            DataType::Boolean => Col::Bool(BooleanBuilder::new()),
            DataType::Int64 => Col::I64(Int64Builder::new()),
            DataType::Timestamp(_, _) => Col::Ts(TimestampMicrosecondBuilder::new()),
            DataType::Struct(fields) => Col::Struct {
                fields: fields.clone(),
                names: fields.iter().map(|f| Name::new(f.name())).collect(),
                nulls: NullBufferBuilder::new(0),
                children: fields
                    .iter()
                    .map(|f| Col::new(f.name(), f.data_type()))
                    .collect(),
            },
            DataType::List(field) => Col::List {
                field: field.clone(),
                offsets: vec![0],
                nulls: NullBufferBuilder::new(0),
                child: Box::new(Col::new(field.name(), field.data_type())),
            },
            other => unreachable!("event schema has no {other} column"),
        }
    }

    /// Entries so far (for a struct: its own entries; its children may lag
    /// behind until [`Col::pad_to`] or [`Col::finish`]).
    pub(crate) fn len(&self) -> usize {
        match self {
            Col::Str { b, .. } => b.len(),
            Col::Bool(b) => b.len(),
            Col::Ts(b) => b.len(),
            Col::I64(b) => b.len(),
            Col::Struct { nulls, .. } => nulls.len(),
            Col::List { offsets, .. } => offsets.len() - 1,
        }
    }

    /// Appends nulls until the column holds `n` entries. Nulls are written
    /// lazily: a row appends only the values it has, and a column catches
    /// up in one bulk append before its next value (or when finished).
    /// Most of the ~100 leaf columns are absent from most records, and
    /// appending their nulls one by one was a tenth of building a row.
    #[inline]
    pub(crate) fn pad_to(&mut self, n: usize) {
        let len = self.len();
        if len >= n {
            return;
        }
        let k = n - len;
        match self {
            Col::Str { b, .. } => b.append_nulls(k),
            Col::Bool(b) => b.append_nulls(k),
            Col::Ts(b) => b.append_nulls(k),
            Col::I64(b) => b.append_nulls(k),
            // Children catch up when they next get a value or at finish.
            Col::Struct { nulls, .. } => nulls.append_n_nulls(k),
            Col::List { offsets, nulls, .. } => {
                nulls.append_n_nulls(k);
                let last = *offsets.last().unwrap_or(&0);
                offsets.resize(offsets.len() + k, last);
            }
        }
    }

    /// Appends a null.
    pub(crate) fn append_null(&mut self) {
        let n = self.len() + 1;
        self.pad_to(n);
    }

    /// Sets entry `row` to `v` if there is one (the column must be a
    /// string column holding at most `row` entries).
    #[inline]
    pub(crate) fn set_str(&mut self, row: usize, v: Option<&str>) {
        if let Some(v) = v {
            self.pad_to(row);
            match self {
                Col::Str { b, .. } => b.append_value(v),
                _ => unreachable!("not a string column"),
            }
        }
    }

    /// Finishes the builder into an array, resetting it.
    pub(crate) fn finish(&mut self) -> Result<ArrayRef, ArrowError> {
        // Each builder is re-created with the capacity the finished batch
        // needed: the next file is usually alike, and growing buffers by
        // doubling (realloc + copy) was a tenth of the decode time.
        Ok(match self {
            Col::Str { b, .. } => {
                let a = b.finish();
                *b = StringBuilder::with_capacity(a.len(), a.value_data().len());
                Arc::new(a)
            }
            Col::Bool(b) => {
                let a = b.finish();
                *b = BooleanBuilder::with_capacity(a.len());
                Arc::new(a)
            }
            Col::I64(b) => {
                let a = b.finish();
                *b = Int64Builder::with_capacity(a.len());
                Arc::new(a)
            }
            Col::Ts(b) => {
                let a = b.finish();
                *b = TimestampMicrosecondBuilder::with_capacity(a.len());
                Arc::new(a.with_timezone("UTC"))
            }
            Col::Struct {
                fields,
                nulls,
                children,
                ..
            } => {
                let n = nulls.len();
                let arrays = children
                    .iter_mut()
                    .map(|c| {
                        c.pad_to(n);
                        c.finish()
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let valid = std::mem::replace(nulls, NullBufferBuilder::new(n)).finish();
                Arc::new(StructArray::try_new(fields.clone(), arrays, valid)?)
            }
            Col::List {
                field,
                offsets,
                nulls,
                child,
            } => {
                let mut next = Vec::with_capacity(offsets.len());
                next.push(0);
                let offs = std::mem::replace(offsets, next);
                let values = child.finish()?;
                let valid = std::mem::replace(nulls, NullBufferBuilder::new(offs.len())).finish();
                Arc::new(ListArray::try_new(
                    field.clone(),
                    OffsetBuffer::new(ScalarBuffer::from(offs)),
                    values,
                    valid,
                )?)
            }
        })
    }
}

/// Builders for every column of the event schema, in schema order.
pub(crate) fn schema_columns() -> Vec<Col> {
    schema::event_schema()
        .fields()
        .iter()
        .map(|f| Col::new(f.name(), f.data_type()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_exactly() {
        let keys = [
            "",
            "a",
            "ab",
            "abc",
            "abab",
            "ababab",
            "arn",
            "ARN",
            "type",
            "types",
            "eventID",
            "eventIDs",
            "eventTime",
            "eventName",
            "userName",
            "userNamf",
            "eventVersion",
            "eventVersiom",
            "fventVersion",
            "eventVersionX",
            "sourceIPAddress",
            "sourceIPAddresses",
            "requestParameters",
            "requestParametert",
            "recipientAccountId",
            "recipientAccountIe",
        ];
        for a in keys {
            let n = Name::new(a);
            for b in keys {
                assert_eq!(n.is(b, key_sig(b)), a == b, "{a:?} vs {b:?}");
            }
        }
    }
}
