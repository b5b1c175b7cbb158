//! The strict parser (RFC 8866 §5 and §9). It takes untrusted bytes from a SIP body and
//! either returns a description that follows the grammar or says which line broke it; no
//! input makes it panic.
//!
//! Strict on what a media relay depends on (line order, numbers, ports, addresses, the
//! attributes it interprets) and on what RFC 8866 tells parsers to refuse (unknown line
//! types). Lenient in three places where well-known phones stray and nothing is at stake:
//! bare LF line ends, a missing final line end or extra empty lines at the very end, and
//! an empty `s=` (which the writer repairs to `s=-`). One strictness beyond the grammar:
//! numbers held as integers (ports, times, bandwidths, payload types) may not have leading
//! zeros, so that every description that parses with CRLF prints back byte for byte.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::codec::{Rtcp, RtpMap};
use crate::direction::Direction;
use crate::error::SdpError;
use crate::lex;
use crate::model::{
    Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription, Timing,
};
use crate::{MAX_LINES, MAX_MEDIA};

/// Parses a session description (the body of a SIP message with type `application/sdp`).
pub fn parse(input: &[u8]) -> Result<SessionDescription, SdpError> {
    let mut lines = Lines::new(input);
    let v = lines.expect(b'v', "the first line must be v=")?;
    if v.value != "0" {
        return Err(SdpError::BadVersion { line: v.number });
    }
    let o = lines.expect(b'o', "o= must follow v=")?;
    let origin = parse_origin(o.value, o.number)?;
    let s = lines.expect(b's', "s= must follow o=")?;
    let mut sdp = SessionDescription::new(origin);
    sdp.session_name = s.value.to_owned();
    sdp.times.clear();

    let mut order = Order::default();
    let mut media_lines = Vec::new();
    while let Some(line) = lines.next() {
        let line = line?;
        if line.kind == b'm' {
            if sdp.times.is_empty() {
                return Err(misplaced(&line, "t= must come before it"));
            }
            if sdp.media.len() == MAX_MEDIA {
                return Err(SdpError::TooManyMedia {
                    line: line.number,
                    limit: MAX_MEDIA,
                });
            }
            sdp.media.push(parse_media(line.value, line.number)?);
            media_lines.push(line.number);
            order = Order::default();
        } else if let Some(media) = sdp.media.last_mut() {
            media_line(media, &mut order, &line)?;
        } else {
            session_line(&mut sdp, &mut order, &line)?;
        }
    }
    if sdp.times.is_empty() {
        return Err(SdpError::Missing {
            line: lines.last,
            kind: 't',
        });
    }
    if sdp.connection.is_none() {
        // A rejected stream (port 0) carries no media, so its missing address is harmless.
        let unreachable = sdp
            .media
            .iter()
            .zip(&media_lines)
            .enumerate()
            .find(|(_, (m, _))| m.port != 0 && m.connections.is_empty());
        if let Some((media, (_, &line))) = unreachable {
            return Err(SdpError::MissingConnection { line, media });
        }
    }
    Ok(sdp)
}

/// One non-empty line: its number, type letter and UTF-8 value.
struct Line<'a> {
    number: usize,
    kind: u8,
    value: &'a str,
}

fn misplaced(line: &Line<'_>, reason: &'static str) -> SdpError {
    SdpError::Misplaced {
        line: line.number,
        kind: char::from(line.kind),
        reason,
    }
}

fn invalid(line: usize, kind: u8, field: &'static str) -> SdpError {
    SdpError::InvalidField {
        line,
        kind: char::from(kind),
        field,
    }
}

/// Splits the input into lines ended by CRLF or LF, checking each for the basic shape.
struct Lines<'a> {
    split: std::slice::Split<'a, u8, fn(&u8) -> bool>,
    number: usize,
    /// The last non-empty line returned, for errors about what is missing at the end.
    last: usize,
    /// The first empty line seen: an error only if a non-empty line follows it.
    first_empty: Option<usize>,
}

fn is_lf(b: &u8) -> bool {
    *b == b'\n'
}

impl<'a> Lines<'a> {
    fn new(input: &'a [u8]) -> Self {
        Lines {
            split: input.split(is_lf as fn(&u8) -> bool),
            number: 0,
            last: 0,
            first_empty: None,
        }
    }

