//! Business call features through the real binary, configured by `config apply` and
//! exercised with SIPp phones: ring-all and sequential hunt groups, forward on busy and
//! on no answer, do-not-disturb set by short code and kept in the configuration.

mod common;

use common::callee::{assert_call_over, register_as, Callee};
use common::{free_port, Phone, Server, Sipp};
use std::time::Duration;

/// Applies the configuration in force with `edit` made to it.
fn reconfigure(server: &Server, edit: impl FnOnce(String) -> String) {
    let doc = edit(server.export());
    let file = server.write_file("features.toml", &doc);
    server.cli_ok(&["config", "apply", file.to_str().expect("utf-8 path")]);
}

/// Gives the user on `extension` these `[users.forward]` lines (besides no_answer_secs).
fn forward(doc: String, extension: &str, lines: &str) -> String {
    let at = doc
        .find(&format!("extension = \"{extension}\""))
        .expect("the user is in the document");
    let (head, tail) = doc.split_at(at);
    let tail = tail.replacen(
        "[users.forward]\n",
        &format!("[users.forward]\n{lines}\n"),
        1,
    );
    head.to_string() + &tail
}

fn hunt_group<'a>(
    mode: &'a str,
    members: &'a str,
    extra: &'a str,
) -> impl FnOnce(String) -> String + 'a {
    move |doc| {
        format!(
            "{doc}\n[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmode = \"{mode}\"\n\
             members = [{members}]\n{extra}\n"
        )
    }
}

fn caller_of(server: &Server, number: &str) -> Sipp {
    Sipp::new("call_uac")
        .user("201", &server.password("201"))
        .key("callee", number)
}

/// 201 calls `number` from a SIPp caller that talks 3 s and hangs up (on a thread of
/// `scope`), and this returns once `strowger calls` shows every one of `shown`.
fn talking_caller<'s>(
    scope: &'s std::thread::Scope<'s, '_>,
    server: &'s Server,
    number: &'s str,
    shown: &[&str],
) -> std::thread::ScopedJoinHandle<'s, ()> {
    let caller = scope.spawn(move || {
        Sipp::new("pickup_caller_uac")
            .user("201", &server.password("201"))
            .key("callee", number)
            .expect_success(server);
    });
    common::wait_for(
        &format!("calls to show {shown:?}"),
        Duration::from_secs(10),
        || {
            let calls = server.cli_ok(&["calls"]);
            shown.iter().all(|s| calls.contains(s)).then_some(())
        },
    );
    caller
}

/// 201 calls `number` with 202 and 203 registered, each a SIPp callee playing its
/// scenario; both must play them out, and the call record must have `record`.
fn call_with_202_and_203(server: &Server, number: &str, scenarios: [&str; 2], record: &[&str]) {
    let (p2, p3) = (free_port(), free_port());
    let mut callees = [Callee::udp(scenarios[0], p2), Callee::udp(scenarios[1], p3)];
    register_as(server, "202", p2);
    register_as(server, "203", p3);
    caller_of(server, number).expect_success(server);
    for c in &mut callees {
        c.finish();
    }
    assert_call_over(server, record);
}

#[test]
fn ring_all_the_answering_member_wins_and_the_other_gets_cancel() {
    let server = Server::start();
    reconfigure(&server, hunt_group("collective", "\"202\", \"203\"", ""));
    call_with_202_and_203(
        &server,
        "300",
        ["call_uas", "flow_cancel_uas"],
        &["201 -> 300  200", "caller hung up"],
    );
}

#[test]
fn sequential_hunting_offers_the_next_member_when_one_does_not_answer() {
    let server = Server::start();
    reconfigure(
        &server,
        hunt_group("sequential", "\"202\", \"203\"", "no_answer_secs = 5"),
    );
    call_with_202_and_203(
        &server,
        "300",
        ["flow_cancel_uas", "call_uas"],
        &["201 -> 300  200"],
    );
}

