//! The command-line contract, run as a user would: the real binary, real stores, real signals.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

fn jiesu() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jiesu"));
    c.env("RUST_LOG", "warn").env_remove("JIESU_DB").env_remove("JIESU_CONFIG");
    c
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = jiesu().args(args).output().expect("run jiesu");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn calendar_prints_one_line_per_exception_and_refuses_unknown_years() {
    let (code, out, _) = run(&["calendar", "--year", "2026"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.contains(&"2026-10-01 off 国庆节"), "{out}");
    assert!(lines.contains(&"2026-10-10 work 国庆节"), "{out}");
    assert!(lines.contains(&"2026-02-14 work 春节"), "{out}");
    assert!(lines.iter().all(|l| l.split(' ').count() == 3), "{out}");
    let (code, out, err) = run(&["calendar", "--year", "2031"]);
    assert_ne!(code, 0);
    assert!(out.is_empty());
    assert!(err.contains("2031"), "{err}");
}

#[test]
fn enterprise_check_code_exits_by_validity_and_says_why() {
    let (code, out, _) = run(&["enterprise", "check-code", "91350100M000100Y43"]);
    assert_eq!((code, out.contains("valid")), (0, true), "{out}");
    let (code, out, _) = run(&["enterprise", "check-code", "91350100M000100Y44"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("position 18") && out.contains("invalid"), "{out}");
    let (code, out, _) = run(&["enterprise", "check-code", "91350100M000100Y53"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("GB 11714"), "{out}");
    let (code, out, _) = run(&["enterprise", "check-code", "9135"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("18 characters"), "{out}");
}

#[test]
fn check_passes_on_demo_data_and_fails_on_a_tampered_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/demo.db", dir.path().display());
    let (code, out, err) = run(&["demo", "--db", &db, "--cases", "300", "--seed", "7"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checked 300 cases"), "{out}");

    // Someone edits a case row behind the events' back (a case never reopened: the demo's year
    // ends now, so which one that is depends on the day).
    let rt = tokio::runtime::Runtime::new().unwrap();
    let edited: String = rt.block_on(async {
        let store = jiesu_store::Store::connect(&db).await.unwrap();
        let find = "SELECT CAST(MIN(id) AS TEXT) FROM cases WHERE state LIKE '%\"reopen_count\":0%' AND id <> 6";
        let edited = jiesu_store::testing::strings(&store, find).await.unwrap().remove(0);
        let sql = format!(
            "UPDATE cases SET state = replace(state, '\"reopen_count\":0', '\"reopen_count\":5') WHERE id = {edited}"
        );
        assert_eq!(jiesu_store::testing::execute(&store, &sql).await.unwrap(), 1);
        // … and someone summons a unit to case 6 without a 吹哨 event (it would then see the case).
        jiesu_store::testing::execute(&store, "INSERT INTO case_units (case_id, unit) VALUES (6, 'B01')")
            .await
            .unwrap();
        store.close().await;
        edited
    });
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains(&format!("case {edited}:")) && out.contains("reopen_count"), "{out}");
    assert!(out.contains("case 6:") && out.contains("summoned units"), "{out}");
}

/// The monthly assessment tallies are checked against the replay of every case: a tally edited
/// by hand (a solved callback added), or one removed, is reported and `check` exits with 3.
#[test]
fn check_finds_tampered_assessment_tallies() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/demo.db", dir.path().display());
    let (code, out, err) = run(&["demo", "--db", &db, "--cases", "200", "--seed", "3"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 0, "{out}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (period, unit) = rt.block_on(async {
        let store = jiesu_store::Store::connect(&db).await.unwrap();
        let first =
            "SELECT period || ' ' || unit FROM assessment_tallies WHERE callbacks > 0 ORDER BY cases DESC LIMIT 1";
        let key = jiesu_store::testing::strings(&store, first).await.unwrap().remove(0);
        let (period, unit) = key.split_once(' ').unwrap();
        let sql =
            format!("UPDATE assessment_tallies SET solved = solved + 1 WHERE period = '{period}' AND unit = '{unit}'");
        assert_eq!(jiesu_store::testing::execute(&store, &sql).await.unwrap(), 1);
        store.close().await;
        (period.to_string(), unit.to_string())
    });
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains(&format!("assessment tally {period} {unit}: stored")), "{out}");
    assert!(out.contains("1 assessment tallies differ"), "{out}");
    tamper(&db, &[format!("DELETE FROM assessment_tallies WHERE period = '{period}' AND unit = '{unit}'")]);
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains(&format!("assessment tally {period} {unit}: missing")), "{out}");
}

/// Two cases merged into each other (written by hand through the store, past the desk that
/// refuses it), and half-written Open311 requests: `jiesu check` reports them, exit status 3.
#[test]
fn check_reports_merge_cycles_and_half_written_open311_requests() {
    use jiesu_domain::workflow::{self, Action, Actor};
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cycle.db", dir.path().display());
    let (code, out, err) = run(&["demo", "--db", &db, "--cases", "120", "--seed", "3"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 0, "a demo store passes (its open311 cases were not filed through the endpoint): {out}");

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (a, b, filed) = rt.block_on(async {
        let store = jiesu_store::Store::connect(&db).await.unwrap();
        let mut open = Vec::new();
        for id in 1..=120 {
            let rec = store.case(id).await.unwrap();
            if rec.state.status.is_open() && rec.state.merged_into.is_none() {
                open.push(rec);
            }
        }
        let op = Actor { user: "op-1".into(), role: jiesu_domain::model::Role::Operator, unit: None };
        let (x, y) = (&open[0], &open[1]);
        for (from, into) in [(x, y.id), (y, x.id)] {
            let at = from.state.updated_at + chrono::Duration::minutes(1);
            let (e, s) = workflow::step(Some(&from.state), at, op.clone(), Action::Merge { into }, None).unwrap();
            store.append(from.id, from.state.seq, &[e], &s).await.unwrap();
        }
        // A case filed through the Open311 endpoint whose Open311 row went missing …
        let open311 = jiesu_store::Open311Intake {
            service_code: x.case.category.clone(),
            attributes: Default::default(),
            media: None,
            media_url: None,
            client: "app".into(),
            token: None,
        };
        let filer = Actor { user: "open311:app".into(), role: jiesu_domain::model::Role::Citizen, unit: None };
        let receive = Action::Receive {
            category: x.case.category.clone(),
            deadline_class: x.state.deadline_class,
            verify: false,
            intake: vec![],
        };
        let (e, s) = workflow::step(None, x.state.received_at, filer, receive, None).unwrap();
        let filed = store.create_case_with(&x.case, &[e], &s, Some(&open311)).await.unwrap();
        jiesu_store::testing::execute(&store, &format!("DELETE FROM open311_requests WHERE case_id = {filed}"))
            .await
            .unwrap();
        // … and an Open311 row whose case is missing (written with the foreign keys off).
        jiesu_store::testing::execute(
            &store,
            "PRAGMA foreign_keys = OFF; INSERT INTO open311_requests (case_id, service_code, attributes, client, \
             created_at) VALUES (999999, '0401', '{}', 'app', 0); PRAGMA foreign_keys = ON;",
        )
        .await
        .unwrap();
        store.close().await;
        (x.id.min(y.id), x.id.max(y.id), filed)
    });
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains(&format!("merge cycle: case {a} → case {b} → case {a}")), "{out}");
    assert!(out.contains(&format!("case {filed} was filed through the Open311 endpoint but has no Open311")), "{out}");
    assert!(out.contains("the Open311 request of case 999999 has no case"), "{out}");
}

/// Runs SQL statements on the store at `db` (as someone with only database access would).
fn tamper(db: &str, statements: &[String]) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = jiesu_store::Store::connect(db).await.unwrap();
        for s in statements {
            let done = jiesu_store::testing::execute(&store, s).await.unwrap();
            assert!(done > 0 || s.starts_with("ALTER") || s.contains("_migrations"), "{s}");
        }
        store.close().await;
    });
}

