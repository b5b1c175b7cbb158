//! Per-leg counters and what the endpoints' RTCP reports said, for the call record.

use std::net::SocketAddr;

use crate::{ReceptionReport, SessionId};

/// Datagram counters of one socket kind (RTP or RTCP) on one leg.
///
/// `packets_in` counts every datagram that arrived from the leg's endpoint, including the
/// ones that were then dropped; `packets_out` counts datagrams sent to the endpoint. So on a
/// relay that drops nothing, A's `packets_in` equals B's `packets_out`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PacketCounters {
    /// Datagrams received from the endpoint.
    pub packets_in: u64,
    /// Bytes received from the endpoint.
    pub bytes_in: u64,
    /// Datagrams sent to the endpoint.
    pub packets_out: u64,
    /// Bytes sent to the endpoint.
    pub bytes_out: u64,
    /// Datagrams received from the endpoint and not relayed: not RTP/RTCP, from a source
    /// other than the latched one, held by the direction, no destination known yet, or the
    /// send failed.
    pub packets_dropped: u64,
}

/// What the endpoint of a leg reported about the media it receives, from the report blocks
/// of the RTCP sender and receiver reports that passed through the relay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceptionStats {
    /// How many report blocks were seen.
    pub reports: u64,
    /// The most recent report block (its `cumulative_lost` covers the whole call).
    pub last: ReceptionReport,
    /// The highest interarrival jitter reported during the call, in RTP timestamp units.
    pub max_jitter: u32,
}

impl ReceptionStats {
    pub(crate) fn record(&mut self, report: ReceptionReport) {
        self.reports += 1;
        self.last = report;
        self.max_jitter = self.max_jitter.max(report.jitter);
    }
}

/// Statistics of one leg.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LegStats {
    /// RTP datagrams (including RTCP multiplexed on the RTP port).
    pub rtp: PacketCounters,
    /// Datagrams on the RTCP port.
    pub rtcp: PacketCounters,
    /// What the endpoint's RTCP reports said, if it sent any with report blocks.
    pub reception: Option<ReceptionStats>,
    /// Where RTP for this endpoint goes now: the latched source, else the SDP address.
    pub rtp_remote: Option<SocketAddr>,
    /// Whether `rtp_remote` was learnt from the endpoint's packets (symmetric RTP).
    pub rtp_latched: bool,
    /// Music-on-hold and prompt packets sent to the endpoint (not counted in
    /// `rtp.packets_out`, which counts relayed packets).
    pub music_packets: u64,
    /// Whether music or a prompt is playing to the endpoint now.
    pub music_playing: bool,
    /// Packets of the leg's mix sent to the endpoint (an extra leg's audio, or what A and
    /// B hear while someone intrudes); not counted in `rtp.packets_out` either.
    pub mixed_packets: u64,
}

/// Statistics of a relay session, from [`MediaEngine::stats`](crate::MediaEngine::stats)
/// or [`MediaEngine::destroy_session`](crate::MediaEngine::destroy_session).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionStats {
    /// The session.
    pub id: SessionId,
    /// Leg A.
    pub leg_a: LegStats,
    /// Leg B.
    pub leg_b: LegStats,
}

impl SessionStats {
    /// The statistics of leg A or B; `None` for an extra leg (see
    /// [`MediaEngine::leg_stats`](crate::MediaEngine::leg_stats)).
    pub fn leg(&self, leg: crate::Leg) -> Option<&LegStats> {
        match leg {
            crate::Leg::A => Some(&self.leg_a),
            crate::Leg::B => Some(&self.leg_b),
            crate::Leg::Extra(_) => None,
        }
    }
}
