//! Stateless nonces: `hex(timestamp ‖ salt ‖ HMAC-SHA-256(key, label ‖ timestamp ‖ salt ‖
//! realm)[..16])`.
//!
//! Why stateless: a registrar that remembered every nonce it handed out would grow with
//! every unanswered challenge (a trivial memory attack) and could not share nonces between
//! nodes. The HMAC proves we issued the nonce, for this realm; the timestamp lets us expire
//! it. Hex keeps the nonce a plain token for any phone's parser. The MAC is cut to 128 bits:
//! a forger gets one guess per request, so 2^-128 is ample and the nonce stays short.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;

/// Domain separation: this key must never produce a MAC that means something elsewhere.
const LABEL: &[u8] = b"strowger sip digest nonce v1\0";
const SALT_LEN: usize = 8;
const MAC_LEN: usize = 16;
/// Bytes in a decoded nonce: timestamp (8), salt, truncated MAC.
const NONCE_LEN: usize = 8 + SALT_LEN + MAC_LEN;

/// The key that signs nonces. Keep it for the life of the node (and share it between nodes
/// that should accept each other's nonces); a new key invalidates every outstanding nonce,
/// which only costs phones one extra challenge.
#[derive(Clone)]
pub struct NonceSecret {
    key: [u8; 32],
}

impl NonceSecret {
    /// A fresh key from the operating system's random source.
    pub fn random() -> NonceSecret {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        NonceSecret { key }
    }

    /// A key loaded from storage (or fixed, in tests).
    pub fn from_bytes(key: [u8; 32]) -> NonceSecret {
        NonceSecret { key }
    }

    /// The key, to persist it.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.key
    }

    fn mac(&self, parts: &[&[u8]]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail; the fallback only exists to
        // avoid a panic path and yields a MAC that never verifies anything issued.
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.key)
            .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
        for p in parts {
            mac.update(p);
        }
        mac
    }

    /// A new nonce for `realm` issued at `now_unix_secs`, with `salt` making it unique.
    pub(super) fn issue(&self, now_unix_secs: u64, salt: [u8; SALT_LEN], realm: &str) -> String {
        let ts = now_unix_secs.to_be_bytes();
        let tag = self
            .mac(&[LABEL, &ts, &salt, realm.as_bytes()])
            .finalize()
            .into_bytes();
        let mut raw = [0u8; NONCE_LEN];
        raw[..8].copy_from_slice(&ts);
        raw[8..8 + SALT_LEN].copy_from_slice(&salt);
        raw[8 + SALT_LEN..].copy_from_slice(&tag[..MAC_LEN]);
        hex::encode(raw)
    }

    /// A nonce with a random salt.
    pub(super) fn issue_random(&self, now_unix_secs: u64, realm: &str) -> String {
        let mut salt = [0u8; SALT_LEN];
        rand::thread_rng().fill_bytes(&mut salt);
        self.issue(now_unix_secs, salt, realm)
    }

    /// The issue time of a nonce we made for `realm`; `None` if we did not make it.
    pub(super) fn check(&self, nonce: &str, realm: &str) -> Option<u64> {
        if nonce.len() != NONCE_LEN * 2 {
            return None;
        }
        let mut raw = [0u8; NONCE_LEN];
        hex::decode_to_slice(nonce, &mut raw).ok()?;
        let (ts, rest) = raw.split_at(8);
        let (salt, tag) = rest.split_at(SALT_LEN);
        // verify_truncated_left compares in constant time.
        self.mac(&[LABEL, ts, salt, realm.as_bytes()])
            .verify_truncated_left(tag)
            .ok()?;
        let mut ts_bytes = [0u8; 8];
        ts_bytes.copy_from_slice(ts);
        Some(u64::from_be_bytes(ts_bytes))
    }

    /// A per-user stand-in HA1 for unknown users, so that they cost the same work as known
    /// ones and fail in the same way. Derived from the key, it is stable for a user (a
    /// prober sees no difference between repeated attempts) and unguessable.
    pub(super) fn decoy_ha1(&self, realm: &str, username: &str, hex_len: usize) -> String {
        let tag = self
            .mac(&[b"decoy ha1\0", realm.as_bytes(), b"\0", username.as_bytes()])
            .finalize()
            .into_bytes();
        let mut out = hex::encode(tag);
        out.truncate(hex_len);
        out
    }
}

impl fmt::Debug for NonceSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key: Debug output ends up in logs.
        f.write_str("NonceSecret(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> NonceSecret {
        NonceSecret::from_bytes([7; 32])
    }

    #[test]
    fn issued_nonce_checks_and_carries_its_time() {
        let n = secret().issue(1_700_000_000, [1; SALT_LEN], "pbx");
        assert_eq!(n.len(), NONCE_LEN * 2);
        assert!(n.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(secret().check(&n, "pbx"), Some(1_700_000_000));
    }

    #[test]
    fn nonce_is_bound_to_key_and_realm() {
        let n = secret().issue(5, [1; SALT_LEN], "pbx");
        assert_eq!(secret().check(&n, "other"), None);
        assert_eq!(NonceSecret::from_bytes([8; 32]).check(&n, "pbx"), None);
    }

    #[test]
    fn tampered_nonces_fail() {
        let n = secret().issue(5, [1; SALT_LEN], "pbx");
        // Move the timestamp forward: the MAC no longer matches.
        let mut forged = n.clone().into_bytes();
        forged[15] = if forged[15] == b'5' { b'6' } else { b'5' };
        let forged = String::from_utf8(forged).unwrap();
        assert_eq!(secret().check(&forged, "pbx"), None);
        assert_eq!(secret().check(&n[..n.len() - 2], "pbx"), None);
        assert_eq!(secret().check("", "pbx"), None);
        assert_eq!(secret().check(&"zz".repeat(NONCE_LEN), "pbx"), None);
        assert_eq!(secret().check(&"é".repeat(NONCE_LEN), "pbx"), None);
    }

    #[test]
    fn random_salts_differ() {
        let s = secret();
        assert_ne!(s.issue_random(1, "pbx"), s.issue_random(1, "pbx"));
        assert_ne!(
            NonceSecret::random().as_bytes(),
            NonceSecret::random().as_bytes()
        );
    }

    #[test]
    fn decoy_is_stable_and_sized() {
        let s = secret();
        assert_eq!(s.decoy_ha1("pbx", "bob", 32), s.decoy_ha1("pbx", "bob", 32));
        assert_ne!(s.decoy_ha1("pbx", "bob", 32), s.decoy_ha1("pbx", "eve", 32));
        assert_eq!(s.decoy_ha1("pbx", "bob", 64).len(), 64);
    }

    #[test]
    fn debug_hides_key() {
        assert_eq!(format!("{:?}", secret()), "NonceSecret(..)");
    }
}
