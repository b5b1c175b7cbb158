//! The handle call control holds: it starts the relay threads, allocates ports, and turns
//! each method call into a command for the thread that owns the session.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};

use mio::{Poll, Waker};

use crate::events::Events;
use crate::pool::{PortPair, PortPool};
use crate::relay::{RelayLeg, RelaySession};
use crate::worker::{Command, Worker, WAKER};
use crate::{
    Direction, EventSink, Leg, LegInfo, LegStats, MediaError, Music, Role, SessionHandle,
    SessionId, SessionStats,
};

mod voice;

/// How the media engine is set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// The local IP the RTP/RTCP sockets are bound on (default `0.0.0.0`: every address).
    pub bind_ip: IpAddr,
    /// The ports RTP/RTCP pairs are taken from (default 10000–20000: 5,000 pairs).
    pub port_range: RangeInclusive<u16>,
    /// How many relay threads to run (default 1; 0 counts as 1). Sessions are spread over
    /// them in turn; one thread relays a thousand G.711 calls with room to spare, so more
    /// threads are for bigger machines, not for correctness.
    pub threads: usize,
    /// Where the relay threads deliver [`MediaEvent`](crate::MediaEvent)s (keys pressed,
    /// prompts finished, silence); default `None`: logged and discarded.
    pub events: Option<EventSink>,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            bind_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port_range: 10000..=20000,
            threads: 1,
            events: None,
        }
    }
}

/// One relay thread as the handle sees it.
struct RelayThread {
    commands: Sender<Command>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

/// The media engine: relay threads that own the RTP/RTCP sockets, and the port pool.
///
/// Every method takes `&self` and the type is `Send + Sync`, so call control can share it
/// (in an `Arc`) across tasks. A method that needs an answer from a relay thread waits for
/// one turn of that thread's loop, typically microseconds; it never waits for a packet.
/// Dropping the engine stops the threads (waiting for each to finish its turn) and closes
/// every socket.
pub struct MediaEngine {
    threads: Vec<RelayThread>,
    // The pool is locked only by callers (allocate/release), never by a relay thread, so
    // contention on it cannot delay a packet.
    pool: Mutex<PortPool>,
    next_id: AtomicU64,
    next_recording: AtomicU64,
}

impl std::fmt::Debug for MediaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaEngine")
            .field("threads", &self.threads.len())
            .field("pool", &*self.pool())
            .finish()
    }
}

impl MediaEngine {
    /// Starts the relay threads. Fails only if the operating system refuses a poll
    /// instance, a waker or a thread.
    pub fn start(config: MediaConfig) -> Result<MediaEngine, MediaError> {
        let mut threads = Vec::new();
        for n in 0..config.threads.max(1) {
            let poll = Poll::new().map_err(|e| MediaError::io("creating a media poll", e))?;
            let waker = Waker::new(poll.registry(), WAKER)
                .map_err(|e| MediaError::io("creating a media waker", e))?;
            let (commands, receiver) = mpsc::channel();
            let worker = Worker::new(poll, receiver, Events::new(config.events.clone()));
            let thread = thread::Builder::new()
                .name(format!("media-relay-{n}"))
                .spawn(move || worker.run())
                .map_err(|e| MediaError::io("spawning a media relay thread", e))?;
            threads.push(RelayThread {
                commands,
                waker,
                thread: Some(thread),
            });
        }
        Ok(MediaEngine {
            threads,
            pool: Mutex::new(PortPool::new(config.bind_ip, config.port_range)),
            next_id: AtomicU64::new(1),
            next_recording: AtomicU64::new(1),
        })
    }

    /// Creates a relay session: two legs, each with an RTP/RTCP port pair. Media flows as
    /// soon as the endpoints send (latching), or after [`set_remote`](Self::set_remote).
    ///
    /// Errors: [`MediaError::PoolExhausted`], [`MediaError::Io`],
    /// [`MediaError::EngineStopped`]. On error no port stays allocated.
    pub fn create_session(&self) -> Result<SessionHandle, MediaError> {
        let id = SessionId(self.next_id.fetch_add(1, Ordering::Relaxed));
        let (a, b) = {
            let mut pool = self.pool();
            let a = pool.allocate()?;
            match pool.allocate() {
                Ok(b) => (a, b),
                Err(e) => {
                    let port = a.rtp_port();
                    drop(a);
                    pool.release(port);
                    return Err(e);
                }
            }
        };
        let handle = SessionHandle {
            id,
            leg_a: leg_info(&a),
            leg_b: leg_info(&b),
        };
        let result = relay_leg(a)
            .and_then(|a| Ok((a, relay_leg(b)?)))
            .and_then(|(a, b)| {
                let session = Box::new(RelaySession::new(id, a, b));
                self.ask(id, |reply| Command::Add(session, reply))
            });
        if let Err(e) = result {
            // The sockets are closed by now (dropped with the command or the session).
            let mut pool = self.pool();
            pool.release(handle.leg_a.rtp_port);
            pool.release(handle.leg_b.rtp_port);
            return Err(e);
        }
        Ok(handle)
    }

