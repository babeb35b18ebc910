//! Surveys on both stores, through the assembled HTTP service: exactly-once counting under
//! retries and concurrency, NPS/CSAT math, tenant-local days, segments, follow-ups, recovery
//! mails, export and erasure.

use std::sync::Arc;

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores, mail_text, outbox_files, ts};
use serde_json::{Value, json};

both_stores!(
    duplicates_count_once_sequential_and_concurrent,
    nps_at_the_edges_and_empty_ranges,
    days_are_the_tenants_across_time_zones,
    segments_by_tier_and_lifecycle,
    unhappy_answers_open_follow_ups_for_staff,
    recovery_mail_once_per_cooldown_and_only_with_consent,
    responses_count_as_activity_and_follow_export_and_erasure,
);

async fn summary(app: &TestApp, survey: &str, query: &str) -> Value {
    let r = app
        .get(&format!("/v1/surveys/{survey}/summary{query}"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn respond(app: &TestApp, survey: &str, body: Value) -> (StatusCode, Value) {
    let r = app
        .post(&format!("/v1/surveys/{survey}/responses"), body)
        .await;
    (r.status, r.body)
}

async fn duplicates_count_once_sequential_and_concurrent(b: Backend) {
    let app = Arc::new(TestApp::new(b).await);
    // Sequential: the same answer three times is one response.
    let body = json!({"response_id": "r-seq", "nps": 10, "csat": 5, "comment": "great match"});
    let (s1, first) = respond(&app, "s1", body.clone()).await;
    assert_eq!(s1, StatusCode::CREATED, "{first}");
    for _ in 0..2 {
        let (s, again) = respond(&app, "s1", body.clone()).await;
        assert_eq!(s, StatusCode::OK);
        assert_eq!(again, first, "a retry answers the stored response");
    }
    // The same id with another answer is refused and counts nothing.
    let (s, problem) = respond(&app, "s1", json!({"response_id": "r-seq", "nps": 0})).await;
    assert_eq!(s, StatusCode::CONFLICT, "{problem}");
    // Concurrent: 20 answers, each sent three times at once, one batch repeating five of them.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..20 {
        for _ in 0..3 {
            let app = app.clone();
            tasks.spawn(async move {
                respond(
                    &app,
                    "s1",
                    json!({"response_id": format!("r-{i}"), "nps": i % 11, "csat": 1 + i % 5}),
                )
                .await
                .0
            });
        }
    }
    let batch: Vec<Value> = (0..5)
        .map(|i| json!({"response_id": format!("r-{i}"), "nps": i % 11, "csat": 1 + i % 5}))
        .collect();
    let batch_app = app.clone();
    let batch_task = tokio::spawn(async move {
        batch_app
            .post(
                "/v1/surveys/s1/responses/batch",
                json!({"responses": batch}),
            )
            .await
    });
    let mut created = 0;
    while let Some(s) = tasks.join_next().await {
        match s.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
    }
    let batch = batch_task.await.unwrap();
    assert_eq!(batch.status, StatusCode::OK, "{}", batch.body);
    created += batch.body["created"].as_u64().unwrap();
    assert_eq!(created, 20, "each response is created exactly once");
    assert_eq!(
        batch.body["created"].as_u64().unwrap() + batch.body["duplicates"].as_u64().unwrap(),
        5
    );

    let s = summary(&app, "s1", "?from=2026-11-22&to=2026-11-22").await;
    assert_eq!(s["responses"], 21);
    // NPS of r-seq (10) and r-0..r-19 with scores i % 11: promoters 9,10,9(=20%11? no: 20 is
    // not sent) — count them from the same rule instead of by hand.
    let scores: Vec<u64> = std::iter::once(10).chain((0..20).map(|i| i % 11)).collect();
    let promoters = scores.iter().filter(|s| **s >= 9).count() as u64;
    let detractors = scores.iter().filter(|s| **s <= 6).count() as u64;
    assert_eq!(s["nps"]["responses"], 21);
    assert_eq!(s["nps"]["promoters"], promoters);
    assert_eq!(s["nps"]["detractors"], detractors);
    let csat: Vec<u64> = std::iter::once(5)
        .chain((0..20).map(|i| 1 + i % 5))
        .collect();
    assert_eq!(s["csat"]["responses"], 21);
    assert_eq!(s["csat"]["sum"], csat.iter().sum::<u64>());
    assert_eq!(
        s["csat"]["satisfied"],
        csat.iter().filter(|c| **c >= 4).count() as u64
    );
    // Every unhappy answer opened exactly one follow-up, duplicates none.
    let unhappy = (0..20u64).filter(|i| i % 11 <= 6 || i % 5 < 2).count();
    let f = app.get("/v1/followups?status=open&limit=100").await;
    assert_eq!(
        f.body["items"].as_array().unwrap().len(),
        unhappy,
        "{}",
        f.body
    );
}

async fn nps_at_the_edges_and_empty_ranges(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 0..4 {
        respond(
            &app,
            "fans",
            json!({"response_id": format!("p{i}"), "nps": 9 + i % 2}),
        )
        .await;
        respond(
            &app,
            "haters",
            json!({"response_id": format!("d{i}"), "nps": i * 2}),
        )
        .await;
    }
    let fans = summary(&app, "fans", "").await;
    assert_eq!(fans["nps"]["score"], 100);
    assert_eq!(fans["nps"]["promoters"], 4);
    let haters = summary(&app, "haters", "").await;
    assert_eq!(haters["nps"]["score"], -100);
    assert_eq!(haters["nps"]["detractors"], 4);
    // No answers in the range: no score, not a score of 0.
    let empty = summary(&app, "fans", "?from=2026-10-01&to=2026-10-31").await;
    assert_eq!(empty["responses"], 0);
    assert_eq!(empty["nps"]["score"], Value::Null);
    assert_eq!(empty["csat"]["average"], Value::Null);
    assert_eq!(empty["days"].as_array().unwrap().len(), 31);
    let unknown = summary(&app, "never-asked", "").await;
    assert_eq!(unknown["nps"]["score"], Value::Null);
    assert_eq!(
        unknown["days"].as_array().unwrap().len(),
        30,
        "default: 30 days"
    );
}

async fn days_are_the_tenants_across_time_zones(b: Backend) {
    // Two tenants, one in Shanghai (UTC+8), one in Los Angeles (UTC−8), get the same answers.
    let shanghai = TestApp::new(b.clone()).await;
    let la = TestApp::new(b).await;
    for (app, tz) in [(&shanghai, "Asia/Shanghai"), (&la, "America/Los_Angeles")] {
        let r = app.put("/v1/settings", json!({"timezone": tz})).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        for (id, at, nps) in [
            ("a", "2026-11-20T15:30:00Z", 10), // SH 11-20 23:30, LA 11-20 07:30
            ("b", "2026-11-20T16:30:00Z", 0),  // SH 11-21 00:30, LA 11-20 08:30
            ("c", "2026-11-21T07:30:00Z", 8),  // SH 11-21 15:30, LA 11-20 23:30
            ("d", "2026-11-21T08:30:00Z", 9),  // SH 11-21 16:30, LA 11-21 00:30
        ] {
            let (s, body) = respond(
                app,
                "live",
                json!({"response_id": id, "nps": nps, "submitted_at": at}),
            )
            .await;
            assert_eq!(s, StatusCode::CREATED, "{body}");
        }
    }
    let sh = summary(&shanghai, "live", "?from=2026-11-20&to=2026-11-21").await;
    let days: Vec<(String, u64, Value)> = sh["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["date"].as_str().unwrap().to_owned(),
                d["responses"].as_u64().unwrap(),
                d["nps"]["score"].clone(),
            )
        })
        .collect();
    assert_eq!(
        days,
        vec![
            ("2026-11-20".into(), 1, json!(100)),
            ("2026-11-21".into(), 3, json!(0)),
        ]
    );
    assert_eq!(sh["timezone"], "Asia/Shanghai");
    let la_days = summary(&la, "live", "?from=2026-11-20&to=2026-11-21").await;
    assert_eq!(la_days["days"][0]["responses"], 3);
    assert_eq!(la_days["days"][1]["responses"], 1);
    // One day in each tenant's calendar.
    let sh_21 = summary(&shanghai, "live", "?from=2026-11-21&to=2026-11-21").await;
    assert_eq!(
        (sh_21["responses"].clone(), sh_21["nps"]["score"].clone()),
        (json!(3), json!(0))
    );
    let la_20 = summary(&la, "live", "?from=2026-11-20&to=2026-11-20").await;
    assert_eq!(
        (la_20["responses"].clone(), la_20["nps"]["score"].clone()),
        (json!(3), json!(0))
    );
    // The default range ends today in the tenant's zone: at 08:00Z it is 16:00 on the 22nd in
    // Shanghai, 00:00 on the 22nd in Los Angeles.
    assert_eq!(summary(&shanghai, "live", "").await["to"], "2026-11-22");
    assert_eq!(summary(&la, "live", "").await["to"], "2026-11-22");
}

