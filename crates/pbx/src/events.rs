//! What the core hands back to the shell besides timers: bytes to send, events to log or
//! audit, counters and status views.

use crate::guard::BlockTarget;
use crate::Peer;
use std::time::Duration;

/// Bytes to send to a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Where to.
    pub dest: Peer,
    /// The whole message.
    pub bytes: Vec<u8>,
}

/// What became of a call, for the call record (CDR) when it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    /// The caller's Call-ID (the A leg), to find the call in a SIP trace.
    pub call_id: String,
    /// The calling extension.
    pub caller: String,
    /// The number dialled.
    pub callee: String,
    /// When the INVITE arrived (Unix milliseconds).
    pub started_ms: u64,
    /// When it was answered, if it was.
    pub answered_ms: Option<u64>,
    /// When it ended.
    pub ended_ms: u64,
    /// The final status the caller got (200 when answered).
    pub status: u16,
    /// Why it ended, in words: "caller hung up", "callee hung up", "busy", "cancelled" ...
    pub cause: String,
    /// Media statistics from the relay, in words (empty when media was not relayed).
    pub media: String,
    /// The account code the caller entered for this call (`*22*code#` before dialling, or
    /// `*22*code*number#`), if any.
    pub account_code: Option<String>,
}

/// Why a caller reached a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoicemailReason {
    /// The user did not answer in time (or has no phone registered).
    NoAnswer,
    /// The user was busy.
    Busy,
    /// The user is on do not disturb.
    DoNotDisturb,
    /// The mailbox's owner collects messages (the voicemail short code, `*17`).
    Collect,
    /// The caller dialled (or was sent to) a call flow's number: an auto attendant
    /// answers. The call's `mailbox` is then the flow's name.
    CallFlow,
}

/// A call the PBX answered for voicemail: the shell runs the mailbox dialogue on the
/// caller's side of the call's relay session, and ends the call (or routes it on) through
/// [`crate::Pbx::end_voicemail_call`] and [`crate::Pbx::route_voicemail_call`]. If the
/// caller hangs up first, a [`PbxEvent::CallEnded`] with the same `call_id` follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoicemailCall {
    /// The core's handle of the call.
    pub call: u64,
    /// The caller's Call-ID, as in the call record.
    pub call_id: String,
    /// The relay session; the caller's endpoint is on its caller side.
    pub relay_session: u64,
    /// The caller's G.711 payload type (0 PCMU, 8 PCMA) as we answered it.
    pub payload_type: u8,
    /// The payload type of the caller's RFC 4733 telephone events, if it sends them.
    pub dtmf_payload_type: Option<u8>,
    /// The mailbox: the number of its user; for [`VoicemailReason::CallFlow`], the
    /// call flow's name.
    pub mailbox: String,
    /// Why.
    pub reason: VoicemailReason,
    /// The calling number.
    pub caller: String,
    /// The caller's display name, if its INVITE gave one.
    pub caller_name: Option<String>,
    /// Collecting from the mailbox owner's own phone, which its user trusts: no PIN.
    pub trusted: bool,
}

/// The target of a screened transfer ([`crate::Pbx::screen_voicemail_call`]) answered:
/// the shell plays it the announcement on the callee side of the call's relay session and
/// hears its keys there, then calls [`crate::Pbx::accept_screened`] or
/// [`crate::Pbx::refuse_screened`]. The caller hears ringback meanwhile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreenAnswered {
    /// The core's handle of the call (the one in voicemail).
    pub call: u64,
    /// The relay session; the target's endpoint is on its callee side.
    pub relay_session: u64,
    /// The target's G.711 payload type (0 PCMU, 8 PCMA), from its answer.
    pub payload_type: u8,
    /// The payload type of the target's RFC 4733 telephone events, if it sends them.
    pub dtmf_payload_type: Option<u8>,
}

