//! Tests of the closed loop's pure state machine (`jiesu_domain::workflow`).
//!
//! - **Transition table**: one table ([`TRANSITIONS`]) and one helper ([`check_transitions`]) say,
//!   for a case in every status (built through a fixed path of [`step`] calls), which action
//!   kinds [`transition`] accepts and the status they lead to; every action not listed must be
//!   refused with [`WorkflowError::IllegalTransition`] naming the action and the status (code and
//!   Chinese label).
//! - **Authorisation table**: [`AUTHORISATION`] says which roles may take which action; further
//!   tests pin unit handlers to their own unit, check-in to summoned units, the operator's reply
//!   to received cases, and that an admin may do exactly what the state machine allows.
//! - **Properties**: random sequences of (actor, action, time increment), mostly plausible so
//!   that long paths are explored, are applied with [`step`]; after every accepted step the
//!   state equals the replay of the events, the history is a well-formed chain, deadlines are
//!   never earlier than the case's creation, closed cases take nothing but `reopen` (and the
//!   assessment appeal, which leaves them closed), merged cases
//!   take nothing, and so on (see [`check_invariants`]). Corrupted histories fail to replay.
//! - **Serde**: every action round-trips through JSON with its code as the `type` tag; events
//!   and states round-trip too.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::model::{AppealReason, Callback, DeadlineClass, Role, Satisfaction, Status};
use jiesu_domain::workflow::{Action, Actor, CaseState, Event, WorkflowError, authorize, replay, step, transition};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;

// ---------------------------------------------------------------------------------------------
// Actors, sample actions and fixtures
// ---------------------------------------------------------------------------------------------

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
}

fn hours(n: i64) -> Duration {
    Duration::hours(n)
}

fn actor(role: Role, unit: Option<&str>) -> Actor {
    Actor { user: format!("{}@{}", role.code(), unit.unwrap_or("-")), role, unit: unit.map(str::to_string) }
}

fn operator() -> Actor {
    actor(Role::Operator, None)
}
fn dispatcher() -> Actor {
    actor(Role::Dispatcher, None)
}
fn handler(unit: &str) -> Actor {
    actor(Role::UnitHandler, Some(unit))
}
fn inspector() -> Actor {
    actor(Role::GridInspector, None)
}
fn supervisor() -> Actor {
    actor(Role::Supervisor, None)
}
fn admin() -> Actor {
    // The unit only matters for check-in, where U3 is the unit the fixtures summon.
    actor(Role::Admin, Some("U3"))
}

/// One sample of every action kind (two of `verify`), named in the tables below. Arguments are
/// chosen so that the action is valid wherever its kind is legal in the fixtures.
const SAMPLES: &[&str] = &[
    "receive",
    "dispatch",
    "accept",
    "handle",
    "request_return",
    "approve_return",
    "refuse_return",
    "request_extension",
    "approve_extension",
    "refuse_extension",
    "supervise",
    "whistle",
    "check_in",
    "reply",
    "verify_pass",
    "verify_fail",
    "callback",
    "close",
    "reopen",
    "merge",
    "reclassify",
    "appeal",
    "rule_appeal_exclude",
    "rule_appeal_refuse",
    "alarm",
];

fn sample(name: &str, at: DateTime<Utc>) -> Action {
    match name {
        "receive" => Action::Receive {
            category: "0101".into(),
            deadline_class: DeadlineClass::General,
            verify: false,
            intake: vec![],
        },
        "dispatch" => Action::Dispatch { unit: "U2".into(), due: at + Duration::days(7), rule: Some("R-7".into()) },
        "accept" => Action::Accept,
        "handle" => Action::Handle { contacted: true },
        "request_return" => Action::RequestReturn,
        "approve_return" => Action::ApproveReturn,
        "refuse_return" => Action::RefuseReturn,
        "request_extension" => Action::RequestExtension { until: at + Duration::days(60) },
        "approve_extension" => Action::ApproveExtension,
        "refuse_extension" => Action::RefuseExtension,
        "supervise" => Action::Supervise { overdue: false },
        "whistle" => Action::Whistle { units: vec!["U4".into()], checkin_due: at + hours(2) },
        "check_in" => Action::CheckIn,
        "reply" => Action::Reply,
        "verify_pass" => Action::Verify { passed: true },
        "verify_fail" => Action::Verify { passed: false },
        "callback" => Action::Callback(Callback {
            reached: true,
            responded: true,
            solved: true,
            satisfaction: Satisfaction::Satisfied,
        }),
        "close" => Action::Close,
        "reopen" => Action::Reopen { due: Some(at + Duration::days(5)) },
        "merge" => Action::Merge { into: 42 },
        "reclassify" => Action::Reclassify {
            from: "0101".into(),
            category: "0102".into(),
            deadline_class: DeadlineClass::Emergency,
        },
        "appeal" => Action::Appeal { reason: AppealReason::NotOurs },
        "rule_appeal_exclude" => Action::RuleAppeal { excluded: true },
        "rule_appeal_refuse" => Action::RuleAppeal { excluded: false },
        "alarm" => Action::Alarm {
            device: "SMK-1".into(),
            message: "7".into(),
            level: jiesu_domain::alarm::Level::Alarm,
            suppressed: false,
        },
        other => panic!("no sample action named {other}"),
    }
}

/// Position of an action's variant; the match has no wildcard, so a new variant breaks the
/// build here until [`SAMPLES`] covers it.
fn variant_index(action: &Action) -> usize {
    match action {
        Action::Receive { .. } => 0,
        Action::Dispatch { .. } => 1,
        Action::Accept => 2,
        Action::Handle { .. } => 3,
        Action::RequestReturn => 4,
        Action::ApproveReturn => 5,
        Action::RefuseReturn => 6,
        Action::RequestExtension { .. } => 7,
        Action::ApproveExtension => 8,
        Action::RefuseExtension => 9,
        Action::Supervise { .. } => 10,
        Action::Whistle { .. } => 11,
        Action::CheckIn => 12,
        Action::Reply => 13,
        Action::Verify { .. } => 14,
        Action::Callback(_) => 15,
        Action::Close => 16,
        Action::Reopen { .. } => 17,
        Action::Merge { .. } => 18,
        Action::Reclassify { .. } => 19,
        Action::Appeal { .. } => 20,
        Action::RuleAppeal { .. } => 21,
        Action::Alarm { .. } => 22,
    }
}
const VARIANTS: usize = 23;

/// A case built through `step`, with its events.
#[derive(Debug, Clone)]
struct Case {
    events: Vec<Event>,
    state: CaseState,
}

impl Case {
    fn receive(by: Actor, verify: bool) -> Case {
        let action =
            Action::Receive { category: "0101".into(), deadline_class: DeadlineClass::General, verify, intake: vec![] };
        let (event, state) = step(None, t0(), by, action, None).expect("receive");
        Case { events: vec![event], state }
    }

    /// The time of the next step: an hour after the latest event.
    fn next(&self) -> DateTime<Utc> {
        self.state.updated_at + hours(1)
    }

