//! The nonce key: 32 random bytes kept in `nonce.key` in the data directory (mode 0600), so
//! that nonces handed out before a restart still verify after it.

use anyhow::Context;
use sip::auth::NonceSecret;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Reads the key, or creates it (written to a temporary file and renamed, so a crash never
/// leaves half a key).
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<NonceSecret> {
    let path = data_dir.join("nonce.key");
    if let Ok(bytes) = std::fs::read(&path) {
        if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
            return Ok(NonceSecret::from_bytes(key));
        }
        tracing::warn!(path = %path.display(), "nonce key damaged; making a new one");
    }
    let key: [u8; 32] = rand::random();
    let tmp = data_dir.join("nonce.key.tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("writing {}", tmp.display()))?;
    f.write_all(&key)?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(NonceSecret::from_bytes(key))
}
