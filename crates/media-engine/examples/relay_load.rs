//! Relay load on loopback: N sessions, each with G.711 calls' worth of RTP (172-byte
//! packets, 50 per second per direction), from a generator thread through the media engine
//! to a receiver thread. Reports loss, one-way latency percentiles and CPU per thread (the
//! scheduler's accounting in `/proc/self/task/*/schedstat`, so Linux only).
//!
//! ```text
//! cargo run --release -p media-engine --example relay_load -- --sessions 1000
//!     [--seconds 10] [--threads 1] [--one-way] [--direct] [--first-port 10000]
//!     [--shared-phones K] [--pin]
//! ```
//!
//! Packets are paced evenly over each 20 ms (calls are not in step) and each carries the
//! wall-clock time it was sent. Latency is reported twice: to the kernel's arrival stamp on
//! the phone socket (`SO_TIMESTAMPNS`: the relay's queueing and work, without the
//! receiver's own wake-up) and to the moment the receiver read it. How late the generator
//! was against its schedule is reported too: a late generator sends a burst, and a burst
//! queues at the relay. `--direct` sends phone to phone without the engine, the baseline
//! to subtract. `--shared-phones K` lets all calls share K phone sockets per side, so the
//! receiver wakes less often (nearer to a relay sending to a NIC than to 2N sockets).
//! `--pin` puts the relay thread(s) on the last CPU and the generator and receiver on CPU 0,
//! so that on a small machine the load generator does not preempt the relay it measures.

use std::io::IoSliceMut;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use media_engine::{Leg, MediaConfig, MediaEngine};
use mio::{Events, Interest, Poll, Token};
use nix::sched::{sched_setaffinity, CpuSet};
use nix::sys::socket::{
    recvmsg, setsockopt,
    sockopt::{RcvBuf, ReceiveTimestampns},
    ControlMessageOwned, MsgFlags, SockaddrIn,
};
use nix::sys::time::TimeSpec;
use nix::unistd::Pid;

const PACKET_LEN: usize = 172; // 12-byte RTP header + 160 bytes of G.711 (20 ms)
const PTIME_NS: u64 = 20_000_000;
/// One-microsecond latency buckets up to 100 ms; slower packets land in the last one.
const BUCKETS: usize = 100_000;

struct Options {
    sessions: usize,
    seconds: u64,
    threads: usize,
    both_ways: bool,
    direct: bool,
    first_port: u16,
    /// Phone sockets per side shared by all calls (0: one per call side).
    shared_phones: usize,
    /// Pin the relay thread(s) to the last CPU and the generator and receiver to CPU 0.
    pin: bool,
}

fn options() -> Options {
    let mut o = Options {
        sessions: 100,
        seconds: 10,
        threads: 1,
        both_ways: true,
        direct: false,
        first_port: 10000,
        shared_phones: 0,
        pin: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| -> u64 {
            let v = args.next().and_then(|v| v.parse().ok());
            v.unwrap_or_else(|| panic!("{name} needs a number"))
        };
        match arg.as_str() {
            "--sessions" => o.sessions = value("--sessions") as usize,
            "--seconds" => o.seconds = value("--seconds"),
            "--threads" => o.threads = value("--threads") as usize,
            "--first-port" => o.first_port = value("--first-port") as u16,
            "--shared-phones" => o.shared_phones = value("--shared-phones") as usize,
            "--one-way" => o.both_ways = false,
            "--direct" => o.direct = true,
            "--pin" => o.pin = true,
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

/// One direction of one call: who sends, and to where.
struct Stream {
    from: UdpSocket,
    to: SocketAddr,
}

/// CPU time of a thread so far, from the scheduler's own accounting (nanoseconds).
fn cpu_ns(task_dir: &str) -> u64 {
    std::fs::read_to_string(format!("{task_dir}/schedstat"))
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Pins the thread `tid` (0: the calling thread) to `cpu`.
fn pin(tid: i32, cpu: usize) {
    let mut set = CpuSet::new();
    set.set(cpu).expect("CPU index");
    sched_setaffinity(Pid::from_raw(tid), &set).expect("sched_setaffinity");
}

/// The thread ids of this process's threads whose name starts with `prefix`.
fn thread_ids(prefix: &str) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with(prefix))
        })
        .filter_map(|t| t.file_name().to_str()?.parse().ok())
        .collect()
}

