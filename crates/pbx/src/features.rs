//! The people and groups calls are routed to, in the shape call control uses: users with
//! their forwarding, do-not-disturb settings and rights, hunt groups with their time
//! profiles, the short codes and the dial plan. The binary builds these from the
//! configuration document; this crate knows nothing of TOML.

use crate::dialplan::{CallRight, DialPlan};
use crate::shortcodes::ShortCodes;
use crate::time_profile::TimeProfile;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// Where a user's calls go instead of (or after) ringing the user's extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarding {
    /// Every call goes here at once (forward unconditional, or follow-me).
    pub unconditional: Option<String>,
    /// Calls go here when the user is busy or on do-not-disturb.
    pub busy: Option<String>,
    /// Calls go here when the user does not answer within `no_answer_after` (or has no
    /// registered phone).
    pub no_answer: Option<String>,
    /// How long the user's phones ring before forward on no answer applies.
    pub no_answer_after: Duration,
}

impl Default for Forwarding {
    fn default() -> Self {
        Forwarding {
            unconditional: None,
            busy: None,
            no_answer: None,
            no_answer_after: Duration::from_secs(15),
        }
    }
}

/// A person, reached at an extension number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntry {
    /// Login name.
    pub name: String,
    /// Display name.
    pub full_name: String,
    /// The extension number the user is reached at.
    pub extension: String,
    /// Forwarding settings.
    pub forward: Forwarding,
    /// Do not disturb: callers get busy (or the busy forward), except these numbers.
    pub dnd: bool,
    /// Callers that ring through do-not-disturb.
    pub dnd_exceptions: Vec<String>,
    /// A second call rings while the user is in a call (otherwise it is busy).
    pub call_waiting: bool,
    /// The call classes the user may call, from this extension or by forwarding and
    /// transfer (emergency numbers need no right).
    pub rights: Vec<CallRight>,
    /// Hot desking: the code the user logs in with on another extension.
    pub login_code: Option<String>,
    /// The extension the user is logged in on (its phones ring for the user's number, its
    /// calls are the user's); `None` at home.
    pub hot_desk_at: Option<String>,
    /// May listen in on and join other users' calls.
    pub can_intrude: bool,
    /// Nobody may listen in on or join this user's calls.
    pub cannot_be_intruded: bool,
    /// The user has a mailbox: calls not answered (after the no-answer time), busy or on
    /// do not disturb go to it when no forward takes them. Default false (the shell turns
    /// it on when its voicemail service runs).
    pub voicemail: bool,
    /// Collecting messages from the user's own phone needs no PIN. Default true.
    pub voicemail_trusted: bool,
}

impl UserEntry {
    /// A user on `extension` with no forwarding, no DND, call waiting on and the default
    /// rights (every class but premium).
    pub fn new(name: &str, extension: &str) -> UserEntry {
        UserEntry {
            name: name.to_string(),
            full_name: String::new(),
            extension: extension.to_string(),
            forward: Forwarding::default(),
            dnd: false,
            dnd_exceptions: Vec::new(),
            call_waiting: true,
            rights: CallRight::DEFAULT.to_vec(),
            login_code: None,
            hot_desk_at: None,
            can_intrude: false,
            cannot_be_intruded: true,
            voicemail: false,
            voicemail_trusted: true,
        }
    }
}

/// The rights of an extension no user is on: internal calls only. Outside calls are made
/// by people, and a phone without one (a lobby phone, a door phone) must not become a way
/// out; emergency numbers stay allowed.
pub const NO_USER_RIGHTS: [CallRight; 1] = [CallRight::Internal];

/// How a hunt group offers a call to its members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HuntMode {
    /// Every available member rings at once; the first to answer gets the call.
    Collective,
    /// Members ring one at a time, always starting with the first.
    Sequential,
    /// Members ring one at a time, starting after the one offered the previous call.
    Rotary,
    /// Members ring one at a time, the one idle longest first.
    LongestWaiting,
}

