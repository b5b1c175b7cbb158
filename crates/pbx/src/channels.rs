//! The voicemail channel pool: callers in a mailbox, callers in an auto attendant and call
//! recordings all hold a channel of one pool of the voicemail server (SPEC §4: "up to 250
//! simultaneous voicemail/recording channels per server ... channels can be reserved for
//! business-critical functions").
//!
//! Each function may have channels reserved for it alone. A function takes its reserved
//! channels first, then the unreserved rest, which every function shares:
//!
//! ```text
//!   channels = 10, reserve_mailbox = 2, reserve_recording = 3
//!   ┌──────────┬──────────────┬─────────────────────────┐
//!   │ mailbox 2│ recording 3  │ shared 5 (any function) │
//!   └──────────┴──────────────┴─────────────────────────┘
//! ```
//!
//! Nothing is counted here: the core counts the channels in use from its calls whenever a
//! function asks for one (see `b2bua::recording`), so a count can never drift from the
//! calls it describes.

/// What a voicemail channel is used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChannelUse {
    /// A caller leaving or collecting messages.
    Mailbox,
    /// A caller in an auto attendant (a call flow).
    Attendant,
    /// A call being recorded.
    Recording,
}

/// The size of the pool and the reservations (`[voicemail]` in the configuration). The
/// reservations add up to at most `channels` (the configuration checks it; a sum beyond
/// leaves no shared channels, nothing worse).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelLimits {
    /// Channels in all.
    pub channels: u32,
    /// Channels only callers in a mailbox may take.
    pub reserve_mailbox: u32,
    /// Channels only callers in an auto attendant may take.
    pub reserve_attendant: u32,
    /// Channels only call recordings may take.
    pub reserve_recording: u32,
}

impl ChannelLimits {
    /// The default pool: 250 channels (the SPEC's figure for a server), none reserved.
    pub const DEFAULT_CHANNELS: u32 = 250;

    fn reserved(&self, function: ChannelUse) -> u32 {
        match function {
            ChannelUse::Mailbox => self.reserve_mailbox,
            ChannelUse::Attendant => self.reserve_attendant,
            ChannelUse::Recording => self.reserve_recording,
        }
    }

    /// Whether `function` may take one more channel with `in_use` taken now.
    pub fn admits(&self, in_use: ChannelCounts, function: ChannelUse) -> bool {
        if in_use.get(function) < self.reserved(function) {
            return true;
        }
        let reserved = self.reserve_mailbox + self.reserve_attendant + self.reserve_recording;
        let shared = self.channels.saturating_sub(reserved);
        // What each function holds beyond its own reservation comes out of the shared part.
        let shared_in_use: u32 = [
            ChannelUse::Mailbox,
            ChannelUse::Attendant,
            ChannelUse::Recording,
        ]
        .into_iter()
        .map(|f| in_use.get(f).saturating_sub(self.reserved(f)))
        .sum();
        shared_in_use < shared
    }
}

impl Default for ChannelLimits {
    fn default() -> Self {
        ChannelLimits {
            channels: Self::DEFAULT_CHANNELS,
            reserve_mailbox: 0,
            reserve_attendant: 0,
            reserve_recording: 0,
        }
    }
}

/// Channels in use, by function.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ChannelCounts {
    /// Callers in a mailbox.
    pub mailbox: u32,
    /// Callers in an auto attendant.
    pub attendant: u32,
    /// Calls being recorded.
    pub recording: u32,
}

impl ChannelCounts {
    /// The count of one function.
    pub fn get(&self, function: ChannelUse) -> u32 {
        match function {
            ChannelUse::Mailbox => self.mailbox,
            ChannelUse::Attendant => self.attendant,
            ChannelUse::Recording => self.recording,
        }
    }

    /// Counts one more channel of `function`.
    pub fn add(&mut self, function: ChannelUse) {
        match function {
            ChannelUse::Mailbox => self.mailbox += 1,
            ChannelUse::Attendant => self.attendant += 1,
            ChannelUse::Recording => self.recording += 1,
        }
    }

    /// Channels in use in all.
    pub fn total(&self) -> u32 {
        self.mailbox + self.attendant + self.recording
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(mailbox: u32, attendant: u32, recording: u32) -> ChannelCounts {
        ChannelCounts {
            mailbox,
            attendant,
            recording,
        }
    }

    #[test]
    fn without_reservations_the_pool_is_first_come_first_served() {
        let limits = ChannelLimits {
            channels: 3,
            ..ChannelLimits::default()
        };
        assert!(limits.admits(counts(1, 0, 1), ChannelUse::Recording));
        assert!(!limits.admits(counts(2, 0, 1), ChannelUse::Mailbox));
        assert!(!limits.admits(counts(0, 0, 3), ChannelUse::Attendant));
    }

    #[test]
    fn a_reservation_is_kept_for_its_function_and_used_first() {
        let limits = ChannelLimits {
            channels: 10,
            reserve_mailbox: 2,
            reserve_attendant: 0,
            reserve_recording: 3,
        };
        // Five shared channels taken by mailboxes (beyond their two): recordings still
        // have their three, mailboxes nothing more.
        let full_of_mail = counts(7, 0, 0);
        assert!(!limits.admits(full_of_mail, ChannelUse::Mailbox));
        assert!(!limits.admits(full_of_mail, ChannelUse::Attendant));
        assert!(limits.admits(full_of_mail, ChannelUse::Recording));
        assert!(limits.admits(counts(7, 0, 2), ChannelUse::Recording));
        assert!(!limits.admits(counts(7, 0, 3), ChannelUse::Recording));
        // Recordings within their reservation leave the shared part alone.
        assert!(limits.admits(counts(2, 0, 3), ChannelUse::Mailbox));
        assert!(limits.admits(counts(6, 0, 3), ChannelUse::Mailbox));
        assert!(!limits.admits(counts(6, 0, 4), ChannelUse::Mailbox));
    }

    #[test]
    fn reservations_beyond_the_pool_leave_nothing_shared() {
        let limits = ChannelLimits {
            channels: 2,
            reserve_mailbox: 2,
            reserve_attendant: 1,
            reserve_recording: 0,
        };
        assert!(!limits.admits(counts(0, 0, 0), ChannelUse::Recording));
        assert!(limits.admits(counts(1, 0, 0), ChannelUse::Mailbox));
        assert!(!limits.admits(counts(2, 0, 0), ChannelUse::Mailbox));
    }

    #[test]
    fn a_pool_of_none_admits_nobody() {
        let limits = ChannelLimits {
            channels: 0,
            ..ChannelLimits::default()
        };
        assert!(!limits.admits(ChannelCounts::default(), ChannelUse::Mailbox));
    }
}
