//! Media direction (RFC 8866 §6.7, RFC 3264 §5.1): which way a stream flows, as seen by the
//! side that wrote the description.

use std::fmt;

/// The direction attribute of a stream, from the point of view of the description's author.
///
/// `SendOnly` in a phone's SDP means "I will send and do not want to receive", which is how
/// phones put a call on hold (RFC 3264 §8.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// `a=sendrecv`, also the default when no direction attribute is present.
    #[default]
    SendRecv,
    /// `a=sendonly`.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The attribute name, as written after `a=`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction named by an attribute name, if it is one of the four.
    pub fn from_attribute_name(name: &str) -> Option<Self> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The direction allowing exactly the given flows.
    pub const fn from_flags(sends: bool, receives: bool) -> Self {
        match (sends, receives) {
            (true, true) => Direction::SendRecv,
            (true, false) => Direction::SendOnly,
            (false, true) => Direction::RecvOnly,
            (false, false) => Direction::Inactive,
        }
    }

    /// Whether the author sends media.
    pub const fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the author wants to receive media.
    pub const fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same flows seen from the other end: what the peer sends, we receive. This is the
    /// mirror an answer applies to an offer (RFC 3264 §6.1).
    pub const fn reversed(self) -> Self {
        Direction::from_flags(self.receives(), self.sends())
    }

    /// The flows both directions allow: how a side that wants `self` narrows what the other
    /// side permits (for example a held party answering an offer).
    pub const fn intersect(self, other: Direction) -> Self {
        Direction::from_flags(
            self.sends() && other.sends(),
            self.receives() && other.receives(),
        )
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::Direction::*;
    use super::*;

    #[test]
    fn reversed_mirrors_as_rfc_3264_asks() {
        assert_eq!(SendOnly.reversed(), RecvOnly);
        assert_eq!(RecvOnly.reversed(), SendOnly);
        assert_eq!(Inactive.reversed(), Inactive);
        assert_eq!(SendRecv.reversed(), SendRecv);
    }

    #[test]
    fn intersect_keeps_common_flows() {
        assert_eq!(SendRecv.intersect(SendOnly), SendOnly);
        assert_eq!(SendOnly.intersect(RecvOnly), Inactive);
        assert_eq!(RecvOnly.intersect(SendRecv), RecvOnly);
    }

    #[test]
    fn names_round_trip() {
        for d in [SendRecv, SendOnly, RecvOnly, Inactive] {
            assert_eq!(Direction::from_attribute_name(d.as_str()), Some(d));
            assert_eq!(d.to_string(), d.as_str());
        }
        assert_eq!(Direction::from_attribute_name("SENDRECV"), None);
    }
}
