//! The desk (受理台): the one place where the pure domain and the store meet.
//!
//! Every change to a case goes through [`Desk::receive`] or [`Desk::act`]: load the case, let the
//! domain decide ([`jiesu_domain::workflow::step`]), append the event and the new state in one
//! transaction, and retry when another writer won the race (optimistic concurrency on the event
//! sequence number). Background work ([`Desk::sweep_overdue`]) uses the same path, so two servers
//! running the sweep never raise the same notice twice: the loser's append conflicts, it reloads,
//! and sees the notice already there.
//!
//! **Architecture invariant:** the desk knows no HTTP and no SQL; it reads no clock (callers pass
//! the time).

pub mod alarms;
mod check;
mod command;
pub mod duplicates;
mod error;
pub mod intake;
pub mod notices;

pub use check::CheckReport;
pub use command::Command;
pub use duplicates::DuplicateSuggestion;
pub use error::CoreError;
pub use jiesu_intake::suggest::{CategorySuggestion, Suggester};

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use jiesu_domain::access::{self, Scope};
use jiesu_domain::assessment::{self, CaseFacts, Period, RankRow, Tally, UnitFigures, Weights};
use jiesu_domain::attachment::{self, Photo};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::deadline::{self, DeadlinePolicy, Span};
use jiesu_domain::draft::NewCase;
use jiesu_domain::model::{Channel, DeadlineClass, UnitKind};
use jiesu_domain::workflow::{self, Action, Actor, CaseState, WorkflowError};
use jiesu_store::{AppendAlso, CallerCases, CaseRecord, ClientUpdate, NewMedia, Open311Intake, Store, StoreError};

use crate::error::invalid;

/// How many times an action is retried when other writers keep winning.
const MAX_ATTEMPTS: usize = 8;

/// Settings of the desk. Everything has a sensible default for Dongcheng.
#[derive(Debug, Clone)]
pub struct Config {
    /// Deadline per class.
    pub policy: DeadlinePolicy,
    /// Local time zone (day boundaries, months).
    pub tz: Tz,
    /// Weights of the composite score.
    pub weights: Weights,
    /// Time summoned units have to check in (报到) after 吹哨.
    pub checkin: Span,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            policy: DeadlinePolicy::default(),
            tz: deadline::default_tz(),
            weights: Weights::default(),
            checkin: Span::Hours(2),
        }
    }
}

/// The desk: store + catalog + calendar + configuration. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Desk {
    store: Store,
    catalog: Arc<Catalog>,
    calendar: Arc<Calendar>,
    config: Arc<Config>,
    geo: Option<Arc<jiesu_geo::Geo>>,
    classifier: Option<Arc<jiesu_intake::suggest::Suggester>>,
}

impl Desk {
    /// A desk over `store`.
    pub fn new(store: Store, catalog: Catalog, calendar: Calendar, config: Config) -> Desk {
        Desk {
            store,
            catalog: Arc::new(catalog),
            calendar: Arc::new(calendar),
            config: Arc::new(config),
            geo: None,
            classifier: None,
        }
    }

    /// The same desk finding the place of new cases with `geo` (gazetteer and unit grid).
    pub fn with_geo(mut self, geo: Arc<jiesu_geo::Geo>) -> Desk {
        self.geo = Some(geo);
        self
    }

    /// The same desk suggesting the category of new cases with `suggester` (classifier and label
    /// map, see [`intake::category`]); a draft may then arrive without a category. Fails when the
    /// catalog has no leaf [`intake::MANUAL_CATEGORY`] for the manual queue.
    pub fn with_classifier(mut self, suggester: Arc<jiesu_intake::suggest::Suggester>) -> Result<Desk, CoreError> {
        if !self.catalog.category(intake::MANUAL_CATEGORY).is_some_and(|c| c.is_leaf()) {
            return Err(invalid(
                "category",
                format!("the catalog has no leaf category {} for the manual queue", intake::MANUAL_CATEGORY),
            ));
        }
        self.classifier = Some(suggester);
        Ok(self)
    }

