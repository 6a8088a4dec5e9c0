//! The console's 地图 map on SQLite and PostgreSQL: the counts per cell and street within each
//! viewer's scope (another unit's cases do not leak into a unit's map), the measures, the period
//! and the category, the grid filter of the list that a click leads to, the geometry (gzipped,
//! cached by its ETag), bad input refused with the field named; and, in a real browser over demo
//! data, the page coloured and a click on a cell leading to that cell's cases. Screenshots at
//! desktop and phone size are saved under `target/screenshots/`.

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::{StatusCode, header};
use chrono::Utc;
use common::browser::*;
use common::*;
use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use jiesu_core::{Config, Desk};
use jiesu_domain::access::Scope;
use jiesu_domain::assessment::Period;
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;
use jiesu_domain::model::Role;
use jiesu_geo::Geo;
use jiesu_server::{AppState, serve};
use jiesu_store::CaseFilter;
use serde_json::{Value, json};

fn geo() -> Arc<Geo> {
    Arc::new(Geo::dongcheng_embedded().unwrap())
}

/// A test app whose desk has the district's unit grid, as `jiesu serve` runs.
async fn app_with_grid(url: &str, start: chrono::DateTime<Utc>) -> TestApp {
    TestApp::with(url, start, |mut s| {
        s.desk = s.desk.clone().with_geo(geo());
        s.with_coordinate_margin(0.05)
    })
    .await
}

/// A unit handler of `unit` (leaked: the harness names people by static strings).
fn handler(unit: &str) -> Who {
    Some(("unit_handler", Some(Box::leak(unit.to_string().into_boxed_str()))))
}

/// Files a case through the API at the centre of `cell` (sent as WGS-84, as the API takes it).
async fn file_at(a: &TestApp, cell: &jiesu_geo::Cell, text: &str) -> Value {
    let (lon, lat) = jiesu_geo::datum::gcj02_to_wgs84(cell.centre.lon, cell.centre.lat);
    let body = json!({
        "channel": "hotline", "kind": "complaint", "text": text, "category": street_category(),
        "place": {"lat": lat, "lon": lon}, "contact": {"name": "张三", "phone": "13812345678"}
    });
    let (status, v) = a.post(OPERATOR, "/api/v1/cases", body).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    assert_eq!(v["place"]["grid"], cell.code.as_str(), "the case lies in the cell: {v}");
    v
}

fn cell_count(d: &Value, code: &str) -> u64 {
    d["cells"].as_array().unwrap().iter().find(|c| c[0] == code).map_or(0, |c| c[1].as_u64().unwrap())
}

async fn map_data(a: &TestApp, who: Who, query: &str) -> Value {
    let (status, v) = a.get(who, &format!("/map/data?{query}")).await;
    assert_eq!(status, StatusCode::OK, "{query}: {v}");
    v
}

async fn page(
    a: &TestApp,
    who: Who,
    path: &str,
    extra: &[(header::HeaderName, &str)],
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = a.request(axum::http::Method::GET, path, who, None).await;
    for (k, v) in extra {
        req.headers_mut().insert(k.clone(), v.parse().unwrap());
    }
    let resp = tower::ServiceExt::oneshot(a.router.clone(), req).await.unwrap();
    let (parts, body) = resp.into_parts();
    (parts.status, parts.headers, axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec())
}