#[test]
fn check_finds_edited_removed_and_swapped_events() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/chain.db", dir.path().display());
    let (code, out, err) = run(&["demo", "--db", &db, "--cases", "120", "--seed", "11"]);
    assert_eq!(code, 0, "{out}{err}");
    // Back to a store from before the chain (migration 0007): the next start chains it.
    tamper(
        &db,
        &[
            "ALTER TABLE events DROP COLUMN hash".into(),
            "ALTER TABLE cases DROP COLUMN chain".into(),
            "DELETE FROM _sqlx_migrations WHERE version = 7".into(),
        ],
    );
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checked 120 cases"), "{out}");
    // Cases with at least four events, one per kind of tampering.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let long: Vec<i64> = rt.block_on(async {
        let store = jiesu_store::Store::connect(&db).await.unwrap();
        let sql = "SELECT CAST(case_id AS TEXT) FROM events GROUP BY case_id HAVING COUNT(*) >= 4 ORDER BY case_id";
        let ids = jiesu_store::testing::strings(&store, sql).await.unwrap();
        store.close().await;
        ids.iter().map(|i| i.parse().unwrap()).collect()
    });
    let [edited, removed, swapped, ..] = long[..] else { panic!("too few long cases: {long:?}") };
    let cases = [
        // A column the replay does not read, so only the chain can tell.
        (edited, vec![format!("UPDATE events SET actor_user = 'ghost' WHERE case_id = {edited} AND seq = 2")]),
        (removed, vec![format!("DELETE FROM events WHERE case_id = {removed} AND seq = 2")]),
        (
            swapped,
            vec![
                format!("UPDATE events SET seq = 99 WHERE case_id = {swapped} AND seq = 2"),
                format!("UPDATE events SET seq = 2 WHERE case_id = {swapped} AND seq = 3"),
                format!("UPDATE events SET seq = 3 WHERE case_id = {swapped} AND seq = 99"),
            ],
        ),
    ];
    for (id, statements) in cases {
        tamper(&db, &statements);
        let (code, out, _) = run(&["check", "--db", &db]);
        assert_eq!(code, 3, "{out}");
        assert!(out.lines().any(|l| l.starts_with(&format!("case {id}: event chain"))), "{out}");
    }
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `jiesu serve` on a free port; returns the process and its base URL.
fn serve(db: &str, extra: &[&str]) -> (Server, String) {
    serve_in(db, extra, None)
}

