//! Call recording (issue 6 item 7) and the voicemail channel pool it shares with
//! mailboxes and auto attendants (item 8).
//!
//! A call is recorded while two parties talk in it through the relay:
//!
//! ```text
//!   answered ──▶ Recording ──hold / park──▶ Paused ──resume / unpark by a party of
//!      │           │    ▲                     │       the recording──▶ Recording
//!      │           │    └─────────────────────┘
//!      │           └──hang-up, parties change, keys──▶ Stopped (kept in the mailboxes)
//!      └── automatically when the caller's or callee's user, or the hunt group the
//!          callee answered for, has `record_calls`; or when a party presses the record
//!          keys (`*1` by default), into that party's own mailbox
//! ```
//!
//! The state is derived from the call whenever something that matters may have changed
//! (answer, hold, park, transfer, pickup) by [`Pbx::review_recording`]: the pair of
//! people talking and whether music plays to either. A change of the pair (a transfer
//! completed, a parked call taken by someone else, a pickup with Replaces) stops the
//! recording — what was said so far is kept — and the new pair is recorded if it
//! qualifies; a call turned around for a transfer by its caller keeps its pair. A party
//! who stopped a recording by keys is not recorded again automatically for that pair.
//!
//! Recorded calls need the relay: an automatically recorded call does not use direct
//! media. A call whose media flows directly cannot be recorded (logged).
//!
//! Every recording takes a channel of the voicemail pool ([`crate::channels`]); one that
//! finds none is not started, and logged.

use super::*;
use crate::channels::{ChannelCounts, ChannelLimits, ChannelUse};
use crate::recording::{RecordingOwner, RecordingStarted, RecordingTrigger};

/// The recording side of a call.
#[derive(Debug, Default)]
pub(super) struct RecordingState {
    /// The recording that runs or is paused.
    current: Option<Running>,
    /// The pair a party stopped recording by keys: not recorded again automatically.
    declined: Option<Pair>,
    /// The last keys each side pressed (caller, callee), for the record key sequence.
    keys: [String; 2],
    /// The pair for which the relay was asked to read keys.
    listening: Option<Pair>,
}

/// The two people talking, in order (so that a call turned around keeps its pair).
type Pair = (String, String);

#[derive(Debug)]
struct Running {
    pair: Pair,
    /// The owners' mailboxes.
    mailboxes: Vec<String>,
    paused: bool,
}

