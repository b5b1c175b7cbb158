//! Any bytes on any media port: nothing crashes, nothing is relayed that is not RTP/RTCP,
//! and every such datagram is counted as dropped.

mod common;

use common::*;

/// Deterministic pseudo-random bytes (xorshift), no dev-dependency.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn datagram(&mut self, max: usize) -> Vec<u8> {
        let len = (self.next() % max as u64) as usize;
        (0..len).map(|_| self.next() as u8).collect()
    }
}

#[test]
fn garbage_is_dropped_counted_and_harmless() {
    let engine = engine(26000, 4);
    let (a, b, vandal) = (Phone::new(), Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);

    // Not RTP or RTCP by construction: empty, too short, or a version other than 2.
    let mut noise = Noise(0x2545_f491_4f6c_dd1d);
    let mut junk: Vec<Vec<u8>> = vec![vec![], vec![0x80], vec![0x80; 7], vec![0x80; 11]];
    for _ in 0..400 {
        let mut d = noise.datagram(1500);
        if let Some(first) = d.first_mut() {
            let version = [0u8, 1, 3][(noise.next() % 3) as usize];
            *first = (*first & 0x3f) | (version << 6);
        }
        junk.push(d);
    }
    let ports = [
        session.leg_a.rtp_port,
        session.leg_a.rtcp_port,
        session.leg_b.rtp_port,
        session.leg_b.rtcp_port,
    ];
    for (i, d) in junk.iter().enumerate() {
        vandal.send(d, ports[i % 4]);
    }
    let per_port = (junk.len() / 4) as u64;
    let stats = wait_stats(&engine, session.id, |s| {
        s.leg_a.rtp.packets_in
            + s.leg_a.rtcp.packets_in
            + s.leg_b.rtp.packets_in
            + s.leg_b.rtcp.packets_in
            == junk.len() as u64
    });
    for counters in [
        stats.leg_a.rtp,
        stats.leg_a.rtcp,
        stats.leg_b.rtp,
        stats.leg_b.rtcp,
    ] {
        assert_eq!(counters.packets_in, per_port);
        assert_eq!(counters.packets_dropped, per_port);
        assert_eq!(counters.packets_out, 0);
    }
    assert!(!stats.leg_a.rtp_latched, "garbage must not latch");
    a.assert_nothing();
    b.assert_nothing();

    // The relay still works, and latches to the real phone, not the vandal.
    a.send(&rtp(1, 0xa, b"fine"), session.leg_a.rtp_port);
    assert_eq!(b.recv().0, rtp(1, 0xa, b"fine"));

    // Now any bytes at all, some of which look like RTP, from both phones: no crash. In
    // batches, so that no socket buffer overflows on a loaded machine (a datagram the
    // kernel drops never reaches the counters).
    let before = junk.len() as u64 + 1;
    let counted = |s: &media_engine::SessionStats| {
        s.leg_a.rtp.packets_in
            + s.leg_a.rtcp.packets_in
            + s.leg_b.rtp.packets_in
            + s.leg_b.rtcp.packets_in
    };
    for i in 0..2000u64 {
        if i % 100 == 0 {
            wait_stats(&engine, session.id, |s| counted(s) == before + i);
        }
        let d = noise.datagram(300);
        let phone = if i % 2 == 0 { &a } else { &b };
        let port = ports[(noise.next() % 4) as usize];
        phone.send(&d, port);
    }
    wait_stats(&engine, session.id, |s| counted(s) == before + 2000);
    destroy_all(&engine, [session.id]);
}

#[test]
fn rtp_shaped_garbage_does_not_upset_keys_prompts_or_recordings() {
    use media_engine::{Leg, RecordOptions, RecordSource};
    let (engine, events) = engine_with_events(26100, 2);
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    for leg in [Leg::A, Leg::B] {
        engine
            .set_dtmf_payload_type(session.id, leg, Some(101))
            .unwrap();
    }
    let options = RecordOptions {
        silence_after: Some(std::time::Duration::from_millis(20)),
        queue_frames: 10_000,
        ..RecordOptions::default()
    };
    let leg = engine
        .start_recording(session.id, RecordSource::Leg(Leg::A), options)
        .unwrap();
    let mixed = engine
        .start_recording(session.id, RecordSource::Mixed, options)
        .unwrap();
    let prompt = std::sync::Arc::new(media_engine::Music::ringback_tone());
    engine.play(session.id, Leg::B, prompt, 8, 1).unwrap();

    // Version 2 and a whole header, so it is relayed and looked into: random flags (CSRC
    // counts, extensions, padding that lies), payload types mostly 0, 8 and 101.
    let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
    let count = 3000;
    for i in 0..count {
        // In batches, so that no socket buffer overflows.
        if i % 100 == 0 {
            wait_stats(&engine, session.id, |s| {
                s.leg_a.rtp.packets_in + s.leg_b.rtp.packets_in == i
            });
        }
        let mut d = noise.datagram(400);
        d.resize(d.len().max(12), 0);
        d[0] = 0x80 | (d[0] & 0x3f);
        d[1] = (d[1] & 0x80) | [0, 8, 101, 101, 13, 96][(noise.next() % 6) as usize];
        let (phone, port) = if i % 2 == 0 {
            (&a, session.leg_a.rtp_port)
        } else {
            (&b, session.leg_b.rtp_port)
        };
        phone.send(&d, port);
    }
    wait_stats(&engine, session.id, |s| {
        s.leg_a.rtp.packets_in + s.leg_b.rtp.packets_in == count
    });
    // Still answering, and the recordings account for what they got.
    let leg_stats = engine.stop_recording(session.id, leg.id).unwrap();
    let mixed_stats = engine.stop_recording(session.id, mixed.id).unwrap();
    assert!(leg_stats.frames_delivered > 0 && mixed_stats.frames_delivered > 0);
    assert_eq!(leg_stats.frames_dropped, 0);
    assert!(leg_stats.packets_ignored > 0);
    assert!(
        engine.stop_play(session.id, Leg::B).unwrap(),
        "still playing"
    );
    destroy_all(&engine, [session.id]);
    let keys = events
        .try_iter()
        .filter(|e| matches!(e, media_engine::MediaEvent::Digit { .. }))
        .count();
    assert!(
        keys > 0,
        "some garbage reads as key presses, and that is fine"
    );
}