/// [`serve`] with another working directory.
fn serve_in(db: &str, extra: &[&str], cwd: Option<&std::path::Path>) -> (Server, String) {
    let (server, url, _) = serve_with_output(db, extra, cwd);
    (server, url)
}

/// [`serve_in`], also returning what it printed before its address.
fn serve_with_output(db: &str, extra: &[&str], cwd: Option<&std::path::Path>) -> (Server, String, Vec<String>) {
    let mut command = jiesu();
    if let Some(dir) = cwd {
        command.current_dir(dir);
    }
    let mut child = command
        .args(["serve", "--db", db, "--addr", "127.0.0.1:0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jiesu serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut printed = Vec::new();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("jiesu serving on ") {
            break rest.trim_end_matches("/api/v1/health").to_string();
        }
        printed.push(line);
    };
    (Server(child), url, printed)
}

/// The district outline is embedded: a server started far from the repository and its shared data
/// still finds the street of an Open311 request by its coordinates.
#[test]
fn open311_by_coordinates_finds_the_street_from_any_directory() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    assert!(!elsewhere.join("../shared/data/geo/110101_full.json").exists());
    let db = format!("sqlite://{}/geo.db", dir.path().display());
    let key = |name: &str, role: &str| {
        let (code, out, err) = run(&["key", "add", "--db", &db, "--name", name, "--role", role]);
        assert_eq!(code, 0, "{out}{err}");
        out.lines().last().unwrap().to_string()
    };
    let (client, desk) = (key("app", "citizen"), key("desk", "operator"));
    let (_server, url) = serve_in(&db, &["--no-demo"], Some(&elsewhere));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let case: serde_json::Value = rt.block_on(async {
        let http = reqwest::Client::new();
        let form = [
            ("api_key", client.as_str()),
            ("service_code", "0101"),
            ("lat", "39.956"),
            ("long", "116.416"),
            ("description", "路边有人占道经营，堵住了人行道"),
        ];
        let r = http.post(format!("{url}/open311/v2/requests.json")).form(&form).send().await.unwrap();
        assert_eq!(r.status(), 201);
        let v: serde_json::Value = r.json().await.unwrap();
        let id = v[0]["service_request_id"].as_str().unwrap().to_string();
        let r = http.get(format!("{url}/api/v1/cases/{id}")).bearer_auth(&desk).send().await.unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    });
    let place = &case["place"];
    assert_eq!(place["street_name"], "和平里街道", "{case}");
    assert!(place["grid"].as_str().is_some_and(|g| g.starts_with("110101010")), "{case}");
}

