//! Broadcast campaign definitions run by the engine, on both stores, over HTTP with a
//! controlled clock: each recipient gets the mail at the broadcast's local time in their own
//! zone, exactly once across reruns, two runners at once, and a pause and resume mid-way; the
//! mails equal the preview's count minus the control group; quiet hours hold a send for a later
//! run; a campaign without an offer sends no coupon; what cannot run says why.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use fanloop_domain::campaigns::holdout::held_out;
use fanloop_tests::{Backend, TestApp, both_stores, mail_header, mail_text, outbox_files, ts};
use serde_json::{Value, json};

both_stores!(
    a_broadcast_reaches_each_recipient_at_local_time_exactly_once,
    the_control_group_is_recorded_not_mailed_and_stable,
    quiet_hours_hold_a_send_for_a_later_run,
    what_cannot_run_says_why,
    the_tenant_default_quiet_hours_apply_when_a_campaign_sets_none,
);

fn vip() -> Value {
    json!({"field": "tags", "op": "contains", "value": "vip"})
}

fn lny(extra: Value) -> Value {
    let mut c = json!({"campaign_id": "lny-2027", "name": "Lunar New Year", "status": "active",
        "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
        "audience": {"filter": vip()},
        "offer": {"value_minor": 888, "currency": "CNY", "valid_days": 14},
        "templates": {
            "en": {"subject": "Happy Lunar New Year, {{ name }}",
                   "html": "<p>{{ coupon.value }}: {{ coupon.code }}</p>",
                   "text": "A gift of {{ coupon.value }}: {{ coupon.code }} until {{ coupon.expires_on }}"},
            "zh-CN": {"subject": "新春快乐，{{ name }}",
                      "html": "<p>{{ coupon.value }}：{{ coupon.code }}</p>",
                      "text": "新春礼券 {{ coupon.value }}：{{ coupon.code }}"}}});
    for (k, v) in extra.as_object().unwrap() {
        c[k] = v.clone();
    }
    c
}

async fn customer(app: &TestApp, id: &str, body: Value) {
    let mut b = json!({"email": format!("{id}@example.com"), "display_name": id,
                       "consent": {"email_marketing": true}});
    for (k, v) in body.as_object().unwrap() {
        b[k] = v.clone();
    }
    let r = app.put(&format!("/v1/customers/{id}"), b).await;
    assert!(r.status.is_success(), "{}", r.body);
}

/// The recipients of the outbox's mails: local part of `To` → how many.
fn mailed(app: &TestApp) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, raw) in outbox_files(&app.outbox) {
        let to = mail_header(&raw, "To").unwrap();
        let local = to
            .trim_start_matches(|c| c != '<')
            .trim_start_matches('<')
            .split('@')
            .next()
            .unwrap()
            .to_owned();
        *out.entry(local).or_default() += 1;
    }
    out
}

/// `(sent, skipped[reason])` of a run report.
fn sent_and(r: &Value, reason: &str) -> (Option<u64>, Option<u64>) {
    (r["sent"].as_u64(), r["skipped"][reason].as_u64())
}

