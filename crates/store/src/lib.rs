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
//! timezone = "Europe/London"   # optional IANA name time profiles are read in; without
//!                           # it, the machine's own time zone
//! music_on_hold = "moh/office.wav"   # optional: what held parties hear (default: the
//!                           # music built into the program); a WAV file, 8 kHz mono,
//!                           # 16-bit PCM or G.711 µ-law/A-law, at most 10 minutes; a
//!                           # relative path is taken from the data directory; the file
//!                           # must load when the document is applied
//!
//! [system.smtp]             # optional: the mail server voicemail emails are sent through
//! server = "mail.example.com"   # a host name or an IP address
//! port = 25                 # 1..=65535
//! from = "voicemail@example.com"   # the sender of every email
//! starttls = false          # true: STARTTLS required, the certificate checked against the
//!                           # machine's trusted roots; false: plain SMTP (a local relay)
//! username = "pbx"          # optional, set together with password: SMTP authentication
//! password = "..."          # kept and exported as given: the server must be sent it
//!
//! [registrar]
//! min_expires = 60          # 1..=3600; shorter requests get 423
//! max_expires = 3600        # min_expires..=86400
//! default_expires = 3600    # min_expires..=max_expires
//! max_contacts = 3          # 1..=20
//!
//! [calls]                   # session timers (RFC 4028), call park
//! session_expires_secs = 1800   # asked of callers that name none; 0 (no timer for
//!                               # them) or min_se_secs..=86400
//! min_se_secs = 90              # 90..=86400; shorter intervals get 422
//! park_timeout_secs = 120       # 10..=3600; then a parked call rings its parker
//! record_keys = "*1"            # pressed during a call (RFC 4733): start/stop recording
//!                               # it into the presser's mailbox; 2..=8 of 0-9 * #, or ""
//!
//! [voicemail]               # the channel pool of mailboxes, auto attendants, recordings
//! channels = 250            # 1..=10000; a caller who finds none gets 486, a recording
//!                           # that finds none is not made (logged)
//! reserve_mailbox = 0       # channels only that function may take; each function uses
//! reserve_attendant = 0     # its own first, then the unreserved rest; the three add up
//! reserve_recording = 0     # to at most channels
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
//! [dial_plan]               # how dialled numbers are told apart; defaults shown
//! emergency = ["112", "999", "911"]   # always allowed, whatever the rights; 2..=6 digits,
//!                           # at least one, none an extension or hunt group number
//! # external_prefix = "9"   # optional outside-line prefix (1-2 digits), stripped first;
//!                           # then no extension or hunt group number may begin with it
//! international_prefix = "00"   # 1..=4 digits
//! national_prefix = "0"     # 1..=4 digits, neither equal to nor beginning with the above
//! # country_code = "44"     # optional: "+44..." is national, other "+" numbers international
//! premium = ["09"]          # national numbers beginning so are premium rate
//! local_min_digits = 6      # 2..=15: longer numbers without a prefix are local
//! # Resolution order: emergency numbers, short codes, extensions, hunt groups, then
//! # international, premium, national, local; anything else is unassigned.
//!
//! [short_codes]             # code = feature; without the section, the default set
//! "*17" = "voicemail_collect"   # (default_short_codes); an empty section: none at all
//! "*14*N#" = "forward_unconditional_on"   # N: the digits the caller dials there
//! # A code is * or # then 0-9 * # with at most one N; features taking a number (see
//! # ShortCodeFeature) need the N, the others must not have one; no code's fixed start
//! # may be a prefix of another's.
//!
//! [[users]]
//! name = "alice"            # [a-z0-9._-]{1,32}, unique
//! full_name = "Alice Example"
//! extension = "201"         # optional; an existing extension, one user per extension
//! login_code = "1234"       # optional, 4..=15 digits: hot-desk login elsewhere (needs
//!                           # extension, the number logged in as)
//! hot_desk_at = "210"       # set by the hot-desk login short code: the extension the
//!                           # user is logged in on (one user per desk); absent at home
//! dnd = false               # do not disturb
//! dnd_exceptions = ["203"]  # callers that still ring through; 2..=15 digits each
//! call_waiting = true       # a second call rings during a call
//! can_intrude = false       # may listen in on / join others' calls (*39*N#, *40*N#)
//! cannot_be_intruded = true # nobody may listen in on / join this user's calls
//! voicemail = true          # a mailbox takes unanswered, busy and DND calls
//! voicemail_trusted = true  # collecting (*17) from the own extension needs no PIN
//! voicemail_email = "alice@example.com"   # optional: where voicemail emails go
//! record_calls = false      # record every answered call of the user into its mailbox
//! voicemail_email_mode = "off"   # (default) | notify (who, when, how long) | copy (the
//!                           # WAV attached) | forward (attached, and removed from the
//!                           # mailbox once sent); all but off need voicemail_email and
//!                           # [system.smtp]; failed sends are retried, never dropped
//! rights = ["internal", "local", "national", "international"]   # the default; also
//!                           # "premium"; emergency numbers are always allowed; an
//!                           # extension without a user may call internal numbers only
//! music_on_hold = "moh/alice.wav"   # optional: what a party this user holds hears
//!                           # (as system.music_on_hold; default: the system's)
//! [users.forward]           # optional; targets are dialable numbers, internal or
//! unconditional = "202"     # external: 2..=20 of 0-9 * # with an optional leading +,
//! busy = "300"              # never the user's own extension
//! no_answer = "203"
//! no_answer_secs = 15       # 5..=300
//! follow_me = "205"         # calls ring there instead (the user is at another desk)
//!
//! [[extensions]]
//! number = "201"            # 2..=15 digits, unique
//! password = "..."          # input only: 12+ characters, 3 of lower/upper/digit/symbol
//! # or, as exported: ha1_md5 = "<32 hex>" and ha1_sha256 = "<64 hex>"
//! direct_media = false
//!
//! [[time_profiles]]
//! name = "office-hours"     # [a-z0-9._-]{1,32}, unique
//! [[time_profiles.weekly]]
//! days = ["mon", "tue", "wed", "thu", "fri"]   # mon..sun, at least one, none twice
//! start = "08:30"           # HH:MM; intervals are start included, end excluded,
//! end = "17:30"             # start < end, "24:00" ends the day; no crossing midnight
//! [[time_profiles.dates]]   # overrides the weekly intervals on a date
//! date = "2026-12-25"       # YYYY-MM-DD
//! start = "00:00"           # default "00:00"
//! end = "24:00"             # default "24:00"
//! active = false            # false: a holiday; true (default): an extra window
//!
//! [[hunt_groups]]
//! name = "sales"            # [a-z0-9._-]{1,32}, unique
//! number = "300"            # 2..=15 digits; no extension or other group has it
//! mode = "collective"       # (default) | sequential | rotary | longest_waiting
//! members = ["201", "202"]  # existing extensions, at least one, none twice
//! no_answer_secs = 15       # 5..=300, per member in the one-at-a-time modes
//! queue = true              # callers wait when every member is busy
//! queue_limit = 10          # 0..=1000
//! overflow_secs = 60        # optional, 5..=3600; set together with overflow_to
//! overflow_to = "301"       # a dialable number, not the group's own
//! time_profile = "office-hours"   # optional: in service only while it is active
//! night_service_to = "203"  # optional: where calls go while out of service
//! in_service = true         # false: night service (also set by short code)
//! music_on_hold = "moh/sales.wav"   # optional: what a caller to the group hears when
//!                           # the member who answered holds it (default: the member's,
//!                           # else the system's)
//! record_calls = false      # record calls answered through the group, into the
//!                           # group's mailbox (else the answering member's)
//! voicemail = false         # a mailbox on the group's number: unanswered, busy and
//!                           # out-of-service calls leave messages there
//! voicemail_secs = 45       # 5..=3600: unanswered (ringing or queued) this long
//! voicemail_email = "sales@example.com"   # optional, as users'
//! voicemail_email_mode = "off"            # off | notify | copy | forward
//! queue_announcement = "sounds/sales-busy.wav"   # optional, a WAV as music_on_hold:
//!                           # said to waiting callers instead of "all our colleagues..."
//! queue_announce_place = true     # "you are number 2 in the queue"
//! queue_announce_every_secs = 20  # 5..=600 s of music between announcements
//!
//! [[call_flows]]            # an auto attendant (see CallFlow for every action)
//! name = "reception"        # [a-z0-9._-]{1,32}, unique
//! number = "800"            # optional, 2..=15 digits; no extension, group or flow has it
//! start = "menu"            # the first step
//! [[call_flows.steps]]
//! name = "menu"             # [a-z0-9._-]{1,32}, unique in the flow
//! action = "menu"           # play | menu | transfer | leave_mail | get_mail |
//!                           # time_condition | set | branch | hang_up
//! say = ["attendant-welcome"]   # built-in prompt names or absolute .wav paths
//! choices = { "0" = "operator" }  # key to step
//! dial_extensions = true    # the caller may dial an internal number
//! [[call_flows.steps]]
//! name = "operator"
//! action = "transfer"
//! to = "201"                # a dialable number
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
mod call_flow;
mod cdr;
mod csv_import;
mod db;
mod defaults;
mod dial_plan;
mod diff;
mod diff_features;
mod document;
mod document_features;
mod error;
mod export;
mod migrations;
mod model;
mod model_features;
pub mod secrets;
mod short_codes;
mod time_profile;
pub mod validate;
mod validate_call_flows;
mod validate_dial_plan;
mod validate_email;
mod validate_features;
mod voicemail_settings;
mod walker;

