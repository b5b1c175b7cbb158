#!/usr/bin/env bash
# Callers leaving voicemail messages at once, through SIP and the relay: SIPp places CALLS
# calls (RATE a second) from extensions 10000.. to 20000.., each callee on do not disturb so
# that its mailbox answers at once; each caller streams a 1000 Hz PCMU tone (SIPp
# rtp_stream) for HOLD seconds and hangs up. With HOLD well above CALLS / RATE every call
# is in voicemail together for a while.
#
# Reported: calls completed, messages stored, the stored files' lengths (the hold less the
# greeting and tone, which vary a little with the callee's number: audio lost shows as a
# short file), the caller packets the relay received per call against what SIPp sent and
# those it dropped (from the call records), the server's CPU (of one core) and the bytes
# it wrote to disk, over the whole run.
#
# usage: bench/voicemail.sh [CALLS] [HOLD] [RATE]      (default 1000 40 50)
# env:   PORT=5080. Every step is bounded (SIPp -m / -timeout, outer timeouts); only
# 127.0.0.1 is used.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
CALLS=${1:-1000}
HOLD=${2:-40}
RATE=${3:-50}
PORT=${PORT:-5080}

command -v sipp >/dev/null || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q sip-tester >/dev/null; }
command -v sox >/dev/null || { apt-get update -q >/dev/null; DEBIAN_FRONTEND=noninteractive apt-get install -y -q sox >/dev/null; }
cargo build --release -p strowger --manifest-path "$ROOT/Cargo.toml" >&2
BIN=$ROOT/target/release/strowger
DATA=$(mktemp -d /tmp/strowger-bench-vm.XXXXXX)
SERVER=
stop() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null; SERVER=; }
trap 'stop; rm -rf "$DATA"' EXIT
start() {
  STROWGER_LOG=${STROWGER_LOG:-warn} "$BIN" serve --data-dir "$DATA" \
    --sip-listen "127.0.0.1:$PORT" --rtp-ports 20000-40000 > "$DATA/serve.out" 2> "$DATA/serve.err" &
  SERVER=$!
  for _ in $(seq 50); do [ -S "$DATA/control.sock" ] && return 0; sleep 0.1; done
  echo "server did not start" >&2; cat "$DATA/serve.err" >&2; exit 1
}

start; stop
{ echo number,password,name
  for ((e = 10000; e < 10000 + CALLS; e++)); do echo "$e,pw$e,Caller $e"; done
  for ((e = 20000; e < 20000 + CALLS; e++)); do echo "$e,pw$e,Callee $e"; done; } > "$DATA/users.csv"
"$BIN" import extensions "$DATA/users.csv" --data-dir "$DATA" --allow-weak-passwords >&2
# Callees on do not disturb; enough voicemail channels for every call.
"$BIN" config export --data-dir "$DATA" > "$DATA/plain.toml"
python3 - "$DATA/plain.toml" "$DATA/vm.toml" "$CALLS" <<'PY'
import re, sys
src, dst, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
doc = open(src).read()
def dnd(m):
    ext = int(m.group(1))
    return m.group(0).replace("dnd = false", "dnd = true", 1) if 20000 <= ext < 30000 else m.group(0)
doc = re.sub(r'extension = "(\d+)"\n(?:.*\n)*?dnd = false\n', dnd, doc)
if "[voicemail]" in doc:
    doc = re.sub(r'(\[voicemail\]\n(?:.*\n)*?)channels = \d+', rf'\g<1>channels = {calls + 100}', doc, count=1)
else:
    doc = doc.replace("\n[[users]]", f"\n[voicemail]\nchannels = {calls + 100}\n\n[[users]]", 1)
open(dst, "w").write(doc)
PY
"$BIN" config apply "$DATA/vm.toml" --data-dir "$DATA" >&2 || {
  # Before the channel pool existed there was no [voicemail] section.
  grep -v '^\[voicemail\]$\|^channels = ' "$DATA/vm.toml" > "$DATA/vm2.toml"
  "$BIN" config apply "$DATA/vm2.toml" --data-dir "$DATA" >&2; }
echo "callers,callees on DND: $(grep -c 'dnd = true' "$DATA/vm.toml")" >&2

for ((i = 0; i < CALLS; i++)); do
  echo "$((10000 + i));$((20000 + i));[authentication username=$((10000 + i)) password=pw$((10000 + i))]"
done | { echo SEQUENTIAL; cat; } > "$DATA/calls.csv"
sox -q -n -r 8000 -c 1 -e u-law -t ul "$DATA/tone.ul" synth 6 sine 1000 vol 0.5
sed -e "s#@RTPFILE@#$DATA/tone.ul#" -e "s#@HOLD_MS@#$((HOLD * 1000))#" \
  "$HERE/sipp/voicemail-uac.xml" > "$DATA/uac.xml"

