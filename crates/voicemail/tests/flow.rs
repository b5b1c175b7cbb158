//! Call flows run as a dialogue: menus with keys and timeouts, numbers dialled from a
//! menu, time conditions, variables, failed transfers, and the hand-over to leaving a
//! message — all in simulated time against a real message store.

use std::collections::HashSet;
use std::sync::Arc;
use store::{CallFlow, Config};
use voicemail::dialogue::{
    Action, Dialogue, Flow, FlowCall, FlowEnv, Input, NumberMatch, PlayItem, PlayTag, Prompt,
    RecordPurpose,
};
use voicemail::{MailboxId, MessageStore};

fn admin_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| store::secrets::hash_admin_password("Admin-Password-1"))
}

const T0: u64 = 1_700_000_000_000;

/// The flow `reception` of a document with alice (201, mailbox) and the office profile.
fn flow(steps: &str) -> Arc<CallFlow> {
    let doc = format!(
        "[[users]]\nname = \"alice\"\nfull_name = \"Alice\"\nextension = \"201\"\n\
         [[extensions]]\nnumber = \"201\"\npassword = \"Good-Password-Xy9\"\n\
         [[time_profiles]]\nname = \"office\"\n[[time_profiles.weekly]]\ndays = [\"mon\"]\n\
         start = \"09:00\"\nend = \"17:00\"\n\
         [[admins]]\nname = \"admin\"\npassword_hash = \"{}\"\n\
         [[call_flows]]\nname = \"reception\"\nnumber = \"800\"\nstart = \"a\"\n{steps}",
        admin_hash()
    );
    let config = Config::from_toml(&doc, None).unwrap_or_else(|e| panic!("{e}"));
    Arc::new(config.call_flows[0].clone())
}

const MENU: &str = "[[call_flows.steps]]\nname = \"a\"\naction = \"menu\"\n\
    say = [\"attendant-welcome\"]\nchoices = { \"1\" = \"sales\", \"0\" = \"operator\" }\n\
    dial_extensions = true\nretries = 1\nvariable = \"picked\"\n\
    [[call_flows.steps]]\nname = \"sales\"\naction = \"transfer\"\nto = \"300\"\n\
    [[call_flows.steps]]\nname = \"operator\"\naction = \"transfer\"\nto = \"201\"\n";

struct Run {
    flow: Flow,
    store: MessageStore,
    now: u64,
    _dir: tempfile::TempDir,
}

fn env(office_open: bool) -> FlowEnv {
    let numbers: HashSet<&str> = ["201", "202", "300", "2015", "800"].into();
    FlowEnv {
        profile_active: Arc::new(move |name| name == "office" && office_open),
        numbers: Arc::new(move |typed| NumberMatch {
            whole: numbers.contains(typed),
            longer: numbers
                .iter()
                .any(|n| n.len() > typed.len() && n.starts_with(typed)),
        }),
        mailboxes: Arc::new(|n| (n == "201").then(|| MailboxId::new(n).unwrap())),
    }
}

fn start(steps: &str, office_open: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = MessageStore::open(dir.path()).unwrap();
    let call = FlowCall {
        flow: flow(steps),
        caller_number: Some("202".into()),
        caller_name: Some("Bob".into()),
    };
    let flow = Flow::start(T0, call, env(office_open), &mut store);
    Run {
        flow,
        store,
        now: T0,
        _dir: dir,
    }
}

impl Run {
    fn actions(&mut self) -> Vec<Action> {
        std::iter::from_fn(|| self.flow.poll_action()).collect()
    }
    fn input(&mut self, input: Input) -> Vec<Action> {
        self.flow.handle(self.now, input, &mut self.store);
        self.actions()
    }
    fn key(&mut self, key: char) -> Vec<Action> {
        self.input(Input::Digit(key))
    }
    /// The play in `actions` ends.
    fn play_ends(&mut self, actions: &[Action]) -> Vec<Action> {
        let tag = last_play(actions).0;
        self.input(Input::PlayFinished(tag))
    }
    /// Time runs to the dialogue's timer.
    fn wait(&mut self) -> Vec<Action> {
        let at = self.flow.poll_timeout().expect("a timer");
        self.now = at;
        self.flow.handle_timeout(at, &mut self.store);
        self.actions()
    }
}

