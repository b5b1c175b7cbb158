//! The business call features of the configuration model: a user's call settings
//! (rights, forwarding, voicemail email) and hunt groups. Time profiles are in [`crate::time_profile`],
//! short codes in [`crate::short_codes`]. Like the rest of the model, values held here have
//! been validated (see [`crate::validate`]).

/// A class of calls a user may be allowed to make (`[[users]] rights`). Emergency numbers
/// are always allowed and are not a right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallRight {
    /// `internal`: extensions, hunt groups and short codes of this system.
    Internal,
    /// `local`: external numbers in the local area.
    Local,
    /// `national`: external numbers in the same country.
    National,
    /// `international`: numbers abroad.
    International,
    /// `premium`: premium-rate numbers.
    Premium,
}

impl CallRight {
    /// Every right, in the order they are listed.
    pub const ALL: [CallRight; 5] = [
        CallRight::Internal,
        CallRight::Local,
        CallRight::National,
        CallRight::International,
        CallRight::Premium,
    ];

    /// The name as written in the document: `"internal"`, `"local"`, `"national"`,
    /// `"international"` or `"premium"`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallRight::Internal => "internal",
            CallRight::Local => "local",
            CallRight::National => "national",
            CallRight::International => "international",
            CallRight::Premium => "premium",
        }
    }

    /// The right called `name` (exact, lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// The rights of a user who names none: every class but premium.
    pub fn default_rights() -> Vec<CallRight> {
        vec![
            CallRight::Internal,
            CallRight::Local,
            CallRight::National,
            CallRight::International,
        ]
    }
}

/// Where a user's calls go instead of ringing the user's extension (`[users.forward]`).
/// Targets are dialable numbers, internal or external; only their form is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarding {
    /// Every call is forwarded here at once, without ringing the user.
    pub unconditional: Option<String>,
    /// Calls arriving while the user is busy are forwarded here.
    pub busy: Option<String>,
    /// Calls not answered within `no_answer_secs` are forwarded here.
    pub no_answer: Option<String>,
    /// How long a call rings before forward on no answer (5..=300, default 15).
    pub no_answer_secs: u32,
    /// Follow me: calls ring here instead of on the user's extension (the user is at another
    /// desk); forwarding rules still apply when this number is busy or does not answer.
    pub follow_me: Option<String>,
}

impl Default for Forwarding {
    fn default() -> Self {
        Self {
            unconditional: None,
            busy: None,
            no_answer: None,
            no_answer_secs: 15,
            follow_me: None,
        }
    }
}

/// What a new voicemail message sends to its user's email address
/// (`[[users]] voicemail_email_mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum VoicemailEmailMode {
    /// `off` (the default): no email.
    #[default]
    Off,
    /// `notify`: an email saying who called, when and for how long; the recording stays
    /// in the mailbox only.
    Notify,
    /// `copy`: the same email with the recording attached (a WAV file); the message stays
    /// in the mailbox too.
    Copy,
    /// `forward`: the email with the recording attached, and the message is removed from
    /// the mailbox once the email has been handed to the mail server (not before: a
    /// message whose email cannot be sent stays in the mailbox).
    Forward,
}

impl VoicemailEmailMode {
    /// Every mode, in the order they are listed.
    pub const ALL: [VoicemailEmailMode; 4] = [
        VoicemailEmailMode::Off,
        VoicemailEmailMode::Notify,
        VoicemailEmailMode::Copy,
        VoicemailEmailMode::Forward,
    ];

    /// The name as written in the document: `"off"`, `"notify"`, `"copy"` or `"forward"`.
    pub fn as_str(self) -> &'static str {
        match self {
            VoicemailEmailMode::Off => "off",
            VoicemailEmailMode::Notify => "notify",
            VoicemailEmailMode::Copy => "copy",
            VoicemailEmailMode::Forward => "forward",
        }
    }

    /// The mode called `name` (exact, lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// How a hunt group presents a call to its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HuntMode {
    /// `collective`: every free member rings at once; the first to answer takes the call.
    Collective,
    /// `sequential`: members ring one at a time in the listed order, always from the first.
    Sequential,
    /// `rotary`: one at a time, starting after the member who rang last.
    Rotary,
    /// `longest_waiting`: one at a time, the member idle longest first.
    LongestWaiting,
}

impl HuntMode {
    /// Every mode, in the order they are listed.
    pub const ALL: [HuntMode; 4] = [
        HuntMode::Collective,
        HuntMode::Sequential,
        HuntMode::Rotary,
        HuntMode::LongestWaiting,
    ];

