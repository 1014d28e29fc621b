//! `ccpulse replay` (stub until implemented).

/// Arguments of `ccpulse replay`.
#[derive(clap::Args, Debug)]
pub struct ReplayArgs {}

/// Runs the subcommand.
pub fn run(_args: ReplayArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
