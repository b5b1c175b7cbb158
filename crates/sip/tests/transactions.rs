//! Transaction layer stories (RFC 3261 §17 with RFC 6026) on a simulated clock: no sockets,
//! no sleeping. `Sim::step` jumps to `poll_timeout()` and checks that the work happens at
//! exactly that instant: not a microsecond before, and nothing left due after.

#[path = "transactions/sim.rs"]
mod sim;

use sim::{ms, request, response, status, tcp, text, udp, Sim};
use sip::header::HeaderName;
use sip::message::{Method, StatusCode};
use sip::transaction::{
    RequestOutcome, ResponseOutcome, TimerConfig, TransactionError, TransactionEvent,
    TransactionId, TransactionState,
};
use std::time::Duration;

// ---- non-INVITE server (§17.2.2) ----

#[test]
fn non_invite_server_absorbs_retransmissions_and_resends_last_response() {
    let mut sim = Sim::new();
    let req = request(Method::Options, "z9hG4bKopt1", 1);
    let id = sim.new_server(&req, udp());
    assert_eq!(sim.layer.state(id), Some(TransactionState::Trying));
    assert_eq!(sim.layer.poll_timeout(), None, "no timer before a response");

    assert_eq!(sim.receive(&req, udp()), RequestOutcome::Retransmission);
    assert!(sim.take_sent().is_empty(), "Trying absorbs silently");

    sim.respond(id, response(&req, 183)).unwrap();
    assert_eq!(sim.receive(&req, udp()), RequestOutcome::Retransmission);
    let sent = sim.take_sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].1, sent[1].1, "the provisional is re-sent as is");

    sim.respond(id, response(&req, 200)).unwrap();
    assert_eq!(sim.layer.state(id), Some(TransactionState::Completed));
    assert_eq!(sim.receive(&req, udp()), RequestOutcome::Retransmission);
    let sent = sim.take_sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(status(&sent[1].1), 200);
    assert_eq!(sent[1].1.dest, udp());
    assert_eq!(sent[1].1.tx, Some(TransactionId::Server(id)));

    let again = sim.respond(id, response(&req, 500));
    assert!(matches!(
        again,
        Err(TransactionError::ResponseNotAllowed { status: 500, .. })
    ));
}

#[test]
fn timer_j_frees_non_invite_server_after_64_t1_on_udp() {
    let mut sim = Sim::new();
    let req = request(Method::Register, "z9hG4bKreg1", 1);
    let id = sim.new_server(&req, udp());
    sim.run_until(ms(300));
    sim.respond(id, response(&req, 200)).unwrap();
    assert_eq!(sim.step(), Some(ms(300) + ms(32_000)));
    assert!(sim.layer.is_empty());
    let events = sim.take_events();
    assert_eq!(
        events,
        [(ms(32_300), TransactionEvent::Terminated(id.into()))]
    );
    // Once it is gone, the same request is new again.
    assert!(matches!(sim.receive(&req, udp()), RequestOutcome::New(..)));
}

#[test]
fn timer_j_is_zero_on_tcp() {
    let mut sim = Sim::new();
    let req = request(Method::Register, "z9hG4bKreg2", 1);
    let id = sim.new_server(&req, tcp());
    sim.respond(id, response(&req, 200)).unwrap();
    assert!(sim.layer.is_empty());
    assert_eq!(sim.layer.poll_timeout(), None);
    assert_eq!(sim.take_sent().len(), 1);
    assert_eq!(
        sim.take_events(),
        [(ms(0), TransactionEvent::Terminated(id.into()))]
    );
}

// ---- INVITE server (§17.2.1, RFC 6026 §7.1) ----

