//! Message waiting indication on the sans-IO core: `message-summary` subscriptions (RFC 3842
//! over RFC 6665) — subscribe, notify, refresh, unsubscribe, expiry, refusals — and
//! unsolicited NOTIFYs to registered phones that do not subscribe.

mod common;

use common::calls::{requests_to, responses_to};
use common::{Net, Phone};
use pbx::{PbxEvent, PbxSettings, Peer, SubscriptionChange, SubscriptionEnd};
use sip::auth::{answer_challenge, pick_challenge};
use sip::header::{AuthParams, HeaderName};
use sip::{Message, Method, Request, Response, StatusCode};
use std::net::SocketAddr;
use std::time::Duration;

const WAITING: &str =
    "Messages-Waiting: yes\r\nMessage-Account: sip:201@127.0.0.1\r\nVoice-Message: 1/0 (0/0)\r\n";
const EMPTY: &str =
    "Messages-Waiting: no\r\nMessage-Account: sip:201@127.0.0.1\r\nVoice-Message: 0/1 (0/0)\r\n";

/// A phone that subscribes to a mailbox.
struct Subscriber {
    ext: &'static str,
    peer: Peer,
    call_id: String,
    cseq: u32,
    branch: u32,
    /// Our tag in the subscription dialog, once the 200 gave one.
    to_tag: Option<String>,
}

impl Subscriber {
    fn new(ext: &'static str, port: u16) -> Subscriber {
        Subscriber {
            ext,
            peer: Peer::udp(SocketAddr::from(([127, 0, 0, 1], port))),
            call_id: format!("sub-{ext}-{port}"),
            cseq: 0,
            branch: 0,
            to_tag: None,
        }
    }

    fn text(
        &mut self,
        mailbox: &str,
        event: &str,
        extra: &str,
        authz: Option<&AuthParams>,
    ) -> String {
        self.cseq += 1;
        self.branch += 1;
        let port = self.peer.addr.port();
        let auth = authz.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
        let to_tag = self
            .to_tag
            .as_ref()
            .map_or(String::new(), |t| format!(";tag={t}"));
        format!(
            "SUBSCRIBE sip:{mailbox}@127.0.0.1 SIP/2.0\r\n\
             Via: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK-sub-{port}-{};rport\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:{ext}@127.0.0.1>;tag=sub-{port}\r\n\
             To: <sip:{mailbox}@127.0.0.1>{to_tag}\r\n\
             Call-ID: {}\r\n\
             CSeq: {} SUBSCRIBE\r\n\
             Contact: <sip:{ext}@127.0.0.1:{port}>\r\n\
             Event: {event}\r\n\
             Accept: application/simple-message-summary\r\n\
             {extra}{auth}Content-Length: 0\r\n\r\n",
            self.branch,
            self.call_id,
            self.cseq,
            ext = self.ext,
        )
    }

    /// SUBSCRIBE, take the 401, SUBSCRIBE again with credentials; returns what the core
    /// sent to us after that.
    fn subscribe(
        &mut self,
        net: &mut Net,
        mailbox: &str,
        event: &str,
        extra: &str,
    ) -> Vec<(Peer, Message)> {
        let first = self.text(mailbox, event, extra, None);
        let out = net.deliver(self.peer, first.as_bytes());
        let challenge = responses_to(&out, self.peer)
            .into_iter()
            .find(|r| r.status.0 == 401)
            .expect("a 401 to the first SUBSCRIBE");
        let challenges: Vec<AuthParams> = challenge
            .headers
            .get_all(&HeaderName::WwwAuthenticate)
            .map(|v| AuthParams::parse(v).unwrap())
            .collect();
        let authz = answer_challenge(
            pick_challenge(&challenges).unwrap(),
            "SUBSCRIBE",
            &format!("sip:{mailbox}@127.0.0.1"),
            self.ext,
            &format!("Secret-{}-abc", self.ext),
            "c1",
            1,
        )
        .unwrap();
        let second = self.text(mailbox, event, extra, Some(&authz));
        let out = net.deliver(self.peer, second.as_bytes());
        if let Some(ok) = responses_to(&out, self.peer)
            .iter()
            .find(|r| r.status.0 == 200)
        {
            self.to_tag = Some(common::calls::to_tag(ok));
        }
        out
    }

