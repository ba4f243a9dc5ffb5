#!/usr/bin/env bash
# Starts the RivetKit 2.3.19 peer for run.sh: installs the pinned packages when missing, starts
# `serve.mjs` (the local engine from @rivetkit/engine-cli + a Node envoy hosting actors.mjs)
# with its state under DIR/rivetkit-home, and prints
#   listening http://127.0.0.1:PORT pids NODE,ENGINE[,SERVICES]
# once the registry is ready (the pids are the processes whose RSS counts as the server's).
# Stops all of them on SIGTERM/SIGINT.   Usage: start.sh DIR [PORT]
set -euo pipefail
cd "$(dirname "$0")"
DIR=${1:?usage: start.sh DIR [PORT]}
PORT=${2:-6520}
if [ ! -d node_modules/rivetkit ]; then
  # `npm ci` rejects this lock file (platform packages listed with empty versions);
  # `npm install` honours the pinned versions.
  npm install --no-audit --no-fund --loglevel=error >&2
fi
mkdir -p "$DIR/rivetkit-home"
HOME="$DIR/rivetkit-home" node serve.mjs "$PORT" >"$DIR/rivetkit-serve.log" 2>&1 &
NODE=$!
children() { pgrep -P "$NODE" 2>/dev/null | paste -sd, - || true; }
stop() {
  local pids
  pids=$(children)
  kill "$NODE" 2>/dev/null || true
  for pid in ${pids//,/ }; do kill "$pid" 2>/dev/null || true; done
  # RivetKit's graceful shutdown can wait for the engine's actor stop threshold: 5 s at most.
  for _ in $(seq 1 50); do kill -0 "$NODE" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$NODE" 2>/dev/null || true
  wait "$NODE" 2>/dev/null || true
  exit 0
}
trap stop TERM INT
for _ in $(seq 1 1200); do
  if grep -q '^ready ' "$DIR/rivetkit-serve.log"; then
    url=$(grep -m1 '^ready ' "$DIR/rivetkit-serve.log" | cut -d' ' -f2)
    pids=$NODE
    kids=$(children)
    [ -n "$kids" ] && pids="$pids,$kids"
    echo "listening $url pids $pids"
    wait "$NODE"
    exit 0
  fi
  kill -0 "$NODE" 2>/dev/null || break
  sleep 0.1
done
echo "RivetKit did not become ready:" >&2
cat "$DIR/rivetkit-serve.log" >&2
stop
