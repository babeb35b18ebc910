//! The broadcast fan-out through SQS (moto), on both stores: the planner queues the due
//! customers in batches of ids (no address or name in the queue); the sender, fed SQS events
//! built from the real messages on the fixture's shape (tests/fixtures/sqs-broadcast-batch.json),
//! sends each batch at its rate. A batch of a paused campaign sends nothing and is done; after
//! the resume the next hourly planner run queues everyone still due again, and the markers make
//! the second plan and a redelivered batch send nobody a second copy. A message that is not a
//! batch is a partial batch failure (to the dead-letter queue after maxReceiveCount).

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use axum::http::StatusCode;
use fanloop_campaigns::broadcasts::handle_broadcasts;
use fanloop_domain::campaigns::definition::CampaignId;
use fanloop_engine::SendBatch;
use fanloop_engine::fanout::BATCH_SIZE;
use fanloop_engine::sqs::SqsQueue;
use fanloop_tests::{
    Backend, TestApp, both_stores, mail_header, outbox_files, sqs_client, sqs_queue, ts,
};
use serde_json::{Value, json};

both_stores!(a_queued_broadcast_reaches_each_recipient_once);

const FANS: usize = 130;

fn fixture() -> Value {
    serde_json::from_str(include_str!("../fixtures/sqs-broadcast-batch.json")).unwrap()
}

/// The SQS event Lambda would deliver for these messages (and the fixture's invalid record
/// when `with_invalid`).
fn event(messages: &[aws_sdk_sqs::types::Message], with_invalid: bool) -> SqsEvent {
    let f = fixture();
    let mut records: Vec<Value> = messages
        .iter()
        .map(|m| {
            let mut r = f["Records"][0].clone();
            r["messageId"] = json!(m.message_id().unwrap());
            r["receiptHandle"] = json!(m.receipt_handle().unwrap());
            r["body"] = json!(m.body().unwrap());
            r["md5OfBody"] = json!(m.md5_of_body().unwrap());
            r
        })
        .collect();
    if with_invalid {
        records.push(f["Records"][1].clone());
    }
    serde_json::from_value(json!({ "Records": records })).unwrap()
}

fn failures(r: &SqsBatchResponse) -> Vec<String> {
    r.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.clone())
        .collect()
}

/// Every message on the queue, received (and deleted, as the event source mapping does once
/// the function answers).
async fn drain(client: &aws_sdk_sqs::Client, url: &str) -> Vec<aws_sdk_sqs::types::Message> {
    let mut out = Vec::new();
    loop {
        let got = client
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap()
            .messages
            .unwrap_or_default();
        if got.is_empty() {
            return out;
        }
        for m in &got {
            client
                .delete_message()
                .queue_url(url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        out.extend(got);
    }
}

/// Mails in the outbox per recipient (local part of `To`).
fn mailed(app: &TestApp) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for (_, raw) in outbox_files(&app.outbox) {
        let to = mail_header(&raw, "To").unwrap();
        let local = to.rsplit('<').next().unwrap().split('@').next().unwrap();
        *out.entry(local.to_owned()).or_default() += 1;
    }
    out
}

async fn set_status(app: &TestApp, def: &Value, status: &str) {
    let mut d = def.clone();
    d["status"] = json!(status);
    let r = app.put("/v1/campaigns/drop", d).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
}

async fn a_queued_broadcast_reaches_each_recipient_once(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 0..FANS {
        let id = format!("f{i:03}");
        let r = app
            .put(
                &format!("/v1/customers/{id}"),
                json!({"email": format!("{id}@example.com"), "display_name": format!("Fan {i}"),
                       "tags": ["fan"], "consent": {"email_marketing": true}}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let r = app
        .put(
            "/v1/customers/casual",
            json!({"email": "casual@example.com", "tags": ["casual"],
                   "consent": {"email_marketing": true}}),
        )
        .await;
    assert!(r.status.is_success());
    let def = json!({"campaign_id": "drop", "name": "Season drop", "status": "active",
        "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
        "audience": {"filter": {"field": "tags", "op": "contains", "value": "fan"}},
        "offer": {"value_minor": 300, "currency": "USD", "valid_days": 7},
        "templates": {"en": {"subject": "The drop is here", "html": "<p>{{ coupon.code }}</p>",
                             "text": "{{ coupon.code }}"}}});
    let r = app.post("/v1/campaigns", def.clone()).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);

    let client = sqs_client();
    let url = sqs_queue(&client, "broadcasts").await;
    let mut planner = (*app.campaigns).clone();
    planner.queue = Some(Arc::new(SqsQueue::new(client.clone(), url.clone())));
    let id = CampaignId::parse("drop").unwrap();

    // The planner at 10:00: everyone due is queued, nobody mailed yet.
    app.clock.set(ts("2027-02-10T10:00:00Z"));
    let plan = planner
        .run_defined(&app.tenant, &id, None, false)
        .await
        .unwrap();
    assert_eq!(
        (plan.candidates, plan.queued, plan.sent),
        (FANS as u64, FANS as u64, 0)
    );
    assert!(mailed(&app).is_empty());
    let first = drain(&client, &url).await;
    let sizes: Vec<usize> = first
        .iter()
        .map(|m| {
            let body = m.body().unwrap();
            assert!(
                !body.contains('@') && !body.contains("Fan "),
                "ids only: {body}"
            );
            serde_json::from_str::<SendBatch>(body)
                .unwrap()
                .customers
                .len()
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), FANS);
    assert!(
        sizes.iter().all(|n| *n <= BATCH_SIZE) && sizes.len() == 2,
        "{sizes:?}"
    );

    // The first batch is sent; the campaign is paused before the second arrives: nothing, done.
    let r = handle_broadcasts(&app.campaigns, event(&first[..1], true)).await;
    assert_eq!(
        failures(&r),
        ["8d1f3c5e-2b7a-4c9d-a1e3-000000000002"],
        "not a batch"
    );
    assert_eq!(mailed(&app).len(), sizes[0]);
    set_status(&app, &def, "paused").await;
    let r = handle_broadcasts(&app.campaigns, event(&first[1..], false)).await;
    assert!(failures(&r).is_empty());
    assert_eq!(mailed(&app).len(), sizes[0], "paused: nothing sent");

    // Resumed: the next hourly plan queues everyone still due; the senders mail only those
    // not mailed yet, and a redelivered batch sends nothing.
    set_status(&app, &def, "active").await;
    app.clock.set(ts("2027-02-10T11:00:00Z"));
    let plan = planner
        .run_defined(&app.tenant, &id, None, false)
        .await
        .unwrap();
    assert_eq!(plan.queued, FANS as u64);
    let second = drain(&client, &url).await;
    let r = handle_broadcasts(&app.campaigns, event(&second, false)).await;
    assert!(failures(&r).is_empty());
    let r = handle_broadcasts(&app.campaigns, event(&first, false)).await;
    assert!(failures(&r).is_empty());
    let got = mailed(&app);
    assert_eq!(got.len(), FANS, "{got:?}");
    assert!(got.values().all(|n| *n == 1), "each exactly once: {got:?}");
    assert!(!got.contains_key("casual"));

    let report = app
        .get("/v1/campaigns/drop/report?from=2027-02-10&to=2027-02-10")
        .await
        .body;
    assert_eq!(report["totals"]["sent"], FANS, "{report}");
    assert_eq!(report["totals"]["eligible"], FANS, "{report}");
}
