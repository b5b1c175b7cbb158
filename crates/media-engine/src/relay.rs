//! One relay session as the relay thread holds it: two legs, each with its sockets, its
//! remote addresses (from SDP and latched), its direction and its counters, and the rule
//! for what happens to a datagram that arrives on one of them.
//!
//! Symmetric RTP (RFC 4961, and the NAT practice behind it): a phone behind NAT announces a
//! private address in its SDP, but its packets arrive from the NAT's public address. So the
//! first valid packet on a leg fixes ("latches") where that leg's media is sent from then
//! on; until then the SDP address is used. Once latched, datagrams from any other source are
//! dropped, so a third party cannot inject audio into the call or steal it. A new SDP
//! address (`set_remote` with a change) starts the learning again.
//!
//! Music on hold: while a leg plays music or a prompt (see [`crate::player`]), nothing
//! from the other leg is relayed to it, and the music goes from the leg's own RTP socket
//! to where its media goes (latched, else SDP), so that the phone sees it come from the
//! address it already talks to.

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use mio::net::UdpSocket;

use crate::dtmf::DtmfReceiver;
use crate::events::Events;
use crate::mixer::{LegKey, MixInput};
use crate::packet::{for_each_reception_report, is_rtcp, is_rtp};
use crate::player::{MusicStream, RtpPosition};
use crate::recorder::Recorder;
use crate::stats::{LegStats, PacketCounters, ReceptionStats};
use crate::{Direction, Leg, LegInfo, MediaEvent, Role, SessionId, SessionStats};

/// Which of a leg's two sockets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    Rtp,
    Rtcp,
}

/// One socket of a leg with its addresses and counters.
#[derive(Debug)]
pub(crate) struct Port {
    pub(crate) socket: UdpSocket,
    /// From SDP; `None` until known, or when the SDP address cannot be sent to.
    sdp: Option<SocketAddr>,
    latched: Option<SocketAddr>,
    /// The SDP said "do not send to me" (`c=0.0.0.0` or port 0).
    muted: bool,
    counters: PacketCounters,
}

impl Port {
    fn new(socket: UdpSocket) -> Self {
        Port {
            socket,
            sdp: None,
            latched: None,
            muted: false,
            counters: PacketCounters::default(),
        }
    }

    fn destination(&self) -> Option<SocketAddr> {
        // A muted endpoint that still sends (some do, on hold) latches, but gets nothing.
        if self.muted {
            return None;
        }
        self.latched.or(self.sdp)
    }

    /// Latches on the first valid datagram and tells whether `from` may be relayed.
    fn accept_source(&mut self, from: SocketAddr) -> bool {
        match self.latched {
            None => {
                self.latched = Some(from);
                true
            }
            Some(latched) => latched == from,
        }
    }

    fn set_sdp(&mut self, addr: Option<SocketAddr>) {
        // `c=0.0.0.0` (the old way of saying hold) or port 0 means "do not send"; sending
        // to 0.0.0.0 would reach this very host on Linux.
        self.muted = addr.is_some_and(|a| a.ip().is_unspecified() || a.port() == 0);
        let addr = addr.filter(|_| !self.muted);
        // Only a real change re-latches: a re-INVITE that repeats the SDP (hold, session
        // refresh) must not send the next packets to a private address behind the NAT.
        if addr != self.sdp {
            self.sdp = addr;
            self.latched = None;
        }
    }
}

/// One leg: its RTP and RTCP ports and its direction.
#[derive(Debug)]
pub(crate) struct RelayLeg {
    pub(crate) rtp: Port,
    pub(crate) rtcp: Port,
    pub(crate) info: LegInfo,
    direction: Direction,
    reception: Option<ReceptionStats>,
    /// The relay's own stream to the endpoint: music on hold, prompts, or the leg's mix.
    pub(crate) music: MusicStream,
    music_packets: u64,
    mixed_packets: u64,
    /// The last RTP packet relayed to the endpoint: music continues its numbers.
    pub(crate) relayed: Option<RtpPosition>,
    /// What the leg hears when it hears more than one leg, or is an extra leg.
    pub(crate) mix: Option<MixInput>,
    /// How an extra leg takes part (`None` for legs A and B).
    pub(crate) role: Option<Role>,
    /// The payload type a mix is sent in: chosen for an extra leg, else the G.711 type
    /// the endpoint itself last sent.
    pub(crate) payload_type: Option<u8>,
    /// Reads the keys the endpoint presses, once told its telephone-event payload type.
    pub(crate) dtmf: Option<DtmfReceiver>,
}

