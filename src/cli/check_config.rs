//! `ccpulse check-config FILE`: validates a config and names the file and key on error.

use ccpulse::config::Config;
use std::path::PathBuf;

/// Arguments of `ccpulse check-config`.
#[derive(clap::Args, Debug)]
pub struct CheckConfigArgs {
    /// The config file (TOML).
    pub file: PathBuf,
}

/// Loads and validates the file; prints a one-line summary when it is valid.
pub fn run(args: CheckConfigArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.file)?;
    println!(
        "{}: ok ({} queues, {} teams, {} agents configured; time zone {}, {} intervals)",
        args.file.display(),
        cfg.queues.len(),
        cfg.teams.len(),
        cfg.agents.len(),
        cfg.timezone,
        cfg.interval
    );
    for note in notes(&cfg).into_iter().chain(schedule_notes(&cfg)) {
        println!("note: {note}");
    }
    Ok(())
}

/// Rows shown per rejected-row note before the rest are only counted.
const ROWS_SHOWN: usize = 5;

/// What the `[schedule] file` holds, as the daemon will read it: its rows and agents,
/// the rows it will reject (with line numbers), or that it cannot be read yet (the
/// daemon keeps polling for it). Nothing when no file is set.
fn schedule_notes(cfg: &Config) -> Vec<String> {
    let Some(path) = &cfg.schedule.file else {
        return Vec::new();
    };
    let shown = path.display();
    let data = match std::fs::read(path) {
        Ok(d) => d,
        Err(e) => {
            return vec![format!(
                "schedule.file {shown} cannot be read ({e}): the daemon keeps its current \
                 schedule (none, or the last one PUT) and loads the file when it appears"
            )]
        }
    };
    let Ok(tz) = jiff::tz::TimeZone::get(&cfg.timezone) else {
        return Vec::new(); // the config's validation names a bad time zone
    };
    let report = ccpulse::schedule::parse_csv(&data, &tz);
    let mut out = vec![format!(
        "schedule.file {shown}: {} row(s) for {} agent(s)",
        report.accepted, report.agents
    )];
    if report.rejected > 0 {
        let mut listed: Vec<String> = report
            .errors
            .iter()
            .take(ROWS_SHOWN)
            .map(|e| format!("line {}: {}", e.line, e.reason))
            .collect();
        if report.rejected > listed.len() {
            listed.push(format!("{} more", report.rejected - listed.len()));
        }
        out.push(format!(
            "schedule.file {shown}: {} row(s) rejected (the rest is used): {}",
            report.rejected,
            listed.join("; ")
        ));
    }
    out
}

/// Settings that are valid but will measure nothing as configured.
fn notes(cfg: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if cfg.schedule.file.is_none() {
        let with_adherence = cfg
            .teams
            .iter()
            .filter(|(_, t)| t.targets.adherence_min.is_some())
            .map(|(n, _)| format!("teams.{n}"))
            .chain(
                cfg.agents
                    .iter()
                    .filter(|(_, a)| a.targets.adherence_min.is_some())
                    .map(|(n, _)| format!("agents.\"{n}\"")),
            );
        for at in with_adherence {
            out.push(format!(
                "{at}.targets.adherence_min is measured against a schedule, and [schedule] \
                 file is unset: it stays unmeasured until one is PUT to /api/v1/schedule"
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adherence_target_without_a_schedule_file_gets_a_note() {
        let mut cfg = Config::default();
        cfg.teams
            .entry("A".into())
            .or_default()
            .targets
            .adherence_min = Some(0.9);
        let n = notes(&cfg);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].starts_with("teams.A.targets.adherence_min"), "{n:?}");
        cfg.schedule.file = Some("plan.csv".into());
        assert!(notes(&cfg).is_empty());
    }

    #[test]
    fn the_schedule_file_is_read_as_the_daemon_will() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("plan.csv");
        let mut cfg = Config::default();
        cfg.schedule.file = Some(path.clone());
        let n = schedule_notes(&cfg);
        assert_eq!(n.len(), 1, "{n:?}");
        assert!(n[0].contains("cannot be read"), "{n:?}");
        std::fs::write(
            &path,
            "agent,start,end,activity\n\
             a1,2026-12-07 08:00,2026-12-07 16:00,work\n\
             a1,2026-12-07 10:00,2026-12-07 10:15,break\n\
             a2,2026-12-07 09:00,2026-12-07 08:00,work\n\
             a3,2026-12-07 09:00,2026-12-07 17:00,nap\n",
        )
        .expect("write");
        let n = schedule_notes(&cfg);
        assert_eq!(n.len(), 2, "{n:?}");
        assert!(n[0].ends_with(": 2 row(s) for 1 agent(s)"), "{n:?}");
        assert!(n[1].contains("2 row(s) rejected"), "{n:?}");
        assert!(
            n[1].contains("line 4: ") && n[1].contains("line 5: "),
            "{n:?}"
        );
        cfg.schedule.file = None;
        assert!(schedule_notes(&cfg).is_empty());
    }
}
