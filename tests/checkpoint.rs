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

/// An engine under [`config`] that took the first `n` events.
fn engine_after(n: usize) -> Engine {
    let mut e = Engine::new(&config(), opts()).expect("engine");
    for ev in events().into_iter().take(n) {
        let _ = e.push(ev);
    }
    e
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
    let e = engine_after(500);
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

/// The daemon's checkpoint file: the engine, each source's position and the checkpoint
/// id come back as saved; a damaged or foreign file is refused with its path.
#[test]
fn checkpoint_files_round_trip_and_refuse_damage() {
    use ccpulse::runtime::{EngineStore, PersistError, Positions};
    let cfg = config();
    let mut e = engine_after(3000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = EngineStore::new(dir.path());
    assert!(store.load(&cfg, opts()).expect("no file yet").is_none());
    let mut positions = Positions::new();
    positions.insert(
        "log".into(),
        serde_json::json!({"offset": 1234, "fp": "ab"}),
    );
    positions.insert("bus".into(), serde_json::json!(42));
    store
        .stage(&e, &positions, 7)
        .expect("stage")
        .commit()
        .expect("commit");
    let mut restored = store.load(&cfg, opts()).expect("load").expect("saved");
    assert_eq!(restored.id, Some(7));
    assert_eq!(restored.positions, positions);
    assert_eq!(view(&mut restored.engine), view(&mut e));

    let text = std::fs::read_to_string(store.path()).expect("read");
    let refused = |content: &str| {
        std::fs::write(store.path(), content).expect("write");
        store.load(&cfg, opts()).expect_err("refused")
    };
    for damaged in [
        "{not json".to_string(),
        text[..text.len() / 2].to_string(),
        text.replacen("{\"v\":1,", "{\"v\":2,", 1),
        text.replacen("{\"v\":1,", "{\"v\":\"1\",", 1),
        "{\"v\":1,\"positions\":{}}".to_string(),
        "[1,2]".to_string(),
    ] {
        let err = refused(&damaged);
        assert!(matches!(err, PersistError::Invalid { .. }), "{err}");
        assert!(
            err.to_string()
                .contains(&store.path().display().to_string()),
            "{err}"
        );
    }
    assert!(refused(&text.replacen("{\"v\":1,", "{\"v\":2,", 1))
        .to_string()
        .contains("expected \"v\": 1"));
    let current = format!("\"version\":{}", ccpulse::engine::CHECKPOINT_VERSION);
    let err = refused(&text.replacen(&current, "\"version\":999", 1));
    assert!(
        matches!(
            err,
            PersistError::Engine {
                error: CheckpointError::Version { found: 999 },
                ..
            }
        ),
        "{err}"
    );
    // An old file without an id still loads.
    std::fs::write(store.path(), text.replacen(",\"id\":7", "", 1)).expect("write");
    let old = store.load(&cfg, opts()).expect("load").expect("saved");
    assert_eq!(old.id, None);
    assert_eq!(old.positions, positions);
}
