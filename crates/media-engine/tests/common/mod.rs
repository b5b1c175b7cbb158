//! Helpers shared by the integration tests: an engine on loopback, phones (plain UDP
//! sockets), RTP/RTCP packet builders and bounded waits.
// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

pub mod audio;

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use std::sync::mpsc::{self, Receiver};

use media_engine::{EventSink, MediaConfig, MediaEngine, MediaEvent, SessionId, SessionStats};

pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
/// The longest any test waits for something that should take microseconds.
pub const PATIENCE: Duration = Duration::from_secs(3);

/// An engine on 127.0.0.1 with its own port range, so tests can run in parallel.
pub fn engine(first_port: u16, pairs: u16) -> MediaEngine {
    engine_with_threads(first_port, pairs, 1)
}

/// Like [`engine`], with `threads` relay threads.
pub fn engine_with_threads(first_port: u16, pairs: u16, threads: usize) -> MediaEngine {
    MediaEngine::start(MediaConfig {
        bind_ip: LOCALHOST,
        port_range: first_port..=first_port + pairs * 2 - 1,
        threads,
        ..MediaConfig::default()
    })
    .expect("engine starts")
}

/// An engine like [`engine`] whose events arrive on the returned receiver.
pub fn engine_with_events(first_port: u16, pairs: u16) -> (MediaEngine, Receiver<MediaEvent>) {
    let (tx, rx) = mpsc::channel();
    let engine = MediaEngine::start(MediaConfig {
        bind_ip: LOCALHOST,
        port_range: first_port..=first_port + pairs * 2 - 1,
        events: Some(EventSink::new(move |event| {
            let _ = tx.send(event);
        })),
        ..MediaConfig::default()
    })
    .expect("engine starts");
    (engine, rx)
}

/// The next event, waiting at most [`PATIENCE`].
pub fn next_event(events: &Receiver<MediaEvent>) -> MediaEvent {
    events
        .recv_timeout(PATIENCE)
        .expect("an event arrives in time")
}

pub fn local(port: u16) -> SocketAddr {
    SocketAddr::new(LOCALHOST, port)
}

/// A phone's media socket.
pub struct Phone {
    pub socket: UdpSocket,
}

impl Phone {
    /// On an ephemeral loopback port.
    pub fn new() -> Phone {
        Phone::at(0)
    }

    /// On a given loopback port.
    pub fn at(port: u16) -> Phone {
        let socket = UdpSocket::bind(local(port)).expect("phone binds");
        socket.set_read_timeout(Some(PATIENCE)).unwrap();
        Phone { socket }
    }

    pub fn addr(&self) -> SocketAddr {
        self.socket.local_addr().unwrap()
    }

    pub fn send(&self, bytes: &[u8], port: u16) {
        self.socket
            .send_to(bytes, local(port))
            .expect("phone sends");
    }

    /// The next datagram, waiting at most [`PATIENCE`].
    pub fn recv(&self) -> (Vec<u8>, SocketAddr) {
        let mut buf = vec![0; 65_536];
        let (len, from) = self
            .socket
            .recv_from(&mut buf)
            .expect("a datagram arrives in time");
        buf.truncate(len);
        (buf, from)
    }

    /// Asserts that nothing is waiting. Only meaningful once the engine has handled the
    /// packets in question (see [`wait_stats`]): loopback delivery happens inside the
    /// engine's `send_to`, so anything relayed is already queued here.
    pub fn assert_nothing(&self) {
        self.socket.set_nonblocking(true).unwrap();
        let mut buf = [0; 2048];
        let got = self.socket.recv_from(&mut buf);
        self.socket.set_nonblocking(false).unwrap();
        match got {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            other => panic!("expected nothing, got {other:?}"),
        }
    }
}

/// An RTP packet (version 2, PT 0 = PCMU) with `payload`.
pub fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq) * 160).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// A report block: (ssrc, fraction lost, cumulative lost, highest seq, jitter).
pub type Block = (u32, u8, i32, u32, u32);

/// An RTCP receiver report (PT 201) from `ssrc` with report blocks.
pub fn rtcp_rr(ssrc: u32, blocks: &[Block]) -> Vec<u8> {
    rtcp_report(201, ssrc, &[], blocks)
}

/// An RTCP sender report (PT 200) from `ssrc` with report blocks.
pub fn rtcp_sr(ssrc: u32, blocks: &[Block]) -> Vec<u8> {
    rtcp_report(200, ssrc, &[0x11; 20], blocks)
}

fn rtcp_report(pt: u8, ssrc: u32, sender_info: &[u8], blocks: &[Block]) -> Vec<u8> {
    let len = 8 + sender_info.len() + blocks.len() * 24;
    let mut p = vec![0x80 | blocks.len() as u8, pt];
    p.extend_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(sender_info);
    for &(source, fraction, lost, seq, jitter) in blocks {
        p.extend_from_slice(&source.to_be_bytes());
        p.push(fraction);
        p.extend_from_slice(&lost.to_be_bytes()[1..]);
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&jitter.to_be_bytes());
        p.extend_from_slice(&[0; 8]);
    }
    p
}

/// Polls the session's statistics until `done` holds, for at most [`PATIENCE`].
pub fn wait_stats(
    engine: &MediaEngine,
    id: SessionId,
    done: impl Fn(&SessionStats) -> bool,
) -> SessionStats {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let stats = engine.stats(id).expect("session exists");
        if done(&stats) {
            return stats;
        }
        assert!(
            Instant::now() < deadline,
            "stats never got there: {stats:#?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Destroys the sessions and checks that every port pair went back to the pool.
pub fn destroy_all(engine: &MediaEngine, ids: impl IntoIterator<Item = SessionId>) {
    for id in ids {
        engine.destroy_session(id).expect("session destroyed");
    }
    assert_eq!(engine.pool_available(), engine.pool_capacity());
}

/// A new session whose leg A sends to `a` and leg B to `b` (their SDP addresses).
pub fn connect(engine: &MediaEngine, a: &Phone, b: &Phone) -> media_engine::SessionHandle {
    let session = engine.create_session().expect("a session");
    engine
        .set_remote(session.id, media_engine::Leg::A, a.addr(), None)
        .expect("leg A remote");
    engine
        .set_remote(session.id, media_engine::Leg::B, b.addr(), None)
        .expect("leg B remote");
    session
}