impl RelayLeg {
    pub(crate) fn new(rtp: UdpSocket, rtcp: UdpSocket, info: LegInfo) -> Self {
        RelayLeg {
            rtp: Port::new(rtp),
            rtcp: Port::new(rtcp),
            info,
            direction: Direction::default(),
            reception: None,
            music: MusicStream::new(),
            music_packets: 0,
            mixed_packets: 0,
            relayed: None,
            mix: None,
            role: None,
            payload_type: None,
            dtmf: None,
        }
    }

    /// After the music stopped or the mix changed: the leg's own stream sends the mix if
    /// it has one (music, while it plays, goes on), and stops if it only sent a mix that
    /// is gone.
    pub(crate) fn resume_own_stream(&mut self, now: Instant) {
        if self.music.is_playing() {
            return;
        }
        if self.mix.is_some() {
            let payload_type = self.payload_type.unwrap_or(0);
            self.music.start_mix(now, payload_type, self.relayed);
        } else {
            self.music.stop();
        }
    }

    pub(crate) fn port_mut(&mut self, channel: Channel) -> &mut Port {
        match channel {
            Channel::Rtp => &mut self.rtp,
            Channel::Rtcp => &mut self.rtcp,
        }
    }

    /// Sets the remote addresses from SDP. Without an explicit RTCP address, RTCP goes to
    /// the RTP port + 1 (RFC 3605 §1: the default when there is no `a=rtcp`).
    pub(crate) fn set_remote(&mut self, rtp: SocketAddr, rtcp: Option<SocketAddr>) {
        let rtcp = rtcp.or_else(|| {
            rtp.port()
                .checked_add(1)
                .map(|port| SocketAddr::new(rtp.ip(), port))
        });
        self.rtp.set_sdp(Some(rtp));
        self.rtcp.set_sdp(rtcp);
    }

    pub(crate) fn set_direction(&mut self, direction: Direction) {
        self.direction = direction;
    }

    fn record_reports(&mut self, datagram: &[u8]) {
        let reception = &mut self.reception;
        for_each_reception_report(datagram, |report| {
            reception
                .get_or_insert_with(Default::default)
                .record(report);
        });
    }

    /// Cuts short the prompt playing to the endpoint of leg `key` of session `id`, if
    /// one plays, and reports it; whatever the prompt interrupted goes on. Tells whether
    /// a prompt played.
    pub(crate) fn interrupt_prompt(
        &mut self,
        id: SessionId,
        key: LegKey,
        now: Instant,
        events: &Events,
    ) -> bool {
        let Some(tag) = self.music.stop_prompt() else {
            return false;
        };
        self.resume_own_stream(now);
        events.emit(MediaEvent::PlayFinished {
            session: id,
            leg: Leg::from_key(key),
            tag,
            interrupted: true,
        });
        true
    }

    pub(crate) fn stats(&self) -> LegStats {
        LegStats {
            rtp: self.rtp.counters,
            rtcp: self.rtcp.counters,
            reception: self.reception,
            rtp_remote: self.rtp.destination(),
            rtp_latched: self.rtp.latched.is_some(),
            music_packets: self.music_packets,
            music_playing: self.music.is_playing(),
            mixed_packets: self.mixed_packets,
        }
    }
}

/// A relay session: two legs, what arrives on one goes out of the other; and any extra
/// legs, which hear (and may be heard) through mixes.
#[derive(Debug)]
pub(crate) struct RelaySession {
    pub(crate) id: SessionId,
    pub(crate) legs: [RelayLeg; 2],
    /// Extra legs by number; a removed one leaves `None`, so numbers stay put.
    pub(crate) extras: Vec<Option<RelayLeg>>,
    /// Recording taps (usually none or one).
    pub(crate) recorders: Vec<Recorder>,
}

impl RelaySession {
    /// A session of two legs.
    pub(crate) fn new(id: SessionId, a: RelayLeg, b: RelayLeg) -> Self {
        RelaySession {
            id,
            legs: [a, b],
            extras: Vec::new(),
            recorders: Vec::new(),
        }
    }

    pub(crate) fn stats(&self) -> SessionStats {
        SessionStats {
            id: self.id,
            leg_a: self.legs[0].stats(),
            leg_b: self.legs[1].stats(),
        }
    }

    /// The session is going away: reports the prompts it cuts short, and ends its
    /// recordings (their last frames go out, then their channels close).
    pub(crate) fn close(&mut self, now: Instant, events: &Events) {
        let id = self.id;
        for (key, leg) in self.all_legs_mut() {
            leg.interrupt_prompt(id, key, now, events);
        }
        for recorder in self.recorders.drain(..) {
            recorder.finish(now);
        }
    }

