//! Slack incoming webhooks: a `text` fallback (notifications, old clients) and Block Kit
//! `blocks` (a header, one section per alert, a context line).

use super::{Context, GroupMessage, Status};
use serde_json::{json, Value};

/// Alerts shown as their own section; the rest are counted (Slack allows 50 blocks).
const MAX_ALERTS: usize = 20;

/// Slack's mrkdwn escaping (`&`, `<`, `>`).
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The Slack message for a group.
pub fn payload(msg: &GroupMessage<'_>, ctx: &Context) -> Value {
    let title = msg.title();
    let mut text = title.clone();
    let mut blocks = vec![json!({
        "type": "header",
        "text": { "type": "plain_text", "text": cut(&title, 150), "emoji": true }
    })];
    for a in msg.alerts.iter().take(MAX_ALERTS) {
        let mark = match a.status {
            Status::Firing => ":red_circle:",
            Status::Resolved => ":large_green_circle:",
        };
        let scope = a
            .scope()
            .map(|(k, v)| format!(" · {k} *{}*", esc(v)))
            .unwrap_or_default();
        let severity = a.labels.get("severity").map_or("", String::as_str);
        let mut body = format!(
            "{mark} *{}*{scope} · {} · {}\n{}",
            esc(a.alertname()),
            a.status.as_str(),
            esc(severity),
            esc(a.annotation("summary"))
        );
        let description = a.annotation("description");
        if !description.is_empty() {
            body.push('\n');
            body.push_str(&esc(description));
        }
        // When, on the floor's clock, and the board showing its queue or team.
        let when = match (a.status, a.ends_at_ms) {
            (Status::Resolved, Some(end)) => {
                format!("{} – {}", ctx.clock(a.starts_at_ms), ctx.clock(end))
            }
            _ => format!("since {}", ctx.clock(a.starts_at_ms)),
        };
        // Links in mrkdwn escape `&`, `<` and `>` as text does.
        body.push_str(&format!(
            "\n{when} · <{}|open the board>",
            esc(&ctx.board_url(a))
        ));
        if let Some(ack) = ctx.ack_url(a) {
            body.push_str(&format!(" · <{}|acknowledge>", esc(&ack)));
        }
        text.push_str(&format!("\n• {}", a.annotation("summary")));
        blocks.push(json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": cut(&body, 3000) }
        }));
    }
    let more = msg.alerts.len().saturating_sub(MAX_ALERTS);
    let mut context = format!("<{}|ccpulse>", ctx.external_url);
    if more > 0 {
        context.push_str(&format!(" · and {more} more"));
    }
    blocks.push(json!({
        "type": "context",
        "elements": [ { "type": "mrkdwn", "text": context } ]
    }));
    json!({ "text": cut(&text, 3000), "blocks": blocks })
}
