//! Subcommands of the `ccpulse` binary, one module each.

pub mod alloc;
pub mod bus_publish;
pub mod check_config;
pub mod erlang;
pub mod replay;
pub mod run;
pub mod simulate;
pub mod ticket;

/// A usage or configuration error: exit code 2 (runtime errors exit 1).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Maps an error to the documented exit code: 2 for usage/config errors, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    let usage = e.chain().any(|c| {
        c.is::<UsageError>()
            || c.is::<ccpulse::config::ConfigError>()
            || matches!(
                c.downcast_ref::<ccpulse::runtime::RuntimeError>(),
                Some(ccpulse::runtime::RuntimeError::Config(_))
            )
            || matches!(
                c.downcast_ref::<ccpulse::replay::ReplayError>(),
                Some(ccpulse::replay::ReplayError::Config(_))
            )
    });
    if usage {
        2
    } else {
        1
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}
