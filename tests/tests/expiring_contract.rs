//! Points-expiring reminders on both stores with a controlled clock: `days_before` a lot
//! expires (the end of its month in the tenant's zone) each customer still holding points of
//! it gets one mail naming the points and the last day — from the hourly runs or by hand, once
//! per lot; a customer who spent the lot, or withholds consent, gets none.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores, mail_header, mail_text, outbox_files, ts};
use serde_json::{Value, json};

both_stores!(a_reminder_goes_once_per_lot_days_before_it_expires);

async fn customer(app: &TestApp, id: &str, consent: bool) {
    let r = app
        .put(
            &format!("/v1/customers/{id}"),
            json!({"email": format!("{id}@example.com"), "consent": {"email_marketing": consent}}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
}

async fn post(app: &TestApp, path: &str, body: Value) -> Value {
    let r = app.post(path, body).await;
    assert!(r.status.is_success(), "{path}: {}", r.body);
    r.body
}

async fn hourly(app: &TestApp, at: &str) {
    app.clock.set(ts(at));
    app.campaigns
        .run_defined_all(None, Some(&app.tenant))
        .await
        .unwrap();
}

async fn a_reminder_goes_once_per_lot_days_before_it_expires(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .post(
            "/v1/campaigns",
            json!({"campaign_id": "expiring", "name": "Points expiring", "status": "active",
                "trigger": {"type": "points_expiring", "days_before": 7},
                "templates": {"en": {"subject": "Your points expire soon",
                    "html": "<p>{{ expiring.points }} points expire after {{ expiring.last_day }}</p>",
                    "text": "{{ expiring.points }} points expire after {{ expiring.last_day }}"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // A template that reads `expiring` on another trigger is refused.
    let r = app
        .post(
            "/v1/campaigns",
            json!({"campaign_id": "wrong", "name": "Wrong", "trigger": {"type": "signup"},
                "templates": {"en": {"subject": "x", "html": "{{ expiring.points }}", "text": "x"}}}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["templates.en.html"]);

    // On 22 November 2026 (UTC), points are valid 365 days: the lot of November 2027, which
    // expires at the start of 1 December 2027.
    for (id, consent) in [
        ("keeper", true),
        ("spender", true),
        ("silent", true),
        ("quiet", false),
    ] {
        customer(&app, id, consent).await;
    }
    for id in ["keeper", "spender", "quiet"] {
        post(
            &app,
            &format!("/v1/customers/{id}/points/accruals"),
            json!({"event_id": format!("bonus-{id}"), "kind": "bonus", "points": 500}),
        )
        .await;
    }
    post(
        &app,
        "/v1/customers/spender/points/redemptions",
        json!({"redemption_id": "spend-all", "points": 500}),
    )
    .await;

    hourly(&app, "2027-11-23T23:00:00Z").await;
    assert!(
        outbox_files(&app.outbox).is_empty(),
        "8 days before: not yet"
    );
    hourly(&app, "2027-11-24T00:00:00Z").await;
    hourly(&app, "2027-11-24T01:00:00Z").await;
    let files = outbox_files(&app.outbox);
    assert_eq!(
        files.len(),
        1,
        "one mail, to the customer still holding the lot"
    );
    assert!(
        mail_header(&files[0].1, "To")
            .unwrap()
            .contains("keeper@example.com")
    );
    let text = mail_text(&files[0].1);
    assert!(
        text.contains("500 points expire after 2027-11-30"),
        "{text}"
    );

    // By hand: the lot's marker holds.
    let r = app.post("/v1/campaigns/expiring/runs", json!({})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["candidates"].as_u64(),
            r.body["sent"].as_u64(),
            r.body["skipped"]["already_sent"].as_u64()
        ),
        (Some(2), Some(0), Some(1)),
        "{}",
        r.body
    );
    assert_eq!(r.body["skipped"]["no_consent"], 1);
    let log = app.get("/v1/customers/keeper/messages").await.body;
    assert_eq!(log["messages"][0]["period"], "lot:2027-11");
    // Expired: nothing more.
    hourly(&app, "2027-12-01T00:00:00Z").await;
    assert_eq!(outbox_files(&app.outbox).len(), 1);
}
