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
REFEREE=$(cd "$ROOT/../shared/peers" && pwd)
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
echo "== referee: REGISTER rates $RATES (${SECS}s each), server pid $SERVER" >&2
SERVER_PID=$SERVER OUT=${OUT:-/tmp/peers-bench/$(date +%Y%m%d-%H%M%S)-strowger-register} \
  "$REFEREE/bench-register.sh" "127.0.0.1:$PORT" "$USERS" "$RATES" "$SECS"

# The same load with SIPp's own receive buffer at 8 MiB (-buff_size; SIPp's default is
# 64 KiB): past ~6,000/s SIPp, not the server, drops responses whenever its single thread
# pauses for a few milliseconds, and every drop costs a 500 ms retransmission.
echo "== same load, SIPp -buff_size 8 MiB" >&2
# shellcheck source=/dev/null
. "$REFEREE/bench-lib.sh"
D=$(mktemp -d /tmp/strowger-bench-own.XXXXXX)
make_users_csv "$D/users.csv" 1000 "$USERS" 127.0.0.1:5999
echo "| target reg/s | ok | failed | ok reg/s | p50 ms | p95 ms | max ms | retrans | server CPU avg % | max % |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for R in $RATES; do
  COUNT=$((R * SECS))
  rm -f "$D"/reg_*_rtt.csv "$D/stat.csv" "$D/cpu.txt" "$D/stop"
  ( cd "$D" && exec timeout $((SECS * 3 + 60)) sipp "127.0.0.1:$PORT" -sf "$REFEREE/sipp/reg.xml" \
      -inf users.csv -t u1 -i 127.0.0.1 -p 5063 -r "$R" -rp 1000 -m "$COUNT" -l "$COUNT" \
      -buff_size 8388608 -timeout $((SECS + 30))s -nostdin -trace_stat -stf stat.csv -fd 1 \
      -trace_rtt -rtt_freq 1 >/dev/null 2>&1 ) &
  SIPP=$!
  sleep 0.3
  cpu_sampler "$D/cpu.txt" "$D/stop" "$SERVER" "" &
  SAMPLER=$!
  wait "$SIPP" || true
  touch "$D/stop"; wait "$SAMPLER" || true
  ok=$(stat_field "$D/stat.csv" 'SuccessfulCall(C)')
  sent=$(stat_field "$D/stat.csv" 'OutgoingCall(C)')
  retr=$(stat_field "$D/stat.csv" 'Retransmissions(C)')
  read -r n p50 p95 mx f l <<< "$(rtt_pct "$(ls "$D"/reg_*_rtt.csv | head -1)" 1)"
  rate=$(awk -v n="$n" -v f="$f" -v l="$l" 'BEGIN{ if (l > f) printf "%.1f", (n-1)*1000/(l-f); else print "-" }')
  read -r sa sm _ _ <<< "$(cpu_summary "$D/cpu.txt")"
  echo "| $R | $ok | $((sent - ok)) | $rate | $p50 | $p95 | $mx | $retr | $sa | $sm |"
  sleep 2
done
rm -rf "$D"
stop

if [ "$HOLD" -gt 0 ]; then
  echo "== memory with $HOLD registered phones" >&2
  rm -f "$DATA/users.csv"
  make_csv 10000 "$HOLD" "$DATA/hold.csv"
  "$BIN" import extensions "$DATA/hold.csv" --data-dir "$DATA" --allow-weak-passwords >&2
  start
  base_rss=$(awk '/VmRSS/{print $2}' "/proc/$SERVER/status")
  SERVER_PID=$SERVER FIRST_EXT=10000 OUT=/tmp/peers-bench/$(date +%Y%m%d-%H%M%S)-strowger-hold \
    "$REFEREE/bench-register.sh" "127.0.0.1:$PORT" "$HOLD" "5000" 1 >/dev/null
  regs=$("$BIN" status --data-dir "$DATA" | awk '/^registrations:/{print $2}')
  rss=$(awk '/VmRSS/{print $2}' "/proc/$SERVER/status")
  # Completed REGISTER transactions live 64*T1 = 32 s (Timer J) to absorb retransmissions.
  sleep 35
  rss_settled=$(awk '/VmRSS/{print $2}' "/proc/$SERVER/status")
  regs_settled=$("$BIN" status --data-dir "$DATA" | awk '/^registrations:/{print $2}')
  echo "phones registered: $regs; resident memory right after the burst: $((rss / 1024)) MiB;" \
    "35 s later (transactions ended, $regs_settled still registered): $((rss_settled / 1024)) MiB;" \
    "before any registration (with $(( USERS + HOLD + 10 )) extensions configured): $((base_rss / 1024)) MiB"
  stop
fi
