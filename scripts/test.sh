#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the tests need, then runs
# unit, property, golden and integration tests, including the #[ignore]d ones that
# need real external components.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the ignored (real-component) tests need.
# prometheus: /usr/bin/prometheus and /usr/bin/promtool (tests/prometheus_real.rs).
# chromium: the wallboard in a real browser (tests/wallboard_browser.rs).
# prometheus-alertmanager: the daemon's alerts in a real Alertmanager
# (tests/alertmanager_real.rs).
# openssl: a test CA and server certificate for alerts over HTTPS (tests/notify_https.rs).
# nats-server: the durable bus, a real NATS JetStream (tests/nats_real.rs).
# systemd, strace: systemd-analyze verifies and rates the shipped unit, and every system
# call a traced daemon makes must pass its filter (tests/deploy_systemd.rs).
NEEDED=(prometheus chromium prometheus-alertmanager openssl nats-server systemd strace)
missing=()
for pkg in "${NEEDED[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if [ ! -d ../shared/data ]; then
  echo "note: ../shared/data is absent; the golden tests on real logs will say 'skipped'"
fi

cargo test --all-targets
cargo test --all-targets -- --ignored
