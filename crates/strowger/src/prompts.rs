//! The spoken prompts built into the binary: every WAV under `assets/prompts/<language>/`
//! (made by `assets/make-prompts.sh`), embedded at build time by `build.rs` and decoded
//! once at start into ready-to-play [`Music`].

use media_engine::Music;
use std::collections::HashMap;
use std::sync::Arc;

include!(concat!(env!("OUT_DIR"), "/prompts.rs"));

/// The language used when a prompt is missing in the caller's.
pub const FALLBACK_LANGUAGE: &str = "en";

/// The WAV bytes of the built-in prompt `name` in `language`, if there is one.
pub fn bytes(language: &str, name: &str) -> Option<&'static [u8]> {
    PROMPTS
        .iter()
        .find(|(l, n, _)| *l == language && *n == name)
        .map(|(_, _, b)| *b)
}

/// Every built-in prompt, by language and name.
#[derive(Debug, Default)]
pub struct PromptLibrary {
    /// By `language/name`.
    by_name: HashMap<String, Arc<Music>>,
}

impl PromptLibrary {
    /// Decodes every embedded prompt. One that does not decode (a broken build) is
    /// logged and left out: callers then hear silence for it, not a crash.
    pub fn load() -> PromptLibrary {
        let mut by_name = HashMap::new();
        for (language, name, bytes) in PROMPTS {
            match Music::from_wav(format!("prompt {language}/{name}"), bytes) {
                Ok(music) => {
                    by_name.insert(format!("{language}/{name}"), Arc::new(music));
                }
                Err(e) => tracing::error!(error = %e, "a built-in prompt does not load"),
            }
        }
        PromptLibrary { by_name }
    }

    /// The prompt `name` in `language`, else in [`FALLBACK_LANGUAGE`].
    pub fn get(&self, language: &str, name: &str) -> Option<Arc<Music>> {
        self.by_name
            .get(&format!("{language}/{name}"))
            .or_else(|| self.by_name.get(&format!("{FALLBACK_LANGUAGE}/{name}")))
            .cloned()
    }

    /// How many prompts loaded.
    pub fn len(&self) -> usize {
        self.by_name.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_voicemail_prompt_is_built_in_and_plays() {
        let library = PromptLibrary::load();
        assert_eq!(library.len(), PROMPTS.len(), "every embedded file decodes");
        for prompt in voicemail::dialogue::Prompt::ALL {
            let music = library
                .get("en", prompt.name())
                .unwrap_or_else(|| panic!("{} is not built in", prompt.name()));
            assert!(music.duration().as_millis() > 50, "{}", prompt.name());
        }
        assert!(library.get("fr", "beep").is_some(), "falls back to English");
        assert!(library.get("en", "no-such-prompt").is_none());
    }
}
