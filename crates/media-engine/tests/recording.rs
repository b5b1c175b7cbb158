//! Recordings on loopback sockets: a leg's audio (lost packets filled with silence), legs
//! A and B mixed, a consumer too slow to keep up, silence detection, pause and resume.

mod common;

use common::audio::*;
use common::*;
use media_engine::{
    AudioFrame, Leg, MediaEngine, MediaError, MediaEvent, RecordOptions, RecordSource, RecordingId,
    SessionHandle,
};
use std::sync::mpsc::Receiver;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

const SSRC: u32 = 0x5151;

/// A voicemail session: leg A to `caller`, B never used.
fn voicemail(engine: &MediaEngine, caller: &Phone) -> SessionHandle {
    let session = engine.create_session().unwrap();
    engine
        .set_remote(session.id, Leg::A, caller.addr(), None)
        .unwrap();
    session
}

/// Packet `n` of a `freq` Hz tone at `amplitude` (phase continuous across packets).
fn tone_packet(n: u16, freq: f64, amplitude: f64) -> Vec<u8> {
    let samples = sine(freq, amplitude, usize::from(n) * 160, 160);
    pcmu(n, u32::from(n) * 160, SSRC, &samples)
}

/// Every frame until the channel closes.
fn collect(frames: Receiver<AudioFrame>) -> JoinHandle<Vec<AudioFrame>> {
    thread::spawn(move || frames.iter().collect())
}

/// Sends `count` packets of a steady `level`, one every 20 ms, from a thread.
fn talk(phone: &Phone, port: u16, level: i16, count: u16) -> JoinHandle<()> {
    let socket = phone.socket.try_clone().unwrap();
    let ssrc = 0x7000 + u32::from(port);
    thread::spawn(move || {
        for n in 0..count {
            let p = pcmu(n, u32::from(n) * 160, ssrc, &[level; 160]);
            socket.send_to(&p, local(port)).unwrap();
            thread::sleep(Duration::from_millis(20));
        }
    })
}

#[test]
fn a_leg_recording_is_the_tone_with_lost_packets_filled_with_silence() {
    let (engine, _events) = engine_with_events(30200, 2);
    let caller = Phone::new();
    let session = voicemail(&engine, &caller);
    let options = RecordOptions {
        queue_frames: 100,
        ..RecordOptions::default()
    };
    let recording = engine
        .start_recording(session.id, RecordSource::Leg(Leg::A), options)
        .unwrap();
    let consumer = collect(recording.frames);
    let port = session.leg_a.rtp_port;
    // One second of 1000 Hz; packets 20..30 are lost; a key press in the middle.
    let mut sent = 0;
    for n in (0..50).filter(|n| !(20..30).contains(n)) {
        caller.send(&tone_packet(n, 1000.0, 8000.0), port);
        sent += 1;
    }
    let mut key = tone_packet(35, 0.0, 0.0);
    key[1] = 101;
    key.truncate(16);
    caller.send(&key, port);
    wait_stats(&engine, session.id, |s| s.leg_a.rtp.packets_in == sent + 1);
    let stats = engine.stop_recording(session.id, recording.id).unwrap();
    let frames = consumer.join().unwrap();
    assert_eq!(frames.len(), 50, "one frame per 20 ms of the call");
    assert_eq!(stats.frames_delivered, 50);
    assert_eq!((stats.frames_dropped, stats.packets_ignored), (0, 1));
    assert_eq!(stats.gap_samples, 10 * 160);
    for (n, frame) in frames.iter().enumerate() {
        let (level, crossings) = (rms(&frame.samples), zero_crossings(&frame.samples));
        if (20..30).contains(&n) {
            assert_eq!(level, 0.0, "frame {n}: silence for the lost packet");
        } else {
            // 8000 peak: RMS about 5657; 1000 Hz: 2 crossings per 8 samples.
            assert!((5400.0..5900.0).contains(&level), "frame {n}: RMS {level}");
            assert!(
                (39..=41).contains(&crossings),
                "frame {n}: {crossings} crossings"
            );
        }
    }
    assert!(matches!(
        engine.stop_recording(session.id, recording.id),
        Err(MediaError::UnknownRecording { .. })
    ));
    destroy_all(&engine, [session.id]);
}

