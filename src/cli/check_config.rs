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
    for note in notes(&cfg) {
        println!("note: {note}");
    }
    Ok(())
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
}
