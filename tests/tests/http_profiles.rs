//! The profiles API over HTTP, as a game backend uses it: the whole walkthrough on both stores,
//! and every kind of bad input answered with problem+json and nothing written.

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, Reply, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    walkthrough,
    bad_input_writes_nothing,
    concurrent_puts_one_201_one_200,
    other_tenants_see_404
);

fn assert_problem(r: &Reply, status: u16, slug: &str) {
    assert_eq!(r.status.as_u16(), status, "body: {}", r.body);
    assert_eq!(r.content_type(), "application/problem+json");
    assert_eq!(r.body["status"], status);
    let kind = r.body["type"].as_str().unwrap();
    assert!(
        kind.ends_with(&format!("/{slug}")),
        "type {kind} should end in {slug}"
    );
    assert!(r.body["title"].is_string() && r.body["detail"].is_string());
}

async fn walkthrough(b: Backend) {
    let app = TestApp::new(b).await;
    let body = json!({
        "email": "li.wei@example.com", "display_name": "Li Wei", "locale": "zh-CN", "timezone": "Asia/Shanghai",
        "birthday": "--04-17", "tags": ["vip"], "attributes": {"level": 30},
        "consent": {"email_marketing": true},
        "identities": [{"platform": "steam", "external_id": "76561198"}, {"platform": "twitch", "external_id": "liwei"}]
    });
    let r = app.put("/v1/customers/player-42", body).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["consent"]["email_marketing"]["granted"], true);

    let r = app
        .put(
            "/v1/customers/player-42",
            json!({"phone": "+8613812345678", "tags": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        (r.body["phone"].as_str(), r.body["tags"].clone()),
        (Some("+8613812345678"), json!([]))
    );
    assert_eq!(r.body["email"], "li.wei@example.com");

    let r = app.get("/v1/customers/player-42").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["lifecycle"]["stage"], "acquisition");
    assert!(
        r.body["lifecycle"]["why"]
            .as_str()
            .unwrap()
            .contains("joined 0 days ago")
    );
    assert_eq!(r.body["last_active_at"], Value::Null);

    let r = app.get("/v1/identities/twitch/liwei").await;
    assert_eq!(
        (r.status, r.body.clone()),
        (StatusCode::OK, json!({"customer_id": "player-42"}))
    );
    let r = app.get("/v1/identities/twitch/nobody").await;
    assert_problem(&r, 404, "not-found");

    let r = app
        .post(
            "/v1/customers/player-42/activities",
            json!({"kind": "login", "occurred_at": "2026-11-22T07:30:00+08:00"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let r = app.get("/v1/customers/player-42").await;
    assert_eq!(r.body["last_active_at"], "2026-11-21T23:30:00.000Z");

    let r = app.get("/v1/customers/player-42/export").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["format"], "fanloop.customer-export.v1");
    assert_eq!(r.body["profile"]["email"], "li.wei@example.com");
    assert_eq!(r.body["profile"]["identities"].as_array().unwrap().len(), 2);

    let r = app
        .json(
            Method::DELETE,
            "/v1/customers/player-42/identities/twitch/liwei",
            None,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_problem(
        &app.get("/v1/identities/twitch/liwei").await,
        404,
        "not-found",
    );

    let r = app
        .put(
            "/v1/settings",
            json!({"timezone": "Asia/Shanghai", "brand": {"name": "Star Arena"}}),
        )
        .await;
    assert_eq!(
        (r.status, r.body["timezone"].clone()),
        (StatusCode::OK, json!("Asia/Shanghai"))
    );
    let r = app.get("/v1/settings").await;
    assert_eq!(r.body["brand"]["name"], "Star Arena");
    assert_eq!(r.body["lifecycle"]["churn_after_days"], 60);

    let r = app
        .json(Method::DELETE, "/v1/customers/player-42", None)
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_problem(&app.get("/v1/customers/player-42").await, 404, "not-found");
    assert_problem(
        &app.get("/v1/customers/player-42/export").await,
        404,
        "not-found",
    );
    assert_problem(
        &app.get("/v1/identities/steam/76561198").await,
        404,
        "not-found",
    );
    assert_problem(
        &app.json(Method::DELETE, "/v1/customers/player-42", None)
            .await,
        404,
        "not-found",
    );
}

async fn bad_input_writes_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    let key = app.key.clone();
    let put_raw = |uri: &'static str, ct: Option<&'static str>, body: Vec<u8>| {
        let key = key.clone();
        let app = &app;
        async move { app.send(Method::PUT, uri, ct, body, Some(&key)).await }
    };

    // 400: malformed JSON.
    let r = put_raw(
        "/v1/customers/new-1",
        Some("application/json"),
        b"{\"email\": ".to_vec(),
    )
    .await;
    assert_problem(&r, 400, "malformed-json");
    // 415: not JSON.
    let r = put_raw("/v1/customers/new-1", Some("text/plain"), b"{}".to_vec()).await;
    assert_problem(&r, 415, "unsupported-media-type");
    let r = put_raw("/v1/customers/new-1", None, b"{}".to_vec()).await;
    assert_problem(&r, 415, "unsupported-media-type");
    // 413: over 64 KiB, even when well-formed.
    let big = serde_json::to_vec(&json!({"display_name": "x".repeat(70_000)})).unwrap();
    let r = put_raw("/v1/customers/new-1", Some("application/json"), big).await;
    assert_problem(&r, 413, "payload-too-large");
    // 422: every invalid field named.
    let r = app
        .put(
            "/v1/customers/new-1",
            json!({"email": "not-an-email", "locale": "english!", "timezone": "Mars/Base", "birthday": "2031-02-30",
                   "phone": "12345", "tags": ["ok", "bad tag"], "attributes": {"deep": {"x": 1}},
                   "consent": {"email_marketing": "yes"}, "identities": [{"platform": "steam"}], "shoe_size": 42}),
        )
        .await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(
        r.fields(),
        [
            "attributes.deep",
            "birthday",
            "consent.email_marketing",
            "email",
            "identities[0]",
            "locale",
            "phone",
            "shoe_size",
            "tags[1]",
            "timezone"
        ]
    );
    let r = app.put("/v1/customers/new-1", json!([1, 2])).await;
    assert_problem(&r, 422, "validation-error");
    let r = app.put("/v1/customers/bad%23id", json!({})).await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(r.fields(), ["customer_id"]);
    let long_id = format!("/v1/customers/{}", "a".repeat(129));
    let r = app.json(Method::PUT, &long_id, Some(json!({}))).await;
    assert_eq!(r.fields(), ["customer_id"]);
    // None of that created the customer.
    assert_problem(&app.get("/v1/customers/new-1").await, 404, "not-found");

    // An existing customer is left exactly as it was by a bad update.
    assert_eq!(
        app.put("/v1/customers/c1", json!({"email": "c1@example.com"}))
            .await
            .status,
        StatusCode::CREATED
    );
    let before = app.get("/v1/customers/c1").await.body;
    let r = app
        .put(
            "/v1/customers/c1",
            json!({"email": "also@example.com", "birthday": "--13-40"}),
        )
        .await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(r.fields(), ["birthday"]);
    assert_eq!(app.get("/v1/customers/c1").await.body, before);

    // Activities: bad kind, future time, unknown customer.
    let r = app
        .post("/v1/customers/c1/activities", json!({"kind": "dance"}))
        .await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(r.fields(), ["kind"]);
    let r = app
        .post(
            "/v1/customers/c1/activities",
            json!({"kind": "login", "occurred_at": "2027-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(r.fields(), ["occurred_at"]);
    let r = app.post("/v1/customers/c1/activities", json!({})).await;
    assert_eq!(r.fields(), ["kind"]);
    assert_problem(
        &app.post("/v1/customers/ghost/activities", json!({"kind": "login"}))
            .await,
        404,
        "not-found",
    );
    assert_eq!(app.get("/v1/customers/c1").await.body, before);

    // Settings: invalid values name the field, nothing saved.
    let r = app
        .put("/v1/settings", json!({"sender": {"email": "nope"}}))
        .await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(r.fields(), ["sender.email"]);
    assert_eq!(
        app.get("/v1/settings").await.body["sender"]["email"],
        Value::Null
    );

    // 401: missing, malformed, unknown key.
    let r = app
        .send(Method::GET, "/v1/customers/c1", None, vec![], None)
        .await;
    assert_problem(&r, 401, "unauthorized");
    assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");
    let r = app
        .send(
            Method::GET,
            "/v1/customers/c1",
            None,
            vec![],
            Some("flk_short"),
        )
        .await;
    assert_problem(&r, 401, "unauthorized");
    let unknown = format!("flk_{}", "0".repeat(64));
    let r = app
        .send(
            Method::GET,
            "/v1/customers/c1",
            None,
            vec![],
            Some(&unknown),
        )
        .await;
    assert_problem(&r, 401, "unauthorized");
    // Unknown routes and methods are problems too.
    assert_problem(&app.get("/v1/nothing-here").await, 404, "not-found");
    assert_problem(
        &app.json(Method::PATCH, "/v1/customers/c1", Some(json!({})))
            .await,
        405,
        "method-not-allowed",
    );
}

async fn concurrent_puts_one_201_one_200(b: Backend) {
    let app = TestApp::new(b).await;
    let (a, c) = tokio::join!(
        app.put("/v1/customers/twin", json!({"email": "twin@example.com"})),
        app.put("/v1/customers/twin", json!({"display_name": "Twin"}))
    );
    let mut statuses = [a.status.as_u16(), c.status.as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 201]);
    let r = app.get("/v1/customers/twin").await;
    assert_eq!(
        (r.body["email"].as_str(), r.body["display_name"].as_str()),
        (Some("twin@example.com"), Some("Twin"))
    );
}

async fn other_tenants_see_404(b: Backend) {
    let app = TestApp::new(b.clone()).await;
    let other = TestApp::new(b).await;
    app.put("/v1/customers/mine", json!({"email": "mine@example.com", "identities": [{"platform": "steam", "external_id": "9"}]})).await;
    assert_problem(&other.get("/v1/customers/mine").await, 404, "not-found");
    assert_problem(
        &other.get("/v1/customers/mine/export").await,
        404,
        "not-found",
    );
    assert_problem(&other.get("/v1/identities/steam/9").await, 404, "not-found");
    assert_problem(
        &other.json(Method::DELETE, "/v1/customers/mine", None).await,
        404,
        "not-found",
    );
    assert_problem(
        &other
            .post("/v1/customers/mine/activities", json!({"kind": "login"}))
            .await,
        404,
        "not-found",
    );
    // The other tenant's key cannot reach the first tenant's data with any path.
    let r = other
        .send(
            Method::GET,
            "/v1/customers/mine",
            None,
            vec![],
            Some(&app.key),
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the key, not the path, picks the tenant"
    );
    assert_eq!(
        app.get("/v1/customers/mine").await.body["email"],
        "mine@example.com"
    );
}

#[tokio::test]
async fn openapi_document_describes_every_route() {
    let app = TestApp::new(fanloop_tests::sqlite()).await;
    let r = app
        .send(Method::GET, "/openapi.json", None, vec![], None)
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["openapi"], "3.1.0");
    let paths = r.body["paths"].as_object().unwrap();
    for (path, method) in [
        ("/v1/customers/{customer_id}", "put"),
        ("/v1/customers/{customer_id}", "get"),
        ("/v1/customers/{customer_id}", "delete"),
        ("/v1/customers/{customer_id}/activities", "post"),
        ("/v1/customers/{customer_id}/export", "get"),
        (
            "/v1/customers/{customer_id}/identities/{platform}/{external_id}",
            "delete",
        ),
        ("/v1/identities/{platform}/{external_id}", "get"),
        ("/v1/settings", "get"),
        ("/v1/settings", "put"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from OpenAPI"
        );
    }
    assert!(r.body["components"]["schemas"]["Problem"].is_object());
    assert!(r.body["components"]["securitySchemes"]["api_key"].is_object());
}

/// `/openapi.json` (here and on AWS, where one function serves it) is the checked-in document;
/// it must be the one every router generates. `FANLOOP_WRITE_OPENAPI=1 scripts/test -p
/// fanloop-tests openapi` rewrites it after a route changed.
#[tokio::test]
async fn served_openapi_document_is_the_generated_one() {
    let app = TestApp::new(fanloop_tests::sqlite()).await;
    let generated = fanloop_http::openapi::to_json(&app.openapi);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(fanloop_http::openapi::DOCUMENT_PATH);
    if std::env::var_os("FANLOOP_WRITE_OPENAPI").is_some() {
        let mut text = serde_json::to_string_pretty(&generated).unwrap();
        text.push('\n');
        std::fs::write(&path, text).unwrap();
        return;
    }
    let served: serde_json::Value = serde_json::from_str(fanloop_http::openapi::DOCUMENT).unwrap();
    assert!(
        served == generated,
        "{} is stale: run `FANLOOP_WRITE_OPENAPI=1 scripts/test -p fanloop-tests openapi`",
        fanloop_http::openapi::DOCUMENT_PATH
    );
    // Every link names an operation that exists.
    let ids: Vec<&str> = generated["paths"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|item| item.as_object().unwrap().values())
        .filter_map(|op| op["operationId"].as_str())
        .collect();
    let mut links = 0;
    for item in generated["paths"].as_object().unwrap().values() {
        for op in item.as_object().unwrap().values() {
            for response in op["responses"]
                .as_object()
                .into_iter()
                .flat_map(|r| r.values())
            {
                for link in response["links"]
                    .as_object()
                    .into_iter()
                    .flat_map(|l| l.values())
                {
                    let target = link["operationId"].as_str().unwrap();
                    assert!(ids.contains(&target), "link to unknown operation {target}");
                    links += 1;
                }
            }
        }
    }
    assert!(links >= 10, "only {links} links");
}
