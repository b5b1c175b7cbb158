#!/usr/bin/env bash
# Authenticated REGISTER load against Strowger, with the referee benchmark in
# ../shared/peers (REGISTER -> 401 -> REGISTER+digest -> 200), and the memory held by
# 30,000 registered phones.
#
# usage: bench/register.sh [RATES] [SECONDS]        (default "2000 5000 10000 12000" 10)
# env:   PORT=5080  USERS=3000 (extensions 1000..)  HOLD=30000 (phones for the memory step,
#        0 skips it)  PEERS_DIR (see ../shared/peers)
# Prints the results table; raw SIPp files are under /tmp/peers-bench/.
# Every step is bounded by SIPp's -m count and an outer timeout; only 127.0.0.1 is used.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PEERS=$(cd "$ROOT/../shared/peers" && pwd)
RATES=${1:-"2000 5000 10000 12000"}
SECS=${2:-10}
PORT=${PORT:-5080}
USERS=${USERS:-3000}
HOLD=${HOLD:-30000}

command -v sipp >/dev/null || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester sysstat >/dev/null; }
cargo build --release -p strowger --manifest-path "$ROOT/Cargo.toml" >&2
BIN=$ROOT/target/release/strowger
DATA=$(mktemp -d /tmp/strowger-bench.XXXXXX)
SERVER=

stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=; }
trap 'stop; rm -rf "$DATA"' EXIT

make_csv() { # FIRST COUNT FILE
  { echo number,password,name
    for ((e = $1; e < $1 + $2; e++)); do echo "$e,pw$e,Bench $e"; done; } > "$3"
}

start() {
  "$BIN" serve --data-dir "$DATA" --sip-listen "127.0.0.1:$PORT" > "$DATA/serve.out" 2> "$DATA/serve.err" &
  SERVER=$!
  for _ in $(seq 50); do
    [ -S "$DATA/control.sock" ] && return 0
    sleep 0.1
  done
  echo "server did not start" >&2; cat "$DATA/serve.err" >&2; exit 1
}

# The benchmark users: 1000.. with password pw<ext> (weak on purpose: the referee's).
# Raise the failure limits so that the load is never mistaken for guessing.
start; stop
make_csv 1000 "$USERS" "$DATA/users.csv"
"$BIN" import extensions "$DATA/users.csv" --data-dir "$DATA" --allow-weak-passwords >&2
start
echo "== REGISTER rates: $RATES (${SECS}s each), server pid $SERVER" >&2
SERVER_PID=$SERVER OUT=${OUT:-/tmp/peers-bench/$(date +%Y%m%d-%H%M%S)-strowger-register} \
  "$PEERS/bench-register.sh" "127.0.0.1:$PORT" "$USERS" "$RATES" "$SECS"
stop

if [ "$HOLD" -gt 0 ]; then
  echo "== memory with $HOLD registered phones" >&2
  rm -f "$DATA/users.csv"
  make_csv 10000 "$HOLD" "$DATA/hold.csv"
  "$BIN" import extensions "$DATA/hold.csv" --data-dir "$DATA" --allow-weak-passwords >&2
  start
  base_rss=$(awk '/VmRSS/{print $2}' "/proc/$SERVER/status")
  SERVER_PID=$SERVER FIRST_EXT=10000 OUT=/tmp/peers-bench/$(date +%Y%m%d-%H%M%S)-strowger-hold \
    "$PEERS/bench-register.sh" "127.0.0.1:$PORT" "$HOLD" "5000" 1 >/dev/null
  regs=$("$BIN" status --data-dir "$DATA" | awk '/^registrations:/{print $2}')
  rss=$(awk '/VmRSS/{print $2}' "/proc/$SERVER/status")
  echo "phones registered: $regs; resident memory: $((rss / 1024)) MiB (idle with $(( USERS + HOLD )) extensions before: $((base_rss / 1024)) MiB)"
  stop
fi
