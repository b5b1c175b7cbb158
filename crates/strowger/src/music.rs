//! Music on hold for the binary: the piece built into the program, and the WAV files the
//! configuration names (`system.music_on_hold`, a user's or a hunt group's), loaded when a
//! configuration is applied — by `config apply`/`config check`, which refuse a document
//! whose files do not play, at `serve` start and on reload — and handed to the media engine
//! by the name the configuration gives them.
//!
//! A relative path is taken from the data directory, so that the CLI and the server, run
//! from different working directories, find the same file.

use media_engine::Music;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use store::{Config, FieldError};

/// The built-in piece: 24 s, 8 kHz µ-law, made by `assets/make-hold-music.sh`.
const BUILT_IN: &[u8] = include_bytes!("../assets/hold-music.wav");

/// The call queue's place is said up to this number; past it, without the number.
const SAID_PLACES: usize = 9;

/// What a caller waiting in a queue at `position` hears, in a loop: the group's own
/// `words` (a configured file) or the built-in "All our colleagues are busy.", then, when
/// `say_place`, "You are number three in the queue. Please hold." (past nine, or without
/// the place: "Please hold, you will be connected shortly." after the built-in words),
/// then `music_between` of `music`. `None` when a built-in prompt does not load (a broken
/// build: logged), and the caller then hears the music alone.
pub fn queue_announcement(
    position: usize,
    announcement: &pbx::QueueAnnouncement,
    words: Option<&Music>,
    music: &Music,
) -> Option<Music> {
    // The prompts built into the binary (`crate::prompts`), English for now.
    let load = |name: &str| {
        let bytes = crate::prompts::bytes(crate::prompts::FALLBACK_LANGUAGE, name);
        let music = bytes.map(|b| Music::from_wav(name.to_string(), b));
        match music {
            Some(Ok(m)) => Some(m),
            Some(Err(e)) => {
                tracing::error!(error = %e, "a built-in queue prompt does not load");
                None
            }
            None => {
                tracing::error!(prompt = name, "a queue prompt is not built in");
                None
            }
        }
    };
    let place = announcement.say_place && (1..=SAID_PLACES).contains(&position);
    let mut parts: Vec<Music> = Vec::new();
    match (words, place) {
        (Some(words), true) => {
            parts.push(words.clone());
            parts.push(load("queue-you-are")?);
        }
        (Some(words), false) => parts.push(words.clone()),
        (None, true) => parts.push(load("queue-intro")?),
        (None, false) => parts.push(load("queue-many")?),
    }
    if place {
        parts.push(load(&format!("number-{position}"))?);
        parts.push(load("queue-outro")?);
    }
    let interlude = music.first(announcement.music_between);
    let mut all: Vec<&Music> = parts.iter().collect();
    all.push(&interlude);
    Some(Music::joined(format!("queue position {position}"), &all))
}

/// The music of a configuration, by the names the configuration gives it.
#[derive(Debug, Clone)]
pub struct MusicLibrary {
    system: Option<Arc<Music>>,
    by_name: HashMap<String, Arc<Music>>,
}

/// The library the running server plays from, replaced on reload. Locked only on the
/// signalling task (to start music, to reload), never by a media thread.
pub type SharedMusic = Arc<Mutex<MusicLibrary>>;

/// The built-in piece. The asset is part of the source and a test below loads it, so
/// `None` (logged) would take a broken build; the server then plays no music rather than
/// stop.
pub fn built_in() -> Option<Arc<Music>> {
    match Music::from_wav("built-in", BUILT_IN) {
        Ok(music) => Some(Arc::new(music)),
        Err(e) => {
            tracing::error!(error = %e, "the built-in music on hold does not load");
            None
        }
    }
}

/// Where a configured path points: as is when absolute, else under the data directory.
pub fn resolve(data_dir: &Path, configured: &str) -> PathBuf {
    let path = Path::new(configured);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        data_dir.join(path)
    }
}

