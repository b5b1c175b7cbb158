#!/bin/sh
# Makes the spoken prompts of the call queue (prompts/*.wav) with espeak-ng's British
# English voice, resampled by sox to 8 kHz mono G.711 µ-law like the music on hold. The
# words are ours; rerun this script (espeak-ng 1.51, sox 14.4.2) to make them again.
#
#   sh crates/strowger/assets/make-prompts.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/prompts"
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() {
    espeak-ng -v en-gb -s 150 -w "$work/raw.wav" "$2"
    sox -D "$work/raw.wav" -r 8000 -c 1 -e u-law "$out/$1.wav" gain -n -3
}
say queue-intro "All our colleagues are busy. You are number"
say queue-outro "in the queue. Please hold."
say queue-many "All our colleagues are busy. Please hold, you will be connected shortly."
n=1
for word in one two three four five six seven eight nine; do
    say "number-$n" "$word"
    n=$((n + 1))
done
