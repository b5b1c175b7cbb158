//! The relay thread's side of what voicemail and auto attendants need: reading the keys
//! callers press.

use crate::dtmf::DtmfReceiver;
use crate::worker::{Reply, Worker};
use crate::{Leg, SessionId};

/// Commands for voicemail and auto attendants, carried by `Command::Voice`.
#[derive(Debug)]
pub(crate) enum VoiceCommand {
    /// Reads telephone-events of this payload type on the leg (`None`: stops).
    SetDtmf {
        id: SessionId,
        leg: Leg,
        payload_type: Option<u8>,
        reply: Reply<()>,
    },
}

impl Worker {
    pub(super) fn execute_voice(&mut self, command: VoiceCommand) {
        match command {
            VoiceCommand::SetDtmf {
                id,
                leg,
                payload_type,
                reply,
            } => {
                let result = self.leg_mut(id, leg).map(|l| {
                    // The same type again keeps what the receiver remembers, so that a
                    // repeated answer does not report the press under way twice.
                    if l.dtmf.as_ref().map(DtmfReceiver::payload_type) != payload_type {
                        l.dtmf = payload_type.map(DtmfReceiver::new);
                    }
                });
                let _ = reply.send(result);
            }
        }
    }
}