#[test]
fn a_consumer_that_does_not_read_loses_frames_and_the_relay_goes_on() {
    let (engine, _events) = engine_with_events(30210, 4);
    let (caller, a, b) = (Phone::new(), Phone::new(), Phone::new());
    let vm = voicemail(&engine, &caller);
    let call = connect(&engine, &a, &b);
    let options = RecordOptions {
        queue_frames: 2,
        ..RecordOptions::default()
    };
    let recording = engine
        .start_recording(vm.id, RecordSource::Leg(Leg::A), options)
        .unwrap();
    for n in 0..20 {
        caller.send(&tone_packet(n, 1000.0, 8000.0), vm.leg_a.rtp_port);
        // The other call is relayed all along.
        let p = rtp(n, 9, &[0xff; 160]);
        a.send(&p, call.leg_a.rtp_port);
        assert_eq!(b.recv().0, p);
    }
    wait_stats(&engine, vm.id, |s| s.leg_a.rtp.packets_in == 20);
    let stats = engine.stop_recording(vm.id, recording.id).unwrap();
    assert_eq!((stats.frames_delivered, stats.frames_dropped), (2, 18));
    assert_eq!(recording.frames.iter().count(), 2);
    destroy_all(&engine, [vm.id, call.id]);
}

#[test]
fn a_mixed_recording_holds_both_parties_every_20_ms() {
    let (engine, _events) = engine_with_events(30220, 2);
    let (a, b) = (Phone::new(), Phone::new());
    let session = connect(&engine, &a, &b);
    let start = Instant::now();
    let recording = engine
        .start_recording(session.id, RecordSource::Mixed, RecordOptions::default())
        .unwrap();
    let consumer = collect(recording.frames);
    let ta = talk(&a, session.leg_a.rtp_port, 1000, 40);
    let tb = talk(&b, session.leg_b.rtp_port, 2000, 40);
    // Each still hears the other directly.
    let heard = Rtp::parse(&b.recv().0);
    assert_eq!(heard.ssrc, 0x7000 + u32::from(session.leg_a.rtp_port));
    ta.join().unwrap();
    tb.join().unwrap();
    let stats = engine.stop_recording(session.id, recording.id).unwrap();
    let elapsed = start.elapsed();
    let frames = consumer.join().unwrap();
    let expected = (elapsed.as_millis() / 20) as usize;
    assert!(
        frames.len().abs_diff(expected) <= 2,
        "{} frames in {elapsed:?}",
        frames.len()
    );
    assert_eq!(stats.frames_delivered, frames.len() as u64);
    let both = frames
        .iter()
        .filter(|f| f.samples.iter().all(|&s| (2900..=3100).contains(&s)))
        .count();
    assert!(both >= 30, "{both} frames of 1000 + 2000");
    assert!(
        frames.iter().flat_map(|f| f.samples).all(|s| s <= 3100),
        "nothing counted twice"
    );
    destroy_all(&engine, [session.id]);
}

