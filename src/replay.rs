//! The replay pipeline shared by `ccpulse replay`, tests and benchmarks: readers →
//! decoders → engine → report, as fast as one core allows.

use crate::config::{Config, ConfigError};
use crate::decode::{decode_reader, AnyDecoder, DecodeStats, Format, FormatChoice};
use crate::engine::{Engine, EngineOptions};
use crate::model::Millis;
use crate::report::{InputCounts, Report};
use std::io::{self, BufRead};

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
}

impl Replayed {
    /// The report over the whole input.
    pub fn report(&mut self) -> Report<'_> {
        Report::new(&mut self.engine, self.input.clone(), self.first)
    }
}

/// Replays `inputs` in order through one engine.
pub fn replay(
    inputs: Vec<Input>,
    cfg: &Config,
    choice: FormatChoice,
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
    };
    let mut engine = Engine::new(cfg, opts)?;
    let mut counts = InputCounts::default();
    let mut first: Option<Millis> = None;
    for (input, format) in sniffed {
        let decoder = AnyDecoder::new(format, tz.clone());
        let mut stats = DecodeStats::new(input.label.clone());
        decode_reader(input.reader, &decoder, &mut stats, |ev| {
            first = Some(first.map_or(ev.ts, |f: Millis| f.min(ev.ts)));
            // Late and duplicate events are counted by the engine.
            let _ = engine.push(ev);
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
