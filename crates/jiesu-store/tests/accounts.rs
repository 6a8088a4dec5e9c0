//! Users, sessions and API keys; scoping inside the queries; contacts sealed at rest. Every
//! test runs on SQLite and, when `DATABASE_URL` is set, on PostgreSQL.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor, CaseState, Event};
use jiesu_store::testing::{self, connect, scratch_postgres};
use jiesu_store::{CaseFilter, DataKey, Page, Store, StoreError, StoreOptions};

fn at(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap() + Duration::hours(h)
}

fn actor(role: Role, user: &str, unit: Option<&str>) -> Actor {
    Actor { user: user.into(), role, unit: unit.map(str::to_string) }
}

/// Files a case as `by` in `street` with `text`, dispatched to `unit` when given.
async fn file(store: &Store, by: Actor, unit: Option<&str>, street: &str, text: &str) -> (i64, CaseState) {
    let case = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place: Place { street: Some(street.into()), ..Place::default() },
        contact: Contact {
            name: Some("张三".into()),
            phone: Some("13812345678".into()),
            email: Some("zs@example.com".into()),
            confidential: false,
        },
        external_id: None,
    };
    let receive = Action::Receive {
        category: "0101".into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (e1, mut state) = workflow::step(None, at(0), by, receive, None).unwrap();
    let mut events = vec![e1];
    if let Some(u) = unit {
        let dispatch = Action::Dispatch { unit: u.into(), due: at(100), rule: None };
        let (e2, s) = workflow::step(Some(&state), at(0), Actor::system("router"), dispatch, None).unwrap();
        events.push(e2);
        state = s;
    }
    let id = store.create_case(&case, &events, &state).await.unwrap();
    (id, state)
}

async fn act(store: &Store, id: i64, state: &CaseState, by: Actor, action: Action, h: i64) -> CaseState {
    let (e, next): (Event, CaseState) = workflow::step(Some(state), at(h), by, action, None).unwrap();
    store.append(id, state.seq, &[e], &next).await.unwrap();
    next
}

async fn ids(store: &Store, scope: &Scope, filter: &CaseFilter) -> Vec<i64> {
    let mut ids: Vec<i64> = store.list(scope, filter, Page::default()).await.unwrap().iter().map(|c| c.id).collect();
    ids.sort();
    assert_eq!(store.count(scope, filter).await.unwrap(), ids.len() as u64, "count agrees with list");
    ids
}

