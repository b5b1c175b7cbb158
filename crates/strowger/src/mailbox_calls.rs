//! Voicemail calls at the edge: the mailbox dialogues (`voicemail::dialogue`) run here, on
//! the calls the core answered for voicemail ([`pbx::VoicemailCall`]), with the media
//! engine playing prompts to the caller, hearing its keys and recording it, and the message
//! store keeping what was said.
//!
//! Everything runs on one thread of its own ("voicemail"): a dialogue's store operations
//! are SQLite calls and file writes, which must never hold up SIP on the core loop, and
//! the media engine's commands wait for a relay thread's reply. The thread wakes for an
//! input (a new call, a key, the end of a prompt, silence, a hang-up) or a dialogue's
//! timer, and every 20 ms while it records, to move the caller's audio into the
//! recording's file.
//!
//! What it asks of the core — end the call, route it on — goes back to the core loop as a
//! [`CoreCommand`].

use crate::flows::SharedBook;
use crate::prompts::PromptLibrary;
use crate::voicemail::{MessageWaiting, SharedStore};
use media_engine::{
    Leg, MediaEngine, MediaEvent, Music, RecordOptions, RecordSource, Recording, SessionId,
};
use pbx::{VoicemailCall, VoicemailReason};
use std::collections::{HashMap, HashSet};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use voicemail::dialogue::{
    Action, Collect, CollectEntry, CollectSettings, Commit, Deposit, DepositCall, DepositReason,
    DepositSettings, Dialogue, Finish, Flow, FlowCall, Input, PlayItem, PlayTag, RecordingReport,
};
use voicemail::{AudioWriter, CommitOutcome, MailboxId, MessageStore};

/// How long a caller may say nothing before a recording ends.
const SILENCE_ENDS_RECORDING: Duration = Duration::from_secs(6);
/// How often recorded audio is moved to its file.
const DRAIN_EVERY: Duration = Duration::from_millis(20);
/// The longest the thread sleeps with nothing to do.
const IDLE_WAKE: Duration = Duration::from_secs(1);
/// The prompts' language (one for now; the library falls back to English).
const LANGUAGE: &str = "en";

/// What the voicemail thread is told.
#[derive(Debug)]
pub enum ServiceInput {
    /// The core answered a call for voicemail; the caller is on this leg of the relay
    /// session.
    Call(VoicemailCall, Leg),
    /// A call ended (the caller hung up, or the core ended it): its Call-ID.
    Ended(String),
    /// Something from the media engine.
    Media(MediaEvent),
    /// The core put the call (by its handle) through to the number a dialogue asked for
    /// (true), or nothing could ring there (false).
    Routed(u64, bool),
}

/// What the voicemail thread asks of the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreCommand {
    /// The dialogue is over: hang up.
    End(u64),
    /// The caller goes on to this number.
    Route(u64, String),
}

/// Sends inputs to the voicemail thread. Cheap to clone.
#[derive(Clone)]
pub struct VoicemailCalls {
    tx: Sender<ServiceInput>,
}

impl VoicemailCalls {
    /// The sender half, made before the media engine starts (its event callback sends
    /// into it), and the receiver for [`VoicemailCalls::spawn`].
    pub fn channel() -> (VoicemailCalls, Receiver<ServiceInput>) {
        let (tx, rx) = std::sync::mpsc::channel();
        (VoicemailCalls { tx }, rx)
    }

    /// Hands something to the voicemail thread (nothing happens once it stopped).
    pub fn send(&self, input: ServiceInput) {
        let _ = self.tx.send(input);
    }

    /// Starts the voicemail thread.
    pub fn spawn(
        rx: Receiver<ServiceInput>,
        parts: Parts,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new()
            .name("voicemail".into())
            .spawn(move || Service::new(parts).run(rx))
    }
}

/// What the voicemail thread works with.
pub struct Parts {
    /// The media engine of the relay sessions.
    pub engine: Arc<MediaEngine>,
    /// The message store.
    pub store: SharedStore,
    /// Message-waiting lamps.
    pub mwi: MessageWaiting,
    /// The built-in prompts.
    pub prompts: Arc<PromptLibrary>,
    /// Who has a mailbox, the call flows, the numbers a flow's caller may dial.
    pub book: SharedBook,
    /// To the core loop.
    pub to_core: tokio::sync::mpsc::UnboundedSender<CoreCommand>,
    /// Emails about new messages.
    pub email: crate::email::EmailNotifier,
}

/// One call in voicemail.
struct Session {
    call: u64,
    call_id: String,
    leg: Leg,
    payload_type: u8,
    dialogue: Box<dyn Dialogue + Send>,
    /// The play under way: the engine's tag and the dialogue's.
    playing: Option<(u64, PlayTag)>,
    recording: Option<(Recording, AudioWriter)>,
    /// The caller is gone: nothing more is played or sent to the core.
    gone: bool,
}