    /// The next line, which must be of the given type.
    fn expect(&mut self, kind: u8, reason: &'static str) -> Result<Line<'a>, SdpError> {
        match self.next() {
            None => Err(SdpError::Missing {
                line: self.last.max(1),
                kind: char::from(kind),
            }),
            Some(Ok(line)) if line.kind == kind => Ok(line),
            Some(Ok(line)) => Err(misplaced(&line, reason)),
            Some(Err(e)) => Err(e),
        }
    }

    fn next(&mut self) -> Option<Result<Line<'a>, SdpError>> {
        loop {
            let raw = self.split.next()?;
            self.number += 1;
            let raw = raw.strip_suffix(b"\r".as_slice()).unwrap_or(raw);
            if raw.is_empty() {
                self.first_empty.get_or_insert(self.number);
                continue;
            }
            if let Some(line) = self.first_empty {
                return Some(Err(SdpError::MalformedLine { line }));
            }
            if self.number > MAX_LINES {
                return Some(Err(SdpError::TooManyLines {
                    line: self.number,
                    limit: MAX_LINES,
                }));
            }
            self.last = self.number;
            return Some(split_line(self.number, raw));
        }
    }
}

fn split_line(number: usize, raw: &[u8]) -> Result<Line<'_>, SdpError> {
    let [kind, b'=', value @ ..] = raw else {
        return Err(SdpError::MalformedLine { line: number });
    };
    if !kind.is_ascii_lowercase() || value.iter().any(|&b| b == 0 || b == b'\r') {
        return Err(SdpError::MalformedLine { line: number });
    }
    let value = std::str::from_utf8(value).map_err(|_| SdpError::NotUtf8 { line: number })?;
    if !b"vosiuepcbtrzkam".contains(kind) {
        return Err(SdpError::UnknownType {
            line: number,
            kind: char::from(*kind),
        });
    }
    Ok(Line {
        number,
        kind: *kind,
        value,
    })
}

/// Where the previous line of the current level stood in the RFC 8866 §5 order.
#[derive(Default)]
struct Order {
    rank: u8,
    previous: u8,
}

impl Order {
    /// Checks that a line of this rank may follow; `repeatable` lines may share a rank.
    /// Ranks start at 1, so the first line of a level always passes.
    fn advance(&mut self, line: &Line<'_>, rank: u8, repeatable: bool) -> Result<(), SdpError> {
        if rank < self.rank {
            return Err(misplaced(line, "out of RFC 8866 section 5 order"));
        }
        if rank == self.rank && !repeatable {
            return Err(misplaced(line, "only one is allowed"));
        }
        self.rank = rank;
        self.previous = line.kind;
        Ok(())
    }
}

fn session_line(
    sdp: &mut SessionDescription,
    order: &mut Order,
    line: &Line<'_>,
) -> Result<(), SdpError> {
    // Ranks after the fixed v=, o=, s=; t= and r= share one so that they may alternate.
    let (rank, repeatable) = match line.kind {
        b'i' => (1, false),
        b'u' => (2, false),
        b'e' => (3, true),
        b'p' => (4, true),
        b'c' => (5, false),
        b'b' => (6, true),
        b't' | b'r' => (7, true),
        b'z' => (8, false),
        b'k' => (9, false),
        b'a' => (10, true),
        _ => return Err(misplaced(line, "only one is allowed, at the start")),
    };
    if rank > 7 && sdp.times.is_empty() {
        return Err(misplaced(line, "t= must come before it"));
    }
    if line.kind == b'r' && !matches!(order.previous, b't' | b'r') {
        return Err(misplaced(line, "r= must follow t= or r="));
    }
    order.advance(line, rank, repeatable)?;
    match line.kind {
        b'i' => sdp.information = Some(text(line)?),
        b'u' => sdp.uri = Some(text(line)?),
        b'e' => sdp.emails.push(text(line)?),
        b'p' => sdp.phones.push(text(line)?),
        b'c' => sdp.connection = Some(parse_connection(line.value, line.number)?),
        b'b' => sdp
            .bandwidths
            .push(parse_bandwidth(line.value, line.number)?),
        b't' => sdp.times.push(parse_timing(line.value, line.number)?),
        b'r' => {
            let repeat = text(line)?;
            if let Some(t) = sdp.times.last_mut() {
                t.repeats.push(repeat);
            }
        }
        b'z' => sdp.time_zones = Some(text(line)?),
        b'k' => sdp.key = Some(text(line)?),
        _ => sdp
            .attributes
            .push(parse_attribute(line.value, line.number)?),
    }
    Ok(())
}

