//! `ccpulse run`: the live daemon (interfaces.md §1). With no config, or a config that
//! names no source, it plays the built-in demo center in real time.

use super::UsageError;
use ccpulse::alerts::notify::{self, Context};
use ccpulse::alerts::persist::StateFile;
use ccpulse::alerts::{AlertContext, AlertEngine, SharedAlerts};
use ccpulse::auth::Auth;
use ccpulse::config::{Config, SourceKind};
use ccpulse::outputs::feed::{FeedOptions, FeedState};
use ccpulse::outputs::http;
use ccpulse::outputs::metrics::MetricsOptions;
use ccpulse::runtime::{Clock, DaemonBuilder, Positions, RuntimeOptions, SystemClock};
use ccpulse::schedule::{ScheduleService, SharedSchedule};
use ccpulse::sources::checkpoint::{Checkpoint, CheckpointStore};
use ccpulse::sources::file_tail::FileTailSource;
use ccpulse::sources::nats::NatsSource;
use ccpulse::sources::push::{PushSource, PushState};
use ccpulse::sources::simulator::SimulatorSource;
use ccpulse::sources::websocket::WebsocketSource;
use std::path::PathBuf;
use std::sync::Arc;

/// Fewest runtime worker threads (see `run`).
const MIN_WORKERS: usize = 4;
/// Arguments of `ccpulse run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Config file (queues, teams, targets, `[daemon]`); without one the demo runs.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// HTTP listen address; overrides `daemon.listen` (default 127.0.0.1:8080).
    #[arg(long)]
    pub listen: Option<String>,
    /// Accelerate the clock (and so the demo simulator) by this factor.
    #[arg(long, default_value_t = 1.0)]
    pub speed: f64,
    /// Seed of the demo simulator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

fn usage(msg: impl Into<String>) -> anyhow::Error {
    UsageError(msg.into()).into()
}

/// Runs the daemon until SIGINT/SIGTERM.
pub fn run(args: RunArgs) -> anyhow::Result<()> {
    super::alloc::tune_for_daemon();
    if !(args.speed.is_finite() && args.speed > 0.0 && args.speed <= 100_000.0) {
        return Err(usage(format!(
            "--speed: {} must be a factor in (0, 100000]",
            args.speed
        )));
    }
    let mut cfg = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config {
            timezone: system_zone(),
            ..Config::default()
        },
    };
    if let Some(listen) = &args.listen {
        cfg.daemon.listen = listen.clone();
    }
    let origin = args.config.as_ref().map_or_else(
        || "<command line>".to_string(),
        |p| format!("{} + command line", p.display()),
    );
    cfg.validate(&origin)?;
    // The blocking work is feed-frame serialisation (one per tick and filter) and file
    // I/O: a small pool keeps threads, and their allocator arenas, few — hundreds of
    // screens with distinct filters would otherwise grow it to hundreds of threads.
    // At least 4 workers, even on 2 cores: the OS then time-slices the ingest, HTTP and
    // feed tasks, so a tick's 500 screen sends are not queued behind whatever holds the
    // runtime's two workers (−10 to −12 ms at the feed's p99 in the 500-screen benchmark,
    // docs/benchmarks.md). More cores: tokio's default, one per core.
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(cores.max(MIN_WORKERS))
        .max_blocking_threads(8)
        .build()?;
    rt.block_on(daemon(cfg, args))
}

