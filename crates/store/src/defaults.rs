//! The configuration a node starts with when it has none: ten extensions with users and one
//! administrator, each with a fresh strong random password, and the default short codes.

use crate::call_flow::{CallFlow, FlowAction, FlowPrompt, FlowStep, Menu};
use crate::model::{Admin, Config, Credentials, Extension, User};
use crate::secrets::{generate_password, hash_admin_password};
use std::fmt;

/// Length of generated default passwords.
const DEFAULT_PASSWORD_LEN: usize = 16;

/// The plain passwords of an embedded default configuration, to be shown once on first
/// start. They are not stored anywhere else; `Debug` hides them so that they cannot leak
/// into logs by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct DefaultCredentials {
    /// `(extension number, password)` for each default extension.
    pub extensions: Vec<(String, String)>,
    /// The administrator's login name.
    pub admin_name: String,
    /// The administrator's password.
    pub admin_password: String,
}

impl fmt::Debug for DefaultCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let numbers: Vec<&str> = self.extensions.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("DefaultCredentials")
            .field("extensions", &numbers)
            .field("admin_name", &self.admin_name)
            .field("passwords", &"<hidden>")
            .finish()
    }
}

impl Config {
    /// A working first configuration: extensions 201–210 with users `user201`..`user210`
    /// ("Extension 201"..) on them, and administrator `admin`, every password random and
    /// strong; the default short codes ([`crate::default_short_codes`]), no hunt groups,
    /// and an auto attendant on 200 ([`DEFAULT_ATTENDANT_NUMBER`]): callers dial an
    /// extension or press 0 for the operator (201), whose mailbox takes the call when 201
    /// cannot be reached.
    /// Returns the plain passwords beside it; they exist nowhere else.
    pub fn embedded_default() -> (Config, DefaultCredentials) {
        let mut config = Config::default();
        let mut extension_passwords = Vec::with_capacity(10);
        for n in 201..=210 {
            let number = n.to_string();
            let password = generate_password(DEFAULT_PASSWORD_LEN, &number);
            config.extensions.push(Extension {
                credentials: Credentials::from_password(&number, &config.system.realm, &password),
                number: number.clone(),
                direct_media: false,
            });
            config.users.push(User::new(
                &format!("user{number}"),
                &format!("Extension {number}"),
                Some(&number),
            ));
            extension_passwords.push((number, password));
        }
        config.call_flows.push(default_attendant());
        let admin_name = "admin".to_owned();
        let admin_password = generate_password(DEFAULT_PASSWORD_LEN, &admin_name);
        config.admins.push(Admin {
            name: admin_name.clone(),
            password_hash: hash_admin_password(&admin_password),
        });
        let credentials = DefaultCredentials {
            extensions: extension_passwords,
            admin_name,
            admin_password,
        };
        (config, credentials)
    }
}

/// The number of the default auto attendant.
pub const DEFAULT_ATTENDANT_NUMBER: &str = "200";

/// The auto attendant of the embedded default: "Thank you for calling. If you know the
/// extension ..., please dial it now. For the operator, press zero."
fn default_attendant() -> CallFlow {
    let step = |name: &str, action| FlowStep {
        name: name.to_owned(),
        action,
    };
    let say = |names: &[&str]| {
        names
            .iter()
            .map(|n| FlowPrompt::BuiltIn((*n).to_owned()))
            .collect()
    };
    CallFlow {
        name: "reception".to_owned(),
        number: Some(DEFAULT_ATTENDANT_NUMBER.to_owned()),
        start: "menu".to_owned(),
        steps: vec![
            step(
                "menu",
                FlowAction::Menu(Menu {
                    say: say(&[
                        "attendant-welcome",
                        "attendant-dial-extension",
                        "attendant-operator",
                    ]),
                    choices: [('0', "operator".to_owned())].into(),
                    dial_extensions: true,
                    timeout_secs: 5,
                    retries: 2,
                    variable: None,
                    on_fail: Some("operator".to_owned()),
                }),
            ),
            step(
                "operator",
                FlowAction::Transfer {
                    to: "201".to_owned(),
                    say: Vec::new(),
                    on_fail: Some("message".to_owned()),
                },
            ),
            step(
                "message",
                FlowAction::LeaveMail {
                    mailbox: "201".to_owned(),
                    say: Vec::new(),
                },
            ),
        ],
    }
}