fn media_line(
    media: &mut MediaDescription,
    order: &mut Order,
    line: &Line<'_>,
) -> Result<(), SdpError> {
    let (rank, repeatable) = match line.kind {
        b'i' => (1, false),
        b'c' => (2, true),
        b'b' => (3, true),
        b'k' => (4, false),
        b'a' => (5, true),
        _ => return Err(misplaced(line, "session-level line inside a media section")),
    };
    order.advance(line, rank, repeatable)?;
    match line.kind {
        b'i' => media.title = Some(text(line)?),
        b'c' => media
            .connections
            .push(parse_connection(line.value, line.number)?),
        b'b' => media
            .bandwidths
            .push(parse_bandwidth(line.value, line.number)?),
        b'k' => media.key = Some(text(line)?),
        _ => media
            .attributes
            .push(parse_attribute(line.value, line.number)?),
    }
    Ok(())
}

/// Free text (`i=`, `u=`, `e=`, `p=`, `r=`, `z=`, `k=`): kept verbatim, but not empty.
fn text(line: &Line<'_>) -> Result<String, SdpError> {
    if line.value.is_empty() {
        return Err(invalid(line.number, line.kind, "value (empty)"));
    }
    Ok(line.value.to_owned())
}

fn parse_origin(value: &str, line: usize) -> Result<Origin, SdpError> {
    let fields: Vec<&str> = value.splitn(7, ' ').collect();
    let [username, session_id, session_version, nettype, addrtype, address] = fields[..] else {
        return Err(invalid(line, b'o', "number of fields"));
    };
    let checks = [
        (lex::is_non_ws(username), "username"),
        (lex::is_digits(session_id), "sess-id"),
        (lex::is_digits(session_version), "sess-version"),
        (lex::is_token(nettype), "nettype"),
        (lex::is_token(addrtype), "addrtype"),
        (
            valid_address(nettype, addrtype, address, false),
            "unicast-address",
        ),
    ];
    if let Some((_, field)) = checks.iter().find(|(ok, _)| !ok) {
        return Err(invalid(line, b'o', field));
    }
    Ok(Origin {
        username: username.to_owned(),
        session_id: session_id.to_owned(),
        session_version: session_version.to_owned(),
        nettype: nettype.to_owned(),
        addrtype: addrtype.to_owned(),
        address: address.to_owned(),
    })
}

fn parse_connection(value: &str, line: usize) -> Result<Connection, SdpError> {
    let fields: Vec<&str> = value.splitn(4, ' ').collect();
    let [nettype, addrtype, address] = fields[..] else {
        return Err(invalid(line, b'c', "number of fields"));
    };
    if !lex::is_token(nettype) {
        return Err(invalid(line, b'c', "nettype"));
    }
    if !lex::is_token(addrtype) {
        return Err(invalid(line, b'c', "addrtype"));
    }
    if !valid_address(nettype, addrtype, address, true) {
        return Err(invalid(line, b'c', "connection-address"));
    }
    Ok(Connection {
        nettype: nettype.to_owned(),
        addrtype: addrtype.to_owned(),
        address: address.to_owned(),
    })
}

/// An address of an `IN` network must be an IP literal of its type or a domain name; for
/// other network types RFC 8866 only asks for non-whitespace. A relay sends packets to
/// whatever passes here, so `IP4 1.2.3` or an IPv6 literal under `IP4` are refused.
fn valid_address(nettype: &str, addrtype: &str, address: &str, multicast: bool) -> bool {
    if !lex::is_non_ws(address) {
        return false;
    }
    if nettype != "IN" {
        return true;
    }
    let mut parts = address.split('/');
    let base = parts.next().unwrap_or_default();
    let suffixes: Vec<&str> = parts.collect();
    // `/ttl/count` for IPv4 multicast, `/count` for IPv6 (RFC 8866 §5.7).
    let max_suffixes = match (multicast, addrtype) {
        (false, _) => 0,
        (true, "IP4") => 2,
        (true, _) => 1,
    };
    if suffixes.len() > max_suffixes || !suffixes.iter().all(|s| lex::parse_u32(s).is_some()) {
        return false;
    }
    let is_domain = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
            && s.chars().any(|c| c.is_ascii_alphabetic())
    };
    match addrtype {
        "IP4" if base.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            base.parse::<Ipv4Addr>().is_ok()
        }
        "IP6" if base.contains(':') => base.parse::<Ipv6Addr>().is_ok(),
        "IP4" | "IP6" => is_domain(base),
        _ => true,
    }
}

