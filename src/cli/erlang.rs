//! `ccpulse erlang` (stub until implemented).

/// Arguments of `ccpulse erlang`.
#[derive(clap::Args, Debug)]
pub struct ErlangArgs {}

/// Runs the subcommand.
pub fn run(_args: ErlangArgs) -> anyhow::Result<()> {
    anyhow::bail!("not implemented yet")
}