fn pair(a: &str, b: &str) -> Pair {
    if a <= b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

impl Pbx {
    /// Voicemail channels in use, by function, counted from the calls.
    pub fn voicemail_channels(&self) -> (ChannelCounts, ChannelLimits) {
        let mut counts = ChannelCounts::default();
        for call in self.calls.calls.values() {
            if call.voicemail.is_some() {
                counts.add(if call.in_call_flow {
                    ChannelUse::Attendant
                } else {
                    ChannelUse::Mailbox
                });
            }
            if call.recording.current.is_some() {
                counts.add(ChannelUse::Recording);
            }
        }
        (counts, self.settings.voicemail_channels)
    }

    /// Whether `function` may take a voicemail channel now.
    pub(super) fn channel_free(&self, function: ChannelUse) -> bool {
        let (counts, limits) = self.voicemail_channels();
        limits.admits(counts, function)
    }

    /// True when `caller` calling `callee` (a number dialled) must go through the relay
    /// because it will be recorded automatically.
    pub(super) fn recording_needs_relay(&self, caller: &str, callee: &str) -> bool {
        self.features.records_calls(caller) || self.features.records_calls(callee)
    }

    /// The people talking in call `id` (caller, callee): answered, not in voicemail, a
    /// winning phone that is no extra party.
    fn talking(&self, id: u64) -> Option<(String, String)> {
        let call = self.calls.calls.get(&id)?;
        if call.answered.is_none() || call.voicemail.is_some() {
            return None;
        }
        let fork = call.forks.get(call.winner?)?;
        if fork.party.is_some() {
            return None;
        }
        let callee = self.features.person_at(&fork.extension).to_string();
        Some((call.caller.clone(), callee))
    }

    fn has_mailbox(&self, number: &str) -> bool {
        self.features.has_mailbox(number)
    }

    /// The name of a party: the caller's display name, or its user's full name.
    fn party_name(&self, id: u64, number: &str) -> Option<String> {
        let call = self.calls.calls.get(&id)?;
        let display = (number == call.caller)
            .then(|| {
                call.a
                    .invite
                    .headers
                    .get(&HeaderName::From)
                    .and_then(|v| NameAddr::parse(v).ok())
                    .and_then(|na| na.display_name)
            })
            .flatten();
        display.or_else(|| {
            self.features
                .user_at(number)
                .map(|u| u.full_name.clone())
                .filter(|n| !n.is_empty())
        })
    }

    fn owner(&self, id: u64, mailbox: &str, other: &str) -> RecordingOwner {
        RecordingOwner {
            mailbox: mailbox.to_string(),
            other_number: other.to_string(),
            other_name: self.party_name(id, other),
        }
    }

    /// Who gets an automatic recording of call `id` between `caller` and `callee`.
    fn automatic_owners(&self, id: u64, caller: &str, callee: &str) -> Vec<RecordingOwner> {
        let Some(call) = self.calls.calls.get(&id) else {
            return Vec::new();
        };
        let device = call
            .winner
            .and_then(|w| call.forks.get(w))
            .map(|f| f.extension.as_str())
            .unwrap_or_default();
        // A group that records the calls its members answer keeps them in its own
        // mailbox when it has one, else in the answering member's.
        let group = call.route.visited.iter().find(|n| {
            self.features.records_calls(n)
                && self
                    .features
                    .group(n)
                    .is_some_and(|g| g.members.iter().any(|m| m == device))
        });
        let group_box = group.filter(|n| self.has_mailbox(n)).cloned();
        let member_keeps = group.is_some() && group_box.is_none();
        let mut owners = Vec::new();
        for (me, other, wants) in [
            (caller, callee, self.features.records_calls(caller)),
            (
                callee,
                caller,
                self.features.records_calls(callee) || member_keeps,
            ),
            (
                group_box.as_deref().unwrap_or_default(),
                caller,
                group_box.is_some(),
            ),
        ] {
            if !wants || owners.iter().any(|o: &RecordingOwner| o.mailbox == me) {
                continue;
            }
            if self.has_mailbox(me) {
                owners.push(self.owner(id, me, other));
            } else {
                tracing::info!(
                    call = id,
                    user = me,
                    "calls recorded, but no mailbox to keep them"
                );
            }
        }
        owners
    }

    /// Brings call `id`'s recording in line with the call (see the module documentation).
    pub(super) fn review_recording(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let talking = self.talking(id);
        let now_pair = talking.as_ref().map(|(a, b)| pair(a, b));
        let held = call.hold.any() || call.parked.is_some();
        let parked = call.parked.is_some();
        if let Some(running) = &call.recording.current {
            let same = now_pair.as_ref() == Some(&running.pair);
            if same || (now_pair.is_none() && parked) {
                return self.set_paused(id, held);
            }
            self.stop_recording(id);
        }
        let Some((caller, callee)) = talking else {
            return;
        };
        self.listen_for_keys(id, &caller, &callee);
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        if call.recording.declined.as_ref() == now_pair.as_ref() {
            return;
        }
        let owners = self.automatic_owners(id, &caller, &callee);
        if !owners.is_empty() {
            self.start_recording(now, id, owners, RecordingTrigger::Automatic);
        }
    }

    /// Music started or stopped in call `id`: its recording pauses while music plays
    /// (hold, ringback to a transferee) or the call is parked, and resumes after.
    pub(super) fn recording_hold_changed(&mut self, id: u64) {
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let held = call.hold.any() || call.parked.is_some();
        // Parties changing (a transfer's target answering) are the review's to handle: the
        // old pair's recording is not resumed on the way.
        let pair_now = self.talking(id).map(|(a, b)| pair(&a, &b));
        let same = match (&call.recording.current, pair_now) {
            (Some(running), Some(p)) => running.pair == p,
            (Some(_), None) => true,
            (None, _) => false,
        };
        if same {
            self.set_paused(id, held);
        }
    }

    fn set_paused(&mut self, id: u64, paused: bool) {
        let Some(running) = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.recording.current.as_mut())
        else {
            return;
        };
        if running.paused == paused {
            return;
        }
        running.paused = paused;
        self.events.push_back(if paused {
            PbxEvent::RecordingPaused { call: id }
        } else {
            PbxEvent::RecordingResumed { call: id }
        });
    }

    fn start_recording(
        &mut self,
        now: Instant,
        id: u64,
        owners: Vec<RecordingOwner>,
        trigger: RecordingTrigger,
    ) {
        let Some((caller, callee)) = self.talking(id) else {
            return;
        };
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let Some(ports) = call.media else {
            tracing::warn!(
                call = id,
                "call not recorded: its media flows directly between the phones"
            );
            return;
        };
        if !self.channel_free(ChannelUse::Recording) {
            tracing::warn!(call = id, %caller, %callee, "call not recorded: no voicemail channel free");
            return;
        }
        let held = call.hold.any();
        let event = RecordingStarted {
            call: id,
            call_id: call.a.call_id.clone(),
            relay_session: ports.session,
            owners,
            started_ms: self.unix_ms(now),
            trigger,
        };
        let mailboxes = event.owners.iter().map(|o| o.mailbox.clone()).collect();
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.recording.current = Some(Running {
                pair: pair(&caller, &callee),
                mailboxes,
                paused: false,
            });
        }
        tracing::info!(call = id, %caller, %callee, ?trigger, "call recording starts");
        self.events.push_back(PbxEvent::RecordingStarted(event));
        if held {
            self.set_paused(id, true);
        }
    }

    /// Stops call `id`'s recording, if one runs: the shell keeps it.
    pub(super) fn stop_recording(&mut self, id: u64) {
        let stopped = self
            .calls
            .calls
            .get_mut(&id)
            .and_then(|c| c.recording.current.take());
        if stopped.is_some() {
            tracing::info!(call = id, "call recording stops");
            self.events
                .push_back(PbxEvent::RecordingStopped { call: id });
        }
    }

    /// Asks the relay to read the keys of each side whose user may record by keys (has a
    /// mailbox), once per pair.
    fn listen_for_keys(&mut self, id: u64, caller: &str, callee: &str) {
        if self.settings.recording.record_keys.is_empty() {
            return;
        }
        let Some(call) = self.calls.calls.get(&id) else {
            return;
        };
        let now_pair = pair(caller, callee);
        let Some(ports) = call.media else {
            return;
        };
        if call.recording.listening.as_ref() == Some(&now_pair) {
            return;
        }
        let sides = [
            (Side::Caller, caller, call.a.last_sdp.clone()),
            (Side::Callee, callee, call.sent_to_callee()),
        ];
        if let Some(call) = self.calls.calls.get_mut(&id) {
            call.recording.listening = Some(now_pair);
        }
        for (side, number, sdp) in sides {
            if !self.has_mailbox(number) {
                continue;
            }
            let Some(pt) = telephone_event_payload_type(&sdp) else {
                continue;
            };
            if let Some(relay) = self.media_relay.as_mut() {
                relay.listen_for_keys(ports.session, side, pt);
            }
        }
    }

    /// A key pressed on `side` of the call on relay session `session` (an RFC 4733
    /// telephone-event the relay read, see [`crate::MediaRelay::listen_for_keys`]). The
    /// record key sequence (`record_keys`, `*1` by default) starts recording the call
    /// into the presser's own mailbox, or stops the recording the presser owns. Returns
    /// true when the key belonged to a call that reads keys for recording.
    pub fn handle_key(&mut self, now: Instant, session: u64, side: Side, digit: char) -> bool {
        let keys = self.settings.recording.record_keys.clone();
        if keys.is_empty() {
            return false;
        }
        let Some(id) = self
            .calls
            .calls
            .iter()
            .find(|(_, c)| c.media.is_some_and(|m| m.session == session))
            .map(|(id, _)| *id)
        else {
            return false;
        };
        let Some((caller, callee)) = self.talking(id) else {
            return false;
        };
        let Some(call) = self.calls.calls.get_mut(&id) else {
            return false;
        };
        let typed = &mut call.recording.keys[usize::from(side == Side::Callee)];
        typed.push(digit);
        if typed.len() > keys.len() {
            typed.drain(..typed.len() - keys.len());
        }
        if *typed != keys {
            return true;
        }
        typed.clear();
        let (presser, other) = match side {
            Side::Caller => (caller, callee),
            Side::Callee => (callee, caller),
        };
        let owns = call
            .recording
            .current
            .as_ref()
            .map(|running| running.mailboxes.contains(&presser));
        match owns {
            Some(true) => {
                if let Some(call) = self.calls.calls.get_mut(&id) {
                    call.recording.declined = Some(pair(&presser, &other));
                }
                self.stop_recording(id);
            }
            Some(false) => {
                tracing::info!(call = id, %presser, "record keys: the recording is not this party's to stop");
            }
            None if !self.has_mailbox(&presser) => {
                tracing::info!(call = id, %presser, "record keys: no mailbox to record into");
            }
            None => {
                if let Some(call) = self.calls.calls.get_mut(&id) {
                    call.recording.declined = None;
                }
                let owner = self.owner(id, &presser, &other);
                self.start_recording(now, id, vec![owner], RecordingTrigger::Keys);
            }
        }
        true
    }
}

/// The payload type of the telephone-events in a session description's first audio
/// stream, if it has them.
fn telephone_event_payload_type(body: &[u8]) -> Option<u8> {
    let sd = sdp::parse(body).ok()?;
    let m = sd
        .media
        .iter()
        .find(|m| m.media == "audio" && m.port != 0)?;
    m.codecs().into_iter().find_map(|c| match c {
        sdp::Codec::TelephoneEvent { pt } => Some(pt),
        _ => None,
    })
}
