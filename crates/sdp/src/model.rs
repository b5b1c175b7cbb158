//! The session description model (RFC 8866 §5): one struct per line type that carries
//! structure, and verbatim strings for the fields a B2BUA only passes through (`i=`, `u=`,
//! `e=`, `p=`, `r=`, `z=`, `k=`, attribute values).
//!
//! Fields are public so that callers can build and edit descriptions freely; the parser
//! guarantees the RFC grammar for what it returns, and the writer keeps whatever a caller
//! puts in from breaking the line structure (see `write.rs`).

use std::net::IpAddr;

use crate::codec::{Codec, Rtcp, RtpMap};
use crate::direction::Direction;

/// A whole session description: the session-level lines and the media sections in order.
///
/// There is no field for `v=`: only version 0 exists, the parser requires it and the writer
/// always writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// `o=`: who made the description and which version of it this is.
    pub origin: Origin,
    /// `s=`: the session name. Written as `s=-` when empty, since RFC 8866 §5.3 forbids an
    /// empty one.
    pub session_name: String,
    /// `i=` at session level.
    pub information: Option<String>,
    /// `u=`.
    pub uri: Option<String>,
    /// `e=` lines.
    pub emails: Vec<String>,
    /// `p=` lines.
    pub phones: Vec<String>,
    /// `c=` at session level: the default for media sections without their own.
    pub connection: Option<Connection>,
    /// `b=` lines at session level.
    pub bandwidths: Vec<Bandwidth>,
    /// `t=` lines, each with its `r=` lines. At least one is written (`t=0 0` if empty).
    pub times: Vec<Timing>,
    /// `z=`, verbatim.
    pub time_zones: Option<String>,
    /// `k=` at session level, verbatim (obsolete, RFC 8866 §5.12).
    pub key: Option<String>,
    /// `a=` lines at session level, in order.
    pub attributes: Vec<Attribute>,
    /// `m=` sections, in order: their index is the stream's identity in offer/answer.
    pub media: Vec<MediaDescription>,
}

/// The `o=` line: `username sess-id sess-version nettype addrtype unicast-address`.
///
/// The two numbers are kept as digit strings: the grammar puts no bound on them and this
/// keeps the round trip exact; [`SessionDescription::bump_version`] counts in decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The user's login, `-` when there is none.
    pub username: String,
    /// Digits identifying the session; unique per originator.
    pub session_id: String,
    /// Digits that must increase each time the originator changes the description.
    pub session_version: String,
    /// Network type, `IN`.
    pub nettype: String,
    /// Address type, `IP4` or `IP6`.
    pub addrtype: String,
    /// Address of the originating host (an IP address or a domain name).
    pub address: String,
}

impl Origin {
    /// An origin for an IP address, with username `-`.
    pub fn new(session_id: u64, session_version: u64, address: IpAddr) -> Self {
        let connection = Connection::new(address);
        Origin {
            username: "-".to_owned(),
            session_id: session_id.to_string(),
            session_version: session_version.to_string(),
            nettype: connection.nettype,
            addrtype: connection.addrtype,
            address: connection.address,
        }
    }
}

/// A `c=` line: `nettype addrtype connection-address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// Network type, `IN`.
    pub nettype: String,
    /// Address type, `IP4` or `IP6`.
    pub addrtype: String,
    /// The address, possibly with a multicast `/ttl/count` suffix, or a domain name.
    pub address: String,
}

impl Connection {
    /// `IN IP4 a.b.c.d` or `IN IP6 x::y` for an IP address.
    pub fn new(address: IpAddr) -> Self {
        Connection {
            nettype: "IN".to_owned(),
            addrtype: addrtype(address).to_owned(),
            address: address.to_string(),
        }
    }

    /// The IP address, if this is an `IN` connection whose address is an IP literal of its
    /// address type. A multicast suffix is ignored; a domain name gives `None`.
    pub fn ip(&self) -> Option<IpAddr> {
        if self.nettype != "IN" {
            return None;
        }
        let literal = self.address.split('/').next().unwrap_or_default();
        let ip: IpAddr = literal.parse().ok()?;
        (addrtype(ip) == self.addrtype).then_some(ip)
    }

