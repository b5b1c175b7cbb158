//! The names call control uses to talk about relay sessions: ids, legs, directions and the
//! ports a new session got.

use std::fmt;

/// Identifies a relay session for the lifetime of the engine (ids are never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(pub u64);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "m{}", self.0)
    }
}

/// A leg of a relay session. In a B2BUA call, leg A faces the caller and leg B the callee,
/// but the engine treats them alike: what arrives on one goes out of the other. Extra legs
/// ([`MediaEngine::add_leg`](crate::MediaEngine::add_leg)) join a session to listen or
/// talk in it: a paged phone, a supervisor monitoring or intruding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leg {
    /// The first leg.
    A,
    /// The second leg.
    B,
    /// An extra leg, by the number `add_leg` gave it.
    Extra(u16),
}

impl Leg {
    /// The leg's index in a session: A = 0, B = 1, extra n = 2 + n.
    pub(crate) fn key(self) -> usize {
        match self {
            Leg::A => 0,
            Leg::B => 1,
            Leg::Extra(n) => 2 + usize::from(n),
        }
    }

    /// The leg of an index (see [`key`](Self::key)); extra legs' numbers fit a `u16`.
    pub(crate) fn from_key(key: usize) -> Leg {
        match key {
            0 => Leg::A,
            1 => Leg::B,
            n => Leg::Extra((n - 2) as u16),
        }
    }
}

/// How an extra leg takes part in its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Hears one leg (A or B) and is heard by nobody: a phone receiving a page hears the
    /// pager.
    Listener(Leg),
    /// Hears legs A and B mixed and is heard by nobody: silent monitoring.
    Monitor,
    /// Hears A and B mixed, and both hear it mixed with each other: intrusion, a
    /// three-party call.
    Intruder,
}

impl Role {
    /// Whether legs A and B hear this leg.
    pub(crate) fn is_heard(self) -> bool {
        matches!(self, Role::Intruder)
    }

    /// The legs this leg hears, as keys.
    pub(crate) fn hears(self) -> Vec<usize> {
        match self {
            Role::Listener(leg) => vec![leg.key()],
            Role::Monitor | Role::Intruder => vec![0, 1],
        }
    }
}

/// The media direction of a leg, as seen from the endpoint at the far end of that leg: the
/// same words (and meaning) as the `a=` attribute in the SDP that endpoint sent (RFC 3264
/// §5.1). An endpoint that puts the call on hold with `a=sendonly` gets
/// [`Direction::SendOnly`]: what it sends (music on hold) is relayed, nothing is sent to it.
///
/// Only RTP obeys the direction: RTCP keeps flowing on a held call, as RFC 3264 §5.1 asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// Media flows both ways.
    #[default]
    SendRecv,
    /// The endpoint sends but does not receive.
    SendOnly,
    /// The endpoint receives but does not send.
    RecvOnly,
    /// No media either way.
    Inactive,
}

impl Direction {
    /// Whether packets from the endpoint are relayed on to the other leg.
    pub fn endpoint_sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether packets from the other leg are relayed to the endpoint.
    pub fn endpoint_receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }
}

/// The local ports of one leg: what call control writes into the SDP it sends to that
/// leg's endpoint (`m=audio <rtp_port>`, and `a=rtcp:<rtcp_port>` if it likes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct LegInfo {
    /// The local RTP port (even).
    pub rtp_port: u16,
    /// The local RTCP port (RTP + 1).
    pub rtcp_port: u16,
}

/// A new relay session: its id and the local ports of both legs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionHandle {
    /// The id to name the session by in later commands.
    pub id: SessionId,
    /// The local ports of leg A.
    pub leg_a: LegInfo,
    /// The local ports of leg B.
    pub leg_b: LegInfo,
}

impl SessionHandle {
    /// The local ports of leg A or B; `None` for an extra leg, whose ports
    /// [`MediaEngine::add_leg`](crate::MediaEngine::add_leg) returns.
    pub fn leg(&self, leg: Leg) -> Option<LegInfo> {
        match leg {
            Leg::A => Some(self.leg_a),
            Leg::B => Some(self.leg_b),
            Leg::Extra(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directions_follow_rfc_3264() {
        use Direction::*;
        let table = [
            (SendRecv, true, true),
            (SendOnly, true, false),
            (RecvOnly, false, true),
            (Inactive, false, false),
        ];
        for (d, sends, receives) in table {
            assert_eq!(d.endpoint_sends(), sends, "{d:?}");
            assert_eq!(d.endpoint_receives(), receives, "{d:?}");
        }
    }
}
