//! The HTTP API (interfaces.md §5): `GET /api/v1/snapshot`, `/api/v1/queues`,
//! `/api/v1/agents` (JSON from the latest snapshot, filtered with `?queues=a,b` and
//! `?teams=x`), `/healthz`, `/readyz`, a placeholder page at `/`, and `/metrics`
//! ([`super::metrics`]). [`app`] adds the
//! `/ws` feed ([`super::feed`]), push ingest ([`crate::sources::push`]) and `[auth]`.

use super::metrics::{self, MetricsOptions};
use crate::engine::{AgentSnapshot, QueueSnapshot, Snapshot, TeamSnapshot};
use crate::runtime::Published;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Builds the router over the daemon's published state (`/metrics` with default options).
pub fn router(state: Arc<Published>) -> Router {
    router_with(state, MetricsOptions::default())
}

/// Builds the router, with `/metrics` as `metrics` asks.
pub fn router_with(state: Arc<Published>, metrics: MetricsOptions) -> Router {
    base_router(state, metrics, None)
}

/// The read API; with alert rules, `/api/v1/snapshot` carries the active alerts too.
fn base_router(
    state: Arc<Published>,
    metrics: MetricsOptions,
    alerts: Option<crate::alerts::SharedAlerts>,
) -> Router {
    let metrics = metrics::router(state.clone(), metrics);
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/api/v1/queues", get(queues))
        .route("/api/v1/agents", get(agents))
        .with_state(state.clone())
        .route("/api/v1/snapshot", get(snapshot))
        .with_state((state, alerts))
        .merge(metrics)
}

/// What the full daemon serves besides the published state: the feed, push ingest,
/// the day report ([`super::report_api`]) and access control.
#[derive(Debug, Clone)]
pub struct Live {
    /// The `/ws` feed.
    pub feed: super::feed::FeedState,
    /// `POST /api/v1/events` and `GET /api/v1/ingest` (absent: not served).
    pub ingest: Option<crate::sources::push::PushState>,
    /// `[auth] token`.
    pub auth: super::auth::Auth,
    /// The built-in alert rules' state (absent: no alert routes).
    pub alerts: Option<crate::alerts::SharedAlerts>,
    /// The team schedule (absent: no schedule routes).
    pub schedule: Option<crate::schedule::SharedSchedule>,
}

/// The full daemon router: [`router`] plus the feed and ingest routes, behind `[auth]`.
pub fn app(state: Arc<Published>, live: Live) -> Router {
    app_with(state, live, MetricsOptions::default())
}

/// [`app`] with `/metrics` options from the config.
pub fn app_with(state: Arc<Published>, live: Live, metrics: MetricsOptions) -> Router {
    let board = live.feed.board();
    let mut r = base_router(state.clone(), metrics, live.alerts.clone())
        .merge(super::report_api::routes(state, live.schedule.clone()))
        .merge(super::feed::routes(live.feed))
        .merge(super::board::routes(board));
    if let Some(ingest) = live.ingest {
        r = r.merge(crate::sources::push::routes(ingest));
    }
    if let Some(alerts) = live.alerts {
        r = r.merge(super::alerts_api::routes(alerts));
    }
    if let Some(schedule) = live.schedule {
        r = r.merge(super::schedule_api::routes(schedule));
    }
    r.merge(super::auth::routes(live.auth.clone()))
        .layer(axum::middleware::from_fn_with_state(
            live.auth,
            super::auth::require_token,
        ))
}

/// Accepted connections with `TCP_NODELAY`: a feed frame's last segment leaves at once
/// instead of waiting for the client's (delayed) ACK of the previous ones.
fn no_delay(listener: TcpListener) -> impl axum::serve::Listener<Addr = std::net::SocketAddr> {
    use axum::serve::ListenerExt;
    listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!("TCP_NODELAY not set: {e}");
        }
    })
}

/// Serves a router (e.g. [`app`]) like [`serve`].
pub async fn serve_app<F>(listener: TcpListener, app: Router, shutdown: F) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(no_delay(listener), app)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves the API on a bound listener until `shutdown` completes, then finishes the
/// requests in flight. Binding is the caller's (tests bind 127.0.0.1:0).
pub async fn serve<F>(
    listener: TcpListener,
    state: Arc<Published>,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    serve_router(listener, router(state), shutdown).await
}

