//! A real softphone, baresip, registers against the server with the credentials printed at
//! first start, over UDP and over TCP, and unregisters when it stops.

mod common;

use common::{free_port, require_tool, tail, terminate, wait_for, Server};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A baresip process with its own configuration directory; killed (by its id) on drop.
struct Baresip {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Baresip {
    fn log(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.log).unwrap_or_default()).into_owned()
    }
}

impl Drop for Baresip {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "--- baresip output (last 60 lines) ---\n{}",
                tail(&self.log(), 60)
            );
        }
    }
}

fn module_path() -> PathBuf {
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

/// Starts baresip with one account for `extension` on the server, over `transport`.
fn start_baresip(server: &Server, extension: &str, password: &str, transport: &str) -> Baresip {
    let bin = require_tool("baresip", "baresip");
    let dir = tempfile::Builder::new()
        .prefix("strowger-baresip-")
        .tempdir()
        .expect("temporary directory");
    let port = free_port();
    let config = format!(
        "poll_method\t\tepoll\n\
         sip_listen\t\t127.0.0.1:{port}\n\
         module_path\t\t{}\n\
         module\t\t\tg711.so\n\
         module_tmp\t\taccount.so\n",
        module_path().display()
    );
    std::fs::write(dir.path().join("config"), config).unwrap();
    std::fs::write(
        dir.path().join("accounts"),
        format!(
            "<sip:{extension}@{};transport={transport}>;auth_pass={password};regint=600\n",
            server.addr()
        ),
    )
    .unwrap();
    std::fs::write(dir.path().join("contacts"), "").unwrap();
    let log = dir.path().join("baresip.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(bin)
        .arg("-f")
        .arg(dir.path())
        // A safety net: it quits on its own after two minutes whatever happens.
        .args(["-t", "120"])
        .env("HOME", dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .expect("start baresip");
    Baresip {
        child,
        log,
        _dir: dir,
    }
}

fn registers_and_unregisters(transport: &str) {
    let server = Server::start();
    let password = server.password("201");
    let mut phone = start_baresip(&server, "201", &password, transport);

    let binding = wait_for(
        "baresip's registration in `strowger status`",
        Duration::from_secs(15),
        || {
            if let Ok(Some(status)) = phone.child.try_wait() {
                panic!("baresip exited with {status}:\n{}", phone.log());
            }
            // baresip reports a failed registration as "reg: <aor>: Register: <reason>".
            let log = phone.log();
            if let Some(line) = log.lines().find(|l| l.contains(": Register: ")) {
                panic!(
                    "baresip could not register: {line}\n(baresip 1.0 / libre 1.1 answers \
                     ENOSYS, \"Function not implemented\", to any challenge whose algorithm is \
                     not MD5)\n--- baresip ---\n{log}"
                );
            }
            let st = server.status();
            st.bindings_of("201")
                .into_iter()
                .find(|b| b.user_agent.to_lowercase().contains("baresip"))
                .cloned()
        },
    );
    let want = if transport == "tcp" { "tcp" } else { "udp" };
    let source = binding.source.to_lowercase();
    assert!(
        source.contains(want)
            || (want == "tcp" && source.contains("reliable") && !source.contains("unreliable"))
            || (want == "udp" && source.contains("unreliable")),
        "registered over {transport}: {}",
        binding.line
    );
    assert!(binding.contact.contains("127.0.0.1"), "{}", binding.line);
    assert!(binding.expires > 60, "{}", binding.line);

    // Stopped with SIGTERM, baresip unregisters.
    let (status, killed) = terminate(&mut phone.child, Duration::from_secs(15));
    assert!(!killed, "baresip did not stop within 15 s of SIGTERM");
    assert!(status.is_some());
    wait_for(
        "201's binding to go after baresip unregistered",
        Duration::from_secs(10),
        || server.status().bindings_of("201").is_empty().then_some(()),
    );
}

#[test]
fn baresip_registers_over_udp() {
    registers_and_unregisters("udp");
}

#[test]
fn baresip_registers_over_tcp() {
    registers_and_unregisters("tcp");
}
