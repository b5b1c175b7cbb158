//! The music stream's pacing and numbering, and prompts, with made-up instants.

use super::*;
use crate::wav::tests::wav;

/// Music whose µ-law bytes count 0, 1, 2, … (`len` of them), to see where packets cut.
fn counting(len: usize) -> Arc<Music> {
    let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
    Arc::new(Music::from_wav("count", &wav(7, 1, 8000, 8, &data)).unwrap())
}

struct Packet {
    marker: bool,
    pt: u8,
    seq: u16,
    ts: u32,
    ssrc: u32,
    payload: Vec<u8>,
}

fn take(s: &mut MusicStream, now: Instant) -> Option<Packet> {
    let mut buf = Vec::new();
    if !s.poll_packet(now, &mut buf, None) {
        return None;
    }
    assert_eq!(buf.len(), 172);
    assert_eq!(buf[0], 0x80);
    Some(Packet {
        marker: buf[1] & 0x80 != 0,
        pt: buf[1] & 0x7f,
        seq: u16::from_be_bytes([buf[2], buf[3]]),
        ts: u32::from_be_bytes(buf[4..8].try_into().unwrap()),
        ssrc: u32::from_be_bytes(buf[8..12].try_into().unwrap()),
        payload: buf[12..].to_vec(),
    })
}

const MS: Duration = Duration::from_millis(1);

#[test]
fn packets_every_20_ms_with_counting_seq_and_timestamps() {
    let t0 = Instant::now();
    let mut s = MusicStream::with_identity(0xabcd, 65534, u32::MAX - 100);
    assert_eq!(s.next_due(), None);
    s.start(t0, counting(400), 0, None);
    let first = take(&mut s, t0).unwrap();
    assert!(first.marker);
    assert_eq!(
        (first.pt, first.seq, first.ts, first.ssrc),
        (0, 65534, u32::MAX - 100, 0xabcd)
    );
    assert_eq!(first.payload[0], 0);
    assert!(take(&mut s, t0).is_none(), "one packet per 20 ms");
    assert_eq!(s.next_due(), Some(t0 + 20 * MS));
    assert!(take(&mut s, t0 + 19 * MS).is_none());
    // A wake-up 3 ms late sends the packet; the next is still due at 40 ms, not 43.
    let second = take(&mut s, t0 + 23 * MS).unwrap();
    assert!(!second.marker);
    assert_eq!((second.seq, second.ts), (65535, 59), "both wrap");
    assert_eq!(s.next_due(), Some(t0 + 40 * MS));
    let third = take(&mut s, t0 + 40 * MS).unwrap();
    assert_eq!((third.seq, third.ts), (0, 219));
    // 400 samples: the third packet holds 320..400 then 0..80 (the loop).
    assert_eq!(third.payload[79], (399 % 256) as u8);
    assert_eq!(third.payload[80], 0);
}

#[test]
fn a_short_piece_loops_inside_one_packet() {
    let t0 = Instant::now();
    let mut s = MusicStream::with_identity(1, 0, 0);
    s.start(t0, counting(7), 0, None);
    let p = take(&mut s, t0).unwrap();
    let expected: Vec<u8> = (0..160).map(|i| (i % 7) as u8).collect();
    assert_eq!(p.payload, expected);
    let p = take(&mut s, t0 + 20 * MS).unwrap();
    assert_eq!(p.payload[0], 160 % 7);
}

