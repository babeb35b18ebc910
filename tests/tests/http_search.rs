//! Customer search over HTTP on both stores, and its bad input.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(staff_find_customers, bad_searches);

fn ids(body: &Value) -> Vec<String> {
    body["customers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["customer_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn staff_find_customers(b: Backend) {
    let app = TestApp::new(b).await;
    app.put(
        "/v1/customers/li",
        json!({"email": "Li.Wei@Example.com", "phone": "+86 138 1234 5678", "tags": ["vip"],
               "identities": [{"platform": "twitch", "external_id": "liwei"}]}),
    )
    .await;
    for i in 0..5 {
        app.put(&format!("/v1/customers/v{i}"), json!({"tags": ["vip"]}))
            .await;
    }
    let r = app.get("/v1/customers?email=Li.Wei%40EXAMPLE.COM").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(ids(&r.body), ["li"]);
    assert_eq!(r.body["customers"][0]["email"], "Li.Wei@example.com");
    assert_eq!(
        ids(&app.get("/v1/customers?phone=%2B8613812345678").await.body),
        ["li"]
    );
    assert_eq!(
        ids(&app.get("/v1/customers?identity=twitch:liwei").await.body),
        ["li"]
    );
    assert!(ids(&app.get("/v1/customers?identity=twitch:nobody").await.body).is_empty());
    let page = app.get("/v1/customers?tag=vip&limit=4").await.body;
    assert_eq!(ids(&page), ["li", "v0", "v1", "v2"]);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app
        .get(&format!("/v1/customers?tag=vip&limit=4&cursor={next}"))
        .await
        .body;
    assert_eq!(ids(&rest), ["v3", "v4"]);
    assert!(rest["next_cursor"].is_null());
    app.json(axum::http::Method::DELETE, "/v1/customers/li", None)
        .await;
    assert!(
        ids(&app
            .get("/v1/customers?email=Li.Wei%40example.com")
            .await
            .body)
        .is_empty()
    );
    assert!(ids(&app.get("/v1/customers?identity=twitch:liwei").await.body).is_empty());
}

async fn bad_searches(b: Backend) {
    let app = TestApp::new(b).await;
    for (q, field) in [
        ("", "(query)"),
        ("?email=a%40b.co&tag=x", "(query)"),
        ("?identity=twitch:x&tag=x", "(query)"),
        ("?email=not-an-email", "email"),
        ("?phone=12", "phone"),
        ("?tag=two%20words", "tag"),
        ("?identity=twitch", "identity"),
        ("?identity=tw%20itch:x", "identity"),
        ("?tag=vip&limit=0", "limit"),
        ("?tag=vip&limit=101", "limit"),
        ("?tag=vip&cursor=zz", "cursor"),
        ("?tag=vip&cursor=cc1.2320", "cursor"),
    ] {
        let r = app.get(&format!("/v1/customers{q}")).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), [field], "{q}");
    }
}
