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
    assert_eq!(
        (filled["category"].as_str(), filled["status"].as_str()),
        (Some("1005"), Some("dispatched")),
        "{filled}"
    );
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
    let (s, e) =
        a.post(OPERATOR, "/api/v1/cases", json!({"channel": "hotline", "kind": "complaint", "text": ""})).await;
    let e = error_of(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
    assert_eq!(fields(&e), vec!["text".to_string()]);
}

/// The dispatcher's manual queue, oldest first.
async fn queue(a: &TestApp) -> Vec<i64> {
    let (s, list) = a.get(DISPATCHER, "/api/v1/cases?status=received&category=2299").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    let mut ids: Vec<i64> = list["cases"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn a_queued_case_is_reclassified_and_dispatched_over_http() {
    let dir = tempfile::tempdir().unwrap();
    let a = TestApp::new(&format!("sqlite://{}/r.db", dir.path().display()), t("2026-11-02T02:00:00Z")).await;
    let mut queued = Vec::new();
    for _ in 0..3 {
        let (s, c) = a.post(OPERATOR, "/api/v1/cases", body(VAGUE, None)).await;
        assert_eq!(
            (s, c["category"].as_str(), c["status"].as_str()),
            (StatusCode::CREATED, Some("2299"), Some("received")),
            "{c}"
        );
        queued.push(c["id"].as_i64().unwrap());
    }
    assert_eq!(queue(&a).await, queued);

    // 改分类 + 派单 in one request: routed and timed by 暖气不热 (a utility's, 24 hours).
    let id = queued[0];
    let (s, c) = a.act(DISPATCHER, id, json!({"action": "dispatch", "category": "0401", "note": "人工分类"})).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        (c["status"].as_str(), c["category"].as_str(), c["category_name"].as_str()),
        (Some("dispatched"), Some("0401"), Some("暖气不热")),
        "{c}"
    );
    assert_eq!(
        (c["deadline_class"].as_str(), c["due"].as_str()),
        (Some("utility"), Some("2026-11-03T10:00:00+08:00")),
        "{c}"
    );
    assert!(c["assignee"].is_string(), "{c}");
    let (_, list) = a.get(DISPATCHER, "/api/v1/cases?category=0401").await;
    assert_eq!(list["cases"][0]["id"].as_i64(), Some(id), "{list}");
    let (s, t) = a.get(SUPERVISOR, &format!("/api/v1/cases/{id}/events")).await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let e = &t["events"][1];
    assert_eq!(
        (e["action"].as_str(), e["action_label"].as_str(), e["from"].as_str(), e["to"].as_str()),
        (Some("reclassify"), Some("改分类"), Some("received"), Some("received")),
        "{e}"
    );
    let d = &e["detail"];
    assert_eq!(
        (d["from"].as_str(), d["from_name"].as_str(), d["category"].as_str(), d["category_name"].as_str()),
        (Some("2299"), Some("其他事项"), Some("0401"), Some("暖气不热")),
        "{d}"
    );
    assert_eq!(t["events"][2]["action"], "dispatch");
    assert_eq!(t["events"][2]["note"], "人工分类");

    // 改分类 alone: stays 已受理, out of the queue.
    let (s, c) = a.act(OPERATOR, queued[1], json!({"action": "reclassify", "category": "0301"})).await;
    assert_eq!(
        (s, c["status"].as_str(), c["category"].as_str()),
        (StatusCode::OK, Some("received"), Some("0301")),
        "{c}"
    );
    assert_eq!(queue(&a).await, vec![queued[2]]);

    // Refusals: unknown or top-level code (422, field category), a supervisor (403), a closed case (409).
    for code in ["9999", "04"] {
        let (s, e) = a.act(DISPATCHER, queued[2], json!({"action": "reclassify", "category": code})).await;
        let e = error_of(s, &e, StatusCode::UNPROCESSABLE_ENTITY, "invalid");
        assert_eq!(fields(&e), vec!["category".to_string()], "{e}");
    }
    let (s, e) = a.act(DISPATCHER, queued[2], json!({"action": "reclassify"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let (s, e) = a.act(SUPERVISOR, queued[2], json!({"action": "reclassify", "category": "0301"})).await;
    error_of(s, &e, StatusCode::FORBIDDEN, "forbidden");
    let (s, _) = a.act(OPERATOR, queued[2], json!({"action": "reply", "note": "已解答"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = a.act(OPERATOR, queued[2], json!({"action": "close"})).await;
    assert_eq!(s, StatusCode::OK);
    let (s, e) = a.act(DISPATCHER, queued[2], json!({"action": "reclassify", "category": "0301"})).await;
    let e = error_of(s, &e, StatusCode::CONFLICT, "illegal_transition");
    assert!(
        e["message"].as_str().unwrap().contains("改分类") && e["message"].as_str().unwrap().contains("已结案"),
        "{e}"
    );
    assert!(queue(&a).await.is_empty());
}
