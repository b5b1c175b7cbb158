//! Shared helpers for the integration tests: start the real `strowger` binary on a free
//! loopback port with a temporary data directory, run its management subcommands, drive it
//! with SIPp scenarios, and talk raw SIP over UDP and TCP.
//!
//! Every wait is bounded, every process started here is kept as a `Child` and stopped by its
//! own id (never by name), and only loopback addresses are used, so the tests run in
//! parallel and leave nothing behind.
#![allow(dead_code)]

pub mod callee;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_strowger");

/// How long a server may take to start (the first start hashes the administrator password
/// with argon2, which is slow in a debug build).
const START_LIMIT: Duration = Duration::from_secs(120);

/// The last line of the start-up banner.
const BANNER_END: &str = "Ctrl-C stops the server";

// ---------------------------------------------------------------------------------------
// Ports, tools, processes
// ---------------------------------------------------------------------------------------

/// A loopback port that is free for both UDP and TCP right now.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let udp = UdpSocket::bind("127.0.0.1:0").expect("bind UDP port 0");
        let port = udp.local_addr().unwrap().port();
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no loopback port free for both UDP and TCP after 100 tries");
}

/// A loopback UDP port `p` such that `p + 2` is free too (SIPp's media echo ports).
pub fn free_udp_pair() -> u16 {
    for _ in 0..100 {
        let a = UdpSocket::bind("127.0.0.1:0").expect("bind UDP port 0");
        let port = a.local_addr().unwrap().port();
        if port < 65_000 && UdpSocket::bind(("127.0.0.1", port + 2)).is_ok() {
            return port;
        }
    }
    panic!("no pair of free UDP ports after 100 tries");
}

/// The path of a tool the tests need; fails the test with a clear message when it is
/// missing (the tests never skip: `scripts/test-all.sh` installs what they need).
pub fn require_tool(tool: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        let candidate = dir.join(tool);
        if candidate.is_file() {
            return candidate;
        }
    }
    panic!(
        "`{tool}` is not installed, and this test needs it. Run scripts/test-all.sh (it installs \
         everything the tests need) or `apt-get install {package}`."
    );
}

/// What a bounded command printed and how it ended.
#[derive(Debug)]
pub struct Output {
    /// The exit code; `None` when it was killed by a signal or by the time limit.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// True when the time limit ran out and the process was killed.
    pub timed_out: bool,
}

impl Output {
    /// True when it exited with code 0.
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }

    /// Standard output and standard error together.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit code {:?}{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            if self.timed_out {
                " (killed: time limit)"
            } else {
                ""
            },
            self.stdout,
            self.stderr
        )
    }
}

fn drain<R: Read + Send + 'static>(r: Option<R>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = Vec::new();
        if let Some(mut r) = r {
            let _ = r.read_to_end(&mut s);
        }
        String::from_utf8_lossy(&s).into_owned()
    })
}

/// Runs a command with stdin closed and a time limit; kills it (by its own id) when the
/// limit runs out.
pub fn run_bounded(cmd: &mut Command, limit: Duration) -> Output {
    run_bounded_with_input(cmd, None, limit)
}

/// As [`run_bounded`], with `input` written to the command's standard input (then
/// closed) when given.
pub fn run_bounded_with_input(cmd: &mut Command, input: Option<&str>, limit: Duration) -> Output {
    let stdin = if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    let mut child = cmd
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let (Some(text), Some(mut pipe)) = (input, child.stdin.take()) {
        use std::io::Write as _;
        let _ = pipe.write_all(text.as_bytes());
    }
    let out = drain(child.stdout.take());
    let err = drain(child.stderr.take());
    let (status, timed_out) = wait_bounded(&mut child, limit);
    Output {
        code: status.and_then(|s| s.code()),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
        timed_out,
    }
}

/// Waits for a child up to `limit`; kills it when the limit runs out. Returns its status
/// and whether it had to be killed.
pub fn wait_bounded(child: &mut Child, limit: Duration) -> (Option<ExitStatus>, bool) {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (Some(status), false),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                return (child.wait().ok(), true);
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => panic!("waiting for a child process: {e}"),
        }
    }
}

/// Sends SIGTERM to a child we started (by its id) and waits up to `limit` for it to end;
/// kills it if it does not.
pub fn terminate(child: &mut Child, limit: Duration) -> (Option<ExitStatus>, bool) {
    if let Ok(Some(status)) = child.try_wait() {
        return (Some(status), false);
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    wait_bounded(child, limit)
}

/// Polls `check` every 100 ms until it gives `Some`, or panics with `what` after `limit`.
pub fn wait_for<T>(what: &str, limit: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = check() {
            return v;
        }
        if Instant::now() >= deadline {
            panic!("timed out after {limit:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------------------------
// The server under test
// ---------------------------------------------------------------------------------------

/// A running `strowger serve` on a free loopback port with its own temporary data
/// directory. Killed (by its id) when dropped; its log is printed if the test failed.
pub struct Server {
    child: Child,
    addr: SocketAddr,
    data_dir: PathBuf,
    log: PathBuf,
    passwords: BTreeMap<String, String>,
    admin_password: String,
    banner: Vec<String>,
    // Last, so that the directory goes after the process is gone.
    dir: TempDir,
}

enum StartError {
    PortTaken(String),
    Fatal(String),
}

impl Server {
    /// Starts a server on the embedded default (extensions 201–210) and waits until it
    /// answers OPTIONS.
    pub fn start() -> Server {
        let mut last = String::new();
        for _ in 0..5 {
            match Server::try_start() {
                Ok(server) => return server,
                Err(StartError::PortTaken(log)) => last = log,
                Err(StartError::Fatal(msg)) => panic!("strowger serve did not start: {msg}"),
            }
        }
        panic!("strowger serve found no free port in 5 tries; last log:\n{last}");
    }

    fn try_start() -> Result<Server, StartError> {
        let dir = tempfile::Builder::new()
            .prefix("strowger-it-")
            .tempdir()
            .expect("temporary directory");
        let data_dir = dir.path().join("data");
        let log = dir.path().join("server.log");
        let (child, addr, banner) = launch(&data_dir, &log)?;
        let (passwords, admin_password) = parse_banner(&banner);
        let server = Server {
            child,
            addr,
            data_dir,
            log,
            passwords,
            admin_password,
            banner,
            dir,
        };
        server.wait_ready()?;
        Ok(server)
    }

    /// Stops the server (SIGTERM) and starts it again on the same data directory, on a new
    /// port. Returns the banner of the new start. The passwords of the first start stay
    /// known to the helper.
    pub fn restart(&mut self) -> String {
        self.stop();
        let mut last = String::new();
        for _ in 0..5 {
            match launch(&self.data_dir, &self.log) {
                Ok((child, addr, banner)) => {
                    self.child = child;
                    self.addr = addr;
                    if let Err(StartError::Fatal(msg) | StartError::PortTaken(msg)) =
                        self.wait_ready()
                    {
                        panic!("strowger serve did not come back: {msg}");
                    }
                    return banner.join("\n");
                }
                Err(StartError::PortTaken(log)) => last = log,
                Err(StartError::Fatal(msg)) => panic!("strowger serve did not restart: {msg}"),
            }
        }
        panic!("strowger serve found no free port in 5 tries; last log:\n{last}");
    }

    /// Waits until the server answers OPTIONS with 200.
    fn wait_ready(&self) -> Result<(), StartError> {
        let probe = SipUdp::new(self.addr);
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let uri = format!("sip:{}", self.addr);
            if let Some(r) = probe.options(&uri, Duration::from_millis(300)) {
                if r.status == 200 {
                    return Ok(());
                }
            }
        }
        Err(StartError::Fatal(format!(
            "no 200 to OPTIONS within 15 s of the banner\n--- log ---\n{}",
            self.log()
        )))
    }

    /// The SIP address (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SIP port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The stored messages and recordings (complete WAV files, not temporary ones) in
    /// `mailbox`, as the voicemail store keeps them under the data directory.
    pub fn mailbox_files(&self, mailbox: &str) -> Vec<PathBuf> {
        let dir = self.data_dir().join("voicemail").join(mailbox);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                name.ends_with(".wav") && !name.starts_with('.')
            })
            .collect()
    }

    /// A scratch directory that goes away with the server.
    pub fn scratch(&self) -> &Path {
        self.dir.path()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The password printed at first start for an extension of the embedded default.
    pub fn password(&self, extension: &str) -> String {
        self.passwords.get(extension).cloned().unwrap_or_else(|| {
            panic!(
                "no password for {extension} in the banner:\n{}",
                self.banner.join("\n")
            )
        })
    }

    /// Every extension password printed at first start.
    pub fn passwords(&self) -> &BTreeMap<String, String> {
        &self.passwords
    }

    /// The administrator password printed at first start.
    pub fn admin_password(&self) -> &str {
        &self.admin_password
    }

    /// The start-up banner (standard output).
    pub fn banner(&self) -> String {
        self.banner.join("\n")
    }

    /// Everything the server logged so far (standard error).
    pub fn log(&self) -> String {
        strip_ansi(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Resident memory of the process in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status of the server");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS in /proc/PID/status")
    }

    /// Stops the server with SIGTERM and returns how it ended.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        let (status, killed) = terminate(&mut self.child, Duration::from_secs(15));
        assert!(
            !killed,
            "strowger serve did not stop within 15 s of SIGTERM"
        );
        status
    }

    /// Runs `strowger ARGS --data-dir DIR` (bounded to 60 s).
    pub fn cli(&self, args: &[&str]) -> Output {
        run_bounded(
            Command::new(BIN)
                .args(args)
                .arg("--data-dir")
                .arg(&self.data_dir)
                .env("STROWGER_LOG", "warn"),
            Duration::from_secs(60),
        )
    }

    /// Runs `strowger ARGS --data-dir DIR` with `input` on its standard input.
    pub fn cli_with_input(&self, args: &[&str], input: &str) -> Output {
        run_bounded_with_input(
            Command::new(BIN)
                .args(args)
                .arg("--data-dir")
                .arg(&self.data_dir)
                .env("STROWGER_LOG", "warn"),
            Some(input),
            Duration::from_secs(60),
        )
    }

    /// Runs a subcommand that must succeed; returns its standard output.
    pub fn cli_ok(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert!(out.success(), "`strowger {}` failed: {out}", args.join(" "));
        out.stdout
    }

    /// `strowger status`, parsed.
    pub fn status(&self) -> Status {
        Status::parse(&self.cli_ok(&["status"]))
    }

    /// The configuration in force (`strowger config export`).
    pub fn export(&self) -> String {
        self.cli_ok(&["config", "export"])
    }

    /// Offers SHA-256 (first) besides MD5, through `config apply` (the default is MD5 alone).
    pub fn enable_sha256(&self) {
        let doc = set_toml_value(&self.export(), "digest_algorithms", r#"["SHA-256", "MD5"]"#);
        let file = self.write_file("sha256.toml", &doc);
        self.cli_ok(&["config", "apply", file.to_str().expect("utf-8 path")]);
    }

    /// Writes `text` to a file in the scratch directory and returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("write scratch file");
        path
    }

    /// Asserts the process runs and still answers a valid OPTIONS with 200 (from a fresh
    /// socket, a few tries since UDP may lose a datagram).
    pub fn assert_alive(&mut self) {
        assert!(
            self.is_running(),
            "strowger serve is no longer running\n--- log ---\n{}",
            tail(&self.log(), 60)
        );
        let probe = SipUdp::new(self.addr);
        for _ in 0..10 {
            if let Some(r) =
                probe.options(&format!("sip:{}", self.addr), Duration::from_millis(500))
            {
                assert_eq!(r.status, 200, "liveness OPTIONS answered:\n{}", r.raw);
                return;
            }
        }
        panic!(
            "strowger serve runs but did not answer OPTIONS in 10 tries\n--- log ---\n{}",
            tail(&self.log(), 60)
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- strowger serve log (last 80 lines) ---\n{}",
                tail(&self.log(), 80)
            );
        }
    }
}

