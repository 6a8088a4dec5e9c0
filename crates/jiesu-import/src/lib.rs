//! `jiesu import`: another system's case history (a city's 311 export, a message archive) as
//! real cases, with the events their columns show at their historical times.
//!
//! A [`Mapping`] (TOML) says which column holds what ([`mapping`]); the file is read whole
//! ([`read`], CSV plain or gzip, quoted newlines), each row parsed and repaired or rejected with
//! its line and reason ([`rows`]). Into an empty store the city's catalog is first built from the
//! mapping and the rows ([`build`]) and stored (`catalog_files`); every later command on that
//! store uses it. Each case's life is then decided by the desk's own rules in memory
//! (`Desk::prepare`, `Desk::steps_for`, `workflow::step`: a row the rules refuse is rejected with
//! the rule's reason) and written through the store's shared [`BulkWriter`], with its id in the
//! source (`case_sources`): importing the same file again skips what is there.

pub mod build;
pub mod mapping;
pub mod read;
pub mod rows;

use std::collections::HashMap;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use jiesu_core::{Command, Config, CoreError, Desk};
use jiesu_domain::catalog::{Catalog, StoredCatalog};
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{Role, Status, UnitKind};
use jiesu_domain::workflow::{self, Action, Actor, Event};
use jiesu_store::{BulkCase, BulkWriter, CaseRecord, Store, StoreError};

pub use mapping::Mapping;
use rows::Parsed;

/// Cases per transaction.
const CHUNK: usize = 5_000;

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Show progress on stderr (when it is a terminal).
    pub progress: bool,
    /// Keep the written cases in the report (for `jiesu bench import`'s baseline).
    pub keep: bool,
}

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    /// Cases written.
    pub imported: usize,
    /// Rows already in the store (by their source id).
    pub skipped: usize,
    /// Rows rejected: line, source id (if read) and reason, with the row's fields.
    pub rejected: Vec<Rejected>,
    /// Events written.
    pub events: usize,
    /// The catalog was built from the mapping and stored.
    pub catalog_built: bool,
    /// Time from opening the file to the last commit.
    pub elapsed: Duration,
    /// The cases written, when [`Options::keep`].
    pub kept: Vec<BulkCase>,
    /// The file's header (for [`write_rejects`]).
    pub header: Vec<String>,
}

