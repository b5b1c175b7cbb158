//! Every prompt a dialogue can ask for has its English file, in the format the media
//! engine plays (8 kHz mono G.711 µ-law WAV), where the binary looks for it.

use std::path::PathBuf;
use voicemail::dialogue::Prompt;

fn english(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../strowger/assets/prompts/en")
        .join(format!("{name}.wav"))
}

/// (format, channels, sample rate, data bytes) of a WAV file.
fn wav_format(bytes: &[u8]) -> Option<(u16, u16, u32, usize)> {
    if bytes.get(0..4)? != b"RIFF" || bytes.get(8..12)? != b"WAVE" {
        return None;
    }
    let (mut at, mut fmt, mut data) = (12, None, None);
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?) as usize;
        let body = bytes.get(at + 8..(at + 8 + len).min(bytes.len()))?;
        match id {
            b"fmt " => {
                fmt = Some((
                    u16::from_le_bytes(body.get(0..2)?.try_into().ok()?),
                    u16::from_le_bytes(body.get(2..4)?.try_into().ok()?),
                    u32::from_le_bytes(body.get(4..8)?.try_into().ok()?),
                ))
            }
            b"data" => data = Some(body.len()),
            _ => {}
        }
        at += 8 + len + (len & 1);
    }
    let (format, channels, rate) = fmt?;
    Some((format, channels, rate, data?))
}

#[test]
fn every_prompt_has_its_english_file() {
    const MULAW: u16 = 7;
    let mut missing = Vec::new();
    for p in Prompt::ALL {
        let path = english(p.name());
        let Ok(bytes) = std::fs::read(&path) else {
            missing.push(p.name());
            continue;
        };
        let (format, channels, rate, data) =
            wav_format(&bytes).unwrap_or_else(|| panic!("{} is not a WAV file", path.display()));
        assert_eq!(
            (format, channels, rate),
            (MULAW, 1, 8000),
            "{}",
            path.display()
        );
        // At least 0.1 s of sound, at most 15 s: prompts are short phrases.
        assert!(
            (800..=15 * 8000).contains(&data),
            "{}: {data} bytes",
            path.display()
        );
    }
    assert!(
        missing.is_empty(),
        "no file for {missing:?}: add them to crates/strowger/assets/make-prompts.sh and run it"
    );
}
