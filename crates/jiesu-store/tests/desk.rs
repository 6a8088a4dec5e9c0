//! 来电弹屏 and photos (migration 0014): a caller's cases found by the keyed hash of their
//! normalised number whatever door the case came through, each lookup recorded without the
//! number; old rows filled when the store opens; photos stored with their event, numbered per
//! case, read only within a scope. Every test runs on SQLite and, when `DATABASE_URL` is set, on
//! PostgreSQL.

use chrono::{DateTime, Duration, TimeZone, Utc};
use jiesu_domain::access::Scope;
use jiesu_domain::attachment::Photo;
use jiesu_domain::draft::{Contact, NewCase, Place};
use jiesu_domain::model::{CaseKind, Channel, DeadlineClass, Role};
use jiesu_domain::workflow::{self, Action, Actor, CaseState, Event};
use jiesu_store::testing::{connect, execute, scratch_postgres, strings};
use jiesu_store::{AppendAlso, StoreError};

fn at(h: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 1, 0, 0).unwrap() + Duration::hours(h)
}

fn operator() -> Actor {
    Actor { user: "op".into(), role: Role::Operator, unit: None }
}

/// A new case from `phone` (None: no contact), dispatched to `unit`.
fn new_case(text: &str, phone: Option<&str>, unit: &str, h: i64) -> (NewCase, Vec<Event>, CaseState) {
    let case = NewCase {
        channel: Channel::Hotline,
        kind: CaseKind::Complaint,
        title: None,
        text: text.into(),
        category: "0101".into(),
        place: Place { street: Some("110101001".into()), ..Place::default() },
        contact: Contact {
            name: phone.map(|_| "张三".into()), phone: phone.map(str::to_string), ..Contact::default()
        },
        external_id: None,
    };
    let receive = Action::Receive {
        category: "0101".into(),
        deadline_class: DeadlineClass::General,
        verify: false,
        intake: vec![],
    };
    let (e1, s1) = workflow::step(None, at(h), operator(), receive, None).unwrap();
    let dispatch = Action::Dispatch { unit: unit.into(), due: at(h + 100), rule: None };
    let (e2, s2) = workflow::step(Some(&s1), at(h), Actor::system("router"), dispatch, None).unwrap();
    (case, vec![e1, e2], s2)
}

fn jpeg(tag: u8, len: usize) -> Photo {
    let mut b = vec![0xFF, 0xD8, 0xFF, 0xE0, tag];
    b.resize(len, tag);
    Photo::new(b).unwrap()
}

async fn callers(url: &str) {
    let store = connect(url).await.unwrap();
    // Through every way in: one case, the bulk path, and Open311.
    let (c, e, s) = new_case("门前占道经营", Some("138-1234-5678"), "S001", 0);
    let single = store.create_case(&c, &e, &s).await.unwrap();
    let bulk = store
        .create_cases(&[
            new_case("夜间施工噪音", Some("+86 13812345678"), "S002", 1),
            new_case("路灯不亮", Some("13900001111"), "S001", 2),
            new_case("井盖缺失", None, "S001", 3),
        ])
        .await
        .unwrap();
    let (c, e, s) = new_case("共享单车堆放", Some("０１３８１２３４５６７８"), "S001", 4);
    let open311 = jiesu_store::Open311Intake {
        service_code: "0101".into(),
        attributes: Default::default(),
        media: None,
        media_url: None,
        client: "app".into(),
        token: None,
    };
    let via_open311 = store.create_case_with(&c, &e, &s, Some(&open311)).await.unwrap();

    // The number is nowhere in the row but in the sealed contact; the key is a hash.
    let keys = strings(&store, "SELECT phone_key FROM cases ORDER BY id").await.unwrap();
    assert!(keys.iter().all(|k| !k.contains("12345678") && !k.contains("00001111")), "{keys:?}");
    assert_eq!(keys[0], keys[1], "+86 and dashes are one number");
    assert_eq!(keys[0], keys[4], "full-width digits and a trunk 0 too");
    assert_ne!(keys[0], keys[2]);
    assert_eq!(keys[3], "", "no contact, no key");
    assert_eq!(keys[0].len(), 64);

    let t = at(10);
    let found = store.caller_cases(&Scope::All, "13812345678", 10, &operator(), t).await.unwrap();
    let ids: Vec<i64> = found.cases.iter().map(|c| c.id).collect();
    assert_eq!(ids, vec![via_open311, bulk[0], single], "newest first");
    assert_eq!(found.total, 3);
    assert_eq!(
        found.cases[0].case.contact.phone.as_deref(),
        Some("０１３８１２３４５６７８"),
        "the contact as written"
    );
    let limited = store.caller_cases(&Scope::All, "13812345678", 1, &operator(), t).await.unwrap();
    assert_eq!((limited.cases.len(), limited.total), (1, 3));
    // Within a scope: unit S001 holds two of them.
    let s001 = Scope::Unit { unit: "S001".into(), street: None };
    let found = store.caller_cases(&s001, "13812345678", 10, &operator(), t).await.unwrap();
    assert_eq!(found.cases.iter().map(|c| c.id).collect::<Vec<_>>(), vec![via_open311, single]);
    let none = store.caller_cases(&Scope::All, "13700000000", 10, &operator(), t).await.unwrap();
    assert_eq!((none.cases.len(), none.total), (0, 0));

    // Each lookup is recorded: who, when, which key, how many; never the number.
    let log = store.caller_lookups(10).await.unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log[3].phone_key, keys[0]);
    assert_eq!((log[3].found, log[3].at, log[3].actor.user.as_str()), (3, t, "op"));
    assert_eq!(log[0].found, 0);
    let dump = strings(
        &store,
        "SELECT actor_user || actor_role || COALESCE(actor_unit, '') || phone_key || CAST(found AS TEXT) FROM caller_lookups",
    )
    .await
    .unwrap();
    assert!(dump.iter().all(|row| !row.contains("13812345678") && !row.contains("13700000000")), "{dump:?}");

    // Once a store is upgraded, opening it does not scan for missing keys again.
    execute(&store, "UPDATE cases SET phone_key = NULL").await.unwrap();
    store.close().await;
    let store = connect(url).await.unwrap();
    let unfilled = strings(&store, "SELECT COALESCE(phone_key, 'null') FROM cases").await.unwrap();
    assert!(unfilled.iter().all(|k| k == "null"), "{unfilled:?}");
    // A store written before 0014 (no upgrade mark): its keys are filled when it opens again.
    execute(&store, &format!("DELETE FROM meta WHERE name = '{}'", jiesu_store::UPGRADE_PHONE_KEYS)).await.unwrap();
    store.close().await;
    let store = connect(url).await.unwrap();
    assert_eq!(strings(&store, "SELECT phone_key FROM cases ORDER BY id").await.unwrap(), keys);
    assert_eq!(store.fill_phone_keys().await.unwrap(), 0, "once done, nothing to do");
    let found = store.caller_cases(&Scope::All, "138 1234 5678", 10, &operator(), t).await;
    // The store takes the canonical form only: a spelled number is another key.
    assert_eq!(found.unwrap().total, 0);
    store.close().await;
}

