//! `ccpulse ticket --config FILE [--expires-in 30d] [--teams A] [--queues sales]`: a read
//! ticket for a kiosk's URL, signed with the config's `[auth] token`, without a running
//! daemon (the same ticket `POST /api/v1/tickets` mints).

use super::UsageError;
use ccpulse::auth::{wall_ms, Auth, MAX_TICKET_MS};
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
    if life <= 0 || life > MAX_TICKET_MS {
        return Err(UsageError("--expires-in: more than 0 and at most 30 days".into()).into());
    }
    let auth = Auth::new(cfg.auth.token.as_deref());
    let expires_at = wall_ms().saturating_add(life);
    let Some(ticket) = auth.ticket(expires_at) else {
        return Err(UsageError(format!(
            "{}: no [auth] token, so the board is open and needs no ticket",
            args.config.display()
        ))
        .into());
    };
    let base = cfg
        .alerts
        .external_url
        .clone()
        .unwrap_or_else(|| format!("http://{}", cfg.daemon.listen));
    let mut url = reqwest::Url::parse(&format!("{}/", base.trim_end_matches('/')))
        .map_err(|e| UsageError(format!("alerts.external_url `{base}`: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        for (key, value) in [("teams", &args.teams), ("queues", &args.queues)] {
            if let Some(v) = value {
                q.append_pair(key, v);
            }
        }
        q.append_pair("ticket", &ticket);
    }
    println!("ticket:  {ticket}");
    println!("expires: {}", ccpulse::model::format_rfc3339(expires_at));
    println!("board:   {url}");
    Ok(())
}
