//! Fault tests: the real binary under concurrent writes over HTTP, then killed (-9), its
//! PostgreSQL restarted, its disk filled, its store backed up. Nothing acknowledged may be lost
//! and `jiesu check` must pass afterwards. No sleeps synchronise anything here: the tests wait
//! for what they need (a line on stdout, a number of acknowledged writes, `pg_ctl -w`).
//!
//! The PostgreSQL test runs a private server of its own (initdb in a temporary folder, its own
//! port), never the shared one; it and the full-disk test (a 2 MB tmpfs) need root and say so
//! when they skip. CI runs as root, and `.ci/run` sets `JIESU_REQUIRE_FAULT_TESTS=1`, which turns
//! a skip into a failure.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn jiesu() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jiesu"));
    c.env("RUST_LOG", "warn").env_remove("JIESU_DB").env_remove("JIESU_CONFIG").env_remove("JIESU_DATA_KEY");
    c
}

fn run_with(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let out = jiesu().args(args).envs(env.iter().copied()).output().expect("run jiesu");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_with(args, &[])
}

/// A new API key of `role` in the store at `db`.
fn key(db: &str, name: &str, role: &str, env: &[(&str, &str)]) -> String {
    let (code, out, err) = run_with(&["key", "add", "--db", db, "--name", name, "--role", role], env);
    assert_eq!(code, 0, "{out}{err}");
    out.lines().last().unwrap().to_string()
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `jiesu serve --no-demo` on a free port and waits until it listens; returns the process
/// and its base URL.
fn serve(db: &str, env: &[(&str, &str)]) -> (Server, String) {
    let mut child = jiesu()
        .args(["serve", "--db", db, "--addr", "127.0.0.1:0", "--no-demo"])
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn jiesu serve");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let url = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.strip_prefix("jiesu serving on ") {
            break rest.trim_end_matches("/api/v1/health").to_string();
        }
    };
    (Server(child), url)
}

/// A response that was not a success, and when its request was sent.
#[derive(Debug, Clone)]
struct Failure {
    sent: Instant,
    answered: Instant,
    status: u16,
    body: String,
}

/// Clients filing cases (and acting on every other one) over HTTP until stopped or until the
/// server is gone.
struct Load {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<i64>>>,
    count: tokio::sync::watch::Receiver<usize>,
    failures: Arc<Mutex<Vec<Failure>>>,
    tasks: tokio::task::JoinSet<()>,
}

impl Load {
    /// `clients` clients filing with `keys.0` (an operator's) and supervising with `keys.1` (a
    /// supervisor's).
    fn start(url: &str, keys: &(String, String), clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let failures = Arc::new(Mutex::new(Vec::new()));
        let (count_tx, count) = tokio::sync::watch::channel(0usize);
        let count_tx = Arc::new(count_tx);
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..clients {
            let (http, url, (key, supervisor)) = (http.clone(), url.to_string(), keys.clone());
            let (stop, acked, failures, count_tx) = (stop.clone(), acked.clone(), failures.clone(), count_tx.clone());
            tasks.spawn(async move {
                let mut j = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    j += 1;
                    let body = serde_json::json!({
                        "channel": "hotline", "kind": "complaint", "category": "0101",
                        "text": format!("故障测试 {i}-{j}：路边占道经营"),
                        "place": {"street": "110101001"},
                        "contact": {"phone": "13800000000"}
                    });
                    let sent = Instant::now();
                    let Ok(r) = http.post(format!("{url}/api/v1/cases")).bearer_auth(&key).json(&body).send().await
                    else {
                        break; // the server is gone
                    };
                    let status = r.status().as_u16();
                    let Ok(text) = r.text().await else { break }; // died while answering
                    if status != 201 {
                        failures.lock().unwrap().push(Failure { sent, answered: Instant::now(), status, body: text });
                        // Pace a client that is refused (not a synchronisation: nothing waits on it).
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        continue;
                    }
                    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
                    let id = v["id"].as_i64().unwrap();
                    acked.lock().unwrap().push(id);
                    count_tx.send_modify(|c| *c += 1);
                    if j.is_multiple_of(2) {
                        let sent = Instant::now();
                        // An append too: 督办 on the new case.
                        let act = http
                            .post(format!("{url}/api/v1/cases/{id}/actions"))
                            .bearer_auth(&supervisor)
                            .json(&serde_json::json!({"action": "supervise", "note": "请加快办理"}))
                            .send()
                            .await;
                        match act {
                            Ok(r) if r.status().is_success() => {}
                            Ok(r) => {
                                let status = r.status().as_u16();
                                let body = r.text().await.unwrap_or_default();
                                failures.lock().unwrap().push(Failure { sent, answered: Instant::now(), status, body });
                            }
                            Err(_) => break,
                        }
                    }
                }
            });
        }
        Load { stop, acked, count, failures, tasks }
    }

    /// Waits until `n` cases in all have been acknowledged (a minute at most).
    async fn wait_for(&mut self, n: usize) {
        let waited = tokio::time::timeout(Duration::from_secs(60), self.count.wait_for(|c| *c >= n)).await.is_ok();
        assert!(waited, "only {} cases acknowledged, waiting for {n}", *self.count.borrow());
    }

    fn acknowledged(&self) -> Vec<i64> {
        self.acked.lock().unwrap().clone()
    }

    /// Stops the clients; returns every acknowledged id and every failure.
    async fn finish(mut self) -> (Vec<i64>, Vec<Failure>) {
        self.stop.store(true, Ordering::Relaxed);
        while let Some(done) = self.tasks.join_next().await {
            done.unwrap();
        }
        let failures = self.failures.lock().unwrap().clone();
        (self.acknowledged(), failures)
    }
}

