//! The Via header (RFC 3261 §20.42, §25.1 `via-parm`), with the RFC 3581 `rport` parameter.

use super::{HeaderName, Headers, Params};
use crate::parse::lex::{self, Reason};
use crate::parse::uri::parse_hostport;
use crate::uri::Host;
use crate::ParseError;
use std::fmt;

/// One Via value: `SIP/2.0/UDP host:port;branch=...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The transport, upper-cased (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, `WSS` or another token).
    pub transport: String,
    /// The sent-by host.
    pub host: Host,
    /// The sent-by port, when given.
    pub port: Option<u16>,
    /// The parameters (`branch`, `received`, `rport`, `maddr`, `ttl` ...).
    pub params: Params,
}

fn bad(reason: Reason) -> ParseError {
    ParseError::BadHeader {
        name: "Via".to_string(),
        reason,
    }
}

impl Via {
    /// Parses one via-parm. White space is allowed around the `/` and `:` separators and
    /// before parameters, as RFC 3261's SWS/LWS rules allow.
    pub fn parse(s: &str) -> Result<Via, ParseError> {
        Via::parse_inner(s).map_err(bad)
    }

    fn parse_inner(s: &str) -> Result<Via, Reason> {
        let rest = lex::skip_wsp(s);
        let (name, rest) = lex::take_token(rest);
        if !name.eq_ignore_ascii_case("SIP") {
            return Err("protocol is not SIP");
        }
        let rest = slash(rest)?;
        let (version, rest) = lex::take_token(rest);
        if version != "2.0" {
            return Err("version is not 2.0");
        }
        let rest = slash(rest)?;
        let (transport, rest) = lex::take_token(rest);
        if transport.is_empty() {
            return Err("missing transport");
        }
        let after_lws = lex::skip_wsp(rest);
        if after_lws.len() == rest.len() {
            return Err("missing space before sent-by");
        }
        let rest = after_lws;
        // sent-by ends at white space, ';' or the end; "host : port" may carry SWS.
        let host_end = if rest.starts_with('[') {
            rest.find(']')
                .map(|i| i + 1)
                .ok_or("unclosed IPv6 reference")?
        } else {
            rest.find(|c: char| lex::is_wsp(c) || c == ';' || c == ':')
                .unwrap_or(rest.len())
        };
        let (host_str, rest) = rest.split_at(host_end);
        let mut rest = lex::skip_wsp(rest);
        let mut hostport = host_str.to_string();
        if let Some(after_colon) = rest.strip_prefix(':') {
            let after_colon = lex::skip_wsp(after_colon);
            let end = after_colon
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after_colon.len());
            let (port, after) = after_colon.split_at(end);
            hostport.push(':');
            hostport.push_str(port);
            rest = after;
        }
        let (host, port) = parse_hostport(&hostport)?;
        let params = Params::parse_inner(rest)?;
        Ok(Via {
            transport: transport.to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    /// Parses a comma-separated Via header value into its via-parms.
    pub fn parse_list(s: &str) -> Result<Vec<Via>, ParseError> {
        lex::split_commas(s)
            .into_iter()
            .map(|part| {
                if lex::trim_wsp(part).is_empty() {
                    Err(bad("empty Via value"))
                } else {
                    Via::parse(part)
                }
            })
            .collect()
    }

    /// The topmost Via of a message: the first value of the first Via header line.
    pub fn top(headers: &Headers) -> Result<Via, ParseError> {
        let first = headers
            .get(&HeaderName::Via)
            .ok_or(ParseError::MissingHeader("Via"))?;
        let part = lex::split_commas(first).into_iter().next().unwrap_or("");
        Via::parse(part)
    }

    /// The `branch` parameter's value.
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").flatten()
    }

    /// The `received` parameter's value.
    pub fn received(&self) -> Option<&str> {
        self.params.get("received").flatten()
    }

    /// The RFC 3581 `rport` parameter: `None` when absent, `Some(None)` when present without
    /// a usable port (the request form, or a value that is not a port number), `Some(Some(p))`
    /// when filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(lex::parse_digits::<u16>))
    }
}

