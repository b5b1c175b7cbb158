//! The configuration commands: export / check / apply of the TOML document, CSV import,
//! and changes taking effect in the running server at once without dropping registrations.

mod common;

use common::{
    authorization, parse_challenge, set_toml_value, unique, Phone, Req, Response, Server, SipUdp,
};
use std::time::Duration;

#[test]
fn export_apply_round_trip() {
    let server = Server::start();
    let first = server.export();
    assert!(first.contains("[registrar]"), "{first}");
    assert!(
        first.contains("\n[calls]\nsession_expires_secs = 1800\nmin_se_secs = 90\n"),
        "{first}"
    );
    assert!(first.contains("number = \"201\""), "{first}");
    for pw in server.passwords().values() {
        assert!(
            !first.contains(pw.as_str()),
            "a plain password was exported"
        );
    }
    let path = server.write_file("exported.toml", &first);
    let check = server.cli_ok(&["config", "check", path.to_str().unwrap()]);
    assert!(check.contains("is valid"), "{check}");
    server.cli_ok(&["config", "apply", path.to_str().unwrap()]);
    let second = server.export();
    assert_eq!(
        first, second,
        "export → apply → export changed the document"
    );
    // `--output` writes the same document.
    let out = server.scratch().join("out.toml");
    server.cli_ok(&["config", "export", "--output", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(out).unwrap(), first);
    // The passwords of the first start still work after the round trip.
    let mut phone = Phone::new(&server, "201", &server.password("201"));
    let c = phone.contact("a");
    assert_eq!(phone.register(&[c], Some(600), "MD5").status, 200);
}

/// A document with four independent errors.
fn broken(exported: &str) -> String {
    let doc = set_toml_value(exported, "min_expires", "0");
    let doc = doc.replacen("[[users]]\n", "[[users]]\ncolour = \"red\"\n", 1);
    // Array-of-tables entries may come after other tables; these are extensions[10], [11].
    format!(
        "{doc}\n[[extensions]]\nnumber = \"201\"\npassword = \"Another-Str0ng-Pass\"\n\
         \n[[extensions]]\nnumber = \"299\"\npassword = \"weak\"\n"
    )
}

const ERROR_PATHS: [&str; 4] = [
    "registrar.min_expires",
    "users[0].colour",
    "extensions[10].number",
    "extensions[11].password",
];

#[test]
fn invalid_document_is_rejected_whole_with_every_error() {
    let server = Server::start();
    let before = server.export();
    let path = server.write_file("broken.toml", &broken(&before));

    for cmd in ["check", "apply"] {
        let out = server.cli(&["config", cmd, path.to_str().unwrap()]);
        assert!(
            !out.success(),
            "config {cmd} of a broken document succeeded: {out}"
        );
        let text = out.all();
        for p in ERROR_PATHS {
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{p}:"))),
                "config {cmd}: no error for {p}:\n{out}"
            );
        }
    }
    assert_eq!(
        server.export(),
        before,
        "the configuration in force changed"
    );
    // And the server still runs on it: 299 does not exist, 201 keeps its password.
    let udp = common::SipUdp::new(server.addr());
    let r = udp
        .options(
            &format!("sip:299@{}", server.addr()),
            std::time::Duration::from_secs(5),
        )
        .expect("answer");
    assert_eq!(r.status, 404, "{}", r.raw);
    let mut phone = Phone::new(&server, "201", &server.password("201"));
    let c = phone.contact("a");
    assert_eq!(phone.register(&[c], Some(600), "MD5").status, 200);
}

#[test]
fn toml_syntax_error_names_line_and_column() {
    let server = Server::start();
    let before = server.export();
    let path = server.write_file("syntax.toml", "[system]\nname = \"x\"\nrealm = \n");
    let out = server.cli(&["config", "apply", path.to_str().unwrap()]);
    assert!(!out.success(), "{out}");
    assert!(out.all().contains("line 3"), "{out}");
    assert_eq!(server.export(), before);
}

#[test]
fn csv_import_with_a_bad_row_names_its_line_and_imports_nothing() {
    let server = Server::start();
    let before = server.export();
    let csv = "number,password,name\n\
               1001,Str0ng-Pass-Alpha,Alice Example\n\
               10a2,Str0ng-Pass-Bravo,Bob Example\n\
               1003,Str0ng-Pass-Charlie,Carol Example\n";
    let path = server.write_file("bad.csv", csv);
    let out = server.cli(&["import", "extensions", path.to_str().unwrap()]);
    assert!(!out.success(), "import of a bad file succeeded: {out}");
    assert!(
        out.all().contains("line 3"),
        "the bad row is on line 3: {out}"
    );
    assert_eq!(
        server.export(),
        before,
        "part of a rejected file was imported"
    );

    // A weak password is refused unless allowed.
    let weak = server.write_file("weak.csv", "number,password,name\n1004,1234,Dan\n");
    let out = server.cli(&["import", "extensions", weak.to_str().unwrap()]);
    assert!(!out.success(), "a weak password was imported: {out}");
    assert!(out.all().contains("line 2"), "{out}");
}

