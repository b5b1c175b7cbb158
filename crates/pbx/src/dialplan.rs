//! The dial plan: what a dialled number is, and so which right a call to it needs.
//!
//! # Resolution order
//!
//! A dialled number (the user part of the Request-URI) is classified in this order; the
//! first that matches decides:
//!
//! 1. **Emergency**: one of the emergency numbers, also after the outside-line prefix.
//!    Always allowed, whatever the caller's rights.
//! 2. **Short code** (internal): a configured feature code (`*08`, `*14*N#` ...).
//! 3. **Extension** (internal).
//! 4. **Hunt group** (internal).
//! 5. **Outside numbers**, after the outside-line prefix is stripped (when one is set, an
//!    outside number needs it):
//!    - `+` and digits: international, unless followed by the system's own country code,
//!      which makes it national (read as the national prefix and the rest);
//!    - the international prefix (`00`) and digits: international;
//!    - the national prefix (`0`) and digits: premium when it begins with a premium prefix
//!      (`09`), else national;
//!    - digits only, at least `local_min_digits` of them: local.
//! 6. Anything else (empty, other characters, too short, more than [`MAX_OUTSIDE_DIGITS`]
//!    digits, or no outside-line prefix where one is needed): unknown, an unassigned number.
//!
//! The classification is a pure function of the number, the plan and the internal numbering
//! ([`Numbering`]); rights are checked by the router, and outside calls will be routed to
//! trunks by outgoing routes matched on the class and the outside number.

/// A right a user may hold: the call classes they may call (emergency needs none).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CallRight {
    /// Extensions, hunt groups and short codes of this system.
    Internal,
    /// Outside numbers in the local area.
    Local,
    /// Outside numbers in the same country.
    National,
    /// Numbers abroad.
    International,
    /// Premium-rate numbers.
    Premium,
}

impl CallRight {
    /// The rights of a user who names none: every class but premium.
    pub const DEFAULT: [CallRight; 4] = [
        CallRight::Internal,
        CallRight::Local,
        CallRight::National,
        CallRight::International,
    ];

    /// The name as the configuration writes it: `internal` .. `premium`.
    pub fn as_str(self) -> &'static str {
        match self {
            CallRight::Internal => "internal",
            CallRight::Local => "local",
            CallRight::National => "national",
            CallRight::International => "international",
            CallRight::Premium => "premium",
        }
    }
}

/// Which kind of internal number was dialled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InternalKind {
    /// A feature short code.
    ShortCode,
    /// An extension.
    Extension,
    /// A hunt group.
    HuntGroup,
    /// A call flow (an auto attendant).
    CallFlow,
}

/// The class of a dialled number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallClass {
    /// An emergency number: always allowed.
    Emergency,
    /// A number of this system.
    Internal(InternalKind),
    /// An outside number in the local area.
    Local,
    /// An outside number in the same country.
    National,
    /// A number abroad.
    International,
    /// A premium-rate number.
    Premium,
    /// Nothing the plan knows: an unassigned number.
    Unknown,
}

impl CallClass {
    /// The right a caller needs for this class; `None` for emergency (always allowed) and
    /// unknown numbers (nothing to allow).
    pub fn right(self) -> Option<CallRight> {
        match self {
            CallClass::Internal(_) => Some(CallRight::Internal),
            CallClass::Local => Some(CallRight::Local),
            CallClass::National => Some(CallRight::National),
            CallClass::International => Some(CallRight::International),
            CallClass::Premium => Some(CallRight::Premium),
            CallClass::Emergency | CallClass::Unknown => None,
        }
    }

    /// True for the classes that leave the system: emergency and the outside classes.
    pub fn is_outside(self) -> bool {
        matches!(
            self,
            CallClass::Emergency
                | CallClass::Local
                | CallClass::National
                | CallClass::International
                | CallClass::Premium
        )
    }

    /// The class in words, for causes and logs: `international`, `emergency` ...
    pub fn as_str(self) -> &'static str {
        match self {
            CallClass::Emergency => "emergency",
            CallClass::Internal(_) => "internal",
            CallClass::Local => "local",
            CallClass::National => "national",
            CallClass::International => "international",
            CallClass::Premium => "premium",
            CallClass::Unknown => "unknown",
        }
    }
}

/// The internal numbers of the system, as the classification needs them.
pub trait Numbering {
    /// The dialled string invokes a short code.
    fn is_short_code(&self, dialled: &str) -> bool;
    /// The number is an extension.
    fn is_extension(&self, number: &str) -> bool;
    /// The number is a hunt group.
    fn is_hunt_group(&self, number: &str) -> bool;
    /// The number reaches a call flow (an auto attendant). None do unless said.
    fn is_call_flow(&self, number: &str) -> bool {
        let _ = number;
        false
    }
}