    /// Whether this is the unspecified address (`0.0.0.0`, or `::`), which RFC 2543 phones
    /// still send to put a call on hold: nobody can send to it, so the author receives
    /// nothing (RFC 3264 §8.4).
    pub fn is_unspecified(&self) -> bool {
        self.ip().is_some_and(|ip| ip.is_unspecified())
    }
}

/// The SDP address type of an IP address.
pub(crate) fn addrtype(ip: IpAddr) -> &'static str {
    match ip {
        IpAddr::V4(_) => "IP4",
        IpAddr::V6(_) => "IP6",
    }
}

/// A `b=` line: `bwtype:bandwidth` (RFC 8866 §5.8), for example `AS:64` in kilobits per
/// second.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bandwidth {
    /// `CT`, `AS`, `TIAS` or another token.
    pub bwtype: String,
    /// The value, in units the type defines.
    pub bandwidth: u64,
}

/// A `t=` line with its `r=` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timing {
    /// Start time (NTP seconds), 0 for a session that is always on, as in every SIP call.
    pub start: u64,
    /// Stop time (NTP seconds), 0 for unbounded.
    pub stop: u64,
    /// `r=` lines, verbatim.
    pub repeats: Vec<String>,
}

impl Default for Timing {
    /// `t=0 0`: the permanent session used by SIP (RFC 3264 §5).
    fn default() -> Self {
        Timing {
            start: 0,
            stop: 0,
            repeats: Vec::new(),
        }
    }
}

/// An `a=` line: a name and, for value attributes, what follows the first colon, verbatim.
///
/// `a=sendrecv` has `value: None`; `a=foo:` has `value: Some("")`. Unknown attributes (ICE
/// candidates, `a=crypto`, `a=ssrc`, …) are kept as they came so that they can be relayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// The attribute name (a token).
    pub name: String,
    /// The value after the colon, if there was a colon.
    pub value: Option<String>,
}

impl Attribute {
    /// A property attribute without value, such as `a=sendrecv`.
    pub fn flag(name: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            value: None,
        }
    }

    /// A value attribute, such as `a=ptime:20`.
    pub fn with_value(name: impl Into<String>, value: impl Into<String>) -> Self {
        Attribute {
            name: name.into(),
            value: Some(value.into()),
        }
    }
}

/// A media section: the `m=` line and the `i=`, `c=`, `b=`, `k=` and `a=` lines under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type: `audio`, `video`, `image`, `application`, …
    pub media: String,
    /// Transport port; 0 marks a stream that is rejected or disabled (RFC 3264 §5.1, §6).
    pub port: u16,
    /// The `/count` after the port, if given.
    pub port_count: Option<u16>,
    /// Transport protocol: `RTP/AVP`, `RTP/SAVP`, `udptl`, …
    pub protocol: String,
    /// Media formats; payload type numbers for RTP protocols, in the author's preference.
    pub formats: Vec<String>,
    /// `i=` (media title).
    pub title: Option<String>,
    /// `c=` lines of this section (several only for layered multicast).
    pub connections: Vec<Connection>,
    /// `b=` lines of this section.
    pub bandwidths: Vec<Bandwidth>,
    /// `k=` of this section, verbatim.
    pub key: Option<String>,
    /// `a=` lines of this section, in order.
    pub attributes: Vec<Attribute>,
}

impl MediaDescription {
    /// A section with the given `m=` line and nothing under it.
    pub fn new(
        media: impl Into<String>,
        port: u16,
        protocol: impl Into<String>,
        formats: Vec<String>,
    ) -> Self {
        MediaDescription {
            media: media.into(),
            port,
            port_count: None,
            protocol: protocol.into(),
            formats,
            title: None,
            connections: Vec::new(),
            bandwidths: Vec::new(),
            key: None,
            attributes: Vec::new(),
        }
    }

    /// Whether the protocol carries RTP, so that formats are payload type numbers.
    pub fn is_rtp(&self) -> bool {
        is_rtp_protocol(&self.protocol)
    }

