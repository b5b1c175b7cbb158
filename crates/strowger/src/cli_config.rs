//! The management subcommands: they act on the stored configuration and tell the running
//! server (if any) to take the change at once.

use crate::control::{self, Command};
use crate::music::MusicLibrary;
use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use store::{Config, ConfigErrors, ImportOptions, Store};

/// Who is making the change, for the audit trail: the login name, else the user id (CI
/// runners and service managers often set no `$USER`).
pub(crate) fn actor() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| {
            std::fs::read_to_string("/proc/self/status")
                .ok()
                .and_then(|s| {
                    s.lines()
                        .find(|l| l.starts_with("Uid:"))
                        .and_then(|l| l.split_whitespace().nth(1).map(|u| format!("uid {u}")))
                })
                .unwrap_or_else(|| "unknown".into())
        })
}

pub(crate) fn open_existing(data_dir: &Path) -> anyhow::Result<(Store, Config)> {
    if !data_dir.exists() {
        bail!(
            "no data directory at {} (start `strowger serve` once, or pass --data-dir)",
            data_dir.display()
        );
    }
    let store = Store::open(data_dir)?;
    let config = match store.current()? {
        Some((_, c)) => c,
        None => Config::default(),
    };
    Ok((store, config))
}

/// `config export`.
pub fn export(data_dir: &Path, output: Option<PathBuf>) -> anyhow::Result<()> {
    let (_, config) = open_existing(data_dir)?;
    let text = config.to_toml();
    match output {
        Some(path) => write_atomic(&path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(())
}

/// Reads and validates a document; the music-on-hold files it names must play (relative
/// paths from `data_dir`, as the server reads them).
fn validate(
    data_dir: &Path,
    store_config: &Config,
    file: &Path,
) -> anyhow::Result<Result<Config, String>> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let checked = Config::from_toml(&text, Some(store_config)).and_then(|config| {
        let (_, mut errors) = MusicLibrary::load(&config, data_dir);
        errors.extend(crate::flows::unknown_prompts(&config));
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigErrors(errors))
        }
    });
    Ok(checked.map_err(|e| {
        format!(
            "{} is not valid ({} error{}):\n{e}",
            file.display(),
            e.len(),
            if e.len() == 1 { "" } else { "s" }
        )
    }))
}

/// `config check FILE`.
pub fn check(data_dir: &Path, file: &Path) -> anyhow::Result<()> {
    let current = if data_dir.exists() {
        open_existing(data_dir)?.1
    } else {
        Config::default()
    };
    match validate(data_dir, &current, file)? {
        Ok(c) => {
            println!(
                "{} is valid: {} extensions, {} users, {} administrators",
                file.display(),
                c.extensions.len(),
                c.users.len(),
                c.admins.len()
            );
            Ok(())
        }
        Err(msg) => bail!("{msg}"),
    }
}

/// `config apply FILE`.
pub fn apply(data_dir: &Path, file: &Path) -> anyhow::Result<()> {
    let (mut store, current) = open_existing(data_dir)?;
    let config = match validate(data_dir, &current, file)? {
        Ok(c) => c,
        Err(msg) => bail!("{msg}\nnothing was changed; the configuration in force stays"),
    };
    let version = store.apply(
        &config,
        &actor(),
        &format!("config apply {}", file.display()),
    )?;
    println!("applied configuration version {version}");
    tell_server(data_dir)
}

/// `import extensions FILE.csv`.
pub fn import_extensions(data_dir: &Path, file: &Path, allow_weak: bool) -> anyhow::Result<()> {
    let (mut store, current) = open_existing(data_dir)?;
    let reader =
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let options = ImportOptions {
        allow_weak_passwords: allow_weak,
    };
    let config = match store::import_extensions_csv(reader, &current, options) {
        Ok(c) => c,
        Err(e) => bail!(
            "{} was not imported ({} error{}):\n{e}\nnothing was changed",
            file.display(),
            e.len(),
            if e.len() == 1 { "" } else { "s" }
        ),
    };
    let added = config.extensions.len() - current.extensions.len();
    let source = if allow_weak {
        format!(
            "import extensions {} (weak passwords allowed)",
            file.display()
        )
    } else {
        format!("import extensions {}", file.display())
    };
    let version = store.apply(&config, &actor(), &source)?;
    println!("imported {added} extensions; configuration version {version}");
    tell_server(data_dir)
}

fn tell_server(data_dir: &Path) -> anyhow::Result<()> {
    match control::send(data_dir, &Command::Reload)? {
        Some(answer) => {
            print!("running server {answer}");
            if answer.starts_with("error") {
                bail!("the running server did not take the change");
            }
        }
        None => println!(
            "no server is running on this data directory; the change applies at its next start"
        ),
    }
    Ok(())
}

/// `status`.
pub fn status(data_dir: &Path) -> anyhow::Result<()> {
    ask_server(data_dir, &Command::Status)
}

/// `calls`: live calls from the running server, then the latest records from the store.
pub fn calls(data_dir: &Path, history: usize) -> anyhow::Result<()> {
    match control::send(data_dir, &Command::Calls)? {
        Some(answer) => print!("{answer}"),
        None if history == 0 => bail!(
            "no server is running on data directory {}",
            data_dir.display()
        ),
        None => println!("no server is running; call records:"),
    }
    if history > 0 {
        let (store, _) = open_existing(data_dir)?;
        println!("latest calls:");
        for r in store.call_records(history)? {
            let talk = r
                .answered_ms
                .map(|a| format!("{} s", r.ended_ms.saturating_sub(a) / 1000))
                .unwrap_or_else(|| "-".into());
            let account = r
                .account_code
                .as_deref()
                .map(|a| format!("  account {a}"))
                .unwrap_or_default();
            println!(
                "  {}  {} -> {}  {}  talk {talk}  {}{account}",
                utc(r.started_ms / 1000),
                r.caller,
                r.callee,
                r.status,
                r.cause
            );
            if !r.media.is_empty() {
                println!("      media {}", r.media);
            }
        }
    }
    Ok(())
}

/// `trace on|off`.
pub fn trace(data_dir: &Path, on: bool) -> anyhow::Result<()> {
    ask_server(data_dir, &Command::Trace(on))
}

/// Sends a command that only a running server can answer, and prints the answer.
fn ask_server(data_dir: &Path, cmd: &Command) -> anyhow::Result<()> {
    match control::send(data_dir, cmd)? {
        Some(answer) => {
            print!("{answer}");
            Ok(())
        }
        None => bail!(
            "no server is running on data directory {}",
            data_dir.display()
        ),
    }
}

/// `audit`.
pub fn audit(data_dir: &Path, limit: usize) -> anyhow::Result<()> {
    let (store, _) = open_existing(data_dir)?;
    for e in store.audit(limit)? {
        println!(
            "{}  {:<10} {:<30} {:<18} {}",
            utc(e.at),
            e.actor,
            e.source,
            e.action,
            e.detail
        );
    }
    Ok(())
}

/// Writes a file via a temporary file and a rename: a crash never leaves half a file.
fn write_atomic(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("tmp~");
    let mut f =
        std::fs::File::create(&tmp).with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SSZ` (civil-from-days, proleptic Gregorian).
fn utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00Z");
        assert_eq!(super::utc(1_795_000_000), "2026-11-18 11:06:40Z");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00:00Z");
    }
}