/// A hunt group: a number that shares calls among a team.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HuntGroupEntry {
    /// The group's name, shown to members when a call for the group rings.
    pub name: String,
    /// The number callers dial.
    pub number: String,
    /// How members are offered calls.
    pub mode: HuntMode,
    /// Member extension numbers, in order.
    pub members: Vec<String>,
    /// How long each member rings in the one-at-a-time modes.
    pub no_answer_after: Duration,
    /// After this long unanswered, the call goes to the number given.
    pub overflow: Option<(Duration, String)>,
    /// Out of service (`in_service` false, or outside the time profile): calls go here, or
    /// get 480 without it.
    pub night_service_to: Option<String>,
    /// Whether the group takes calls (night service when false, e.g. set by short code).
    pub in_service: bool,
    /// The group takes calls only while this profile is active (and `in_service`).
    pub time_profile: Option<TimeProfile>,
    /// With every member busy, up to this many callers wait in the group's queue
    /// (answered, hearing their place and music) for the next free member; 0: no queue,
    /// they get busy (or the overflow).
    pub queue_limit: usize,
    /// The group has a mailbox on its number: a call still unanswered (ringing or queued)
    /// this long after it reached the group leaves a message there; so do callers who
    /// find every member busy and no room in the queue, and callers while the group is out
    /// of service without a `night_service_to`. `None`: no group mailbox.
    pub voicemail_after: Option<Duration>,
}

/// Users and hunt groups by number, the short codes and the dial plan.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Features {
    users: HashMap<String, UserEntry>,
    groups: HashMap<String, HuntGroupEntry>,
    short_codes: ShortCodes,
    dial_plan: DialPlan,
    /// Music on hold chosen for a user (by extension) or a hunt group (by number).
    music_on_hold: HashMap<String, String>,
    /// Call flow names by the number that reaches them.
    call_flows: HashMap<String, String>,
    /// Users (by extension) and hunt groups (by number) whose calls are recorded.
    record_calls: HashSet<String>,
    /// What hunt groups (by number) say to callers waiting in their queues.
    queue_announcements: HashMap<String, crate::media::QueueAnnouncement>,
}

impl Features {
    /// These users (by their extension) and hunt groups (by number).
    pub fn new(
        users: impl IntoIterator<Item = UserEntry>,
        groups: impl IntoIterator<Item = HuntGroupEntry>,
    ) -> Features {
        Features {
            users: users
                .into_iter()
                .map(|u| (u.extension.clone(), u))
                .collect(),
            groups: groups.into_iter().map(|g| (g.number.clone(), g)).collect(),
            short_codes: ShortCodes::default(),
            dial_plan: DialPlan::default(),
            music_on_hold: HashMap::new(),
            call_flows: HashMap::new(),
            record_calls: HashSet::new(),
            queue_announcements: HashMap::new(),
        }
    }

    /// The same, with these call flows (auto attendants): `(number, flow name)`. A call
    /// to the number is answered and handed to the shell, which runs the flow.
    pub fn with_call_flows(
        mut self,
        flows: impl IntoIterator<Item = (String, String)>,
    ) -> Features {
        self.call_flows = flows.into_iter().collect();
        self
    }

    /// The name of the call flow `number` reaches, if any.
    pub fn call_flow(&self, number: &str) -> Option<&str> {
        self.call_flows.get(number).map(String::as_str)
    }

    /// The same, with this dial plan (the default is UK/EU style: see [`DialPlan`]).
    pub fn with_dial_plan(mut self, plan: DialPlan) -> Features {
        self.dial_plan = plan;
        self
    }

    /// How dialled numbers are classified.
    pub fn dial_plan(&self) -> &DialPlan {
        &self.dial_plan
    }

    /// The rights of whoever calls from an extension: its user's, or [`NO_USER_RIGHTS`].
    pub fn rights_at(&self, extension: &str) -> &[CallRight] {
        self.users
            .get(extension)
            .map_or(&NO_USER_RIGHTS[..], |u| &u.rights[..])
    }

    /// The same, with these short codes.
    pub fn with_short_codes(mut self, codes: ShortCodes) -> Features {
        self.short_codes = codes;
        self
    }

    /// The same, with this music on hold: `(number, music)` where the number is a user's
    /// extension or a hunt group's, and the music a name the media relay knows (the
    /// binary uses the configured file's path). Others hear the system's music.
    pub fn with_music_on_hold(
        mut self,
        music: impl IntoIterator<Item = (String, String)>,
    ) -> Features {
        self.music_on_hold = music.into_iter().collect();
        self
    }

    /// The same, with what these hunt groups (by number) say to callers waiting in their
    /// queues; the others say the built-in words and the place every 20 s.
    pub fn with_queue_announcements(
        mut self,
        announcements: impl IntoIterator<Item = (String, crate::media::QueueAnnouncement)>,
    ) -> Features {
        self.queue_announcements = announcements.into_iter().collect();
        self
    }

    /// What hunt group `number` says to callers waiting in its queue.
    pub fn queue_announcement(&self, number: &str) -> crate::media::QueueAnnouncement {
        self.queue_announcements
            .get(number)
            .cloned()
            .unwrap_or_default()
    }

