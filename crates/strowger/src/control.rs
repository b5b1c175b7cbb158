//! The control socket: how `strowger status`, `config apply`, `import` and `trace` reach the
//! server running on the same data directory (as `pg_ctl -D` does). A Unix socket
//! `control.sock` in the data directory, one text command per connection, a text answer.
//! Only the owner of the data directory can reach it (file permissions).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};

/// The commands the server understands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Registrations, blocks and counters.
    Status,
    /// Calls in progress.
    Calls,
    /// Re-read the configuration from the store (another process applied one).
    Reload,
    /// Switch the SIP trace on or off.
    Trace(bool),
    /// Set a mailbox's PIN or unlock it (`strowger mailbox`).
    Mailbox(crate::mailbox_admin::MailboxAdmin),
}

impl Command {
    fn parse(line: &str) -> Option<Command> {
        use crate::mailbox_admin::MailboxAdmin;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["status"] => Some(Command::Status),
            ["calls"] => Some(Command::Calls),
            ["reload"] => Some(Command::Reload),
            ["trace", "on"] => Some(Command::Trace(true)),
            ["trace", "off"] => Some(Command::Trace(false)),
            ["mailbox-pin", mailbox, pin] if digits(mailbox) && digits(pin) => {
                Some(Command::Mailbox(MailboxAdmin::SetPin {
                    mailbox: mailbox.to_string(),
                    pin: pin.to_string(),
                }))
            }
            ["mailbox-unlock", mailbox] if digits(mailbox) => {
                Some(Command::Mailbox(MailboxAdmin::Unlock {
                    mailbox: mailbox.to_string(),
                }))
            }
            _ => None,
        }
    }

    fn wire(&self) -> String {
        use crate::mailbox_admin::MailboxAdmin;
        match self {
            Command::Status => "status".into(),
            Command::Calls => "calls".into(),
            Command::Reload => "reload".into(),
            Command::Trace(true) => "trace on".into(),
            Command::Trace(false) => "trace off".into(),
            Command::Mailbox(MailboxAdmin::SetPin { mailbox, pin }) => {
                format!("mailbox-pin {mailbox} {pin}")
            }
            Command::Mailbox(MailboxAdmin::Unlock { mailbox }) => {
                format!("mailbox-unlock {mailbox}")
            }
        }
    }
}

/// A command with the channel its answer goes back on.
pub type ControlRequest = (Command, oneshot::Sender<String>);

/// The socket's path in a data directory.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("control.sock")
}

/// Binds the control socket. A stale socket left by a crashed server is removed; a live one
/// means a server already runs on this data directory, which is an error.
pub fn bind(data_dir: &Path) -> anyhow::Result<UnixListener> {
    let path = socket_path(data_dir);
    if path.exists() {
        if UnixStream::connect(&path).is_ok() {
            anyhow::bail!(
                "a server is already running on data directory {}",
                data_dir.display()
            );
        }
        std::fs::remove_file(&path)?;
    }
    Ok(UnixListener::bind(&path)?)
}

/// Serves the control socket, handing each command to the core loop.
pub async fn serve(listener: UnixListener, to_core: mpsc::Sender<ControlRequest>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let to_core = to_core.clone();
        tokio::spawn(async move {
            let (r, mut w) = stream.into_split();
            let mut line = String::new();
            let mut reader = BufReader::new(r).take(1024);
            if reader.read_line(&mut line).await.is_err() {
                return;
            }
            let answer = match Command::parse(&line) {
                // The line may hold a PIN: it is not echoed back.
                None => "error: unknown command\n".to_string(),
                Some(cmd) => {
                    let (tx, rx) = oneshot::channel();
                    if to_core.send((cmd, tx)).await.is_err() {
                        return;
                    }
                    rx.await
                        .unwrap_or_else(|_| "error: server stopping\n".into())
                }
            };
            let _ = w.write_all(answer.as_bytes()).await;
        });
    }
}

use tokio::io::AsyncReadExt as _;

/// Sends a command to the server running on `data_dir`. `Ok(None)` when none runs.
pub fn send(data_dir: &Path, cmd: &Command) -> anyhow::Result<Option<String>> {
    let path = socket_path(data_dir);
    let mut stream = match UnixStream::connect(&path) {
        Ok(s) => s,
        Err(_) => return Ok(None),
    };
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.write_all(format!("{}\n", cmd.wire()).as_bytes())?;
    stream.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(Some(answer))
}
