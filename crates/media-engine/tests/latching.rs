//! Symmetric RTP: a leg's remote address is learnt from the first valid packets it sends.

mod common;

use std::net::SocketAddr;

use common::*;
use media_engine::Leg;

#[test]
fn latches_to_the_source_port_the_packets_really_come_from() {
    let engine = engine(22000, 4);
    let session = engine.create_session().unwrap();
    // A's SDP names one port (the private side of a NAT); its packets come from another.
    let (a_sdp, a_real, b) = (Phone::new(), Phone::new(), Phone::new());
    engine
        .set_remote(session.id, Leg::A, a_sdp.addr(), None)
        .unwrap();
    engine
        .set_remote(session.id, Leg::B, b.addr(), None)
        .unwrap();

    // Until A has sent anything, the SDP address is all there is.
    b.send(&rtp(1, 0xb, b"before"), session.leg_b.rtp_port);
    assert_eq!(a_sdp.recv().0, rtp(1, 0xb, b"before"));
    let stats = engine.stats(session.id).unwrap();
    assert!(!stats.leg_a.rtp_latched);
    assert_eq!(stats.leg_a.rtp_remote, Some(a_sdp.addr()));

    a_real.send(&rtp(1, 0xa, b"from the NAT"), session.leg_a.rtp_port);
    assert_eq!(b.recv().0, rtp(1, 0xa, b"from the NAT"));

    b.send(&rtp(2, 0xb, b"after"), session.leg_b.rtp_port);
    assert_eq!(a_real.recv().0, rtp(2, 0xb, b"after"));
    let stats = engine.stats(session.id).unwrap();
    assert!(stats.leg_a.rtp_latched);
    assert_eq!(stats.leg_a.rtp_remote, Some(a_real.addr()));
    a_sdp.assert_nothing();
    destroy_all(&engine, [session.id]);
}

#[test]
fn other_sources_are_dropped_once_latched() {
    let engine = engine(22100, 4);
    let (a, b, intruder) = (Phone::new(), Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    a.send(&rtp(1, 0xa, b"me"), session.leg_a.rtp_port);
    assert_eq!(b.recv().0, rtp(1, 0xa, b"me"));

    intruder.send(&rtp(1, 0xe, b"injected"), session.leg_a.rtp_port);
    let stats = wait_stats(&engine, session.id, |s| s.leg_a.rtp.packets_in == 2);
    assert_eq!(stats.leg_a.rtp.packets_dropped, 1);
    assert_eq!(stats.leg_a.rtp_remote, Some(a.addr()), "latch not stolen");
    b.assert_nothing();

    b.send(&rtp(2, 0xb, b"still to A"), session.leg_b.rtp_port);
    assert_eq!(a.recv().0, rtp(2, 0xb, b"still to A"));
    intruder.assert_nothing();
    destroy_all(&engine, [session.id]);
}

#[test]
fn a_changed_sdp_address_relatches_and_a_repeated_one_does_not() {
    let engine = engine(22200, 4);
    let (a_sdp, a_nat, b) = (Phone::new(), Phone::new(), Phone::new());
    let session = connect(&engine, &a_sdp, &b);
    a_nat.send(&rtp(1, 0xa, b"x"), session.leg_a.rtp_port);
    b.recv();

    // A re-INVITE with the same SDP (a session refresh) keeps the latch.
    engine
        .set_remote(session.id, Leg::A, a_sdp.addr(), None)
        .unwrap();
    b.send(&rtp(1, 0xb, b"kept"), session.leg_b.rtp_port);
    assert_eq!(a_nat.recv().0, rtp(1, 0xb, b"kept"));

    // A new address (the phone moved, or a transfer put another phone there): media goes
    // to the SDP address, and the new phone's first packet latches again.
    let (moved_sdp, moved_nat) = (Phone::new(), Phone::new());
    engine
        .set_remote(session.id, Leg::A, moved_sdp.addr(), None)
        .unwrap();
    b.send(&rtp(2, 0xb, b"to the new SDP"), session.leg_b.rtp_port);
    assert_eq!(moved_sdp.recv().0, rtp(2, 0xb, b"to the new SDP"));
    moved_nat.send(&rtp(1, 0xc, b"new phone"), session.leg_a.rtp_port);
    assert_eq!(b.recv().0, rtp(1, 0xc, b"new phone"));
    b.send(&rtp(3, 0xb, b"to the new phone"), session.leg_b.rtp_port);
    assert_eq!(moved_nat.recv().0, rtp(3, 0xb, b"to the new phone"));
    a_nat.assert_nothing();
    destroy_all(&engine, [session.id]);
}

#[test]
fn rtcp_latches_on_its_own() {
    let engine = engine(22300, 4);
    let session = engine.create_session().unwrap();
    let (a, a_rtcp_sdp, a_rtcp_nat, b, b_rtcp) = (
        Phone::new(),
        Phone::new(),
        Phone::new(),
        Phone::new(),
        Phone::new(),
    );
    engine
        .set_remote(session.id, Leg::A, a.addr(), Some(a_rtcp_sdp.addr()))
        .unwrap();
    engine
        .set_remote(session.id, Leg::B, b.addr(), Some(b_rtcp.addr()))
        .unwrap();
    a_rtcp_nat.send(&rtcp_rr(0xa, &[]), session.leg_a.rtcp_port);
    assert_eq!(b_rtcp.recv().0, rtcp_rr(0xa, &[]));
    b_rtcp.send(&rtcp_sr(0xb, &[]), session.leg_b.rtcp_port);
    assert_eq!(a_rtcp_nat.recv().0, rtcp_sr(0xb, &[]));
    a_rtcp_sdp.assert_nothing();
    destroy_all(&engine, [session.id]);
}

#[test]
fn hold_with_an_unspecified_address_stops_sending() {
    let engine = engine(22400, 4);
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    // RFC 2543-style hold: c=0.0.0.0 with the old port.
    let held: SocketAddr = format!("0.0.0.0:{}", a.addr().port()).parse().unwrap();
    engine.set_remote(session.id, Leg::A, held, None).unwrap();
    b.send(&rtp(1, 0xb, b"music"), session.leg_b.rtp_port);
    let stats = wait_stats(&engine, session.id, |s| s.leg_b.rtp.packets_in == 1);
    assert_eq!(stats.leg_b.rtp.packets_dropped, 1);
    assert_eq!(stats.leg_a.rtp_remote, None);
    a.assert_nothing();

    // A phone that keeps sending while it holds gets relayed, but still receives nothing.
    a.send(&rtp(1, 0xa, b"on hold"), session.leg_a.rtp_port);
    assert_eq!(b.recv().0, rtp(1, 0xa, b"on hold"));
    b.send(&rtp(2, 0xb, b"music"), session.leg_b.rtp_port);
    wait_stats(&engine, session.id, |s| s.leg_b.rtp.packets_dropped == 2);
    a.assert_nothing();

    // Resume: the real address again.
    engine
        .set_remote(session.id, Leg::A, a.addr(), None)
        .unwrap();
    b.send(&rtp(3, 0xb, b"back"), session.leg_b.rtp_port);
    assert_eq!(a.recv().0, rtp(3, 0xb, b"back"));
    destroy_all(&engine, [session.id]);
}
