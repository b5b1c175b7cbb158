//! Prompts played once on loopback sockets: the endpoint hears the piece in 20 ms packets
//! that continue its stream's numbers, then `PlayFinished` comes and the leg goes back to
//! what it heard before (nothing, the other party, or the music the prompt interrupted).

mod common;

use common::audio::*;
use common::*;
use media_engine::{Leg, MediaError, MediaEvent, SessionId};
use std::io::ErrorKind;
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

fn finished(session: SessionId, leg: Leg, tag: u64, interrupted: bool) -> MediaEvent {
    MediaEvent::PlayFinished {
        session,
        leg,
        tag,
        interrupted,
    }
}

/// The next RTP packet the phone gets, from `port`.
fn packet(phone: &Phone, port: u16) -> Rtp {
    let (bytes, from) = phone.recv();
    assert_eq!(from, local(port), "from the leg's own port");
    Rtp::parse(&bytes)
}

/// Asserts that no packet arrives for `quiet`.
fn silent_for(phone: &Phone, quiet: Duration) {
    phone.socket.set_read_timeout(Some(quiet)).unwrap();
    let mut buf = [0; 2048];
    match phone.socket.recv_from(&mut buf) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!("expected silence, got {other:?}"),
    }
    phone.socket.set_read_timeout(Some(PATIENCE)).unwrap();
}

fn no_event(events: &Receiver<MediaEvent>) {
    assert!(events.try_recv().is_err(), "no further event");
}

/// A voicemail session: leg A to `caller`, B never used.
fn voicemail(engine: &media_engine::MediaEngine, caller: &Phone) -> media_engine::SessionHandle {
    let session = engine.create_session().unwrap();
    engine
        .set_remote(session.id, Leg::A, caller.addr(), None)
        .unwrap();
    session
}

#[test]
fn a_prompt_plays_once_then_the_leg_falls_silent() {
    let (engine, events) = engine_with_events(30100, 2);
    let caller = Phone::new();
    let session = voicemail(&engine, &caller);
    let port = session.leg_a.rtp_port;
    // 490 ms: 24 whole packets and a last one half silence.
    let tone = tone_music(1000.0, 8000.0, 490);
    let start = Instant::now();
    engine.play(session.id, Leg::A, tone, 0, 7).unwrap();
    let packets: Vec<Rtp> = (0..25).map(|_| packet(&caller, port)).collect();
    assert_eq!(next_event(&events), finished(session.id, Leg::A, 7, false));
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(470) && took < Duration::from_millis(1500),
        "25 packets and the end took {took:?}"
    );
    silent_for(&caller, Duration::from_millis(100));
    no_event(&events);

    assert!(packets[0].marker);
    for pair in packets.windows(2) {
        assert_eq!(pair[1].seq, pair[0].seq.wrapping_add(1));
        assert_eq!(pair[1].ts, pair[0].ts.wrapping_add(160));
        assert_eq!((pair[1].ssrc, pair[1].pt), (packets[0].ssrc, 0));
        assert!(!pair[1].marker);
    }
    let audio: Vec<i16> = packets[..24].iter().flat_map(Rtp::pcm).collect();
    // 1000 Hz: 2,000 sign changes a second, 40 per packet; an amplitude of 8000.
    let crossings = zero_crossings(&audio);
    assert!(
        (950..=970).contains(&crossings),
        "{crossings} zero crossings"
    );
    let level = rms(&audio);
    assert!((5400.0..5900.0).contains(&level), "RMS {level}");
    let last = packets[24].pcm();
    assert!(
        rms(&last[..80]) > 5000.0 && rms(&last[80..]) < 10.0,
        "padded"
    );
    // Again: the numbers go on from the first time.
    engine
        .play(session.id, Leg::A, tone_music(1000.0, 8000.0, 40), 0, 8)
        .unwrap();
    let again = packet(&caller, port);
    assert_eq!(again.seq, packets[24].seq.wrapping_add(1));
    assert!(again.ts.wrapping_sub(packets[24].ts) >= 160);
    assert_eq!(again.ssrc, packets[0].ssrc);
    packet(&caller, port);
    assert_eq!(next_event(&events), finished(session.id, Leg::A, 8, false));
    destroy_all(&engine, [session.id]);
}

