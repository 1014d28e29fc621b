//! CSV form of the report: one header line, one row per queue or agent interval.

use super::{agent_rows, queue_rows, Report};
use crate::kpi::{AgentKpis, QueueKpis, ScheduleKpis};
use serde::Serialize;
use std::io::Write;

/// The KPI columns of a row, as rendered values in the order of its fields.
fn columns<T: Serialize>(row: &T) -> Vec<(String, String)> {
    let Ok(serde_json::Value::Object(map)) = serde_json::to_value(row) else {
        return Vec::new();
    };
    map.into_iter()
        .filter(|(k, _)| k != "start" && k != "targets")
        .map(|(k, v)| {
            let s = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, s)
        })
        .collect()
}

/// Quotes a field when it holds a comma, quote or line break (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Writes the CSV: `kind,name,start,` then the union of queue and agent KPI columns
/// (team rows take the agent columns).
pub fn write(r: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    let qcols: Vec<String> = columns(&QueueKpis::default())
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    // With a schedule, the adherence columns too (every agent row has them then).
    let agent = AgentKpis {
        schedule: r.scheduled.then(ScheduleKpis::default),
        ..AgentKpis::default()
    };
    let acols: Vec<String> = columns(&agent)
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| !qcols.contains(k))
        .collect();
    let all: Vec<&String> = qcols.iter().chain(acols.iter()).collect();
    let header: Vec<&str> = ["kind", "name", "start"]
        .into_iter()
        .chain(all.iter().map(|s| s.as_str()))
        .collect();
    writeln!(out, "{}", header.join(","))?;
    let mut emit = |kind: &str, name: &str, start: &str, cols: Vec<(String, String)>| {
        let mut line = vec![kind.to_string(), field(name), start.to_string()];
        for c in &all {
            let v = cols
                .iter()
                .find(|(k, _)| k == *c)
                .map(|(_, v)| v.as_str())
                .unwrap_or("");
            line.push(field(v));
        }
        writeln!(out, "{}", line.join(","))
    };
    for q in &r.queues {
        for row in queue_rows(q, r.tz()) {
            emit("queue", q.name, &row.start, columns(&row.kpis))?;
        }
    }
    for a in &r.agents {
        for row in agent_rows(a, r.scheduled, r.tz()) {
            emit("agent", a.name, &row.start, columns(&row.kpis))?;
        }
    }
    for t in &r.teams {
        for row in agent_rows(t, false, r.tz()) {
            emit("team", t.name, &row.start, columns(&row.kpis))?;
        }
    }
    Ok(())
}
