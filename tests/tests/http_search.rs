//! Customer search over HTTP on both stores, and its bad input.

use axum::http::StatusCode;
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    staff_find_customers,
    list_by_tier_lifecycle_and_rfm_segment,
    bad_searches
);

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
        ("?tier=normal&tag=x", "(query)"),
        ("?tier=two%20words", "tier"),
        ("?lifecycle=Growth", "lifecycle"),
        ("?rfm_segment=vip", "rfm_segment"),
        ("?rfm_segment=", "rfm_segment"),
    ] {
        let r = app.get(&format!("/v1/customers{q}")).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), [field], "{q}");
    }
}

async fn list_by_tier_lifecycle_and_rfm_segment(b: Backend) {
    let app = TestApp::new(b).await;
    for c in ["a", "b", "c"] {
        app.put(&format!("/v1/customers/{c}"), json!({})).await;
    }
    let r = app
        .post(
            "/v1/customers/a/points/accruals",
            json!({"event_id": "o1", "kind": "purchase", "amount_minor": 10000, "currency": "USD"}),
        )
        .await;
    assert_eq!(r.body["tier"], "normal", "{}", r.body);
    let before = app.get("/v1/customers?tier=normal").await.body;
    assert!(ids(&before).is_empty(), "no snapshot yet: {before}");
    assert!(before["segments_as_of"].is_null());

    let snap = app.post("/v1/analytics/snapshots", json!({})).await;
    assert!(snap.status.is_success(), "{}", snap.body);
    let list = |q: &'static str| {
        let app = &app;
        async move {
            let r = app.get(&format!("/v1/customers?{q}")).await;
            assert_eq!(r.status, StatusCode::OK, "{q}: {}", r.body);
            r.body
        }
    };
    let normal = list("tier=normal").await;
    assert_eq!(ids(&normal), ["a"]);
    assert_eq!(normal["segments_as_of"], snap.body["as_of"]);
    assert_eq!(ids(&list("tier=potential").await), ["b", "c"]);
    assert_eq!(ids(&list("lifecycle=acquisition").await), ["a", "b", "c"]);
    let segment = app.get("/v1/customers/a").await.body["rfm"]["segment"].clone();
    let seg = segment.as_str().unwrap().to_owned();
    let by_rfm = app
        .get(&format!("/v1/customers?rfm_segment={seg}"))
        .await
        .body;
    assert!(ids(&by_rfm).contains(&"a".to_owned()), "{seg}: {by_rfm}");
    assert!(list("tag=vip").await["segments_as_of"].is_null());

    app.json(axum::http::Method::DELETE, "/v1/customers/a", None)
        .await;
    assert!(ids(&list("tier=normal").await).is_empty());
    assert_eq!(ids(&list("lifecycle=acquisition").await), ["b", "c"]);
}
