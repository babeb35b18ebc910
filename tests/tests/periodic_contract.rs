//! A definition's periodic triggers on both stores, with a controlled clock: `birthday` mails
//! the audience's customers on their birthday at the tenant's send hour in their zone, once per
//! year; `inactivity {days}` mails those `days` without activity, once per lapse. Read from the
//! same indexes as the built-in campaigns, never a scan.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores, mail_header, outbox_files, ts};
use serde_json::{Value, json};

both_stores!(birthday_and_inactivity_definitions_send_once_per_period);

fn def(id: &str, trigger: Value) -> Value {
    json!({"campaign_id": id, "name": id, "status": "active", "trigger": trigger,
        "audience": {"filter": {"field": "tags", "op": "contains", "value": "vip"}},
        "offer": {"value_minor": 500, "currency": "USD", "valid_days": 14},
        "frequency_cap_exempt": true,
        "templates": {"en": {"subject": id, "html": "<p>{{ coupon.code }}</p>", "text": "{{ coupon.code }}"}}})
}

fn subjects_to(app: &TestApp, local: &str) -> Vec<String> {
    outbox_files(&app.outbox)
        .iter()
        .filter(|(_, raw)| {
            mail_header(raw, "To")
                .unwrap()
                .contains(&format!("{local}@"))
        })
        .map(|(_, raw)| mail_header(raw, "Subject").unwrap())
        .collect()
}

async fn birthday_and_inactivity_definitions_send_once_per_period(b: Backend) {
    let app = TestApp::new(b).await;
    // The built-in birthday mail is off here, so only the definition sends.
    let r = app
        .put(
            "/v1/settings",
            json!({"campaigns": {"birthday": {"enabled": false}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (id, tags, birthday) in [
        ("vip-bday", json!(["vip"]), Some("--11-25")),
        ("casual-bday", json!(["casual"]), Some("--11-25")),
        ("vip-idle", json!(["vip"]), None),
    ] {
        let mut body = json!({"email": format!("{id}@example.com"), "tags": tags,
                              "consent": {"email_marketing": true}});
        if let Some(b) = birthday {
            body["birthday"] = json!(b);
        }
        let r = app.put(&format!("/v1/customers/{id}"), body).await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    for d in [
        def("bday", json!({"type": "birthday"})),
        def("miss-you", json!({"type": "inactivity", "days": 30})),
    ] {
        let r = app.post("/v1/campaigns", d).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }

    // 25 November, 09:00 UTC: before the send hour (10:00) nobody is due.
    let r = app.run_campaign("bday", "2026-11-25T09:00:00Z").await;
    assert_eq!(r["candidates"], 0, "{r}");
    let r = app.run_campaign("bday", "2026-11-25T10:00:00Z").await;
    assert_eq!(
        (r["candidates"].as_u64(), r["sent"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    let r = app.run_campaign("bday", "2026-11-25T11:00:00Z").await;
    assert_eq!(r["sent"], 0, "once a year: {r}");
    assert_eq!(subjects_to(&app, "vip-bday"), ["bday"]);
    assert!(
        subjects_to(&app, "casual-bday").is_empty(),
        "not in the audience"
    );
    let log = app.get("/v1/customers/vip-bday/messages").await.body;
    assert_eq!(log["messages"][0]["period"], "2026");

    // 30 days after the last activity (the profiles were created on 22 November): the vips
    // lapsed; the hourly runs send each once.
    app.clock.set(ts("2026-12-22T10:00:00Z"));
    app.campaigns
        .run_defined_all(None, Some(&app.tenant))
        .await
        .unwrap();
    app.clock.set(ts("2026-12-22T11:00:00Z"));
    app.campaigns
        .run_defined_all(None, Some(&app.tenant))
        .await
        .unwrap();
    assert_eq!(subjects_to(&app, "vip-idle"), ["miss-you"]);
    assert_eq!(subjects_to(&app, "vip-bday"), ["bday", "miss-you"]);
    assert!(subjects_to(&app, "casual-bday").is_empty());
}
