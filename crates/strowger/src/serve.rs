//! `strowger serve`: opens (or creates) the data directory, binds UDP and TCP on the SIP
//! address, and runs the call-server core in one task that owns it, feeding it datagrams,
//! framed TCP messages, control commands and its own timer.

use crate::clock::LocalClock;
use crate::control::{self, Command, ControlRequest};
use crate::convert;
use crate::mailbox_calls::{CoreCommand, ServiceInput, VoicemailCalls};
use crate::mailbox_edge::VoicemailEdge;
use crate::music::{MusicLibrary, SharedMusic};
use crate::sip_limits::MAX_MESSAGE;
use crate::tcp::{self, TcpEvent};
use crate::trace::SipTrace;
use crate::voicemail::{MailboxState, MessageWaiting};
use anyhow::Context;
use pbx::{Pbx, PbxEvent, Peer, Transport};
use std::collections::HashMap;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use store::{Config, Store};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;

/// Options of `strowger serve`.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The data directory.
    pub data_dir: PathBuf,
    /// Where SIP listens (UDP and TCP).
    pub sip_listen: SocketAddr,
    /// Start with the SIP trace on.
    pub sip_trace: bool,
    /// The RTP/RTCP port range of the media relay.
    pub rtp_ports: std::ops::RangeInclusive<u16>,
    /// The address media is relayed on (default: the SIP address).
    pub media_ip: Option<std::net::IpAddr>,
}

