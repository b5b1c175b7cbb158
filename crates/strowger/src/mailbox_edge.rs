//! The core loop's side of voicemail: the calls the core answered for voicemail go to the
//! voicemail thread ([`crate::mailbox_calls`]), with the ends of those calls and what
//! became of the screened transfers it asked for; its commands are carried out on the
//! core.

use crate::flows::SharedBook;
use crate::mailbox_calls::{CoreCommand, ServiceInput, VoicemailCalls};
use media_engine::Leg;
use std::collections::HashSet;
use std::sync::Arc;

/// The relay sessions whose call turned around (their caller is on leg B), as the relay
/// keeps them.
pub type SwappedSessions = Arc<std::sync::Mutex<HashSet<u64>>>;

/// The core loop's side of voicemail: hands the voicemail thread the calls the core
/// answered for voicemail and the ends of those calls, and carries its commands back.
pub struct VoicemailEdge {
    calls: VoicemailCalls,
    /// The Call-IDs of the calls in voicemail.
    in_voicemail: HashSet<String>,
    swapped: SwappedSessions,
    book: SharedBook,
}

impl VoicemailEdge {
    /// The edge for a running voicemail thread.
    pub fn new(calls: VoicemailCalls, swapped: SwappedSessions, book: SharedBook) -> Self {
        VoicemailEdge {
            calls,
            in_voicemail: HashSet::new(),
            swapped,
            book,
        }
    }

    /// Passes on what concerns voicemail in an event of the core.
    pub fn on_event(&mut self, event: &pbx::PbxEvent) {
        match event {
            pbx::PbxEvent::VoicemailCall(call) => {
                let swapped = self
                    .swapped
                    .lock()
                    .map(|s| s.contains(&call.relay_session))
                    .unwrap_or(false);
                let leg = if swapped { Leg::B } else { Leg::A };
                self.in_voicemail.insert(call.call_id.clone());
                self.calls.send(ServiceInput::Call(call.clone(), leg));
            }
            pbx::PbxEvent::CallEnded(record) if self.in_voicemail.remove(&record.call_id) => {
                self.calls.send(ServiceInput::Ended(record.call_id.clone()));
            }
            pbx::PbxEvent::ScreenAnswered(answered) => {
                self.calls
                    .send(ServiceInput::ScreenAnswered(answered.clone()));
            }
            pbx::PbxEvent::ScreenFailed { call, .. } => {
                self.calls.send(ServiceInput::ScreenFailed(*call));
            }
            _ => {}
        }
    }

    /// Carries out a command of the voicemail thread on the core; the outcome of a
    /// route, and a screened transfer that cannot ring, go back to the thread.
    pub fn apply(&self, pbx: &mut pbx::Pbx, now: std::time::Instant, command: CoreCommand) {
        match command {
            CoreCommand::End(call) => {
                pbx.end_voicemail_call(now, call);
            }
            CoreCommand::Route(call, number) => {
                let routed = pbx.route_voicemail_call(now, call, &number);
                if let Err(status) = routed {
                    tracing::info!(number, status, "voicemail caller could not be routed on");
                }
                self.calls.send(ServiceInput::Routed(call, routed.is_ok()));
            }
            CoreCommand::Screen(call, number) => {
                if let Err(status) = pbx.screen_voicemail_call(now, call, &number) {
                    tracing::info!(number, status, "screened transfer cannot ring");
                    self.calls.send(ServiceInput::ScreenFailed(call));
                }
            }
            CoreCommand::AcceptScreened(call) => {
                if !pbx.accept_screened(now, call) {
                    tracing::info!(call, "screened transfer over before it was accepted");
                }
            }
            CoreCommand::RefuseScreened(call) => {
                pbx.refuse_screened(now, call);
            }
        }
    }

    /// The voicemail thread's view of a configuration just applied.
    pub fn set_config(&self, config: &store::Config) {
        let book = crate::flows::Book::from_config(config);
        *self
            .book
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = book;
    }
}
