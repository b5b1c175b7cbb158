//! The media engine: RTP/RTCP port pairs and a relay that runs on its own threads.
//!
//! Call control (the sans-IO `pbx` core, through the binary) commands it through a
//! [`MediaEngine`] handle: [`create_session`](MediaEngine::create_session) allocates two
//! port pairs (one per call leg) for the SDP it writes,
//! [`set_remote`](MediaEngine::set_remote) passes on the addresses from the endpoints' SDP,
//! [`set_direction`](MediaEngine::set_direction) holds and resumes,
//! [`start_music`](MediaEngine::start_music) plays music on hold to a leg instead of the
//! other leg's media (a [`Music`] loaded from a WAV file), and
//! [`destroy_session`](MediaEngine::destroy_session) gives the ports back with the
//! statistics for the call record.
//!
//! The engine owns sockets and threads and knows nothing of SIP or SDP text. Relay threads
//! are plain `std` threads running `mio` loops over non-blocking sockets, so no signalling,
//! web or disk work on the tokio runtime can delay a packet. Packets are relayed untouched,
//! with symmetric RTP latching for endpoints behind NAT; any bytes from the network are
//! either relayed or dropped and counted, never a panic.
//!
//! Music is the one thing the engine sends of its own: pre-encoded G.711 packets paced by
//! the relay thread's poll timeout (see `player`), with G.711 (`g711`) and WAV reading
//! (`wav`) kept here until a `codec` crate needs them elsewhere.
//!
//! Extra legs ([`add_leg`](MediaEngine::add_leg)) join a session with a [`Role`]: a paged
//! phone hears the pager, a supervisor monitors (hears both parties) or intrudes (is heard
//! too). A leg that hears more than one other leg, or is an extra leg, gets a mix: G.711
//! decoded, added and encoded again every 20 ms (see `mixer`), sent as the leg's own
//! stream like music.
//!
//! Voicemail and auto attendants (a session whose leg B is never used works as well as a
//! call):
//! - [`set_dtmf_payload_type`](MediaEngine::set_dtmf_payload_type) reads the RFC 4733
//!   telephone-events a leg's endpoint sends (see `dtmf`): each key press is reported
//!   once, as it starts, and still relayed;
//! - [`play`](MediaEngine::play) plays a prompt once on the leg's own stream, in front of
//!   music on hold, then goes back to what the leg heard before;
//!   [`stop_play`](MediaEngine::stop_play) cuts it short;
//! - [`start_recording`](MediaEngine::start_recording) taps one leg, or A and B mixed,
//!   and hands 20 ms frames of decoded G.711 to a consumer thread through a bounded
//!   channel (see `recorder`): lost packets become silence, a full channel drops frames
//!   and counts them, silence can be detected; recordings pause, resume and stop.
//!
//! What happens without being asked — a key pressed, a prompt finished, a silence — comes
//! as a [`MediaEvent`] to the [`EventSink`] callback given in [`MediaConfig`], called on
//! the relay thread (see `events`).
//!
//! Not here (yet): transcoding beyond G.711, SRTP, writing recordings to files (the
//! consumer's job), DTMF by SIP INFO (signalling, not media).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod dtmf;
mod engine;
mod error;
mod events;
mod g711;
mod mixer;
mod music;
mod packet;
mod player;
mod pool;
mod recorder;
mod relay;
mod session;
mod stats;
mod wav;
mod worker;

pub use engine::{MediaConfig, MediaEngine};
pub use error::MediaError;
pub use events::{EventSink, MediaEvent};
pub use music::{Music, MusicError, MusicProblem, MAX_MUSIC_SECONDS};
pub use packet::ReceptionReport;
pub use pool::{PortPair, PortPool};
pub use recorder::{
    AudioFrame, RecordOptions, RecordSource, Recording, RecordingId, RecordingStats,
    DEFAULT_SILENCE_THRESHOLD_DBFS, MAX_GAP,
};
pub use session::{Direction, Leg, LegInfo, Role, SessionHandle, SessionId};
pub use stats::{LegStats, PacketCounters, ReceptionStats, SessionStats};
pub use wav::WavProblem;
