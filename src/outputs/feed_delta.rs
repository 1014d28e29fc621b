//! The state a feed filter shows, kept as JSON values so that the next tick can be sent
//! as a `delta`: what changed, as an RFC 7386 JSON Merge Patch of the state keyed by
//! name (docs/feed.md, "Deltas"). A whole-floor screen then receives the values that
//! moved instead of the whole floor every second.

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The three named sections of a frame, in frame order, with the field naming each entity.
pub const SECTIONS: [(&str, &str); 3] =
    [("queues", "queue"), ("teams", "team"), ("agents", "agent")];

/// One tick's filtered state: each section's entities in snapshot order, the `engine`
/// block and the `filter` echo, each serialised once. Deltas compare the serialised
/// text: equal bytes are equal values (one serialiser, one type), and only a changed
/// object is split into its members (borrowed slices, nothing re-encoded).
#[derive(Debug, Default)]
pub struct FeedDoc {
    filter: String,
    sections: [Vec<Entity>; 3],
    engine: Entity,
}

/// A serialised object and its name.
#[derive(Debug, Default)]
pub struct Entity {
    name: String,
    json: String,
}

impl Entity {
    /// Serialises `v` as the entity `name`.
    pub fn new<T: Serialize>(name: &str, v: &T) -> Result<Self, DocError> {
        Ok(Entity {
            name: name.to_string(),
            json: serde_json::to_string(v)?,
        })
    }
}

/// A value that cannot become JSON (never happens for the snapshot's types).
#[derive(Debug, thiserror::Error)]
#[error("feed state is not JSON: {0}")]
pub struct DocError(#[from] serde_json::Error);

impl FeedDoc {
    /// Builds the state from the filter echo, the sections' entities (in [`SECTIONS`]
    /// order) and the engine block.
    pub fn new<F: Serialize, E: Serialize>(
        filter: &F,
        sections: [Vec<Entity>; 3],
        engine: &E,
    ) -> Result<Self, DocError> {
        Ok(FeedDoc {
            filter: serde_json::to_string(filter)?,
            sections,
            engine: Entity::new("engine", engine)?,
        })
    }

    /// Entities in all sections (how big a frame of this state is).
    pub fn entities(&self) -> usize {
        self.sections.iter().map(Vec::len).sum()
    }

    /// The whole state as the tail of a `snapshot` frame: `,"filter":…,"queues":[…],
    /// "teams":[…],"agents":[…],"engine":…}`.
    pub fn snapshot_tail(&self) -> String {
        let bytes: usize = self
            .sections
            .iter()
            .flatten()
            .map(|e| e.json.len() + 1)
            .sum();
        let mut out =
            String::with_capacity(bytes + self.filter.len() + self.engine.json.len() + 64);
        out.push_str(",\"filter\":");
        out.push_str(&self.filter);
        for ((name, _), entities) in SECTIONS.iter().zip(&self.sections) {
            let _ = write!(out, ",\"{name}\":[");
            for (i, e) in entities.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&e.json);
            }
            out.push(']');
        }
        out.push_str(",\"engine\":");
        out.push_str(&self.engine.json);
        out.push('}');
        out
    }

    /// What changed from `old` to `self`, as the tail of a `delta` frame (`,"queues":{…},
    /// …}`), each present section a merge patch keyed by name (`null`: the entity left);
    /// `None` when nothing changed.
    pub fn delta_tail(&self, old: &FeedDoc) -> Option<String> {
        let mut out = String::new();
        for (((name, _), new), old) in SECTIONS.iter().zip(&self.sections).zip(&old.sections) {
            let start = out.len();
            let _ = write!(out, ",\"{name}\":");
            if !write_section_patch(&mut out, old, new) {
                out.truncate(start);
            }
        }
        let start = out.len();
        out.push_str(",\"engine\":");
        if !write_raw_patch(&mut out, &old.engine.json, &self.engine.json) {
            out.truncate(start);
        }
        if out.is_empty() {
            return None;
        }
        out.push('}');
        Some(out)
    }
}

/// Writes `"key":` (escaped only when it needs to be).
fn write_key(out: &mut String, key: &str) {
    if key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        let _ = write!(out, "{}:", Value::String(key.to_string()));
    } else {
        out.push('"');
        out.push_str(key);
        out.push_str("\":");
    }
}

