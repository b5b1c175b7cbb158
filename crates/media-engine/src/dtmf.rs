//! DTMF reception: RFC 4733 telephone-events (§2.3, §2.5.1) as the keys a caller presses,
//! each reported once, as soon as its first packet arrives.
//!
//! The payload of a telephone-event packet (§2.3):
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |     event     |E|R| volume    |          duration             |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! A sender sends one key press as many packets: all carry the RTP timestamp of the
//! event's start, with a growing duration, and the last three (typically) have the E bit
//! set — the end is retransmitted because it is what a receiver must not miss. So the
//! RTP timestamp names the key press: a packet with the timestamp already reported is
//! the same press, one with a new timestamp is a new press, whichever of its packets
//! arrives first (the first ones may be lost, or only the end packets arrive). What one
//! packet carries beyond its first four bytes (RFC 2198 redundancy, several events) is
//! not read: the packet's timestamp already says which press it belongs to.
//!
//! What the receiver remembers, per leg, is the last press: its timestamp, event, and
//! whether its end was seen. A timestamp behind the last one (in RFC 1982 serial order,
//! so timestamps may wrap) is a late packet of an older press and is ignored, unless it
//! is more than [`STALE_WINDOW`] behind: then the sender has started a new timeline
//! (re-INVITE, a new device behind the same SSRC) and it is a new press. A new SSRC
//! also starts afresh. A press longer than the duration field can say (0xFFFF units,
//! about 8 s at 8 kHz) continues in a segment with a timestamp 0xFFFF later and no end
//! bit before it (§2.5.1.3): that is the same press, not a new one.
//!
//! Events 0–15 are the keys `0`–`9`, `*`, `#`, `A`–`D` (§3.2); other events (flash,
//! tones) and malformed payloads are ignored. Sans-IO: any bytes in, at most one key out.

use crate::mixer::audio_payload;

/// How far behind the last press a timestamp may be and still count as a late packet of
/// an older press: 10 s at 8 kHz. Further back, the sender has a new timeline.
pub(crate) const STALE_WINDOW: u32 = 80_000;
/// The gap between the segments of one long press (§2.5.1.3): the duration field's
/// maximum. Senders round their segments a little, hence the tolerance.
const SEGMENT: u32 = 0xffff;
const SEGMENT_TOLERANCE: u32 = 800;

/// One telephone-event payload (its first four bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TelephoneEvent {
    /// The event code (0–255; 0–15 are DTMF keys).
    pub(crate) event: u8,
    /// The E bit: this packet ends the event.
    pub(crate) end: bool,
    /// Power level in -dBm0 (0–63; meaningful for DTMF).
    pub(crate) volume: u8,
    /// How long the event has lasted so far, in RTP timestamp units.
    pub(crate) duration: u16,
}

impl TelephoneEvent {
    /// Parses the first event of a telephone-event payload; `None` when it is shorter
    /// than four bytes.
    pub(crate) fn parse(payload: &[u8]) -> Option<TelephoneEvent> {
        let bytes = payload.get(..4)?;
        Some(TelephoneEvent {
            event: bytes[0],
            end: bytes[1] & 0x80 != 0,
            volume: bytes[1] & 0x3f,
            duration: u16::from_be_bytes([bytes[2], bytes[3]]),
        })
    }

    /// The key the event stands for: `0`–`9`, `*`, `#`, `A`–`D`; `None` for other events.
    pub(crate) fn digit(self) -> Option<char> {
        Some(match self.event {
            n @ 0..=9 => char::from(b'0' + n),
            10 => '*',
            11 => '#',
            n @ 12..=15 => char::from(b'A' + n - 12),
            _ => return None,
        })
    }
}

/// The last press seen on a leg.
#[derive(Debug, Clone, Copy)]
struct LastPress {
    ssrc: u32,
    timestamp: u32,
    event: u8,
    ended: bool,
}

/// The DTMF receiver of one leg: the payload type its endpoint uses for telephone-events
/// and the last press, to report each press once.
#[derive(Debug)]
pub(crate) struct DtmfReceiver {
    payload_type: u8,
    last: Option<LastPress>,
}

