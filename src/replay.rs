//! The replay pipeline shared by `ccpulse replay`, tests and benchmarks: readers →
//! decoders → engine → report, as fast as one core allows.

use crate::config::{Config, ConfigError};
use crate::decode::{decode_reader, AnyDecoder, DecodeStats, Format, FormatChoice};
use crate::engine::{Engine, EngineOptions};
use crate::model::{Millis, Name};
use crate::report::{InputCounts, Report};
use crate::schedule::adherence::AuxReasons;
use crate::schedule::ledger::{AgentLedger, Ledger};
use crate::schedule::Schedule;
use std::collections::HashMap;
use std::io::{self, BufRead};

/// Events between two takes of the engine's state changes into the schedule ledger
/// (the engine keeps up to 2^20 untaken changes; an event makes a few at most).
const TAKE_EVERY: u64 = 1 << 16;

/// Why a replay could not run (bad lines are counted, never errors).
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An input could not be read.
    #[error("{source_name}: {error}")]
    Io {
        /// Which input.
        source_name: String,
        /// The I/O error.
        error: io::Error,
    },
}

/// One input: a label for messages and a reader.
pub struct Input {
    /// File name or `stdin`.
    pub label: String,
    /// The bytes.
    pub reader: Box<dyn BufRead>,
}

/// A finished replay: the engine and the input accounting; [`Replayed::report`] views it.
pub struct Replayed {
    /// The engine, settled at the end of input.
    pub engine: Engine,
    /// Decoder counts (the engine adds its own when the report is made).
    pub input: InputCounts,
    /// The first event's time.
    pub first: Option<Millis>,
    /// With a schedule: adherence collected so far (until the report settles it).
    ledger: Option<Ledger>,
    /// With a schedule: each scheduled or adherent agent's adherence, once settled.
    adherence: Option<HashMap<String, AgentLedger>>,
}

impl Replayed {
    /// The report over the whole input.
    pub fn report(&mut self) -> Report<'_> {
        if let Some(ledger) = self.ledger.take() {
            self.adherence = Some(self.settle(ledger));
        }
        Report::new(
            &mut self.engine,
            self.input.clone(),
            self.first,
            self.adherence.as_ref(),
        )
    }

    /// Ends the engine's input, closes every agent's open state span at the watermark
    /// and adds the scheduled time over `[first event, watermark)`. Scheduled agents the
    /// input never named join the engine (logged out, no activity) so that the report
    /// lists them with their teams' targets: a no-show is what a team leader looks for.
    fn settle(&mut self, mut ledger: Ledger) -> HashMap<String, AgentLedger> {
        self.engine.finish();
        ledger.transitions(&self.engine.take_transitions());
        let (Some(from), Some(to)) = (self.first, self.engine.watermark()) else {
            return HashMap::new();
        };
        for (name, state, reason, since) in self.engine.agent_states() {
            ledger.span(name, since, to, state, reason.map(|r| r.as_str()));
        }
        let settled = ledger.finish(from, to);
        for name in settled.keys() {
            self.engine.agent_id(&Name::from(name.as_str()), to);
        }
        settled
    }
}

/// Replays `inputs` in order through one engine.
pub fn replay(
    inputs: Vec<Input>,
    cfg: &Config,
    choice: FormatChoice,
) -> Result<Replayed, ReplayError> {
    replay_scheduled(inputs, cfg, choice, None)
}

/// [`replay`] with the team's `schedule`: the report's agent rows then carry adherence
/// (and measure `adherence_min` targets) per interval and over the whole input.
pub fn replay_scheduled(
    inputs: Vec<Input>,
    cfg: &Config,
    choice: FormatChoice,
    schedule: Option<Schedule>,
) -> Result<Replayed, ReplayError> {
    let tz = jiff::tz::TimeZone::get(&cfg.timezone).map_err(|e| ConfigError {
        file: "<config>".into(),
        key: "timezone".into(),
        message: e.to_string(),
    })?;
    // Settle each input's format first: the SL grace depends on it.
    let sniffed = inputs
        .into_iter()
        .map(|i| sniff(i, choice))
        .collect::<Result<Vec<_>, _>>()?;
    let whole_seconds = sniffed.iter().any(|(_, f)| *f == Format::QueueLog);
    let opts = EngineOptions {
        sl_grace_ms: if whole_seconds { 1000 } else { 0 },
        keep_closed: true,
        rolling: false,
        lifetime: false,
        live_totals: false,
        report_days: 0,
    };
    let mut engine = Engine::new(cfg, opts)?;
    let mut ledger = schedule.map(|s| {
        // As in the daemon: agents the config does not place are in the schedule's team.
        let teams = s.teams();
        engine.set_planned_teams(
            teams.iter().map(|(a, t)| (a.as_str(), t.as_str())),
            Millis::MIN,
        );
        engine.record_transitions(true);
        let aux = AuxReasons::from_config(&cfg.schedule.aux_reasons);
        Ledger::new(s, aux, engine.calendar().clone())
    });
    let mut counts = InputCounts::default();
    let mut first: Option<Millis> = None;
    let mut pushed: u64 = 0;
    for (input, format) in sniffed {
        let decoder = AnyDecoder::new(format, tz.clone());
        let mut stats = DecodeStats::new(input.label.clone());
        decode_reader(input.reader, &decoder, &mut stats, |ev| {
            first = Some(first.map_or(ev.ts, |f: Millis| f.min(ev.ts)));
            // Late and duplicate events are counted by the engine.
            let _ = engine.push(ev);
            pushed += 1;
            if let Some(l) = ledger.as_mut().filter(|_| pushed % TAKE_EVERY == 0) {
                l.transitions(&engine.take_transitions());
            }
        })
        .map_err(|error| ReplayError::Io {
            source_name: input.label.clone(),
            error,
        })?;
        counts.lines += stats.lines();
        counts.events += stats.events();
        counts.rejected += stats.rejected();
        counts.unknown += stats.unknown();
    }
    Ok(Replayed {
        engine,
        input: counts,
        first,
        ledger,
        adherence: None,
    })
}

/// Decodes `inputs` without the engine (the baseline of the end-to-end benchmark).
pub fn decode_only(inputs: Vec<Input>, choice: FormatChoice) -> Result<InputCounts, ReplayError> {
    let mut counts = InputCounts::default();
    for input in inputs {
        let (input, format) = sniff(input, choice)?;
        let decoder = AnyDecoder::new(format, jiff::tz::TimeZone::UTC);
        let mut stats = DecodeStats::new(input.label.clone());
        // Every line is still decoded into its `Decoded` (the stats inspect it).
        decode_reader(input.reader, &decoder, &mut stats, drop).map_err(|error| {
            ReplayError::Io {
                source_name: input.label.clone(),
                error,
            }
        })?;
        counts.lines += stats.lines();
        counts.events += stats.events();
        counts.rejected += stats.rejected();
        counts.unknown += stats.unknown();
    }
    Ok(counts)
}

/// Resolves an input's format from its first buffered bytes (nothing is consumed).
fn sniff(mut input: Input, choice: FormatChoice) -> Result<(Input, Format), ReplayError> {
    match input.reader.fill_buf() {
        Ok(sample) => {
            let format = choice.resolve(sample);
            Ok((input, format))
        }
        Err(error) => Err(ReplayError::Io {
            source_name: input.label,
            error,
        }),
    }
}
