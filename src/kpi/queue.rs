//! Queue KPIs from a window's counters and histograms.

use super::{ratio, secs, QueueCounters, SlCounts, SlPreset};
use serde::Serialize;

/// Wait and handle-time percentiles of a window, in seconds (`None` when empty).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Percentiles {
    /// Median wait of answered contacts.
    pub wait_p50_seconds: Option<f64>,
    /// 90th percentile wait of answered contacts.
    pub wait_p90_seconds: Option<f64>,
    /// 99th percentile wait of answered contacts.
    pub wait_p99_seconds: Option<f64>,
    /// Median handle time.
    pub handle_p50_seconds: Option<f64>,
    /// 90th percentile handle time.
    pub handle_p90_seconds: Option<f64>,
    /// 99th percentile handle time.
    pub handle_p99_seconds: Option<f64>,
}

/// Every queue KPI of one window (the replay report's queue row, interfaces.md §3).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct QueueKpis {
    /// Contacts queued.
    pub arrived: u64,
    /// Answered.
    pub answered: u64,
    /// Answered with wait ≤ T.
    pub answered_within_sl: u64,
    /// Abandoned (not short).
    pub abandoned: u64,
    /// Abandoned with wait < S.
    pub short_abandoned: u64,
    /// Abandoned with S ≤ wait ≤ T.
    pub abandoned_within_sl: u64,
    /// Exited without answer or abandon.
    pub exited: u64,
    /// SL outcome met.
    pub sl_met: u64,
    /// SL outcome abandoned/exited within T.
    pub sl_abandoned_within: u64,
    /// SL outcome missed.
    pub sl_missed: u64,
    /// `sl_met + sl_abandoned_within + sl_missed`.
    pub sl_offered: u64,
    /// Service level under the queue's preset.
    pub service_level: Option<f64>,
    /// Average speed of answer.
    pub asa_seconds: Option<f64>,
    /// `abandoned / (answered + abandoned + exited)`.
    pub abandon_rate: Option<f64>,
    /// Handled contacts.
    pub handled: u64,
    /// Average handle time.
    pub aht_seconds: Option<f64>,
    /// Average talk time.
    pub avg_talk_seconds: Option<f64>,
    /// Average hold time.
    pub avg_hold_seconds: Option<f64>,
    /// Average after-contact work.
    pub avg_acw_seconds: Option<f64>,
    /// Handled contacts transferred.
    pub transferred: u64,
    /// `transferred / handled`.
    pub transfer_rate: Option<f64>,
    /// Average wait of abandoned contacts.
    pub avg_abandon_wait_seconds: Option<f64>,
    /// Contacts closed as orphans (no outcome or end).
    pub orphaned: u64,
    /// Percentiles (flattened into the row).
    #[serde(flatten)]
    pub percentiles: Percentiles,
}

impl QueueKpis {
    /// Computes the KPIs of a window from its counters and percentiles.
    pub fn compute(c: &QueueCounters, preset: SlPreset, percentiles: Percentiles) -> Self {
        let handled = c.handled as f64;
        QueueKpis {
            arrived: c.arrived,
            answered: c.answered,
            answered_within_sl: c.answered_within_sl,
            abandoned: c.abandoned,
            short_abandoned: c.short_abandoned,
            abandoned_within_sl: c.abandoned_within_sl,
            exited: c.exited,
            sl_met: c.sl_met,
            sl_abandoned_within: c.sl_abandoned_within,
            sl_missed: c.sl_missed,
            sl_offered: c.sl_offered(),
            service_level: preset.service_level(c),
            asa_seconds: ratio(secs(c.answered_wait_ms), c.answered as f64),
            abandon_rate: ratio(
                c.abandoned as f64,
                (c.answered + c.abandoned + c.exited) as f64,
            ),
            handled: c.handled,
            aht_seconds: ratio(secs(c.handle_ms), handled),
            avg_talk_seconds: ratio(secs(c.talk_ms), handled),
            avg_hold_seconds: ratio(secs(c.hold_ms), handled),
            avg_acw_seconds: ratio(secs(c.acw_ms), handled),
            transferred: c.transferred,
            transfer_rate: ratio(c.transferred as f64, handled),
            avg_abandon_wait_seconds: ratio(secs(c.abandoned_wait_ms), c.abandoned as f64),
            orphaned: c.orphaned,
            percentiles,
        }
    }
}

impl From<&QueueKpis> for SlCounts {
    fn from(k: &QueueKpis) -> Self {
        SlCounts {
            sl_met: k.sl_met,
            sl_abandoned_within: k.sl_abandoned_within,
            sl_offered: k.sl_offered,
            answered: k.answered,
            answered_within_sl: k.answered_within_sl,
            abandoned: k.abandoned,
            short_abandoned: k.short_abandoned,
            exited: k.exited,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_and_rates() {
        let c = QueueCounters {
            arrived: 10,
            answered: 4,
            abandoned: 2,
            exited: 2,
            handled: 4,
            transferred: 1,
            answered_wait_ms: 40_000,
            abandoned_wait_ms: 60_000,
            handle_ms: 800_000,
            talk_ms: 600_000,
            hold_ms: 40_000,
            acw_ms: 160_000,
            ..QueueCounters::default()
        };
        let k = QueueKpis::compute(&c, SlPreset::CiscoType2, Percentiles::default());
        assert_eq!(k.asa_seconds, Some(10.0));
        assert_eq!(k.abandon_rate, Some(0.25));
        assert_eq!(k.aht_seconds, Some(200.0));
        assert_eq!(k.avg_talk_seconds, Some(150.0));
        assert_eq!(k.avg_hold_seconds, Some(10.0));
        assert_eq!(k.avg_acw_seconds, Some(40.0));
        assert_eq!(k.transfer_rate, Some(0.25));
        assert_eq!(k.avg_abandon_wait_seconds, Some(30.0));
        assert_eq!(k.service_level, None);
    }

    #[test]
    fn empty_window_has_no_values() {
        let k = QueueKpis::compute(
            &QueueCounters::default(),
            SlPreset::CiscoType2,
            Percentiles::default(),
        );
        assert_eq!(k.asa_seconds, None);
        assert_eq!(k.abandon_rate, None);
        assert_eq!(k.aht_seconds, None);
        let json = serde_json::to_value(&k).expect("serialize");
        assert!(json["service_level"].is_null());
        assert!(json["wait_p90_seconds"].is_null());
    }
}
