//! Extra legs on loopback sockets: paged phones hear the pager, a monitoring supervisor
//! hears both parties mixed, an intruding one is heard by both; errors leave nothing
//! allocated.

mod common;

use common::*;
use media_engine::{Leg, MediaEngine, MediaError, Role};
use std::net::SocketAddr;
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// A steady level as 160 G.711 bytes (µ-law for PT 0, A-law for PT 8).
fn frame(level: i16, pt: u8) -> Vec<u8> {
    // The crate's codec is private; these four levels are all the tests use, encoded by
    // Python's audioop (G.711 as sox does it; the crate's unit tests compare with sox).
    let code = match (level, pt) {
        (0, 0) => 0xff,
        (0, _) => 0xd5,
        (1000, 0) => 0xce,
        (1000, _) => 0xfa,
        (2000, 0) => 0xbf,
        (2000, _) => 0xea,
        (4000, 0) => 0xaf,
        (4000, _) => 0x9a,
        _ => panic!("no code for {level} as PT {pt}"),
    };
    vec![code; 160]
}

/// Decodes µ-law (the codec the tests' extra legs receive).
fn ulaw(code: u8) -> i32 {
    let code = !code;
    let segment = (code >> 4) & 7;
    let magnitude = ((((i32::from(code & 0x0f)) << 3) + 0x84) << segment) - 0x84;
    if code & 0x80 != 0 {
        -magnitude
    } else {
        magnitude
    }
}

/// Sends `count` RTP packets of `level` every 20 ms from `phone` to `port`.
fn talk(phone: &Phone, port: u16, level: i16, pt: u8, count: u16) -> JoinHandle<()> {
    let socket = phone.socket.try_clone().expect("socket clone");
    let payload = frame(level, pt);
    let ssrc = 0x1000 + u32::from(port);
    thread::spawn(move || {
        for seq in 0..count {
            let mut p = rtp(seq, ssrc, &payload);
            p[1] = pt;
            socket.send_to(&p, local(port)).expect("send");
            thread::sleep(Duration::from_millis(20));
        }
    })
}

/// Reads packets until one decodes (as µ-law) to a level within 15 % of `level`, for at
/// most 40 packets; returns it with its source address.
fn hear(phone: &Phone, level: i32) -> (Vec<u8>, SocketAddr) {
    let mut seen = Vec::new();
    for _ in 0..40 {
        let (p, from) = phone.recv();
        let got = ulaw(p[12]);
        if (got - level).abs() <= level * 15 / 100 {
            return (p, from);
        }
        seen.push(got);
    }
    panic!("never heard {level}: {seen:?}");
}

#[test]
fn paged_phones_hear_the_pager_from_their_own_ports() {
    let engine = engine(29000, 6);
    let (pager, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &pager, &b);
    let phones: Vec<Phone> = (0..3).map(|_| Phone::new()).collect();
    let mut legs = Vec::new();
    for phone in &phones {
        let (leg, info) = engine
            .add_leg(session.id, Role::Listener(Leg::A), 0)
            .expect("a listener");
        engine
            .set_remote(session.id, leg, phone.addr(), None)
            .unwrap();
        legs.push((leg, info));
    }
    let talking = talk(&pager, session.leg_a.rtp_port, 1000, 0, 25);
    for (phone, (_, info)) in phones.iter().zip(&legs) {
        let (packet, from) = hear(phone, 1000);
        assert_eq!(from, local(info.rtp_port), "from the leg's own port");
        assert_eq!(packet[1] & 0x7f, 0);
    }
    // What a paged phone sends reaches nobody.
    phones[0].send(&rtp(1, 7, &frame(4000, 0)), legs[0].1.rtp_port);
    talking.join().unwrap();
    let stats = engine.leg_stats(session.id, legs[0].0).unwrap();
    assert!(stats.mixed_packets >= 10, "{stats:?}");
    assert!(stats.rtp.packets_in >= 1);
    for (leg, _) in legs {
        engine.remove_leg(session.id, leg).expect("removed");
    }
    assert!(matches!(
        engine.leg_stats(session.id, Leg::Extra(0)),
        Err(MediaError::InvalidLeg { .. })
    ));
    destroy_all(&engine, [session.id]);
}