async fn photos(url: &str) {
    let store = connect(url).await.unwrap();
    let (c, e, s) = new_case("井盖松动", None, "S001", 0);
    let id = store.create_case_full(&c, &e, &s, None, &[jpeg(1, 100), jpeg(2, 200)]).await.unwrap();
    let handler = Actor { user: "h".into(), role: Role::UnitHandler, unit: Some("S001".into()) };
    let (e3, s3) = workflow::step(Some(&s), at(1), handler.clone(), Action::Accept, None).unwrap();
    store.append(id, s.seq, &[e3], &s3).await.unwrap();
    let (e4, s4) = workflow::step(Some(&s3), at(2), handler.clone(), Action::Reply, Some("已修复".into())).unwrap();
    let reply_photo = Photo::new(b"\x89PNG\r\n\x1a\nrest of it".to_vec()).unwrap();
    let also = AppendAlso { photos: std::slice::from_ref(&reply_photo), ..Default::default() };
    store.append_with(id, s3.seq, std::slice::from_ref(&e4), &s4, &also).await.unwrap();

    let all = store.attachments_in(&Scope::All, id).await.unwrap();
    let summary: Vec<(i64, u32, &str, u64)> =
        all.iter().map(|a| (a.n, a.seq, a.content_type.as_str(), a.size)).collect();
    assert_eq!(summary, vec![(1, 1, "image/jpeg", 100), (2, 1, "image/jpeg", 200), (3, 4, "image/png", 18)]);
    assert_eq!(all[2].at, at(2));
    let (meta, bytes) = store.attachment_in(&Scope::All, id, 3).await.unwrap();
    assert_eq!(bytes, reply_photo.bytes());
    assert_eq!(meta.sha256.len(), 64);

    // Another unit's case reads as missing, and so does a missing number.
    let other = Scope::Unit { unit: "S002".into(), street: None };
    assert!(matches!(store.attachment_in(&other, id, 1).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.attachments_in(&other, id).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.attachment_in(&Scope::All, id, 4).await, Err(StoreError::NotFound(_))));
    assert!(matches!(store.attachment_in(&Scope::All, id + 1, 1).await, Err(StoreError::NotFound(_))));
    let s001 = Scope::Unit { unit: "S001".into(), street: None };
    assert_eq!(store.attachments_in(&s001, id).await.unwrap().len(), 3);

    // A losing append writes no photo: the photos go with their event or not at all.
    let (e5, s5) = workflow::step(Some(&s3), at(3), handler, Action::Reply, None).unwrap();
    let late = store.append_with(id, s3.seq, &[e5], &s5, &also).await;
    assert!(matches!(late, Err(StoreError::Conflict { .. })), "{late:?}");
    assert_eq!(store.attachments_in(&Scope::All, id).await.unwrap().len(), 3);
    store.close().await;
}

#[tokio::test]
async fn sqlite_callers_are_found_by_their_key() {
    let dir = tempfile::tempdir().unwrap();
    callers(&format!("sqlite://{}/t.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_callers_are_found_by_their_key() {
    let Some(db) = scratch_postgres("desk_callers").await else { return };
    callers(&db.url).await;
    db.drop().await;
}

#[tokio::test]
async fn sqlite_photos_go_with_their_event() {
    let dir = tempfile::tempdir().unwrap();
    photos(&format!("sqlite://{}/t.db", dir.path().display())).await;
}

#[tokio::test]
async fn postgres_photos_go_with_their_event() {
    let Some(db) = scratch_postgres("desk_photos").await else { return };
    photos(&db.url).await;
    db.drop().await;
}
