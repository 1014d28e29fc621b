//! CSV form of the report: one header line, one row per queue, agent or team interval.
//!
//! A report over weeks of 2,000 agents has hundreds of thousands of rows: each row's
//! fields are rendered straight into reused cell buffers by a small serde serializer
//! (placed by column name), not through a `serde_json::Value` per row.

use super::{agent_rows, queue_rows, Report};
use crate::kpi::{AgentKpis, QueueKpis, ScheduleKpis};
use serde::ser::{self, Impossible, Serialize};
use std::collections::HashMap;
use std::io::Write;

/// Fields of a KPI row that are not CSV columns (`start` has its own, targets are JSON).
const SKIPPED: [&str; 2] = ["start", "targets"];

/// The column names of a row, in the order of its fields.
fn column_names<T: Serialize>(row: &T) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(row) else {
        return Vec::new();
    };
    map.into_iter()
        .map(|(k, _)| k)
        .filter(|k| !SKIPPED.contains(&k.as_str()))
        .collect()
}

/// Appends `s` as a CSV field, quoted when it holds a comma, quote or line break
/// (RFC 4180).
fn push_field(line: &mut Vec<u8>, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        line.push(b'"');
        line.extend_from_slice(s.replace('"', "\"\"").as_bytes());
        line.push(b'"');
    } else {
        line.extend_from_slice(s.as_bytes());
    }
}

/// Writes the CSV: `kind,name,start,` then the union of queue and agent KPI columns
/// (team rows take the agent columns).
pub fn write(r: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let qcols = column_names(&QueueKpis::default());
    // With a schedule, the adherence columns too (every agent row has them then).
    let agent = AgentKpis {
        schedule: r.scheduled.then(ScheduleKpis::default),
        ..AgentKpis::default()
    };
    let acols: Vec<String> = column_names(&agent)
        .into_iter()
        .filter(|k| !qcols.contains(k))
        .collect();
    let all: Vec<&str> = qcols
        .iter()
        .chain(acols.iter())
        .map(String::as_str)
        .collect();
    writeln!(out, "kind,name,start,{}", all.join(","))?;
    let mut cells = Cells::new(&all);
    let mut line = Vec::with_capacity(1024);
    let mut emit = |kind: &str, name: &str, start: &str, row: &dyn ErasedRow| {
        cells.clear();
        row.fill(&mut cells)?;
        line.clear();
        line.extend_from_slice(kind.as_bytes());
        line.push(b',');
        push_field(&mut line, name);
        line.push(b',');
        line.extend_from_slice(start.as_bytes());
        for c in &cells.cells {
            line.push(b',');
            line.extend_from_slice(c);
        }
        line.push(b'\n');
        out.write_all(&line)
    };
    for q in &r.queues {
        for row in queue_rows(q, r.tz()) {
            emit("queue", q.name, &row.start, &row.kpis)?;
        }
    }
    for (kind, people) in [("agent", &r.agents), ("team", &r.teams)] {
        for a in people {
            for row in agent_rows(a, r.scheduled, r.tz()) {
                emit(kind, &a.name, &row.start, &row.kpis)?;
            }
        }
    }
    Ok(())
}

/// A KPI row that can render itself into [`Cells`] (queue and agent KPIs alike).
trait ErasedRow {
    fn fill(&self, cells: &mut Cells) -> std::io::Result<()>;
}

impl<T: Serialize> ErasedRow for T {
    fn fill(&self, cells: &mut Cells) -> std::io::Result<()> {
        self.serialize(&mut *cells).map_err(std::io::Error::other)
    }
}

/// One row's cells, rendered in place: a field goes to its column's buffer; columns a
/// row does not have stay empty.
struct Cells {
    index: HashMap<String, usize>,
    cells: Vec<Vec<u8>>,
    /// The map key being written (flattened structs serialize as maps).
    key: Vec<u8>,
}

impl Cells {
    fn new(columns: &[&str]) -> Self {
        Cells {
            index: columns
                .iter()
                .enumerate()
                .map(|(i, c)| (c.to_string(), i))
                .collect(),
            cells: vec![Vec::new(); columns.len()],
            key: Vec::new(),
        }
    }

    fn clear(&mut self) {
        for c in &mut self.cells {
            c.clear();
        }
    }

    /// Renders `value` into the cell of column `key` (JSON scalars: `null` is an empty
    /// cell, a string is unquoted and CSV-quoted when needed).
    fn put<T: ?Sized + Serialize>(&mut self, key: &str, value: &T) -> Result<(), CellError> {
        if SKIPPED.contains(&key) {
            return Ok(());
        }
        let Some(&i) = self.index.get(key) else {
            return Ok(());
        };
        let cell = &mut self.cells[i];
        cell.clear();
        serde_json::to_writer(&mut *cell, value)?;
        if cell.as_slice() == b"null" {
            cell.clear();
        } else if cell.first() == Some(&b'"') {
            let s: String = serde_json::from_slice(cell)?;
            cell.clear();
            push_field(cell, &s);
        }
        Ok(())
    }
}

