//! Codecs as offer/answer sees them, and the attributes that name them: `a=rtpmap`
//! (RFC 8866 §6.6) and `a=rtcp` (RFC 3605).

use std::fmt;

use crate::lex;
use crate::model::Connection;

/// The `telephone-event` events we send and receive: DTMF 0–9, *, #, A–D and flash
/// (RFC 4733 §3.2). Written in the `a=fmtp` of our offers and answers.
pub const TELEPHONE_EVENT_FMTP: &str = "0-16";

/// A codec in a media section, with the payload type where the type is not fixed.
///
/// G.711 is recognised only at its static payload types (RFC 3551 §6): the relay keys
/// µ-law and A-law by 0 and 8, and no phone in use remaps them. `telephone-event` is
/// always dynamic, so an answer must use the offerer's number (RFC 4733 §2.5.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, `PCMU/8000`, payload type 0.
    Pcmu,
    /// G.711 A-law, `PCMA/8000`, payload type 8.
    Pcma,
    /// RFC 4733 events, `telephone-event/8000`, at a dynamic payload type.
    TelephoneEvent {
        /// The payload type.
        pt: u8,
    },
    /// Any other format, with its `a=rtpmap` if it had one.
    Other {
        /// The payload type.
        pt: u8,
        /// The mapping that named it, if any.
        rtpmap: Option<RtpMap>,
    },
}

impl Codec {
    /// The RTP payload type.
    pub fn payload_type(&self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
            Codec::TelephoneEvent { pt } | Codec::Other { pt, .. } => *pt,
        }
    }

    /// Whether this is a voice codec, as opposed to RFC 4733 events that only ride along.
    pub fn is_voice(&self) -> bool {
        !matches!(self, Codec::TelephoneEvent { .. })
    }

    /// The `a=rtpmap` that describes this codec. Written even for static payload types,
    /// as RFC 8866 §6.6 recommends; `None` for an `Other` that had none.
    pub fn rtpmap(&self) -> Option<RtpMap> {
        let map = |pt, encoding: &str| RtpMap {
            payload_type: pt,
            encoding: encoding.to_owned(),
            clock_rate: 8000,
            channels: None,
        };
        match self {
            Codec::Pcmu => Some(map(0, "PCMU")),
            Codec::Pcma => Some(map(8, "PCMA")),
            Codec::TelephoneEvent { pt } => Some(map(*pt, "telephone-event")),
            Codec::Other { rtpmap, .. } => rtpmap.clone(),
        }
    }

    /// Identifies the codec of a payload type from its `a=rtpmap`, or from the static
    /// assignments of RFC 3551 when there is none.
    pub fn identify(pt: u8, rtpmap: Option<RtpMap>) -> Codec {
        let Some(map) = rtpmap else {
            return match pt {
                0 => Codec::Pcmu,
                8 => Codec::Pcma,
                _ => Codec::Other { pt, rtpmap: None },
            };
        };
        let mono_8k = map.clock_rate == 8000 && matches!(map.channels, None | Some(1));
        let named = |name: &str| map.encoding.eq_ignore_ascii_case(name) && mono_8k;
        match pt {
            0 if named("PCMU") => Codec::Pcmu,
            8 if named("PCMA") => Codec::Pcma,
            // RFC 3551 §3 leaves 35–71 and 77–127 for dynamic use; 72–76 would collide with
            // RTCP packet types and 0–34 are static assignments.
            35..=71 | 77..=127 if named("telephone-event") => Codec::TelephoneEvent { pt },
            _ => Codec::Other {
                pt,
                rtpmap: Some(map),
            },
        }
    }

    /// Whether two codecs are the same format, whatever payload types they use. Formats
    /// without an rtpmap can only be compared by their static payload type.
    pub fn same_format(&self, other: &Codec) -> bool {
        match (self, other) {
            (Codec::Pcmu, Codec::Pcmu)
            | (Codec::Pcma, Codec::Pcma)
            | (Codec::TelephoneEvent { .. }, Codec::TelephoneEvent { .. }) => true,
            (Codec::Other { pt: a, rtpmap: ma }, Codec::Other { pt: b, rtpmap: mb }) => {
                match (ma, mb) {
                    (Some(ma), Some(mb)) => {
                        ma.encoding.eq_ignore_ascii_case(&mb.encoding)
                            && ma.clock_rate == mb.clock_rate
                            && ma.channels.unwrap_or(1) == mb.channels.unwrap_or(1)
                    }
                    (None, None) => a == b && *a < 35,
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// The value of an `a=rtpmap`: `<payload type> <encoding name>/<clock rate>[/<channels>]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RtpMap {
    /// The payload type it maps.
    pub payload_type: u8,
    /// The encoding name, such as `PCMU` or `telephone-event` (compare case-insensitively).
    pub encoding: String,
    /// The RTP clock rate in hertz.
    pub clock_rate: u32,
    /// The channel count for audio, when given.
    pub channels: Option<u16>,
}

impl RtpMap {
    /// Parses an `a=rtpmap` value; `None` if it does not follow the grammar.
    pub fn parse(value: &str) -> Option<Self> {
        let (pt, rest) = value.split_once(' ')?;
        let payload_type = lex::parse_payload_type(pt)?;
        let mut parts = rest.split('/');
        let encoding = parts.next().filter(|e| lex::is_token(e))?;
        let clock_rate = parts.next().and_then(lex::parse_u32).filter(|&r| r > 0)?;
        let channels = match parts.next() {
            Some(c) => Some(lex::parse_u16(c).filter(|&c| c > 0)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(RtpMap {
            payload_type,
            encoding: encoding.to_owned(),
            clock_rate,
            channels,
        })
    }
}

impl fmt::Display for RtpMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}/{}",
            self.payload_type, self.encoding, self.clock_rate
        )?;
        if let Some(channels) = self.channels {
            write!(f, "/{channels}")?;
        }
        Ok(())
    }
}

/// The value of an `a=rtcp` (RFC 3605): the RTCP port, and an address when it differs from
/// the section's connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rtcp {
    /// The RTCP port.
    pub port: u16,
    /// `nettype addrtype address`, when given.
    pub connection: Option<Connection>,
}

