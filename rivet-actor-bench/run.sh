#!/usr/bin/env bash
# Reproduces BENCHMARKS.md: builds in release, starts each server under test as its own
# process on loopback (the raw WebSocket echo floor, our server, the raw axum floor, then the
# RivetKit 2.3.19 peer), drives each with the same load generator, and prints the table.
#
#   rivet-actor-bench/run.sh            # everything: ours and the floors in ~4 minutes, then the
#                                       # peer in ~15 (its 1,024-actor row sets up for up to 10)
#   SECS=2 BIG=2000 rivet-actor-bench/run.sh   # shorter windows, fewer idle conns/actors
#   SKIP_RIVETKIT=1 rivet-actor-bench/run.sh   # without the peer
#   RK_ACTORS=10000 RK_FANOUT=10000 rivet-actor-bench/run.sh   # the peer at full size (slow)
#   RK_MANY_MAX=64 rivet-actor-bench/run.sh     # the peer's many-actor rows only up to 64 actors (faster)
#   ONLY=ws CONNS=1024 RK_MANY_MAX=1024 SKIP_FLOORS=1 rivet-actor-bench/run.sh
#                                        # just the 1,024-connection rows, ours and the peer's
#
# ONLY (a comma list of idle,fanout,ws,http,handshake) and CONNS (e.g. 1,64,1024) narrow every
# server's run; SKIP_FLOORS=1 leaves out the raw floors. A WebSocket row of the peer may spend
# at most RK_SETUP_SECS (default 600) creating actors and opening connections; it then
# measures the connections that opened and its cell says how many of how many that was.
#
# Results (JSON lines) and server logs go to $OUT (default: a fresh temporary directory).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${SECS:-5}
BIG=${BIG:-10000}
# RivetKit creates actors at ~5/s and accepts connections at ~25/s here (BENCHMARKS.md), so
# its memory rows use fewer actors and its fan-out fewer connections unless asked.
RK_ACTORS=${RK_ACTORS:-200}
# The "many actors" rows on RivetKit use at most this many actors (it creates them slowly; its
# setup is bounded by RK_SETUP_SECS, so the 1,024-actor row ends with what it managed).
RK_MANY_MAX=${RK_MANY_MAX:-1024}
RK_FANOUT=${RK_FANOUT:-1000}
RK_SETUP_SECS=${RK_SETUP_SECS:-600}
NARROW=()
if [ -n "${ONLY:-}" ]; then NARROW+=(--only "$ONLY"); fi
if [ -n "${CONNS:-}" ]; then NARROW+=(--conns "$CONNS"); fi
OUT=${OUT:-$(mktemp -d -t rivet-actor-bench.XXXXXX)}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release
mkdir -p "$OUT"

# 10,000 connections need 10,000+ descriptors in the generator and in each server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt $((BIG + 512)) ]; then
  echo "open-files limit $(ulimit -n) is below $((BIG + 512)); lower BIG or raise the hard limit" >&2
  exit 1
fi

cargo build --release -p rivet-actor-bench --bins

PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# start NAME CMD… : starts a server, waits for its "listening URL" line, sets URL and PID.
start() {
  local name=$1
  shift
  "$@" >"$OUT/$name.log" 2>&1 &
  PID=$!
  PIDS+=("$PID")
  for _ in $(seq 1 600); do
    if URL=$(grep -m1 -o 'listening http://[^ ]*' "$OUT/$name.log" 2>/dev/null); then
      URL=${URL#listening }
      return 0
    fi
    if ! kill -0 "$PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "$name did not start; its log:" >&2
  cat "$OUT/$name.log" >&2
  return 1
}

stop() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}

# load NAME KIND [flags…]: runs the generator against $URL, results to $OUT/NAME.jsonl.
load() {
  local name=$1 kind=$2
  shift 2
  echo "== $name ($kind) at $URL, load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
  "$BIN/load" run --url "$URL" --label "$name" --kind "$kind" --secs "$SECS" \
    --fanout "$BIG" --idle-actors "$BIG" --out "$OUT/$name.jsonl" "${NARROW[@]}" "$@" >/dev/null ||
    echo "   ($name: some requests failed; see the table)" >&2
}

files=("$OUT/ours.jsonl")
if [ -z "${SKIP_FLOORS:-}" ]; then
  start echo "$BIN/floor" ws 127.0.0.1:0
  load echo ws-floor --pid "$PID"
  stop "$PID"
  files+=("$OUT/echo.jsonl")
fi

start ours "$BIN/server" 127.0.0.1:0 memory
load ours actor --pid "$PID"
stop "$PID"

if [ -z "${SKIP_FLOORS:-}" ]; then
  start axum "$BIN/floor" http 127.0.0.1:0
  load axum http-floor
  stop "$PID"
  files+=("$OUT/axum.jsonl")
fi
if [ -z "${SKIP_RIVETKIT:-}" ]; then
  if "$ROOT/rivet-actor-bench/rivetkit/start.sh" "$OUT" >"$OUT/rivetkit.log" 2>&1 & then
    PID=$!
    PIDS+=("$PID")
    for _ in $(seq 1 1200); do
      grep -q '^listening ' "$OUT/rivetkit.log" 2>/dev/null && break
      kill -0 "$PID" 2>/dev/null || break
      sleep 0.1
    done
    if line=$(grep -m1 '^listening ' "$OUT/rivetkit.log"); then
      URL=$(echo "$line" | cut -d' ' -f2)
      RK_PIDS=$(echo "$line" | cut -d' ' -f4)
      load rivetkit actor --pid "$RK_PIDS" --idle-actors "$RK_ACTORS" --fanout "$RK_FANOUT" \
        --open-conc 8 --many-max "$RK_MANY_MAX" --setup-secs "$RK_SETUP_SECS"
      files+=("$OUT/rivetkit.jsonl")
    else
      echo "RivetKit did not start; see $OUT/rivetkit.log" >&2
      tail -20 "$OUT/rivetkit.log" >&2
    fi
    stop "$PID"
  fi
fi

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -sr)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); window ${SECS} s per row; results in $OUT"
echo
"$BIN/load" report "${files[@]}"
