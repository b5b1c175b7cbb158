//! Parser and writer cost per message: the floor under every SIP request the server handles.
//! Run: `cargo bench -p sip --bench parse`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;

const REGISTER: &[u8] = b"REGISTER sip:127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK-32023-1-0;rport\r\n\
From: <sip:1000@127.0.0.1>;tag=32023SIPpTag001\r\n\
To: <sip:1000@127.0.0.1>\r\n\
Call-ID: 1-32023@127.0.0.1\r\n\
CSeq: 2 REGISTER\r\n\
Contact: <sip:1000@127.0.0.1:5999>\r\n\
Authorization: Digest username=\"1000\",realm=\"strowger\",uri=\"sip:127.0.0.1:5060\",nonce=\"000000006b036043c47423a7eb4790c2471d02922a1bcc970fb8b73c25875213\",response=\"0123456789abcdef0123456789abcdef\",algorithm=MD5,cnonce=\"6b8b4567\",qop=auth,nc=00000001\r\n\
Max-Forwards: 70\r\n\
Expires: 3600\r\n\
User-Agent: SIPp-bench\r\n\
Content-Length: 0\r\n\r\n";

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("sip");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse REGISTER with Authorization", |b| {
        b.iter(|| sip::parse_message(black_box(REGISTER)).expect("valid"))
    });
    let msg = sip::parse_message(REGISTER).expect("valid");
    g.bench_function("write REGISTER", |b| b.iter(|| black_box(&msg).to_bytes()));
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