async fn set_status(app: &TestApp, def: &Value, status: &str) {
    let mut d = def.clone();
    d["status"] = json!(status);
    let r = app
        .put(
            &format!("/v1/campaigns/{}", d["campaign_id"].as_str().unwrap()),
            d,
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn a_broadcast_reaches_each_recipient_at_local_time_exactly_once(b: Backend) {
    let app = TestApp::new(b).await;
    customer(
        &app,
        "sh",
        json!({"tags": ["vip"], "locale": "zh-CN", "timezone": "Asia/Shanghai"}),
    )
    .await;
    customer(
        &app,
        "la",
        json!({"tags": ["vip"], "timezone": "America/Los_Angeles"}),
    )
    .await;
    customer(&app, "utc", json!({"tags": ["vip"]})).await;
    customer(&app, "casual", json!({"tags": ["casual"]})).await;
    customer(
        &app,
        "quiet",
        json!({"tags": ["vip"], "consent": {"email_marketing": false}}),
    )
    .await;
    let preview = app
        .post("/v1/segments/preview", json!({"filter": vip()}))
        .await;
    assert_eq!(preview.body["count"], 3, "{}", preview.body);
    let def = lny(json!({}));
    let r = app.post("/v1/campaigns", def.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    // 09:00 in Shanghai: nobody's 10:00 yet.
    let r = app.run_campaign("lny-2027", "2027-02-10T01:00:00Z").await;
    assert_eq!(
        (r["candidates"].as_u64(), r["sent"].as_u64()),
        (Some(0), Some(0))
    );
    // 10:00 in Shanghai, then the same run again.
    let r = app.run_campaign("lny-2027", "2027-02-10T02:00:00Z").await;
    assert_eq!(
        (r["candidates"].as_u64(), r["sent"].as_u64()),
        (Some(1), Some(1)),
        "{r}"
    );
    let r = app.run_campaign("lny-2027", "2027-02-10T02:05:00Z").await;
    assert_eq!(sent_and(&r, "already_sent"), (Some(0), Some(1)));

    // 10:00 UTC (the tenant's zone for "utc"): two runners at once send it once.
    app.clock.set(ts("2027-02-10T10:00:00Z"));
    let (a, b2) = tokio::join!(
        app.post("/v1/campaigns/lny-2027/runs", json!({})),
        app.post("/v1/campaigns/lny-2027/runs", json!({}))
    );
    let sent = a.body["sent"].as_u64().unwrap() + b2.body["sent"].as_u64().unwrap();
    assert_eq!(sent, 1, "{} {}", a.body, b2.body);

    // Paused: runs are refused (a dry run still reports); resumed at 10:00 in Los Angeles.
    set_status(&app, &def, "paused").await;
    app.clock.set(ts("2027-02-10T18:00:00Z"));
    app.post("/v1/campaigns/lny-2027/runs", json!({}))
        .await
        .assert_problem(409, "campaign-not-active");
    let dry = app
        .post("/v1/campaigns/lny-2027/runs", json!({"dry_run": true}))
        .await;
    assert_eq!(
        dry.body["recipients"].as_array().unwrap().len(),
        1,
        "{}",
        dry.body
    );
    assert_eq!(dry.body["recipients"][0]["customer_id"], "la");
    assert_eq!(mailed(&app).len(), 2, "a paused campaign sends nothing");
    set_status(&app, &def, "active").await;
    let r = app.run_campaign("lny-2027", "2027-02-10T18:00:00Z").await;
    assert_eq!(sent_and(&r, "already_sent"), (Some(1), Some(2)), "{r}");
    // A day after the last zone's moment the broadcast is over.
    let r = app.run_campaign("lny-2027", "2027-02-11T18:00:00Z").await;
    assert_eq!(r["candidates"], 0);

    let got = mailed(&app);
    let want: BTreeMap<String, usize> = [("la", 1), ("sh", 1), ("utc", 1)]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
    assert_eq!(
        got, want,
        "each recipient once; as many as the preview counted"
    );

    let log = app.get("/v1/customers/sh/messages").await.body;
    let m = &log["messages"][0];
    assert_eq!(
        (
            m["campaign"].as_str(),
            m["period"].as_str(),
            m["template"].as_str()
        ),
        (Some("lny-2027"), Some("ever"), Some("lny-2027/zh-CN"))
    );
    let code = m["coupon"].as_str().unwrap();
    let files = outbox_files(&app.outbox);
    let raw = &files
        .iter()
        .find(|(n, _)| n.starts_with(m["id"].as_str().unwrap()))
        .unwrap()
        .1;
    let text = mail_text(raw);
    assert!(
        text.contains("新春礼券 8.88 CNY") && text.contains(code),
        "{text}"
    );
    let coupon = app.get(&format!("/v1/coupons/{code}")).await;
    assert_eq!(coupon.status, StatusCode::OK, "{}", coupon.body);
    assert_eq!(
        (
            coupon.body["value_minor"].as_u64(),
            coupon.body["source"].as_str()
        ),
        (Some(888), Some("campaign:lny-2027:ever")),
        "the coupon carries its campaign"
    );
}

async fn the_control_group_is_recorded_not_mailed_and_stable(b: Backend) {
    let app = TestApp::new(b).await;
    let ids: Vec<String> = (0..40).map(|i| format!("fan{i:02}")).collect();
    for id in &ids {
        customer(&app, id, json!({"tags": ["vip"]})).await;
    }
    let def = lny(json!({"holdout_percent": 50}));
    assert_eq!(
        app.post("/v1/campaigns", def).await.status,
        StatusCode::CREATED
    );
    let held: Vec<&String> = ids
        .iter()
        .filter(|id| held_out("lny-2027", id, 50))
        .collect();
    assert!(!held.is_empty() && held.len() < 40);
    let r = app.run_campaign("lny-2027", "2027-02-10T10:00:00Z").await;
    assert_eq!(r["candidates"], 40);
    assert_eq!(
        r["skipped"]["held_out"].as_u64(),
        Some(held.len() as u64),
        "{r}"
    );
    assert_eq!(r["sent"].as_u64(), Some(40 - held.len() as u64));
    let got = mailed(&app);
    for id in &ids {
        assert_eq!(got.contains_key(id.as_str()), !held.contains(&id), "{id}");
    }
    // The control group is recorded in each held-out customer's log, without a coupon.
    let log = app
        .get(&format!("/v1/customers/{}/messages", held[0]))
        .await
        .body;
    assert_eq!(
        (
            log["messages"][0]["status"].as_str(),
            log["messages"][0]["coupon"].is_null()
        ),
        (Some("held_out"), true),
        "{log}"
    );
    // The same group on the next run: nobody new is mailed, the held-out are held out again.
    let again = app.run_campaign("lny-2027", "2027-02-10T11:00:00Z").await;
    assert_eq!(again["skipped"]["held_out"], r["skipped"]["held_out"]);
    assert_eq!(again["sent"], 0);
    assert_eq!(mailed(&app).len(), 40 - held.len());
}

async fn quiet_hours_hold_a_send_for_a_later_run(b: Backend) {
    let app = TestApp::new(b).await;
    customer(
        &app,
        "sh",
        json!({"tags": ["vip"], "timezone": "Asia/Shanghai"}),
    )
    .await;
    customer(
        &app,
        "la",
        json!({"tags": ["vip"], "timezone": "America/Los_Angeles"}),
    )
    .await;
    let late = lny(json!({"campaign_id": "late-night",
        "trigger": {"type": "broadcast", "at": "2027-03-13T23:00"},
        "quiet_hours": {"start": "22:00", "end": "08:00"}, "offer": null}));
    let mut late = late;
    late.as_object_mut().unwrap().remove("offer");
    for t in late["templates"].as_object_mut().unwrap().values_mut() {
        t["html"] = json!("<p>Hello {{ name }}</p>");
        t["text"] = json!("Hello {{ name }}");
    }
    let r = app.post("/v1/campaigns", late).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    // 23:00 in Shanghai (15:00Z): due, but inside the quiet hours.
    let r = app.run_campaign("late-night", "2027-03-13T15:00:00Z").await;
    assert_eq!(sent_and(&r, "quiet_hours"), (Some(0), Some(1)), "{r}");
    // 08:00 in Shanghai (00:00Z on the 14th): sent, without a coupon.
    let r = app.run_campaign("late-night", "2027-03-14T00:00:00Z").await;
    assert_eq!(r["sent"], 1, "{r}");
    let log = app.get("/v1/customers/sh/messages").await.body;
    assert!(log["messages"][0]["coupon"].is_null(), "{log}");
    // Los Angeles: 23:00 PST on the 13th is 07:00Z on the 14th; the clocks spring forward that
    // night, so 08:00 PDT is 15:00Z.
    let r = app.run_campaign("late-night", "2027-03-14T07:00:00Z").await;
    assert_eq!(r["skipped"]["quiet_hours"], 1, "{r}");
    let r = app.run_campaign("late-night", "2027-03-14T14:00:00Z").await;
    assert_eq!(sent_and(&r, "quiet_hours"), (Some(0), Some(1)), "07:00 PDT");
    let r = app.run_campaign("late-night", "2027-03-14T15:00:00Z").await;
    assert_eq!(r["sent"], 1, "08:00 PDT: {r}");
    assert_eq!(mailed(&app).len(), 2);
    let text = mail_text(&outbox_files(&app.outbox)[0].1);
    assert!(text.contains("Hello"), "{text}");
}

async fn what_cannot_run_says_why(b: Backend) {
    let app = TestApp::new(b).await;
    customer(&app, "sh", json!({"tags": ["vip"]})).await;
    // A template that reads the coupon of a campaign without an offer is refused on save.
    let mut no_offer = lny(json!({"campaign_id": "no-offer"}));
    no_offer.as_object_mut().unwrap().remove("offer");
    let r = app.post("/v1/campaigns", no_offer).await;
    r.assert_problem(422, "validation-error");
    assert!(
        r.fields().contains(&"templates.en.text".to_owned()),
        "{}",
        r.body
    );
    // An audience naming a segment that is not saved is refused on save.
    let r = app
        .post(
            "/v1/campaigns",
            lny(json!({"audience": {"segment_id": "nope"}})),
        )
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["audience.segment_id"]);
    // A segment deleted after the campaign was saved: the run says so.
    let seg = app
        .post(
            "/v1/segments",
            json!({"segment_id": "vips", "name": "VIPs", "filter": vip()}),
        )
        .await;
    assert_eq!(seg.status, StatusCode::CREATED, "{}", seg.body);
    let r = app
        .post(
            "/v1/campaigns",
            lny(json!({"audience": {"segment_id": "vips"}})),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.clock.set(ts("2027-02-10T10:00:00Z"));
    let dry = app
        .post("/v1/campaigns/lny-2027/runs", json!({"dry_run": true}))
        .await;
    assert_eq!(
        dry.body["recipients"][0]["customer_id"], "sh",
        "{}",
        dry.body
    );
    app.json(axum::http::Method::DELETE, "/v1/segments/vips", None)
        .await;
    app.post("/v1/campaigns/lny-2027/runs", json!({}))
        .await
        .assert_problem(409, "segment-missing");
    // A draft does not send; an event-triggered campaign is not run by hand; no such campaign.
    let draft = lny(json!({"campaign_id": "draft", "status": "draft"}));
    assert_eq!(
        app.post("/v1/campaigns", draft).await.status,
        StatusCode::CREATED
    );
    app.post("/v1/campaigns/draft/runs", json!({}))
        .await
        .assert_problem(409, "campaign-not-active");
    let thanks = json!({"campaign_id": "thanks", "name": "Thanks", "status": "active",
        "trigger": {"type": "purchase"},
        "templates": {"en": {"subject": "Thanks", "html": "<p>Thanks</p>", "text": "Thanks"}}});
    assert_eq!(
        app.post("/v1/campaigns", thanks).await.status,
        StatusCode::CREATED
    );
    app.post("/v1/campaigns/thanks/runs", json!({}))
        .await
        .assert_problem(409, "campaign-not-runnable");
    app.post("/v1/campaigns/nope/runs", json!({}))
        .await
        .assert_problem(404, "not-found");
    assert!(outbox_files(&app.outbox).is_empty());
}

async fn the_tenant_default_quiet_hours_apply_when_a_campaign_sets_none(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .put(
            "/v1/settings",
            json!({"campaigns": {"quiet_hours": {"start": "22:00", "end": "08:00"}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = app
        .put(
            "/v1/settings",
            json!({"campaigns": {"quiet_hours": {"start": "25:00", "end": "08:00"}}}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    customer(&app, "utc", json!({"tags": ["vip"]})).await;
    let late = lny(
        json!({"campaign_id": "late", "trigger": {"type": "broadcast", "at": "2027-02-10T23:00"}}),
    );
    assert_eq!(
        app.post("/v1/campaigns", late).await.status,
        StatusCode::CREATED
    );
    let r = app.run_campaign("late", "2027-02-10T23:00:00Z").await;
    assert_eq!(sent_and(&r, "quiet_hours"), (Some(0), Some(1)), "{r}");
    let r = app.run_campaign("late", "2027-02-11T08:00:00Z").await;
    assert_eq!(r["sent"], 1, "{r}");
}
