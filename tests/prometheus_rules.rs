//! The shipped Prometheus rules file: `promtool check rules` and `promtool test rules`
//! (its unit tests with series). Ignored by plain `cargo test`; `scripts/test.sh`
//! installs Debian `prometheus` (which ships `promtool`) and runs it.

use std::path::PathBuf;
use std::process::Command;

fn promtool() -> PathBuf {
    let p = PathBuf::from("/usr/bin/promtool");
    assert!(
        p.exists(),
        "promtool is missing: install the Debian package `prometheus` (scripts/test.sh does)"
    );
    p
}

#[test]
#[ignore = "needs promtool (scripts/test.sh installs it)"]
fn shipped_rules_check_and_pass_their_unit_tests() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("deploy/prometheus");
    let check = Command::new(promtool())
        .args(["check", "rules", "ccpulse.rules.yml"])
        .current_dir(&dir)
        .output()
        .expect("run promtool");
    assert!(
        check.status.success(),
        "{}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let test = Command::new(promtool())
        .args(["test", "rules", "ccpulse.rules.test.yml"])
        .current_dir(&dir)
        .output()
        .expect("run promtool");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&test.stdout),
        String::from_utf8_lossy(&test.stderr)
    );
    assert!(test.status.success() && out.contains("SUCCESS"), "{out}");
}