#[test]
fn forward_on_busy_reaches_the_target() {
    let server = Server::start();
    reconfigure(&server, |doc| forward(doc, "202", "busy = \"203\""));
    call_with_202_and_203(
        &server,
        "202",
        ["busy_uas", "call_uas"],
        &["201 -> 202  200"],
    );
}

#[test]
fn forward_on_no_answer_reaches_the_target() {
    let server = Server::start();
    reconfigure(&server, |doc| {
        forward(doc, "202", "no_answer = \"203\"").replacen(
            "no_answer_secs = 15",
            "no_answer_secs = 5",
            // The first user block is 201's; 202's comes second.
            2,
        )
    });
    call_with_202_and_203(
        &server,
        "202",
        ["flow_cancel_uas", "call_uas"],
        &["201 -> 202  200"],
    );
}

#[test]
fn do_not_disturb_by_short_code_refuses_calls_and_is_kept_in_the_configuration() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "202", &server.password("202"));
    let r = phone.invite_with_auth("*08");
    assert_eq!(r.status, 200, "the short code is confirmed: {}", r.raw);
    let mut caller = Phone::new(&server, "201", &server.password("201"));
    let r = caller.invite_with_auth("202");
    assert_eq!(r.status, 486, "{}", r.raw);
    // Kept as a new configuration version by the extension, and so audited.
    common::wait_for(
        "the change in the configuration",
        std::time::Duration::from_secs(5),
        || {
            let doc = server.export();
            let at = doc.find("extension = \"202\"")?;
            doc[at..].lines().nth(1)?.eq("dnd = true").then_some(())
        },
    );
    let audit = server.cli_ok(&["audit"]);
    assert!(audit.contains("short code"), "{audit}");
    // Off again: the call rings through (nobody registered: 480).
    let r = phone.invite_with_auth("*09");
    assert_eq!(r.status, 200, "{}", r.raw);
    let r = caller.invite_with_auth("202");
    assert_eq!(r.status, 480, "{}", r.raw);
}