/// Serves a router built with [`router_with`] (or extended) like [`serve`].
pub async fn serve_router<F>(
    listener: TcpListener,
    router: Router,
    shutdown: F,
) -> std::io::Result<()>
where
    F: Future<Output = ()> + Send + 'static,
{
    axum::serve(no_delay(listener), router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// `?queues=a,b&teams=x`: comma-separated names; absent means all.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Filter {
    /// Queue names.
    pub queues: Option<String>,
    /// Team names.
    pub teams: Option<String>,
    /// Feed frames only: `full` for the whole API snapshot (default: the board view).
    pub detail: Option<String>,
    /// Feed frames only: `false` for a `snapshot` every tick instead of `delta` frames.
    pub delta: Option<String>,
}

#[derive(Clone)]
struct Names(Option<Vec<String>>);

impl Names {
    fn parse(list: Option<&str>) -> Self {
        Names(super::name_list(list).map(|l| l.into_iter().map(str::to_string).collect()))
    }

    fn allows(&self, name: &str) -> bool {
        self.0.as_ref().is_none_or(|l| l.iter().any(|n| n == name))
    }

    fn allows_any<'a>(&self, mut names: impl Iterator<Item = &'a str>) -> bool {
        self.0.is_none() || names.any(|n| self.allows(n))
    }

    fn is_all(&self) -> bool {
        self.0.is_none()
    }

    /// The names listed, `None` for all.
    fn list(&self) -> Option<&[String]> {
        self.0.as_deref()
    }
}

#[derive(Clone)]
pub(crate) struct Selection {
    queues: Names,
    teams: Names,
}

impl Selection {
    pub(crate) fn new(f: &Filter) -> Self {
        Selection {
            queues: Names::parse(f.queues.as_deref()),
            teams: Names::parse(f.teams.as_deref()),
        }
    }

    pub(crate) fn queue(&self, q: &QueueSnapshot) -> bool {
        self.queues.allows(&q.queue)
    }

    pub(crate) fn team(&self, t: &TeamSnapshot) -> bool {
        self.teams.allows(&t.team)
    }

    /// A queue by name (alerts scoped to a queue).
    pub(crate) fn queue_name(&self, name: &str) -> bool {
        self.queues.allows(name)
    }

    /// A team by name (alerts scoped to a team).
    pub(crate) fn team_name(&self, name: &str) -> bool {
        self.teams.allows(name)
    }

    /// An agent passes when it serves one of the queues and belongs to one of the teams.
    pub(crate) fn agent(&self, a: &AgentSnapshot) -> bool {
        self.agent_queues(a)
            && (self.teams.is_all() || a.team.as_deref().is_some_and(|t| self.teams.allows(t)))
    }

    /// The agents that pass, in snapshot order. With a team list only those teams'
    /// agents are looked at (a team screen does not walk the whole floor).
    pub(crate) fn agents<'a>(&self, s: &'a Snapshot) -> Vec<&'a AgentSnapshot> {
        match self.teams.list() {
            Some(teams) => {
                let mut found: Vec<&AgentSnapshot> = teams
                    .iter()
                    .flat_map(|t| s.team_agents(t))
                    .filter(|a| self.agent(a))
                    .collect();
                if teams.len() > 1 {
                    found.sort_by(|a, b| a.agent.cmp(&b.agent));
                    found.dedup_by(|a, b| std::ptr::eq(*a, *b));
                }
                found
            }
            None => s.agents.iter().filter(|a| self.agent(a)).collect(),
        }
    }

    /// The queue half of [`Selection::agent`]: it serves one of the queues.
    pub(crate) fn agent_queues(&self, a: &AgentSnapshot) -> bool {
        self.queues.allows_any(a.queues.iter().map(String::as_str))
    }
}

/// The snapshot, filtered, borrowing from the published `Arc<Snapshot>`.
#[derive(Serialize)]
struct SnapshotView<'a, E: Serialize> {
    v: u32,
    watermark: &'a Option<String>,
    watermark_ms: Option<i64>,
    interval_start: &'a Option<String>,
    day_start: &'a Option<String>,
    time_zone: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    queues: Option<Vec<&'a QueueSnapshot>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    teams: Option<Vec<&'a TeamSnapshot>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    agents: Option<Vec<&'a AgentSnapshot>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    engine: Option<&'a E>,
    /// Pending and firing alerts (`/api/v1/snapshot` when alert rules run).
    #[serde(skip_serializing_if = "Option::is_none")]
    alerts: Option<Vec<crate::alerts::AlertView>>,
}

#[derive(Clone, Copy)]
struct Parts {
    queues: bool,
    teams: bool,
    agents: bool,
    engine: bool,
}

fn view<'a>(
    s: &'a Snapshot,
    sel: &Selection,
    parts: Parts,
) -> SnapshotView<'a, impl Serialize + 'a> {
    SnapshotView {
        v: s.v,
        watermark: &s.watermark,
        watermark_ms: s.watermark_ms,
        interval_start: &s.interval_start,
        day_start: &s.day_start,
        time_zone: &s.time_zone,
        queues: parts
            .queues
            .then(|| s.queues.iter().filter(|q| sel.queue(q)).collect()),
        teams: parts
            .teams
            .then(|| s.teams.iter().filter(|t| sel.team(t)).collect()),
        agents: parts.agents.then(|| sel.agents(s)),
        engine: parts.engine.then_some(&s.engine),
        alerts: None,
    }
}