fn parse_bandwidth(value: &str, line: usize) -> Result<Bandwidth, SdpError> {
    let (bwtype, bandwidth) = value
        .split_once(':')
        .ok_or_else(|| invalid(line, b'b', "bwtype"))?;
    if !lex::is_token(bwtype) {
        return Err(invalid(line, b'b', "bwtype"));
    }
    let bandwidth = lex::parse_u64(bandwidth).ok_or_else(|| invalid(line, b'b', "bandwidth"))?;
    Ok(Bandwidth {
        bwtype: bwtype.to_owned(),
        bandwidth,
    })
}

fn parse_timing(value: &str, line: usize) -> Result<Timing, SdpError> {
    let (start, stop) = value
        .split_once(' ')
        .ok_or_else(|| invalid(line, b't', "number of fields"))?;
    Ok(Timing {
        start: lex::parse_u64(start).ok_or_else(|| invalid(line, b't', "start-time"))?,
        stop: lex::parse_u64(stop).ok_or_else(|| invalid(line, b't', "stop-time"))?,
        repeats: Vec::new(),
    })
}

fn parse_media(value: &str, line: usize) -> Result<MediaDescription, SdpError> {
    let mut fields = value.split(' ');
    let media = fields.next().unwrap_or_default();
    if !lex::is_token(media) {
        return Err(invalid(line, b'm', "media"));
    }
    let port_field = fields.next().unwrap_or_default();
    let (port, count) = match port_field.split_once('/') {
        Some((port, count)) => (port, Some(count)),
        None => (port_field, None),
    };
    let port = lex::parse_u16(port).ok_or_else(|| invalid(line, b'm', "port"))?;
    let port_count = match count {
        Some(c) => Some(
            lex::parse_u16(c)
                .filter(|&c| c > 0)
                .ok_or_else(|| invalid(line, b'm', "number of ports"))?,
        ),
        None => None,
    };
    let protocol = fields.next().unwrap_or_default();
    if !lex::is_proto(protocol) {
        return Err(invalid(line, b'm', "proto"));
    }
    let mut section = MediaDescription::new(media, port, protocol, Vec::new());
    section.port_count = port_count;
    let rtp = section.is_rtp();
    for fmt in fields {
        // RTP formats are payload type numbers (RFC 3551 §3), everything else a token.
        let ok = if rtp {
            lex::parse_payload_type(fmt).is_some()
        } else {
            lex::is_token(fmt)
        };
        if !ok {
            return Err(invalid(line, b'm', "fmt"));
        }
        section.formats.push(fmt.to_owned());
    }
    if section.formats.is_empty() {
        return Err(invalid(line, b'm', "fmt (none given)"));
    }
    Ok(section)
}

fn parse_attribute(value: &str, line: usize) -> Result<Attribute, SdpError> {
    let attribute = match value.split_once(':') {
        Some((name, value)) => Attribute::with_value(name, value),
        None => Attribute::flag(value),
    };
    if !lex::is_token(&attribute.name) {
        return Err(invalid(line, b'a', "att-field"));
    }
    check_attribute(&attribute)
        .map(|()| attribute)
        .map_err(|name| SdpError::InvalidAttribute { line, name })
}

/// Checks the attributes this crate reads, so that a description that parsed never holds
/// one the negotiation would silently skip. Returns the attribute's name on failure.
fn check_attribute(attribute: &Attribute) -> Result<(), &'static str> {
    let value = attribute.value.as_deref();
    if let Some(direction) = Direction::from_attribute_name(&attribute.name) {
        return match value {
            None => Ok(()),
            Some(_) => Err(direction.as_str()),
        };
    }
    let (name, ok) = match attribute.name.as_str() {
        "rtpmap" => ("rtpmap", value.and_then(RtpMap::parse).is_some()),
        "fmtp" => (
            "fmtp",
            value
                .and_then(|v| v.split_once(' '))
                .is_some_and(|(fmt, params)| lex::is_token(fmt) && !params.is_empty()),
        ),
        "ptime" => ("ptime", value.is_some_and(lex::is_decimal)),
        "maxptime" => ("maxptime", value.is_some_and(lex::is_decimal)),
        "rtcp" => ("rtcp", value.and_then(Rtcp::parse).is_some()),
        _ => return Ok(()),
    };
    if ok {
        Ok(())
    } else {
        Err(name)
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