/// Something the shell should log, audit or show.
#[derive(Debug, Clone, PartialEq)]
pub enum PbxEvent {
    /// A call ended (answered or not); the record is for the CDR store.
    CallEnded(CallRecord),
    /// A call was answered for voicemail.
    VoicemailCall(VoicemailCall),
    /// The target of a screened transfer answered.
    ScreenAnswered(ScreenAnswered),
    /// A screened transfer ended without the target taking the call: nothing could
    /// ring, nobody answered in time, or the target hung up before choosing. The caller
    /// is still in voicemail (its ringback stopped). Not sent after
    /// [`crate::Pbx::refuse_screened`], nor when the caller hung up.
    ScreenFailed {
        /// The call.
        call: u64,
        /// The SIP status that ended it (the target's final response; 487 when the target
        /// hung up after answering).
        status: u16,
    },
    /// A call's recording starts (see [`crate::recording`]).
    RecordingStarted(crate::recording::RecordingStarted),
    /// A call's recording pauses: the call is on hold or parked.
    RecordingPaused {
        /// The call, as in [`crate::RecordingStarted::call`].
        call: u64,
    },
    /// A paused recording goes on.
    RecordingResumed {
        /// The call.
        call: u64,
    },
    /// A call's recording is over: the shell keeps what was recorded in the owners'
    /// mailboxes. Comes before the call's `CallEnded`, and when the parties change
    /// (transfer, pickup, a parked call taken by another) or a party stops it by keys.
    RecordingStopped {
        /// The call.
        call: u64,
    },
    /// A user changed a setting by short code; the core already acts on it, the shell
    /// keeps it in the configuration.
    FeatureChanged {
        /// The extension the short code was dialled from.
        extension: String,
        /// What changed.
        change: FeatureChange,
    },
    /// A contact was bound to an extension.
    Registered {
        /// The extension.
        extension: String,
        /// The contact URI.
        contact: String,
        /// Where the REGISTER came from.
        source: Peer,
        /// The REGISTER's Call-ID, to find it in a SIP trace.
        call_id: String,
    },
    /// A contact was removed by the phone or replaced at the contact limit.
    Unregistered {
        /// The extension.
        extension: String,
        /// The contact URI.
        contact: String,
    },
    /// Bindings lapsed without a refresh.
    Expired {
        /// How many.
        count: usize,
    },
    /// A wrong password was given.
    AuthFailed {
        /// The user name tried (may be no extension at all).
        username: String,
        /// From where.
        source: Peer,
        /// The request's Call-ID, to find it in a SIP trace.
        call_id: String,
    },
    /// Too many wrong passwords: the target is blocked for a while.
    Blocked {
        /// The source address or the extension.
        target: BlockTarget,
        /// For how long.
        duration: Duration,
    },
    /// A phone subscribed to its mailbox's message-waiting state (RFC 3842), or its
    /// subscription ended. Refreshes are not reported.
    MessageWaitingSubscription {
        /// The extension (its mailbox).
        extension: String,
        /// The subscriber's Contact.
        contact: String,
        /// What happened.
        change: SubscriptionChange,
    },
    /// A datagram or message that could not be parsed.
    Malformed {
        /// From where.
        source: Peer,
        /// The parser's reason.
        reason: String,
        /// True when a 400 was sent, false when dropped.
        answered: bool,
    },
}

/// Counters for status views and tests.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Requests received (after parsing, before transaction matching).
    pub requests: u64,
    /// Messages that failed to parse.
    pub malformed: u64,
    /// Of those, how many were dropped unanswered.
    pub dropped: u64,
    /// Requests dropped because their source is blocked.
    pub blocked_requests: u64,
    /// Failed authentications.
    pub auth_failures: u64,
    /// Successful registrations (REGISTER answered 200 after authentication).
    pub registrations: u64,
}

/// One binding as shown by `strowger status`.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistrationView {
    /// The extension.
    pub extension: String,
    /// The contact URI.
    pub contact: String,
    /// Where it registered from.
    pub source: Peer,
    /// Seconds until it lapses.
    pub expires_in: u64,
    /// The phone's User-Agent.
    pub user_agent: Option<String>,
}

/// A setting changed by short code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureChange {
    /// Do not disturb on or off for the extension's user.
    Dnd(bool),
    /// Forward unconditional to this number, or off.
    ForwardUnconditional(Option<String>),
    /// The extension joined (or left) a hunt group.
    HuntGroupMember {
        /// The group's number.
        group: String,
        /// True for join, false for leave.
        joined: bool,
    },
    /// The user (the event's extension is the user's number) logged in on this extension,
    /// or (`None`) logged out.
    HotDesk(Option<String>),
    /// A hunt group was put out of service (night service on) or back.
    NightService {
        /// The group's number.
        group: String,
        /// True when night service is now on (the group is out of service).
        on: bool,
    },
}

/// What happened to a `message-summary` subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionChange {
    /// It began, for this many seconds.
    Started {
        /// The granted duration.
        expires: u32,
    },
    /// It ended.
    Ended(SubscriptionEnd),
}

/// Why a `message-summary` subscription ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriptionEnd {
    /// The phone unsubscribed (`Expires: 0`).
    Unsubscribed,
    /// It was not refreshed in time.
    Expired,
    /// The phone refused our NOTIFY (481, or another failure without Retry-After); 0 when
    /// the NOTIFY could not even be built or sent.
    NotifyFailed {
        /// The status it answered.
        status: u16,
    },
    /// The phone did not answer our NOTIFY.
    NotifyTimedOut,
}
