//! Call-story helpers: a scripted caller that authenticates its INVITE, scripted callees,
//! and a relay that writes down what call control asks of it (music on hold included).

use super::{Net, Phone};
use pbx::{PbxEvent, PbxSettings, Peer};
use sip::auth::{answer_challenge, pick_challenge};
use sip::header::{AuthParams, HeaderName};
use sip::{Message, Method, Request, Response, StatusCode};

pub const SDP_A: &str = "v=0\r\no=alice 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n";
pub const SDP_B: &str = "v=0\r\no=bob 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 42000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

pub struct Caller {
    pub phone: Phone,
    pub cseq: u32,
    pub branch: u32,
    /// Header lines added to every INVITE (each ending in CRLF).
    pub extra_headers: String,
}

impl Caller {
    pub fn invite_text(&mut self, to: &str, authz: Option<&AuthParams>) -> String {
        self.invite_text_with(to, authz, SDP_A)
    }

    pub fn invite_text_with(&mut self, to: &str, authz: Option<&AuthParams>, body: &str) -> String {
        self.cseq += 1;
        self.branch += 1;
        let auth = authz.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        let port = self.phone.peer.addr.port();
        format!(
            "INVITE sip:{to}@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-inv-{}-{};rport\r\n\
             Max-Forwards: 70\r\n\
             {extra}From: \"Alice\" <sip:{ext}@127.0.0.1>;tag=alice-tag\r\n\
             To: <sip:{to}@127.0.0.1>\r\n\
             Call-ID: {cid}\r\n\
             CSeq: {cseq} INVITE\r\n\
             Contact: <sip:{ext}@127.0.0.1:{port}>\r\n\
             Content-Type: application/sdp\r\n\
             {auth}Content-Length: {len}\r\n\r\n{body}",
            self.phone.call_id,
            self.branch,
            ext = self.phone.ext,
            cid = self.phone.call_id,
            cseq = self.cseq,
            len = body.len(),
            extra = self.extra_headers,
        )
    }

    /// INVITE, take the 401, INVITE again with credentials; returns what the core sent.
    pub fn call(&mut self, net: &mut Net, to: &str) -> Vec<(Peer, Message)> {
        self.call_with_body(net, to, SDP_A)
    }

    /// A new call (the Call-ID made unique with `suffix`) to a number the PBX answers
    /// itself (a mailbox, a call flow): the final status and reason, the 200 acknowledged.
    pub fn call_answered_by_pbx(
        &mut self,
        net: &mut Net,
        suffix: &str,
        number: &str,
    ) -> (u16, String) {
        self.phone.call_id.push_str(suffix);
        let out = self.call(net, number);
        let r = responses_to(&out, self.phone.peer)
            .into_iter()
            .find(|r| r.status.0 >= 200)
            .expect("a final response");
        if r.status.0 == 200 {
            net.deliver(self.phone.peer, self.ack_text(&to_tag(&r)).as_bytes());
        }
        (r.status.0, r.reason)
    }

    pub fn call_with_body(&mut self, net: &mut Net, to: &str, body: &str) -> Vec<(Peer, Message)> {
        let first = self.invite_text_with(to, None, body);
        let out = net.deliver(self.phone.peer, first.as_bytes());
        let challenge = responses_to(&out, self.phone.peer)
            .into_iter()
            .find(|r| r.status.0 == 401)
            .expect("a 401 to the first INVITE");
        // The ACK for the 401 (same branch, RFC 3261 §17.1.1.3) ends the retransmissions.
        let port = self.phone.peer.addr.port();
        let ack = format!(
            "ACK sip:{to}@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-inv-{}-{};rport\r\n\
             Max-Forwards: 70\r\n\
             From: \"Alice\" <sip:{ext}@127.0.0.1>;tag=alice-tag\r\n\
             To: {to_hdr}\r\n\
             Call-ID: {cid}\r\n\
             CSeq: {cseq} ACK\r\n\
             Content-Length: 0\r\n\r\n",
            self.phone.call_id,
            self.branch,
            ext = self.phone.ext,
            to_hdr = challenge.headers.get(&HeaderName::To).unwrap(),
            cid = self.phone.call_id,
            cseq = self.cseq,
        );
        assert!(net.deliver(self.phone.peer, ack.as_bytes()).is_empty());
        let challenges: Vec<AuthParams> = challenge
            .headers
            .get_all(&HeaderName::WwwAuthenticate)
            .map(|v| AuthParams::parse(v).unwrap())
            .collect();
        let authz = answer_challenge(
            pick_challenge(&challenges).unwrap(),
            "INVITE",
            &format!("sip:{to}@127.0.0.1"),
            self.phone.ext,
            self.phone.password,
            "c1",
            1,
        )
        .unwrap();
        let second = self.invite_text_with(to, Some(&authz), body);
        net.deliver(self.phone.peer, second.as_bytes())
    }