async fn accounts(url: &str) {
    let store = connect(url).await.unwrap();
    let wang = store.create_user("wang", Role::Dispatcher, None, "correct horse", at(0)).await.unwrap();
    assert!(matches!(
        store.create_user("wang", Role::Operator, None, "x", at(0)).await,
        Err(StoreError::Exists(w)) if w == "user wang"
    ));
    let hash = one(&store, "SELECT password_hash FROM users WHERE name = 'wang'").await;
    assert!(hash.starts_with("$argon2id$") && !hash.contains("correct"), "{hash}");
    assert_eq!(store.check_password("wang", "correct horse").await.unwrap().map(|u| u.id), Some(wang.id));
    assert_eq!(store.check_password("wang", "wrong").await.unwrap(), None);
    assert_eq!(store.check_password("nobody", "correct horse").await.unwrap(), None);

    // Sessions: only a hash is stored; they expire; logout and disabling end them.
    let token = store.create_session(wang.id, at(0), Duration::hours(12)).await.unwrap();
    let stored: Vec<String> = testing::strings(&store, "SELECT token_hash FROM sessions").await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0] != token && stored[0].len() == 64);
    let (user, expires) = store.session(&token, at(1)).await.unwrap().unwrap();
    assert_eq!((user.name.as_str(), user.role, expires), ("wang", Role::Dispatcher, at(12)));
    assert!(store.session(&token, at(12)).await.unwrap().is_none(), "expired");
    assert!(store.session("forged", at(1)).await.unwrap().is_none());
    store.end_session(&token).await.unwrap();
    assert!(store.session(&token, at(1)).await.unwrap().is_none(), "logged out");
    let token = store.create_session(wang.id, at(0), Duration::hours(12)).await.unwrap();
    assert!(store.set_user_disabled("wang", true).await.unwrap());
    assert!(store.session(&token, at(1)).await.unwrap().is_none(), "disabled users' sessions end");
    assert_eq!(store.check_password("wang", "correct horse").await.unwrap(), None, "disabled users cannot log in");
    assert!(store.set_user_disabled("wang", false).await.unwrap());
    assert!(store.set_password("wang", "new one").await.unwrap());
    assert!(store.check_password("wang", "new one").await.unwrap().is_some());
    assert!(!store.set_password("nobody", "x").await.unwrap());

    // API keys: shown once, stored hashed, revocable, last use noted.
    let (key, secret) = store.create_api_key("fixmystreet", Role::Citizen, None, at(0)).await.unwrap();
    assert!(secret.starts_with(jiesu_store::API_KEY_PREFIX) && secret.len() > 40);
    let stored = one(&store, "SELECT key_hash FROM api_keys").await;
    assert!(!stored.contains(&secret[4..]));
    assert_eq!(store.api_key(&secret).await.unwrap(), Some(key.clone()));
    assert!(store.api_key_last_used("fixmystreet").await.unwrap().is_some());
    assert_eq!(store.api_key("jsk_not-a-key").await.unwrap(), None);
    assert_eq!(store.api_key(&secret[1..]).await.unwrap(), None);
    assert!(matches!(
        store.create_api_key("fixmystreet", Role::Citizen, None, at(0)).await,
        Err(StoreError::Exists(_))
    ));
    assert!(store.revoke_api_key("fixmystreet", at(1)).await.unwrap());
    assert!(!store.revoke_api_key("fixmystreet", at(1)).await.unwrap(), "already revoked");
    assert_eq!(store.api_key(&secret).await.unwrap(), None, "revoked keys are refused");
    let (unit_key, unit_secret) =
        store.create_api_key("s001-bot", Role::UnitHandler, Some("S001"), at(0)).await.unwrap();
    assert_eq!(store.api_key(&unit_secret).await.unwrap().unwrap().unit.as_deref(), Some("S001"));
    assert_eq!(unit_key.role, Role::UnitHandler);

    // The administrator's lists: by name, disabled flags and key dates, never a hash or secret.
    store.create_user("an", Role::UnitHandler, Some("S001"), "another horse", at(2)).await.unwrap();
    assert!(store.set_user_disabled("an", true).await.unwrap());
    let users = store.users().await.unwrap();
    let listed: Vec<(&str, Role, Option<&str>, bool)> =
        users.iter().map(|u| (u.name.as_str(), u.role, u.unit.as_deref(), u.disabled)).collect();
    assert_eq!(
        listed,
        [("an", Role::UnitHandler, Some("S001"), true), ("wang", Role::Dispatcher, None, false)],
        "{users:?}"
    );
    assert_eq!(users[0].created_at, at(2));
    let keys = store.api_keys().await.unwrap();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!((keys[0].key.name.as_str(), keys[0].revoked_at), ("fixmystreet", Some(at(1))));
    assert!(keys[0].last_used_at.is_some() && keys[0].created_at == at(0));
    assert_eq!((keys[1].key.name.as_str(), keys[1].key.unit.as_deref()), ("s001-bot", Some("S001")));
    assert!(keys[1].last_used_at.is_some() && keys[1].revoked_at.is_none());
    assert!(!format!("{keys:?}").contains(&unit_secret[4..]));

    // One-time passwords: readable, fresh each time, and they work.
    let (p1, p2) = (jiesu_store::one_time_password(), jiesu_store::one_time_password());
    assert!(p1.chars().count() == 14 && p1 != p2, "{p1} {p2}");
    assert!(p1.chars().all(|c| c.is_ascii_alphanumeric() && !"0O1lIo".contains(c)), "{p1}");
    assert!(store.set_password("an", &p1).await.unwrap());
    assert!(store.set_user_disabled("an", false).await.unwrap());
    assert!(store.check_password("an", &p1).await.unwrap().is_some());
    store.close().await;
}