    /// Sets where a leg's media goes, from the SDP of its endpoint: `rtp` from `c=`/`m=`,
    /// `rtcp` from `a=rtcp` if present (else RTP port + 1). Until the endpoint's own
    /// packets arrive (latching), media is sent here; a changed address forgets the latched
    /// one. An unspecified address (`c=0.0.0.0`) or port 0 stops sending to the leg.
    pub fn set_remote(
        &self,
        session: SessionId,
        leg: Leg,
        rtp: SocketAddr,
        rtcp: Option<SocketAddr>,
    ) -> Result<(), MediaError> {
        self.ask(session, |reply| Command::SetRemote {
            id: session,
            leg,
            rtp,
            rtcp,
            reply,
        })
    }

    /// Sets a leg's media direction (hold and resume); see [`Direction`] for whose point of
    /// view it takes. RTP that the direction forbids is dropped and counted.
    pub fn set_direction(
        &self,
        session: SessionId,
        leg: Leg,
        direction: Direction,
    ) -> Result<(), MediaError> {
        self.ask(session, |reply| Command::SetDirection {
            id: session,
            leg,
            direction,
            reply,
        })
    }

    /// Plays `music` to a leg's endpoint, in place of what the other leg sends, until
    /// [`stop_music`](Self::stop_music): RTP with the relay's own SSRC, `payload_type` 0
    /// (PCMU) or 8 (PCMA) as negotiated with that endpoint, one 20 ms packet every 20 ms
    /// from the leg's own port to where its media goes, the piece looping. Starting what
    /// already plays changes nothing; another piece or payload type replaces it.
    ///
    /// Errors: [`MediaError::UnsupportedPayloadType`] for any payload type but 0 and 8,
    /// and those of every command.
    pub fn start_music(
        &self,
        session: SessionId,
        leg: Leg,
        music: Arc<Music>,
        payload_type: u8,
    ) -> Result<(), MediaError> {
        if music.encoded(payload_type).is_none() {
            return Err(MediaError::UnsupportedPayloadType(payload_type));
        }
        self.ask(session, |reply| Command::StartMusic {
            id: session,
            leg,
            music,
            payload_type,
            reply,
        })
    }

    /// Stops the music on a leg (if any plays): the other leg's media is relayed to it
    /// again. The music stream keeps its SSRC and sequence numbers for the next time.
    pub fn stop_music(&self, session: SessionId, leg: Leg) -> Result<(), MediaError> {
        self.ask(session, |reply| Command::StopMusic {
            id: session,
            leg,
            reply,
        })
    }

    /// Adds an extra leg to a session, with a port pair of its own, taking part as
    /// `role` says: a listener hears one leg (paging), a monitor hears A and B mixed, an
    /// intruder also is heard by both (then A and B hear mixes too). What the leg hears
    /// is sent as its own RTP stream in `payload_type` (0 PCMU or 8 PCMA, as negotiated
    /// with its endpoint), every 20 ms, like music. Returns the leg, to name it in
    /// [`set_remote`](Self::set_remote), [`set_role`](Self::set_role),
    /// [`remove_leg`](Self::remove_leg) and the rest, and its local ports for the SDP.
    ///
    /// Errors: [`MediaError::UnsupportedPayloadType`], [`MediaError::InvalidLeg`] for a
    /// listener of an extra leg, [`MediaError::PoolExhausted`] and those of every command.
    /// On error no port stays allocated.
    pub fn add_leg(
        &self,
        session: SessionId,
        role: Role,
        payload_type: u8,
    ) -> Result<(Leg, LegInfo), MediaError> {
        if !matches!(payload_type, 0 | 8) {
            return Err(MediaError::UnsupportedPayloadType(payload_type));
        }
        let pair = self.pool().allocate()?;
        let info = leg_info(&pair);
        let result = relay_leg(pair).and_then(|leg| {
            self.ask(session, |reply| Command::AddLeg {
                id: session,
                leg: Box::new(leg),
                role,
                payload_type,
                reply,
            })
        });
        match result {
            Ok(number) => Ok((Leg::Extra(number), info)),
            Err(e) => {
                self.pool().release(info.rtp_port);
                Err(e)
            }
        }
    }