    fn then(mut self, by: Actor, action: Action) -> Case {
        let at = self.next();
        let what = format!("{action:?} by {by:?} on a {} case", self.state.status);
        let (event, state) =
            step(Some(&self.state), at, by, action, None).unwrap_or_else(|e| panic!("fixture step {what}: {e}"));
        self.events.push(event);
        self.state = state;
        self
    }

    fn dispatch(self, unit: &str) -> Case {
        let due = self.next() + Duration::days(7);
        self.then(dispatcher(), Action::Dispatch { unit: unit.into(), due, rule: None })
    }
}

/// The fixed paths that put a case in each status. `new` is no case at all.
fn fixture(name: &str) -> Option<Case> {
    let received = || Case::receive(operator(), false);
    let in_progress = || {
        received()
            .dispatch("U1")
            .then(handler("U1"), Action::Accept)
            .then(handler("U1"), Action::Handle { contacted: true })
    };
    let replied = || in_progress().then(handler("U1"), Action::Reply);
    let callback =
        |solved, satisfaction| Action::Callback(Callback { reached: true, responded: true, solved, satisfaction });
    let case = match name {
        "new" => return None,
        "received" => received(),
        "received_grid" => Case::receive(inspector(), true),
        "dispatched" => received().dispatch("U1"),
        "accepted" => received().dispatch("U1").then(handler("U1"), Action::Accept),
        "accepted_ext" => {
            let c = received().dispatch("U1").then(handler("U1"), Action::Accept);
            let until = c.state.due.unwrap() + Duration::days(3);
            c.then(handler("U1"), Action::RequestExtension { until })
        }
        "in_progress" => in_progress(),
        "in_progress_joint" => {
            let c = in_progress();
            let checkin_due = c.next() + hours(4);
            c.then(handler("U1"), Action::Whistle { units: vec!["U3".into()], checkin_due })
        }
        "return_requested" => in_progress().then(handler("U1"), Action::RequestReturn),
        "replied" => replied(),
        "verifying" => Case::receive(inspector(), true)
            .dispatch("U1")
            .then(handler("U1"), Action::Accept)
            .then(handler("U1"), Action::Handle { contacted: false })
            .then(handler("U1"), Action::Reply),
        "called_back" => replied().then(operator(), callback(false, Satisfaction::Unsatisfied)),
        "called_back_satisfied" => replied().then(operator(), callback(true, Satisfaction::Satisfied)),
        "closed" => {
            replied().then(operator(), callback(false, Satisfaction::Unsatisfied)).then(operator(), Action::Close)
        }
        "closed_unassigned" => received().then(operator(), Action::Reply).then(operator(), Action::Close),
        "merged" => received().dispatch("U1").then(dispatcher(), Action::Merge { into: 7 }),
        other => panic!("no fixture named {other}"),
    };
    Some(case)
}