    /// The music on hold chosen for a user's extension or a hunt group's number, if any.
    pub fn music_on_hold(&self, number: &str) -> Option<&str> {
        self.music_on_hold.get(number).map(String::as_str)
    }

    /// The same, recording automatically every answered call of these numbers: users'
    /// extensions (any call they take part in) and hunt groups' numbers (calls answered
    /// through the group, into the answering member's mailbox).
    pub fn with_call_recording(mut self, numbers: impl IntoIterator<Item = String>) -> Features {
        self.record_calls = numbers.into_iter().collect();
        self
    }

    /// True when the calls of this user's extension or hunt group's number are recorded.
    pub fn records_calls(&self, number: &str) -> bool {
        self.record_calls.contains(number)
    }

    /// The short codes users dial.
    pub fn short_codes(&self) -> &ShortCodes {
        &self.short_codes
    }

    /// The user at an extension, created (no forwarding, no DND) if there is none. A
    /// created one keeps the rights of an extension without a user: setting DND by short
    /// code must not grant outside calls.
    pub(crate) fn user_at_mut(&mut self, extension: &str) -> &mut UserEntry {
        self.users
            .entry(extension.to_string())
            .or_insert_with(|| UserEntry {
                rights: NO_USER_RIGHTS.to_vec(),
                ..UserEntry::new(extension, extension)
            })
    }

    /// The extension whose phones ring for `number`: where its user is logged in, else
    /// the number itself.
    pub fn device_of<'a>(&'a self, number: &'a str) -> &'a str {
        self.users
            .get(number)
            .and_then(|u| u.hot_desk_at.as_deref())
            .unwrap_or(number)
    }

    /// Who calls from extension `device`: the number of the user logged in there, else
    /// the extension itself.
    pub fn person_at<'a>(&'a self, device: &'a str) -> &'a str {
        self.users
            .values()
            .find(|u| u.hot_desk_at.as_deref() == Some(device))
            .map_or(device, |u| u.extension.as_str())
    }

    /// Logs the user whose number is `number` in on `device` when `code` is theirs; the
    /// user logged in there before (if another) is logged out. Returns that user's number.
    pub(crate) fn log_in(
        &mut self,
        device: &str,
        number: &str,
        code: &str,
    ) -> Result<Option<String>, &'static str> {
        // One answer for both: which numbers have users is nobody's business here.
        let user = self.users.get(number).ok_or("wrong number or login code")?;
        if user.login_code.as_deref() != Some(code) {
            return Err("wrong number or login code");
        }
        let before = self.person_at(device).to_string();
        let previous = (before != device && before != number).then_some(before);
        if let Some(p) = &previous {
            if let Some(u) = self.users.get_mut(p) {
                u.hot_desk_at = None;
            }
        }
        if let Some(u) = self.users.get_mut(number) {
            // Logging in at one's own extension is coming home.
            u.hot_desk_at = (device != number).then(|| device.to_string());
        }
        Ok(previous)
    }

    /// Logs out whoever is logged in on `device`; returns their number.
    pub(crate) fn log_out(&mut self, device: &str) -> Option<String> {
        let user = self
            .users
            .values_mut()
            .find(|u| u.hot_desk_at.as_deref() == Some(device))?;
        user.hot_desk_at = None;
        Some(user.extension.clone())
    }

    /// True when both extensions are members of one hunt group (group pickup).
    pub(crate) fn share_a_group(&self, a: &str, b: &str) -> bool {
        self.groups
            .values()
            .any(|g| g.members.iter().any(|m| m == a) && g.members.iter().any(|m| m == b))
    }

    /// The hunt group with this number, to change.
    pub(crate) fn group_mut(&mut self, number: &str) -> Option<&mut HuntGroupEntry> {
        self.groups.get_mut(number)
    }

    /// The user reached at an extension number.
    pub fn user_at(&self, extension: &str) -> Option<&UserEntry> {
        self.users.get(extension)
    }

    /// The hunt group with this number.
    pub fn group(&self, number: &str) -> Option<&HuntGroupEntry> {
        self.groups.get(number)
    }

    /// True when `number` has a mailbox: a user's extension with `voicemail`, or a hunt
    /// group's number with a mailbox (`voicemail_after`).
    pub fn has_mailbox(&self, number: &str) -> bool {
        self.user_at(number).is_some_and(|u| u.voicemail)
            || self
                .group(number)
                .is_some_and(|g| g.voicemail_after.is_some())
    }
}