/// Why a row could not be rendered (only a row that is not a struct of scalars).
#[derive(Debug, thiserror::Error)]
enum CellError {
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    #[error("a report row is a struct of scalars: {0}")]
    Custom(String),
}

impl ser::Error for CellError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        CellError::Custom(msg.to_string())
    }
}

impl ser::SerializeStruct for &mut Cells {
    type Ok = ();
    type Error = CellError;
    fn serialize_field<T: ?Sized + Serialize>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), CellError> {
        self.put(key, value)
    }
    fn end(self) -> Result<(), CellError> {
        Ok(())
    }
}

impl ser::SerializeMap for &mut Cells {
    type Ok = ();
    type Error = CellError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), CellError> {
        self.key.clear();
        serde_json::to_writer(&mut self.key, key)?;
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), CellError> {
        let key = std::mem::take(&mut self.key);
        // Keys are field names: a JSON string without escapes.
        let name = std::str::from_utf8(&key)
            .map(|k| k.trim_matches('"'))
            .unwrap_or_default();
        let done = self.put(name, value);
        self.key = key;
        done
    }
    fn end(self) -> Result<(), CellError> {
        Ok(())
    }
}

/// Only structs and maps (a KPI row with flattened parts) are rows.
macro_rules! not_a_row {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {
        $(fn $name(self, $(_: $arg),*) -> Result<(), CellError> {
            Err(ser::Error::custom("not a struct"))
        })*
    };
}

impl ser::Serializer for &mut Cells {
    type Ok = ();
    type Error = CellError;
    type SerializeSeq = Impossible<(), CellError>;
    type SerializeTuple = Impossible<(), CellError>;
    type SerializeTupleStruct = Impossible<(), CellError>;
    type SerializeTupleVariant = Impossible<(), CellError>;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), CellError>;

    not_a_row!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_char(char),
        serialize_str(&str),
        serialize_bytes(&[u8]),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), CellError> {
        value.serialize(self)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), CellError> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), CellError> {
        Err(ser::Error::custom("not a struct"))
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, CellError> {
        Err(ser::Error::custom("not a struct"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, CellError> {
        Err(ser::Error::custom("not a struct"))
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, CellError> {
        Err(ser::Error::custom("not a struct"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, CellError> {
        Err(ser::Error::custom("not a struct"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, CellError> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, CellError> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, CellError> {
        Err(ser::Error::custom("not a struct"))
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::decode::FormatChoice;
    use crate::replay::{replay, Input};
    use crate::sim::{SimConfig, Simulator};
    use serde_json::Value;

    /// Every cell of the CSV equals the same row's field in the JSON report (serde's).
    #[test]
    fn cells_are_the_json_reports_fields() {
        let mut sim = SimConfig::demo(4);
        sim.duration_ms = 4 * 3_600_000;
        let mut bytes = Vec::new();
        for e in Simulator::new(&sim).expect("valid config") {
            let _ = crate::encode::jsonl::write(&e, &mut bytes);
        }
        let input = Input {
            label: "sim".into(),
            reader: Box::new(std::io::Cursor::new(bytes)),
        };
        let mut r = replay(vec![input], &Config::default(), FormatChoice::Auto).expect("replay");
        let report = r.report();
        let json = serde_json::to_value(&report).expect("json");
        let mut csv = Vec::new();
        report
            .write(super::super::OutputFormat::Csv, &mut csv)
            .expect("csv");
        let csv = String::from_utf8(csv).expect("utf-8");
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().expect("header").split(',').collect();
        let mut seen = std::collections::HashMap::new();
        for line in lines {
            let cells: Vec<&str> = line.split(',').collect();
            assert_eq!(cells.len(), header.len(), "{line}");
            let (kind, name, start) = (cells[0], cells[1], cells[2]);
            let entities = json[format!("{kind}s")].as_array().expect("entities");
            let entity = entities
                .iter()
                .find(|e| e[kind] == name)
                .expect("the row's entity in the JSON");
            let row = entity["intervals"]
                .as_array()
                .expect("rows")
                .iter()
                .find(|r| r["start"] == start)
                .expect("the row in the JSON");
            for (col, cell) in header.iter().zip(&cells).skip(3) {
                let want = match &row[*col] {
                    Value::Null => String::new(),
                    v => v.to_string(),
                };
                assert_eq!(*cell, want, "{kind} {name} {start} {col}");
            }
            *seen.entry(kind.to_string()).or_insert(0) += 1;
        }
        for kind in ["queue", "agent", "team"] {
            let rows: usize = json[format!("{kind}s")]
                .as_array()
                .expect("entities")
                .iter()
                .map(|e| e["intervals"].as_array().map_or(0, Vec::len))
                .sum();
            assert!(rows > 0, "{kind} rows");
            assert_eq!(seen.get(kind), Some(&rows), "one CSV line per {kind} row");
        }
    }
}