/// Checks that `err` is an illegal-transition error naming `action` and `status`, both by code
/// and by Chinese label, in its fields and in its message.
fn assert_illegal(err: &WorkflowError, action: &Action, status: Status, context: &str) {
    match err {
        WorkflowError::IllegalTransition { action: a, action_label, status: s, status_label } => {
            assert_eq!(*a, action.code(), "{context}");
            assert_eq!(*action_label, action.label(), "{context}");
            assert_eq!(*s, status.code(), "{context}");
            assert_eq!(*status_label, status.label(), "{context}");
            let message = err.to_string();
            for part in [action.code(), action.label(), status.code(), status.label()] {
                assert!(message.contains(part), "{context}: message {message:?} does not name {part}");
            }
        }
        other => panic!("{context}: expected IllegalTransition, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. The transition table
// ---------------------------------------------------------------------------------------------

/// `fixture [status of the fixture]: outcomes`, one row per fixture. An outcome is
/// `sample->status` (accepted, leading to that status) or `sample=invalid` (the action is legal
/// in this status but its arguments or the case's facts refuse it: `WorkflowError::Invalid`).
/// Every sample not listed must be refused as an illegal transition.
const TRANSITIONS: &str = "
received              [received]:         dispatch->dispatched reply->replied merge->merged reclassify->received alarm->received
                                          appeal=invalid rule_appeal_exclude=invalid rule_appeal_refuse=invalid
received_grid         [received]:         dispatch->dispatched merge->merged reclassify->received alarm->received
                                          appeal=invalid rule_appeal_exclude=invalid rule_appeal_refuse=invalid
dispatched            [dispatched]:       dispatch->dispatched accept->accepted request_return->return_requested reclassify->dispatched alarm->dispatched
                                          supervise->dispatched merge->merged
                                          appeal->dispatched rule_appeal_exclude=invalid rule_appeal_refuse=invalid
accepted              [accepted]:         handle->in_progress request_return->return_requested reclassify->accepted alarm->accepted
                                          request_extension->accepted approve_extension=invalid
                                          refuse_extension=invalid supervise->accepted whistle->in_progress
                                          check_in=invalid reply->replied merge->merged
                                          appeal->accepted rule_appeal_exclude=invalid rule_appeal_refuse=invalid
accepted_ext          [accepted]:         handle->in_progress request_return->return_requested reclassify->accepted alarm->accepted
                                          request_extension=invalid approve_extension->accepted
                                          refuse_extension->accepted supervise->accepted whistle->in_progress
                                          check_in=invalid reply->replied merge->merged
                                          appeal->accepted rule_appeal_exclude=invalid rule_appeal_refuse=invalid
in_progress           [in_progress]:      handle->in_progress request_return->return_requested reclassify->in_progress alarm->in_progress
                                          request_extension->in_progress approve_extension=invalid
                                          refuse_extension=invalid supervise->in_progress whistle->in_progress
                                          check_in=invalid reply->replied merge->merged
                                          appeal->in_progress rule_appeal_exclude=invalid rule_appeal_refuse=invalid
in_progress_joint     [in_progress]:      handle->in_progress request_return=invalid reclassify->in_progress alarm->in_progress
                                          request_extension->in_progress approve_extension=invalid
                                          refuse_extension=invalid supervise->in_progress whistle->in_progress
                                          check_in->in_progress reply->replied merge->merged
                                          appeal->in_progress rule_appeal_exclude=invalid rule_appeal_refuse=invalid
return_requested      [return_requested]: approve_return->received refuse_return->in_progress reclassify->return_requested alarm->return_requested
                                          supervise->return_requested
                                          appeal->return_requested rule_appeal_exclude=invalid rule_appeal_refuse=invalid
replied               [replied]:          callback->called_back close->closed reclassify->replied alarm->replied
                                          appeal->replied rule_appeal_exclude=invalid rule_appeal_refuse=invalid
verifying             [verifying]:        verify_pass->closed verify_fail->in_progress reclassify->verifying alarm->verifying
                                          appeal->verifying rule_appeal_exclude=invalid rule_appeal_refuse=invalid
called_back           [called_back]:      close->closed reopen->dispatched reclassify->called_back alarm->called_back
                                          appeal->called_back rule_appeal_exclude=invalid rule_appeal_refuse=invalid
called_back_satisfied [called_back]:      close->closed reopen=invalid reclassify->called_back alarm->called_back
                                          appeal->called_back rule_appeal_exclude=invalid rule_appeal_refuse=invalid
closed                [closed]:           reopen->dispatched
                                          appeal->closed rule_appeal_exclude=invalid rule_appeal_refuse=invalid
closed_unassigned     [closed]:           reopen->received
                                          appeal=invalid rule_appeal_exclude=invalid rule_appeal_refuse=invalid
merged                [merged]:
";

#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    To(Status),
    Invalid,
    Illegal,
}

fn render(outcome: &Outcome, name: &str) -> Option<String> {
    match outcome {
        Outcome::To(s) => Some(format!("{name}->{s}")),
        Outcome::Invalid => Some(format!("{name}=invalid")),
        Outcome::Illegal => None,
    }
}

/// Parses the rows of a table `key [extra]: words...`; a row continues on lines that start with
/// whitespace and have no `:`.
fn rows(table: &str) -> Vec<(String, Option<String>, Vec<String>)> {
    let mut out: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
    for line in table.lines() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        match line.split_once(':') {
            Some((head, rest)) if !line.starts_with(' ') => {
                let mut head = head.split_whitespace();
                let key = head.next().expect("row key").to_string();
                let extra = head.next().map(|s| s.trim_matches(|c| c == '[' || c == ']').to_string());
                out.push((key, extra, rest.split_whitespace().map(str::to_string).collect()));
            }
            _ => out
                .last_mut()
                .expect("continuation line before any row")
                .2
                .extend(line.split_whitespace().map(str::to_string)),
        }
    }
    out
}

/// The one helper of the transition table: builds each fixture, tries every sample on it with
/// [`transition`], and compares with the row. On a mismatch it prints the whole actual table.
fn check_transitions(table: &str) {
    let mut mismatches = Vec::new();
    let mut actual_table = String::new();
    for (fixture_name, status, words) in rows(table) {
        let case = fixture(&fixture_name).expect("transition rows need a case");
        let status: Status = status.expect("row names the fixture's status").parse().expect("status code");
        assert_eq!(case.state.status, status, "fixture {fixture_name} is not in the status its row says");

        let mut expected: BTreeMap<String, Outcome> =
            SAMPLES.iter().map(|s| (s.to_string(), Outcome::Illegal)).collect();
        for word in &words {
            let (name, outcome) = if let Some((name, to)) = word.split_once("->") {
                (name, Outcome::To(to.parse().unwrap_or_else(|e| panic!("{fixture_name}: {e}"))))
            } else if let Some(name) = word.strip_suffix("=invalid") {
                (name, Outcome::Invalid)
            } else {
                panic!("{fixture_name}: cannot read {word:?}")
            };
            assert!(expected.contains_key(name), "{fixture_name}: no sample named {name}");
            expected.insert(name.to_string(), outcome);
        }

        let at = case.next();
        let mut actual_row = Vec::new();
        for &name in SAMPLES {
            let action = sample(name, at);
            let context = format!("{fixture_name} + {name}");
            let outcome = match transition(Some(&case.state), at, &admin(), &action) {
                Ok(next) => {
                    assert_eq!(next.seq, case.state.seq + 1, "{context}");
                    assert_eq!(next.updated_at, at, "{context}");
                    Outcome::To(next.status)
                }
                Err(WorkflowError::Invalid(_)) => Outcome::Invalid,
                Err(err @ WorkflowError::IllegalTransition { .. }) => {
                    assert_illegal(&err, &action, case.state.status, &context);
                    Outcome::Illegal
                }
                Err(other) => panic!("{context}: transition gave {other:?}"),
            };
            if outcome != expected[name] {
                mismatches.push(format!("{context}: expected {:?}, got {outcome:?}", expected[name]));
            }
            actual_row.extend(render(&outcome, name));
        }
        actual_table.push_str(&format!("{fixture_name} [{status}]: {}\n", actual_row.join(" ")));
    }
    assert!(mismatches.is_empty(), "{}\n\nactual table:\n{actual_table}", mismatches.join("\n"));
}

#[test]
fn samples_cover_every_action_variant() {
    let mut seen = [false; VARIANTS];
    for &name in SAMPLES {
        let action = sample(name, t0());
        seen[variant_index(&action)] = true;
        assert!(name.starts_with(action.code()), "sample {name} is a {}", action.code());
    }
    assert!(seen.iter().all(|s| *s), "a variant has no sample: {seen:?}");
}

#[test]
fn transition_table_accepts_exactly_the_legal_actions_of_each_status() {
    check_transitions(TRANSITIONS);
}

#[test]
fn transition_table_reaches_every_status() {
    let reached: Vec<Status> =
        rows(TRANSITIONS).iter().map(|(name, _, _)| fixture(name).unwrap().state.status).collect();
    for status in Status::ALL {
        assert!(reached.contains(status), "no fixture in status {status}");
    }
}

#[test]
fn a_new_case_starts_only_with_receive() {
    for &name in SAMPLES {
        let action = sample(name, t0());
        let result = transition(None, t0(), &admin(), &action);
        if name == "receive" {
            let state = result.expect("receive starts a case");
            assert_eq!(state.status, Status::Received);
            assert_eq!((state.seq, state.received_at, state.updated_at), (1, t0(), t0()));
        } else {
            let err = result.expect_err(name);
            assert!(matches!(err, WorkflowError::Invalid(ref m) if m.contains(action.code())), "{name}: {err:?}");
        }
    }
}

#[test]
fn an_event_earlier_than_the_latest_is_refused() {
    let case = fixture("dispatched").unwrap();
    let before = case.state.updated_at - Duration::seconds(1);
    let err = transition(Some(&case.state), before, &admin(), &Action::Accept).unwrap_err();
    assert!(matches!(err, WorkflowError::Invalid(_)), "{err:?}");
    // The same instant is fine: events may share a timestamp.
    transition(Some(&case.state), case.state.updated_at, &admin(), &Action::Accept).unwrap();
}

#[test]
fn deadlines_must_lie_after_the_action() {
    let received = fixture("received").unwrap();
    let at = received.next();
    for due in [at, at - hours(1)] {
        let dispatch = Action::Dispatch { unit: "U1".into(), due, rule: None };
        assert!(matches!(transition(Some(&received.state), at, &admin(), &dispatch), Err(WorkflowError::Invalid(_))));
    }
    let accepted = fixture("accepted").unwrap();
    let at = accepted.next();
    let due = accepted.state.due.unwrap();
    for until in [due, due - hours(1)] {
        let ask = Action::RequestExtension { until };
        assert!(matches!(transition(Some(&accepted.state), at, &admin(), &ask), Err(WorkflowError::Invalid(_))));
    }
    let whistle = Action::Whistle { units: vec!["U4".into()], checkin_due: at };
    assert!(matches!(transition(Some(&accepted.state), at, &admin(), &whistle), Err(WorkflowError::Invalid(_))));
    let called_back = fixture("called_back").unwrap();
    let at = called_back.next();
    for due in [None, Some(at), Some(at - hours(1))] {
        let reopen = Action::Reopen { due };
        assert!(matches!(transition(Some(&called_back.state), at, &admin(), &reopen), Err(WorkflowError::Invalid(_))));
    }
}

#[test]
fn whistle_refuses_the_lead_unit_a_repeat_and_an_empty_list() {
    let case = fixture("in_progress_joint").unwrap();
    let at = case.next();
    for units in [vec![], vec!["U1".to_string()], vec!["U3".to_string()], vec!["U5".to_string(), "U5".to_string()]] {
        let whistle = Action::Whistle { units: units.clone(), checkin_due: at + hours(1) };
        let err = transition(Some(&case.state), at, &admin(), &whistle).unwrap_err();
        assert!(matches!(err, WorkflowError::Invalid(_)), "{units:?}: {err:?}");
    }
}

#[test]
fn a_unit_checks_in_once() {
    let case = fixture("in_progress_joint").unwrap();
    let at = case.next();
    let once = transition(Some(&case.state), at, &handler("U3"), &Action::CheckIn).unwrap();
    assert_eq!(once.joint[0].checked_in_at, Some(at));
    let err = transition(Some(&once), at, &handler("U3"), &Action::CheckIn).unwrap_err();
    assert!(matches!(err, WorkflowError::Invalid(_)), "{err:?}");
}

#[test]
fn a_refused_return_goes_back_where_it_came_from() {
    for (origin, status) in
        [("dispatched", Status::Dispatched), ("accepted", Status::Accepted), ("in_progress", Status::InProgress)]
    {
        let case = fixture(origin).unwrap().then(handler("U1"), Action::RequestReturn);
        assert_eq!(case.state.return_from, Some(status));
        let case = case.then(dispatcher(), Action::RefuseReturn);
        assert_eq!(case.state.status, status, "refused return from {origin}");
        assert_eq!(case.state.return_from, None);
    }
}

#[test]
fn an_approved_return_clears_the_unit_and_its_deadline() {
    let case = fixture("accepted_ext")
        .unwrap()
        .then(handler("U1"), Action::RequestReturn)
        .then(dispatcher(), Action::ApproveReturn);
    let s = &case.state;
    assert_eq!(
        (s.status, s.assignee.as_deref(), s.due, s.pending_extension, s.returns),
        (Status::Received, None, None, None, 1)
    );
}

#[test]
fn an_approved_extension_moves_the_deadline_and_a_refused_one_does_not() {
    let case = fixture("accepted_ext").unwrap();
    let (due, until) = (case.state.due.unwrap(), case.state.pending_extension.unwrap());
    let approved = case.clone().then(supervisor(), Action::ApproveExtension).state;
    assert_eq!((approved.due, approved.pending_extension, approved.extensions), (Some(until), None, 1));
    let refused = case.then(dispatcher(), Action::RefuseExtension).state;
    assert_eq!((refused.due, refused.pending_extension, refused.extensions), (Some(due), None, 0));
}

#[test]
fn reopening_a_closed_case_counts_and_clears_the_closure() {
    let closed = fixture("closed").unwrap();
    assert!(closed.state.closed_at.is_some());
    let at = closed.next();
    let reopened = closed.then(dispatcher(), Action::Reopen { due: Some(at + Duration::days(3)) }).state;
    assert_eq!((reopened.status, reopened.closed_at, reopened.reopen_count), (Status::Dispatched, None, 1));
    assert_eq!(reopened.due, Some(at + Duration::days(3)));
    assert_eq!(reopened.assignee.as_deref(), Some("U1"));
}

#[test]
fn a_failed_verification_sends_a_grid_case_back_to_the_unit() {
    let case = fixture("verifying").unwrap().then(inspector(), Action::Verify { passed: false });
    assert_eq!((case.state.status, case.state.reopen_count), (Status::InProgress, 1));
    let case = case.then(handler("U1"), Action::Reply).then(inspector(), Action::Verify { passed: true });
    assert_eq!(case.state.status, Status::Closed);
    assert_eq!(case.state.closed_at, Some(case.state.updated_at));
}

fn reclassify(from: &str, category: &str, deadline_class: DeadlineClass) -> Action {
    Action::Reclassify { from: from.into(), category: category.into(), deadline_class }
}

#[test]
fn reclassifying_a_queued_case_sets_its_category_and_class_and_replays() {
    // A case from the manual queue (received under 2299) gets its real category, then is
    // dispatched: the status stays received until the 派单.
    let queued = Case::receive(operator(), false);
    let case = queued.then(dispatcher(), reclassify("0101", "1005", DeadlineClass::Utility));
    let last = case.events.last().unwrap();
    assert_eq!(
        (last.from, last.to, last.action.code(), last.action.label()),
        (Some(Status::Received), Status::Received, "reclassify", "改分类")
    );
    let s = &case.state;
    assert_eq!(
        (s.status, s.category.as_str(), s.deadline_class, s.assignee.as_deref(), s.due),
        (Status::Received, "1005", DeadlineClass::Utility, None, None)
    );
    let case = case.dispatch("U2");
    assert_eq!(case.state.category, "1005");
    assert_eq!(replay(&case.events).unwrap(), case.state);
    // After an approved return too.
    let back = fixture("return_requested").unwrap().then(dispatcher(), Action::ApproveReturn);
    let back = back.then(operator(), reclassify("0101", "0302", DeadlineClass::Complex));
    assert_eq!((back.state.status, back.state.category.as_str()), (Status::Received, "0302"));
    assert_eq!(replay(&back.events).unwrap(), back.state);
}

#[test]
fn reclassifying_a_case_a_unit_holds_moves_no_deadline() {
    let case = fixture("accepted_ext").unwrap();
    let before = case.state.clone();
    let after = case.then(dispatcher(), reclassify("0101", "0102", DeadlineClass::Emergency));
    let s = &after.state;
    assert_eq!(
        (s.status, s.assignee.as_deref(), s.due, s.pending_extension),
        (before.status, before.assignee.as_deref(), before.due, before.pending_extension)
    );
    assert_eq!((s.category.as_str(), s.deadline_class), ("0102", DeadlineClass::Emergency));
    assert_eq!(replay(&after.events).unwrap(), after.state);
}

#[test]
fn reclassify_is_refused_on_closed_and_merged_cases_and_with_a_wrong_or_same_category() {
    for name in ["closed", "closed_unassigned", "merged"] {
        let case = fixture(name).unwrap();
        let action = reclassify("0101", "0102", DeadlineClass::General);
        let err = step(Some(&case.state), case.next(), dispatcher(), action.clone(), None).unwrap_err();
        assert_illegal(&err, &action, case.state.status, name);
        assert!(err.to_string().contains("改分类"), "{err}");
    }
    let case = fixture("received").unwrap();
    for (from, to) in [("0102", "0103"), ("0101", "0101")] {
        let err =
            step(Some(&case.state), case.next(), dispatcher(), reclassify(from, to, DeadlineClass::General), None)
                .unwrap_err();
        assert!(matches!(err, WorkflowError::Invalid(_)), "{from} → {to}: {err:?}");
    }
    // Units, supervisors and citizens may not reclassify.
    for who in [handler("U1"), supervisor(), actor(Role::Citizen, None), Actor::system("router")] {
        let err =
            step(Some(&case.state), case.next(), who.clone(), reclassify("0101", "0102", DeadlineClass::General), None)
                .unwrap_err();
        assert_eq!(err, WorkflowError::Forbidden { role: who.role.code(), action: "reclassify" });
    }
}

#[test]
fn a_reclassify_with_a_stale_from_does_not_replay() {
    let mut case = fixture("received").unwrap().then(dispatcher(), reclassify("0101", "1005", DeadlineClass::General));
    if let Action::Reclassify { from, .. } = &mut case.events[1].action {
        *from = "2299".into();
    }
    assert!(matches!(replay(&case.events), Err(WorkflowError::Corrupt { seq: 2, .. })));
}

// ---------------------------------------------------------------------------------------------
// 2. Authorisation
// ---------------------------------------------------------------------------------------------

/// `sample [@fixture]: roles that may take it`. The default fixture is `in_progress_joint`
/// (lead unit U1, summoned unit U3); a unit handler acts from U3 for `check_in`, from U1
/// otherwise. Every role not listed must get `Forbidden`.
const AUTHORISATION: &str = "
receive           [@new]:      operator grid_inspector citizen system admin
dispatch:                      dispatcher system admin
accept:                        unit_handler admin
handle:                        unit_handler admin
request_return:                unit_handler admin
approve_return:                dispatcher system admin
refuse_return:                 dispatcher system admin
request_extension:             unit_handler admin
approve_extension:             dispatcher supervisor admin
refuse_extension:              dispatcher supervisor admin
supervise:                     supervisor system admin
whistle:                       unit_handler system admin
check_in:                      unit_handler admin
reply:                         unit_handler admin
reply             [@received]: operator admin
verify_pass:                   grid_inspector supervisor admin
callback:                      operator citizen system admin
close:                         operator dispatcher supervisor system admin
reopen:                        operator dispatcher supervisor citizen system admin
merge:                         operator dispatcher admin
reclassify        [@received]: operator dispatcher admin
reclassify:                    operator dispatcher admin
appeal:                        unit_handler admin
rule_appeal_exclude:           supervisor admin
rule_appeal_refuse:            supervisor admin
alarm:                         system admin
";

/// An actor in `role` from the unit that is entitled to act on the `in_progress_joint` fixture.
fn entitled(role: Role, action: &Action) -> Actor {
    match (role, action) {
        (Role::UnitHandler, Action::CheckIn) => handler("U3"),
        (Role::UnitHandler, _) => handler("U1"),
        (role, _) => actor(role, None),
    }
}

#[test]
fn authorisation_table_lists_the_roles_of_each_action() {
    let mut mismatches = Vec::new();
    let mut covered = [false; VARIANTS];
    for (name, at_fixture, roles) in rows(AUTHORISATION) {
        let fixture_name = at_fixture.as_deref().map_or("in_progress_joint", |f| f.trim_start_matches('@'));
        let case = fixture(fixture_name);
        let state = case.as_ref().map(|c| &c.state);
        let action = sample(&name, t0());
        covered[variant_index(&action)] = true;
        let allowed: Vec<Role> = roles.iter().map(|r| r.parse().unwrap_or_else(|e| panic!("{name}: {e}"))).collect();
        for &role in Role::ALL {
            let who = entitled(role, &action);
            match (allowed.contains(&role), authorize(state, &who, &action)) {
                (true, Ok(())) => {}
                (false, Err(WorkflowError::Forbidden { role: r, action: a })) => {
                    assert_eq!((r, a), (role.code(), action.code()), "{name} by {role}");
                }
                (expected, got) => {
                    mismatches.push(format!("{name} @{fixture_name} by {role}: allowed={expected}, got {got:?}"))
                }
            }
        }
    }
    assert!(covered.iter().all(|c| *c), "an action kind has no row: {covered:?}");
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

#[test]
fn unit_handlers_act_only_for_the_unit_that_holds_the_case() {
    let case = fixture("in_progress_joint").unwrap();
    for name in ["accept", "handle", "request_return", "request_extension", "whistle", "reply"] {
        let action = sample(name, t0());
        authorize(Some(&case.state), &handler("U1"), &action).unwrap_or_else(|e| panic!("{name} by U1: {e}"));
        // Another unit, a summoned (not leading) unit, and a handler with no unit.
        for (who, unit) in [(handler("U2"), "U2"), (handler("U3"), "U3"), (actor(Role::UnitHandler, None), "none")] {
            match authorize(Some(&case.state), &who, &action) {
                Err(WorkflowError::WrongUnit { unit: u, action: a, expected }) => {
                    assert_eq!((u.as_str(), a), (unit, action.code()));
                    assert!(expected.contains("U1"), "{expected}");
                }
                other => panic!("{name} by {unit}: expected WrongUnit, got {other:?}"),
            }
        }
    }
    // A case nobody holds yet: no unit may act on it.
    let received = fixture("received").unwrap();
    for name in ["accept", "handle", "request_return"] {
        let err = authorize(Some(&received.state), &handler("U1"), &sample(name, t0())).unwrap_err();
        assert!(matches!(err, WorkflowError::WrongUnit { .. }), "{name}: {err:?}");
    }
}

#[test]
fn only_summoned_units_check_in() {
    let joint = fixture("in_progress_joint").unwrap();
    authorize(Some(&joint.state), &handler("U3"), &Action::CheckIn).unwrap();
    let lone = fixture("in_progress").unwrap();
    for (state, who) in [
        (&joint.state, handler("U1")),
        (&joint.state, handler("U2")),
        (&lone.state, handler("U1")),
        (&lone.state, handler("U3")),
    ] {
        match authorize(Some(state), &who, &Action::CheckIn) {
            Err(WorkflowError::WrongUnit { action, expected, .. }) => {
                assert_eq!(action, "check_in");
                assert!(expected.contains("summoned"), "{expected}");
            }
            other => panic!("check-in by {who:?}: expected WrongUnit, got {other:?}"),
        }
    }
    // The state machine agrees: a unit that was not summoned cannot check in even as admin.
    let err =
        transition(Some(&joint.state), joint.next(), &actor(Role::Admin, Some("U2")), &Action::CheckIn).unwrap_err();
    assert!(matches!(err, WorkflowError::Invalid(_)), "{err:?}");
}

#[test]
fn the_operator_replies_only_to_received_cases() {
    for (name, _, _) in rows(TRANSITIONS) {
        let state = fixture(&name).unwrap().state;
        let result = authorize(Some(&state), &operator(), &Action::Reply);
        assert_eq!(result.is_ok(), state.status == Status::Received, "{name}: {result:?}");
        // ... and a unit handler never replies to a received case, even its own unit's.
        if state.status == Status::Received {
            assert!(authorize(Some(&state), &handler("U1"), &Action::Reply).is_err());
        }
    }
}

#[test]
fn admin_may_take_every_action_the_state_machine_allows() {
    for (name, _, _) in rows(TRANSITIONS) {
        let case = fixture(&name).unwrap();
        let at = case.next();
        for &sample_name in SAMPLES {
            let action = sample(sample_name, at);
            authorize(Some(&case.state), &admin(), &action).unwrap_or_else(|e| panic!("{name} + {sample_name}: {e}"));
            let machine = transition(Some(&case.state), at, &admin(), &action);
            let stepped = step(Some(&case.state), at, admin(), action, None);
            match (machine, stepped) {
                (Ok(a), Ok((event, b))) => {
                    assert_eq!(a, b, "{name} + {sample_name}");
                    assert_eq!((event.from, event.to, event.seq), (Some(case.state.status), b.status, b.seq));
                }
                (Err(a), Err(b)) => assert_eq!(a, b, "{name} + {sample_name}"),
                (a, b) => panic!("{name} + {sample_name}: transition {a:?} but step {b:?}"),
            }
        }
    }
    let receive = sample("receive", t0());
    authorize(None, &admin(), &receive).unwrap();
}

#[test]
fn authorisation_is_checked_before_the_state_machine() {
    // A dispatcher cannot accept, whatever the status: the refusal is about the role.
    let closed = fixture("closed").unwrap();
    let err = step(Some(&closed.state), closed.next(), dispatcher(), Action::Accept, None).unwrap_err();
    assert_eq!(err, WorkflowError::Forbidden { role: "dispatcher", action: "accept" });
}

// ---------------------------------------------------------------------------------------------
// 3. Properties of random histories
// ---------------------------------------------------------------------------------------------

/// One generated move: `plausible` moves pick among the candidates `step` accepts, others pick
/// any candidate (often with a random actor, sometimes at an earlier time) and are usually refused.
#[derive(Debug, Clone)]
struct Op {
    plausible: bool,
    pick: u16,
    minutes: i64,
    p: u8,
}

fn op() -> impl Strategy<Value = Op> {
    (
        prop::bool::weighted(0.85),
        any::<u16>(),
        prop_oneof![3 => Just(0i64), 5 => 1i64..240, 2 => 240i64..6000],
        any::<u8>(),
    )
        .prop_map(|(plausible, pick, minutes, p)| Op { plausible, pick, minutes, p })
}

fn ops(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), len)
}

