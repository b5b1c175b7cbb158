//! SIPp callees for call tests: a UAS in the background with its own working directory,
//! message trace and error log, checked when it finishes; and the checks made after a call
//! (nothing left in progress, every relay port back, the call record written).

use super::{free_port, free_udp_pair, require_tool, terminate, wait_bounded};
use super::{Phone, Server, Sipp, SippRun};
use std::fs::File;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a callee may take to play its scenario to the end.
pub const CALLEE_LIMIT: Duration = Duration::from_secs(40);

/// A SIPp callee in the background with its own working directory, message trace and error
/// log. Stopped (by its id) when dropped, so a failing test leaves nothing behind.
pub struct Callee {
    child: Option<Child>,
    /// Its working directory (logs, and files a test puts there).
    pub work: tempfile::TempDir,
    scenario: String,
}

impl Callee {
    /// A UAS on `127.0.0.1:port` over UDP playing `tests/sipp/SCENARIO.xml` once.
    pub fn udp(scenario: &str, port: u16) -> Callee {
        Callee::udp_with(scenario, port, &[])
    }

    /// The same, with more SIPp arguments (e.g. `-rtp_echo`).
    pub fn udp_with(scenario: &str, port: u16, extra: &[&str]) -> Callee {
        Callee::spawn(scenario, |cmd| {
            cmd.args(["-p", &port.to_string(), "-m", "1"]).args(extra);
        })
    }

    /// A callee over TCP that registers itself as `user` on its one connection to the
    /// server (`scenario`), and plays the call it then receives in `ooc_scenario` (SIPp's
    /// out-of-call scenario: the PBX's INVITE has a Call-ID of its own).
    pub fn tcp(server: &Server, scenario: &str, ooc_scenario: &str, user: &str) -> Callee {
        let password = server.password(user);
        let ooc = super::sipp_dir().join(format!("{ooc_scenario}.xml"));
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

    pub fn spawn(scenario: &str, configure: impl FnOnce(&mut Command)) -> Callee {
        let sipp = require_tool("sipp", "sip-tester");
        let work = tempfile::Builder::new()
            .prefix("strowger-flow-uas-")
            .tempdir()
            .expect("temporary directory");
        let screen = File::create(work.path().join("screen.log")).expect("screen file");
        let mut cmd = Command::new(sipp);
        cmd.current_dir(work.path())
            .arg("-sf")
            .arg(super::sipp_dir().join(format!("{scenario}.xml")))
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

    pub fn file(&self, name: &str) -> String {
        let path: PathBuf = self.work.path().join(name);
        String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
    }

    /// Every message the callee received, in order.
    pub fn received(&self) -> Vec<String> {
        received_messages(&self.file("messages.log"))
    }

    /// Waits (bounded) for the callee to end and asserts that its scenario succeeded: exit
    /// code 0, nothing in its error log.
    pub fn finish(&mut self) {
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
            super::tail(&self.file("messages.log"), 120),
            super::tail(&self.file("screen.log"), 30),
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
pub fn significant(errors: &str) -> Vec<&str> {
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
pub fn received_messages(log: &str) -> Vec<String> {
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

/// Registers 202 (raw client over UDP) with its contact on the SIPp callee's port.
pub fn register_callee(server: &Server, port: u16) {
    register_as(server, "202", port);
}

/// Registers `extension` (raw client over UDP) with its contact on a SIPp callee's port.
pub fn register_as(server: &Server, extension: &str, port: u16) {
    let mut phone = Phone::new(server, extension, &server.password(extension));
    let r = phone.register(
        &[format!("<sip:{extension}@127.0.0.1:{port}>")],
        Some(600),
        "MD5",
    );
    assert_eq!(r.status, 200, "{}", r.raw);
}

/// The SIPp caller as 201 calling 202 with `scenario`.
pub fn caller(server: &Server, scenario: &str) -> Sipp {
    Sipp::new(scenario)
        .user("201", &server.password("201"))
        .key("callee", "202")
}

/// A one-call SIPp run must have succeeded with an empty error log.
pub fn assert_clean(run: &SippRun, what: &str) {
    assert_eq!(run.code, Some(0), "{what} failed\n{run}");
    assert!(run.errors.trim().is_empty(), "{what} logged errors\n{run}");
}

/// After a call: no call in progress, every relay port pair back in the pool, and a call
/// record with a line containing each of `record` (e.g. "201 -> 202  200" and the cause).
/// Waits up to 10 s for the server to get there; the panic shows where it stands.
pub fn assert_call_over(server: &Server, record: &[&str]) {
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
