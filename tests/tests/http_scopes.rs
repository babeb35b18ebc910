//! Every route of the OpenAPI document against every scope: the table below is the scope
//! decision of each operation, and the test fails if the document has an operation the table
//! lacks (a new route must be placed) or the table names one the document does not. Each
//! operation is then called with a key of each single scope: a scope it does not accept is 403
//! `forbidden` naming the scope it needs; one it accepts is neither 401 nor 403.

use std::collections::BTreeSet;

use axum::http::Method;
use fanloop_tests::TestApp;

/// `(method, path, accepted scopes)`; an empty list is a public route (no key).
const ROUTES: &[(&str, &str, &[&str])] = &[
    ("GET", "/unsubscribe/{token}", &[]),
    ("POST", "/unsubscribe/{token}", &[]),
    ("GET", "/v1/analytics/churn", &["read"]),
    ("GET", "/v1/analytics/items", &["read"]),
    ("GET", "/v1/analytics/lifecycle", &["read"]),
    ("GET", "/v1/analytics/overview", &["read"]),
    ("GET", "/v1/analytics/rfm", &["read"]),
    ("POST", "/v1/analytics/snapshots", &["admin"]),
    ("GET", "/v1/analytics/streamers", &["read"]),
    ("GET", "/v1/analytics/tiers", &["read"]),
    ("GET", "/v1/campaigns", &["read"]),
    ("POST", "/v1/campaigns", &["admin"]),
    ("DELETE", "/v1/campaigns/{campaign_id}", &["admin"]),
    ("GET", "/v1/campaigns/{campaign_id}", &["read"]),
    ("PUT", "/v1/campaigns/{campaign_id}", &["admin"]),
    ("GET", "/v1/campaigns/{campaign_id}/report", &["read"]),
    ("POST", "/v1/campaigns/{campaign_id}/runs", &["admin"]),
    ("GET", "/v1/coupons/{code}", &["read"]),
    ("POST", "/v1/coupons/{code}/redemptions", &["redeem"]),
    ("POST", "/v1/coupons/{code}/void", &["redeem", "admin"]),
    ("GET", "/v1/customers", &["read"]),
    ("DELETE", "/v1/customers/{customer_id}", &["admin"]),
    ("GET", "/v1/customers/{customer_id}", &["read"]),
    ("PUT", "/v1/customers/{customer_id}", &["ingest"]),
    (
        "POST",
        "/v1/customers/{customer_id}/activities",
        &["ingest"],
    ),
    ("GET", "/v1/customers/{customer_id}/contacts", &["read"]),
    ("POST", "/v1/customers/{customer_id}/contacts", &["ingest"]),
    ("GET", "/v1/customers/{customer_id}/coupons", &["read"]),
    ("GET", "/v1/customers/{customer_id}/events", &["read"]),
    ("POST", "/v1/customers/{customer_id}/events", &["ingest"]),
    (
        "POST",
        "/v1/customers/{customer_id}/events/batch",
        &["ingest"],
    ),
    ("GET", "/v1/customers/{customer_id}/export", &["admin"]),
    ("POST", "/v1/feedback", &["admin"]),
    ("GET", "/v1/suppressions", &["admin"]),
    ("DELETE", "/v1/suppressions/{email}", &["admin"]),
    (
        "DELETE",
        "/v1/customers/{customer_id}/identities/{platform}/{external_id}",
        &["ingest"],
    ),
    ("GET", "/v1/customers/{customer_id}/messages", &["read"]),
    ("GET", "/v1/customers/{customer_id}/points", &["read"]),
    (
        "POST",
        "/v1/customers/{customer_id}/points/accruals",
        &["ingest"],
    ),
    (
        "POST",
        "/v1/customers/{customer_id}/points/adjustments",
        &["admin"],
    ),
    (
        "GET",
        "/v1/customers/{customer_id}/points/ledger",
        &["read"],
    ),
    (
        "POST",
        "/v1/customers/{customer_id}/points/redemptions",
        &["redeem", "admin"],
    ),
    (
        "POST",
        "/v1/customers/{customer_id}/points/reversals",
        &["ingest"],
    ),
    ("GET", "/v1/customers/{customer_id}/timeline", &["read"]),
    ("GET", "/v1/cases", &["read"]),
    ("POST", "/v1/cases", &["ingest"]),
    ("GET", "/v1/cases/{case_id}", &["read"]),
    ("GET", "/v1/followups", &["read"]),
    ("GET", "/v1/followups/{followup_id}", &["read"]),
    ("POST", "/v1/followups/{followup_id}/close", &["admin"]),
    ("GET", "/v1/identities/{platform}/{external_id}", &["read"]),
    ("GET", "/v1/ingest-secrets", &["admin"]),
    ("POST", "/v1/ingest-secrets", &["admin"]),
    ("GET", "/v1/keys", &["admin"]),
    ("POST", "/v1/keys", &["admin"]),
    ("DELETE", "/v1/keys/{key_id}", &["admin"]),
    ("GET", "/v1/rewards", &["read"]),
    ("GET", "/v1/segments", &["read"]),
    ("POST", "/v1/segments", &["admin"]),
    ("POST", "/v1/segments/preview", &["read"]),
    ("DELETE", "/v1/segments/{segment_id}", &["admin"]),
    ("GET", "/v1/segments/{segment_id}", &["read"]),
    ("PUT", "/v1/segments/{segment_id}", &["admin"]),
    ("GET", "/v1/settings", &["read"]),
    ("PUT", "/v1/settings", &["admin"]),
    ("POST", "/v1/surveys/{survey_id}/responses", &["ingest"]),
    (
        "POST",
        "/v1/surveys/{survey_id}/responses/batch",
        &["ingest"],
    ),
    ("GET", "/v1/surveys/{survey_id}/summary", &["read"]),
];

