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
    Ok(())
}