impl MusicLibrary {
    /// Loads every music file `config` names. Returns the library (a file that failed is
    /// left out, so its users hear the system's music) and one error per field whose file
    /// does not play, with the field's path.
    pub fn load(config: &Config, data_dir: &Path) -> (MusicLibrary, Vec<FieldError>) {
        let mut by_name: HashMap<String, Arc<Music>> = HashMap::new();
        let mut failed: HashMap<String, String> = HashMap::new();
        let mut errors = Vec::new();
        let mut load = |field: String, name: &str| -> Option<Arc<Music>> {
            if let Some(music) = by_name.get(name) {
                return Some(music.clone());
            }
            let reason = match failed.get(name) {
                Some(reason) => reason.clone(),
                None => match Music::load(&resolve(data_dir, name)) {
                    Ok(music) => {
                        let music = Arc::new(music);
                        by_name.insert(name.to_string(), music.clone());
                        return Some(music);
                    }
                    Err(e) => {
                        let reason = format!("{}: {}", e.file, e.problem);
                        failed.insert(name.to_string(), reason.clone());
                        reason
                    }
                },
            };
            errors.push(FieldError::new(field, reason));
            None
        };
        let system = config
            .system
            .music_on_hold
            .as_deref()
            .and_then(|name| load("system.music_on_hold".into(), name))
            .or_else(built_in);
        for (i, user) in config.users.iter().enumerate() {
            if let Some(name) = &user.music_on_hold {
                load(format!("users[{i}].music_on_hold"), name);
            }
        }
        for (i, group) in config.hunt_groups.iter().enumerate() {
            if let Some(name) = &group.music_on_hold {
                load(format!("hunt_groups[{i}].music_on_hold"), name);
            }
            // A group's queue announcement is a WAV file like its music.
            if let Some(name) = &group.queue_announcement {
                load(format!("hunt_groups[{i}].queue_announcement"), name);
            }
        }
        (MusicLibrary { system, by_name }, errors)
    }

    /// The piece called `name` (a configured path); the system's for `None` or a name
    /// not loaded.
    pub fn get(&self, name: Option<&str>) -> Option<Arc<Music>> {
        name.and_then(|n| self.by_name.get(n))
            .or(self.system.as_ref())
            .cloned()
    }

    /// The file loaded under `name` (a configured path), if it loaded.
    pub fn file(&self, name: &str) -> Option<Arc<Music>> {
        self.by_name.get(name).cloned()
    }

    /// How many files are loaded (the built-in piece not counted).
    pub fn files(&self) -> usize {
        self.by_name.len()
    }
}

