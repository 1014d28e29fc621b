//! Microsoft Teams through a Workflows ("When a Teams webhook request is received")
//! webhook: a message with one Adaptive Card 1.4 attachment.

use super::{board_filter, Context, GroupMessage, Status};
use serde_json::{json, Value};

/// Alerts shown on the card; the rest are counted.
const MAX_ALERTS: usize = 20;

/// The Teams message for a group.
pub fn payload(msg: &GroupMessage<'_>, ctx: &Context) -> Value {
    let color = match msg.status() {
        Status::Firing => "Attention",
        Status::Resolved => "Good",
    };
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": msg.title(),
        "weight": "Bolder",
        "size": "Medium",
        "color": color,
        "wrap": true
    })];
    for a in msg.alerts.iter().take(MAX_ALERTS) {
        let mut facts = vec![
            json!({ "title": "Status", "value": a.status.as_str() }),
            json!({ "title": "Severity", "value": a.labels.get("severity").map_or("", String::as_str) }),
        ];
        if let Some((k, v)) = a.scope() {
            facts.push(json!({ "title": k, "value": v }));
        }
        facts.push(json!({ "title": "Since", "value": ctx.clock(a.starts_at_ms) }));
        if let (Status::Resolved, Some(end)) = (a.status, a.ends_at_ms) {
            facts.push(json!({ "title": "Resolved", "value": ctx.clock(end) }));
        }
        let mut items = vec![json!({
            "type": "TextBlock",
            "text": a.annotation("summary"),
            "weight": "Bolder",
            "wrap": true
        })];
        let description = a.annotation("description");
        if !description.is_empty() {
            items.push(json!({
                "type": "TextBlock", "text": description, "isSubtle": true, "wrap": true
            }));
        }
        items.push(json!({ "type": "FactSet", "facts": facts }));
        let mut links = format!("[Open the board]({})", ctx.board_url(a));
        if let Some(ack) = ctx.ack_url(a) {
            links.push_str(&format!(" · [Acknowledge]({ack})"));
        }
        items.push(json!({ "type": "TextBlock", "text": links, "wrap": true }));
        body.push(json!({ "type": "Container", "separator": true, "items": items }));
    }
    let more = msg.alerts.len().saturating_sub(MAX_ALERTS);
    if more > 0 {
        body.push(json!({
            "type": "TextBlock", "text": format!("and {more} more"), "isSubtle": true
        }));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "msteams": { "width": "Full" },
                "body": body,
                "actions": [{
                    "type": "Action.OpenUrl",
                    "title": "Open ccpulse",
                    "url": action_url(msg, ctx)
                }]
            }
        }]
    })
}

/// The card's button: the board of the group's queue or team when its alerts share one,
/// else the whole floor. (Filters are compared, not URLs: each URL carries its own
/// freshly minted ticket under a token.)
fn action_url(msg: &GroupMessage<'_>, ctx: &Context) -> String {
    let mut filters = msg.alerts.iter().map(|a| board_filter(a));
    let shared = match filters.next() {
        Some(first) if filters.all(|f| f == first) => first,
        _ => None,
    };
    ctx.board_url_with(shared)
}
