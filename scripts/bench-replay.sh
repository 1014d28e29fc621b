#!/usr/bin/env bash
# The documented throughput and memory harness for `ccpulse replay` (issue: KPI engine).
# Everything is measured in ONE run so that ratios are meaningful on a shared machine.
#
#   scripts/bench-replay.sh [EVENTS] [QUEUES] [AGENTS]     (default 10000000 200 2000)
#
# It simulates a center (seeded), writes it as JSON lines and as queue_log, then times,
# on one core: decode only, the full replay (engine + JSON report to /dev/null), and
# DuckDB computing a simpler per-queue/per-interval count report from the same queue_log.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${1:-10000000}; QUEUES=${2:-200}; AGENTS=${3:-2000}
DIR=${BENCH_DIR:-$(mktemp -d)}
B=target/release/ccpulse
cargo build --release -q
command -v /usr/bin/time >/dev/null || { apt-get update -qq && apt-get install -y -qq time; }
python3 -c 'import duckdb' 2>/dev/null || pip install -q duckdb

common=(--queues "$QUEUES" --agents "$AGENTS" --events "$EVENTS" --duration 1440h --seed 7 --start 2026-11-23T00:00:00Z)
[ -s "$DIR/sim.jsonl" ] || $B simulate "${common[@]}" -o "$DIR/sim.jsonl"
[ -s "$DIR/sim.qlog" ] || $B simulate "${common[@]}" --format queue_log -o "$DIR/sim.qlog"

ONE=(taskset -c 0)   # single core
secs() { /usr/bin/time -f "%e %M" -o "$DIR/t" "${ONE[@]}" "$@" >/dev/null 2>&1; cat "$DIR/t"; }

for fmt in qlog jsonl; do
  f="$DIR/sim.$fmt"; n=$(wc -l < "$f")
  read -r d _ < <(secs $B replay "$f" --decode-only)
  read -r e rss < <(secs $B replay "$f" --output json)
  printf '%-6s %10d lines  decode-only %6.2fs (%5.2fM lines/s)  end-to-end %6.2fs (%5.2fM lines/s, %4.0f MB RSS)  end-to-end/decode = %.2f\n' \
    "$fmt" "$n" "$d" "$(echo "$n/$d/1000000" | bc -l)" "$e" "$(echo "$n/$e/1000000" | bc -l)" "$(echo "$rss/1024" | bc -l)" "$(echo "$d/$e" | bc -l)"
  if [ "$fmt" = qlog ]; then
    read -r q _ < <("${ONE[@]}" python3 bench/duckdb_report.py "$f" 1)
    printf '       duckdb (1 thread, simpler count report) %6.2fs   ccpulse/duckdb speed = %.2f\n' "$q" "$(echo "$q/$e" | bc -l)"
  fi
done
