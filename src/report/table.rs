//! A readable summary of the report for a terminal.

use super::Report;
use crate::kpi::AgentKpis;
use std::io::Write;

fn pct(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{:.1}%", x * 100.0))
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |x| format!("{x:.1}s"))
}

/// Writes the summary tables (queues, then agents).
pub fn write(r: &Report<'_>, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "ccpulse report  {} → {}  ({} intervals, {})",
        r.from.map_or_else(|| "-".into(), |t| r.time(t)),
        r.to.map_or_else(|| "-".into(), |t| r.time(t)),
        crate::config::Duration(r.interval_seconds() * 1000),
        r.timezone()
    )?;
    let i = &r.input;
    writeln!(
        out,
        "input: {} lines, {} events, {} rejected, {} unknown, {} late, {} duplicates, {} unmatched, {} orphaned\n",
        i.lines, i.events, i.rejected, i.unknown, i.late, i.duplicates, i.unmatched, i.orphaned
    )?;
    writeln!(
        out,
        "{:<20} {:>8} {:>8} {:>8} {:>6} {:>7} {:>8} {:>8} {:>8} {:>8}",
        "queue", "arrived", "answered", "abandon", "exit", "SL", "ASA", "abn%", "AHT", "waitP90"
    )?;
    for name in r.queue_names() {
        let Some(k) = r.queue_totals(name) else {
            continue;
        };
        let k = &k;
        writeln!(
            out,
            "{:<20} {:>8} {:>8} {:>8} {:>6} {:>7} {:>8} {:>8} {:>8} {:>8}",
            name,
            k.arrived,
            k.answered,
            k.abandoned,
            k.exited,
            pct(k.service_level),
            secs(k.asa_seconds),
            pct(k.abandon_rate),
            secs(k.aht_seconds),
            secs(k.percentiles.wait_p90_seconds)
        )?;
    }
    // With a schedule: scheduled time and adherence after the targets.
    let agents = r
        .agent_names()
        .filter_map(|name| Some((name, r.agent_totals(name)?)));
    people(out, "agent", r.scheduled(), agents)?;
    let teams = r
        .team_names()
        .filter_map(|name| Some((name, r.team_totals(name)?)));
    people(out, "team", r.scheduled(), teams)?;
    Ok(())
}

/// One table of agents or teams: handled, AHT, logged-in time, occupancy, utilisation,
/// ring-no-answer, share of targets met and, when `scheduled`, adherence.
fn people<'a>(
    out: &mut dyn Write,
    title: &str,
    scheduled: bool,
    rows: impl Iterator<Item = (&'a str, AgentKpis)>,
) -> std::io::Result<()> {
    let sched_head = if scheduled {
        format!(" {:>10} {:>9}", "scheduled", "adherence")
    } else {
        String::new()
    };
    writeln!(
        out,
        "\n{:<28} {:>8} {:>8} {:>10} {:>9} {:>9} {:>6} {:>8}{sched_head}",
        title, "handled", "AHT", "logged in", "occupancy", "utilis.", "RNA", "targets"
    )?;
    for (name, k) in rows {
        let sched = k.schedule.map_or_else(String::new, |s| {
            format!(
                " {:>10} {:>9}",
                format!("{:.0}m", s.scheduled_seconds / 60.0),
                pct(s.adherence)
            )
        });
        writeln!(
            out,
            "{:<28} {:>8} {:>8} {:>10} {:>9} {:>9} {:>6} {:>8}{sched}",
            name,
            k.handled,
            secs(k.aht_seconds),
            format!("{:.0}m", k.logged_in_seconds / 60.0),
            pct(k.occupancy),
            pct(k.utilisation),
            k.ring_no_answer,
            k.targets
                .as_ref()
                .map_or_else(|| "-".into(), |t| pct(t.share_met))
        )?;
    }
    Ok(())
}