    /// The RTP ports of every leg, to give back to the pool.
    pub(crate) fn rtp_ports(&self) -> Vec<u16> {
        self.all_legs().map(|l| l.info.rtp_port).collect()
    }

    pub(crate) fn leg_mut(&mut self, key: LegKey) -> Option<&mut RelayLeg> {
        match key {
            0 | 1 => Some(&mut self.legs[key]),
            n => self.extras.get_mut(n - 2)?.as_mut(),
        }
    }

    fn all_legs(&self) -> impl Iterator<Item = &RelayLeg> {
        self.legs.iter().chain(self.extras.iter().flatten())
    }

    fn all_legs_mut(&mut self) -> impl Iterator<Item = (LegKey, &mut RelayLeg)> {
        let extras = self
            .extras
            .iter_mut()
            .enumerate()
            .filter_map(|(n, l)| Some((n + 2, l.as_mut()?)));
        self.legs.iter_mut().enumerate().chain(extras)
    }

    /// Puts an extra leg in the first free number; returns the number.
    pub(crate) fn insert_extra(&mut self, leg: RelayLeg) -> usize {
        match self.extras.iter().position(Option::is_none) {
            Some(n) => {
                self.extras[n] = Some(leg);
                n
            }
            None => {
                self.extras.push(Some(leg));
                self.extras.len() - 1
            }
        }
    }

    /// Sets up every leg's mix from the extra legs' roles: an extra leg hears what its
    /// role says; A and B hear each other directly, unless an intruder is heard too, when
    /// each hears the other and the intruders mixed.
    pub(crate) fn rewire(&mut self, now: Instant) {
        let heard: Vec<LegKey> = self
            .all_legs_mut()
            .filter(|(_, l)| l.role.is_some_and(Role::is_heard))
            .map(|(k, _)| k)
            .collect();
        for (key, leg) in self.all_legs_mut() {
            let sources = match leg.role {
                Some(role) => role.hears(),
                None if heard.is_empty() => Vec::new(),
                None => std::iter::once(1 - key)
                    .chain(heard.iter().copied())
                    .collect(),
            };
            let same = leg
                .mix
                .as_ref()
                .is_some_and(|m| m.sources().eq(sources.iter().copied()));
            if !same {
                leg.mix = (!sources.is_empty()).then(|| MixInput::new(&sources));
            }
            leg.resume_own_stream(now);
        }
    }

    /// Handles one datagram that arrived on `channel` of leg `leg` (0 A, 1 B, 2 + n extra
    /// n) from `from` in the relay thread's turn at `now`: latches, checks the direction,
    /// forwards it out of the other leg at once (A and B), queues it for the mixes and
    /// recordings that hear its leg, and reports the keys it presses to `events`.
    pub(crate) fn relay(
        &mut self,
        leg: LegKey,
        channel: Channel,
        datagram: &[u8],
        from: SocketAddr,
        now: Instant,
        events: &Events,
    ) {
        let id = self.id;
        let Some(this) = self.leg_mut(leg) else {
            return;
        };
        let len = datagram.len() as u64;
        let port = this.port_mut(channel);
        port.counters.packets_in += 1;
        port.counters.bytes_in += len;

        let valid = match channel {
            Channel::Rtp => is_rtp(datagram),
            Channel::Rtcp => is_rtcp(datagram),
        };
        if !valid || !port.accept_source(from) {
            port.counters.packets_dropped += 1;
            return;
        }
        let rtcp = channel == Channel::Rtcp || is_rtcp(datagram);
        if rtcp {
            // Reports sent by this leg's endpoint describe what it receives: keep them on
            // this leg.
            this.record_reports(datagram);
        } else {
            let payload_type = datagram[1] & 0x7f; // a whole RTP header: checked above
            if matches!(payload_type, 0 | 8) && this.role.is_none() {
                this.payload_type = Some(payload_type);
            }
            // Telephone-events are read here and relayed below like any packet.
            if let Some(dtmf) = &mut this.dtmf {
                if let Some(digit) = dtmf.receive(datagram) {
                    let leg = Leg::from_key(leg);
                    tracing::debug!(session = %id, ?leg, %digit, "key pressed");
                    events.emit(MediaEvent::Digit {
                        session: id,
                        leg,
                        digit,
                    });
                }
            }
        }
        let sends = this.direction.endpoint_sends();
        if leg < 2 {
            self.relay_direct(leg, channel, rtcp, datagram, now);
        }
        if !rtcp && sends {
            for (_, listener) in self.all_legs_mut() {
                if let Some(mix) = &mut listener.mix {
                    if mix.hears(leg) && listener.direction.endpoint_receives() {
                        mix.push(leg, datagram);
                    }
                }
            }
            for recorder in &mut self.recorders {
                recorder.push(leg, datagram, now);
            }
        }
    }