#[test]
fn invite_server_sends_100_trying_after_200_ms_unless_the_tu_answers() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKinv0", 1);
    let id = sim.new_server(&req, udp());
    assert_eq!(sim.step(), Some(ms(200)));
    let sent = sim.take_sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(status(&sent[0].1), 100);
    assert!(!text(&sent[0].1).contains("tag=tb"));
    // A retransmitted INVITE gets the 100 again.
    assert_eq!(sim.receive(&req, udp()), RequestOutcome::Retransmission);
    assert_eq!(status(&sim.take_sent()[0].1), 100);
    assert_eq!(sim.layer.poll_timeout(), None);

    let req2 = request(Method::Invite, "z9hG4bKinv0b", 2);
    let id2 = sim.new_server(&req2, udp());
    sim.respond(id2, response(&req2, 180)).unwrap();
    assert_eq!(sim.layer.poll_timeout(), None, "the TU answered first");
    assert_eq!(sim.layer.state(id), Some(TransactionState::Proceeding));

    let config = TimerConfig {
        auto_trying: None,
        ..TimerConfig::default()
    };
    let mut quiet = Sim::with(config);
    quiet.new_server(&req, udp());
    assert_eq!(quiet.layer.poll_timeout(), None);
}

#[test]
fn invite_server_retransmits_non_2xx_with_timer_g_doubling_to_t2_until_ack() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKinv1", 1);
    let id = sim.new_server(&req, udp());
    sim.respond(id, response(&req, 486)).unwrap();
    assert_eq!(sim.layer.state(id), Some(TransactionState::Completed));
    sim.run_until(ms(20_000));
    assert_eq!(
        sim.send_times(),
        [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5]
    );

    assert_eq!(sim.receive(&req, udp()), RequestOutcome::Retransmission);
    assert_eq!(status(&sim.take_sent()[0].1), 486);

    let ack = request(Method::Ack, "z9hG4bKinv1", 1);
    assert_eq!(sim.receive(&ack, udp()), RequestOutcome::Ack(id));
    assert_eq!(sim.layer.state(id), Some(TransactionState::Confirmed));
    assert_eq!(sim.receive(&ack, udp()), RequestOutcome::Retransmission);
    assert_eq!(sim.receive(&req, udp()), RequestOutcome::Retransmission);
    // Timer I: T4 after the ACK, and no retransmission meanwhile.
    assert_eq!(sim.step(), Some(ms(25_000)));
    assert!(sim.take_sent().is_empty());
    assert!(sim.layer.is_empty());
}

#[test]
fn invite_server_timer_h_gives_up_waiting_for_ack() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKinv2", 1);
    let id = sim.new_server(&req, udp());
    sim.respond(id, response(&req, 603)).unwrap();
    sim.run_all();
    let times = sim.send_times();
    assert_eq!(times.last(), Some(&31.5), "last Timer G before H");
    assert_eq!(times.len(), 11);
    assert_eq!(
        sim.take_events(),
        [
            (ms(32_000), TransactionEvent::AckTimeout(id)),
            (ms(32_000), TransactionEvent::Terminated(id.into())),
        ]
    );
    assert!(sim.layer.is_empty());
}

#[test]
fn invite_server_on_tcp_has_no_timer_g_and_a_zero_timer_i() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKinv3", 1);
    let id = sim.new_server(&req, tcp());
    sim.respond(id, response(&req, 404)).unwrap();
    assert_eq!(sim.layer.poll_timeout(), Some(sim.start + ms(32_000)));
    let ack = request(Method::Ack, "z9hG4bKinv3", 1);
    assert_eq!(sim.receive(&ack, tcp()), RequestOutcome::Ack(id));
    assert!(sim.layer.is_empty());
    assert_eq!(sim.layer.poll_timeout(), None);
}

