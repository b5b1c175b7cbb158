//! Feeds arbitrary bytes to the SDP parser and, when they parse, to everything the B2BUA
//! does with a peer's description. Beyond "no panic" it checks the contracts callers rely
//! on: error texts fit in a SIP reason phrase, printing is exact for CRLF input and a
//! fixed point otherwise, and every description we derive (answer, offer, relay rewrite)
//! is itself valid SDP.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sdp::{answer, offer, parse, LocalCapabilities, SdpError};

fuzz_target!(|data: &[u8]| {
    let sdp = match parse(data) {
        Ok(sdp) => sdp,
        Err(e) => {
            check_error(&e);
            return;
        }
    };

    // Printing: exact for well-formed CRLF input, and always parseable to the same model
    // (only an empty `s=` is repaired to `s=-`).
    let text = sdp.to_string();
    let crlf_only = data.ends_with(b"\r\n")
        && !data.windows(2).any(|w| w[1] == b'\n' && w[0] != b'\r')
        && !data.windows(4).any(|w| w == b"\r\n\r\n")
        && !sdp.session_name.is_empty();
    if crlf_only {
        assert_eq!(
            text.as_bytes(),
            data,
            "CRLF input did not print back exactly"
        );
    }
    let again = parse(text.as_bytes()).expect("printed description did not parse");
    let mut expected = sdp.clone();
    if expected.session_name.is_empty() {
        expected.session_name = "-".to_owned();
    }
    assert_eq!(again, expected);

    // Readers the B2BUA calls on every stream.
    for i in 0..=sdp.media.len() {
        let _ = (sdp.direction(i), sdp.connection_address(i));
        if let Some(m) = sdp.media.get(i) {
            let _ = (m.codecs(), m.ptime(), m.rtcp(), m.fmtp("101"));
        }
    }

    // Answering it, IPv4 and IPv6, must give valid SDP with one stream per offered one.
    let ports: Vec<u16> = (0..sdp.media.len()).map(|i| 30000 + 2 * i as u16).collect();
    for relay in ["198.51.100.1", "2001:db8::1"] {
        let local = LocalCapabilities::new(1, relay.parse().unwrap(), ports.clone());
        if let Ok(answer) = answer(&sdp, &local) {
            assert_eq!(answer.media.len(), sdp.media.len());
            assert_eq!(parse(&answer.to_bytes()).as_ref(), Ok(&answer));
        }
        let ours = offer(&local);
        assert!(parse(&ours.to_bytes()).is_ok());
    }

    // Anchoring it on the relay must keep it valid and keep every stream's direction.
    let mut anchored = sdp.clone();
    for i in 0..anchored.media.len() {
        if anchored.media[i].port != 0 {
            let _ = anchored.set_port(i, 40000);
        }
    }
    anchored.rewrite_connection("203.0.113.7".parse().unwrap());
    anchored.bump_version();
    let reparsed = parse(&anchored.to_bytes()).expect("anchored description did not parse");
    for i in 0..sdp.media.len() {
        assert_eq!(
            reparsed.direction(i),
            sdp.direction(i),
            "direction of stream {i}"
        );
        if sdp.media[i].port != 0 {
            assert_eq!(reparsed.connection_address(i), "203.0.113.7".parse().ok());
        }
    }
});

fn check_error(e: &SdpError) {
    let text = e.to_string();
    assert!(!text.contains(['\r', '\n']));
    // Lines past the limit are never read, so no error can point beyond it.
    assert!((1..=sdp::MAX_LINES + 1).contains(&e.line()), "{e:?}");
}
