//! Account codes: a caller charges a call to an account (a project, a client) by dialling
//! `*22*4711#` before the call — the code then goes with the next call made within a
//! minute — or `*22*4711*0201234567#` in one go. The code is written into the call
//! record, for the call, failed or not.

use super::*;
use crate::shortcodes::ShortCodeFeature;

/// How long a code entered on its own waits for the call it is meant for.
const ACCOUNT_CODE_WINDOW: Duration = Duration::from_secs(60);

impl Pbx {
    /// Takes an account code off a new call from `caller`: returns the request to route
    /// (its number without the code when both were dialled together), or `None` when the
    /// code alone was dialled and has been confirmed. The code is kept for this call's
    /// record in `Calls::dialling_account`.
    pub(super) fn take_account_code(
        &mut self,
        now: Instant,
        source: Peer,
        tx: ServerTxId,
        req: Request,
        caller: &str,
    ) -> Option<Request> {
        self.calls.dialling_account = None;
        let code = req
            .uri
            .user()
            .and_then(|d| self.features.short_codes().lookup(d))
            .map(|(feature, arg)| (feature, arg.to_string()));
        self.calls.accounts.retain(|_, (_, until)| *until > now);
        let arg = match code {
            Some((ShortCodeFeature::AccountCode, arg)) => arg,
            // Another short code is no call to charge: a waiting code stays.
            Some(_) => return Some(req),
            None => {
                self.calls.dialling_account = self.calls.accounts.remove(caller).map(|a| a.0);
                return Some(req);
            }
        };
        match arg.split_once('*') {
            Some((code, number)) => {
                let mut req = req;
                if let Uri::Sip(uri) = &mut req.uri {
                    uri.user = Some(number.to_string());
                }
                self.calls.dialling_account = Some(code.to_string());
                Some(req)
            }
            None => {
                self.calls
                    .accounts
                    .insert(caller.to_string(), (arg.clone(), now + ACCOUNT_CODE_WINDOW));
                self.answer_and_clear(now, source, tx, &req, &format!("account code {arg}"));
                None
            }
        }
    }
}