fn not_ready() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::RETRY_AFTER, "1")],
        Json(serde_json::json!({ "error": "no snapshot yet" })),
    )
        .into_response()
}

fn json_view(state: &Published, filter: &Filter, parts: Parts) -> Response {
    json_view_with(state, filter, parts, None)
}

/// [`json_view`] carrying `alerts` too.
fn json_view_with(
    state: &Published,
    filter: &Filter,
    parts: Parts,
    alerts: Option<Vec<crate::alerts::AlertView>>,
) -> Response {
    let Some(snap) = state.latest() else {
        return not_ready();
    };
    let sel = Selection::new(filter);
    let mut body = view(&snap, &sel, parts);
    body.alerts = alerts;
    ([(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

async fn snapshot(
    State((state, alerts)): State<(Arc<Published>, Option<crate::alerts::SharedAlerts>)>,
    Query(f): Query<Filter>,
) -> Response {
    let parts = Parts {
        queues: true,
        teams: true,
        agents: true,
        engine: true,
    };
    // With alert rules, the snapshot carries the pending and firing alerts.
    let active = match alerts.as_ref().map(|a| a.lock().map(|a| a.active()).ok()) {
        Some(None) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        active => active.flatten(),
    };
    json_view_with(&state, &f, parts, active)
}

async fn queues(State(state): State<Arc<Published>>, Query(f): Query<Filter>) -> Response {
    let parts = Parts {
        queues: true,
        teams: false,
        agents: false,
        engine: false,
    };
    json_view(&state, &f, parts)
}

async fn agents(State(state): State<Arc<Published>>, Query(f): Query<Filter>) -> Response {
    let parts = Parts {
        queues: false,
        teams: false,
        agents: true,
        engine: false,
    };
    json_view(&state, &f, parts)
}

async fn healthz() -> &'static str {
    "ok\n"
}

#[derive(Serialize)]
struct SourceView<'a> {
    source: &'a str,
    up: bool,
    events: u64,
    refused: u64,
}

async fn readyz(State(state): State<Arc<Published>>) -> Response {
    let ready = state.is_ready();
    let body = serde_json::json!({
        "ready": ready,
        "snapshot": state.latest().is_some(),
        "sources": state
            .sources()
            .iter()
            .map(|s| SourceView { source: s.name(), up: s.is_up(), events: s.events(), refused: s.refused() })
            .collect::<Vec<_>>(),
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body)).into_response()
}

async fn index() -> Html<&'static str> {
    Html(INDEX)
}

/// The built-in wallboard (assets/wallboard.html): one self-contained page, no CDN, no
/// build step; it reads the `/ws` feed.
const INDEX: &str = include_str!("../../assets/wallboard.html");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::engine::{Engine, EngineOptions};
    use crate::sim::SimConfig;

    /// A simulated floor: 6 queues, 60 agents in teams, ten minutes.
    fn snapshot() -> Snapshot {
        let cfg = Config::default();
        let mut engine = Engine::new(&cfg, EngineOptions::default()).expect("engine");
        let mut sim = SimConfig::scaled(6, 60, 3);
        sim.duration_ms = 600_000;
        crate::sim::run_through(&mut engine, &sim).expect("sim");
        engine.snapshot()
    }

    #[test]
    fn agents_through_the_team_index_are_the_agents_a_full_walk_selects() {
        let s = snapshot();
        let t: Vec<&str> = s.teams.iter().map(|t| t.team.as_str()).collect();
        assert!(t.len() >= 2, "the simulator makes teams");
        let q = s.agents[0].queues.join(",");
        let filters = [
            (None, None),
            (Some(t[0].to_string()), None),
            (Some(format!("{},{}", t[1], t[0])), None),
            (Some(format!("{0},{0}", t[0])), None),
            (Some("no-such-team".to_string()), None),
            (Some(t[0].to_string()), Some(q.clone())),
            (None, Some(q)),
        ];
        for (teams, queues) in filters {
            let sel = Selection::new(&Filter {
                queues: queues.clone(),
                teams: teams.clone(),
                detail: None,
                delta: None,
            });
            let walked: Vec<&str> = s
                .agents
                .iter()
                .filter(|a| sel.agent(a))
                .map(|a| a.agent.as_str())
                .collect();
            let indexed: Vec<&str> = sel.agents(&s).iter().map(|a| a.agent.as_str()).collect();
            assert_eq!(indexed, walked, "teams {teams:?} queues {queues:?}");
            if teams.as_deref().is_some_and(|x| x != "no-such-team") {
                assert!(!indexed.is_empty(), "teams {teams:?} selects agents");
            }
        }
    }
}
