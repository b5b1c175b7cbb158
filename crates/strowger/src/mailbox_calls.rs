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

use crate::clips::{Clip, ClipFolder, ClipWriter};
use crate::flows::SharedBook;
use crate::prompts::PromptLibrary;
use crate::voicemail::{MessageWaiting, SharedStore};
use media_engine::{
    Leg, MediaEngine, MediaEvent, Music, RecordOptions, RecordSource, Recording, SessionId,
};
use pbx::{VoicemailCall, VoicemailReason};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use voicemail::dialogue::{
    Action, Collect, CollectEntry, CollectSettings, Commit, Deposit, DepositCall, DepositReason,
    DepositSettings, Dialogue, Finish, Flow, FlowCall, Input, PlayItem, PlayTag, RecordingReport,
};
use voicemail::{AudioWriter, CommitOutcome, MailboxId, MessageStore};

mod flow_media;

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
    /// The target of a screened transfer a dialogue asked for answered: it is on the
    /// other leg of the caller's relay session.
    ScreenAnswered(pbx::ScreenAnswered),
    /// A screened transfer (by the call's handle) is over without the target taking
    /// the call.
    ScreenFailed(u64),
}

/// What the voicemail thread asks of the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreCommand {
    /// The dialogue is over: hang up.
    End(u64),
    /// The caller goes on to this number.
    Route(u64, String),
    /// Ring this number for the caller without putting it through (screened transfer).
    Screen(u64, String),
    /// The screened target takes the call.
    AcceptScreened(u64),
    /// The screened target is hung up on; the caller stays.
    RefuseScreened(u64),
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
    /// Where calls' own recordings (a flow's `record` step) are kept while they last.
    pub clips: ClipFolder,
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
    /// The call's own recordings by name; their files go with the session.
    clips: HashMap<String, Clip>,
    /// The own recording under way: its name.
    clip_recording: Option<(Recording, ClipWriter, String)>,
    /// The target of a screened transfer that answered: its leg and payload type.
    target: Option<(Leg, u8)>,
    /// The play to the target under way: the engine's tag and the dialogue's.
    target_playing: Option<(u64, PlayTag)>,
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
            .any(|s| s.recording.is_some() || s.clip_recording.is_some())
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
            ServiceInput::ScreenAnswered(answered) => self.screen_answered(answered),
            ServiceInput::ScreenFailed(call) => {
                if let Some(id) = self.session_of(call) {
                    self.forget_target(id);
                    self.feed(id, Input::ScreenFailed);
                }
            }
        }
    }

    fn on_media(&mut self, event: MediaEvent) {
        match event {
            MediaEvent::Digit {
                session,
                digit,
                leg,
            } if digit.is_ascii_digit() || "*#".contains(digit) => {
                let Some(s) = self.sessions.get(&session) else {
                    return;
                };
                let input = if leg == s.leg {
                    Input::Digit(digit)
                } else if s.target.is_some_and(|(target, _)| target == leg) {
                    Input::TargetDigit(digit)
                } else {
                    return;
                };
                self.feed(session, input);
            }
            MediaEvent::PlayFinished {
                session,
                tag,
                interrupted: false,
                ..
            } => {
                let finished = self.sessions.get_mut(&session).and_then(|s| {
                    let ours = |playing: &mut Option<(u64, PlayTag)>| {
                        let (engine_tag, play) = (*playing)?;
                        (engine_tag == tag).then(|| {
                            *playing = None;
                            play
                        })
                    };
                    ours(&mut s.playing).or_else(|| ours(&mut s.target_playing))
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
                clips: HashMap::new(),
                clip_recording: None,
                target: None,
                target_playing: None,
            },
        );
        self.act(session);
    }

    /// The core's answer to a dialogue's transfer. A dialogue that is over (a deposit's
    /// "press 0 for the operator") does not wait for it: when nothing could ring, the call
    /// ends.
    fn routed(&mut self, call: u64, routed: bool) {
        let found = self.session_of(call);
        match (found, routed) {
            (Some(id), true) => self.feed(id, Input::Transferred),
            (Some(id), false) => self.feed(id, Input::TransferFailed),
            (None, true) => {}
            (None, false) => {
                let _ = self.parts.to_core.send(CoreCommand::End(call));
            }
        }
    }

    /// The session of the call with this handle.
    fn session_of(&self, call: u64) -> Option<SessionId> {
        self.sessions
            .iter()
            .find(|(_, s)| s.call == call)
            .map(|(id, _)| *id)
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
                if let Some((recording, _, _)) = s.clip_recording {
                    let _ = self.parts.engine.stop_recording(id, recording.id);
                }
                // The call's own recordings (s.clips) are removed as they drop here.
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
                let music = assemble(&self.parts.prompts, &items, &s.clips);
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
            Action::StartClip { name } => {
                if !s.gone {
                    self.start_clip(id, name);
                }
                None
            }
            Action::FinishClip => {
                self.finish_clip(id);
                None
            }
            Action::ScreenTransfer { to } => {
                if !s.gone {
                    let _ = self.parts.to_core.send(CoreCommand::Screen(s.call, to));
                }
                None
            }
            Action::PlayToTarget { tag, items } => self.play_to_target(id, tag, &items),
            Action::AcceptScreened => {
                let call = s.call;
                self.forget_target(id);
                let _ = self.parts.to_core.send(CoreCommand::AcceptScreened(call));
                None
            }
            Action::RefuseScreened => {
                let call = s.call;
                self.forget_target(id);
                let _ = self.parts.to_core.send(CoreCommand::RefuseScreened(call));
                None
            }
        }
    }

    fn drain_recordings(&mut self) {
        let ids: Vec<SessionId> = self
            .sessions
            .iter()
            .filter(|(_, s)| s.recording.is_some() || s.clip_recording.is_some())
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
        if let Some((recording, writer, _)) = s.clip_recording.as_mut() {
            while let Ok(frame) = recording.frames.try_recv() {
                if let Err(e) = writer.write_samples(&frame.samples) {
                    // The dialogue goes on; the recording plays as nothing.
                    tracing::warn!(error = %e, "flow recording not kept");
                    if let Some((recording, _, _)) = s.clip_recording.take() {
                        let _ = self.parts.engine.stop_recording(id, recording.id);
                    }
                    break;
                }
            }
        }
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

/// One piece of audio for a play's items: prompts from the library, greetings and
/// messages from their files, the call's own recordings by name (one that does not read
/// is left out, and logged).
fn assemble(prompts: &PromptLibrary, items: &[PlayItem], clips: &HashMap<String, Clip>) -> Music {
    let pieces: Vec<Arc<Music>> = items
        .iter()
        .filter_map(|item| match item {
            PlayItem::Prompt(p) => {
                let m = prompts.get(LANGUAGE, p.name());
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
            PlayItem::Clip(name) => {
                let clip = clips.get(name)?;
                Music::load(clip.path())
                    .map(Arc::new)
                    .map_err(|e| tracing::warn!(error = %e, "flow recording does not play"))
                    .ok()
            }
        })
        .collect();
    let refs: Vec<&Music> = pieces.iter().map(Arc::as_ref).collect();
    Music::joined("voicemail", &refs)
}
