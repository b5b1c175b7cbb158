//! Bulk creation of extensions (each with a user) from a CSV file.
//!
//! The file needs a header row naming at least `number`, `password` and `name`; `full_name`
//! and `user` may be added, in any order:
//!
//! | column | meaning |
//! | --- | --- |
//! | `number` | the new extension's number |
//! | `password` | its plain password (strength rule unless [`ImportOptions::allow_weak_passwords`]) |
//! | `name` | the user's full name ("Extension N" when blank) |
//! | `full_name` | the user's full name, preferred over `name` when both are filled |
//! | `user` | the user's login name (default `user<number>`) |
//!
//! Any bad row rejects the whole file, and every bad row is reported with its line number.

use crate::error::ConfigErrors;
use crate::model::{Config, Credentials, Extension, User};
use crate::secrets::{check_password_form, check_password_strength};
use crate::validate::{is_valid_login, is_valid_number, MAX_DISPLAY_NAME};
use std::collections::{HashMap, HashSet};
use std::io::Read;

/// How strictly an import is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportOptions {
    /// Accept passwords that fail the strength rule (they must still be non-empty and free
    /// of control characters). Only for load-test tooling, whose phones use passwords like
    /// `pw1000`; the CLI exposes it as `--allow-weak-passwords` and the audit should record
    /// its use.
    pub allow_weak_passwords: bool,
}

const COLUMNS: [&str; 5] = ["number", "password", "name", "full_name", "user"];
const REQUIRED: [&str; 3] = ["number", "password", "name"];

/// Positions of the known columns in the file.
struct Columns {
    index: HashMap<&'static str, usize>,
    count: usize,
}

impl Columns {
    fn get<'r>(&self, record: &'r csv::StringRecord, column: &str) -> &'r str {
        self.index
            .get(column)
            .and_then(|&i| record.get(i))
            .unwrap_or("")
    }
}

/// Reads extensions (and their users) from CSV and adds them to `base`, returning the merged
/// configuration, validated as a whole. Extension passwords are hashed with `base`'s realm.
pub fn import_extensions_csv(
    reader: impl Read,
    base: &Config,
    options: ImportOptions,
) -> Result<Config, ConfigErrors> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true) // column counts are checked per row, to report every bad row
        .trim(csv::Trim::All)
        .from_reader(reader);
    let mut errs = ConfigErrors::default();
    let columns = read_header(&mut rdr, &mut errs)?;

    let base_numbers: HashSet<&str> = base.extensions.iter().map(|e| e.number.as_str()).collect();
    let base_users: HashSet<&str> = base.users.iter().map(|u| u.name.as_str()).collect();
    let mut numbers: HashMap<String, u64> = HashMap::new();
    let mut logins: HashMap<String, u64> = HashMap::new();
    let mut merged = base.clone();
    // The line of each imported extension, to point whole-config errors back at the file.
    let mut lines: Vec<u64> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                errs.push(format!("line {line}"), format!("unreadable row: {e}"));
                continue;
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        let at = |field: &str| format!("line {line}: {field}");
        if record.len() != columns.count {
            errs.push(
                format!("line {line}"),
                format!("expected {} columns, found {}", columns.count, record.len()),
            );
            continue;
        }
        let number = columns.get(&record, "number");
        let mut row_ok = true;
        if !is_valid_number(number) {
            errs.push(
                at("number"),
                format!("must be 2 to 15 digits (got {number:?})"),
            );
            row_ok = false;
        } else if let Some(first) = numbers.get(number) {
            errs.push(
                at("number"),
                format!("duplicate of line {first} ({number:?})"),
            );
            row_ok = false;
        } else if base_numbers.contains(number) {
            errs.push(at("number"), format!("extension {number:?} already exists"));
            row_ok = false;
        } else if let Some(group) = base.hunt_group(number) {
            errs.push(
                at("number"),
                format!("{number:?} is already hunt group {}", group.name),
            );
            row_ok = false;
        } else {
            numbers.insert(number.to_owned(), line);
        }
        let number_ok = row_ok;

        let password = columns.get(&record, "password");
        let checked = if options.allow_weak_passwords {
            check_password_form(password)
        } else {
            check_password_strength(password, number, "the extension number")
        };
        if let Err(problem) = checked {
            errs.push(at("password"), problem.to_string());
            row_ok = false;
        }

        let full_name = match columns.get(&record, "full_name") {
            "" => columns.get(&record, "name"),
            f => f,
        };
        let full_name = if full_name.is_empty() {
            format!("Extension {number}")
        } else {
            full_name.to_owned()
        };
        if full_name.chars().count() > MAX_DISPLAY_NAME || full_name.chars().any(char::is_control) {
            errs.push(
                at("name"),
                format!("must be at most {MAX_DISPLAY_NAME} characters without control characters"),
            );
            row_ok = false;
        }

        let given_login = columns.get(&record, "user");
        let login = match given_login {
            "" => format!("user{number}"),
            u => u.to_owned(),
        };
        if given_login.is_empty() && !number_ok {
            // The login derives from the number, which is already reported.
        } else if !is_valid_login(&login) {
            errs.push(
                at("user"),
                format!("must be 1 to 32 of a-z 0-9 . _ - (got {login:?})"),
            );
            row_ok = false;
        } else if let Some(first) = logins.get(&login) {
            errs.push(at("user"), format!("duplicate of line {first} ({login:?})"));
            row_ok = false;
        } else if base_users.contains(login.as_str()) {
            errs.push(at("user"), format!("user {login:?} already exists"));
            row_ok = false;
        } else {
            logins.insert(login.clone(), line);
        }

        // Hashing is skipped once the file is known to be rejected: only errors matter then.
        if row_ok && errs.is_empty() {
            merged.extensions.push(Extension {
                number: number.to_owned(),
                credentials: Credentials::from_password(number, &base.system.realm, password),
                direct_media: false,
            });
            merged
                .users
                .push(User::new(&login, &full_name, Some(number)));
            lines.push(line);
        }
    }
    if errs.is_empty() && lines.is_empty() {
        errs.push("line 2", "the file has no rows to import");
    }
    errs.into_result()?;
    merged
        .validate()
        .map_err(|e| point_at_lines(e, base, &lines))?;
    Ok(merged)
}

