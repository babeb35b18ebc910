//! The Lambda path end to end: the function binaries themselves (`profiles`, `points`,
//! `campaigns`, `surveys-queue`) run against a local Lambda Runtime API
//! (`fanloop_tests::runtime_api`), configured as on AWS (table, SES, the unsubscribe secret in
//! Secrets Manager — all on moto), and driven with real event JSON: API Gateway HTTP API v2
//! requests, an EventBridge Scheduler input and an SQS batch.

use fanloop_domain::ProfilePatch;
use fanloop_tests::runtime_api::{Function, binary};
use fanloop_tests::{MOTO_HELP, dynamodb, moto_get};
use serde_json::{Value, json};

fn moto() -> (String, String) {
    (
        std::env::var("FANLOOP_TEST_AWS_ENDPOINT").expect(MOTO_HELP),
        std::env::var("FANLOOP_TEST_TABLE").expect(MOTO_HELP),
    )
}

/// The environment every function gets on AWS (template.yaml), pointed at moto.
async fn aws_env() -> Vec<(&'static str, String)> {
    let (endpoint, table) = moto();
    use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
    let conf = |b: aws_sdk_secretsmanager::config::Builder| {
        b.behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(&endpoint)
            .credentials_provider(Credentials::new("test", "test", None, None, "static"))
            .build()
    };
    let secrets =
        aws_sdk_secretsmanager::Client::from_conf(conf(aws_sdk_secretsmanager::Config::builder()));
    let secret = format!("fanloop/lambda-path-{}", std::process::id());
    let _ = secrets
        .create_secret()
        .name(&secret)
        .secret_string("lambda-path-unsubscribe-secret-0123456789")
        .send()
        .await;
    let ses = {
        use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
        aws_sdk_sesv2::Client::from_conf(
            aws_sdk_sesv2::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(&endpoint)
                .credentials_provider(Credentials::new("test", "test", None, None, "static"))
                .build(),
        )
    };
    let _ = ses
        .create_email_identity()
        .email_identity("hello@lambda.example")
        .send()
        .await;
    vec![
        ("FANLOOP_TABLE", table),
        ("FANLOOP_DYNAMODB_ENDPOINT", endpoint.clone()),
        ("FANLOOP_SES_ENDPOINT", endpoint.clone()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", endpoint),
        ("FANLOOP_UNSUBSCRIBE_SECRET_ID", secret),
        ("FANLOOP_PUBLIC_URL", "https://fanloop.test".into()),
        ("FANLOOP_SENDER", "hello@lambda.example".into()),
        ("FANLOOP_SEND_RATE", "100".into()),
    ]
}

/// An API Gateway HTTP API (payload 2.0) request, from the recorded fixture.
fn apigw(method: &str, route: &str, path: &str, key: &str, body: Value) -> Value {
    let mut e: Value =
        serde_json::from_str(include_str!("../fixtures/apigw-v2-put-customer.json")).unwrap();
    e["routeKey"] = json!(format!("{method} {route}"));
    e["requestContext"]["routeKey"] = e["routeKey"].clone();
    e["rawPath"] = json!(path);
    e["requestContext"]["http"]["method"] = json!(method);
    e["requestContext"]["http"]["path"] = json!(path);
    e["headers"]["authorization"] = json!(format!("Bearer {key}"));
    if let Some(h) = e["headers"].as_object_mut() {
        h.remove("content-length");
    }
    e["body"] = json!(body.to_string());
    e
}

fn body(reply: &Value) -> Value {
    serde_json::from_str(reply["body"].as_str().unwrap_or("null")).unwrap_or(Value::Null)
}

/// A zone where it is now between 11:00 and 22:59, and today's date there (`--MM-DD`).
fn zone_past_send_hour() -> (String, String) {
    let now = jiff::Timestamp::now();
    for offset in -12i32..=14 {
        let zone = match offset {
            0 => "UTC".to_owned(),
            o if o < 0 => format!("Etc/GMT+{}", -o),
            o => format!("Etc/GMT-{o}"),
        };
        let local = now.to_zoned(jiff::tz::TimeZone::get(&zone).unwrap());
        if (11..23).contains(&local.hour()) {
            return (zone, format!("--{:02}-{:02}", local.month(), local.day()));
        }
    }
    unreachable!("some zone is always between 11:00 and 22:59")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn profile_accrual_birthday_and_survey_batch_through_the_function_binaries() {
    let backend = dynamodb();
    let (tenant, key) = backend.tenant().await;
    let key = key.expose().to_owned();
    let env = aws_env().await;

    // Profiles: an API Gateway PUT, as the HTTP API delivers it.
    let profiles = Function::start(&binary("profiles"), &env).await;
    let (zone, birthday) = zone_past_send_hour();
    let put = apigw(
        "PUT",
        "/v1/customers/{customer_id}",
        "/v1/customers/lambda-player",
        &key,
        json!({"email": "lambda@example.com", "display_name": "Lambda Li", "birthday": birthday,
               "timezone": zone, "consent": {"email_marketing": true}}),
    );
    let reply = profiles.invoke(put).await.unwrap();
    assert_eq!(reply["statusCode"], 201, "{reply}");
    assert_eq!(body(&reply)["display_name"], "Lambda Li");
    assert!(profiles.init_time().is_some(), "the runtime polled");
    let unauthorised = profiles
        .invoke(apigw(
            "GET",
            "/v1/customers/{customer_id}",
            "/v1/customers/lambda-player",
            "flk_wrong",
            json!(null),
        ))
        .await
        .unwrap();
    assert_eq!(unauthorised["statusCode"], 401);

    // Points: an accrual, then the same request again (exactly once).
    let points = Function::start(&binary("points"), &env).await;
    let accrual = apigw(
        "POST",
        "/v1/customers/{customer_id}/points/accruals",
        "/v1/customers/lambda-player/points/accruals",
        &key,
        json!({"event_id": "iap-1", "kind": "purchase", "amount_minor": 4999, "currency": "USD"}),
    );
    let first = points.invoke(accrual.clone()).await.unwrap();
    assert_eq!(first["statusCode"], 201, "{first}");
    assert_eq!(body(&first)["balance"], 490);
    let again = points.invoke(accrual).await.unwrap();
    assert_eq!(again["statusCode"], 200);
    assert_eq!(body(&again)["balance"], 490);

    // Campaigns: the EventBridge Scheduler input (scoped to this tenant: the table is shared by
    // concurrent tests), sending through moto's SES.
    let campaigns = Function::start(&binary("campaigns"), &env).await;
    let mut event: Value =
        serde_json::from_str(include_str!("../fixtures/scheduler-birthday.json")).unwrap();
    event["tenant"] = json!(tenant.as_str());
    let run = campaigns.invoke(event.clone()).await.unwrap();
    assert_eq!(run["runs"][0]["report"]["sent"], 1, "{run}");
    let messages = backend
        .store()
        .messages(
            &tenant,
            &fanloop_domain::CustomerId::parse("lambda-player").unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].provider.as_deref(), Some("ses"));
    let sent = moto_get("/moto-api/data.json").await;
    assert!(
        sent.contains(&messages[0].id),
        "moto's SES holds the raw message"
    );
    let repeat = campaigns.invoke(event).await.unwrap();
    assert_eq!(
        repeat["runs"][0]["report"]["sent"], 0,
        "a repeated event sends nothing"
    );
    let bad = campaigns.invoke(json!({"kind": "anniversary"})).await;
    assert!(
        bad.is_err(),
        "an invalid schedule input is an error (to the DLQ)"
    );

    // Surveys: the SQS batch.
    let viewer = fanloop_domain::CustomerId::parse("viewer-1").unwrap();
    backend
        .store()
        .upsert_profile(
            &tenant,
            &viewer,
            &ProfilePatch::from_json(json!({}), jiff::civil::date(2026, 1, 1)).unwrap(),
            jiff::Timestamp::now(),
        )
        .await
        .unwrap();
    let queue = Function::start(&binary("surveys-queue"), &env).await;
    let batch: Value = serde_json::from_str(
        &include_str!("../fixtures/sqs-survey-batch.json").replace("{{TENANT}}", tenant.as_str()),
    )
    .unwrap();
    // The fixture's answers are dated 2026-11-22; keep them within the last 366 days.
    let batch_now = {
        let mut b = batch.clone();
        for r in b["Records"].as_array_mut().unwrap() {
            if let Some(s) = r["body"].as_str() {
                r["body"] = json!(s.replace(
                    "2026-11-22T07:58:00Z",
                    &fanloop_domain::time::format(jiff::Timestamp::now())
                ));
            }
        }
        b
    };
    let result = queue.invoke(batch_now).await.unwrap();
    let failed: Vec<&str> = result["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap())
        .collect();
    assert_eq!(failed.len(), 5, "{result}");
    assert!(!failed.contains(&"5f8c0e2a-1a9e-4b8e-9c57-000000000001"));
    assert!(
        !failed.contains(&"5f8c0e2a-1a9e-4b8e-9c57-000000000004"),
        "a duplicate is done"
    );
}