#[test]
fn invite_server_2xx_enters_accepted_and_absorbs_retransmissions() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKinv4", 1);
    let id = sim.new_server(&req, udp());
    sim.respond(id, response(&req, 180)).unwrap();
    sim.run_until(ms(1_000));
    sim.respond(id, response(&req, 200)).unwrap();
    assert_eq!(sim.layer.state(id), Some(TransactionState::Accepted));
    assert_eq!(sim.take_sent().len(), 2);

    // RFC 6026: the INVITE retransmission is absorbed, not answered and not new.
    assert_eq!(sim.receive(&req, udp()), RequestOutcome::Retransmission);
    assert!(sim.take_sent().is_empty());
    // The TU's own 2xx retransmission passes through; nothing else does.
    sim.respond(id, response(&req, 200)).unwrap();
    assert_eq!(status(&sim.take_sent()[0].1), 200);
    assert!(sim.respond(id, response(&req, 486)).is_err());
    assert!(sim.respond(id, response(&req, 180)).is_err());
    // The ACK for the 2xx goes to the TU, whether or not it (wrongly) reuses the branch.
    let same_branch = request(Method::Ack, "z9hG4bKinv4", 1);
    assert!(matches!(
        sim.receive(&same_branch, udp()),
        RequestOutcome::AckFor2xx(_)
    ));
    let own_branch = request(Method::Ack, "z9hG4bKack4", 1);
    assert!(matches!(
        sim.receive(&own_branch, udp()),
        RequestOutcome::AckFor2xx(_)
    ));
    // Timer L.
    assert_eq!(sim.step(), Some(ms(33_000)));
    assert!(sim.layer.is_empty());
}

// ---- INVITE client (§17.1.1, RFC 6026 §7.2) ----

#[test]
fn invite_client_timer_a_doubles_and_timer_b_times_out() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKc1", 1);
    let id = sim.send(&req, udp());
    assert_eq!(sim.layer.state(id), Some(TransactionState::Calling));
    sim.run_all();
    assert_eq!(sim.send_times(), [0.0, 0.5, 1.5, 3.5, 7.5, 15.5, 31.5]);
    assert_eq!(
        sim.take_events(),
        [
            (ms(32_000), TransactionEvent::Timeout(id)),
            (ms(32_000), TransactionEvent::Terminated(id.into())),
        ]
    );
    assert!(sim.layer.is_empty());

    let mut sim = Sim::new();
    let id = sim.send(&req, tcp());
    assert_eq!(sim.step(), Some(ms(32_000)), "no Timer A on TCP, only B");
    assert_eq!(sim.send_times(), [0.0]);
    assert_eq!(sim.take_events()[0].1, TransactionEvent::Timeout(id));
}

#[test]
fn invite_client_acks_non_2xx_itself_with_the_same_branch() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKc2", 7);
    let id = sim.send(&req, udp());
    sim.run_until(ms(600));
    assert_eq!(sim.take_sent().len(), 2);

    let ringing = response(&req, 180);
    assert_eq!(
        sim.response_in(&ringing),
        ResponseOutcome::Response(id, ringing.clone())
    );
    assert_eq!(sim.layer.state(id), Some(TransactionState::Proceeding));
    assert_eq!(sim.layer.poll_timeout(), None, "A and B stop in Proceeding");

    let busy = response(&req, 486);
    assert_eq!(
        sim.response_in(&busy),
        ResponseOutcome::Response(id, busy.clone())
    );
    let sent = sim.take_sent();
    assert_eq!(sent.len(), 1);
    let ack = text(&sent[0].1);
    assert!(
        ack.starts_with("ACK sip:bob@b.example SIP/2.0\r\n"),
        "{ack}"
    );
    assert!(ack.contains("branch=z9hG4bKc2"));
    assert!(ack.contains("CSeq: 7 ACK\r\n"));
    assert!(ack.contains("To: <sip:bob@b.example>;tag=tb\r\n"));

    assert_eq!(sim.response_in(&busy), ResponseOutcome::Retransmission);
    assert_eq!(sim.take_sent()[0].1.bytes, sent[0].1.bytes);
    // Timer D: 32 s after the final response.
    assert_eq!(sim.step(), Some(ms(32_600)));
    assert!(sim.layer.is_empty());

    let mut sim = Sim::new();
    sim.send(&req, tcp());
    sim.response_in(&busy);
    assert!(sim.layer.is_empty(), "Timer D is zero on TCP");
    assert_eq!(sim.take_sent().len(), 2, "INVITE and ACK");
}

