//! Shared test harness: the core on a simulated network with a virtual clock, and scripted
//! phones that speak SIP to it as text.
#![allow(dead_code)]

pub mod calls;

use pbx::{Directory, ExtensionEntry, Pbx, PbxEvent, PbxSettings, Peer};
use sip::auth::{answer_challenge, ha1, pick_challenge, DigestAlgorithm, NonceSecret};
use sip::header::{AuthParams, HeaderName};
use sip::{Message, Response};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const REALM: &str = "strowger";

pub fn entry(number: &str, password: &str) -> ExtensionEntry {
    ExtensionEntry {
        number: number.into(),
        ha1_md5: ha1(DigestAlgorithm::Md5, number, REALM, password),
        ha1_sha256: ha1(DigestAlgorithm::Sha256, number, REALM, password),
        direct_media: false,
    }
}

pub struct Net {
    pub pbx: Pbx,
    pub now: Instant,
}

impl Net {
    pub fn new(settings: PbxSettings) -> Net {
        Net::with_extensions(settings, &["201", "202"])
    }

    /// A core with these extensions, each with password `Secret-<number>-abc`.
    pub fn with_extensions(settings: PbxSettings, numbers: &[&str]) -> Net {
        let now = Instant::now();
        let dir = Directory::new(numbers.iter().map(|n| entry(n, &format!("Secret-{n}-abc"))));
        Net {
            pbx: Pbx::new(
                settings,
                dir,
                NonceSecret::from_bytes([7; 32]),
                now,
                1_800_000_000,
            ),
            now,
        }
    }

    /// Sends text from `from` and returns every response addressed back to it.
    pub fn send(&mut self, from: Peer, text: &str) -> Vec<Response> {
        let bytes = text.replace('\n', "\r\n");
        self.pbx.handle_datagram(self.now, from, bytes.as_bytes());
        self.drain(from)
    }

    /// Delivers a message from `from` and returns everything the core sends, to anyone.
    pub fn deliver(&mut self, from: Peer, msg: &[u8]) -> Vec<(Peer, Message)> {
        self.pbx.handle_datagram(self.now, from, msg);
        self.outputs()
    }

    /// Everything the core has queued to send, parsed.
    pub fn outputs(&mut self) -> Vec<(Peer, Message)> {
        std::iter::from_fn(|| self.pbx.poll_transmit())
            .map(|t| {
                let m = sip::parse_message(&t.bytes).expect("the core writes parseable messages");
                (t.dest, m)
            })
            .collect()
    }

    /// Steps the clock through every wake-up up to `now + by`, collecting what is sent.
    pub fn run_for(&mut self, by: Duration) -> Vec<(Peer, Message)> {
        let until = self.now + by;
        let mut out = Vec::new();
        while self.step_until(until) {
            out.extend(self.outputs());
        }
        self.now = until;
        self.pbx.handle_timeout(self.now);
        out.extend(self.outputs());
        out
    }

    pub fn drain(&mut self, to: Peer) -> Vec<Response> {
        let mut out = Vec::new();
        while let Some(t) = self.pbx.poll_transmit() {
            assert_eq!(t.dest, to, "response sent somewhere else");
            match sip::parse_message(&t.bytes).expect("the core writes parseable messages") {
                Message::Response(r) => out.push(r),
                Message::Request(r) => panic!("unexpected request {r:?}"),
            }
        }
        out
    }

    /// Advances the clock to the core's next wake-up if it is not later than `until`.
    pub fn step_until(&mut self, until: Instant) -> bool {
        match self.pbx.poll_timeout() {
            Some(t) if t <= until => {
                self.now = self.now.max(t);
                self.pbx.handle_timeout(self.now);
                true
            }
            _ => false,
        }
    }

    pub fn advance(&mut self, by: Duration) {
        let until = self.now + by;
        while self.step_until(until) {}
        self.now = until;
        self.pbx.handle_timeout(self.now);
    }

    pub fn events(&mut self) -> Vec<PbxEvent> {
        std::iter::from_fn(|| self.pbx.poll_event()).collect()
    }
}

pub struct Phone {
    pub ext: &'static str,
    pub password: &'static str,
    pub peer: Peer,
    pub call_id: String,
    pub cseq: u32,
}

impl Phone {
    pub fn new(ext: &'static str, password: &'static str, port: u16) -> Phone {
        Phone {
            ext,
            password,
            peer: Peer::udp(SocketAddr::from(([127, 0, 0, 1], port))),
            call_id: format!("call-{ext}-{port}"),
            cseq: 0,
        }
    }

    pub fn register_text(&mut self, extra: &str, authz: Option<&AuthParams>) -> String {
        self.cseq += 1;
        let port = self.peer.addr.port();
        let auth = authz.map_or(String::new(), |a| format!("Authorization: {a}\n"));
        format!(
            "REGISTER sip:127.0.0.1 SIP/2.0\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{}-{};rport\n\
             Max-Forwards: 70\n\
             From: <sip:{ext}@127.0.0.1>;tag=ph{port}\n\
             To: <sip:{ext}@127.0.0.1>\n\
             Call-ID: {cid}\n\
             CSeq: {cseq} REGISTER\n\
             User-Agent: TestPhone/1\n\
             {extra}{auth}Content-Length: 0\n\n",
            self.call_id,
            self.cseq,
            ext = self.ext,
            cid = self.call_id,
            cseq = self.cseq,
        )
    }

    pub fn answer(&self, challenge: &Response, password: &str) -> AuthParams {
        let challenges: Vec<AuthParams> = challenge
            .headers
            .get_all(&HeaderName::WwwAuthenticate)
            .map(|v| AuthParams::parse(v).expect("challenge parses"))
            .collect();
        let chosen = pick_challenge(&challenges).expect("a usable challenge");
        answer_challenge(
            chosen,
            "REGISTER",
            "sip:127.0.0.1",
            self.ext,
            password,
            "cnonce1",
            1,
        )
        .expect("answerable")
    }

    /// REGISTER, take the 401, answer it; returns the final response.
    pub fn register(&mut self, net: &mut Net, extra: &str) -> Response {
        let first = self.register_text(extra, None);
        let r = net.send(self.peer, &first);
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].status.0, 401);
        let authz = self.answer(&r[0], self.password);
        let second = self.register_text(extra, Some(&authz));
        let mut r = net.send(self.peer, &second);
        assert_eq!(r.len(), 1, "one answer to the authenticated REGISTER");
        r.remove(0)
    }
}
