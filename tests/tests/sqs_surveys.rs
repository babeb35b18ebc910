//! The SQS ingestion handler fed a real SQS event (`tests/fixtures/sqs-survey-batch.json`):
//! good, duplicate and invalid messages; the partial batch response lists exactly the messages
//! to receive again (and, for the invalid ones, to end in the dead-letter queue).

use std::sync::Arc;

use aws_lambda_events::event::sqs::SqsEvent;
use fanloop_tests::{Backend, TestApp, both_stores, dynamo_client};
use serde_json::json;

both_stores!(a_batch_reports_exactly_the_failed_messages);

fn event(tenant: &str) -> SqsEvent {
    let raw = include_str!("../fixtures/sqs-survey-batch.json").replace("{{TENANT}}", tenant);
    serde_json::from_str(&raw).unwrap()
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
    let first = fanloop_surveys::handle_sqs(&app.campaigns, event(app.tenant.as_str())).await;
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
    let again = fanloop_surveys::handle_sqs(&app.campaigns, event(app.tenant.as_str())).await;
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

/// When the store fails, every message of the batch is listed for another delivery.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn dynamodb_store_failures_are_retried() {
    let app = TestApp::new(fanloop_tests::dynamodb()).await;
    let endpoint = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").unwrap();
    let broken =
        fanloop_store_dynamodb::DynamoStore::new(dynamo_client(&endpoint), "no-such-table");
    let mut campaigns = (*app.campaigns).clone();
    campaigns.store = Arc::new(broken);
    let response =
        fanloop_surveys::handle_sqs(&Arc::new(campaigns), event(app.tenant.as_str())).await;
    let all: Vec<String> = event(app.tenant.as_str())
        .records
        .iter()
        .map(|r| r.message_id.clone().unwrap())
        .collect();
    let mut all_sorted = all.clone();
    all_sorted.sort();
    // The malformed ones fail before the store is asked; the rest fail on the store.
    assert_eq!(failures(&response), all_sorted);
}
