//! Restart without loss at the engine level: checkpoint mid-stream, restore, continue —
//! every number equals an uninterrupted run.

use ccpulse::config::{Config, Duration};
use ccpulse::engine::{CheckpointError, Engine, EngineOptions};
use ccpulse::model::Event;
use ccpulse::sim::{SimConfig, Simulator};

fn events() -> Vec<Event> {
    let mut cfg = SimConfig::demo(11);
    cfg.start = 1_795_852_800_000; // 2026-11-28T08:00:00Z
    cfg.duration_ms = 6 * 3_600_000;
    Simulator::new(&cfg).expect("demo config").collect()
}

fn opts() -> EngineOptions {
    EngineOptions {
        sl_grace_ms: 0,
        keep_closed: true,
        rolling: true,
        lifetime: true,
        live_totals: true,
        report_days: 0,
    }
}

fn config() -> Config {
    let mut c = Config {
        timezone: "Europe/Berlin".into(),
        ..Config::default()
    };
    c.defaults.wrap_up = Some(Duration::secs(5));
    c
}

/// Everything a reader sees, plus closed interval rows, as JSON for comparison.
fn view(e: &mut Engine) -> serde_json::Value {
    let snap = serde_json::to_value(e.snapshot()).expect("snapshot json");
    let rows: Vec<_> = e
        .queues()
        .map(|(n, _, tl)| {
            (
                n.to_string(),
                format!("{:?}", tl.closed),
                format!("{:?}", tl.totals.c),
            )
        })
        .collect();
    serde_json::json!({ "snapshot": snap, "rows": rows })
}

#[test]
fn restored_engine_continues_exactly() {
    let evs = events();
    assert!(evs.len() > 1000, "a real day of events");
    let cfg = config();
    for split in [evs.len() / 5, evs.len() / 2, evs.len() * 4 / 5] {
        let mut whole = Engine::new(&cfg, opts()).expect("engine");
        let mut first = Engine::new(&cfg, opts()).expect("engine");
        for ev in &evs[..split] {
            let _ = whole.push(ev.clone());
            let _ = first.push(ev.clone());
        }
        let bytes = first.checkpoint().expect("checkpoint");
        drop(first);
        let mut resumed = Engine::restore(&cfg, opts(), &bytes).expect("restore");
        assert_eq!(
            view(&mut resumed),
            view(&mut whole),
            "identical right after restore (split {split})"
        );
        for ev in &evs[split..] {
            let _ = whole.push(ev.clone());
            let _ = resumed.push(ev.clone());
        }
        let end = evs.last().map(|e| e.ts).unwrap_or(0) + 3_600_000;
        whole.advance_to(end);
        resumed.advance_to(end);
        assert_eq!(
            view(&mut resumed),
            view(&mut whole),
            "identical at the end (split {split})"
        );
        whole.finish();
        resumed.finish();
        whole.close_all();
        resumed.close_all();
        assert_eq!(
            view(&mut resumed),
            view(&mut whole),
            "identical reports (split {split})"
        );
    }
}

#[test]
fn incompatible_or_damaged_checkpoints_are_refused() {
    let cfg = config();
    let mut e = Engine::new(&cfg, opts()).expect("engine");
    for ev in events().into_iter().take(500) {
        let _ = e.push(ev);
    }
    let bytes = e.checkpoint().expect("checkpoint");
    let mut other = cfg.clone();
    other.interval = Duration::mins(30);
    assert!(matches!(
        Engine::restore(&other, opts(), &bytes),
        Err(CheckpointError::Incompatible {
            key: "interval",
            ..
        })
    ));
    assert!(matches!(
        Engine::restore(&cfg, opts(), b"{not json"),
        Err(CheckpointError::Corrupt(_))
    ));
    let current = format!("\"version\":{}", ccpulse::engine::CHECKPOINT_VERSION);
    let next = format!("\"version\":{}", ccpulse::engine::CHECKPOINT_VERSION + 1);
    let other = String::from_utf8_lossy(&bytes).replacen(&current, &next, 1);
    assert!(matches!(
        Engine::restore(&cfg, opts(), other.as_bytes()),
        Err(CheckpointError::Version { found }) if found == ccpulse::engine::CHECKPOINT_VERSION + 1
    ));
    // Queue settings come from the config in force, not from the checkpoint.
    let mut changed = cfg.clone();
    changed.defaults.sl_target = Some(0.9);
    let restored = Engine::restore(&changed, opts(), &bytes).expect("compatible change");
    assert!(restored.queues().all(|(_, p, _)| p.sl_target == 0.9));
}
