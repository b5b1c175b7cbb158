//! The media engine behind the call-control core's [`MediaRelay`] seam, music on hold
//! included (from the server's [`MusicLibrary`](crate::music::MusicLibrary)).

use media_engine::{Leg, LegStats, MediaEngine, Music, Role, SessionId};
use pbx::{MediaRelay, PartyPorts, PartyRole, RelayPorts, Side};
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
    /// Sessions whose call turned around: their caller is on leg B. Shared with the
    /// voicemail edge, which plays to and records the caller.
    swapped: crate::mailbox_edge::SwappedSessions,
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
            swapped: Default::default(),
        }
    }

    /// The sessions whose caller is on leg B.
    pub fn swapped_sessions(&self) -> crate::mailbox_edge::SwappedSessions {
        self.swapped.clone()
    }

    /// The engine's leg for a side of a call: A the caller's, unless the call turned.
    fn leg(&self, session: u64, side: Side) -> Leg {
        let swapped = self
            .swapped
            .lock()
            .map(|s| s.contains(&session))
            .unwrap_or(false);
        match (side, swapped) {
            (Side::Caller, false) | (Side::Callee, true) => Leg::A,
            (Side::Callee, false) | (Side::Caller, true) => Leg::B,
        }
    }
}

/// The side of a call an engine leg carries: A the caller's, unless the call turned;
/// `None` for an extra party's leg.
pub fn side_of(
    swapped: &crate::mailbox_edge::SwappedSessions,
    session: u64,
    leg: Leg,
) -> Option<Side> {
    let turned = swapped
        .lock()
        .map(|s| s.contains(&session))
        .unwrap_or(false);
    match (leg, turned) {
        (Leg::A, false) | (Leg::B, true) => Some(Side::Caller),
        (Leg::B, false) | (Leg::A, true) => Some(Side::Callee),
        (Leg::Extra(_), _) => None,
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
    if s.mixed_packets > 0 {
        let _ = write!(out, ", mixed {} pkts", s.mixed_packets);
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
        if let Err(e) =
            self.engine
                .set_remote(SessionId(session), self.leg(session, side), rtp, rtcp)
        {
            tracing::debug!(error = %e, session, "media remote not set");
        }
    }

    fn listen_for_keys(&mut self, session: u64, side: Side, payload_type: u8) {
        let leg = self.leg(session, side);
        if let Err(e) =
            self.engine
                .set_dtmf_payload_type(SessionId(session), leg, Some(payload_type))
        {
            tracing::debug!(error = %e, session, "record keys will not be read");
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
        if let Err(e) = self.engine.start_music(
            SessionId(session),
            self.leg(session, side),
            piece,
            payload_type,
        ) {
            tracing::debug!(error = %e, session, "music on hold not started");
        }
    }

    fn start_queue_announcement(
        &mut self,
        session: u64,
        side: Side,
        position: usize,
        announcement: &pbx::QueueAnnouncement,
        music: Option<&str>,
        payload_type: u8,
    ) {
        let (piece, words) = {
            let library = self
                .music
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let words = announcement.words.as_deref().and_then(|w| library.file(w));
            (library.get(music), words)
        };
        let Some(piece) = piece else {
            return;
        };
        let said =
            crate::music::queue_announcement(position, announcement, words.as_deref(), &piece)
                .map(Arc::new);
        if let Err(e) = self.engine.start_music(
            SessionId(session),
            self.leg(session, side),
            said.unwrap_or(piece),
            payload_type,
        ) {
            tracing::debug!(error = %e, session, "queue announcement not started");
        }
    }

    fn stop_music(&mut self, session: u64, side: Side) {
        if let Err(e) = self
            .engine
            .stop_music(SessionId(session), self.leg(session, side))
        {
            tracing::debug!(error = %e, session, "music on hold not stopped");
        }
    }

    fn add_party(&mut self, session: u64, role: PartyRole, payload_type: u8) -> Option<PartyPorts> {
        let role = match role {
            PartyRole::HearsCaller => Role::Listener(self.leg(session, Side::Caller)),
            PartyRole::Monitor => Role::Monitor,
            PartyRole::Intruder => Role::Intruder,
        };
        match self.engine.add_leg(SessionId(session), role, payload_type) {
            Ok((Leg::Extra(party), info)) => Some(PartyPorts {
                party: u32::from(party),
                port: info.rtp_port,
            }),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(error = %e, session, "no media for a party");
                None
            }
        }
    }

    fn set_party_remote(&mut self, session: u64, party: u32, rtp: SocketAddr) {
        let Ok(party) = u16::try_from(party) else {
            return;
        };
        let rtcp = rtp
            .port()
            .checked_add(1)
            .map(|p| SocketAddr::new(rtp.ip(), p));
        if let Err(e) = self
            .engine
            .set_remote(SessionId(session), Leg::Extra(party), rtp, rtcp)
        {
            tracing::debug!(error = %e, session, party, "party media remote not set");
        }
    }

    fn remove_party(&mut self, session: u64, party: u32) {
        let Ok(party) = u16::try_from(party) else {
            return;
        };
        match self
            .engine
            .remove_leg(SessionId(session), Leg::Extra(party))
        {
            Ok(stats) => {
                let mut out = String::new();
                describe(&mut out, "party", &stats);
                tracing::info!(session, party, media = %out, "party left the call");
            }
            Err(e) => tracing::debug!(error = %e, session, party, "party not removed"),
        }
    }

    fn swap_sides(&mut self, session: u64) {
        if let Ok(mut swapped) = self.swapped.lock() {
            if !swapped.remove(&session) {
                swapped.insert(session);
            }
        }
    }

    fn close(&mut self, session: u64) -> String {
        if let Ok(mut swapped) = self.swapped.lock() {
            swapped.remove(&session);
        }
        match self.engine.destroy_session(SessionId(session)) {
            // Named as the call was placed (as its record is): leg A is the caller's port.
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
