//! Shape comparison against recorded payload fixtures: same keys, same JSON types,
//! recursively. Arrays compare each element with the fixture element at the same index,
//! or with the fixture's last element when the fixture is shorter.

use std::path::PathBuf;

use serde_json::Value;

fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/binance-usdm")
        .join(format!("{name}.json"))
}

pub fn load(name: &str) -> Value {
    let path = fixture_path(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} should be readable: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {name} should be JSON: {e}"))
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Differences between `actual` and `expected`, one line per difference.
pub fn diff(expected: &Value, actual: &Value, path: &str, out: &mut Vec<String>) {
    if kind(expected) != kind(actual) {
        out.push(format!(
            "{path}: expected {} but got {} ({actual})",
            kind(expected),
            kind(actual)
        ));
        return;
    }
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for k in e.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{k}: missing"));
            }
            for k in a.keys().filter(|k| !e.contains_key(*k)) {
                out.push(format!("{path}.{k}: not in the fixture"));
            }
            for (k, ev) in e {
                if let Some(av) = a.get(k) {
                    diff(ev, av, &format!("{path}.{k}"), out);
                }
            }
        }
        (Value::Array(e), Value::Array(a)) => {
            if e.is_empty() {
                return;
            }
            if a.is_empty() {
                out.push(format!(
                    "{path}: empty array, nothing to compare with the fixture"
                ));
            }
            for (i, av) in a.iter().enumerate() {
                let ev = &e[i.min(e.len() - 1)];
                diff(ev, av, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Asserts `actual` has the shape of fixture `name`.
pub fn assert_shape(name: &str, actual: &Value) {
    let mut out = Vec::new();
    diff(&load(name), actual, "$", &mut out);
    assert!(
        out.is_empty(),
        "response should match fixture {name}:\n{}",
        out.join("\n")
    );
}

/// Asserts every element of an array response has the shape of fixture `name`.
pub fn assert_each_shape(name: &str, actual: &Value) {
    let rows = actual
        .as_array()
        .unwrap_or_else(|| panic!("expected an array to compare with {name}, got {actual}"));
    assert!(
        !rows.is_empty(),
        "expected at least one row to compare with {name}"
    );
    for row in rows {
        assert_shape(name, row);
    }
}

#[test]
fn the_helper_reports_key_and_type_differences() {
    let expected: Value = serde_json::json!({"a": "1", "b": [{"c": 1}], "d": null});
    let good: Value = serde_json::json!({"a": "x", "b": [{"c": 2}, {"c": 3}], "d": null});
    let mut out = Vec::new();
    diff(&expected, &good, "$", &mut out);
    assert!(out.is_empty(), "same keys and types should match: {out:?}");
    let bad: Value = serde_json::json!({"a": 1, "b": [{"c": 2, "e": true}], "f": null});
    let mut out = Vec::new();
    diff(&expected, &bad, "$", &mut out);
    assert_eq!(
        out.len(),
        4,
        "type, extra nested key, missing and extra key: {out:?}"
    );
}