pub use audit::AuditEntry;
pub use call_flow::{
    CallFlow, FlowAction, FlowPrompt, FlowStep, Menu, RECORD_DEFAULT_SECS, RECORD_MAX_SECS,
};
pub use cdr::CallRecordRow;
pub use csv_import::{import_extensions_csv, ImportOptions};
pub use db::{Store, VersionInfo, DATABASE_FILE};
pub use defaults::{DefaultCredentials, DEFAULT_ATTENDANT_NUMBER};
pub use dial_plan::DialPlanSettings;
pub use diff::changes;
pub use error::{ConfigErrors, FieldError, StoreError};
pub use migrations::{run_migrations, MigrationFailure};
pub use model::{
    Admin, CallSettings, Config, Credentials, DigestAlgorithmName, Extension, RegistrarSettings,
    SecuritySettings, SmtpSettings, SystemSettings, User,
};
pub use model_features::{CallRight, Forwarding, HuntGroup, HuntMode, VoicemailEmailMode};
pub use short_codes::{default_short_codes, ShortCodeFeature, ShortCodeMatch, ShortCodePattern};
pub use time_profile::{Date, DateInterval, TimeOfDay, TimeProfile, Weekday, WeeklyInterval};
pub use voicemail_settings::{VoicemailSettings, RECORD_KEYS_MAX, VOICEMAIL_CHANNELS};
