//! Call flows through the real binary, beyond the basic call of `calls_sipp.rs`: TCP on
//! both legs, late offer, early media, CANCEL (plain, and crossing the callee's 200), hold
//! variants, a wrong password on INVITE, in-dialog OPTIONS, and DTMF by INFO.
//!
//! Each test starts its own server and SIPp processes on free loopback ports. The callee is
//! a SIPp UAS registered as 202 (over UDP by the raw client, or over TCP by SIPp itself);
//! the caller is SIPp as 201 with digest. What each side must see is checked inside the
//! scenarios (`tests/sipp/flow_*.xml`: `ereg`/`strcmp` with `check_it`, any unexpected
//! message fails the call); here we check SIPp's exit codes and error logs, the call
//! record, and that no call and no relay port is left behind.

mod common;

use common::{free_port, free_udp_pair, require_tool, terminate, wait_bounded, wait_for};
use common::{Phone, Server, Sipp, SippRun};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a callee may take to play its scenario to the end.
const CALLEE_LIMIT: Duration = Duration::from_secs(40);

/// A SIPp callee in the background with its own working directory, message trace and error
/// log. Stopped (by its id) when dropped, so a failing test leaves nothing behind.
struct Callee {
    child: Option<Child>,
    work: tempfile::TempDir,
    scenario: String,
}

impl Callee {
    /// A UAS on `127.0.0.1:port` over UDP playing `tests/sipp/SCENARIO.xml` once.
    fn udp(scenario: &str, port: u16) -> Callee {
        Callee::spawn(scenario, |cmd| {
            cmd.args(["-p", &port.to_string(), "-m", "1"]);
        })
    }

    /// A callee over TCP that registers itself as `user` on its one connection to the
    /// server (`scenario`), and plays the call it then receives in `ooc_scenario` (SIPp's
    /// out-of-call scenario: the PBX's INVITE has a Call-ID of its own).
    fn tcp(server: &Server, scenario: &str, ooc_scenario: &str, user: &str) -> Callee {
        let password = server.password(user);
        let ooc = common::sipp_dir().join(format!("{ooc_scenario}.xml"));
        let addr = server.addr().to_string();
        Callee::spawn(scenario, |cmd| {
            let users = cmd
                .get_current_dir()
                .expect("working directory")
                .join("users.csv");
            std::fs::write(
                &users,
                format!(
                    "SEQUENTIAL\n{user};[authentication username={user} password={password}];\n"
                ),
            )
            .expect("write injection file");
            cmd.arg(&addr)
                .args(["-t", "t1", "-p", &free_port().to_string(), "-m", "1"])
                .arg("-inf")
                .arg(&users)
                .arg("-oocsf")
                .arg(&ooc);
        })
    }

    fn spawn(scenario: &str, configure: impl FnOnce(&mut Command)) -> Callee {
        let sipp = require_tool("sipp", "sip-tester");
        let work = tempfile::Builder::new()
            .prefix("strowger-flow-uas-")
            .tempdir()
            .expect("temporary directory");
        let screen = File::create(work.path().join("screen.log")).expect("screen file");
        let mut cmd = Command::new(sipp);
        cmd.current_dir(work.path())
            .arg("-sf")
            .arg(common::sipp_dir().join(format!("{scenario}.xml")))
            .args(["-i", "127.0.0.1"])
            .args(["-cp", &free_udp_pair().to_string()])
            .args(["-mp", &free_udp_pair().to_string()])
            .args(["-recv_timeout", "20000", "-nostdin"])
            .arg("-trace_err")
            .arg("-error_file")
            .arg(work.path().join("errors.log"))
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(work.path().join("messages.log"));
        configure(&mut cmd);
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(screen.try_clone().expect("clone file")))
            .stderr(Stdio::from(screen))
            .spawn()
            .expect("start the SIPp callee");
        Callee {
            child: Some(child),
            work,
            scenario: scenario.to_string(),
        }
    }

    fn file(&self, name: &str) -> String {
        let path: PathBuf = self.work.path().join(name);
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    }

    /// Every message the callee received, in order.
    fn received(&self) -> Vec<String> {
        received_messages(&self.file("messages.log"))
    }

    /// Waits (bounded) for the callee to end and asserts that its scenario succeeded: exit
    /// code 0, nothing in its error log.
    fn finish(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let (status, timed_out) = wait_bounded(&mut child, CALLEE_LIMIT);
        let errors = self.file("errors.log");
        assert!(
            !timed_out && status.is_some_and(|s| s.success()) && significant(&errors).is_empty(),
            "the SIPp callee {} failed ({status:?}{})\n--- errors ---\n{errors}\n\
             --- messages (last 120 lines) ---\n{}\n--- screen (last 30 lines) ---\n{}",
            self.scenario,
            if timed_out {
                ", killed: time limit"
            } else {
                ""
            },
            common::tail(&self.file("messages.log"), 120),
            common::tail(&self.file("screen.log"), 30),
        );
    }
}