struct Service {
    parts: Parts,
    /// By relay session.
    sessions: HashMap<SessionId, Session>,
    next_tag: u64,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

impl Service {
    fn new(parts: Parts) -> Service {
        Service {
            parts,
            sessions: HashMap::new(),
            next_tag: 1,
        }
    }

    fn run(mut self, rx: Receiver<ServiceInput>) {
        loop {
            let wait = self.wait();
            match rx.recv_timeout(wait) {
                Ok(input) => self.on_input(input),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            self.drain_recordings();
            self.run_timers();
        }
        tracing::info!("voicemail thread stops");
    }

    /// Until the next dialogue timer, or the next drain of recorded audio.
    fn wait(&self) -> Duration {
        let now = now_ms();
        let timer = self
            .sessions
            .values()
            .filter_map(|s| s.dialogue.poll_timeout())
            .min()
            .map(|at| Duration::from_millis(at.saturating_sub(now)));
        let recording = self
            .sessions
            .values()
            .any(|s| s.recording.is_some())
            .then_some(DRAIN_EVERY);
        [timer, recording, Some(IDLE_WAKE)]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(IDLE_WAKE)
    }

    fn on_input(&mut self, input: ServiceInput) {
        match input {
            ServiceInput::Call(call, leg) => self.start(call, leg),
            ServiceInput::Ended(call_id) => {
                let found = self
                    .sessions
                    .iter()
                    .find(|(_, s)| s.call_id == call_id)
                    .map(|(id, _)| *id);
                if let Some(id) = found {
                    if let Some(s) = self.sessions.get_mut(&id) {
                        s.gone = true;
                    }
                    self.drain(id);
                    self.feed(id, Input::HungUp);
                }
            }
            ServiceInput::Media(event) => self.on_media(event),
            ServiceInput::Routed(call, routed) => self.routed(call, routed),
        }
    }

    fn on_media(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Digit { session, digit, .. }
                if digit.is_ascii_digit() || "*#".contains(digit) =>
            {
                self.feed(session, Input::Digit(digit));
            }
            MediaEvent::PlayFinished {
                session,
                tag,
                interrupted: false,
                ..
            } => {
                let finished = self.sessions.get_mut(&session).and_then(|s| {
                    let (engine_tag, play) = s.playing?;
                    (engine_tag == tag).then(|| {
                        s.playing = None;
                        play
                    })
                });
                if let Some(play) = finished {
                    self.feed(session, Input::PlayFinished(play));
                }
            }
            MediaEvent::Silence { session, .. } => self.feed(session, Input::Silence),
            _ => {}
        }
    }

    /// A new call: its dialogue starts.
    fn start(&mut self, call: VoicemailCall, leg: Leg) {
        let session = SessionId(call.relay_session);
        let mailbox = match call.reason {
            // A flow's name stands in the mailbox's place; any name will do as an id here.
            VoicemailReason::CallFlow => MailboxId::new("0"),
            _ => MailboxId::new(&call.mailbox),
        };
        let Ok(mailbox) = mailbox else {
            tracing::warn!(mailbox = %call.mailbox, "not a mailbox number");
            let _ = self.parts.to_core.send(CoreCommand::End(call.call));
            return;
        };
        if let Err(e) =
            self.parts
                .engine
                .set_dtmf_payload_type(session, leg, call.dtmf_payload_type)
        {
            tracing::warn!(error = %e, "keys will not be heard in voicemail");
        }
        let now = now_ms();
        let store = self.parts.store.clone();
        let Ok(mut store) = store.lock() else {
            return;
        };
        let dialogue: Box<dyn Dialogue + Send> = match call.reason {
            VoicemailReason::Collect => {
                let entry = if call.trusted {
                    CollectEntry::Trusted(mailbox)
                } else {
                    CollectEntry::Pin(mailbox)
                };
                let book = self.parts.book.clone();
                let lookup = Box::new(move |number: &str| {
                    book.read()
                        .unwrap_or_else(|poisoned| poisoned.into_inner())
                        .mailbox(number)
                });
                Box::new(Collect::start(
                    now,
                    entry,
                    CollectSettings::default(),
                    lookup,
                    &mut store,
                ))
            }
            VoicemailReason::CallFlow => {
                let flow = self
                    .parts
                    .book
                    .read()
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .flow(&call.mailbox);
                let Some(flow) = flow else {
                    tracing::warn!(flow = %call.mailbox, "no such call flow");
                    let _ = self.parts.to_core.send(CoreCommand::End(call.call));
                    return;
                };
                let call = FlowCall {
                    flow,
                    caller_number: Some(call.caller.clone()),
                    caller_name: call.caller_name.clone(),
                };
                let env = crate::flows::env(&self.parts.book);
                Box::new(Flow::start(now, call, env, &mut store))
            }
            reason => Box::new(Deposit::start(
                now,
                DepositCall {
                    mailbox,
                    reason: match reason {
                        VoicemailReason::Busy => DepositReason::Busy,
                        VoicemailReason::DoNotDisturb => DepositReason::DoNotDisturb,
                        _ => DepositReason::NoAnswer,
                    },
                    extension: Some(call.mailbox.clone()),
                    caller_number: Some(call.caller.clone()),
                    caller_name: call.caller_name.clone(),
                    active_profile: None,
                },
                DepositSettings::default(),
                &store,
            )),
        };
        drop(store);
        tracing::info!(call_id = %call.call_id, mailbox = %call.mailbox, reason = ?call.reason, "voicemail dialogue starts");
        self.sessions.insert(
            session,
            Session {
                call: call.call,
                call_id: call.call_id,
                leg,
                payload_type: call.payload_type,
                dialogue,
                playing: None,
                recording: None,
                gone: false,
            },
        );
        self.act(session);
    }

