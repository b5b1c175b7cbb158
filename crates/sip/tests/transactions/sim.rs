//! The simulated clock and message builders for `tests/transactions.rs`.

use sip::header::HeaderName;
use sip::message::{Method, Request, Response, StatusCode};
use sip::transaction::{
    ClientTxId, Peer, RequestOutcome, ResponseOutcome, ServerTxId, TimerConfig, TransactionError,
    TransactionEvent, TransactionLayer, Transmit,
};
use sip::uri::{Host, SipUri, Uri};
use std::time::{Duration, Instant};

pub fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn udp() -> Peer {
    Peer::udp("192.0.2.10:5060".parse().unwrap())
}

pub fn tcp() -> Peer {
    Peer::reliable("192.0.2.10:5060".parse().unwrap())
}

pub struct Sim {
    pub layer: TransactionLayer,
    pub start: Instant,
    pub now: Instant,
    sent: Vec<(Duration, Transmit)>,
    events: Vec<(Duration, TransactionEvent)>,
}

impl Sim {
    pub fn new() -> Sim {
        Sim::with(TimerConfig::default())
    }

    pub fn with(config: TimerConfig) -> Sim {
        let start = Instant::now();
        Sim {
            layer: TransactionLayer::new(config),
            start,
            now: start,
            sent: Vec::new(),
            events: Vec::new(),
        }
    }

    /// Moves the layer's outputs into the simulator, stamped with the current time.
    fn pump(&mut self) {
        let at = self.now - self.start;
        while let Some(t) = self.layer.poll_transmit() {
            self.sent.push((at, t));
        }
        while let Some(e) = self.layer.poll_event() {
            self.events.push((at, e));
        }
    }

    /// Jumps to the next deadline and runs it; returns the time since start.
    pub fn step(&mut self) -> Option<Duration> {
        self.pump();
        let t = self.layer.poll_timeout()?;
        assert!(t >= self.now, "deadline in the past");
        let just_before = t - Duration::from_micros(1);
        if just_before >= self.now {
            let live = self.layer.len();
            self.layer.handle_timeout(just_before);
            assert_eq!(self.layer.poll_timeout(), Some(t), "timer moved early");
            assert!(self.layer.poll_transmit().is_none(), "sent early");
            assert!(self.layer.poll_event().is_none(), "event early");
            assert_eq!(self.layer.len(), live);
        }
        self.now = t;
        self.layer.handle_timeout(t);
        assert!(
            self.layer.poll_timeout().is_none_or(|next| next > t),
            "work left due at the instant poll_timeout returned"
        );
        self.pump();
        Some(t - self.start)
    }

    /// Runs every deadline up to `until` (since start), then sets the clock there.
    pub fn run_until(&mut self, until: Duration) {
        while self
            .layer
            .poll_timeout()
            .is_some_and(|t| t <= self.start + until)
        {
            self.step();
        }
        self.now = self.start + until;
    }

    pub fn run_all(&mut self) {
        while self.step().is_some() {}
    }

    pub fn take_sent(&mut self) -> Vec<(Duration, Transmit)> {
        self.pump();
        std::mem::take(&mut self.sent)
    }

    pub fn take_events(&mut self) -> Vec<(Duration, TransactionEvent)> {
        self.pump();
        std::mem::take(&mut self.events)
    }

    /// The times at which messages went out, in seconds.
    pub fn send_times(&mut self) -> Vec<f64> {
        self.take_sent()
            .iter()
            .map(|(at, _)| at.as_secs_f64())
            .collect()
    }

    pub fn receive(&mut self, req: &Request, from: Peer) -> RequestOutcome {
        let out = self.layer.handle_request(self.now, req.clone(), from);
        self.pump();
        out.expect("request keyed")
    }

    pub fn respond(&mut self, id: ServerTxId, resp: Response) -> Result<(), TransactionError> {
        let r = self.layer.respond(self.now, id, resp);
        self.pump();
        r
    }

    pub fn send(&mut self, req: &Request, to: Peer) -> ClientTxId {
        let id = self.layer.send_request(self.now, req.clone(), to);
        self.pump();
        id.expect("request accepted")
    }

    pub fn response_in(&mut self, resp: &Response) -> ResponseOutcome {
        let out = self.layer.handle_response(self.now, resp.clone());
        self.pump();
        out
    }

    pub fn new_server(&mut self, req: &Request, from: Peer) -> ServerTxId {
        match self.receive(req, from) {
            RequestOutcome::New(id, _) => id,
            other => panic!("expected a new transaction, got {other:?}"),
        }
    }
}

pub fn request(method: Method, branch: &str, cseq: u32) -> Request {
    let uri = Uri::Sip(SipUri::new(
        Some("bob"),
        Host::Domain("b.example".into()),
        None,
    ));
    let mut req = Request::new(method.clone(), uri);
    let via = format!("SIP/2.0/UDP 192.0.2.10:5060;branch={branch};rport");
    req.headers.push(HeaderName::Via, via);
    req.headers.push(HeaderName::MaxForwards, "70");
    req.headers
        .push(HeaderName::From, "<sip:alice@a.example>;tag=fa");
    req.headers.push(HeaderName::To, "<sip:bob@b.example>");
    req.headers.push(HeaderName::CallId, "call-1@192.0.2.10");
    req.headers
        .push(HeaderName::CSeq, format!("{cseq} {method}"));
    req
}

pub fn response(req: &Request, code: u16) -> Response {
    let mut resp = Response::for_request(req, StatusCode(code));
    if code > 100 {
        resp.headers
            .set(HeaderName::To, "<sip:bob@b.example>;tag=tb");
    }
    resp
}

pub fn text(t: &Transmit) -> String {
    String::from_utf8_lossy(&t.bytes).into_owned()
}

pub fn status(t: &Transmit) -> u16 {
    text(t)[8..11].parse().unwrap()
}