#[test]
fn stop_play_cuts_a_prompt_short_and_another_play_replaces_one() {
    let (engine, events) = engine_with_events(30110, 2);
    let caller = Phone::new();
    let session = voicemail(&engine, &caller);
    let port = session.leg_a.rtp_port;
    let long = tone_music(1000.0, 8000.0, 10_000);
    engine.play(session.id, Leg::A, long.clone(), 0, 1).unwrap();
    let first: Vec<Rtp> = (0..3).map(|_| packet(&caller, port)).collect();
    // Another prompt replaces it: the first is reported cut short.
    engine.play(session.id, Leg::A, long, 8, 2).unwrap();
    assert_eq!(next_event(&events), finished(session.id, Leg::A, 1, true));
    let mut next = packet(&caller, port);
    // A packet of the first prompt may have been on its way.
    if next.pt == 0 {
        next = packet(&caller, port);
    }
    assert_eq!(next.pt, 8);
    assert!(next.marker, "a new prompt starts a talkspurt");
    assert_eq!(next.ssrc, first[0].ssrc);
    assert!(engine.stop_play(session.id, Leg::A).unwrap());
    // The event is delivered before stop_play returns.
    assert_eq!(
        events.try_recv().ok(),
        Some(finished(session.id, Leg::A, 2, true))
    );
    // At most a packet that was due in the same turn, then nothing.
    caller
        .socket
        .set_read_timeout(Some(Duration::from_millis(5)))
        .unwrap();
    let mut buf = [0; 256];
    let _ = caller.socket.recv_from(&mut buf);
    silent_for(&caller, Duration::from_millis(100));
    assert!(
        !engine.stop_play(session.id, Leg::A).unwrap(),
        "nothing plays"
    );
    no_event(&events);
    // Unsupported codecs are refused; an empty piece finishes at once.
    let empty = Arc::new(tone_music(1000.0, 1.0, 20).first(Duration::ZERO));
    assert!(matches!(
        engine.play(session.id, Leg::A, empty.clone(), 9, 3),
        Err(MediaError::UnsupportedPayloadType(9))
    ));
    engine.play(session.id, Leg::A, empty, 0, 4).unwrap();
    assert_eq!(
        events.try_recv().ok(),
        Some(finished(session.id, Leg::A, 4, false))
    );
    // A prompt cut short by the end of the session is reported too.
    engine
        .play(session.id, Leg::A, tone_music(1000.0, 1.0, 5000), 0, 5)
        .unwrap();
    destroy_all(&engine, [session.id]);
    assert_eq!(
        events.try_recv().ok(),
        Some(finished(session.id, Leg::A, 5, true))
    );
}

#[test]
fn after_a_prompt_the_leg_hears_the_other_party_again() {
    let (engine, events) = engine_with_events(30120, 2);
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    let b_ssrc = 0xb0b0;
    let sender = b.socket.try_clone().unwrap();
    let port_b = session.leg_b.rtp_port;
    let talking = thread::spawn(move || {
        for seq in 0..40u16 {
            let p = pcmu(seq, u32::from(seq) * 160, b_ssrc, &[0; 160]);
            sender.send_to(&p, local(port_b)).unwrap();
            thread::sleep(Duration::from_millis(20));
        }
    });
    assert_eq!(packet(&a, session.leg_a.rtp_port).ssrc, b_ssrc);
    engine
        .play(session.id, Leg::A, tone_music(1000.0, 8000.0, 200), 0, 11)
        .unwrap();
    let mut prompt = 0;
    loop {
        let p = packet(&a, session.leg_a.rtp_port);
        if p.ssrc != b_ssrc {
            prompt += 1;
            continue;
        }
        if prompt > 0 {
            break; // B again, after the prompt
        }
    }
    assert_eq!(prompt, 10, "the whole prompt, nothing of B in between");
    assert_eq!(next_event(&events), finished(session.id, Leg::A, 11, false));
    talking.join().unwrap();
    destroy_all(&engine, [session.id]);
}

#[test]
fn music_interrupted_by_a_prompt_goes_on_after_it() {
    let (engine, events) = engine_with_events(30130, 2);
    let caller = Phone::new();
    let session = voicemail(&engine, &caller);
    let port = session.leg_a.rtp_port;
    let music = tone_music(2000.0, 4000.0, 1000);
    engine.start_music(session.id, Leg::A, music, 0).unwrap();
    let before = packet(&caller, port);
    engine
        .play(session.id, Leg::A, tone_music(500.0, 8000.0, 100), 0, 3)
        .unwrap();
    // Music (2000 Hz: 80 crossings a packet), the prompt (500 Hz: 20), music again.
    let mut kinds = Vec::new();
    let mut last = before;
    while kinds.len() < 12 {
        let p = packet(&caller, port);
        assert_eq!(p.seq, last.seq.wrapping_add(1), "one stream throughout");
        let crossings = zero_crossings(&p.pcm());
        kinds.push(if crossings > 50 { 'm' } else { 'p' });
        last = p;
    }
    let kinds: String = kinds.into_iter().collect();
    let rest = kinds.trim_start_matches('m');
    assert!(
        rest.starts_with("ppppp") && rest.len() > 5 && rest[5..].chars().all(|c| c == 'm'),
        "music, the whole prompt, music: {kinds}"
    );
    assert_eq!(next_event(&events), finished(session.id, Leg::A, 3, false));
    assert!(engine.stats(session.id).unwrap().leg_a.music_playing);
    destroy_all(&engine, [session.id]);
}
