//! Audited events from the running server (blocks, trace switches, start and stop) and call
//! records, written to the store by a thread of its own, so that the core loop never waits
//! on SQLite.

use std::path::PathBuf;
use std::sync::mpsc;

enum Write {
    Audit(String, String),
    Call(store::CallRecordRow),
    Feature(String, pbx::FeatureChange),
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

    /// Queues a setting changed by short code, to be kept as a new configuration version;
    /// never blocks.
    pub fn feature(&self, extension: &str, change: pbx::FeatureChange) {
        let _ = self.0.send(Write::Feature(extension.to_string(), change));
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
            let mut store = match store::Store::open(&data_dir) {
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
                    Write::Feature(extension, change) => keep_feature(&mut store, &extension, &change),
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

/// Keeps a short-code change in the configuration as a new version, so that it survives a
/// restart and shows in the audit trail. The core already acts on it; a change the
/// document's rules refuse (leaving a hunt group as its last member) stays in force until
/// the next apply or restart, and the refusal is logged.
fn keep_feature(store: &mut store::Store, extension: &str, change: &pbx::FeatureChange) {
    let mut config = match store.current() {
        Ok(Some((_, c))) => c,
        Ok(None) => return,
        Err(e) => return tracing::error!(error = %e, "configuration unavailable"),
    };
    apply_feature(&mut config, extension, change);
    if let Err(errors) = config.validate() {
        return tracing::warn!(%extension, ?change, %errors, "short-code change not kept: the configuration rules refuse it");
    }
    if let Err(e) = store.apply(&config, &format!("extension {extension}"), "short code") {
        tracing::error!(error = %e, %extension, "short-code change not kept");
    }
}

/// The change in the document: on the extension's user (created, named after the
/// extension, if it has none) or its hunt group.
pub(crate) fn apply_feature(
    config: &mut store::Config,
    extension: &str,
    change: &pbx::FeatureChange,
) {
    use pbx::FeatureChange as C;
    let user = |config: &mut store::Config| -> usize {
        match config
            .users
            .iter()
            .position(|u| u.extension.as_deref() == Some(extension))
        {
            Some(i) => i,
            None => {
                config
                    .users
                    .push(store::User::new(extension, "", Some(extension)));
                config.users.len() - 1
            }
        }
    };
    match change {
        C::Dnd(on) => {
            let i = user(config);
            config.users[i].dnd = *on;
        }
        C::ForwardUnconditional(to) => {
            let i = user(config);
            config.users[i].forward.unconditional.clone_from(to);
        }
        C::HuntGroupMember { group, joined } => {
            if let Some(g) = config.hunt_groups.iter_mut().find(|g| g.number == *group) {
                g.members.retain(|m| m != extension);
                if *joined {
                    g.members.push(extension.to_string());
                }
            }
        }
        C::NightService { group, on } => {
            if let Some(g) = config.hunt_groups.iter_mut().find(|g| g.number == *group) {
                g.in_service = !on;
            }
        }
        // `extension` is the user's number here; only an existing user logs in.
        C::HotDesk(at) => {
            if let Some(u) = config
                .users
                .iter_mut()
                .find(|u| u.extension.as_deref() == Some(extension))
            {
                u.hot_desk_at.clone_from(at);
            }
        }
    }
}