#[test]
fn a_monitor_hears_both_parties_who_still_hear_each_other_directly() {
    let engine = engine(29100, 4);
    let (a, b, supervisor) = (Phone::new(), Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    let (leg, info) = engine.add_leg(session.id, Role::Monitor, 0).unwrap();
    engine
        .set_remote(session.id, leg, supervisor.addr(), None)
        .unwrap();
    let ta = talk(&a, session.leg_a.rtp_port, 1000, 0, 30);
    let tb = talk(&b, session.leg_b.rtp_port, 2000, 8, 30);
    hear(&supervisor, 3000);
    // B gets A's own packets, untouched.
    let (packet, _) = b.recv();
    assert_eq!(
        &packet[8..12],
        &(0x1000u32 + u32::from(session.leg_a.rtp_port)).to_be_bytes()
    );
    // The supervisor's voice goes nowhere.
    supervisor.send(&rtp(1, 9, &frame(4000, 0)), info.rtp_port);
    ta.join().unwrap();
    tb.join().unwrap();
    engine.remove_leg(session.id, leg).unwrap();
    destroy_all(&engine, [session.id]);
}

#[test]
fn an_intruder_is_heard_by_both_and_leaving_restores_the_direct_path() {
    let engine = engine(29200, 4);
    let (a, b, supervisor) = (Phone::new(), Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    let (leg, info) = engine.add_leg(session.id, Role::Monitor, 0).unwrap();
    engine
        .set_remote(session.id, leg, supervisor.addr(), None)
        .unwrap();
    engine.set_role(session.id, leg, Role::Intruder).unwrap();
    let ta = talk(&a, session.leg_a.rtp_port, 1000, 0, 40);
    let tb = talk(&b, session.leg_b.rtp_port, 2000, 0, 40);
    let ts = talk(&supervisor, info.rtp_port, 4000, 0, 40);
    // A hears B and the intruder; B hears A and the intruder; the intruder both.
    let (heard_by_a, from) = hear(&a, 6000);
    assert_eq!(from, local(session.leg_a.rtp_port));
    let b_ssrc = (0x1000u32 + u32::from(session.leg_b.rtp_port)).to_be_bytes();
    assert_ne!(&heard_by_a[8..12], &b_ssrc, "a mix, not B's stream");
    hear(&b, 5000);
    hear(&supervisor, 3000);
    // Back to monitoring: A gets B's own packets again.
    engine.set_role(session.id, leg, Role::Monitor).unwrap();
    let mut direct = false;
    for _ in 0..40 {
        let (p, _) = a.recv();
        if p[8..12] == b_ssrc {
            direct = true;
            break;
        }
    }
    assert!(direct, "B's stream reaches A directly again");
    for t in [ta, tb, ts] {
        t.join().unwrap();
    }
    let stats = engine.stats(session.id).unwrap();
    assert!(stats.leg_a.mixed_packets > 0 && stats.leg_b.mixed_packets > 0);
    destroy_all(&engine, [session.id]);
}

#[test]
fn bad_extra_legs_are_refused_and_leave_no_port_behind() {
    let engine: MediaEngine = engine(29300, 3);
    let session = engine.create_session().unwrap();
    assert!(matches!(
        engine.add_leg(session.id, Role::Monitor, 9),
        Err(MediaError::UnsupportedPayloadType(9))
    ));
    assert!(matches!(
        engine.add_leg(session.id, Role::Listener(Leg::Extra(0)), 0),
        Err(MediaError::InvalidLeg { .. })
    ));
    assert!(matches!(
        engine.remove_leg(session.id, Leg::A),
        Err(MediaError::InvalidLeg { .. })
    ));
    assert!(matches!(
        engine.set_role(session.id, Leg::B, Role::Intruder),
        Err(MediaError::InvalidLeg { .. })
    ));
    let (leg, _) = engine.add_leg(session.id, Role::Monitor, 8).unwrap();
    assert!(matches!(
        engine.add_leg(session.id, Role::Monitor, 0),
        Err(MediaError::PoolExhausted { .. })
    ));
    assert_eq!(engine.pool_available(), 0);
    engine.remove_leg(session.id, leg).unwrap();
    assert!(matches!(
        engine.remove_leg(session.id, leg),
        Err(MediaError::InvalidLeg { .. })
    ));
    // Destroying a session with an extra leg gives every port back.
    engine.add_leg(session.id, Role::Intruder, 0).unwrap();
    destroy_all(&engine, [session.id]);
}
