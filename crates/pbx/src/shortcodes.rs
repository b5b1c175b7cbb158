//! Short codes (feature codes) users dial from any phone: `*08` for do-not-disturb on,
//! `*14*202#` to forward to 202, and so on. A code is a pattern of digits, `*` and `#` with
//! at most one `N`: the digits the user supplies there become the feature's argument.

/// What a short code does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShortCodeFeature {
    /// Do not disturb on.
    DndOn,
    /// Do not disturb off.
    DndOff,
    /// Forward every call to N.
    ForwardUnconditionalOn,
    /// Forwarding off.
    ForwardUnconditionalOff,
    /// Join hunt group N.
    HuntGroupJoin,
    /// Leave hunt group N.
    HuntGroupLeave,
    /// Hunt group N out of service (night service).
    NightServiceOn,
    /// Hunt group N back in service.
    NightServiceOff,
    /// Collect the messages of the caller's own mailbox.
    VoicemailCollect,
    /// Collect the messages of mailbox N (a user's or a hunt group's), with its PIN.
    VoicemailCollectMailbox,
    /// Park the call to slot N.
    Park,
    /// Take the call parked in slot N.
    Unpark,
    /// Answer a call ringing in the user's group.
    PickupGroup,
    /// Answer the call ringing at extension N.
    PickupDirected,
    /// Log in on this phone as user N.
    HotDeskLogin,
    /// Log out of this phone.
    HotDeskLogout,
    /// Mark the next call with account code N.
    AccountCode,
    /// Page hunt group (or extension) N: its phones answer by themselves and hear the
    /// caller.
    Page,
    /// Listen in on extension N's call, unheard (silent monitoring).
    Listen,
    /// Join extension N's call, heard by both parties (intrusion).
    Intrude,
}

impl ShortCodeFeature {
    /// Every feature.
    pub const ALL: [ShortCodeFeature; 20] = [
        ShortCodeFeature::DndOn,
        ShortCodeFeature::DndOff,
        ShortCodeFeature::ForwardUnconditionalOn,
        ShortCodeFeature::ForwardUnconditionalOff,
        ShortCodeFeature::HuntGroupJoin,
        ShortCodeFeature::HuntGroupLeave,
        ShortCodeFeature::NightServiceOn,
        ShortCodeFeature::NightServiceOff,
        ShortCodeFeature::VoicemailCollect,
        ShortCodeFeature::VoicemailCollectMailbox,
        ShortCodeFeature::Park,
        ShortCodeFeature::Unpark,
        ShortCodeFeature::PickupGroup,
        ShortCodeFeature::PickupDirected,
        ShortCodeFeature::HotDeskLogin,
        ShortCodeFeature::HotDeskLogout,
        ShortCodeFeature::AccountCode,
        ShortCodeFeature::Page,
        ShortCodeFeature::Listen,
        ShortCodeFeature::Intrude,
    ];
}

/// A pattern such as `*14*N#`: fixed text around at most one `N`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortCode {
    prefix: String,
    /// `Some(suffix)` when the pattern takes an argument.
    suffix: Option<String>,
    /// The feature it invokes.
    pub feature: ShortCodeFeature,
}

impl ShortCode {
    /// A short code from its pattern; `None` when the pattern has more than one `N` or
    /// characters other than digits, `*`, `#` and `N`.
    pub fn new(pattern: &str, feature: ShortCodeFeature) -> Option<ShortCode> {
        if !pattern
            .bytes()
            .all(|b| b.is_ascii_digit() || b"*#N".contains(&b))
            || pattern.is_empty()
        {
            return None;
        }
        match pattern.split_once('N') {
            None => Some(ShortCode {
                prefix: pattern.to_string(),
                suffix: None,
                feature,
            }),
            Some((_, after)) if after.contains('N') => None,
            Some((before, after)) => Some(ShortCode {
                prefix: before.to_string(),
                suffix: Some(after.to_string()),
                feature,
            }),
        }
    }

    /// The argument when `dialled` matches: `Some("")` for a code without `N`.
    fn matches<'a>(&self, dialled: &'a str) -> Option<&'a str> {
        match &self.suffix {
            None => (dialled == self.prefix).then_some(""),
            Some(suffix) => {
                let arg = dialled.strip_prefix(&self.prefix)?;
                // Phones often drop a trailing '#' (it is their "send" key).
                let arg = arg.strip_suffix(suffix.as_str()).unwrap_or(arg);
                // Digits, in groups separated by '*' (a hot-desk login: number*code).
                let groups_ok = arg
                    .split('*')
                    .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit()));
                groups_ok.then_some(arg)
            }
        }
    }
}

/// The configured short codes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShortCodes {
    codes: Vec<ShortCode>,
}

impl ShortCodes {
    /// These codes.
    pub fn new(codes: impl IntoIterator<Item = ShortCode>) -> ShortCodes {
        ShortCodes {
            codes: codes.into_iter().collect(),
        }
    }

    /// The feature and argument a dialled string invokes, if any.
    pub fn lookup<'a>(&self, dialled: &'a str) -> Option<(ShortCodeFeature, &'a str)> {
        self.codes
            .iter()
            .find_map(|c| c.matches(dialled).map(|arg| (c.feature, arg)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes() -> ShortCodes {
        ShortCodes::new([
            ShortCode::new("*08", ShortCodeFeature::DndOn).unwrap(),
            ShortCode::new("*14*N#", ShortCodeFeature::ForwardUnconditionalOn).unwrap(),
            ShortCode::new("*15", ShortCodeFeature::ForwardUnconditionalOff).unwrap(),
        ])
    }

    #[test]
    fn fixed_codes_match_exactly_and_n_takes_digits() {
        let c = codes();
        assert_eq!(c.lookup("*08"), Some((ShortCodeFeature::DndOn, "")));
        assert_eq!(c.lookup("*081"), None);
        assert_eq!(
            c.lookup("*14*202#"),
            Some((ShortCodeFeature::ForwardUnconditionalOn, "202"))
        );
        // Without the trailing '#', as many phones send it.
        assert_eq!(
            c.lookup("*14*202"),
            Some((ShortCodeFeature::ForwardUnconditionalOn, "202"))
        );
        assert_eq!(c.lookup("*14*#"), None);
        assert_eq!(c.lookup("*14*2a#"), None);
        assert_eq!(c.lookup("*14*201*1234#").map(|m| m.1), Some("201*1234"));
        assert_eq!(c.lookup("*14*201*#"), None);
        assert_eq!(c.lookup("202"), None);
    }

    #[test]
    fn bad_patterns_are_refused() {
        assert!(ShortCode::new("*1N*N#", ShortCodeFeature::Park).is_none());
        assert!(ShortCode::new("*1x", ShortCodeFeature::Park).is_none());
        assert!(ShortCode::new("", ShortCodeFeature::Park).is_none());
    }
}
