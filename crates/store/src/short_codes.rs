//! Feature short codes: the features, the default set, and how a code's pattern (`*14*N#`)
//! is split and matched against what a caller dialled.

use std::collections::BTreeMap;

/// What a short code does (`[short_codes]` values). Features marked "N" take the digits
/// the caller dials in place of the code's `N`; the others have no `N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShortCodeFeature {
    /// `voicemail_collect`: listen to one's voicemail.
    VoicemailCollect,
    /// `voicemail_collect_mailbox` (N): listen to the messages of mailbox N (a user's or a
    /// hunt group's), with its PIN.
    VoicemailCollectMailbox,
    /// `forward_unconditional_on` (N): forward every call to N.
    ForwardUnconditionalOn,
    /// `forward_unconditional_off`: stop forwarding every call.
    ForwardUnconditionalOff,
    /// `dnd_on`: do not disturb on.
    DndOn,
    /// `dnd_off`: do not disturb off.
    DndOff,
    /// `park` (N): park the current call in slot N.
    Park,
    /// `unpark` (N): take the call parked in slot N.
    Unpark,
    /// `pickup_group`: answer a call ringing in one of the caller's hunt groups.
    PickupGroup,
    /// `pickup_directed` (N): answer the call ringing extension N.
    PickupDirected,
    /// `hunt_group_join` (N): join hunt group number N.
    HuntGroupJoin,
    /// `hunt_group_leave` (N): leave hunt group number N.
    HuntGroupLeave,
    /// `hot_desk_login` (N): log in on this extension as the user whose number is N,
    /// followed by the login code (N = `number*code`).
    HotDeskLogin,
    /// `hot_desk_logout`: log out of this extension.
    HotDeskLogout,
    /// `account_code` (N): mark the next call with account code N.
    AccountCode,
    /// `night_service_on` (N): put hunt group number N out of service.
    NightServiceOn,
    /// `night_service_off` (N): put hunt group number N back in service.
    NightServiceOff,
    /// `page` (N): page hunt group N's phones, or extension N (they answer by themselves
    /// and hear the caller; needs the internal right).
    Page,
    /// `listen` (N): listen in on extension N's call unheard (silent monitoring; needs the
    /// user's `can_intrude`).
    Listen,
    /// `intrude` (N): join extension N's call, heard by both parties (needs the user's
    /// `can_intrude`).
    Intrude,
}

impl ShortCodeFeature {
    /// Every feature, in the order they are listed.
    pub const ALL: [ShortCodeFeature; 20] = [
        ShortCodeFeature::VoicemailCollect,
        ShortCodeFeature::VoicemailCollectMailbox,
        ShortCodeFeature::ForwardUnconditionalOn,
        ShortCodeFeature::ForwardUnconditionalOff,
        ShortCodeFeature::DndOn,
        ShortCodeFeature::DndOff,
        ShortCodeFeature::Park,
        ShortCodeFeature::Unpark,
        ShortCodeFeature::PickupGroup,
        ShortCodeFeature::PickupDirected,
        ShortCodeFeature::HuntGroupJoin,
        ShortCodeFeature::HuntGroupLeave,
        ShortCodeFeature::HotDeskLogin,
        ShortCodeFeature::HotDeskLogout,
        ShortCodeFeature::AccountCode,
        ShortCodeFeature::NightServiceOn,
        ShortCodeFeature::NightServiceOff,
        ShortCodeFeature::Page,
        ShortCodeFeature::Listen,
        ShortCodeFeature::Intrude,
    ];