#[test]
fn a_late_thread_catches_up_a_little_and_skips_a_lot() {
    let t0 = Instant::now();
    let mut s = MusicStream::with_identity(1, 0, 0);
    s.start(t0, counting(16_000), 0, None);
    take(&mut s, t0).unwrap();
    // 60 ms late: the missed packets go out at once, in order.
    let now = t0 + 80 * MS;
    let burst: Vec<_> = std::iter::from_fn(|| take(&mut s, now)).collect();
    assert_eq!(
        burst.iter().map(|p| p.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    // A second late by 1 s: no burst; the timestamp and the music move on with time.
    let now = t0 + 1100 * MS;
    let p = take(&mut s, now).unwrap();
    assert_eq!(p.seq, 5, "no sequence gap: nothing was lost on the wire");
    assert_eq!(p.ts, 1100 / 20 * 160);
    assert!(take(&mut s, now).is_none());
    assert_eq!(s.next_due(), Some(t0 + 1120 * MS));
}

#[test]
fn stop_then_start_continues_seq_and_jumps_the_timestamp() {
    let t0 = Instant::now();
    let music = counting(1000);
    let mut s = MusicStream::with_identity(9, 100, 1000);
    s.start(t0, music.clone(), 0, None);
    take(&mut s, t0).unwrap();
    take(&mut s, t0 + 20 * MS).unwrap();
    s.stop();
    assert!(!s.is_playing());
    assert!(take(&mut s, t0 + 40 * MS).is_none());
    // Two seconds after the last packet (due at 20 ms); the relayed stream's last
    // packet is older than that: our own numbers go on.
    let t1 = t0 + 2020 * MS;
    let older = RtpPosition {
        seq: 5000,
        timestamp: 77,
        at: t0 + 10 * MS,
    };
    s.start(t1, music.clone(), 0, Some(older));
    let p = take(&mut s, t1).unwrap();
    assert!(p.marker);
    assert_eq!((p.seq, p.ts, p.ssrc), (102, 1160 + 2000 * 8, 9));
    assert_eq!(p.payload[0], 0, "from the top");
    // Starting what plays changes nothing; another codec starts from the top.
    s.start(t1, music.clone(), 0, None);
    let p = take(&mut s, t1 + 20 * MS).unwrap();
    assert!(!p.marker);
    assert_eq!(p.payload[0], 160);
    s.start(t1 + 25 * MS, music, 8, None);
    let p = take(&mut s, t1 + 40 * MS).unwrap();
    assert!(p.marker);
    assert_eq!((p.pt, p.seq), (8, 104));
}

#[test]
fn music_continues_the_numbers_of_the_stream_the_endpoint_received_last() {
    let t0 = Instant::now();
    let music = counting(1000);
    let mut s = MusicStream::with_identity(9, 100, 1000);
    // The other party's last packet, relayed 50 ms ago, and no music yet.
    let relayed = RtpPosition {
        seq: 65535,
        timestamp: u32::MAX - 79,
        at: t0,
    };
    let now = t0 + 50 * MS;
    s.start(now, music.clone(), 0, Some(relayed));
    let p = take(&mut s, now).unwrap();
    assert_eq!((p.seq, p.ts, p.ssrc), (0, 320, 9), "one on, 400 samples on");
    take(&mut s, now + 20 * MS).unwrap();
    s.stop();
    // Relayed traffic after the music: the next spell follows it, not the music.
    let relayed = RtpPosition {
        seq: 40,
        timestamp: 8000,
        at: now + 500 * MS,
    };
    // Just after it: at least one packet on.
    s.start(now + 505 * MS, music, 0, Some(relayed));
    let p = take(&mut s, now + 505 * MS).unwrap();
    assert_eq!((p.seq, p.ts), (41, 8160));
}

#[test]
fn a_position_is_read_from_any_bytes() {
    let t = Instant::now();
    let packet = [0x80, 0, 0x12, 0x34, 0, 0, 1, 0, 0, 0, 0, 9];
    assert_eq!(
        RtpPosition::of(&packet, t),
        Some(RtpPosition {
            seq: 0x1234,
            timestamp: 256,
            at: t
        })
    );
    assert_eq!(RtpPosition::of(&packet[..6], t), None);
}

#[test]
fn random_identities_differ() {
    let (a, b) = (MusicStream::new(), MusicStream::new());
    assert_ne!((a.ssrc, a.seq, a.timestamp), (b.ssrc, b.seq, b.timestamp));
}

#[test]
fn a_prompt_plays_once_padded_with_silence_then_the_stream_stops() {
    let t0 = Instant::now();
    let mut s = MusicStream::with_identity(3, 10, 1000);
    assert_eq!(s.play(t0, counting(400), 0, 77, None), None);
    assert!(s.is_playing());
    assert_eq!(s.prompt(), Some(77));
    let packets: Vec<_> = (0..3)
        .map(|n| take(&mut s, t0 + n * 20 * MS).unwrap())
        .collect();
    assert!(packets[0].marker);
    assert_eq!(
        packets.iter().map(|p| (p.seq, p.ts)).collect::<Vec<_>>(),
        [(10, 1000), (11, 1160), (12, 1320)]
    );
    // 400 samples: the third packet holds 320..400, then silence.
    assert_eq!(packets[2].payload[79], (399 % 256) as u8);
    assert!(packets[2].payload[80..].iter().all(|&c| c == 0xff));
    assert_eq!(s.take_finished(), Some(77));
    assert_eq!(s.take_finished(), None, "reported once");
    assert!(!s.is_playing());
    assert_eq!(s.next_due(), None);
    assert!(take(&mut s, t0 + 60 * MS).is_none());
}

#[test]
fn a_prompt_of_whole_packets_ends_with_its_last_one() {
    let t0 = Instant::now();
    let mut s = MusicStream::with_identity(3, 0, 0);
    s.play(t0, counting(320), 8, 1, None);
    take(&mut s, t0).unwrap();
    assert_eq!(s.take_finished(), None);
    let last = take(&mut s, t0 + 20 * MS).unwrap();
    assert_eq!(last.pt, 8);
    assert_eq!(s.take_finished(), Some(1));
    assert!(take(&mut s, t0 + 40 * MS).is_none());
}

#[test]
fn music_interrupted_by_a_prompt_goes_on_where_it_was() {
    let t0 = Instant::now();
    let music = counting(1000);
    let mut s = MusicStream::with_identity(3, 0, 0);
    s.start(t0, music.clone(), 0, None);
    take(&mut s, t0).unwrap();
    take(&mut s, t0 + 20 * MS).unwrap();
    // The prompt replaces the music in the stream's rhythm; its numbers go on.
    assert_eq!(s.play(t0 + 30 * MS, counting(160), 0, 5, None), None);
    let p = take(&mut s, t0 + 40 * MS).unwrap();
    assert!(p.marker);
    assert_eq!((p.seq, p.ts, p.payload[1]), (2, 320, 1));
    assert_eq!(s.take_finished(), Some(5));
    // Music again, from sample 320, marked as a new spell.
    let p = take(&mut s, t0 + 60 * MS).unwrap();
    assert!(p.marker);
    assert_eq!((p.seq, p.ts, p.payload[0]), (3, 480, (320 % 256) as u8));
}

#[test]
fn music_started_or_stopped_during_a_prompt_waits_behind_it() {
    let t0 = Instant::now();
    let music = counting(1000);
    let mut s = MusicStream::with_identity(3, 0, 0);
    s.play(t0, counting(1000), 0, 9, None);
    s.start(t0, music.clone(), 8, None);
    assert_eq!(s.prompt(), Some(9), "the prompt plays on");
    let p = take(&mut s, t0).unwrap();
    assert_eq!((p.pt, p.payload[5]), (0, 5));
    assert_eq!(s.stop_prompt(), Some(9));
    assert_eq!(s.stop_prompt(), None);
    let p = take(&mut s, t0 + 20 * MS).unwrap();
    assert_eq!((p.pt, p.seq), (8, 1), "the music started behind it");
    // Stopping the music behind a prompt: the prompt plays on, nothing follows it.
    s.play(t0 + 30 * MS, counting(100), 0, 10, None);
    s.stop();
    assert_eq!(s.prompt(), Some(10));
    take(&mut s, t0 + 40 * MS).unwrap();
    assert_eq!(s.take_finished(), Some(10));
    assert!(!s.is_playing());
}

#[test]
fn a_prompt_replacing_a_prompt_returns_the_first_tag() {
    let t0 = Instant::now();
    let mut s = MusicStream::with_identity(3, 0, 0);
    s.play(t0, counting(1000), 0, 1, None);
    take(&mut s, t0).unwrap();
    assert_eq!(s.play(t0 + 5 * MS, counting(1000), 0, 2, None), Some(1));
    let p = take(&mut s, t0 + 20 * MS).unwrap();
    assert_eq!((p.seq, p.payload[0]), (1, 0), "the second from its top");
    assert_eq!(s.stop_prompt(), Some(2));
    assert_eq!(s.take_finished(), None, "cut short, not finished");
    // The mix does not start over a prompt; after it, it may.
    s.play(t0 + 30 * MS, counting(1000), 0, 3, None);
    s.start_mix(t0 + 30 * MS, 0, None);
    assert_eq!(s.prompt(), Some(3));
}

#[test]
fn a_very_late_thread_ends_a_prompt_that_ran_out() {
    let t0 = Instant::now();
    let mut s = MusicStream::with_identity(3, 0, 0);
    s.play(t0, counting(480), 0, 4, None);
    take(&mut s, t0).unwrap();
    let p = take(&mut s, t0 + 1000 * MS).unwrap();
    assert!(p.payload.iter().all(|&c| c == 0xff));
    assert_eq!(s.take_finished(), Some(4));
}
