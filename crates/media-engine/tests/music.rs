//! Music on hold on loopback sockets: the held phone receives the relay's own RTP stream,
//! paced at 20 ms, from the port it already talks to, instead of the other party's audio;
//! stopping the music relays the other party again.

mod common;

use common::*;
use media_engine::{Leg, MediaError, Music};
use std::net::UdpSocket;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An 8 kHz µ-law WAV whose bytes count 0, 1, 2, … up to `len`, so payloads show where
/// the piece is.
fn counting_music(len: usize) -> Arc<Music> {
    let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&7u16.to_le_bytes()); // µ-law
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&8000u32.to_le_bytes());
    fmt.extend_from_slice(&8000u32.to_le_bytes());
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&8u16.to_le_bytes());
    let mut file = b"RIFF".to_vec();
    file.extend_from_slice(&(4 + 8 + 16 + 8 + data.len() as u32).to_le_bytes());
    file.extend_from_slice(b"WAVE");
    file.extend_from_slice(b"fmt ");
    file.extend_from_slice(&16u32.to_le_bytes());
    file.extend_from_slice(&fmt);
    file.extend_from_slice(b"data");
    file.extend_from_slice(&(data.len() as u32).to_le_bytes());
    file.extend_from_slice(&data);
    Arc::new(Music::from_wav("counting", &file).expect("a valid WAV"))
}

#[derive(Debug)]
struct Rtp {
    marker: bool,
    pt: u8,
    seq: u16,
    ts: u32,
    ssrc: u32,
    payload: Vec<u8>,
    at: Instant,
}

fn parse(bytes: &[u8], at: Instant) -> Rtp {
    assert!(
        bytes.len() >= 12 && bytes[0] >> 6 == 2,
        "not RTP: {bytes:?}"
    );
    Rtp {
        marker: bytes[1] & 0x80 != 0,
        pt: bytes[1] & 0x7f,
        seq: u16::from_be_bytes([bytes[2], bytes[3]]),
        ts: u32::from_be_bytes(bytes[4..8].try_into().unwrap()),
        ssrc: u32::from_be_bytes(bytes[8..12].try_into().unwrap()),
        payload: bytes[12..].to_vec(),
        at,
    }
}

/// The next `n` RTP packets a phone receives, with their arrival times; each must come
/// from `relay_port`.
fn receive(phone: &Phone, n: usize, relay_port: u16) -> Vec<Rtp> {
    (0..n)
        .map(|_| {
            let (bytes, from) = phone.recv();
            let at = Instant::now();
            assert_eq!(
                from,
                local(relay_port),
                "music comes from the leg's own port"
            );
            parse(&bytes, at)
        })
        .collect()
}

/// Reads whatever is queued, without waiting.
fn drain(socket: &UdpSocket) -> Vec<Vec<u8>> {
    socket.set_nonblocking(true).unwrap();
    let mut out = Vec::new();
    let mut buf = [0; 2048];
    for _ in 0..10_000 {
        match socket.recv_from(&mut buf) {
            Ok((len, _)) => out.push(buf[..len].to_vec()),
            Err(_) => break,
        }
    }
    socket.set_nonblocking(false).unwrap();
    out
}