/// Starts `strowger serve` on `data_dir` on a free port, logging to `log` (appended), and
/// waits for the end of its banner.
fn launch(data_dir: &Path, log: &Path) -> Result<(Child, SocketAddr, Vec<String>), StartError> {
    let port = free_port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let log_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("server log file");
    let mut child = Command::new(BIN)
        .arg("serve")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--sip-listen")
        .arg(addr.to_string())
        .env(
            "STROWGER_LOG",
            std::env::var("STROWGER_LOG").unwrap_or_else(|_| "debug".into()),
        )
        .env("STROWGER_DATA_DIR", data_dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log_file))
        .spawn()
        .map_err(|e| StartError::Fatal(format!("cannot run {BIN}: {e}")))?;

    // Read the banner on a thread that keeps draining standard output for the life of the
    // process, so that a later print can never block or fail on a full pipe.
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + START_LIMIT;
    let mut banner = Vec::new();
    loop {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let end = line.contains(BANNER_END);
            banner.push(line);
            if end {
                return Ok((child, addr, banner));
            }
            continue;
        }
        if let Ok(Some(status)) = child.try_wait() {
            let text = strip_ansi(&std::fs::read_to_string(log).unwrap_or_default());
            let msg = format!(
                "exited with {status} before it was ready\n--- stdout ---\n{}\n--- log ---\n{text}",
                banner.join("\n")
            );
            let lower = text.to_lowercase();
            if lower.contains("in use") || lower.contains("binding") {
                return Err(StartError::PortTaken(msg));
            }
            return Err(StartError::Fatal(msg));
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let text = strip_ansi(&std::fs::read_to_string(log).unwrap_or_default());
            return Err(StartError::Fatal(format!(
                "no complete banner within {START_LIMIT:?}\n--- stdout ---\n{}\n--- log ---\n{text}",
                banner.join("\n")
            )));
        }
    }
}

/// Removes ANSI colour sequences (the log is coloured even in a file).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The last `n` lines of a text.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn parse_banner(lines: &[String]) -> (BTreeMap<String, String>, String) {
    let mut passwords = BTreeMap::new();
    let mut admin = String::new();
    let mut in_list = false;
    for line in lines {
        if line.contains("user name and password") {
            in_list = true;
            continue;
        }
        if let Some(rest) = line.trim().strip_prefix("Administrator:") {
            // "Administrator: admin  password: SECRET"
            if let Some(p) = rest.split("password:").nth(1) {
                admin = p.trim().to_string();
            }
            in_list = false;
            continue;
        }
        if in_list {
            let mut parts = line.split_whitespace();
            match (parts.next(), parts.next(), parts.next()) {
                (Some(n), Some(p), None) if n.bytes().all(|b| b.is_ascii_digit()) => {
                    passwords.insert(n.to_string(), p.to_string());
                }
                _ => in_list = false,
            }
        }
    }
    (passwords, admin)
}

/// `strowger status`, parsed.
#[derive(Debug, Clone)]
pub struct Status {
    /// The whole text.
    pub text: String,
    /// The number after `registrations:`.
    pub registrations: usize,
    /// One per binding line.
    pub bindings: Vec<Binding>,
    /// The number after `blocked:`.
    pub blocked_count: usize,
    /// The lines under `blocked:` (`source 127.0.0.5 for 59 s more`).
    pub blocked: Vec<String>,
    /// The counters line as name → value.
    pub counters: HashMap<String, u64>,
}

/// One registration binding of `strowger status`.
#[derive(Debug, Clone)]
pub struct Binding {
    /// The extension number.
    pub extension: String,
    /// The contact URI.
    pub contact: String,
    /// Where it registered from (address and transport).
    pub source: String,
    /// Seconds left.
    pub expires: u64,
    /// The User-Agent it sent.
    pub user_agent: String,
    /// The whole line.
    pub line: String,
}

impl Status {
    /// Parses the output of `strowger status`.
    pub fn parse(text: &str) -> Status {
        let mut st = Status {
            text: text.to_string(),
            registrations: usize::MAX,
            bindings: Vec::new(),
            blocked_count: usize::MAX,
            blocked: Vec::new(),
            counters: HashMap::new(),
        };
        #[derive(PartialEq)]
        enum Part {
            Top,
            Bindings,
            Blocked,
            Rest,
        }
        let mut part = Part::Top;
        for line in text.lines() {
            if let Some(n) = line.strip_prefix("registrations:") {
                st.registrations = n.trim().parse().expect("registrations: N");
                part = Part::Bindings;
            } else if let Some(n) = line.strip_prefix("blocked:") {
                st.blocked_count = n.trim().parse().expect("blocked: N");
                part = Part::Blocked;
            } else if let Some(rest) = line.strip_prefix("counters:") {
                let toks: Vec<&str> = rest.split_whitespace().collect();
                for pair in toks.chunks(2) {
                    if let [name, value] = pair {
                        if let Ok(v) = value.parse() {
                            st.counters.insert((*name).to_string(), v);
                        }
                    }
                }
                part = Part::Rest;
            } else if part == Part::Bindings {
                if let Some(b) = Binding::parse(line) {
                    st.bindings.push(b);
                }
            } else if part == Part::Blocked && !line.trim().is_empty() {
                st.blocked.push(line.trim().to_string());
            }
        }
        assert!(
            st.registrations != usize::MAX && st.blocked_count != usize::MAX,
            "unexpected `strowger status` output:\n{text}"
        );
        st
    }