impl Rtcp {
    /// Parses an `a=rtcp` value; `None` if it does not follow the grammar.
    pub fn parse(value: &str) -> Option<Self> {
        let mut fields = value.split(' ');
        let port = fields.next().and_then(lex::parse_u16)?;
        let connection = match (fields.next(), fields.next(), fields.next()) {
            (None, _, _) => None,
            (Some(nettype), Some(addrtype), Some(address))
                if lex::is_token(nettype) && lex::is_token(addrtype) && lex::is_non_ws(address) =>
            {
                Some(Connection {
                    nettype: nettype.to_owned(),
                    addrtype: addrtype.to_owned(),
                    address: address.to_owned(),
                })
            }
            _ => return None,
        };
        if fields.next().is_some() {
            return None;
        }
        Some(Rtcp { port, connection })
    }
}

impl fmt::Display for Rtcp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.port)?;
        if let Some(c) = &self.connection {
            write!(f, " {c}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtpmap_parses_and_prints() {
        let m = RtpMap::parse("96 opus/48000/2").unwrap();
        assert_eq!(
            (m.payload_type, m.clock_rate, m.channels),
            (96, 48000, Some(2))
        );
        assert_eq!(m.to_string(), "96 opus/48000/2");
        for bad in [
            "96",
            "96 opus",
            "128 x/8000",
            "0 PCMU/0",
            "0 PCMU/8000/1/2",
            "0 PC MU/8000",
        ] {
            assert_eq!(RtpMap::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn identify_uses_rtpmap_then_static_table() {
        assert_eq!(Codec::identify(0, None), Codec::Pcmu);
        assert_eq!(
            Codec::identify(8, RtpMap::parse("8 pcma/8000")),
            Codec::Pcma
        );
        assert_eq!(
            Codec::identify(96, RtpMap::parse("96 telephone-event/8000")),
            Codec::TelephoneEvent { pt: 96 }
        );
        // Events at another clock rate belong to a wideband codec we do not offer.
        assert!(matches!(
            Codec::identify(102, RtpMap::parse("102 telephone-event/16000")),
            Codec::Other { pt: 102, .. }
        ));
        // A static number mapped to something else is not G.711.
        assert!(matches!(
            Codec::identify(0, RtpMap::parse("0 G729/8000")),
            Codec::Other { pt: 0, .. }
        ));
        assert!(matches!(
            Codec::identify(18, None),
            Codec::Other {
                pt: 18,
                rtpmap: None
            }
        ));
    }

    #[test]
    fn same_format_ignores_payload_type_of_dynamic_codecs() {
        let te = |pt| Codec::TelephoneEvent { pt };
        assert!(te(96).same_format(&te(101)));
        let opus = |pt| Codec::identify(pt, RtpMap::parse(&format!("{pt} opus/48000/2")));
        assert!(opus(96).same_format(&opus(111)));
        assert!(!Codec::Pcmu.same_format(&Codec::Pcma));
        assert!(Codec::identify(9, None).same_format(&Codec::identify(9, None)));
    }

    #[test]
    fn rtcp_parses_with_and_without_address() {
        assert_eq!(Rtcp::parse("53020").map(|r| r.port), Some(53020));
        let r = Rtcp::parse("53020 IN IP4 126.16.64.4").unwrap();
        assert_eq!(r.to_string(), "53020 IN IP4 126.16.64.4");
        for bad in ["", "x", "70000", "1 IN IP4", "1 IN IP4 a b", "1  IN IP4 a"] {
            assert_eq!(Rtcp::parse(bad), None, "{bad}");
        }
    }
}
