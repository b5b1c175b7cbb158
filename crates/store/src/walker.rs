//! A field checker over a parsed TOML table.
//!
//! Serde stops at the first problem; an administrator editing a document wants all of them.
//! So the document is parsed to a [`toml::Table`] and each section is read through
//! [`Fields`], which records the fields it was asked for, reports wrong types and missing
//! required fields into a shared [`ConfigErrors`], and at the end reports every field nobody
//! asked for as unknown.

use crate::error::ConfigErrors;
use std::ops::RangeInclusive;
use toml::{Table, Value};

/// The fields of one TOML table at `path`.
pub(crate) struct Fields<'a> {
    table: &'a Table,
    path: String,
    known: Vec<&'static str>,
}

impl<'a> Fields<'a> {
    /// Starts reading `table`, found at `path` ("" for the document root).
    pub(crate) fn new(table: &'a Table, path: impl Into<String>) -> Self {
        Self {
            table,
            path: path.into(),
            known: Vec::new(),
        }
    }

    /// The path of field `key` of this table.
    pub(crate) fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Marks `key` as known and returns its value if present.
    fn get(&mut self, key: &'static str) -> Option<&'a Value> {
        self.known.push(key);
        self.table.get(key)
    }

    /// The value of `key`, if present; does not mark it known.
    pub(crate) fn peek(&self, key: &str) -> Option<&'a Value> {
        self.table.get(key)
    }

    /// True when `key` is present (whatever its type); does not mark it known.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.table.contains_key(key)
    }

    fn wrong_type(&self, key: &str, expected: &str, got: &Value, errs: &mut ConfigErrors) {
        errs.push(self.path_of(key), type_reason(expected, got));
    }

    /// An optional string field: `None` when absent or of the wrong type (reported).
    pub(crate) fn string(&mut self, key: &'static str, errs: &mut ConfigErrors) -> Option<&'a str> {
        match self.get(key)? {
            Value::String(s) => Some(s),
            other => {
                self.wrong_type(key, "a string", other, errs);
                None
            }
        }
    }

    /// A required string field: a missing field is reported.
    pub(crate) fn required_string(
        &mut self,
        key: &'static str,
        errs: &mut ConfigErrors,
    ) -> Option<&'a str> {
        if !self.has(key) {
            self.known.push(key);
            errs.push(self.path_of(key), "required field missing");
            return None;
        }
        self.string(key, errs)
    }

    /// An optional boolean field.
    pub(crate) fn boolean(&mut self, key: &'static str, errs: &mut ConfigErrors) -> Option<bool> {
        match self.get(key)? {
            Value::Boolean(b) => Some(*b),
            other => {
                self.wrong_type(key, "true or false", other, errs);
                None
            }
        }
    }

    /// An optional whole-number field that must lie within `range`.
    pub(crate) fn uint(
        &mut self,
        key: &'static str,
        range: RangeInclusive<u32>,
        errs: &mut ConfigErrors,
    ) -> Option<u32> {
        match self.get(key)? {
            Value::Integer(i) => match u32::try_from(*i) {
                Ok(v) if range.contains(&v) => Some(v),
                _ => {
                    errs.push(self.path_of(key), range_reason(&range, *i));
                    None
                }
            },
            other => {
                self.wrong_type(key, "a whole number", other, errs);
                None
            }
        }
    }

    /// An optional sub-table.
    pub(crate) fn table(
        &mut self,
        key: &'static str,
        errs: &mut ConfigErrors,
    ) -> Option<&'a Table> {
        match self.get(key)? {
            Value::Table(t) => Some(t),
            other => {
                self.wrong_type(key, "a table", other, errs);
                None
            }
        }
    }

    /// An optional array of tables (`[[key]]`): each element with its path `key[i]`.
    /// Elements that are not tables are reported and left out (their index still counts, so
    /// paths match the document).
    pub(crate) fn tables(
        &mut self,
        key: &'static str,
        errs: &mut ConfigErrors,
    ) -> Vec<(String, &'a Table)> {
        let base = self.path_of(key);
        match self.get(key) {
            None => Vec::new(),
            Some(Value::Array(items)) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let path = format!("{base}[{i}]");
                    match item {
                        Value::Table(t) => out.push((path, t)),
                        other => {
                            errs.push(path, format!("must be a table (got {})", other.type_str()))
                        }
                    }
                }
                out
            }
            Some(other) => {
                self.wrong_type(key, "an array of tables ([[...]])", other, errs);
                Vec::new()
            }
        }
    }

    /// An optional array of strings: `None` when absent or not an array (reported). Each
    /// element that is not a string is reported at its path `key[i]` and given as `None`,
    /// so indices match the document.
    pub(crate) fn strings(
        &mut self,
        key: &'static str,
        errs: &mut ConfigErrors,
    ) -> Option<Vec<Option<&'a str>>> {
        let base = self.path_of(key);
        match self.get(key)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| match item {
                        Value::String(s) => Some(s.as_str()),
                        other => {
                            errs.push(format!("{base}[{i}]"), type_reason("a string", other));
                            None
                        }
                    })
                    .collect(),
            ),
            other => {
                self.wrong_type(key, "an array of strings", other, errs);
                None
            }
        }
    }

    /// Reports every field of the table that was never asked for.
    pub(crate) fn finish(self, errs: &mut ConfigErrors) {
        for key in self.table.keys() {
            if !self.known.contains(&key.as_str()) {
                errs.push(self.path_of(key), "unknown field");
            }
        }
    }
}

