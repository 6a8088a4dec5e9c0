//! `jiesu import` end to end on both backends: a real slice of Boston 311 2015
//! (../shared/data/boston311, the first rows) builds Boston's catalog into an empty store and
//! becomes real cases (`jiesu check` passes, the assessment counts them); the same file again
//! adds nothing; bad rows are rejected with their line and reason while good rows load; a field
//! spanning lines is read whole; a missing column is an error naming the columns found.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use chrono::Utc;
use jiesu_core::Config;
use jiesu_domain::assessment::Period;
use jiesu_import::{Mapping, Options};
use jiesu_store::{Scope, Store, testing};

const BOSTON: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/boston311/boston311_2015.csv.gz");

/// The first `rows` rows of Boston 311 2015 (with the header) as a plain CSV in `dir`.
fn boston_slice(dir: &Path, rows: usize) -> PathBuf {
    let mut text = String::new();
    let file = std::fs::File::open(BOSTON)
        .unwrap_or_else(|e| panic!("{BOSTON}: {e} (the shared test data, see ../shared/data/README.md)"));
    flate2::read::GzDecoder::new(file).read_to_string(&mut text).unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let mut w = csv::Writer::from_path(dir.join("slice.csv")).unwrap();
    w.write_record(reader.headers().unwrap()).unwrap();
    for r in reader.records().take(rows) {
        w.write_record(&r.unwrap()).unwrap();
    }
    w.flush().unwrap();
    dir.join("slice.csv")
}

/// Statuses in the slice, by our status code, counted straight from the CSV.
fn expected_statuses(path: &Path) -> HashMap<String, u64> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let mut out = HashMap::new();
    for r in reader.deserialize::<HashMap<String, String>>() {
        let r = r.unwrap();
        let status = match r["CASE_STATUS"].as_str() {
            "Closed" => "closed",
            "Open" => "dispatched",
            other => panic!("unexpected CASE_STATUS {other}"),
        };
        *out.entry(status.to_string()).or_default() += 1;
    }
    out
}

const HEADER: &str = "CASE_ENQUIRY_ID,OPEN_DT,TARGET_DT,CLOSED_DT,CASE_STATUS,CLOSURE_REASON,CASE_TITLE,\
                      SUBJECT,REASON,TYPE,Location,LATITUDE,LONGITUDE,Source,neighborhood,ward";

/// Rows in the Boston columns: good ones, bad ones, and a title spanning two lines.
fn bad_rows() -> String {
    let good = "Public Works Department,Street Lights,Street Light Outages,1 Main St,42.35,-71.06,Constituent Call,Dorchester,Ward 16";
    [
        HEADER.to_string(),
        format!("9001,01/05/2015 09:00:00 AM,01/10/2015 09:00:00 AM,01/06/2015 10:00:00 AM,Closed,Case Resolved,Light out,{good}"),
        // line 3: closed before opened
        format!("9002,01/05/2015 09:00:00 AM,01/10/2015 09:00:00 AM,01/04/2015 10:00:00 AM,Closed,Case Resolved,Light out,{good}"),
        // line 4: a title over two lines (lines 4 and 5)
        format!("9003,01/05/2015 09:00:00 AM,01/10/2015 09:00:00 AM,,Open,,\"Light out\nsince Monday\",{good}"),
        // line 6: deadline before receipt
        format!("9004,01/05/2015 09:00:00 AM,01/04/2015 09:00:00 AM,,Open,,Light out,{good}"),
        // line 7: no date
        format!("9005,,01/10/2015 09:00:00 AM,,Open,,Light out,{good}"),
        // line 8: a status the mapping does not know
        format!("9006,01/05/2015 09:00:00 AM,01/10/2015 09:00:00 AM,,Pending,,Light out,{good}"),
        // line 9: no deadline: repaired by the policy (7 working days)
        format!("9007,01/05/2015 09:00:00 AM,,,Open,,Light out,{good}"),
    ]
    .join("\n")
        + "\n"
}