async fn segments_by_tier_and_lifecycle(b: Backend) {
    let app = TestApp::new(b).await;
    // An old, inactive customer (churn) and a new one who spent enough for the "normal" tier.
    app.clock.set(ts("2026-03-01T00:00:00Z"));
    assert_eq!(
        app.put("/v1/customers/old", json!({})).await.status,
        StatusCode::CREATED
    );
    app.clock.set(ts("2026-11-22T08:00:00Z"));
    assert_eq!(
        app.put("/v1/customers/new", json!({})).await.status,
        StatusCode::CREATED
    );
    let r = app
        .post(
            "/v1/customers/new/points/accruals",
            json!({"event_id": "o1", "kind": "purchase", "amount_minor": 20000, "currency": "USD"}),
        )
        .await;
    assert_eq!(r.body["tier"], "normal", "{}", r.body);
    respond(
        &app,
        "s",
        json!({"response_id": "1", "customer_id": "old", "nps": 2}),
    )
    .await;
    respond(
        &app,
        "s",
        json!({"response_id": "2", "customer_id": "new", "nps": 10}),
    )
    .await;
    respond(
        &app,
        "s",
        json!({"response_id": "3", "customer_id": "new", "nps": 7}),
    )
    .await;
    respond(&app, "s", json!({"response_id": "4", "nps": 0})).await;
    let s = summary(&app, "s", "").await;
    assert_eq!(s["nps"]["responses"], 4);
    let tiers = &s["segments"]["by_tier"];
    assert_eq!(tiers["potential"]["detractors"], 1);
    assert_eq!(tiers["potential"]["score"], -100);
    assert_eq!(tiers["normal"]["promoters"], 1);
    assert_eq!(tiers["normal"]["passives"], 1);
    assert_eq!(tiers["normal"]["score"], 50);
    let stages = &s["segments"]["by_lifecycle"];
    assert_eq!(stages["churn"]["score"], -100, "{stages}");
    assert_eq!(stages["acquisition"]["responses"], 2);
    assert_eq!(
        tiers
            .as_object()
            .unwrap()
            .values()
            .map(|v| v["responses"].as_u64().unwrap())
            .sum::<u64>(),
        3,
        "anonymous answers have no segment"
    );
}