async fn daemon(cfg: Config, args: RunArgs) -> anyhow::Result<()> {
    let clock: Arc<dyn Clock> = Arc::new(SystemClock::accelerated(args.speed));
    // The demo runs when no `[[sources]]` is configured, unless the config says otherwise.
    let demo = cfg.daemon.demo.unwrap_or(cfg.sources.is_empty());
    let sim = demo.then(|| SimulatorSource::demo(args.seed, clock.clone()));
    // The demo's teams come with their schedule (no-shows, breaks, adherence on show).
    let demo_schedule = sim.as_ref().map(SimulatorSource::schedule_csv);
    let cfg = match &sim {
        Some(s) => s.engine_config(&cfg),
        None => cfg,
    };
    let mut builder = DaemonBuilder::new(&cfg, RuntimeOptions::from_config(&cfg))?;
    // Engine state survives restarts, except in the demo (its simulated day restarts
    // with the daemon). File sources resume from the positions of that state.
    let positions = if demo {
        Positions::new()
    } else {
        let positions = builder.persist(&cfg)?;
        for src in cfg.sources.iter().filter(|s| s.kind == SourceKind::File) {
            if let Some(pos) = positions.get(&src.name) {
                let cp: Checkpoint = serde_json::from_value(pos.clone())?;
                CheckpointStore::new(&cfg.daemon.data_dir, &src.name).save(&cp)?;
            }
        }
        positions
    };
    for src in &cfg.sources {
        match src.kind {
            SourceKind::File => builder.source(Box::new(FileTailSource::new(src, &cfg)?))?,
            SourceKind::Websocket => builder.source(Box::new(WebsocketSource::new(src)?))?,
            SourceKind::Nats => builder.source(Box::new(NatsSource::new(
                src,
                &cfg,
                positions.get(&src.name),
            )?))?,
        }
    }
    match sim {
        Some(s) => builder.source(Box::new(s))?,
        None if cfg.sources.is_empty() => tracing::warn!(
            "no sources configured: push events to POST /api/v1/events (daemon.demo = true for the demo)"
        ),
        None => {}
    }
    // The schedule follows every agent state change (adherence is exact in event time).
    let transitions = builder.agent_transitions();
    let tz = jiff::tz::TimeZone::get(&cfg.timezone)?;
    let schedule: SharedSchedule = Arc::new(ScheduleService::new(&cfg, tz.clone()));
    if let Some(csv) = demo_schedule {
        let r = schedule.replace(csv.as_bytes(), "demo");
        tracing::info!(
            accepted = r.accepted,
            rejected = r.rejected,
            "demo schedule loaded"
        );
    }
    if !demo {
        // Adherence so far today survives a restart with the engine checkpoint.
        schedule.persist_state(
            &cfg.daemon.data_dir,
            builder.restored_checkpoint(),
            builder.checkpoint_acks(),
        );
    }
    // The schedule file is read now, not at the alert task's first poll: its teams
    // place agents from the first event of a backlog on.
    schedule.poll_file();
    {
        // Agents' and teams' `adherence_min` targets read the schedule's adherence today.
        let schedule = schedule.clone();
        builder.adherence_from(Arc::new(move || schedule.adherence()));
    }
    {
        // Agents the config does not place are in the schedule's team.
        let schedule = schedule.clone();
        builder.teams_from(Arc::new(move || schedule.planned_teams()));
    }
    let push_http = PushSource::new(builder.handle("http")?);
    let push_ws = PushSource::new(builder.handle("ws-ingest")?);
    let listener = tokio::net::TcpListener::bind(&cfg.daemon.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", cfg.daemon.listen))?;
    let addr = listener.local_addr()?;
    let mut signals = Signals::register()?;
    let daemon = builder.start(clock);
    if demo {
        tracing::info!(
            speed = args.speed,
            timezone = %cfg.timezone,
            "demo: a simulated contact center, opening now"
        );
    }
    tracing::info!(
        "listening on http://{addr}/ (API: http://{addr}/api/v1/snapshot, today's report: http://{addr}/api/v1/report?output=table, metrics: http://{addr}/metrics, health: http://{addr}/healthz)"
    );
    let origin = args
        .config
        .as_ref()
        .map_or_else(|| "<defaults>".to_string(), |p| p.display().to_string());
    let rules = cfg.alert_rules(&origin)?;
    let external_url = cfg
        .alerts
        .external_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    let (dispatcher, notify_stats, notify_tasks) = notify::start(
        &cfg.alerts.receivers,
        &rules,
        Context {
            external_url,
            time_zone: tz.clone(),
            link_tickets: (cfg.auth.link_tickets.ms() > 0)
                .then(|| Auth::new(cfg.auth.token.as_deref()))
                .filter(Auth::is_enabled)
                .map(|auth| (auth, cfg.auth.link_tickets.ms())),
        },
    )?;
    let alerts: SharedAlerts = Arc::new(std::sync::Mutex::new(AlertEngine::new(rules, tz)));
    // Firing alerts stay firing across a restart (no second page), as the schedule's
    // state does; the demo keeps neither.
    let state_file = (!demo).then(|| StateFile::in_dir(&cfg.daemon.data_dir));
    if let Some(f) = &state_file {
        let n = f.restore(&alerts);
        if n > 0 {
            tracing::info!(alerts = n, "alert states restored");
        }
    }
    let alert_task = ccpulse::alerts::spawn_with(
        daemon.published().clone(),
        alerts.clone(),
        AlertContext {
            schedule: Some(schedule.clone()),
            transitions: Some(transitions),
            // The push endpoints may stay idle: silent only once they delivered.
            idle_ok: vec!["http".into(), "ws-ingest".into()],
            state_file,
        },
        daemon.shutdown_signal(),
        dispatcher,
    );
    let live = http::Live {
        feed: FeedState::new(
            daemon.published().clone(),
            daemon.shutdown_signal(),
            FeedOptions::from_config(&cfg),
        )
        .with_alerts(alerts.clone()),
        ingest: Some(PushState {
            http: push_http,
            ws: push_ws,
            max_body_bytes: cfg.ingest.max_body_bytes,
            shutdown: daemon.shutdown_signal(),
        }),
        auth: Auth::new(cfg.auth.token.as_deref()),
        alerts: Some(alerts.clone()),
        schedule: Some(schedule.clone()),
    };
    let firing = alerts.clone();
    let gauge = live.feed.clients_gauge();
    let metrics =
        MetricsOptions::from_config(&cfg).with_feed_clients(std::sync::Arc::new(move || {
            gauge.load(std::sync::atomic::Ordering::Relaxed)
        }));
    let metrics = metrics
        .with_alerts(std::sync::Arc::new(move || {
            firing.lock().map(|a| a.firing_counts()).unwrap_or_default()
        }))
        .with_notifications(std::sync::Arc::new(move || notify_stats.totals()))
        .with_schedule(Arc::new(move || schedule.latest()));
    let app = http::app_with(daemon.published().clone(), live, metrics);
    let mut stop = daemon.shutdown_signal();
    let server = tokio::spawn(http::serve_app(
        listener,
        app,
        async move { stop.wait().await },
    ));
    let signal = signals.wait().await;
    tracing::info!("{signal}: shutting down");
    let engine = daemon.shutdown().await?;
    let _ = alert_task.await;
    // The alert task dropped the dispatcher: receivers deliver what is pending, within
    // a bound so a dead receiver cannot hold the shutdown.
    notify_tasks.join(NOTIFY_GRACE).await;
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!("http server: {e}"),
        Err(e) => tracing::warn!("http server task: {e}"),
    }
    tracing::info!(events = engine.stats().applied, "stopped cleanly");
    Ok(())
}

/// How long receivers may take to deliver pending notifications at shutdown.
const NOTIFY_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// SIGINT (Ctrl-C) and, on Unix, SIGTERM, registered before the daemon says it is up
/// so a signal sent right after that line is never missed.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn register() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Signals {})
        }
    }

    /// Waits for the first signal; returns its name.
    async fn wait(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

/// Without a config (the demo on someone's machine), the machine's own time zone, so days
/// and the wallboard's clock read local; UTC when it has no IANA name.
fn system_zone() -> String {
    jiff::tz::TimeZone::try_system()
        .ok()
        .and_then(|tz| tz.iana_name().map(str::to_string))
        .unwrap_or_else(|| "UTC".to_string())
}