    pub fn in_dialog(&mut self, method: &str, to_tag: &str) -> String {
        self.cseq += 1;
        self.branch += 1;
        let port = self.phone.peer.addr.port();
        format!(
            "{method} sip:202@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-dlg-{};rport\r\n\
             Max-Forwards: 70\r\n\
             From: \"Alice\" <sip:201@127.0.0.1>;tag=alice-tag\r\n\
             To: <sip:202@127.0.0.1>;tag={to_tag}\r\n\
             Call-ID: {}\r\n\
             CSeq: {} {method}\r\n\
             Content-Length: 0\r\n\r\n",
            self.branch, self.phone.call_id, self.cseq,
        )
    }

    /// CANCEL for the last INVITE sent (same branch and CSeq number, RFC 3261 §9.1).
    pub fn cancel_text(&mut self, to: &str) -> String {
        let (cseq, branch) = (self.cseq, self.branch);
        let text = self
            .invite_text(to, None)
            .replace("INVITE sip:", "CANCEL sip:")
            .replace(
                &format!("CSeq: {} INVITE", cseq + 1),
                &format!("CSeq: {cseq} CANCEL"),
            )
            .replace(
                &format!("z9hG4bK-inv-{}-{}", self.phone.call_id, branch + 1),
                &format!("z9hG4bK-inv-{}-{branch}", self.phone.call_id),
            );
        text.split("Content-Type")
            .next()
            .unwrap_or_default()
            .to_string()
            + "Content-Length: 0\r\n\r\n"
    }

    pub fn ack_text(&self, to_tag: &str) -> String {
        let port = self.phone.peer.addr.port();
        format!(
            "ACK sip:202@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-ack-{};rport\r\n\
             Max-Forwards: 70\r\n\
             From: \"Alice\" <sip:201@127.0.0.1>;tag=alice-tag\r\n\
             To: <sip:202@127.0.0.1>;tag={to_tag}\r\n\
             Call-ID: {}\r\n\
             CSeq: {} ACK\r\n\
             Content-Length: 0\r\n\r\n",
            self.branch, self.phone.call_id, self.cseq,
        )
    }
}