#[test]
fn blind_transfer_by_refer_reaches_the_target_and_releases_the_referrer() {
    let server = Server::start();
    let (p2, p3) = (free_port(), free_port());
    let mut referrer = Callee::udp("transfer_referrer_uas", p2);
    let mut target = Callee::udp("call_uas", p3);
    register_as(&server, "202", p2);
    register_as(&server, "203", p3);
    Sipp::new("transfer_uac")
        .user("201", &server.password("201"))
        .key("callee", "202")
        .expect_success(&server);
    referrer.finish();
    target.finish();
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn blind_transfer_by_the_caller_joins_the_callee_to_the_target() {
    let server = Server::start();
    let (p2, p3) = (free_port(), free_port());
    let mut transferee = Callee::udp("hangup_uas", p2);
    let mut target = Callee::udp("caller_transfer_target_uas", p3);
    register_as(&server, "202", p2);
    register_as(&server, "203", p3);
    Sipp::new("caller_transfer_uac")
        .user("201", &server.password("201"))
        .key("callee", "202")
        .expect_success(&server);
    transferee.finish();
    target.finish();
    // The record is of the call as placed; 202's BYE ended it.
    assert_call_over(&server, &["201 -> 202  200", "callee hung up"]);
}

#[test]
fn directed_pickup_by_short_code_answers_a_call_ringing_elsewhere() {
    let server = Server::start();
    let p3 = free_port();
    let mut rings = Callee::udp("flow_cancel_uas", p3);
    register_as(&server, "203", p3);
    std::thread::scope(|s| {
        let caller = talking_caller(s, &server, "203", &["201 -> 203"]);
        // 202 picks it up from its own desk ('#' is %23 in a SIP URI).
        Sipp::new("pickup_uac")
            .user("202", &server.password("202"))
            .key("callee", "*31*203%23")
            .expect_success(&server);
        caller.join().expect("the caller's SIPp run");
    });
    rings.finish();
    assert_call_over(&server, &["201 -> 203  200", "caller hung up"]);
}

#[test]
fn attended_transfer_joins_the_caller_to_the_consulted_party_and_releases_the_transferor() {
    let server = Server::start();
    let p2 = free_port();
    // 202 answers two calls: 201's, then 203's (the consultation), and transfers 201 to
    // 203 with REFER and Replaces naming the second.
    let mut transferor = Callee::spawn("atx_transferor_uas", |cmd| {
        cmd.args(["-p", &p2.to_string(), "-m", "2"]);
    });
    register_as(&server, "202", p2);
    std::thread::scope(|s| {
        // 201 talks for 3 s, then hangs up: its BYE must reach 203.
        let caller = talking_caller(s, &server, "202", &["201 -> 202", "talking"]);
        let target = s.spawn(|| {
            Sipp::new("atx_target_uac")
                .user("203", &server.password("203"))
                .key("callee", "202")
                .expect_success(&server);
        });
        // The transferor's own account first: it shows best what went wrong.
        transferor.finish();
        target.join().expect("the target's SIPp run");
        caller.join().expect("the caller's SIPp run");
    });
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
    let history = server.cli_ok(&["calls", "--history", "5"]);
    assert!(
        history.contains("joined to another call by attended transfer"),
        "the consultation call's record says where it went:\n{history}"
    );
}

#[test]
fn a_call_parked_by_transfer_to_the_park_code_is_taken_back_from_another_phone() {
    let server = Server::start();
    let p2 = free_port();
    // 202 answers and transfers the call to *37*1# (park slot 1), then hangs up.
    let mut parker = Callee::spawn("park_referrer_uas", |cmd| {
        cmd.args(["-p", &p2.to_string(), "-m", "1"])
            .args(["-key", "slot_code", "*37*1%23"]);
    });
    register_as(&server, "202", p2);
    std::thread::scope(|s| {
        let caller = talking_caller(s, &server, "202", &["201 -> park 1"]);
        parker.finish();
        // 203 takes it back with *38*1#; 201's BYE then reaches 203.
        Sipp::new("pickup_uac")
            .user("203", &server.password("203"))
            .key("callee", "*38*1%23")
            .expect_success(&server);
        caller.join().expect("the caller's SIPp run");
    });
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn hot_desk_login_sends_the_users_calls_to_the_desk_and_is_kept() {
    let server = Server::start();
    reconfigure(&server, |doc| {
        let at = doc.find("extension = \"205\"").expect("a user on 205");
        let (head, tail) = doc.split_at(at);
        let tail = tail.replacen(
            "extension = \"205\"\n",
            "extension = \"205\"\nlogin_code = \"4711\"\n",
            1,
        );
        head.to_string() + &tail
    });
    // From desk 206: a wrong code is refused, the right one logs 205's user in.
    let mut desk = Phone::new(&server, "206", &server.password("206"));
    let r = desk.invite_with_auth("*35*205*1111%23");
    assert_eq!(r.status, 403, "{}", r.raw);
    let r = desk.invite_with_auth("*35*205*4711%23");
    assert_eq!(r.status, 200, "the login is confirmed: {}", r.raw);
    common::wait_for(
        "the login in the configuration",
        Duration::from_secs(5),
        || {
            let doc = server.export();
            let at = doc.find("extension = \"205\"")?;
            doc[at..]
                .lines()
                .take(4)
                .any(|l| l == "hot_desk_at = \"206\"")
                .then_some(())
        },
    );
    // A call to 205 rings the desk's phone, which answers.
    let p6 = free_port();
    let mut at_desk = Callee::udp("call_uas", p6);
    register_as(&server, "206", p6);
    Sipp::new("call_uac")
        .user("201", &server.password("201"))
        .key("callee", "205")
        .expect_success(&server);
    at_desk.finish();
    assert_call_over(&server, &["201 -> 205  200"]);
}