    /// An in-dialog SUBSCRIBE (refresh, or unsubscribe with `Expires: 0`).
    fn refresh(&mut self, net: &mut Net, expires: u32) -> Vec<(Peer, Message)> {
        let text = self.text(
            self.ext,
            "message-summary",
            &format!("Expires: {expires}\r\n"),
            None,
        );
        net.deliver(self.peer, text.as_bytes())
    }
}

fn answer(net: &mut Net, to: Peer, req: &Request, status: u16) -> Vec<(Peer, Message)> {
    let resp = Response::for_request(req, StatusCode(status));
    net.deliver(to, &resp.to_bytes())
}

fn header(m: &Request, name: HeaderName) -> &str {
    m.headers.get(&name).unwrap_or_default()
}

fn resp_header(r: &Response, name: &str) -> String {
    r.headers
        .iter()
        .find(|h| h.name.as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.clone())
        .unwrap_or_default()
}

fn notifies(out: &[(Peer, Message)], to: Peer) -> Vec<Request> {
    requests_to(out, to)
        .into_iter()
        .filter(|r| r.method == Method::Notify)
        .collect()
}

fn body(r: &Request) -> String {
    String::from_utf8(r.body.clone()).unwrap()
}

fn net() -> Net {
    Net::with_extensions(PbxSettings::default(), &["201", "202"])
}

#[test]
fn subscribe_gets_200_and_a_notify_with_the_mailbox_state() {
    let mut net = net();
    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "Expires: 600\r\n");

    let oks = responses_to(&out, s.peer);
    assert_eq!(oks.len(), 1, "{oks:?}");
    let ok = &oks[0];
    assert_eq!(ok.status.0, 200);
    assert_eq!(ok.headers.get(&HeaderName::Expires), Some("600"));
    assert!(ok.headers.get(&HeaderName::Contact).is_some());
    assert!(s.to_tag.is_some(), "the 200 opens a dialog");

    let n = notifies(&out, s.peer);
    assert_eq!(n.len(), 1, "one NOTIFY at once");
    let n = &n[0];
    assert_eq!(header(n, HeaderName::Event), "message-summary");
    assert_eq!(
        header(n, HeaderName::SubscriptionState),
        "active;expires=600"
    );
    assert_eq!(
        header(n, HeaderName::ContentType),
        "application/simple-message-summary"
    );
    assert_eq!(body(n), WAITING);
    assert_eq!(n.uri.to_string(), "sip:201@127.0.0.1:5061");
    // In the dialog the 200 opened: our tag in From, the subscriber's in To.
    assert!(header(n, HeaderName::From).contains(s.to_tag.as_deref().unwrap()));
    assert!(header(n, HeaderName::To).contains("tag=sub-5061"));
    assert_eq!(header(n, HeaderName::CallId), s.call_id);
    assert_eq!(net.pbx.mwi_subscription_count(), 1);
    assert!(net.events().iter().any(|e| matches!(
        e,
        PbxEvent::MessageWaitingSubscription {
            change: SubscriptionChange::Started { expires: 600 },
            ..
        }
    )));
    assert!(answer(&mut net, s.peer, n, 200).is_empty());
}

#[test]
fn nothing_known_yet_is_no_messages_waiting() {
    let mut net = net();
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "");
    let ok = &responses_to(&out, s.peer)[0];
    assert_eq!(
        ok.headers.get(&HeaderName::Expires),
        Some("3600"),
        "default"
    );
    let n = &notifies(&out, s.peer)[0];
    assert_eq!(body(n), "Messages-Waiting: no\r\n");
}

