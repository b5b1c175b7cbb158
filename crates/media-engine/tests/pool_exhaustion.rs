//! The port pool runs out cleanly and returns to full when sessions end.

mod common;

use common::*;
use media_engine::{MediaConfig, MediaEngine, MediaError};

#[test]
fn a_small_range_exhausts_and_refills() {
    // Four pairs: two sessions.
    let engine = engine(27000, 4);
    assert_eq!(engine.pool_capacity(), 4);
    let first = engine.create_session().unwrap();
    let second = engine.create_session().unwrap();
    assert_eq!(engine.pool_available(), 0);
    assert!(matches!(
        engine.create_session(),
        Err(MediaError::PoolExhausted {
            first: 27000,
            last: 27007
        })
    ));
    let ports: Vec<u16> = [first, second]
        .iter()
        .flat_map(|s| [s.leg_a.rtp_port, s.leg_b.rtp_port])
        .collect();
    assert!(ports
        .iter()
        .all(|p| p % 2 == 0 && (27000..=27006).contains(p)));
    assert_eq!(first.leg_a.rtcp_port, first.leg_a.rtp_port + 1);

    engine.destroy_session(first.id).unwrap();
    assert_eq!(engine.pool_available(), 2);
    let third = engine.create_session().unwrap();
    destroy_all(&engine, [second.id, third.id]);
}

#[test]
fn an_odd_pair_left_over_does_not_leak() {
    // Three pairs: the second session's second leg cannot be had; its first goes back.
    let engine = engine(27100, 3);
    let session = engine.create_session().unwrap();
    assert!(matches!(
        engine.create_session(),
        Err(MediaError::PoolExhausted { .. })
    ));
    assert_eq!(engine.pool_available(), 1);
    destroy_all(&engine, [session.id]);
}

#[test]
fn dropping_the_engine_stops_its_threads() {
    let engine = MediaEngine::start(MediaConfig {
        bind_ip: LOCALHOST,
        port_range: 27200..=27209,
        threads: 3,
        ..MediaConfig::default()
    })
    .unwrap();
    let session = engine.create_session().unwrap();
    drop(engine);
    // The sockets are closed: the ports can be bound again.
    std::net::UdpSocket::bind(local(session.leg_a.rtp_port)).expect("port free again");
}
