//! The core's cost for one authenticated registration (REGISTER → 401 → REGISTER with
//! digest → 200), without sockets: what the server spends per phone refresh.
//! Run: `cargo bench -p pbx --bench register`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use pbx::{Directory, ExtensionEntry, Pbx, PbxSettings, Peer};
use sip::auth::{answer_challenge, ha1, DigestAlgorithm, NonceSecret};
use sip::header::{AuthParams, HeaderName};
use std::time::{Duration, Instant};

fn register_text(ext: u32, cseq: u32, authz: Option<&AuthParams>) -> String {
    let auth = authz.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    format!(
        "REGISTER sip:127.0.0.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-{ext}-{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:{ext}@127.0.0.1>;tag=t{ext}\r\n\
         To: <sip:{ext}@127.0.0.1>\r\n\
         Call-ID: c{ext}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:{ext}@127.0.0.1:5999>\r\n\
         Expires: 3600\r\n\
         {auth}Content-Length: 0\r\n\r\n"
    )
}

fn registration(c: &mut Criterion) {
    let users = 1000..4000u32;
    let dir = Directory::new(users.clone().map(|e| {
        let n = e.to_string();
        ExtensionEntry {
            ha1_md5: ha1(DigestAlgorithm::Md5, &n, "strowger", &format!("pw{e}")),
            ha1_sha256: ha1(DigestAlgorithm::Sha256, &n, "strowger", &format!("pw{e}")),
            direct_media: false,
            number: n,
        }
    }));
    let mut now = Instant::now();
    let mut pbx = Pbx::new(
        PbxSettings::default(),
        dir,
        NonceSecret::from_bytes([3; 32]),
        now,
        1_800_000_000,
    );
    let peer = Peer::udp("127.0.0.1:5062".parse().expect("addr"));
    let mut ext = users.start;
    let mut cseq = 0u32;
    let mut g = c.benchmark_group("pbx");
    g.throughput(Throughput::Elements(1));
    g.bench_function("authenticated REGISTER (two requests)", |b| {
        b.iter(|| {
            cseq += 2;
            ext = if ext + 1 >= users.end {
                users.start
            } else {
                ext + 1
            };
            let first = register_text(ext, cseq, None);
            pbx.handle_datagram(now, peer, first.as_bytes());
            let challenge = pbx.poll_transmit().expect("401");
            let sip::Message::Response(resp) =
                sip::parse_message(&challenge.bytes).expect("parses")
            else {
                panic!("a response")
            };
            let chal = AuthParams::parse(
                resp.headers
                    .get(&HeaderName::WwwAuthenticate)
                    .expect("challenge"),
            )
            .expect("challenge parses");
            let authz = answer_challenge(
                &chal,
                "REGISTER",
                "sip:127.0.0.1",
                &ext.to_string(),
                &format!("pw{ext}"),
                "abc",
                1,
            )
            .expect("answer");
            let second = register_text(ext, cseq + 1, Some(&authz));
            pbx.handle_datagram(now, peer, second.as_bytes());
            let ok = pbx.poll_transmit().expect("200");
            assert!(ok.bytes.starts_with(b"SIP/2.0 200"));
            // Let completed transactions end as they would over 32 s of real time.
            now += Duration::from_millis(1);
            pbx.handle_timeout(now);
            while pbx.poll_event().is_some() {}
        })
    });
    g.finish();
}

criterion_group!(benches, registration);
criterion_main!(benches);