#[test]
fn music_is_paced_at_20_ms_with_its_own_counting_stream_and_loops() {
    let engine = engine(23400, 4);
    let (a, b) = (Phone::new(), Phone::new());
    let s = connect(&engine, &a, &b);
    let music = counting_music(1000);
    engine
        .start_music(s.id, Leg::B, music.clone(), 0)
        .expect("music starts");
    let packets = receive(&b, 51, s.leg_b.rtp_port);

    let first = &packets[0];
    assert!(
        first.marker,
        "the first packet marks the start of the music"
    );
    assert_eq!(first.pt, 0);
    for (i, pair) in packets.windows(2).enumerate() {
        let (p, q) = (&pair[0], &pair[1]);
        assert!(!q.marker, "only the first packet is marked ({i})");
        assert_eq!(q.ssrc, first.ssrc);
        assert_eq!(q.seq, p.seq.wrapping_add(1), "sequence numbers count up");
        assert_eq!(q.ts, p.ts.wrapping_add(160), "timestamps step by 160");
        assert_eq!(q.payload.len(), 160);
    }
    // The piece loops: packet k starts at sample 160·k mod 1000.
    for (k, p) in packets.iter().enumerate() {
        assert_eq!(p.payload[0], ((160 * k) % 1000) as u8, "packet {k}");
        assert_eq!(p.payload[159], ((160 * k + 159) % 1000) as u8, "packet {k}");
    }
    // Pacing: 50 intervals of 20 ms. The loop wakes on a millisecond timer on a shared
    // machine, so single gaps vary; the grid must not drift.
    let span = packets[50].at - packets[0].at;
    assert!(
        span >= Duration::from_millis(960) && span <= Duration::from_millis(1080),
        "50 packets took {span:?}, not ~1 s"
    );
    let gaps: Vec<_> = packets.windows(2).map(|w| w[1].at - w[0].at).collect();
    eprintln!(
        "50 music intervals took {span:?}; gaps {:?}..{:?}",
        gaps.iter().min().unwrap(),
        gaps.iter().max().unwrap()
    );
    let too_long = gaps
        .iter()
        .filter(|g| **g > Duration::from_millis(60))
        .count();
    assert!(too_long <= 1, "gaps: {gaps:?}");

    let stats = engine.stats(s.id).unwrap();
    assert!(stats.leg_b.music_playing && !stats.leg_a.music_playing);
    assert!(stats.leg_b.music_packets >= 51, "{stats:?}");
    assert_eq!(
        stats.leg_b.rtp.packets_out, 0,
        "music is not counted as relayed"
    );
    destroy_all(&engine, [s.id]);
}

#[test]
fn music_replaces_the_other_party_and_stopping_relays_it_again() {
    let engine = engine(23500, 4);
    let (a, b) = (Phone::new(), Phone::new());
    let s = connect(&engine, &a, &b);
    let music = counting_music(8000);
    // B hears A before the hold; the music continues the numbers of A's stream (baresip
    // 1.0 drops packets whose timestamp jumps backwards, whatever their SSRC).
    a.send(&rtp(700, 0xa, b"hello B"), s.leg_a.rtp_port);
    assert_eq!(b.recv().0, rtp(700, 0xa, b"hello B"));
    let before_hold = Instant::now();
    std::thread::sleep(Duration::from_millis(100));
    engine.start_music(s.id, Leg::B, music.clone(), 8).unwrap();
    let held = receive(&b, 3, s.leg_b.rtp_port);
    assert!(held.iter().all(|p| p.pt == 8));
    assert!(held[0].ssrc != 0xa, "the music has an SSRC of its own");
    assert_eq!(held[0].seq, 701, "the sequence continues A's");
    let jump = held[0].ts.wrapping_sub(700 * 160);
    let most = (held[0].at - before_hold + Duration::from_millis(25)).as_millis() as u32 * 8;
    assert!(
        (100 * 8..=most).contains(&jump),
        "the timestamp moved {jump} from A's: expected the time that passed"
    );
    let music_ssrc = held[0].ssrc;

    // A talks while B is held: B hears only music; B's own audio still reaches A.
    for seq in 0..5 {
        a.send(&rtp(seq, 0xa, b"from A"), s.leg_a.rtp_port);
        b.send(&rtp(seq, 0xb, b"from B"), s.leg_b.rtp_port);
    }
    wait_stats(&engine, s.id, |st| {
        st.leg_a.rtp.packets_in == 6 && st.leg_b.rtp.packets_in == 5
    });
    let stats = engine.stats(s.id).unwrap();
    assert_eq!(
        stats.leg_a.rtp.packets_dropped, 5,
        "A's audio is not relayed to B"
    );
    assert_eq!(stats.leg_a.rtp.packets_out, 5, "B's audio reaches A");
    let during: Vec<_> = drain(&b.socket)
        .iter()
        .map(|d| parse(d, Instant::now()))
        .collect();
    assert!(
        during.iter().all(|p| p.ssrc == music_ssrc),
        "B received something else than music: {during:?}"
    );
    assert_eq!(drain(&a.socket).len(), 5);

    // Resume: the music stops (the reply comes after the relay thread took the command,
    // so nothing more is on its way) and A's audio reaches B again.
    engine.stop_music(s.id, Leg::B).unwrap();
    let last = drain(&b.socket)
        .iter()
        .map(|d| parse(d, Instant::now()))
        .chain(during)
        .chain(held)
        .max_by_key(|p| p.seq.wrapping_sub(701))
        .unwrap();
    assert!(!engine.stats(s.id).unwrap().leg_b.music_playing);
    std::thread::sleep(Duration::from_millis(60));
    assert!(drain(&b.socket).is_empty(), "no music after the stop");

    // Hold again at once: the music goes on where it stopped, marked.
    engine.start_music(s.id, Leg::B, music.clone(), 8).unwrap();
    let again = receive(&b, 1, s.leg_b.rtp_port).remove(0);
    assert!(again.marker);
    assert_eq!(
        (again.ssrc, again.seq),
        (music_ssrc, last.seq.wrapping_add(1))
    );
    let jump = again.ts.wrapping_sub(last.ts);
    let most = (again.at - last.at + Duration::from_millis(25)).as_millis() as u32 * 8;
    assert!(
        (60 * 8..=most).contains(&jump),
        "the timestamp moved {jump}: expected the time that passed, at least 60 ms"
    );
    engine.stop_music(s.id, Leg::B).unwrap();
    drain(&b.socket);

    // A speaks, then B is held again: this time the music follows A's newer packet.
    a.send(&rtp(1000, 0xa, b"from A again"), s.leg_a.rtp_port);
    let (bytes, _) = b.recv();
    assert_eq!(bytes, rtp(1000, 0xa, b"from A again"));
    std::thread::sleep(Duration::from_millis(40));
    engine.start_music(s.id, Leg::B, music, 8).unwrap();
    let third = receive(&b, 1, s.leg_b.rtp_port).remove(0);
    assert_eq!((third.ssrc, third.seq), (music_ssrc, 1001));
    assert!(third.ts.wrapping_sub(1000 * 160) >= 40 * 8);
    destroy_all(&engine, [s.id]);
}

