//! What the relay threads tell call control without being asked: keys pressed, prompts
//! that finished, recordings that fell silent.
//!
//! Events go to the [`EventSink`] given in [`MediaConfig`](crate::MediaConfig), a
//! callback the relay thread calls as the event happens. The engine queues nothing and
//! drops nothing: the callback decides where events go. It runs on a relay thread, so it
//! must return at once and must not panic — a `tokio::sync::mpsc::UnboundedSender::send`
//! (the binary's choice: events join its tokio loop) or a `std::sync::mpsc::Sender::send`
//! is right; a bounded channel's blocking `send` is not (a `try_send` is, if the callback
//! counts what it drops), and neither is calling the engine, whose methods wait for the
//! relay thread. Without a sink, events are logged (debug) and discarded.
//!
//! Events of one session come in the order they happened (a session lives on one relay
//! thread); events of different sessions may interleave in any order.

use std::fmt;
use std::sync::Arc;

use crate::{Leg, RecordingId, SessionId};

/// Something that happened in a session that call control did not ask about just now.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MediaEvent {
    /// The endpoint of `leg` pressed a key (an RFC 4733 telephone-event, reported once per
    /// press, when its first packet arrives). Only on legs told their telephone-event
    /// payload type ([`set_dtmf_payload_type`](crate::MediaEngine::set_dtmf_payload_type)).
    Digit {
        /// The session.
        session: SessionId,
        /// The leg whose endpoint pressed the key.
        leg: Leg,
        /// `0`–`9`, `*`, `#` or `A`–`D`.
        digit: char,
    },
    /// A piece started with [`play`](crate::MediaEngine::play) stopped playing. Every play
    /// ends with exactly one of these.
    PlayFinished {
        /// The session.
        session: SessionId,
        /// The leg it played to.
        leg: Leg,
        /// The tag given to `play`.
        tag: u64,
        /// `false` when the piece played to its end; `true` when it was cut short: by
        /// [`stop_play`](crate::MediaEngine::stop_play), by another `play` on the same
        /// leg, or by the leg or session going away.
        interrupted: bool,
    },
    /// A recording with silence detection
    /// ([`RecordOptions::silence_after`](crate::RecordOptions::silence_after)) has heard
    /// nothing above its threshold (or no packet at all) for that long. Reported once per
    /// silent spell: again only after sound, then silence as long again.
    Silence {
        /// The session.
        session: SessionId,
        /// The recording.
        recording: RecordingId,
    },
}

/// Where the relay threads deliver [`MediaEvent`]s: a callback, called on a relay thread
/// as each event happens, in the order the events of a session happened.
///
/// The callback holds up the relay thread while it runs, so it must return at once and
/// must not panic: an unbounded channel's `send` (`tokio::sync::mpsc::UnboundedSender`,
/// to bring events into a tokio loop, or `std::sync::mpsc::Sender`) is right; a bounded
/// channel's blocking `send` is not. Nor may it call the [`MediaEngine`](crate::MediaEngine):
/// its methods wait for the relay thread, which is busy running the callback. The engine
/// itself queues and drops nothing.
///
/// ```
/// # use media_engine::{EventSink, MediaEvent};
/// let (tx, rx) = std::sync::mpsc::channel::<MediaEvent>();
/// let sink = EventSink::new(move |event| {
///     // The receiver gone means nobody wants events any more.
///     let _ = tx.send(event);
/// });
/// # drop((sink, rx));
/// ```
#[derive(Clone)]
pub struct EventSink(Arc<dyn Fn(MediaEvent) + Send + Sync>);

impl EventSink {
    /// A sink that calls `deliver` with each event.
    pub fn new(deliver: impl Fn(MediaEvent) + Send + Sync + 'static) -> Self {
        EventSink(Arc::new(deliver))
    }
}

impl fmt::Debug for EventSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EventSink")
    }
}

/// Two sinks are equal when they are the same callback (clones of one sink).
impl PartialEq for EventSink {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for EventSink {}

/// The relay thread's side: the sink, if one was configured.
#[derive(Debug, Clone, Default)]
pub(crate) struct Events(Option<EventSink>);

impl Events {
    pub(crate) fn new(sink: Option<EventSink>) -> Self {
        Events(sink)
    }

    /// Delivers an event, or logs it when nobody listens.
    pub(crate) fn emit(&self, event: MediaEvent) {
        match &self.0 {
            Some(sink) => (sink.0)(event),
            None => tracing::debug!(?event, "media event without a sink, discarded"),
        }
    }
}