/// Runs the server until SIGINT/SIGTERM.
pub async fn run(opts: ServeOptions) -> anyhow::Result<()> {
    std::fs::create_dir_all(&opts.data_dir)
        .with_context(|| format!("creating data directory {}", opts.data_dir.display()))?;
    let control_listener = control::bind(&opts.data_dir)?;
    let mut store = Store::open(&opts.data_dir)?;
    let mut first_start = None;
    if store.current()?.is_none() {
        let (config, creds) = Config::embedded_default();
        // Only the process whose default went in may show its passwords.
        if store
            .apply_first(&config, "strowger", "first start (embedded default)")?
            .is_some()
        {
            first_start = Some(creds);
        }
    }
    let config = store
        .current()?
        .map(|(_, c)| c)
        .context("no configuration stored")?;
    drop(store);
    let secret = crate::secret::load_or_create(&opts.data_dir)?;
    // A file that went missing since the configuration was applied must not keep the phone
    // system from starting: its users hear the system's music (or the built-in piece).
    let (library, errors) = MusicLibrary::load(&config, &opts.data_dir);
    for e in &errors {
        tracing::error!(error = %e, "music on hold does not play; the system's plays instead");
    }
    tracing::info!(files = library.files(), "music on hold loaded");
    let music: SharedMusic = Arc::new(Mutex::new(library));
    let (mwi, mwi_rx) = MessageWaiting::open(&opts.data_dir, opts.sip_listen.ip());
    let email = crate::email::EmailNotifier::start(&mwi, &config);

    let udp = bind_udp(opts.sip_listen)?;
    let tcp = TcpListener::bind(opts.sip_listen)
        .await
        .with_context(|| format!("binding TCP {}", opts.sip_listen))?;
    let local = udp.local_addr()?;
    crate::welcome::print(&local, &config, first_start.as_ref(), &opts.data_dir);

    let trace = SipTrace::default();
    trace.set(opts.sip_trace);
    let (tcp_tx, tcp_rx) = mpsc::channel(4096);
    tokio::spawn(tcp::accept_loop(tcp, tcp_tx, trace.clone()));
    let (ctl_tx, ctl_rx) = mpsc::channel(16);
    tokio::spawn(control::serve(control_listener, ctl_tx));
    let audit = crate::audit::spawn(opts.data_dir.clone());
    audit.record("server.start", &format!("SIP on {local} (UDP, TCP)"));

    let now = Instant::now();
    let unix = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let mut pbx = Pbx::new(
        convert::pbx_settings(&config),
        convert::directory(&config),
        secret,
        now,
        unix,
    );
    let voicemail_on = mwi.store().is_some();
    pbx.set_features(convert::features(&config, voicemail_on));
    // Lamps from the start: a phone that registers or subscribes hears its mailbox's state.
    let numbers = convert::mailbox_numbers(&config);
    for s in mwi.states(numbers.iter().map(String::as_str)) {
        pbx.set_message_summary(now, &s.extension, s.waiting, s.body);
    }
    let mut clock = local_clock(&config);
    clock.tick(&mut pbx, now);
    let media_ip = opts.media_ip.unwrap_or(opts.sip_listen.ip());
    // Keys, ends of prompts and silences go straight to the voicemail thread; keys also
    // to the core loop, for the record keys of calls in progress.
    let (vm_calls, vm_rx) = VoicemailCalls::channel();
    let (key_tx, key_rx) = mpsc::unbounded_channel();
    let events = {
        let vm_calls = vm_calls.clone();
        media_engine::EventSink::new(move |e| {
            if let media_engine::MediaEvent::Digit {
                session,
                leg,
                digit,
            } = &e
            {
                let _ = key_tx.send((*session, *leg, *digit));
            }
            vm_calls.send(ServiceInput::Media(e))
        })
    };
    let engine = media_engine::MediaEngine::start(media_engine::MediaConfig {
        bind_ip: media_ip,
        port_range: opts.rtp_ports.clone(),
        threads: 1,
        events: Some(events),
    })
    .context("starting the media relay")?;
    let default_ip = if media_ip.is_unspecified() {
        std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)
    } else {
        media_ip
    };
    tracing::info!(ip = %media_ip, ports = ?opts.rtp_ports, "media relay started");
    let engine = Arc::new(engine);
    let relay = crate::relay::EngineRelay::new(engine.clone(), default_ip, music.clone());
    let swapped = relay.swapped_sessions();
    let keys = RecordKeys {
        rx: key_rx,
        swapped: swapped.clone(),
    };
    pbx.set_media_relay(Box::new(relay));
    let (vm_tx, vm_commands) = mpsc::unbounded_channel();
    let mut recorder = None;
    let voicemail = match mwi.store() {
        Some(store) => {
            let book = crate::flows::Book::shared(&config);
            let prompts = Arc::new(crate::prompts::PromptLibrary::load());
            tracing::info!(prompts = prompts.len(), "voicemail runs");
            let parts = crate::mailbox_calls::Parts {
                engine: engine.clone(),
                store: store.clone(),
                mwi: mwi.clone(),
                prompts,
                book: book.clone(),
                to_core: vm_tx,
                email: email.clone(),
                clips: crate::clips::ClipFolder::open(opts.data_dir.join("flow-recordings"))
                    .context("preparing the folder of call flows' recordings")?,
            };
            VoicemailCalls::spawn(vm_rx, parts).context("starting the voicemail thread")?;
            recorder = Some(
                crate::call_recording::CallRecorder::spawn(crate::call_recording::Parts {
                    engine: engine.clone(),
                    store: store.clone(),
                    mwi: mwi.clone(),
                    email: email.clone(),
                })
                .context("starting the call recording thread")?,
            );
            Some(VoicemailEdge::new(vm_calls, swapped, book))
        }
        None => None,
    };
    let mut core = CoreLoop {
        pbx,
        udp,
        tcp_writers: HashMap::new(),
        backlog: Vec::new(),
        engine,
        music,
        trace,
        audit,
        data_dir: opts.data_dir.clone(),
        clock,
        mwi,
        voicemail,
        email,
        recorder,
    };
    let result = core.run(tcp_rx, ctl_rx, mwi_rx, vm_commands, keys).await;
    core.audit.record("server.stop", "");
    let _ = std::fs::remove_file(control::socket_path(&opts.data_dir));
    result
}

/// A UDP socket with a large receive buffer: under load the kernel buffer, not the CPU, is
/// the first thing to overflow (the peers' benchmark notes say as much).
fn bind_udp(addr: SocketAddr) -> anyhow::Result<UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = socket.set_recv_buffer_size(8 << 20);
    let _ = socket.set_send_buffer_size(4 << 20);
    socket.set_nonblocking(true)?;
    socket
        .bind(&addr.into())
        .with_context(|| format!("binding UDP {addr}"))?;
    Ok(UdpSocket::from_std(socket.into())?)
}

struct CoreLoop {
    pbx: Pbx,
    udp: UdpSocket,
    tcp_writers: HashMap<SocketAddr, mpsc::Sender<Vec<u8>>>,
    backlog: Vec<(SocketAddr, Vec<u8>)>,
    engine: Arc<media_engine::MediaEngine>,
    /// The music on hold the relay plays, replaced on reload.
    music: SharedMusic,
    trace: SipTrace,
    audit: crate::audit::AuditSink,
    data_dir: PathBuf,
    /// Tells the core the local time (time profiles).
    clock: LocalClock,
    /// The voicemail store and the mailbox states it feeds the core.
    mwi: MessageWaiting,
    /// Calls in voicemail, when the voicemail store opened.
    voicemail: Option<VoicemailEdge>,
    /// Voicemail email: `message_deposited` after each new message.
    email: crate::email::EmailNotifier,
    /// Call recordings, when the voicemail store opened.
    recorder: Option<crate::call_recording::CallRecorder>,
}