impl DtmfReceiver {
    /// A receiver for packets of `payload_type` (as negotiated in SDP).
    pub(crate) fn new(payload_type: u8) -> Self {
        DtmfReceiver {
            payload_type,
            last: None,
        }
    }

    /// The payload type it listens for.
    pub(crate) fn payload_type(&self) -> u8 {
        self.payload_type
    }

    /// Takes one RTP packet (any bytes); returns the key if it starts a new press.
    /// Packets of other payload types, and malformed ones, change nothing.
    pub(crate) fn receive(&mut self, rtp: &[u8]) -> Option<char> {
        // Most packets are audio: one byte tells.
        if rtp.get(1).map(|b| b & 0x7f) != Some(self.payload_type) {
            return None;
        }
        let (payload_type, payload) = audio_payload(rtp)?;
        if payload_type != self.payload_type {
            return None;
        }
        let event = TelephoneEvent::parse(payload)?;
        let digit = event.digit()?;
        let timestamp = u32::from_be_bytes(rtp.get(4..8)?.try_into().ok()?);
        let ssrc = u32::from_be_bytes(rtp.get(8..12)?.try_into().ok()?);
        let new = match self.last.as_mut() {
            Some(last) if last.ssrc == ssrc => {
                let ahead = timestamp.wrapping_sub(last.timestamp);
                let behind = last.timestamp.wrapping_sub(timestamp);
                if ahead == 0 {
                    last.ended |= event.end;
                    return None; // the same press
                }
                if behind <= STALE_WINDOW {
                    return None; // a late packet of an older press
                }
                let continued = !last.ended
                    && last.event == event.event
                    && ahead.abs_diff(SEGMENT) <= SEGMENT_TOLERANCE;
                !continued
            }
            _ => true,
        };
        self.last = Some(LastPress {
            ssrc,
            timestamp,
            event: event.event,
            ended: event.end,
        });
        new.then_some(digit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PT: u8 = 101;

    fn packet(ts: u32, event: u8, end: bool, duration: u16) -> Vec<u8> {
        packet_from(0x1234, ts, event, end, duration)
    }

    fn packet_from(ssrc: u32, ts: u32, event: u8, end: bool, duration: u16) -> Vec<u8> {
        let mut p = vec![0x80, PT, 0, 1];
        p.extend_from_slice(&ts.to_be_bytes());
        p.extend_from_slice(&ssrc.to_be_bytes());
        p.push(event);
        p.push(if end { 0x80 } else { 0 } | 10);
        p.extend_from_slice(&duration.to_be_bytes());
        p
    }

    /// The packets a sender sends for one press: starts every 160, three end packets.
    fn press(ts: u32, event: u8) -> Vec<Vec<u8>> {
        let mut v: Vec<_> = (1..=5).map(|n| packet(ts, event, false, n * 160)).collect();
        v.extend((0..3).map(|_| packet(ts, event, true, 960)));
        v
    }

    fn keys(rx: &mut DtmfReceiver, packets: &[Vec<u8>]) -> String {
        packets.iter().filter_map(|p| rx.receive(p)).collect()
    }

    #[test]
    fn every_event_code_is_parsed() {
        let e = TelephoneEvent::parse(&[11, 0x80 | 0x0a, 0x03, 0x20]).unwrap();
        assert_eq!(
            e,
            TelephoneEvent {
                event: 11,
                end: true,
                volume: 10,
                duration: 800
            }
        );
        let digits: String = (0..=15)
            .filter_map(|n| TelephoneEvent { event: n, ..e }.digit())
            .collect();
        assert_eq!(digits, "0123456789*#ABCD");
        assert_eq!(TelephoneEvent { event: 16, ..e }.digit(), None, "flash");
        assert_eq!(TelephoneEvent::parse(&[1, 2, 3]), None);
    }

    #[test]
    fn one_press_is_one_key_however_many_packets() {
        let mut rx = DtmfReceiver::new(PT);
        let mut packets = press(1000, 1);
        packets.extend(press(2000, 11));
        assert_eq!(keys(&mut rx, &packets), "1#");
        // The same key twice in a row is two presses (two timestamps).
        assert_eq!(
            keys(&mut rx, &[press(3000, 11), press(4000, 11)].concat()),
            "##"
        );
    }

    #[test]
    fn a_press_is_reported_by_whichever_packet_arrives_first() {
        let mut rx = DtmfReceiver::new(PT);
        // The first packets lost: the third one reports it.
        assert_eq!(keys(&mut rx, &press(1000, 5)[2..]), "5");
        // Only the end packets arrive.
        assert_eq!(keys(&mut rx, &press(2000, 7)[5..]), "7");
        // Only one end packet.
        assert_eq!(rx.receive(&packet(3000, 9, true, 800)), Some('9'));
    }

    #[test]
    fn duplicates_and_late_packets_of_older_presses_are_ignored() {
        let mut rx = DtmfReceiver::new(PT);
        let first = press(1000, 1);
        assert_eq!(keys(&mut rx, &first), "1");
        assert_eq!(keys(&mut rx, &first), "", "duplicated packets");
        assert_eq!(rx.receive(&packet(2000, 2, false, 160)), Some('2'));
        // A retransmitted end of the first press arrives late, after the second began.
        assert_eq!(rx.receive(&first[7]), None);
        assert_eq!(rx.receive(&packet(2000, 2, true, 800)), None);
    }

    #[test]
    fn timestamps_wrap() {
        let mut rx = DtmfReceiver::new(PT);
        let before = u32::MAX - 100;
        assert_eq!(keys(&mut rx, &press(before, 3)), "3");
        assert_eq!(keys(&mut rx, &press(before.wrapping_add(1600), 4)), "4");
        // A late packet from before the wrap is still older.
        assert_eq!(rx.receive(&packet(before, 3, true, 960)), None);
        assert_eq!(keys(&mut rx, &press(5000, 6)), "6");
    }

    #[test]
    fn a_new_timeline_or_source_starts_afresh() {
        let mut rx = DtmfReceiver::new(PT);
        assert_eq!(keys(&mut rx, &press(1_000_000, 1)), "1");
        // Far behind: the sender restarted its clock.
        assert_eq!(keys(&mut rx, &press(500, 2)), "2");
        // Another SSRC with the same timestamp is another sender's press.
        assert_eq!(rx.receive(&packet_from(9, 500, 2, false, 160)), Some('2'));
    }

    #[test]
    fn a_long_press_continues_in_a_new_segment() {
        let mut rx = DtmfReceiver::new(PT);
        assert_eq!(rx.receive(&packet(1000, 0, false, 0xffff)), Some('0'));
        // §2.5.1.3: the next segment starts 0xFFFF later, the first one never ended.
        assert_eq!(rx.receive(&packet(1000 + 0xffff, 0, false, 160)), None);
        assert_eq!(rx.receive(&packet(1000 + 0xffff, 0, true, 4000)), None);
        // After an end, the same distance is a new press.
        assert_eq!(
            rx.receive(&packet(1000 + 2 * 0xffff, 0, false, 160)),
            Some('0')
        );
    }

    #[test]
    fn other_payload_types_events_and_garbage_are_ignored() {
        let mut rx = DtmfReceiver::new(PT);
        let mut audio = packet(1000, 1, false, 160);
        audio[1] = 0;
        assert_eq!(rx.receive(&audio), None, "PCMU");
        assert_eq!(rx.receive(&packet(1000, 16, false, 160)), None, "flash");
        let short = &packet(1000, 1, false, 160)[..14];
        assert_eq!(rx.receive(short), None, "truncated payload");
        // The ignored packets did not count as a press with this timestamp.
        assert_eq!(rx.receive(&packet(1000, 1, false, 160)), Some('1'));
        // Any bytes at all: no panic.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 40) as usize;
            let mut p: Vec<u8> = (0..len).map(|i| (state >> (i % 8 * 8)) as u8).collect();
            if len > 1 {
                p[0] = 0x80 | (p[0] & 0x3f);
                p[1] = PT;
            }
            let _ = rx.receive(&p);
        }
    }
}
