//! Behaviour events over HTTP on both stores: what a game or streaming backend sends, one at a
//! time and in batches, the history a support agent reads, and bad input that writes nothing.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(events_walkthrough, bad_events_change_nothing);

async fn events_walkthrough(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/v1", json!({"email": "v1@example.com"}))
        .await;
    let watch = json!({"event_id": "w-1", "kind": "stream_watch", "occurred_at": "2026-11-22T07:00:00Z",
                       "properties": {"streamer_id": "luna", "minutes": 35, "room_id": "r-9"}});
    let r = app.post("/v1/customers/v1/events", watch.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["kind"], "stream_watch");
    assert_eq!(
        r.body["properties"],
        json!({"streamer_id": "luna", "minutes": 35, "room_id": "r-9"})
    );
    assert_eq!(
        r.body["expires_at"], "2027-12-27T07:00:00.000Z",
        "400 days by default"
    );
    let again = app.post("/v1/customers/v1/events", watch).await;
    assert_eq!((again.status, again.body), (StatusCode::OK, r.body));
    app.post(
        "/v1/customers/v1/events",
        json!({"event_id": "w-1", "kind": "login"}),
    )
    .await
    .assert_problem(409, "conflict");
    let customer = app.get("/v1/customers/v1").await.body;
    assert_eq!(customer["last_active_at"], "2026-11-22T07:00:00.000Z");

    let batch = json!({"events": [
        {"event_id": "s-1", "kind": "session", "properties": {"duration_s": 1800}},
        {"event_id": "w-1", "kind": "stream_watch", "occurred_at": "2026-11-22T07:00:00Z",
         "properties": {"streamer_id": "luna", "minutes": 35, "room_id": "r-9"}},
        {"event_id": "l-1", "kind": "level_up", "properties": {"level": 0}},
        {"event_id": "w-1", "kind": "vote"},
        {"event_id": "g-1", "kind": "gift_sent", "properties": {"streamer_id": "luna", "coins": 99, "currency": "COIN"}}
    ]});
    let r = app.post("/v1/customers/v1/events/batch", batch).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["created"].clone(),
            r.body["duplicates"].clone(),
            r.body["conflicts"].clone(),
            r.body["invalid"].clone()
        ),
        (json!(2), json!(1), json!(1), json!(1))
    );
    let results: Vec<&str> = r.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["result"].as_str().unwrap())
        .collect();
    assert_eq!(
        results,
        ["created", "duplicate", "invalid", "conflict", "created"]
    );
    assert_eq!(
        r.body["results"][2]["errors"][0]["field"],
        "events[2].properties.level"
    );

    let page = app.get("/v1/customers/v1/events?limit=2").await.body;
    let kinds = |p: &Value| -> Vec<String> {
        p["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event_id"].as_str().unwrap().to_owned())
            .collect()
    };
    // s-1 and g-1 happened now (08:00), w-1 at 07:00.
    assert_eq!(kinds(&page).len(), 2);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/customers/v1/events?limit=2&cursor={cursor}"))
        .await
        .body;
    assert_eq!(kinds(&rest), ["w-1"]);
    assert!(rest["next_cursor"].is_null());
    let export = app.get("/v1/customers/v1/export").await.body;
    assert_eq!(export["events"].as_array().unwrap().len(), 3);
}

async fn bad_events_change_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/v1", json!({})).await;
    let cases: Vec<(Value, &[&str])> = vec![
        (json!({"event_id": "e", "kind": "teleport"}), &["kind"]),
        (json!({"event_id": "e"}), &["kind"]),
        (json!({"kind": "login"}), &["event_id"]),
        (json!({"event_id": "e", "kind": "session"}), &["properties"]),
        (
            json!({"event_id": "e", "kind": "session", "properties": {"duration_s": -5}}),
            &["properties.duration_s"],
        ),
        (
            json!({"event_id": "e", "kind": "stream_watch", "properties": {"minutes": 5}}),
            &["properties.streamer_id"],
        ),
        (
            json!({"event_id": "e", "kind": "chat", "properties": {"message": "hello"}}),
            &["properties.message"],
        ),
        (
            json!({"event_id": "e", "kind": "custom", "properties": {"name": ""}}),
            &["properties.name"],
        ),
        (
            json!({"event_id": "e", "kind": "login", "occurred_at": "yesterday"}),
            &["occurred_at"],
        ),
        (
            json!({"event_id": "e", "kind": "login", "occurred_at": "2099-01-01T00:00:00Z"}),
            &["occurred_at"],
        ),
        (
            json!({"event_id": "e", "kind": "login", "points": 5}),
            &["points"],
        ),
        (
            json!({"event_id": "e", "kind": "gift_sent", "properties": {"coins": 0, "currency": "coin"}}),
            &["properties.coins", "properties.currency"],
        ),
    ];
    for (body, expected) in cases {
        let r = app.post("/v1/customers/v1/events", body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), expected, "{body}");
    }
    let too_many: Vec<Value> = (0..101)
        .map(|i| json!({"event_id": format!("e{i}"), "kind": "login"}))
        .collect();
    let r = app
        .post("/v1/customers/v1/events/batch", json!({"events": too_many}))
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["events"]);
    app.post("/v1/customers/v1/events/batch", json!({"events": []}))
        .await
        .assert_problem(422, "validation-error");
    app.post(
        "/v1/customers/ghost/events",
        json!({"event_id": "e", "kind": "login"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.post(
        "/v1/customers/ghost/events/batch",
        json!({"events": [{"event_id": "e", "kind": "login"}]}),
    )
    .await
    .assert_problem(404, "not-found");
    for q in ["limit=0", "limit=101", "limit=x", "cursor=nope"] {
        app.get(&format!("/v1/customers/v1/events?{q}"))
            .await
            .assert_problem(422, "validation-error");
    }
    app.get("/v1/customers/ghost/events")
        .await
        .assert_problem(404, "not-found");
    let page = app.get("/v1/customers/v1/events").await.body;
    assert_eq!(page["events"], json!([]), "nothing was written");
    assert!(app.get("/v1/customers/v1").await.body["last_active_at"].is_null());
}
