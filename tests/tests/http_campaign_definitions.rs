//! Campaign definitions over HTTP on both stores: saved with every part checked (templates
//! rendered with sample data), read, replaced, archived; bad ones named by their path and not
//! saved. The built-in campaigns read and changed as definitions, kept in settings.
//! (Sending them: broadcast_contract.rs.)

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    definitions_are_saved_replaced_and_archived,
    bad_definitions_name_the_field,
    the_built_in_campaigns_are_definitions_kept_in_settings,
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
    assert_eq!(
        ids,
        ["birthday", "winback", "recovery", "lny-2027", "thank-you"]
    );

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
    assert_eq!(
        app.get("/v1/campaigns").await.body["campaigns"]
            .as_array()
            .unwrap()
            .len(),
        3,
        "nothing saved: the built-ins only"
    );
}

async fn the_built_in_campaigns_are_definitions_kept_in_settings(b: Backend) {
    let app = TestApp::new(b).await;
    let list = app.get("/v1/campaigns").await.body;
    let builtins: Vec<(&str, &str, bool)> = list["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["campaign_id"].as_str().unwrap(),
                c["status"].as_str().unwrap(),
                c["definition"]["builtin"] == true,
            )
        })
        .collect();
    assert_eq!(
        builtins,
        [
            ("birthday", "active", true),
            ("winback", "active", true),
            ("recovery", "paused", true)
        ],
        "recovery is off until the tenant turns it on"
    );
    let winback = app.get("/v1/campaigns/winback").await.body;
    assert_eq!(
        winback["definition"]["trigger"],
        json!({"type": "inactivity", "days": 30, "cooldown_days": 90})
    );
    assert_eq!(winback["definition"]["offer"]["valid_days"], 14);

    // The body GET returns goes back unchanged; then a change of what it names.
    let birthday = app.get("/v1/campaigns/birthday").await.body;
    let r = app
        .put("/v1/campaigns/birthday", birthday["definition"].clone())
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body, birthday);
    let r = app
        .put(
            "/v1/campaigns/winback",
            json!({"status": "paused", "trigger": {"type": "inactivity", "days": 45}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["status"], "paused");
    let s = app.get("/v1/settings").await.body;
    assert_eq!(
        (
            &s["campaigns"]["winback"]["enabled"],
            &s["campaigns"]["winback"]["inactive_days"],
            &s["campaigns"]["winback"]["cooldown_days"]
        ),
        (&json!(false), &json!(45), &json!(90)),
        "what the body names changes in settings, the rest stays"
    );
    let r = app
        .put(
            "/v1/campaigns/recovery",
            json!({"status": "active", "cooldown_days": 10,
                   "templates": {"en": {"subject": "Sorry, {{ name }}"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let s = app.get("/v1/settings").await.body;
    assert_eq!(s["campaigns"]["recovery"]["enabled"], true);
    assert_eq!(s["campaigns"]["recovery"]["cooldown_days"], 10);
    assert_eq!(
        s["campaigns"]["recovery"]["templates"]["en"]["subject"],
        "Sorry, {{ name }}"
    );

    // What a built-in does not have, or cannot be, is refused by name; nothing is written.
    let before = app.get("/v1/settings").await.body;
    for (body, field) in [
        (json!({"holdout_percent": 10}), "holdout_percent"),
        (json!({"status": "draft"}), "status"),
        (json!({"trigger": {"type": "purchase"}}), "trigger.type"),
        (json!({"trigger": {"days": 0}}), "trigger.days"),
        (json!({"campaign_id": "winback"}), "campaign_id"),
        (
            json!({"offer": {"value_minor": 0, "currency": "USD", "valid_days": 7}}),
            "offer",
        ),
        (json!({"offer": {"value_minor": "many"}}), "offer"),
        (
            json!({"templates": {"en": {"subject": "{{ oops"}}}),
            "templates.en.subject",
        ),
        (json!({"cooldown_days": 5}), "cooldown_days"),
    ] {
        let r = app.put("/v1/campaigns/birthday", body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), [field], "{body}: {}", r.body);
    }
    assert_eq!(app.get("/v1/settings").await.body, before);
    app.json(Method::DELETE, "/v1/campaigns/birthday", None)
        .await
        .assert_problem(409, "builtin-campaign");

    // The engine sends what the definition now says: the birthday coupon changed above is
    // the one a birthday mail carries.
    let r = app
        .put(
            "/v1/campaigns/birthday",
            json!({"offer": {"value_minor": 900, "currency": "EUR", "valid_days": 10}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .put(
            "/v1/customers/bday",
            json!({"email": "bday@example.com", "birthday": "--11-22", "timezone": "UTC",
                   "consent": {"email_marketing": true}}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
    let run = app.run_campaign("birthday", "2026-11-22T10:00:00Z").await;
    assert_eq!(run["sent"], 1, "{run}");
    let log = app.get("/v1/customers/bday/messages").await.body;
    let code = log["messages"][0]["coupon"].as_str().unwrap().to_owned();
    let coupon = app.get(&format!("/v1/coupons/{code}")).await.body;
    assert_eq!(
        (&coupon["value_minor"], &coupon["currency"]),
        (&json!(900), &json!("EUR")),
        "{coupon}"
    );
}
