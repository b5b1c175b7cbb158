//! RTP and RTCP relayed both ways, byte for byte, out of the other leg's ports.

mod common;

use common::*;
use media_engine::{Leg, MediaError, SessionId};

#[test]
fn rtp_is_relayed_both_ways_byte_for_byte() {
    let engine = engine(21000, 4);
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);

    let mut bytes = 0;
    for seq in 0..20u16 {
        // Payloads of varying size and content, up to a jumbo 1400 bytes.
        let payload: Vec<u8> = (0..(seq as usize * 70))
            .map(|i| (i * 7 + seq as usize) as u8)
            .collect();
        let packet = rtp(seq, 0xa, &payload);
        bytes += packet.len() as u64;
        a.send(&packet, session.leg_a.rtp_port);
        let (got, from) = b.recv();
        assert_eq!(got, packet, "A to B, packet {seq}");
        assert_eq!(
            from,
            local(session.leg_b.rtp_port),
            "sent from leg B's RTP port"
        );

        let reply = rtp(seq, 0xb, &payload);
        b.send(&reply, session.leg_b.rtp_port);
        let (got, from) = a.recv();
        assert_eq!(got, reply, "B to A, packet {seq}");
        assert_eq!(
            from,
            local(session.leg_a.rtp_port),
            "sent from leg A's RTP port"
        );
    }

    let stats = engine.stats(session.id).unwrap();
    for leg in [&stats.leg_a, &stats.leg_b] {
        assert_eq!(leg.rtp.packets_in, 20);
        assert_eq!(leg.rtp.packets_out, 20);
        assert_eq!(leg.rtp.bytes_in, bytes);
        assert_eq!(leg.rtp.bytes_out, bytes);
        assert_eq!(leg.rtp.packets_dropped, 0);
    }
    let last = engine.destroy_session(session.id).unwrap();
    assert_eq!(
        last.leg_a.rtp, stats.leg_a.rtp,
        "final stats come with destroy"
    );
    assert_eq!(engine.pool_available(), engine.pool_capacity());
}

#[test]
fn rtcp_is_relayed_both_ways_to_rtp_port_plus_one_by_default() {
    let engine = engine(21100, 4);
    let session = engine.create_session().unwrap();
    // Phones on fixed consecutive ports so that RTP + 1 is theirs (no a=rtcp in the SDP).
    let (a_rtp, a_rtcp) = (Phone::at(21150), Phone::at(21151));
    let (b_rtp, b_rtcp) = (Phone::at(21152), Phone::at(21153));
    engine
        .set_remote(session.id, Leg::A, a_rtp.addr(), None)
        .unwrap();
    engine
        .set_remote(session.id, Leg::B, b_rtp.addr(), None)
        .unwrap();

    let report = rtcp_rr(0xa, &[(0xb, 0, 0, 10, 3)]);
    a_rtcp.send(&report, session.leg_a.rtcp_port);
    let (got, from) = b_rtcp.recv();
    assert_eq!(got, report);
    assert_eq!(from, local(session.leg_b.rtcp_port));

    let report = rtcp_sr(0xb, &[]);
    b_rtcp.send(&report, session.leg_b.rtcp_port);
    let (got, from) = a_rtcp.recv();
    assert_eq!(got, report);
    assert_eq!(from, local(session.leg_a.rtcp_port));

    let stats = engine.stats(session.id).unwrap();
    assert_eq!(stats.leg_a.rtcp.packets_in, 1);
    assert_eq!(stats.leg_a.rtcp.packets_out, 1);
    assert_eq!(stats.leg_a.rtp.packets_in, 0);
    destroy_all(&engine, [session.id]);
}

#[test]
fn explicit_rtcp_address_from_a_rtcp() {
    let engine = engine(21200, 4);
    let session = engine.create_session().unwrap();
    let (a, a_rtcp, b, b_rtcp) = (Phone::new(), Phone::new(), Phone::new(), Phone::new());
    engine
        .set_remote(session.id, Leg::A, a.addr(), Some(a_rtcp.addr()))
        .unwrap();
    engine
        .set_remote(session.id, Leg::B, b.addr(), Some(b_rtcp.addr()))
        .unwrap();
    let report = rtcp_rr(0xb, &[]);
    b_rtcp.send(&report, session.leg_b.rtcp_port);
    assert_eq!(a_rtcp.recv().0, report);
    destroy_all(&engine, [session.id]);
}

#[test]
fn sessions_spread_over_two_relay_threads() {
    let engine = engine_with_threads(21300, 16, 2);
    let (a, b) = (Phone::new(), Phone::new());
    let sessions: Vec<_> = (0..6).map(|_| engine.create_session().unwrap()).collect();
    for (i, s) in sessions.iter().enumerate() {
        engine.set_remote(s.id, Leg::A, a.addr(), None).unwrap();
        engine.set_remote(s.id, Leg::B, b.addr(), None).unwrap();
        let packet = rtp(i as u16, i as u32, b"hello");
        a.send(&packet, s.leg_a.rtp_port);
        assert_eq!(b.recv(), (packet.clone(), local(s.leg_b.rtp_port)));
        b.send(&packet, s.leg_b.rtp_port);
        assert_eq!(a.recv(), (packet, local(s.leg_a.rtp_port)));
    }
    destroy_all(&engine, sessions.iter().map(|s| s.id));
}

#[test]
fn unknown_sessions_are_errors() {
    let engine = engine(21400, 2);
    let ghost = SessionId(999);
    let unknown =
        |r: Result<(), MediaError>| matches!(r, Err(MediaError::UnknownSession(id)) if id == ghost);
    assert!(unknown(engine.set_remote(ghost, Leg::A, local(9), None)));
    assert!(unknown(engine.set_direction(
        ghost,
        Leg::A,
        Default::default()
    )));
    assert!(unknown(engine.stats(ghost).map(drop)));
    assert!(unknown(engine.destroy_session(ghost).map(drop)));
    let session = engine.create_session().unwrap();
    engine.destroy_session(session.id).unwrap();
    assert!(matches!(
        engine.destroy_session(session.id),
        Err(MediaError::UnknownSession(_))
    ));
    assert_eq!(engine.pool_available(), engine.pool_capacity());
}

#[test]
fn sessions_relay_before_any_sdp_once_both_sides_have_spoken() {
    // Late offer: no SDP yet on either side. A's first packet has nowhere to go (dropped),
    // but it latches A, so B's packets reach A, and B's latch lets A's next packet through.
    let engine = engine(21500, 4);
    let session = engine.create_session().unwrap();
    let (a, b) = (Phone::new(), Phone::new());
    a.send(&rtp(1, 0xa, b"early"), session.leg_a.rtp_port);
    wait_stats(&engine, session.id, |s| s.leg_a.rtp.packets_dropped == 1);
    b.send(&rtp(1, 0xb, b"hi"), session.leg_b.rtp_port);
    assert_eq!(a.recv().0, rtp(1, 0xb, b"hi"));
    a.send(&rtp(2, 0xa, b"now"), session.leg_a.rtp_port);
    assert_eq!(b.recv().0, rtp(2, 0xa, b"now"));
    destroy_all(&engine, [session.id]);
}