const SCOPES: [&str; 4] = ["ingest", "redeem", "read", "admin"];

/// The path with each `{param}` filled in with a plausible value.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| match seg {
            "{code}" => "7K3M-Q9XA-2HCT",
            "{platform}" => "steam",
            "{email}" => "ann@example.com",
            s if s.starts_with('{') => "x1",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[tokio::test]
async fn every_route_has_a_scope_decision_that_the_api_enforces() {
    let app = TestApp::new(fanloop_tests::sqlite()).await;
    let doc = fanloop_http::openapi::to_json(&app.openapi);
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .unwrap()
                .keys()
                .filter(|m| ["get", "post", "put", "patch", "delete"].contains(&m.as_str()))
                .map(move |m| (m.to_uppercase(), path.clone()))
        })
        .collect();
    let table: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let unplaced: Vec<_> = documented.difference(&table).collect();
    assert!(
        unplaced.is_empty(),
        "routes without a scope decision: {unplaced:?}"
    );
    let gone: Vec<_> = table.difference(&documented).collect();
    assert!(
        gone.is_empty(),
        "the table names routes the document lacks: {gone:?}"
    );

    let mut keys = Vec::new();
    for s in SCOPES {
        keys.push((s, app.new_key(&[s]).await));
    }
    for (method, path, accepted) in ROUTES {
        if accepted.is_empty() {
            continue;
        }
        let uri = concrete(path);
        let m = Method::from_bytes(method.as_bytes()).unwrap();
        let body = if *method == "GET" || *method == "DELETE" {
            (None, Vec::new())
        } else {
            (Some("application/json"), b"{}".to_vec())
        };
        for (scope, key) in &keys {
            let r = app
                .send(m.clone(), &uri, body.0, body.1.clone(), Some(key))
                .await;
            if accepted.contains(scope) {
                assert!(
                    ![401, 403].contains(&r.status.as_u16()),
                    "{method} {path} with {scope}: {} {}",
                    r.status,
                    r.body
                );
            } else {
                r.assert_problem(403, "forbidden");
                assert_eq!(
                    r.body["scope"], accepted[0],
                    "{method} {path} with {scope}: {}",
                    r.body
                );
            }
        }
    }
}