#[test]
fn a_change_notifies_at_once_and_refresh_and_unsubscribe_follow_rfc_6665() {
    let mut net = net();
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "Expires: 600\r\n");
    let first = notifies(&out, s.peer).remove(0);
    answer(&mut net, s.peer, &first, 200);

    // A message arrives: the NOTIFY goes out within the same input, no timer involved.
    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    let out = net.outputs();
    let n = notifies(&out, s.peer);
    assert_eq!(n.len(), 1);
    assert_eq!(body(&n[0]), WAITING);
    let cseq = |r: &Request| header(r, HeaderName::CSeq).to_string();
    assert_eq!(cseq(&n[0]), "2 NOTIFY", "CSeq grows in the dialog");
    answer(&mut net, s.peer, &n[0], 200);

    // The same state again sends nothing.
    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    assert!(net.outputs().is_empty());

    // Refresh after 5 minutes: the expiry restarts and a NOTIFY confirms it.
    net.run_for(Duration::from_secs(300));
    let out = s.refresh(&mut net, 600);
    let ok = &responses_to(&out, s.peer)[0];
    assert_eq!(ok.status.0, 200);
    assert_eq!(ok.headers.get(&HeaderName::Expires), Some("600"));
    let n = notifies(&out, s.peer);
    assert_eq!(
        header(&n[0], HeaderName::SubscriptionState),
        "active;expires=600"
    );
    answer(&mut net, s.peer, &n[0], 200);
    // Past the first expiry, still alive.
    assert!(notifies(&net.run_for(Duration::from_secs(400)), s.peer).is_empty());
    assert_eq!(net.pbx.mwi_subscription_count(), 1);

    // Unsubscribe: 200 with Expires 0, then the final NOTIFY with the state.
    let out = s.refresh(&mut net, 0);
    let ok = &responses_to(&out, s.peer)[0];
    assert_eq!(ok.status.0, 200);
    assert_eq!(ok.headers.get(&HeaderName::Expires), Some("0"));
    let n = notifies(&out, s.peer);
    assert_eq!(n.len(), 1);
    assert_eq!(
        header(&n[0], HeaderName::SubscriptionState),
        "terminated;reason=timeout"
    );
    assert_eq!(body(&n[0]), WAITING);
    answer(&mut net, s.peer, &n[0], 200);
    assert_eq!(net.pbx.mwi_subscription_count(), 0);
    assert!(net.events().iter().any(|e| matches!(
        e,
        PbxEvent::MessageWaitingSubscription {
            change: SubscriptionChange::Ended(SubscriptionEnd::Unsubscribed),
            ..
        }
    )));

    // The dialog is gone: a further refresh gets 481, a change no NOTIFY.
    let out = s.refresh(&mut net, 600);
    assert_eq!(responses_to(&out, s.peer)[0].status.0, 481);
    net.pbx
        .set_message_summary(net.now, "201", false, EMPTY.as_bytes().to_vec());
    assert!(net.outputs().is_empty());
}

#[test]
fn an_unrefreshed_subscription_expires_on_time_with_a_final_notify() {
    let mut net = net();
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "Expires: 60\r\n");
    answer(&mut net, s.peer, &notifies(&out, s.peer)[0], 200);
    let subscribed = net.now;

    let early = net.run_for(Duration::from_millis(59_999));
    assert!(notifies(&early, s.peer).is_empty(), "not before its time");
    assert_eq!(
        net.pbx.poll_timeout(),
        Some(subscribed + Duration::from_secs(60))
    );
    let out = net.run_for(Duration::from_millis(1));
    let n = notifies(&out, s.peer);
    assert_eq!(n.len(), 1);
    assert_eq!(
        header(&n[0], HeaderName::SubscriptionState),
        "terminated;reason=timeout"
    );
    answer(&mut net, s.peer, &n[0], 200);
    assert_eq!(net.pbx.mwi_subscription_count(), 0);
    assert!(net.events().iter().any(|e| matches!(
        e,
        PbxEvent::MessageWaitingSubscription {
            change: SubscriptionChange::Ended(SubscriptionEnd::Expired),
            ..
        }
    )));
}

