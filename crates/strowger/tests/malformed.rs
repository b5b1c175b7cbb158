//! Bad input never hurts: malformed requests get 400 where they can be answered and are
//! dropped (and counted) where they cannot, and the server keeps answering other phones.
//! Every test ends with a liveness probe: a valid OPTIONS still gets 200.

mod common;

use common::{tcp_exchange, unique, Req, Response, Server, SipUdp};
use std::time::Duration;

const QUIET: Duration = Duration::from_millis(1500);
const ANSWER: Duration = Duration::from_secs(5);

fn options(udp: &SipUdp, server: &Server) -> Req {
    Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        udp.local(),
        "UDP",
        &unique(),
    )
}

#[test]
fn stray_ack_is_ignored() {
    let mut server = Server::start();
    let udp = SipUdp::new(server.addr());
    let uri = format!("sip:201@{}", server.addr());
    let mut ack = Req::new("ACK", &uri, udp.local(), "UDP", &unique());
    ack.headers = ack
        .headers
        .into_iter()
        .map(|h| {
            if h.starts_with("To:") {
                format!("{h};tag=nosuchdialog")
            } else {
                h
            }
        })
        .collect();
    udp.send(&ack.to_bytes());
    udp.assert_silence(QUIET, "a stray ACK");
    server.assert_alive();
}

#[test]
fn empty_multipart_body_is_answered_not_fatal() {
    let mut server = Server::start();
    let udp = SipUdp::new(server.addr());
    // A multipart body with no part at all, and one that is entirely empty.
    for body in ["--frontier--\r\n", ""] {
        let req = options(&udp, &server)
            .header("Content-Type: multipart/mixed;boundary=frontier")
            .body(body);
        let r = udp
            .request(&req, ANSWER)
            .unwrap_or_else(|| panic!("no answer to OPTIONS with multipart body {body:?}"));
        assert!(
            r.status == 200 || r.status == 400 || r.status == 415,
            "{}",
            r.raw
        );
        let uri = format!("sip:201@{}", server.addr());
        let invite = Req::new("INVITE", &uri, udp.local(), "UDP", &unique())
            .header(format!("Contact: <sip:probe@{}>", udp.local()))
            .header("Content-Type: multipart/mixed;boundary=frontier")
            .body(body);
        let r = udp
            .request(&invite, ANSWER)
            .unwrap_or_else(|| panic!("no answer to INVITE with multipart body {body:?}"));
        // Challenged before anything else is looked at, or refused as malformed.
        assert!(r.status == 401 || r.status == 400, "{}", r.raw);
    }
    server.assert_alive();
}

#[test]
fn cseq_method_of_300_characters_gets_400() {
    let mut server = Server::start();
    let udp = SipUdp::new(server.addr());
    let long = "X".repeat(300);
    let call_id = unique();
    let mut req = Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        udp.local(),
        "UDP",
        &call_id,
    );
    for h in &mut req.headers {
        if h.starts_with("CSeq:") {
            *h = format!("CSeq: 1 {long}");
        }
    }
    let r = udp
        .request(&req, ANSWER)
        .expect("an answer to a 300-character CSeq method");
    assert_eq!(r.status, 400, "{}", r.raw);
    assert_eq!(r.header("Call-ID"), Some(call_id.as_str()), "{}", r.raw);

    // And a request whose method itself is 300 characters long.
    let req = Req::new(
        &long,
        &format!("sip:{}", server.addr()),
        udp.local(),
        "UDP",
        &unique(),
    );
    let r = udp
        .request(&req, ANSWER)
        .expect("an answer to a 300-character method");
    assert_eq!(r.status, 400, "{}", r.raw);
    server.assert_alive();
}

#[test]
fn header_of_64_kib_over_tcp_is_refused() {
    let mut server = Server::start();
    let local = "127.0.0.1:1".parse().unwrap();
    let req = Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        local,
        "TCP",
        &unique(),
    )
    .header(format!("X-Padding: {}", "a".repeat(64 * 1024)));
    let bytes = req.to_bytes();
    assert!(bytes.len() > 65_536);
    let (answer, closed) = tcp_exchange(server.addr(), &bytes, Duration::from_secs(20));
    match Response::parse(&answer) {
        Some(r) => assert!(
            r.status == 400 || r.status == 413 || r.status == 513,
            "a 64 KiB header must be refused: {}",
            r.raw
        ),
        None => assert!(
            closed,
            "neither an answer nor a closed connection within 20 s (got {} bytes)",
            answer.len()
        ),
    }
    server.assert_alive();
    // TCP still works for others.
    let ok = Req::new(
        "OPTIONS",
        &format!("sip:{}", server.addr()),
        local,
        "TCP",
        &unique(),
    );
    let (answer, _) = tcp_exchange(server.addr(), &ok.to_bytes(), Duration::from_secs(10));
    let r = Response::parse(&answer).expect("an answer over a fresh TCP connection");
    assert_eq!(r.status, 200, "{}", r.raw);
}

