//! `GET /api/v1/report`: the interval report (interfaces.md §3, the same JSON, CSV or
//! table as `ccpulse replay`) of one local day of the live engine — for sources that
//! push their events and leave no log to replay. `?date=YYYY-MM-DD`, `today` (default,
//! in event time) or `yesterday`; or `?week=this|last|YYYY-MM-DD`, the weekly report
//! (one row per local day, as `replay --interval 24h` of the week); `?output=json|csv|table`,
//! `?queues=a,b` and `?teams=A` as elsewhere.
//! With a schedule, the agent rows of every kept day carry adherence (and
//! scheduled no-shows a row).

use crate::engine::{DayCut, DayCutError, DaySpec, ReportSpan, WeekSpec};
use crate::report::{OutputFormat, Report};
use crate::runtime::Published;
use crate::schedule::{DayLedger, SharedSchedule};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use std::sync::Arc;

/// The report route; with the schedule, every kept day's report carries adherence.
pub fn routes(state: Arc<Published>, schedule: Option<SharedSchedule>) -> Router {
    Router::new()
        .route("/api/v1/report", get(report))
        .with_state((state, schedule))
}

/// `GET /api/v1/report` parameters.
#[derive(Debug, Default, serde::Deserialize)]
struct ReportQuery {
    /// The local day: `YYYY-MM-DD`, `today` (default) or `yesterday`.
    date: Option<String>,
    /// The local week (Monday to Sunday), one row per day: `this`, `last` or a date in it.
    week: Option<String>,
    /// `json` (default), `csv` or `table`.
    output: Option<String>,
    /// Comma-separated queue names (default: all).
    queues: Option<String>,
    /// Comma-separated team names: their agents only (default: all agents).
    teams: Option<String>,
}

fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (
        status,
        Json(serde_json::json!({ "error": message.to_string() })),
    )
        .into_response()
}

async fn report(
    State((state, schedule)): State<(Arc<Published>, Option<SharedSchedule>)>,
    Query(q): Query<ReportQuery>,
) -> Response {
    let span = match span_of(&q) {
        Ok(span) => span,
        Err(message) => return error(StatusCode::BAD_REQUEST, message),
    };
    let format = match q.output.as_deref().unwrap_or("json") {
        "json" => OutputFormat::Json,
        "csv" => OutputFormat::Csv,
        "table" => OutputFormat::Table,
        other => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("output={other}: expected json, csv or table"),
            )
        }
    };
    let mut cut = match state.report_cut(span).await {
        None => return error(StatusCode::SERVICE_UNAVAILABLE, "the engine has stopped"),
        Some(Err(
            e @ (DayCutError::Off | DayCutError::NotKept { .. } | DayCutError::WeekNotKept { .. }),
        )) => return error(StatusCode::NOT_FOUND, e),
        Some(Err(e @ DayCutError::NoToday)) => return error(StatusCode::SERVICE_UNAVAILABLE, e),
        Some(Ok(cut)) => cut,
    };
    let download = (format == OutputFormat::Csv).then(|| download_name(&cut, span));
    // Adherence (today's or yesterday's) and writing the rows are CPU work: off the async workers.
    let written = tokio::task::spawn_blocking(move || {
        let ledger = schedule.and_then(|s| match span {
            ReportSpan::Day(_) => s.day_ledger(&cut.intervals, cut.day, cut.closed_to),
            ReportSpan::Week(_) => s.week_ledger(&cut.intervals, &days_of(&cut), cut.closed_to),
        });
        if let Some(l) = &ledger {
            add_unseen(&mut cut, l);
        }
        select(&mut cut, &q);
        let mut out = Vec::new();
        Report::of_day(&cut, ledger.as_ref().map(|l| &l.agents))
            .write(format, &mut out)
            .map(|()| out)
    })
    .await;
    let body = match written {
        Ok(Ok(body)) => body,
        Ok(Err(e)) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e),
    };
    let content_type = match format {
        OutputFormat::Json => "application/json",
        OutputFormat::Csv => "text/csv; charset=utf-8",
        OutputFormat::Table => "text/plain; charset=utf-8",
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    // A spreadsheet gets a file named after the day or week rather than `report`.
    if let Some(value) = download
        .and_then(|n| header::HeaderValue::from_str(&format!("attachment; filename=\"{n}\"")).ok())
    {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// The CSV file's name: `ccpulse-day-2026-12-07.csv`, or for a week its Monday's date,
/// `ccpulse-week-2026-11-30.csv` (local dates of the report's time zone).
fn download_name(cut: &DayCut, span: ReportSpan) -> String {
    let date = cut.calendar.date(cut.day.0);
    let kind = match span {
        ReportSpan::Day(_) => "day",
        ReportSpan::Week(_) => "week",
    };
    format!("ccpulse-{kind}-{date}.csv")
}

/// The report's span from `?date=` or `?week=` (not both); today by default.
fn span_of(q: &ReportQuery) -> Result<ReportSpan, String> {
    let date = |d: &str, key: &str, expected: &str| {
        d.parse::<jiff::civil::Date>()
            .map_err(|e| format!("{key}={d}: expected {expected}: {e}"))
    };
    match (q.date.as_deref(), q.week.as_deref()) {
        (Some(_), Some(_)) => Err("date= and week= cannot both be given".to_string()),
        (_, Some("this" | "")) => Ok(ReportSpan::Week(WeekSpec::This)),
        (_, Some("last")) => Ok(ReportSpan::Week(WeekSpec::Last)),
        (_, Some(w)) => {
            date(w, "week", "this, last or YYYY-MM-DD").map(|d| ReportSpan::Week(WeekSpec::Of(d)))
        }
        (None | Some("today" | ""), None) => Ok(ReportSpan::Day(DaySpec::Today)),
        (Some("yesterday"), None) => Ok(ReportSpan::Day(DaySpec::Yesterday)),
        (Some(d), None) => date(d, "date", "YYYY-MM-DD, today or yesterday")
            .map(|d| ReportSpan::Day(DaySpec::Date(d))),
    }
}

/// The local days of a week's cut, up to its end or the watermark.
fn days_of(cut: &DayCut) -> Vec<(i64, i64)> {
    let mut days = Vec::new();
    let mut t = cut.day.0;
    let end = cut.to.unwrap_or(cut.day.1).min(cut.day.1);
    while t < cut.day.1 && (t < end || days.is_empty()) {
        let day = cut.intervals.day(t);
        days.push(day);
        t = day.1;
    }
    days
}

/// Adds the scheduled agents the engine has not seen that day (no-shows), in order.
fn add_unseen(cut: &mut DayCut, ledger: &DayLedger) {
    let unseen: Vec<_> = ledger
        .agents
        .keys()
        .filter(|a| cut.agents.iter().all(|c| c.name.as_str() != a.as_str()))
        .map(|a| cut.unseen_agent(a, ledger.plan_teams.get(a).map(String::as_str)))
        .collect();
    cut.agents.extend(unseen);
    cut.agents.sort_by(|a, b| a.name.cmp(&b.name));
}

/// Keeps the queues, the teams and the teams' agents the query names.
fn select(cut: &mut DayCut, q: &ReportQuery) {
    if let Some(queues) = super::name_list(q.queues.as_deref()) {
        cut.queues.retain(|c| queues.contains(&c.name.as_str()));
    }
    if let Some(teams) = super::name_list(q.teams.as_deref()) {
        cut.teams.retain(|c| teams.contains(&c.name.as_str()));
        cut.agents
            .retain(|c| c.team.as_ref().is_some_and(|t| teams.contains(&t.as_str())));
    }
}