    /// Forwards a datagram from leg A or B out of the other, unless the other hears a mix.
    fn relay_direct(
        &mut self,
        leg: LegKey,
        channel: Channel,
        rtcp: bool,
        datagram: &[u8],
        now: Instant,
    ) {
        let (this, other) = match self.legs.split_at_mut(1) {
            (a, b) if leg == 0 => (&mut a[0], &mut b[0]),
            (a, b) => (&mut b[0], &mut a[0]),
        };
        if other.mix.is_some() && !rtcp {
            return; // it hears this leg in its mix
        }
        let len = datagram.len() as u64;
        // RTCP (also when multiplexed on the RTP port) ignores the direction: RFC 3264 §5.1
        // keeps RTCP flowing on held calls, and it carries the loss and jitter we record.
        // A leg that plays music gets the music instead of the other party's RTP.
        let allowed = rtcp
            || (this.direction.endpoint_sends()
                && other.direction.endpoint_receives()
                && !other.music.is_playing());
        let out = other.port_mut(channel);
        let sent = match out.destination() {
            Some(to) if allowed => send(&out.socket, datagram, to),
            _ => false,
        };
        if sent {
            out.counters.packets_out += 1;
            out.counters.bytes_out += len;
            if !rtcp {
                other.relayed = RtpPosition::of(datagram, now);
            }
        } else {
            this.port_mut(channel).counters.packets_dropped += 1;
        }
    }
}

impl RelaySession {
    /// Sends the packets of the relay's own streams (music, prompts, mixes) due at `now`
    /// on every leg (a few at most per leg, to catch up after a late wake-up), reports the
    /// prompts that ended, and runs the recordings' timers (mixed frames, silence); `buf`
    /// is scratch space. Returns when a timer is due next.
    pub(crate) fn run_timers(
        &mut self,
        now: Instant,
        buf: &mut Vec<u8>,
        events: &Events,
    ) -> Option<Instant> {
        let id = self.id;
        for (key, leg) in self.all_legs_mut() {
            for _ in 0..MAX_MUSIC_BURST {
                let music = leg.music.is_playing();
                if !leg.music.poll_packet(now, buf, leg.mix.as_mut()) {
                    break;
                }
                // Without an address (not known yet, or `c=0.0.0.0`) the music plays on
                // unheard, so that it is where it should be once the address comes.
                if let Some(to) = leg.rtp.destination() {
                    if send(&leg.rtp.socket, buf, to) {
                        if music {
                            leg.music_packets += 1;
                        } else {
                            leg.mixed_packets += 1;
                        }
                    }
                }
            }
            if let Some(tag) = leg.music.take_finished() {
                // Back to the mix, the other party or silence (music went on by itself).
                leg.resume_own_stream(now);
                events.emit(MediaEvent::PlayFinished {
                    session: id,
                    leg: Leg::from_key(key),
                    tag,
                    interrupted: false,
                });
            }
        }
        for recorder in &mut self.recorders {
            if recorder.on_timer(now) {
                tracing::debug!(session = %id, recording = %recorder.id, "silence");
                events.emit(MediaEvent::Silence {
                    session: id,
                    recording: recorder.id,
                });
            }
        }
        self.next_due()
    }

    /// When the next timer is due: a packet of the relay's own streams, a recording's.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        let streams = self.all_legs().filter_map(|l| l.music.next_due());
        let recorders = self.recorders.iter().filter_map(Recorder::next_due);
        streams.chain(recorders).min()
    }
}

/// Music packets one leg may send in one turn: the relay catches up a wake-up up to
/// `MAX_LATE` late in one go; a later one skips (see [`crate::player`]).
const MAX_MUSIC_BURST: usize = 6;

/// Sends at once; a full send buffer or an error drops the packet. Real-time media is
/// better lost than late, and a relay thread must never block on one socket.
fn send(socket: &UdpSocket, datagram: &[u8], to: SocketAddr) -> bool {
    loop {
        match socket.send_to(datagram, to) {
            Ok(_) => return true,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::trace!(%to, error = %e, "relay send failed, packet dropped");
                return false;
            }
        }
    }
}
