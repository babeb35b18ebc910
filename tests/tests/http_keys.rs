//! Scoped, rotatable API keys over HTTP on both stores: a key made with `POST /v1/keys` shows
//! its secret once and works for its scopes only (403 `forbidden` naming the missing one); the
//! list never shows a secret; a revoked key is 401 at once on the instance that revoked it, an
//! expired one from its expiry; the tenant's first key keeps every scope. On DynamoDB a key
//! stored before keys had records keeps every scope and joins the list on its first use.

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, Reply, TestApp, both_stores, ts};
use serde_json::{Value, json};

both_stores!(
    a_key_does_what_its_scopes_allow_until_revoked_or_expired,
    bad_key_requests_name_the_field,
    each_key_is_held_to_the_tenants_rate,
);

async fn with_key(
    app: &TestApp,
    key: &str,
    method: Method,
    uri: &str,
    body: Option<Value>,
) -> Reply {
    let (ct, bytes) = match body {
        Some(b) => (Some("application/json"), b.to_string().into_bytes()),
        None => (None, Vec::new()),
    };
    app.send(method, uri, ct, bytes, Some(key)).await
}

/// The listed key `id`.
async fn listed(app: &TestApp, id: &str) -> Value {
    let list = app.get("/v1/keys").await.body;
    list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["key_id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("{id} not listed: {list}"))
}

async fn a_key_does_what_its_scopes_allow_until_revoked_or_expired(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .post(
            "/v1/keys",
            json!({"name": "game backend", "scopes": ["ingest", "redeem"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    let id = r.body["key_id"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(r.body["prefix"].as_str().unwrap()));
    assert_eq!(r.body["scopes"], json!(["ingest", "redeem"]));

    // Its scopes: a profile write (ingest) yes; a read or a settings change no.
    let put = with_key(
        &app,
        &secret,
        Method::PUT,
        "/v1/customers/c1",
        Some(json!({"email": "c1@example.com"})),
    )
    .await;
    assert_eq!(put.status, StatusCode::CREATED, "{}", put.body);
    for (method, uri, body, scope) in [
        (Method::GET, "/v1/customers/c1", None, "read"),
        (Method::PUT, "/v1/settings", Some(json!({})), "admin"),
        (Method::GET, "/v1/keys", None, "admin"),
        (Method::DELETE, "/v1/customers/c1", None, "admin"),
    ] {
        let r = with_key(&app, &secret, method.clone(), uri, body).await;
        r.assert_problem(403, "forbidden");
        assert_eq!(r.body["scope"], scope, "{method} {uri}: {}", r.body);
        assert!(r.body["detail"].as_str().unwrap().contains(scope));
    }
    assert_eq!(
        app.get("/v1/customers/c1").await.status,
        StatusCode::OK,
        "the tenant's first key has every scope"
    );

    // The list: both keys, no secret anywhere.
    let list = app.get("/v1/keys").await;
    assert_eq!(list.status, StatusCode::OK);
    let keys = list.body["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{}", list.body);
    assert_eq!(listed(&app, &id).await["name"], "game backend");
    let text = list.body.to_string();
    assert!(!text.contains(&secret) && !text.contains(&app.key) && !text.contains("secret"));

    // Revoked: refused at once here; revoking again is fine.
    let del = app
        .json(Method::DELETE, &format!("/v1/keys/{id}"), None)
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    with_key(
        &app,
        &secret,
        Method::PUT,
        "/v1/customers/c1",
        Some(json!({})),
    )
    .await
    .assert_problem(401, "unauthorized");
    let again = app
        .json(Method::DELETE, &format!("/v1/keys/{id}"), None)
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert!(
        listed(&app, &id).await["revoked_at"].is_string(),
        "listed as revoked"
    );
    app.json(Method::DELETE, "/v1/keys/k_0123456789abcdef", None)
        .await
        .assert_problem(404, "not-found");
    let mine = app.get("/v1/keys").await.body["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| app.key.starts_with(k["prefix"].as_str().unwrap()))
        .unwrap()["key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.json(Method::DELETE, &format!("/v1/keys/{mine}"), None)
        .await
        .assert_problem(409, "key-in-use");
    assert_eq!(
        app.get("/v1/keys").await.status,
        StatusCode::OK,
        "still in use"
    );

    // An expiring read key: works until its moment, then 401.
    app.clock.set(ts("2026-11-22T08:00:00Z"));
    let r = app
        .post(
            "/v1/keys",
            json!({"name": "console", "scopes": ["read"], "expires_at": "2026-11-22T09:00:00Z"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let reader = r.body["secret"].as_str().unwrap().to_owned();
    let reader_id = r.body["key_id"].as_str().unwrap().to_owned();
    let ok = with_key(&app, &reader, Method::GET, "/v1/customers/c1", None).await;
    assert_eq!(ok.status, StatusCode::OK);
    app.clock.set(ts("2026-11-22T09:00:00Z"));
    with_key(&app, &reader, Method::GET, "/v1/customers/c1", None)
        .await
        .assert_problem(401, "unauthorized");
    let used = listed(&app, &reader_id).await;
    assert_eq!(used["last_used_at"], "2026-11-22T08:00:00.000Z", "{used}");
}

async fn bad_key_requests_name_the_field(b: Backend) {
    let app = TestApp::new(b).await;
    for (body, field) in [
        (json!({"name": "x", "scopes": []}), "scopes"),
        (json!({"name": "x", "scopes": ["root"]}), "scopes[0]"),
        (json!({"scopes": ["read"]}), "name"),
        (
            json!({"name": "x", "scopes": ["read"], "expires_at": "2020-01-01T00:00:00Z"}),
            "expires_at",
        ),
        (
            json!({"name": "x", "scopes": ["read"], "owner": "me"}),
            "owner",
        ),
    ] {
        let r = app.post("/v1/keys", body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), [field], "{body}: {}", r.body);
    }
    assert_eq!(
        app.get("/v1/keys").await.body["keys"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "nothing created"
    );
}

async fn each_key_is_held_to_the_tenants_rate(b: Backend) {
    let app = TestApp::new(b).await;
    app.clock.set(ts("2026-11-22T08:00:00Z"));
    let other = app.new_key(&["read"]).await;
    let r = app
        .put(
            "/v1/settings",
            json!({"api": {"rate_per_s": 2_147_483_648u64}}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["api.rate_per_s"], "{}", r.body);
    let r = app
        .put("/v1/settings", json!({"api": {"rate_per_s": 3}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for _ in 0..3 {
        assert_eq!(app.get("/v1/settings").await.status, StatusCode::OK);
    }
    let r = app.get("/v1/settings").await;
    r.assert_problem(429, "rate-limited");
    assert_eq!(
        r.headers.get("retry-after").and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let ok = with_key(&app, &other, Method::GET, "/v1/settings", None).await;
    assert_eq!(ok.status, StatusCode::OK, "another key has its own bucket");
    app.clock.set(ts("2026-11-22T08:00:01Z"));
    assert_eq!(
        app.get("/v1/settings").await.status,
        StatusCode::OK,
        "refilled"
    );
    let r = app
        .put("/v1/settings", json!({"api": {"rate_per_s": 0}}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    for _ in 0..10 {
        assert_eq!(
            app.get("/v1/settings").await.status,
            StatusCode::OK,
            "0: no limit"
        );
    }
}

/// A key stored before keys had records (DynamoDB: a `KEY#` item with no `info`, no pointer):
/// it keeps every scope, and its first use writes its record and pointer, so it is listed.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_key_from_before_scopes_keeps_every_scope_and_joins_the_list() {
    use aws_sdk_dynamodb::types::AttributeValue;
    let app = TestApp::new(fanloop_tests::dynamodb()).await;
    let Backend::Dynamo(d) = &app.backend else {
        unreachable!()
    };
    let old = fanloop_domain::tenant::ApiKey::generate(&fanloop_domain::tenant::OsRandom).unwrap();
    d.client()
        .put_item()
        .table_name(d.table())
        .item(
            "pk",
            AttributeValue::S(format!("KEY#{}", old.hash().as_str())),
        )
        .item("sk", AttributeValue::S("KEY".into()))
        .item("tenant", AttributeValue::S(app.tenant.to_string()))
        .item(
            "created_at",
            AttributeValue::S("2026-01-01T00:00:00.000Z".into()),
        )
        .send()
        .await
        .unwrap();
    let before = app.get("/v1/keys").await.body;
    assert_eq!(before["keys"].as_array().unwrap().len(), 1, "{before}");
    let r = with_key(
        &app,
        old.expose(),
        Method::PUT,
        "/v1/settings",
        Some(json!({})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "admin: {}", r.body);
    let after = app.get("/v1/keys").await.body;
    let keys = after["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 2, "{after}");
    assert_eq!(
        keys[0]["scopes"],
        json!(["ingest", "redeem", "read", "admin"])
    );
    assert_eq!(keys[0]["created_at"], "2026-01-01T00:00:00.000Z");
}
