//! The command-line contract, run as a user would: the real binary, real stores, real signals.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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
fn check_passes_on_demo_data_and_fails_on_a_tampered_case() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/demo.db", dir.path().display());
    let (code, out, err) = run(&["demo", "--db", &db, "--cases", "300", "--seed", "7"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("checked 300 cases"), "{out}");

    // Someone edits a case row behind the events' back.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = jiesu_store::Store::connect(&db).await.unwrap();
        let done = sqlx::query(
            "UPDATE cases SET state = replace(state, '\"reopen_count\":0', '\"reopen_count\":5') WHERE id = 5",
        )
        .execute(store.write_pool())
        .await
        .unwrap();
        assert_eq!(done.rows_affected(), 1);
        // … and someone summons a unit to case 6 without a 吹哨 event (it would then see the case).
        sqlx::query("INSERT INTO case_units (case_id, unit) VALUES (6, 'B01')")
            .execute(store.write_pool())
            .await
            .unwrap();
        store.close().await;
    });
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("case 5:") && out.contains("reopen_count"), "{out}");
    assert!(out.contains("case 6:") && out.contains("summoned units"), "{out}");
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
    let (server, url, _) = serve_with_output(db, extra);
    (server, url)
}

/// [`serve`], also returning what it printed before its address.
fn serve_with_output(db: &str, extra: &[&str]) -> (Server, String, Vec<String>) {
    let mut child = jiesu()
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

#[test]
fn serve_fills_an_empty_sqlite_store_with_demo_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/fresh.db", dir.path().display());
    let (_server, url, printed) = serve_with_output(&db, &["--demo-cases", "200"]);
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
    let (_server, _, printed) = serve_with_output(&db, &["--no-demo"]);
    assert!(printed.iter().any(|l| l.contains("jiesu user add --db URL --name admin --role admin")), "{printed:?}");
}

#[test]
fn acknowledged_cases_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/crash.db", dir.path().display());
    let (code, out, err) = run(&["key", "add", "--db", &db, "--name", "crash-desk", "--role", "operator"]);
    assert_eq!(code, 0, "{out}{err}");
    let key = out.lines().last().unwrap().to_string();
    let (mut server, url) = serve(&db, &["--no-demo"]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acknowledged = rt.block_on(async {
        let client = reqwest::Client::new();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let (client, url, key) = (client.clone(), url.clone(), key.clone());
            tasks.spawn(async move {
                let mut ids = Vec::new();
                for j in 0.. {
                    let body = serde_json::json!({
                        "channel": "hotline", "kind": "complaint", "category": "0101",
                        "text": format!("崩溃测试 {i}-{j}：路边占道经营"),
                        "place": {"street": "110101001"},
                        "contact": {"phone": "13800000000"}
                    });
                    let sent = client.post(format!("{url}/api/v1/cases")).bearer_auth(&key).json(&body).send().await;
                    match sent {
                        Ok(r) if r.status() == 201 => {
                            let v: serde_json::Value = match r.json().await {
                                Ok(v) => v,
                                Err(_) => break, // the server died while answering
                            };
                            ids.push(v["id"].as_i64().unwrap());
                        }
                        Ok(r) => panic!("unexpected status {}", r.status()),
                        Err(_) => break, // the server is gone
                    }
                }
                ids
            });
        }
        tokio::time::sleep(Duration::from_millis(1500)).await;
        // kill -9: no shutdown, no flush.
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        let mut all = Vec::new();
        while let Some(ids) = tasks.join_next().await {
            all.extend(ids.unwrap());
        }
        all
    });
    assert!(acknowledged.len() > 20, "the server acknowledged only {} cases", acknowledged.len());
    rt.block_on(async {
        let store = jiesu_store::Store::connect(&db).await.unwrap();
        for id in &acknowledged {
            let case = store.case(*id).await.unwrap_or_else(|e| panic!("acknowledged case {id} lost: {e}"));
            assert_eq!(store.events(*id).await.unwrap().len(), case.state.seq as usize);
        }
        store.close().await;
    });
    let (code, out, _) = run(&["check", "--db", &db]);
    assert_eq!(code, 0, "{out}");
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