    /// The name as written in the document, e.g. `"voicemail_collect"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ShortCodeFeature::VoicemailCollect => "voicemail_collect",
            ShortCodeFeature::VoicemailCollectMailbox => "voicemail_collect_mailbox",
            ShortCodeFeature::ForwardUnconditionalOn => "forward_unconditional_on",
            ShortCodeFeature::ForwardUnconditionalOff => "forward_unconditional_off",
            ShortCodeFeature::DndOn => "dnd_on",
            ShortCodeFeature::DndOff => "dnd_off",
            ShortCodeFeature::Park => "park",
            ShortCodeFeature::Unpark => "unpark",
            ShortCodeFeature::PickupGroup => "pickup_group",
            ShortCodeFeature::PickupDirected => "pickup_directed",
            ShortCodeFeature::HuntGroupJoin => "hunt_group_join",
            ShortCodeFeature::HuntGroupLeave => "hunt_group_leave",
            ShortCodeFeature::HotDeskLogin => "hot_desk_login",
            ShortCodeFeature::HotDeskLogout => "hot_desk_logout",
            ShortCodeFeature::AccountCode => "account_code",
            ShortCodeFeature::NightServiceOn => "night_service_on",
            ShortCodeFeature::NightServiceOff => "night_service_off",
            ShortCodeFeature::Page => "page",
            ShortCodeFeature::Listen => "listen",
            ShortCodeFeature::Intrude => "intrude",
        }
    }

    /// The feature called `name` (exact, lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// True when the feature takes a number (its code has an `N`).
    pub fn takes_number(self) -> bool {
        !matches!(
            self,
            ShortCodeFeature::VoicemailCollect
                | ShortCodeFeature::ForwardUnconditionalOff
                | ShortCodeFeature::DndOn
                | ShortCodeFeature::DndOff
                | ShortCodeFeature::PickupGroup
                | ShortCodeFeature::HotDeskLogout
        )
    }
}

/// The short codes in force when a document has no `[short_codes]` section, and in the
/// embedded default.
pub fn default_short_codes() -> BTreeMap<String, ShortCodeFeature> {
    use ShortCodeFeature as F;
    [
        ("*17", F::VoicemailCollect),
        ("*18*N#", F::VoicemailCollectMailbox),
        ("*14*N#", F::ForwardUnconditionalOn),
        ("*15", F::ForwardUnconditionalOff),
        ("*08", F::DndOn),
        ("*09", F::DndOff),
        ("*37*N#", F::Park),
        ("*38*N#", F::Unpark),
        ("*30", F::PickupGroup),
        ("*31*N#", F::PickupDirected),
        ("*45*N#", F::HuntGroupJoin),
        ("*46*N#", F::HuntGroupLeave),
        ("*35*N#", F::HotDeskLogin),
        ("*36", F::HotDeskLogout),
        ("*22*N#", F::AccountCode),
        ("*20*N#", F::NightServiceOn),
        ("*21*N#", F::NightServiceOff),
        ("*34*N#", F::Page),
        ("*39*N#", F::Listen),
        ("*40*N#", F::Intrude),
    ]
    .into_iter()
    .map(|(code, feature)| (code.to_owned(), feature))
    .collect()
}

/// A short code's pattern split at its `N`: `"*14*N#"` is prefix `*14*`, a number, suffix
/// `#`; `"*17"` is prefix `*17` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortCodePattern<'a> {
    /// What the caller dials first, exactly (the whole code when it has no `N`).
    pub prefix: &'a str,
    /// True when the code has an `N`.
    pub takes_number: bool,
    /// What follows the number, exactly (empty when the code has no `N`).
    pub suffix: &'a str,
}

impl<'a> ShortCodePattern<'a> {
    /// Splits a well-formed code: `*` or `#`, then `0-9 * #` with at most one `N`, 2..=20
    /// characters, at least two before the `N`. `None` when `code` is not well formed.
    pub fn parse(code: &'a str) -> Option<Self> {
        let b = code.as_bytes();
        let form = (2..=20).contains(&b.len())
            && matches!(b[0], b'*' | b'#')
            && b.iter().all(|c| c.is_ascii_digit() || b"*#N".contains(c))
            && b.iter().filter(|&&c| c == b'N').count() <= 1;
        if !form {
            return None;
        }
        let pattern = match code.split_once('N') {
            Some((prefix, suffix)) => ShortCodePattern {
                prefix,
                takes_number: true,
                suffix,
            },
            None => ShortCodePattern {
                prefix: code,
                takes_number: false,
                suffix: "",
            },
        };
        (pattern.prefix.len() >= 2).then_some(pattern)
    }