/// The host's count of datagrams dropped for a full receive buffer (`RcvbufErrors` in
/// /proc/net/snmp): where loss on loopback happens. Counts other programs' drops too.
fn udp_rcvbuf_errors() -> u64 {
    let snmp = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp: "));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "RcvbufErrors")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

/// CPU time of every thread whose name starts with `prefix`.
fn threads_cpu_ns(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .map(|t| t.path().display().to_string())
        .filter(|dir| {
            std::fs::read_to_string(format!("{dir}/comm")).is_ok_and(|c| c.starts_with(prefix))
        })
        .map(|dir| cpu_ns(&dir))
        .sum()
}

fn main() {
    let o = options();
    let engine = MediaEngine::start(MediaConfig {
        bind_ip: "127.0.0.1".parse().unwrap(),
        port_range: o.first_port..=o.first_port.saturating_add(20_000),
        threads: o.threads,
        ..MediaConfig::default()
    })
    .expect("engine starts");

    // Phones: one socket per call side, or a few shared by all calls (fewer wake-ups for
    // the receiver, closer to a relay sending to a NIC); the receiver polls them all.
    let phone = || {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        // Shared sockets take many calls' bursts: give them room (capped by rmem_max).
        setsockopt(&socket, RcvBuf, &(4 << 20)).expect("SO_RCVBUF");
        socket
    };
    let shared: Vec<(UdpSocket, UdpSocket)> =
        (0..o.shared_phones).map(|_| (phone(), phone())).collect();
    let mut streams = Vec::new();
    let mut receivers = Vec::new();
    let mut sessions = Vec::new();
    for i in 0..o.sessions {
        let (a, b) = match shared.get(i % o.shared_phones.max(1)) {
            Some((a, b)) => (a.try_clone().unwrap(), b.try_clone().unwrap()),
            None => (phone(), phone()),
        };
        let (to_from_a, to_from_b) = if o.direct {
            (b.local_addr().unwrap(), a.local_addr().unwrap())
        } else {
            let s = engine.create_session().expect("ports");
            sessions.push(s.id);
            let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
            engine.set_remote(s.id, Leg::A, a_addr, None).unwrap();
            engine.set_remote(s.id, Leg::B, b_addr, None).unwrap();
            let local = |port| SocketAddr::from(([127, 0, 0, 1], port));
            (local(s.leg_a.rtp_port), local(s.leg_b.rtp_port))
        };
        streams.push(Stream {
            from: a.try_clone().unwrap(),
            to: to_from_a,
        });
        if o.both_ways {
            streams.push(Stream {
                from: b.try_clone().unwrap(),
                to: to_from_b,
            });
        }
        if shared.is_empty() {
            receivers.extend([a, b]);
        }
    }
    receivers.extend(shared.into_iter().flat_map(|(a, b)| [a, b]));

    let cpus = thread::available_parallelism().map_or(1, |n| n.get());
    let pinned = o.pin && cpus > 1;
    if pinned {
        for tid in thread_ids("media-relay") {
            pin(tid, cpus - 1);
        }
    }
    let origin = Instant::now();
    let done = Arc::new(AtomicBool::new(false));
    let receiver = {
        let done = done.clone();
        thread::Builder::new()
            .name("load-recv".into())
            .spawn(move || {
                if pinned {
                    pin(0, 0);
                }
                receive(receivers, &done)
            })
            .unwrap()
    };
    let relay_cpu_before = threads_cpu_ns("media-relay");
    let overflows_before = udp_rcvbuf_errors();
    let rounds = o.seconds * 1_000_000_000 / PTIME_NS;
    let generator = thread::Builder::new()
        .name("load-gen".into())
        .spawn(move || {
            if pinned {
                pin(0, 0);
            }
            generate(&streams, origin, rounds)
        })
        .unwrap();
    let generated = generator.join().unwrap();
    let (sent, send_failures, gen_cpu, wall) = (
        generated.sent,
        generated.failed,
        generated.cpu_ns,
        generated.wall,
    );
    let relay_cpu = threads_cpu_ns("media-relay") - relay_cpu_before;
    done.store(true, Ordering::Relaxed);
    let result = receiver.join().unwrap();
    let received = result.kernel.count;
    let overflows = udp_rcvbuf_errors().saturating_sub(overflows_before);

    let pps = sent as f64 / wall.as_secs_f64();
    // Other work on the machine shows in the latency tail: say how busy it was.
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "relay_load: {} sessions, {} direction(s), 50 pkt/s x {PACKET_LEN} B each, {} s, {} relay thread(s){}",
        o.sessions,
        if o.both_ways { 2 } else { 1 },
        o.seconds,
        o.threads,
        if o.direct { ", DIRECT (no relay)" } else { "" }
    );
    if pinned {
        println!(
            "pinned: relay on CPU {}, generator and receiver on CPU 0",
            cpus - 1
        );
    }
    println!("load average before the summary: {}", load.trim());
    let lost = sent.saturating_sub(received);
    println!(
        "packets: sent {sent} ({pps:.0}/s), received {received}, lost {lost} ({:.4} %), send failures {send_failures}",
        100.0 * lost as f64 / sent.max(1) as f64
    );
    println!("UDP receive-buffer overflows on the host during the run: {overflows}");
    println!(
        "latency, send -> kernel arrival at the phone: {}",
        result.kernel.summary()
    );
    println!(
        "latency, send -> read by the receiver:        {}",
        result.application.summary()
    );
    println!(
        "generator lateness against its schedule:     {}",
        generated.lateness.summary()
    );
    let share = |ns: u64| 100.0 * ns as f64 / wall.as_nanos() as f64;
    println!(
        "CPU (% of one core over {:.1} s): relay {:.1} %, generator {:.1} %, receiver {:.1} %",
        wall.as_secs_f64(),
        share(relay_cpu),
        share(gen_cpu),
        share(result.cpu_ns)
    );
    if !o.direct && sent > 0 {
        let (mut relayed, mut dropped) = (0, 0);
        for id in sessions {
            let stats = engine.destroy_session(id).expect("session");
            for leg in [stats.leg_a, stats.leg_b] {
                relayed += leg.rtp.packets_out;
                dropped += leg.rtp.packets_dropped;
            }
        }
        println!(
            "relay: {relayed} relayed, {dropped} dropped; CPU per packet {:.2} us",
            relay_cpu as f64 / 1000.0 / sent as f64
        );
    }
}

