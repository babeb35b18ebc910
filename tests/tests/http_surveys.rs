//! Surveys over HTTP on both stores: every bad input is a 4xx problem+json naming the field and
//! writes nothing; a batch with some bad items writes the good ones and reports the bad.

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, Reply, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    bad_responses_are_refused_and_write_nothing,
    a_batch_writes_the_good_items_and_reports_the_bad,
    bad_summary_and_follow_up_requests,
);

fn fields(r: &Reply) -> Vec<String> {
    r.body["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Nothing at all recorded for survey `s` (counters, follow-ups).
async fn assert_nothing_written(app: &TestApp) {
    let s = app.get("/v1/surveys/s/summary").await;
    assert_eq!(s.body["responses"], 0, "{}", s.body);
    assert_eq!(app.get("/v1/followups").await.body["items"], json!([]));
}

async fn bad_responses_are_refused_and_write_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/known", json!({})).await;
    let big = "x".repeat(2001);
    for (body, field) in [
        (json!({"response_id": "r", "nps": 11}), "nps"),
        (json!({"response_id": "r", "nps": -1}), "nps"),
        (json!({"response_id": "r", "nps": "9"}), "nps"),
        (json!({"response_id": "r", "csat": 0}), "csat"),
        (json!({"response_id": "r", "csat": 6}), "csat"),
        (json!({"response_id": "r", "csat": 4.5}), "csat"),
        (json!({"response_id": "r"}), "nps"),
        (json!({"response_id": "r", "comment": "bad"}), "nps"),
        (json!({"nps": 3}), "response_id"),
        (json!({"response_id": "r/1", "nps": 3}), "response_id"),
        (
            json!({"response_id": "r", "nps": 3, "customer_id": "ghost"}),
            "customer_id",
        ),
        (
            json!({"response_id": "r", "nps": 3, "customer_id": "a b"}),
            "customer_id",
        ),
        (
            json!({"response_id": "r", "nps": 3, "comment": big}),
            "comment",
        ),
        (
            json!({"response_id": "r", "nps": 3, "submitted_at": "2026-11-22T08:10:00Z"}),
            "submitted_at",
        ),
        (
            json!({"response_id": "r", "nps": 3, "submitted_at": "2026-11-22"}),
            "submitted_at",
        ),
        (
            json!({"response_id": "r", "nps": 3, "channel": ""}),
            "channel",
        ),
        (json!({"response_id": "r", "nps": 3, "rating": 3}), "rating"),
    ] {
        let r = app.post("/v1/surveys/s/responses", body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert!(
            fields(&r).contains(&field.to_owned()),
            "{body} → {}",
            r.body
        );
    }
    app.send(
        Method::POST,
        "/v1/surveys/s/responses",
        Some("application/json"),
        b"{\"response_id\": ".to_vec(),
        Some(&app.key),
    )
    .await
    .assert_problem(400, "malformed-json");
    app.send(
        Method::POST,
        "/v1/surveys/s/responses",
        Some("application/json"),
        br#"{"response_id": "r", "nps": 3}"#.to_vec(),
        None,
    )
    .await
    .assert_problem(401, "unauthorized");
    let r = app
        .post(
            "/v1/surveys/bad%23id/responses",
            json!({"response_id": "r", "nps": 3}),
        )
        .await;
    assert!(r.status.is_client_error(), "{}", r.body);
    assert_eq!(r.content_type(), "application/problem+json");
    // Comments are limited in characters, not bytes.
    let r = app
        .post(
            "/v1/surveys/s2/responses",
            json!({"response_id": "ok", "nps": 9, "comment": "好".repeat(2000)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_nothing_written(&app).await;
    // The unknown customer did not become a customer either.
    app.get("/v1/customers/ghost")
        .await
        .assert_problem(404, "not-found");
}

async fn a_batch_writes_the_good_items_and_reports_the_bad(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/known", json!({})).await;
    // Over 100 items: refused whole.
    let many: Vec<Value> = (0..101)
        .map(|i| json!({"response_id": format!("m{i}"), "nps": 9}))
        .collect();
    let r = app
        .post("/v1/surveys/s/responses/batch", json!({"responses": many}))
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(fields(&r), vec!["responses"]);
    for body in [
        json!({"responses": []}),
        json!({"responses": {}}),
        json!([]),
        json!({}),
    ] {
        app.post("/v1/surveys/s/responses/batch", body)
            .await
            .assert_problem(422, "validation-error");
    }
    assert_nothing_written(&app).await;

    let r = app
        .post(
            "/v1/surveys/s/responses/batch",
            json!({"responses": [
                {"response_id": "g1", "nps": 10, "customer_id": "known"},
                {"response_id": "b1", "nps": 12},
                {"response_id": "g2", "csat": 1, "comment": "crashed twice"},
                {"response_id": "b2", "nps": 5, "customer_id": "ghost"},
                "not an object",
                {"response_id": "g1", "nps": 10, "customer_id": "known"},
                {"response_id": "b3", "nps": 5, "submitted_at": "2027-01-01T00:00:00Z"},
            ]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let results = r.body["results"].as_array().unwrap();
    let mut summary: Vec<(u64, &str)> = results
        .iter()
        .map(|x| (x["index"].as_u64().unwrap(), x["result"].as_str().unwrap()))
        .collect();
    // Items 0 and 5 are the same answer, ingested concurrently: either may be the first.
    let mut twins = [summary[0].1, summary[5].1];
    twins.sort();
    assert_eq!(twins, ["created", "duplicate"], "{}", r.body);
    summary[0].1 = "created";
    summary[5].1 = "duplicate";
    assert_eq!(
        summary,
        vec![
            (0, "created"),
            (1, "invalid"),
            (2, "created"),
            (3, "invalid"),
            (4, "invalid"),
            (5, "duplicate"),
            (6, "invalid"),
        ]
    );
    assert_eq!(
        (
            r.body["created"].clone(),
            r.body["duplicates"].clone(),
            r.body["invalid"].clone()
        ),
        (json!(2), json!(1), json!(4))
    );
    assert_eq!(results[1]["errors"][0]["field"], "responses[1].nps");
    assert_eq!(results[3]["errors"][0]["field"], "responses[3].customer_id");
    assert_eq!(results[4]["errors"][0]["field"], "responses[4]");
    assert_eq!(
        results[6]["errors"][0]["field"],
        "responses[6].submitted_at"
    );
    assert!(results[2]["followup_id"].is_string());
    let s = app.get("/v1/surveys/s/summary").await;
    assert_eq!(s.body["responses"], 2, "only the good items count");
    assert_eq!(
        app.get("/v1/followups").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn bad_summary_and_follow_up_requests(b: Backend) {
    let app = TestApp::new(b).await;
    for (q, field) in [
        ("?from=2026-13-01", "from"),
        ("?to=yesterday", "to"),
        ("?from=2026-11-23&to=2026-11-22", "from"),
        ("?from=2025-01-01&to=2026-11-22", "from"),
    ] {
        let r = app.get(&format!("/v1/surveys/s/summary{q}")).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(fields(&r), vec![field], "{q}");
    }
    for (q, field) in [
        ("?status=pending", "status"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?cursor=abc", "cursor"),
    ] {
        let r = app.get(&format!("/v1/followups{q}")).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(fields(&r), vec![field], "{q}");
    }
    app.get("/v1/followups/01KAAAAAAAAAAAAAAAAAAAAAAA")
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/followups/nope")
        .await
        .assert_problem(404, "not-found");
    app.post("/v1/followups/01KAAAAAAAAAAAAAAAAAAAAAAA/close", json!({}))
        .await
        .assert_problem(404, "not-found");
    // A real case, closed with a bad note: refused, still open.
    let r = app
        .post(
            "/v1/surveys/s/responses",
            json!({"response_id": "r", "nps": 0}),
        )
        .await;
    let id = r.body["followup_id"].as_str().unwrap().to_owned();
    for body in [
        json!({"note": "n".repeat(2001)}),
        json!({"note": 5}),
        json!({"status": "closed"}),
    ] {
        app.post(&format!("/v1/followups/{id}/close"), body)
            .await
            .assert_problem(422, "validation-error");
    }
    assert_eq!(
        app.get(&format!("/v1/followups/{id}")).await.body["status"],
        "open"
    );
    app.get("/v1/followups").await;
    let unauth = app
        .send(
            Method::GET,
            "/v1/followups",
            None,
            vec![],
            Some("wrong-key"),
        )
        .await;
    unauth.assert_problem(401, "unauthorized");
}