#[test]
fn invite_client_2xx_goes_to_the_tu_and_accepted_lasts_timer_m() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKc3", 1);
    let id = sim.send(&req, udp());
    sim.run_until(ms(100));
    let ok = response(&req, 200);
    assert_eq!(
        sim.response_in(&ok),
        ResponseOutcome::Response(id, ok.clone())
    );
    assert_eq!(sim.layer.state(id), Some(TransactionState::Accepted));
    assert_eq!(
        sim.take_sent().len(),
        1,
        "the transaction does not ACK a 2xx"
    );
    // Retransmissions and other forks' 2xx all reach the TU.
    assert_eq!(
        sim.response_in(&ok),
        ResponseOutcome::Response(id, ok.clone())
    );
    let mut fork = ok.clone();
    fork.headers
        .set(HeaderName::To, "<sip:bob@b.example>;tag=other");
    assert!(matches!(
        sim.response_in(&fork),
        ResponseOutcome::Response(..)
    ));
    assert_eq!(
        sim.response_in(&response(&req, 500)),
        ResponseOutcome::Retransmission
    );
    assert_eq!(sim.step(), Some(ms(32_100)));
    assert!(sim.layer.is_empty());
    assert_eq!(sim.response_in(&ok), ResponseOutcome::Stray(ok.clone()));
}

#[test]
fn cancelled_invite_client_gives_up_64_t1_after_the_cancel() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKc4", 1);
    let id = sim.send(&req, udp());
    sim.response_in(&response(&req, 180));
    sim.run_until(ms(10_000));
    let cancel = sim.layer.build_cancel(id).expect("still cancellable");
    assert_eq!(cancel.headers.get(&HeaderName::CSeq), Some("1 CANCEL"));
    let cid = sim.send(&cancel, udp());
    assert!(matches!(
        sim.layer.send_request(sim.now, cancel.clone(), udp()),
        Err(TransactionError::DuplicateBranch(_))
    ));
    let ok = response(&cancel, 200);
    assert_eq!(
        sim.response_in(&ok),
        ResponseOutcome::Response(cid, ok.clone())
    );
    sim.run_all();
    let events: Vec<_> = sim.take_events().into_iter().collect();
    assert!(events.contains(&(ms(15_000), TransactionEvent::Terminated(cid.into()))));
    assert!(events.contains(&(ms(42_000), TransactionEvent::Timeout(id))));
    assert!(sim.layer.is_empty());
    assert!(sim.layer.build_cancel(id).is_none());
}

// ---- non-INVITE client (§17.1.2) ----

#[test]
fn non_invite_client_timer_e_doubles_to_t2_and_timer_f_times_out() {
    let mut sim = Sim::new();
    let req = request(Method::Register, "z9hG4bKn1", 1);
    let id = sim.send(&req, udp());
    sim.run_all();
    assert_eq!(
        sim.send_times(),
        [0.0, 0.5, 1.5, 3.5, 7.5, 11.5, 15.5, 19.5, 23.5, 27.5, 31.5]
    );
    assert_eq!(
        sim.take_events(),
        [
            (ms(32_000), TransactionEvent::Timeout(id)),
            (ms(32_000), TransactionEvent::Terminated(id.into())),
        ]
    );
}

#[test]
fn non_invite_client_in_proceeding_retransmits_every_t2() {
    let mut sim = Sim::new();
    let req = request(Method::Options, "z9hG4bKn2", 1);
    let id = sim.send(&req, udp());
    sim.run_until(ms(200));
    let trying = response(&req, 100);
    assert!(matches!(
        sim.response_in(&trying),
        ResponseOutcome::Response(..)
    ));
    assert_eq!(sim.layer.state(id), Some(TransactionState::Proceeding));
    sim.run_until(ms(13_000));
    assert_eq!(sim.send_times(), [0.0, 0.5, 4.5, 8.5, 12.5]);
}

#[test]
fn non_invite_client_timer_k_absorbs_response_retransmissions() {
    let mut sim = Sim::new();
    let req = request(Method::Register, "z9hG4bKn3", 1);
    let id = sim.send(&req, udp());
    let ok = response(&req, 200);
    assert_eq!(
        sim.response_in(&ok),
        ResponseOutcome::Response(id, ok.clone())
    );
    assert_eq!(sim.response_in(&ok), ResponseOutcome::Retransmission);
    assert_eq!(sim.step(), Some(ms(5_000)), "Timer K is T4");
    assert!(sim.layer.is_empty());

    let mut sim = Sim::new();
    sim.send(&req, tcp());
    sim.response_in(&ok);
    assert!(sim.layer.is_empty(), "Timer K is zero on TCP");
}

