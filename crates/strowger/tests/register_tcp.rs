//! Registration and OPTIONS over TCP: responses over the connection the request came on,
//! framing by Content-Length, CRLF keep-alives.

mod common;

use common::{
    read_tcp_response, read_tcp_responses, tcp_exchange, unique, Req, Response, Server, Sipp,
};
use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

#[test]
fn sipp_registers_with_digest_over_tcp() {
    let server = Server::start();
    Sipp::new("register")
        .tcp()
        .user("201", &server.password("201"))
        .expect_success(&server);
    let st = server.status();
    let b = st.bindings_of("201");
    assert_eq!(b.len(), 1, "{}", st.text);
    assert!(
        b[0].source.contains("Reliable") && !b[0].source.contains("Unreliable")
            || b[0].source.to_lowercase().contains("tcp"),
        "registered over TCP: {}",
        b[0].line
    );
    assert!(b[0].contact.contains("transport=TCP"), "{}", b[0].line);
}

fn options_over(stream: &TcpStream, server: &Server) -> Req {
    Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        stream.local_addr().unwrap(),
        "TCP",
        &unique(),
    )
}

#[test]
fn options_over_tcp_answered_on_the_same_connection() {
    let server = Server::start();
    // The Via names a port nobody listens on (as a phone behind NAT would): the answer
    // must still come back on the connection the request came on.
    let nowhere = "127.0.0.1:9".parse().unwrap();
    let req = Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        nowhere,
        "TCP",
        &unique(),
    );
    let (bytes, closed) = tcp_exchange(server.addr(), &req.to_bytes(), Duration::from_secs(10));
    let r = Response::parse(&bytes).unwrap_or_else(|| {
        panic!(
            "no response (closed: {closed}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[test]
fn two_requests_in_one_segment_get_two_answers() {
    let server = Server::start();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let a = options_over(&stream, &server);
    let b = Req::new(
        "OPTIONS",
        &format!("sip:299@{}", server.addr()),
        stream.local_addr().unwrap(),
        "TCP",
        &unique(),
    );
    let mut both = a.to_bytes();
    both.extend_from_slice(&b.to_bytes());
    stream.write_all(&both).unwrap();
    let answers = read_tcp_responses(&mut stream, 2, Duration::from_secs(10));
    let mut statuses: Vec<u16> = answers.iter().map(|r| r.status).collect();
    statuses.sort();
    assert_eq!(statuses, [200, 404], "OPTIONS to the server and to 299");
}

#[test]
fn crlf_keepalive_is_answered_and_the_connection_stays_usable() {
    let server = Server::start();
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    stream.write_all(b"\r\n\r\n").unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut pong = [0u8; 2];
    use std::io::Read;
    stream
        .read_exact(&mut pong)
        .expect("a CRLF pong to a CRLFCRLF ping (RFC 5626)");
    assert_eq!(&pong, b"\r\n");
    let req = options_over(&stream, &server);
    stream.write_all(&req.to_bytes()).unwrap();
    let (bytes, closed) = read_tcp_response(&mut stream, Duration::from_secs(10));
    let r = Response::parse(&bytes).unwrap_or_else(|| panic!("no answer (closed: {closed})"));
    assert_eq!(r.status, 200, "{}", r.raw);
}