/// The configured music, by user extension and hunt-group number, for call control.
pub fn choices(config: &Config) -> Vec<(String, String)> {
    let users = config
        .users
        .iter()
        .filter_map(|u| Some((u.extension.clone()?, u.music_on_hold.clone()?)));
    let groups = config
        .hunt_groups
        .iter()
        .filter_map(|g| Some((g.number.clone(), g.music_on_hold.clone()?)));
    users.chain(groups).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn queue_announcements_say_the_place_then_play_music() {
        let music = built_in().expect("the built-in music");
        let usual = pbx::QueueAnnouncement::default();
        let said = |place, a: &pbx::QueueAnnouncement, words: Option<&Music>| {
            queue_announcement(place, a, words, &music).expect("the prompts load")
        };
        let third = said(3, &usual, None);
        let tenth = said(10, &usual, None);
        assert_eq!(third.name(), "queue position 3");
        // Intro, number and outro are a few seconds of speech before 20 s of music.
        let speech = third.duration() - Duration::from_secs(20);
        assert!(
            speech > Duration::from_secs(3) && speech < Duration::from_secs(8),
            "{speech:?}"
        );
        assert!(
            tenth.duration() > Duration::from_secs(22),
            "{:?}",
            tenth.duration()
        );
        assert_ne!(
            said(1, &usual, None).duration(),
            said(7, &usual, None).duration()
        );

        // A group's own words (here 3 s of the music standing in for them) replace the
        // built-in intro; without the place they are all that is said; the music between
        // is the group's.
        let words = music.first(Duration::from_secs(3));
        let own = pbx::QueueAnnouncement {
            words: Some("w.wav".into()),
            say_place: false,
            music_between: Duration::from_secs(10),
        };
        assert_eq!(
            said(3, &own, Some(&words)).duration(),
            Duration::from_secs(13)
        );
        let with_place = pbx::QueueAnnouncement {
            say_place: true,
            ..own.clone()
        };
        let longer = said(3, &with_place, Some(&words)).duration();
        assert!(
            longer > Duration::from_secs(14) && longer < Duration::from_secs(19),
            "words, \"you are number three in the queue\", music: {longer:?}"
        );
        // Without its own words and without the place: "please hold" and the music.
        let plain = pbx::QueueAnnouncement {
            say_place: false,
            ..usual.clone()
        };
        let short = said(3, &plain, None).duration() - Duration::from_secs(20);
        assert!(short > Duration::from_secs(2), "{short:?}");
    }

    #[test]
    fn the_built_in_piece_loads_and_is_long_enough_to_loop_gently() {
        let music = Music::from_wav("built-in", BUILT_IN).expect("the asset is a valid WAV");
        assert!(music.duration() >= Duration::from_secs(20), "{music:?}");
        assert_eq!(built_in().unwrap().name(), "built-in");
    }

    #[test]
    fn files_load_once_and_errors_name_the_field() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("moh")).unwrap();
        std::fs::write(dir.path().join("moh/a.wav"), BUILT_IN).unwrap();
        std::fs::write(dir.path().join("moh/bad.wav"), b"not a wav").unwrap();
        let mut config = Config::default();
        config.system.music_on_hold = Some("moh/a.wav".into());
        let mut alice = store::User::new("alice", "", Some("201"));
        alice.music_on_hold = Some(dir.path().join("moh/a.wav").display().to_string());
        let mut bob = store::User::new("bob", "", Some("202"));
        bob.music_on_hold = Some("moh/bad.wav".into());
        let mut carol = store::User::new("carol", "", None);
        carol.music_on_hold = Some("moh/missing.wav".into());
        config.users = vec![alice, bob, carol];
        let mut sales = store::HuntGroup::new("sales", "300", &["201"]);
        sales.music_on_hold = Some("moh/bad.wav".into());
        config.hunt_groups = vec![sales];

        let (library, errors) = MusicLibrary::load(&config, dir.path());
        assert_eq!(
            library.files(),
            2,
            "a relative and an absolute path to one file"
        );
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(text.len(), 3, "{text:#?}");
        let bad = dir.path().join("moh/bad.wav").display().to_string();
        assert_eq!(
            text[0],
            format!("users[1].music_on_hold: {bad}: not a WAV file (no RIFF/WAVE header)")
        );
        assert!(
            text[1].starts_with("users[2].music_on_hold: "),
            "{}",
            text[1]
        );
        assert!(text[1].contains("cannot read it"), "{}", text[1]);
        assert!(
            text[2].starts_with("hunt_groups[0].music_on_hold: "),
            "{}",
            text[2]
        );
        // A failed file plays the system's music; unknown names too.
        let name = |m: Option<Arc<Music>>| m.unwrap().name().to_string();
        assert_eq!(
            name(library.get(Some("moh/bad.wav"))),
            name(library.get(None))
        );
        assert!(name(library.get(None)).ends_with("moh/a.wav"));
        assert_eq!(
            choices(&config),
            [
                (
                    "201".to_string(),
                    dir.path().join("moh/a.wav").display().to_string()
                ),
                ("202".to_string(), "moh/bad.wav".to_string()),
                ("300".to_string(), "moh/bad.wav".to_string()),
            ]
        );
    }

    #[test]
    fn without_configured_music_the_built_in_plays() {
        let (library, errors) = MusicLibrary::load(&Config::default(), Path::new("/nowhere"));
        assert!(errors.is_empty());
        assert_eq!(library.get(None).unwrap().name(), "built-in");
        assert_eq!(library.get(Some("x")).unwrap().name(), "built-in");
        assert_eq!(
            resolve(Path::new("/d"), "/abs.wav"),
            PathBuf::from("/abs.wav")
        );
        assert_eq!(
            resolve(Path::new("/d"), "m/x.wav"),
            PathBuf::from("/d/m/x.wav")
        );
    }
}
