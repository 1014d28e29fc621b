#!/usr/bin/env bash
# Catch-up through the live daemon (issue: the live daemon, "reads ... at replay speed"):
# a backlog of the scaled center (200 queues, 2,000 agents, 2 simulated hours: of
# yesterday from 08:00 UTC, or with BACKLOG=today the 2 hours ending 10 minutes ago, so
# its last hour fills the rolling windows as a mid-day start does) read by `ccpulse run` from the beginning, once from a file source and once
# from the bus (a local `nats-server -js`, the same lines published by
# `ccpulse simulate --nats`), timed from start until /api/v1/snapshot shows every event
# applied (and the engine's own "backlog read" time from its log); then `ccpulse replay`
# of the same file. Per-thread CPU from /proc.
#
#   cargo build --release && scripts/bench-catchup.sh [ROUNDS]
#
# Needs nats-server (Debian package), curl and python3. Work files in $BENCH_DIR
# (default a temporary directory, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BIN:-$PWD/target/release/ccpulse}
ROUNDS=${1:-2}
DIR=${BENCH_DIR:-$(mktemp -d)}
mkdir -p "$DIR"
NATS_PORT=${NATS_PORT:-14222}
HTTP_PORT=${HTTP_PORT:-18090}
NS=$(command -v nats-server || echo /usr/sbin/nats-server)

nats_pid=
cleanup() {
  [ -n "$nats_pid" ] && kill "$nats_pid" 2>/dev/null || true
  if [ -z "${BENCH_DIR:-}" ]; then rm -rf "$DIR"; fi
}
trap cleanup EXIT

case ${BACKLOG:-yesterday} in
  yesterday) start=$(date -u -d yesterday +%F) ;;
  today) start=$(date -u -d '-2 hours -10 minutes' +%Y-%m-%dT%H:%M:%SZ) ;;
  *) echo "BACKLOG must be yesterday or today" >&2; exit 1 ;;
esac
sim=(simulate --queues 200 --agents 2000 --duration 2h --rate 20 --start "$start")
"$B" "${sim[@]}" -o "$DIR/sim.jsonl"
N=$(wc -l < "$DIR/sim.jsonl")
if (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null; then
  echo "port $NATS_PORT is taken (another nats-server?): set NATS_PORT" >&2
  exit 1
fi
rm -rf "$DIR/js" # a kept $BENCH_DIR must not publish the backlog twice
"$NS" -js -a 127.0.0.1 -p "$NATS_PORT" -sd "$DIR/js" > "$DIR/nats.log" 2>&1 &
nats_pid=$!
sleep 1
kill -0 "$nats_pid" || { cat "$DIR/nats.log" >&2; exit 1; }
"$B" "${sim[@]}" --nats "nats://127.0.0.1:$NATS_PORT" --stream ACD --subject acd.sim \
  --lines-per-message 100 2> /dev/null

# One catch-up: $1 = file | nats. Prints the wall time and each thread kind's CPU.
catch_up() {
  local kind=$1 cfg=$DIR/$1.toml
  rm -rf "$DIR/data-$kind"
  {
    printf '[daemon]\nlisten = "127.0.0.1:%s"\ndata_dir = "%s"\n[[sources]]\n' "$HTTP_PORT" "$DIR/data-$kind"
    if [ "$kind" = nats ]; then
      printf 'kind = "nats"\nname = "bus"\nurl = "nats://127.0.0.1:%s"\nstream = "ACD"\n' "$NATS_PORT"
    else
      printf 'kind = "file"\nname = "log"\npath = "%s"\nformat = "jsonl"\n' "$DIR/sim.jsonl"
    fi
    printf 'start_at = "beginning"\n'
  } > "$cfg"
  local start end pid applied
  start=$(date +%s.%N)
  "$B" run --config "$cfg" > "$DIR/$kind.log" 2>&1 &
  pid=$!
  local deadline=$(( $(date +%s) + 300 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    applied=$(curl -s "127.0.0.1:$HTTP_PORT/api/v1/snapshot" 2>/dev/null |
      python3 -c "import json,sys; print(json.load(sys.stdin)['engine']['applied'])" 2>/dev/null || true)
    [ "$applied" = "$N" ] && break
    sleep 0.05
  done
  end=$(date +%s.%N)
  local cpu
  cpu=$(for t in /proc/"$pid"/task/*; do
          echo "$(cat "$t/comm") $(awk '{print ($14+$15)/100}' "$t/stat")"
        done | awk '{a[$1]+=$2} END {for (k in a) printf "%s %.2f s  ", k, a[k]}')
  kill "$pid"; wait "$pid" 2>/dev/null || true
  # The engine's own figure (its log line "backlog read"): from its start to the last
  # backlog event applied, without process start-up and the wait for the next snapshot.
  local own
  own=$(grep -o 'seconds=[0-9.]*' "$DIR/$kind.log" | head -1 | cut -d= -f2)
  printf '%-5s %6.2f s (engine: %.2f s) for %s events (applied %s)  CPU: %s\n' \
    "$kind" "$(echo "$end - $start" | bc)" "${own:-0}" "$N" "$applied" "$cpu"
}

for _ in $(seq "$ROUNDS"); do
  catch_up file
  catch_up nats
done
/usr/bin/time -f "replay %e s" "$B" replay "$DIR/sim.jsonl" --output json > /dev/null
