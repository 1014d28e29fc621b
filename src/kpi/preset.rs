//! Service-level formulas vendors disagree on, as named presets.

use super::{ratio, QueueCounters};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Which service-level formula to use (kpi-definitions §3). Written and read as its
/// name (`cisco_type2`, `genesys`, ...); a Genesys preset's switches come from the
/// queue's `sl_include_*` keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum SlPreset {
    /// Abandons within T are ignored: `met / (offered − abandoned_within)`.
    CiscoType1,
    /// Abandons within T count against (default): `met / offered`.
    #[default]
    CiscoType2,
    /// Abandons within T count for: `(met + abandoned_within) / offered`.
    CiscoType3,
    /// Amazon Connect's definition, the same as Cisco type 3.
    AmazonConnect,
    /// Asterisk `servicelevel`: `answered_within_sl / answered`.
    AnsweredOnly,
    /// Genesys Cloud: by queue outcome, `answered_within_sl / (answered + the outcomes
    /// its switches include)`; a caller still waiting counts nowhere yet.
    Genesys(GenesysSwitches),
}

/// Genesys Cloud's "Service Level Calculations Options": which unanswered outcomes the
/// denominator adds to the answered contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct GenesysSwitches {
    /// Abandons (`wait ≥ S`) count (Genesys "Include Abandons"; default on).
    pub abandons: bool,
    /// Short abandons count too, when abandons do ("Include Short Abandons"; default on).
    pub short_abandons: bool,
    /// Flow-outs (our `exited`: timeout, exit key, overflow, transfer out of the queue)
    /// count ("Include Flowouts"; default off).
    pub flowouts: bool,
}

impl GenesysSwitches {
    /// Abandons and short abandons in, flow-outs out.
    pub const DEFAULT: GenesysSwitches = GenesysSwitches {
        abandons: true,
        short_abandons: true,
        flowouts: false,
    };
}

impl Default for GenesysSwitches {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl SlPreset {
    /// Every preset (Genesys with its default switches).
    pub const ALL: [SlPreset; 6] = [
        SlPreset::CiscoType1,
        SlPreset::CiscoType2,
        SlPreset::CiscoType3,
        SlPreset::AmazonConnect,
        SlPreset::AnsweredOnly,
        SlPreset::Genesys(GenesysSwitches::DEFAULT),
    ];

    /// The config / CLI name.
    pub fn as_str(self) -> &'static str {
        match self {
            SlPreset::CiscoType1 => "cisco_type1",
            SlPreset::CiscoType2 => "cisco_type2",
            SlPreset::CiscoType3 => "cisco_type3",
            SlPreset::AmazonConnect => "amazon_connect",
            SlPreset::AnsweredOnly => "answered_only",
            SlPreset::Genesys(_) => "genesys",
        }
    }

    /// The service level of `c` under this preset; `None` with no offered contacts.
    pub fn service_level(self, c: &QueueCounters) -> Option<f64> {
        let (num, den) = self.fraction(&SlCounts::from(c));
        ratio(num as f64, den as f64)
    }

    /// The preset's numerator and denominator: contacts that met the service level and
    /// contacts it counts (a screen sums these over queues, each under its own rule).
    pub fn fraction(self, c: &SlCounts) -> (u64, u64) {
        let offered = c.sl_offered;
        match self {
            SlPreset::CiscoType1 => (c.sl_met, offered.saturating_sub(c.sl_abandoned_within)),
            SlPreset::CiscoType2 => (c.sl_met, offered),
            SlPreset::CiscoType3 | SlPreset::AmazonConnect => {
                (c.sl_met + c.sl_abandoned_within, offered)
            }
            SlPreset::AnsweredOnly => (c.answered_within_sl, c.answered),
            SlPreset::Genesys(g) => {
                let mut counted = c.answered;
                if g.abandons {
                    counted += c.abandoned;
                    if g.short_abandons {
                        counted += c.short_abandoned;
                    }
                }
                if g.flowouts {
                    counted += c.exited;
                }
                (c.answered_within_sl, counted)
            }
        }
    }
}

/// The counters some service-level preset reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlCounts {
    /// Answered within `T` (SL outcome decided at the answer).
    pub sl_met: u64,
    /// Abandoned or exited within `T`.
    pub sl_abandoned_within: u64,
    /// Contacts with an SL outcome.
    pub sl_offered: u64,
    /// Answered.
    pub answered: u64,
    /// Answered with `wait ≤ T`.
    pub answered_within_sl: u64,
    /// Abandoned, not short.
    pub abandoned: u64,
    /// Abandoned under `S`.
    pub short_abandoned: u64,
    /// Exited (flow-outs).
    pub exited: u64,
}

impl From<&QueueCounters> for SlCounts {
    fn from(c: &QueueCounters) -> Self {
        SlCounts {
            sl_met: c.sl_met,
            sl_abandoned_within: c.sl_abandoned_within,
            sl_offered: c.sl_offered(),
            answered: c.answered,
            answered_within_sl: c.answered_within_sl,
            abandoned: c.abandoned,
            short_abandoned: c.short_abandoned,
            exited: c.exited,
        }
    }
}

impl From<SlPreset> for &'static str {
    fn from(p: SlPreset) -> Self {
        p.as_str()
    }
}

