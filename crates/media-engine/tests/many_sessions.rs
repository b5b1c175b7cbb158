//! Two hundred sessions at once on one relay thread, each relaying its own packets.

mod common;

use std::collections::HashMap;

use common::*;
use media_engine::Leg;

#[test]
fn two_hundred_sessions_at_once() {
    let engine = engine(28000, 400);
    // One socket stands for all the A phones and one for all the B phones, so that the
    // test needs 802 descriptors, not 1,600.
    let (a, b) = (Phone::new(), Phone::new());
    let sessions: Vec<_> = (0..200).map(|_| engine.create_session().unwrap()).collect();
    assert_eq!(engine.pool_available(), 0);
    for s in &sessions {
        engine.set_remote(s.id, Leg::A, a.addr(), None).unwrap();
        engine.set_remote(s.id, Leg::B, b.addr(), None).unwrap();
    }
    // Which session a packet came through, by the leg port it came from.
    let by_b_port: HashMap<_, _> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.leg_b.rtp_port, i))
        .collect();
    let by_a_port: HashMap<_, _> = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| (s.leg_a.rtp_port, i))
        .collect();

    // In bursts of 50, so the receiving socket's default buffer never overflows.
    for burst in sessions.chunks(50).enumerate() {
        let (n, chunk) = burst;
        for (k, s) in chunk.iter().enumerate() {
            let i = n * 50 + k;
            a.send(&rtp(i as u16, i as u32, &[i as u8; 160]), s.leg_a.rtp_port);
        }
        for _ in chunk {
            let (packet, from) = b.recv();
            let i = by_b_port[&from.port()];
            assert_eq!(
                packet,
                rtp(i as u16, i as u32, &[i as u8; 160]),
                "session {i}"
            );
        }
        for (k, s) in chunk.iter().enumerate() {
            let i = n * 50 + k;
            b.send(
                &rtp(i as u16, !(i as u32), &[!(i as u8); 160]),
                s.leg_b.rtp_port,
            );
        }
        for _ in chunk {
            let (packet, from) = a.recv();
            let i = by_a_port[&from.port()];
            assert_eq!(
                packet,
                rtp(i as u16, !(i as u32), &[!(i as u8); 160]),
                "session {i}"
            );
        }
    }
    for s in &sessions {
        let stats = engine.stats(s.id).unwrap();
        assert_eq!(
            (stats.leg_a.rtp.packets_in, stats.leg_a.rtp.packets_out),
            (1, 1)
        );
        assert_eq!(
            (stats.leg_b.rtp.packets_in, stats.leg_b.rtp.packets_out),
            (1, 1)
        );
    }
    destroy_all(&engine, sessions.iter().map(|s| s.id));
}
