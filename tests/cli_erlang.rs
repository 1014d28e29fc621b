//! `ccpulse erlang` end to end: the reference case of kpi-definitions.md §6 through the built binary.

use std::process::{Command, Output};

fn ccpulse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ccpulse"))
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .expect("run ccpulse")
}

const REFERENCE: [&str; 9] = [
    "erlang", "--calls", "100", "--per", "30m", "--aht", "180s", "--target", "80/20",
];

fn close(v: &serde_json::Value, expected: f64, tol: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - expected).abs() <= tol)
}

#[test]
fn reference_case_json() {
    let mut args = REFERENCE.to_vec();
    args.extend(["--shrinkage", "0.3", "--output", "json"]);
    let out = ccpulse(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(close(&v["load_erlangs"], 10.0, 1e-9));
    assert_eq!(v["required_agents"], 14);
    assert_eq!(v["scheduled_agents"], 20);
    let rows = v["rows"].as_array().expect("rows");
    let agents: Vec<u64> = rows.iter().filter_map(|r| r["agents"].as_u64()).collect();
    assert_eq!(agents, vec![11, 12, 13, 14, 15, 16, 17]);
    let n13 = &rows[2];
    assert!(close(&n13["service_level"], 0.7956, 5e-5));
    let n14 = &rows[3];
    assert!(close(&n14["p_wait"], 0.17413, 5e-6));
    assert!(close(&n14["service_level"], 0.88835, 5e-6));
    assert!(close(&n14["asa_seconds"], 7.84, 5e-3));
    assert!(close(&n14["occupancy"], 0.714, 5e-4));
    assert!(n14["p_abandon"].is_null());
    let mut keys: Vec<&String> = n14.as_object().expect("row").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "agents",
            "asa_seconds",
            "occupancy",
            "p_abandon",
            "p_wait",
            "service_level"
        ]
    );
}

#[test]
fn reference_case_erlang_a_json_with_range() {
    let mut args = REFERENCE.to_vec();
    args.extend(["--patience", "5m", "--agents", "12..14", "--output", "json"]);
    let out = ccpulse(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["required_agents"], 13);
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 3);
    let n14 = &rows[2];
    assert_eq!(n14["agents"], 14);
    assert!(close(&n14["p_wait"], 0.14526, 5e-6));
    assert!(close(&n14["p_abandon"], 0.013984, 5e-7));
    assert!(close(&n14["occupancy"], 0.70430, 5e-6));
}

#[test]
fn reference_case_table() {
    let mut args = REFERENCE.to_vec();
    args.extend(["--shrinkage", "30%"]);
    let out = ccpulse(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("required agents:  14"), "{text}");
    assert!(text.contains("scheduled agents: 20"), "{text}");
    let row14 = text
        .lines()
        .find(|l| l.starts_with('>'))
        .expect("marked row");
    let cols: Vec<&str> = row14.split_whitespace().collect();
    assert_eq!(cols, [">", "14", "88.84%", "17.41%", "7.84s", "71.43%"]);
    // Columns line up: every row is as long as the header.
    let table: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.contains("agents  "))
        .collect();
    assert_eq!(table.len(), 8);
    assert!(table.iter().all(|l| l.len() == table[0].len()), "{text}");
}

#[test]
fn bad_arguments_exit_2() {
    for (flag, value) in [
        ("--target", "120/20"),
        ("--aht", "abc"),
        ("--shrinkage", "1.0"),
        ("--agents", "20..10"),
        ("--patience", "0s"),
    ] {
        let mut args = REFERENCE.to_vec();
        args.extend([flag, value]);
        // A repeated flag is a clap error; replace instead of appending.
        let args: Vec<&str> = dedup_flags(&args);
        let out = ccpulse(&args);
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(flag), "{flag}: {err}");
        assert!(out.stdout.is_empty());
    }
    // Missing required flag: clap's own usage error, also 2.
    let out = ccpulse(&["erlang", "--calls", "100"]);
    assert_eq!(out.status.code(), Some(2));
}

/// Keeps the last value of each `--flag value` pair.
fn dedup_flags<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut out: Vec<&'a str> = vec![args[0]];
    let mut pairs: Vec<(&'a str, &'a str)> = Vec::new();
    for kv in args[1..].chunks(2) {
        if let Some(p) = pairs.iter_mut().find(|(k, _)| *k == kv[0]) {
            p.1 = kv[1];
        } else {
            pairs.push((kv[0], kv[1]));
        }
    }
    for (k, v) in pairs {
        out.push(k);
        out.push(v);
    }
    out
}
