//! Driving a real browser: chromedriver (skipped, with the reason printed, when it is not
//! installed, unless `CI` is set), a headless Chromium session, screenshots under
//! `target/screenshots/`, and the steps every story takes (log in, submit, read).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::PASSWORD;

/// chromedriver on a free port, stopped when dropped.
pub struct Driver {
    _child: tokio::process::Child,
    url: String,
}

pub async fn chromedriver() -> Option<Driver> {
    let found =
        std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("chromedriver").is_file()));
    if !found {
        let reason = "chromedriver is not installed (apt-get install chromium chromium-driver fonts-wqy-microhei)";
        assert!(std::env::var_os("CI").is_none(), "CI is set: the browser test must run, but {reason}");
        eprintln!("browser test skipped: {reason}");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = tokio::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    // It says when it listens.
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line.contains("started successfully") {
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Some(Driver { _child: child, url: format!("http://127.0.0.1:{port}") })
}

pub async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--lang=zh-CN",
        "--window-size=1366,768",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain([format!("--user-data-dir={}", profile.display())])
    .collect::<Vec<_>>();
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({"args": args}));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a WebDriver session")
}

/// Saves the page as `NAME-desktop.png` (1366×768) and `NAME-phone.png` (390×844).
pub async fn shot(c: &Client, name: &str) {
    shot_sized(c, name, &[("phone", 390, 844), ("desktop", 1366, 768)]).await;
}

/// Saves the page as `NAME-SIZE.png` at each size.
pub async fn shot_sized(c: &Client, name: &str, sizes: &[(&str, u32, u32)]) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    for &(size, w, h) in sizes {
        c.set_window_size(w, h).await.unwrap();
        // From the top (a focused field may have scrolled the page).
        c.execute("window.scrollTo(0, 0)", vec![]).await.unwrap();
        let png = c.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}-{size}.png")), png).unwrap();
    }
}

pub struct Story {
    pub c: Client,
    pub base: String,
}

impl Story {
    pub async fn goto(&self, path: &str) {
        self.c.goto(&format!("{}{path}", self.base)).await.unwrap();
    }

    pub async fn path(&self) -> String {
        self.c.current_url().await.unwrap().path().to_string()
    }

    pub async fn css(&self, css: &str) -> fantoccini::elements::Element {
        self.c.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    pub async fn text(&self, css: &str) -> String {
        self.css(css).await.text().await.unwrap()
    }

    /// Clicks what submits a form and waits until the next page has replaced this one.
    pub async fn submit(&self, css: &str) {
        let old = self.css("body").await;
        self.css(css).await.click().await.unwrap();
        let gone = std::time::Instant::now() + Duration::from_secs(20);
        // The old page's body goes stale when the browser has navigated.
        while old.tag_name().await.is_ok() {
            assert!(std::time::Instant::now() < gone, "{css} did not lead to another page");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub async fn html(&self) -> String {
        self.c.source().await.unwrap()
    }

    /// Logs in through the form and checks the role's home.
    pub async fn login(&self, name: &str, home: &str) {
        self.goto("/").await;
        self.css("#name").await.send_keys(name).await.unwrap();
        self.css("#password").await.send_keys(PASSWORD).await.unwrap();
        self.submit("#login").await;
        let html = self.html().await;
        assert_eq!(self.path().await, home, "{name} lands on {home}: {html}");
    }

    pub async fn logout(&self) {
        self.submit("#logout").await;
        assert_eq!(self.path().await, "/");
    }
}
