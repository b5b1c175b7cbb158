//! Media anchoring: the seam between call control and the media engine.
//!
//! The core asks a [`MediaRelay`] for a relay session when a call starts and rewrites every
//! session description it passes on so that both endpoints send RTP to the relay's ports
//! (RFC 3264 offer/answer is otherwise left to the endpoints). The relay itself — sockets,
//! threads, latching — lives in the `media-engine` crate behind this trait, so the core stays
//! free of IO and its tests use a scripted relay.
//!
//! The relay also plays music on hold to a held party (see `b2bua::hold`): call control
//! says to which side, in which payload type and which piece; the relay owns the audio.

use std::net::{IpAddr, SocketAddr};

/// What a caller waiting in a hunt group's queue hears between stretches of music: the
/// group's own words (or the built-in "all our colleagues are busy"), then, if asked,
/// its place in the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueAnnouncement {
    /// A piece the media relay knows by this name (the binary: the configured WAV file's
    /// path), said in place of the built-in words; `None` for those.
    pub words: Option<String>,
    /// The caller's place is said ("you are number two in the queue").
    pub say_place: bool,
    /// How much music follows before it is all said again.
    pub music_between: std::time::Duration,
}

impl Default for QueueAnnouncement {
    /// The built-in words, the place, 20 s of music.
    fn default() -> Self {
        QueueAnnouncement {
            words: None,
            say_place: true,
            music_between: std::time::Duration::from_secs(20),
        }
    }
}

/// Which endpoint of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The calling party (the A leg).
    Caller,
    /// The called party (the answering fork of the B leg).
    Callee,
}

impl Side {
    /// The other endpoint of the call.
    pub fn other(self) -> Side {
        match self {
            Side::Caller => Side::Callee,
            Side::Callee => Side::Caller,
        }
    }
}

/// The ports of one relay session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayPorts {
    /// The relay's handle for the session.
    pub session: u64,
    /// The RTP port the caller sends to (RTCP is the next port).
    pub caller_port: u16,
    /// The RTP port the callee sends to.
    pub callee_port: u16,
}

/// How a party added to a call's media takes part (paging, monitoring, intrusion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartyRole {
    /// Hears the caller, is heard by nobody: a paged phone.
    HearsCaller,
    /// Hears both sides, is heard by nobody: silent monitoring.
    Monitor,
    /// Hears both sides and is heard by both: intrusion.
    Intruder,
}

/// A party added to a relay session: its handle and the RTP port it sends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartyPorts {
    /// The relay's handle for the party within its session.
    pub party: u32,
    /// The RTP port the party's endpoint sends to (RTCP is the next port).
    pub port: u16,
}

/// The music name that asks the relay for the ringback tone rather than a piece of music
/// (a transferred caller hears it while the target rings).
pub const RINGBACK_TONE: &str = "ringback tone";

