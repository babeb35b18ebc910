//! The case queue over HTTP on both stores: a backend opens a complaint (retry-safe), the
//! queue by due time with a cursor, a detractor's answer opening its case, closing the
//! follow-up resolving it, and bad input that writes nothing.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::json;

both_stores!(cases_walkthrough, bad_cases_change_nothing);

async fn cases_walkthrough(b: Backend) {
    let app = TestApp::new(b).await;
    app.put(
        "/v1/customers/whale-7",
        json!({"email": "whale@example.com"}),
    )
    .await;
    let body = json!({"case_id": "zd-1001", "customer_id": "whale-7", "kind": "complaint",
        "subject": "Top-up not credited", "description": "6480 coins, order 77", "priority": "high"});
    let r = app.post("/v1/cases", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "open");
    assert_eq!(r.body["opened_at"], "2026-11-22T08:00:00.000Z");
    assert_eq!(
        r.body["due_at"], "2026-11-22T12:00:00.000Z",
        "high: 4 hours"
    );
    assert_eq!(r.body["opened_by"]["kind"], "api_key");
    assert!(r.body.get("fingerprint").is_none() && r.body.get("version").is_none());
    let again = app.post("/v1/cases", body).await;
    assert_eq!((again.status, &again.body), (StatusCode::OK, &r.body));
    app.post(
        "/v1/cases",
        json!({"case_id": "zd-1001", "customer_id": "whale-7", "kind": "feedback", "subject": "x"}),
    )
    .await
    .assert_problem(409, "conflict");

    // A detractor's answer opens its case with the follow-up's id.
    let a = app
        .post(
            "/v1/surveys/nps-q4/responses",
            json!({"response_id": "r-1", "customer_id": "whale-7", "nps": 1, "comment": "Lag"}),
        )
        .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.body);
    let followup = a.body["followup_id"].as_str().unwrap().to_owned();
    let case = app.get(&format!("/v1/cases/{followup}")).await;
    assert_eq!(case.status, StatusCode::OK, "{}", case.body);
    assert_eq!(case.body["kind"], "followup");
    assert_eq!(case.body["description"], "Lag");
    assert_eq!(case.body["followup"]["nps"], 1);

    // The tenant's SLA decides the due time of a default (normal) case.
    let s = app
        .put(
            "/v1/settings",
            json!({"cases": {"sla_hours": {"normal": 2}}}),
        )
        .await;
    assert_eq!(s.status, StatusCode::OK, "{}", s.body);
    let soon = app
        .post(
            "/v1/cases",
            json!({"customer_id": "whale-7", "kind": "feedback", "subject": "Loves the new map"}),
        )
        .await;
    assert_eq!(soon.status, StatusCode::CREATED, "{}", soon.body);
    assert_eq!(soon.body["priority"], "normal");
    assert_eq!(soon.body["due_at"], "2026-11-22T10:00:00.000Z");

    // The queue, soonest due first, two at a time.
    let page = app.get("/v1/cases?limit=2").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let ids: Vec<_> = page.body["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["subject"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, ["Loves the new map", "Top-up not credited"]);
    let next = page.body["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/v1/cases?limit=2&cursor={next}")).await;
    // Opened before the SLA changed: due a day after.
    assert_eq!(rest.body["cases"][0]["due_at"], "2026-11-23T08:00:00.000Z");
    assert_eq!(rest.body["cases"][0]["case_id"], followup.as_str());
    assert!(rest.body["next_cursor"].is_null());

    // Closing the follow-up resolves its case.
    let closed = app
        .post(
            &format!("/v1/followups/{followup}/close"),
            json!({"note": "Called, sent a coupon"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    let resolved = app.get("/v1/cases?view=resolved").await;
    assert_eq!(resolved.body["cases"][0]["case_id"], followup.as_str());
    assert_eq!(
        resolved.body["cases"][0]["resolution"],
        "Called, sent a coupon"
    );
    let active = app.get("/v1/cases").await;
    assert_eq!(active.body["cases"].as_array().unwrap().len(), 2);

    // An ingest key (the game backend's) may open cases; a read key may not.
    let read = app.new_key(&["read"]).await;
    let refused = app
        .send(
            axum::http::Method::POST,
            "/v1/cases",
            Some("application/json"),
            serde_json::to_vec(
                &json!({"customer_id": "whale-7", "kind": "complaint", "subject": "x"}),
            )
            .unwrap(),
            Some(&read),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
}

async fn bad_cases_change_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/c1", json!({})).await;
    let r = app
        .post(
            "/v1/cases",
            json!({"customer_id": "c1", "kind": "followup", "subject": "", "priority": "urgent"}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    let mut fields: Vec<_> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    fields.sort();
    assert_eq!(fields, ["kind", "priority", "subject"]);
    let ghost = app
        .post(
            "/v1/cases",
            json!({"customer_id": "nobody", "kind": "complaint", "subject": "Hello"}),
        )
        .await;
    ghost.assert_problem(422, "validation-error");
    assert_eq!(ghost.body["errors"][0]["field"], "customer_id");
    app.get("/v1/cases?view=all")
        .await
        .assert_problem(422, "validation-error");
    app.get("/v1/cases?cursor=cs1.5a")
        .await
        .assert_problem(422, "validation-error");
    app.get("/v1/cases?view=resolved&cursor=cs1.41233030")
        .await
        .assert_problem(422, "validation-error");
    app.get("/v1/cases/no%20such")
        .await
        .assert_problem(404, "not-found");
    app.get("/v1/cases/zd-404")
        .await
        .assert_problem(404, "not-found");
    let s = app
        .put(
            "/v1/settings",
            json!({"cases": {"sla_hours": {"high": 0}, "high_value_tiers": ["nope"]}}),
        )
        .await;
    s.assert_problem(422, "validation-error");
    let q = app.get("/v1/cases").await;
    assert_eq!(q.body["cases"], json!([]), "nothing was written");
}