/// Writes `"key":` as a member of the object opened at `start` (a comma before all but
/// the first).
fn write_member_key(out: &mut String, start: usize, key: &str) {
    if out.len() > start + 1 {
        out.push(',');
    }
    write_key(out, key);
}

/// Writes the merge patch of one section: changed entities' patches, new entities
/// whole, departed ones `null`, in the new state's order (departed last); false when
/// nothing changed. Both lists are usually in the same order (by name): entities are
/// matched by position first.
fn write_section_patch(out: &mut String, old: &[Entity], new: &[Entity]) -> bool {
    let mut index: Option<HashMap<&str, usize>> = None;
    let mut seen = vec![false; old.len()];
    let start = out.len();
    out.push('{');
    let mut next = 0;
    for e in new {
        let at = match old.get(next) {
            Some(o) if o.name == e.name => Some(next),
            _ => index
                .get_or_insert_with(|| {
                    old.iter()
                        .enumerate()
                        .map(|(i, o)| (o.name.as_str(), i))
                        .collect()
                })
                .get(e.name.as_str())
                .copied(),
        };
        let member = out.len();
        write_member_key(out, start, &e.name);
        let written = match at {
            Some(i) => {
                next = i + 1;
                seen[i] = true;
                write_raw_patch(out, &old[i].json, &e.json)
            }
            None => {
                out.push_str(&e.json);
                true
            }
        };
        if !written {
            out.truncate(member);
        }
    }
    for (o, _) in old.iter().zip(&seen).filter(|(_, seen)| !**seen) {
        write_member_key(out, start, &o.name);
        out.push_str("null");
    }
    close_object(out, start)
}

/// Closes the object opened at `start`; an empty one is taken back (false: nothing
/// written).
fn close_object(out: &mut String, start: usize) -> bool {
    if out.len() == start + 1 {
        out.truncate(start);
        return false;
    }
    out.push('}');
    true
}

/// The members of a JSON object's text; `None` for anything else.
fn members(json: &str) -> Option<Members<'_>> {
    if !json.starts_with('{') {
        return None;
    }
    serde_json::from_str(json).ok()
}

/// An object's members as slices of its JSON text, in order (a key is copied only when
/// it has escapes).
struct Members<'a>(Vec<(Key<'a>, &'a RawValue)>);

/// A member's name, borrowed from the JSON text when it can be.
struct Key<'a>(std::borrow::Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a member name")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Key(std::borrow::Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Key(std::borrow::Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Members<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Members<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = Vec::with_capacity(m.size_hint().unwrap_or(8));
                while let Some(kv) = m.next_entry::<Key<'de>, &'de RawValue>()? {
                    members.push(kv);
                }
                Ok(Members(members))
            }
        }
        d.deserialize_map(V)
    }
}