fn last_play(actions: &[Action]) -> (PlayTag, Vec<PlayItem>) {
    actions
        .iter()
        .rev()
        .find_map(|a| match a {
            Action::Play { tag, items } => Some((*tag, items.clone())),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no play in {actions:?}"))
}

fn prompts(items: &[PlayItem]) -> Vec<Prompt> {
    items
        .iter()
        .filter_map(|i| match i {
            PlayItem::Prompt(p) => Some(*p),
            _ => None,
        })
        .collect()
}

fn transfer_in(actions: &[Action]) -> Option<String> {
    actions.iter().find_map(|a| match a {
        Action::Transfer { to } => Some(to.clone()),
        _ => None,
    })
}

#[test]
fn a_choice_interrupts_the_menu_and_puts_the_caller_through() {
    let mut r = start(MENU, true);
    let first = r.actions();
    assert_eq!(prompts(&last_play(&first).1), [Prompt::AttendantWelcome]);
    let after_key = r.key('0');
    assert_eq!(after_key[0], Action::StopPlaying);
    assert_eq!(
        prompts(&last_play(&after_key).1),
        [Prompt::AttendantTransferring]
    );
    let out = r.play_ends(&after_key);
    assert_eq!(transfer_in(&out).as_deref(), Some("201"));
    assert!(!r.flow.is_finished(), "waits for the core's answer");
    assert_eq!(r.flow.variable("picked"), "0");
    r.input(Input::Transferred);
    assert!(r.flow.is_finished());
}

#[test]
fn a_number_is_put_through_once_whole_or_when_the_caller_stops() {
    // 202: whole, and no longer number starts with it.
    let mut r = start(MENU, true);
    let first = r.actions();
    r.play_ends(&first);
    assert!(r.key('2').is_empty() || r.flow.poll_timeout().is_some());
    r.key('0');
    let out = r.key('2');
    let out = r.play_ends(&out);
    assert_eq!(transfer_in(&out).as_deref(), Some("202"));
    // 201 is whole but 2015 is longer: the flow waits, then puts 201 through.
    let mut r = start(MENU, true);
    for k in ['2', '0', '1'] {
        assert_eq!(transfer_in(&r.key(k)), None);
    }
    let out = r.wait();
    let out = r.play_ends(&out);
    assert_eq!(transfer_in(&out).as_deref(), Some("201"));
    // `#` ends a number at once.
    let mut r = start(MENU, true);
    r.key('2');
    r.key('0');
    r.key('1');
    let out = r.key('#');
    let out = r.play_ends(&out);
    assert_eq!(transfer_in(&out).as_deref(), Some("201"));
}

#[test]
fn no_key_or_a_wrong_one_says_the_menu_again_then_gives_up() {
    let mut r = start(MENU, true);
    let first = r.actions();
    assert!(r.play_ends(&first).is_empty());
    // Five seconds of silence: "not a valid choice", the menu again.
    let again = r.wait();
    assert_eq!(r.now, T0 + 5_000);
    assert_eq!(
        prompts(&last_play(&again).1),
        [Prompt::AttendantInvalid, Prompt::AttendantWelcome]
    );
    // A number that exists nowhere: no more retries, no on_fail: goodbye.
    let out = r.key('9');
    assert_eq!(prompts(&last_play(&out).1), [Prompt::Goodbye]);
    let out = r.play_ends(&out);
    assert_eq!(out, [Action::HangUp]);
    assert!(r.flow.is_finished());
}

#[test]
fn a_number_nothing_can_ring_brings_the_caller_back_to_the_menu() {
    let mut r = start(MENU, true);
    r.key('2');
    r.key('0');
    let out = r.key('2');
    let out = r.play_ends(&out);
    assert_eq!(transfer_in(&out).as_deref(), Some("202"));
    let out = r.input(Input::TransferFailed);
    assert_eq!(
        prompts(&last_play(&out).1),
        [Prompt::AttendantUnreachable, Prompt::AttendantWelcome]
    );
    assert!(!r.flow.is_finished());
}

#[test]
fn time_conditions_and_variables_choose_the_way() {
    let steps = "[[call_flows.steps]]\nname = \"a\"\naction = \"time_condition\"\n\
        profile = \"office\"\nin_profile = \"open\"\nout_of_profile = \"closed\"\n\
        [[call_flows.steps]]\nname = \"open\"\naction = \"set\"\nvariable = \"team\"\n\
        value = \"sales\"\nnext = \"route\"\n\
        [[call_flows.steps]]\nname = \"closed\"\naction = \"play\"\n\
        say = \"attendant-closed\"\n\
        [[call_flows.steps]]\nname = \"route\"\naction = \"branch\"\nvariable = \"team\"\n\
        cases = { sales = \"sales\" }\n\
        [[call_flows.steps]]\nname = \"sales\"\naction = \"transfer\"\nto = \"300\"\n\
        say = \"attendant-welcome\"\n";
    let mut open = start(steps, true);
    let out = open.actions();
    assert_eq!(prompts(&last_play(&out).1), [Prompt::AttendantWelcome]);
    let out = open.play_ends(&out);
    assert_eq!(transfer_in(&out).as_deref(), Some("300"));
    assert_eq!(open.flow.variable("team"), "sales");

    let mut closed = start(steps, false);
    let out = closed.actions();
    assert_eq!(prompts(&last_play(&out).1), [Prompt::AttendantClosed]);
    assert_eq!(closed.play_ends(&out), [Action::HangUp]);
}

#[test]
fn a_flow_that_loops_without_the_caller_says_goodbye() {
    let steps = "[[call_flows.steps]]\nname = \"a\"\naction = \"set\"\nvariable = \"x\"\n\
        value = \"1\"\nnext = \"b\"\n\
        [[call_flows.steps]]\nname = \"b\"\naction = \"branch\"\nvariable = \"x\"\n\
        cases = { \"1\" = \"a\" }\n";
    let mut r = start(steps, true);
    let out = r.actions();
    assert_eq!(prompts(&last_play(&out).1), [Prompt::Goodbye]);
}

#[test]
fn leave_mail_plays_the_flows_words_then_records_into_the_mailbox() {
    let steps = "[[call_flows.steps]]\nname = \"a\"\naction = \"leave_mail\"\n\
        mailbox = \"201\"\nsay = [\"attendant-closed\"]\n";
    let mut r = start(steps, true);
    let out = r.actions();
    assert_eq!(
        prompts(&last_play(&out).1),
        [Prompt::AttendantClosed, Prompt::Beep]
    );
    let out = r.play_ends(&out);
    assert_eq!(
        out,
        [Action::StartRecording {
            mailbox: MailboxId::new("201").unwrap(),
            purpose: RecordPurpose::Message
        }]
    );
}

/// Records the caller's name, then puts the caller through to 201 screened, announcing
/// the name; when 201 does not take the call, the caller leaves 201 a message that
/// starts with the name.
const SCREENED: &str = "[[call_flows.steps]]\nname = \"a\"\naction = \"record\"\n\
    say = [\"attendant-say-name\"]\nvariable = \"name\"\nmax_secs = 5\nnext = \"screen\"\n\
    [[call_flows.steps]]\nname = \"screen\"\naction = \"assisted_transfer\"\nto = \"201\"\n\
    announce = [\"attendant-call-from\", \"$name\"]\non_fail = \"closed\"\n\
    [[call_flows.steps]]\nname = \"closed\"\naction = \"leave_mail\"\nmailbox = \"201\"\n\
    say = [\"$name\", \"attendant-closed\"]\n";

/// Runs `SCREENED` up to the target's answer; returns the play to the target.
fn screened_until_answer(r: &mut Run) -> (PlayTag, Vec<PlayItem>) {
    let out = r.actions();
    let out = r.play_ends(&out);
    assert_eq!(
        out,
        [Action::StartClip {
            name: "name".into()
        }]
    );
    let out = r.key('#');
    assert_eq!(out[0], Action::FinishClip);
    assert_eq!(prompts(&last_play(&out).1), [Prompt::AttendantTransferring]);
    let out = r.play_ends(&out);
    assert_eq!(out, [Action::ScreenTransfer { to: "201".into() }]);
    assert!(!r.flow.is_finished(), "waits for the target");
    let out = r.input(Input::ScreenAnswered);
    match &out[..] {
        [Action::PlayToTarget { tag, items }] => (*tag, items.clone()),
        other => panic!("expected one play to the target, got {other:?}"),
    }
}

#[test]
fn record_keeps_the_callers_words_for_later_steps() {
    let steps = "[[call_flows.steps]]\nname = \"a\"\naction = \"record\"\n\
        say = [\"attendant-say-name\"]\nvariable = \"name\"\nmax_secs = 5\nnext = \"b\"\n\
        [[call_flows.steps]]\nname = \"b\"\naction = \"play\"\n\
        say = [\"attendant-call-from\", \"$name\"]\n";
    let mut r = start(steps, true);
    let out = r.actions();
    assert_eq!(
        prompts(&last_play(&out).1),
        [Prompt::AttendantSayName, Prompt::Beep]
    );
    assert_eq!(
        r.key('1'),
        [],
        "keys before the beep are not the recording's end"
    );
    r.now += 3_000;
    let out = r.play_ends(&out);
    assert_eq!(
        out,
        [Action::StartClip {
            name: "name".into()
        }]
    );
    assert_eq!(r.flow.poll_timeout(), Some(r.now + 5_000), "max_secs");
    // Silence ends it like `#`; the next step says it.
    let out = r.input(Input::Silence);
    assert_eq!(out[0], Action::FinishClip);
    assert_eq!(
        last_play(&out).1,
        [
            PlayItem::Prompt(Prompt::AttendantCallFrom),
            PlayItem::Clip("name".into())
        ]
    );
    assert_eq!(r.flow.poll_timeout(), None);
    // Max length: the timer ends it.
    let mut r = start(steps, true);
    let out = r.actions();
    r.play_ends(&out);
    let out = r.wait();
    assert_eq!(out[0], Action::FinishClip);
    assert_eq!(r.now, T0 + 5_000);
    assert_eq!(prompts(&last_play(&out).1), [Prompt::AttendantCallFrom]);
}

#[test]
fn a_target_that_presses_1_takes_the_screened_call() {
    let mut r = start(SCREENED, true);
    let (tag, items) = screened_until_answer(&mut r);
    assert_eq!(
        items,
        [
            PlayItem::Prompt(Prompt::AttendantCallFrom),
            PlayItem::Clip("name".into()),
            PlayItem::Prompt(Prompt::AttendantScreenKeys)
        ]
    );
    // The caller's own keys choose nothing.
    assert_eq!(r.key('1'), []);
    // The announcement ends: the keys again, and ten seconds to choose.
    let out = r.input(Input::PlayFinished(tag));
    assert!(
        matches!(&out[..], [Action::PlayToTarget { items, .. }]
            if *items == [PlayItem::Prompt(Prompt::AttendantScreenKeys)]),
        "{out:?}"
    );
    assert_eq!(r.flow.poll_timeout(), Some(r.now + 10_000));
    assert_eq!(r.input(Input::TargetDigit('7')), []);
    assert_eq!(r.input(Input::TargetDigit('1')), [Action::AcceptScreened]);
    assert!(r.flow.is_finished());
    assert_eq!(r.flow.poll_timeout(), None);
}

#[test]
fn a_target_that_presses_2_sends_the_caller_to_on_fail() {
    let mut r = start(SCREENED, true);
    screened_until_answer(&mut r);
    let out = r.input(Input::TargetDigit('2'));
    assert_eq!(out[0], Action::RefuseScreened);
    assert_eq!(
        last_play(&out).1,
        [
            PlayItem::Clip("name".into()),
            PlayItem::Prompt(Prompt::AttendantClosed),
            PlayItem::Prompt(Prompt::Beep)
        ]
    );
    let out = r.play_ends(&out);
    assert!(
        matches!(&out[..], [Action::StartRecording { mailbox, .. }] if mailbox.as_str() == "201"),
        "{out:?}"
    );
}

#[test]
fn a_target_that_says_nothing_is_refused_after_ten_seconds() {
    let mut r = start(SCREENED, true);
    let (tag, _) = screened_until_answer(&mut r);
    r.now += 4_000;
    r.input(Input::PlayFinished(tag));
    let out = r.wait();
    assert_eq!(r.now, T0 + 4_000 + 10_000);
    assert_eq!(out[0], Action::RefuseScreened);
    assert_eq!(last_play(&out).1[0], PlayItem::Clip("name".into()));
}

#[test]
fn a_target_that_hangs_up_or_never_answers_sends_the_caller_on() {
    // Hangs up while it hears the announcement: nobody to refuse, on to on_fail.
    let mut r = start(SCREENED, true);
    screened_until_answer(&mut r);
    let out = r.input(Input::ScreenFailed);
    assert!(!out.contains(&Action::RefuseScreened), "{out:?}");
    assert_eq!(last_play(&out).1[0], PlayItem::Clip("name".into()));
    // Never answers, and the step has no on_fail: "cannot be reached", goodbye.
    let steps = "[[call_flows.steps]]\nname = \"a\"\naction = \"assisted_transfer\"\n\
        to = \"201\"\nsay = \"attendant-welcome\"\n";
    let mut r = start(steps, true);
    let out = r.actions();
    assert_eq!(prompts(&last_play(&out).1), [Prompt::AttendantWelcome]);
    let out = r.play_ends(&out);
    assert_eq!(out, [Action::ScreenTransfer { to: "201".into() }]);
    let out = r.input(Input::ScreenFailed);
    assert_eq!(
        prompts(&last_play(&out).1),
        [Prompt::AttendantUnreachable, Prompt::Goodbye]
    );
    assert_eq!(r.play_ends(&out), [Action::HangUp]);
    assert!(r.flow.is_finished());
}

#[test]
fn a_caller_who_hangs_up_while_the_target_rings_ends_the_flow() {
    let mut r = start(SCREENED, true);
    screened_until_answer(&mut r);
    assert_eq!(r.input(Input::HungUp), []);
    assert!(r.flow.is_finished());
}
