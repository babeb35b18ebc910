//! The contact log over HTTP on both stores: what a support tool sends, where the contact
//! shows (its list, the timeline, the communication log, the export), who logged it, the
//! scope it needs, and bad input that writes nothing.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::json;

both_stores!(contacts_walkthrough, bad_contacts_change_nothing);

async fn contacts_walkthrough(b: Backend) {
    let app = TestApp::new(b).await;
    app.put(
        "/v1/customers/whale-7",
        json!({"email": "whale@example.com"}),
    )
    .await;
    let call = json!({"contact_id": "call-77", "channel": "phone", "direction": "inbound",
        "summary": "Top-up of 6480 coins not credited", "outcome": "credited by hand",
        "at": "2026-11-22T07:30:00Z"});
    let r = app
        .post("/v1/customers/whale-7/contacts", call.clone())
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["channel"], "phone");
    assert_eq!(r.body["at"], "2026-11-22T07:30:00.000Z");
    assert_eq!(r.body["recorded_at"], "2026-11-22T08:00:00.000Z");
    assert_eq!(r.body["recorded_by"]["kind"], "api_key");
    assert!(r.body.get("fingerprint").is_none(), "{}", r.body);
    let again = app.post("/v1/customers/whale-7/contacts", call).await;
    assert_eq!((again.status, &again.body), (StatusCode::OK, &r.body));
    app.post(
        "/v1/customers/whale-7/contacts",
        json!({"contact_id": "call-77", "channel": "chat", "direction": "inbound", "summary": "other"}),
    )
    .await
    .assert_problem(409, "conflict");

    // An ingest key (the support tool's) may log; its id is the author. A read key may not.
    let ingest = app.new_key(&["ingest"]).await;
    let body = json!({"channel": "email", "direction": "outbound", "summary": "Sent the receipt"});
    let by_tool = app
        .send(
            axum::http::Method::POST,
            "/v1/customers/whale-7/contacts",
            Some("application/json"),
            serde_json::to_vec(&body).unwrap(),
            Some(&ingest),
        )
        .await;
    assert_eq!(by_tool.status, StatusCode::CREATED, "{}", by_tool.body);
    assert_ne!(by_tool.body["recorded_by"], r.body["recorded_by"]);
    assert_eq!(
        by_tool.body["contact_id"].as_str().unwrap().len(),
        26,
        "a ULID"
    );
    let read = app.new_key(&["read"]).await;
    let refused = app
        .send(
            axum::http::Method::POST,
            "/v1/customers/whale-7/contacts",
            Some("application/json"),
            serde_json::to_vec(&body).unwrap(),
            Some(&read),
        )
        .await;
    refused.assert_problem(403, "forbidden");

    let list = app.get("/v1/customers/whale-7/contacts").await;
    assert_eq!(list.status, StatusCode::OK);
    let ids: Vec<_> = list.body["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["summary"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        ["Sent the receipt", "Top-up of 6480 coins not credited"],
        "newest first"
    );
    let first = app.get("/v1/customers/whale-7/contacts?limit=1").await.body;
    assert_eq!(first["contacts"].as_array().unwrap().len(), 1);
    let cursor = first["next_cursor"].as_str().unwrap();
    let second = app
        .get(&format!(
            "/v1/customers/whale-7/contacts?limit=1&cursor={cursor}"
        ))
        .await
        .body;
    assert_eq!(second["contacts"][0]["contact_id"], "call-77");

    let timeline = app.get("/v1/customers/whale-7/timeline").await.body;
    let contacts: Vec<_> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["type"] == "contact")
        .collect();
    assert_eq!(contacts.len(), 2, "{timeline}");
    assert_eq!(contacts[1]["contact"]["outcome"], "credited by hand");
    assert_eq!(contacts[1]["at"], "2026-11-22T07:30:00.000Z");
    let log = app.get("/v1/customers/whale-7/messages").await.body;
    assert_eq!(log["contacts"].as_array().unwrap().len(), 2, "{log}");
    let export = app.get("/v1/customers/whale-7/export").await.body;
    assert_eq!(
        export["contacts"][0]["contact_id"], "call-77",
        "oldest first"
    );

    let gone = app
        .json(axum::http::Method::DELETE, "/v1/customers/whale-7", None)
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    app.get("/v1/customers/whale-7/contacts")
        .await
        .assert_problem(404, "not-found");
}

async fn bad_contacts_change_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/c1", json!({"email": "c1@example.com"}))
        .await;
    for (body, fields) in [
        (
            json!({"channel": "fax", "direction": "inbound", "summary": "x"}),
            vec!["channel"],
        ),
        (
            json!({"channel": "phone", "direction": "in", "summary": "   "}),
            vec!["direction", "summary"],
        ),
        (
            json!({"channel": "phone", "direction": "inbound", "summary": "x".repeat(2001)}),
            vec!["summary"],
        ),
        (
            json!({"channel": "phone", "direction": "inbound", "summary": "x", "at": "2026-11-22T09:00:00Z"}),
            vec!["at"],
        ),
        (
            json!({"channel": "phone", "direction": "inbound", "summary": "x", "outcome": "", "contact_id": "a b"}),
            vec!["contact_id", "outcome"],
        ),
        (
            json!({"channel": "phone", "direction": "inbound", "summary": "x", "agent_notes": "y"}),
            vec!["agent_notes"],
        ),
        (json!({}), vec!["channel", "direction", "summary"]),
    ] {
        let r = app.post("/v1/customers/c1/contacts", body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), fields, "{body}");
    }
    app.post(
        "/v1/customers/no-such/contacts",
        json!({"channel": "phone", "direction": "inbound", "summary": "x"}),
    )
    .await
    .assert_problem(404, "not-found");
    app.get("/v1/customers/c1/contacts?limit=0")
        .await
        .assert_problem(422, "validation-error");
    let list = app.get("/v1/customers/c1/contacts").await.body;
    assert_eq!(list["contacts"], json!([]), "nothing was written");
    assert!(list["next_cursor"].is_null());
}
