//! Voicemail load on loopback: N callers leaving messages at once. Each session uses leg A
//! only; the caller first hears a greeting (a prompt, played once) and then sends G.711
//! (50 packets a second, with a key press now and then) while the engine reads its keys,
//! records its leg with silence detection and hands the frames to one consumer thread.
//! Reports the relay thread's CPU, frames delivered and dropped, and events. `--bare`
//! sends the same packets to sessions that do none of this (each packet dropped, as leg
//! B has nowhere to send it): the baseline to subtract.
//!
//! ```text
//! cargo run --release -p media-engine --example voicemail_load -- --sessions 1000
//!     [--seconds 10] [--threads 1] [--first-port 10000] [--greeting-ms 2000] [--bare]
//! ```

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use media_engine::{
    EventSink, Leg, MediaConfig, MediaEngine, MediaEvent, Music, RecordOptions, RecordSource,
};

struct Options {
    sessions: usize,
    seconds: u64,
    threads: usize,
    first_port: u16,
    bare: bool,
    /// How long the greeting plays (0: none).
    greeting_ms: u64,
}

fn options() -> Options {
    let mut o = Options {
        sessions: 100,
        seconds: 10,
        threads: 1,
        first_port: 10000,
        bare: false,
        greeting_ms: 2000,
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
            "--bare" => o.bare = true,
            "--greeting-ms" => o.greeting_ms = value("--greeting-ms"),
            other => panic!("unknown argument {other}"),
        }
    }
    o
}

/// CPU time of every thread whose name starts with `prefix` (the scheduler's accounting).
fn threads_cpu_ns(prefix: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with(prefix))
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// A 20 ms packet: a 400 Hz tone in µ-law (a fixed pattern is enough for the load), or a
/// telephone-event (PT 101) for key `key` pressed at `press_ts`.
fn packet(seq: u16, ts: u32, ssrc: u32, key: Option<(u8, u32)>) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    match key {
        Some((code, press_ts)) => {
            p[1] = 101;
            p[4..8].copy_from_slice(&press_ts.to_be_bytes());
            p.extend_from_slice(&[code, 10, 0, 160]);
        }
        None => p.extend((0..160).map(|n| [0x9f, 0xa8, 0x1f, 0x28][n / 5 % 4])),
    }
    p
}

