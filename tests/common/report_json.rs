//! Reading the replay report's JSON (schema v1) in tests.

use serde_json::Value;

/// Each entity of `kind` (`queues`, `agents`, `teams`) in `report`: its name and what
/// `pick` takes of it (its `totals`, its `intervals`, …), in the report's order.
pub fn per_entity<T>(report: &Value, kind: &str, pick: impl Fn(&Value) -> T) -> Vec<(String, T)> {
    let key = &kind[..kind.len() - 1];
    report[kind]
        .as_array()
        .expect("entities")
        .iter()
        .map(|e| (e[key].as_str().expect("name").to_string(), pick(e)))
        .collect()
}
