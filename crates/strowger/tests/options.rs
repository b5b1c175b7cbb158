//! OPTIONS outside a dialog: 200 for an assigned number and for the server itself, 404 for
//! an unassigned number, with no authentication asked for.

mod common;

use common::{Server, SipUdp, Sipp};
use std::time::Duration;

#[test]
fn sipp_options_200_404_over_udp() {
    let server = Server::start();
    Sipp::new("options")
        .key("assigned", "201")
        .key("unassigned", "299")
        .expect_success(&server);
}

#[test]
fn sipp_options_200_404_over_tcp() {
    let server = Server::start();
    Sipp::new("options")
        .tcp()
        .key("assigned", "210")
        .key("unassigned", "2011")
        .expect_success(&server);
}

#[test]
fn options_answers_echo_the_request_and_come_back_to_the_source() {
    let server = Server::start();
    let udp = SipUdp::new(server.addr());
    let r = udp
        .options(
            &format!("sip:205@{}", server.addr()),
            Duration::from_secs(5),
        )
        .expect("an answer");
    assert_eq!(r.status, 200, "{}", r.raw);
    assert!(
        r.header("CSeq").is_some_and(|c| c.ends_with("OPTIONS")),
        "{}",
        r.raw
    );
    let via = r.header("Via").expect("Via");
    assert!(
        via.contains(&format!("rport={}", udp.local().port())),
        "{via}"
    );
    let r = udp
        .options(
            &format!("sip:211@{}", server.addr()),
            Duration::from_secs(5),
        )
        .expect("an answer");
    assert_eq!(r.status, 404, "{}", r.raw);
}
