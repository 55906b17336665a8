//! Property: record → row → record is the identity (as JSON), for records
//! with random extra keys, random types in known slots, nulls, odd times.

mod common;

use backtrail_ingest::decode::Decoder;
use backtrail_ingest::rebuild::rebuild_row;
use backtrail_model::schema::{self, user_identity as ui};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9:/._-]{0,12}",
        "\\PC{0,16}",
        prop::collection::vec(prop::char::range('\u{0}', '\u{40}'), 0..6)
            .prop_map(|v| v.into_iter().collect()),
        Just("2024-02-29T23:59:59Z".to_string()),
        Just("2024-02-29T23:59:59.120Z".to_string()),
        Just("2024-02-29 23:59:59".to_string()),
        Just("2016-12-31T23:59:60Z".to_string()),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (i64::MAX as u64..=u64::MAX).prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        Just(json!(1.0)),
        Just(json!(-0.0)),
        text().prop_map(Value::String),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((text(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// A value for a slot that usually holds a string: mostly strings, sometimes anything.
fn stringish() -> impl Strategy<Value = Value> {
    prop_oneof![4 => text().prop_map(Value::String), 1 => any_json()]
}

/// An object with some of `known` keys (stringish values) and random extras.
fn object_of(known: &'static [&'static str]) -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(
            (prop::sample::select(known), stringish()),
            0..known.len().max(1),
        ),
        prop::collection::vec((text(), any_json()), 0..2),
    )
        .prop_map(|(k, extra)| {
            let mut m = Map::new();
            for (k, v) in extra {
                m.insert(k, v);
            }
            for (k, v) in k {
                m.insert(k.to_string(), v);
            }
            Value::Object(m)
        })
}

fn session_context() -> impl Strategy<Value = Value> {
    (
        object_of(&ui::ATTRIBUTES_STRINGS),
        object_of(&ui::SESSION_ISSUER_STRINGS),
        object_of(&ui::SESSION_CONTEXT_STRINGS),
        prop::option::of(any_json()),
        any::<u8>(),
    )
        .prop_map(|(attr, issuer, mut sc, web, pick)| {
            let m = sc.as_object_mut().unwrap();
            if pick & 1 != 0 {
                m.insert("attributes".into(), attr);
            }
            if pick & 2 != 0 {
                m.insert("sessionIssuer".into(), issuer);
            }
            if let Some(w) = web {
                m.insert("webIdFederationData".into(), w);
            }
            sc
        })
}

fn user_identity() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => (object_of(&ui::STRINGS), prop::option::of(session_context()), prop::option::of(object_of(&ui::ON_BEHALF_OF_STRINGS)), prop::option::of(any_json()))
            .prop_map(|(mut u, sc, obo, scope)| {
                let m = u.as_object_mut().unwrap();
                if let Some(sc) = sc { m.insert("sessionContext".into(), sc); }
                if let Some(o) = obo { m.insert("onBehalfOf".into(), o); }
                if let Some(s) = scope { m.insert("inScopeOf".into(), s); }
                u
            }),
        1 => any_json(),
    ]
}

fn resources() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => prop::collection::vec(object_of(&schema::RESOURCE_STRINGS), 0..3).prop_map(Value::Array),
        1 => any_json(),
    ]
}

fn record() -> impl Strategy<Value = Value> {
    let top_strings: Vec<&'static str> = [schema::col::EVENT_VERSION, schema::col::EVENT_TIME]
        .into_iter()
        .chain(schema::TOP_STRINGS_A)
        .chain(schema::TOP_STRINGS_B)
        .collect();
    (
        prop::collection::vec((prop::sample::select(top_strings), stringish()), 0..12),
        prop::collection::vec(
            (prop::sample::select(schema::TOP_JSON.to_vec()), any_json()),
            0..4,
        ),
        prop::collection::vec(
            (
                prop::sample::select(schema::TOP_BOOLS.to_vec()),
                prop_oneof![3 => any::<bool>().prop_map(Value::Bool), 1 => any_json()],
            ),
            0..2,
        ),
        prop::option::of(user_identity()),
        prop::option::of(resources()),
        prop::option::of(object_of(&schema::TLS_DETAILS_STRINGS)),
        prop::option::of(object_of(&schema::ADDENDUM_STRINGS)),
        prop::collection::vec((text(), any_json()), 0..3),
    )
        .prop_map(|(s, j, b, u, r, tls, add, extra)| {
            let mut m = Map::new();
            for (k, v) in extra {
                m.insert(k, v);
            }
            for (k, v) in s.into_iter().chain(j).chain(b) {
                m.insert(k.to_string(), v);
            }
            if let Some(u) = u {
                m.insert("userIdentity".into(), u);
            }
            if let Some(r) = r {
                m.insert("resources".into(), r);
            }
            if let Some(t) = tls {
                m.insert("tlsDetails".into(), t);
            }
            if let Some(a) = add {
                m.insert("addendum".into(), a);
            }
            Value::Object(m)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn record_row_record(recs in prop::collection::vec(record(), 1..4)) {
        // The delivery-file envelope takes any object as a record (the other
        // shapes need the first record to look like CloudTrail).
        let mut bytes = json!({ "Records": recs }).to_string().into_bytes();
        let mut dec = Decoder::new(1 << 30);
        let d = dec.decode(&mut bytes, "prop").map_err(|e| TestCaseError::fail(format!("{e}")))?;
        let mut got = Vec::new();
        for b in &d.batches() {
            for r in 0..b.num_rows() {
                got.push(rebuild_row(b, r).map_err(TestCaseError::fail)?);
            }
        }
        prop_assert_eq!(got.len(), recs.len());
        for (g, w) in got.iter().zip(&recs) {
            prop_assert!(common::json_eq(g, w), "\n got {}\nwant {}", g, w);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// simd-json reads back every finite f64 exactly (shortest form in).
    #[test]
    fn float_parse_is_exact(f in any::<f64>().prop_filter("finite", |f| f.is_finite())) {
        let mut text = serde_json::to_string(&json!([f])).unwrap().into_bytes();
        let tape = simd_json::to_tape(&mut text).unwrap();
        let got = match tape.0[1] {
            simd_json::Node::Static(simd_json::StaticNode::F64(g)) => g,
            simd_json::Node::Static(simd_json::StaticNode::I64(g)) => g as f64,
            simd_json::Node::Static(simd_json::StaticNode::U64(g)) => g as f64,
            other => panic!("{other:?}"),
        };
        prop_assert_eq!(got, f);
    }
}