async fn unhappy_answers_open_follow_ups_for_staff(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/c1", json!({})).await;
    let (_, happy) = respond(&app, "s", json!({"response_id": "h", "nps": 9, "csat": 4})).await;
    assert_eq!(happy["followup_id"], Value::Null);
    let mut ids = Vec::new();
    for (i, body) in [
        json!({"response_id": "d", "customer_id": "c1", "nps": 6, "comment": "lag all match"}),
        json!({"response_id": "c", "csat": 2}),
        json!({"response_id": "x", "nps": 3, "csat": 1}),
    ]
    .into_iter()
    .enumerate()
    {
        app.clock
            .advance(jiff::SignedDuration::from_secs(1 + i as i64));
        let (s, r) = respond(&app, "s", body).await;
        assert_eq!(s, StatusCode::CREATED);
        ids.push(r["followup_id"].as_str().unwrap().to_owned());
    }
    // Oldest first, paginated.
    let page1 = app.get("/v1/followups?status=open&limit=2").await;
    let items = page1.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], ids[0].as_str());
    assert_eq!(items[0]["comment"], "lag all match");
    assert_eq!(items[0]["customer_id"], "c1");
    let cursor = page1.body["next_cursor"].as_str().unwrap();
    let page2 = app
        .get(&format!("/v1/followups?limit=2&cursor={cursor}"))
        .await;
    assert_eq!(page2.body["items"][0]["id"], ids[2].as_str());
    assert_eq!(page2.body["next_cursor"], Value::Null);

    let closed = app
        .post(
            &format!("/v1/followups/{}/close", ids[0]),
            json!({"note": "called, refunded"}),
        )
        .await;
    assert_eq!(closed.status, StatusCode::OK, "{}", closed.body);
    assert_eq!(closed.body["status"], "closed");
    let again = app
        .post(
            &format!("/v1/followups/{}/close", ids[0]),
            json!({"note": "other"}),
        )
        .await;
    assert_eq!(again.body, closed.body, "closing twice changes nothing");
    let open: Vec<Value> = app.get("/v1/followups").await.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].clone())
        .collect();
    assert_eq!(open, vec![json!(ids[1]), json!(ids[2])]);
    let done = app.get("/v1/followups?status=closed").await;
    assert_eq!(done.body["items"][0]["note"], "called, refunded");
    assert_eq!(
        app.get(&format!("/v1/followups/{}", ids[1])).await.body["csat"],
        2
    );
    // Another tenant sees none of it.
    let other = TestApp::new(app.backend.clone()).await;
    assert_eq!(other.get("/v1/followups").await.body["items"], json!([]));
    other
        .get(&format!("/v1/followups/{}", ids[1]))
        .await
        .assert_problem(404, "not-found");
    other
        .post(&format!("/v1/followups/{}/close", ids[1]), json!({}))
        .await
        .assert_problem(404, "not-found");
}

