//! Keys pressed on loopback sockets: RFC 4733 telephone-events sent to a leg are reported
//! once per press, in order, and still relayed to the other leg.

mod common;

use common::*;
use media_engine::{Leg, MediaError, MediaEvent, SessionId};

const PT: u8 = 101;

/// A telephone-event packet: `event` started at `ts`, lasting `duration` so far.
fn event(seq: u16, ts: u32, event: u8, end: bool, duration: u16) -> Vec<u8> {
    let mut p = vec![0x80, PT];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&0x4242u32.to_be_bytes());
    p.push(event);
    p.push(if end { 0x80 } else { 0 } | 10);
    p.extend_from_slice(&duration.to_be_bytes());
    p
}

/// One press as phones send it: a marked first packet, updates every 20 ms, and the end
/// sent three times; `seq` counts on.
fn press(seq: &mut u16, ts: u32, code: u8) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    for n in 1..=4u16 {
        let mut p = event(*seq, ts, code, false, n * 160);
        if n == 1 {
            p[1] |= 0x80;
        }
        packets.push(p);
        *seq += 1;
    }
    for _ in 0..3 {
        packets.push(event(*seq, ts, code, true, 800));
        *seq += 1;
    }
    packets
}

fn digit(session: SessionId, leg: Leg, digit: char) -> MediaEvent {
    MediaEvent::Digit {
        session,
        leg,
        digit,
    }
}

#[test]
fn a_voicemail_leg_reports_each_key_once_in_order() {
    let (engine, events) = engine_with_events(30000, 2);
    let caller = Phone::new();
    // Voicemail: leg A only; B never gets a remote.
    let session = engine.create_session().unwrap();
    engine
        .set_remote(session.id, Leg::A, caller.addr(), None)
        .unwrap();
    engine
        .set_dtmf_payload_type(session.id, Leg::A, Some(PT))
        .unwrap();
    let port = session.leg_a.rtp_port;
    let mut seq = 1;
    let mut sent = 0;
    caller.send(&rtp(0, 0x4242, &[0xff; 160]), port);
    for (ts, code) in [(1000, 1), (5000, 11)] {
        for p in press(&mut seq, ts, code) {
            caller.send(&p, port);
            sent += 1;
        }
        // Audio between the presses, and a late retransmission of the end.
        caller.send(&rtp(seq, 0x4242, &[0xff; 160]), port);
        caller.send(&event(seq, ts, code, true, 800), port);
        sent += 2;
    }
    assert_eq!(next_event(&events), digit(session.id, Leg::A, '1'));
    assert_eq!(next_event(&events), digit(session.id, Leg::A, '#'));
    wait_stats(&engine, session.id, |s| s.leg_a.rtp.packets_in == sent + 1);
    assert!(events.try_recv().is_err(), "exactly two keys");
    destroy_all(&engine, [session.id]);
}

#[test]
fn keys_are_reported_and_still_relayed_to_the_other_party() {
    let (engine, events) = engine_with_events(30010, 2);
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    engine
        .set_dtmf_payload_type(session.id, Leg::B, Some(PT))
        .unwrap();
    let mut seq = 1;
    let packets = press(&mut seq, 160, 5);
    for p in &packets {
        b.send(p, session.leg_b.rtp_port);
    }
    assert_eq!(next_event(&events), digit(session.id, Leg::B, '5'));
    for p in &packets {
        assert_eq!(&a.recv().0, p, "relayed untouched");
    }
    // Leg A was not told a payload type: its events are relayed, not read.
    let mut seq = 100;
    for p in press(&mut seq, 320, 7) {
        a.send(&p, session.leg_a.rtp_port);
        b.recv();
    }
    // Nor is B's, once told to stop.
    engine
        .set_dtmf_payload_type(session.id, Leg::B, None)
        .unwrap();
    for p in press(&mut seq, 640, 9) {
        b.send(&p, session.leg_b.rtp_port);
        a.recv();
    }
    // Each event is reported before its packet is relayed: all were looked at.
    assert!(events.try_recv().is_err(), "no other key: {events:?}");
    destroy_all(&engine, [session.id]);
}

#[test]
fn static_payload_types_cannot_carry_events() {
    let (engine, _events) = engine_with_events(30020, 2);
    let session = engine.create_session().unwrap();
    for pt in [0, 8, 95, 128] {
        assert!(matches!(
            engine.set_dtmf_payload_type(session.id, Leg::A, Some(pt)),
            Err(MediaError::DtmfPayloadType(p)) if p == pt
        ));
    }
    assert!(matches!(
        engine.set_dtmf_payload_type(session.id, Leg::Extra(3), Some(PT)),
        Err(MediaError::InvalidLeg { .. })
    ));
    destroy_all(&engine, [session.id]);
}