    /// The number the caller supplied when `dialled` matches this pattern (`Some("")` for
    /// a pattern without `N`). A number is one or more digits, groups of which may be
    /// separated by `*` (`201*1234`).
    pub fn matches<'d>(&self, dialled: &'d str) -> Option<&'d str> {
        if !self.takes_number {
            return (dialled == self.prefix).then_some("");
        }
        let number = dialled
            .strip_prefix(self.prefix)?
            .strip_suffix(self.suffix)?;
        let ok = number.starts_with(|c: char| c.is_ascii_digit())
            && number.ends_with(|c: char| c.is_ascii_digit())
            && number.bytes().all(|c| c.is_ascii_digit() || c == b'*');
        ok.then_some(number)
    }
}

/// A dialled string recognised as a short code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShortCodeMatch<'c, 'd> {
    /// The code, as configured (e.g. `"*14*N#"`).
    pub code: &'c str,
    /// What it does.
    pub feature: ShortCodeFeature,
    /// The number dialled in place of `N`; `None` when the code has no `N`.
    pub number: Option<&'d str>,
}

/// Finds the short code `dialled` matches among `codes`. Valid codes never overlap, so at
/// most one matches.
pub(crate) fn match_short_code<'c, 'd>(
    codes: &'c BTreeMap<String, ShortCodeFeature>,
    dialled: &'d str,
) -> Option<ShortCodeMatch<'c, 'd>> {
    codes.iter().find_map(|(code, &feature)| {
        let pattern = ShortCodePattern::parse(code)?;
        let number = pattern.matches(dialled)?;
        Some(ShortCodeMatch {
            code,
            feature,
            number: pattern.takes_number.then_some(number),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_code_patterns() {
        let p = ShortCodePattern::parse("*14*N#").expect("valid");
        assert_eq!((p.prefix, p.takes_number, p.suffix), ("*14*", true, "#"));
        assert_eq!(p.matches("*14*202#"), Some("202"));
        assert_eq!(p.matches("*14*201*1234#"), Some("201*1234"));
        assert_eq!(p.matches("*14*#"), None);
        assert_eq!(p.matches("*14**2#"), None);
        assert_eq!(p.matches("*14*202"), None);
        let p = ShortCodePattern::parse("*17").expect("valid");
        assert_eq!(p.matches("*17"), Some(""));
        assert_eq!(p.matches("*171"), None);
        for bad in [
            "17",
            "*",
            "*N",
            "*1N2N",
            "*1a",
            "*1n",
            "*123456789012345678901",
        ] {
            assert_eq!(ShortCodePattern::parse(bad), None, "{bad}");
        }
        let codes = default_short_codes();
        let m = match_short_code(&codes, "*45*300#").expect("matches");
        assert_eq!(
            (m.code, m.feature, m.number),
            ("*45*N#", ShortCodeFeature::HuntGroupJoin, Some("300"))
        );
        let m = match_short_code(&codes, "*08").expect("matches");
        assert_eq!((m.feature, m.number), (ShortCodeFeature::DndOn, None));
        assert_eq!(match_short_code(&codes, "201"), None);
    }

    #[test]
    fn default_codes_fit_their_features() {
        let codes = default_short_codes();
        assert_eq!(codes.len(), ShortCodeFeature::ALL.len());
        for (code, feature) in &codes {
            let p = ShortCodePattern::parse(code).expect("well formed");
            assert_eq!(p.takes_number, feature.takes_number(), "{code}");
        }
    }
}
