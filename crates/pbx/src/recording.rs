//! Call recording as the core decides it, and what the shell is told: which calls are
//! recorded (automatically for users and hunt groups with `record_calls`, or on a user's
//! key sequence during the call), into which mailboxes, and when the recording pauses
//! (hold, park), resumes and stops. The shell records the relay session's two legs mixed
//! into one file per mailbox; the core only decides (see `b2bua::recording`).

/// Settings of call recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingSettings {
    /// The keys a user presses during a call (RFC 4733 telephone-events) to start or stop
    /// recording it into the own mailbox; empty: no recording by keys.
    pub record_keys: String,
}

impl Default for RecordingSettings {
    fn default() -> Self {
        RecordingSettings {
            record_keys: "*1".into(),
        }
    }
}

/// One mailbox a recording goes into, with the envelope its message gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingOwner {
    /// The mailbox: the number of its user.
    pub mailbox: String,
    /// The number of the party the owner talked to.
    pub other_number: String,
    /// That party's name, if known (its display name, or its user's full name).
    pub other_name: Option<String>,
}

/// Why a recording started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordingTrigger {
    /// A user or hunt group records its calls (`record_calls`).
    Automatic,
    /// A party pressed the record keys.
    Keys,
}

/// A call's recording starts: the shell records the relay session's legs mixed, and
/// keeps a copy in each owner's mailbox when it stops ([`crate::PbxEvent::RecordingStopped`],
/// which also comes before the call's `CallEnded`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingStarted {
    /// The core's handle of the call (the later recording events name it).
    pub call: u64,
    /// The caller's Call-ID, as in the call record.
    pub call_id: String,
    /// The relay session whose legs are recorded.
    pub relay_session: u64,
    /// Where copies go: at least one.
    pub owners: Vec<RecordingOwner>,
    /// When it started (Unix milliseconds).
    pub started_ms: u64,
    /// Why.
    pub trigger: RecordingTrigger,
}