#[test]
fn refusals_489_403_404_423_and_clamping() {
    let mut net = net();
    let mut s = Subscriber::new("201", 5061);

    let out = s.subscribe(&mut net, "201", "presence", "");
    let r = &responses_to(&out, s.peer)[0];
    assert_eq!(r.status.0, 489);
    assert_eq!(resp_header(r, "Allow-Events"), "message-summary");

    let out = s.subscribe(&mut net, "202", "message-summary", "");
    assert_eq!(
        responses_to(&out, s.peer)[0].status.0,
        403,
        "another's mailbox"
    );

    let out = s.subscribe(&mut net, "999", "message-summary", "");
    assert_eq!(responses_to(&out, s.peer)[0].status.0, 404);

    let out = s.subscribe(&mut net, "201", "message-summary", "Expires: 30\r\n");
    let r = &responses_to(&out, s.peer)[0];
    assert_eq!(r.status.0, 423);
    assert_eq!(r.headers.get(&HeaderName::MinExpires), Some("60"));
    assert_eq!(net.pbx.mwi_subscription_count(), 0);

    let out = s.subscribe(&mut net, "201", "message-summary", "Expires: 86400\r\n");
    let r = &responses_to(&out, s.peer)[0];
    assert_eq!(r.status.0, 200);
    assert_eq!(
        r.headers.get(&HeaderName::Expires),
        Some("3600"),
        "shortened"
    );
    let n = &notifies(&out, s.peer)[0];
    assert_eq!(
        header(n, HeaderName::SubscriptionState),
        "active;expires=3600"
    );
}

#[test]
fn options_advertises_the_event_package() {
    let mut net = net();
    let peer = Peer::udp(SocketAddr::from(([127, 0, 0, 1], 5090)));
    let r = net.send(
        peer,
        "OPTIONS sip:127.0.0.1 SIP/2.0\n\
         Via: SIP/2.0/UDP 127.0.0.1:5090;branch=z9hG4bK-opt-1\n\
         Max-Forwards: 70\n\
         From: <sip:probe@127.0.0.1>;tag=p1\n\
         To: <sip:127.0.0.1>\n\
         Call-ID: opt-1\n\
         CSeq: 1 OPTIONS\n\
         Content-Length: 0\n\n",
    );
    assert_eq!(resp_header(&r[0], "Allow-Events"), "message-summary");
}

/// Registers `phone` (contact on its own port) and returns what the core sent.
fn register(net: &mut Net, phone: &mut Phone) -> Vec<(Peer, Message)> {
    let port = phone.peer.addr.port();
    let extra = format!(
        "Contact: <sip:{}@127.0.0.1:{port}>\nExpires: 3600\n",
        phone.ext
    );
    let first = phone.register_text(&extra, None).replace('\n', "\r\n");
    let out = net.deliver(phone.peer, first.as_bytes());
    let challenge = responses_to(&out, phone.peer).remove(0);
    let authz = phone.answer(&challenge, phone.password);
    let second = phone
        .register_text(&extra, Some(&authz))
        .replace('\n', "\r\n");
    let out = net.deliver(phone.peer, second.as_bytes());
    assert_eq!(responses_to(&out, phone.peer)[0].status.0, 200);
    out
}