fn main() {
    let o = options();
    let events = Arc::new([0, 0, 0].map(|_: i32| AtomicU64::new(0)));
    let counted = events.clone();
    let engine = MediaEngine::start(MediaConfig {
        bind_ip: "127.0.0.1".parse().unwrap(),
        port_range: o.first_port..=o.first_port.saturating_add(20_000),
        threads: o.threads,
        events: Some(EventSink::new(move |event| {
            let i = match event {
                MediaEvent::Digit { .. } => 0,
                MediaEvent::PlayFinished { .. } => 1,
                _ => 2,
            };
            counted[i].fetch_add(1, Ordering::Relaxed);
        })),
    })
    .expect("engine starts");
    let greeting = Music::ringback_tone().first(Duration::from_millis(o.greeting_ms));
    let greeting = Arc::new(greeting);
    let mut callers: Vec<(UdpSocket, SocketAddr)> = Vec::new();
    let mut recordings = Vec::new();
    let mut sessions = Vec::new();
    for _ in 0..o.sessions {
        let s = engine.create_session().expect("a session");
        let phone = UdpSocket::bind("127.0.0.1:0").unwrap();
        phone.set_nonblocking(true).unwrap();
        engine
            .set_remote(s.id, Leg::A, phone.local_addr().unwrap(), None)
            .unwrap();
        let to = SocketAddr::new("127.0.0.1".parse().unwrap(), s.leg_a.rtp_port);
        callers.push((phone, to));
        sessions.push(s.id);
        if o.bare {
            continue;
        }
        engine
            .set_dtmf_payload_type(s.id, Leg::A, Some(101))
            .unwrap();
        if o.greeting_ms > 0 {
            engine.play(s.id, Leg::A, greeting.clone(), 0, 1).unwrap();
        }
        let options = RecordOptions {
            silence_after: Some(Duration::from_secs(5)),
            ..RecordOptions::default()
        };
        let r = engine
            .start_recording(s.id, RecordSource::Leg(Leg::A), options)
            .unwrap();
        recordings.push(r);
    }

    // The consumer: takes every frame, as a writer of files would.
    let stop = Arc::new(AtomicBool::new(false));
    let frames = Arc::new(AtomicU64::new(0));
    let (stop_c, frames_c) = (stop.clone(), frames.clone());
    let (ids, channels): (Vec<_>, Vec<_>) =
        recordings.into_iter().map(|r| (r.id, r.frames)).unzip();
    let consumer = thread::spawn(move || loop {
        let last = stop_c.load(Ordering::Relaxed);
        for rx in &channels {
            let n = rx.try_iter().count() as u64;
            frames_c.fetch_add(n, Ordering::Relaxed);
        }
        if last {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    });

    // The callers: each sends every 20 ms, spread evenly over the 20 ms; a key every 5 s.
    let start = Instant::now();
    let cpu_before = threads_cpu_ns("media-relay");
    let n = callers.len();
    let sent = thread::scope(|scope| {
        scope
            .spawn(|| {
                let mut sent = 0u64;
                let mut sink = [0u8; 2048];
                let end = start + Duration::from_secs(o.seconds);
                let mut tick: u64 = 0;
                while Instant::now() < end {
                    // One slot per millisecond: calls i with i % 20 == tick % 20.
                    let slot = (tick % 20) as usize;
                    let round = (tick / 20) as u32;
                    for (i, (phone, to)) in callers.iter().enumerate().skip(slot).step_by(20) {
                        let key = (round % 250 == (i as u32 % 250)).then_some((5, round * 160));
                        let p = packet(round as u16, round * 160, i as u32, key);
                        if phone.send_to(&p, to).is_ok() {
                            sent += 1;
                        }
                        // What the engine sends back (the greeting) is read and dropped.
                        while phone.recv_from(&mut sink).is_ok() {}
                    }
                    tick += 1;
                    let next = start + Duration::from_millis(tick);
                    if let Some(wait) = next.checked_duration_since(Instant::now()) {
                        thread::sleep(wait);
                    }
                }
                sent
            })
            .join()
            .unwrap()
    });
    let cpu = threads_cpu_ns("media-relay") - cpu_before;
    let wall = start.elapsed();
    let (mut delivered, mut dropped, mut ignored, mut late) = (0, 0, 0, 0);
    for (id, rec) in sessions.iter().zip(&ids) {
        let stats = engine.stop_recording(*id, *rec).unwrap();
        delivered += stats.frames_delivered;
        dropped += stats.frames_dropped;
        ignored += stats.packets_ignored;
        late += stats.packets_late;
    }
    stop.store(true, Ordering::Relaxed);
    consumer.join().unwrap();
    for id in sessions {
        engine.destroy_session(id).unwrap();
    }
    println!(
        "{n} voicemail calls, {:.1} s: {sent} packets sent ({:.0}/s), relay CPU {:.1} % of one core",
        wall.as_secs_f64(),
        sent as f64 / wall.as_secs_f64(),
        cpu as f64 / wall.as_nanos() as f64 * 100.0,
    );
    println!(
        "frames delivered {delivered} (consumer took {}), dropped {dropped}; packets ignored {ignored} (key presses), late {late}",
        frames.load(Ordering::Relaxed)
    );
    println!(
        "events: {} digits, {} prompts finished, {} silences",
        events[0].load(Ordering::Relaxed),
        events[1].load(Ordering::Relaxed),
        events[2].load(Ordering::Relaxed)
    );
}
