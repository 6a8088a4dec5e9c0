//! Sensor alarms end to end (issue 13), against a real Mosquitto started for each test (its own
//! port, persistence on in a temporary folder, queue limits raised), on SQLite and PostgreSQL:
//! red → a case with the device's unit summoned, repeats join the case, yellow → colour only,
//! flapping suppressed, all-clear recorded, garbage counted and skipped, the webhook's token, and a
//! consumer restart mid-stream that loses and doubles nothing.

use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use chrono::{DateTime, Utc};
use jiesu_core::alarms::{Alarms, DeviceInput};
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::{Role, Status};
use jiesu_domain::workflow::Action;
use jiesu_server::mqtt::{Consumer, MqttSettings, spawn_consumer};
use jiesu_server::{AppState, app};
use jiesu_store::Store;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use tower::ServiceExt;

/// A Mosquitto of the test's own, killed on drop.
struct Broker {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Broker {
    fn start() -> Option<Broker> {
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"].into_iter().find(|p| std::path::Path::new(p).exists());
        let Some(bin) = bin else {
            assert!(std::env::var("CI").is_err(), "mosquitto is not installed (apt-get install mosquitto)");
            eprintln!("mosquitto not installed: alarm test skipped");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let conf = dir.path().join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
                 max_inflight_messages 0\nmax_queued_messages 0\n",
                dir.path().display()
            ),
        )
        .unwrap();
        let child = Command::new(bin).arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(10), "mosquitto did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(Broker { child, port, _dir: dir })
    }

