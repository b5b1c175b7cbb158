#!/usr/bin/env bash
# Calls through the B2BUA in the busy-hour shape of the source documents, with the referee
# script of ../shared/peers (INVITE -> 401 -> INVITE with digest -> 180, 5 s ringing -> 200
# -> ACK, 6 s talk -> BYE), against Strowger.
#
# usage: bench/calls.sh [RATES] [SECONDS]        (default "100 200 500" 20)
# env:   PORT=5080, RTP=0|1 (passed to the referee script)
# Every step is bounded by the referee script's SIPp -m/-timeout and outer timeouts; only
# 127.0.0.1 is used.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
REFEREE=$(cd "$ROOT/../shared/peers" && pwd)
RATES=${1:-"100 200 500"}
SECS=${2:-20}
PORT=${PORT:-5080}

command -v sipp >/dev/null || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester sysstat >/dev/null; }
cargo build --release -p strowger --manifest-path "$ROOT/Cargo.toml" >&2
BIN=$ROOT/target/release/strowger
DATA=$(mktemp -d /tmp/strowger-bench-calls.XXXXXX)
SERVER=
stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=; }
trap 'stop; rm -rf "$DATA"' EXIT
start() {
  STROWGER_LOG=${STROWGER_LOG:-warn} "$BIN" serve --data-dir "$DATA" --sip-listen "127.0.0.1:$PORT" > "$DATA/serve.out" 2> "$DATA/serve.err" &
  SERVER=$!
  for _ in $(seq 50); do [ -S "$DATA/control.sock" ] && return 0; sleep 0.1; done
  echo "server did not start" >&2; cat "$DATA/serve.err" >&2; exit 1
}

# Callers 1000..1999 and callees 2000..2999, password pw<ext> (the referee's; weak on purpose).
start; stop
{ echo number,password,name
  for ((e = 1000; e < 3000; e++)); do echo "$e,pw$e,Bench $e"; done; } > "$DATA/users.csv"
"$BIN" import extensions "$DATA/users.csv" --data-dir "$DATA" --allow-weak-passwords >&2
start
echo "== calls: rates $RATES (${SECS}s each), server pid $SERVER, RTP=${RTP:-0}" >&2
SERVER_PID=$SERVER OUT=${OUT:-/tmp/peers-bench/$(date +%Y%m%d-%H%M%S)-strowger-calls} \
  "$REFEREE/bench-calls.sh" "127.0.0.1:$PORT" "$RATES" "$SECS"
echo "server resident memory at the end: $(( $(awk '/VmRSS/{print $2}' "/proc/$SERVER/status") / 1024 )) MiB" >&2
"$BIN" calls --data-dir "$DATA" --history 0 | head -1 >&2
stop