impl Drop for Callee {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            terminate(child, Duration::from_secs(5));
        }
    }
}

/// The lines of a SIPp error log that report a problem: not its heading, and not the note
/// that an out-of-call request went to the out-of-call scenario (which is how the TCP
/// callee receives its call).
fn significant(errors: &str) -> Vec<&str> {
    errors
        .lines()
        .filter(|l| {
            !l.trim().is_empty()
                && !l.starts_with("The following events occurred")
                && !l.contains("using the out-of-call scenario")
        })
        .collect()
}

/// The messages of a SIPp `-trace_msg` file that SIPp received (not those it sent).
fn received_messages(log: &str) -> Vec<String> {
    log.split("-----------------------------------------------")
        .filter_map(|chunk| {
            let mut lines = chunk.lines();
            lines.next()?; // the time stamp
            let what = lines.next()?;
            what.contains("message received").then(|| {
                let rest: Vec<&str> = lines.collect();
                rest.join("\n").trim().to_string()
            })
        })
        .collect()
}

/// The audio port of the first session description in `text` that has `origin`.
fn sdp_port(text: &str, origin: &str) -> Option<u16> {
    let at = text.find(origin)?;
    text[at..]
        .lines()
        .find_map(|l| l.strip_prefix("m=audio "))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Registers 202 (raw client over UDP) with its contact on the SIPp callee's port.
fn register_callee(server: &Server, port: u16) {
    let mut phone = Phone::new(server, "202", &server.password("202"));
    let r = phone.register(&[format!("<sip:202@127.0.0.1:{port}>")], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
}

/// The SIPp caller as 201 calling 202 with `scenario`.
fn caller(server: &Server, scenario: &str) -> Sipp {
    Sipp::new(scenario)
        .user("201", &server.password("201"))
        .key("callee", "202")
}

/// A one-call SIPp run must have succeeded with an empty error log.
fn assert_clean(run: &SippRun, what: &str) {
    assert_eq!(run.code, Some(0), "{what} failed\n{run}");
    assert!(run.errors.trim().is_empty(), "{what} logged errors\n{run}");
}

/// After a call: no call in progress, every relay port pair back in the pool, and a call
/// record with a line containing each of `record` (e.g. "201 -> 202  200" and the cause).
/// Waits up to 10 s for the server to get there; the panic shows where it stands.
fn assert_call_over(server: &Server, record: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let calls = server.cli_ok(&["calls", "--history", "5"]);
        let status = server.cli_ok(&["status"]);
        let media = status
            .lines()
            .find(|l| l.starts_with("media port pairs: "))
            .unwrap_or_else(|| panic!("no media line in:\n{status}"))
            .to_string();
        let nums: Vec<u64> = media
            .split_whitespace()
            .filter_map(|w| w.parse().ok())
            .collect();
        let idle = calls.contains("active calls: 0");
        let pool_full = nums.len() == 2 && nums[0] == nums[1] && nums[0] > 0;
        let recorded =
            record.is_empty() || calls.lines().any(|l| record.iter().all(|r| l.contains(r)));
        if idle && pool_full && recorded {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "10 s after the call the server still has: no call in progress {idle}, media pool \
             full {pool_full}, record {record:?} {recorded}\n{media}\n{calls}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How many received responses in a SIPp message trace have this status line start (e.g.
/// "SIP/2.0 487") and this CSeq method.
fn responses(trace: &str, status: &str, method: &str) -> usize {
    received_messages(trace)
        .iter()
        .filter(|m| {
            m.starts_with(status)
                && m.lines().any(|l| {
                    l.strip_prefix("CSeq:")
                        .is_some_and(|v| v.trim().ends_with(&format!(" {method}")))
                })
        })
        .count()
}

/// The received requests with this method (request line starts with it), in order.
fn requests<'a>(msgs: &'a [String], method: &str) -> Vec<&'a String> {
    let prefix = format!("{method} ");
    msgs.iter().filter(|m| m.starts_with(&prefix)).collect()
}

#[test]
fn a_call_over_tcp_reaches_the_callee_on_its_registration_connection() {
    let server = Server::start();
    let mut callee = Callee::tcp(&server, "flow_tcp_callee", "flow_tcp_callee_ooc", "202");
    let binding = wait_for(
        "202 registered over TCP by the SIPp callee",
        Duration::from_secs(20),
        || {
            let st = server.status();
            st.bindings_of("202").first().map(|b| (*b).clone())
        },
    );
    assert!(binding.source.starts_with("tcp:"), "{}", binding.line);
    let run = caller(&server, "call_uac").tcp().run(&server);
    assert_clean(&run, "the TCP caller");
    callee.finish();
    // The callee only has its one TCP connection (-t t1): INVITE, ACK and BYE came on it.
    let log = callee.file("messages.log");
    assert!(
        log.contains("TCP message received") && !log.contains("UDP message"),
        "{log}"
    );
    let msgs = callee.received();
    for method in ["INVITE", "ACK", "BYE"] {
        assert_eq!(requests(&msgs, method).len(), 1, "{method}:\n{log}");
    }
    let invite = requests(&msgs, "INVITE")[0];
    let caller_port = sdp_port(&run.messages, "o=caller").expect("the caller's SDP");
    assert!(
        invite.contains("\nVia: SIP/2.0/TCP ")
            && invite.contains("\no=caller ")
            && invite.contains("\nc=IN IP4 127.0.0.1\n")
            && sdp_port(invite, "o=caller").is_some_and(|p| p != caller_port),
        "the INVITE must come over TCP with the caller's SDP on the relay (the caller's own \
         media port is {caller_port}):\n{invite}"
    );
    // And the caller's answers came back over its TCP connection.
    assert!(
        run.messages.contains("TCP message received") && !run.messages.contains("UDP message"),
        "{run}"
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn late_offer_the_answer_in_the_ack_is_anchored_on_the_relay() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_late_offer_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_late_offer_uac").run(&server);
    assert_clean(&run, "the late-offer caller");
    callee.finish();
    let msgs = callee.received();
    let acks = requests(&msgs, "ACK");
    assert_eq!(acks.len(), 1, "{msgs:#?}");
    assert!(
        acks[0].contains("c=IN IP4 127.0.0.1") && !acks[0].contains("127.0.0.55"),
        "the ACK's answer is not anchored on the relay:\n{}",
        acks[0]
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn early_media_the_183_reaches_the_caller_with_its_session_description() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_early_media_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_early_media_uac").run(&server);
    assert_clean(&run, "the early-media caller");
    callee.finish();
    assert!(
        run.messages.contains("SIP/2.0 183 Session Progress"),
        "{run}"
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn a_cancel_after_ringing_gives_487_and_cancels_the_callee() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_cancel_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_cancel_uac").run(&server);
    assert_clean(&run, "the cancelling caller");
    callee.finish();
    assert_eq!(requests(&callee.received(), "CANCEL").len(), 1);
    // One 487, not retransmitted: our ACK matched the INVITE transaction.
    assert_eq!(
        responses(&run.messages, "SIP/2.0 487", "INVITE"),
        1,
        "{run}"
    );
    assert_call_over(&server, &["201 -> 202  487"]);
}

#[test]
fn a_cancel_crossing_the_callees_200_ends_both_sides() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_cancel_race_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_cancel_uac").run(&server);
    assert_clean(&run, "the cancelling caller");
    // The caller got 487 and never the callee's 200; the callee's 200 was ACKed and its
    // dialog ended with BYE (RFC 5407 §3.1.2).
    assert_eq!(
        responses(&run.messages, "SIP/2.0 487", "INVITE"),
        1,
        "{run}"
    );
    assert_eq!(
        responses(&run.messages, "SIP/2.0 200", "INVITE"),
        0,
        "{run}"
    );
    callee.finish();
    assert_call_over(&server, &["201 -> 202  487"]);
}

#[test]
fn hold_with_inactive_and_with_a_zero_address_then_resume() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_hold_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_hold_uac").run(&server);
    assert_clean(&run, "the holding caller");
    callee.finish();
    // The call's INVITE and three re-INVITEs, each relayed once; the c=0.0.0.0 hold
    // reached the callee as a=sendonly on the relay's address.
    let msgs = callee.received();
    let invites = requests(&msgs, "INVITE");
    assert_eq!(invites.len(), 4, "{msgs:#?}");
    assert!(
        invites[2].contains("\na=sendonly") && !invites[2].contains("0.0.0.0"),
        "{}",
        invites[2]
    );
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn an_invite_with_a_wrong_password_gets_403_and_rings_nobody() {
    let server = Server::start();
    // 202 is registered on a raw socket: it must hear nothing.
    let mut phone = Phone::new(&server, "202", &server.password("202"));
    let contact = format!("<sip:202@{}>", phone.udp.local());
    let r = phone.register(&[contact], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    let run = Sipp::new("flow_auth_rejected_uac")
        .user("201", "Not-The-Right-Pass-42")
        .key("callee", "202")
        .run(&server);
    assert_clean(&run, "the caller with a wrong password");
    // One 403, not retransmitted during the scenario's last second: our ACK matched.
    assert_eq!(
        responses(&run.messages, "SIP/2.0 403", "INVITE"),
        1,
        "{run}"
    );
    let st = server.status();
    assert!(st.counter("auth-failures") >= 1, "{}", st.text);
    phone
        .udp
        .assert_silence(Duration::from_millis(500), "a refused INVITE");
    let calls = server.cli_ok(&["calls", "--history", "5"]);
    assert!(
        calls.contains("active calls: 0") && !calls.contains("201 -> 202"),
        "{calls}"
    );
    assert_call_over(&server, &[]);
}

#[test]
fn an_options_inside_the_call_is_answered_200_by_the_server() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("call_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_options_uac").run(&server);
    assert_clean(&run, "the caller sending OPTIONS");
    callee.finish();
    assert!(requests(&callee.received(), "OPTIONS").is_empty());
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}

#[test]
fn dtmf_by_info_reaches_the_callee_with_its_body() {
    let server = Server::start();
    let port = free_port();
    let mut callee = Callee::udp("flow_info_uas", port);
    register_callee(&server, port);
    let run = caller(&server, "flow_info_uac").run(&server);
    assert_clean(&run, "the caller sending INFO");
    callee.finish();
    let msgs = callee.received();
    let infos = requests(&msgs, "INFO");
    assert_eq!(infos.len(), 2, "{msgs:#?}");
    assert!(infos[0].ends_with("Signal=5\nDuration=160"), "{}", infos[0]);
    assert!(infos[1].ends_with("\n\n5"), "{}", infos[1]);
    assert_call_over(&server, &["201 -> 202  200", "caller hung up"]);
}
