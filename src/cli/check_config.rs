//! `ccpulse check-config` (stub until implemented).

/// Arguments of `ccpulse check-config`.
#[derive(clap::Args, Debug)]
pub struct CheckConfigArgs {}

/// Runs the subcommand.
pub fn run(_args: CheckConfigArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
