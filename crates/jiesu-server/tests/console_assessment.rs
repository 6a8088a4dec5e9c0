//! 考核 page and its XLSX export on a demo year, on SQLite and PostgreSQL: the workbook read back
//! (calamine) holds the page's figures — per street and per department, and the 12-month trend
//! of the district and the chosen unit — with Chinese headers, rates as fractions formatted as
//! percentages, and a file name; what may not read it, or asks for nonsense, is refused.

mod common;

use std::io::Cursor;

use axum::http::{StatusCode, header};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use common::*;
use jiesu_core::{Config, Desk};
use jiesu_domain::calendar::Calendar;
use jiesu_domain::catalog::Catalog;

/// (unit name, callbacks, composite as shown) of each row of the page's ranking `section`.
fn page_rows(html: &str, section: &str) -> Vec<(String, String, String)> {
    let start = html.find(&format!("id=\"{section}\"")).unwrap_or_else(|| panic!("no section {section}"));
    let body = &html[start..];
    let body = &body[..body.find("</section>").unwrap()];
    body.split("<tr>")
        .filter(|r| r.contains("class=\"name\""))
        .map(|r| {
            let cells: Vec<String> = r
                .split("<td")
                .skip(1)
                .map(|c| {
                    let inner = &c[c.find('>').unwrap() + 1..c.find("</td>").unwrap()];
                    inner.replace("<b>", "").replace("</b>", "").trim().to_string()
                })
                .collect();
            (cells[1].clone(), cells[3].clone(), cells[7].clone())
        })
        .collect()
}

/// The page's trend as it gives it to the chart.
fn page_trend(html: &str) -> serde_json::Value {
    let at = html.find("data-trend=\"").unwrap() + "data-trend=\"".len();
    let raw = &html[at..at + html[at..].find('"').unwrap()];
    serde_json::from_str(&raw.replace("&#34;", "\"").replace("&quot;", "\"").replace("&amp;", "&")).unwrap()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        Data::Empty => String::new(),
        other => format!("{other:?}"),
    }
}

fn num(d: &Data) -> Option<f64> {
    match d {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

async fn export(url: &str) {
    let end = t("2026-11-20T04:00:00Z");
    let a = TestApp::new(url, end).await;
    let desk = Desk::new(a.store.clone(), Catalog::dongcheng(), Calendar::china(), Config::default());
    let opts = jiesu_demo::DemoOptions { cases: 1500, seed: 11, end };
    jiesu_demo::generate(&desk, &opts, |_, _| {}).await.unwrap();

    let (s, html) = a.get_text(SUPERVISOR, "/assessment?period=2026-10&unit=S001").await;
    assert_eq!(s, StatusCode::OK, "{html}");
    assert!(html.contains("href=\"/assessment.xlsx?period=2026-10&amp;unit=S001\""), "the page links to its workbook");
    let streets = page_rows(&html, "streets");
    let departments = page_rows(&html, "departments");
    assert!(streets.len() >= 5 && !departments.is_empty(), "{streets:?} {departments:?}");

    let req = a.request(axum::http::Method::GET, "/assessment.xlsx?period=2026-10&unit=S001", SUPERVISOR, None).await;
    let resp = tower::ServiceExt::oneshot(a.router.clone(), req).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let h = resp.headers();
    assert_eq!(h[header::CONTENT_TYPE], "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
    let disposition = h[header::CONTENT_DISPOSITION].to_str().unwrap().to_string();
    assert!(disposition.starts_with("attachment; filename=\"assessment-2026-10.xlsx\""), "{disposition}");
    let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    assert_eq!(book.sheet_names(), ["街道", "部门", "趋势"]);

    for (sheet, shown) in [("街道", &streets), ("部门", &departments)] {
        let range = book.worksheet_range(sheet).unwrap();
        let rows: Vec<&[Data]> = range.rows().collect();
        assert_eq!(text(&rows[0][0]), "2026-10 考核");
        let headers: Vec<String> = rows[1].iter().map(text).collect();
        assert_eq!(
            &headers[..9],
            ["排名", "单位编码", "单位", "受理量", "回访量", "响应率", "解决率", "满意率", "综合得分"]
        );
        let data = &rows[2..];
        assert_eq!(data.len(), shown.len(), "{sheet}: one row per ranked unit, as on the page");
        for (row, (name, callbacks, composite)) in data.iter().zip(shown.iter()) {
            assert_eq!(&text(&row[2]), name, "{sheet}");
            assert_eq!(format!("{}", num(&row[4]).unwrap()), *callbacks, "{sheet} {name}");
            assert_eq!(format!("{:.2}", num(&row[8]).unwrap()), *composite, "{sheet} {name}");
            for c in 5..=7 {
                let rate = num(&row[c]).unwrap();
                assert!((0.0..=1.0).contains(&rate), "{sheet} {name}: a rate is a fraction shown as %: {rate}");
            }
        }
    }

    let trend = page_trend(&html);
    let range = book.worksheet_range("趋势").unwrap();
    let rows: Vec<&[Data]> = range.rows().collect();
    let headers: Vec<String> = rows[0].iter().map(text).collect();
    assert_eq!(headers, ["月份", "全区综合得分", "全区回访量", "东华门街道办事处综合得分"]);
    let months: Vec<String> = rows[1..].iter().map(|r| text(&r[0])).collect();
    assert_eq!(months.len(), 12);
    assert_eq!((months[0].as_str(), months[11].as_str()), ("2025-11", "2026-10"));
    assert_eq!(serde_json::json!(months), trend["months"]);
    let mut seen = 0;
    for (i, r) in rows[1..].iter().enumerate() {
        let rounded = |d: Option<&Data>| d.and_then(num).map(|x| (x * 100.0).round() / 100.0);
        assert_eq!(rounded(r.get(1)), trend["district"][i].as_f64(), "{}", months[i]);
        assert_eq!(rounded(r.get(3)), trend["unit"][i].as_f64(), "{}", months[i]);
        seen += usize::from(trend["unit"][i].is_number());
    }
    assert!(seen >= 3, "S001 has composites in several months of a demo year: {trend}");

    // Who may not, and nonsense.
    let (s, _) = a.get_text(Some(("citizen", Some("app"))), "/assessment.xlsx?period=2026-10").await;
    assert_ne!(s, StatusCode::OK);
    let (s, body) = a.get_text(NOBODY, "/assessment.xlsx?period=2026-10").await;
    assert!(s.is_redirection() && !body.contains("PK"), "{s}");
    for bad in ["period=2026-13", "period=2026-1x", "unit=NOPE", "unit=%00", &format!("unit={}", "长".repeat(5000))] {
        let (s, body) = a.get_text(SUPERVISOR, &format!("/assessment.xlsx?{bad}")).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(body.len() < 20_000, "the error does not echo a huge input");
    }
}

#[tokio::test]
async fn export_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    export(&format!("sqlite://{}/jiesu.db", dir.path().display())).await;
}

#[tokio::test]
async fn export_on_postgres() {
    let Some(db) = jiesu_store::testing::scratch_postgres("xlsx").await else { return };
    export(&db.url).await;
    db.drop().await;
}