start
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SERVER/stat"; }
written() { awk '/^write_bytes/{print $2}' "/proc/$SERVER/io"; }
TICKS0=$(cpu_ticks); BYTES0=$(written); T0=$(date +%s.%N)
echo "== $CALLS callers leaving messages, ${HOLD}s each, $RATE calls/s; server pid $SERVER" >&2
# Peak CPU over 1 s windows while the load runs (bounded: at most HOLD + CALLS/RATE + 120 s).
( prev=$(cpu_ticks); peak=0
  for _ in $(seq $((HOLD + CALLS / RATE + 120))); do
    sleep 1; kill -0 "$SERVER" 2>/dev/null || break
    now=$(cpu_ticks); d=$((now - prev)); prev=$now
    [ "$d" -gt "$peak" ] && { peak=$d; echo "$peak" > "$DATA/cpu.peak"; }
  done ) &
SAMPLER=$!
rc=0
( cd "$DATA" && timeout $((HOLD + CALLS / RATE + 120)) sipp "127.0.0.1:$PORT" -sf "$DATA/uac.xml" \
    -inf "$DATA/calls.csv" -i 127.0.0.1 -p 5070 -mp 7000 -rtp_threadtasks 20 \
    -r "$RATE" -m "$CALLS" -l $((CALLS + 10)) -timeout $((HOLD + CALLS / RATE + 90))s -nostdin \
    -trace_stat -stf stat.csv -trace_err > sipp.out 2>&1 ) || rc=$?
T1=$(date +%s.%N); TICKS1=$(cpu_ticks); BYTES1=$(written)
kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true
sleep 2
HZ=$(getconf CLK_TCK)
ok=$(tail -1 "$DATA/stat.csv" | awk -F';' '{print $16}' 2>/dev/null || echo "?")
failed=$(tail -1 "$DATA/stat.csv" | awk -F';' '{print $18}' 2>/dev/null || echo "?")
echo "sipp rc $rc; successful calls $ok, failed $failed" >&2
python3 - "$DATA" "$HOLD" "$CALLS" <<'PY'
import glob, os, re, statistics, sys, wave
data, hold, calls = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
files = [f for f in glob.glob(f"{data}/voicemail/*/*.wav") if not os.path.basename(f).startswith('.')]
lengths = []
for f in files:
    with wave.open(f) as w:
        lengths.append(w.getnframes() / w.getframerate())
print(f"messages stored: {len(files)} of {calls}")
if lengths:
    lengths.sort()
    print(f"message length s: min {lengths[0]:.2f} median {statistics.median(lengths):.2f} max {lengths[-1]:.2f} (hold {hold} s less the greeting and tone)")
    print(f"total audio stored: {sum(lengths)/3600:.2f} h in {sum(os.path.getsize(f) for f in files)/1e6:.1f} MB")
import sqlite3
rows = sqlite3.connect(f"{data}/strowger.db").execute("SELECT media, answered_ms, ended_ms FROM call_records").fetchall()
got = [re.search(r'caller: in (\d+) pkts/\d+ B, out \d+ pkts/\d+ B, dropped (\d+)', m or "") for m, _, _ in rows]
# (The relay's own 'dropped' counts packets it had nobody to forward to: the mailbox
# records them from a tap, so they are not lost audio.)
got = [(int(g.group(1)), int(g.group(2))) for g in got if g]
if got:
    ins = sorted(g[0] for g in got)
    expected = hold * 50
    print(f"call records with relay counts: {len(got)}; caller packets in per call: min {ins[0]} median {statistics.median(ins):.0f} max {ins[-1]} (SIPp sends {expected} in {hold} s)")
PY
awk -v t0="$T0" -v t1="$T1" -v c0="$TICKS0" -v c1="$TICKS1" -v hz="$HZ" -v b0="$BYTES0" -v b1="$BYTES1" \
  -v peak="$(cat "$DATA/cpu.peak" 2>/dev/null || echo 0)" 'BEGIN {
  secs = t1 - t0; cpu = (c1 - c0) / hz;
  printf "server CPU: %.1f s over %.1f s = %.0f%% of one core on average, peak %d%% (1 s windows)\n", cpu, secs, 100 * cpu / secs, 100 * peak / hz;
  printf "server disk writes: %.1f MB, %.2f MB/s\n", (b1 - b0) / 1e6, (b1 - b0) / 1e6 / secs }'
echo "server warnings/errors logged: $(grep -c " WARN \| ERROR " "$DATA/serve.err" || true)" >&2
stop
