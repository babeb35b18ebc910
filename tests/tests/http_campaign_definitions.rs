//! Campaign definitions over HTTP on both stores: saved with every part checked (templates
//! rendered with sample data), read, replaced, archived; bad ones named by their path and not
//! saved. (Sending them: broadcast_contract.rs.)

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    definitions_are_saved_replaced_and_archived,
    bad_definitions_name_the_field
);

fn template() -> Value {
    json!({"subject": "Thanks, {{ name }} from {{ brand.name }}", "html": "<p>Thanks</p>", "text": "Thanks"})
}

fn thank_you() -> Value {
    json!({"campaign_id": "thank-you", "name": "Thank you", "status": "active",
           "trigger": {"type": "purchase", "min_amount_minor": 500},
           "templates": {"en": template()}, "max_delay_hours": 12})
}

async fn definitions_are_saved_replaced_and_archived(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app.post("/v1/campaigns", thank_you()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "active");
    assert_eq!(r.body["definition"], thank_you());
    let created_at = r.body["created_at"].clone();
    app.post("/v1/campaigns", thank_you())
        .await
        .assert_problem(409, "conflict");
    let lny = json!({"campaign_id": "lny-2027", "name": "Lunar New Year",
        "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
        "audience": {"filter": {"field": "tier", "op": "eq", "value": "high-value"}},
        "offer": {"value_minor": 888, "currency": "CNY", "valid_days": 14},
        "templates": {"zh-CN": template()}, "holdout_percent": 10});
    let r = app.post("/v1/campaigns", lny).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["status"], "draft");
    let list = app.get("/v1/campaigns").await.body;
    let ids: Vec<&str> = list["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["campaign_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["lny-2027", "thank-you"]);

    let mut paused = thank_you();
    paused["status"] = json!("paused");
    paused["name"] = json!("Thank you (paused)");
    let r = app.put("/v1/campaigns/thank-you", paused.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = app.get("/v1/campaigns/thank-you").await.body;
    assert_eq!(got["status"], "paused");
    assert_eq!(got["definition"]["name"], "Thank you (paused)");
    assert_eq!(got["created_at"], created_at);
    app.put("/v1/campaigns/other", paused)
        .await
        .assert_problem(422, "validation-error");

    let del = app
        .json(Method::DELETE, "/v1/campaigns/thank-you", None)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/v1/campaigns/thank-you").await.body["status"],
        "archived"
    );
    app.get("/v1/campaigns/nope")
        .await
        .assert_problem(404, "not-found");
    app.json(Method::DELETE, "/v1/campaigns/nope", None)
        .await
        .assert_problem(404, "not-found");
    let mut missing = thank_you();
    missing["campaign_id"] = json!("nope");
    app.put("/v1/campaigns/nope", missing)
        .await
        .assert_problem(404, "not-found");
}

async fn bad_definitions_name_the_field(b: Backend) {
    let app = TestApp::new(b).await;
    let with = |k: &str, v: Value| {
        let mut d = thank_you();
        d[k] = v;
        d
    };
    for (body, field) in [
        (with("campaign_id", json!("winback")), "campaign_id"),
        (
            with("trigger", json!({"type": "full_moon"})),
            "trigger.type",
        ),
        (
            with(
                "templates",
                json!({"en": {"subject": "Hi", "html": "{% if %}", "text": "x"}}),
            ),
            "templates.en.html",
        ),
        (
            with(
                "audience",
                json!({"filter": {"field": "tags", "op": "eq", "value": "vip"}}),
            ),
            "audience.filter.op",
        ),
        (with("holdout_percent", json!(-1)), "holdout_percent"),
        (with("once_per", json!("period")), "once_per"),
    ] {
        let r = app.post("/v1/campaigns", body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), [field], "{body}");
    }
    assert!(
        app.get("/v1/campaigns").await.body["campaigns"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing saved"
    );
}