    fn settings(&self, client: &str) -> MqttSettings {
        let mut s = MqttSettings::from_url(&format!("mqtt://127.0.0.1:{}", self.port)).unwrap();
        s.client_id = client.to_string();
        s.batch = 200;
        s
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A publisher that waits for the broker's PUBACK of everything it sent.
struct Publisher {
    client: AsyncClient,
    acked: Arc<std::sync::atomic::AtomicU64>,
    sent: u64,
    task: tokio::task::JoinHandle<()>,
}

impl Publisher {
    async fn new(port: u16, id: &str) -> Publisher {
        let mut opts = MqttOptions::new(id, "127.0.0.1", port);
        opts.set_inflight(100);
        let (client, mut eventloop) = AsyncClient::new(opts, 1000);
        let acked = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let a = acked.clone();
        let task = tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::PubAck(_))) => {
                        a.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Publisher { client, acked, sent: 0, task }
    }

    async fn send(&mut self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.client.publish(topic, QoS::AtLeastOnce, false, payload.into()).await.unwrap();
        self.sent += 1;
    }

    async fn flushed(&self) {
        let t = Instant::now();
        while self.acked.load(Ordering::SeqCst) < self.sent {
            assert!(t.elapsed() < Duration::from_secs(20), "the broker did not acknowledge every publish");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Publisher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn alarm(device: &str, id: &str, at: DateTime<Utc>, level: &str) -> String {
    json!({"device": device, "id": id, "at": at.to_rfc3339(), "level": level, "reading": 42.5}).to_string()
}

/// Waits until the consumers together have taken `n` messages.
async fn taken(consumers: &[&Consumer], n: u64) {
    let t = Instant::now();
    loop {
        let got: u64 = consumers
            .iter()
            .map(|c| {
                c.counts.accepted.load(Ordering::Relaxed)
                    + c.counts.duplicates.load(Ordering::Relaxed)
                    + c.counts.rejected.load(Ordering::Relaxed)
            })
            .sum();
        if got >= n {
            return;
        }
        assert!(t.elapsed() < Duration::from_secs(30), "consumers took {got} of {n} messages");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn subscribed(c: &Consumer) {
    let t = Instant::now();
    while c.counts.subscribed.load(Ordering::Relaxed) == 0 {
        assert!(t.elapsed() < Duration::from_secs(10), "the consumer did not subscribe");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

struct World {
    store: Store,
    state: AppState,
    clock: Arc<Mutex<DateTime<Utc>>>,
}

fn geo() -> Arc<jiesu_geo::Geo> {
    static GEO: std::sync::OnceLock<Arc<jiesu_geo::Geo>> = std::sync::OnceLock::new();
    GEO.get_or_init(|| Arc::new(jiesu_geo::Geo::dongcheng_embedded().unwrap())).clone()
}

async fn world(url: &str, start: DateTime<Utc>) -> World {
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default()).with_geo(geo());
    let clock = Arc::new(Mutex::new(start));
    let c = clock.clone();
    let state = AppState::new(desk).with_clock(move || *c.lock().unwrap());
    World { store, state, clock }
}

impl World {
    fn now(&self) -> DateTime<Utc> {
        *self.clock.lock().unwrap()
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }

    async fn admin_cookie(&self) -> String {
        let _ = self.store.create_user("admin-1", Role::Admin, None, "测试 password 1", self.now()).await;
        let req = Request::post("/api/v1/login")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({"name": "admin-1", "password": "测试 password 1"}).to_string()))
            .unwrap();
        let resp = app(self.state.clone()).oneshot(req).await.unwrap();
        assert_eq!(resp.status(), StatusCode::OK);
        resp.headers()[header::SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string()
    }

    async fn register(&self, cookie: &str, body: Value) -> (StatusCode, Value) {
        let req = Request::post("/api/v1/devices")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie)
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    async fn webhook(&self, token: &str, body: &str) -> (StatusCode, Value) {
        let req = Request::post("/api/v1/alarms")
            .header(header::CONTENT_TYPE, "application/json")
            .header("x-device-token", token)
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(req).await
    }

    async fn get(&self, cookie: &str, path: &str) -> (StatusCode, Value) {
        let req = Request::get(path).header(header::COOKIE, cookie).body(Body::empty()).unwrap();
        self.send(req).await
    }
}

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn story(url: &str) {
    let Some(broker) = Broker::start() else { return };
    let w = world(url, at("2026-12-01T02:00:00Z")).await;
    let cookie = w.admin_cookie().await;
    // Three devices near 东四 (WGS-84 on the API): a smoke detector whose unit (the power
    // company) is not the fire brigade that leads 1601 cases, a tilt sensor of the housing
    // bureau that leads 0304 itself, and a 火眼 camera that will flap.
    let (s, a) = w
        .register(&cookie, json!({"id": "SMK-1", "kind": "smoke", "category": "1601", "lat": 39.9289, "lon": 116.4168, "unit": "U01", "building": "东四三条5号院"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert!(a["token"].as_str().unwrap().starts_with("jsd_"));
    let (s, b) = w
        .register(
            &cookie,
            json!({"id": "TLT-1", "kind": "tilt", "category": "0304", "lat": 39.9350, "lon": 116.4100, "unit": "B03"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    let tilt_token = b["token"].as_str().unwrap().to_string();
    let (s, _) = w
        .register(
            &cookie,
            json!({"id": "HY-1", "kind": "huoyan", "category": "1601", "lat": 39.9200, "lon": 116.4200, "unit": "B18"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // A bad registration lists every problem.
    let (s, e) = w
        .register(
            &cookie,
            json!({"id": "bad id", "kind": "toaster", "category": "16", "lat": 31.2, "lon": 121.5, "unit": "X9"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> =
        e["error"]["fields"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["id", "kind", "category", "unit", "lat"], "{e}");

    let consumer = spawn_consumer(w.state.alarms.clone(), broker.settings("story"), w.state.clock.clone());
    subscribed(&consumer).await;
    let mut p = Publisher::new(broker.port, "story-pub").await;
    let t0 = w.now();
    let m = |min: i64| t0 + chrono::Duration::minutes(min);
    let topic = |d: &str| format!("jiesu/alarms/{d}");
    p.send(&topic("SMK-1"), alarm("SMK-1", "1", m(0), "warning")).await;
    p.send(&topic("SMK-1"), alarm("SMK-1", "2", m(1), "alarm")).await;
    p.send(&topic("SMK-1"), alarm("SMK-1", "3", m(2), "alarm")).await;
    p.send(&topic("SMK-1"), alarm("SMK-1", "3", m(2), "alarm")).await; // the device retries
    p.send(&topic("SMK-1"), "not json at all").await;
    p.send(&topic("NOPE-1"), alarm("NOPE-1", "1", m(2), "alarm")).await;
    p.send(&topic("TLT-1"), alarm("SMK-1", "9", m(2), "alarm")).await; // topic of another device
    p.send(&topic("SMK-1"), alarm("SMK-1", "4", m(2), "meltdown")).await;
    for i in 0..3 {
        p.send(&topic("TLT-1"), alarm("TLT-1", &format!("m{i}"), m(3 + i), "minor")).await;
    }
    p.send(&topic("SMK-1"), alarm("SMK-1", "5", m(20), "clear")).await;
    p.send(&topic("HY-1"), alarm("HY-1", "a", m(30), "alarm")).await;
    p.send(&topic("HY-1"), alarm("HY-1", "b", m(31), "clear")).await;
    p.send(&topic("HY-1"), alarm("HY-1", "c", m(32), "alarm")).await;
    p.flushed().await;
    taken(&[&consumer], p.sent).await;
    let c = &consumer.counts;
    assert_eq!(c.accepted.load(Ordering::Relaxed), 10);
    assert_eq!(c.duplicates.load(Ordering::Relaxed), 1);
    assert_eq!(c.rejected.load(Ordering::Relaxed), 4);

    // Red → one case for the smoke detector's building, 2 hours, the fire brigade leads, the
    // power company is summoned; the repeat and the all-clear joined it as events.
    let smoke = w.store.alarms_of("SMK-1", 10).await.unwrap();
    let case_id = smoke.iter().find(|a| a.outcome == "case_opened").and_then(|a| a.case_id).expect("a case");
    let rec = w.store.case(case_id).await.unwrap();
    assert_eq!(rec.case.channel.code(), "sensor");
    assert_eq!(rec.state.category, "1601");
    assert_eq!(rec.state.status, Status::Dispatched);
    assert_eq!(rec.state.assignee.as_deref(), Some("B18"));
    assert_eq!(rec.state.due, Some(w.now() + chrono::Duration::hours(2)));
    assert_eq!(rec.state.joint.iter().map(|j| j.unit.as_str()).collect::<Vec<_>>(), ["U01"]);
    let events = w.store.events(case_id).await.unwrap();
    let alarms: Vec<(String, bool)> = events
        .iter()
        .filter_map(|e| match &e.action {
            Action::Alarm { message, level, .. } => Some((message.clone(), level.code() == "clear")),
            _ => None,
        })
        .collect();
    assert_eq!(alarms, [("3".to_string(), false), ("5".to_string(), true)], "the repeat and the all-clear");
    assert!(smoke.iter().filter(|a| a.msg_id == "3").count() == 1);
    // The all-clear made the place green; the case stays open: only a person closes it.
    let (s, colours) = w.get(&cookie, "/api/v1/colours").await;
    assert_eq!(s, StatusCode::OK);
    let places = colours["places"].as_array().unwrap();
    assert!(!places.iter().any(|p| p["place"] == "building:东四三条5号院"), "{colours}");
    // Yellow: three minor readings of the tilt sensor; no case.
    let tilt = places.iter().find(|p| p["unit"] == "B03").expect("the tilt sensor's place");
    assert_eq!(tilt["colour"], "yellow");
    assert!(tilt["case"].is_null());
    assert!(w.store.alarms_of("TLT-1", 10).await.unwrap().iter().all(|a| a.case_id.is_none()));
    assert!(colours["grids"].as_array().unwrap().iter().any(|g| g["colour"] == "yellow"));
    // Flapping: alarm, clear, alarm within 10 minutes → the third is suppressed, and visibly so.
    let hy = w.store.alarms_of("HY-1", 10).await.unwrap();
    assert!(hy[0].outcome.starts_with("suppressed"), "{hy:?}");
    let (_, dev) = w.get(&cookie, "/api/v1/devices/HY-1").await;
    assert!(dev["device"]["suppressed_until"].is_string(), "{dev}");
    assert!(dev["alarms"][0]["outcome"].as_str().unwrap().starts_with("suppressed"), "{dev}");
    // Garbage was counted per reason and skipped.
    let (_, counts) = w.get(&cookie, "/api/v1/alarms/counts").await;
    assert_eq!(counts["rejected"], json!({"malformed": 2, "topic_mismatch": 1, "unknown_device": 1}), "{counts}");
    assert_eq!(counts["cases_opened"], 2);

    // The webhook: the same rule, the device's own token.
    let body = alarm("TLT-1", "w1", m(40), "alarm");
    let (s, e) = w.webhook("jsd_wrong", &body).await;
    assert_eq!((s, e["error"]["code"].as_str()), (StatusCode::UNAUTHORIZED, Some("unauthenticated")));
    let (s, _) = w.webhook(&tilt_token, "{\"device\": 1}").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, ok) = w.webhook(&tilt_token, &body).await;
    assert_eq!(s, StatusCode::OK, "{ok}");
    assert_eq!(ok["outcome"], "case_opened");
    let tilt_case = w.store.case(ok["case"].as_i64().unwrap()).await.unwrap();
    assert_eq!(tilt_case.state.assignee.as_deref(), Some("B03"));
    assert!(tilt_case.state.joint.is_empty(), "the lead unit is not summoned to its own case");
    let (s, again) = w.webhook(&tilt_token, &body).await;
    assert_eq!((s, again["outcome"].as_str()), (StatusCode::OK, Some("duplicate")));

    // The monthly report: alarms, cases from alarms, time from the alarm to 签收.
    *w.clock.lock().unwrap() += chrono::Duration::minutes(30);
    let b18 = jiesu_domain::workflow::Actor { user: "b18".into(), role: Role::UnitHandler, unit: Some("B18".into()) };
    w.state.desk.act(case_id, b18, jiesu_core::Command::Accept, None, w.now()).await.unwrap();
    let (s, counts) = w.get(&cookie, "/api/v1/alarms/counts?period=2026-12").await;
    assert_eq!(s, StatusCode::OK, "{counts}");
    assert_eq!(counts["month"]["alarms"], 11, "{counts}");
    assert_eq!(counts["month"]["cases_opened"], 3, "{counts}");
    assert_eq!(counts["month"]["accepted"], 1, "{counts}");
    assert_eq!(counts["month"]["mean_minutes_to_accept"], 30.0, "{counts}");
    let (_, none) = w.get(&cookie, "/api/v1/alarms/counts?period=2026-10").await;
    assert_eq!(none["month"]["alarms"], 0);
    assert!(w.state.desk.check().await.unwrap().ok());
    consumer.stop().await;
    drop(p);
    w.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_story_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    story(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alarms_story_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("alarms").await else { return };
    story(&db.url).await;
    db.drop().await;
}

/// Many devices publishing while the consumer is killed half-way and another takes over the
/// persistent session: every alarm is stored once, no case gets an alarm twice.
async fn restart(url: &str) {
    let Some(broker) = Broker::start() else { return };
    let w = world(url, Utc::now()).await;
    let desk = &w.state.desk;
    let grid = desk.geo().and_then(|g| g.grid()).unwrap();
    let devices: Vec<_> = (0..40)
        .map(|i| {
            let cell = &grid.cells()[(i * 37) % grid.cells().len()];
            let input = DeviceInput {
                id: format!("R-{i:02}"),
                kind: "smoke".into(),
                category: "1601".into(),
                lat: cell.centre.lat,
                lon: cell.centre.lon,
                building: None,
                unit: "U01".into(),
            };
            (desk.device(input, w.now()).unwrap(), None)
        })
        .collect();
    w.store.put_devices(&devices).await.unwrap();
    let alarms = Alarms::new(desk.clone(), Default::default()).unwrap();
    let clock: jiesu_server::Clock = Arc::new(Utc::now);
    let first = spawn_consumer(alarms.clone(), broker.settings("restart"), clock.clone());
    subscribed(&first).await;
    let mut p = Publisher::new(broker.port, "restart-pub").await;
    let levels = ["minor", "warning", "alarm", "minor", "clear", "alarm", "minor"];
    let n = 1200;
    let start = Utc::now() - chrono::Duration::hours(6);
    for k in 0..n {
        let d = k % 40;
        let t = start + chrono::Duration::seconds(k as i64 * 15);
        p.send(
            &format!("jiesu/alarms/R-{d:02}"),
            alarm(&format!("R-{d:02}"), &format!("{k}"), t, levels[(k / 40) % 7]),
        )
        .await;
    }
    // Kill the first consumer mid-stream, like a crash.
    taken(&[&first], 300).await;
    let before = first.counts.accepted.load(Ordering::Relaxed);
    first.abort();
    p.flushed().await;
    let second = spawn_consumer(alarms.clone(), broker.settings("restart"), clock.clone());
    subscribed(&second).await;
    let t = Instant::now();
    loop {
        let (stored, _, _) = w.store.alarm_tally("R-").await.unwrap();
        if stored as usize >= n {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(60), "stored {stored} of {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (stored, opened, cases) = w.store.alarm_tally("R-").await.unwrap();
    assert_eq!(stored as usize, n, "nothing lost, nothing stored twice");
    assert!(before < n as u64, "the restart came mid-stream ({before} before)");
    assert!(opened > 0);
    for id in cases {
        let mut seen = std::collections::HashSet::new();
        for e in w.store.events(id).await.unwrap() {
            if let Action::Alarm { device, message, .. } = e.action {
                assert!(seen.insert((device, message)), "an alarm was added twice to case {id}");
            }
        }
    }
    let report = desk.check().await.unwrap();
    assert!(report.ok(), "{:?} {:?}", report.mismatches, report.colours);
    second.stop().await;
    drop(p);
    w.store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_stream_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    restart(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_mid_stream_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("alarms_restart").await else { return };
    restart(&db.url).await;
    db.drop().await;
}