async fn map_over_http(url: &str) {
    // Tuesday 10 November 2026, 10:00 in Beijing.
    let a = app_with_grid(url, t("2026-11-10T02:00:00Z")).await;
    let geo = geo();
    let grid = geo.grid().unwrap();
    // Two cells in two different streets (so two different street offices handle them).
    let cell_a = &grid.cells()[grid.cells().len() / 3];
    let cell_b = grid.cells().iter().rev().find(|c| c.street != cell_a.street).unwrap();
    let a1 = file_at(&a, cell_a, "胡同里有人占道堆放杂物，影响通行").await;
    let a2 = file_at(&a, cell_a, "同一处又有人堆放建筑垃圾").await;
    let b1 = file_at(&a, cell_b, "小区门口占道经营").await;
    let (unit_a, unit_b) = (a1["assignee"].as_str().unwrap(), b1["assignee"].as_str().unwrap());
    assert_ne!(unit_a, unit_b, "two street offices");
    assert_eq!(a2["assignee"], unit_a);
    let (ua, ub) = (handler(unit_a), handler(unit_b));
    // The first is handled, replied, called back and closed.
    let id1 = a1["id"].as_i64().unwrap();
    for step in [
        json!({"action": "accept"}),
        json!({"action": "handle", "contacted": true}),
        json!({"action": "reply", "note": "已清理"}),
    ] {
        let (s, v) = a.act(ua, id1, step).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let callback =
        json!({"action": "callback", "reached": true, "responded": true, "solved": true, "satisfaction": "satisfied"});
    for step in [callback, json!({"action": "close"})] {
        let (s, v) = a.act(OPERATOR, id1, step).await;
        assert_eq!(s, StatusCode::OK, "{v}");
    }

    // A leader sees the whole district: the default is this month, every case.
    let d = map_data(&a, SUPERVISOR, "").await;
    assert_eq!((d["period"].as_str(), d["measure"].as_str()), (Some("2026-11"), Some("all")), "{d}");
    assert_eq!((d["total"].as_u64(), d["without_cell"].as_u64(), d["max_cell"].as_u64()), (Some(3), Some(0), Some(2)));
    assert_eq!((cell_count(&d, &cell_a.code), cell_count(&d, &cell_b.code)), (2, 1), "{d}");
    let street_a = &grid.streets()[cell_a.street].code;
    let street = d["streets"].as_array().unwrap().iter().find(|s| s["code"] == street_a.as_str()).unwrap();
    assert_eq!(street["cases"], 2, "{d}");
    assert_eq!(d["streets"].as_array().unwrap().len(), Catalog::dongcheng().streets().len(), "every street listed");
    assert_eq!(d["list"], "from=2026-11-01&to=2026-11-30");
    let same = map_data(&a, SUPERVISOR, "period=2026-11&measure=all").await;
    assert_eq!(same, d, "the bench's URL shape");
    // Open: the closed one is not counted.
    let d = map_data(&a, SUPERVISOR, "period=2026-11&measure=open").await;
    assert_eq!((d["total"].as_u64(), cell_count(&d, &cell_a.code)), (Some(2), 1), "{d}");
    // Another month, the last 30 days, a category.
    assert_eq!(map_data(&a, SUPERVISOR, "period=2026-10").await["total"], 0);
    let d = map_data(&a, SUPERVISOR, "period=30d").await;
    assert_eq!(
        (d["total"].as_u64(), d["from"].as_str(), d["to"].as_str()),
        (Some(3), Some("2026-10-12"), Some("2026-11-10"))
    );
    let top = &street_category()[..2];
    assert_eq!(map_data(&a, SUPERVISOR, &format!("category={top}")).await["total"], 3);
    let other =
        Catalog::dongcheng().categories().iter().find(|c| c.parent.is_none() && c.code != top).unwrap().code.clone();
    assert_eq!(map_data(&a, SUPERVISOR, &format!("category={other}")).await["total"], 0);

    // A unit handler counts its own unit's cases only: the other unit's cell does not leak.
    let d = map_data(&a, ua, "measure=all").await;
    assert_eq!((d["total"].as_u64(), cell_count(&d, &cell_a.code), cell_count(&d, &cell_b.code)), (Some(2), 2, 0));
    let d = map_data(&a, ub, "measure=all").await;
    assert_eq!((d["total"].as_u64(), cell_count(&d, &cell_a.code), cell_count(&d, &cell_b.code)), (Some(1), 0, 1));
    assert!(d["cells"].as_array().unwrap().len() == 1, "{d}");
    let other_street = d["streets"].as_array().unwrap().iter().find(|s| s["code"] == street_a.as_str()).unwrap();
    assert_eq!(other_street["cases"], 0, "{d}");

    // Weeks later the two open cases are past their deadline (the closed one is not).
    a.advance(chrono::Duration::days(45));
    let d = map_data(&a, SUPERVISOR, "period=2026-11&measure=overdue").await;
    assert_eq!((d["total"].as_u64(), cell_count(&d, &cell_a.code), cell_count(&d, &cell_b.code)), (Some(2), 1, 1));
    assert_eq!(d["list"], "from=2026-11-01&to=2026-11-30&overdue=true");
    assert_eq!(map_data(&a, ua, "period=2026-11&measure=overdue").await["total"], 1);

    // The click's list: the same filter plus the cell, in the console and in the API, scoped.
    let (status, html) =
        a.get_text(SUPERVISOR, &format!("/cases?{}&grid={}", d["list"].as_str().unwrap(), cell_a.code)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("共 1 件") && html.contains(&cell_a.code), "{html}");
    let (_, v) = a.get(SUPERVISOR, &format!("/api/v1/cases?grid={}&from=2026-11-01&to=2026-11-30", cell_a.code)).await;
    assert_eq!(v["total"], 2, "{v}");
    let (_, v) = a.get(ub, &format!("/api/v1/cases?grid={}", cell_a.code)).await;
    assert_eq!(v["total"], 0, "another unit's cell lists nothing: {v}");
    let (status, v) = a.get(SUPERVISOR, "/api/v1/cases?grid=1101'--").await;
    assert_eq!(fields(&error_of(status, &v, StatusCode::BAD_REQUEST, "bad_request")), ["grid"]);

    // Bad input: a 400 naming the field, as JSON for the data and as a page for the page.
    for (query, field) in [
        ("period=2026-13", "period"),
        ("period=13", "period"),
        ("period=99999-01", "period"),
        ("measure=x", "measure"),
        ("measure=ALL", "measure"),
        ("category=99", "category"),
        ("period=2026-1%001", "period"),
        ("measure=%00", "measure"),
    ] {
        let (status, v) = a.get(SUPERVISOR, &format!("/map/data?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {v}");
        assert_eq!(fields(&v["error"]), [field], "{query}: {v}");
        let (status, html) = a.get_text(SUPERVISOR, &format!("/map?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(html.contains(field), "{query}: {html}");
    }
    let long = "x".repeat(20_000);
    let (status, _) = a.get_text(SUPERVISOR, &format!("/map/data?period={long}")).await;
    assert!(status.is_client_error(), "{status}");

    // The page: the nav link, the geometry's versioned URL, the counts' URL; no inline style.
    for who in [SUPERVISOR, OPERATOR, DISPATCHER, ua] {
        let (status, html) = a.get_text(who, "/map?period=2026-11&measure=open").await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("href=\"/map\" class=\"active\""), "{html}");
        assert!(html.contains("data-geometry=\"/map/geometry.json?v="), "{html}");
        assert!(html.contains("data-counts=\"/map/data?period=2026-11&#38;measure=open\""), "{html}");
        assert!(!html.contains("style="), "no inline style");
    }
    let (_, html) = a.get_text(ua, "/map").await;
    assert!(html.contains("仅统计本单位"), "the unit is told what it sees");

    // The geometry: the grid in GCJ-02, gzipped when asked, revalidated by its ETag; people only.
    let (status, headers, body) = page(&a, SUPERVISOR, "/map/geometry.json", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(headers.get(header::CONTENT_ENCODING).is_none());
    let g: Value = serde_json::from_slice(&body).unwrap();
    let features = g["cells"]["features"].as_array().unwrap();
    assert_eq!(features.len(), grid.cells().len());
    assert!(features.iter().any(|f| f["properties"]["name"] == cell_a.code.as_str()));
    assert_eq!(g["outline"]["features"][0]["geometry"]["type"], "MultiPolygon");
    let etag = headers[header::ETAG].to_str().unwrap().to_string();
    assert!(headers[header::CACHE_CONTROL].to_str().unwrap().contains("max-age="), "{headers:?}");
    let (status, headers, zipped) =
        page(&a, SUPERVISOR, "/map/geometry.json", &[(header::ACCEPT_ENCODING, "gzip, br")]).await;
    assert_eq!((status, headers[header::CONTENT_ENCODING].to_str().unwrap()), (StatusCode::OK, "gzip"));
    assert!(zipped.len() * 3 < body.len(), "{} of {}", zipped.len(), body.len());
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&zipped[..]), &mut unzipped).unwrap();
    assert_eq!(unzipped, body);
    let (status, _, body) = page(&a, SUPERVISOR, "/map/geometry.json", &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!((status, body.len()), (StatusCode::NOT_MODIFIED, 0));
    // Without a session: to the login page (as every console route), nothing counted.
    for path in ["/map", "/map/data", "/map/geometry.json"] {
        let (status, headers, _) = page(&a, NOBODY, path, &[]).await;
        assert_eq!((status, headers[header::LOCATION].to_str().unwrap()), (StatusCode::SEE_OTHER, "/"), "{path}");
        let (status, _, _) = page(&a, Some(("citizen", Some("app"))), path, &[]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{path}: an API key is not a console session");
    }

    // A server without a grid still counts by street; it has no geometry.
    let plain = TestApp::new(url, a.now()).await;
    let admin = Some(("admin", None));
    let (status, v) = plain.get(admin, "/map/geometry.json").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");
    let (status, html) = plain.get_text(admin, "/map").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("未加载区界") && !html.contains("data-geometry"), "{html}");
    assert_eq!(map_data(&plain, admin, "period=2026-11").await["total"], 3);
}

#[tokio::test]
async fn map_over_http_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    map_over_http(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn map_over_http_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_map").await else { return };
    map_over_http(&db.url).await;
    db.drop().await;
}

// ---------------------------------------------------------------------------------------------
// In a browser, over demo data.

/// Clicks the viewport at (x, y).
async fn click_at(s: &Story, x: f64, y: f64) {
    let mouse = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo { duration: None, x, y })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    s.c.perform_actions(mouse).await.unwrap();
    s.c.release_actions().await.unwrap();
}

/// The viewport position of a point (GCJ-02) on the map, scrolled into view.
async fn on_screen(s: &Story, lon: f64, lat: f64) -> (f64, f64) {
    let js = r#"
        var el = document.getElementById('map');
        el.scrollIntoView({block: 'center'});
        var p = window.echarts.getInstanceByDom(el).convertToPixel({seriesIndex: 0}, [arguments[0], arguments[1]]);
        var r = el.getBoundingClientRect();
        return [r.left + p[0], r.top + p[1]];
    "#;
    let v = s.c.execute(js, vec![json!(lon), json!(lat)]).await.unwrap();
    (v[0].as_f64().unwrap(), v[1].as_f64().unwrap())
}

/// The map's paths by fill: (grey cells without cases, cells in a colour of the scale). The
/// scale's legend adds one swatch per band.
async fn fills(s: &Story) -> (u64, u64) {
    let js = r#"
        var probe = document.createElement('i');
        document.body.appendChild(probe);
        function norm(c) { probe.style.color = ''; probe.style.color = c; return getComputedStyle(probe).color; }
        var grey = norm('#e9eef4');
        var scale = ['#fecc5c', '#fd8d3c', '#f03b20', '#bd0026', '#800026'].map(norm);
        var zero = 0, hot = 0;
        document.querySelectorAll('#map svg path').forEach(function (p) {
            var f = p.getAttribute('fill');
            if (!f || f === 'none') { return; }
            f = norm(f);
            if (f === grey) { zero++; } else if (scale.indexOf(f) >= 0) { hot++; }
        });
        probe.remove();
        return [zero, hot];
    "#;
    let v = s.c.execute(js, vec![]).await.unwrap();
    (v[0].as_u64().unwrap(), v[1].as_u64().unwrap())
}

fn screenshots() -> std::path::PathBuf {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const DESKTOP: (&str, u32, u32) = ("desktop", 1280, 800);
const PHONE: (&str, u32, u32) = ("phone", 390, 844);

/// Opens `path` in a window of `size` (loaded at that size, as a phone would) and waits for the map.
async fn open_map(s: &Story, path: &str, size: (&str, u32, u32)) {
    s.c.set_window_size(size.1, size.2).await.unwrap();
    s.goto(path).await;
    s.c.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("#map[data-ready]")).await.unwrap();
}

async fn map_in_browser(url: &str, name: &str) {
    let Some(driver) = chromedriver().await else { return };
    let store = jiesu_store::testing::connect(url).await.unwrap();
    let desk = Desk::new(store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default()).with_geo(geo());
    let now = Utc::now();
    jiesu_demo::generate(&desk, &jiesu_demo::DemoOptions { cases: 3000, seed: 2026, end: now }, |_, _| {})
        .await
        .unwrap();
    let last_month = Period::of(now, desk.config().tz).previous();
    let period = format!("{:04}-{:02}", last_month.year, last_month.month);
    let (from, to) = last_month.bounds(desk.config().tz);
    let month = CaseFilter { received_from: Some(from), received_to: Some(to), ..Default::default() };
    let counts = store.count_by_place(&Scope::All, &month).await.unwrap();
    let busiest = counts.iter().filter(|c| c.grid.is_some()).max_by_key(|c| c.cases).unwrap().clone();
    let total: u64 = counts.iter().map(|c| c.cases).sum();
    let mut cells: Vec<&str> = counts.iter().filter_map(|c| c.grid.as_deref()).collect();
    cells.sort();
    cells.dedup();
    let with_cases = cells.len() as u64;
    assert!(with_cases > 20, "demo cases lie in many cells: {with_cases}");
    let all_cells = geo().grid().unwrap().cells().len() as u64;
    for (user, role, unit) in [("sun", Role::Supervisor, None), ("zhao", Role::UnitHandler, Some("S006"))] {
        store.create_user(user, role, unit, PASSWORD, now).await.unwrap();
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(AppState::new(desk), listener, async move {
        let _ = stopped.await;
    }));
    let profile = tempfile::tempdir().unwrap();
    let s = Story { c: browser(&driver, profile.path()).await, base };
    let map = format!("/map?period={period}");
    let code = busiest.grid.clone().unwrap();
    let cell = geo().grid().unwrap().cell(&code).unwrap().clone();

    // The leader's map of last month, from the nav link: the total, every cell with cases in a
    // colour of the scale and the others grey; a click on the busiest cell shows its count.
    s.c.set_window_size(DESKTOP.1, DESKTOP.2).await.unwrap();
    s.login("sun", "/supervise").await;
    s.css("nav a[href='/map']").await.click().await.unwrap();
    s.c.wait().at_most(Duration::from_secs(30)).for_element(Locator::Css("#map[data-ready]")).await.unwrap();
    for size in [DESKTOP, PHONE] {
        open_map(&s, &map, size).await;
        assert_eq!(s.text("#map-total").await, total.to_string());
        let (zero, hot) = fills(&s).await;
        assert_eq!(zero, all_cells - with_cases, "grey cells");
        assert!((with_cases..=with_cases + 5).contains(&hot), "{hot} coloured paths for {with_cases} cells with cases");
        assert!(s.text("#street-table tbody").await.contains("街道"), "the streets' table is filled");
        shot_sized(&s.c, &format!("map-{name}"), &[size]).await;
        let (x, y) = on_screen(&s, cell.centre.lon, cell.centre.lat).await;
        click_at(&s, x, y).await;
        s.c.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("#cell-code")).await.unwrap();
        assert_eq!(s.text("#cell-code").await, code);
        let info = s.text("#cell-info").await;
        assert!(info.contains(&format!("{} 件", busiest.cases)), "{info}");
        // As the person sees it (on a phone the page scrolls to the panel under the map).
        let png = s.c.screenshot().await.unwrap();
        std::fs::write(screenshots().join(format!("map-{name}-cell-{}.png", size.0)), png).unwrap();
    }
    // The panel's link lists that cell's cases, with the map's filter.
    s.c.set_window_size(DESKTOP.1, DESKTOP.2).await.unwrap();
    s.submit("#cell-cases").await;
    assert_eq!(s.path().await, "/cases");
    assert_eq!(s.text("#grid-filter").await, code);
    assert!(s.text("h1").await.contains(&format!("共 {} 件", busiest.cases)), "{}", s.text("h1").await);
    shot_sized(&s.c, &format!("map-{name}-cell-cases"), &[DESKTOP, PHONE]).await;

    // The street mode colours each street as one; a street in the table picks it.
    open_map(&s, &format!("{map}&measure=open"), DESKTOP).await;
    s.css("#mode-street").await.click().await.unwrap();
    let (_, hot) = fills(&s).await;
    assert!(hot > with_cases, "whole streets are coloured: {hot}");
    s.css("#street-table tbody tr[data-street] a").await.click().await.unwrap();
    assert!(s.css("#cell-cases").await.attr("href").await.unwrap().unwrap().contains("street="));
    shot_sized(&s.c, &format!("map-{name}-streets"), &[DESKTOP]).await;
    s.logout().await;

    // A unit handler's map counts its unit's cases only.
    s.login("zhao", "/inbox").await;
    let unit = Scope::Unit { unit: "S006".into(), street: None };
    let own: u64 = store.count_by_place(&unit, &month).await.unwrap().iter().map(|c| c.cases).sum();
    assert!(own < total);
    for size in [DESKTOP, PHONE] {
        open_map(&s, &map, size).await;
        assert_eq!(s.text("#map-total").await, own.to_string());
        shot_sized(&s.c, &format!("map-{name}-unit"), &[size]).await;
    }

    s.c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn map_in_browser_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    map_in_browser(&format!("sqlite://{}/jiesu.db", dir.path().display()), "sqlite").await;
}

#[tokio::test]
async fn map_in_browser_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("console_map_browser").await else { return };
    map_in_browser(&db.url, "postgres").await;
    db.drop().await;
}
