//! A simulated call around a dialogue: it plays the media side (recording into a real
//! `AudioWriter`, committing as the dialogue asks and reporting back), keeps a virtual
//! clock that steps to each deadline the dialogue gives, and writes every action as one
//! line of text so that a story's actions can be compared in order.

use super::audio;
use voicemail::dialogue::{
    Action, Commit, Dialogue, Finish, Input, PlayItem, PlayTag, RecordPurpose, RecordingReport,
};
use voicemail::{AudioWriter, GreetingSlot, MessageStore};

/// The clock at which stories start: 2023-11-14 22:13:20 UTC, in milliseconds.
pub const T0: u64 = 1_700_000_000_000;

/// A dialogue on a call, with the store it works on.
pub struct Call<D: Dialogue> {
    pub d: D,
    pub store: MessageStore,
    /// Unix milliseconds.
    pub now: u64,
    writer: Option<AudioWriter>,
    last_play: Option<PlayTag>,
    /// Every line so far (the return values of the steps, concatenated).
    pub log: Vec<String>,
}

impl<D: Dialogue> Call<D> {
    /// Wraps a dialogue started at [`T0`]; `first()` returns what it did on starting.
    pub fn new(d: D, store: MessageStore) -> Call<D> {
        Call {
            d,
            store,
            now: T0,
            writer: None,
            last_play: None,
            log: Vec::new(),
        }
    }

    /// The actions queued so far (after `new`: what the dialogue did on starting).
    pub fn first(&mut self) -> Vec<String> {
        self.drain()
    }

    /// Feeds `input` now; returns the actions, with the media side's reports in between
    /// (lines starting with `<-`).
    pub fn send(&mut self, input: Input) -> Vec<String> {
        self.d.handle(self.now, input, &mut self.store);
        self.drain()
    }

    /// A key.
    pub fn key(&mut self, k: char) -> Vec<String> {
        self.send(Input::Digit(k))
    }

    /// Several keys at once (e.g. a PIN and `#`); the actions of all of them.
    pub fn keys(&mut self, ks: &str) -> Vec<String> {
        ks.chars().flat_map(|k| self.key(k)).collect()
    }

    /// The last play ended.
    pub fn play_ends(&mut self) -> Vec<String> {
        let tag = self.last_play.expect("something was played");
        self.send(Input::PlayFinished(tag))
    }

    /// `ms` pass, stepping to every deadline on the way exactly when the dialogue gave it.
    pub fn wait(&mut self, ms: u64) -> Vec<String> {
        let until = self.now + ms;
        let mut out = Vec::new();
        while let Some(at) = self.d.poll_timeout().filter(|&at| at <= until) {
            assert!(
                at >= self.now,
                "a deadline in the past: {at} < {}",
                self.now
            );
            // Just before the deadline nothing happens.
            if at > self.now {
                self.d.handle_timeout(at - 1, &mut self.store);
                assert_eq!(self.d.poll_action(), None, "acted before its deadline");
            }
            self.now = at;
            self.d.handle_timeout(at, &mut self.store);
            out.extend(self.drain());
        }
        self.now = until;
        out
    }

    /// The caller speaks for `ms` (20 ms packets into the recording while there is one),
    /// the clock running; returns the actions the dialogue took meanwhile (a maximum
    /// length reached).
    pub fn speak(&mut self, ms: u64) -> Vec<String> {
        let mut out = Vec::new();
        for packet in audio(ms).chunks(160) {
            if let Some(w) = self.writer.as_mut() {
                w.write_samples(packet).expect("samples written");
            }
            out.extend(self.wait(20));
        }
        out
    }

    /// The media side's writer failed (a full disk): it is dropped and reported.
    pub fn writer_fails(&mut self) -> Vec<String> {
        let w = self.writer.take().expect("a recording in progress");
        w.abort();
        self.log.push("<- disk full".into());
        let mut out = vec!["<- disk full".to_string()];
        out.extend(self.send(Input::Recording(RecordingReport::DiskFull)));
        out
    }

