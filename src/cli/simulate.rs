//! `ccpulse simulate` (stub until implemented).

/// Arguments of `ccpulse simulate`.
#[derive(clap::Args, Debug)]
pub struct SimulateArgs {}

/// Runs the subcommand.
pub fn run(_args: SimulateArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
