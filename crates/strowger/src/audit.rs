//! Audited events from the running server (blocks, trace switches, start and stop) and call
//! records, written to the store by a thread of its own, so that the core loop never waits
//! on SQLite.

use std::path::PathBuf;
use std::sync::mpsc;

enum Write {
    Audit(String, String),
    Call(store::CallRecordRow),
}

/// Where the core loop drops audit events and call records.
#[derive(Clone)]
pub struct AuditSink(mpsc::Sender<Write>);

impl AuditSink {
    /// Queues an audit event; never blocks.
    pub fn record(&self, action: &str, detail: &str) {
        let _ = self
            .0
            .send(Write::Audit(action.to_string(), detail.to_string()));
    }

    /// Queues a call record; never blocks.
    pub fn call(&self, row: store::CallRecordRow) {
        let _ = self.0.send(Write::Call(row));
    }
}

/// Starts the audit writer thread.
pub fn spawn(data_dir: PathBuf) -> AuditSink {
    let (tx, rx) = mpsc::channel::<Write>();
    std::thread::Builder::new()
        .name("audit".into())
        .spawn(move || {
            let store = match store::Store::open(&data_dir) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "audit store unavailable");
                    return;
                }
            };
            for write in rx {
                match write {
                    Write::Audit(action, detail) => {
                        if let Err(e) =
                            store.record_event("server", "strowger serve", &action, &detail)
                        {
                            tracing::error!(error = %e, %action, "audit write failed");
                        }
                    }
                    Write::Call(row) => {
                        if let Err(e) = store.record_call(&row) {
                            tracing::error!(error = %e, call_id = %row.call_id, "call record write failed");
                        }
                    }
                }
            }
        })
        .ok();
    AuditSink(tx)
}