#[test]
fn transport_error_ends_the_client_transaction() {
    let mut sim = Sim::new();
    let req = request(Method::Options, "z9hG4bKn4", 1);
    let id = sim.send(&req, tcp());
    let sent = sim.take_sent();
    let tx = sent[0].1.tx.expect("tagged with its transaction");
    sim.layer.handle_transport_error(sim.now, tx);
    assert_eq!(
        sim.take_events(),
        [
            (ms(0), TransactionEvent::TransportError(id.into())),
            (ms(0), TransactionEvent::Terminated(id.into())),
        ]
    );
    assert!(sim.layer.is_empty());
    assert_eq!(sim.layer.poll_timeout(), None);
}

// ---- CANCEL (§9.2) and strays ----

#[test]
fn cancel_matching_a_ringing_invite_is_answered_and_reported() {
    let mut sim = Sim::new();
    let invite = request(Method::Invite, "z9hG4bKx1", 1);
    let id = sim.new_server(&invite, udp());
    sim.respond(id, response(&invite, 180)).unwrap();
    sim.take_sent();

    let cancel = request(Method::Cancel, "z9hG4bKx1", 1);
    match sim.receive(&cancel, udp()) {
        RequestOutcome::Cancel { invite, request } => {
            assert_eq!(invite, id);
            assert_eq!(request, cancel);
        }
        other => panic!("expected Cancel, got {other:?}"),
    }
    let sent = sim.take_sent();
    assert_eq!(status(&sent[0].1), 200);
    let ok = text(&sent[0].1);
    assert!(
        ok.contains("CSeq: 1 CANCEL\r\n") && ok.contains(";tag=tb"),
        "{ok}"
    );
    assert_eq!(sim.receive(&cancel, udp()), RequestOutcome::Retransmission);
    assert_eq!(sim.take_sent()[0].1.bytes, sent[0].1.bytes);

    sim.respond(id, response(&invite, 487)).unwrap();
    let ack = request(Method::Ack, "z9hG4bKx1", 1);
    assert_eq!(sim.receive(&ack, udp()), RequestOutcome::Ack(id));
    sim.run_all();
    assert!(sim.layer.is_empty());
}

#[test]
fn cancel_after_the_final_response_or_without_a_match_is_answered_here() {
    let mut sim = Sim::new();
    let invite = request(Method::Invite, "z9hG4bKx2", 1);
    let id = sim.new_server(&invite, udp());
    sim.respond(id, response(&invite, 200)).unwrap();
    let late = request(Method::Cancel, "z9hG4bKx2", 1);
    assert_eq!(
        sim.receive(&late, udp()),
        RequestOutcome::Answered(StatusCode::OK)
    );
    let unknown = request(Method::Cancel, "z9hG4bKnothing", 1);
    assert_eq!(
        sim.receive(&unknown, udp()),
        RequestOutcome::Answered(StatusCode::CALL_DOES_NOT_EXIST)
    );
    let codes: Vec<u16> = sim.take_sent().iter().map(|(_, t)| status(t)).collect();
    assert_eq!(codes, [200, 200, 481]);
}

#[test]
fn unmatched_responses_and_acks_are_returned() {
    let mut sim = Sim::new();
    let req = request(Method::Options, "z9hG4bKs1", 1);
    let resp = response(&req, 200);
    assert_eq!(sim.response_in(&resp), ResponseOutcome::Stray(resp.clone()));
    let mut no_via = resp.clone();
    no_via.headers.remove(&HeaderName::Via);
    assert_eq!(
        sim.response_in(&no_via),
        ResponseOutcome::Stray(no_via.clone())
    );
    // Same branch, other method: does not match (§17.1.3).
    sim.send(&req, udp());
    let mut other = resp.clone();
    other.headers.set(HeaderName::CSeq, "1 INFO");
    assert!(matches!(sim.response_in(&other), ResponseOutcome::Stray(_)));
    let ack = request(Method::Ack, "z9hG4bKs2", 1);
    assert!(matches!(
        sim.receive(&ack, udp()),
        RequestOutcome::AckFor2xx(_)
    ));
}