    /// True while the media side holds a writer.
    pub fn recording(&self) -> bool {
        self.writer.is_some()
    }

    fn drain(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        let mut reports = Vec::new();
        loop {
            while let Some(action) = self.d.poll_action() {
                out.push(self.apply(action, &mut reports));
            }
            if reports.is_empty() {
                break;
            }
            for input in std::mem::take(&mut reports) {
                if let Input::Recording(r) = &input {
                    out.push(format!("<- {}", report(r)));
                }
                self.d.handle(self.now, input, &mut self.store);
            }
        }
        self.log.extend(out.iter().cloned());
        out
    }

    fn apply(&mut self, action: Action, reports: &mut Vec<Input>) -> String {
        match action {
            Action::Play { tag, items } => {
                self.last_play = Some(tag);
                let names: Vec<String> = items.iter().map(item).collect();
                format!("play {}", names.join(" "))
            }
            Action::StopPlaying => "stop".into(),
            Action::StartRecording { mailbox, purpose } => {
                assert!(self.writer.is_none(), "two recordings at once");
                self.writer = Some(self.store.start_recording(&mailbox).expect("starts"));
                match purpose {
                    RecordPurpose::Message => format!("record message in {mailbox}"),
                    RecordPurpose::Greeting(slot) => {
                        format!("record {} in {mailbox}", slot_name(&slot))
                    }
                }
            }
            Action::FinishRecording(finish) => {
                let w = self.writer.take().expect("finish without a recording");
                let line = match &finish {
                    Finish::Keep(Commit::Message(env)) => format!(
                        "keep message from {} ({}) at {}",
                        env.caller_number.as_deref().unwrap_or("-"),
                        env.caller_name.as_deref().unwrap_or("-"),
                        env.received_at
                    ),
                    Finish::Keep(Commit::Greeting { slot, recorded_at }) => {
                        format!("keep {} at {recorded_at}", slot_name(slot))
                    }
                    Finish::Discard => "discard".into(),
                };
                if let Some(input) = finish.apply(&mut self.store, w) {
                    reports.push(input);
                }
                line
            }
            Action::HangUp => "hang up".into(),
            Action::Transfer { to } => format!("transfer to {to}"),
            Action::MailboxChanged(mb) => format!("changed {mb}"),
            other => panic!("a mailbox dialogue never asks for {other:?}"),
        }
    }
}

fn report(r: &RecordingReport) -> String {
    match r {
        RecordingReport::Stored { duration_ms } => format!("stored {duration_ms} ms"),
        RecordingReport::TooShort { duration_ms } => format!("too short {duration_ms} ms"),
        RecordingReport::DiskFull => "disk full".into(),
        RecordingReport::Failed => "failed".into(),
    }
}

fn slot_name(slot: &GreetingSlot) -> String {
    match slot {
        GreetingSlot::Normal => "normal greeting".into(),
        GreetingSlot::Temporary { .. } => "temporary greeting".into(),
        GreetingSlot::Profile(p) => format!("{p} greeting"),
        GreetingSlot::Name => "name".into(),
    }
}

/// A play item as a word: the prompt's name, `[normal greeting]`, `[message 3]`. The
/// files named must exist.
fn item(i: &PlayItem) -> String {
    match i {
        PlayItem::Prompt(p) => p.name().to_string(),
        PlayItem::Greeting { slot, path } => {
            assert!(path.is_file(), "{} is not there", path.display());
            format!("[{}]", slot_name(slot))
        }
        PlayItem::Message { id, path } => {
            assert!(path.is_file(), "{} is not there", path.display());
            format!("[message {id}]")
        }
        PlayItem::File(path) => format!("[file {}]", path.display()),
        PlayItem::Clip(name) => format!("[clip {name}]"),
    }
}
