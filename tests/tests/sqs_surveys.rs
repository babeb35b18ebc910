//! The SQS ingestion handler fed a real SQS event (`tests/fixtures/sqs-survey-batch.json`):
//! good, duplicate and invalid messages; the partial batch response lists exactly the messages
//! to receive again (and, for the invalid ones, to end in the dead-letter queue).

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use fanloop_tests::{Backend, TestApp, both_stores, dynamo_client};
use serde_json::{Value, json};

both_stores!(
    a_batch_reports_exactly_the_failed_messages,
    unsigned_or_wrongly_signed_messages_are_refused_not_retried,
);

/// The fixture's batch for `tenant`, each message signed with `secret` as a producer does.
fn signed(tenant: &str, secret: &fanloop_domain::ingest::IngestSecret) -> Value {
    let raw = include_str!("../fixtures/sqs-survey-batch.json").replace("{{TENANT}}", tenant);
    let mut v: Value = serde_json::from_str(&raw).unwrap();
    fanloop_tests::sign_sqs_event(&mut v, secret);
    v
}

async fn event_of(app: &TestApp) -> SqsEvent {
    let secret = fanloop_tests::ingest_secret(app.backend.store().as_ref(), &app.tenant).await;
    serde_json::from_value(signed(app.tenant.as_str(), &secret)).unwrap()
}

fn failures(response: &aws_lambda_events::event::sqs::SqsBatchResponse) -> Vec<String> {
    // The wire form Lambda reads: {"batchItemFailures": [{"itemIdentifier": …}]}.
    let wire = serde_json::to_value(response).unwrap();
    let mut ids: Vec<String> = wire["batchItemFailures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["itemIdentifier"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

const INVALID: [&str; 5] = [
    "5f8c0e2a-1a9e-4b8e-9c57-000000000003", // nps 11
    "5f8c0e2a-1a9e-4b8e-9c57-000000000005", // not JSON
    "5f8c0e2a-1a9e-4b8e-9c57-000000000006", // unknown customer
    "5f8c0e2a-1a9e-4b8e-9c57-000000000007", // no survey_id
    "5f8c0e2a-1a9e-4b8e-9c57-000000000008", // unknown tenant
];

async fn a_batch_reports_exactly_the_failed_messages(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/viewer-1", json!({})).await;
    let first = fanloop_surveys::handle_sqs(&app.campaigns, event_of(&app).await).await;
    assert_eq!(failures(&first), INVALID.to_vec());

    let s = app
        .get("/v1/surveys/after-the-final/summary?from=2026-11-22&to=2026-11-22")
        .await
        .body;
    assert_eq!(
        s["responses"], 2,
        "evt-1 once (its duplicate not), evt-2: {s}"
    );
    assert_eq!(
        (
            s["nps"]["promoters"].clone(),
            s["nps"]["detractors"].clone()
        ),
        (json!(1), json!(1))
    );
    let open = app.get("/v1/followups").await.body;
    assert_eq!(open["items"].as_array().unwrap().len(), 1, "{open}");
    assert_eq!(open["items"][0]["comment"], "video froze");
    let c = app.get("/v1/customers/viewer-1").await.body;
    assert_eq!(
        c["last_active_at"], "2026-11-22T07:58:00.000Z",
        "an answer is activity"
    );

    // SQS delivers the batch again (at-least-once): nothing counts twice, the same failures.
    let again = fanloop_surveys::handle_sqs(&app.campaigns, event_of(&app).await).await;
    assert_eq!(failures(&again), INVALID.to_vec());
    let s2 = app
        .get("/v1/surveys/after-the-final/summary?from=2026-11-22&to=2026-11-22")
        .await
        .body;
    assert_eq!(s2["responses"], 2);
    assert_eq!(
        app.get("/v1/followups").await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

/// A message without a valid signature (none, another secret's, another body's) is refused:
/// not recorded and not listed for another delivery (SQS deletes it); a correctly signed one
/// in the same batch is recorded; after a rotation the previous secret still works.
async fn unsigned_or_wrongly_signed_messages_are_refused_not_retried(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/viewer-1", json!({})).await;
    let store = app.backend.store();
    let secret = fanloop_tests::ingest_secret(store.as_ref(), &app.tenant).await;
    let mut v = signed(app.tenant.as_str(), &secret);
    let records = v["Records"].as_array_mut().unwrap();
    records.truncate(2);
    // 001 unsigned; 002 signed by another secret.
    records[0]["messageAttributes"]
        .as_object_mut()
        .unwrap()
        .remove("signature");
    let stranger =
        fanloop_domain::ingest::IngestSecret::generate(&fanloop_domain::tenant::OsRandom, ts())
            .unwrap();
    let body = records[1]["body"].as_str().unwrap().to_owned();
    records[1]["messageAttributes"]["signature"]["stringValue"] =
        json!(stranger.sign(body.as_bytes()));
    let refused =
        fanloop_surveys::handle_sqs(&app.campaigns, serde_json::from_value(v).unwrap()).await;
    assert!(failures(&refused).is_empty(), "refused, not retried");
    let s = app
        .get("/v1/surveys/after-the-final/summary?from=2026-11-22&to=2026-11-22")
        .await
        .body;
    assert_eq!(s["responses"], 0, "nothing recorded: {s}");

    // A rotation: the new secret and the previous one both sign; the first is retired later.
    let r = app.post("/v1/ingest-secrets", json!({})).await;
    assert_eq!(r.status, axum::http::StatusCode::CREATED, "{}", r.body);
    assert!(r.body["secret"].as_str().unwrap().len() == 64);
    let listed = app.get("/v1/ingest-secrets").await.body;
    assert_eq!(listed["secrets"].as_array().unwrap().len(), 2, "{listed}");
    assert!(
        !listed.to_string().contains(&secret.secret),
        "never the secret"
    );
    let ok = fanloop_surveys::handle_sqs(
        &app.campaigns,
        serde_json::from_value(signed(app.tenant.as_str(), &secret)).unwrap(),
    )
    .await;
    assert_eq!(
        failures(&ok),
        INVALID.to_vec(),
        "the previous secret still signs"
    );
}

fn ts() -> jiff::Timestamp {
    "2026-11-22T08:00:00Z".parse().unwrap()
}

/// When the store fails, every message of the batch is listed for another delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store_failures_are_retried() {
    let app = TestApp::new(fanloop_tests::dynamodb()).await;
    let endpoint = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").unwrap();
    let broken =
        fanloop_store_dynamodb::DynamoStore::new(dynamo_client(&endpoint), "no-such-table");
    let mut campaigns = (*app.campaigns).clone();
    campaigns.store = Arc::new(broken);
    let response = fanloop_surveys::handle_sqs(&Arc::new(campaigns), event_of(&app).await).await;
    let all: Vec<String> = event_of(&app)
        .await
        .records
        .iter()
        .map(|r| r.message_id.clone().unwrap())
        .collect();
    let mut all_sorted = all.clone();
    all_sorted.sort();
    // The malformed ones fail before the store is asked; the rest fail on the store.
    assert_eq!(failures(&response), all_sorted);
}
