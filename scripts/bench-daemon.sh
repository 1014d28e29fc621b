#!/usr/bin/env bash
# The documented load harness of the live daemon (issue: live daemon). One run measures,
# on this machine: sustained ingest (engine.applied/s) through the /api/v1/ingest
# websocket with N /ws feed clients attached, event-to-feed latency, GET /metrics time
# and the daemon's peak RSS. See docs/benchmarks.md ("Live daemon") and the doc comment
# of benches/daemon_load.rs for exactly what is measured.
#
#   scripts/bench-daemon.sh [ARGS…]     e.g. --clients 500 --duration 30 --warmup 5
#
# Defaults: 200 queues × 2,000 agents (SimConfig::scaled, seed 7), 500 feed clients,
# tick 1s, allowed_lateness 2s, 30 s of pushing over one ingest connection.
# The daemon runs as a child process on 127.0.0.1 and is killed when the tool exits.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
exec cargo bench -q --bench daemon_load -- "$@"
