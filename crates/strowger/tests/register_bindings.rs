//! The registrar's bindings: several contacts with their own expiry, binding queries,
//! unregistering one or all, the contact limit, and 423 for too brief an expiry.

mod common;

use common::{Phone, Server, Sipp};

#[test]
fn multi_contact_with_per_contact_expiry_and_binding_query() {
    let server = Server::start();
    Sipp::new("multi_contact")
        .user("201", &server.password("201"))
        .expect_success(&server);
    let st = server.status();
    let b = st.bindings_of("201");
    assert_eq!(b.len(), 2, "{}", st.text);
    let a = b
        .iter()
        .find(|x| x.contact.contains("line=a"))
        .expect("line=a");
    let bb = b
        .iter()
        .find(|x| x.contact.contains("line=b"))
        .expect("line=b");
    assert!((100..=120).contains(&a.expires), "{}", a.line);
    assert!((280..=300).contains(&bb.expires), "{}", bb.line);
}

#[test]
fn unregister_one_then_all() {
    let server = Server::start();
    Sipp::new("unregister")
        .user("202", &server.password("202"))
        .expect_success(&server);
    let st = server.status();
    assert_eq!(st.bindings_of("202").len(), 0, "{}", st.text);
    assert_eq!(st.registrations, 0, "{}", st.text);
}

#[test]
fn unregister_over_tcp() {
    let server = Server::start();
    Sipp::new("unregister")
        .tcp()
        .user("203", &server.password("203"))
        .expect_success(&server);
    assert_eq!(server.status().registrations, 0);
}

#[test]
fn a_fourth_contact_replaces_the_oldest() {
    let server = Server::start();
    Sipp::new("max_contacts")
        .user("204", &server.password("204"))
        .expect_success(&server);
    let st = server.status();
    let b = st.bindings_of("204");
    assert_eq!(b.len(), 3, "{}", st.text);
    assert!(
        b.iter().all(|x| !x.contact.contains("line=c1")),
        "{}",
        st.text
    );
    for line in ["c2", "c3", "c4"] {
        assert!(
            b.iter()
                .any(|x| x.contact.contains(&format!("line={line}"))),
            "{line}: {}",
            st.text
        );
    }
}

#[test]
fn too_brief_expiry_gets_423_with_min_expires() {
    let server = Server::start();
    Sipp::new("too_brief")
        .user("205", &server.password("205"))
        .expect_success(&server);
    assert_eq!(server.status().registrations, 0);
}

#[test]
fn binding_query_does_not_change_bindings() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "206", &server.password("206"));
    let contact = phone.contact("a");
    let r = phone.register(std::slice::from_ref(&contact), Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    // A query from another phone of the same extension sees the binding.
    let mut other = Phone::new(&server, "206", &server.password("206"));
    let q = other.register(&[], None, "MD5");
    assert_eq!(q.status, 200, "{}", q.raw);
    let contacts = q.contacts();
    assert_eq!(contacts.len(), 1, "{}", q.raw);
    assert!(contacts[0].starts_with(&contact), "{}", q.raw);
    let st = server.status();
    assert_eq!(st.bindings_of("206").len(), 1, "{}", st.text);
}

#[test]
fn expires_zero_on_an_unknown_contact_changes_nothing() {
    let server = Server::start();
    let mut phone = Phone::new(&server, "207", &server.password("207"));
    let a = phone.contact("a");
    let r = phone.register(&[a], Some(600), "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    let b = format!("{};expires=0", phone.contact("never-registered"));
    let r = phone.register(&[b], None, "MD5");
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.contacts().len(), 1, "{}", r.raw);
}
