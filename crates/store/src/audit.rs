//! The audit trail: who did what, when, from where. Configuration changes are written by
//! [`Store::apply`]; everything else (logins, server start, blocked sources) through
//! [`Store::record_event`].

use crate::db::{to_i64, to_u64, unix_now, Store};
use crate::error::{SqlContext, StoreError};
use rusqlite::Connection;

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Increasing record number: the true order of events, even if the clock stepped back.
    pub id: u64,
    /// When (unix seconds, system clock).
    pub at: u64,
    /// Who: an administrator's name, "system", "cli"...
    pub actor: String,
    /// From where: "cli", a peer address, "server".
    pub source: String,
    /// What kind of event, dotted: "config.apply", "config.change", "server.start"...
    pub action: String,
    /// The human-readable particulars.
    pub detail: String,
    /// The configuration version the event belongs to, for configuration changes.
    pub config_version: Option<u64>,
}

impl Store {
    /// Records an audited event that is not a configuration change, stamped now.
    ///
    /// Never put plain passwords in `detail`.
    pub fn record_event(
        &self,
        actor: &str,
        source: &str,
        action: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        insert_audit(&self.conn, unix_now(), actor, source, action, detail, None)
    }

    /// The newest `limit` audit records, newest first.
    pub fn audit(&self, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT id, at, actor, source, action, detail, config_version FROM audit
                 ORDER BY id DESC LIMIT ?1",
            )
            .ctx("reading the audit trail")?;
        let limit = to_i64(u64::try_from(limit).unwrap_or(u64::MAX));
        let rows = stmt
            .query_map([limit], |row| {
                Ok(AuditEntry {
                    id: to_u64(row.get(0)?),
                    at: to_u64(row.get(1)?),
                    actor: row.get(2)?,
                    source: row.get(3)?,
                    action: row.get(4)?,
                    detail: row.get(5)?,
                    config_version: row.get::<_, Option<i64>>(6)?.map(to_u64),
                })
            })
            .ctx("reading the audit trail")?;
        rows.collect::<Result<_, _>>()
            .ctx("reading the audit trail")
    }
}

/// Inserts one audit row on `conn` (a connection or an open transaction).
pub(crate) fn insert_audit(
    conn: &Connection,
    at: u64,
    actor: &str,
    source: &str,
    action: &str,
    detail: &str,
    config_version: Option<i64>,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, source, action, detail, config_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(rusqlite::params![
            to_i64(at),
            actor,
            source,
            action,
            detail,
            config_version
        ])
    })
    .ctx("writing an audit record")?;
    Ok(())
}