#[test]
fn near_maximum_datagram_is_survived() {
    let mut server = Server::start();
    let udp = SipUdp::new(server.addr());
    let req = options(&udp, &server).header(format!("X-Padding: {}", "b".repeat(64_000)));
    udp.send(&req.to_bytes());
    // Answered or not, it must not hurt.
    let _ = udp.recv(QUIET);
    server.assert_alive();
}

#[test]
fn flood_of_garbage_datagrams() {
    let mut server = Server::start();
    let before = server.status();
    let rss_before = server.rss_kib();
    let flood = SipUdp::new(server.addr());
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 0..10_000u32 {
        let bytes: Vec<u8> = match i % 3 {
            0 => format!("garbage {i} \r\n\r\n").into_bytes(),
            1 => {
                let len = 16 + (i as usize % 400);
                (0..len)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        // Never a bare CR/LF-only datagram (a keep-alive).
                        (seed as u8) | 0x80
                    })
                    .collect()
            }
            _ => format!("INVITE sip:{i}@x SIP/2.0\r\nVia: \r\n\r\n").into_bytes(),
        };
        flood.send(&bytes);
        if i % 100 == 99 {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    // Other phones are still served.
    server.assert_alive();
    let after = server.status();
    let malformed = after.counter("malformed") - before.counter("malformed");
    let dropped = after.counter("dropped") - before.counter("dropped");
    // Loopback UDP may lose some under load, but most must have been seen and counted.
    assert!(
        malformed >= 1_000,
        "malformed counted: {malformed}\n{}",
        after.text
    );
    assert!(
        dropped >= 1_000,
        "dropped counted: {dropped}\n{}",
        after.text
    );
    // None of it could be answered.
    let mut answers = 0;
    while flood.recv(Duration::from_millis(300)).is_some() {
        answers += 1;
        assert!(answers < 100, "garbage is being answered");
    }
    assert_eq!(answers, 0, "answers to unanswerable garbage");
    let rss_after = server.rss_kib();
    assert!(
        rss_after < rss_before + 64 * 1024,
        "memory grew from {rss_before} KiB to {rss_after} KiB"
    );
}

#[test]
fn request_without_call_id_is_dropped_and_counted() {
    let mut server = Server::start();
    let before = server.status();
    let udp = SipUdp::new(server.addr());
    let req = options(&udp, &server).without("Call-ID");
    udp.send(&req.to_bytes());
    udp.assert_silence(QUIET, "a request without Call-ID");
    let after = server.status();
    assert!(
        after.counter("malformed") > before.counter("malformed"),
        "{}",
        after.text
    );
    assert!(
        after.counter("dropped") > before.counter("dropped"),
        "{}",
        after.text
    );
    server.assert_alive();
}

#[test]
fn bad_content_length_gets_400() {
    let mut server = Server::start();
    let before = server.status();
    let udp = SipUdp::new(server.addr());
    for value in ["500", "abc", "-1", "99999999999999999999999"] {
        let mut req = options(&udp, &server)
            .header("Content-Type: text/plain")
            .header(format!("Content-Length: {value}"))
            .body("0123456789");
        req.auto_length = false;
        let r = udp
            .request(&req, ANSWER)
            .unwrap_or_else(|| panic!("no answer to Content-Length: {value}"));
        assert_eq!(r.status, 400, "Content-Length: {value}\n{}", r.raw);
    }
    let after = server.status();
    assert!(
        after.counter("malformed") >= before.counter("malformed") + 4,
        "{}",
        after.text
    );
    server.assert_alive();
}

#[test]
fn missing_mandatory_headers_get_400_when_answerable() {
    let mut server = Server::start();
    let udp = SipUdp::new(server.addr());
    // No Max-Forwards is tolerated by many stacks; no From or no To or no CSeq is not.
    for missing in ["From", "To", "CSeq"] {
        let call_id = unique();
        let req = Req::new(
            "OPTIONS",
            &format!("sip:{}", server.addr()),
            udp.local(),
            "UDP",
            &call_id,
        )
        .without(missing);
        udp.send(&req.to_bytes());
        // Answerable only if the server can still build a response; if it answers, it is
        // a 400 for our Call-ID.
        if let Some(r) = udp.response(&call_id, QUIET) {
            assert_eq!(r.status, 400, "without {missing}: {}", r.raw);
        }
    }
    server.assert_alive();
}
