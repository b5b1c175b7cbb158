#!/bin/sh
# Makes hold-music.wav, Strowger's built-in music on hold, from nothing but sox's
# synthesiser: a plucked arpeggio over a soft sine pad and bass, in the chord round
# C - Am - F - G (2.4 s a bar, ten bars, 24 s), 8 kHz mono G.711 µ-law like the telephone
# network it plays on. The tune is ours, written for Strowger; rerun this script to get the
# same file (sox 14.4.2: `sox -D` turns dithering off, so the output is byte-for-byte
# reproducible).
#
#   sh crates/strowger/assets/make-hold-music.sh
#
# Notes are semitones from A4 (440 Hz), as sox's `%n` frequencies: C4 = -9, C5 = 3.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

rate=8000
eighth=0.3   # one note of the arpeggio
bar=2.4      # eight of them

# note NAME SEMITONES: a plucked note, decaying over its eighth.
note() {
    sox -D -n -r $rate -c 1 -b 16 "$1.wav" synth $eighth pluck "%$2" fade 0.006 $eighth 0.2 vol 0.55
}

# chord NAME ROOT THIRD FIFTH (semitones, an octave below the arpeggio): a bar of pad.
chord() {
    for i in 1 2 3; do
        eval "tone=\$$((i + 1))"
        sox -D -n -r $rate -c 1 -b 16 "$1-$i.wav" synth $bar sine "%$tone" fade 0.4 $bar 0.6 vol 0.09
    done
    # The root once more, an octave lower: the bass.
    sox -D -n -r $rate -c 1 -b 16 "$1-bass.wav" synth $bar sine "%$(($2 - 12))" fade 0.05 $bar 0.8 vol 0.16
    sox -D -m "$1-1.wav" "$1-2.wav" "$1-3.wav" "$1-bass.wav" "$1-pad.wav"
}

# arpeggio NAME NOTES...: a bar of eight plucked notes.
arpeggio() {
    name=$1
    shift
    files=""
    n=0
    for semitones in "$@"; do
        n=$((n + 1))
        note "$name-$n" "$semitones"
        files="$files $name-$n.wav"
    done
    # shellcheck disable=SC2086
    sox -D $files "$name-arp.wav"
}

chord c -21 -17 -14
chord am -24 -21 -17
chord f -16 -12 -9
chord g -14 -10 -7
arpeggio c -9 -5 -2 3 7 3 -2 -5
arpeggio am 0 3 7 12 7 3 0 -5
arpeggio f -4 0 3 8 12 8 3 0
arpeggio g -2 2 5 10 5 2 -2 2
arpeggio c2 -9 -2 3 7 10 7 3 -2
arpeggio g2 -2 5 10 14 10 5 2 -2
# The last bar: the tonic, let ring.
sox -D -n -r $rate -c 1 -b 16 end.wav synth $bar pluck %3 fade 0.006 $bar 1.6 vol 0.6

for b in c am f g; do
    sox -D -m "$b-pad.wav" "$b-arp.wav" "$b-bar.wav"
done
sox -D -m c-pad.wav c2-arp.wav c2-bar.wav
sox -D -m g-pad.wav g2-arp.wav g2-bar.wav
sox -D -m c-pad.wav end.wav end-bar.wav

# C Am F G | C Am F G2 | C2 end: ten bars.
sox -D c-bar.wav am-bar.wav f-bar.wav g-bar.wav \
    c-bar.wav am-bar.wav f-bar.wav g2-bar.wav \
    c2-bar.wav end-bar.wav all.wav
# Loud enough to be heard on a phone, with headroom for G.711; fades so the loop joins.
sox -D all.wav -r $rate -c 1 -e u-law "$here/hold-music.wav" norm -3 fade 0.05 0 0.3
echo "wrote $here/hold-music.wav"