#[test]
fn a_registered_phone_that_does_not_subscribe_gets_unsolicited_notifies() {
    let mut net = net();
    let mut phone = Phone::new("201", "Secret-201-abc", 5071);
    // Nothing known about the mailbox yet: registering sends no NOTIFY.
    let out = register(&mut net, &mut phone);
    assert!(notifies(&out, phone.peer).is_empty());

    // A message arrives: an out-of-dialog NOTIFY to the contact at once.
    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    let out = net.outputs();
    let n = notifies(&out, phone.peer);
    assert_eq!(n.len(), 1);
    let n = &n[0];
    assert_eq!(n.uri.to_string(), "sip:201@127.0.0.1:5071");
    assert_eq!(header(n, HeaderName::Event), "message-summary");
    assert_eq!(
        header(n, HeaderName::ContentType),
        "application/simple-message-summary"
    );
    assert!(
        !header(n, HeaderName::To).contains("tag="),
        "outside any dialog"
    );
    assert_eq!(body(n), WAITING);
    assert!(answer(&mut net, phone.peer, n, 200).is_empty());

    // A refresh of the same binding sends nothing; the phone restarting (new Call-ID)
    // is told the state again.
    assert!(notifies(&register(&mut net, &mut phone), phone.peer).is_empty());
    phone.call_id = "rebooted".into();
    let out = register(&mut net, &mut phone);
    let n = notifies(&out, phone.peer);
    assert_eq!(n.len(), 1, "state after a restart");
    assert_eq!(body(&n[0]), WAITING);
    answer(&mut net, phone.peer, &n[0], 200);

    // Another phone registering for 201 is told on registration.
    let mut desk = Phone::new("201", "Secret-201-abc", 5072);
    let out = register(&mut net, &mut desk);
    assert_eq!(notifies(&out, desk.peer).len(), 1);
    assert!(
        notifies(&out, phone.peer).is_empty(),
        "only the new contact"
    );
    answer(&mut net, desk.peer, &notifies(&out, desk.peer)[0], 200);

    // The message is heard: both lamps go off at once.
    net.pbx
        .set_message_summary(net.now, "201", false, EMPTY.as_bytes().to_vec());
    let out = net.outputs();
    for p in [phone.peer, desk.peer] {
        let n = notifies(&out, p);
        assert_eq!(n.len(), 1);
        assert_eq!(body(&n[0]), EMPTY);
        answer(&mut net, p, &n[0], 200);
    }
    // With nothing waiting, registering anew is not worth a NOTIFY (lamps start off).
    let mut third = Phone::new("201", "Secret-201-abc", 5073);
    assert!(notifies(&register(&mut net, &mut third), third.peer).is_empty());
}

#[test]
fn a_subscribed_phone_hears_only_its_dialog_not_unsolicited() {
    let mut net = net();
    let mut phone = Phone::new("201", "Secret-201-abc", 5061);
    register(&mut net, &mut phone);
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "");
    answer(&mut net, s.peer, &notifies(&out, s.peer)[0], 200);

    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    let n = notifies(&net.outputs(), s.peer);
    assert_eq!(n.len(), 1, "one NOTIFY, not two: {n:?}");
    assert!(
        header(&n[0], HeaderName::To).contains("tag="),
        "in the dialog"
    );
}

#[test]
fn changes_while_a_notify_is_unanswered_coalesce_into_one_more() {
    let mut net = net();
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "");
    let first = notifies(&out, s.peer).remove(0);

    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    net.pbx
        .set_message_summary(net.now, "201", false, EMPTY.as_bytes().to_vec());
    assert!(notifies(&net.outputs(), s.peer).is_empty(), "one in flight");
    let out = answer(&mut net, s.peer, &first, 200);
    let n = notifies(&out, s.peer);
    assert_eq!(n.len(), 1);
    assert_eq!(body(&n[0]), EMPTY, "the latest state");
}

#[test]
fn a_notify_answered_481_ends_the_subscription() {
    let mut net = net();
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "");
    let n = notifies(&out, s.peer).remove(0);
    net.events();
    assert!(answer(&mut net, s.peer, &n, 481).is_empty());
    assert_eq!(net.pbx.mwi_subscription_count(), 0);
    assert!(net.events().iter().any(|e| matches!(
        e,
        PbxEvent::MessageWaitingSubscription {
            change: SubscriptionChange::Ended(SubscriptionEnd::NotifyFailed { status: 481 }),
            ..
        }
    )));
    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    assert!(notifies(&net.outputs(), s.peer).is_empty());
    let out = s.refresh(&mut net, 600);
    assert_eq!(responses_to(&out, s.peer)[0].status.0, 481);
}