async fn story(url: &str, dir: &Path) {
    let mapping = Mapping::load("boston311").unwrap();
    let slice = boston_slice(dir, 2_000);
    let expected = expected_statuses(&slice);
    let store = testing::connect(url).await.unwrap();
    let opts = Options::default();

    // Into an empty store: Boston's catalog is built and stored, and every row is a case.
    let report = jiesu_import::import(store.clone(), Config::default(), &mapping, &slice, &opts).await.unwrap();
    assert!(report.catalog_built);
    assert_eq!(report.rejected.len(), 0, "{:?}", report.rejected.first());
    assert_eq!(report.imported, 2_000);
    assert!(report.events >= 2 * 2_000, "receipt and dispatch at least: {}", report.events);
    let desk = jiesu_import::desk(store.clone(), Config::default()).await.unwrap();
    assert_eq!(desk.catalog().district_name(), "Boston");
    assert_eq!(desk.config().tz, chrono_tz::America::New_York);
    assert!(desk.catalog().units().iter().any(|u| u.name == "Public Works Department"));
    assert!(desk.calendar().covers(2015));
    let counts: HashMap<String, u64> = desk.store().count_by_status(&Scope::All).await.unwrap().into_iter().collect();
    assert_eq!(counts, expected);
    let check = desk.check().await.unwrap();
    assert!(check.ok(), "{:?}", check.mismatches.first());
    assert_eq!(check.cases, 2_000);
    let january = desk.assessment(Period::new(2015, 1).unwrap(), Utc::now()).await.unwrap();
    assert_eq!(january.iter().map(|f| u64::from(f.cases)).sum::<u64>(), 2_000, "the slice is all January");

    // Again: nothing added, and it says so.
    let again = jiesu_import::import(store.clone(), Config::default(), &mapping, &slice, &opts).await.unwrap();
    assert_eq!((again.imported, again.skipped, again.rejected.len(), again.catalog_built), (0, 2_000, 0, false));

    // Bad rows are rejected with their line and reason; the good ones load.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, bad_rows()).unwrap();
    let report = jiesu_import::import(store.clone(), Config::default(), &mapping, &bad, &opts).await.unwrap();
    let rejected: Vec<(u64, &str)> = report.rejected.iter().map(|r| (r.line, r.reason.as_str())).collect();
    let lines: Vec<u64> = rejected.iter().map(|r| r.0).collect();
    assert_eq!(lines, [3, 6, 7, 8], "{rejected:?}");
    assert!(rejected[0].1.starts_with("closed before opened"), "{rejected:?}");
    assert!(rejected[1].1.starts_with("deadline not after opened"), "{rejected:?}");
    assert!(rejected[2].1.starts_with("no date: OPEN_DT is empty"), "{rejected:?}");
    assert!(rejected[3].1.starts_with("unknown status: \"Pending\""), "{rejected:?}");
    assert_eq!(report.imported, 3);
    let id = store.case_from_source("boston311", "9003").await.unwrap().expect("the two-line row");
    let rec = store.case(id).await.unwrap();
    assert_eq!(rec.case.title.as_deref(), Some("Light out\nsince Monday"));
    let policy = store.case_from_source("boston311", "9007").await.unwrap().unwrap();
    let due = store.case(policy).await.unwrap().state.due.unwrap();
    // 7 working days from Monday 5 January 2015 in Boston: the end of Wednesday the 14th.
    assert_eq!(due.to_rfc3339(), "2015-01-15T05:00:00+00:00");
    let rejects = dir.join("rejects.csv");
    let header: Vec<String> = HEADER.split(',').map(str::to_string).collect();
    jiesu_import::write_rejects(&rejects, &header, &report.rejected).unwrap();
    let written = std::fs::read_to_string(&rejects).unwrap();
    assert!(written.starts_with("line,reason,CASE_ENQUIRY_ID,"), "{written}");
    assert_eq!(csv::Reader::from_path(&rejects).unwrap().records().count(), 4);
    assert!(jiesu_import::desk(store.clone(), Config::default()).await.unwrap().check().await.unwrap().ok());

    // A missing column names the columns found.
    let missing = dir.join("missing.csv");
    std::fs::write(&missing, HEADER.replace("TARGET_DT,", "") + "\n").unwrap();
    let e = jiesu_import::import(store.clone(), Config::default(), &mapping, &missing, &opts).await.unwrap_err();
    let e = e.to_string();
    assert!(e.contains("no column \"TARGET_DT\" (mapped to deadline)"), "{e}");
    assert!(e.contains("the columns found are: CASE_ENQUIRY_ID, OPEN_DT, CLOSED_DT"), "{e}");
    store.close().await;
}

