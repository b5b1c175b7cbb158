//! Audited events from the running server (blocks, trace switches, start and stop) written
//! to the store by a thread of its own, so that the core loop never waits on SQLite.

use std::path::PathBuf;
use std::sync::mpsc;

/// Where the core loop drops audit events.
#[derive(Clone)]
pub struct AuditSink(mpsc::Sender<(String, String)>);

impl AuditSink {
    /// Queues an event; never blocks.
    pub fn record(&self, action: &str, detail: &str) {
        let _ = self.0.send((action.to_string(), detail.to_string()));
    }
}

/// Starts the audit writer thread.
pub fn spawn(data_dir: PathBuf) -> AuditSink {
    let (tx, rx) = mpsc::channel::<(String, String)>();
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
            for (action, detail) in rx {
                if let Err(e) = store.record_event("server", "strowger serve", &action, &detail) {
                    tracing::error!(error = %e, %action, "audit write failed");
                }
            }
        })
        .ok();
    AuditSink(tx)
}
