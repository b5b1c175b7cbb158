//! Errors: field-level configuration errors (collected, never just the first) and storage
//! errors (with what the store was doing when SQLite or the file system failed).

use std::fmt;
use std::path::PathBuf;

/// One problem in a configuration document or an import file: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where the problem is: a field path such as `extensions[3].number`, `line 7: number`
    /// for CSV imports, or `line 4, column 9` for TOML syntax errors. Empty when the problem
    /// concerns the whole document.
    pub path: String,
    /// Why the value is rejected, phrased for an administrator.
    pub reason: String,
}

impl FieldError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.path, self.reason)
        }
    }
}

/// Every problem found in a rejected document; it is never empty when returned as an error.
///
/// Displays one problem per line, in the order they were found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConfigErrors(pub Vec<FieldError>);

impl ConfigErrors {
    /// The individual problems.
    pub fn errors(&self) -> &[FieldError] {
        &self.0
    }

    /// How many problems were found.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when no problem was found (only seen while collecting).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds a problem.
    pub fn push(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.0.push(FieldError::new(path, reason));
    }

    /// `Ok(())` when nothing was collected, else `Err(self)`.
    pub fn into_result(self) -> Result<(), ConfigErrors> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self)
        }
    }

    /// True when some problem was reported at exactly `path`.
    pub fn has_path(&self, path: &str) -> bool {
        self.0.iter().any(|e| e.path == path)
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A failure of the configuration store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create data directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The database file could not be opened or configured.
    #[error("cannot open database {path}: {source}")]
    Open {
        /// The database file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The database was written by a newer program whose schema this one does not know.
    #[error(
        "database {path} has schema version {found}, newer than this program supports \
         ({supported}); upgrade the program"
    )]
    SchemaTooNew {
        /// The database file.
        path: PathBuf,
        /// The schema version found in the file.
        found: i64,
        /// The newest schema version this program knows.
        supported: i64,
    },
    /// An SQLite operation failed.
    #[error("database error while {context}: {source}")]
    Sqlite {
        /// What the store was doing.
        context: &'static str,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// A stored configuration version no longer passes validation.
    #[error("stored configuration version {version} is invalid:\n{errors}")]
    StoredDocumentInvalid {
        /// The version that failed.
        version: u64,
        /// Every problem found in it.
        errors: ConfigErrors,
    },
    /// A configuration given to [`crate::Store::apply`] failed validation; nothing was stored.
    #[error("configuration rejected:\n{0}")]
    Invalid(ConfigErrors),
}

/// Attaches what the store was doing to an SQLite error.
pub(crate) trait SqlContext<T> {
    /// Maps the error to [`StoreError::Sqlite`] with `context`.
    fn ctx(self, context: &'static str) -> Result<T, StoreError>;
}

impl<T> SqlContext<T> for Result<T, rusqlite::Error> {
    fn ctx(self, context: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Sqlite { context, source })
    }
}