async fn scoping(url: &str) {
    let store = connect(url).await.unwrap();
    let op = actor(Role::Operator, "op", None);
    let (a, sa) = file(&store, op.clone(), Some("S001"), "110101001", "东华门占道经营").await;
    let (b, sb) = file(&store, op.clone(), Some("S002"), "110101002", "景山路灯不亮").await;
    // A case located in street 001 but held by a department.
    let (c, _) = file(&store, op.clone(), Some("B01"), "110101001", "东华门井盖缺失").await;
    let (own, _) = file(&store, actor(Role::Citizen, "key:app", None), None, "110101003", "交道口噪声").await;

    let s001 = Scope::Unit { unit: "S001".into(), street: None };
    let s002 = Scope::Unit { unit: "S002".into(), street: None };
    let b02 = Scope::Unit { unit: "B02".into(), street: None };
    let inspector = Scope::Unit { unit: "S001".into(), street: Some("110101001".into()) };
    let all = CaseFilter::default();
    assert_eq!(ids(&store, &Scope::All, &all).await, [a, b, c, own]);
    assert_eq!(ids(&store, &s001, &all).await, [a]);
    assert_eq!(ids(&store, &s002, &all).await, [b]);
    assert_eq!(ids(&store, &inspector, &all).await, [a, c]);
    assert_eq!(ids(&store, &Scope::Own("key:app".into()), &all).await, [own]);
    assert_eq!(ids(&store, &Scope::Own("key:other".into()), &all).await, Vec::<i64>::new());
    assert_eq!(ids(&store, &Scope::Nothing, &all).await, Vec::<i64>::new());

    // Filters and text search never widen the scope.
    let text = |t: &str| CaseFilter { text: Some(t.into()), ..Default::default() };
    assert_eq!(ids(&store, &Scope::All, &text("路灯")).await, [b]);
    assert_eq!(ids(&store, &s001, &text("路灯")).await, Vec::<i64>::new());
    assert_eq!(
        ids(&store, &s001, &CaseFilter { assignee: Some("S002".into()), ..Default::default() }).await,
        Vec::<i64>::new()
    );
    assert_eq!(
        ids(&store, &s001, &CaseFilter { street: Some("110101002".into()), ..Default::default() }).await,
        Vec::<i64>::new()
    );
    assert_eq!(ids(&store, &Scope::All, &text("100%")).await, Vec::<i64>::new(), "% is literal");

    // Single reads and timelines: out of scope is not found.
    assert_eq!(store.case_in(&s001, a).await.unwrap().id, a);
    assert!(matches!(store.case_in(&s001, b).await, Err(StoreError::NotFound(id)) if id == b));
    assert!(matches!(store.events_in(&s001, b).await, Err(StoreError::NotFound(_))));
    assert_eq!(store.events_in(&s002, b).await.unwrap().len(), 2);
    let counts: u64 = store.count_by_status(&s001).await.unwrap().iter().map(|(_, n)| n).sum();
    assert_eq!(counts, 1);

    // 吹哨: the summoned department sees the case while it is summoned; 重办 clears the summons.
    let h = actor(Role::UnitHandler, "li", Some("S001"));
    let sa = act(&store, a, &sa, h.clone(), Action::Accept, 1).await;
    let sa = act(&store, a, &sa, h.clone(), Action::Whistle { units: vec!["B02".into()], checkin_due: at(3) }, 2).await;
    assert_eq!(ids(&store, &b02, &all).await, [a]);
    assert_eq!(store.case_in(&b02, a).await.unwrap().state.joint.len(), 1);
    // The summoned filter: the cases a unit is summoned to (its inbox's 吹哨报到), within the scope.
    let summoned = |u: &str| CaseFilter { summoned: Some(u.into()), ..Default::default() };
    assert_eq!(ids(&store, &Scope::All, &summoned("B02")).await, [a]);
    assert_eq!(ids(&store, &b02, &summoned("B02")).await, [a]);
    assert_eq!(ids(&store, &Scope::All, &summoned("S001")).await, Vec::<i64>::new(), "the lead is not summoned");
    assert_eq!(ids(&store, &s002, &summoned("B02")).await, Vec::<i64>::new(), "never wider than the scope");
    assert_eq!(store.count(&b02, &summoned("B02")).await.unwrap(), 1);
    let sa = act(&store, a, &sa, actor(Role::UnitHandler, "zhao", Some("B02")), Action::CheckIn, 3).await;
    let sa = act(&store, a, &sa, h.clone(), Action::Reply, 4).await;
    let cb = jiesu_domain::model::Callback {
        reached: true,
        responded: true,
        solved: false,
        satisfaction: jiesu_domain::model::Satisfaction::Unsatisfied,
    };
    let sa = act(&store, a, &sa, op.clone(), Action::Callback(cb), 5).await;
    assert_eq!(ids(&store, &b02, &all).await, [a]);
    act(&store, a, &sa, op.clone(), Action::Reopen { due: Some(at(200)) }, 6).await;
    assert_eq!(ids(&store, &b02, &all).await, Vec::<i64>::new(), "reopening clears the summons");
    let _ = sb;
    store.close().await;
}

async fn sealed_contacts(url: &str) {
    let store = connect(url).await.unwrap();
    let (id, _) = file(&store, actor(Role::Operator, "op", None), Some("S001"), "110101001", "占道").await;
    let raw = one(&store, "SELECT contact FROM cases").await;
    for secret in ["13812345678", "张三", "zs@example.com", "5678"] {
        assert!(!raw.contains(secret), "{raw}");
    }
    let back = store.case(id).await.unwrap();
    assert_eq!(back.case.contact.phone.as_deref(), Some("13812345678"));
    store.close().await;

    // Another key is refused at start-up, with a message that says why.
    let wrong = Store::open(url, StoreOptions { data_key: Some(DataKey::generate()), ..Default::default() }).await;
    let e = wrong.unwrap_err();
    assert!(matches!(e, StoreError::DataKey(_)) && e.to_string().contains("not the key"), "{e}");
}