async fn recovery_mail_once_per_cooldown_and_only_with_consent(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .put(
            "/v1/settings",
            json!({"brand": {"name": "Star Arena"}, "campaigns": {"recovery": {"enabled": true,
                "coupon": {"value_minor": 300, "currency": "USD", "valid_days": 14}}}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    app.put(
        "/v1/customers/fan",
        json!({"email": "fan@example.com", "display_name": "Li Wei", "locale": "zh-CN",
            "consent": {"email_marketing": true}}),
    )
    .await;
    app.put("/v1/customers/quiet", json!({"email": "quiet@example.com"}))
        .await;

    let (_, r1) = respond(
        &app,
        "s",
        json!({"response_id": "1", "customer_id": "fan", "nps": 1}),
    )
    .await;
    let f1 = r1["followup_id"].as_str().unwrap().to_owned();
    let files = outbox_files(&app.outbox);
    assert_eq!(files.len(), 1, "one apology");
    let text = mail_text(&files[0].1);
    assert!(
        text.contains("Li Wei") && text.contains("非常抱歉"),
        "{text}"
    );
    assert!(text.contains("3.00 USD"), "{text}");
    assert_eq!(
        app.get(&format!("/v1/followups/{f1}")).await.body["recovery"],
        "sent"
    );
    let messages = app.get("/v1/customers/fan/messages").await.body["messages"].clone();
    assert_eq!(messages.as_array().unwrap().len(), 1, "{messages}");
    assert_eq!(messages[0]["campaign"], "recovery");
    assert_eq!(messages[0]["period"], f1.as_str());
    let code = messages[0]["coupon"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/v1/coupons/{code}")).await.body["value_minor"],
        300
    );

    // A retry of the response sends nothing more.
    respond(
        &app,
        "s",
        json!({"response_id": "1", "customer_id": "fan", "nps": 1}),
    )
    .await;
    // A second unhappy answer ten days later: inside the 30-day cooldown.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 10));
    let (_, r2) = respond(
        &app,
        "s",
        json!({"response_id": "2", "customer_id": "fan", "csat": 1}),
    )
    .await;
    let f2 = r2["followup_id"]
        .as_str()
        .unwrap_or_else(|| panic!("{}", r2.to_string()));
    assert_eq!(
        app.get(&format!("/v1/followups/{f2}")).await.body["recovery"],
        "suppressed"
    );
    assert_eq!(outbox_files(&app.outbox).len(), 1);
    // No consent, no mail — but the follow-up is open for staff.
    let (_, r3) = respond(
        &app,
        "s",
        json!({"response_id": "3", "customer_id": "quiet", "nps": 0}),
    )
    .await;
    let f3 = r3["followup_id"].as_str().unwrap();
    assert_eq!(
        app.get(&format!("/v1/followups/{f3}")).await.body["recovery"],
        "no_consent"
    );
    assert_eq!(outbox_files(&app.outbox).len(), 1);
    // After the cooldown, a new unhappy answer gets a new apology.
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 21));
    respond(
        &app,
        "s",
        json!({"response_id": "4", "customer_id": "fan", "nps": 4}),
    )
    .await;
    assert_eq!(outbox_files(&app.outbox).len(), 2);
}

async fn responses_count_as_activity_and_follow_export_and_erasure(b: Backend) {
    let app = TestApp::new(b).await;
    app.clock.set(ts("2026-11-01T00:00:00Z"));
    app.put("/v1/customers/c9", json!({"email": "c9@example.com"}))
        .await;
    app.clock.set(ts("2026-11-22T08:00:00Z"));
    let (s, _) = respond(
        &app,
        "s",
        json!({"response_id": "r", "customer_id": "c9", "nps": 2, "comment": "MY-SECRET-COMPLAINT",
            "channel": "in_game", "submitted_at": "2026-11-21T12:00:00Z"}),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED);
    let c = app.get("/v1/customers/c9").await.body;
    assert_eq!(c["last_active_at"], "2026-11-21T12:00:00.000Z", "{c}");

    let export = app.get("/v1/customers/c9/export").await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.body);
    assert_eq!(
        export.body["survey_responses"][0]["comment"],
        "MY-SECRET-COMPLAINT"
    );
    assert_eq!(export.body["survey_responses"][0]["channel"], "in_game");
    assert_eq!(export.body["followups"][0]["status"], "open");
    let fid = export.body["followups"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/v1/followups/{fid}/close"),
        json!({"note": "MY-STAFF-NOTE"}),
    )
    .await;
    assert_eq!(
        app.get("/v1/customers/c9/export").await.body["followups"][0]["status"],
        "closed",
        "the export shows the case as it is now"
    );

    let erased = app
        .json(axum::http::Method::DELETE, "/v1/customers/c9", None)
        .await;
    assert!(erased.status.is_success(), "{}", erased.body);
    let dump = app.backend.dump(&app.tenant).await.join("\n");
    for secret in [
        "MY-SECRET-COMPLAINT",
        "MY-STAFF-NOTE",
        "c9@example.com",
        "\"c9\"",
    ] {
        assert!(!dump.contains(secret), "{secret} survived erasure");
    }
    // The scores still count; the case is still there, anonymous.
    let s = summary(&app, "s", "?from=2026-11-21&to=2026-11-21").await;
    assert_eq!(s["nps"]["detractors"], 1);
    let f = app.get(&format!("/v1/followups/{fid}")).await.body;
    assert_eq!(
        (f["customer_id"].clone(), f["comment"].clone()),
        (Value::Null, Value::Null)
    );
    // A resend of the erased answer does not bring the customer back.
    let (s, _) = respond(&app, "s", json!({"response_id": "r", "nps": 2})).await;
    assert_eq!(s, StatusCode::OK);
}
