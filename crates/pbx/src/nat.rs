//! RFC 3261 §18.2.1 and RFC 3581: stamp the top Via of a received request with where it
//! really came from (`received`, and `rport` filled in when the phone asked for it), so that
//! responses find their way back through NAT and the phone learns its public address.

use sip::header::{HeaderName, Via};
use sip::{Host, Request};
use std::net::SocketAddr;

/// Adds `received=` (when the sent-by host is not the source address, or `rport` is asked
/// for) and fills `rport=` on the top Via. Leaves the request alone if the Via does not parse
/// (the transaction layer refuses such requests anyway).
pub fn stamp_received(req: &mut Request, source: SocketAddr) {
    let Some(first) = req.headers.get(&HeaderName::Via) else {
        return;
    };
    let Ok(mut vias) = Via::parse_list(first) else {
        return;
    };
    let Some(top) = vias.first_mut() else {
        return;
    };
    let wants_rport = top.rport().is_some();
    let same_host = match &top.host {
        Host::V4(ip) => std::net::IpAddr::V4(*ip) == source.ip(),
        Host::V6(ip) => std::net::IpAddr::V6(*ip) == source.ip(),
        Host::Domain(_) => false,
    };
    if !same_host || wants_rport {
        top.params.set("received", Some(source.ip().to_string()));
    }
    if wants_rport {
        top.params.set("rport", Some(source.port().to_string()));
    }
    let value = vias
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    // Replace only the first Via line; further lines stay as received.
    let mut replaced = false;
    let mut headers = sip::Headers::default();
    for h in req.headers.iter() {
        if h.name == HeaderName::Via && !replaced {
            headers.push(HeaderName::Via, value.clone());
            replaced = true;
        } else {
            headers.push(h.name.clone(), h.value.clone());
        }
    }
    req.headers = headers;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(via: &str) -> Request {
        let text = format!(
            "OPTIONS sip:a@b SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP 10.9.9.9\r\nFrom: <sip:x@y>;tag=1\r\nTo: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        match sip::parse_message(text.as_bytes()).unwrap() {
            sip::Message::Request(r) => r,
            _ => unreachable!(),
        }
    }

    #[test]
    fn fills_rport_and_received_behind_nat() {
        let mut r = req("SIP/2.0/UDP 192.168.1.5:5060;branch=z9hG4bK1;rport");
        stamp_received(&mut r, "203.0.113.7:40000".parse().unwrap());
        let v = r.headers.get(&HeaderName::Via).unwrap();
        assert!(v.contains("received=203.0.113.7"), "{v}");
        assert!(v.contains("rport=40000"), "{v}");
        assert_eq!(r.headers.count(&HeaderName::Via), 2);
    }

    #[test]
    fn leaves_a_direct_phone_without_rport_alone() {
        let mut r = req("SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK1");
        stamp_received(&mut r, "127.0.0.1:5060".parse().unwrap());
        let v = r.headers.get(&HeaderName::Via).unwrap();
        assert!(!v.contains("received"), "{v}");
    }
}
