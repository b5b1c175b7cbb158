//! The media engine behind the call-control core's [`MediaRelay`] seam, music on hold
//! included (from the server's [`MusicLibrary`](crate::music::MusicLibrary)).

use media_engine::{Leg, LegStats, MediaEngine, Music, SessionId};
use pbx::{MediaRelay, RelayPorts, Side};
use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use crate::music::SharedMusic;

/// Relays call media through the engine's threads.
pub struct EngineRelay {
    engine: Arc<MediaEngine>,
    default_ip: IpAddr,
    music: SharedMusic,
    /// The ringback tone, generated once.
    ringback: Arc<Music>,
}

impl EngineRelay {
    /// A relay on `engine`, advertising `default_ip` when signalling gives no better one,
    /// playing music on hold from `music`.
    pub fn new(engine: Arc<MediaEngine>, default_ip: IpAddr, music: SharedMusic) -> EngineRelay {
        EngineRelay {
            ringback: Arc::new(Music::ringback_tone()),
            engine,
            default_ip,
            music,
        }
    }
}

fn leg(side: Side) -> Leg {
    match side {
        Side::Caller => Leg::A,
        Side::Callee => Leg::B,
    }
}

fn describe(out: &mut String, name: &str, s: &LegStats) {
    let _ = write!(
        out,
        "{name}: in {} pkts/{} B, out {} pkts/{} B, dropped {}",
        s.rtp.packets_in, s.rtp.bytes_in, s.rtp.packets_out, s.rtp.bytes_out, s.rtp.packets_dropped
    );
    if s.music_packets > 0 {
        let _ = write!(out, ", music on hold {} pkts", s.music_packets);
    }
    if let Some(r) = &s.reception {
        let _ = write!(
            out,
            ", reported lost {} jitter max {}",
            r.last.cumulative_lost, r.max_jitter
        );
    }
}

impl MediaRelay for EngineRelay {
    fn open(&mut self) -> Option<RelayPorts> {
        match self.engine.create_session() {
            Ok(h) => Some(RelayPorts {
                session: h.id.0,
                caller_port: h.leg_a.rtp_port,
                callee_port: h.leg_b.rtp_port,
            }),
            Err(e) => {
                tracing::warn!(error = %e, "no media relay session");
                None
            }
        }
    }

    fn set_remote(&mut self, session: u64, side: Side, rtp: SocketAddr) {
        // RTCP on the next port (RFC 3550 §11) unless the SDP says otherwise; the relay
        // latches onto the real sources anyway.
        let rtcp = rtp
            .port()
            .checked_add(1)
            .map(|p| SocketAddr::new(rtp.ip(), p));
        if let Err(e) = self
            .engine
            .set_remote(SessionId(session), leg(side), rtp, rtcp)
        {
            tracing::debug!(error = %e, session, "media remote not set");
        }
    }

    fn start_music(&mut self, session: u64, side: Side, music: Option<&str>, payload_type: u8) {
        let piece = if music == Some(pbx::RINGBACK_TONE) {
            Some(self.ringback.clone())
        } else {
            self.music
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .get(music)
        };
        let Some(piece) = piece else {
            return;
        };
        if let Err(e) = self
            .engine
            .start_music(SessionId(session), leg(side), piece, payload_type)
        {
            tracing::debug!(error = %e, session, "music on hold not started");
        }
    }

    fn start_queue_announcement(
        &mut self,
        session: u64,
        side: Side,
        position: usize,
        music: Option<&str>,
        payload_type: u8,
    ) {
        let piece = self
            .music
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .get(music);
        let Some(piece) = piece else {
            return;
        };
        let said = crate::music::queue_announcement(position, &piece).map(Arc::new);
        if let Err(e) = self.engine.start_music(
            SessionId(session),
            leg(side),
            said.unwrap_or(piece),
            payload_type,
        ) {
            tracing::debug!(error = %e, session, "queue announcement not started");
        }
    }

    fn stop_music(&mut self, session: u64, side: Side) {
        if let Err(e) = self.engine.stop_music(SessionId(session), leg(side)) {
            tracing::debug!(error = %e, session, "music on hold not stopped");
        }
    }

    fn close(&mut self, session: u64) -> String {
        match self.engine.destroy_session(SessionId(session)) {
            Ok(stats) => {
                let mut out = String::new();
                describe(&mut out, "caller", &stats.leg_a);
                out.push_str("; ");
                describe(&mut out, "callee", &stats.leg_b);
                out
            }
            Err(e) => format!("media statistics unavailable: {e}"),
        }
    }

    fn default_ip(&self) -> IpAddr {
        self.default_ip
    }
}