#[test]
fn silence_is_reported_once_after_the_configured_time_not_while_audio_flows() {
    let (engine, events) = engine_with_events(30230, 2);
    let caller = Phone::new();
    let session = voicemail(&engine, &caller);
    let options = RecordOptions {
        silence_after: Some(Duration::from_millis(300)),
        ..RecordOptions::default()
    };
    let recording = engine
        .start_recording(session.id, RecordSource::Leg(Leg::A), options)
        .unwrap();
    let consumer = collect(recording.frames);
    let port = session.leg_a.rtp_port;
    // 600 ms of speech-like tone: no silence.
    let mut last_sound = Instant::now();
    for n in 0..30 {
        caller.send(&tone_packet(n, 440.0, 3000.0), port);
        last_sound = Instant::now();
        thread::sleep(Duration::from_millis(20));
    }
    assert!(events.try_recv().is_err(), "no silence while audio flows");
    // Then quiet packets (below -45 dBFS) for a while, then none.
    let mut event = None;
    for n in 30..50 {
        caller.send(&tone_packet(n, 440.0, 100.0), port);
        thread::sleep(Duration::from_millis(20));
        if let Ok(e) = events.try_recv() {
            event = Some(e);
            break;
        }
    }
    let event = event.unwrap_or_else(|| next_event(&events));
    let waited = last_sound.elapsed();
    assert_eq!(
        event,
        MediaEvent::Silence {
            session: session.id,
            recording: recording.id
        }
    );
    assert!(
        waited >= Duration::from_millis(290) && waited < Duration::from_millis(1000),
        "silence reported {waited:?} after the last sound"
    );
    // Once: nothing more while the silence lasts (quiet packets, then none).
    thread::sleep(Duration::from_millis(700));
    assert!(events.try_recv().is_err(), "reported once");
    // Sound again, then no packets at all: reported again.
    caller.send(&tone_packet(60, 440.0, 3000.0), port);
    let event = events
        .recv_timeout(Duration::from_millis(900))
        .expect("silence again");
    assert!(matches!(event, MediaEvent::Silence { .. }));
    engine.stop_recording(session.id, recording.id).unwrap();
    consumer.join().unwrap();
    destroy_all(&engine, [session.id]);
}

#[test]
fn nothing_is_recorded_while_paused() {
    let (engine, _events) = engine_with_events(30240, 2);
    let caller = Phone::new();
    let session = voicemail(&engine, &caller);
    let recording = engine
        .start_recording(
            session.id,
            RecordSource::Leg(Leg::A),
            RecordOptions::default(),
        )
        .unwrap();
    let consumer = collect(recording.frames);
    let port = session.leg_a.rtp_port;
    let mut sent = 0;
    let mut send = |range: std::ops::Range<u16>, freq: f64| {
        for n in range {
            caller.send(&tone_packet(n, freq, 8000.0), port);
            sent += 1;
        }
        let expected = sent;
        wait_stats(&engine, session.id, |s| s.leg_a.rtp.packets_in == expected);
    };
    send(0..10, 1000.0);
    engine.pause_recording(session.id, recording.id).unwrap();
    engine.pause_recording(session.id, recording.id).unwrap();
    send(10..20, 2000.0);
    engine.resume_recording(session.id, recording.id).unwrap();
    send(20..30, 1000.0);
    let stats = engine.stop_recording(session.id, recording.id).unwrap();
    let frames = consumer.join().unwrap();
    assert_eq!(frames.len(), 20, "no frame, and no gap, for the pause");
    assert_eq!(stats.gap_samples, 0);
    for frame in &frames {
        let crossings = zero_crossings(&frame.samples);
        assert!((39..=41).contains(&crossings), "1000 Hz only: {crossings}");
    }
    let ghost = RecordingId(9999);
    assert!(matches!(
        engine.pause_recording(session.id, ghost),
        Err(MediaError::UnknownRecording { recording, .. }) if recording == ghost
    ));
    assert!(matches!(
        engine.start_recording(
            session.id,
            RecordSource::Leg(Leg::Extra(0)),
            RecordOptions::default()
        ),
        Err(MediaError::InvalidLeg { .. })
    ));
    destroy_all(&engine, [session.id]);
}

#[test]
fn destroying_the_session_ends_its_recordings() {
    let (engine, _events) = engine_with_events(30250, 2);
    let caller = Phone::new();
    let session = voicemail(&engine, &caller);
    let recording = engine
        .start_recording(
            session.id,
            RecordSource::Leg(Leg::A),
            RecordOptions::default(),
        )
        .unwrap();
    let consumer = collect(recording.frames);
    // Half a frame: flushed, padded, when the session ends.
    let samples = sine(1000.0, 8000.0, 0, 80);
    caller.send(&pcmu(0, 0, SSRC, &samples), session.leg_a.rtp_port);
    wait_stats(&engine, session.id, |s| s.leg_a.rtp.packets_in == 1);
    destroy_all(&engine, [session.id]);
    let frames = consumer.join().unwrap();
    assert_eq!(frames.len(), 1);
    assert!(rms(&frames[0].samples[..80]) > 5000.0);
    assert_eq!(rms(&frames[0].samples[80..]), 0.0);
}
