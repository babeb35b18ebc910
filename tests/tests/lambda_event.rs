//! The router as Lambda runs it: a real API Gateway HTTP API (v2) event, turned into a request by
//! lambda_http exactly as `lambda_http::run` does, answered by the same router `fanloop serve`
//! uses.

use axum::http::StatusCode;
use fanloop_tests::{TestApp, sqlite};
use tower::ServiceExt;

#[tokio::test]
async fn api_gateway_v2_event_reaches_the_profiles_router() {
    let app = TestApp::new(sqlite()).await;
    let event =
        include_str!("../fixtures/apigw-v2-put-customer.json").replace("__API_KEY__", &app.key);
    let request = lambda_http::request::from_str(&event).expect("a valid API Gateway v2 event");
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    let profile: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(profile["customer_id"], "lambda-player");
    assert_eq!(
        app.get("/v1/customers/lambda-player").await.body["display_name"],
        "Lambda Li"
    );
}
