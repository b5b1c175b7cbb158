//! What a B2BUA does to a description between its two legs: read and set each stream's
//! direction, find where media goes, point media at the relay, and count versions.
//!
//! Hold has two spellings (RFC 3264 §8.4): a direction attribute, and the RFC 2543 habit
//! of `c=0.0.0.0`. Both are folded into [`SessionDescription::direction`], and
//! [`SessionDescription::rewrite_connection`] turns the second into the first, so that a
//! hold survives the address being replaced by the relay's.

use std::net::IpAddr;

use crate::direction::Direction;
use crate::model::{addrtype, Attribute, Connection, MediaDescription, SessionDescription};

/// A media index past the last media section.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no media section {index}")]
pub struct NoSuchMedia {
    /// The index asked for, counted from 0.
    pub index: usize,
}

impl SessionDescription {
    fn media_mut(&mut self, index: usize) -> Result<&mut MediaDescription, NoSuchMedia> {
        self.media.get_mut(index).ok_or(NoSuchMedia { index })
    }

    /// The effective direction of a media section, as its author means it; `None` if there
    /// is no such section.
    ///
    /// The section's attribute wins over the session's, and `sendrecv` is the default
    /// (RFC 8866 §6.7). An unspecified connection address (`c=0.0.0.0`, RFC 2543 hold)
    /// means the author receives nothing, so it removes the receiving half: `sendrecv`
    /// becomes `sendonly`, `recvonly` becomes `inactive`. A rejected stream (port 0) is
    /// `inactive`.
    pub fn direction(&self, media_index: usize) -> Option<Direction> {
        let media = self.media.get(media_index)?;
        if media.port == 0 {
            return Some(Direction::Inactive);
        }
        let declared = media
            .direction_attribute()
            .or_else(|| self.direction_attribute())
            .unwrap_or_default();
        let held = self
            .connection(media_index)
            .is_some_and(Connection::is_unspecified);
        Some(if held {
            declared.intersect(Direction::SendOnly)
        } else {
            declared
        })
    }

    /// Sets the direction attribute of a media section, replacing the one it had in its
    /// place or adding one at the end. Media-level attributes override a session-level
    /// one, so that is left alone. `c=0.0.0.0` still means hold afterwards:
    /// [`rewrite_connection`](Self::rewrite_connection) first to lift it.
    pub fn set_direction(
        &mut self,
        media_index: usize,
        direction: Direction,
    ) -> Result<(), NoSuchMedia> {
        let media = self.media_mut(media_index)?;
        let mut replaced = false;
        media.attributes.retain_mut(|a| {
            if a.value.is_some() || Direction::from_attribute_name(&a.name).is_none() {
                return true;
            }
            if replaced {
                return false;
            }
            replaced = true;
            *a = Attribute::flag(direction.as_str());
            true
        });
        if !replaced {
            media.attributes.push(Attribute::flag(direction.as_str()));
        }
        Ok(())
    }

    /// The connection that applies to a media section: its own first `c=`, else the
    /// session's.
    pub fn connection(&self, media_index: usize) -> Option<&Connection> {
        let media = self.media.get(media_index)?;
        media.connections.first().or(self.connection.as_ref())
    }

    /// The IP address media of a section goes to, if it is an IP literal (see
    /// [`Connection::ip`]). `0.0.0.0` is returned as is: check [`direction`](Self::direction)
    /// for hold.
    pub fn connection_address(&self, media_index: usize) -> Option<IpAddr> {
        self.connection(media_index).and_then(Connection::ip)
    }

    /// Points the whole description at `addr`: the `o=` address, the session `c=`, every
    /// media `c=` (several collapse into one) and the address in `a=rtcp`, as a relay
    /// anchoring media does.
    ///
    /// A section that was held with `c=0.0.0.0` gets the equivalent direction attribute
    /// first, so the hold is not lost with the address.
    pub fn rewrite_connection(&mut self, addr: IpAddr) {
        for index in 0..self.media.len() {
            let held = self.media.get(index).is_some_and(|m| m.port != 0)
                && self
                    .connection(index)
                    .is_some_and(Connection::is_unspecified);
            if let (true, Some(direction)) = (held, self.direction(index)) {
                // The index is in range, so this cannot fail.
                let _ = self.set_direction(index, direction);
            }
        }
        self.origin.nettype = "IN".to_owned();
        self.origin.addrtype = addrtype(addr).to_owned();
        self.origin.address = addr.to_string();
        let connection = Connection::new(addr);
        let mut uncovered = false;
        for media in &mut self.media {
            if media.connections.is_empty() {
                uncovered |= media.port != 0;
            } else {
                media.connections = vec![connection.clone()];
            }
            for a in media.attributes.iter_mut().filter(|a| a.name == "rtcp") {
                if let Some(mut rtcp) = a.value.as_deref().and_then(crate::codec::Rtcp::parse) {
                    if rtcp.connection.is_some() {
                        rtcp.connection = Some(connection.clone());
                        a.value = Some(rtcp.to_string());
                    }
                }
            }
        }
        if self.connection.is_some() || uncovered {
            self.connection = Some(connection);
        }
    }

