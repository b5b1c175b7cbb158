//! Just enough RTP/RTCP inspection for a relay: is this datagram RTP or RTCP at all, and
//! what do the reception report blocks of SR/RR packets say (RFC 3550 §6.4).
//!
//! The relay forwards packets untouched, so nothing here builds or rewrites packets; full
//! packet models live in the `rtp` crate. Every function takes any bytes without panicking.

/// A reception report block (RFC 3550 §6.4.1), as an endpoint sent it about the stream it
/// receives from the other side of the call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceptionReport {
    /// The SSRC of the stream being reported on.
    pub ssrc: u32,
    /// Fraction of packets lost since the previous report, in 1/256ths.
    pub fraction_lost: u8,
    /// Packets lost since the stream began (24-bit signed: duplicates can make it negative).
    pub cumulative_lost: i32,
    /// Extended highest sequence number received.
    pub highest_sequence: u32,
    /// Interarrival jitter in RTP timestamp units (divide by 8 for milliseconds at G.711's
    /// 8 kHz clock).
    pub jitter: u32,
}

impl ReceptionReport {
    /// The fraction lost as a ratio between 0 and 1.
    pub fn fraction_lost_ratio(&self) -> f64 {
        f64::from(self.fraction_lost) / 256.0
    }
}

/// Length of the fixed RTP header (RFC 3550 §5.1).
const RTP_HEADER_LEN: usize = 12;
/// Length of the RTCP common header plus the sender SSRC.
const RTCP_MIN_LEN: usize = 8;
/// Length of one report block.
const REPORT_BLOCK_LEN: usize = 24;
/// Sender info of an SR: NTP timestamp (8), RTP timestamp, packet and octet counts.
const SENDER_INFO_LEN: usize = 20;
const RTCP_SR: u8 = 200;
const RTCP_RR: u8 = 201;

fn version_is_2(buf: &[u8]) -> bool {
    buf.first().is_some_and(|b| b >> 6 == 2)
}

/// Whether the datagram can be an RTP packet: version 2 and a whole fixed header. This is
/// the test for latching, so that a stray datagram (a STUN probe, garbage) does not steer
/// the media of a call.
pub(crate) fn is_rtp(buf: &[u8]) -> bool {
    buf.len() >= RTP_HEADER_LEN && version_is_2(buf)
}

/// Whether the datagram can be an RTCP packet: version 2, a payload type in the RTCP range
/// that RFC 5761 §4 reserves (192–223), and at least a header and sender SSRC. The same test
/// recognises RTCP multiplexed on the RTP port.
pub(crate) fn is_rtcp(buf: &[u8]) -> bool {
    buf.len() >= RTCP_MIN_LEN && version_is_2(buf) && (192..=223).contains(&buf[1])
}

