//! The `ccpulse` binary: command-line edge over the library (errors become exit codes).

mod cli;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Real-time contact-center monitor.
#[derive(Parser)]
#[command(name = "ccpulse", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The live daemon: sources → engine → HTTP API (the built-in demo without a config).
    Run(cli::run::RunArgs),
    /// Read ACD logs through the engine as fast as possible and print an interval report.
    Replay(cli::replay::ReplayArgs),
    /// Write a realistic simulated event stream (demo data, load generation).
    Simulate(cli::simulate::SimulateArgs),
    /// Staffing calculator (Erlang C; Erlang A with --patience).
    Erlang(cli::erlang::ErlangArgs),
    /// Validate a config file.
    CheckConfig(cli::check_config::CheckConfigArgs),
    /// A read ticket for a kiosk's board URL, signed with the config's `[auth] token`.
    Ticket(cli::ticket::TicketArgs),
}

fn main() -> ExitCode {
    cli::init_tracing();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Command::Run(a) => cli::run::run(a),
        Command::Replay(a) => cli::replay::run(a),
        Command::Simulate(a) => cli::simulate::run(a),
        Command::Erlang(a) => cli::erlang::run(a),
        Command::CheckConfig(a) => cli::check_config::run(a),
        Command::Ticket(a) => cli::ticket::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ccpulse: {e:#}");
            ExitCode::from(cli::exit_code(&e))
        }
    }
}