    /// Sets the port of a media section. Its `a=rtcp` lines are removed: they name a port
    /// of the old transport, and without them RTCP goes to the next port up (RFC 3550
    /// §11), which is how the relay allocates its pairs.
    pub fn set_port(&mut self, media_index: usize, port: u16) -> Result<(), NoSuchMedia> {
        let media = self.media_mut(media_index)?;
        media.port = port;
        media.remove_attributes("rtcp");
        Ok(())
    }

    /// Adds one to the `o=` session version, as RFC 3264 §8 requires for every changed
    /// description sent in a dialog. Counts in decimal on the digit string, so there is no
    /// overflow; a version that is not digits (set by hand) restarts at 1.
    pub fn bump_version(&mut self) {
        let version = &mut self.origin.session_version;
        if !crate::lex::is_digits(version) {
            *version = "1".to_owned();
            return;
        }
        let mut digits = std::mem::take(version).into_bytes();
        let mut carry = true;
        for d in digits.iter_mut().rev() {
            if *d == b'9' {
                *d = b'0';
            } else {
                *d += 1;
                carry = false;
                break;
            }
        }
        if carry {
            digits.insert(0, b'1');
        }
        *version = String::from_utf8(digits).unwrap_or_else(|_| "1".to_owned());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse;

    fn sdp(extra_session: &str, media: &str) -> SessionDescription {
        let text =
            format!("v=0\r\no=- 1 9 IN IP4 192.0.2.1\r\ns=-\r\n{extra_session}t=0 0\r\n{media}");
        parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn bump_version_carries_in_decimal() {
        let mut s = sdp("c=IN IP4 192.0.2.1\r\n", "");
        s.bump_version();
        assert_eq!(s.origin.session_version, "10");
        s.origin.session_version = "18446744073709551615".to_owned();
        s.bump_version();
        assert_eq!(s.origin.session_version, "18446744073709551616");
        s.origin.session_version = "007".to_owned();
        s.bump_version();
        assert_eq!(s.origin.session_version, "008");
        s.origin.session_version = "x".to_owned();
        s.bump_version();
        assert_eq!(s.origin.session_version, "1");
    }

    #[test]
    fn set_direction_replaces_in_place() {
        let mut s = sdp(
            "c=IN IP4 192.0.2.1\r\n",
            "m=audio 4000 RTP/AVP 0\r\na=sendonly\r\na=ptime:20\r\n",
        );
        s.set_direction(0, Direction::SendRecv).unwrap();
        assert!(s.to_string().ends_with("a=sendrecv\r\na=ptime:20\r\n"));
        assert_eq!(
            s.set_direction(1, Direction::Inactive),
            Err(NoSuchMedia { index: 1 })
        );
    }

    #[test]
    fn rewrite_keeps_rfc2543_hold_as_attribute() {
        let mut s = sdp(
            "c=IN IP4 0.0.0.0\r\n",
            "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001 IN IP4 0.0.0.0\r\n",
        );
        assert_eq!(s.direction(0), Some(Direction::SendOnly));
        s.rewrite_connection("203.0.113.5".parse().unwrap());
        assert_eq!(s.direction(0), Some(Direction::SendOnly));
        let text = s.to_string();
        assert!(text.contains("o=- 1 9 IN IP4 203.0.113.5\r\n"));
        assert!(text.contains("c=IN IP4 203.0.113.5\r\n"));
        assert!(text.contains("a=rtcp:4001 IN IP4 203.0.113.5\r\na=sendonly\r\n"));
    }

    #[test]
    fn rewrite_to_ipv6_and_media_level_connections() {
        let mut s = sdp(
            "",
            "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\nm=video 0 RTP/AVP 31\r\n",
        );
        s.rewrite_connection("2001:db8::1".parse().unwrap());
        assert_eq!(s.connection, None);
        assert_eq!(s.connection_address(0), "2001:db8::1".parse().ok());
        assert!(s.to_string().contains("o=- 1 9 IN IP6 2001:db8::1\r\n"));
        assert!(parse(&s.to_bytes()).is_ok());
    }

    #[test]
    fn set_port_drops_stale_rtcp() {
        let mut s = sdp(
            "c=IN IP4 192.0.2.1\r\n",
            "m=audio 4000 RTP/AVP 0\r\na=rtcp:4001\r\n",
        );
        s.set_port(0, 30000).unwrap();
        assert_eq!(s.media[0].port, 30000);
        assert!(s.media[0].rtcp().is_none());
        assert!(s.set_port(3, 1).is_err());
    }
}