    /// The bindings of one extension.
    pub fn bindings_of(&self, extension: &str) -> Vec<&Binding> {
        self.bindings
            .iter()
            .filter(|b| b.extension == extension)
            .collect()
    }

    /// A counter by name (0 when absent).
    pub fn counter(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }
}

impl Binding {
    fn parse(line: &str) -> Option<Binding> {
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() < 4 || !toks[0].bytes().all(|b| b.is_ascii_digit()) {
            return None; // the column header, or something else
        }
        let idx = (2..toks.len()).find(|&i| {
            toks[i]
                .strip_suffix('s')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })?;
        Some(Binding {
            extension: toks[0].to_string(),
            contact: toks[1].to_string(),
            source: toks[2..idx].join(" "),
            expires: toks[idx].trim_end_matches('s').parse().ok()?,
            user_agent: toks[idx + 1..].join(" "),
            line: line.to_string(),
        })
    }
}

/// Replaces the value of `key = ...` (the first line that sets it) in a TOML document.
pub fn set_toml_value(doc: &str, key: &str, value: &str) -> String {
    let mut done = false;
    let out: Vec<String> = doc
        .lines()
        .map(|l| {
            let t = l.trim_start();
            if !done
                && t.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with('='))
            {
                done = true;
                format!("{key} = {value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(done, "no `{key} =` line in the document:\n{doc}");
    out.join("\n") + "\n"
}

/// `doc` with `key = value` in the `[[users]]` table of `user` (which the export writes).
pub fn user_setting(doc: &str, user: &str, key: &str, value: &str) -> String {
    let start = doc
        .find(&format!("name = \"{user}\"\n"))
        .expect("the user is exported");
    let at = start
        + doc[start..]
            .find(&format!("{key} = "))
            .expect("the key is exported");
    let end = at + doc[at..].find('\n').expect("a line end");
    format!("{}{key} = {value}{}", &doc[..at], &doc[end..])
}

impl Server {
    /// Applies the exported configuration with `key = value` set for each (user, key,
    /// value), as an administrator would with `config apply`.
    pub fn set_user_settings(&self, settings: &[(&str, &str, &str)]) {
        let mut doc = self.export();
        for (user, key, value) in settings {
            doc = user_setting(&doc, user, key, value);
        }
        let file = self.write_file(&format!("settings-{}.toml", unique()), &doc);
        let applied = self.cli_ok(&["config", "apply", file.to_str().expect("a path")]);
        assert!(applied.contains("reloaded"), "{applied}");
    }
}

// ---------------------------------------------------------------------------------------
// SIPp
// ---------------------------------------------------------------------------------------

/// The directory of the SIPp scenarios.
pub fn sipp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sipp")
}

/// One SIPp run against a server: scenario, transport, calls, injection rows.
pub struct Sipp {
    scenario: PathBuf,
    transport: &'static str,
    calls: u32,
    local_ip: String,
    rows: Vec<String>,
    keys: Vec<(String, String)>,
    /// The out-of-call scenario (`-oocsf`): requests with a Call-ID of their own.
    ooc: Option<PathBuf>,
    limit: Duration,
}

/// What a SIPp run left behind.
pub struct SippRun {
    /// SIPp's exit code (0: every call succeeded, 1: some failed).
    pub code: Option<i32>,
    /// True when the outer time limit killed it.
    pub timed_out: bool,
    /// The `-trace_err` file.
    pub errors: String,
    /// The `-trace_msg` file: every message sent and received.
    pub messages: String,
    /// What SIPp printed (its statistics screen).
    pub screen: String,
}

impl std::fmt::Display for SippRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sipp exit code {:?}{}\n--- errors ---\n{}\n--- messages (last 120 lines) ---\n{}\n--- screen (last 40 lines) ---\n{}",
            self.code,
            if self.timed_out { " (killed: time limit)" } else { "" },
            self.errors,
            tail(&self.messages, 120),
            tail(&self.screen, 40)
        )
    }
}

impl Sipp {
    /// A run of `tests/sipp/NAME.xml`, one call, over UDP from 127.0.0.1.
    pub fn new(name: &str) -> Sipp {
        Sipp::from_file(sipp_dir().join(format!("{name}.xml")))
    }

    /// A run of a scenario file written elsewhere (e.g. made by the test itself).
    pub fn from_file(scenario: PathBuf) -> Sipp {
        assert!(scenario.is_file(), "no scenario {}", scenario.display());
        Sipp {
            scenario,
            transport: "u1",
            calls: 1,
            local_ip: "127.0.0.1".into(),
            rows: Vec::new(),
            keys: Vec::new(),
            ooc: None,
            limit: Duration::from_secs(90),
        }
    }

    /// Over TCP (one connection).
    pub fn tcp(mut self) -> Sipp {
        self.transport = "t1";
        self
    }

    /// This many calls (scenario runs).
    pub fn calls(mut self, n: u32) -> Sipp {
        self.calls = n;
        self
    }

    /// From this loopback address.
    pub fn source_ip(mut self, ip: &str) -> Sipp {
        self.local_ip = ip.into();
        self
    }

    /// Adds an injection row: `[field0]` is the user, `[field1]` the `[authentication]`
    /// keyword with these credentials.
    pub fn user(mut self, user: &str, password: &str) -> Sipp {
        assert!(
            !password.contains([';', ' ', ']']),
            "password not usable in a SIPp injection file: {password}"
        );
        self.rows.push(format!(
            "{user};[authentication username={user} password={password}];"
        ));
        self
    }

    /// Plays `tests/sipp/NAME.xml` for requests that belong to no call of the scenario
    /// (SIPp `-oocsf`), e.g. the PBX's unsolicited NOTIFYs.
    pub fn ooc(mut self, name: &str) -> Sipp {
        self.ooc = Some(sipp_dir().join(format!("{name}.xml")));
        self
    }

    /// Sets `[key]` in the scenario (SIPp `-key`).
    pub fn key(mut self, key: &str, value: &str) -> Sipp {
        self.keys.push((key.into(), value.into()));
        self
    }

    /// Runs SIPp (retrying when one of its own ports was taken meanwhile).
    pub fn run(&self, server: &Server) -> SippRun {
        let sipp = require_tool("sipp", "sip-tester");
        let mut last = None;
        for _ in 0..3 {
            let run = self.run_once(&sipp, server);
            let lost_port = run.code == Some(255)
                && format!("{}{}", run.errors, run.screen).contains("Address already in use");
            if !lost_port {
                return run;
            }
            last = Some(run);
        }
        last.expect("at least one run")
    }

    fn run_once(&self, sipp: &Path, server: &Server) -> SippRun {
        let work = tempfile::Builder::new()
            .prefix("strowger-sipp-")
            .tempdir()
            .expect("temporary directory");
        let errors = work.path().join("errors.log");
        let messages = work.path().join("messages.log");
        let screen = work.path().join("screen.log");
        let mut cmd = Command::new(sipp);
        cmd.current_dir(work.path())
            .arg(server.addr().to_string())
            .arg("-sf")
            .arg(&self.scenario)
            .args(["-m", &self.calls.to_string()])
            .args(["-t", self.transport])
            .args(["-i", &self.local_ip])
            .args(["-p", &free_port().to_string()])
            .args(["-cp", &free_udp_pair().to_string()])
            .args(["-mp", &free_udp_pair().to_string()])
            .args(["-recv_timeout", "15000"])
            .arg("-nostdin")
            .arg("-trace_err")
            .arg("-error_file")
            .arg(&errors)
            .arg("-trace_msg")
            .arg("-message_file")
            .arg(&messages);
        if !self.rows.is_empty() {
            let inf = work.path().join("users.csv");
            std::fs::write(&inf, format!("SEQUENTIAL\n{}\n", self.rows.join("\n")))
                .expect("write injection file");
            cmd.arg("-inf").arg(&inf);
        }
        for (k, v) in &self.keys {
            cmd.args(["-key", k, v]);
        }
        if let Some(ooc) = &self.ooc {
            cmd.arg("-oocsf").arg(ooc);
        }
        let screen_file = File::create(&screen).expect("screen file");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(screen_file.try_clone().expect("clone file")))
            .stderr(Stdio::from(screen_file))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start sipp: {e}"));
        let (status, timed_out) = wait_bounded(&mut child, self.limit);
        SippRun {
            code: status.and_then(|s| s.code()),
            timed_out,
            errors: std::fs::read_to_string(&errors).unwrap_or_default(),
            messages: std::fs::read_to_string(&messages).unwrap_or_default(),
            screen: String::from_utf8_lossy(&std::fs::read(&screen).unwrap_or_default())
                .into_owned(),
        }
    }

    /// Runs SIPp and asserts that every call succeeded (exit code 0).
    pub fn expect_success(&self, server: &Server) -> SippRun {
        let run = self.run(server);
        assert_eq!(
            run.code,
            Some(0),
            "SIPp scenario {} failed\n{run}",
            self.scenario.display()
        );
        run
    }
}