    /// The name as written in the document.
    pub fn as_str(self) -> &'static str {
        match self {
            HuntMode::Collective => "collective",
            HuntMode::Sequential => "sequential",
            HuntMode::Rotary => "rotary",
            HuntMode::LongestWaiting => "longest_waiting",
        }
    }

    /// The mode called `name` (exact, lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == name)
    }
}

/// A number that rings a group of extensions (`[[hunt_groups]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuntGroup {
    /// `[a-z0-9._-]{1,32}`, unique among hunt groups.
    pub name: String,
    /// 2..=15 digits; no extension or other hunt group has it.
    pub number: String,
    /// How calls are presented to members (default collective).
    pub mode: HuntMode,
    /// Extension numbers, in hunt order: at least one, each an existing extension, none
    /// twice.
    pub members: Vec<String>,
    /// How long one member rings before the next is tried, in the one-at-a-time modes
    /// (5..=300, default 15).
    pub no_answer_secs: u32,
    /// When every member is busy, callers wait in a queue (default true); otherwise they
    /// get busy (or the overflow).
    pub queue: bool,
    /// Most callers waiting at once; further callers get busy (0..=1000, default 10).
    pub queue_limit: u32,
    /// After this long unanswered or queued, the call goes to `overflow_to` (5..=3600).
    /// Set together with `overflow_to`.
    pub overflow_secs: Option<u32>,
    /// The overflow destination, a dialable number. Set together with `overflow_secs`.
    pub overflow_to: Option<String>,
    /// The name of a time profile: the group is in service only while it is active.
    pub time_profile: Option<String>,
    /// Where calls go while the group is out of service (outside its time profile, or
    /// night service set by short code); a dialable number. Without it callers get busy.
    pub night_service_to: Option<String>,
    /// The manual service state: false is night service, as set by the `night_service_on`
    /// short code (default true).
    pub in_service: bool,
    /// The music a caller hears when the member who answered its call to this group puts
    /// it on hold (a WAV file, as `system.music_on_hold`); without it, the member's own,
    /// else the system's.
    pub music_on_hold: Option<String>,
    /// Calls answered through the group are recorded: into the group's mailbox when it has
    /// one (`voicemail`), else into the mailbox of the member who answered. Default false.
    pub record_calls: bool,
    /// The group has a mailbox of its own, on its number (default false): callers leave
    /// messages there when nobody answers within `voicemail_secs`, when every member is
    /// busy and the queue is off or full, and while the group is out of service without
    /// a `night_service_to`.
    pub voicemail: bool,
    /// How long a call rings or waits in the group before the group's mailbox takes it
    /// (5..=3600, default 45). An `overflow_secs` that comes first wins: the call
    /// overflows and is the overflow target's from then on.
    pub voicemail_secs: u32,
    /// The address the group's voicemail emails go to.
    pub voicemail_email: Option<String>,
    /// What a new message in the group's mailbox sends to `voicemail_email` (as users').
    pub voicemail_email_mode: VoicemailEmailMode,
    /// A WAV file (as `music_on_hold`) said to callers waiting in the queue, in place of
    /// the built-in "all our colleagues are busy"; optional.
    pub queue_announcement: Option<String>,
    /// Waiting callers are told their place in the queue ("you are number 2 in the
    /// queue"), default true.
    pub queue_announce_place: bool,
    /// Seconds of music between two announcements to a waiting caller (5..=600, default
    /// 20).
    pub queue_announce_every_secs: u32,
}

impl HuntGroup {
    /// A collective group `name` on `number` ringing `members`, every other setting at its
    /// default.
    pub fn new(name: &str, number: &str, members: &[&str]) -> Self {
        Self {
            name: name.to_owned(),
            number: number.to_owned(),
            mode: HuntMode::Collective,
            members: members.iter().map(|m| (*m).to_owned()).collect(),
            no_answer_secs: 15,
            queue: true,
            queue_limit: 10,
            overflow_secs: None,
            overflow_to: None,
            time_profile: None,
            night_service_to: None,
            in_service: true,
            music_on_hold: None,
            record_calls: false,
            voicemail: false,
            voicemail_secs: 45,
            voicemail_email: None,
            voicemail_email_mode: VoicemailEmailMode::Off,
            queue_announcement: None,
            queue_announce_place: true,
            queue_announce_every_secs: 20,
        }
    }
}