#[test]
fn serve_fills_an_empty_sqlite_store_with_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/fresh.db", dir.path().display());
    let (_server, url, printed) = serve_with_output(&db, &["--demo-cases", "200"], None);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let health: serde_json::Value =
        rt.block_on(async { reqwest::get(format!("{url}/api/v1/health")).await.unwrap().json().await.unwrap() });
    assert_eq!(health["cases"], 200, "{health}");
    assert_eq!(health["backend"], "sqlite");
    // Demo accounts for the console, with a password printed once; the console answers at `/`.
    let password = printed
        .iter()
        .find_map(|l| l.strip_prefix("demo accounts (password for all, shown only now: "))
        .and_then(|rest| rest.strip_suffix("):"))
        .unwrap_or_else(|| panic!("no demo accounts in {printed:?}"));
    assert!(printed.iter().any(|l| l.trim_start().starts_with("operator")), "{printed:?}");
    assert!(printed.iter().any(|l| l.starts_with("jiesu console on http://")), "{printed:?}");
    rt.block_on(async {
        let client = reqwest::Client::new();
        for name in ["admin", "operator", "dispatcher", "supervisor", "handler", "inspector"] {
            let body = serde_json::json!({"name": name, "password": password});
            let r = client.post(format!("{url}/api/v1/login")).json(&body).send().await.unwrap();
            assert_eq!(r.status(), 200, "{name}");
        }
        let r = client.get(format!("{url}/")).send().await.unwrap();
        assert!(r.headers()["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
        assert!(r.text().await.unwrap().contains("登录"));
    });
}

#[test]
fn serve_says_how_to_make_the_first_user() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/bare.db", dir.path().display());
    let (_server, _, printed) = serve_with_output(&db, &["--no-demo"], None);
    assert!(printed.iter().any(|l| l.contains("jiesu user add --db URL --name admin --role admin")), "{printed:?}");
}

/// A file of the shared data set beside the repository (`../shared/data`).
fn shared_data(rel: &str) -> std::path::PathBuf {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data").join(rel);
    assert!(p.exists(), "missing {}: this test needs the shared data directory beside the repository", p.display());
    p
}

/// The contract's closing lines: `macro_f1: X`, `accuracy: X`, `msgs_per_s: N`, in that order,
/// as the last three lines. Returns macro-F1 and accuracy.
fn closing_figures(out: &str) -> (f64, f64) {
    let lines: Vec<&str> = out.trim_end().lines().collect();
    assert!(lines.len() >= 3, "{out}");
    let tail = &lines[lines.len() - 3..];
    let value = |line: &str, key: &str| -> f64 {
        let v = line
            .strip_prefix(&format!("{key}: "))
            .unwrap_or_else(|| panic!("expected `{key}: …`, got `{line}`\n{out}"));
        v.parse().unwrap_or_else(|_| panic!("`{line}` is not a number"))
    };
    let f1 = value(tail[0], "macro_f1");
    let acc = value(tail[1], "accuracy");
    let rate = value(tail[2], "msgs_per_s");
    assert!(!tail[2].contains('.'), "msgs_per_s is an integer: {}", tail[2]);
    assert!((0.0..=1.0).contains(&f1) && (0.0..=1.0).contains(&acc) && rate > 0.0, "{out}");
    (f1, acc)
}

/// Writes the first `per_label` rows of each label of the real training file (pre-segmented)
/// to `path` and returns the row count.
fn training_subset(path: &std::path::Path, per_label: usize) -> usize {
    let text = std::fs::read_to_string(shared_data("teddy2020c/classify_train.csv")).unwrap();
    let mut counts = std::collections::HashMap::new();
    let mut out = String::from("text_segmented,label\n");
    let mut n = 0;
    for line in text.lines().skip(1) {
        let Some((t, l)) = line.rsplit_once(',') else { continue };
        let c = counts.entry(l.to_string()).or_insert(0usize);
        if *c < per_label && !t.contains('"') {
            *c += 1;
            n += 1;
            out.push_str(line);
            out.push('\n');
        }
    }
    std::fs::write(path, out).unwrap();
    n
}

