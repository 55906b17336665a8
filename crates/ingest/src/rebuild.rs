//! One stored row → the original record, as a `serde_json::Value`.
//!
//! Typed CloudTrail columns become JSON again (timestamps through
//! `format_event_time`, free-form text parsed back), then `unmapped` is
//! deep-merged on top: objects merge key by key, anything else replaces.
//! Derived and provenance columns are not part of the record.

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMicrosecondType;
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use backtrail_model::schema::{self, col};
use backtrail_model::time::format_event_time;
use serde_json::{Map, Value};

use crate::columns::is_json_text;

/// Deep-merges `patch` into `target`: objects key by key, anything else replaces.
pub fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                match t.get_mut(&k) {
                    Some(slot) if slot.is_object() && v.is_object() => merge(slot, v),
                    _ => {
                        t.insert(k, v);
                    }
                }
            }
        }
        (t, p) => *t = p,
    }
}

fn value_of(a: &dyn Array, row: usize, name: &str) -> Result<Option<Value>, String> {
    if a.is_null(row) {
        return Ok(None);
    }
    Ok(Some(match a.data_type() {
        DataType::Utf8 => {
            let s = a.as_string::<i32>().value(row);
            if is_json_text(name) {
                serde_json::from_str(s)
                    .map_err(|e| format!("{name}: stored JSON text does not parse: {e}"))?
            } else {
                Value::String(s.to_owned())
            }
        }
        DataType::Boolean => Value::Bool(a.as_boolean().value(row)),
        DataType::Timestamp(_, _) => Value::String(format_event_time(
            a.as_primitive::<TimestampMicrosecondType>().value(row),
        )),
        DataType::Struct(fields) => {
            let s = a.as_struct();
            let mut m = Map::new();
            for (f, c) in fields.iter().zip(s.columns()) {
                if let Some(v) = value_of(c.as_ref(), row, f.name())? {
                    m.insert(f.name().clone(), v);
                }
            }
            Value::Object(m)
        }
        DataType::List(f) => {
            let l = a.as_list::<i32>();
            let items = l.value(row);
            let mut out = Vec::with_capacity(items.len());
            for i in 0..items.len() {
                out.push(value_of(items.as_ref(), i, f.name())?.unwrap_or(Value::Null));
            }
            Value::Array(out)
        }
        other => return Err(format!("{name}: unexpected type {other}")),
    }))
}

/// Rebuilds the record stored in `row` of `batch` (a batch of the event schema).
pub fn rebuild_row(batch: &RecordBatch, row: usize) -> Result<Value, String> {
    let mut m = Map::new();
    let known: Vec<&str> = schema::known_top_level_keys().collect();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if !known.contains(&f.name().as_str()) {
            continue;
        }
        if let Some(v) = value_of(c.as_ref(), row, f.name())? {
            m.insert(f.name().clone(), v);
        }
    }
    let mut rec = Value::Object(m);
    if let Some(u) = batch.column_by_name(col::UNMAPPED)
        && !u.is_null(row)
    {
        let text = u.as_string::<i32>().value(row);
        let patch: Value =
            serde_json::from_str(text).map_err(|e| format!("unmapped does not parse: {e}"))?;
        merge(&mut rec, patch);
    }
    Ok(rec)
}
