//! Campaign reports (`GET /v1/campaigns/{id}/report`) on both stores with a controlled clock:
//! a broadcast with a control group, a customer held back by the frequency cap, purchases
//! before, inside and after the attribution window (each delivered twice, once two at a time),
//! and coupon uses (one retried) — the report's figures equal those computed here from the
//! test's own events. Quiet hours show as a skip until the send, then as sent.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use fanloop_domain::CustomerId;
use fanloop_domain::campaigns::holdout::held_out;
use fanloop_domain::campaigns::triggers::{TriggerEvent, TriggerRecord};
use fanloop_tests::{Backend, TestApp, both_stores, ts};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};

both_stores!(
    the_report_equals_what_the_events_say,
    a_quiet_hours_skip_moves_to_sent,
    bad_report_requests_say_which_part,
);

const HOLDOUT: u8 = 30;
const WINDOW_DAYS: i64 = 5;

fn broadcast(id: &str, at: &str, tag: &str, extra: Value) -> Value {
    let mut c = json!({"campaign_id": id, "name": id, "status": "active",
        "trigger": {"type": "broadcast", "at": at},
        "audience": {"filter": {"field": "tags", "op": "contains", "value": tag}},
        "templates": {"en": {"subject": "Hello {{ name }}", "html": "<p>Hi</p>", "text": "Hi"}}});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

async fn customer(app: &TestApp, id: &str, tags: &[&str], consent: bool) {
    let body = json!({"email": format!("{id}@example.com"), "display_name": id, "tags": tags,
                      "consent": {"email_marketing": consent}});
    let r = app.put(&format!("/v1/customers/{id}"), body).await;
    assert!(r.status.is_success(), "{}", r.body);
}

async fn define(app: &TestApp, def: Value) {
    let r = app.post("/v1/campaigns", def).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// A purchase at `at` (the clock set there), and its trigger record as the store wrote it.
async fn purchase(app: &TestApp, id: &str, event: &str, at: Timestamp) -> TriggerRecord {
    app.clock.set(at);
    let r = app
        .post(
            &format!("/v1/customers/{id}/points/accruals"),
            json!({"event_id": event, "kind": "purchase", "amount_minor": 1999, "currency": "USD"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    TriggerRecord {
        id: format!("purchase:accrual:{event}"),
        customer_id: CustomerId::parse(id).unwrap(),
        occurred_at: at,
        event: TriggerEvent::Purchase {
            amount_minor: Some(1999),
            currency: Some("USD".into()),
            item: None,
        },
    }
}

async fn coupon_of(app: &TestApp, id: &str, campaign: &str) -> String {
    let log = app.get(&format!("/v1/customers/{id}/messages")).await.body;
    log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["campaign"] == campaign)
        .and_then(|m| m["coupon"].as_str())
        .unwrap_or_else(|| panic!("{id} has no coupon of {campaign}: {log}"))
        .to_owned()
}

async fn redeem(app: &TestApp, code: &str, id: &str, order: &str, amount: Option<u64>) -> u16 {
    let mut body = json!({"customer_id": id, "order_id": order});
    if let Some(a) = amount {
        body["amount_minor"] = json!(a);
    }
    app.post(&format!("/v1/coupons/{code}/redemptions"), body)
        .await
        .status
        .as_u16()
}

async fn report(app: &TestApp, id: &str, query: &str) -> Value {
    let r = app.get(&format!("/v1/campaigns/{id}/report{query}")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn the_report_equals_what_the_events_say(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .put(
            "/v1/settings",
            json!({"campaigns": {"frequency_cap": {"max_mails": 1, "per_days": 7}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let fans: Vec<String> = (0..40).map(|i| format!("c{i:02}")).collect();
    for id in &fans {
        customer(&app, id, &["fan"], true).await;
    }
    customer(&app, "nomail", &["fan"], false).await;
    // The first of these outside the control group: mailed a teaser two days before, so the
    // cap (1 mail a week) holds the broadcast back.
    let capped = (0..10)
        .map(|i| format!("capped{i}"))
        .find(|id| !held_out("spring", id, HOLDOUT))
        .unwrap();
    customer(&app, &capped, &["fan", "teaser"], true).await;
    define(
        &app,
        broadcast("teaser", "2027-02-08T10:00", "teaser", json!({})),
    )
    .await;
    assert_eq!(
        app.run_campaign("teaser", "2027-02-08T10:00:00Z").await["sent"],
        1
    );
    define(
        &app,
        broadcast(
            "spring",
            "2027-02-10T10:00",
            "fan",
            json!({"holdout_percent": HOLDOUT, "attribution_days": WINDOW_DAYS,
                   "offer": {"value_minor": 500, "currency": "USD", "valid_days": 30},
                   "templates": {"en": {"subject": "Spring", "html": "<p>{{ coupon.code }}</p>",
                                        "text": "{{ coupon.code }}"}}}),
        ),
    )
    .await;
    let (held, mailed): (Vec<&String>, Vec<&String>) =
        fans.iter().partition(|id| held_out("spring", id, HOLDOUT));
    assert!(held.len() >= 3 && mailed.len() >= 6, "{held:?}");

    // Two runners at once, then a rerun: each customer is counted once.
    let mail_at = ts("2027-02-10T10:00:00Z");
    app.clock.set(mail_at);
    let (a, b2) = tokio::join!(
        app.post("/v1/campaigns/spring/runs", json!({})),
        app.post("/v1/campaigns/spring/runs", json!({}))
    );
    assert_eq!(
        a.body["sent"].as_u64().unwrap() + b2.body["sent"].as_u64().unwrap(),
        mailed.len() as u64
    );
    app.run_campaign("spring", "2027-02-10T11:00:00Z").await;

    // The purchases: (customer, when).
    let at = |s: &str| ts(s);
    let until = mail_at + SignedDuration::from_hours(24 * WINDOW_DAYS);
    let purchases: Vec<(&str, Timestamp)> = vec![
        (mailed[0], at("2027-02-11T12:00:00Z")),
        (mailed[0], at("2027-02-12T12:00:00Z")),
        (mailed[1], until - SignedDuration::from_mins(1)),
        (mailed[2], until + SignedDuration::from_mins(1)),
        (mailed[3], at("2027-02-09T12:00:00Z")),
        (mailed[4], at("2027-02-11T08:00:00Z")),
        (mailed[5], at("2027-02-11T09:00:00Z")),
        (held[0], at("2027-02-12T08:00:00Z")),
        (held[1], at("2027-02-14T08:00:00Z")),
        (held[2], at("2027-02-16T08:00:00Z")),
        (capped.as_str(), at("2027-02-11T08:00:00Z")),
    ];
    let mut in_order = purchases.clone();
    in_order.sort_by_key(|(_, t)| *t);
    for (i, (id, t)) in in_order.iter().enumerate() {
        let record = purchase(&app, id, &format!("o{i}"), *t).await;
        // Delivered twice, at once; the campaigns run on each as they would.
        let (x, y) = tokio::join!(
            app.campaigns.handle_trigger(&app.tenant, &record),
            app.campaigns.handle_trigger(&app.tenant, &record)
        );
        let again = app.campaigns.handle_trigger(&app.tenant, &record).await;
        let converted = x.unwrap().converted + y.unwrap().converted + again.unwrap().converted;
        assert!(
            converted <= 1,
            "{id}: converted {converted} times by one purchase"
        );
    }
    let converted = |group: &[&String]| -> u64 {
        let ids: BTreeSet<&str> = purchases
            .iter()
            .filter(|(id, t)| {
                group.iter().any(|g| g.as_str() == *id) && *t >= mail_at && *t <= until
            })
            .map(|(id, _)| *id)
            .collect();
        ids.len() as u64
    };

    // Coupon uses: one retried (counted once), one without an amount.
    app.clock.set(at("2027-02-12T13:00:00Z"));
    let uses: Vec<(&str, Option<u64>)> = vec![
        (mailed[0], Some(4_200)),
        (mailed[4], Some(1_000)),
        (mailed[1], None),
    ];
    for (id, amount) in &uses {
        let code = coupon_of(&app, id, "spring").await;
        assert_eq!(
            redeem(&app, &code, id, &format!("order-{id}"), *amount).await,
            201
        );
    }
    // The same order twice at once: one use, counted once.
    let code = coupon_of(&app, mailed[5], "spring").await;
    let order = format!("order-{}", mailed[5]);
    let (x, y) = tokio::join!(
        redeem(&app, &code, mailed[5], &order, Some(700)),
        redeem(&app, &code, mailed[5], &order, Some(700))
    );
    assert_eq!(BTreeSet::from([x, y]), BTreeSet::from([200, 201]));
    let uses: Vec<(&str, Option<u64>)> = [uses, vec![(mailed[5], Some(700))]].concat();
    let code = coupon_of(&app, mailed[0], "spring").await;
    assert_eq!(
        redeem(
            &app,
            &code,
            mailed[0],
            &format!("order-{}", mailed[0]),
            Some(4_200)
        )
        .await,
        200,
        "a retry of the same order"
    );
    let revenue: u64 = uses.iter().filter_map(|(_, a)| *a).sum();

    let r = report(&app, "spring", "?from=2027-02-09&to=2027-02-11").await;
    let day = &r["days"][1];
    assert_eq!(day["day"], "2027-02-10", "{r}");
    let (m, h) = (mailed.len() as u64, held.len() as u64);
    let (cm, ch) = (converted(&mailed), converted(&held));
    assert_eq!((cm, ch), (4, 2), "the events say so");
    let want = json!({
        "day": "2027-02-10",
        "eligible": m + h + 1,
        "held_out": h,
        "sent": m,
        "pending": 0,
        "skipped": {"suppressed": 1},
        "coupons_redeemed": uses.len(),
        "revenue_minor": revenue,
        "converted_mailed": cm,
        "converted_held_out": ch,
        "conversion_mailed": cm as f64 / m as f64,
        "conversion_held_out": ch as f64 / h as f64,
        "lift": cm as f64 / m as f64 - ch as f64 / h as f64,
    });
    assert_eq!(day, &want, "{r}");
    let mut totals = want.clone();
    totals.as_object_mut().unwrap().remove("day");
    assert_eq!(r["totals"], totals);
    assert_eq!(r["attribution_days"], WINDOW_DAYS);
    assert_eq!(r["days"][0]["eligible"], 0);
    assert_eq!(r["days"].as_array().unwrap().len(), 3);

    let teaser = report(&app, "teaser", "?from=2027-02-08&to=2027-02-08").await;
    assert_eq!(
        (
            &teaser["totals"]["sent"],
            &teaser["totals"]["converted_mailed"]
        ),
        (&json!(1), &json!(1)),
        "the capped customer bought within the teaser's default 7 days: {teaser}"
    );
}

async fn a_quiet_hours_skip_moves_to_sent(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .put(
            "/v1/customers/sh",
            json!({"email": "sh@example.com", "timezone": "Asia/Shanghai", "tags": ["fan"],
                   "consent": {"email_marketing": true}}),
        )
        .await;
    assert!(r.status.is_success());
    define(
        &app,
        broadcast(
            "late",
            "2027-03-13T23:00",
            "fan",
            json!({"quiet_hours": {"start": "22:00", "end": "08:00"}}),
        ),
    )
    .await;
    // 23:00 in Shanghai: held by the quiet hours, twice (recorded once).
    for at in ["2027-03-13T15:00:00Z", "2027-03-13T16:00:00Z"] {
        let r = app.run_campaign("late", at).await;
        assert_eq!(r["skipped"]["quiet_hours"], 1, "{r}");
    }
    let q = "?from=2027-03-13&to=2027-03-14";
    let r = report(&app, "late", q).await;
    assert_eq!(r["totals"]["skipped"], json!({"quiet_hours": 1}), "{r}");
    assert_eq!(r["totals"]["eligible"], 1);
    let log = app.get("/v1/customers/sh/messages").await.body;
    assert_eq!(log["messages"][0]["status"], "skipped", "{log}");
    assert_eq!(log["messages"][0]["reason"], "quiet_hours", "{log}");
    // 08:00 in Shanghai: sent; the report counts it on its day, the skip is gone.
    let r = app.run_campaign("late", "2027-03-14T00:00:00Z").await;
    assert_eq!(r["sent"], 1, "{r}");
    let r = report(&app, "late", q).await;
    assert_eq!(r["totals"]["skipped"], json!({}), "{r}");
    assert_eq!(
        (&r["totals"]["sent"], &r["totals"]["eligible"]),
        (&json!(1), &json!(1))
    );
    assert_eq!(r["days"][1]["sent"], 1, "{r}");
    let log = app.get("/v1/customers/sh/messages").await.body;
    assert_eq!(log["messages"].as_array().unwrap().len(), 1, "{log}");
    assert_eq!(log["messages"][0]["status"], "sent", "{log}");
}

async fn bad_report_requests_say_which_part(b: Backend) {
    let app = TestApp::new(b).await;
    app.clock.set(ts("2027-02-10T10:00:00Z"));
    app.get("/v1/campaigns/nope/report")
        .await
        .assert_problem(404, "not-found");
    let r = app
        .get("/v1/campaigns/birthday/report?from=2027-13-01")
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["from"]);
    let r = app
        .get("/v1/campaigns/birthday/report?from=2027-02-11&to=2027-02-10")
        .await;
    r.assert_problem(422, "validation-error");
    app.get("/v1/campaigns/not%20an%20id/report")
        .await
        .assert_problem(422, "validation-error");
    // A built-in campaign that sent nothing: 30 days of zeros up to today (UTC).
    let r = report(&app, "birthday", "").await;
    assert_eq!(r["days"].as_array().unwrap().len(), 30);
    assert_eq!(r["to"], "2027-02-10");
    assert_eq!(r["totals"]["eligible"], 0);
    assert!(r["totals"]["lift"].is_null());
}