/// Calls `each` for every report block of every SR and RR in a compound RTCP packet.
/// Parsing stops quietly at the first malformed part: what came before it is still reported.
pub(crate) fn for_each_reception_report(buf: &[u8], mut each: impl FnMut(ReceptionReport)) {
    let mut rest = buf;
    while rest.len() >= 4 && version_is_2(rest) {
        let count = usize::from(rest[0] & 0x1f);
        let packet_type = rest[1];
        let words = usize::from(u16::from_be_bytes([rest[2], rest[3]]));
        let total = (words + 1) * 4;
        let Some(packet) = rest.get(..total) else {
            return;
        };
        let blocks_at = match packet_type {
            RTCP_SR => Some(RTCP_MIN_LEN + SENDER_INFO_LEN),
            RTCP_RR => Some(RTCP_MIN_LEN),
            _ => None,
        };
        if let Some(start) = blocks_at {
            for i in 0..count {
                let at = start + i * REPORT_BLOCK_LEN;
                match packet.get(at..at + REPORT_BLOCK_LEN) {
                    Some(block) => each(parse_block(block)),
                    None => return,
                }
            }
        }
        rest = &rest[total..];
    }
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Parses one 24-byte report block; the caller guarantees the length.
fn parse_block(b: &[u8]) -> ReceptionReport {
    // Sign-extend the 24-bit cumulative loss by shifting it into the top of an i32.
    let lost = u32::from_be_bytes([b[5], b[6], b[7], 0]) as i32 >> 8;
    ReceptionReport {
        ssrc: be32(b, 0),
        fraction_lost: b[4],
        cumulative_lost: lost,
        highest_sequence: be32(b, 8),
        jitter: be32(b, 12),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ssrc: u32, fraction: u8, lost: i32, seq: u32, jitter: u32) -> Vec<u8> {
        let mut b = ssrc.to_be_bytes().to_vec();
        b.push(fraction);
        b.extend_from_slice(&lost.to_be_bytes()[1..]);
        b.extend_from_slice(&seq.to_be_bytes());
        b.extend_from_slice(&jitter.to_be_bytes());
        b.extend_from_slice(&[0; 8]); // LSR, DLSR
        b
    }

    fn header(count: u8, pt: u8, body_len: usize) -> Vec<u8> {
        let words = u16::try_from((body_len + 4) / 4 - 1).unwrap();
        let mut h = vec![0x80 | count, pt];
        h.extend_from_slice(&words.to_be_bytes());
        h
    }

    fn reports(buf: &[u8]) -> Vec<ReceptionReport> {
        let mut out = Vec::new();
        for_each_reception_report(buf, |r| out.push(r));
        out
    }

    #[test]
    fn receiver_report_blocks() {
        let mut body = 0x1234_u32.to_be_bytes().to_vec();
        body.extend(block(7, 64, 1000, 70_000, 160));
        body.extend(block(8, 0, -3, 5, 0));
        let mut rr = header(2, RTCP_RR, body.len());
        rr.extend(body);
        assert!(is_rtcp(&rr));
        let got = reports(&rr);
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0],
            ReceptionReport {
                ssrc: 7,
                fraction_lost: 64,
                cumulative_lost: 1000,
                highest_sequence: 70_000,
                jitter: 160
            }
        );
        assert_eq!(got[0].fraction_lost_ratio(), 0.25);
        assert_eq!(got[1].cumulative_lost, -3);
    }

    #[test]
    fn sender_report_inside_a_compound_packet() {
        let mut body = 0x1234_u32.to_be_bytes().to_vec();
        body.extend([0; SENDER_INFO_LEN]);
        body.extend(block(9, 1, 2, 3, 4));
        let mut packet = header(1, RTCP_SR, body.len());
        packet.extend(body);
        // SDES with an empty chunk list after it, then an RR without blocks.
        packet.extend(header(0, 202, 4));
        packet.extend([0; 4]);
        packet.extend(header(0, RTCP_RR, 4));
        packet.extend([0; 4]);
        assert_eq!(reports(&packet).len(), 1);
        assert_eq!(reports(&packet)[0].ssrc, 9);
    }

    #[test]
    fn truncated_and_lying_packets_stop_quietly() {
        let mut body = 0x1234_u32.to_be_bytes().to_vec();
        body.extend(block(7, 1, 1, 1, 1));
        let mut rr = header(1, RTCP_RR, body.len());
        rr.extend(body);
        for cut in 0..rr.len() {
            assert!(reports(&rr[..cut]).is_empty(), "cut at {cut}");
        }
        // A report count of 31 with room for one block: the one is read, then it stops.
        rr[0] = 0x80 | 31;
        assert_eq!(reports(&rr).len(), 1);
    }

    #[test]
    fn classification() {
        assert!(!is_rtp(&[]));
        assert!(!is_rtp(&[0x80; 11]));
        assert!(is_rtp(&[0x80; 12]));
        assert!(!is_rtp(&[0x40; 12]), "version 1");
        assert!(!is_rtcp(&[0x80, 201, 0, 1, 0, 0, 0]));
        assert!(is_rtcp(&[0x80, 201, 0, 1, 0, 0, 0, 0]));
        assert!(!is_rtcp(&[0x80, 0, 0, 1, 0, 0, 0, 0]), "RTP PT 0");
    }

    #[test]
    fn any_bytes_are_safe() {
        // A small xorshift generator: deterministic, no dev-dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..20_000 {
            let len = (next() % 96) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(first) = buf.first_mut() {
                // Make most of them look like RTCP so the parser gets deep.
                *first = 0x80 | (*first & 0x3f);
            }
            if buf.len() > 1 && next() % 2 == 0 {
                buf[1] = 200 + (next() % 2) as u8;
            }
            let _ = (is_rtp(&buf), is_rtcp(&buf));
            for_each_reception_report(&buf, |_| {});
        }
    }
}
