//! The writer: RFC 8866 line order, CRLF line ends, every field as the model holds it, so
//! that a parsed description prints back byte for byte when it came with CRLF.
//!
//! The model's fields are public, so a caller could put a line break into one; the writer
//! drops CR, LF and NUL from every field rather than let a value start a line of its own.
//! It also writes the two lines RFC 8866 requires when the model lacks them: `s=-` for an
//! empty name and `t=0 0` when there is no time.

use std::fmt::{self, Display, Write};

use crate::model::{
    Attribute, Bandwidth, Connection, MediaDescription, Origin, SessionDescription, Timing,
};

/// A `fmt::Write` that drops the characters that would end or corrupt a line.
struct Clean<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl Write for Clean<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for part in s.split(['\r', '\n', '\0']) {
            self.0.write_str(part)?;
        }
        Ok(())
    }
}

/// Writes `<kind>=<value>` and CRLF.
fn line(f: &mut fmt::Formatter<'_>, kind: char, value: impl Display) -> fmt::Result {
    write!(Clean(f), "{kind}={value}")?;
    f.write_str("\r\n")
}

/// `-` for an empty field, which would otherwise shift the fields after it.
fn or_dash(s: &str) -> &str {
    if s.is_empty() {
        "-"
    } else {
        s
    }
}

impl Display for SessionDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        line(f, 'v', 0)?;
        line(f, 'o', &self.origin)?;
        line(f, 's', or_dash(&self.session_name))?;
        for (kind, value) in [('i', &self.information), ('u', &self.uri)] {
            if let Some(value) = value {
                line(f, kind, value)?;
            }
        }
        for email in &self.emails {
            line(f, 'e', email)?;
        }
        for phone in &self.phones {
            line(f, 'p', phone)?;
        }
        if let Some(c) = &self.connection {
            line(f, 'c', c)?;
        }
        for b in &self.bandwidths {
            line(f, 'b', b)?;
        }
        if self.times.is_empty() {
            line(f, 't', "0 0")?;
        }
        for t in &self.times {
            t.fmt(f)?;
        }
        if let Some(z) = &self.time_zones {
            line(f, 'z', z)?;
        }
        if let Some(k) = &self.key {
            line(f, 'k', k)?;
        }
        for a in &self.attributes {
            line(f, 'a', a)?;
        }
        for m in &self.media {
            m.fmt(f)?;
        }
        Ok(())
    }
}

impl SessionDescription {
    /// The description as a SIP body.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

/// The value of an `o=` line (without `o=`).
impl Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {} {}",
            or_dash(&self.username),
            self.session_id,
            self.session_version,
            self.nettype,
            self.addrtype,
            self.address
        )
    }
}

/// The value of a `c=` line (without `c=`): `IN IP4 192.0.2.1`.
impl Display for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.nettype, self.addrtype, self.address)
    }
}

/// The value of a `b=` line: `AS:64`.
impl Display for Bandwidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.bwtype, self.bandwidth)
    }
}

/// The value of an `a=` line: `name` or `name:value`.
impl Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(value) = &self.value {
            write!(f, ":{value}")?;
        }
        Ok(())
    }
}

/// The `t=` line and its `r=` lines, each ended by CRLF.
impl Display for Timing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        line(f, 't', format_args!("{} {}", self.start, self.stop))?;
        for r in &self.repeats {
            line(f, 'r', r)?;
        }
        Ok(())
    }
}

/// The whole media section, from `m=` to its last attribute, each line ended by CRLF.
impl Display for MediaDescription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let port = match self.port_count {
            Some(count) => format!("{}/{count}", self.port),
            None => self.port.to_string(),
        };
        let formats = self.formats.join(" ");
        let m = format_args!("{} {port} {} {formats}", self.media, self.protocol);
        line(f, 'm', m)?;
        if let Some(title) = &self.title {
            line(f, 'i', title)?;
        }
        for c in &self.connections {
            line(f, 'c', c)?;
        }
        for b in &self.bandwidths {
            line(f, 'b', b)?;
        }
        if let Some(k) = &self.key {
            line(f, 'k', k)?;
        }
        for a in &self.attributes {
            line(f, 'a', a)?;
        }
        Ok(())
    }
}