/// `SLASH = SWS "/" SWS`
fn slash(s: &str) -> Result<&str, Reason> {
    let s = lex::skip_wsp(s);
    let s = s.strip_prefix('/').ok_or("expected '/' in sent-protocol")?;
    Ok(lex::skip_wsp(s))
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple() {
        let v =
            Via::parse("SIP/2.0/udp pc33.Atlanta.com:5060;branch=z9hG4bK776asdhds;rport").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, Host::Domain("pc33.atlanta.com".into()));
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.branch(), Some("z9hG4bK776asdhds"));
        assert_eq!(v.rport(), Some(None));
        assert_eq!(v.received(), None);
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP pc33.atlanta.com:5060;branch=z9hG4bK776asdhds;rport"
        );
        assert_eq!(Via::parse(&v.to_string()).unwrap(), v);
    }

    #[test]
    fn tortuous_white_space() {
        let vias = Via::parse_list(
            "SIP  / 2.0  / TCP     spindle.example.com   ;  branch  =   z9hG4bK9ikj8  , SIP  /    2.0   / UDP  192.168.255.111   ; branch= z9hG4bK30239",
        )
        .unwrap();
        assert_eq!(vias.len(), 2);
        assert_eq!(vias[0].transport, "TCP");
        assert_eq!(vias[0].branch(), Some("z9hG4bK9ikj8"));
        assert_eq!(vias[1].host, Host::V4([192, 168, 255, 111].into()));
        assert_eq!(vias[1].branch(), Some("z9hG4bK30239"));
        let v = Via::parse("SIP/2.0/UDP host.example.com : 5070 ;rport=5071").unwrap();
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.rport(), Some(Some(5071)));
    }

    #[test]
    fn ipv6() {
        // RFC 5118 §4.5: IPv6 sent-by and both forms of received.
        let v = Via::parse(
            "SIP/2.0/UDP [2001:db8::9:1]:5060;received=[2001:db8::9:255];branch=z9hG4bKas3-111",
        )
        .unwrap();
        assert_eq!(v.host, Host::V6("2001:db8::9:1".parse().unwrap()));
        assert_eq!(v.port, Some(5060));
        assert_eq!(v.received(), Some("[2001:db8::9:255]"));
        assert_eq!(
            v.to_string(),
            "SIP/2.0/UDP [2001:db8::9:1]:5060;received=[2001:db8::9:255];branch=z9hG4bKas3-111"
        );
        let v = Via::parse("SIP/2.0/UDP [2001:db8::9:1];received=2001:db8::9:255").unwrap();
        assert_eq!(v.received(), Some("2001:db8::9:255"));
        // RFC 5118 §4.6: an IPv6 sent-by without brackets is invalid.
        assert!(Via::parse("SIP/2.0/UDP 2001:db8::9:1;branch=z9hG4bKas3").is_err());
    }

    #[test]
    fn errors() {
        for bad in [
            "",
            "SIP/2.0/UDP",
            "SIP/2.0/UDP ",
            "SIP/2.0/UDPhost",
            "SIP/7.0/UDP host",
            "HTTP/2.0/UDP host",
            "SIP/2.0 host",
            "SIP/2.0//UDP host",
            "SIP/2.0/UDP host:",
            "SIP/2.0/UDP host:99999",
            "SIP/2.0/UDP host;;",
            "SIP/2.0/UDP 192.0.2.15;;,;,,",
            "SIP/2.0/UDP host junk",
            "SIP/2.0/UDP [::1",
        ] {
            assert!(Via::parse_list(bad).is_err(), "{bad:?} should fail");
        }
        assert!(Via::parse_list("SIP/2.0/UDP a, ,SIP/2.0/UDP b").is_err());
        assert!(Via::parse_list("SIP/2.0/UDP a,").is_err());
    }

    #[test]
    fn top_via() {
        let mut h = Headers::default();
        assert_eq!(Via::top(&h), Err(ParseError::MissingHeader("Via")));
        h.push(
            HeaderName::Via,
            "SIP/2.0/TCP a.example.com;branch=z9hG4bK1, SIP/2.0/UDP b",
        );
        h.push(HeaderName::Via, "SIP/2.0/UDP c");
        let top = Via::top(&h).unwrap();
        assert_eq!(top.host, Host::Domain("a.example.com".into()));
        assert_eq!(top.branch(), Some("z9hG4bK1"));
    }
}