    /// The formats that are payload type numbers, in order.
    pub fn payload_types(&self) -> impl Iterator<Item = u8> + '_ {
        self.formats
            .iter()
            .filter_map(|f| crate::lex::parse_payload_type(f))
    }

    /// The value of the first attribute with this name that has a value.
    pub fn attribute_value(&self, name: &str) -> Option<&str> {
        attribute_value(&self.attributes, name)
    }

    /// Whether an attribute with this name is present.
    pub fn has_attribute(&self, name: &str) -> bool {
        self.attributes.iter().any(|a| a.name == name)
    }

    /// Removes every attribute with this name and says how many there were; for example
    /// the B2BUA drops `a=candidate` or `a=rtcp` that describe a transport it replaced.
    pub fn remove_attributes(&mut self, name: &str) -> usize {
        let before = self.attributes.len();
        self.attributes.retain(|a| a.name != name);
        before - self.attributes.len()
    }

    /// The direction attribute of this section alone, without session-level defaults.
    pub fn direction_attribute(&self) -> Option<Direction> {
        direction_attribute(&self.attributes)
    }

    /// The `a=rtpmap` for a payload type, if present and well-formed.
    pub fn rtpmap(&self, payload_type: u8) -> Option<RtpMap> {
        self.attributes
            .iter()
            .filter(|a| a.name == "rtpmap")
            .filter_map(|a| a.value.as_deref().and_then(RtpMap::parse))
            .find(|m| m.payload_type == payload_type)
    }

    /// The parameters of the `a=fmtp` for a format, such as `0-15` for `a=fmtp:101 0-15`.
    pub fn fmtp(&self, format: &str) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|a| a.name == "fmtp")
            .filter_map(|a| a.value.as_deref()?.split_once(' '))
            .find(|(fmt, _)| *fmt == format)
            .map(|(_, params)| params)
    }

    /// `a=ptime` in whole milliseconds, if present and integral.
    pub fn ptime(&self) -> Option<u32> {
        self.attribute_value("ptime")
            .and_then(crate::lex::parse_u32)
    }

    /// `a=rtcp` (RFC 3605), if present and well-formed.
    pub fn rtcp(&self) -> Option<Rtcp> {
        self.attribute_value("rtcp").and_then(Rtcp::parse)
    }

    /// The codecs of the formats, in the author's order of preference; identified by
    /// `a=rtpmap` or, without one, by the static payload types of RFC 3551.
    pub fn codecs(&self) -> Vec<Codec> {
        self.payload_types()
            .map(|pt| Codec::identify(pt, self.rtpmap(pt)))
            .collect()
    }
}

/// Whether a protocol carries RTP (`RTP/AVP`, `RTP/SAVPF`, `UDP/TLS/RTP/SAVP`, …).
pub(crate) fn is_rtp_protocol(protocol: &str) -> bool {
    protocol
        .split('/')
        .any(|part| part.eq_ignore_ascii_case("RTP"))
}

impl SessionDescription {
    /// A description with an origin, `s=-`, `t=0 0` and nothing else.
    pub fn new(origin: Origin) -> Self {
        SessionDescription {
            origin,
            session_name: "-".to_owned(),
            information: None,
            uri: None,
            emails: Vec::new(),
            phones: Vec::new(),
            connection: None,
            bandwidths: Vec::new(),
            times: vec![Timing::default()],
            time_zones: None,
            key: None,
            attributes: Vec::new(),
            media: Vec::new(),
        }
    }

    /// The value of the first session-level attribute with this name that has a value.
    pub fn attribute_value(&self, name: &str) -> Option<&str> {
        attribute_value(&self.attributes, name)
    }

    /// The session-level direction attribute, the default for every media section.
    pub fn direction_attribute(&self) -> Option<Direction> {
        direction_attribute(&self.attributes)
    }
}

fn attribute_value<'a>(attributes: &'a [Attribute], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .filter(|a| a.name == name)
        .find_map(|a| a.value.as_deref())
}

/// The first direction attribute in a list (a description should have at most one).
fn direction_attribute(attributes: &[Attribute]) -> Option<Direction> {
    attributes
        .iter()
        .filter(|a| a.value.is_none())
        .find_map(|a| Direction::from_attribute_name(&a.name))
}