    /// Changes how an extra leg takes part (a monitoring supervisor who starts to
    /// intrude, and back).
    pub fn set_role(&self, session: SessionId, leg: Leg, role: Role) -> Result<(), MediaError> {
        self.ask(session, |reply| Command::SetRole {
            id: session,
            leg,
            role,
            reply,
        })
    }

    /// Removes an extra leg: closes its sockets, returns its ports to the pool and gives
    /// its final statistics. A and B hear each other directly again once no intruder is
    /// left.
    pub fn remove_leg(&self, session: SessionId, leg: Leg) -> Result<LegStats, MediaError> {
        let (stats, port) = self.ask(session, |reply| Command::RemoveLeg {
            id: session,
            leg,
            reply,
        })?;
        self.pool().release(port);
        Ok(stats)
    }

    /// The statistics of a session so far.
    pub fn stats(&self, session: SessionId) -> Result<SessionStats, MediaError> {
        self.ask(session, |reply| Command::Stats(session, reply))
    }

    /// The statistics of one leg so far (an extra leg's, say, which
    /// [`stats`](Self::stats) leaves out).
    pub fn leg_stats(&self, session: SessionId, leg: Leg) -> Result<LegStats, MediaError> {
        self.ask(session, |reply| Command::LegStats(session, leg, reply))
    }

    /// Ends a session: closes its sockets, returns its ports to the pool, and gives its
    /// final statistics for the call record.
    pub fn destroy_session(&self, session: SessionId) -> Result<SessionStats, MediaError> {
        let (stats, ports) = self.ask(session, |reply| Command::Destroy(session, reply))?;
        let mut pool = self.pool();
        for port in ports {
            pool.release(port);
        }
        Ok(stats)
    }

    /// Port pairs free in the pool (two per session in use are not). Tests use it to prove
    /// that nothing leaks: after every call it is back to [`pool_capacity`](Self::pool_capacity).
    pub fn pool_available(&self) -> usize {
        self.pool().available()
    }

    /// Port pairs the configured range holds.
    pub fn pool_capacity(&self) -> usize {
        self.pool().capacity()
    }

    /// The local IP the media sockets are bound on.
    pub fn bind_ip(&self) -> IpAddr {
        self.pool().bind_ip()
    }

    fn pool(&self) -> MutexGuard<'_, PortPool> {
        // Nothing panics while holding the lock; if something ever did, the pool's state
        // is still consistent (each operation is a few queue/set steps), so carry on.
        self.pool
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Sends a command to the thread owning `session` and waits for its reply.
    fn ask<T>(
        &self,
        session: SessionId,
        command: impl FnOnce(Sender<Result<T, MediaError>>) -> Command,
    ) -> Result<T, MediaError> {
        // Sessions go round-robin by id, so the owner is known without a shared map.
        let thread = &self.threads[(session.0 % self.threads.len() as u64) as usize];
        let (reply, answer) = mpsc::channel();
        thread
            .commands
            .send(command(reply))
            .map_err(|_| MediaError::EngineStopped)?;
        thread
            .waker
            .wake()
            .map_err(|e| MediaError::io("waking the media relay thread", e))?;
        answer.recv().map_err(|_| MediaError::EngineStopped)?
    }
}

impl Drop for RelayThread {
    // On the thread handle rather than the engine, so that threads already started are
    // also stopped when a later one fails to start in `MediaEngine::start`.
    fn drop(&mut self) {
        let _ = self.commands.send(Command::Shutdown);
        let _ = self.waker.wake();
        if let Some(handle) = self.thread.take() {
            let _ = handle.join();
        }
    }
}

fn leg_info(pair: &PortPair) -> LegInfo {
    LegInfo {
        rtp_port: pair.rtp_port(),
        rtcp_port: pair.rtcp_port(),
    }
}

/// Turns a bound pair into a relay leg with non-blocking mio sockets.
fn relay_leg(pair: PortPair) -> Result<RelayLeg, MediaError> {
    let info = leg_info(&pair);
    let PortPair { rtp, rtcp, .. } = pair;
    for socket in [&rtp, &rtcp] {
        socket
            .set_nonblocking(true)
            .map_err(|e| MediaError::io("making a media socket non-blocking", e))?;
    }
    Ok(RelayLeg::new(
        mio::net::UdpSocket::from_std(rtp),
        mio::net::UdpSocket::from_std(rtcp),
        info,
    ))
}