/// Keys read on relay sessions (telephone-events), for the core's record keys.
struct RecordKeys {
    rx: mpsc::UnboundedReceiver<(media_engine::SessionId, media_engine::Leg, char)>,
    /// Which sessions' caller is on leg B.
    swapped: crate::mailbox_edge::SwappedSessions,
}

/// The clock of the configured time zone. A zone this machine does not know (the document
/// was checked on another) must not stop calls: the machine's zone stands in, loudly.
fn local_clock(config: &Config) -> LocalClock {
    let zone = config.system.timezone.as_deref();
    let clock = LocalClock::new(zone).unwrap_or_else(|e| {
        tracing::error!(error = %format!("{e:#}"), "unknown time zone; time profiles use the machine's");
        LocalClock::new(None).expect("the machine's time zone needs no lookup")
    });
    tracing::info!(zone = %clock.zone_name(), "time profiles read in this time zone");
    clock
}

impl CoreLoop {
    async fn run(
        &mut self,
        mut tcp_rx: mpsc::Receiver<TcpEvent>,
        mut ctl_rx: mpsc::Receiver<ControlRequest>,
        mut mwi_rx: mpsc::UnboundedReceiver<MailboxState>,
        mut vm_commands: mpsc::UnboundedReceiver<CoreCommand>,
        mut keys: RecordKeys,
    ) -> anyhow::Result<()> {
        let mut buf = vec![0u8; MAX_MESSAGE + 1];
        let mut sigterm =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        // One future for the whole run: re-creating it per loop turn costs a registration.
        let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = sigterm.recv() => {}
            }
            let _ = stop_tx.send(());
        });
        let sleep = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(sleep);
        loop {
            // The core wakes at least once a second, so this keeps its local time current.
            self.clock.tick(&mut self.pbx, Instant::now());
            let deadline = self
                .pbx
                .poll_timeout()
                .map(tokio::time::Instant::from_std)
                .unwrap_or_else(|| tokio::time::Instant::now() + Duration::from_secs(1));
            if sleep.deadline() != deadline {
                sleep.as_mut().reset(deadline);
            }
            tokio::select! {
                r = self.udp.readable() => {
                    r?;
                    self.read_datagrams(&mut buf);
                }
                Some(ev) = tcp_rx.recv() => self.on_tcp(ev),
                Some((cmd, reply)) = ctl_rx.recv() => {
                    let answer = self.on_command(cmd).await;
                    let _ = reply.send(answer);
                }
                Some(s) = mwi_rx.recv() => {
                    self.pbx.set_message_summary(Instant::now(), &s.extension, s.waiting, s.body);
                }
                Some(command) = vm_commands.recv() => {
                    if let Some(voicemail) = &self.voicemail {
                        voicemail.apply(&mut self.pbx, Instant::now(), command);
                    }
                }
                Some((session, leg, digit)) = keys.rx.recv() => {
                    if let Some(side) = crate::relay::side_of(&keys.swapped, session.0, leg) {
                        self.pbx.handle_key(Instant::now(), session.0, side, digit);
                    }
                }
                _ = &mut sleep => {
                    self.pbx.handle_timeout(Instant::now());
                }
                _ = &mut stop_rx => break,
            }
            self.flush().await;
        }
        tracing::info!("stopping");
        Ok(())
    }

    /// Reads what the socket holds, up to a batch, so one wake-up serves many datagrams.
    fn read_datagrams(&mut self, buf: &mut [u8]) {
        for _ in 0..256 {
            match self.udp.try_recv_from(buf) {
                Ok((n, from)) => {
                    let peer = Peer {
                        addr: from,
                        transport: Transport::Unreliable,
                    };
                    if n > MAX_MESSAGE || n == 0 {
                        continue;
                    }
                    let bytes = &buf[..n];
                    // RFC 5626 keep-alives: a bare CRLF(CRLF) is answered with CRLF on
                    // streams only; on UDP it is just dropped.
                    if bytes.iter().all(|b| *b == b'\r' || *b == b'\n') {
                        continue;
                    }
                    self.trace.incoming(peer, bytes);
                    self.pbx.handle_datagram(Instant::now(), peer, bytes);
                    // Answer each request before reading the next: a batch of answers sent
                    // at once arrives as a burst that overflows a small client buffer.
                    self.send_ready();
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => {
                    // ICMP errors surface here on Linux; they concern one peer only.
                    tracing::debug!(error = %e, "UDP receive error");
                }
            }
        }
    }

    fn on_tcp(&mut self, ev: TcpEvent) {
        match ev {
            TcpEvent::Opened { addr, writer } => {
                self.tcp_writers.insert(addr, writer);
            }
            TcpEvent::Message { peer, bytes } => {
                self.pbx.handle_datagram(Instant::now(), peer, &bytes);
            }
            TcpEvent::Closed { addr } => {
                self.tcp_writers.remove(&addr);
            }
        }
    }

    async fn on_command(&mut self, cmd: Command) -> String {
        match cmd {
            Command::Status => {
                let mut text = crate::status::render(&self.pbx, Instant::now(), &self.trace);
                text.push_str(&format!(
                    "media port pairs: {} free of {}\n",
                    self.engine.pool_available(),
                    self.engine.pool_capacity()
                ));
                text
            }
            Command::Calls => crate::status::render_calls(&self.pbx),
            Command::Mailbox(action) => {
                let Some(store) = self.mwi.store() else {
                    return "error: the voicemail store is not open on the server\n".into();
                };
                let done = tokio::task::spawn_blocking(move || {
                    let mut store = store.lock().unwrap_or_else(|p| p.into_inner());
                    action.apply(&mut store)
                })
                .await;
                match done {
                    Ok(Ok(answer)) => answer,
                    Ok(Err(why)) => format!("error: {why}\n"),
                    Err(_) => "error: the mailbox change did not finish\n".into(),
                }
            }
            Command::Trace(on) => {
                self.trace.set(on);
                self.audit.record(
                    "trace.switch",
                    if on { "switched on" } else { "switched off" },
                );
                format!("SIP trace {}\n", if on { "on" } else { "off" })
            }
            Command::Reload => match load_config(self.data_dir.clone()).await {
                Ok(Some((_, _, errors))) if !errors.is_empty() => {
                    let errors = store::ConfigErrors(errors);
                    tracing::error!(%errors, "reload refused: music on hold does not play");
                    format!(
                        "error: music on hold does not play:\n{errors}\nthe configuration \
                         in force stays\n"
                    )
                }
                Ok(Some((config, library, _))) => {
                    *self
                        .music
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = library;
                    self.pbx
                        .apply_config(convert::pbx_settings(&config), convert::directory(&config));
                    self.pbx
                        .set_features(convert::features(&config, self.voicemail.is_some()));
                    if let Some(voicemail) = &self.voicemail {
                        voicemail.set_config(&config);
                    }
                    self.mwi.refresh(convert::mailbox_numbers(&config));
                    self.email.configure(&config);
                    self.clock = local_clock(&config);
                    self.clock.tick(&mut self.pbx, Instant::now());
                    tracing::info!(
                        extensions = config.extensions.len(),
                        "configuration reloaded"
                    );
                    format!(
                        "reloaded: {} extensions, {} users\n",
                        config.extensions.len(),
                        config.users.len()
                    )
                }
                Ok(None) => "error: no configuration stored\n".into(),
                Err(e) => format!("error: {e:#}\n"),
            },
        }
    }

    /// Sends what the core has queued without waiting. A UDP datagram that finds the send
    /// buffer full is kept in `backlog` for [`Self::flush`] to wait on.
    fn send_ready(&mut self) {
        while let Some(t) = self.pbx.poll_transmit() {
            self.trace.outgoing(t.dest, &t.bytes);
            match t.dest.transport {
                Transport::Unreliable => {
                    if !self.backlog.is_empty() {
                        self.backlog.push((t.dest.addr, t.bytes));
                        continue;
                    }
                    match self.udp.try_send_to(&t.bytes, t.dest.addr) {
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            self.backlog.push((t.dest.addr, t.bytes));
                        }
                        Err(e) => {
                            tracing::debug!(to = %t.dest.addr, error = %e, "UDP send failed")
                        }
                    }
                }
                Transport::Reliable => match self.tcp_writers.get(&t.dest.addr) {
                    Some(w) => {
                        if w.try_send(t.bytes).is_err() {
                            tracing::debug!(to = %t.dest.addr, "TCP writer full or gone");
                        }
                    }
                    None => tracing::debug!(to = %t.dest.addr, "no TCP connection for response"),
                },
            }
        }
    }

    async fn flush(&mut self) {
        self.send_ready();
        // The send buffer was full: wait for room rather than drop, in order.
        for (addr, bytes) in std::mem::take(&mut self.backlog) {
            let _ = self.udp.send_to(&bytes, addr).await;
        }
        while let Some(ev) = self.pbx.poll_event() {
            if let Some(voicemail) = self.voicemail.as_mut() {
                voicemail.on_event(&ev);
            }
            if let Some(recorder) = &self.recorder {
                recorder.on_event(&ev);
            }
            log_event(&ev, &self.audit);
        }
    }
}

