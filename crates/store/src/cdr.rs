//! Call detail records: one row per call, answered or not, written when the call ends.

use crate::db::Store;
use crate::error::{SqlContext, StoreError};
use rusqlite::params;

/// One finished call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecordRow {
    /// The caller's SIP Call-ID.
    pub call_id: String,
    /// The calling extension.
    pub caller: String,
    /// The number dialled.
    pub callee: String,
    /// When the call came in (Unix milliseconds).
    pub started_ms: u64,
    /// When it was answered, if it was.
    pub answered_ms: Option<u64>,
    /// When it ended.
    pub ended_ms: u64,
    /// The final SIP status the caller got (200 when answered).
    pub status: u16,
    /// Why it ended, in words.
    pub cause: String,
    /// Media statistics (packets, bytes, loss, jitter) when the media was relayed.
    pub media: String,
    /// The account code the caller entered for the call, if any.
    pub account_code: Option<String>,
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Appends a call record (one statement: atomic on its own).
    pub fn record_call(&self, r: &CallRecordRow) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO call_records
                   (call_id, caller, callee, started_ms, answered_ms, ended_ms, status, cause, media,
                    account_code)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    r.call_id,
                    r.caller,
                    r.callee,
                    to_i64(r.started_ms),
                    r.answered_ms.map(to_i64),
                    to_i64(r.ended_ms),
                    i64::from(r.status),
                    r.cause,
                    r.media,
                    r.account_code
                ],
            )
            .ctx("writing a call record")?;
        Ok(())
    }

    /// The newest call records first.
    pub fn call_records(&self, limit: usize) -> Result<Vec<CallRecordRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT call_id, caller, callee, started_ms, answered_ms, ended_ms, status, cause, media,
                        account_code
                 FROM call_records ORDER BY id DESC LIMIT ?1",
            )
            .ctx("reading call records")?;
        let rows = stmt
            .query_map([i64::try_from(limit).unwrap_or(i64::MAX)], |row| {
                let u = |v: i64| u64::try_from(v).unwrap_or(0);
                Ok(CallRecordRow {
                    call_id: row.get(0)?,
                    caller: row.get(1)?,
                    callee: row.get(2)?,
                    started_ms: u(row.get(3)?),
                    answered_ms: row.get::<_, Option<i64>>(4)?.map(u),
                    ended_ms: u(row.get(5)?),
                    status: u16::try_from(row.get::<_, i64>(6)?).unwrap_or(0),
                    cause: row.get(7)?,
                    media: row.get(8)?,
                    account_code: row.get(9)?,
                })
            })
            .ctx("reading call records")?;
        rows.collect::<Result<Vec<_>, _>>()
            .ctx("reading call records")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for (i, status) in [(1u64, 200u16), (2, 486)] {
            store
                .record_call(&CallRecordRow {
                    call_id: format!("c{i}"),
                    caller: "201".into(),
                    callee: "202".into(),
                    started_ms: 1000 * i,
                    answered_ms: (status == 200).then_some(1500 * i),
                    ended_ms: 9000 * i,
                    status,
                    cause: "caller hung up".into(),
                    media: String::new(),
                    account_code: (i == 2).then(|| "4711".into()),
                })
                .unwrap();
        }
        let rows = store.call_records(10).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].call_id, "c2");
        assert_eq!(rows[0].answered_ms, None);
        assert_eq!(rows[1].answered_ms, Some(1500));
        assert_eq!(rows[0].account_code.as_deref(), Some("4711"));
        assert_eq!(rows[1].account_code, None);
    }
}