/// The reason given for a value of the wrong type.
fn type_reason(expected: &str, got: &Value) -> String {
    let hint = match (expected, got) {
        ("a string", Value::Integer(_) | Value::Datetime(_)) => ": write it in quotes",
        _ => "",
    };
    format!("must be {expected} (got {}{hint})", got.type_str())
}

/// The reason given for a number outside `range`.
pub(crate) fn range_reason(range: &RangeInclusive<u32>, got: impl std::fmt::Display) -> String {
    format!(
        "must be between {} and {} (got {got})",
        range.start(),
        range.end()
    )
}

/// Converts a TOML syntax error into one error naming its line and column (1-based).
pub(crate) fn syntax_error(text: &str, e: &toml::de::Error) -> ConfigErrors {
    let mut errs = ConfigErrors::default();
    // Messages span lines ("invalid string\nexpected ..."); one error is one line.
    let message = e
        .message()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    match e.span() {
        Some(span) => {
            let before = text.get(..span.start).unwrap_or(text);
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            errs.push(
                format!("line {line}, column {column}"),
                format!("TOML syntax error: {message}"),
            );
        }
        None => errs.push("", format!("TOML syntax error: {message}")),
    }
    errs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        text.parse().expect("test document parses")
    }

    #[test]
    fn collects_every_problem() {
        let t = table("a = 1\nb = \"x\"\nc = -5\nd = true\nextra = 1\nlist = [\"x\", 2]\n");
        let mut errs = ConfigErrors::default();
        let mut f = Fields::new(&t, "sec");
        assert_eq!(f.string("a", &mut errs), None);
        assert_eq!(f.uint("b", 0..=10, &mut errs), None);
        assert_eq!(f.uint("c", 1..=10, &mut errs), None);
        assert_eq!(f.boolean("d", &mut errs), Some(true));
        assert_eq!(f.required_string("missing", &mut errs), None);
        assert_eq!(f.strings("list", &mut errs), Some(vec![Some("x"), None]));
        assert_eq!(f.strings("a", &mut errs), None);
        f.finish(&mut errs);
        let shown: Vec<String> = errs.errors().iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "sec.a: must be a string (got integer: write it in quotes)",
                "sec.b: must be a whole number (got string)",
                "sec.c: must be between 1 and 10 (got -5)",
                "sec.missing: required field missing",
                "sec.list[1]: must be a string (got integer: write it in quotes)",
                "sec.a: must be an array of strings (got integer)",
                "sec.extra: unknown field",
            ]
        );
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let text = "[system]\nname = \"x\"\nrealm = = 3\n";
        let e = text.parse::<Table>().expect_err("bad TOML");
        let errs = syntax_error(text, &e);
        assert_eq!(errs.len(), 1);
        assert!(
            errs.errors()[0].path.starts_with("line 3, column"),
            "{errs}"
        );
    }
}
