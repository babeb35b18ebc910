//! Deliverability feedback and the suppression list on both stores, fed the SES event fixtures
//! (tests/fixtures/ses: a permanent bounce through EventBridge, a transient one through SNS, a
//! complaint with its feedback type, a delivery as SES writes it): each event lands on its
//! message in the communication log; a hard bounce or a complaint suppresses at once, soft
//! bounces on the third within 30 days; every send checks the list first (`suppressed_address`,
//! also for another customer with the address, and after the bouncing customer's erasure — the
//! list keeps only a keyed hash); an address taken off can be mailed again; the same event
//! delivered many times at once counts once.

use axum::http::StatusCode;
use fanloop_domain::deliverability::parse_event;
use fanloop_domain::values::Email;
use fanloop_engine::suppression::{address_hash, apply_feedback};
use fanloop_tests::{Backend, TestApp, both_stores, ses_event};
use serde_json::{Value, json};

both_stores!(
    feedback_suppresses_and_every_send_checks_the_list,
    the_same_event_many_times_at_once_counts_once,
);

const NOW: &str = "2026-11-22T08:00:00Z";

async fn birthday_customer(app: &TestApp, id: &str, email: &str) {
    let r = app
        .put(
            &format!("/v1/customers/{id}"),
            json!({"email": email, "birthday": "1998-11-22", "consent": {"email_marketing": true}}),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.body);
}

async fn message(app: &TestApp, customer: &str) -> Value {
    let log = app.get(&format!("/v1/customers/{customer}/messages")).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    log.body["messages"][0].clone()
}