const UNITS: &[&str] = &["U1", "U2", "U3", "U4"];

/// Any role from any unit (or none).
fn random_actor(p: u8) -> Actor {
    let role = Role::ALL[p as usize % Role::ALL.len()];
    let unit = [None, Some("U1"), Some("U2"), Some("U3"), Some("U4")][(p as usize / 8) % 5];
    actor(role, unit)
}

/// Candidate moves on a case in `state` at `at`, with actors who would normally take them.
fn candidates(state: Option<&CaseState>, at: DateTime<Utc>, p: u8) -> Vec<(Actor, Action)> {
    let class = DeadlineClass::ALL[p as usize % DeadlineClass::ALL.len()];
    let Some(s) = state else {
        let receive = |verify| Action::Receive {
            category: format!("0{}", p % 10),
            deadline_class: class,
            verify,
            intake: vec![],
        };
        return vec![
            (operator(), receive(false)),
            (inspector(), receive(true)),
            (Actor::system("sensor"), receive(true)),
        ];
    };
    let p64 = i64::from(p);
    let unit = UNITS[p as usize % UNITS.len()];
    let lead = handler(s.assignee.as_deref().unwrap_or("U1"));
    let due = s.due.unwrap_or(at);
    let callback = Callback {
        reached: p & 3 != 0,
        responded: p & 4 != 0,
        solved: p & 8 != 0,
        satisfaction: Satisfaction::ALL[(p as usize >> 4) % 3],
    };
    let mut c = vec![
        (dispatcher(), Action::Dispatch { unit: unit.into(), due: at + hours(1 + p64 % 200), rule: None }),
        (Actor::system("router"), Action::Dispatch { unit: "U1".into(), due: at + hours(2), rule: Some("R-1".into()) }),
        // Never valid: a deadline in the past.
        (dispatcher(), Action::Dispatch { unit: unit.into(), due: at - Duration::minutes(p64), rule: None }),
        (lead.clone(), Action::Accept),
        (lead.clone(), Action::Handle { contacted: p.is_multiple_of(2) }),
        (lead.clone(), Action::RequestReturn),
        // Invalid when p % 72 == 0: the deadline would not move.
        (lead.clone(), Action::RequestExtension { until: due + hours(p64 % 72) }),
        (lead.clone(), Action::Whistle { units: vec![unit.into()], checkin_due: at + hours(1 + p64 % 48) }),
        (lead.clone(), Action::Reply),
        (dispatcher(), Action::ApproveReturn),
        (dispatcher(), Action::RefuseReturn),
        (supervisor(), Action::ApproveExtension),
        (dispatcher(), Action::RefuseExtension),
        (Actor::system("timer"), Action::Supervise { overdue: s.due.is_some_and(|d| d <= at) }),
        (supervisor(), Action::Supervise { overdue: false }),
        (operator(), Action::Reply),
        (inspector(), Action::Verify { passed: !p.is_multiple_of(3) }),
        (operator(), Action::Callback(callback)),
        (operator(), Action::Close),
        (dispatcher(), Action::Reopen { due: Some(at + hours(24 + p64)) }),
        (supervisor(), Action::Reopen { due: None }),
        (
            if p.is_multiple_of(2) { dispatcher() } else { operator() },
            Action::Reclassify { from: s.category.clone(), category: format!("0{}", p % 10), deadline_class: class },
        ),
        // Never valid: the category the case is not in.
        (
            dispatcher(),
            Action::Reclassify { from: format!("x{}", s.category), category: "0999".into(), deadline_class: class },
        ),
    ];
    for j in &s.joint {
        c.push((handler(&j.unit), Action::CheckIn));
    }
    // Merging ends a history; keep it rare so that most paths run long.
    if p < 6 {
        c.push((operator(), Action::Merge { into: p64 + 1 }));
    }
    c
}

