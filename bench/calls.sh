#!/usr/bin/env bash
# Calls through the B2BUA in the busy-hour shape of the source documents, with the referee
# script of ../shared/peers (INVITE -> 401 -> INVITE with digest -> 180, 5 s ringing -> 200
# -> ACK, 6 s talk -> BYE), against Strowger.
#
# usage: bench/calls.sh [RATES] [SECONDS]        (default "100 200 500" 20)
# env:   FEATURE=forward|forward_busy|hunt (features in the path), PORT=5080, RTP=0|1 (passed to the referee script), ANCHOR=0|1 (RTP=0 only: keep
#        the media relay in the path although no media flows)
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
if [ -n "${FEATURE:-}" ]; then
  # Features in the path (issue 5). FEATURE=forward: every callee 2000..2999 forwards
  # unconditionally to the next one, so each call is routed twice and rings the neighbour.
  # FEATURE=forward_busy: each callee forwards on busy (never taken here), so every call
  # carries a continuation through the routing. FEATURE=hunt: each callee forwards to a
  # sequential hunt group 7000.. of its own with ten members picked at random, so
  # every call goes through forwarding and a hunt group (the referee dials 2000.. only).
  # Members in a call are skipped, and with 1000 callees each is in a call (6 s talk) for
  # rate x 6 / 1000 of the time: above ~150/s a group finds nobody free, so run it below.
  "$BIN" config export --data-dir "$DATA" > "$DATA/plain.toml"
  python3 - "$DATA/plain.toml" "$DATA/feature.toml" "$FEATURE" <<'PY'
import re, sys
src, dst, feature = sys.argv[1:4]
doc = open(src).read()
def fwd(m):
    ext = int(m.group(1))
    if not 2000 <= ext < 3000:
        return m.group(0)
    nxt = 2000 + (ext - 2000 + 1) % 1000
    line = {
        "forward": f'unconditional = "{nxt}"',
        "forward_busy": 'busy = "2999"',
        "hunt": f'unconditional = "{7000 + ext - 2000}"',
    }[feature]
    return m.group(0).replace("[users.forward]\n", f"[users.forward]\n{line}\n", 1)
doc = re.sub(r'extension = "(\d+)"\n(?:.*\n)*?\[users\.forward\]\n', fwd, doc)
if feature == "hunt":
    import random
    rng = random.Random(5)
    for i in range(1000):
        # Ten members picked at random (fixed seed): neighbours would all have been
        # called in the same tenth of a second of the last round and be busy together.
        members = ", ".join(f'"{2000 + m}"' for m in rng.sample(range(1000), 10))
        doc += (f'\n[[hunt_groups]]\nname = "bench{i}"\nnumber = "{7000 + i}"\n'
                f'mode = "sequential"\nmembers = [{members}]\n')
open(dst, "w").write(doc)
PY
  "$BIN" config apply "$DATA/feature.toml" --data-dir "$DATA" >&2
fi
if [ "${RTP:-0}" = 0 ] && [ "${ANCHOR:-0}" = 0 ]; then
  # Signalling only: no media flows, so the extensions get direct media and no relay ports
  # are taken (each anchored call holds 2 port pairs = 4 sockets; the pool and the 20,000
  # open files of this machine would cap calls up at once near 2,500 and 4,900).
  # ANCHOR=1 keeps the relay in the path.
  "$BIN" config export --data-dir "$DATA" | sed 's/^direct_media = false$/direct_media = true/' > "$DATA/direct.toml"
  "$BIN" config apply "$DATA/direct.toml" --data-dir "$DATA" >&2
fi
start
rss_kib() { awk '/VmRSS/{print $2}' "/proc/$SERVER/status" 2>/dev/null || echo 0; }
IDLE_KIB=$(rss_kib)
# Peak resident memory while the load runs: sampled twice a second, for at most an hour,
# and only while the server lives.
( peak=0; for _ in $(seq 7200); do
    kill -0 "$SERVER" 2>/dev/null || break
    now=$(rss_kib); [ "${now:-0}" -gt "$peak" ] && { peak=$now; echo "$peak" > "$DATA/rss.peak"; }
    sleep 0.5
  done ) &
SAMPLER=$!
echo "== calls: rates $RATES (${SECS}s each), server pid $SERVER, RTP=${RTP:-0}" >&2
SERVER_PID=$SERVER OUT=${OUT:-/tmp/peers-bench/$(date +%Y%m%d-%H%M%S)-strowger-calls} \
  "$REFEREE/bench-calls.sh" "127.0.0.1:$PORT" "$RATES" "$SECS"
echo "server resident memory: idle $((IDLE_KIB / 1024)) MiB, peak $(( $(cat "$DATA/rss.peak" 2>/dev/null || echo 0) / 1024 )) MiB, at the end $(( $(rss_kib) / 1024 )) MiB" >&2
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true
"$BIN" calls --data-dir "$DATA" --history 0 | head -1 >&2
stop
