//! Hold and resume: RTP dropped as the direction of each leg says; RTCP keeps flowing.

mod common;

use common::*;
use media_engine::{Direction, Leg, MediaEngine, SessionHandle};

struct Call {
    session: SessionHandle,
    a: Phone,
    b: Phone,
}

fn call(engine: &MediaEngine) -> Call {
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(engine, &a, &b);
    Call { session, a, b }
}

impl Call {
    /// Sends one packet each way and tells which arrived: (A to B, B to A).
    fn exchange(&self, engine: &MediaEngine, seq: u16) -> (bool, bool) {
        let before = engine.stats(self.session.id).unwrap();
        self.a
            .send(&rtp(seq, 0xa, b"from A"), self.session.leg_a.rtp_port);
        self.b
            .send(&rtp(seq, 0xb, b"from B"), self.session.leg_b.rtp_port);
        wait_stats(engine, self.session.id, |s| {
            s.leg_a.rtp.packets_in == before.leg_a.rtp.packets_in + 1
                && s.leg_b.rtp.packets_in == before.leg_b.rtp.packets_in + 1
        });
        // Handled means relayed or dropped by now, so a non-blocking look is enough.
        let arrived = |phone: &Phone| {
            phone.socket.set_nonblocking(true).unwrap();
            let mut buf = [0; 64];
            let got = phone.socket.recv_from(&mut buf).is_ok();
            phone.socket.set_nonblocking(false).unwrap();
            got
        };
        (arrived(&self.b), arrived(&self.a))
    }
}

#[test]
fn inactive_drops_both_ways_and_counts() {
    let engine = engine(23000, 4);
    let c = call(&engine);
    assert_eq!(c.exchange(&engine, 1), (true, true));
    engine
        .set_direction(c.session.id, Leg::A, Direction::Inactive)
        .unwrap();
    assert_eq!(c.exchange(&engine, 2), (false, false));
    let stats = engine.stats(c.session.id).unwrap();
    assert_eq!(stats.leg_a.rtp.packets_dropped, 1);
    assert_eq!(stats.leg_b.rtp.packets_dropped, 1);
    assert_eq!(stats.leg_a.rtp.packets_out, 1);
    engine
        .set_direction(c.session.id, Leg::A, Direction::SendRecv)
        .unwrap();
    assert_eq!(c.exchange(&engine, 3), (true, true), "resumed");
    destroy_all(&engine, [c.session.id]);
}

#[test]
fn sendonly_and_recvonly_pass_one_way() {
    let engine = engine(23100, 4);
    let c = call(&engine);
    // A holds B with a=sendonly: A's music reaches B, B's audio does not reach A.
    engine
        .set_direction(c.session.id, Leg::A, Direction::SendOnly)
        .unwrap();
    assert_eq!(c.exchange(&engine, 1), (true, false));
    // B answered that hold with a=recvonly: the same flow.
    engine
        .set_direction(c.session.id, Leg::B, Direction::RecvOnly)
        .unwrap();
    assert_eq!(c.exchange(&engine, 2), (true, false));
    // A alone receiving, B alone sending.
    engine
        .set_direction(c.session.id, Leg::A, Direction::RecvOnly)
        .unwrap();
    engine
        .set_direction(c.session.id, Leg::B, Direction::SendOnly)
        .unwrap();
    assert_eq!(c.exchange(&engine, 3), (false, true));
    // Both say they only send: nobody receives.
    engine
        .set_direction(c.session.id, Leg::A, Direction::SendOnly)
        .unwrap();
    assert_eq!(c.exchange(&engine, 4), (false, false));
    destroy_all(&engine, [c.session.id]);
}

#[test]
fn rtcp_flows_on_a_held_call() {
    let engine = engine(23200, 4);
    let session = engine.create_session().unwrap();
    let (a, a_rtcp, b, b_rtcp) = (Phone::new(), Phone::new(), Phone::new(), Phone::new());
    engine
        .set_remote(session.id, Leg::A, a.addr(), Some(a_rtcp.addr()))
        .unwrap();
    engine
        .set_remote(session.id, Leg::B, b.addr(), Some(b_rtcp.addr()))
        .unwrap();
    engine
        .set_direction(session.id, Leg::A, Direction::Inactive)
        .unwrap();
    engine
        .set_direction(session.id, Leg::B, Direction::Inactive)
        .unwrap();
    a_rtcp.send(&rtcp_rr(0xa, &[]), session.leg_a.rtcp_port);
    assert_eq!(b_rtcp.recv().0, rtcp_rr(0xa, &[]));
    b_rtcp.send(&rtcp_rr(0xb, &[]), session.leg_b.rtcp_port);
    assert_eq!(a_rtcp.recv().0, rtcp_rr(0xb, &[]));
    destroy_all(&engine, [session.id]);
}