/// Writes the RFC 7386 merge patch turning the JSON text `old` into `new`; false
/// (nothing written) when they are equal. Both come from one serialiser, so equal text
/// is an equal value; objects that differ are split into their members' text and
/// patched member by member (a member that is gone or became `null` is `null` in the
/// patch, so a client drops it: read a missing member as `null`); anything else is
/// replaced whole, copied as it is.
pub fn write_raw_patch(out: &mut String, old: &str, new: &str) -> bool {
    if old == new {
        return false;
    }
    let (Some(Members(o)), Some(Members(n))) = (members(old), members(new)) else {
        // An object replacing a non-object is patched into `{}` by a client: its null
        // members would be dropped anyway, so it goes as it is.
        out.push_str(new);
        return true;
    };
    let start = out.len();
    out.push('{');
    let mut in_step = o.len() == n.len();
    let find = |k: &str| o.iter().find(|(ok, _)| ok.0 == k).map(|(_, v)| v.get());
    for (i, (k, nv)) in n.iter().enumerate() {
        let k = k.0.as_ref();
        // Objects serialised from one type list their members in one order: walk both
        // together, and look members up only once the orders part.
        let ov = match o.get(i) {
            Some((ok, ov)) if in_step && ok.0 == k => Some(ov.get()),
            _ => {
                in_step = false;
                find(k)
            }
        };
        let nv = nv.get();
        match ov {
            Some(ov) if ov == nv => {}
            Some(ov) => {
                let member = out.len();
                write_member_key(out, start, k);
                if !write_raw_patch(out, ov, nv) {
                    out.truncate(member);
                }
            }
            // A new member that is null is the same as the missing one.
            None if nv == "null" => {}
            None => {
                write_member_key(out, start, k);
                out.push_str(nv);
            }
        }
    }
    if !in_step {
        for (k, ov) in &o {
            if ov.get() != "null" && !n.iter().any(|(nk, _)| nk.0 == k.0) {
                write_member_key(out, start, &k.0);
                out.push_str("null");
            }
        }
    }
    close_object(out, start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{json, Map};

    /// RFC 7386 §2, written out independently of the code under test.
    fn apply(target: &mut Value, patch: &Value) {
        let Value::Object(p) = patch else {
            *target = patch.clone();
            return;
        };
        if !target.is_object() {
            *target = Value::Object(Map::new());
        }
        if let Value::Object(t) = target {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    apply(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
    }

    /// Drops null object members everywhere: what a merge patch cannot tell apart.
    fn strip_nulls(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| (k.clone(), strip_nulls(v)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
            other => other.clone(),
        }
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0u32..4).prop_map(|n| json!(n)),
            (0.0f64..2.0).prop_map(|f| json!(f)),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::btree_map("[a-c\"]", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Applying the patch to the old value gives the new one (up to null members).
        #[test]
        fn a_raw_patch_turns_old_into_new(old in json_value(), new in json_value()) {
            let mut got = old.clone();
            let mut p = String::new();
            if write_raw_patch(&mut p, &old.to_string(), &new.to_string()) {
                let p: Value = serde_json::from_str(&p).expect("a patch is JSON");
                apply(&mut got, &p);
            } else {
                prop_assert!(p.is_empty());
            }
            prop_assert_eq!(strip_nulls(&got), strip_nulls(&new));
        }

        /// A section's patch, applied to the old entities keyed by name, gives the new ones.
        #[test]
        fn a_section_patch_turns_old_entities_into_new(
            old in prop::collection::btree_map("[a-e\"]", json_value(), 0..6),
            new in prop::collection::btree_map("[a-e\"]", json_value(), 0..6),
        ) {
            let list = |m: &std::collections::BTreeMap<String, Value>| -> Vec<Entity> {
                m.iter().map(|(k, v)| Entity::new(k, v).expect("json")).collect()
            };
            let mut out = String::new();
            let patch: Map<String, Value> = if write_section_patch(&mut out, &list(&old), &list(&new)) {
                serde_json::from_str(&out).expect("a patch is JSON")
            } else {
                prop_assert!(out.is_empty());
                Map::new()
            };
            let mut got = Value::Object(old.clone().into_iter().collect());
            apply(&mut got, &Value::Object(patch.clone()));
            // An entity whose object is entirely null members cannot be told from a
            // departed one after `strip_nulls`: compare the names separately.
            let want = Value::Object(new.clone().into_iter().collect());
            prop_assert_eq!(strip_nulls(&got), strip_nulls(&want));
            for name in old.keys().filter(|k| !new.contains_key(*k)) {
                prop_assert_eq!(patch.get(name), Some(&Value::Null));
            }
        }
    }

    #[test]
    fn unchanged_state_has_no_delta_and_changes_are_minimal() {
        let e = |name: &str, v: Value| Entity::new(name, &v).expect("json");
        let doc = |waiting: u64, agents: Vec<Entity>| {
            let q = vec![e(
                "sales",
                json!({"queue": "sales", "waiting": waiting, "today": {"arrived": 3, "service_level": null}}),
            )];
            FeedDoc::new(
                &json!({"queues": null}),
                [q, vec![], agents],
                &json!({"applied": 7}),
            )
            .expect("json")
        };
        let a1 = || e("a1", json!({"agent": "a1", "state": "available"}));
        let a2 = || e("a2", json!({"agent": "a2", "state": "aux"}));
        let old = doc(1, vec![a1(), a2()]);
        assert_eq!(doc(1, vec![a1(), a2()]).delta_tail(&old), None);
        let new = doc(2, vec![a1()]);
        assert_eq!(
            new.delta_tail(&old).as_deref(),
            Some(r#","queues":{"sales":{"waiting":2}},"agents":{"a2":null}}"#)
        );
        assert_eq!(
            old.snapshot_tail(),
            r#","filter":{"queues":null},"queues":[{"queue":"sales","waiting":1,"today":{"arrived":3,"service_level":null}}],"teams":[],"agents":[{"agent":"a1","state":"available"},{"agent":"a2","state":"aux"}],"engine":{"applied":7}}"#
        );
    }
}