#[test]
fn csv_import_while_running_registers_at_once() {
    let server = Server::start();
    server.enable_sha256();
    let csv = "number,password,name\n\
               1001,Str0ng-Pass-Alpha,Alice Example\n\
               1002,Str0ng-Pass-Bravo,Bob Example\n";
    let path = server.write_file("ok.csv", csv);
    let out = server.cli_ok(&["import", "extensions", path.to_str().unwrap()]);
    assert!(out.contains("imported 2"), "{out}");
    assert!(
        out.contains("running server"),
        "the running server was told: {out}"
    );
    let mut phone = Phone::new(&server, "1001", "Str0ng-Pass-Alpha");
    let c = phone.contact("a");
    let r = phone.register(&[c], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    let doc = server.export();
    assert!(doc.contains("number = \"1002\""), "{doc}");
    assert!(doc.contains("Bob Example"), "{doc}");

    // Weak passwords only with the flag.
    let weak = server.write_file("weak.csv", "number,password,name\n1004,1234,Dan\n");
    server.cli_ok(&[
        "import",
        "extensions",
        weak.to_str().unwrap(),
        "--allow-weak-passwords",
    ]);
    let mut phone = Phone::new(&server, "1004", "1234");
    let c = phone.contact("a");
    assert_eq!(phone.register(&[c], Some(600), "SHA-256").status, 200);
}

#[test]
fn csv_import_without_a_running_server_applies_at_next_start() {
    let mut server = Server::start();
    server.stop();
    let path = server.write_file(
        "ok.csv",
        "number,password,name\n1005,Str0ng-Pass-Echo,Eve Example\n",
    );
    let out = server.cli_ok(&["import", "extensions", path.to_str().unwrap()]);
    assert!(out.contains("no server is running"), "{out}");
    server.restart();
    let mut phone = Phone::new(&server, "1005", "Str0ng-Pass-Echo");
    let c = phone.contact("a");
    assert_eq!(phone.register(&[c], Some(600), "MD5").status, 200);
}

#[test]
fn apply_while_running_takes_effect_and_keeps_registrations() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "201", &server.password("201"));
    let c = phone.contact("kept");
    assert_eq!(phone.register(&[c], Some(600), "MD5").status, 200);
    assert_eq!(server.status().bindings_of("201").len(), 1);

    let doc = server.export();
    let doc = set_toml_value(&doc, "min_expires", "120");
    let doc = format!(
        "{doc}\n[[extensions]]\nnumber = \"2001\"\npassword = \"Fresh-Str0ng-Pass-Kilo\"\n\
         direct_media = false\n"
    );
    let path = server.write_file("more.toml", &doc);
    let out = server.cli_ok(&["config", "apply", path.to_str().unwrap()]);
    assert!(out.contains("running server"), "{out}");

    // The registration that was there is still there.
    let st = server.status();
    let b = st.bindings_of("201");
    assert_eq!(b.len(), 1, "apply dropped a registration:\n{}", st.text);
    assert!(b[0].contact.contains("line=kept"), "{}", st.text);

    // The new extension registers at once, and the new minimum applies.
    let mut fresh = Phone::new(&server, "2001", "Fresh-Str0ng-Pass-Kilo");
    let c = fresh.contact("a");
    let r = fresh.register(std::slice::from_ref(&c), Some(60), "MD5");
    assert_eq!(r.status, 423, "min_expires is now 120: {}", r.raw);
    assert_eq!(
        r.header("Min-Expires").map(str::trim),
        Some("120"),
        "{}",
        r.raw
    );
    let r = fresh.register(&[c], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);

    // Who changed what is recorded.
    let audit = server.cli_ok(&["audit"]);
    assert!(audit.contains("config apply"), "{audit}");
    assert!(audit.contains("min_expires"), "{audit}");
}

#[test]
fn removing_an_extension_drops_its_bindings_and_its_number() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "210", &server.password("210"));
    let c = phone.contact("a");
    assert_eq!(phone.register(&[c], Some(600), "MD5").status, 200);
    let doc = server.export();
    // Cut the [[extensions]] block of 210 and the user pointing at it.
    let blocks: Vec<&str> = doc.split("\n[[").collect();
    let kept: Vec<&str> = blocks
        .into_iter()
        .filter(|b| !(b.contains("number = \"210\"") || b.contains("extension = \"210\"")))
        .collect();
    let doc = kept.join("\n[[");
    let path = server.write_file("less.toml", &doc);
    server.cli_ok(&["config", "apply", path.to_str().unwrap()]);
    let st = server.status();
    assert_eq!(st.bindings_of("210").len(), 0, "{}", st.text);
    let udp = common::SipUdp::new(server.addr());
    let r = udp
        .options(
            &format!("sip:210@{}", server.addr()),
            std::time::Duration::from_secs(5),
        )
        .expect("answer");
    assert_eq!(r.status, 404, "{}", r.raw);
}

