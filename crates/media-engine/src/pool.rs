//! The pool of RTP/RTCP port pairs.
//!
//! RFC 3550 §11 asks for RTP on an even port and RTCP on the next odd one; endpoints that do
//! not understand `a=rtcp` (RFC 3605) assume exactly that, so the pool only ever hands out
//! `(even, even + 1)` pairs, both bound on the same local IP.

use std::collections::{HashSet, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::ops::RangeInclusive;

use crate::MediaError;

/// A bound RTP socket and its RTCP companion on the next port.
///
/// The sockets are plain blocking `std` sockets; the relay makes them non-blocking when it
/// takes them over. Give the pair back with [`PortPool::release`] (by its RTP port) once the
/// sockets are closed.
#[derive(Debug)]
pub struct PortPair {
    /// The RTP socket, on an even port.
    pub rtp: UdpSocket,
    /// The RTCP socket, on the RTP port + 1.
    pub rtcp: UdpSocket,
    rtp_port: u16,
}

impl PortPair {
    /// The (even) RTP port; the RTCP port is this + 1.
    pub fn rtp_port(&self) -> u16 {
        self.rtp_port
    }

    /// The RTCP port (RTP port + 1).
    pub fn rtcp_port(&self) -> u16 {
        self.rtp_port + 1
    }
}

/// Hands out RTP/RTCP port pairs from a fixed range and takes them back.
///
/// Released pairs go to the back of the queue, so a port is reused as late as possible:
/// stray packets of a call that just ended then do not land in the next call.
#[derive(Debug)]
pub struct PortPool {
    bind_ip: IpAddr,
    first: u16,
    last: u16,
    free: VecDeque<u16>,
    in_use: HashSet<u16>,
    capacity: usize,
}

impl PortPool {
    /// A pool of every `(even, even + 1)` pair that lies wholly inside `range`, bound on
    /// `bind_ip`. Nothing is bound until [`allocate`](Self::allocate).
    pub fn new(bind_ip: IpAddr, range: RangeInclusive<u16>) -> Self {
        let (first, last) = (*range.start(), *range.end());
        // Round the start up to even; a pair needs its odd partner inside the range too.
        let start = u32::from(first) + u32::from(first) % 2;
        let free: VecDeque<u16> = (start..u32::from(last))
            .step_by(2)
            .filter_map(|p| u16::try_from(p).ok())
            .collect();
        let capacity = free.len();
        PortPool {
            bind_ip,
            first,
            last,
            free,
            in_use: HashSet::new(),
            capacity,
        }
    }

    /// The local IP the pairs are bound on.
    pub fn bind_ip(&self) -> IpAddr {
        self.bind_ip
    }

    /// How many pairs the range holds in all.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many pairs are not handed out (including any that other programs happen to
    /// hold at the moment: those are skipped when allocating).
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// Binds and hands out the next free pair.
    ///
    /// A pair whose ports are taken by some other program is skipped (and tried again
    /// later). Errors: [`MediaError::PoolExhausted`] when no pair could be bound;
    /// [`MediaError::Io`] for errors that no other port would cure (an IP address that
    /// is not local, too many open files).
    pub fn allocate(&mut self) -> Result<PortPair, MediaError> {
        for _ in 0..self.free.len() {
            let Some(port) = self.free.pop_front() else {
                break;
            };
            match bind_pair(self.bind_ip, port) {
                Ok(pair) => {
                    self.in_use.insert(port);
                    return Ok(pair);
                }
                // Somebody else holds this port (or it is privileged): try the next one,
                // keeping this one for later.
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::AddrInUse | io::ErrorKind::PermissionDenied
                    ) =>
                {
                    tracing::debug!(port, error = %e, "RTP port pair busy, skipped");
                    self.free.push_back(port);
                }
                Err(e) => {
                    self.free.push_front(port);
                    let addr = SocketAddr::new(self.bind_ip, port);
                    return Err(MediaError::io(
                        format!("binding RTP/RTCP pair at {addr}"),
                        e,
                    ));
                }
            }
        }
        Err(MediaError::PoolExhausted {
            first: self.first,
            last: self.last,
        })
    }

    /// Takes back the pair whose RTP port is `rtp_port`. Close its sockets first, or the
    /// next allocation of the pair will find it busy. Returns whether the pair was handed
    /// out (releasing twice, or a port from elsewhere, changes nothing).
    pub fn release(&mut self, rtp_port: u16) -> bool {
        if self.in_use.remove(&rtp_port) {
            self.free.push_back(rtp_port);
            true
        } else {
            false
        }
    }
}

fn bind_pair(ip: IpAddr, rtp_port: u16) -> io::Result<PortPair> {
    let rtp = UdpSocket::bind(SocketAddr::new(ip, rtp_port))?;
    // The RTP socket is dropped (and its port freed) if the RTCP port is taken.
    let rtcp = UdpSocket::bind(SocketAddr::new(ip, rtp_port + 1))?;
    Ok(PortPair {
        rtp,
        rtcp,
        rtp_port,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn pairs_are_even_and_inside_the_range() {
        assert_eq!(PortPool::new(LOCALHOST, 10000..=20000).capacity(), 5000);
        // 10001 is odd: the first pair is 10002/10003; 10009 has no partner.
        let pool = PortPool::new(LOCALHOST, 10001..=10009);
        assert_eq!(pool.capacity(), 4);
        assert_eq!(pool.free.front(), Some(&10002));
        assert_eq!(pool.free.back(), Some(&10008));
        assert_eq!(PortPool::new(LOCALHOST, 10000..=10000).capacity(), 0);
        assert_eq!(PortPool::new(LOCALHOST, 65534..=65535).capacity(), 1);
        #[allow(clippy::reversed_empty_ranges)]
        let empty = PortPool::new(LOCALHOST, 20000..=10000);
        assert_eq!(empty.capacity(), 0);
    }

    #[test]
    fn skips_a_busy_pair_and_returns_to_full() {
        // The RTCP port of the first pair is held by someone else.
        let squatter = UdpSocket::bind((LOCALHOST, 24101)).unwrap();
        let mut pool = PortPool::new(LOCALHOST, 24100..=24103);
        let pair = pool.allocate().unwrap();
        assert_eq!(pair.rtp_port(), 24102);
        assert_eq!(pair.rtcp_port(), 24103);
        assert_eq!(pair.rtcp.local_addr().unwrap().port(), 24103);
        assert_eq!(pool.available(), 1);
        assert!(matches!(
            pool.allocate(),
            Err(MediaError::PoolExhausted {
                first: 24100,
                last: 24103
            })
        ));
        drop(squatter);
        let second = pool.allocate().unwrap();
        assert_eq!(second.rtp_port(), 24100);
        assert_eq!(pool.available(), 0);
        drop((pair, second));
        assert!(pool.release(24102));
        assert!(!pool.release(24102), "double release is ignored");
        assert!(pool.release(24100));
        assert_eq!(pool.available(), pool.capacity());
    }

    #[test]
    fn a_foreign_address_is_an_io_error_not_exhaustion() {
        // TEST-NET-1 is never a local address.
        let mut pool = PortPool::new(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)), 24200..=24203);
        assert!(matches!(pool.allocate(), Err(MediaError::Io { .. })));
        assert_eq!(pool.available(), 2);
    }
}
