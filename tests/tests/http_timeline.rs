//! The customer timeline over HTTP on both stores: every kind of item merged newest first,
//! pages that neither skip nor repeat, and bad input.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use jiff::SignedDuration;
use serde_json::{Value, json};

both_stores!(timeline_merges_everything_newest_first, bad_timeline_reads);

fn types(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["type"].as_str().unwrap().to_owned())
        .collect()
}

async fn timeline_merges_everything_newest_first(b: Backend) {
    let app = TestApp::new(b).await;
    let minute = || app.clock.advance(SignedDuration::from_mins(1));
    app.put("/v1/settings", json!({"timezone": "Asia/Shanghai"}))
        .await;
    app.put(
        "/v1/customers/p1",
        json!({"email": "p1@example.com", "birthday": "1990-11-22", "consent": {"email_marketing": true}}),
    )
    .await;
    minute(); // 08:01 login
    let r = app
        .post(
            "/v1/customers/p1/events",
            json!({"event_id": "l1", "kind": "login"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    minute(); // 08:02 purchase
    app.post(
        "/v1/customers/p1/points/accruals",
        json!({"event_id": "o1", "kind": "purchase", "amount_minor": 999, "currency": "USD"}),
    )
    .await;
    minute(); // 08:03 birthday mail (16:03 in Shanghai: due)
    let run = app.post("/v1/campaigns/birthday/runs", json!({})).await;
    assert_eq!(run.body["sent"], 1, "{}", run.body);
    minute(); // 08:04 an unhappy answer, which opens a follow-up
    let r = app
        .post(
            "/v1/surveys/s1/responses",
            json!({"response_id": "resp-1", "customer_id": "p1", "nps": 2}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    minute(); // 08:05 a session
    app.post(
        "/v1/customers/p1/events",
        json!({"event_id": "s1", "kind": "session", "properties": {"duration_s": 240}}),
    )
    .await;

    let all = app.get("/v1/customers/p1/timeline").await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(
        types(&all.body),
        // The answer and its follow-up share an instant: ties go by type.
        [
            "event",
            "follow_up",
            "survey_response",
            "message",
            "ledger",
            "event"
        ]
    );
    let items = all.body["items"].as_array().unwrap();
    assert_eq!(items[0]["event"]["event_id"], "s1");
    assert_eq!(items[2]["response"]["nps"], 2);
    assert_eq!(items[3]["message"]["campaign"], "birthday");
    assert_eq!(items[4]["entry"]["key"], "accrual:o1");
    assert!(all.body["next_cursor"].is_null());

    // Pages of two: the same items in the same order, none twice.
    let mut seen = Vec::new();
    let mut url = "/v1/customers/p1/timeline?limit=2".to_owned();
    for _ in 0..10 {
        let page = app.get(&url).await.body;
        seen.extend(types(&page));
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/v1/customers/p1/timeline?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, types(&all.body));
}

async fn bad_timeline_reads(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/p1", json!({})).await;
    for q in [
        "limit=0",
        "limit=500",
        "limit=two",
        "cursor=tc1.zz",
        "cursor=lc1.0000000000000001",
        "cursor=tc1.7b7d7d",
    ] {
        let r = app.get(&format!("/v1/customers/p1/timeline?{q}")).await;
        r.assert_problem(422, "validation-error");
    }
    app.get("/v1/customers/ghost/timeline")
        .await
        .assert_problem(404, "not-found");
    let empty = app.get("/v1/customers/p1/timeline").await;
    assert_eq!(
        (
            empty.body["items"].clone(),
            empty.body["next_cursor"].clone()
        ),
        (json!([]), Value::Null)
    );
}
