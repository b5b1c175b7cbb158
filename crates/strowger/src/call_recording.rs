//! Call recording at the edge: the core decides when a call is recorded, paused, resumed
//! and stopped ([`pbx::RecordingStarted`] and the other `Recording*` events); here the
//! media engine mixes the relay session's two legs into one 8 kHz stream
//! ([`RecordSource::Mixed`]), and the stream goes into one file per owner's mailbox,
//! committed as a message of kind "recording" whose envelope names the other party, the
//! start time and (from the file) the length.
//!
//! Everything runs on one thread of its own ("call-recording"): the media engine's
//! commands wait for a relay thread's reply, and the files and SQLite must never hold up
//! SIP on the core loop. The thread drains every recording's frames every 20 ms. It never
//! calls tokio: the lamps and emails it starts are queued on their own.
//!
//! When the call ends, the core closes the relay session before the shell hears of the
//! stop; the frames made until then are still in the recording's channel, and are kept.

use crate::voicemail::{MessageWaiting, SharedStore};
use media_engine::{MediaEngine, RecordOptions, RecordSource, Recording, SessionId};
use pbx::{PbxEvent, RecordingOwner, RecordingStarted};
use std::collections::HashMap;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::Duration;
use voicemail::{AudioWriter, CommitOutcome, MailboxId, MessageKind, MessageStore, NewMessage};

/// How often recorded audio is moved to its files.
const DRAIN_EVERY: Duration = Duration::from_millis(20);
/// The longest the thread sleeps with nothing recording.
const IDLE_WAKE: Duration = Duration::from_secs(1);
/// Frames the engine may queue for a recording (5 s): a disk that stalls that long loses
/// audio, counted by the engine, rather than holding up a relay thread.
const QUEUE_FRAMES: usize = 250;

/// What the recording thread is told: the core's recording events.
#[derive(Debug)]
enum Input {
    Start(RecordingStarted),
    Pause(u64),
    Resume(u64),
    Stop(u64),
}

/// The core loop's side of call recording: passes the core's recording events to the
/// recording thread. Cheap to clone.
#[derive(Clone)]
pub struct CallRecorder {
    tx: Sender<Input>,
}

/// What the recording thread works with.
pub struct Parts {
    /// The media engine of the relay sessions.
    pub engine: Arc<MediaEngine>,
    /// The message store the recordings go into.
    pub store: SharedStore,
    /// Message-waiting lamps (a recording is a new item in its mailbox).
    pub mwi: MessageWaiting,
    /// Emails about new messages, as each owner chose.
    pub email: crate::email::EmailNotifier,
}

impl CallRecorder {
    /// Starts the recording thread.
    pub fn spawn(parts: Parts) -> std::io::Result<CallRecorder> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("call-recording".into())
            .spawn(move || Recorder::new(parts).run(rx))?;
        Ok(CallRecorder { tx })
    }

    /// Passes on what concerns recording in an event of the core.
    pub fn on_event(&self, event: &PbxEvent) {
        let input = match event {
            PbxEvent::RecordingStarted(r) => Input::Start(r.clone()),
            PbxEvent::RecordingPaused { call } => Input::Pause(*call),
            PbxEvent::RecordingResumed { call } => Input::Resume(*call),
            PbxEvent::RecordingStopped { call } => Input::Stop(*call),
            _ => return,
        };
        // Nothing happens once the thread stopped.
        let _ = self.tx.send(input);
    }
}

/// One file of a recording: the mailbox it goes into, and the envelope.
struct Copy {
    owner: RecordingOwner,
    writer: AudioWriter,
}

/// A call being recorded.
struct Active {
    session: SessionId,
    recording: Recording,
    copies: Vec<Copy>,
    started_ms: u64,
}

struct Recorder {
    parts: Parts,
    /// By the core's call handle.
    active: HashMap<u64, Active>,
}

impl Recorder {
    fn new(parts: Parts) -> Recorder {
        Recorder {
            parts,
            active: HashMap::new(),
        }
    }

