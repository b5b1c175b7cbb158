//! Limits on TCP that keep a hostile peer from holding memory or sockets: a message left
//! half-sent is given up on, and one address cannot hold more than its share of connections
//! while other phones are still served.

mod common;

use common::{read_tcp_response, read_tcp_responses, unique, Req, Response, Server};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A TCP connection to the server from a chosen loopback address.
fn connect_from(ip: &str, server: SocketAddr) -> TcpStream {
    let socket = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    let local: SocketAddr = format!("{ip}:0").parse().unwrap();
    socket.bind(&SockAddr::from(local)).unwrap();
    socket
        .connect_timeout(&SockAddr::from(server), Duration::from_secs(5))
        .expect("TCP connect");
    socket.into()
}

fn options(stream: &TcpStream, server: &Server) -> Req {
    Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        stream.local_addr().unwrap(),
        "TCP",
        &unique(),
    )
}

/// True when the server closes the connection within `limit` (EOF or reset).
fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    stream.set_read_timeout(Some(limit)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return false
            }
            Err(_) => return true,
        }
    }
}

#[test]
fn half_sent_message_is_given_up_on() {
    let mut server = Server::start();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    // One whole message first, answered.
    stream
        .write_all(&options(&stream, &server).to_bytes())
        .unwrap();
    let (bytes, _) = read_tcp_response(&mut stream, Duration::from_secs(10));
    let r = Response::parse(&bytes).expect("an answer");
    assert_eq!(r.status, 200, "{}", r.raw);
    // Then half of one, and nothing more: the server closes the connection (slowloris).
    let half = options(&stream, &server).to_bytes();
    stream.write_all(&half[..half.len() / 2]).unwrap();
    assert!(
        closed_within(&mut stream, Duration::from_secs(30)),
        "a connection stuck in the middle of a message was kept open for 30 s"
    );
    server.assert_alive();
}

#[test]
fn one_source_cannot_hold_more_than_its_share_of_connections() {
    let mut server = Server::start();
    let hog = "127.0.0.7";
    let mut held = Vec::new();
    for _ in 0..64 {
        held.push(connect_from(hog, server.addr()));
    }
    // Each of those is a working connection.
    let mut first = held[0].try_clone().unwrap();
    first
        .write_all(&options(&first, &server).to_bytes())
        .unwrap();
    let answers = read_tcp_responses(&mut first, 1, Duration::from_secs(10));
    assert_eq!(answers.first().map(|r| r.status), Some(200));

    // More from the same address are refused: closed at once, or never served.
    let mut refused = 0;
    for _ in 0..4 {
        let mut extra = connect_from(hog, server.addr());
        let _ = extra.write_all(&options(&extra, &server).to_bytes());
        if read_tcp_responses(&mut extra, 1, Duration::from_secs(3)).is_empty() {
            refused += 1;
        }
    }
    assert_eq!(
        refused, 4,
        "connections beyond 64 from one address were served"
    );

    // Another address is served meanwhile, over TCP and UDP.
    let mut other = connect_from("127.0.0.1", server.addr());
    other
        .write_all(&options(&other, &server).to_bytes())
        .unwrap();
    let answers = read_tcp_responses(&mut other, 1, Duration::from_secs(10));
    assert_eq!(answers.first().map(|r| r.status), Some(200));
    server.assert_alive();

    // Once the hog lets go, it may connect again.
    drop(held);
    drop(first);
    common::wait_for(
        "a new connection from the hog's address to be served",
        Duration::from_secs(15),
        || {
            let mut again = connect_from(hog, server.addr());
            let _ = again.write_all(&options(&again, &server).to_bytes());
            let answers = read_tcp_responses(&mut again, 1, Duration::from_secs(2));
            (answers.first().map(|r| r.status) == Some(200)).then_some(())
        },
    );
}
