//! The interval report (`ccpulse replay`, interfaces.md §3): per queue and per agent,
//! totals over the whole input and one row per interval with activity.

mod csv;
mod table;

use crate::engine::{Aggregate, Engine};
use crate::kpi::{AgentKpis, QueueKpis};
use crate::model::{format_rfc3339, Millis};
use serde::Serialize;
use std::io::Write;

/// Report schema version.
pub const REPORT_VERSION: u32 = 1;

/// What was read, and what of it was not counted (and why).
#[derive(Debug, Clone, Default, Serialize)]
pub struct InputCounts {
    /// Lines read.
    pub lines: u64,
    /// Events decoded.
    pub events: u64,
    /// Lines rejected as malformed.
    pub rejected: u64,
    /// Lines with an unknown type / verb.
    pub unknown: u64,
    /// Events later than the allowed lateness.
    pub late: u64,
    /// Events dropped as duplicate ids.
    pub duplicates: u64,
    /// Contact events that did not fit the contact's state.
    pub unmatched: u64,
    /// Contacts closed as orphans.
    pub orphaned: u64,
}

/// One interval row: its start and KPIs.
#[derive(Debug, Clone, Serialize)]
pub struct Row<K> {
    /// Interval start (RFC 3339).
    pub start: String,
    /// Interval start (epoch ms) for consumers that compute.
    #[serde(skip)]
    pub start_ms: Millis,
    /// The KPIs.
    #[serde(flatten)]
    pub kpis: K,
}

/// A queue's totals and interval rows.
#[derive(Debug, Clone, Serialize)]
pub struct QueueReport {
    /// Queue name.
    pub queue: String,
    /// Over the whole input.
    pub totals: QueueKpis,
    /// Intervals with activity, in time order.
    pub intervals: Vec<Row<QueueKpis>>,
}

/// An agent's totals and interval rows.
#[derive(Debug, Clone, Serialize)]
pub struct AgentReport {
    /// Agent id.
    pub agent: String,
    /// Over the whole input.
    pub totals: AgentKpis,
    /// Intervals with activity, in time order.
    pub intervals: Vec<Row<AgentKpis>>,
}

/// The whole report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Schema version (1).
    pub version: u32,
    /// Interval length.
    pub interval_seconds: i64,
    /// Time zone intervals are aligned in.
    pub timezone: String,
    /// First event time.
    pub from: Option<String>,
    /// Watermark at the end (the last event's time).
    pub to: Option<String>,
    /// Input accounting.
    pub input: InputCounts,
    /// Queues by name.
    pub queues: Vec<QueueReport>,
    /// Agents by id.
    pub agents: Vec<AgentReport>,
}

/// Output formats of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// JSON, schema v1.
    #[default]
    Json,
    /// CSV interval rows with a `kind` column.
    Csv,
    /// A readable summary.
    Table,
}

impl Report {
    /// Builds the report from a finished engine (closes every open interval).
    pub fn build(engine: &mut Engine, mut input: InputCounts, from: Option<Millis>) -> Report {
        engine.finish();
        engine.close_all();
        let stats = engine.stats().clone();
        input.late = stats.late;
        input.duplicates = stats.duplicates;
        input.unmatched = stats.unmatched;
        input.orphaned = stats.orphaned;
        let to = engine.watermark();
        let mut queues: Vec<QueueReport> = engine
            .queues_mut()
            .map(|(name, params, tl)| {
                let p = tl.totals.percentiles();
                let mut rows = tl.closed.clone();
                rows.sort_by_key(|r| r.0);
                QueueReport {
                    queue: name.to_string(),
                    totals: QueueKpis::compute(&tl.totals.c, params.preset, p),
                    intervals: rows
                        .into_iter()
                        .map(|(start, (c, p))| Row {
                            start: format_rfc3339(start),
                            start_ms: start,
                            kpis: QueueKpis::compute(&c, params.preset, p),
                        })
                        .collect(),
                }
            })
            .filter(|q| !q.intervals.is_empty() || q.totals.arrived > 0)
            .collect();
        queues.sort_by(|a, b| a.queue.cmp(&b.queue));
        let mut agents: Vec<AgentReport> = engine
            .agents()
            .filter(|(_, _, tl)| tl.totals.has_activity())
            .map(|(name, targets, tl)| {
                let mut rows = tl.closed.clone();
                rows.sort_by_key(|r| r.0);
                AgentReport {
                    agent: name.to_string(),
                    totals: AgentKpis::compute(&tl.totals.c, Some(&targets)),
                    intervals: rows
                        .into_iter()
                        .map(|(start, c)| Row {
                            start: format_rfc3339(start),
                            start_ms: start,
                            kpis: AgentKpis::compute(&c, Some(&targets)),
                        })
                        .collect(),
                }
            })
            .collect();
        agents.sort_by(|a, b| a.agent.cmp(&b.agent));
        Report {
            version: REPORT_VERSION,
            interval_seconds: engine.calendar().interval_ms() / 1000,
            timezone: engine
                .calendar()
                .tz()
                .iana_name()
                .unwrap_or("UTC")
                .to_string(),
            from: from.map(format_rfc3339),
            to: to.map(format_rfc3339),
            input,
            queues,
            agents,
        }
    }

    /// Writes the report in `format`.
    pub fn write(&self, format: OutputFormat, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut *out, self).map_err(std::io::Error::other)?;
                writeln!(out)
            }
            OutputFormat::Csv => csv::write(self, out),
            OutputFormat::Table => table::write(self, out),
        }
    }
}
