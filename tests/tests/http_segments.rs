//! Saved segments and previews over HTTP on both stores: CRUD, the preview's count and sample
//! against customers whose facts the test set (consent always required), and bad filters
//! named by their path.

use axum::http::{Method, StatusCode};
use fanloop_tests::{Backend, TestApp, both_stores};
use serde_json::{Value, json};

both_stores!(
    segments_are_saved_replaced_and_deleted,
    preview_counts_the_consenting_customers_a_filter_selects,
    bad_segments_name_the_field
);

fn vip_filter() -> Value {
    json!({"all": [{"field": "tags", "op": "contains", "value": "vip"}]})
}

async fn segments_are_saved_replaced_and_deleted(b: Backend) {
    let app = TestApp::new(b).await;
    let body = json!({"segment_id": "vips", "name": "VIPs", "filter": vip_filter()});
    let r = app.post("/v1/segments", body.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["filter"], vip_filter());
    let created_at = r.body["created_at"].clone();
    let again = app.post("/v1/segments", body).await;
    again.assert_problem(409, "conflict");
    app.post(
        "/v1/segments",
        json!({"segment_id": "a-first", "name": "First", "filter": {"all": []}}),
    )
    .await;
    let list = app.get("/v1/segments").await.body;
    let ids: Vec<&str> = list["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["segment_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a-first", "vips"]);

    let changed = json!({"any": [{"field": "tier", "op": "eq", "value": "high-value"}]});
    let r = app
        .put(
            "/v1/segments/vips",
            json!({"name": "High value", "filter": changed}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let got = app.get("/v1/segments/vips").await.body;
    assert_eq!(
        (got["name"].clone(), got["filter"].clone()),
        (json!("High value"), changed)
    );
    assert_eq!(
        got["created_at"], created_at,
        "a replace keeps when it was made"
    );

    let del = app.json(Method::DELETE, "/v1/segments/vips", None).await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    app.get("/v1/segments/vips")
        .await
        .assert_problem(404, "not-found");
    app.json(Method::DELETE, "/v1/segments/vips", None)
        .await
        .assert_problem(404, "not-found");
    app.put(
        "/v1/segments/vips",
        json!({"name": "x", "filter": {"all": []}}),
    )
    .await
    .assert_problem(404, "not-found");
}

async fn preview(app: &TestApp, filter: Value) -> Value {
    let r = app
        .post("/v1/segments/preview", json!({"filter": filter}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    r.body
}

async fn preview_counts_the_consenting_customers_a_filter_selects(b: Backend) {
    let app = TestApp::new(b).await;
    // 15 consenting customers: every third a vip, two of them big spenders; one vip without
    // consent.
    for i in 0..15 {
        let tags = if i % 3 == 0 {
            json!(["vip"])
        } else {
            json!(["casual"])
        };
        let r = app
            .put(
                &format!("/v1/customers/c{i:02}"),
                json!({"tags": tags, "locale": if i < 5 { "zh-CN" } else { "en-GB" },
                       "consent": {"email_marketing": true}}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    app.put("/v1/customers/quiet", json!({"tags": ["vip"]}))
        .await;
    for c in ["c00", "c03"] {
        let r = app
            .post(
                &format!("/v1/customers/{c}/points/accruals"),
                json!({"event_id": format!("o-{c}"), "kind": "purchase", "amount_minor": 10000, "currency": "USD"}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    }
    let vips = preview(&app, vip_filter()).await;
    assert_eq!(vips["count"], 5, "{vips}");
    assert_eq!(vips["sample"], json!(["c00", "c03", "c06", "c09", "c12"]));
    assert_eq!(vips["customers"], 16);

    let big = preview(
        &app,
        json!({"all": [vip_filter(), {"field": "spend_minor", "op": "gte", "value": 10000},
                        {"field": "tier", "op": "eq", "value": "normal"}]}),
    )
    .await;
    assert_eq!(
        (big["count"].clone(), big["sample"].clone()),
        (json!(2), json!(["c00", "c03"]))
    );
    let not_cn = preview(
        &app,
        json!({"not": {"field": "locale", "op": "eq", "value": "zh-CN"}}),
    )
    .await;
    assert_eq!(not_cn["count"], 10);
    assert_eq!(
        not_cn["sample"].as_array().unwrap().len(),
        10,
        "at most 10 shown"
    );
    assert_eq!(not_cn["sample"][0], "c05");
    let nobody = preview(&app, json!({"any": []})).await;
    assert_eq!(nobody["count"], 0);
}

async fn bad_segments_name_the_field(b: Backend) {
    let app = TestApp::new(b).await;
    let ok_filter = json!({"all": []});
    for (body, field) in [
        (json!({"name": "x", "filter": ok_filter}), "segment_id"),
        (
            json!({"segment_id": "a b", "name": "x", "filter": ok_filter}),
            "segment_id",
        ),
        (json!({"segment_id": "s", "filter": ok_filter}), "name"),
        (
            json!({"segment_id": "s", "name": "  ", "filter": ok_filter}),
            "name",
        ),
        (json!({"segment_id": "s", "name": "x"}), "filter"),
        (
            json!({"segment_id": "s", "name": "x", "filter": ok_filter, "extra": 1}),
            "extra",
        ),
        (
            json!({"segment_id": "s", "name": "x",
                   "filter": {"all": [{"field": "tier", "op": "gt", "value": "gold"}]}}),
            "filter.all[0].op",
        ),
        (
            json!({"segment_id": "s", "name": "x",
                   "filter": {"field": "lifecycle", "op": "in", "value": ["growth", "Churn"]}}),
            "filter.value[1]",
        ),
    ] {
        let r = app.post("/v1/segments", body.clone()).await;
        r.assert_problem(422, "validation-error");
        assert_eq!(r.fields(), [field], "{body}");
    }
    assert!(
        app.get("/v1/segments").await.body["segments"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing written"
    );
    let r = app
        .post(
            "/v1/segments/preview",
            json!({"filter": {"field": "nope", "op": "eq", "value": 1}}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["filter.field"]);
    let r = app.post("/v1/segments/preview", json!({})).await;
    assert_eq!(r.fields(), ["filter"]);
    app.get("/v1/segments/a%20b")
        .await
        .assert_problem(422, "validation-error");
}