fn read_header<R: Read>(
    rdr: &mut csv::Reader<R>,
    errs: &mut ConfigErrors,
) -> Result<Columns, ConfigErrors> {
    let header = match rdr.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            errs.push("line 1", format!("unreadable header row: {e}"));
            return Err(std::mem::take(errs));
        }
    };
    let mut index = HashMap::new();
    for (i, name) in header.iter().enumerate() {
        let lower = name.to_ascii_lowercase();
        match COLUMNS.iter().find(|c| **c == lower) {
            Some(&known) => {
                if index.insert(known, i).is_some() {
                    errs.push("line 1", format!("column {known:?} appears twice"));
                }
            }
            None => errs.push(
                "line 1",
                format!("unknown column {name:?} (known: {})", COLUMNS.join(", ")),
            ),
        }
    }
    for required in REQUIRED {
        if !index.contains_key(required) {
            errs.push(
                "line 1",
                format!("missing column {required:?} (a header row naming number, password, name is required)"),
            );
        }
    }
    if !errs.is_empty() {
        return Err(std::mem::take(errs));
    }
    Ok(Columns {
        index,
        count: header.len(),
    })
}

/// Rewrites paths of whole-config errors that concern imported rows (`extensions[i]`,
/// `users[j]` past the base's own) to the file's line numbers.
fn point_at_lines(errors: ConfigErrors, base: &Config, lines: &[u64]) -> ConfigErrors {
    let rewrite = |path: &str, prefix: &str, base_len: usize| -> Option<String> {
        let rest = path.strip_prefix(prefix)?.strip_prefix('[')?;
        let (index, field) = rest.split_once(']')?;
        let row = index.parse::<usize>().ok()?.checked_sub(base_len)?;
        let line = lines.get(row)?;
        let field = field.trim_start_matches('.');
        Some(if field.is_empty() {
            format!("line {line}")
        } else {
            format!("line {line}: {prefix}.{field}")
        })
    };
    ConfigErrors(
        errors
            .0
            .into_iter()
            .map(|mut e| {
                if let Some(p) = rewrite(&e.path, "extensions", base.extensions.len())
                    .or_else(|| rewrite(&e.path, "users", base.users.len()))
                {
                    e.path = p;
                }
                e
            })
            .collect(),
    )
}
