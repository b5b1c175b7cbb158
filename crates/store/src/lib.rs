//! The configuration of a Strowger system: its typed model, the validation rules, the TOML
//! document it is exported and applied as, the SQLite store that keeps every applied version
//! with an audit trail, and CSV import of extensions.
//!
//! What lives elsewhere: call control (`pbx`) reads a [`Config`] but nothing here knows SIP,
//! sockets or the runtime; registrations are not stored here.
//!
//! # The document
//!
//! One TOML document configures the whole system; every section is optional.
//!
//! ```toml
//! [system]
//! name = "Strowger"
//! realm = "strowger"        # SIP digest realm; extension HA1 hashes are bound to it
//!
//! [registrar]
//! min_expires = 60          # 1..=3600; shorter requests get 423
//! max_expires = 3600        # min_expires..=86400
//! default_expires = 3600    # min_expires..=max_expires
//! max_contacts = 3          # 1..=20
//!
//! [calls]                   # session timers (RFC 4028)
//! session_expires_secs = 1800   # asked of callers that name none; 0 (no timer for
//!                               # them) or min_se_secs..=86400
//! min_se_secs = 90              # 90..=86400; shorter intervals get 422
//!
//! [security]
//! auth_failures_before_block = 10   # 1..=1000
//! failure_window_secs = 60          # 1..=86400
//! block_secs = 300                  # 0 (no blocking)..=604800
//! nonce_lifetime_secs = 300         # 10..=3600
//! slow_down_after = 3               # 0 (no delay)..=1000
//! digest_algorithms = ["MD5"]       # "MD5", "SHA-256" (any case); challenges in this order
//!                                   # ["SHA-256", "MD5"] lets capable phones use SHA-256;
//!                                   # MD5 alone by default, as some clients fail otherwise
//!
//! [[users]]
//! name = "alice"            # [a-z0-9._-]{1,32}, unique
//! full_name = "Alice Example"
//! extension = "201"         # optional; an existing extension, one user per extension
//!
//! [[extensions]]
//! number = "201"            # 2..=15 digits, unique
//! password = "..."          # input only: 12+ characters, 3 of lower/upper/digit/symbol
//! # or, as exported: ha1_md5 = "<32 hex>" and ha1_sha256 = "<64 hex>"
//! direct_media = false
//!
//! [[admins]]
//! name = "admin"
//! password = "..."          # input only; exported as password_hash = "$argon2id$..."
//! ```
//!
//! [`Config::from_toml`] reports every problem with its path; [`Config::to_toml`] exports
//! without plain passwords; [`Store`] keeps versions and the audit trail;
//! [`import_extensions_csv`] adds extensions in bulk.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod audit;
mod cdr;
mod csv_import;
mod db;
mod defaults;
mod diff;
mod document;
mod error;
mod export;
mod migrations;
mod model;
pub mod secrets;
pub mod validate;
mod walker;

pub use audit::AuditEntry;
pub use cdr::CallRecordRow;
pub use csv_import::{import_extensions_csv, ImportOptions};
pub use db::{Store, VersionInfo, DATABASE_FILE};
pub use defaults::DefaultCredentials;
pub use diff::changes;
pub use error::{ConfigErrors, FieldError, StoreError};
pub use model::{
    Admin, CallSettings, Config, Credentials, DigestAlgorithmName, Extension, RegistrarSettings,
    SecuritySettings, SystemSettings, User,
};
