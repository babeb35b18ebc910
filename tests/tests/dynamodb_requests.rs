//! How many DynamoDB requests each operation makes, counted by an SDK interceptor on the real
//! client against moto (every attempt is counted, retries included).

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use fanloop_domain::points::AccrualRequest;
use fanloop_domain::ports::{ProfileStore, Store, TenantStore};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKey, OsRandom, Tenant};
use fanloop_domain::{CustomerId, ExternalId, ProfilePatch, TenantId};
use fanloop_points::service::{self, RedemptionRequest, Spend};
use fanloop_store_dynamodb::DynamoStore;
use fanloop_tests::{MOTO_HELP, active, ts};
use serde_json::json;

#[derive(Debug, Clone, Default)]
struct Requests(Arc<Mutex<Vec<String>>>);

impl Requests {
    /// The operations sent since the last call (`GetItem`, `TransactWriteItems`, …).
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Requests {
    fn name(&self) -> &'static str {
        "CountRequests"
    }

    fn read_before_transmit(
        &self,
        ctx: &BeforeTransmitInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let target = ctx.request().headers().get("x-amz-target").unwrap_or("?");
        let op = target.rsplit('.').next().unwrap_or(target).to_owned();
        self.0.lock().unwrap().push(op);
        Ok(())
    }
}

fn counted_store(requests: &Requests) -> DynamoStore {
    let (Ok(endpoint), Ok(table)) = (
        std::env::var("FANLOOP_TEST_AWS_ENDPOINT"),
        std::env::var("FANLOOP_TEST_TABLE"),
    ) else {
        panic!("{MOTO_HELP}");
    };
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .interceptor(requests.clone())
        .build();
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), table)
}