/// The first few failures and how many there were.
fn summary(failures: &[Failure]) -> String {
    format!("{} failures, first: {:?}", failures.len(), &failures[..failures.len().min(3)])
}

/// Every id in `ids` is a case of the store at `db`, with all its events.
async fn all_present(db: &str, data_key: Option<jiesu_store::DataKey>, ids: &[i64]) {
    let store =
        jiesu_store::Store::open(db, jiesu_store::StoreOptions { data_key, ..Default::default() }).await.unwrap();
    for id in ids {
        let case = store.case(*id).await.unwrap_or_else(|e| panic!("acknowledged case {id} lost: {e}"));
        assert_eq!(store.events(*id).await.unwrap().len(), case.state.seq as usize);
    }
    store.close().await;
}

fn check(db: &str, env: &[(&str, &str)]) {
    let (code, out, err) = run_with(&["check", "--db", db], env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(" 0 differ"), "{out}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).permissions().mode() & 0o777
}

#[test]
fn acknowledged_writes_survive_kill_9_under_concurrent_clients() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/crash.db", dir.path().display());
    let keys = (key(&db, "crash-desk", "operator", &[]), key(&db, "crash-boss", "supervisor", &[]));
    let (mut server, url) = serve(&db, &[]);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (acknowledged, failures) = rt.block_on(async {
        let mut load = Load::start(&url, &keys, 16);
        load.wait_for(300).await;
        // kill -9: no shutdown, no flush, writes in flight.
        server.0.kill().unwrap();
        server.0.wait().unwrap();
        load.finish().await
    });
    assert!(failures.is_empty(), "{}", summary(&failures));
    assert!(acknowledged.len() >= 300);
    // After a restart the server serves them all.
    let (_server, url) = serve(&db, &[]);
    rt.block_on(async {
        all_present(&db, None, &acknowledged).await;
        let health: serde_json::Value =
            reqwest::get(format!("{url}/api/v1/health")).await.unwrap().json().await.unwrap();
        assert!(health["cases"].as_u64().unwrap() >= acknowledged.len() as u64, "{health}");
    });
    check(&db, &[]);
}