impl TryFrom<String> for SlPreset {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl FromStr for SlPreset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SlPreset::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<_> = SlPreset::ALL.iter().map(|p| p.as_str()).collect();
                format!(
                    "unknown service-level preset `{s}` (one of {})",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for SlPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(met: u64, within: u64, missed: u64) -> QueueCounters {
        QueueCounters {
            sl_met: met,
            sl_abandoned_within: within,
            sl_missed: missed,
            ..QueueCounters::default()
        }
    }

    /// Cisco: 50 answered within T, 80 answered after, no abandons → 50/130 = 38.5 %.
    #[test]
    fn cisco_worked_example() {
        let c = QueueCounters {
            answered: 130,
            answered_within_sl: 50,
            ..counters(50, 0, 80)
        };
        let sl = SlPreset::CiscoType2.service_level(&c).expect("offered");
        assert!((sl - 50.0 / 130.0).abs() < 1e-12);
        assert_eq!(format!("{:.1}", sl * 100.0), "38.5");
        assert_eq!(SlPreset::AnsweredOnly.service_level(&c), Some(50.0 / 130.0));
    }

    /// Genesys-style: 400 contacts; 200 within T, 100 late, 50 short abandons, 50
    /// abandoned after T → excluding short abandons 200/350; counting all 200/400.
    #[test]
    fn genesys_worked_example() {
        let c = QueueCounters {
            arrived: 400,
            answered: 300,
            answered_within_sl: 200,
            abandoned: 50,
            short_abandoned: 50,
            ..counters(200, 0, 150)
        };
        let sl = SlPreset::CiscoType2.service_level(&c).expect("offered");
        assert!((sl - 200.0 / 350.0).abs() < 1e-12);
        assert_eq!(format!("{:.2}", sl * 100.0), "57.14");
        // Counting every abandon (short ones too) against: 200 / 400.
        let all = c.sl_met as f64 / (c.sl_offered() + c.short_abandoned) as f64;
        assert_eq!(all, 0.5);
        // The same through the `genesys` preset's switches.
        let genesys = |abandons, short_abandons| {
            SlPreset::Genesys(GenesysSwitches {
                abandons,
                short_abandons,
                flowouts: false,
            })
            .service_level(&c)
        };
        assert_eq!(genesys(true, true), Some(0.5), "every abandon counts");
        assert_eq!(
            genesys(true, false),
            Some(200.0 / 350.0),
            "short abandons out"
        );
        assert_eq!(genesys(false, true), Some(200.0 / 300.0), "answered only");
        assert_eq!(genesys(false, false), Some(200.0 / 300.0));
    }

    /// Genesys Cloud's formula, switch by switch: answered within T over answered, plus
    /// abandons (and short ones) when included, plus flow-outs when included.
    #[test]
    fn genesys_switches() {
        let c = QueueCounters {
            answered: 40,
            answered_within_sl: 30,
            abandoned: 6,
            short_abandoned: 3,
            exited: 11,
            // Cisco's time-of-threshold counters play no part.
            ..counters(1, 2, 3)
        };
        for abandons in [false, true] {
            for short_abandons in [false, true] {
                for flowouts in [false, true] {
                    let g = GenesysSwitches {
                        abandons,
                        short_abandons,
                        flowouts,
                    };
                    let mut offered = 40;
                    if abandons {
                        offered += 6;
                    }
                    if abandons && short_abandons {
                        offered += 3;
                    }
                    if flowouts {
                        offered += 11;
                    }
                    assert_eq!(
                        SlPreset::Genesys(g).service_level(&c),
                        Some(30.0 / f64::from(offered)),
                        "{g:?}"
                    );
                }
            }
        }
        assert_eq!(
            SlPreset::Genesys(GenesysSwitches::default()),
            "genesys".parse::<SlPreset>().expect("a preset"),
            "by name: abandons and short abandons in, flow-outs out"
        );
    }

    #[test]
    fn presets_differ_only_on_abandons_within() {
        let c = counters(60, 10, 30);
        assert_eq!(SlPreset::CiscoType1.service_level(&c), Some(60.0 / 90.0));
        assert_eq!(SlPreset::CiscoType2.service_level(&c), Some(0.6));
        assert_eq!(SlPreset::CiscoType3.service_level(&c), Some(0.7));
        assert_eq!(SlPreset::AmazonConnect.service_level(&c), Some(0.7));
    }

    #[test]
    fn zero_denominator_is_no_value() {
        let c = QueueCounters::default();
        for p in SlPreset::ALL {
            assert_eq!(p.service_level(&c), None, "{p}");
        }
        assert_eq!(SlPreset::CiscoType1.service_level(&counters(0, 5, 0)), None);
    }

    /// The fraction a screen sums is the preset's own: e.g. `answered_only` counts the
    /// answered contacts, not Cisco's offered ones.
    #[test]
    fn each_preset_gives_its_fraction() {
        let c = QueueCounters {
            answered: 40,
            answered_within_sl: 31,
            abandoned: 6,
            short_abandoned: 3,
            exited: 11,
            ..counters(29, 5, 12)
        };
        let n = SlCounts::from(&c);
        let want = [
            (SlPreset::CiscoType1, (29, 41)),
            (SlPreset::CiscoType2, (29, 46)),
            (SlPreset::CiscoType3, (34, 46)),
            (SlPreset::AmazonConnect, (34, 46)),
            (SlPreset::AnsweredOnly, (31, 40)),
            (SlPreset::Genesys(GenesysSwitches::default()), (31, 49)),
        ];
        for (p, (num, den)) in want {
            assert_eq!(p.fraction(&n), (num, den), "{p}");
            assert_eq!(p.service_level(&c), Some(num as f64 / den as f64), "{p}");
        }
    }

    #[test]
    fn names_round_trip() {
        for p in SlPreset::ALL {
            assert_eq!(p.as_str().parse::<SlPreset>(), Ok(p));
        }
        assert!("cisco".parse::<SlPreset>().is_err());
    }
}