#[tokio::test]
async fn requests_per_operation() {
    let requests = Requests::default();
    let store = counted_store(&requests);
    let tenant = TenantId::parse(format!("t-count-{}", std::process::id())).unwrap();
    let key = ApiKey::generate(&OsRandom).unwrap();
    store
        .create_tenant(
            &Tenant {
                id: tenant.clone(),
                name: "count".into(),
                created_at: ts("2026-01-01T00:00:00Z"),
            },
            &key,
        )
        .await
        .unwrap();
    requests.take();
    let c = CustomerId::parse("counted").unwrap();
    let now = ts("2026-01-10T00:00:00Z");

    let patch = ProfilePatch::from_json(
        json!({"email": "c@example.com", "birthday": "--05-05"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store
        .upsert_profile(&tenant, &c, &patch, now)
        .await
        .unwrap();
    // An e-mail is indexed for search: the tenant's lookup key (read once per process), the
    // profile as it is, and one transaction with the index items.
    assert_eq!(
        requests.take(),
        ["GetItem", "GetItem", "TransactWriteItems"],
        "profile upsert with an e-mail (create, first of the process)"
    );
    store
        .upsert_profile(&tenant, &c, &patch, now)
        .await
        .unwrap();
    assert_eq!(
        requests.take(),
        ["GetItem", "TransactWriteItems"],
        "profile upsert with an e-mail (update)"
    );
    let unindexed = ProfilePatch::from_json(
        json!({"display_name": "Counted", "birthday": "--05-06"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store
        .upsert_profile(&tenant, &c, &unindexed, now)
        .await
        .unwrap();
    assert_eq!(
        requests.take(),
        ["UpdateItem"],
        "profile upsert of unindexed fields"
    );

    let settings = TenantSettings::default();
    let store: Arc<dyn Store> = Arc::new(store);
    let accrual = |id: &str| {
        AccrualRequest::from_json(
            json!({"event_id": id, "kind": "bonus", "points": 50}),
            &settings.points.earning,
            now,
        )
        .unwrap()
    };
    service::accrue(store.as_ref(), &settings, &tenant, &c, accrual("e1"), now)
        .await
        .unwrap();
    assert_eq!(
        requests.take(),
        ["GetItem", "TransactWriteItems"],
        "first accrual of a customer in this process (cold)"
    );
    service::accrue(store.as_ref(), &settings, &tenant, &c, accrual("e2"), now)
        .await
        .unwrap();
    assert_eq!(requests.take(), ["TransactWriteItems"], "accrual (warm)");

    let redemption = RedemptionRequest {
        redemption_id: ExternalId::parse("r1").unwrap(),
        spend: Spend::Points {
            points: 20,
            reward: None,
        },
    };
    service::redeem(store.as_ref(), &settings, &tenant, &c, redemption, now)
        .await
        .unwrap();
    assert_eq!(requests.take(), ["TransactWriteItems"], "redemption (warm)");

    // Another writer (here: activity) moved the account on: the failed condition returns the
    // current item, so the retry needs no read.
    store
        .record_activity(&tenant, &c, active("2026-01-10T01:00:00Z"))
        .await
        .unwrap();
    requests.take();
    service::accrue(store.as_ref(), &settings, &tenant, &c, accrual("e3"), now)
        .await
        .unwrap();
    assert_eq!(
        requests.take(),
        ["TransactWriteItems", "TransactWriteItems"],
        "accrual after a write elsewhere"
    );
    let view = service::view(store.as_ref(), &settings, &tenant, &c, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(view.balance, 130, "50 + 50 - 20 + 50");
    requests.take();

    store.profile_and_account(&tenant, &c).await.unwrap();
    assert_eq!(requests.take(), ["GetItem"], "customer read with points");

    // A reversal reads the accrual it takes back (entries never change), then commits.
    let reversal = fanloop_domain::points::ReversalInput::parse(
        json!({"reversal_id": "rf1", "event_id": "e1", "reason": "refund"}),
    )
    .unwrap();
    service::reverse(store.as_ref(), &settings, &tenant, &c, reversal, now)
        .await
        .unwrap();
    assert_eq!(
        requests.take(),
        ["GetItem", "TransactWriteItems"],
        "reversal (warm)"
    );
    let adjustment = fanloop_domain::points::AdjustmentInput::parse(
        json!({"adjustment_id": "a1", "points": -5, "reason": "support", "actor": "agent"}),
    )
    .unwrap();
    service::adjust(store.as_ref(), &settings, &tenant, &c, adjustment, now)
        .await
        .unwrap();
    assert_eq!(requests.take(), ["TransactWriteItems"], "adjustment (warm)");

    // An event: the customer check and the conditional put in one transaction, then the
    // last-activity update (only forward).
    let event = fanloop_domain::events::EventInput::from_json(
        json!({"event_id": "ev1", "kind": "login"}),
        "",
        now,
    )
    .unwrap();
    fanloop_profiles::events::record(store.as_ref(), &settings, &tenant, &c, event, now)
        .await
        .unwrap();
    assert_eq!(
        requests.take(),
        ["TransactWriteItems", "UpdateItem"],
        "behaviour event"
    );
    store.events(&tenant, &c, None, 20, now).await.unwrap();
    assert_eq!(requests.take(), ["Query"], "a page of events");

    // The first activity of a new day: the same-day update fails and returns the item, then
    // the move and the day's `active` counters go in one transaction.
    let tomorrow = now + jiff::SignedDuration::from_hours(24);
    let event = fanloop_domain::events::EventInput::from_json(
        json!({"event_id": "ev2", "kind": "login"}),
        "",
        tomorrow,
    )
    .unwrap();
    fanloop_profiles::events::record(store.as_ref(), &settings, &tenant, &c, event, tomorrow)
        .await
        .unwrap();
    assert_eq!(
        requests.take(),
        ["TransactWriteItems", "UpdateItem", "TransactWriteItems"],
        "behaviour event, first activity of the customer's day"
    );

    // The analytics overview: one Query per counter shard, one BatchGetItem of the totals.
    let day = tomorrow.to_zoned(jiff::tz::TimeZone::UTC).date();
    store
        .counter_rows(
            &tenant,
            fanloop_domain::analytics::Scope::Overview,
            day,
            day,
        )
        .await
        .unwrap();
    store.counter_totals(&tenant).await.unwrap();
    let mut expected = vec!["Query"; 8];
    expected.push("BatchGetItem");
    assert_eq!(requests.take(), expected, "analytics overview");

    // A segment preview of a tenant with one customer: every shard of the `by-tenant` index
    // queried once, at once (7 are empty), then one BatchGetItem for the page. No Scan.
    let filter = fanloop_domain::segments::Filter::parse(&json!({"all": []}), "filter").unwrap();
    let p =
        fanloop_profiles::segments::preview(store.as_ref(), &tenant, &settings, &filter, tomorrow)
            .await
            .unwrap();
    assert_eq!(p.customers, 1);
    let mut expected = vec!["Query"; 8];
    expected.push("BatchGetItem");
    assert_eq!(requests.take(), expected, "segment preview");
}

/// The campaign engine's requests on the wire: a broadcast run (the tenant's pass, then per
/// recipient the claim and the finish), and a purchase's trigger record handled (definitions,
/// the customer, the claim, the finish). Counted as operation → number; never a Scan.
#[tokio::test]
async fn campaign_engine_requests() {
    let requests = Requests::default();
    let store = Arc::new(counted_store(&requests));
    let backend = fanloop_tests::Backend::Dynamo(store.clone());
    let (tenant, _) = backend.tenant().await;
    let at = ts("2027-02-10T10:00:00Z");
    let clock = Arc::new(fanloop_domain::clock::ManualClock::new(at));
    let (campaigns, _outbox) = fanloop_tests::campaigns(&backend, clock.clone(), None);
    let patch = ProfilePatch::from_json(
        json!({"email": "fan@example.com", "consent": {"email_marketing": true}}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    for i in 0..3 {
        let c = CustomerId::parse(format!("fan{i}")).unwrap();
        store.upsert_profile(&tenant, &c, &patch, at).await.unwrap();
    }
    for def in [
        json!({"campaign_id": "lny", "name": "LNY", "status": "active",
               "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
               "templates": {"en": {"subject": "Hi", "html": "<p>Hi</p>", "text": "Hi"}}}),
        json!({"campaign_id": "thanks", "name": "Thanks", "status": "active",
               "trigger": {"type": "purchase"}, "frequency_cap_exempt": true,
               "templates": {"en": {"subject": "Thanks", "html": "<p>Thanks</p>", "text": "Thanks"}}}),
    ] {
        fanloop_tests::save_definition(store.as_ref(), &tenant, def, at).await;
    }
    requests.take();
    let id = fanloop_domain::campaigns::definition::CampaignId::parse("lny").unwrap();
    let r = campaigns
        .run_defined(&tenant, &id, None, false)
        .await
        .unwrap();
    assert_eq!(r.sent, 3);
    let broadcast = count(requests.take());
    // The pass: 8 Query (a shard each) + 1 BatchGetItem per 96 customers; fixed: the
    // definition, the tenant, the settings, the tenant's address key (4 GetItem; the tenant's
    // first run also makes the key: 1 PutItem, then it is cached); per recipient: the
    // suppression list (1 GetItem), the claim (2 GetItem: the customer and the marker; 1
    // TransactWriteItems) and the finish (1 TransactWriteItems: the marker and its report
    // counter).
    let n = 3;
    assert_eq!(
        broadcast,
        want(&[
            ("BatchGetItem", 1),
            ("GetItem", 4 + 3 * n),
            ("PutItem", 1),
            ("Query", 8),
            ("TransactWriteItems", 2 * n),
        ]),
        "broadcast"
    );
    // Days later no zone can be due: the hourly run reads the definition only.
    clock.set(ts("2027-02-13T10:00:00Z"));
    let r = campaigns
        .run_defined(&tenant, &id, None, false)
        .await
        .unwrap();
    assert_eq!(r.candidates, 0);
    assert_eq!(
        count(requests.take()),
        want(&[("GetItem", 1)]),
        "a past broadcast"
    );
    clock.set(at);

    let settings = store.settings(&tenant).await.unwrap().settings;
    let req = AccrualRequest::from_json(
        json!({"event_id": "o-1", "kind": "purchase", "amount_minor": 999, "currency": "USD"}),
        &settings.points.earning,
        at,
    )
    .unwrap();
    let fan = CustomerId::parse("fan0").unwrap();
    service::accrue(store.as_ref(), &settings, &tenant, &fan, req, at)
        .await
        .ok()
        .unwrap();
    let record = fanloop_domain::campaigns::triggers::TriggerRecord {
        id: "purchase:accrual:o-1".into(),
        customer_id: fan.clone(),
        occurred_at: at,
        event: fanloop_domain::campaigns::triggers::TriggerEvent::Purchase {
            amount_minor: Some(999),
            currency: Some("USD".into()),
            item: None,
        },
    };
    requests.take();
    let report = campaigns.handle_trigger(&tenant, &record).await.unwrap();
    assert_eq!(report.campaigns["thanks"], "sent");
    assert_eq!(report.converted, 1, "fan0 was mailed the broadcast");
    let triggered = count(requests.take());
    // The attribution (1 GetItem, 1 TransactWriteItems: the broadcast's contact converted, with
    // its counter), the definitions
    // (1 Query), the customer, the tenant, the settings, the suppression list (1 GetItem; the
    // address key is cached since the broadcast), the claim (2 GetItem + 1 TransactWriteItems),
    // the finish (1 TransactWriteItems: marker and counter).
    assert_eq!(
        triggered,
        want(&[("GetItem", 7), ("Query", 1), ("TransactWriteItems", 3),]),
        "triggered send"
    );
}

/// The broadcast fan-out's requests on the wire: the planner reads the tenant's customers
/// and writes nothing per recipient (its batches go to SQS); the sender, per batch, reads the
/// definition, the tenant and its settings, then per recipient the customer (the batch has ids
/// only), the suppression list, the claim (customer and marker read again, one transaction)
/// and the finish (one transaction).
#[tokio::test]
async fn broadcast_fan_out_requests() {
    let requests = Requests::default();
    let store = Arc::new(counted_store(&requests));
    let backend = fanloop_tests::Backend::Dynamo(store.clone());
    let (tenant, _) = backend.tenant().await;
    let at = ts("2027-02-10T10:00:00Z");
    let clock = Arc::new(fanloop_domain::clock::ManualClock::new(at));
    let (campaigns, _outbox) = fanloop_tests::campaigns(&backend, clock.clone(), None);
    let patch = ProfilePatch::from_json(
        json!({"email": "fan@example.com", "consent": {"email_marketing": true}}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    let n = 4;
    for i in 0..n {
        let c = CustomerId::parse(format!("fan{i}")).unwrap();
        store.upsert_profile(&tenant, &c, &patch, at).await.unwrap();
    }
    let def = json!({"campaign_id": "drop", "name": "Drop", "status": "active",
           "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
           "templates": {"en": {"subject": "Hi", "html": "<p>Hi</p>", "text": "Hi"}}});
    fanloop_tests::save_definition(store.as_ref(), &tenant, def, at).await;
    let id = fanloop_domain::campaigns::definition::CampaignId::parse("drop").unwrap();
    let sqs = fanloop_tests::sqs_client();
    let url = fanloop_tests::sqs_queue(&sqs, "broadcasts").await;
    let mut planner = (*campaigns).clone();
    planner.queue = Some(Arc::new(fanloop_engine::sqs::SqsQueue::new(
        sqs.clone(),
        url.clone(),
    )));
    requests.take();
    let r = planner
        .run_defined(&tenant, &id, None, false)
        .await
        .unwrap();
    assert_eq!((r.queued, r.sent), (n as u64, 0));
    // The definition, the tenant, the settings, the address key (made now: 1 PutItem); the
    // pass (8 Query + 1 BatchGetItem per 96).
    assert_eq!(
        count(requests.take()),
        want(&[
            ("BatchGetItem", 1),
            ("GetItem", 4),
            ("PutItem", 1),
            ("Query", 8)
        ]),
        "planner"
    );
    let m = sqs
        .receive_message()
        .queue_url(&url)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    let batch: fanloop_engine::SendBatch = serde_json::from_str(m[0].body().unwrap()).unwrap();
    let r = campaigns.send_batch(&batch).await.unwrap();
    assert_eq!(r.sent, n as u64);
    assert_eq!(
        count(requests.take()),
        want(&[("GetItem", 3 + 4 * n), ("TransactWriteItems", 2 * n)]),
        "sender"
    );
}

/// Operation → how many times it was sent.
fn count(ops: Vec<String>) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for o in ops {
        *m.entry(o).or_default() += 1;
    }
    m
}

/// The expected counts, as [`count`] gives them.
fn want(pairs: &[(&str, usize)]) -> std::collections::BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}