/// What the generator did: packets sent and failed, its CPU time, the wall time of the
/// run, and how late each packet left against its schedule (late packets leave in a burst,
/// and a burst queues at the relay).
struct Generated {
    sent: u64,
    failed: u64,
    cpu_ns: u64,
    wall: Duration,
    lateness: Histogram,
}

/// Sends `rounds` packets on every stream, stream k at offset k/len of each 20 ms.
fn generate(streams: &[Stream], origin: Instant, rounds: u64) -> Generated {
    let cpu_before = cpu_ns("/proc/thread-self");
    let start = origin.elapsed().as_nanos() as u64 + 50_000_000; // let the receiver settle
    let n = streams.len() as u64;
    let total = rounds * n;
    let due = |i: u64| start + (i / n) * PTIME_NS + (i % n) * PTIME_NS / n;
    let mut packet = [0xffu8; PACKET_LEN]; // 0xff: µ-law silence
    packet[0] = 0x80;
    let (mut sent, mut failed, mut i) = (0, 0, 0);
    let mut lateness = Histogram::new();
    while i < total {
        let now = origin.elapsed().as_nanos() as u64;
        while i < total && due(i) <= now {
            let (round, k) = (i / n, (i % n) as usize);
            packet[2..4].copy_from_slice(&(round as u16).to_be_bytes());
            packet[4..8].copy_from_slice(&((round * 160) as u32).to_be_bytes());
            packet[8..12].copy_from_slice(&(k as u32).to_be_bytes());
            let stamp = wall_ns();
            packet[12..20].copy_from_slice(&stamp.to_be_bytes());
            lateness.record((origin.elapsed().as_nanos() as u64).saturating_sub(due(i)));
            match streams[k].from.send_to(&packet, streams[k].to) {
                Ok(_) => sent += 1,
                Err(_) => failed += 1,
            }
            i += 1;
        }
        if i < total {
            let wait = due(i).saturating_sub(origin.elapsed().as_nanos() as u64);
            if wait > 0 {
                thread::sleep(Duration::from_nanos(wait));
            }
        }
    }
    let wall = Duration::from_nanos(origin.elapsed().as_nanos() as u64 - start);
    Generated {
        sent,
        failed,
        cpu_ns: cpu_ns("/proc/thread-self") - cpu_before,
        wall,
        lateness,
    }
}