#[test]
fn an_unanswered_notify_ends_the_subscription() {
    let mut net = net();
    let mut s = Subscriber::new("201", 5061);
    s.subscribe(&mut net, "201", "message-summary", "");
    net.events();
    // Timer F: 64*T1 = 32 s of retransmissions, then the transaction gives up.
    let out = net.run_for(Duration::from_secs(33));
    assert!(notifies(&out, s.peer).len() > 1, "retransmitted meanwhile");
    assert_eq!(net.pbx.mwi_subscription_count(), 0);
    assert!(net.events().iter().any(|e| matches!(
        e,
        PbxEvent::MessageWaitingSubscription {
            change: SubscriptionChange::Ended(SubscriptionEnd::NotifyTimedOut),
            ..
        }
    )));
}

#[test]
fn a_fetch_with_expires_0_gets_one_terminated_notify() {
    let mut net = net();
    net.pbx
        .set_message_summary(net.now, "201", true, WAITING.as_bytes().to_vec());
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "201", "message-summary", "Expires: 0\r\n");
    assert_eq!(
        responses_to(&out, s.peer)[0]
            .headers
            .get(&HeaderName::Expires),
        Some("0")
    );
    let n = notifies(&out, s.peer);
    assert_eq!(n.len(), 1);
    assert_eq!(
        header(&n[0], HeaderName::SubscriptionState),
        "terminated;reason=timeout"
    );
    assert_eq!(body(&n[0]), WAITING);
    answer(&mut net, s.peer, &n[0], 200);
    assert_eq!(net.pbx.mwi_subscription_count(), 0);
    net.run_for(Duration::from_secs(40));
    assert_eq!(net.pbx.transaction_count(), 0, "nothing left behind");
}

#[test]
fn a_member_watches_its_hunt_groups_mailbox_and_no_other() {
    let mut net = net();
    let group = |number: &str, members: &[&str]| pbx::HuntGroupEntry {
        name: format!("g{number}"),
        number: number.into(),
        mode: pbx::HuntMode::Collective,
        members: members.iter().map(|m| m.to_string()).collect(),
        no_answer_after: Duration::from_secs(15),
        overflow: None,
        night_service_to: None,
        in_service: true,
        queue_limit: 0,
        voicemail_after: Some(Duration::from_secs(45)),
        time_profile: None,
    };
    let mut no_mailbox = group("302", &["201"]);
    no_mailbox.voicemail_after = None;
    net.pbx.set_features(pbx::Features::new(
        [],
        [group("300", &["201"]), group("301", &["202"]), no_mailbox],
    ));
    const GROUP_WAITING: &str = "Messages-Waiting: yes\r\nVoice-Message: 2/0 (0/0)\r\n";
    net.pbx
        .set_message_summary(net.now, "300", true, GROUP_WAITING.as_bytes().to_vec());
    let mut s = Subscriber::new("201", 5061);
    let out = s.subscribe(&mut net, "300", "message-summary", "");
    let ok = &responses_to(&out, s.peer)[0];
    assert_eq!(ok.status.0, 200, "201 is a member of 300");
    assert!(header_of(ok, HeaderName::Contact).starts_with("<sip:300@"));
    let n = notifies(&out, s.peer).remove(0);
    assert_eq!(body(&n), GROUP_WAITING);
    answer(&mut net, s.peer, &n, 200);
    // A new message in the group's mailbox reaches the member at once.
    net.pbx
        .set_message_summary(net.now, "300", false, EMPTY.as_bytes().to_vec());
    let out = net.outputs();
    assert_eq!(body(&notifies(&out, s.peer)[0]), EMPTY);

    // Not a member of 301; 302 has no mailbox.
    for (mailbox, port) in [("301", 5062), ("302", 5063)] {
        let mut t = Subscriber::new("201", port);
        let out = t.subscribe(&mut net, mailbox, "message-summary", "");
        assert_eq!(responses_to(&out, t.peer)[0].status.0, 403, "{mailbox}");
    }
    assert_eq!(net.pbx.mwi_subscription_count(), 1);
}

fn header_of(r: &Response, name: HeaderName) -> &str {
    r.headers.get(&name).unwrap_or_default()
}
