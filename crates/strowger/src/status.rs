//! The text of `strowger status`.

use crate::trace::SipTrace;
use pbx::Pbx;
use std::fmt::Write;
use std::time::Instant;

/// Registrations, blocks and counters of the running core.
pub fn render(pbx: &Pbx, now: Instant, trace: &SipTrace) -> String {
    let mut out = String::new();
    let regs = pbx.registrations(now);
    let _ = writeln!(out, "registrations: {}", regs.len());
    if !regs.is_empty() {
        let _ = writeln!(
            out,
            "{:<10} {:<45} {:<26} {:>8}  user agent",
            "extension", "contact", "source", "expires"
        );
    }
    for r in &regs {
        let _ = writeln!(
            out,
            "{:<10} {:<45} {:<26} {:>7}s  {}",
            r.extension,
            r.contact,
            format!(
                "{}:{}",
                if r.source.transport.is_reliable() {
                    "tcp"
                } else {
                    "udp"
                },
                r.source.addr
            ),
            r.expires_in,
            r.user_agent.as_deref().unwrap_or("-")
        );
    }
    let _ = writeln!(
        out,
        "message-waiting subscriptions: {}",
        pbx.mwi_subscription_count()
    );
    let blocked = pbx.blocked(now);
    let _ = writeln!(out, "blocked: {}", blocked.len());
    for (target, left) in blocked {
        let _ = writeln!(out, "  {target} for {} s more", left.as_secs());
    }
    let s = pbx.stats();
    let _ = writeln!(
        out,
        "counters: requests {} malformed {} dropped {} blocked-requests {} auth-failures {} registrations {} transactions {}",
        s.requests,
        s.malformed,
        s.dropped,
        s.blocked_requests,
        s.auth_failures,
        s.registrations,
        pbx.transaction_count()
    );
    let (used, limits) = pbx.voicemail_channels();
    let _ = writeln!(
        out,
        "voicemail channels: {} in use of {} (mailbox {}, attendant {}, recording {}; \
         reserved mailbox {}, attendant {}, recording {})",
        used.total(),
        limits.channels,
        used.mailbox,
        used.attendant,
        used.recording,
        limits.reserve_mailbox,
        limits.reserve_attendant,
        limits.reserve_recording
    );
    let _ = writeln!(
        out,
        "sip trace: {}",
        if trace.is_on() { "on" } else { "off" }
    );
    out
}

/// The calls in progress, for `strowger calls`.
pub fn render_calls(pbx: &Pbx) -> String {
    let calls = pbx.active_calls();
    let mut out = String::new();
    let _ = writeln!(out, "active calls: {}", calls.len());
    for (caller, callee, answered) in calls {
        let _ = writeln!(
            out,
            "  {caller} -> {callee}  {}",
            if answered { "talking" } else { "ringing" }
        );
    }
    out
}