#[test]
fn bad_inputs_are_errors() {
    let mut sim = Sim::new();
    let mut req = request(Method::Options, "z9hG4bKe1", 1);
    req.headers.remove(&HeaderName::Via);
    let r = sim.layer.handle_request(sim.now, req.clone(), udp());
    assert_eq!(r, Err(TransactionError::MissingVia));
    let ack = request(Method::Ack, "z9hG4bKe2", 1);
    let r = sim.layer.send_request(sim.now, ack, udp());
    assert_eq!(r, Err(TransactionError::AckIsNotATransaction));
    let legacy = request(Method::Options, "1234", 1);
    let r = sim.layer.send_request(sim.now, legacy, udp());
    assert_eq!(r, Err(TransactionError::MissingBranch));
    let good = request(Method::Options, "z9hG4bKe3", 1);
    let id = sim.new_server(&good, udp());
    let r = sim.layer.respond(sim.now, id, response(&good, 99));
    assert_eq!(r, Err(TransactionError::InvalidStatus(99)));
    sim.respond(id, response(&good, 200)).unwrap();
    sim.run_all();
    let r = sim.layer.respond(sim.now, id, response(&good, 200));
    assert_eq!(r, Err(TransactionError::UnknownTransaction(id.into())));
    assert!(sim.layer.is_empty());
}

#[test]
fn transport_error_ends_a_server_transaction_except_in_accepted() {
    let mut sim = Sim::new();
    let req = request(Method::Invite, "z9hG4bKt1", 1);
    let id = sim.new_server(&req, tcp());
    sim.respond(id, response(&req, 200)).unwrap();
    sim.layer.handle_transport_error(sim.now, id.into());
    assert_eq!(sim.layer.state(id), Some(TransactionState::Accepted));
    let req2 = request(Method::Invite, "z9hG4bKt2", 1);
    let id2 = sim.new_server(&req2, tcp());
    sim.layer.handle_transport_error(sim.now, id2.into());
    assert_eq!(sim.layer.state(id2), None);
    let events: Vec<_> = sim.take_events().into_iter().map(|(_, e)| e).collect();
    assert_eq!(
        events,
        [
            TransactionEvent::TransportError(id.into()),
            TransactionEvent::TransportError(id2.into()),
            TransactionEvent::Terminated(id2.into()),
        ]
    );
}

#[test]
fn rfc2543_requests_are_keyed_on_call_id_and_cseq() {
    let mut sim = Sim::new();
    let invite = request(Method::Invite, "old-style-1", 5);
    let id = sim.new_server(&invite, udp());
    assert_eq!(sim.receive(&invite, udp()), RequestOutcome::Retransmission);
    sim.respond(id, response(&invite, 486)).unwrap();
    let ack = request(Method::Ack, "old-style-1", 5);
    assert_eq!(sim.receive(&ack, udp()), RequestOutcome::Ack(id));
    let next = request(Method::Invite, "old-style-1", 6);
    assert!(matches!(sim.receive(&next, udp()), RequestOutcome::New(..)));
}

#[test]
fn thirty_thousand_transactions_run_out_cleanly() {
    let mut sim = Sim::new();
    for i in 0..30_000u32 {
        let req = request(Method::Options, &format!("z9hG4bKm{i}"), i);
        let id = sim.new_server(&req, udp());
        sim.respond(id, response(&req, 200)).unwrap();
        sim.now += Duration::from_micros(10);
    }
    assert_eq!(sim.layer.len(), 30_000);
    assert_eq!(sim.layer.poll_timeout(), Some(sim.start + ms(32_000)));
    sim.take_sent();
    sim.run_until(ms(40_000));
    assert!(sim.layer.is_empty());
    assert_eq!(sim.take_events().len(), 30_000);
}