/// The invariants that must hold after every accepted step.
fn check_invariants(events: &[Event], state: &CaseState, prev: Option<&CaseState>) -> Result<(), TestCaseError> {
    // The state equals the replay of the events so far.
    let replayed = replay(events).map_err(|e| TestCaseError::fail(format!("replay failed: {e}")))?;
    prop_assert_eq!(&replayed, state);

    // The history is a chain: seq 1..n, each `from` the previous `to`, times non-decreasing.
    for (i, e) in events.iter().enumerate() {
        prop_assert_eq!(e.seq as usize, i + 1);
        if i == 0 {
            prop_assert_eq!(e.from, None);
            prop_assert!(matches!(e.action, Action::Receive { .. }), "the first event is not a receive");
        } else {
            prop_assert_eq!(e.from, Some(events[i - 1].to));
            prop_assert!(events[i - 1].at <= e.at, "time goes back at event {}", e.seq);
        }
    }
    let last = events.last().expect("at least one event");
    prop_assert_eq!((last.to, last.seq, last.at), (state.status, state.seq, state.updated_at));
    prop_assert_eq!(state.received_at, events[0].at);

    // Deadlines are never earlier than the case's creation.
    let deadlines =
        state.due.iter().chain(state.pending_extension.iter()).chain(state.joint.iter().map(|j| &j.checkin_due));
    for d in deadlines {
        prop_assert!(*d > state.received_at, "deadline {} not after receipt {}", d, state.received_at);
    }

    // closed_at is set iff the case is closed; counters never go back.
    prop_assert_eq!(state.closed_at.is_some(), state.status == Status::Closed);
    if let Some(prev) = prev {
        prop_assert!(state.reopen_count >= prev.reopen_count);
        prop_assert!(state.returns >= prev.returns);
        prop_assert!(state.extensions >= prev.extensions);
        prop_assert!(state.supervisions >= prev.supervisions);
        prop_assert_eq!(state.seq, prev.seq + 1);
        prop_assert_eq!((state.received_at, state.verify), (prev.received_at, prev.verify));
        // Only 改分类 changes the category and its deadline class, and never the status, the
        // unit or its deadline.
        let last = events.last().expect("at least one event");
        if let Action::Reclassify { from, category, deadline_class } = &last.action {
            prop_assert_eq!((from, &state.category, state.deadline_class), (&prev.category, category, *deadline_class));
            prop_assert_ne!(&state.category, &prev.category);
            prop_assert_eq!((state.status, &state.assignee, state.due), (prev.status, &prev.assignee, prev.due));
        } else {
            prop_assert_eq!((&state.category, state.deadline_class), (&prev.category, prev.deadline_class));
        }
    }
    // The case is in a unit's hands exactly when the status says so.
    if matches!(state.status, Status::Dispatched | Status::Accepted | Status::InProgress | Status::ReturnRequested) {
        prop_assert!(state.assignee.is_some() && state.due.is_some(), "{} case without unit or deadline", state.status);
    }
    if state.status == Status::Received {
        prop_assert!(state.assignee.is_none() && state.due.is_none());
    }

    // Closed cases take nothing but reopen and the assessment appeal (考核申诉, which leaves them
    // closed); merged cases take nothing; neither is overdue.
    if !state.status.is_open() {
        let probe = state.updated_at + hours(1);
        for &name in SAMPLES {
            let action = sample(name, probe);
            let result = transition(Some(state), probe, &admin(), &action);
            if state.status == Status::Closed && name == "reopen" {
                prop_assert!(result.is_ok(), "a closed case refuses reopen: {:?}", result);
                continue;
            }
            if state.status == Status::Closed && matches!(action, Action::Appeal { .. } | Action::RuleAppeal { .. }) {
                if let Ok(next) = result {
                    prop_assert_eq!(next.status, Status::Closed);
                }
                continue;
            }
            match result {
                Err(WorkflowError::IllegalTransition { action: a, status: s, .. }) => {
                    prop_assert_eq!((a, s), (action.code(), state.status.code()));
                }
                other => prop_assert!(false, "a {} case took {}: {:?}", state.status, name, other),
            }
            prop_assert!(step(Some(state), probe, admin(), action, None).is_err());
        }
        for now in [state.updated_at, state.updated_at + Duration::days(3650)] {
            prop_assert!(!state.is_overdue(now));
        }
        if let Some(due) = state.due {
            prop_assert!(!state.is_overdue(due));
        }
    }
    if state.status == Status::Merged {
        prop_assert!(state.merged_into.is_some());
    }
    Ok(())
}

