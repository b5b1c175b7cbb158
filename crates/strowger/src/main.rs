//! `strowger`: the node binary. `serve` runs the phone system; the other subcommands manage
//! the configuration of the data directory, acting through the running server when there is
//! one (like `pg_ctl -D`).
#![forbid(unsafe_code)]

mod audit;
mod call_recording;
mod cli_config;
mod clips;
mod clock;
mod control;
mod convert;
mod email;
mod flows;
mod mailbox_admin;
mod mailbox_calls;
mod mailbox_edge;
mod music;
mod prompts;
mod relay;
mod secret;
mod serve;
mod sip_limits;
mod status;
mod tcp;
mod trace;
mod voicemail;
mod welcome;

use clap::{Parser, Subcommand};

/// mimalloc rather than glibc's allocator: the SIP path allocates many small strings, and
/// mimalloc both serves them faster and hands freed memory back to the system after a burst
/// of transactions, so resident memory follows the live load.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "strowger",
    version,
    about = "Strowger: an open-source business phone system"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone)]
struct DataDir {
    /// The data directory (default: $STROWGER_DATA_DIR, else ~/.local/share/strowger).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl DataDir {
    fn path(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(serve::default_data_dir)
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Run the phone system (creates a working default configuration on first start).
    Serve {
        #[command(flatten)]
        dir: DataDir,
        /// Address for SIP over UDP and TCP.
        #[arg(long, default_value = "0.0.0.0:5060", value_name = "IP:PORT")]
        sip_listen: SocketAddr,
        /// Start with the SIP trace (every message in and out) on.
        #[arg(long)]
        sip_trace: bool,
        /// RTP/RTCP ports of the media relay, as FIRST-LAST.
        #[arg(long, default_value = "10000-20000", value_parser = parse_port_range)]
        rtp_ports: std::ops::RangeInclusive<u16>,
        /// The IP address media is relayed on and written into SDP (default: the SIP
        /// address; when SIP listens on all addresses, the one each phone used for SIP).
        #[arg(long, value_name = "IP")]
        media_ip: Option<std::net::IpAddr>,
    },
    /// Export, check or apply the configuration document (TOML).
    #[command(subcommand)]
    Config(ConfigCmd),
    /// Bulk-create objects from a file.
    #[command(subcommand)]
    Import(ImportCmd),
    /// Show registrations, blocked sources and counters of the running server.
    Status {
        #[command(flatten)]
        dir: DataDir,
    },
    /// Show calls in progress on the running server, and the latest call records.
    Calls {
        #[command(flatten)]
        dir: DataDir,
        /// Also list this many of the latest finished calls (call records).
        #[arg(long, default_value_t = 0)]
        history: usize,
    },
    /// Switch the SIP trace of the running server on or off.
    Trace {
        /// `on` or `off`.
        #[arg(value_parser = ["on", "off"])]
        state: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Set a mailbox's PIN or unlock it (through the running server when there is one).
    #[command(subcommand)]
    Mailbox(MailboxCmd),
    /// Show the audit trail (configuration changes and security events), newest first.
    Audit {
        #[command(flatten)]
        dir: DataDir,
        /// How many entries.
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum ConfigCmd {
    /// Print the configuration in force (phone and administrator passwords only as hashes;
    /// the mail server's password as given).
    Export {
        #[command(flatten)]
        dir: DataDir,
        /// Write to this file instead of standard output.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Validate a document without applying it; lists every error with its field path.
    Check {
        /// The TOML document.
        file: PathBuf,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Validate and apply a document; the running server takes it at once.
    Apply {
        /// The TOML document.
        file: PathBuf,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Subcommand)]
enum MailboxCmd {
    /// Set the PIN of a mailbox (a user's extension or a hunt group's number), read from
    /// standard input; its owner must choose a new one at the next login.
    SetPin {
        /// The mailbox number.
        mailbox: String,
        #[command(flatten)]
        dir: DataDir,
    },
    /// Lift the lock wrong PINs put on a mailbox.
    Unlock {
        /// The mailbox number.
        mailbox: String,
        #[command(flatten)]
        dir: DataDir,
    },
}

#[derive(Subcommand)]
enum ImportCmd {
    /// Create extensions and users from a CSV file with a header row (number,password,name).
    Extensions {
        /// The CSV file.
        file: PathBuf,
        #[command(flatten)]
        dir: DataDir,
        /// Accept passwords that fail the strength rule (benchmarks only; audited).
        #[arg(long)]
        allow_weak_passwords: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    let result = match cli.command {
        Cmd::Serve {
            dir,
            sip_listen,
            sip_trace,
            rtp_ports,
            media_ip,
        } =>
        // One thread for all signalling: the core is single-threaded anyway, and one
        // thread measured ~15 % less CPU per registration than two workers handing the
        // socket readiness back and forth (BENCHMARKS.md). Media will get its own threads.
        {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(anyhow::Error::from)
                .and_then(|rt| {
                    rt.block_on(serve::run(serve::ServeOptions {
                        data_dir: dir.path(),
                        sip_listen,
                        sip_trace,
                        rtp_ports,
                        media_ip,
                    }))
                })
        }
        Cmd::Config(ConfigCmd::Export { dir, output }) => cli_config::export(&dir.path(), output),
        Cmd::Config(ConfigCmd::Check { file, dir }) => cli_config::check(&dir.path(), &file),
        Cmd::Config(ConfigCmd::Apply { file, dir }) => cli_config::apply(&dir.path(), &file),
        Cmd::Import(ImportCmd::Extensions {
            file,
            dir,
            allow_weak_passwords,
        }) => cli_config::import_extensions(&dir.path(), &file, allow_weak_passwords),
        Cmd::Status { dir } => cli_config::status(&dir.path()),
        Cmd::Calls { dir, history } => cli_config::calls(&dir.path(), history),
        Cmd::Trace { state, dir } => cli_config::trace(&dir.path(), state == "on"),
        Cmd::Audit { dir, limit } => cli_config::audit(&dir.path(), limit),
        Cmd::Mailbox(MailboxCmd::SetPin { mailbox, dir }) => {
            mailbox_admin::read_pin().and_then(|pin| {
                mailbox_admin::run(
                    &dir.path(),
                    mailbox_admin::MailboxAdmin::SetPin { mailbox, pin },
                )
            })
        }
        Cmd::Mailbox(MailboxCmd::Unlock { mailbox, dir }) => {
            mailbox_admin::run(&dir.path(), mailbox_admin::MailboxAdmin::Unlock { mailbox })
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `FIRST-LAST`, both even-aligned ports with at least one RTP/RTCP pair between them.
fn parse_port_range(s: &str) -> Result<std::ops::RangeInclusive<u16>, String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("{s:?}: expected FIRST-LAST, e.g. 10000-20000"))?;
    let first: u16 = a
        .trim()
        .parse()
        .map_err(|_| format!("{a:?} is not a port"))?;
    let last: u16 = b
        .trim()
        .parse()
        .map_err(|_| format!("{b:?} is not a port"))?;
    if first < 1024 || last <= first {
        return Err(format!(
            "{s:?}: the range must start at 1024 or above and hold at least one port pair"
        ));
    }
    Ok(first..=last)
}

fn init_logging() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("STROWGER_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sip_trace=info"));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .init();
}