// ---------------------------------------------------------------------------------------
// Raw SIP
// ---------------------------------------------------------------------------------------

static COUNTER: AtomicU64 = AtomicU64::new(1);

/// A token unique within this test process (for Call-IDs, tags and branches).
pub fn unique() -> String {
    use rand::Rng;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let r: u32 = rand::thread_rng().gen();
    format!("{n}x{r:08x}")
}

/// A SIP response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The reason phrase.
    pub reason: String,
    /// Header fields in order (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// The whole message.
    pub raw: String,
}

fn canonical(name: &str) -> String {
    let lower = name.trim().to_ascii_lowercase();
    match lower.as_str() {
        "m" => "contact".into(),
        "v" => "via".into(),
        "i" => "call-id".into(),
        "f" => "from".into(),
        "t" => "to".into(),
        "l" => "content-length".into(),
        "c" => "content-type".into(),
        "k" => "supported".into(),
        _ => lower,
    }
}

impl Response {
    /// Parses a response; `None` for anything else.
    pub fn parse(bytes: &[u8]) -> Option<Response> {
        let raw = String::from_utf8_lossy(bytes).into_owned();
        let (head, body) = match raw.find("\r\n\r\n") {
            Some(i) => (&raw[..i], &raw[i + 4..]),
            None => (raw.as_str(), ""),
        };
        let mut lines = head.split("\r\n");
        let status_line = lines.next()?;
        let rest = status_line.strip_prefix("SIP/2.0 ")?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = code.parse().ok()?;
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with([' ', '\t']) {
                if let Some(last) = headers.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(line.trim());
                }
                continue;
            }
            if let Some((n, v)) = line.split_once(':') {
                headers.push((n.trim().to_string(), v.trim().to_string()));
            }
        }
        Some(Response {
            status,
            reason: reason.to_string(),
            headers,
            body: body.to_string(),
            raw,
        })
    }

    /// The first value of a header (case-insensitive; compact forms understood).
    pub fn header(&self, name: &str) -> Option<&str> {
        let want = canonical(name);
        self.headers
            .iter()
            .find(|(n, _)| canonical(n) == want)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a header, one per header field line.
    pub fn headers_named(&self, name: &str) -> Vec<&str> {
        let want = canonical(name);
        self.headers
            .iter()
            .filter(|(n, _)| canonical(n) == want)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// Every Contact value, whether sent as several header fields or comma-separated.
    pub fn contacts(&self) -> Vec<String> {
        self.headers_named("contact")
            .into_iter()
            .flat_map(split_top_level_commas)
            .collect()
    }
}

/// Splits a header value at commas outside `<...>` and quotes.
pub fn split_top_level_commas(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut angle, mut quote) = (false, false);
    for c in value.chars() {
        match c {
            '"' if !angle => quote = !quote,
            '<' if !quote => angle = true,
            '>' if !quote => angle = false,
            ',' if !angle && !quote => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// The Call-ID of a message (request or response), if it has one.
fn call_id_of(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes);
    let head = text.split("\r\n\r\n").next().unwrap_or("");
    head.split("\r\n").skip(1).find_map(|l| {
        let (n, v) = l.split_once(':')?;
        (canonical(n) == "call-id").then(|| v.trim().to_string())
    })
}

/// A request under construction.
#[derive(Debug, Clone)]
pub struct Req {
    /// The request line (`OPTIONS sip:host SIP/2.0`).
    pub start: String,
    /// Header lines, in order.
    pub headers: Vec<String>,
    /// The body.
    pub body: Vec<u8>,
    /// Add `Content-Length` automatically (off to send a wrong one).
    pub auto_length: bool,
}

impl Req {
    /// A request with the usual headers for a phone at `local`: Via (with rport), From
    /// (with tag), To, Call-ID, CSeq, Max-Forwards.
    pub fn new(method: &str, uri: &str, local: SocketAddr, transport: &str, call_id: &str) -> Req {
        Req::with_parties(
            method,
            uri,
            local,
            transport,
            call_id,
            "sip:probe@127.0.0.1",
            uri,
        )
    }

    /// Like [`Req::new`] with explicit From and To URIs.
    pub fn with_parties(
        method: &str,
        uri: &str,
        local: SocketAddr,
        transport: &str,
        call_id: &str,
        from: &str,
        to: &str,
    ) -> Req {
        Req {
            start: format!("{method} {uri} SIP/2.0"),
            headers: vec![
                format!(
                    "Via: SIP/2.0/{transport} {local};branch=z9hG4bK{};rport",
                    unique()
                ),
                "Max-Forwards: 70".into(),
                format!("From: <{from}>;tag={}", unique()),
                format!("To: <{to}>"),
                format!("Call-ID: {call_id}"),
                format!("CSeq: 1 {method}"),
                "User-Agent: strowger-integration-test".into(),
            ],
            body: Vec::new(),
            auto_length: true,
        }
    }

    /// Adds a header line.
    pub fn header(mut self, line: impl Into<String>) -> Req {
        self.headers.push(line.into());
        self
    }

    /// Removes every header whose name is `name` (case-insensitive, compact forms too).
    pub fn without(mut self, name: &str) -> Req {
        let want = canonical(name);
        self.headers
            .retain(|l| l.split_once(':').is_none_or(|(n, _)| canonical(n) != want));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Req {
        self.body = body.into();
        self
    }

    /// The message on the wire.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("{}\r\n", self.start);
        for h in &self.headers {
            out.push_str(h);
            out.push_str("\r\n");
        }
        if self.auto_length {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

/// A UDP socket on a loopback address talking to one server.
pub struct SipUdp {
    sock: UdpSocket,
    server: SocketAddr,
}

impl SipUdp {
    /// A socket on 127.0.0.1.
    pub fn new(server: SocketAddr) -> SipUdp {
        SipUdp::bind("127.0.0.1", server)
    }

    /// A socket on another loopback address (127.0.0.0/8 all reach the server).
    pub fn bind(ip: &str, server: SocketAddr) -> SipUdp {
        let sock = UdpSocket::bind((ip, 0)).expect("bind a loopback UDP socket");
        SipUdp { sock, server }
    }

    /// Our address.
    pub fn local(&self) -> SocketAddr {
        self.sock.local_addr().unwrap()
    }

    /// Sends one datagram to the server.
    pub fn send(&self, bytes: &[u8]) {
        self.sock
            .send_to(bytes, self.server)
            .expect("send a datagram to the server");
    }

    /// The next datagram from anywhere within `timeout`.
    pub fn recv(&self, timeout: Duration) -> Option<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        let mut buf = vec![0u8; 70_000];
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            if left.is_zero() {
                return None;
            }
            self.sock.set_read_timeout(Some(left)).unwrap();
            match self.sock.recv_from(&mut buf) {
                Ok((n, _)) => return Some(buf[..n].to_vec()),
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    return None
                }
                // ICMP port unreachable from an earlier send: keep listening.
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                Err(e) => panic!("receiving: {e}"),
            }
        }
    }

    /// The final (non-1xx) response with this Call-ID within `timeout`, skipping anything
    /// else.
    pub fn response(&self, call_id: &str, timeout: Duration) -> Option<Response> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.checked_duration_since(Instant::now())?;
            let bytes = self.recv(left)?;
            if call_id_of(&bytes).as_deref() != Some(call_id) {
                continue;
            }
            if let Some(r) = Response::parse(&bytes) {
                if r.status >= 200 {
                    return Some(r);
                }
            }
        }
    }

    /// Sends a request and waits for its final response.
    pub fn request(&self, req: &Req, timeout: Duration) -> Option<Response> {
        let call_id = req
            .headers
            .iter()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                (canonical(n) == "call-id").then(|| v.trim().to_string())
            })
            .expect("request with a Call-ID");
        self.send(&req.to_bytes());
        self.response(&call_id, timeout)
    }

    /// Sends OPTIONS to `uri` and waits for the final response.
    pub fn options(&self, uri: &str, timeout: Duration) -> Option<Response> {
        let req = Req::new("OPTIONS", uri, self.local(), "UDP", &unique())
            .header("Accept: application/sdp");
        self.request(&req, timeout)
    }

    /// Asserts that nothing at all arrives within `time`.
    pub fn assert_silence(&self, time: Duration, what: &str) {
        if let Some(bytes) = self.recv(time) {
            panic!(
                "expected no answer to {what}, got:\n{}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }
}

/// Sends bytes over a new TCP connection and reads until a complete response, EOF or
/// `timeout`. Returns what was read and whether the server closed the connection.
pub fn tcp_exchange(server: SocketAddr, bytes: &[u8], timeout: Duration) -> (Vec<u8>, bool) {
    let mut stream =
        TcpStream::connect_timeout(&server, Duration::from_secs(5)).expect("TCP connect");
    stream.set_write_timeout(Some(timeout)).unwrap();
    // The server may refuse (and close) before taking everything: a failed write is fine.
    let _ = stream.write_all(bytes);
    read_tcp_response(&mut stream, timeout)
}

/// Reads one response (by Content-Length) from a stream, or until EOF or `timeout`.
pub fn read_tcp_response(stream: &mut TcpStream, timeout: Duration) -> (Vec<u8>, bool) {
    let deadline = Instant::now() + timeout;
    let mut got = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return (got, false);
        };
        if left.is_zero() {
            return (got, false);
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) => return (got, true),
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if complete_message(&got) {
                    return (got, false);
                }
            }
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return (got, false)
            }
            Err(_) => return (got, true), // reset: closed
        }
    }
}