/// Applies `ops` with [`step`], skipping refused moves; checks the invariants after every
/// accepted step when `check` is set. Returns the events.
fn drive(ops: &[Op], check: bool) -> Result<(Vec<Event>, Option<CaseState>), TestCaseError> {
    let mut events: Vec<Event> = Vec::new();
    let mut state: Option<CaseState> = None;
    for op in ops {
        let base = state.as_ref().map_or(t0(), |s| s.updated_at);
        let mut at = base + Duration::minutes(op.minutes);
        let all = candidates(state.as_ref(), at, op.p);
        let chosen = if op.plausible {
            let ok: Vec<_> = all
                .into_iter()
                .filter(|(who, a)| step(state.as_ref(), at, who.clone(), a.clone(), None).is_ok())
                .collect();
            if ok.is_empty() {
                continue;
            }
            ok[op.pick as usize % ok.len()].clone()
        } else {
            let (mut who, action) = all[op.pick as usize % all.len()].clone();
            if op.pick % 3 != 0 {
                who = random_actor(op.p.wrapping_add((op.pick >> 8) as u8));
            }
            if op.p % 16 == 0 && state.is_some() {
                at = base - Duration::minutes(1);
            }
            (who, action)
        };
        let (who, action) = chosen;
        match step(state.as_ref(), at, who, action.clone(), Some(format!("op {}", events.len()))) {
            Ok((event, next)) => {
                prop_assert!(at >= base || state.is_none(), "accepted an event earlier than the latest");
                events.push(event);
                if check {
                    check_invariants(&events, &next, state.as_ref())?;
                }
                state = Some(next);
            }
            Err(WorkflowError::IllegalTransition { action: a, status: s, .. }) => {
                // A refusal names the action taken and the status the case is really in.
                let current = state.as_ref().map(|s| s.status.code());
                prop_assert_eq!((a, Some(s)), (action.code(), current));
            }
            Err(WorkflowError::Corrupt { .. }) => prop_assert!(false, "step never reports corruption"),
            Err(_) => {}
        }
    }
    Ok((events, state))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    /// After every accepted step of a random history, the state equals the replay of the
    /// events, the history is a chain, deadlines follow creation, closed cases take only
    /// reopen, merged cases take nothing, and the counters never go back.
    #[test]
    fn random_histories_keep_every_invariant(ops in ops(1..70)) {
        drive(&ops, true)?;
    }

    /// Swapping two events, changing a `to` or a `from`, dropping an event (other than the last)
    /// or changing a seq makes replay fail with `Corrupt`.
    #[test]
    fn corrupted_histories_do_not_replay(
        ops in ops(2..50),
        kind in 0u8..5,
        i in any::<Index>(),
        j in any::<Index>(),
        k in any::<u8>(),
    ) {
        let (mut events, _) = drive(&ops, false)?;
        prop_assume!(events.len() >= 2);
        let n = events.len();
        let what = match kind {
            0 => {
                let a = i.index(n);
                let b = { let b = j.index(n); if b == a { (a + 1) % n } else { b } };
                events.swap(a, b);
                format!("swap {a} and {b}")
            }
            1 => {
                let a = i.index(n);
                let others: Vec<Status> = Status::ALL.iter().copied().filter(|s| *s != events[a].to).collect();
                events[a].to = others[k as usize % others.len()];
                format!("event {a} to {}", events[a].to)
            }
            2 => {
                let a = i.index(n);
                let mut others: Vec<Option<Status>> = Status::ALL.iter().copied().map(Some).collect();
                others.push(None);
                others.retain(|s| *s != events[a].from);
                events[a].from = others[k as usize % others.len()];
                format!("event {a} from {:?}", events[a].from)
            }
            3 => {
                let a = i.index(n - 1);
                events.remove(a);
                format!("drop event {a}")
            }
            _ => {
                let a = i.index(n);
                let old = events[a].seq;
                events[a].seq = if k % 2 == 0 { 0 } else { old + 1 + u32::from(k % 5) };
                format!("event {a} seq {old} -> {}", events[a].seq)
            }
        };
        let result = replay(&events);
        prop_assert!(matches!(result, Err(WorkflowError::Corrupt { .. })), "{}: replay gave {:?}", what, result);
    }

    /// Every event and state of a random history survives a JSON round trip, and the events
    /// read back replay to the same state.
    #[test]
    fn events_and_states_round_trip_through_json(ops in ops(1..40)) {
        let (events, state) = drive(&ops, false)?;
        let json = serde_json::to_string(&events).unwrap();
        let events_back: Vec<Event> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&events_back, &events);
        if let Some(state) = state {
            let state_back: CaseState = serde_json::from_str(&serde_json::to_string(&state).unwrap()).unwrap();
            prop_assert_eq!(&state_back, &state);
            prop_assert_eq!(replay(&events_back).unwrap(), state);
        }
    }
}

