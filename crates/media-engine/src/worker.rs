//! The relay thread: one `mio` poll loop over the non-blocking sockets of its sessions, and
//! the commands that reach it through a channel plus a `mio::Waker`.
//!
//! Each turn of the loop reads the sockets that became readable in batches (a loop of
//! `recv_from` until `WouldBlock`, at most [`BATCH`] datagrams per socket per turn; no
//! `recvmmsg`, which would need `unsafe` or another crate), forwards every datagram as soon
//! as it is read, and then carries out the pending commands. Nothing in the loop touches a
//! disk, a lock shared with signalling, or a blocking call, so only the relay's own work
//! can delay a packet.
//!
//! Music on hold, prompts and mixes are paced by the same loop, and so are mixed recordings
//! and silence detection: the poll timeout is the instant the next of these timers is due
//! (of any session), and a turn at or after it ends by running the timers that are due.

use std::collections::HashMap;
use std::io;
use std::sync::mpsc::{Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::{Interest, Poll, Token};

use crate::events::Events;
use crate::relay::{Channel, RelayLeg, RelaySession};
use crate::{Direction, Leg, LegStats, MediaError, Music, Role, SessionId, SessionStats};

mod voice;
pub(crate) use voice::VoiceCommand;

/// The waker's token; sockets count from 1.
pub(crate) const WAKER: Token = Token(0);
/// Sockets per session: RTP and RTCP of two legs.
const SOCKETS_PER_SESSION: usize = 4;
/// Tokens of extra legs have this bit set, then the slot from bit 17, the extra leg's
/// number from bit 1 and the channel in bit 0: no lookup on the packet path.
const EXTRA_TOKEN: usize = 1 << 40;
/// Datagrams read from one socket before the others get their turn. Without a cap, one
/// flooded port (an attack, a looping peer) could keep the thread from every other call.
const BATCH: usize = 64;
/// Largest UDP payload: a shorter buffer would cut datagrams silently.
const MAX_DATAGRAM: usize = 65_536;

/// Where a reply goes; a dropped receiver (caller gave up) is not the relay's problem.
pub(crate) type Reply<T> = Sender<Result<T, MediaError>>;

/// What the engine handle asks of a relay thread.
#[derive(Debug)]
pub(crate) enum Command {
    Add(Box<RelaySession>, Reply<()>),
    SetRemote {
        id: SessionId,
        leg: Leg,
        rtp: std::net::SocketAddr,
        rtcp: Option<std::net::SocketAddr>,
        reply: Reply<()>,
    },
    SetDirection {
        id: SessionId,
        leg: Leg,
        direction: Direction,
        reply: Reply<()>,
    },
    /// Plays `music` to the leg's endpoint (payload type checked by the engine: 0 or 8).
    StartMusic {
        id: SessionId,
        leg: Leg,
        music: Arc<Music>,
        payload_type: u8,
        reply: Reply<()>,
    },
    StopMusic {
        id: SessionId,
        leg: Leg,
        reply: Reply<()>,
    },
    /// Adds an extra leg; replies with its number.
    AddLeg {
        id: SessionId,
        leg: Box<RelayLeg>,
        role: Role,
        payload_type: u8,
        reply: Reply<u16>,
    },
    SetRole {
        id: SessionId,
        leg: Leg,
        role: Role,
        reply: Reply<()>,
    },
    /// Removes an extra leg; replies with its statistics and RTP port once its sockets
    /// are closed.
    RemoveLeg {
        id: SessionId,
        leg: Leg,
        reply: Reply<(LegStats, u16)>,
    },
    Stats(SessionId, Reply<SessionStats>),
    LegStats(SessionId, Leg, Reply<LegStats>),
    /// Replies with the final statistics and the RTP ports to return to the pool, after
    /// the sockets are closed.
    Destroy(SessionId, Reply<(SessionStats, Vec<u16>)>),
    /// What voicemail and auto attendants need (see `worker::voice`).
    Voice(VoiceCommand),
    Shutdown,
}

/// The state of one relay thread.
pub(crate) struct Worker {
    poll: Poll,
    commands: Receiver<Command>,
    /// Sessions by slot; the slot gives the sockets' tokens.
    slots: Vec<Option<RelaySession>>,
    free_slots: Vec<usize>,
    by_id: HashMap<SessionId, usize>,
    /// Sockets that hit the batch cap and still have datagrams waiting: with edge-triggered
    /// readiness no new event would come for them.
    unfinished: Vec<Token>,
    buf: Vec<u8>,
    /// Slots of the sessions with timers (an own stream — music, prompt, mix — on some
    /// leg, or a recording that needs the clock), with when each is due next: a wake-up
    /// only runs the sessions that are due. A session's timers become due sooner only by
    /// a command, which says so (`timers_changed`); never by a packet.
    timed_slots: HashMap<usize, Instant>,
    /// When the next timer is due.
    timer_due: Option<Instant>,
    /// Where music packets are built (apart from `buf`, whose length is the largest
    /// datagram `recv_from` can take).
    music_buf: Vec<u8>,
    /// Where events go.
    events: Events,
}

impl Worker {
    pub(crate) fn new(poll: Poll, commands: Receiver<Command>, events: Events) -> Self {
        Worker {
            poll,
            commands,
            slots: Vec::new(),
            free_slots: Vec::new(),
            by_id: HashMap::new(),
            unfinished: Vec::new(),
            buf: vec![0; MAX_DATAGRAM],
            timed_slots: HashMap::new(),
            timer_due: None,
            music_buf: Vec::with_capacity(256),
            events,
        }
    }

    /// Runs until told to shut down or the engine handle is dropped.
    pub(crate) fn run(mut self) {
        let mut events = mio::Events::with_capacity(1024);
        let mut ready: Vec<Token> = Vec::new();
        loop {
            // Unfinished sockets must not wait for the next event: just look, don't sleep.
            // Otherwise sleep until the next timer is due (mio rounds up to whole
            // milliseconds, so a packet goes out at most a millisecond late, and the
            // next one is still due on the 20 ms grid).
            let timeout = if self.unfinished.is_empty() {
                self.timer_due
                    .map(|due| due.saturating_duration_since(Instant::now()))
            } else {
                Some(Duration::ZERO)
            };
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                tracing::error!(error = %e, "media relay poll failed, relay thread stops");
                return;
            }
            ready.clear();
            ready.append(&mut self.unfinished);
            ready.extend(events.iter().map(|e| e.token()).filter(|t| *t != WAKER));
            // One clock reading per turn, not per packet: it only dates the last packet
            // relayed to each endpoint, for music that may follow it.
            let now = Instant::now();
            for &token in &ready {
                self.service(token, now);
            }
            // Commands are checked every turn, not only on a wake-up: it costs one atomic
            // load and a missed wake can then never strand a command.
            loop {
                match self.commands.try_recv() {
                    Ok(Command::Shutdown) | Err(TryRecvError::Disconnected) => return,
                    Ok(command) => self.execute(command),
                    Err(TryRecvError::Empty) => break,
                }
            }
            // Only when something is due: a turn for packets alone does not walk the
            // sessions. Every command that makes a stream due sooner sets `timer_due`.
            if self.timer_due.is_some_and(|due| due <= Instant::now()) {
                self.run_timers();
            }
        }
    }

    /// Runs the timers that are due (music packets, mixed frames, silence checks), forgets
    /// sessions without timers, and notes when a timer is due next.
    fn run_timers(&mut self) {
        let now = Instant::now();
        let mut due: Option<Instant> = None;
        let (slots, buf, events) = (&mut self.slots, &mut self.music_buf, &self.events);
        self.timed_slots.retain(|&slot, session_due| {
            if *session_due <= now {
                let Some(Some(session)) = slots.get_mut(slot) else {
                    return false;
                };
                match session.run_timers(now, buf, events) {
                    Some(next) => *session_due = next,
                    None => return false,
                }
            }
            due = Some(due.map_or(*session_due, |d| d.min(*session_due)));
            true
        });
        self.timer_due = due;
    }

    /// Reads up to [`BATCH`] datagrams from the socket behind `token` and relays each.
    fn service(&mut self, token: Token, now: Instant) {
        let (slot, leg, channel) = decode_token(token);
        // A stale event for a session (or leg) removed in this turn finds an empty slot.
        let Some(Some(session)) = self.slots.get_mut(slot) else {
            return;
        };
        for _ in 0..BATCH {
            let Some(port) = session.leg_mut(leg).map(|l| l.port_mut(channel)) else {
                return;
            };
            match port.socket.recv_from(&mut self.buf) {
                Ok((len, from)) => {
                    session.relay(leg, channel, &self.buf[..len], from, now, &self.events)
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // E.g. an ICMP error queued on the socket: reading it clears it, the
                    // datagrams behind it are still there.
                    tracing::debug!(session = %session.id, error = %e, "relay receive error");
                }
            }
        }
        self.unfinished.push(token);
    }

    fn execute(&mut self, command: Command) {
        match command {
            Command::Add(session, reply) => {
                let _ = reply.send(self.add(*session));
            }
            Command::SetRemote {
                id,
                leg,
                rtp,
                rtcp,
                reply,
            } => {
                let result = self.leg_mut(id, leg).map(|l| {
                    l.set_remote(rtp, rtcp);
                    tracing::debug!(session = %id, ?leg, %rtp, ?rtcp, "remote media address");
                });
                let _ = reply.send(result);
            }
            Command::SetDirection {
                id,
                leg,
                direction,
                reply,
            } => {
                let result = self.leg_mut(id, leg).map(|l| l.set_direction(direction));
                let _ = reply.send(result);
            }
            Command::StartMusic {
                id,
                leg,
                music,
                payload_type,
                reply,
            } => {
                let now = Instant::now();
                let result = self.leg_mut(id, leg).map(|l| {
                    tracing::debug!(session = %id, ?leg, music = music.name(), payload_type, "music on hold starts");
                    let relayed = l.relayed;
                    l.music.start(now, music, payload_type, relayed);
                });
                if result.is_ok() {
                    self.timers_changed(id, now);
                }
                let _ = reply.send(result);
            }
            Command::StopMusic { id, leg, reply } => {
                // The session leaves `timed_slots` when its timer next comes due and finds
                // nothing to do; a leg with a mix goes back to sending it.
                let now = Instant::now();
                let result = self.leg_mut(id, leg).map(|l| {
                    l.music.stop();
                    l.resume_own_stream(now);
                });
                let _ = reply.send(result);
            }
            Command::AddLeg {
                id,
                leg,
                role,
                payload_type,
                reply,
            } => {
                let _ = reply.send(self.add_leg(id, *leg, role, payload_type));
            }
            Command::SetRole {
                id,
                leg,
                role,
                reply,
            } => {
                let now = Instant::now();
                let result = self.session_mut(id).and_then(|s| {
                    check_role(id, role)?;
                    let target = match leg {
                        Leg::Extra(_) => s.leg_mut(leg.key()),
                        _ => None,
                    };
                    let target = target.ok_or(MediaError::InvalidLeg {
                        session: id,
                        leg,
                        reason: "is not an extra leg of the session",
                    })?;
                    target.role = Some(role);
                    s.rewire(now);
                    Ok(())
                });
                if result.is_ok() {
                    self.timers_changed(id, now);
                }
                let _ = reply.send(result);
            }
            Command::RemoveLeg { id, leg, reply } => {
                let _ = reply.send(self.remove_leg(id, leg));
            }
            Command::Stats(id, reply) => {
                let _ = reply.send(self.session_mut(id).map(|s| s.stats()));
            }
            Command::LegStats(id, leg, reply) => {
                let _ = reply.send(self.leg_mut(id, leg).map(|l| l.stats()));
            }
            Command::Destroy(id, reply) => {
                let _ = reply.send(self.remove(id));
            }
            Command::Voice(command) => self.execute_voice(command),
            Command::Shutdown => {}
        }
    }

    fn session_mut(&mut self, id: SessionId) -> Result<&mut RelaySession, MediaError> {
        self.by_id
            .get(&id)
            .and_then(|&slot| self.slots.get_mut(slot))
            .and_then(Option::as_mut)
            .ok_or(MediaError::UnknownSession(id))
    }

    fn leg_mut(&mut self, id: SessionId, leg: Leg) -> Result<&mut RelayLeg, MediaError> {
        self.session_mut(id)?
            .leg_mut(leg.key())
            .ok_or(MediaError::InvalidLeg {
                session: id,
                leg,
                reason: "is not (or no longer) in the session",
            })
    }

    /// A stream of the relay's own (music, a prompt or a mix) may have started in session
    /// `id`, or a recording needs the clock: the end of this turn runs its timers (and
    /// sends a stream's first packet).
    fn timers_changed(&mut self, id: SessionId, now: Instant) {
        if let Some(&slot) = self.by_id.get(&id) {
            self.timed_slots.insert(slot, now);
        }
        self.timer_due = Some(now);
    }

    fn add_leg(
        &mut self,
        id: SessionId,
        mut leg: RelayLeg,
        role: Role,
        payload_type: u8,
    ) -> Result<u16, MediaError> {
        check_role(id, role)?;
        let slot = *self.by_id.get(&id).ok_or(MediaError::UnknownSession(id))?;
        let Some(Some(session)) = self.slots.get_mut(slot) else {
            return Err(MediaError::UnknownSession(id));
        };
        let n = session.extras.iter().position(Option::is_none);
        let n = n.unwrap_or(session.extras.len());
        let number = u16::try_from(n).map_err(|_| MediaError::InvalidLeg {
            session: id,
            leg: Leg::Extra(u16::MAX),
            reason: "would be one extra leg too many",
        })?;
        let registry = self.poll.registry();
        let base = EXTRA_TOKEN | slot << 17 | n << 1;
        let registered = registry
            .register(&mut leg.rtp.socket, Token(base), Interest::READABLE)
            .and_then(|()| {
                registry.register(&mut leg.rtcp.socket, Token(base | 1), Interest::READABLE)
            });
        if let Err(e) = registered {
            let _ = registry.deregister(&mut leg.rtp.socket);
            return Err(MediaError::io(
                format!("registering the sockets of an extra leg of {id}"),
                e,
            ));
        }
        leg.role = Some(role);
        leg.payload_type = Some(payload_type);
        let inserted = session.insert_extra(leg);
        debug_assert_eq!(inserted, n);
        let now = Instant::now();
        session.rewire(now);
        tracing::debug!(session = %id, leg = n, ?role, "extra leg joins");
        self.timers_changed(id, now);
        Ok(number)
    }

    fn remove_leg(&mut self, id: SessionId, leg: Leg) -> Result<(LegStats, u16), MediaError> {
        let session = self.session_mut(id)?;
        let removed = match leg {
            Leg::Extra(n) => session
                .extras
                .get_mut(usize::from(n))
                .and_then(Option::take),
            _ => None,
        };
        let mut removed = removed.ok_or(MediaError::InvalidLeg {
            session: id,
            leg,
            reason: "is not an extra leg of the session",
        })?;
        let now = Instant::now();
        session.rewire(now);
        removed.interrupt_prompt(id, leg.key(), now, &self.events);
        let registry = self.poll.registry();
        for port in [&mut removed.rtp, &mut removed.rtcp] {
            let _ = registry.deregister(&mut port.socket);
        }
        tracing::debug!(session = %id, ?leg, "extra leg leaves");
        Ok((removed.stats(), removed.info.rtp_port))
    }

    fn add(&mut self, mut session: RelaySession) -> Result<(), MediaError> {
        let slot = match self.free_slots.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                self.slots.len() - 1
            }
        };
        let registry = self.poll.registry();
        let base = 1 + slot * SOCKETS_PER_SESSION;
        let mut failure = None;
        'register: for (i, leg) in session.legs.iter_mut().enumerate() {
            for (j, port) in [&mut leg.rtp, &mut leg.rtcp].into_iter().enumerate() {
                let token = Token(base + i * 2 + j);
                if let Err(e) = registry.register(&mut port.socket, token, Interest::READABLE) {
                    failure = Some(e);
                    break 'register;
                }
            }
        }
        if let Some(e) = failure {
            // Undo what was registered (deregistering the rest fails harmlessly); the
            // sockets close when `session` drops.
            for leg in session.legs.iter_mut() {
                for port in [&mut leg.rtp, &mut leg.rtcp] {
                    let _ = registry.deregister(&mut port.socket);
                }
            }
            self.free_slots.push(slot);
            return Err(MediaError::io(
                format!("registering the sockets of media session {}", session.id),
                e,
            ));
        }
        self.by_id.insert(session.id, slot);
        self.slots[slot] = Some(session);
        Ok(())
    }

    fn remove(&mut self, id: SessionId) -> Result<(SessionStats, Vec<u16>), MediaError> {
        let slot = self
            .by_id
            .remove(&id)
            .ok_or(MediaError::UnknownSession(id))?;
        let mut session = self.slots[slot]
            .take()
            .ok_or(MediaError::UnknownSession(id))?;
        session.close(Instant::now(), &self.events);
        let registry = self.poll.registry();
        let extras = session.extras.iter_mut().flatten();
        for leg in session.legs.iter_mut().chain(extras) {
            for port in [&mut leg.rtp, &mut leg.rtcp] {
                // Closing the socket removes it from epoll anyway; this keeps mio's
                // bookkeeping honest on every platform.
                let _ = registry.deregister(&mut port.socket);
            }
        }
        self.timed_slots.remove(&slot);
        // Tokens of this slot may still sit in `unfinished`; the empty slot (or its next
        // occupant, whose read would just see `WouldBlock`) makes that harmless.
        self.free_slots.push(slot);
        let result = (session.stats(), session.rtp_ports());
        drop(session); // close the sockets before the ports go back to the pool
        Ok(result)
    }
}

/// The session slot, leg key and channel a socket's token stands for.
fn decode_token(token: Token) -> (usize, usize, Channel) {
    let channel = |bit: usize| {
        if bit == 0 {
            Channel::Rtp
        } else {
            Channel::Rtcp
        }
    };
    if token.0 & EXTRA_TOKEN != 0 {
        let t = token.0 & !EXTRA_TOKEN;
        let slot = t >> 17;
        let extra = (t >> 1) & 0xffff;
        (slot, 2 + extra, channel(t & 1))
    } else {
        let index = token.0 - 1;
        let socket = index % SOCKETS_PER_SESSION;
        (index / SOCKETS_PER_SESSION, socket / 2, channel(socket % 2))
    }
}

/// A listener may only hear leg A or B.
fn check_role(id: SessionId, role: Role) -> Result<(), MediaError> {
    match role {
        Role::Listener(leg @ Leg::Extra(_)) => Err(MediaError::InvalidLeg {
            session: id,
            leg,
            reason: "cannot be listened to (a listener hears leg A or B)",
        }),
        _ => Ok(()),
    }
}