/// The stored configuration and its music on hold (with the fields whose files do not
/// play), read off the signalling task: files and SQLite may be slow.
async fn load_config(
    data_dir: PathBuf,
) -> anyhow::Result<Option<(Config, MusicLibrary, Vec<store::FieldError>)>> {
    tokio::task::spawn_blocking(move || {
        let store = Store::open(&data_dir)?;
        Ok(store.current()?.map(|(_, config)| {
            let (library, errors) = MusicLibrary::load(&config, &data_dir);
            (config, library, errors)
        }))
    })
    .await?
}

fn log_event(ev: &PbxEvent, audit: &crate::audit::AuditSink) {
    match ev {
        PbxEvent::Registered {
            extension,
            contact,
            source,
            call_id,
        } => {
            tracing::info!(extension = %extension, %contact, source = %source.addr, %call_id, "registered")
        }
        PbxEvent::VoicemailCall(v) => {
            tracing::info!(call_id = %v.call_id, caller = %v.caller, mailbox = %v.mailbox, reason = ?v.reason, "answered for voicemail")
        }
        PbxEvent::RecordingStarted(r) => {
            let mailboxes: Vec<&str> = r.owners.iter().map(|o| o.mailbox.as_str()).collect();
            tracing::info!(call_id = %r.call_id, ?mailboxes, trigger = ?r.trigger, "call recording started")
        }
        PbxEvent::ScreenAnswered(s) => tracing::info!(call = s.call, "screened target answered"),
        PbxEvent::ScreenFailed { call, status } => {
            tracing::info!(call, status, "screened transfer failed")
        }
        PbxEvent::RecordingPaused { call } => tracing::debug!(call, "call recording paused"),
        PbxEvent::RecordingResumed { call } => tracing::debug!(call, "call recording resumed"),
        PbxEvent::RecordingStopped { call } => tracing::debug!(call, "call recording stopped"),
        PbxEvent::Unregistered { extension, contact } => {
            tracing::info!(extension = %extension, %contact, "unregistered")
        }
        PbxEvent::CallEnded(r) => {
            tracing::info!(call_id = %r.call_id, caller = %r.caller, callee = %r.callee, status = r.status, cause = %r.cause, "call ended");
            audit.call(store::CallRecordRow {
                call_id: r.call_id.clone(),
                caller: r.caller.clone(),
                callee: r.callee.clone(),
                started_ms: r.started_ms,
                answered_ms: r.answered_ms,
                ended_ms: r.ended_ms,
                status: r.status,
                cause: r.cause.clone(),
                media: r.media.clone(),
                account_code: r.account_code.clone(),
            });
        }
        PbxEvent::FeatureChanged { extension, change } => {
            tracing::info!(%extension, ?change, "setting changed by short code");
            audit.feature(extension, change.clone());
        }
        PbxEvent::Expired { count } => tracing::info!(count, "bindings expired"),
        PbxEvent::AuthFailed {
            username,
            source,
            call_id,
        } => {
            tracing::warn!(extension = %username, source = %source.addr, %call_id, "authentication failed")
        }
        PbxEvent::Blocked { target, duration } => {
            tracing::warn!(%target, seconds = duration.as_secs(), "blocked after repeated authentication failures");
            audit.record(
                "security.block",
                &format!(
                    "{target} for {} s after repeated wrong passwords",
                    duration.as_secs()
                ),
            );
        }
        PbxEvent::MessageWaitingSubscription {
            extension,
            contact,
            change,
        } => tracing::info!(%extension, %contact, ?change, "message-waiting subscription"),
        PbxEvent::Malformed {
            source,
            reason,
            answered,
        } => tracing::debug!(source = %source.addr, %reason, answered, "malformed message"),
    }
}

/// The default data directory: `$STROWGER_DATA_DIR`, else `~/.local/share/strowger`.
pub fn default_data_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("STROWGER_DATA_DIR") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(".").into());
    home.join(".local/share/strowger")
}
