//! The `[voicemail]` section: the channel pool shared by callers in mailboxes, callers in
//! auto attendants and call recordings, with channels reserved for each (SPEC §4:
//! "channels can be reserved for business-critical functions"); and `[calls]
//! record_keys`, the keys that start and stop recording a call. Read, checked, exported
//! and compared here, so that the shared files only call in.

use crate::error::ConfigErrors;
use crate::model::Config;
use crate::validate::in_range;
use crate::walker::Fields;
use std::collections::HashSet;
use std::ops::RangeInclusive;

/// `voicemail.channels`: at least one, and no more than a server could ever run.
pub const VOICEMAIL_CHANNELS: RangeInclusive<u32> = 1..=10_000;
/// The most keys `calls.record_keys` may have.
pub const RECORD_KEYS_MAX: usize = 8;

/// The `[voicemail]` section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VoicemailSettings {
    /// Channels of the pool in all (1..=10000, default 250): callers leaving or collecting
    /// messages, callers in an auto attendant, and calls being recorded each hold one.
    pub channels: u32,
    /// Channels only callers in a mailbox may take (default 0).
    pub reserve_mailbox: u32,
    /// Channels only callers in an auto attendant may take (default 0).
    pub reserve_attendant: u32,
    /// Channels only call recordings may take (default 0).
    pub reserve_recording: u32,
}

impl Default for VoicemailSettings {
    fn default() -> Self {
        VoicemailSettings {
            channels: 250,
            reserve_mailbox: 0,
            reserve_attendant: 0,
            reserve_recording: 0,
        }
    }
}

const RESERVES: [&str; 3] = ["reserve_mailbox", "reserve_attendant", "reserve_recording"];

impl VoicemailSettings {
    fn reserve(&self, key: &str) -> u32 {
        match key {
            "reserve_mailbox" => self.reserve_mailbox,
            "reserve_attendant" => self.reserve_attendant,
            _ => self.reserve_recording,
        }
    }
}

/// Reads `[voicemail]`; only types and fixed ranges here, the sum in [`check`].
pub(crate) fn read(mut f: Fields<'_>, errs: &mut ConfigErrors) -> VoicemailSettings {
    let d = VoicemailSettings::default();
    let s = VoicemailSettings {
        channels: f
            .uint("channels", VOICEMAIL_CHANNELS, errs)
            .unwrap_or(d.channels),
        reserve_mailbox: f
            .uint("reserve_mailbox", 0..=*VOICEMAIL_CHANNELS.end(), errs)
            .unwrap_or(0),
        reserve_attendant: f
            .uint("reserve_attendant", 0..=*VOICEMAIL_CHANNELS.end(), errs)
            .unwrap_or(0),
        reserve_recording: f
            .uint("reserve_recording", 0..=*VOICEMAIL_CHANNELS.end(), errs)
            .unwrap_or(0),
    };
    f.finish(errs);
    s
}

/// The pool's rules: the reservations fit in the pool; `calls.record_keys` is a short
/// sequence of telephone keys.
pub(crate) fn check(config: &Config, failed: &HashSet<String>, errs: &mut ConfigErrors) {
    let v = &config.voicemail;
    in_range("voicemail.channels", v.channels, VOICEMAIL_CHANNELS, errs);
    let known = !failed.contains("voicemail.channels")
        && RESERVES
            .iter()
            .all(|k| !failed.contains(&format!("voicemail.{k}")));
    let reserved: u64 = RESERVES.iter().map(|k| u64::from(v.reserve(k))).sum();
    if known && reserved > u64::from(v.channels) {
        // Reported at the last reservation given, where a reader would cut it down.
        let at = RESERVES
            .iter()
            .rev()
            .find(|k| v.reserve(k) > 0)
            .unwrap_or(&RESERVES[0]);
        errs.push(
            format!("voicemail.{at}"),
            format!(
                "the reservations add up to {reserved} channels, more than the {} of \
                 voicemail.channels",
                v.channels
            ),
        );
    }
    let keys = &config.calls.record_keys;
    if !failed.contains("calls.record_keys") {
        if keys
            .chars()
            .any(|c| !c.is_ascii_digit() && c != '*' && c != '#')
        {
            errs.push(
                "calls.record_keys",
                format!("{keys:?}: only the keys 0-9, * and # (or \"\" for none)"),
            );
        } else if keys.len() > RECORD_KEYS_MAX {
            errs.push(
                "calls.record_keys",
                format!("{keys:?}: at most {RECORD_KEYS_MAX} keys"),
            );
        } else if keys.len() == 1 {
            errs.push(
                "calls.record_keys",
                format!("{keys:?}: one key alone would be pressed by accident; use two or more (\"*1\")"),
            );
        }
    }
}

/// Writes `[voicemail]`.
pub(crate) fn export(out: &mut String, v: &VoicemailSettings) {
    out.push_str("\n[voicemail]\n");
    for (key, value) in [
        ("channels", v.channels),
        ("reserve_mailbox", v.reserve_mailbox),
        ("reserve_attendant", v.reserve_attendant),
        ("reserve_recording", v.reserve_recording),
    ] {
        out.push_str(&format!("{key} = {value}\n"));
    }
}

/// The changes in `[voicemail]` and `calls.record_keys`: `voicemail.channels 250 -> 100`.
pub(crate) fn diff(old: &Config, new: &Config, out: &mut Vec<String>) {
    if old.calls.record_keys != new.calls.record_keys {
        out.push(format!(
            "calls.record_keys {:?} -> {:?}",
            old.calls.record_keys, new.calls.record_keys
        ));
    }
    let (a, b) = (&old.voicemail, &new.voicemail);
    for key in ["channels"].into_iter().chain(RESERVES) {
        let (x, y) = match key {
            "channels" => (a.channels, b.channels),
            k => (a.reserve(k), b.reserve(k)),
        };
        if x != y {
            out.push(format!("voicemail.{key} {x} -> {y}"));
        }
    }
}
