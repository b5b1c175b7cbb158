//! The system's spoken prompts, by name, and how numbers are said with them.
//!
//! A dialogue asks for prompts by [`Prompt`]; the binary maps [`Prompt::name`] to a file,
//! `crates/strowger/assets/prompts/<language>/<name>.wav` (made by
//! `crates/strowger/assets/make-prompts.sh`, which holds the words). The words of each
//! prompt are quoted in its documentation below; a test checks that every name has its
//! English file.
//!
//! Numbers are said in two ways: a count in words ([`say_number`]: "one hundred and
//! twelve"), and a telephone number digit by digit ([`say_digits`]: "two oh one" is said
//! "two zero one").

/// Declares the prompt enum, its names and the list of all of them in one place.
macro_rules! prompts {
    ($( $(#[$doc:meta])* $variant:ident => $name:literal, )*) => {
        /// A system prompt, named after its file (see the module documentation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Prompt {
            $( $(#[$doc])* $variant, )*
        }

        impl Prompt {
            /// Every prompt, in declaration order.
            pub const ALL: &'static [Prompt] = &[ $( Prompt::$variant, )* ];

            /// The prompt's name: its file is `<name>.wav` in a language's prompt folder.
            pub fn name(self) -> &'static str {
                match self {
                    $( Prompt::$variant => $name, )*
                }
            }
        }
    };
}

prompts! {
    /// "zero"
    Zero => "number-0",
    /// "one"
    One => "number-1",
    /// "two"
    Two => "number-2",
    /// "three"
    Three => "number-3",
    /// "four"
    Four => "number-4",
    /// "five"
    Five => "number-5",
    /// "six"
    Six => "number-6",
    /// "seven"
    Seven => "number-7",
    /// "eight"
    Eight => "number-8",
    /// "nine"
    Nine => "number-9",
    /// "ten"
    Ten => "number-10",
    /// "eleven"
    Eleven => "number-11",
    /// "twelve"
    Twelve => "number-12",
    /// "thirteen"
    Thirteen => "number-13",
    /// "fourteen"
    Fourteen => "number-14",
    /// "fifteen"
    Fifteen => "number-15",
    /// "sixteen"
    Sixteen => "number-16",
    /// "seventeen"
    Seventeen => "number-17",
    /// "eighteen"
    Eighteen => "number-18",
    /// "nineteen"
    Nineteen => "number-19",
    /// "twenty"
    Twenty => "number-20",
    /// "thirty"
    Thirty => "number-30",
    /// "forty"
    Forty => "number-40",
    /// "fifty"
    Fifty => "number-50",
    /// "sixty"
    Sixty => "number-60",
    /// "seventy"
    Seventy => "number-70",
    /// "eighty"
    Eighty => "number-80",
    /// "ninety"
    Ninety => "number-90",
    /// "hundred"
    Hundred => "number-hundred",
    /// "and" (as in "one hundred and five")
    And => "and",
    /// "plus" (the `+` of an international number)
    Plus => "plus",
    /// A 0.3 s tone at 1000 Hz: "speak now".
    Beep => "beep",

    // Leaving a message.
    /// "The person at extension" (followed by the number, digit by digit)
    ThePersonAtExtension => "vm-the-person-at",
    /// "The person you are calling is not available."
    PersonNotAvailable => "vm-person-not-available",
    /// "is not available."
    IsNotAvailable => "vm-is-not-available",
    /// "is on another call."
    IsBusy => "vm-is-busy",
    /// "Please leave a message after the tone. Press hash when you have finished."
    LeaveMessage => "vm-leave-message",
    /// "Your message has been saved."
    MessageSaved => "vm-message-saved",
    /// "You have reached the maximum length of a message."
    MaxLength => "vm-max-length",
    /// "Your message was too short, and has not been kept."
    TooShort => "vm-too-short",
    /// "Sorry, your message could not be saved."
    NotSaved => "vm-not-saved",
    /// "Please hold."
    PleaseHold => "vm-please-hold",
    /// "Goodbye."
    Goodbye => "vm-goodbye",
    /// "Sorry, voicemail is not available at the moment. Please try again later."
    Unavailable => "vm-unavailable",

    // Logging in.
    /// "Please enter your mailbox number, then press hash."
    EnterMailbox => "vm-enter-mailbox",
    /// "Please enter your PIN, then press hash."
    EnterPin => "vm-enter-pin",
    /// "That PIN is not correct."
    WrongPin => "vm-wrong-pin",
    /// "Too many wrong PINs. This mailbox is locked; please try again later."
    Locked => "vm-locked",
    /// "Before you go on, you must choose a new PIN."
    MustChangePin => "vm-must-change-pin",
    /// "Please enter your new PIN, then press hash."
    EnterNewPin => "vm-enter-new-pin",
    /// "Please enter the new PIN again, then press hash."
    RepeatNewPin => "vm-repeat-new-pin",
    /// "The two PINs were not the same."
    PinsDiffer => "vm-pins-differ",
    /// "Your PIN has been changed."
    PinChanged => "vm-pin-changed",
    /// "That PIN is too short. A PIN needs at least" (a number, then [`Prompt::Digits`])
    PinTooShort => "vm-pin-too-short",
    /// "That PIN is too long. A PIN may have at most" (a number, then [`Prompt::Digits`])
    PinTooLong => "vm-pin-too-long",
    /// "digits."
    Digits => "vm-digits",
    /// "A PIN must not be one digit repeated."
    PinSameDigit => "vm-pin-same-digit",
    /// "A PIN must not be a run of consecutive digits."
    PinSequence => "vm-pin-sequence",
    /// "A PIN must not be the mailbox number."
    PinMailboxNumber => "vm-pin-mailbox",
    /// "That PIN is not allowed."
    PinRefused => "vm-pin-refused",

    // The main menu.
    /// "You have"
    YouHave => "vm-you-have",
    /// "no" (as in "no new messages")
    No => "vm-no",
    /// "new message"
    NewMessage => "vm-new-message",
    /// "new messages"
    NewMessages => "vm-new-messages",
    /// "saved message"
    SavedMessage => "vm-saved-message",
    /// "saved messages"
    SavedMessages => "vm-saved-messages",
    /// "For new messages, press 1. Saved messages, 2. Greetings, 3. To change your PIN, 4.
    /// To hear this again, star. To leave, hash."
    MainMenu => "vm-main-menu",

    // Messages.
    /// "There are no messages."
    NoMessages => "vm-no-messages",
    /// "There are no more messages."
    NoMoreMessages => "vm-no-more-messages",
    /// "This is the first message."
    FirstMessage => "vm-first-message",
    /// "Urgent."
    Urgent => "vm-urgent",
    /// "Message" (followed by its place in the list)
    Message => "vm-message",
    /// "from" (followed by the caller's number, digit by digit)
    From => "vm-from",
    /// "from an unknown caller."
    FromUnknownCaller => "vm-from-unknown",
    /// "Repeat, 5. Save, 9. Delete, 7. Forward, 8. Call back, 0. Next, 6. Previous, 4. Main
    /// menu, star."
    MessageOptions => "vm-message-options",
    /// "Message deleted."
    MessageDeleted => "vm-message-deleted",
    /// "Message saved."
    MessageKept => "vm-message-kept",
    /// "Enter the mailbox number to forward this message to, then press hash."
    ForwardTo => "vm-forward-to",
    /// "Message forwarded."
    MessageForwarded => "vm-message-forwarded",
    /// "That is not a mailbox."
    NoSuchMailbox => "vm-no-such-mailbox",
    /// "The caller's number is not known."
    NoCallerNumber => "vm-no-caller-number",

    // Greetings.
    /// "To record your greeting, press 1. Hear it, 2. Delete it, 3. Record your name, 4.
    /// Hear your name, 5. Main menu, star."
    GreetingsMenu => "vm-greetings-menu",
    /// "Record your greeting after the tone. Press hash when you have finished."
    RecordGreeting => "vm-record-greeting",
    /// "Say your name after the tone, then press hash."
    RecordName => "vm-record-name",
    /// "Your greeting has been saved."
    GreetingSaved => "vm-greeting-saved",
    /// "Your name has been saved."
    NameSaved => "vm-name-saved",
    /// "Nothing was recorded."
    NothingRecorded => "vm-nothing-recorded",
    /// "Sorry, the recording could not be saved."
    RecordingFailed => "vm-recording-failed",
    /// "You have not recorded a greeting."
    NoGreeting => "vm-no-greeting",
    /// "Your greeting has been deleted."
    GreetingDeleted => "vm-greeting-deleted",
    /// "You have not recorded your name."
    NoName => "vm-no-name",
    /// "Thank you for calling."
    AttendantWelcome => "attendant-welcome",
    /// "If you know the extension of the person you are calling, please dial it now."
    AttendantDialExtension => "attendant-dial-extension",
    /// "For the operator, press zero."
    AttendantOperator => "attendant-operator",
    /// "Sorry, that is not a valid choice."
    AttendantInvalid => "attendant-invalid",
    /// "Please hold while I put you through."
    AttendantTransferring => "attendant-transferring",
    /// "Our office is closed at the moment."
    AttendantClosed => "attendant-closed",
    /// "Sorry, that number cannot be reached."
    AttendantUnreachable => "attendant-unreachable",
    /// "After the tone, please say your name, then press hash." (a `record` step may say
    /// it before its beep)
    AttendantSayName => "attendant-say-name",
    /// "You have a call from" (an assisted transfer's announcement may start with it)
    AttendantCallFrom => "attendant-call-from",
    /// "To accept the call, press one. To refuse it, press two." (said to the target of
    /// every assisted transfer after its announcement)
    AttendantScreenKeys => "attendant-screen-keys",
}

const UNITS: [Prompt; 20] = [
    Prompt::Zero,
    Prompt::One,
    Prompt::Two,
    Prompt::Three,
    Prompt::Four,
    Prompt::Five,
    Prompt::Six,
    Prompt::Seven,
    Prompt::Eight,
    Prompt::Nine,
    Prompt::Ten,
    Prompt::Eleven,
    Prompt::Twelve,
    Prompt::Thirteen,
    Prompt::Fourteen,
    Prompt::Fifteen,
    Prompt::Sixteen,
    Prompt::Seventeen,
    Prompt::Eighteen,
    Prompt::Nineteen,
];

const TENS: [Prompt; 8] = [
    Prompt::Twenty,
    Prompt::Thirty,
    Prompt::Forty,
    Prompt::Fifty,
    Prompt::Sixty,
    Prompt::Seventy,
    Prompt::Eighty,
    Prompt::Ninety,
];

impl Prompt {
    /// The prompt called `name` ([`Prompt::name`]), if there is one.
    pub fn from_name(name: &str) -> Option<Prompt> {
        Prompt::ALL.iter().copied().find(|p| p.name() == name)
    }

    /// The prompt for one digit, `0` to `9`; `None` for anything else.
    pub fn digit(d: char) -> Option<Prompt> {
        d.to_digit(10).map(|n| UNITS[n as usize])
    }
}

/// `n` in British English words: "seven", "forty two", "one hundred and five". Past 999
/// (no mailbox holds that many messages) the number is said digit by digit.
pub fn say_number(n: u32) -> Vec<Prompt> {
    let mut out = Vec::new();
    if n > 999 {
        return say_digits(&n.to_string());
    }
    let hundreds = n / 100;
    let rest = n % 100;
    if hundreds > 0 {
        out.push(UNITS[hundreds as usize]);
        out.push(Prompt::Hundred);
        if rest == 0 {
            return out;
        }
        out.push(Prompt::And);
    }
    if rest < 20 {
        out.push(UNITS[rest as usize]);
    } else {
        out.push(TENS[(rest / 10 - 2) as usize]);
        if rest % 10 > 0 {
            out.push(UNITS[(rest % 10) as usize]);
        }
    }
    out
}

/// A telephone number digit by digit: `"+44 201"` is "plus four four two zero one".
/// Characters other than digits and `+` (spaces, dashes, letters of a SIP user name) are
/// skipped.
pub fn say_digits(number: &str) -> Vec<Prompt> {
    number
        .chars()
        .filter_map(|c| match c {
            '+' => Some(Prompt::Plus),
            c => Prompt::digit(c),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn names_are_unique_and_file_safe() {
        let mut seen = HashSet::new();
        for p in Prompt::ALL {
            assert!(seen.insert(p.name()), "{} twice", p.name());
            assert!(p
                .name()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
        }
    }

    #[test]
    fn counts_in_words() {
        use Prompt::*;
        assert_eq!(say_number(0), [Zero]);
        assert_eq!(say_number(7), [Seven]);
        assert_eq!(say_number(13), [Thirteen]);
        assert_eq!(say_number(20), [Twenty]);
        assert_eq!(say_number(42), [Forty, Two]);
        assert_eq!(say_number(100), [One, Hundred]);
        assert_eq!(say_number(105), [One, Hundred, And, Five]);
        assert_eq!(say_number(999), [Nine, Hundred, And, Ninety, Nine]);
        assert_eq!(say_number(1203), [One, Two, Zero, Three]);
    }

    #[test]
    fn numbers_digit_by_digit() {
        use Prompt::*;
        assert_eq!(say_digits("201"), [Two, Zero, One]);
        assert_eq!(say_digits("+44 20-7"), [Plus, Four, Four, Two, Zero, Seven]);
        assert_eq!(say_digits("alice"), []);
    }
}