/// Wall-clock nanoseconds: the clock of the kernel's `SO_TIMESTAMPNS` receive stamps.
fn wall_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Latencies in one-microsecond buckets.
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    max_ns: u64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            buckets: vec![0; BUCKETS],
            count: 0,
            max_ns: 0,
        }
    }

    fn record(&mut self, ns: u64) {
        self.buckets[((ns / 1000) as usize).min(BUCKETS - 1)] += 1;
        self.count += 1;
        self.max_ns = self.max_ns.max(ns);
    }

    fn summary(&self) -> String {
        let pct = |p| percentile(&self.buckets, self.count, p);
        format!(
            "p50 {} us, p90 {} us, p99 {} us, p99.9 {} us, max {:.0} us",
            pct(0.50),
            pct(0.90),
            pct(0.99),
            pct(0.999),
            self.max_ns as f64 / 1000.0
        )
    }
}

/// What the receiver measured.
struct Received {
    /// Send stamp to the kernel's arrival stamp on the phone's socket: the generator's
    /// send, the relay's wait and work, and loopback delivery; not the receiver's wake-up.
    kernel: Histogram,
    /// Send stamp to the moment the receiver read the packet.
    application: Histogram,
    cpu_ns: u64,
}

/// Receives on every phone socket until told to stop and then until nothing has arrived
/// for half a second, so that packets still queued count as late, not as lost.
fn receive(sockets: Vec<UdpSocket>, done: &AtomicBool) -> Received {
    let cpu_before = cpu_ns("/proc/thread-self");
    let mut poll = Poll::new().unwrap();
    let mut sockets: Vec<mio::net::UdpSocket> = sockets
        .into_iter()
        .map(|s| {
            s.set_nonblocking(true).unwrap();
            setsockopt(&s, ReceiveTimestampns, &true).expect("SO_TIMESTAMPNS");
            mio::net::UdpSocket::from_std(s)
        })
        .collect();
    for (i, s) in sockets.iter_mut().enumerate() {
        poll.registry()
            .register(s, Token(i), Interest::READABLE)
            .unwrap();
    }
    let mut events = Events::with_capacity(1024);
    let mut received = Received {
        kernel: Histogram::new(),
        application: Histogram::new(),
        cpu_ns: 0,
    };
    let mut buf = [0u8; 2048];
    let mut cmsg = nix::cmsg_space!(TimeSpec);
    let mut last_arrival = Instant::now();
    loop {
        poll.poll(&mut events, Some(Duration::from_millis(50)))
            .unwrap();
        for event in events.iter() {
            let fd = sockets[event.token().0].as_raw_fd();
            loop {
                let mut iov = [IoSliceMut::new(&mut buf)];
                let Ok(msg) =
                    recvmsg::<SockaddrIn>(fd, &mut iov, Some(&mut cmsg), MsgFlags::empty())
                else {
                    break; // EAGAIN: drained
                };
                let now = wall_ns();
                last_arrival = Instant::now();
                let arrived = msg.cmsgs().ok().and_then(|mut c| {
                    c.find_map(|c| match c {
                        ControlMessageOwned::ScmTimestampns(ts) => {
                            Some(ts.tv_sec() as u64 * 1_000_000_000 + ts.tv_nsec() as u64)
                        }
                        _ => None,
                    })
                });
                if msg.bytes != PACKET_LEN {
                    continue;
                }
                let stamp = u64::from_be_bytes(buf[12..20].try_into().unwrap());
                received.application.record(now.saturating_sub(stamp));
                received
                    .kernel
                    .record(arrived.unwrap_or(now).saturating_sub(stamp));
            }
        }
        if done.load(Ordering::Relaxed) && last_arrival.elapsed() > Duration::from_millis(500) {
            break;
        }
    }
    received.cpu_ns = cpu_ns("/proc/thread-self") - cpu_before;
    received
}

/// The latency (µs) below which a fraction `p` of the packets arrived ("100000+" when
/// beyond the histogram).
fn percentile(histogram: &[u64], total: u64, p: f64) -> String {
    let target = (total as f64 * p).ceil() as u64;
    let mut seen = 0;
    for (us, count) in histogram.iter().enumerate() {
        seen += count;
        if seen >= target.max(1) && us < histogram.len() - 1 {
            return us.to_string();
        }
    }
    format!("{}+", histogram.len())
}