    /// The core's answer to a dialogue's transfer. A dialogue that is over (a deposit's
    /// "press 0 for the operator") does not wait for it: when nothing could ring, the call
    /// ends.
    fn routed(&mut self, call: u64, routed: bool) {
        let found = self
            .sessions
            .iter()
            .find(|(_, s)| s.call == call)
            .map(|(id, _)| *id);
        match (found, routed) {
            (Some(id), true) => self.feed(id, Input::Transferred),
            (Some(id), false) => self.feed(id, Input::TransferFailed),
            (None, true) => {}
            (None, false) => {
                let _ = self.parts.to_core.send(CoreCommand::End(call));
            }
        }
    }

    /// Hands an input to a session's dialogue and carries out what it asks.
    fn feed(&mut self, id: SessionId, input: Input) {
        self.handle(id, input);
        self.act(id);
    }

    /// Hands an input to a session's dialogue.
    fn handle(&mut self, id: SessionId, input: Input) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let mut store = match self.parts.store.lock() {
            Ok(store) => store,
            Err(poisoned) => poisoned.into_inner(),
        };
        s.dialogue.handle(now_ms(), input, &mut store);
    }

    fn run_timers(&mut self) {
        let now = now_ms();
        let due: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.dialogue.poll_timeout().is_some_and(|at| at <= now))
            .map(|(id, _)| *id)
            .collect();
        for id in due {
            if let Some(s) = self.sessions.get_mut(&id) {
                let mut store = match self.parts.store.lock() {
                    Ok(store) => store,
                    Err(poisoned) => poisoned.into_inner(),
                };
                s.dialogue.handle_timeout(now, &mut store);
            }
            self.act(id);
        }
    }

    /// Carries out every action the dialogue has, in order; inputs they produce (a
    /// recording's report) go back in at once.
    fn act(&mut self, id: SessionId) {
        loop {
            let Some(s) = self.sessions.get_mut(&id) else {
                return;
            };
            let Some(action) = s.dialogue.poll_action() else {
                break;
            };
            if let Some(input) = self.perform(id, action) {
                self.handle(id, input);
            }
        }
        let finished = self
            .sessions
            .get(&id)
            .is_some_and(|s| s.dialogue.is_finished());
        if finished {
            if let Some(s) = self.sessions.remove(&id) {
                if let Some((recording, writer)) = s.recording {
                    let _ = self.parts.engine.stop_recording(id, recording.id);
                    writer.abort();
                }
                tracing::info!(call_id = %s.call_id, "voicemail dialogue ends");
            }
        }
    }

    fn perform(&mut self, id: SessionId, action: Action) -> Option<Input> {
        let engine = self.parts.engine.clone();
        let s = self.sessions.get_mut(&id)?;
        match action {
            Action::Play { tag, items } => {
                if s.gone {
                    return None;
                }
                let music = self.assemble(&items);
                let s = self.sessions.get_mut(&id)?;
                let engine_tag = self.next_tag;
                self.next_tag += 1;
                match engine.play(id, s.leg, Arc::new(music), s.payload_type, engine_tag) {
                    Ok(()) => s.playing = Some((engine_tag, tag)),
                    Err(e) => {
                        tracing::debug!(error = %e, "voicemail prompt not played");
                        s.playing = None;
                        return Some(Input::PlayFinished(tag));
                    }
                }
                None
            }
            Action::StopPlaying => {
                s.playing = None;
                let _ = engine.stop_play(id, s.leg);
                None
            }
            Action::StartRecording { mailbox, .. } => {
                let started = self
                    .parts
                    .store
                    .lock()
                    .ok()
                    .map(|mut st| st.start_recording(&mailbox));
                let writer = match started {
                    Some(Ok(w)) => w,
                    Some(Err(e)) => return Some(Input::Recording(RecordingReport::from_error(&e))),
                    None => return Some(Input::Recording(RecordingReport::Failed)),
                };
                let options = RecordOptions {
                    silence_after: Some(SILENCE_ENDS_RECORDING),
                    ..RecordOptions::default()
                };
                match engine.start_recording(id, RecordSource::Leg(s.leg), options) {
                    Ok(recording) => {
                        s.recording = Some((recording, writer));
                        None
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "voicemail recording not started");
                        writer.abort();
                        Some(Input::Recording(RecordingReport::Failed))
                    }
                }
            }
            Action::FinishRecording(finish) => {
                self.drain(id);
                let s = self.sessions.get_mut(&id)?;
                let (recording, writer) = s.recording.take()?;
                if let Ok(stats) = engine.stop_recording(id, recording.id) {
                    tracing::debug!(?stats, "voicemail recording stopped");
                }
                let mut writer = writer;
                // What the relay made before it stopped.
                while let Ok(frame) = recording.frames.try_recv() {
                    if let Err(e) = writer.write_samples(&frame.samples) {
                        return Some(Input::Recording(RecordingReport::from_error(&e)));
                    }
                }
                let mut store = self.parts.store.lock().ok()?;
                self.finish_recording(finish, &mut store, writer)
            }
            Action::HangUp => {
                if !s.gone {
                    let _ = self.parts.to_core.send(CoreCommand::End(s.call));
                }
                None
            }
            Action::Transfer { to } => {
                if !s.gone {
                    let _ = self.parts.to_core.send(CoreCommand::Route(s.call, to));
                }
                None
            }
            Action::MailboxChanged(mailbox) => {
                self.parts.mwi.mailbox_changed(mailbox.as_str());
                None
            }
        }
    }

    /// One piece of audio for a play's items: prompts from the library, greetings and
    /// messages from their files (one that does not read is left out, and logged).
    fn assemble(&self, items: &[PlayItem]) -> Music {
        let pieces: Vec<Arc<Music>> = items
            .iter()
            .filter_map(|item| match item {
                PlayItem::Prompt(p) => {
                    let m = self.parts.prompts.get(LANGUAGE, p.name());
                    if m.is_none() {
                        tracing::error!(prompt = p.name(), "prompt not built in");
                    }
                    m
                }
                PlayItem::Greeting { path, .. }
                | PlayItem::Message { path, .. }
                | PlayItem::File(path) => Music::load(path)
                    .map(Arc::new)
                    .map_err(|e| tracing::warn!(error = %e, "recording does not play"))
                    .ok(),
            })
            .collect();
        let refs: Vec<&Music> = pieces.iter().map(Arc::as_ref).collect();
        Music::joined("voicemail", &refs)
    }

    fn drain_recordings(&mut self) {
        let ids: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.recording.is_some())
            .map(|(id, _)| *id)
            .collect();
        for id in ids {
            self.drain(id);
        }
    }

    /// Moves a session's recorded audio into its file. A write that fails (a full disk)
    /// ends the recording and tells the dialogue.
    fn drain(&mut self, id: SessionId) {
        let Some(s) = self.sessions.get_mut(&id) else {
            return;
        };
        let Some((recording, writer)) = s.recording.as_mut() else {
            return;
        };
        let mut failed = None;
        while let Ok(frame) = recording.frames.try_recv() {
            if let Err(e) = writer.write_samples(&frame.samples) {
                failed = Some(RecordingReport::from_error(&e));
                break;
            }
        }
        if let Some(report) = failed {
            if let Some((recording, writer)) = s.recording.take() {
                let _ = self.parts.engine.stop_recording(id, recording.id);
                writer.abort();
            }
            self.feed(id, Input::Recording(report));
        }
    }
}

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
            _ => {}
        }
    }

    /// Carries out a command of the voicemail thread on the core; the outcome of a
    /// route goes back to the thread.
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

impl Service {
    /// Commits or discards a finished recording; the report for the dialogue. A message
    /// stored is also queued for its owner's email.
    fn finish_recording(
        &self,
        finish: Finish,
        store: &mut MessageStore,
        writer: AudioWriter,
    ) -> Option<Input> {
        let Finish::Keep(Commit::Message(envelope)) = finish else {
            return finish.apply(store, writer);
        };
        let mailbox = writer.mailbox().clone();
        let report = match store.commit_message(writer, envelope) {
            Ok(CommitOutcome::Stored(message)) => {
                self.parts
                    .email
                    .message_deposited(store, message.id, &mailbox);
                RecordingReport::Stored {
                    duration_ms: message.duration_ms,
                }
            }
            Ok(CommitOutcome::TooShort { duration_ms, .. }) => {
                RecordingReport::TooShort { duration_ms }
            }
            Err(e) => RecordingReport::from_error(&e),
        };
        Some(Input::Recording(report))
    }
}