    fn run(mut self, rx: Receiver<Input>) {
        loop {
            let wait = if self.active.is_empty() {
                IDLE_WAKE
            } else {
                DRAIN_EVERY
            };
            match rx.recv_timeout(wait) {
                Ok(input) => self.on_input(input),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            let calls: Vec<u64> = self.active.keys().copied().collect();
            for call in calls {
                self.drain(call);
            }
        }
        // The server stops: what was recorded is kept.
        let calls: Vec<u64> = self.active.keys().copied().collect();
        for call in calls {
            self.stop(call);
        }
        tracing::info!("call recording thread stops");
    }

    fn on_input(&mut self, input: Input) {
        match input {
            Input::Start(r) => self.start(r),
            Input::Pause(call) | Input::Resume(call) => {
                let pause = matches!(input, Input::Pause(_));
                let Some(a) = self.active.get(&call) else {
                    return;
                };
                let result = if pause {
                    self.parts.engine.pause_recording(a.session, a.recording.id)
                } else {
                    self.parts
                        .engine
                        .resume_recording(a.session, a.recording.id)
                };
                if let Err(e) = result {
                    tracing::debug!(error = %e, call, pause, "recording not paused/resumed");
                }
            }
            Input::Stop(call) => self.stop(call),
        }
    }

    fn start(&mut self, r: RecordingStarted) {
        let session = SessionId(r.relay_session);
        let mut copies = Vec::new();
        {
            let mut store = lock(&self.parts.store);
            for owner in r.owners {
                let writer = MailboxId::new(&owner.mailbox)
                    .map_err(|e| e.to_string())
                    .and_then(|m| store.start_recording(&m).map_err(|e| e.to_string()));
                match writer {
                    Ok(writer) => copies.push(Copy { owner, writer }),
                    Err(e) => {
                        tracing::warn!(error = %e, mailbox = %owner.mailbox, "call not recorded into this mailbox")
                    }
                }
            }
        }
        if copies.is_empty() {
            return;
        }
        let options = RecordOptions {
            queue_frames: QUEUE_FRAMES,
            ..RecordOptions::default()
        };
        match self
            .parts
            .engine
            .start_recording(session, RecordSource::Mixed, options)
        {
            Ok(recording) => {
                tracing::info!(call_id = %r.call_id, mailboxes = copies.len(), "call recording starts");
                self.active.insert(
                    r.call,
                    Active {
                        session,
                        recording,
                        copies,
                        started_ms: r.started_ms,
                    },
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, call_id = %r.call_id, "call recording not started");
                for c in copies {
                    c.writer.abort();
                }
            }
        }
    }

    /// Moves a recording's frames into its files. A file whose write fails (a full disk)
    /// is given up, and logged; the other copies go on.
    fn drain(&mut self, call: u64) {
        let Some(a) = self.active.get_mut(&call) else {
            return;
        };
        while let Ok(frame) = a.recording.frames.try_recv() {
            let mut i = 0;
            while i < a.copies.len() {
                match a.copies[i].writer.write_samples(&frame.samples) {
                    Ok(()) => i += 1,
                    Err(e) => {
                        let lost = a.copies.remove(i);
                        tracing::error!(error = %e, mailbox = %lost.owner.mailbox, "call recording lost");
                        lost.writer.abort();
                    }
                }
            }
        }
    }

    /// Ends a recording and keeps it in each owner's mailbox.
    fn stop(&mut self, call: u64) {
        let Some(a) = self.active.get(&call) else {
            return;
        };
        // Usually the session is already gone with the call; then this fails and the
        // channel is closed, holding the last frames.
        match self.parts.engine.stop_recording(a.session, a.recording.id) {
            Ok(stats) => tracing::debug!(?stats, "call recording stopped"),
            Err(e) => tracing::debug!(error = %e, "call recording ended with its session"),
        }
        self.drain(call);
        let Some(a) = self.active.remove(&call) else {
            return;
        };
        let store = self.parts.store.clone();
        let mut store = lock(&store);
        for copy in a.copies {
            self.commit(&mut store, copy, a.started_ms);
        }
    }

    fn commit(&self, store: &mut MessageStore, copy: Copy, started_ms: u64) {
        let mailbox = copy.writer.mailbox().clone();
        let envelope = NewMessage {
            kind: MessageKind::Recording,
            caller_number: Some(copy.owner.other_number.clone()),
            caller_name: copy.owner.other_name.clone(),
            received_at: started_ms / 1000,
            urgent: false,
        };
        match store.commit_message(copy.writer, envelope) {
            Ok(CommitOutcome::Stored(message)) => {
                tracing::info!(mailbox = %mailbox.as_str(), duration_ms = message.duration_ms, other = %copy.owner.other_number, "call recording stored");
                self.parts
                    .email
                    .message_deposited(store, message.id, &mailbox);
                self.parts.mwi.mailbox_changed(mailbox.as_str());
            }
            Ok(CommitOutcome::TooShort { duration_ms, .. }) => {
                tracing::info!(mailbox = %mailbox.as_str(), duration_ms, "call recording too short to keep");
            }
            Err(e) => {
                tracing::error!(error = %e, mailbox = %mailbox.as_str(), "call recording not stored")
            }
        }
    }
}

fn lock(store: &SharedStore) -> std::sync::MutexGuard<'_, MessageStore> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
