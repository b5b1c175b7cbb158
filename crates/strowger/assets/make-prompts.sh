#!/bin/sh
# Makes the spoken prompts (prompts/<language>/*.wav) of the call queue and of voicemail
# with espeak-ng, resampled by sox to 8 kHz mono G.711 µ-law like the music on hold, with
# the silence espeak leaves at either end trimmed to 0.1 s after the words (prompts are
# played one after another: "You have" "three" "new messages"). The words are ours; rerun
# this script (espeak-ng 1.51 at 160 words a minute, sox 14.4.2) to make them again.
#
#   sh crates/strowger/assets/make-prompts.sh
#
# The names are the ones the code asks for: `voicemail::dialogue::Prompt::name` (a test
# there checks that each has its English file) and `src/music.rs` for the queue. Another
# language is another folder with the same names: add a voice and a word list below.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# say <folder> <voice> <name> <words>
say() {
    espeak-ng -v "$2" -s 160 -w "$work/raw.wav" "$4"
    sox -D "$work/raw.wav" -r 8000 -c 1 -e u-law "$here/prompts/$1/$3.wav" \
        silence 1 0.01 0.3% reverse silence 1 0.01 0.3% reverse pad 0 0.1 gain -n -3
}

# English (British): one "name|words" per line.
mkdir -p "$here/prompts/en"
while IFS='|' read -r name words; do
    [ -n "$name" ] && say en en-gb "$name" "$words"
done <<'WORDS'
queue-intro|All our colleagues are busy. You are number
queue-outro|in the queue. Please hold.
queue-you-are|You are number
queue-many|All our colleagues are busy. Please hold, you will be connected shortly.
number-0|zero
number-1|one
number-2|two
number-3|three
number-4|four
number-5|five
number-6|six
number-7|seven
number-8|eight
number-9|nine
number-10|ten
number-11|eleven
number-12|twelve
number-13|thirteen
number-14|fourteen
number-15|fifteen
number-16|sixteen
number-17|seventeen
number-18|eighteen
number-19|nineteen
number-20|twenty
number-30|thirty
number-40|forty
number-50|fifty
number-60|sixty
number-70|seventy
number-80|eighty
number-90|ninety
number-hundred|hundred
and|and
plus|plus
vm-the-person-at|The person at extension
vm-person-not-available|The person you are calling is not available.
vm-is-not-available|is not available.
vm-is-busy|is on another call.
vm-leave-message|Please leave a message after the tone. Press hash when you have finished.
vm-message-saved|Your message has been saved.
vm-max-length|You have reached the maximum length of a message.
vm-too-short|Your message was too short, and has not been kept.
vm-not-saved|Sorry, your message could not be saved.
vm-please-hold|Please hold.
vm-goodbye|Goodbye.
attendant-welcome|Thank you for calling.
attendant-dial-extension|If you know the extension of the person you are calling, please dial it now.
attendant-operator|For the operator, press zero.
attendant-invalid|Sorry, that is not a valid choice.
attendant-transferring|Please hold while I put you through.
attendant-closed|Our office is closed at the moment.
attendant-unreachable|Sorry, that number cannot be reached.
attendant-say-name|After the tone, please say your name, then press hash.
attendant-call-from|You have a call from
attendant-screen-keys|To accept the call, press one. To refuse it, press two.
vm-unavailable|Sorry, voicemail is not available at the moment. Please try again later.
vm-enter-mailbox|Please enter your mailbox number, then press hash.
vm-enter-pin|Please enter your PIN, then press hash.
vm-wrong-pin|That PIN is not correct.
vm-locked|Too many wrong PINs. This mailbox is locked; please try again later.
vm-must-change-pin|Before you go on, you must choose a new PIN.
vm-enter-new-pin|Please enter your new PIN, then press hash.
vm-repeat-new-pin|Please enter the new PIN again, then press hash.
vm-pins-differ|The two PINs were not the same.
vm-pin-changed|Your PIN has been changed.
vm-pin-too-short|That PIN is too short. A PIN needs at least
vm-pin-too-long|That PIN is too long. A PIN may have at most
vm-digits|digits.
vm-pin-same-digit|A PIN must not be one digit repeated.
vm-pin-sequence|A PIN must not be a run of consecutive digits.
vm-pin-mailbox|A PIN must not be the mailbox number.
vm-pin-refused|That PIN is not allowed.
vm-you-have|You have
vm-no|no
vm-new-message|new message
vm-new-messages|new messages
vm-saved-message|saved message
vm-saved-messages|saved messages
vm-main-menu|For new messages, press 1. Saved messages, 2. Greetings, 3. To change your PIN, 4. To hear this again, star. To leave, hash.
vm-no-messages|There are no messages.
vm-no-more-messages|There are no more messages.
vm-first-message|This is the first message.
vm-urgent|Urgent.
vm-message|Message
vm-from|from
vm-from-unknown|from an unknown caller.
vm-message-options|Repeat, 5. Save, 9. Delete, 7. Forward, 8. Call back, 0. Next, 6. Previous, 4. Main menu, star.
vm-message-deleted|Message deleted.
vm-message-kept|Message saved.
vm-forward-to|Enter the mailbox number to forward this message to, then press hash.
vm-message-forwarded|Message forwarded.
vm-no-such-mailbox|That is not a mailbox.
vm-no-caller-number|The caller's number is not known.
vm-greetings-menu|To record your greeting, press 1. Hear it, 2. Delete it, 3. Record your name, 4. Hear your name, 5. Main menu, star.
vm-record-greeting|Record your greeting after the tone. Press hash when you have finished.
vm-record-name|Say your name after the tone, then press hash.
vm-greeting-saved|Your greeting has been saved.
vm-name-saved|Your name has been saved.
vm-nothing-recorded|Nothing was recorded.
vm-recording-failed|Sorry, the recording could not be saved.
vm-no-greeting|You have not recorded a greeting.
vm-greeting-deleted|Your greeting has been deleted.
vm-no-name|You have not recorded your name.
WORDS

# The tone before a recording: 0.3 s at 1000 Hz, the same in every language.
sox -D -n -r 8000 -c 1 -e u-law "$here/prompts/en/beep.wav" synth 0.3 sine 1000 fade 0.01 0.3 0.01 vol 0.5