    /// The category suggester, when loaded.
    pub fn classifier(&self) -> Option<&jiesu_intake::suggest::Suggester> {
        self.classifier.as_deref()
    }

    /// The district's gazetteer and grid, when loaded.
    pub fn geo(&self) -> Option<&jiesu_geo::Geo> {
        self.geo.as_deref()
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The catalog of units, areas and categories.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The working-day calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn due_from(&self, state: &CaseState, at: DateTime<Utc>) -> Result<DateTime<Utc>, CoreError> {
        self.due_for(state.deadline_class, at)
    }

    fn due_for(&self, class: DeadlineClass, at: DateTime<Utc>) -> Result<DateTime<Utc>, CoreError> {
        let span = self.config.policy.span(class);
        Ok(deadline::due_at(span, at, self.config.tz, &self.calendar)?)
    }

    /// 受理: validates and stores a new case. With `auto_dispatch`, it is also dispatched at once
    /// to the unit the responsibility list names (as the system actor `router`), in the same
    /// transaction — unless the case went to the dispatcher's manual queue (no category given and
    /// no confident suggestion; see [`intake`]), which stays 已受理.
    ///
    /// An external id is unique per filer (`actor`): a case that `actor` already filed with the
    /// same external id is not filed again but named by [`StoreError::AlreadyFiled`] (also when
    /// both arrive at once).
    pub async fn receive(
        &self,
        actor: Actor,
        case: NewCase,
        at: DateTime<Utc>,
        auto_dispatch: bool,
    ) -> Result<CaseRecord, CoreError> {
        self.receive_with(actor, case, at, auto_dispatch, None).await
    }

    /// [`Desk::receive`], writing what an Open311 client sent beside the case (media,
    /// attributes, token) in the case's own transaction.
    pub async fn receive_with(
        &self,
        actor: Actor,
        case: NewCase,
        at: DateTime<Utc>,
        auto_dispatch: bool,
        open311: Option<Open311Intake>,
    ) -> Result<CaseRecord, CoreError> {
        self.receive_full(actor, case, at, auto_dispatch, open311, Vec::new()).await
    }

    /// [`Desk::receive_with`] with photos that came with the case (a grid inspector's report),
    /// stored as attachments of its 受理 event in the case's own transaction. At most
    /// [`attachment::MAX_PHOTOS`].
    pub async fn receive_full(
        &self,
        actor: Actor,
        case: NewCase,
        at: DateTime<Utc>,
        auto_dispatch: bool,
        open311: Option<Open311Intake>,
        photos: Vec<Photo>,
    ) -> Result<CaseRecord, CoreError> {
        attachment::check_count(photos.len()).map_err(|m| invalid("photos", m))?;
        if let Some(x) = &case.external_id
            && let Some(id) = self.store.case_filed(&actor.user, x).await?
        {
            return Err(StoreError::AlreadyFiled(id).into());
        }
        let Prepared { mut case, events, state } = self.prepare(actor, case, at, auto_dispatch)?;
        let id = self.store.create_case_full(&case, &events, &state, open311.as_ref(), &photos).await?;
        case.title = Some(case.display_title());
        Ok(CaseRecord { id, case, state })
    }

    /// What [`Desk::receive`] decides, without writing it: the case as it will be stored (category
    /// and place settled), its 受理 event and, with `auto_dispatch`, its 派单. Pure: bulk loaders
    /// decide many cases this way and write them together ([`Store::create_cases`]).
    pub fn prepare(
        &self,
        actor: Actor,
        case: NewCase,
        at: DateTime<Utc>,
        auto_dispatch: bool,
    ) -> Result<Prepared, CoreError> {
        let unset = case.category.trim().is_empty();
        if let Err(errors) = case.validate(&self.catalog) {
            // With a classifier, a missing category is suggested below.
            let errors: Vec<_> =
                errors.into_iter().filter(|e| !(unset && self.classifier.is_some() && e.field == "category")).collect();
            if !errors.is_empty() {
                return Err(CoreError::Invalid(errors));
            }
        }
        let mut case = case;
        let mut suggestions = Vec::new();
        let mut manual_queue = false;
        if let Some(s) = &self.classifier {
            let c = intake::category(s, &self.catalog, &mut case);
            suggestions.extend(c.record);
            manual_queue = c.manual_queue;
            if manual_queue {
                tracing::info!(label = %c.suggestion.label, confidence = c.suggestion.confidence, "new case to the manual queue");
            }
        }
        if let Some(geo) = &self.geo {
            suggestions.extend(intake::place(geo, &mut case)?.1);
        }
        let category = self
            .catalog
            .category(&case.category)
            .filter(|c| c.is_leaf())
            .ok_or_else(|| invalid("category", format!("unknown category code '{}'", case.category)))?;
        let receive = Action::Receive {
            category: category.code.clone(),
            deadline_class: category.deadline_class,
            verify: matches!(case.channel, Channel::Grid | Channel::Sensor),
            intake: suggestions,
        };
        let (first, state) = workflow::step(None, at, actor, receive, None)?;
        let mut events = vec![first];
        let mut state = state;
        if auto_dispatch && !manual_queue {
            let r = self.catalog.route(&case.category, case.place.street.as_deref(), case.place.community.as_deref());
            let due = self.due_from(&state, at)?;
            let action = Action::Dispatch { unit: r.unit, due, rule: Some(r.rule) };
            let (e, s) = workflow::step(Some(&state), at, Actor::system("router"), action, None)?;
            events.push(e);
            state = s;
        }
        Ok(Prepared { case, events, state })
    }

    /// Takes `command` on case `id` as `actor` at `at` (moved forward to the case's latest event
    /// if a clock lags). Most commands make one event; a dispatch with a new category makes two
    /// (改分类, then 派单 with the note), appended together or not at all.
    pub async fn act(
        &self,
        id: i64,
        actor: Actor,
        command: Command,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<CaseRecord, CoreError> {
        Ok(self.act_recording(id, actor, command, note, at, None).await?.0)
    }

    /// [`Desk::act`] only while the case is as the actor last saw it: its latest event is still
    /// number `seen` (the case view's `events`). A person who chose cases from a list acts on
    /// what they saw: when someone else acted on a case in between (another dispatcher sent it
    /// first), nothing is written and the answer is [`CoreError::Changed`], instead of the
    /// desk's usual reload and decide again (which would, say, dispatch the case a second time).
    pub async fn act_as_seen(
        &self,
        id: i64,
        seen: u32,
        actor: Actor,
        command: Command,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<CaseRecord, CoreError> {
        let note = checked_note(&command, note)?;
        let scope = Scope::of(&actor, &self.catalog);
        let decide = |desk: &Desk, rec: &CaseRecord, at| {
            if rec.state.seq != seen {
                return Err(CoreError::Changed { id, seen, now: rec.state.seq });
            }
            Ok(Some(desk.steps_for(rec, &actor, &command, note.clone(), at)?))
        };
        self.act_with(id, &scope, at, decide).await?.ok_or(CoreError::NotFound(id))
    }

    /// [`Desk::act`] with photos (答复 with photos of the fix, 核查, 办理): stored as attachments
    /// of the command's last event, in its transaction. Refused when that action takes no photos
    /// ([`attachment::allowed_on`]) or there are more than [`attachment::MAX_PHOTOS`].
    pub async fn act_with_photos(
        &self,
        id: i64,
        actor: Actor,
        command: Command,
        note: Option<String>,
        at: DateTime<Utc>,
        photos: Vec<Photo>,
    ) -> Result<CaseRecord, CoreError> {
        if photos.is_empty() {
            return self.act(id, actor, command, note, at).await;
        }
        attachment::check_count(photos.len()).map_err(|m| invalid("photos", m))?;
        let note = checked_note(&command, note)?;
        let scope = Scope::of(&actor, &self.catalog);
        let decide = |desk: &Desk, rec: &CaseRecord, at| {
            let steps = desk.steps_for(rec, &actor, &command, note.clone(), at)?;
            if !steps.last().is_some_and(|(_, a, _)| attachment::allowed_on(a)) {
                return Err(invalid("photos", format!("{} takes no photos", command.code())));
            }
            Ok(Some(steps))
        };
        let also = AppendAlso { photos: &photos, ..Default::default() };
        Ok(self.act_also(id, &scope, at, decide, also).await?.ok_or(CoreError::NotFound(id))?.0)
    }

    /// 来电弹屏: the earlier cases of whoever calls from `phone` (as typed: any spelling, see
    /// [`jiesu_domain::phone::normalise`]), newest first, at most `limit`, looked up by the
    /// number's keyed hash and recorded (who, when, which hash, how many). None when `phone` is
    /// no number. Only those who take calls may look up ([`access::may_look_up_callers`]).
    pub async fn caller_history(
        &self,
        actor: &Actor,
        phone: &str,
        limit: u32,
        at: DateTime<Utc>,
    ) -> Result<Option<CallerCases>, CoreError> {
        if !access::may_look_up_callers(actor.role) {
            return Err(WorkflowError::Forbidden { role: actor.role.code(), action: "look_up_caller" }.into());
        }
        let Some(number) = jiesu_domain::phone::normalise(phone) else { return Ok(None) };
        let scope = Scope::of(actor, &self.catalog);
        Ok(Some(self.store.caller_cases(&scope, &number, limit, actor, at).await?))
    }

    /// [`Desk::act`], storing a client's update (and its media file) in the same transaction as
    /// the events, so that both are written or neither (an Open311 client's REOPEN: a failed
    /// reopen leaves no update behind, and a retry of the update reopens). Returns the record
    /// and the id of the stored update.
    pub async fn act_recording(
        &self,
        id: i64,
        actor: Actor,
        command: Command,
        note: Option<String>,
        at: DateTime<Utc>,
        update: Option<(&ClientUpdate, Option<&NewMedia>)>,
    ) -> Result<(CaseRecord, Option<i64>), CoreError> {
        let note = checked_note(&command, note)?;
        // The case is loaded within the actor's scope: a case they may not see is not found.
        let scope = Scope::of(&actor, &self.catalog);
        let decide =
            |desk: &Desk, rec: &CaseRecord, at| Ok(Some(desk.steps_for(rec, &actor, &command, note.clone(), at)?));
        let also = AppendAlso {
            client_update: update.map(|(u, _)| u),
            media: update.and_then(|(_, m)| m),
            ..Default::default()
        };
        self.act_also(id, &scope, at, decide, also).await?.ok_or(CoreError::NotFound(id))
    }

    /// The steps [`Desk::act`] takes for `command` on `rec` at `at`, in order (the note goes on
    /// the last): pure, so bulk loaders decide a case's whole life in memory. A merge's master is
    /// checked when the steps are applied ([`Desk::act`] reads it from the store).
    pub fn steps_for(
        &self,
        rec: &CaseRecord,
        actor: &Actor,
        command: &Command,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<Vec<(Actor, Action, Option<String>)>, CoreError> {
        let note = checked_note(command, note)?;
        let actions = self.actions_for(rec, command, at)?;
        let last = actions.len().saturating_sub(1);
        let steps = actions
            .into_iter()
            .enumerate()
            .map(|(i, a)| (actor.clone(), a, if i == last { note.clone() } else { None }));
        Ok(steps.collect())
    }

    /// Load → decide → append, retried on conflicts. `decide` returns None to do nothing, or
    /// the steps to take, in order, all at the same instant and in one append.
    async fn act_with<F>(
        &self,
        id: i64,
        scope: &Scope,
        at: DateTime<Utc>,
        decide: F,
    ) -> Result<Option<CaseRecord>, CoreError>
    where
        F: Fn(&Desk, &CaseRecord, DateTime<Utc>) -> Result<Option<Vec<(Actor, Action, Option<String>)>>, CoreError>,
    {
        self.act_also(id, scope, at, decide, AppendAlso::default()).await.map(|done| done.map(|(rec, _)| rec))
    }

    /// [`Desk::act_with`], storing `also` (a client's update and its media, photos) in the same
    /// transaction as the events: both are written or neither. Returns the record and the
    /// update's id.
    async fn act_also<F>(
        &self,
        id: i64,
        scope: &Scope,
        at: DateTime<Utc>,
        decide: F,
        also: AppendAlso<'_>,
    ) -> Result<Option<(CaseRecord, Option<i64>)>, CoreError>
    where
        F: Fn(&Desk, &CaseRecord, DateTime<Utc>) -> Result<Option<Vec<(Actor, Action, Option<String>)>>, CoreError>,
    {
        for _ in 0..MAX_ATTEMPTS {
            let rec = self.store.case_in(scope, id).await?;
            let at = at.max(rec.state.updated_at);
            let Some(steps) = decide(self, &rec, at)? else { return Ok(None) };
            let mut events = Vec::with_capacity(steps.len());
            let mut next = rec.state.clone();
            let mut also = also;
            for (actor, action, note) in steps {
                if let Action::Merge { into } = &action {
                    // Who may merge at all first, then the master as the actor may see it (out of
                    // scope reads exactly like missing). The master as we saw it must be the master
                    // at the commit: a merge is decided and written over both cases at once (no A→B
                    // and B→A cycle).
                    workflow::authorize(Some(&next), &actor, &action)?;
                    let master = self.check_merge_target(scope, id, *into).await?;
                    also.unchanged = Some((*into, master.state.seq));
                }
                let (event, state) = workflow::step(Some(&next), at, actor, action, note)?;
                events.push(event);
                next = state;
            }
            if events.is_empty() {
                return Ok(None);
            }
            match self.store.append_with(id, rec.state.seq, &events, &next, &also).await {
                Ok(update_id) => {
                    // The row's category follows the state (see `Store::append`).
                    let mut case = rec.case;
                    case.category.clone_from(&next.category);
                    return Ok(Some((CaseRecord { id, case, state: next }, update_id)));
                }
                Err(StoreError::Conflict { .. }) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(CoreError::Busy(id))
    }

    /// The master case `into` of a merge of case `id`, if it takes merges: it exists and is open.
    /// An open case is merged into nothing, so no chain through it leads back to `id`; chains
    /// (A into B, later B into C) stay legal.
    async fn check_merge_target(&self, scope: &Scope, id: i64, into: i64) -> Result<CaseRecord, CoreError> {
        if into == id {
            return Err(invalid("into", "a case cannot be merged into itself"));
        }
        let master = match self.store.case_in(scope, into).await {
            Ok(m) => m,
            Err(StoreError::NotFound(_)) => return Err(invalid("into", format!("master case {into} does not exist"))),
            Err(e) => return Err(e.into()),
        };
        if !master.state.status.is_open() {
            return Err(invalid(
                "into",
                format!("master case {into} is {} and takes no merges", master.state.status.label()),
            ));
        }
        Ok(master)
    }

    /// The leaf category `code` of the catalog, with its deadline class, or why not.
    fn leaf_category(&self, code: &str) -> Result<(String, DeadlineClass), CoreError> {
        let code = code.trim();
        match self.catalog.category(code) {
            None => Err(invalid("category", format!("unknown category code '{code}'"))),
            Some(c) if !c.is_leaf() => Err(invalid(
                "category",
                format!("{code} ({}) is a top-level category: choose one of its subcategories", c.name),
            )),
            Some(c) => Ok((c.code.clone(), c.deadline_class)),
        }
    }

    /// 改分类 of a case in `state` to the leaf `code` (validated against the catalog).
    fn reclassify(&self, state: &CaseState, code: &str) -> Result<Action, CoreError> {
        let (category, deadline_class) = self.leaf_category(code)?;
        Ok(Action::Reclassify { from: state.category.clone(), category, deadline_class })
    }

    /// 派单 of case `rec` to `unit` (or by the responsibility list), after a 改分类 to `category`
    /// when one is given and differs from the case's: the route and the deadline then follow
    /// the new category.
    fn dispatch_actions(
        &self,
        rec: &CaseRecord,
        unit: Option<&str>,
        category: Option<&str>,
        at: DateTime<Utc>,
    ) -> Result<Vec<Action>, CoreError> {
        let state = &rec.state;
        let mut actions = Vec::with_capacity(2);
        let (mut category_now, mut class_now) = (state.category.as_str(), state.deadline_class);
        if let Some(code) = category.filter(|c| c.trim() != state.category) {
            actions.push(self.reclassify(state, code)?);
            if let Some(Action::Reclassify { category, deadline_class, .. }) = actions.last() {
                (category_now, class_now) = (category.as_str(), *deadline_class);
            }
        }
        let (unit, rule) = match unit {
            Some(u) => {
                if self.catalog.unit(u).is_none() {
                    return Err(invalid("unit", format!("unknown unit code '{u}'")));
                }
                (u.to_string(), None)
            }
            None => {
                let r = self.catalog.route(
                    category_now,
                    rec.case.place.street.as_deref(),
                    rec.case.place.community.as_deref(),
                );
                (r.unit, Some(r.rule))
            }
        };
        let due = self.due_for(class_now, at)?;
        actions.push(Action::Dispatch { unit, due, rule });
        Ok(actions)
    }

    /// Turns an API command into the domain actions for case `rec`, in order.
    fn actions_for(&self, rec: &CaseRecord, command: &Command, at: DateTime<Utc>) -> Result<Vec<Action>, CoreError> {
        if let Some(a) = command.plain_action() {
            return Ok(vec![a]);
        }
        if let Command::Dispatch { unit, category } = command {
            return self.dispatch_actions(rec, unit.as_deref(), category.as_deref(), at);
        }
        let state = &rec.state;
        Ok(vec![match command {
            Command::Reclassify { category } => self.reclassify(state, category)?,
            Command::RequestExtension { until, working_days } => {
                let until = match (until, working_days) {
                    (Some(u), None) => *u,
                    (None, Some(n)) if *n > 0 => {
                        // Count on from the last instant of the current deadline (due is exclusive).
                        let base = state.due.map_or(at, |d| d - Duration::seconds(1));
                        deadline::due_at(Span::WorkingDays(*n), base, self.config.tz, &self.calendar)?
                    }
                    _ => return Err(invalid("until", "give either until (a time) or working_days (> 0)")),
                };
                Action::RequestExtension { until }
            }
            Command::Whistle { units, checkin_hours } => {
                let lead = state.assignee.as_deref().and_then(|u| self.catalog.unit(u));
                if lead.is_some_and(|u| u.kind != UnitKind::Street) {
                    return Err(invalid("units", "吹哨 is for a street office summoning departments"));
                }
                for u in units {
                    match self.catalog.unit(u) {
                        None => return Err(invalid("units", format!("unknown unit code '{u}'"))),
                        Some(unit) if matches!(unit.kind, UnitKind::Street | UnitKind::District) => {
                            return Err(invalid(
                                "units",
                                format!("{u} ({}) is not a department or utility", unit.name),
                            ));
                        }
                        Some(_) => {}
                    }
                }
                let checkin_due = match checkin_hours {
                    Some(h) if *h > 0 => at + Duration::hours(i64::from(*h)),
                    Some(_) => return Err(invalid("checkin_hours", "must be > 0")),
                    None => deadline::due_at(self.config.checkin, at, self.config.tz, &self.calendar)?,
                };
                Action::Whistle { units: units.clone(), checkin_due }
            }
            Command::Reopen => {
                let due = if state.assignee.is_some() { Some(self.due_from(state, at)?) } else { None };
                Action::Reopen { due }
            }
            _ => unreachable!("plain commands are handled above"),
        }])
    }

    /// Raises an overdue supervision notice (督办) on every case whose deadline passed before
    /// `now` and has none yet. Returns how many notices this call raised.
    pub async fn sweep_overdue(&self, now: DateTime<Utc>) -> Result<usize, CoreError> {
        let mut raised = 0;
        loop {
            let ids = self.store.overdue_unnoticed(now, 500).await?;
            if ids.is_empty() {
                return Ok(raised);
            }
            let mut progressed = false;
            for id in ids {
                let done = self
                    .act_with(id, &Scope::All, now, |_, rec, _| Ok(overdue_notice(&rec.state, now).map(|n| vec![n])))
                    .await?;
                if done.is_some() {
                    raised += 1;
                    progressed = true;
                }
            }
            if !progressed {
                return Ok(raised);
            }
        }
    }

    /// The assessment figures of every unit for `period`, as known at `now`: from the store's
    /// monthly tallies (kept in step with every write) and a count of the month's cases open
    /// past their deadline at `now`. When the tallies cannot say (`now` before a reply or close
    /// they count, or cut in another time zone than the desk's), folded from the cases.
    pub async fn assessment(&self, period: Period, now: DateTime<Utc>) -> Result<Vec<UnitFigures>, CoreError> {
        if self.store.assessment_tz() != self.config.tz {
            return self.assessment_by_fold(period, now).await;
        }
        let rows = self.store.tallies(period, period).await?;
        if rows.iter().any(|r| r.latest.is_some_and(|l| l > now)) {
            return self.assessment_by_fold(period, now).await;
        }
        let (from, to) = period.bounds(self.config.tz);
        let overdue = self.store.unclosed_overdue_by_unit(from, to, now).await?;
        let excluded = self.store.excluded_by_unit(from, to).await?;
        let overdue: std::collections::HashMap<String, u32> = overdue.into_iter().collect();
        let figures = rows
            .into_iter()
            .filter_map(|r| {
                let unit = self.catalog.unit(&r.unit)?;
                let overdue = overdue.get(&r.unit).copied().unwrap_or(0);
                Some(r.tally.figures(unit.code.clone(), unit.kind, period, &self.config.weights, overdue))
            })
            .collect();
        Ok(with_excluded(figures, excluded))
    }

    /// The assessment figures of every unit for `period` at `now`, folded from the states of
    /// the month's cases (what the tallies must agree with; slow on a large store).
    pub async fn assessment_by_fold(&self, period: Period, now: DateTime<Utc>) -> Result<Vec<UnitFigures>, CoreError> {
        let (from, to) = period.bounds(self.config.tz);
        let states = self.store.states_received(from, to).await?;
        let mut excluded: std::collections::BTreeMap<String, u32> = Default::default();
        for (_, s) in states.iter().filter(|(_, s)| s.excluded()) {
            *excluded.entry(s.assignee.clone().unwrap_or_default()).or_default() += 1;
        }
        let facts: Vec<CaseFacts> = states
            .into_iter()
            .filter_map(|(_, s)| {
                let unit = self.catalog.unit(s.assignee.as_deref()?)?;
                CaseFacts::of_state(&s, unit.kind)
            })
            .collect();
        let figures = assessment::assess(&facts, period, self.config.tz, now, &self.config.weights);
        Ok(with_excluded(figures, excluded.into_iter().collect()))
    }

    /// The composite score per month from `last - months + 1` to `last`, for the whole district
    /// (every unit's cases together) and for `unit` when given. Composites depend on callbacks
    /// only, not on the time asked about, so they come from the tallies as they stand.
    pub async fn trend(&self, last: Period, months: usize, unit: Option<&str>) -> Result<Vec<TrendPoint>, CoreError> {
        let mut periods = vec![last];
        for _ in 1..months.max(1) {
            let p = periods.last().expect("at least one").previous();
            periods.push(p);
        }
        periods.reverse();
        let first = periods[0];
        let weights = &self.config.weights;
        let mut by_period: std::collections::BTreeMap<Period, (Tally, Tally)> =
            periods.iter().map(|p| (*p, (Tally::default(), Tally::default()))).collect();
        let known = |u: &str| self.catalog.unit(u).is_some();
        if self.store.assessment_tz() == self.config.tz {
            for r in self.store.tallies(first, last).await? {
                if let Some((district, mine)) = by_period.get_mut(&r.period).filter(|_| known(&r.unit)) {
                    *district = district.plus(r.tally);
                    if unit == Some(r.unit.as_str()) {
                        *mine = mine.plus(r.tally);
                    }
                }
            }
        } else {
            for p in &periods {
                let (from, to) = p.bounds(self.config.tz);
                let (district, mine) = by_period.get_mut(p).expect("every period");
                for (_, s) in self.store.states_received(from, to).await? {
                    let Some(a) = assessment::assessed_unit(&s).filter(|a| known(a)) else { continue };
                    let t = Tally::settled(&s);
                    *district = district.plus(t);
                    if unit == Some(a) {
                        *mine = mine.plus(t);
                    }
                }
            }
        }
        Ok(by_period
            .into_iter()
            .map(|(period, (district, mine))| TrendPoint {
                period,
                district: district.composite(weights),
                unit: unit.and_then(|_| mine.composite(weights)),
                callbacks: district.callbacks,
            })
            .collect())
    }

    /// The ranking of units of `kind` for `period`, with the change from the previous month.
    pub async fn ranking(&self, period: Period, kind: UnitKind, now: DateTime<Utc>) -> Result<Vec<RankRow>, CoreError> {
        let current = self.assessment(period, now).await?;
        let previous = self.assessment(period.previous(), now).await?;
        Ok(assessment::rank(&current, &previous, kind))
    }
}

/// One month of [`Desk::trend`].
#[derive(Debug, Clone, PartialEq)]
pub struct TrendPoint {
    /// The month.
    pub period: Period,
    /// The district's composite (every unit's cases together), None without callbacks.
    pub district: Option<f64>,
    /// The chosen unit's composite, None without one or without its callbacks.
    pub unit: Option<f64>,
    /// The district's reached callbacks that month.
    pub callbacks: i64,
}

/// A case decided by [`Desk::prepare`]: what [`Desk::receive`] writes.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The case as stored (category and place settled).
    pub case: NewCase,
    /// Its 受理 event, and its 派单 when dispatched at once.
    pub events: Vec<workflow::Event>,
    /// The fold of those events.
    pub state: CaseState,
}

/// `figures` with each unit's count of cases excluded (核减) from them filled in.
fn with_excluded(mut figures: Vec<UnitFigures>, excluded: Vec<(String, u32)>) -> Vec<UnitFigures> {
    for (unit, n) in excluded {
        if let Some(f) = figures.iter_mut().find(|f| f.unit == unit) {
            f.excluded = n;
        }
    }
    figures
}

/// The deadline timer's decision for a case in `state` at `now`: a 督办 notice when the case is
/// past its deadline and has none yet (what [`Desk::sweep_overdue`] raises).
pub fn overdue_notice(state: &CaseState, now: DateTime<Utc>) -> Option<(Actor, Action, Option<String>)> {
    (state.is_overdue(now) && !state.overdue_noticed)
        .then(|| (Actor::system("deadline-timer"), Action::Supervise { overdue: true }, Some("超期督办".to_string())))
}

/// The note of `command`, trimmed; refused when missing where the command needs one, or too long.
fn checked_note(command: &Command, note: Option<String>) -> Result<Option<String>, CoreError> {
    let note = note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
    if command.needs_note() && note.is_none() {
        return Err(invalid("note", format!("{} needs a note (the reason or the reply text)", command.code())));
    }
    if note.as_ref().is_some_and(|n| n.chars().count() > jiesu_domain::draft::MAX_TEXT_CHARS) {
        return Err(invalid("note", "longer than 5000 characters"));
    }
    Ok(note)
}
