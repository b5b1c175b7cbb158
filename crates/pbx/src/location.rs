//! The location service (RFC 3261 §10.3 "abstract service"): which contacts are bound to
//! which extension, until when. Kept apart from the registrar, as Kamailio keeps `usrloc`
//! apart from `registrar`: the registrar decides, the location service remembers.

use crate::Peer;
use std::collections::HashMap;
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