#[test]
fn music_goes_to_the_latched_address_and_only_pcmu_or_pcma() {
    let engine = engine(23600, 4);
    let session = engine.create_session().unwrap();
    // The SDP names an address nobody listens on (a phone behind NAT); its packets come
    // from elsewhere, and the relay latches onto that.
    let sdp_only = UdpSocket::bind(local(0)).unwrap();
    let sdp_addr = sdp_only.local_addr().unwrap();
    drop(sdp_only);
    let phone = Phone::new();
    engine
        .set_remote(session.id, Leg::A, sdp_addr, None)
        .unwrap();
    phone.send(&rtp(1, 0x1, b"hello"), session.leg_a.rtp_port);
    wait_stats(&engine, session.id, |s| s.leg_a.rtp_latched);
    assert!(matches!(
        engine.start_music(session.id, Leg::A, counting_music(320), 9),
        Err(MediaError::UnsupportedPayloadType(9))
    ));
    engine
        .start_music(session.id, Leg::A, counting_music(320), 0)
        .unwrap();
    let p = receive(&phone, 2, session.leg_a.rtp_port);
    assert_eq!(p[1].payload[0], 160);
    // Destroying a session that plays music stops it and gives the ports back.
    destroy_all(&engine, [session.id]);
    std::thread::sleep(Duration::from_millis(60));
    drain(&phone.socket);
    std::thread::sleep(Duration::from_millis(60));
    assert!(drain(&phone.socket).is_empty());
    assert!(matches!(
        engine.stop_music(session.id, Leg::A),
        Err(MediaError::UnknownSession(_))
    ));
}

#[test]
fn many_held_calls_share_one_thread_and_one_piece() {
    let engine = engine(23700, 20);
    let music = counting_music(8000);
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let (a, b) = (Phone::new(), Phone::new());
            let s = connect(&engine, &a, &b);
            engine.start_music(s.id, Leg::A, music.clone(), 0).unwrap();
            (s, a, b)
        })
        .collect();
    for (s, a, _) in &calls {
        let p = receive(a, 10, s.leg_a.rtp_port);
        assert!(p.windows(2).all(|w| w[1].seq == w[0].seq.wrapping_add(1)));
    }
    destroy_all(&engine, calls.iter().map(|c| c.0.id));
}