#[test]
fn model_eval_contract_shipped_model_raw_and_segmented() {
    // Raw messages (subject + detail) with the shipped model.
    let raw = shared_data("teddy2020c/sample_raw_labeled.csv");
    let (code, out, err) = run(&["model", "eval", "--data", raw.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("model: shipped"), "{out}");
    let (f1, acc) = closing_figures(&out);
    assert!(f1 > 0.9 && acc > 0.9, "{out}");

    // The same layout the contract names: `label` + `text` (raw).
    let dir = tempfile::tempdir().unwrap();
    let text_csv = dir.path().join("text.csv");
    std::fs::write(
        &text_csv,
        "label,text\n教育文体,A市某小学强制学生参加收费补课，每学期收取补课费800元\n\
         交通运输,A市3路公交车经常不按站点停车，司机态度恶劣\n",
    )
    .unwrap();
    let (code, out, err) = run(&["model", "eval", "--data", text_csv.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("samples: 2"), "{out}");
    closing_figures(&out);
}

#[test]
fn model_train_then_eval_with_model_and_cv() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("subset.csv");
    let n = training_subset(&data, 40);
    assert_eq!(n, 280);
    let model = dir.path().join("m.bin");
    let (code, out, err) = run(&["model", "train", "--data", data.to_str().unwrap(), "--out", model.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("manual_threshold: "), "{out}");
    assert!(model.exists());

    let (code, out, err) =
        run(&["model", "eval", "--data", data.to_str().unwrap(), "--model", model.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("model: {}", model.display())), "{out}");
    let (f1, _) = closing_figures(&out);
    assert!(f1 > 0.95, "a model scores well on its own training data: {out}");

    let (code, out, err) = run(&["model", "eval", "--cv", "5", "--data", data.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("cross-validation: 5 folds"), "{out}");
    assert!(out.matches("fold ").count() >= 5, "{out}");
    for label in ["交通运输", "劳动和社会保障", "卫生计生", "商贸旅游", "城乡建设", "教育文体", "环境保护"]
    {
        assert!(out.contains(&format!("f1[{label}]: ")), "per-class F1 of {label}: {out}");
    }
    let (f1, _) = closing_figures(&out);
    assert!(f1 > 0.5, "{out}");
}

#[test]
fn model_eval_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "text,category\n小区路灯坏了,城乡建设\n").unwrap();
    let (code, out, err) = run(&["model", "eval", "--data", bad.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(err.contains("label") && err.contains("bad.csv"), "{err}");
    let (code, _, err) = run(&["model", "eval", "--data", "/nonexistent/x.csv"]);
    assert_ne!(code, 0);
    assert!(err.contains("/nonexistent/x.csv"), "{err}");
    let (code, _, err) = run(&["model", "eval", "--cv", "5", "--model", "m.bin", "--data", "x.csv"]);
    assert_eq!(code, 2, "--cv and --model conflict: {err}");
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "text,label\n小区路灯坏了,城乡建设\n").unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, b"not a model").unwrap();
    let (code, _, err) =
        run(&["model", "eval", "--data", good.to_str().unwrap(), "--model", garbage.to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(err.contains("garbage.bin") && err.contains("model"), "{err}");
}

#[test]
fn geo_grid_prints_the_cells_and_geo_locate_prints_a_placement() {
    let outline = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/geo/110101_full.json");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cells.geojson");
    let (code, stdout, err) =
        run(&["geo", "grid", "--outline", outline, "--lookups", "1000", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}{err}");
    assert!(stdout.contains("area_precision: approximate"), "{stdout}");
    assert!(stdout.lines().any(|l| l.starts_with("110101001 东华门街道")), "{stdout}");
    let cells: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let n = cells["features"].as_array().unwrap().len();
    assert!(stdout.contains(&format!("cells: {n} ")), "{stdout}");
    assert_eq!(cells["features"][0]["properties"]["area_precision"], "approximate");

    let (code, stdout, err) = run(&["geo", "locate", "南锣鼓巷里面酒吧太吵", "--outline", outline]);
    assert_eq!(code, 0, "{err}");
    let p: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(p["street"]["name"], "交道口街道");
    assert_eq!(p["area_precision"], "approximate");

    let (code, _, err) = run(&["geo", "locate", "x", "--point", "116.4,95", "--outline", outline]);
    assert_eq!(code, 1);
    assert!(err.contains("latitude"), "{err}");
    let (code, _, err) = run(&["geo", "grid", "--outline", "/nonexistent/outline.json"]);
    assert_eq!(code, 1);
    assert!(err.contains("/nonexistent/outline.json"), "{err}");
}

/// Users and keys made by the CLI work against a running server; bad roles and units are refused
/// with a message that says what is wrong; a revoked key stops working.
#[test]
fn user_and_key_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/accounts.db", dir.path().display());
    let key_file = dir.path().join("accounts.db.key");

    let (code, _, err) = run(&["user", "add", "--db", &db, "--name", "li", "--role", "unit_handler"]);
    assert_eq!(code, 1);
    assert!(err.contains("--unit"), "{err}");
    let (code, _, err) = run(&["user", "add", "--db", &db, "--name", "li", "--role", "unit_handler", "--unit", "S999"]);
    assert!(code == 1 && err.contains("S999"), "{err}");
    let (code, _, err) =
        run(&["user", "add", "--db", &db, "--name", "li", "--role", "mayor", "--password", "12345678"]);
    assert!(code == 1 && err.contains("unknown role") && err.contains("dispatcher"), "{err}");
    let (code, _, err) = run(&["key", "add", "--db", &db, "--name", "bot", "--role", "operator", "--unit", "S001"]);
    assert!(code == 1 && err.contains("not bound to a unit"), "{err}");

    // The password from stdin.
    let mut child = jiesu()
        .args(["user", "add", "--db", &db, "--name", "li", "--role", "unit_handler", "--unit", "S001"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all("东城 secret 1\n".as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user li (unit_handler 承办人, unit S001)"));
    assert!(key_file.exists(), "the SQLite store made its data key file");
    let (code, _, err) =
        run(&["user", "add", "--db", &db, "--name", "li", "--role", "operator", "--password", "another one"]);
    assert!(code == 1 && err.contains("already exists"), "{err}");
    let (code, _, err) =
        run(&["user", "add", "--db", &db, "--name", "zhou", "--role", "operator", "--password", "short"]);
    assert!(code == 1 && err.contains("at least 8"), "{err}");

    let (code, out, _) = run(&["key", "add", "--db", &db, "--name", "fixmystreet"]);
    assert_eq!(code, 0);
    let key = out.lines().last().unwrap().to_string();
    assert!(key.starts_with("jsk_") && !key.contains(' '), "{out}");
    assert!(out.contains("citizen"), "{out}");

    let (_server, url) = serve(&db, &["--no-demo"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let login = client
            .post(format!("{url}/api/v1/login"))
            .json(&serde_json::json!({"name": "li", "password": "东城 secret 1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(login.status(), 200);
        let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
        let me: serde_json::Value = client
            .get(format!("{url}/api/v1/me"))
            .header("cookie", cookie.split(';').next().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (me["name"].as_str(), me["unit"].as_str(), me["via"].as_str()),
            (Some("li"), Some("S001"), Some("session"))
        );
        let me = client.get(format!("{url}/api/v1/me")).header("x-api-key", &key).send().await.unwrap();
        assert_eq!(me.status(), 200);
    });
    let (code, out, _) = run(&["key", "revoke", "--db", &db, "--name", "fixmystreet"]);
    assert_eq!(code, 0, "{out}");
    let (code, _, err) = run(&["key", "revoke", "--db", &db, "--name", "fixmystreet"]);
    assert!(code == 1 && err.contains("no active API key"), "{err}");
    rt.block_on(async {
        let me = reqwest::Client::new().get(format!("{url}/api/v1/me")).bearer_auth(&key).send().await.unwrap();
        assert_eq!(me.status(), 401, "a revoked key is refused");
    });
}