#[test]
fn backup_under_write_load_restores_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/live.db", dir.path().display());
    let keys = (key(&db, "desk", "operator", &[]), key(&db, "boss", "supervisor", &[]));
    let (_server, url) = serve(&db, &[]);
    let backup = dir.path().join("copy.db");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let before = rt.block_on(async {
        let mut load = Load::start(&url, &keys, 8);
        load.wait_for(100).await;
        let before = load.acknowledged();
        // The backup runs while the clients go on writing.
        let (code, out, err) = run(&["backup", "--db", &db, "--out", backup.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}{err}");
        let during = *load.count.borrow();
        load.wait_for(during + 50).await;
        let (_, failures) = load.finish().await;
        assert!(failures.is_empty(), "{}", summary(&failures));
        before
    });
    #[cfg(unix)]
    for f in [backup.clone(), dir.path().join("copy.db.key")] {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
    check(&format!("sqlite://{}", backup.display()), &[]);
    // Restored elsewhere: every case acknowledged before the backup began is there.
    let restored = format!("sqlite://{}/elsewhere/restored.db", dir.path().display());
    let (code, out, err) = run(&["restore", "--from", backup.to_str().unwrap(), "--db", &restored]);
    assert_eq!(code, 0, "{out}{err}");
    check(&restored, &[]);
    rt.block_on(all_present(&restored, None, &before));
    // A store with data is not overwritten without --force.
    let (code, _, err) = run(&["restore", "--from", backup.to_str().unwrap(), "--db", &restored]);
    assert_eq!(code, 1);
    assert!(err.contains("--force"), "{err}");
    let (code, out, err) = run(&["restore", "--from", backup.to_str().unwrap(), "--db", &restored, "--force"]);
    assert_eq!(code, 0, "{out}{err}");
    check(&restored, &[]);
    // For PostgreSQL, what to run.
    let (code, out, _) = run(&["backup", "--db", "postgres://jiesu:secret@db.example/jiesu", "--out", "x.dump"]);
    assert_eq!(code, 0);
    assert!(out.contains("pg_dump --format=custom") && out.contains("data key") && !out.contains("secret"), "{out}");
}

/// Says why `test` cannot run here; a failure where it must run (`JIESU_REQUIRE_FAULT_TESTS`).
fn skip(test: &str, why: &str) {
    assert!(std::env::var_os("JIESU_REQUIRE_FAULT_TESTS").is_none(), "{test} must run here but cannot: {why}");
    eprintln!("SKIPPED {test}: {why}");
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// The bin folder of the newest PostgreSQL installed under /usr/lib/postgresql.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists() && p.join("pg_ctl").exists())
        .collect();
    versions.sort();
    versions.pop()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A private PostgreSQL server in a temporary folder, run as the `postgres` user; stopped on drop.
struct PrivatePostgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl PrivatePostgres {
    fn start() -> Result<PrivatePostgres, String> {
        if !is_root() {
            return Err("not root (initdb runs as the postgres user through runuser)".into());
        }
        let bin = postgres_bin().ok_or("no PostgreSQL binaries under /usr/lib/postgresql/*/bin")?;
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let data = dir.path().join("data");
        let ok = Command::new("chown").args(["-R", "postgres:", dir.path().to_str().unwrap()]).status();
        if !ok.is_ok_and(|s| s.success()) {
            return Err("cannot give the temporary folder to the postgres user".into());
        }
        let port = free_port();
        let pg = PrivatePostgres { bin, data, port, _dir: dir };
        let initdb =
            pg.as_postgres("initdb", &["-D", pg.data.to_str().unwrap(), "-A", "trust", "-U", "postgres", "--no-sync"]);
        if !initdb {
            return Err("initdb failed".into());
        }
        if !pg.ctl(&["start"]) {
            return Err("pg_ctl start failed".into());
        }
        Ok(pg)
    }

    fn as_postgres(&self, tool: &str, args: &[&str]) -> bool {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// `pg_ctl ACTION -w` (waits until done) on this server, on its own port and socket folder.
    fn ctl(&self, action: &[&str]) -> bool {
        let folder = self.data.parent().unwrap().to_str().unwrap().to_string();
        let opts = format!("-p {} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off", self.port);
        let log = format!("{folder}/log");
        let mut args = vec!["-D", self.data.to_str().unwrap(), "-l", &log, "-o", &opts, "-w", "-t", "60"];
        args.extend_from_slice(action);
        self.as_postgres("pg_ctl", &args)
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.ctl(&["stop", "-m", "immediate"]);
    }
}

#[test]
fn postgres_restarted_under_load_loses_nothing() {
    let pg = match PrivatePostgres::start() {
        Ok(pg) => pg,
        Err(why) => {
            return skip("postgres_restarted_under_load_loses_nothing", &why);
        }
    };
    let data_key = jiesu_store::DataKey::generate();
    let key_text = data_key.to_base64();
    let env = [("JIESU_DATA_KEY", key_text.as_str())];
    let db = pg.url();
    let keys = (key(&db, "desk", "operator", &env), key(&db, "boss", "supervisor", &env));
    let (_server, url) = serve(&db, &env);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (acknowledged, failures, outage) = rt.block_on(async {
        let mut load = Load::start(&url, &keys, 8);
        load.wait_for(100).await;
        let down = Instant::now();
        assert!(pg.ctl(&["restart", "-m", "fast"]), "pg_ctl restart");
        let up = Instant::now();
        // The same server recovers by itself: more cases are acknowledged after the restart.
        let at_restart = *load.count.borrow();
        load.wait_for(at_restart + 100).await;
        let (acked, failures) = load.finish().await;
        (acked, failures, (down, up))
    });
    // 5xx only for requests made while the database was down (503, saying so), none after.
    let (down, up) = outage;
    for f in &failures {
        assert!(f.status == 503 && f.body.contains("unavailable"), "{f:?}");
        // The request overlapped the outage: sent before the database was back, answered after
        // it went down.
        assert!(
            f.sent <= up && f.answered >= down,
            "a failure outside the outage: {f:?}, sent {:?} after it ended",
            f.sent.saturating_duration_since(up)
        );
    }
    eprintln!(
        "postgres restart: outage {:?}, {} refused with 503 inside it, {} acknowledged",
        up - down,
        failures.len(),
        acknowledged.len()
    );
    rt.block_on(all_present(&db, Some(data_key), &acknowledged));
    check(&db, &env);
}

/// Mounts a tmpfs of `size` at `dir`; unmounted on drop.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Result<Tmpfs, String> {
        if !is_root() {
            return Err("not root (the test mounts a tmpfs)".into());
        }
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs", dir.to_str().unwrap()])
            .status();
        if ok.is_ok_and(|s| s.success()) { Ok(Tmpfs(dir.to_path_buf())) } else { Err("mount -t tmpfs failed".into()) }
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Fills the file system of `path` with a file there until it refuses (ENOSPC).
fn fill(path: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    loop {
        if f.write_all(&chunk).and_then(|_| f.sync_all()).is_err() {
            break;
        }
    }
    // And the last bytes, one small write at a time.
    let small = [0u8; 512];
    while f.write_all(&small).and_then(|_| f.sync_all()).is_ok() {}
}

#[test]
fn sqlite_on_a_full_disk_refuses_clearly_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir(&mnt).unwrap();
    let _tmpfs = match Tmpfs::mount(&mnt, "2m") {
        Ok(t) => t,
        Err(why) => {
            return skip("sqlite_on_a_full_disk_refuses_clearly_and_resumes", &why);
        }
    };
    let db = format!("sqlite://{}/full.db", mnt.display());
    let key = key(&db, "desk", "operator", &[]);
    let (server, url) = serve(&db, &[]);
    let filler = mnt.join("filler");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let acknowledged = rt.block_on(async {
        let http = reqwest::Client::new();
        let post = |n: usize| {
            let (http, url, key) = (http.clone(), url.clone(), key.clone());
            async move {
                let body = serde_json::json!({
                    "channel": "hotline", "kind": "complaint", "category": "0101",
                    "text": format!("磁盘已满测试 {n}：路边占道经营，{}", "占道".repeat(200)),
                    "place": {"street": "110101001"}
                });
                let r = http.post(format!("{url}/api/v1/cases")).bearer_auth(&key).json(&body).send().await.unwrap();
                let status = r.status().as_u16();
                (status, r.text().await.unwrap())
            }
        };
        let mut acked = Vec::new();
        let (status, body) = post(0).await;
        assert_eq!(status, 201, "{body}");
        acked.push(serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_i64().unwrap());
        fill(&filler);
        // Writes go on into the WAL's free pages for a while; then the disk refuses them.
        let mut refused = None;
        for n in 1..2_000 {
            let (status, body) = post(n).await;
            if status == 201 {
                acked.push(serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_i64().unwrap());
                continue;
            }
            refused = Some((status, body));
            break;
        }
        let (status, body) = refused.expect("the full disk refused a write");
        assert_eq!(status, 507, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["error"]["code"], "insufficient_storage", "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("disk is full"), "{v}");
        // Reads still work.
        let r = http.get(format!("{url}/api/v1/cases/{}", acked[0])).bearer_auth(&key).send().await.unwrap();
        assert_eq!(r.status(), 200);
        // Space comes back: writes resume, with no restart.
        std::fs::remove_file(&filler).unwrap();
        for n in 0..5 {
            let (status, body) = post(10_000 + n).await;
            assert_eq!(status, 201, "{body}");
            acked.push(serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"].as_i64().unwrap());
        }
        acked
    });
    drop(server);
    rt.block_on(all_present(&db, None, &acknowledged));
    check(&db, &[]);
}