#[test]
fn dropping_the_last_event_is_a_valid_shorter_history() {
    // Replay cannot tell a truncated history from an older one: every prefix replays to the
    // state the case had then. (Stores guard against truncation with the case row's seq.)
    let case = fixture("closed").unwrap();
    for n in 1..=case.events.len() {
        let state = replay(&case.events[..n]).unwrap();
        assert_eq!((state.seq as usize, state.status), (n, case.events[n - 1].to));
    }
}

#[test]
fn an_empty_history_does_not_replay() {
    assert!(matches!(replay(&[]), Err(WorkflowError::Corrupt { seq: 0, .. })));
}

#[test]
fn a_recorded_illegal_action_does_not_replay() {
    let mut case = fixture("dispatched").unwrap();
    let last = case.events.last().unwrap().clone();
    case.events.push(Event {
        seq: last.seq + 1,
        from: Some(last.to),
        to: Status::Closed,
        action: Action::Close,
        ..last
    });
    match replay(&case.events) {
        Err(WorkflowError::Corrupt { seq, message }) => {
            assert_eq!(seq, 3);
            assert!(message.contains("close") && message.contains("dispatched"), "{message}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn replay_does_not_recheck_authorisation() {
    // Rules about roles may change; history may not. A dispatch recorded as a citizen's replays.
    let mut case = fixture("received").unwrap();
    let at = case.next();
    let (event, state) = step(Some(&case.state), at, dispatcher(), sample("dispatch", at), None).unwrap();
    case.events.push(Event { actor: actor(Role::Citizen, None), ..event });
    assert_eq!(replay(&case.events).unwrap(), state);
}

// ---------------------------------------------------------------------------------------------
// 4. Serde
// ---------------------------------------------------------------------------------------------

#[test]
fn every_action_round_trips_through_json_tagged_with_its_code() {
    for &name in SAMPLES {
        let action = sample(name, t0());
        let value = serde_json::to_value(&action).unwrap();
        assert_eq!(value["type"], action.code(), "{name}: {value}");
        let back: Action = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(back, action, "{name}: {value}");
    }
}

#[test]
fn actions_have_a_flat_json_shape() {
    let due = Utc.with_ymd_and_hms(2026, 3, 9, 16, 0, 0).unwrap();
    let cases = [
        (
            Action::Dispatch { unit: "S001".into(), due, rule: None },
            r#"{"type":"dispatch","unit":"S001","due":"2026-03-09T16:00:00Z","rule":null}"#,
        ),
        (Action::Accept, r#"{"type":"accept"}"#),
        (
            Action::Callback(Callback {
                reached: true,
                responded: false,
                solved: false,
                satisfaction: Satisfaction::Unsatisfied,
            }),
            r#"{"type":"callback","reached":true,"responded":false,"solved":false,"satisfaction":"unsatisfied"}"#,
        ),
        (
            Action::Receive {
                category: "0101".into(),
                deadline_class: DeadlineClass::Utility,
                verify: true,
                intake: vec![],
            },
            r#"{"type":"receive","category":"0101","deadline_class":"utility","verify":true}"#,
        ),
        (Action::Reopen { due: None }, r#"{"type":"reopen","due":null}"#),
        (Action::Merge { into: 12 }, r#"{"type":"merge","into":12}"#),
    ];
    for (action, json) in cases {
        assert_eq!(serde_json::to_string(&action).unwrap(), json);
        assert_eq!(serde_json::from_str::<Action>(json).unwrap(), action);
    }
}

#[test]
fn unknown_or_untagged_actions_are_rejected() {
    for json in [r#"{"type":"teleport"}"#, r#"{"unit":"S001"}"#, r#"{"type":"merge"}"#, r#""accept""#] {
        assert!(serde_json::from_str::<Action>(json).is_err(), "{json}");
    }
}

#[test]
fn fixture_events_and_states_round_trip_through_json() {
    for (name, _, _) in rows(TRANSITIONS) {
        let case = fixture(&name).unwrap();
        for event in &case.events {
            let back: Event = serde_json::from_str(&serde_json::to_string(event).unwrap()).unwrap();
            assert_eq!(&back, event, "{name}");
        }
        let back: CaseState = serde_json::from_str(&serde_json::to_string(&case.state).unwrap()).unwrap();
        assert_eq!(back, case.state, "{name}");
    }
}

/// A sensor's red case (issue 13): the system summons the device's unit as it dispatches; the
/// case stays 已派单 for the lead unit to sign, and no person summons before signing.
#[test]
fn the_system_summons_as_it_dispatches_a_sensor_case() {
    let c = fixture("dispatched").unwrap();
    let at = c.next();
    let whistle = Action::Whistle { units: vec!["U3".into()], checkin_due: at + hours(2) };
    let (e, s) = step(Some(&c.state), at, Actor::system("sensor"), whistle.clone(), None).unwrap();
    assert_eq!((e.to, s.status), (Status::Dispatched, Status::Dispatched));
    assert_eq!(s.joint.iter().map(|j| j.unit.as_str()).collect::<Vec<_>>(), ["U3"]);
    assert!(matches!(
        step(Some(&c.state), at, handler("U1"), whistle, None),
        Err(WorkflowError::IllegalTransition { .. })
    ));
    assert_eq!(replay(&[c.events, vec![e]].concat()).unwrap(), s);
}