/// A classified number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// What it is.
    pub class: CallClass,
    /// The number to take outside (the outside-line prefix stripped) for emergency and the
    /// outside classes; the dialled string as it was otherwise.
    pub number: String,
}

/// Most digits an outside number may have after its prefixes are stripped (E.164 allows
/// 15; a few more leave room for access codes).
pub const MAX_OUTSIDE_DIGITS: usize = 20;

/// How numbers are classified: the emergency numbers and the prefixes of outside numbers.
/// The binary builds it from the configuration's `[dial_plan]` section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialPlan {
    /// Always allowed; matched before anything else, also after the outside-line prefix.
    pub emergency: Vec<String>,
    /// Stripped before an outside number is classified; when set, outside numbers need it.
    pub external_prefix: Option<String>,
    /// Begins an international number (`00`).
    pub international_prefix: String,
    /// Begins a national number (`0`).
    pub national_prefix: String,
    /// The system's own country code: `+` followed by it is a national number.
    pub country_code: Option<String>,
    /// National numbers (national prefix included) beginning with one of these are premium.
    pub premium: Vec<String>,
    /// Numbers without a prefix of at least this many digits are local.
    pub local_min_digits: usize,
}

impl Default for DialPlan {
    /// UK/EU style: emergency 112, 999 and 911; international `00`, national `0`, premium
    /// `09`; local from six digits; no outside-line prefix and no country code.
    fn default() -> Self {
        DialPlan {
            emergency: vec!["112".into(), "999".into(), "911".into()],
            external_prefix: None,
            international_prefix: "00".into(),
            national_prefix: "0".into(),
            country_code: None,
            premium: vec!["09".into()],
            local_min_digits: 6,
        }
    }
}

impl DialPlan {
    /// Classifies `dialled` in the documented order (see the module documentation).
    pub fn classify(&self, dialled: &str, internal: &dyn Numbering) -> Classified {
        let outside = self
            .external_prefix
            .as_deref()
            .and_then(|p| dialled.strip_prefix(p));
        if self.is_emergency(dialled) {
            return classified(CallClass::Emergency, dialled);
        }
        if let Some(number) = outside.filter(|n| self.is_emergency(n)) {
            return classified(CallClass::Emergency, number);
        }
        if internal.is_short_code(dialled) {
            return classified(CallClass::Internal(InternalKind::ShortCode), dialled);
        }
        if internal.is_extension(dialled) {
            return classified(CallClass::Internal(InternalKind::Extension), dialled);
        }
        if internal.is_hunt_group(dialled) {
            return classified(CallClass::Internal(InternalKind::HuntGroup), dialled);
        }
        if internal.is_call_flow(dialled) {
            return classified(CallClass::Internal(InternalKind::CallFlow), dialled);
        }
        let number = match (&self.external_prefix, outside) {
            (None, _) => dialled,
            (Some(_), Some(number)) => number,
            // An outside line needs its prefix.
            (Some(_), None) => return classified(CallClass::Unknown, dialled),
        };
        classified(self.outside_class(number), number)
    }

    fn is_emergency(&self, number: &str) -> bool {
        self.emergency.iter().any(|e| e == number)
    }

    /// The class of an outside number (its outside-line prefix already stripped).
    fn outside_class(&self, number: &str) -> CallClass {
        let (plus, digits) = match number.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, number),
        };
        let well_formed = !digits.is_empty()
            && digits.len() <= MAX_OUTSIDE_DIGITS
            && digits.bytes().all(|b| b.is_ascii_digit());
        if !well_formed {
            return CallClass::Unknown;
        }
        if plus {
            return match self
                .country_code
                .as_deref()
                .and_then(|cc| digits.strip_prefix(cc))
            {
                None => CallClass::International,
                Some("") => CallClass::Unknown,
                // "+44 20 ..." at home is "0 20 ...": premium or national as dialled so.
                Some(national) => {
                    self.national_class(&format!("{}{national}", self.national_prefix))
                }
            };
        }
        if let Some(rest) = digits.strip_prefix(self.international_prefix.as_str()) {
            return if rest.is_empty() {
                CallClass::Unknown
            } else {
                CallClass::International
            };
        }
        if let Some(rest) = digits.strip_prefix(self.national_prefix.as_str()) {
            return if rest.is_empty() {
                CallClass::Unknown
            } else {
                self.national_class(digits)
            };
        }
        if digits.len() >= self.local_min_digits {
            CallClass::Local
        } else {
            CallClass::Unknown
        }
    }

    /// Premium or national, for a number written with the national prefix.
    fn national_class(&self, national: &str) -> CallClass {
        if self
            .premium
            .iter()
            .any(|p| national.starts_with(p.as_str()))
        {
            CallClass::Premium
        } else {
            CallClass::National
        }
    }
}

fn classified(class: CallClass, number: &str) -> Classified {
    Classified {
        class,
        number: number.to_string(),
    }
}

#[cfg(test)]
mod tests;