#[tokio::test]
async fn boston_slice_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(&format!("sqlite://{}", dir.path().join("b.db").display()), dir.path()).await;
}

#[tokio::test]
async fn boston_slice_on_postgres() {
    let Some(db) = testing::scratch_postgres("import").await else { return };
    let dir = tempfile::tempdir().unwrap();
    story(&db.url, dir.path()).await;
    db.drop().await;
}

#[tokio::test]
async fn another_city_into_a_dongcheng_store_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store: Store = testing::connect(&format!("sqlite://{}", dir.path().join("d.db").display())).await.unwrap();
    let desk = jiesu_import::desk(store.clone(), Config::default()).await.unwrap();
    let case = jiesu_domain::draft::NewCase {
        channel: jiesu_domain::model::Channel::Hotline,
        kind: jiesu_domain::model::CaseKind::Complaint,
        title: None,
        text: "东直门内大街路边有人占道经营".into(),
        category: "0101".into(),
        place: Default::default(),
        contact: Default::default(),
        external_id: None,
    };
    desk.receive(jiesu_domain::workflow::Actor::system("t"), case, Utc::now(), false).await.unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, bad_rows()).unwrap();
    let mapping = Mapping::load("boston311").unwrap();
    let e = jiesu_import::import(store, Config::default(), &mapping, &bad, &Options::default()).await.unwrap_err();
    assert!(e.to_string().contains("embedded Dongcheng catalog"), "{e}");
}

const TEDDY_REPLIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/teddy2020c/replies.csv");

#[tokio::test]
async fn teddy_messages_are_answered_at_the_desk() {
    // The first 300 messages with their official replies (A市, Asia/Shanghai, China's holidays).
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(TEDDY_REPLIES)
        .unwrap_or_else(|e| panic!("{TEDDY_REPLIES}: {e} (the shared test data, see ../shared/data/README.md)"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let path = dir.path().join("replies.csv");
    let mut w = csv::Writer::from_path(&path).unwrap();
    w.write_record(reader.headers().unwrap()).unwrap();
    for r in reader.records().take(300) {
        w.write_record(&r.unwrap()).unwrap();
    }
    w.flush().unwrap();
    let store = testing::connect(&format!("sqlite://{}", dir.path().join("t.db").display())).await.unwrap();
    let mapping = Mapping::load("teddy2020c").unwrap();
    let report =
        jiesu_import::import(store.clone(), Config::default(), &mapping, &path, &Options::default()).await.unwrap();
    assert_eq!(report.imported + report.rejected.len(), 300);
    assert!(report.imported >= 295, "{:?}", report.rejected.first());
    let desk = jiesu_import::desk(store.clone(), Config::default()).await.unwrap();
    assert_eq!(desk.catalog().district_name(), "A市");
    let counts: HashMap<String, u64> = desk.store().count_by_status(&Scope::All).await.unwrap().into_iter().collect();
    assert_eq!(counts.get("replied").copied(), Some(report.imported as u64), "{counts:?}");
    let events = store.events(1).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.code()).collect();
    assert_eq!(actions, ["receive", "reply"]);
    assert!(events[1].note.as_deref().is_some_and(|n| !n.is_empty()), "the official reply is the 答复's text");
    assert!(desk.check().await.unwrap().ok());
}