pub fn responses_to(out: &[(Peer, Message)], peer: Peer) -> Vec<Response> {
    out.iter()
        .filter(|(p, _)| *p == peer)
        .filter_map(|(_, m)| match m {
            Message::Response(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

pub fn requests_to(out: &[(Peer, Message)], peer: Peer) -> Vec<Request> {
    out.iter()
        .filter(|(p, _)| *p == peer)
        .filter_map(|(_, m)| match m {
            Message::Request(r) => Some(r.clone()),
            _ => None,
        })
        .collect()
}

/// The To tag of a response (the caller's dialog tag chosen by the PBX).
pub fn to_tag(r: &Response) -> String {
    r.headers
        .get(&HeaderName::To)
        .and_then(|v| v.split("tag=").nth(1))
        .expect("a To tag")
        .to_string()
}

pub fn statuses(rs: &[Response]) -> Vec<u16> {
    rs.iter().map(|r| r.status.0).collect()
}

/// A callee's answer to a request it received.
pub fn answer(req: &Request, status: u16, tag: &str, sdp: Option<&str>) -> Vec<u8> {
    let mut r = Response::for_request(req, StatusCode(status));
    if status > 100 {
        let to = r.headers.get(&HeaderName::To).unwrap().to_string();
        if !to.contains("tag=") {
            r.headers.set(HeaderName::To, format!("{to};tag={tag}"));
        }
    }
    if (200..300).contains(&status) || (180..190).contains(&status) {
        r.headers
            .push(HeaderName::Contact, "<sip:202@127.0.0.1:5072>".to_string());
    }
    if let Some(sdp) = sdp {
        r.headers.push(HeaderName::ContentType, "application/sdp");
        r.body = sdp.as_bytes().to_vec();
    }
    r.to_bytes()
}

pub fn setup(callee_contacts: &[u16]) -> (Net, Caller, Vec<Peer>) {
    setup_with(PbxSettings::default(), callee_contacts)
}

/// Like [`setup`], with these settings.
pub fn setup_with(settings: PbxSettings, callee_contacts: &[u16]) -> (Net, Caller, Vec<Peer>) {
    let mut net = Net::new(settings);
    let mut peers = Vec::new();
    for &port in callee_contacts {
        let mut b = Phone::new("202", "Secret-202-abc", port);
        let r = b.register(&mut net, &format!("Contact: <sip:202@127.0.0.1:{port}>\n"));
        assert_eq!(r.status.0, 200);
        peers.push(b.peer);
    }
    let caller = Caller {
        phone: Phone::new("201", "Secret-201-abc", 5070),
        cseq: 0,
        branch: 0,
        extra_headers: String::new(),
    };
    (net, caller, peers)
}

pub fn call_ended(net: &mut Net) -> Option<pbx::CallRecord> {
    std::iter::from_fn(|| net.pbx.poll_event()).find_map(|e| match e {
        PbxEvent::CallEnded(r) => Some(r),
        _ => None,
    })
}

#[derive(Clone, Default)]
pub struct ScriptedRelay {
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    pub exhausted: bool,
    /// Sessions opened so far: the k-th (from 0) is session 7+k on ports 10000+4k and
    /// 10002+4k.
    pub opened: u16,
}

impl pbx::MediaRelay for ScriptedRelay {
    fn open(&mut self) -> Option<pbx::RelayPorts> {
        if self.exhausted {
            return None;
        }
        self.log.lock().unwrap().push("open".into());
        let k = self.opened;
        self.opened += 1;
        Some(pbx::RelayPorts {
            session: 7 + u64::from(k),
            caller_port: 10000 + 4 * k,
            callee_port: 10002 + 4 * k,
        })
    }
    fn set_remote(&mut self, session: u64, side: pbx::Side, rtp: std::net::SocketAddr) {
        self.log
            .lock()
            .unwrap()
            .push(format!("remote {session} {side:?} {rtp}"));
    }
    fn start_music(
        &mut self,
        session: u64,
        side: pbx::Side,
        music: Option<&str>,
        payload_type: u8,
    ) {
        self.log.lock().unwrap().push(format!(
            "music {session} {side:?} {} pt {payload_type}",
            music.unwrap_or("system")
        ));
    }
    fn start_queue_announcement(
        &mut self,
        session: u64,
        side: pbx::Side,
        position: usize,
        announcement: &pbx::QueueAnnouncement,
        music: Option<&str>,
        payload_type: u8,
    ) {
        // The group's own words, when it has them, are logged before the place.
        let words = announcement
            .words
            .as_deref()
            .map(|w| format!("say {w} "))
            .unwrap_or_default();
        let place = if announcement.say_place {
            format!("place {position}")
        } else {
            "no place".to_string()
        };
        self.log.lock().unwrap().push(format!(
            "queue {session} {side:?} {words}{place} {} pt {payload_type}",
            music.unwrap_or("system")
        ));
    }
    fn stop_music(&mut self, session: u64, side: pbx::Side) {
        self.log
            .lock()
            .unwrap()
            .push(format!("stop music {session} {side:?}"));
    }
    /// The k-th party (from 0) gets handle k and port 12000+2k.
    fn add_party(
        &mut self,
        session: u64,
        role: pbx::PartyRole,
        payload_type: u8,
    ) -> Option<pbx::PartyPorts> {
        let mut log = self.log.lock().unwrap();
        let k = log
            .iter()
            .filter(|l| l.starts_with("party ") && !l.starts_with("party remote"))
            .count() as u32;
        log.push(format!("party {session} {role:?} pt {payload_type}"));
        Some(pbx::PartyPorts {
            party: k,
            port: 12000 + 2 * k as u16,
        })
    }
    fn set_party_remote(&mut self, session: u64, party: u32, rtp: std::net::SocketAddr) {
        self.log
            .lock()
            .unwrap()
            .push(format!("party remote {session} {party} {rtp}"));
    }
    fn remove_party(&mut self, session: u64, party: u32) {
        self.log
            .lock()
            .unwrap()
            .push(format!("remove party {session} {party}"));
    }
    fn swap_sides(&mut self, session: u64) {
        self.log.lock().unwrap().push(format!("swap {session}"));
    }
    fn listen_for_keys(&mut self, session: u64, side: pbx::Side, payload_type: u8) {
        self.log
            .lock()
            .unwrap()
            .push(format!("keys {session} {side:?} pt {payload_type}"));
    }
    fn close(&mut self, session: u64) -> String {
        self.log.lock().unwrap().push(format!("close {session}"));
        "a->b 10 packets".into()
    }
    fn default_ip(&self) -> std::net::IpAddr {
        "127.0.0.1".parse().unwrap()
    }
}

/// Answers a call through a scripted relay; returns the callee's INVITE and the caller's
/// To tag.
pub fn answered_call(net: &mut Net, a: &mut Caller, b: Peer) -> (Request, String) {
    answered_call_via(net, a, b, ScriptedRelay::default())
}

/// Like [`answered_call`], through this relay (keep a clone to read its log).
pub fn answered_call_via(
    net: &mut Net,
    a: &mut Caller,
    b: Peer,
    relay: ScriptedRelay,
) -> (Request, String) {
    net.pbx.set_media_relay(Box::new(relay));
    let out = a.call(net, "202");
    let inv = requests_to(&out, b).remove(0);
    let out = net.deliver(b, &answer(&inv, 200, "bob", Some(SDP_B)));
    let ok = responses_to(&out, a.phone.peer).remove(0);
    let a_tag = to_tag(&ok);
    net.deliver(a.phone.peer, a.ack_text(&a_tag).as_bytes());
    (inv, a_tag)
}

/// Registers extension `ext` (password `Secret-<ext>-abc`) with one contact on `port`.
pub fn register_at(net: &mut Net, ext: &str, port: u16) -> Peer {
    let ext: &'static str = Box::leak(ext.to_string().into_boxed_str());
    let password: &'static str = Box::leak(format!("Secret-{ext}-abc").into_boxed_str());
    let mut phone = Phone::new(ext, password, port);
    let r = phone.register(net, &format!("Contact: <sip:{ext}@127.0.0.1:{port}>\n"));
    assert_eq!(r.status.0, 200, "{ext} registers");
    phone.peer
}

/// A caller (201) on a core with these extensions.
pub fn caller_201() -> Caller {
    Caller {
        phone: Phone::new("201", "Secret-201-abc", 5070),
        cseq: 0,
        branch: 0,
        extra_headers: String::new(),
    }
}

/// A request from a callee in its dialog with us (it answered `inv`, listening on `port`,
/// with To tag `tag`): REFER, BYE and the like.
pub fn callee_request(
    inv: &Request,
    port: u16,
    tag: &str,
    method: &str,
    cseq: u32,
    extra: &str,
) -> Vec<u8> {
    let h = |n: HeaderName| inv.headers.get(&n).unwrap().to_string();
    format!(
        "{method} sip:201@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-{method}-{cseq};rport\r\n\
         Max-Forwards: 70\r\nFrom: {};tag={tag}\r\nTo: {}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\n\
         Contact: <sip:x@127.0.0.1:{port}>\r\n{extra}Content-Length: 0\r\n\r\n",
        h(HeaderName::To),
        h(HeaderName::From),
        h(HeaderName::CallId),
    )
    .into_bytes()
}

/// INVITEs sent to a phone, retransmissions (same Via branch) dropped.
pub fn invites_to(out: &[(Peer, Message)], peer: Peer) -> Vec<Request> {
    let mut seen = std::collections::HashSet::new();
    requests_to(out, peer)
        .into_iter()
        .filter(|r| r.method == Method::Invite)
        .filter(|r| seen.insert(r.headers.get(&HeaderName::Via).map(str::to_string)))
        .collect()
}

/// CANCELs sent to a phone, retransmissions (same Via branch) counted once.
pub fn cancels_to(out: &[(Peer, Message)], peer: Peer) -> usize {
    let branches: std::collections::HashSet<String> = requests_to(out, peer)
        .iter()
        .filter(|r| r.method == Method::Cancel)
        .filter_map(|r| r.headers.get(&HeaderName::Via).map(str::to_string))
        .collect();
    branches.len()
}

/// A caller other than 201: extension `ext` calling from the port its phone registered.
pub fn caller_on(ext: &'static str, port: u16) -> Caller {
    let password: &'static str = Box::leak(format!("Secret-{ext}-abc").into_boxed_str());
    Caller {
        phone: Phone::new(ext, password, port),
        cseq: 0,
        branch: 0,
        extra_headers: String::new(),
    }
}

/// The calls the core handed to the shell for voicemail since the events were last taken.
pub fn voicemail_calls(net: &mut super::Net) -> Vec<pbx::VoicemailCall> {
    net.events()
        .into_iter()
        .filter_map(|e| match e {
            pbx::PbxEvent::VoicemailCall(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// The final responses (200 and above) sent to `peer`.
pub fn finals(out: &[(Peer, Message)], peer: Peer) -> Vec<Response> {
    responses_to(out, peer)
        .into_iter()
        .filter(|r| r.status.0 >= 200)
        .collect()
}
