//! Digest authentication: RFC 7616 and RFC 2617 test vectors, and round trips between
//! [`answer_challenge`] and [`Challenger::verify`] through the wire form of the headers.

use sip::auth::{
    answer_challenge, ha1, pick_challenge, AuthError, AuthReply, Challenger, Credentials,
    DigestAlgorithm, Malformed, NonceSecret,
};
use sip::header::AuthParams;
use std::time::Duration;

const NOW: u64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const REALM: &str = "pbx.example.com";
const URI: &str = "sip:pbx.example.com";

fn params(scheme: &str, list: &[(&str, &str)]) -> AuthParams {
    AuthParams {
        scheme: scheme.to_string(),
        params: list
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect(),
    }
}

/// `a` with parameter `name` set to `value` (tampering in tests).
fn set(mut a: AuthParams, name: &str, value: &str) -> AuthParams {
    for (n, v) in a.params.iter_mut() {
        if n == name {
            *v = value.to_string();
        }
    }
    a
}

/// The challenge from RFC 7616 §3.9.1 for one algorithm.
fn rfc7616_challenge(algorithm: &str) -> AuthParams {
    params(
        "Digest",
        &[
            ("realm", "http-auth@example.org"),
            ("qop", "auth, auth-int"),
            ("algorithm", algorithm),
            ("nonce", "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
            ("opaque", "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"),
        ],
    )
}

fn rfc7616_answer(algorithm: &str) -> AuthParams {
    answer_challenge(
        &rfc7616_challenge(algorithm),
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle of Life",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        1,
    )
    .unwrap()
}

#[test]
fn rfc7616_md5_vector() {
    let a = rfc7616_answer("MD5");
    assert_eq!(a.get("response"), Some("8ca523f5e9506fed4657c9700eebdbec"));
    assert_eq!(a.get("nc"), Some("00000001"));
    assert_eq!(a.get("qop"), Some("auth"));
    assert_eq!(a.get("algorithm"), Some("MD5"));
    assert_eq!(
        a.get("opaque"),
        Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
    );
}

#[test]
fn rfc7616_sha256_vector() {
    let a = rfc7616_answer("SHA-256");
    assert_eq!(
        a.get("response"),
        Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    );
    assert_eq!(a.get("algorithm"), Some("SHA-256"));
}

#[test]
fn rfc7616_vector_from_wire_text() {
    // The same challenge as it appears on the wire, through the header parser.
    let text = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
                algorithm=SHA-256, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
    let challenge = AuthParams::parse(text).unwrap();
    let a = answer_challenge(
        &challenge,
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle of Life",
        "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        1,
    )
    .unwrap();
    let reparsed = AuthParams::parse(&a.to_string()).unwrap();
    assert_eq!(
        reparsed.get("response"),
        Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    );
    assert_eq!(reparsed.get("username"), Some("Mufasa"));
}

#[test]
fn rfc2617_vector() {
    let challenge = params(
        "Digest",
        &[
            ("realm", "testrealm@host.com"),
            ("qop", "auth,auth-int"),
            ("nonce", "dcd98b7102dd2f0e8b11d0f600bfb0c093"),
            ("opaque", "5ccc069c403ebaf9f0171e9517f40e41"),
        ],
    );
    let a = answer_challenge(
        &challenge,
        "GET",
        "/dir/index.html",
        "Mufasa",
        "Circle Of Life",
        "0a4f113b",
        1,
    )
    .unwrap();
    assert_eq!(a.get("response"), Some("6629fae49393a05397450978507c4ef1"));
    // No algorithm in the challenge: none in the answer (MD5 is implied).
    assert_eq!(a.get("algorithm"), None);
}

#[test]
fn ha1_vectors() {
    assert_eq!(
        ha1(
            DigestAlgorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life"
        ),
        "939e7578ed9e3c518a452acee763bce9"
    );
    let h = ha1(
        DigestAlgorithm::Sha256,
        "Mufasa",
        "http-auth@example.org",
        "Circle of Life",
    );
    assert_eq!(h.len(), 64);
    assert!(h
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
}

// ---- round trips -------------------------------------------------------------------------

struct Phone {
    user: &'static str,
    password: &'static str,
}

const ALICE: Phone = Phone {
    user: "201",
    password: "s3cret-201",
};

fn challenger() -> Challenger {
    Challenger::new(NonceSecret::from_bytes([42; 32]), REALM)
}

/// The store: HA1 per algorithm for user 201 only.
fn lookup(user: &str, alg: DigestAlgorithm) -> Option<String> {
    (user == ALICE.user).then(|| ha1(alg, ALICE.user, REALM, ALICE.password))
}

/// Challenge at `issued`, answer the preferred challenge as `phone`, send it through the
/// wire form, verify at `now`.
fn round_trip(c: &Challenger, phone: &Phone, issued: u64, now: u64) -> Result<String, AuthError> {
    let challenges: Vec<AuthParams> = c
        .challenge(issued, false)
        .iter()
        .map(|ch| AuthParams::parse(&ch.to_string()).unwrap())
        .collect();
    let chosen = pick_challenge(&challenges).unwrap();
    let answer = answer_challenge(
        chosen,
        "REGISTER",
        URI,
        phone.user,
        phone.password,
        "0a4f113b",
        1,
    )
    .unwrap();
    let wire = AuthParams::parse(&answer.to_string()).unwrap();
    c.verify(now, "REGISTER", &wire, lookup).map(|v| v.username)
}

#[test]
fn challenge_offers_sha256_then_md5_with_one_nonce() {
    let ch = challenger().challenge(NOW, false);
    assert_eq!(ch.len(), 2);
    assert_eq!(ch[0].get("algorithm"), Some("SHA-256"));
    assert_eq!(ch[1].get("algorithm"), Some("MD5"));
    assert_eq!(ch[0].get("nonce"), ch[1].get("nonce"));
    for c in &ch {
        assert_eq!(c.scheme, "Digest");
        assert_eq!(c.get("realm"), Some(REALM));
        assert_eq!(c.get("qop"), Some("auth"));
        assert_eq!(c.get("stale"), None);
        assert_eq!(c.get("opaque"), None);
    }
    let stale = challenger().with_opaque("xyz").challenge(NOW, true);
    assert_eq!(stale[0].get("stale"), Some("true"));
    assert_eq!(stale[0].get("opaque"), Some("xyz"));
    // Fresh nonce per challenge.
    assert_ne!(stale[0].get("nonce"), ch[0].get("nonce"));
}

#[test]
fn round_trip_sha256() {
    assert_eq!(
        round_trip(&challenger(), &ALICE, NOW, NOW + 10),
        Ok("201".into())
    );
}

#[test]
fn round_trip_md5_only() {
    let c = challenger().with_algorithms(&[DigestAlgorithm::Md5]);
    let ch = c.challenge(NOW, false);
    assert_eq!(ch.len(), 1);
    assert_eq!(round_trip(&c, &ALICE, NOW, NOW), Ok("201".into()));
}

#[test]
fn verified_carries_details() {
    let c = challenger();
    let ch = &c.challenge(NOW, false)[1]; // MD5
    let a = answer_challenge(ch, "INVITE", URI, "201", ALICE.password, "abc", 7).unwrap();
    let v = c.verify(NOW + 1, "INVITE", &a, lookup).unwrap();
    assert_eq!(v.algorithm, DigestAlgorithm::Md5);
    assert_eq!(v.nc, Some(7));
    assert_eq!(v.nonce_issued_at, NOW);
    assert_eq!(v.uri, URI);
    assert_eq!(v.nonce, ch.get("nonce").unwrap());
}

#[test]
fn method_is_covered() {
    let c = challenger();
    let ch = &c.challenge(NOW, false)[0];
    let a = answer_challenge(ch, "REGISTER", URI, "201", ALICE.password, "abc", 1).unwrap();
    assert_eq!(
        c.verify(NOW, "INVITE", &a, lookup),
        Err(AuthError::Failed {
            username: "201".into()
        })
    );
}

#[test]
fn rfc2069_style_answer_is_accepted() {
    // A client answering a qop-less challenge sends no qop, nc or cnonce.
    let c = challenger();
    let mut ch = c.challenge(NOW, false).remove(0);
    ch.params.retain(|(n, _)| n != "qop");
    let a = answer_challenge(&ch, "REGISTER", URI, "201", ALICE.password, "", 1).unwrap();
    assert_eq!(a.get("qop"), None);
    assert_eq!(a.get("nc"), None);
    let v = c.verify(NOW, "REGISTER", &a, lookup).unwrap();
    assert_eq!(v.nc, None);
}

#[test]
fn stale_nonce_with_right_password_is_stale() {
    let c = challenger().with_nonce_lifetime(Duration::from_secs(60));
    assert_eq!(round_trip(&c, &ALICE, NOW, NOW + 60), Ok("201".into()));
    let err = round_trip(&c, &ALICE, NOW, NOW + 61).unwrap_err();
    assert_eq!(
        err,
        AuthError::Stale {
            username: "201".into()
        }
    );
    assert_eq!(err.reply(), AuthReply::Challenge { stale: true });
}

#[test]
fn nonce_from_the_future_is_stale() {
    let c = challenger().with_nonce_lifetime(Duration::from_secs(60));
    assert!(matches!(
        round_trip(&c, &ALICE, NOW + 1000, NOW),
        Err(AuthError::Stale { .. })
    ));
}

#[test]
fn stale_nonce_with_wrong_password_fails() {
    let c = challenger().with_nonce_lifetime(Duration::from_secs(60));
    let wrong = Phone {
        user: "201",
        password: "guess",
    };
    assert_eq!(
        round_trip(&c, &wrong, NOW, NOW + 3600),
        Err(AuthError::Failed {
            username: "201".into()
        })
    );
}

#[test]
fn wrong_password_fails() {
    let wrong = Phone {
        user: "201",
        password: "guess",
    };
    let err = round_trip(&challenger(), &wrong, NOW, NOW).unwrap_err();
    assert_eq!(
        err,
        AuthError::Failed {
            username: "201".into()
        }
    );
    assert_eq!(err.reply(), AuthReply::Forbidden);
}

#[test]
fn unknown_user_fails_like_wrong_password() {
    let ghost = Phone {
        user: "999",
        password: "s3cret-201",
    };
    assert_eq!(
        round_trip(&challenger(), &ghost, NOW, NOW),
        Err(AuthError::Failed {
            username: "999".into()
        })
    );
    // Also with an expired nonce: an unknown user must never look "stale".
    let c = challenger().with_nonce_lifetime(Duration::from_secs(1));
    assert!(matches!(
        round_trip(&c, &ghost, NOW, NOW + 100),
        Err(AuthError::Failed { .. })
    ));
}

#[test]
fn lookup_is_asked_for_user_and_algorithm() {
    let c = challenger();
    let ch = &c.challenge(NOW, false)[0];
    let a = answer_challenge(ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    let mut asked = None;
    let _ = c.verify(NOW, "REGISTER", &a, |u, alg| {
        asked = Some((u.to_string(), alg));
        lookup(u, alg)
    });
    assert_eq!(asked, Some(("201".to_string(), DigestAlgorithm::Sha256)));
}

#[test]
fn forged_nonce_is_bad_and_store_is_not_asked() {
    let c = challenger();
    let ch = c.challenge(NOW, false).remove(0);
    // Claim another issue time (the first 16 hex digits) with the MAC unchanged.
    let nonce = ch.get("nonce").unwrap();
    let forged = format!(
        "{}{}",
        if nonce.starts_with('f') { "e" } else { "f" },
        &nonce[1..]
    );
    let ch = set(ch, "nonce", &forged);
    let a = answer_challenge(&ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    let err = c
        .verify(NOW, "REGISTER", &a, |_, _| {
            panic!("store asked for a forged nonce")
        })
        .unwrap_err();
    assert_eq!(err, AuthError::BadNonce);
    assert_eq!(err.reply(), AuthReply::Challenge { stale: false });

    // A nonce from another system, and one signed with another key.
    let other = Challenger::new(NonceSecret::from_bytes([1; 32]), REALM);
    let foreign = &other.challenge(NOW, false)[0];
    let a = answer_challenge(foreign, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    assert_eq!(
        c.verify(NOW, "REGISTER", &a, lookup),
        Err(AuthError::BadNonce)
    );
    // The RFC 7616 example nonce, presented for our realm.
    let theirs = set(rfc7616_challenge("SHA-256"), "realm", REALM);
    let a = answer_challenge(&theirs, "REGISTER", URI, "201", "x", "c", 1).unwrap();
    assert_eq!(
        c.verify(NOW, "REGISTER", &a, lookup),
        Err(AuthError::BadNonce)
    );
}

#[test]
fn wrong_realm_is_refused() {
    let c = challenger();
    let other = Challenger::new(NonceSecret::from_bytes([42; 32]), "elsewhere");
    let ch = &other.challenge(NOW, false)[0];
    let a = answer_challenge(ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    assert_eq!(
        c.verify(NOW, "REGISTER", &a, lookup),
        Err(AuthError::WrongRealm {
            expected: REALM.into(),
            got: "elsewhere".into()
        })
    );
}

#[test]
fn algorithm_not_offered_is_refused() {
    // SHA-256 only: an MD5 answer (a downgrade) is refused.
    let c = challenger().with_algorithms(&[DigestAlgorithm::Sha256]);
    let ch = set(c.challenge(NOW, false).remove(0), "algorithm", "MD5");
    let a = answer_challenge(&ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    assert_eq!(
        c.verify(NOW, "REGISTER", &a, lookup),
        Err(AuthError::UnsupportedAlgorithm("MD5".into()))
    );
    let sess = set(a.clone(), "algorithm", "SHA-256-sess");
    assert_eq!(
        c.verify(NOW, "REGISTER", &sess, lookup),
        Err(AuthError::UnsupportedAlgorithm("SHA-256-sess".into()))
    );
    let odd = set(a, "algorithm", "SHA-512-256");
    assert_eq!(
        c.verify(NOW, "REGISTER", &odd, lookup),
        Err(AuthError::UnsupportedAlgorithm("SHA-512-256".into()))
    );
}

#[test]
fn opaque_must_come_back() {
    let c = challenger().with_opaque("op1");
    let ch = &c.challenge(NOW, false)[0];
    let mut a = answer_challenge(ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    assert!(c.verify(NOW, "REGISTER", &a, lookup).is_ok());
    a.params.retain(|(n, _)| n != "opaque");
    assert_eq!(
        c.verify(NOW, "REGISTER", &a, lookup),
        Err(AuthError::OpaqueMismatch)
    );
}

#[test]
fn malformed_credentials() {
    let c = challenger();
    let ch = &c.challenge(NOW, false)[0];
    let good = answer_challenge(ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    let without = |name: &str| {
        let mut a = good.clone();
        a.params.retain(|(n, _)| n != name);
        c.verify(NOW, "REGISTER", &a, lookup)
    };
    for name in [
        "username", "realm", "nonce", "uri", "response", "nc", "cnonce",
    ] {
        assert!(
            matches!(
                without(name),
                Err(AuthError::Malformed(Malformed::MissingParam(n))) if n == name
            ),
            "{name}"
        );
    }
    let bad_nc = set(good.clone(), "nc", "1");
    assert_eq!(
        c.verify(NOW, "REGISTER", &bad_nc, lookup),
        Err(AuthError::Malformed(Malformed::BadNonceCount("1".into())))
    );
    let auth_int = set(good.clone(), "qop", "auth-int");
    assert_eq!(
        c.verify(NOW, "REGISTER", &auth_int, lookup),
        Err(AuthError::UnsupportedQop("auth-int".into()))
    );
    let basic = params("Basic", &[]);
    assert_eq!(
        c.verify(NOW, "REGISTER", &basic, lookup),
        Err(AuthError::UnsupportedScheme("Basic".into()))
    );
}

#[test]
fn uppercase_response_hex_is_accepted() {
    let c = challenger();
    let ch = &c.challenge(NOW, false)[0];
    let a = answer_challenge(ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    let upper = a.get("response").unwrap().to_ascii_uppercase();
    let a = set(a, "response", &upper);
    assert!(c.verify(NOW, "REGISTER", &a, lookup).is_ok());
}

#[test]
fn two_step_verification() {
    let c = challenger();
    let ch = &c.challenge(NOW, false)[0];
    let a = answer_challenge(ch, "REGISTER", URI, "201", ALICE.password, "c", 1).unwrap();
    let creds = Credentials::from_params(&a).unwrap();
    assert_eq!(creds.username, "201");
    assert_eq!(creds.algorithm, DigestAlgorithm::Sha256);
    let stored = lookup(&creds.username, creds.algorithm);
    assert!(c
        .verify_credentials(NOW, "REGISTER", &creds, stored.as_deref())
        .is_ok());
    assert!(matches!(
        c.verify_credentials(NOW, "REGISTER", &creds, None),
        Err(AuthError::Failed { .. })
    ));
}

#[test]
fn session_algorithm_client_side() {
    // MD5-sess: HA1' = MD5(HA1:nonce:cnonce); check against a hand computation.
    let ch = params(
        "Digest",
        &[
            ("realm", REALM),
            ("nonce", "abc"),
            ("algorithm", "MD5-sess"),
            ("qop", "auth"),
        ],
    );
    let a = answer_challenge(&ch, "REGISTER", URI, "201", "pw", "xyz", 1).unwrap();
    let md5 = |s: String| {
        use md5::Digest;
        hex::encode(md5::Md5::digest(s.as_bytes()))
    };
    let h1 = md5(format!(
        "{}:abc:xyz",
        ha1(DigestAlgorithm::Md5, "201", REALM, "pw")
    ));
    let h2 = md5(format!("REGISTER:{URI}"));
    let expected = md5(format!("{h1}:abc:00000001:xyz:auth:{h2}"));
    assert_eq!(a.get("response"), Some(expected.as_str()));
    assert_eq!(a.get("algorithm"), Some("MD5-sess"));
}

#[test]
fn client_refusals() {
    let ok = |extra: &[(&str, &str)]| {
        let mut list = vec![("realm", REALM), ("nonce", "n")];
        list.extend_from_slice(extra);
        answer_challenge(&params("Digest", &list), "REGISTER", URI, "u", "p", "c", 1)
    };
    assert!(ok(&[]).is_ok());
    assert_eq!(
        ok(&[("qop", "auth-int")]),
        Err(AuthError::UnsupportedQop("auth-int".into()))
    );
    assert_eq!(
        ok(&[("algorithm", "SHA-512-256")]),
        Err(AuthError::UnsupportedAlgorithm("SHA-512-256".into()))
    );
    let no_nonce = params("Digest", &[("realm", REALM)]);
    assert_eq!(
        answer_challenge(&no_nonce, "REGISTER", URI, "u", "p", "c", 1),
        Err(AuthError::Malformed(Malformed::MissingParam("nonce")))
    );
}

#[test]
fn pick_prefers_sha256() {
    let md5 = params(
        "Digest",
        &[("realm", "r"), ("nonce", "n"), ("algorithm", "MD5")],
    );
    let sha = params(
        "Digest",
        &[("realm", "r"), ("nonce", "n"), ("algorithm", "SHA-256")],
    );
    let odd = params(
        "Digest",
        &[("realm", "r"), ("nonce", "n"), ("algorithm", "SHA-512-256")],
    );
    let basic = params("Basic", &[("realm", "r")]);
    let list = [basic.clone(), md5.clone(), odd.clone(), sha.clone()];
    assert_eq!(pick_challenge(&list), Some(&sha));
    let list = [odd.clone(), md5.clone()];
    assert_eq!(pick_challenge(&list), Some(&md5));
    assert_eq!(pick_challenge(&[basic, odd]), None);
}

#[test]
fn find_credentials_among_header_values() {
    let c = challenger();
    let ours = format!(
        "Digest username=\"201\", realm=\"{REALM}\", nonce=\"n\", uri=\"{URI}\", response=\"r\""
    );
    let theirs =
        "Digest username=\"x\", realm=\"elsewhere\", nonce=\"n\", uri=\"u\", response=\"r\"";
    let found = c
        .find_credentials([theirs, "Basic realm=\"b\"", &ours])
        .unwrap();
    assert_eq!(found.get("username"), Some("201"));
    assert_eq!(c.find_credentials([]), Err(AuthError::Missing));
    assert_eq!(
        c.find_credentials(["Basic realm=\"b\""]),
        Err(AuthError::Missing)
    );
    assert_eq!(
        c.find_credentials([theirs]),
        Err(AuthError::WrongRealm {
            expected: REALM.into(),
            got: "elsewhere".into()
        })
    );
    let err = c.find_credentials(["Digest realm"]).unwrap_err();
    assert!(matches!(err, AuthError::Malformed(Malformed::Syntax(_))));
    assert_eq!(err.reply(), AuthReply::BadRequest);
    assert_eq!(
        c.find_credentials(["Digest username=\"201\""]),
        Err(AuthError::Malformed(Malformed::MissingParam("realm")))
    );
}