/// Reads `n` responses from a stream (framed by Content-Length) within `timeout`; fewer
/// when the connection closes or the time runs out.
pub fn read_tcp_responses(stream: &mut TcpStream, n: usize, timeout: Duration) -> Vec<Response> {
    let deadline = Instant::now() + timeout;
    let mut got: Vec<u8> = Vec::new();
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        while let Some(len) = message_len(&got) {
            if got.len() < len {
                break;
            }
            let msg: Vec<u8> = got.drain(..len).collect();
            if let Some(r) = Response::parse(&msg) {
                out.push(r);
            }
        }
        if out.len() >= n {
            return out;
        }
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            return out;
        };
        if left.is_zero() {
            return out;
        }
        stream.set_read_timeout(Some(left)).unwrap();
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return out,
            Ok(k) => got.extend_from_slice(&buf[..k]),
        }
    }
}

/// The length of the first complete head plus its body, once the head is complete.
fn message_len(bytes: &[u8]) -> Option<usize> {
    let text = String::from_utf8_lossy(bytes);
    let end = text.find("\r\n\r\n")?;
    let len = text[..end]
        .split("\r\n")
        .find_map(|l| {
            let (n, v) = l.split_once(':')?;
            (canonical(n) == "content-length").then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    Some(end + 4 + len)
}

fn complete_message(bytes: &[u8]) -> bool {
    message_len(bytes).is_some_and(|len| bytes.len() >= len)
}

// ---------------------------------------------------------------------------------------
// Digest authentication (RFC 7616 / RFC 8760) for the raw client
// ---------------------------------------------------------------------------------------

/// The parameters of one `WWW-Authenticate: Digest ...` value, names lowercased, values
/// unquoted.
pub fn parse_challenge(value: &str) -> HashMap<String, String> {
    let rest = value.trim();
    let rest = rest
        .strip_prefix("Digest")
        .or_else(|| rest.strip_prefix("digest"))
        .unwrap_or(rest);
    let mut out = HashMap::new();
    for part in split_top_level_commas(rest) {
        if let Some((k, v)) = part.split_once('=') {
            out.insert(
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_string(),
            );
        }
    }
    out
}

/// Lowercase hex of MD5 or SHA-256.
pub fn hash(algorithm: &str, text: &str) -> String {
    use md5::Digest as _;
    if algorithm.eq_ignore_ascii_case("SHA-256") {
        hex::encode(sha2::Sha256::digest(text.as_bytes()))
    } else {
        hex::encode(md5::Md5::digest(text.as_bytes()))
    }
}

/// An `Authorization` header value answering `challenge` (qop=auth when offered).
pub fn authorization(
    challenge: &HashMap<String, String>,
    user: &str,
    password: &str,
    method: &str,
    uri: &str,
) -> String {
    let alg = challenge
        .get("algorithm")
        .cloned()
        .unwrap_or_else(|| "MD5".into());
    let realm = &challenge["realm"];
    let nonce = &challenge["nonce"];
    let ha1 = hash(&alg, &format!("{user}:{realm}:{password}"));
    let ha2 = hash(&alg, &format!("{method}:{uri}"));
    let cnonce = unique();
    let nc = "00000001";
    let qop_auth = challenge
        .get("qop")
        .is_some_and(|q| q.split(',').any(|x| x.trim() == "auth"));
    let mut v = if qop_auth {
        let response = hash(&alg, &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
        format!(
            "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{response}\", algorithm={alg}, cnonce=\"{cnonce}\", qop=auth, nc={nc}"
        )
    } else {
        let response = hash(&alg, &format!("{ha1}:{nonce}:{ha2}"));
        format!(
            "Digest username=\"{user}\", realm=\"{realm}\", nonce=\"{nonce}\", uri=\"{uri}\", \
             response=\"{response}\", algorithm={alg}"
        )
    };
    if let Some(opaque) = challenge.get("opaque") {
        v.push_str(&format!(", opaque=\"{opaque}\""));
    }
    v
}

/// A phone that registers over UDP with the raw client, for checks SIPp cannot make
/// (SHA-256 digest, header-by-header comparisons).
pub struct Phone {
    /// Its socket.
    pub udp: SipUdp,
    /// Its extension (user name).
    pub user: String,
    /// Its password.
    pub password: String,
    call_id: String,
    tag: String,
    cseq: u32,
}

impl Phone {
    /// A phone on 127.0.0.1.
    pub fn new(server: &Server, user: &str, password: &str) -> Phone {
        Phone::bind("127.0.0.1", server, user, password)
    }

    /// A phone on another loopback address.
    pub fn bind(ip: &str, server: &Server, user: &str, password: &str) -> Phone {
        Phone {
            udp: SipUdp::bind(ip, server.addr()),
            user: user.into(),
            password: password.into(),
            call_id: unique(),
            tag: unique(),
            cseq: 0,
        }
    }

    /// A contact URI on this phone's address with a distinguishing parameter.
    pub fn contact(&self, line: &str) -> String {
        format!("<sip:{}@{};line={line}>", self.user, self.udp.local())
    }

    /// The REGISTER this phone would send next (without credentials).
    pub fn register_request(&mut self, contacts: &[String], expires: Option<u32>) -> Req {
        self.cseq += 1;
        let server = self.udp.server;
        let aor = format!("sip:{}@{}", self.user, server.ip());
        let mut req = Req {
            start: format!("REGISTER sip:{server} SIP/2.0"),
            headers: vec![
                format!(
                    "Via: SIP/2.0/UDP {};branch=z9hG4bK{};rport",
                    self.udp.local(),
                    unique()
                ),
                "Max-Forwards: 70".into(),
                format!("From: <{aor}>;tag={}", self.tag),
                format!("To: <{aor}>"),
                format!("Call-ID: {}", self.call_id),
                format!("CSeq: {} REGISTER", self.cseq),
                "User-Agent: strowger-integration-test".into(),
            ],
            body: Vec::new(),
            auto_length: true,
        };
        for c in contacts {
            req.headers.push(format!("Contact: {c}"));
        }
        if let Some(e) = expires {
            req.headers.push(format!("Expires: {e}"));
        }
        req
    }

    /// Sends a REGISTER without credentials and returns the answer (normally the 401).
    pub fn register_unauthenticated(
        &mut self,
        contacts: &[String],
        expires: Option<u32>,
    ) -> Option<Response> {
        let req = self.register_request(contacts, expires);
        self.udp.request(&req, Duration::from_secs(10))
    }

    /// Registers with digest `algorithm` ("MD5" or "SHA-256"): REGISTER, 401, REGISTER with
    /// credentials. Returns the final answer (panics when there is none within 10 s).
    pub fn register(
        &mut self,
        contacts: &[String],
        expires: Option<u32>,
        algorithm: &str,
    ) -> Response {
        let first = self
            .register_unauthenticated(contacts, expires)
            .expect("an answer to REGISTER within 10 s");
        if first.status != 401 {
            return first;
        }
        let challenge = first
            .headers_named("www-authenticate")
            .into_iter()
            .map(parse_challenge)
            .find(|c| {
                c.get("algorithm")
                    .map_or("MD5", String::as_str)
                    .eq_ignore_ascii_case(algorithm)
            })
            .unwrap_or_else(|| panic!("no {algorithm} challenge in:\n{}", first.raw));
        let uri = format!("sip:{}", self.udp.server);
        let auth = authorization(&challenge, &self.user, &self.password, "REGISTER", &uri);
        let req = self
            .register_request(contacts, expires)
            .header(format!("Authorization: {auth}"));
        self.udp
            .request(&req, Duration::from_secs(15))
            .expect("an answer to the authenticated REGISTER within 15 s")
    }

    /// Calls `number` (no SDP): INVITE, 401, INVITE with MD5 credentials; returns the final
    /// answer (a failure is what the tests expect; the test client does not ACK it, the
    /// server's transaction simply retransmits a few times and gives up).
    pub fn invite_with_auth(&mut self, number: &str) -> Response {
        self.invite_with_auth_body(number, None)
    }

    /// Like [`Phone::invite_with_auth`] with a body: `(content type, bytes)`.
    pub fn invite_with_auth_body(&mut self, number: &str, body: Option<(&str, &[u8])>) -> Response {
        let server = self.udp.server;
        let uri = format!("sip:{number}@{}", server.ip());
        let call_id = unique();
        let from = format!("sip:{}@{}", self.user, server.ip());
        let contact = format!("Contact: <sip:{}@{}>", self.user, self.udp.local());
        let with_body = |req: Req| match body {
            Some((ct, bytes)) => req
                .header(format!("Content-Type: {ct}"))
                .body(bytes.to_vec()),
            None => req,
        };
        let first = Req::with_parties(
            "INVITE",
            &uri,
            self.udp.local(),
            "UDP",
            &call_id,
            &from,
            &uri,
        )
        .header(contact.clone());
        let first = with_body(first);
        let challenge = self
            .udp
            .request(&first, Duration::from_secs(10))
            .expect("an answer to INVITE");
        assert_eq!(challenge.status, 401, "{}", challenge.raw);
        let c = challenge
            .headers_named("www-authenticate")
            .into_iter()
            .map(parse_challenge)
            .next()
            .expect("a challenge");
        let auth = authorization(&c, &self.user, &self.password, "INVITE", &uri);
        let mut second = Req::with_parties(
            "INVITE",
            &uri,
            self.udp.local(),
            "UDP",
            &call_id,
            &from,
            &uri,
        )
        .header(contact)
        .header(format!("Authorization: {auth}"));
        second = with_body(second);
        for h in second.headers.iter_mut() {
            if h.starts_with("CSeq:") {
                *h = "CSeq: 2 INVITE".into();
            }
        }
        self.udp
            .request(&second, Duration::from_secs(15))
            .expect("a final answer to the authenticated INVITE")
    }
}

// ---------------------------------------------------------------------------------------
// baresip, a real softphone
// ---------------------------------------------------------------------------------------

/// Starting baresip (Debian's `baresip-core`, 1.0) as a phone registered on the server,
/// and driving it through its `ctrl_tcp` module (netstring-framed JSON on a loopback TCP
/// port): commands such as `dial`, `sndcode` and `hangup`, and the events it reports
/// (`CALL_ESTABLISHED`, `CALL_DTMF_START`, ...).
pub mod baresip {
    use super::{free_port, require_tool, run_bounded, tail, terminate, Server};
    use std::collections::VecDeque;
    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::path::{Path, PathBuf};
    use std::process::{Child, Command, Stdio};
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    /// The modules every phone loads (`menu` holds the commands `ctrl_tcp` runs).
    pub const BASE_MODULES: &[&str] = &["g711", "aufile", "account", "menu"];

    /// Where baresip's modules are installed.
    pub fn module_path() -> PathBuf {
        for dir in ["/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules"] {
            let p = Path::new(dir);
            if p.join("account.so").is_file() {
                return p.to_path_buf();
            }
        }
        // Multi-arch layouts.
        if let Ok(entries) = std::fs::read_dir("/usr/lib") {
            for e in entries.flatten() {
                let p = e.path().join("baresip/modules");
                if p.join("account.so").is_file() {
                    return p;
                }
            }
        }
        panic!("baresip is installed but its modules (account.so) were not found");
    }

    /// A sine tone as an 8 kHz mono WAV file made by sox (baresip's `ausine` only makes
    /// 48 kHz, which G.711 would not carry), 20 s long at half scale.
    pub fn tone(dir: &Path, hz: u32) -> PathBuf {
        let sox = require_tool("sox", "sox");
        let file = dir.join(format!("tone{hz}.wav"));
        let out = run_bounded(
            Command::new(sox)
                .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
                .arg(&file)
                .args(["synth", "20", "sine", &hz.to_string(), "vol", "0.5"]),
            Duration::from_secs(20),
        );
        assert!(out.success(), "sox: {}", out.all());
        file
    }

    /// Silence (all-zero samples) as an 8 kHz mono WAV file, 60 s long: a source for a
    /// phone whose audio must not be mistaken for anything else.
    pub fn silence(dir: &Path) -> PathBuf {
        let sox = require_tool("sox", "sox");
        let file = dir.join("silence.wav");
        let out = run_bounded(
            Command::new(sox)
                .args(["-n", "-r", "8000", "-c", "1", "-b", "16"])
                .arg(&file)
                .args(["trim", "0", "60"]),
            Duration::from_secs(20),
        );
        assert!(out.success(), "sox: {}", out.all());
        file
    }

    /// What `sox stat` says of the audio a phone received (the sndfile module's
    /// `*-dec.wav` recording of the call).
    #[derive(Debug, Clone, Copy)]
    pub struct Heard {
        /// Rough frequency in Hz.
        pub frequency: f64,
        /// RMS amplitude (full scale 1.0).
        pub rms: f64,
        /// Largest absolute sample (full scale 1.0).
        pub max: f64,
        /// Length of the recording in seconds.
        pub seconds: f64,
    }

    /// What `phone` received, by `sox stat` on its recording (it must load `sndfile` with
    /// `snd_path` set to `snd` in its directory, see [`recording`]). baresip 1.0 drops
    /// `sndfile` from the receive pipeline at the first re-INVITE (it restarts the receive
    /// side, whose filters are then not set up again), so a phone that gets one listens
    /// with [`Ears`] instead.
    pub fn heard(phone: &Baresip) -> Heard {
        let snd = phone.dir.path().join("snd");
        let dec = std::fs::read_dir(&snd)
            .expect("snd dir")
            .flatten()
            .map(|e| e.path())
            .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
            .unwrap_or_else(|| panic!("no recording of received audio in {}", snd.display()));
        sox_stat(&dec, &[])
    }

    /// What a phone plays, captured as it plays it: its player is ALSA's `file` plugin
    /// (in front of the `null` device) writing into a FIFO that a thread here reads at the
    /// pace of real time (8 kHz, 16-bit mono). The `null` device takes samples as fast as
    /// they come, so without that pace the player would spin and write hours of silence;
    /// with it, a full pipe holds the player back as a sound card would. The player is
    /// restarted on re-INVITEs like the rest of the receive side, and simply reopens the
    /// FIFO, so nothing that is played is missed.
    pub struct Ears {
        dir: PathBuf,
        fifo: PathBuf,
        stop: Arc<AtomicBool>,
        draining: Arc<AtomicBool>,
        captured: Arc<Mutex<Vec<u8>>>,
        thread: Option<std::thread::JoinHandle<()>>,
    }

    /// Bytes of audio per second: 8 kHz, 16-bit, mono.
    const AUDIO_BYTES_PER_SEC: f64 = 16_000.0;

    impl Ears {
        /// Ears for a phone with directory `dir` (its `HOME`, where alsa-lib finds the
        /// `.asoundrc` written here), and the configuration line that plays into them;
        /// load the module `alsa`.
        pub fn new(dir: &Path) -> (Ears, String) {
            let fifo = dir.join("played.fifo");
            let out = run_bounded(
                Command::new(require_tool("mkfifo", "coreutils")).arg(&fifo),
                Duration::from_secs(10),
            );
            assert!(out.success(), "mkfifo: {}", out.all());
            let asoundrc = format!(
                "pcm.ears {{\n  type file\n  slave.pcm \"null\"\n  file \"{}\"\n  \
                 format \"raw\"\n}}\n",
                fifo.display()
            );
            std::fs::write(dir.join(".asoundrc"), asoundrc).expect("write .asoundrc");
            let stop = Arc::new(AtomicBool::new(false));
            let draining = Arc::new(AtomicBool::new(false));
            let captured = Arc::new(Mutex::new(Vec::new()));
            // Read and write: opening does not wait for a writer, and reads never see
            // the end of the file when the player closes it between restarts.
            let mut reader = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&fifo)
                .expect("open the FIFO");
            let thread = {
                let (stop, draining, captured) = (stop.clone(), draining.clone(), captured.clone());
                std::thread::spawn(move || {
                    let start = Instant::now();
                    let deadline = start + Duration::from_secs(180);
                    let mut buf = [0u8; 320];
                    let mut total = 0u64;
                    while !stop.load(Ordering::SeqCst) && Instant::now() < deadline {
                        let allowed =
                            (start.elapsed().as_secs_f64() * AUDIO_BYTES_PER_SEC) as u64 + 320;
                        if !draining.load(Ordering::SeqCst) && total >= allowed {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        let n = match reader.read(&mut buf) {
                            Ok(n) => n,
                            Err(_) => break,
                        };
                        if stop.load(Ordering::SeqCst) {
                            break; // the byte written to wake us
                        }
                        total += n as u64;
                        captured.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                })
            };
            let ears = Ears {
                dir: dir.to_path_buf(),
                fifo,
                stop,
                draining,
                captured,
                thread: Some(thread),
            };
            (ears, "audio_player alsa,ears".to_string())
        }

        /// Stops listening once the phone's call is over — what the full FIFO still holds
        /// is read first — and returns what `sox stat` says of everything played.
        /// What was played, in the band `lo`..`hi` Hz only (a sinc band-pass before
        /// `sox stat`): a tone among speech stands out in its band.
        pub fn heard_in_band(mut self, lo: u32, hi: u32) -> Heard {
            self.drain_and_finish();
            let raw = self.dir.join("played.raw");
            std::fs::write(&raw, &*self.captured.lock().unwrap()).expect("write played.raw");
            let band = format!("{lo}-{hi}");
            sox_stat_with(
                &raw,
                &[
                    "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1",
                ],
                &["sinc", &band],
            )
        }

        /// Waits until the phone stops playing (bounded), then stops reading.
        fn drain_and_finish(&mut self) {
            self.draining.store(true, Ordering::SeqCst);
            let size = || self.captured.lock().unwrap().len();
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut last = size();
            loop {
                std::thread::sleep(Duration::from_millis(300));
                let now = size();
                if now == last || Instant::now() >= deadline {
                    break;
                }
                last = now;
            }
            self.finish();
        }

        pub fn heard(mut self) -> Heard {
            self.draining.store(true, Ordering::SeqCst);
            let size = || self.captured.lock().unwrap().len();
            let deadline = Instant::now() + Duration::from_secs(10);
            let mut last = size();
            loop {
                std::thread::sleep(Duration::from_millis(300));
                let now = size();
                if now == last || Instant::now() >= deadline {
                    break;
                }
                last = now;
            }
            self.finish();
            let raw = self.dir.join("played.raw");
            std::fs::write(&raw, &*self.captured.lock().unwrap()).expect("write played.raw");
            sox_stat(
                &raw,
                &[
                    "-t", "raw", "-r", "8000", "-e", "signed", "-b", "16", "-c", "1",
                ],
            )
        }

        fn finish(&mut self) {
            let Some(thread) = self.thread.take() else {
                return;
            };
            self.stop.store(true, Ordering::SeqCst);
            // Wake the reader if it waits on an empty FIFO. Opened for reading too, so
            // that the open itself can never wait for a reader.
            let waker = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&self.fifo);
            if let Ok(mut w) = waker {
                let _ = w.write_all(&[0]);
            }
            let _ = thread.join();
        }
    }

    impl Drop for Ears {
        fn drop(&mut self) {
            self.finish();
        }
    }

    /// `sox stat` of an audio file (`input` says how to read it, for raw files).
    fn sox_stat(file: &Path, input: &[&str]) -> Heard {
        sox_stat_with(file, input, &[])
    }

    /// `sox stat` of a WAV file, in the band `lo`..`hi` Hz when given.
    pub fn file_stat(file: &Path, band: Option<(u32, u32)>) -> Heard {
        let band = band.map(|(lo, hi)| format!("{lo}-{hi}"));
        let effects: Vec<&str> = match &band {
            Some(b) => vec!["sinc", b.as_str()],
            None => Vec::new(),
        };
        sox_stat_with(file, &[], &effects)
    }

    /// `sox stat` after `effects`.
    fn sox_stat_with(file: &Path, input: &[&str], effects: &[&str]) -> Heard {
        let out = run_bounded(
            Command::new(require_tool("sox", "sox"))
                .args(input)
                .arg(file)
                .arg("-n")
                .args(effects)
                .arg("stat"),
            Duration::from_secs(20),
        );
        let text = out.all();
        let field = |name: &str| -> f64 {
            text.lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split(':').nth(1))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| {
                    panic!("no {name:?} in sox output for {}:\n{text}", file.display())
                })
        };
        Heard {
            frequency: field("Rough   frequency"),
            rms: field("RMS     amplitude"),
            max: field("Maximum amplitude").max(-field("Minimum amplitude")),
            seconds: field("Length (seconds)"),
        }
    }

    /// Configuration lines that make a phone record what it receives (with the `sndfile`
    /// module) into `snd` in its directory.
    pub fn recording(dir: &Path) -> String {
        let snd = dir.join("snd");
        std::fs::create_dir_all(&snd).expect("snd dir");
        format!("snd_path {}", snd.display())
    }

    /// Starts baresip for `extension` playing `source`, with `ctrl_tcp` on a free loopback
    /// port besides `modules` and `config`, waits until it is registered, and connects to
    /// its control port. It quits on its own after 90 s whatever happens.
    pub fn start_controlled(
        server: &Server,
        extension: &str,
        dir: tempfile::TempDir,
        source: &Path,
        modules: &[&str],
        config: &str,
    ) -> (Baresip, Control) {
        let ctrl_port = free_port();
        let modules: Vec<&str> = modules.iter().copied().chain(["ctrl_tcp"]).collect();
        let mut phone = Baresip::start(
            server,
            dir,
            Setup {
                extension,
                source,
                modules: &modules,
                config: format!("ctrl_tcp_listen 127.0.0.1:{ctrl_port}\n{config}"),
                args: Vec::new(),
                seconds: 90,
            },
        );
        let control = Control::connect(&mut phone, ctrl_port, Duration::from_secs(15));
        super::wait_for(
            &format!("{extension} registered"),
            Duration::from_secs(15),
            || {
                phone.assert_running();
                (!server.status().bindings_of(extension).is_empty()).then_some(())
            },
        );
        (phone, control)
    }

    /// A free loopback SIP port for baresip: it also binds TLS on the next port, so that one
    /// must be free too.
    pub fn sip_port() -> u16 {
        for _ in 0..100 {
            let p = free_port();
            if p < 65000 && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
                return p;
            }
        }
        panic!("no loopback port p with p + 1 free for baresip after 100 tries");
    }

    /// How to start one phone.
    pub struct Setup<'a> {
        /// The extension it registers as (its password comes from the server's banner).
        pub extension: &'a str,
        /// The tone it plays (an 8 kHz WAV, see [`tone`]).
        pub source: &'a Path,
        /// Modules besides [`BASE_MODULES`], without `.so`.
        pub modules: &'a [&'a str],
        /// More configuration lines.
        pub config: String,
        /// More command-line arguments (e.g. `-e "/dial sip:..."`).
        pub args: Vec<String>,
        /// baresip quits on its own after this many seconds (`-t`), whatever happens.
        pub seconds: u32,
    }

    /// A baresip process with its own configuration directory; stopped (SIGTERM, then
    /// killed, by its own id) when dropped, its output printed if the test failed.
    pub struct Baresip {
        pub child: Child,
        pub dir: tempfile::TempDir,
        log: PathBuf,
    }

    impl Baresip {
        /// A fresh configuration directory, to put files (tones) in before [`Baresip::start`].
        pub fn new_dir() -> tempfile::TempDir {
            tempfile::Builder::new()
                .prefix("strowger-baresip-")
                .tempdir()
                .expect("temporary directory")
        }

        /// Writes `config` and `accounts` (UDP, MD5 digest with the banner's password,
        /// auto-answer, PCMU only) into `dir` and starts baresip on it, logging to
        /// `baresip.log` there.
        pub fn start(server: &Server, dir: tempfile::TempDir, setup: Setup) -> Baresip {
            let bin = require_tool("baresip", "baresip-core");
            let modules: String = BASE_MODULES
                .iter()
                .chain(setup.modules)
                .map(|m| format!("module {m}.so\n"))
                .collect();
            // Audio devices the configuration names itself (see `Ears`) replace these.
            let devices: String = [
                ("audio_player", "aufile,/dev/null".to_string()),
                ("audio_alert", "aufile,/dev/null".to_string()),
                ("audio_source", format!("aufile,{}", setup.source.display())),
            ]
            .into_iter()
            .filter(|(key, _)| !setup.config.lines().any(|l| l.starts_with(key)))
            .map(|(key, value)| format!("{key} {value}\n"))
            .collect();
            let config = format!(
                "poll_method epoll\nsip_listen 127.0.0.1:{}\n{devices}module_path {}\n\
                 {modules}{}\n",
                sip_port(),
                module_path().display(),
                setup.config,
            );
            std::fs::write(dir.path().join("config"), config).expect("baresip config");
            std::fs::write(
                dir.path().join("accounts"),
                format!(
                    "<sip:{}@{};transport=udp>;auth_pass={};answermode=auto;audio_codecs=PCMU\n",
                    setup.extension,
                    server.addr(),
                    server.password(setup.extension)
                ),
            )
            .expect("baresip accounts");
            std::fs::write(dir.path().join("contacts"), "").expect("baresip contacts");
            let log = dir.path().join("baresip.log");
            let out = std::fs::File::create(&log).expect("baresip log");
            let child = Command::new(bin)
                .arg("-f")
                .arg(dir.path())
                .args(["-t", &setup.seconds.to_string()])
                .args(&setup.args)
                .current_dir(dir.path())
                .env("HOME", dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::from(out.try_clone().expect("baresip log")))
                .stderr(Stdio::from(out))
                .spawn()
                .expect("start baresip");
            Baresip { child, dir, log }
        }

        /// Everything it printed so far, its status lines (ended by `\r`) split into lines.
        pub fn log(&self) -> String {
            String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default())
                .replace('\r', "\n")
        }

        /// Panics with its output if it has exited.
        pub fn assert_running(&mut self) {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "baresip exited with {status}\n--- baresip ---\n{}",
                    tail(&self.log(), 60)
                );
            }
        }
    }

    impl Drop for Baresip {
        fn drop(&mut self) {
            terminate(&mut self.child, Duration::from_secs(5));
            if std::thread::panicking() {
                eprintln!(
                    "--- baresip {} (last 60 lines) ---\n{}",
                    self.dir.path().display(),
                    tail(&self.log(), 60)
                );
            }
        }
    }

    /// The value of a string field of a flat JSON object as baresip writes it (no escapes
    /// in the values the tests look at).
    pub fn json_str<'a>(json: &'a str, field: &str) -> Option<&'a str> {
        let key = format!("\"{field}\":\"");
        let start = json.find(&key)? + key.len();
        let len = json[start..].find('"')?;
        Some(&json[start..start + len])
    }

    fn json_escape(s: &str) -> String {
        s.replace('\\', "\\\\").replace('"', "\\\"")
    }

    /// A connection to baresip's `ctrl_tcp` module.
    pub struct Control {
        stream: TcpStream,
        buf: Vec<u8>,
        /// Events received and not yet taken by [`Control::wait_event`].
        events: VecDeque<String>,
        next_token: u32,
    }

    impl Control {
        /// Connects to `127.0.0.1:port`, retrying for up to `limit` while baresip starts.
        pub fn connect(phone: &mut Baresip, port: u16, limit: Duration) -> Control {
            let deadline = Instant::now() + limit;
            loop {
                match TcpStream::connect(("127.0.0.1", port)) {
                    Ok(stream) => {
                        stream
                            .set_read_timeout(Some(Duration::from_millis(100)))
                            .expect("read timeout");
                        return Control {
                            stream,
                            buf: Vec::new(),
                            events: VecDeque::new(),
                            next_token: 0,
                        };
                    }
                    Err(e) if Instant::now() >= deadline => panic!(
                        "baresip's ctrl_tcp on port {port} not reachable within {limit:?}: \
                         {e}\n--- baresip ---\n{}",
                        tail(&phone.log(), 60)
                    ),
                    Err(_) => {
                        phone.assert_running();
                        std::thread::sleep(Duration::from_millis(100));
                    }
                }
            }
        }

        /// The next complete netstring, waiting until `deadline`.
        fn next_message(&mut self, deadline: Instant) -> Option<String> {
            loop {
                if let Some(colon) = self.buf.iter().position(|&b| b == b':') {
                    let len: usize = std::str::from_utf8(&self.buf[..colon])
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or_else(|| {
                            panic!(
                                "bad netstring from ctrl_tcp: {:?}",
                                String::from_utf8_lossy(&self.buf)
                            )
                        });
                    if self.buf.len() > colon + len + 1 {
                        let body = String::from_utf8_lossy(&self.buf[colon + 1..colon + 1 + len])
                            .into_owned();
                        assert_eq!(self.buf[colon + 1 + len], b',', "netstring end");
                        self.buf.drain(..colon + len + 2);
                        return Some(body);
                    }
                }
                if Instant::now() >= deadline {
                    return None;
                }
                let mut chunk = [0u8; 4096];
                match self.stream.read(&mut chunk) {
                    Ok(0) => panic!("baresip closed its ctrl_tcp connection"),
                    Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(e) => panic!("reading from ctrl_tcp: {e}"),
                }
            }
        }

        /// Runs a command (as typed after `/` in baresip's menu) and waits up to 10 s for
        /// its response, which must be `"ok":true`. Returns the response's `data`.
        pub fn command(&mut self, command: &str, params: &str) -> String {
            self.next_token += 1;
            let token = format!("t{}", self.next_token);
            let json = format!(
                "{{\"command\":\"{}\",\"params\":\"{}\",\"token\":\"{token}\"}}",
                json_escape(command),
                json_escape(params)
            );
            self.stream
                .write_all(format!("{}:{json},", json.len()).as_bytes())
                .expect("write to ctrl_tcp");
            let limit = Duration::from_secs(10);
            let deadline = Instant::now() + limit;
            while let Some(msg) = self.next_message(deadline) {
                if msg.contains("\"response\":true") {
                    if json_str(&msg, "token") == Some(&token) {
                        assert!(
                            msg.contains("\"ok\":true"),
                            "baresip refused `{command} {params}`: {msg}"
                        );
                        return json_str(&msg, "data").unwrap_or_default().to_string();
                    }
                } else {
                    self.events.push_back(msg);
                }
            }
            panic!("no response from baresip to `{command} {params}` within {limit:?}");
        }

        /// Waits up to `limit` for an event of `kind` (e.g. `CALL_ESTABLISHED`), and returns
        /// it (the whole JSON object). Events of other kinds stay queued.
        pub fn wait_event(&mut self, kind: &str, limit: Duration) -> String {
            self.try_wait_event(kind, limit).unwrap_or_else(|| {
                panic!(
                    "no {kind} event from baresip within {limit:?}; events not taken: {:?}",
                    self.events
                )
            })
        }

        /// Like [`Control::wait_event`], `None` when none came within `limit`.
        pub fn try_wait_event(&mut self, kind: &str, limit: Duration) -> Option<String> {
            let is_kind = |m: &String| json_str(m, "type") == Some(kind);
            if let Some(i) = self.events.iter().position(is_kind) {
                return self.events.remove(i);
            }
            let deadline = Instant::now() + limit;
            while let Some(msg) = self.next_message(deadline) {
                if is_kind(&msg) {
                    return Some(msg);
                }
                if !msg.contains("\"response\":true") {
                    self.events.push_back(msg);
                }
            }
            None
        }
    }
}
