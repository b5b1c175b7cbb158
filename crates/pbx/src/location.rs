//! The location service (RFC 3261 §10.3 "abstract service"): which contacts are bound to
//! which extension, until when. Kept apart from the registrar, as Kamailio keeps `usrloc`
//! apart from `registrar`: the registrar decides, the location service remembers.

use crate::Peer;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

/// One contact bound to an extension.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The Contact URI as the phone sent it (also the binding's identity).
    pub contact: String,
    /// When the binding lapses.
    pub expires_at: Instant,
    /// Call-ID of the REGISTER that last refreshed it (RFC 3261 §10.3 step 7).
    pub call_id: String,
    /// CSeq of that REGISTER.
    pub cseq: u32,
    /// Where the REGISTER came from: calls to this binding go back there (NAT, TCP).
    pub source: Peer,
    /// The `q` preference, if given.
    pub q: Option<f32>,
    /// The phone's User-Agent, for status views.
    pub user_agent: Option<String>,
    /// When it was first bound.
    pub bound_at: Instant,
    /// Our address as the phone knows it (the REGISTER's Request-URI host and port): what
    /// we put in Via and Contact of requests we send it.
    pub registrar: String,
}

impl Binding {
    /// Where requests for this binding go. Over TCP, the connection the phone registered on
    /// (phones behind NAT can be reached no other way). Over UDP, the Contact's address when
    /// it is an IP address that is plausibly reachable from here — the same address the
    /// REGISTER came from, or a public one; otherwise (a private address that differs from
    /// the source, or a host name) the phone is behind NAT and the source address is used,
    /// which symmetric-signalling phones answer on.
    pub fn target(&self) -> Peer {
        if self.source.transport.is_reliable() {
            return self.source;
        }
        let contact_addr = self.contact.parse::<sip::Uri>().ok().and_then(|u| {
            let s = u.as_sip()?;
            let ip = match &s.host {
                sip::Host::V4(a) => IpAddr::V4(*a),
                sip::Host::V6(a) => IpAddr::V6(*a),
                sip::Host::Domain(_) => return None,
            };
            Some(SocketAddr::new(ip, s.port.unwrap_or(5060)))
        });
        match contact_addr {
            Some(addr) if addr.ip() == self.source.addr.ip() || !is_private(addr.ip()) => Peer {
                addr,
                transport: self.source.transport,
            },
            _ => self.source,
        }
    }
}

fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            // 100.64.0.0/10 is carrier-grade NAT space (RFC 6598).
            let cgnat = a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64;
            a.is_private() || a.is_loopback() || a.is_link_local() || cgnat
        }
        IpAddr::V6(a) => a.is_loopback() || a.is_unique_local() || a.is_unicast_link_local(),
    }
}

/// Bindings of every extension, with the earliest expiry tracked for timers.
#[derive(Debug, Default)]
pub struct LocationService {
    bindings: HashMap<String, Vec<Binding>>,
    count: usize,
}

impl LocationService {
    /// The live bindings of an extension (expired ones are purged by [`Self::expire`]).
    pub fn bindings(&self, extension: &str) -> &[Binding] {
        self.bindings
            .get(extension)
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Replaces the binding list of an extension (empty removes it).
    pub fn set(&mut self, extension: &str, list: Vec<Binding>) {
        let new = list.len();
        let old = if list.is_empty() {
            self.bindings.remove(extension)
        } else {
            self.bindings.insert(extension.to_string(), list)
        }
        .map_or(0, |v| v.len());
        self.count = self.count + new - old;
    }

    /// Removes every binding whose time has come; returns how many went.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut removed = 0;
        self.bindings.retain(|_, list| {
            let before = list.len();
            list.retain(|b| b.expires_at > now);
            removed += before - list.len();
            !list.is_empty()
        });
        self.count -= removed;
        removed
    }

    /// Drops the bindings of extensions for which `keep` is false (after a configuration
    /// change removed them).
    pub fn retain_extensions(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.bindings.retain(|ext, _| keep(ext));
        self.count = self.bindings.values().map(Vec::len).sum();
    }

    /// Total number of bindings.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when nothing is bound.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Every extension with its bindings, sorted by extension number.
    pub fn snapshot(&self) -> Vec<(String, Vec<Binding>)> {
        let mut v: Vec<_> = self
            .bindings
            .iter()
            .map(|(k, l)| (k.clone(), l.clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip::transaction::Transport;

    fn binding(contact: &str, source: &str, transport: Transport) -> Binding {
        let now = Instant::now();
        Binding {
            contact: contact.into(),
            expires_at: now,
            call_id: String::new(),
            cseq: 1,
            source: Peer {
                addr: source.parse().unwrap(),
                transport,
            },
            q: None,
            user_agent: None,
            bound_at: now,
            registrar: String::new(),
        }
    }

    #[test]
    fn target_follows_the_contact_unless_the_phone_is_behind_nat() {
        let u = Transport::Unreliable;
        // Same host, another port: the phone says where it listens.
        let b = binding("sip:202@127.0.0.1:5210", "127.0.0.1:5212", u);
        assert_eq!(b.target().addr, "127.0.0.1:5210".parse().unwrap());
        // A private Contact behind a public source: NAT, use the source.
        let b = binding("sip:202@192.168.1.20:5060", "203.0.113.9:40000", u);
        assert_eq!(b.target().addr, "203.0.113.9:40000".parse().unwrap());
        // A public Contact: trust it.
        let b = binding("sip:202@198.51.100.7", "203.0.113.9:40000", u);
        assert_eq!(b.target().addr, "198.51.100.7:5060".parse().unwrap());
        // A host name: no resolver in the core, use the source.
        let b = binding("sip:202@phone.example.com", "203.0.113.9:40000", u);
        assert_eq!(b.target().addr, "203.0.113.9:40000".parse().unwrap());
        // TCP: always the connection it registered on.
        let b = binding(
            "sip:202@127.0.0.1:5210",
            "127.0.0.1:41000",
            Transport::Reliable,
        );
        assert_eq!(b.target().addr, "127.0.0.1:41000".parse().unwrap());
    }
}
