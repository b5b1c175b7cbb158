//! SIP over TCP (RFC 3261 §18): one task per connection that frames messages by
//! Content-Length and hands them to the core loop, and writes what the core sends back on the
//! same connection.
//!
//! Limits that keep a hostile peer from holding memory or sockets: at most
//! [`MAX_CONNECTIONS`] connections, [`MAX_PER_SOURCE`] per source address, a read buffer no
//! larger than one message ([`sip_limits::MAX_MESSAGE`]), a connection that has not sent a
//! whole message within [`FIRST_MESSAGE_WITHIN`] or sits in the middle of one for longer than
//! [`PARTIAL_MESSAGE_WITHIN`] is closed, and so is one idle for [`IDLE_TIMEOUT`].

use crate::sip_limits;
use crate::trace::SipTrace;
use pbx::{Peer, Transport};
use sip::parse::{frame_stream, Framing};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{timeout_at, Instant};

/// Connections open at once, in all.
pub const MAX_CONNECTIONS: usize = 4096;
/// Connections open at once from one address.
pub const MAX_PER_SOURCE: usize = 64;
/// A new connection must deliver a whole message within this.
pub const FIRST_MESSAGE_WITHIN: Duration = Duration::from_secs(30);
/// A message once begun must be complete within this (slowloris).
pub const PARTIAL_MESSAGE_WITHIN: Duration = Duration::from_secs(10);
/// A connection with no traffic at all for this long is closed. Phones on TCP refresh their
/// registration or send CRLF keep-alives well within it.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(3900);

/// What a connection task tells the core loop.
#[derive(Debug)]
pub enum TcpEvent {
    /// A connection opened; the core sends bytes for `addr` on `writer`.
    Opened {
        /// The remote address.
        addr: SocketAddr,
        /// Where to queue outgoing messages.
        writer: mpsc::Sender<Vec<u8>>,
    },
    /// One whole framed message.
    Message {
        /// From where.
        peer: Peer,
        /// The message bytes.
        bytes: Vec<u8>,
    },
    /// The connection closed.
    Closed {
        /// The remote address.
        addr: SocketAddr,
    },
}

/// Accepts connections until the listener fails.
pub async fn accept_loop(listener: TcpListener, to_core: mpsc::Sender<TcpEvent>, trace: SipTrace) {
    let per_source: Arc<Mutex<HashMap<IpAddr, usize>>> = Arc::default();
    loop {
        let (stream, addr) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                tracing::warn!(error = %e, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        {
            let mut map = per_source.lock().unwrap_or_else(|p| p.into_inner());
            let total: usize = map.values().sum();
            let mine = map.entry(addr.ip()).or_insert(0);
            if total >= MAX_CONNECTIONS || *mine >= MAX_PER_SOURCE {
                tracing::warn!(source = %addr, "TCP connection refused: too many connections");
                continue;
            }
            *mine += 1;
        }
        let _ = stream.set_nodelay(true);
        let to_core = to_core.clone();
        let per_source = per_source.clone();
        let trace = trace.clone();
        tokio::spawn(async move {
            connection(stream, addr, to_core.clone(), trace).await;
            let _ = to_core.send(TcpEvent::Closed { addr }).await;
            let mut map = per_source.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(n) = map.get_mut(&addr.ip()) {
                *n -= 1;
                if *n == 0 {
                    map.remove(&addr.ip());
                }
            }
        });
    }
}

async fn connection(
    stream: TcpStream,
    addr: SocketAddr,
    to_core: mpsc::Sender<TcpEvent>,
    trace: SipTrace,
) {
    let (mut reader, mut writer) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let pong = tx.clone();
    if to_core
        .send(TcpEvent::Opened { addr, writer: tx })
        .await
        .is_err()
    {
        return;
    }
    let write_task = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                break;
            }
        }
    });
    let peer = Peer {
        addr,
        transport: Transport::Reliable,
    };
    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = vec![0u8; 16 * 1024];
    let opened = Instant::now();
    let mut seen_message = false;
    let mut partial_since: Option<Instant> = None;
    loop {
        // The deadline that applies now: first message, partial message, or plain idleness.
        let deadline = match (seen_message, partial_since) {
            (false, _) => opened + FIRST_MESSAGE_WITHIN,
            (true, Some(t)) => t + PARTIAL_MESSAGE_WITHIN,
            (true, None) => Instant::now() + IDLE_TIMEOUT,
        };
        let n = match timeout_at(deadline, reader.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => n,
            Err(_) => {
                tracing::debug!(source = %addr, "TCP connection timed out");
                break;
            }
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            match frame_stream(&buf, sip_limits::MAX_MESSAGE) {
                Framing::Incomplete => break,
                Framing::KeepAlive(k) => {
                    let k = k.min(buf.len());
                    // RFC 5626 §3.5.1: a double CRLF is a ping and is answered with a
                    // single CRLF pong; a lone CRLF is just ignored.
                    if buf[..k].windows(4).any(|w| w == b"\r\n\r\n") {
                        let _ = pong.try_send(b"\r\n".to_vec());
                    }
                    buf.drain(..k);
                }
                Framing::Message(len) => {
                    let len = len.min(buf.len());
                    let bytes: Vec<u8> = buf.drain(..len).collect();
                    seen_message = true;
                    trace.incoming(peer, &bytes);
                    if to_core
                        .send(TcpEvent::Message { peer, bytes })
                        .await
                        .is_err()
                    {
                        write_task.abort();
                        return;
                    }
                }
                Framing::Invalid(err) => {
                    tracing::info!(source = %addr, error = %err, "closing TCP connection: unframeable stream");
                    write_task.abort();
                    return;
                }
            }
        }
        if buf.len() > sip_limits::MAX_MESSAGE {
            tracing::info!(source = %addr, "closing TCP connection: message too large");
            break;
        }
        partial_since = if buf.is_empty() {
            None
        } else {
            partial_since.or(Some(Instant::now()))
        };
    }
    write_task.abort();
}
