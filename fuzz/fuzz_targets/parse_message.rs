//! Feeds arbitrary bytes to every parser entry point that sees network input. The only
//! property checked beyond "no panic" is the contract the callers rely on: what parses can
//! be printed and parsed again, and error texts fit in a reason phrase.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::parse::{bad_request_response, frame_stream, parse_uri, Framing, MAX_MESSAGE_SIZE};
use sip::header::Replaces;
use sip::{parse_message, ParseError};

fuzz_target!(|data: &[u8]| {
    match parse_message(data) {
        Ok(msg) => {
            // A parsed message must survive being written out and read back. Printing uses
            // long header names and a fresh Content-Length, so a message at a size limit may
            // grow past it: that alone is not a bug.
            match parse_message(&msg.to_bytes()) {
                Ok(_) | Err(ParseError::TooLarge | ParseError::HeaderTooLong) => {}
                Err(e) => panic!("reprint of a parsed message failed: {e:?}"),
            }
        }
        Err(err) => {
            let text = err.to_string();
            assert!(!text.contains(['\r', '\n']));
            if let Some(resp) = bad_request_response(data, &err) {
                assert!(!resp.reason.contains(['\r', '\n']));
                let _ = resp.to_bytes();
            }
        }
    }
    for limit in [MAX_MESSAGE_SIZE, 512] {
        match frame_stream(data, limit) {
            Framing::Message(n) => {
                assert!(n > 0 && n <= data.len() && n <= limit);
                let _ = parse_message(&data[..n]);
            }
            Framing::KeepAlive(n) => assert!(n > 0 && n <= data.len()),
            Framing::Incomplete | Framing::Invalid(_) => {}
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        if let Ok(uri) = parse_uri(s) {
            let printed = uri.to_string();
            assert_eq!(parse_uri(&printed).as_ref(), Ok(&uri), "{printed}");
            // A Refer-To target may carry Replaces, %-escaped (attended transfer).
            let _ = Replaces::from_uri(&uri);
        }
        if let Ok(r) = Replaces::parse(s) {
            assert_eq!(Replaces::parse(&r.to_string()).as_ref(), Ok(&r));
        }
    }
});