impl Report {
    /// Cases written per second.
    pub fn cases_per_s(&self) -> f64 {
        self.imported as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Rejected rows by reason (the reason's text up to its first colon: the rule), most first.
    pub fn reasons(&self) -> Vec<(String, usize)> {
        let mut by: HashMap<String, usize> = HashMap::new();
        for r in &self.rejected {
            let rule = r.reason.split(':').next().unwrap_or_default();
            *by.entry(rule.trim().to_string()).or_default() += 1;
        }
        let mut v: Vec<_> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// A rejected row.
#[derive(Debug, Clone)]
pub struct Rejected {
    /// The line it starts on.
    pub line: u64,
    /// Why.
    pub reason: String,
    /// Its fields as read.
    pub fields: Vec<String>,
}

/// Why an import could not run at all (a bad row is not one: it is rejected).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The mapping is unusable.
    #[error(transparent)]
    Mapping(#[from] mapping::MappingError),
    /// The file cannot be read (or lacks a mapped column).
    #[error(transparent)]
    Read(#[from] read::ReadError),
    /// The catalog cannot be built or read.
    #[error("catalog: {0}")]
    Catalog(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The desk failed.
    #[error(transparent)]
    Core(#[from] CoreError),
}

/// Imports the file at `path` into `store` with `mapping`. `config` gives the deadline policy
/// (its time zone is replaced by the catalog's).
pub async fn import(
    store: Store,
    config: Config,
    mapping: &Mapping,
    path: &Path,
    opts: &Options,
) -> Result<Report, ImportError> {
    let started = Instant::now();
    let tz = mapping.time_zone().map_err(|m| mapping::MappingError::Invalid { name: "mapping".into(), message: m })?;
    let table = read::read_file(path, mapping)?;
    let layout = rows::Layout::new(mapping, &table.positions);
    let mut report = Report { header: fields(&table.header), ..Report::default() };
    let mut parsed = Vec::with_capacity(table.rows.len());
    for (line, record) in &table.rows {
        match rows::parse(mapping, tz, &layout, *line, record) {
            Ok(p) => parsed.push(p),
            Err(reason) => report.rejected.push(Rejected { line: *line, reason, fields: fields(record) }),
        }
    }

    // The store's catalog, or the city's built from the rows into an empty store.
    let mut files = store.catalog_files().await?;
    if files.is_empty() {
        if let Some(n) = store.max_case_id().await? {
            return Err(ImportError::Catalog(format!(
                "the store holds cases (up to id {n}) under the embedded Dongcheng catalog: import another \
                 city's history into an empty store, which gets the city's own catalog"
            )));
        }
        files = build::catalog_files(mapping, &parsed).map_err(ImportError::Catalog)?;
        StoredCatalog::from_files(&files).map_err(|e| ImportError::Catalog(e.to_string()))?;
        store.put_catalog_files(&files).await?;
        report.catalog_built = true;
    }
    let stored = StoredCatalog::from_files(&files).map_err(|e| ImportError::Catalog(e.to_string()))?;
    let store = store.retally(stored.tz).await?;
    let config = Config { tz: stored.tz, ..config };
    let desk = Desk::new(store.clone(), stored.catalog, stored.calendar, config);
    let names = Names::of(desk.catalog());

    let known = store.source_ids(&mapping.source.name).await?;
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut writer: BulkWriter<u64> = BulkWriter::new(store.clone(), Some(mapping.source.name.clone()));
    let mut batch = Vec::with_capacity(CHUNK);
    let total = parsed.len();
    let show = opts.progress && std::io::stderr().is_terminal();
    let by_line: HashMap<u64, usize> = table.rows.iter().enumerate().map(|(i, (l, _))| (*l, i)).collect();
    for (done, p) in parsed.into_iter().enumerate() {
        if known.contains(&p.source_id) {
            report.skipped += 1;
            continue;
        }
        if let Some(first) = first_line.insert(p.source_id.clone(), p.line) {
            let reason = format!("repeated id: {:?} (first on line {first})", p.source_id);
            report.rejected.push(Rejected { line: p.line, reason, fields: fields(&table.rows[by_line[&p.line]].1) });
            continue;
        }
        match decide(&desk, &names, mapping, &p) {
            Ok(case) => {
                if opts.keep {
                    report.kept.push(case.clone());
                }
                batch.push((p.line, case, Some(p.source_id)));
            }
            Err(reason) => {
                report.rejected.push(Rejected { line: p.line, reason, fields: fields(&table.rows[by_line[&p.line]].1) })
            }
        }
        if batch.len() >= CHUNK {
            writer.write(std::mem::take(&mut batch)).await?;
            writer.take_done();
            if show {
                eprint!("\rimport: {}/{total} rows", done + 1);
                let _ = std::io::stderr().flush();
            }
        }
    }
    writer.write(batch).await?;
    writer.finish().await?;
    if show {
        eprintln!("\rimport: {total}/{total} rows");
    }
    (report.imported, report.events) = writer.written();
    report.rejected.sort_by_key(|r| r.line);
    report.elapsed = started.elapsed();
    Ok(report)
}

fn fields(record: &csv::StringRecord) -> Vec<String> {
    record.iter().map(str::to_string).collect()
}

/// Writes the rejected rows as CSV: `line`, `reason`, then the file's own columns.
pub fn write_rejects(path: &Path, header: &[String], rejected: &[Rejected]) -> std::io::Result<()> {
    let mut w = csv::Writer::from_path(path)?;
    let mut h = vec!["line".to_string(), "reason".to_string()];
    h.extend(header.iter().cloned());
    w.write_record(&h)?;
    for r in rejected {
        let mut row = vec![r.line.to_string(), r.reason.clone()];
        row.extend(r.fields.iter().cloned());
        w.write_record(&row)?;
    }
    w.flush()
}

/// The catalog's codes by the names the source uses.
struct Names {
    units: HashMap<String, String>,
    leaves: HashMap<(String, String), String>,
    streets: HashMap<String, String>,
    communities: HashMap<(String, String), String>,
}

impl Names {
    fn of(c: &Catalog) -> Names {
        let units =
            c.units().iter().filter(|u| u.kind == UnitKind::Department).map(|u| (u.name.clone(), u.code.clone()));
        let leaves = c.leaf_categories().into_iter().filter_map(|l| {
            let parent = c.category(l.parent.as_deref()?)?;
            Some(((parent.name.clone(), l.name.clone()), l.code.clone()))
        });
        Names {
            units: units.collect(),
            leaves: leaves.collect(),
            streets: c.streets().iter().map(|s| (s.name.clone(), s.code.clone())).collect(),
            communities: c
                .communities()
                .iter()
                .map(|m| ((m.street_code.clone(), m.short_name.clone()), m.code.clone()))
                .collect(),
        }
    }
}

/// A case's life from its row, decided by the desk's rules; the reason when they refuse it.
fn decide(desk: &Desk, names: &Names, mapping: &Mapping, p: &Parsed) -> Result<BulkCase, String> {
    let source = &mapping.source.name;
    let leaf = names
        .leaves
        .get(&(p.group.clone(), p.category.clone()))
        .ok_or_else(|| format!("not in the catalog: category {:?} / {:?}", p.group, p.category))?;
    let unit = match &p.unit {
        Some(u) => Some(names.units.get(u).ok_or_else(|| format!("not in the catalog: unit {u:?}"))?.clone()),
        None => None,
    };
    let street = match &p.area {
        Some(a) => Some(names.streets.get(a).ok_or_else(|| format!("not in the catalog: area {a:?}"))?.clone()),
        None => None,
    };
    let community = match (&street, &p.subarea) {
        (Some(s), Some(sub)) => names.communities.get(&(s.clone(), sub.clone())).cloned(),
        _ => None,
    };
    let case = NewCase {
        channel: p.channel,
        kind: mapping.defaults.kind,
        title: p.title.clone(),
        text: p.text.clone(),
        category: leaf.clone(),
        place: Place {
            address: p.address.clone(),
            lat: p.point.map(|x| x.0),
            lon: p.point.map(|x| x.1),
            street,
            community,
            grid: None,
        },
        contact: Contact::default(),
        external_id: None,
    };
    let system = Actor::system(&format!("import:{source}"));
    let fail = |e: CoreError| format!("refused by the rules: 受理: {e}");
    let prepared = desk.prepare(system.clone(), case, p.opened, false).map_err(fail)?;
    let mut rec = CaseRecord { id: 0, case: prepared.case, state: prepared.state };
    let mut events = prepared.events;
    // A source without units or deadlines answers at the desk (答复 by the 12345 desk, no 派单).
    let at_desk = mapping.columns.unit.is_none() && mapping.columns.deadline.is_none();
    if p.status == Status::Received || at_desk {
        let answered = if p.status == Status::Received { None } else { p.replied.or(p.closed) };
        if let Some(at) = answered {
            let operator = Actor { user: system.user.clone(), role: Role::Operator, unit: None };
            let note = p.reply.clone().or_else(|| Some("已答复（来源未记录答复内容）".into()));
            act(desk, &mut rec, &mut events, &operator, Command::Reply, note, at)?;
            if p.status == Status::Closed {
                act(desk, &mut rec, &mut events, &system, Command::Close, None, p.closed.unwrap_or(at))?;
            }
        }
        return Ok((rec.case, events, rec.state));
    }
    let unit = unit.unwrap_or_else(|| {
        let c = &rec.case;
        desk.catalog().route(&c.category, c.place.street.as_deref(), c.place.community.as_deref()).unit
    });
    match p.deadline {
        Some(due) => {
            let rule = Some(format!("导入 {source}: the source's unit and deadline"));
            let action = Action::Dispatch { unit: unit.clone(), due, rule };
            let (e, s) = workflow::step(Some(&rec.state), p.opened, system.clone(), action, None)
                .map_err(|e| format!("refused by the rules: 派单: {e}"))?;
            events.push(e);
            rec.state = s;
        }
        None => {
            let command = Command::Dispatch { unit: Some(unit.clone()), category: None };
            act(desk, &mut rec, &mut events, &system, command, None, p.opened)?;
        }
    }
    let handler = Actor { user: system.user.clone(), role: Role::UnitHandler, unit: Some(unit) };
    let answered = if matches!(p.status, Status::Replied | Status::Closed) { p.replied.or(p.closed) } else { None };
    let accepted_at = answered.unwrap_or(p.opened);
    if p.status != Status::Dispatched {
        act(desk, &mut rec, &mut events, &handler, Command::Accept, None, accepted_at)?;
    }
    if p.status == Status::InProgress {
        act(desk, &mut rec, &mut events, &handler, Command::Handle { contacted: false }, None, accepted_at)?;
    }
    let Some(replied) = answered else { return Ok((rec.case, events, rec.state)) };
    let note = p.reply.clone().or_else(|| Some("已办结（来源未记录答复内容）".into()));
    act(desk, &mut rec, &mut events, &handler, Command::Reply, note, replied)?;
    if p.status == Status::Closed {
        let at = p.closed.unwrap_or(replied);
        if rec.state.status == Status::Verifying {
            let inspector = Actor { user: system.user.clone(), role: Role::Supervisor, unit: None };
            act(desk, &mut rec, &mut events, &inspector, Command::Verify { passed: true }, None, at)?;
        } else {
            act(desk, &mut rec, &mut events, &system, Command::Close, None, at)?;
        }
    }
    Ok((rec.case, events, rec.state))
}

/// Takes `command` on `rec` at `at` by the desk's rules (`Desk::steps_for`, `workflow::step`).
fn act(
    desk: &Desk,
    rec: &mut CaseRecord,
    events: &mut Vec<Event>,
    actor: &Actor,
    command: Command,
    note: Option<String>,
    at: DateTime<Utc>,
) -> Result<(), String> {
    let code = command.code();
    let steps =
        desk.steps_for(rec, actor, &command, note, at).map_err(|e| format!("refused by the rules: {code}: {e}"))?;
    for (actor, action, note) in steps {
        let (e, s) = workflow::step(Some(&rec.state), at, actor, action, note)
            .map_err(|e| format!("refused by the rules: {code}: {e}"))?;
        events.push(e);
        rec.state = s;
    }
    Ok(())
}

/// A desk over `store` with the store's own catalog, calendar and time zone (the embedded
/// Dongcheng catalog when it has none), as every command opens it.
pub async fn desk(store: Store, config: Config) -> Result<Desk, ImportError> {
    let files = store.catalog_files().await?;
    if files.is_empty() {
        let calendar = jiesu_domain::calendar::Calendar::china();
        let store = store.retally(config.tz).await?;
        return Ok(Desk::new(store, Catalog::dongcheng(), calendar, config));
    }
    let own = StoredCatalog::from_files(&files).map_err(|e| ImportError::Catalog(e.to_string()))?;
    let store = store.retally(own.tz).await?;
    Ok(Desk::new(store, own.catalog, own.calendar, Config { tz: own.tz, ..config }))
}