#[tokio::test]
async fn sqlite_accounts() {
    let dir = tempfile::tempdir().unwrap();
    accounts(&format!("sqlite://{}/a.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_accounts() {
    let Some(db) = scratch_postgres("accounts").await else { return };
    accounts(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn sqlite_scoping() {
    let dir = tempfile::tempdir().unwrap();
    scoping(&format!("sqlite://{}/s.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_scoping() {
    let Some(db) = scratch_postgres("scoping").await else { return };
    scoping(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn sqlite_contacts_are_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    sealed_contacts(&format!("sqlite://{}", db.display())).await;
    // The key file was made beside the database, readable by its owner only.
    let key_file = dir.path().join("c.db.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777, 0o600);
    }
    // Without its key file, a store with sealed contacts refuses to open rather than make a new key.
    std::fs::rename(&key_file, dir.path().join("elsewhere.key")).unwrap();
    let e = Store::connect(&format!("sqlite://{}", db.display())).await.unwrap_err();
    assert!(e.to_string().contains("key file") && e.to_string().contains("missing"), "{e}");
}

#[tokio::test]
async fn postgres_contacts_are_sealed_and_a_key_is_required() {
    let Some(db) = scratch_postgres("sealed").await else { return };
    let e = Store::connect(&db.url).await.unwrap_err();
    assert!(e.to_string().contains("JIESU_DATA_KEY"), "{e}");
    sealed_contacts(&db.url).await;
    db.drop().await;
}

/// Contacts written in plain JSON before encryption at rest are sealed when the store opens.
#[tokio::test]
async fn plain_contacts_from_before_are_sealed_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let store = Store::connect(&url).await.unwrap();
    let (id, _) = file(&store, actor(Role::Operator, "op", None), Some("S001"), "110101001", "占道").await;
    testing::execute(
        &store,
        "UPDATE cases SET contact = '{\"name\":\"李四\",\"phone\":\"13900001111\",\"email\":null}'",
    )
    .await
    .unwrap();
    // A store from before encryption at rest has no upgrade mark.
    let unmark = format!("DELETE FROM meta WHERE name = '{}'", jiesu_store::UPGRADE_CONTACTS);
    testing::execute(&store, &unmark).await.unwrap();
    store.close().await;
    let store = Store::connect(&url).await.unwrap();
    let raw = one(&store, "SELECT contact FROM cases").await;
    assert!(raw.starts_with("x1:") && !raw.contains("139"), "{raw}");
    assert_eq!(store.case(id).await.unwrap().case.contact.phone.as_deref(), Some("13900001111"));
    store.close().await;
}

/// The single value a raw query returns.
async fn one(store: &Store, sql: &str) -> String {
    let mut rows = testing::strings(store, sql).await.unwrap();
    assert_eq!(rows.len(), 1, "{sql}");
    rows.remove(0)
}

/// The statement of migration 0006 that rewrites old Open311 owners (comments dropped).
fn owner_migration() -> String {
    let text = include_str!("../migrations/sqlite/0006_contact_access.sql");
    let sql: String = text.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    let first = sql.split(';').find(|s| s.contains("UPDATE cases SET owner")).unwrap().trim().to_string();
    let pg = include_str!("../migrations/postgres/0006_contact_access.sql");
    assert!(pg.contains(&first), "the two backends' migrations agree");
    first
}

/// One owner per API key: a case filed through Open311 (actor `open311:NAME`) belongs to
/// `key:NAME`, new and old (rewritten by migration 0006), and its cached owner still agrees with
/// the replay of its events (what `jiesu check` compares).
async fn one_owner_per_key(url: &str) {
    let store = connect(url).await.unwrap();
    let (new, _) = file(&store, actor(Role::Citizen, "open311:app", None), None, "110101001", "新的").await;
    let (old, _) = file(&store, actor(Role::Citizen, "open311:app", None), None, "110101001", "旧的").await;
    let key = Scope::Own("key:app".into());
    assert!(store.case_in(&key, new).await.is_ok());
    // A row written before 0006, as the old code wrote it.
    testing::execute(&store, &format!("UPDATE cases SET owner = 'open311:app' WHERE id = {old}")).await.unwrap();
    assert!(matches!(store.case_in(&key, old).await, Err(StoreError::NotFound(_))));
    testing::execute(&store, &owner_migration()).await.unwrap();
    assert_eq!(ids(&store, &key, &CaseFilter::default()).await, [new, old]);
    for c in store.cached_columns_between(new, old).await.unwrap() {
        let events = store.events(c.id).await.unwrap();
        let state = workflow::replay(&events).unwrap();
        assert!(c.agree_with(&state, &events.iter().collect::<Vec<_>>()), "{c:?}");
    }
    store.close().await;
}

#[tokio::test]
async fn sqlite_one_owner_per_key() {
    let dir = tempfile::tempdir().unwrap();
    one_owner_per_key(&format!("sqlite://{}/o.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_one_owner_per_key() {
    let Some(db) = scratch_postgres("one_owner_store").await else { return };
    one_owner_per_key(&db.url).await;
    db.drop().await;
}
