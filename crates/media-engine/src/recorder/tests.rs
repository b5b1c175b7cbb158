//! Recorders fed made-up packets and instants.

use std::sync::mpsc::{sync_channel, TryRecvError};

use super::*;

const MS: Duration = Duration::from_millis(1);

/// A PCMU packet of `level` with the given numbers, `len` samples long.
fn packet(ssrc: u32, ts: u32, level: i16, len: usize) -> Vec<u8> {
    packet_of(0, ssrc, ts, &vec![g711::linear_to_ulaw(level); len])
}

fn packet_of(pt: u8, ssrc: u32, ts: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, pt, 0, 0];
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

fn leg_recorder(options: &RecordOptions, t0: Instant) -> (Recorder, Receiver<AudioFrame>) {
    let (tx, rx) = sync_channel(options.queue_frames);
    (Recorder::new(RecordingId(1), Some(0), options, tx, t0), rx)
}

fn levels(rx: &Receiver<AudioFrame>) -> Vec<i16> {
    rx.try_iter().map(|f| f.samples[80]).collect()
}

#[test]
fn frames_follow_the_packets_and_gaps_are_filled_with_silence() {
    let t0 = Instant::now();
    let (mut r, rx) = leg_recorder(&RecordOptions::default(), t0);
    r.push(0, &packet(7, 1000, 1000, 160), t0);
    r.push(1, &packet(7, 1160, 5000, 160), t0); // another leg: not this recording
    r.push(0, &packet(7, 1160, 2000, 160), t0);
    // Two packets lost.
    r.push(0, &packet(7, 1640, 4000, 160), t0);
    let got = levels(&rx);
    assert_eq!(got.len(), 5);
    assert!((900..1100).contains(&got[0]) && (1900..2100).contains(&got[1]));
    assert_eq!(&got[2..4], &[0, 0]);
    assert!((3800..4200).contains(&got[4]));
    let stats = r.finish(t0);
    assert_eq!((stats.frames_delivered, stats.gap_samples), (5, 320));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn packets_of_other_lengths_fill_frames_and_the_rest_is_flushed() {
    let t0 = Instant::now();
    let (mut r, rx) = leg_recorder(&RecordOptions::default(), t0);
    // 30 ms packets: two make three frames.
    r.push(0, &packet(7, 0, 1000, 240), t0);
    assert_eq!(levels(&rx).len(), 1);
    r.push(0, &packet(7, 240, 1000, 240), t0);
    assert_eq!(levels(&rx).len(), 2);
    r.push(0, &packet(7, 480, 1000, 80), t0);
    assert_eq!(r.finish(t0).frames_delivered, 4);
    let last = rx.try_recv().unwrap();
    assert!(last.samples[79] > 900 && last.samples[80] == 0, "padded");
}

#[test]
fn late_duplicate_and_foreign_packets_are_counted_not_recorded() {
    let t0 = Instant::now();
    let (mut r, rx) = leg_recorder(&RecordOptions::default(), t0);
    r.push(0, &packet(7, u32::MAX - 159, 1000, 160), t0);
    r.push(0, &packet(7, 0, 1000, 160), t0); // the timestamp wraps: no gap
    r.push(0, &packet(7, 0, 1000, 160), t0); // duplicate
    r.push(0, &packet(7, u32::MAX - 159, 1000, 160), t0); // reordered
    r.push(0, &packet_of(101, 7, 160, &[1, 0, 0, 160]), t0); // a telephone-event
    r.push(0, &packet_of(0, 7, 160, &[]), t0); // no payload
    r.push(0, &packet_of(9, 7, 160, &[0; 160]), t0); // G.722
                                                     // A new source, and a timestamp far ahead: recorded on without a gap.
    r.push(0, &packet(8, 50_000, 1000, 160), t0);
    r.push(0, &packet(8, 900_000, 1000, 160), t0);
    let stats = r.finish(t0);
    assert_eq!(
        (
            stats.frames_delivered,
            stats.packets_late,
            stats.packets_ignored
        ),
        (4, 2, 3)
    );
    assert_eq!(stats.gap_samples, 0);
    assert_eq!(rx.try_iter().count(), 4);
}

#[test]
fn a_full_channel_drops_and_counts() {
    let t0 = Instant::now();
    let options = RecordOptions {
        queue_frames: 2,
        ..RecordOptions::default()
    };
    let (mut r, rx) = leg_recorder(&options, t0);
    for n in 0..5 {
        r.push(0, &packet(7, n * 160, 1000, 160), t0);
    }
    drop(rx);
    r.push(0, &packet(7, 800, 1000, 160), t0);
    let stats = r.finish(t0);
    assert_eq!((stats.frames_delivered, stats.frames_dropped), (2, 4));
}

#[test]
fn silence_is_reported_once_per_silent_spell() {
    let t0 = Instant::now();
    let options = RecordOptions {
        silence_after: Some(Duration::from_secs(2)),
        ..RecordOptions::default()
    };
    let (mut r, _rx) = leg_recorder(&options, t0);
    assert_eq!(r.next_due(), Some(t0 + 2000 * MS));
    // Quiet noise (-50 dBFS or so) is silence; speech-like levels are sound.
    r.push(0, &packet(7, 0, 100, 160), t0 + 1500 * MS);
    assert!(!r.on_timer(t0 + 1999 * MS));
    r.push(0, &packet(7, 160, 3000, 160), t0 + 1999 * MS);
    assert!(!r.on_timer(t0 + 2000 * MS), "sound just now");
    assert_eq!(r.next_due(), Some(t0 + 3999 * MS));
    // No packets at all for 2 s is silence too.
    assert!(r.on_timer(t0 + 4000 * MS));
    assert!(!r.on_timer(t0 + 6000 * MS), "once");
    assert!(!r.on_timer(t0 + 9000 * MS));
    r.push(0, &packet(7, 320, -3000, 160), t0 + 9000 * MS);
    assert!(!r.on_timer(t0 + 10_000 * MS));
    assert!(r.on_timer(t0 + 11_000 * MS), "again after sound");
}

#[test]
fn a_zero_silence_time_is_one_frame() {
    let t0 = Instant::now();
    let options = RecordOptions {
        silence_after: Some(Duration::ZERO),
        ..RecordOptions::default()
    };
    let (mut r, _rx) = leg_recorder(&options, t0);
    assert_eq!(r.next_due(), Some(t0 + 20 * MS));
    assert!(r.on_timer(t0 + 20 * MS));
    assert_eq!(r.next_due(), Some(t0 + 40 * MS), "the next check is later");
}

#[test]
fn a_paused_recording_takes_nothing_and_resumes_without_a_gap() {
    let t0 = Instant::now();
    let options = RecordOptions {
        silence_after: Some(Duration::from_secs(1)),
        ..RecordOptions::default()
    };
    let (mut r, rx) = leg_recorder(&options, t0);
    r.push(0, &packet(7, 0, 1000, 160), t0);
    r.pause();
    r.push(0, &packet(7, 160, 1000, 160), t0);
    assert!(!r.on_timer(t0 + 5000 * MS), "no silence while paused");
    assert_eq!(r.next_due(), None);
    r.resume(t0 + 5000 * MS);
    r.push(0, &packet(7, 40_160, 1000, 160), t0 + 5000 * MS);
    assert_eq!(levels(&rx).len(), 2, "no gap for the pause");
    assert!(!r.on_timer(t0 + 5500 * MS));
    assert!(r.on_timer(t0 + 6000 * MS));
}

#[test]
fn a_mixed_recording_sums_both_legs_every_20_ms() {
    let t0 = Instant::now();
    let (tx, rx) = sync_channel(100);
    let mut r = Recorder::new(RecordingId(2), None, &RecordOptions::default(), tx, t0);
    assert_eq!(r.next_due(), Some(t0));
    for n in 0..4 {
        r.push(0, &packet(7, n * 160, 1000, 160), t0);
        r.push(1, &packet(8, n * 160, 2000, 160), t0);
        r.push(2, &packet(9, n * 160, 4000, 160), t0); // an extra leg is not recorded
    }
    r.on_timer(t0 + 30 * MS);
    assert_eq!(r.next_due(), Some(t0 + 40 * MS));
    let got = levels(&rx);
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|&s| (2900..3100).contains(&s)), "{got:?}");
    // A thread 1 s late makes 200 ms of frames and skips the rest.
    r.on_timer(t0 + 1030 * MS);
    assert_eq!(levels(&rx).len(), 10);
    assert_eq!(r.next_due(), Some(t0 + 1040 * MS));
    let stats = r.finish(t0);
    assert_eq!((stats.frames_delivered, stats.frames_dropped), (12, 40));
}
