//! Category suggestions over HTTP, with the shipped classifier as `jiesu serve` runs it: the
//! suggestion endpoint shows the leaf, `POST /api/v1/cases` takes a draft without a category
//! (filled when confident, the manual queue otherwise) and the timeline shows what happened.

mod common;

use axum::http::StatusCode;
use common::*;
use serde_json::{Value, json};

/// Teddy Cup 2020 sample, id 45646 (交通运输).
const TAXI: &str = "C4市出租车过年乱收费，不打表，一口价，过河15元。才一两公里路！！这股风气谁允许的？";
/// Written for the test: says nothing about what it is about.
const VAGUE: &str = "我想问一下这个事情到底应该找谁，打了好几次电话都说不归他们管。";

fn body(text: &str, category: Option<&str>) -> Value {
    let mut b = json!({
        "channel": "hotline",
        "kind": "complaint",
        "text": text,
        "place": { "street": "110101001" },
    });
    if let Some(c) = category {
        b["category"] = json!(c);
    }
    b
}

/// The category suggestion on the 受理 event of case `id`.
async fn recorded(a: &TestApp, id: i64) -> Value {
    let (s, t) = a.get(SUPERVISOR, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let intake = t["events"][0]["detail"]["intake"].as_array().unwrap_or_else(|| panic!("{t}")).clone();
    intake.into_iter().find(|x| x["field"] == "category").unwrap_or_else(|| panic!("{t}"))
}

#[tokio::test]
async fn categories_are_suggested_filled_confirmed_or_queued_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/c.db", dir.path().display()), t("2026-11-02T02:00:00Z")).await;

    // The suggestion endpoint: leaf, top, label, confidence; filing would fill it and route it.
    let (s, v) = a.post(OPERATOR, "/api/v1/intake/suggest", json!({ "text": TAXI })).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = &v["category"];
    assert_eq!((c["category"].as_str(), c["category_name"].as_str()), (Some("1005"), Some("出租车网约车")), "{v}");
    assert_eq!((c["top_category"].as_str(), c["label"].as_str()), (Some("10"), Some("交通运输")));
    assert_eq!((c["unit_kind"].as_str(), c["manual"].as_bool()), (Some("department"), Some(false)));
    assert!(c["confidence"].as_f64().unwrap() > 0.8, "{v}");
    assert_eq!(v["manual_queue"], false);
    assert_eq!(v["suggestions"][0]["field"], "category");
    assert_eq!(v["suggestions"][0]["outcome"], "filled");
    assert!(v["route"]["unit"].is_string(), "{v}");

    let (_, v) = a.post(OPERATOR, "/api/v1/intake/suggest", json!({ "text": VAGUE })).await;
    assert_eq!((v["manual_queue"].as_bool(), v["category"]["manual"].as_bool()), (Some(true), Some(true)), "{v}");
    assert!(v["route"].is_null() && v["category"]["reason"].is_string(), "{v}");

    // 受理 without a category: filled, dispatched.
    let (s, filled) = a.post(OPERATOR, "/api/v1/cases", body(TAXI, None)).await;
    assert_eq!(s, StatusCode::CREATED, "{filled}");
    assert_eq!((filled["category"].as_str(), filled["status"].as_str()), (Some("1005"), Some("dispatched")), "{filled}");
    let r = recorded(&a, filled["id"].as_i64().unwrap()).await;
    assert_eq!((r["outcome"].as_str(), r["value"].as_str()), (Some("filled"), Some("1005")), "{r}");

    // Given: kept, the suggestion recorded as overridden.
    let (s, given) = a.post(OPERATOR, "/api/v1/cases", body(TAXI, Some("1104"))).await;
    assert_eq!((s, given["category"].as_str()), (StatusCode::CREATED, Some("1104")), "{given}");
    let r = recorded(&a, given["id"].as_i64().unwrap()).await;
    assert_eq!((r["outcome"].as_str(), r["chosen"].as_str()), (Some("overridden"), Some("1104")), "{r}");

    // Vague, blank category: 2299, not dispatched although auto_dispatch defaults to true.
    let (s, queued) = a.post(OPERATOR, "/api/v1/cases", body(VAGUE, Some("  "))).await;
    assert_eq!(s, StatusCode::CREATED, "{queued}");
    assert_eq!((queued["category"].as_str(), queued["status"].as_str()), (Some("2299"), Some("received")), "{queued}");
    let id = queued["id"].as_i64().unwrap();
    let r = recorded(&a, id).await;
    assert_eq!(r["outcome"], "shown");
    assert!(r["reason"].as_str().unwrap().contains("人工分类队列"), "{r}");

    // The dispatcher's manual queue.
    let (s, list) = a.get(DISPATCHER, "/api/v1/cases?status=received&category=2299").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let ids: Vec<i64> = list["cases"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert_eq!(ids, vec![id]);

    // Other problems are still reported, the missing category is not one of them.
    let (s, e) = a.post(OPERATOR, "/api/v1/cases", json!({"channel": "hotline", "kind": "complaint", "text": ""})).await;
    let e = error_of(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(fields(&e), vec!["text".to_string()]);
}
