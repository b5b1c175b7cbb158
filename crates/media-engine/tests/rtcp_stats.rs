//! Loss and jitter from the RTCP reports that pass through, per leg, for the call record.

mod common;

use common::*;
use media_engine::{Leg, ReceptionReport};

#[test]
fn receiver_and_sender_report_blocks_are_picked_up() {
    let engine = engine(25000, 4);
    let session = engine.create_session().unwrap();
    let (a, a_rtcp, b, b_rtcp) = (Phone::new(), Phone::new(), Phone::new(), Phone::new());
    engine
        .set_remote(session.id, Leg::A, a.addr(), Some(a_rtcp.addr()))
        .unwrap();
    engine
        .set_remote(session.id, Leg::B, b.addr(), Some(b_rtcp.addr()))
        .unwrap();

    // A reports on what it receives from B: 10 % lost so far, jitter 40 (5 ms at 8 kHz).
    a_rtcp.send(
        &rtcp_rr(0xa, &[(0xb, 26, 50, 500, 40)]),
        session.leg_a.rtcp_port,
    );
    b_rtcp.recv();
    a_rtcp.send(
        &rtcp_rr(0xa, &[(0xb, 13, 60, 750, 24)]),
        session.leg_a.rtcp_port,
    );
    b_rtcp.recv();
    // B sends an SR with a block about A, and a negative (duplicates) cumulative loss.
    b_rtcp.send(
        &rtcp_sr(0xb, &[(0xa, 0, -2, 1000, 8)]),
        session.leg_b.rtcp_port,
    );
    a_rtcp.recv();

    let stats = engine.destroy_session(session.id).unwrap();
    let a_said = stats.leg_a.reception.expect("A's reports were seen");
    assert_eq!(a_said.reports, 2);
    assert_eq!(
        a_said.last,
        ReceptionReport {
            ssrc: 0xb,
            fraction_lost: 13,
            cumulative_lost: 60,
            highest_sequence: 750,
            jitter: 24,
        }
    );
    assert_eq!(a_said.max_jitter, 40);
    let b_said = stats.leg_b.reception.expect("B's report was seen");
    assert_eq!(b_said.reports, 1);
    assert_eq!(b_said.last.cumulative_lost, -2);
    assert_eq!(b_said.last.ssrc, 0xa);
    assert_eq!(engine.pool_available(), engine.pool_capacity());
}

#[test]
fn reports_multiplexed_on_the_rtp_port_count_too() {
    // RFC 5761 rtcp-mux: RTCP on the RTP port, told apart by its packet type.
    let engine = engine(25100, 4);
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    let report = rtcp_rr(0xa, &[(0xb, 1, 2, 3, 4)]);
    a.send(&report, session.leg_a.rtp_port);
    assert_eq!(b.recv().0, report);
    let stats = engine.stats(session.id).unwrap();
    assert_eq!(stats.leg_a.reception.unwrap().last.jitter, 4);
    assert_eq!(stats.leg_a.rtp.packets_in, 1);
    destroy_all(&engine, [session.id]);
}

#[test]
fn no_reports_no_reception_stats() {
    let engine = engine(25200, 4);
    let session = engine.create_session().unwrap();
    let stats = engine.destroy_session(session.id).unwrap();
    assert_eq!(stats.leg_a.reception, None);
    assert_eq!(stats.leg_b.reception, None);
}
