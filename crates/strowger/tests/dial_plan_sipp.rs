//! The dial plan and users' rights through the real binary, configured by `config apply`
//! and exercised with SIPp: a barred call class gets 403 with the reason, an emergency
//! number gets past the rights of a user who has none (to the missing trunk: 503, not
//! 403), and a hunt group goes to its night service by its time profile.

mod common;

use common::callee::{assert_call_over, received_messages, register_as, Callee};
use common::{free_port, Phone, Server, Sipp};

/// Applies the configuration in force with `edit` made to it.
fn reconfigure(server: &Server, edit: impl FnOnce(String) -> String) {
    let doc = edit(server.export());
    let file = server.write_file("dial_plan.toml", &doc);
    server.cli_ok(&["config", "apply", file.to_str().expect("utf-8 path")]);
}

/// Gives user201 (the first user of the embedded default) these rights.
fn rights_of_201(rights: &str) -> impl FnOnce(String) -> String + '_ {
    move |doc| {
        doc.replacen(
            "rights = [\"internal\", \"local\", \"national\", \"international\"]",
            &format!("rights = [{rights}]"),
            1,
        )
    }
}

/// 201 calls `number` with SIPp and is refused; returns the status line it received.
fn refused_call(server: &Server, number: &str) -> String {
    let run = Sipp::new("call_uac_refused")
        .user("201", &server.password("201"))
        .key("callee", number)
        .expect_success(server);
    received_messages(&run.messages)
        .iter()
        .filter_map(|m| m.lines().next())
        .find(|l| l.starts_with("SIP/2.0 403") || l.starts_with("SIP/2.0 503"))
        .unwrap_or_else(|| panic!("no refusal in the trace\n{run}"))
        .to_string()
}

#[test]
fn a_user_without_the_international_right_gets_403_with_the_reason() {
    let server = Server::start();
    reconfigure(&server, rights_of_201("\"internal\", \"national\""));
    let line = refused_call(&server, "0033140000000");
    assert_eq!(
        line,
        "SIP/2.0 403 Forbidden (call class international barred for user user201)"
    );
    assert_call_over(
        &server,
        &[
            "201 -> 0033140000000  403",
            "call class international barred for user user201",
        ],
    );
    // A class the user holds goes as far as there is a way out: none yet.
    let line = refused_call(&server, "02079460000");
    assert_eq!(
        line,
        "SIP/2.0 503 Service Unavailable (no route to an outside line: no trunks configured)"
    );
    assert_call_over(
        &server,
        &["201 -> 02079460000  503", "no trunks configured"],
    );
}

#[test]
fn an_emergency_call_passes_the_rights_of_a_user_who_has_none() {
    let server = Server::start();
    reconfigure(&server, rights_of_201(""));
    let line = refused_call(&server, "112");
    assert_eq!(
        line,
        "SIP/2.0 503 Service Unavailable (emergency number 112: no route to an outside line: \
         no trunks configured)"
    );
    assert_call_over(
        &server,
        &[
            "201 -> 112  503",
            "emergency number 112: no route to an outside line",
        ],
    );
    // Everything else is barred for this user, internal calls included.
    let mut phone = Phone::new(&server, "201", &server.password("201"));
    let r = phone.invite_with_auth("202");
    assert_eq!(r.status, 403, "{}", r.raw);
    assert!(
        r.raw
            .contains("call class internal barred for user user201"),
        "{}",
        r.raw
    );
}

#[test]
fn a_hunt_group_outside_its_time_profile_goes_to_night_service() {
    let server = Server::start();
    // "never" is active at no time, "always" at every time: deterministic whatever the
    // hour the test runs at.
    let profiles = "[[time_profiles]]\nname = \"never\"\n\n\
                    [[time_profiles]]\nname = \"always\"\n[[time_profiles.weekly]]\n\
                    days = [\"mon\", \"tue\", \"wed\", \"thu\", \"fri\", \"sat\", \"sun\"]\n\
                    start = \"00:00\"\nend = \"24:00\"\n";
    let group = |profile: &str| {
        format!(
            "\n[[hunt_groups]]\nname = \"sales\"\nnumber = \"300\"\nmembers = [\"202\"]\n\
             time_profile = \"{profile}\"\nnight_service_to = \"203\"\n"
        )
    };
    reconfigure(&server, |doc| {
        format!("{doc}\n{profiles}{}", group("never"))
    });
    let (p2, p3) = (free_port(), free_port());
    let mut night = Callee::udp("call_uas", p3);
    register_as(&server, "202", p2);
    register_as(&server, "203", p3);
    Sipp::new("call_uac")
        .user("201", &server.password("201"))
        .key("callee", "300")
        .expect_success(&server);
    night.finish();
    assert_call_over(&server, &["201 -> 300  200"]);

    // The same group inside its profile: the member answers.
    reconfigure(&server, |doc| {
        doc.replace("time_profile = \"never\"", "time_profile = \"always\"")
    });
    let mut member = Callee::udp("call_uas", p2);
    Sipp::new("call_uac")
        .user("201", &server.password("201"))
        .key("callee", "300")
        .expect_success(&server);
    member.finish();
    assert_call_over(&server, &["201 -> 300  200"]);
}
