//! `ccpulse ticket --config FILE [--expires-in 30d] [--teams A] [--queues sales]`: a read
//! ticket for a kiosk's URL, signed with the config's `[auth] token`, without a running
//! daemon (the same ticket `POST /api/v1/tickets` mints).

use super::UsageError;
use ccpulse::alerts::notify::board_link;
use ccpulse::auth::{Auth, TicketError};
use ccpulse::config::{parse_duration, Config};
use std::path::PathBuf;

/// Arguments of `ccpulse ticket`.
#[derive(clap::Args, Debug)]
pub struct TicketArgs {
    /// The daemon's config file: its `[auth] token` signs the ticket.
    #[arg(long)]
    pub config: PathBuf,
    /// How long the ticket opens the board (at most 30 days).
    #[arg(long, default_value = "12h")]
    pub expires_in: String,
    /// The board's team filter in the printed URL (`?teams=`).
    #[arg(long)]
    pub teams: Option<String>,
    /// The board's queue filter in the printed URL (`?queues=`).
    #[arg(long)]
    pub queues: Option<String>,
}

/// Prints the ticket, its expiry and the board's URL with it.
pub fn run(args: TicketArgs) -> anyhow::Result<()> {
    let cfg = Config::load(&args.config)?;
    let life = parse_duration(&args.expires_in)
        .map_err(|e| UsageError(format!("--expires-in: {e}")))?
        .ms();
    let (ticket, expires_at) = Auth::new(cfg.auth.token.as_deref())
        .ticket_lasting(life)
        .map_err(|e| match e {
            TicketError::Life => UsageError("--expires-in: more than 0 and at most 30 days".into()),
            TicketError::NoToken => UsageError(format!(
                "{}: no [auth] token, so the board is open and needs no ticket",
                args.config.display()
            )),
        })?;
    let base = cfg
        .alerts
        .external_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", cfg.daemon.listen));
    let filters = [("teams", &args.teams), ("queues", &args.queues)];
    let mut query: Vec<(&str, &str)> = filters
        .iter()
        .filter_map(|(key, value)| value.as_deref().map(|v| (*key, v)))
        .collect();
    query.push(("ticket", &ticket));
    let url = board_link(&base, &query)
        .map_err(|e| UsageError(format!("alerts.external_url `{base}`: {e}")))?;
    println!("ticket:  {ticket}");
    println!("expires: {}", ccpulse::model::format_rfc3339(expires_at));
    println!("board:   {url}");
    Ok(())
}