/// An INVITE from `user` to `number` asking for a session interval of `secs` (with timer
/// support): INVITE, 401, INVITE with MD5 credentials; returns the final answer to the
/// second INVITE.
fn invite_asking_session_interval(
    server: &Server,
    user: &str,
    number: &str,
    secs: u32,
) -> Response {
    let udp = SipUdp::new(server.addr());
    let uri = format!("sip:{number}@{}", server.addr().ip());
    let from = format!("sip:{user}@{}", server.addr().ip());
    let call_id = unique();
    let invite = |cseq: u32| {
        Req::with_parties("INVITE", &uri, udp.local(), "UDP", &call_id, &from, &uri)
            .without("CSeq")
            .header(format!("CSeq: {cseq} INVITE"))
            .header(format!("Contact: <sip:{user}@{}>", udp.local()))
            .header("Supported: timer")
            .header(format!("Session-Expires: {secs}"))
    };
    let challenge = udp
        .request(&invite(1), Duration::from_secs(10))
        .expect("an answer to INVITE");
    assert_eq!(challenge.status, 401, "{}", challenge.raw);
    let c = challenge
        .headers_named("www-authenticate")
        .into_iter()
        .map(parse_challenge)
        .next()
        .expect("a challenge");
    let auth = authorization(&c, user, &server.password(user), "INVITE", &uri);
    udp.send(
        &invite(2)
            .header(format!("Authorization: {auth}"))
            .to_bytes(),
    );
    // The 401 is not ACKed, so the server retransmits it: skip those.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let r = udp
            .response(&call_id, left)
            .expect("a final answer to the authenticated INVITE");
        if r.header("CSeq").map(str::trim) == Some("2 INVITE") {
            return r;
        }
    }
}

#[test]
fn calls_settings_apply_to_the_running_server() {
    let server = Server::start();
    // The callee must be reachable for the INVITE to get as far as the session timer.
    let mut callee = Phone::new(&server, "202", &server.password("202"));
    let c = callee.contact("a");
    assert_eq!(callee.register(&[c], Some(600), "MD5").status, 200);

    let doc = set_toml_value(&server.export(), "min_se_secs", "120");
    let doc = set_toml_value(&doc, "session_expires_secs", "600");
    let path = server.write_file("calls.toml", &doc);
    let out = server.cli_ok(&["config", "apply", path.to_str().unwrap()]);
    assert!(out.contains("running server"), "{out}");
    let exported = server.export();
    assert!(
        exported.contains("\n[calls]\nsession_expires_secs = 600\nmin_se_secs = 120\n"),
        "{exported}"
    );

    // 100 s passed the default minimum of 90; now the caller is told 120 (RFC 4028 422).
    let r = invite_asking_session_interval(&server, "201", "202", 100);
    assert_eq!(r.status, 422, "{}", r.raw);
    assert_eq!(r.header("Min-SE").map(str::trim), Some("120"), "{}", r.raw);

    // A minimum above the interval is refused, and the configuration in force stays.
    let bad = set_toml_value(&doc, "min_se_secs", "900");
    let path = server.write_file("calls-bad.toml", &bad);
    let out = server.cli(&["config", "apply", path.to_str().unwrap()]);
    assert!(!out.success(), "{out}");
    assert!(
        out.all().contains(
            "calls.session_expires_secs: must be 0 (no session timer) or between 900 \
             (calls.min_se_secs) and 86400 (got 600)"
        ),
        "{out}"
    );
    assert_eq!(server.export(), exported);

    let audit = server.cli_ok(&["audit"]);
    assert!(audit.contains("calls.min_se_secs"), "{audit}");
}

#[test]
fn the_default_attendant_exports_and_an_unknown_prompt_is_refused_with_its_path() {
    let server = Server::start();
    let before = server.export();
    assert!(
        before.contains("[[call_flows]]\nname = \"reception\"\nnumber = \"200\""),
        "{before}"
    );
    let doc = before.replacen("\"attendant-welcome\"", "\"attendant-hello\"", 1);
    let path = server.write_file("prompt.toml", &doc);
    let out = server.cli(&["config", "apply", path.to_str().unwrap()]);
    assert!(!out.success(), "{out}");
    assert!(
        out.all()
            .contains("call_flows[0].steps[0].say[0]: no built-in prompt \"attendant-hello\""),
        "{out}"
    );
    assert_eq!(server.export(), before);
}