/// What call control needs from a media relay.
pub trait MediaRelay: Send {
    /// Opens a relay session with a port pair for each side; `None` when no ports are left.
    fn open(&mut self) -> Option<RelayPorts>;
    /// Where a side's endpoint said (in its SDP) that it receives RTP.
    fn set_remote(&mut self, session: u64, side: Side, rtp: SocketAddr);
    /// Plays music on hold to `side`'s endpoint instead of the other side's media, as
    /// `payload_type` (0 PCMU or 8 PCMA, from that endpoint's SDP), looping until
    /// [`stop_music`](Self::stop_music) or [`close`](Self::close). `music` names the piece
    /// the configuration chose (a user's or hunt group's `music_on_hold`); `None` is the
    /// system's. Starting what already plays changes nothing.
    fn start_music(&mut self, session: u64, side: Side, music: Option<&str>, payload_type: u8);
    /// Plays a caller waiting in a hunt group's queue the group's `announcement` with its
    /// place (`position`, 1 first), then `music`, in a loop, like
    /// [`start_music`](Self::start_music). A relay without spoken prompts plays the music
    /// alone.
    fn start_queue_announcement(
        &mut self,
        session: u64,
        side: Side,
        position: usize,
        announcement: &QueueAnnouncement,
        music: Option<&str>,
        payload_type: u8,
    ) {
        let _ = (position, announcement);
        self.start_music(session, side, music, payload_type);
    }
    /// Reports the RFC 4733 telephone-events `side`'s endpoint sends as `payload_type`
    /// (from the session description it was sent), through
    /// [`Pbx::handle_key`](crate::Pbx::handle_key): the record keys. The events still
    /// reach the other side. A relay that cannot read keys ignores this.
    fn listen_for_keys(&mut self, session: u64, side: Side, payload_type: u8) {
        let _ = (session, side, payload_type);
    }
    /// Stops the music to `side`: the other side's media reaches it again.
    fn stop_music(&mut self, session: u64, side: Side);
    /// Adds a party to a session, with ports of its own: what it hears is mixed by the
    /// relay and sent as `payload_type` (0 PCMU or 8 PCMA). `None` when the relay cannot
    /// (no ports left, or a relay without mixing).
    fn add_party(&mut self, session: u64, role: PartyRole, payload_type: u8) -> Option<PartyPorts> {
        let _ = (session, role, payload_type);
        None
    }
    /// Where a party's endpoint said (in its SDP) that it receives RTP.
    fn set_party_remote(&mut self, session: u64, party: u32, rtp: SocketAddr) {
        let _ = (session, party, rtp);
    }
    /// Removes a party (its endpoint hung up); closing the session removes every party.
    fn remove_party(&mut self, session: u64, party: u32) {
        let _ = (session, party);
    }
    /// The call turned around (the callee took the caller's side): from now on
    /// [`Side::Caller`] names the endpoint that was the callee's, and the other way round,
    /// in every call for this session. The endpoints keep their ports and addresses.
    fn swap_sides(&mut self, session: u64);
    /// Ends the session; returns its media statistics in words for the call record.
    fn close(&mut self, session: u64) -> String;
    /// The address written into SDP when the signalling address is not an IP literal.
    fn default_ip(&self) -> IpAddr;
}

/// Rewrites a session description so that its first audio stream goes through the relay at
/// `ip:port`; other streams are refused (port 0), since only audio is relayed. Returns the
/// new body and the address the endpoint receives RTP on, or `None` when the body is not a
/// usable session description.
pub(crate) fn anchor(body: &[u8], ip: IpAddr, port: u16) -> Option<(Vec<u8>, Option<SocketAddr>)> {
    let mut sd = sdp::parse(body).ok()?;
    let audio = sd
        .media
        .iter()
        .position(|m| m.media == "audio" && m.port != 0);
    let remote = audio.and_then(|i| {
        let addr = sd.connection_address(i)?;
        Some(SocketAddr::new(addr, sd.media[i].port))
    });
    for i in 0..sd.media.len() {
        let p = if Some(i) == audio { port } else { 0 };
        let _ = sd.set_port(i, p);
        // Candidates and rtcp-mux describe the endpoint's own transport, not the relay's.
        for attr in [
            "candidate",
            "ice-ufrag",
            "ice-pwd",
            "ice-options",
            "rtcp-mux",
        ] {
            sd.media[i].remove_attributes(attr);
        }
    }
    sd.rewrite_connection(ip);
    sd.bump_version();
    Some((sd.to_bytes(), remote))
}

/// The IP address in a `host[:port]` string, if the host is an IP literal.
pub(crate) fn host_ip(host_port: &str) -> Option<IpAddr> {
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    host_port.split(':').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchoring_points_audio_at_the_relay_and_refuses_video() {
        let offer = b"v=0\r\no=a 1 1 IN IP4 192.0.2.5\r\ns=-\r\nc=IN IP4 192.0.2.5\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp-mux\r\nm=video 4002 RTP/AVP 96\r\n";
        let (body, remote) = anchor(offer, "198.51.100.1".parse().unwrap(), 10000).unwrap();
        assert_eq!(remote, Some("192.0.2.5:4000".parse().unwrap()));
        let text = String::from_utf8(body).unwrap();
        assert!(text.contains("c=IN IP4 198.51.100.1"), "{text}");
        assert!(text.contains("m=audio 10000 RTP/AVP 0"), "{text}");
        assert!(text.contains("m=video 0 RTP/AVP 96"), "{text}");
        assert!(!text.contains("rtcp-mux"), "{text}");
        assert!(text.contains("o=a 1 2 IN IP4 198.51.100.1"), "{text}");
    }

    #[test]
    fn host_ips() {
        assert_eq!(
            host_ip("127.0.0.1:5060"),
            Some("127.0.0.1".parse().unwrap())
        );
        assert_eq!(host_ip("[::1]:5060"), Some("::1".parse().unwrap()));
        assert_eq!(host_ip("pbx.example.com"), None);
    }
}