async fn feedback(app: &TestApp, event: Value) -> Value {
    let r = app.post("/v1/feedback", event).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

/// `name`'s fixture about `customer`'s newest mail to `email`.
async fn event_for(app: &TestApp, name: &str, customer: &str, email: &str, at: &str) -> Value {
    let id = message(app, customer).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    ses_event(name, email, &app.tenant, customer, &id, at)
}

async fn suppressed(app: &TestApp, email: &str) -> Vec<Value> {
    let r = app
        .get(&format!(
            "/v1/suppressions?email={}",
            email.replace('@', "%40")
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body["suppressions"].as_array().unwrap().clone()
}

async fn feedback_suppresses_and_every_send_checks_the_list(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .put("/v1/settings", json!({"timezone": "Asia/Shanghai"}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let people = [
        ("hb", "gone@example.com"),
        ("cp", "angry@example.com"),
        ("sb", "full@example.com"),
        ("ok", "happy@example.com"),
    ];
    for (id, email) in people {
        birthday_customer(&app, id, email).await;
    }
    let run = app.run_campaign("birthday", NOW).await;
    assert_eq!(run["sent"], 4, "{run}");

    // Delivery, then a complaint on another mail: each recorded on its message.
    let ev = event_for(&app, "delivery", "ok", "happy@example.com", "").await;
    assert_eq!(
        feedback(&app, ev).await,
        json!({"suppressed": 0, "message_updated": true})
    );
    let m = message(&app, "ok").await;
    assert_eq!(
        (&m["status"], &m["delivery"]["status"]),
        (&json!("sent"), &json!("delivered"))
    );
    assert!(suppressed(&app, "happy@example.com").await.is_empty());

    let ev = event_for(&app, "bounce-permanent", "hb", "gone@example.com", "").await;
    assert_eq!(feedback(&app, ev.clone()).await["suppressed"], 1);
    assert_eq!(
        feedback(&app, ev).await["suppressed"],
        0,
        "told twice: once"
    );
    let m = message(&app, "hb").await;
    assert_eq!(
        (&m["delivery"]["status"], &m["delivery"]["detail"]),
        (&json!("bounced"), &json!("permanent"))
    );
    let list = suppressed(&app, "GONE@example.com").await;
    assert_eq!(list.len(), 1, "case-blind");
    assert_eq!(list[0]["suppressed"]["reason"], "hard_bounce");

    let ev = event_for(&app, "complaint", "cp", "angry@example.com", "").await;
    assert_eq!(feedback(&app, ev).await["suppressed"], 1);
    let m = message(&app, "cp").await;
    assert_eq!(
        (&m["delivery"]["status"], &m["delivery"]["detail"]),
        (&json!("complained"), &json!("abuse"))
    );
    let list = suppressed(&app, "angry@example.com").await;
    assert_eq!(
        (
            &list[0]["suppressed"]["reason"],
            &list[0]["suppressed"]["feedback_type"]
        ),
        (&json!("complaint"), &json!("abuse"))
    );

    // Soft bounces: the third within 30 days suppresses.
    for (n, at) in ["2026-11-01T10:00:00Z", "2026-11-10T10:00:00Z"]
        .into_iter()
        .enumerate()
    {
        let ev = event_for(&app, "bounce-transient", "sb", "full@example.com", at).await;
        assert_eq!(
            feedback(&app, ev.clone()).await["suppressed"],
            0,
            "soft bounce {n}"
        );
        assert_eq!(feedback(&app, ev).await["suppressed"], 0);
        assert!(suppressed(&app, "full@example.com").await.is_empty());
    }
    let ev = event_for(
        &app,
        "bounce-transient",
        "sb",
        "full@example.com",
        "2026-11-20T10:00:00Z",
    )
    .await;
    assert_eq!(feedback(&app, ev).await["suppressed"], 1);
    assert_eq!(
        suppressed(&app, "full@example.com").await[0]["suppressed"]["reason"],
        "soft_bounces"
    );

    // The list holds hashes only, in hash order, paged.
    let all = app.get("/v1/suppressions").await;
    assert_eq!(all.status, StatusCode::OK);
    let entries = all.body["suppressions"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert!(!all.body.to_string().contains('@'), "{}", all.body);
    let page = app.get("/v1/suppressions?limit=2").await.body;
    assert_eq!(page["suppressions"].as_array().unwrap().len(), 2);
    let rest = app
        .get(&format!(
            "/v1/suppressions?after={}",
            page["next"].as_str().unwrap()
        ))
        .await
        .body;
    assert_eq!(rest["suppressions"].as_array().unwrap().len(), 1);
    assert!(rest.get("next").is_none());

    // Every send checks the list: another customer with a suppressed address is skipped.
    birthday_customer(&app, "hb2", "gone@example.com").await;
    birthday_customer(&app, "new", "fresh@example.com").await;
    let run = app.run_campaign("birthday", "2026-11-22T09:00:00Z").await;
    assert_eq!(
        (&run["sent"], &run["skipped"]["suppressed_address"]),
        (&json!(1), &json!(1)),
        "{run}"
    );
    let m = message(&app, "hb2").await;
    assert_eq!(
        (&m["status"], &m["reason"]),
        (&json!("skipped"), &json!("suppressed_address"))
    );

    // Erasure keeps the hash: the address stays suppressed, no plain address remains.
    for id in ["hb", "hb2"] {
        let r = app
            .json(
                axum::http::Method::DELETE,
                &format!("/v1/customers/{id}"),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    }
    assert_eq!(suppressed(&app, "gone@example.com").await.len(), 1);
    let dump = app.backend.dump(&app.tenant).await;
    assert!(
        !dump
            .iter()
            .any(|t| t.to_lowercase().contains("gone@example.com")),
        "the erased address is still stored"
    );
    birthday_customer(&app, "hb3", "gone@example.com").await;
    let run = app.run_campaign("birthday", "2026-11-22T09:30:00Z").await;
    assert_eq!(run["skipped"]["suppressed_address"], 1, "{run}");

    // Taken off the list, the address is mailed again.
    let del = app
        .json(
            axum::http::Method::DELETE,
            "/v1/suppressions/gone%40example.com",
            None,
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT, "{}", del.body);
    app.json(
        axum::http::Method::DELETE,
        "/v1/suppressions/gone%40example.com",
        None,
    )
    .await
    .assert_problem(404, "not-found");
    let run = app.run_campaign("birthday", "2026-11-22T09:45:00Z").await;
    assert_eq!(run["sent"], 1, "{run}");
    assert_eq!(message(&app, "hb3").await["status"], "sent");

    // Bad input changes nothing.
    let r = app.post("/v1/feedback", json!({"hello": 1})).await;
    r.assert_problem(422, "validation-error");
    let other = fanloop_domain::TenantId::parse("someone-else").unwrap();
    let foreign = ses_event("complaint", "happy@example.com", &other, "ok", "x", "");
    let r = app.post("/v1/feedback", foreign).await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.body["errors"][0]["field"], "mail.tags.fl_tenant");
    assert!(suppressed(&app, "happy@example.com").await.is_empty());
    app.json(
        axum::http::Method::DELETE,
        "/v1/suppressions/not-an-address",
        None,
    )
    .await
    .assert_problem(422, "validation-error");
    app.get("/v1/suppressions?after=zz")
        .await
        .assert_problem(422, "validation-error");
}

async fn the_same_event_many_times_at_once_counts_once(b: Backend) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let email = Email::parse("full@example.com").unwrap();
    let soft = |at: &str| {
        parse_event(&ses_event(
            "bounce-transient",
            email.as_str(),
            &t,
            "c1",
            "m1",
            at,
        ))
        .unwrap()
        .unwrap()
    };
    // The same soft bounce six times at once: one soft bounce.
    let same = soft("2026-11-01T10:00:00Z");
    let tasks: Vec<_> = (0..6)
        .map(|_| {
            let (store, t, e) = (store.clone(), t.clone(), same.clone());
            tokio::spawn(async move { apply_feedback(store.as_ref(), &t, &e).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let hash = address_hash(store.as_ref(), &t, &email).await.unwrap();
    let state = store.address(&t, &hash).await.unwrap().unwrap();
    assert_eq!(state.soft_bounces.len(), 1);
    // Two more, each told three times, all at once: suppressed exactly once.
    let events = [soft("2026-11-02T10:00:00Z"), soft("2026-11-03T10:00:00Z")];
    let tasks: Vec<_> = (0..6)
        .map(|i| {
            let (store, t, e) = (store.clone(), t.clone(), events[i % 2].clone());
            tokio::spawn(async move { apply_feedback(store.as_ref(), &t, &e).await.unwrap() })
        })
        .collect();
    let mut newly = 0;
    for task in tasks {
        newly += task.await.unwrap().suppressed;
    }
    assert_eq!(newly, 1);
    let state = store.address(&t, &hash).await.unwrap().unwrap();
    assert_eq!(state.soft_bounces.len(), 3);
    assert!(state.is_suppressed());
    assert!(!serde_json::to_string(&state).unwrap().contains('@'));
    // The message the tags name does not exist: nothing else is written.
    assert!(
        !store
            .record_delivery(
                &t,
                &fanloop_domain::CustomerId::parse("c1").unwrap(),
                "m1",
                &fanloop_domain::deliverability::MessageDelivery::of(&same.kind, same.at),
            )
            .await
            .unwrap()
    );
}
