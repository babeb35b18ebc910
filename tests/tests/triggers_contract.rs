//! Event-triggered campaigns on both stores with a controlled clock: a purchase, a tier up and
//! a signup each send their campaign's mail once per event, however often the trigger record
//! is delivered (three times in a row, then twice at once) — on SQLite through the outbox
//! worker, on DynamoDB through the triggers function fed a stream event built from the
//! table's real items (tests/fixtures/dynamodb-stream.json). An unhappy survey answer starts
//! its campaign (the follow-up's INSERT on DynamoDB). Quiet hours park a send for the
//! hourly run; `max_delay_hours` drops it instead; the audience filters; a crash between the
//! event and the send (SQLite: the process gone before the worker ran) still sends one.

use std::collections::HashMap;
use std::sync::Arc;

use axum::http::StatusCode;
use fanloop_domain::campaigns::triggers::TriggerRecord;
use fanloop_domain::clock::ManualClock;
use fanloop_domain::ports::TriggerOutbox;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_engine::Campaigns;
use fanloop_store_sqlite::SqliteStore;
use fanloop_tests::{
    Backend, TestApp, both_stores, campaigns, mail_header, mail_text, outbox_files, ts,
};
use serde_json::{Value, json};

both_stores!(
    a_purchase_sends_one_thank_you_however_often_it_is_delivered,
    tier_up_and_signup_start_their_campaigns,
    quiet_hours_park_a_send_and_max_delay_drops_it,
    an_unhappy_answer_starts_its_campaign_once,
    a_thank_you_recommends_what_is_bought_together_never_what_is_owned,
);

fn template(subject: &str, text: &str) -> Value {
    json!({"en": {"subject": subject, "html": format!("<p>{text}</p>"), "text": text}})
}

fn thank_you() -> Value {
    json!({"campaign_id": "thank-you", "name": "Thank you", "status": "active",
        "trigger": {"type": "purchase", "min_amount_minor": 500},
        "audience": {"filter": {"field": "tags", "op": "contains", "value": "fan"}},
        "templates": template("Thanks for {{ purchase.item }}", "You bought {{ purchase.item }} for {{ purchase.amount }}."),
        "frequency_cap_exempt": true})
}

async fn customer(app: &TestApp, id: &str, extra: Value) {
    let mut b = json!({"email": format!("{id}@example.com"), "tags": ["fan"],
                       "consent": {"email_marketing": true}});
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    let r = app.put(&format!("/v1/customers/{id}"), b).await;
    assert!(r.status.is_success(), "{}", r.body);
}

async fn purchase(app: &TestApp, id: &str, event: &str, amount: u64) {
    let r = app
        .post(
            &format!("/v1/customers/{id}/points/accruals"),
            json!({"event_id": event, "kind": "purchase", "amount_minor": amount, "currency": "USD",
                   "item": {"sku": "skin-dragon", "name": "Dragon Skin Pack", "category": "skins"}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn define(app: &TestApp, def: Value) {
    let r = app.post("/v1/campaigns", def).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

/// The mails in the outbox, by the local part of `To`: their subjects.
fn mails(app: &TestApp) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (_, raw) in outbox_files(&app.outbox) {
        let to = mail_header(&raw, "To").unwrap();
        let local = to.rsplit('<').next().unwrap().split('@').next().unwrap();
        out.entry(local.to_owned())
            .or_default()
            .push(mail_header(&raw, "Subject").unwrap());
    }
    out
}

/// The trigger records the store holds for `customer`, as its delivery path reads them:
/// SQLite's outbox (leased), DynamoDB's items as the stream's new images.
async fn pending(app: &TestApp, customer: &str) -> Vec<Delivery> {
    match &app.backend {
        Backend::Sqlite(s) => {
            let now = fanloop_domain::Clock::now(app.clock.as_ref());
            s.lease_triggers(now, jiff::SignedDuration::from_mins(5), 100)
                .await
                .unwrap()
                .into_iter()
                .filter(|(_, r)| r.customer_id.as_str() == customer)
                .map(|(t, r)| Delivery::Outbox(t, r))
                .collect()
        }
        Backend::Dynamo(d) => {
            let mut found = followup_items(app, d).await;
            found.extend(partition_triggers(app, d, customer).await);
            found
        }
    }
}

/// The tenant's follow-up items (an unhappy answer's), for the stream.
async fn followup_items(app: &TestApp, d: &fanloop_store_dynamodb::DynamoStore) -> Vec<Delivery> {
    let page = app
        .backend
        .store()
        .followups(
            &app.tenant,
            fanloop_domain::surveys::FollowUpStatus::Open,
            None,
            100,
        )
        .await
        .unwrap();
    let mut out = Vec::new();
    for f in page.items {
        let item = d
            .client()
            .get_item()
            .table_name(d.table())
            .key(
                "pk",
                aws_sdk_dynamodb::types::AttributeValue::S(format!(
                    "T#{}#FOLLOWUP#{}",
                    app.tenant, f.id
                )),
            )
            .key(
                "sk",
                aws_sdk_dynamodb::types::AttributeValue::S("FOLLOWUP".into()),
            )
            .send()
            .await
            .unwrap()
            .item
            .unwrap();
        out.push(Delivery::Stream(item));
    }
    out
}

/// The customer's trigger items and profile, for the stream.
async fn partition_triggers(
    app: &TestApp,
    d: &fanloop_store_dynamodb::DynamoStore,
    customer: &str,
) -> Vec<Delivery> {
    let pk = fanloop_store_dynamodb::profile_pk(&app.tenant, &cid(customer));
    let out = d
        .client()
        .query()
        .table_name(d.table())
        .key_condition_expression("pk = :pk")
        .expression_attribute_values(":pk", aws_sdk_dynamodb::types::AttributeValue::S(pk))
        .send()
        .await
        .unwrap();
    out.items
        .unwrap_or_default()
        .into_iter()
        .filter(|i| {
            let sk = i["sk"].as_s().unwrap();
            sk.starts_with("TRIG#") || sk == "PROFILE"
        })
        .map(Delivery::Stream)
        .collect()
}

enum Delivery {
    Outbox(TenantId, TriggerRecord),
    Stream(HashMap<String, aws_sdk_dynamodb::types::AttributeValue>),
}

/// The fixture's stream event with its first record carrying `image` (an INSERT); the other
/// records (a MODIFY, an INSERT of a ledger item) must be ignored.
fn stream_event(image: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Value {
    let raw = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dynamodb-stream.json"),
    )
    .unwrap();
    let mut event: Value = serde_json::from_str(&raw).unwrap();
    let item: serde_dynamo::Item = image.clone().into();
    let new_image = serde_json::to_value(&item).unwrap();
    let keys = json!({"pk": new_image["pk"], "sk": new_image["sk"]});
    event["Records"][0]["dynamodb"]["NewImage"] = new_image;
    event["Records"][0]["dynamodb"]["Keys"] = keys;
    event
}

async fn deliver_once(c: &Campaigns, d: &Delivery) {
    match d {
        Delivery::Outbox(t, r) => {
            let report = c.handle_trigger(t, r).await.unwrap();
            if let Some(at) = report.retry_at {
                c.park_trigger(t, r, at).await.unwrap();
            }
        }
        Delivery::Stream(image) => {
            let event = serde_json::from_value(stream_event(image)).unwrap();
            let res = fanloop_triggers::handle_stream(c, event).await;
            assert!(res.batch_item_failures.is_empty(), "{res:?}");
        }
    }
}

/// Delivers each pending record of `customer` three times in a row, then twice at once.
async fn deliver(app: &TestApp, customer: &str) -> usize {
    let records = pending(app, customer).await;
    for d in &records {
        for _ in 0..3 {
            deliver_once(&app.campaigns, d).await;
        }
        tokio::join!(
            deliver_once(&app.campaigns, d),
            deliver_once(&app.campaigns, d)
        );
    }
    if let Backend::Sqlite(s) = &app.backend {
        for d in &records {
            if let Delivery::Outbox(t, r) = d {
                s.finish_trigger(t, &r.customer_id, &r.id).await.unwrap();
            }
        }
    }
    records.len()
}

fn cid(s: &str) -> CustomerId {
    CustomerId::parse(s).unwrap()
}

async fn a_purchase_sends_one_thank_you_however_often_it_is_delivered(b: Backend) {
    let app = TestApp::new(b).await;
    define(&app, thank_you()).await;
    customer(&app, "fan1", json!({})).await;
    customer(&app, "other", json!({"tags": ["casual"]})).await;
    deliver(&app, "fan1").await; // the signups: no signup campaign, nothing sent
    deliver(&app, "other").await;
    purchase(&app, "fan1", "o-1", 999).await;
    purchase(&app, "fan1", "o-small", 100).await;
    purchase(&app, "other", "o-2", 999).await;
    assert!(deliver(&app, "fan1").await >= 2);
    deliver(&app, "other").await;
    let m = mails(&app);
    assert_eq!(
        m.get("fan1").map(Vec::as_slice),
        Some(&["Thanks for Dragon Skin Pack".to_owned()][..]),
        "one mail for the purchase over the minimum: {m:?}"
    );
    assert!(!m.contains_key("other"), "not in the audience");
    let text = mail_text(&outbox_files(&app.outbox)[0].1);
    assert!(
        text.contains("You bought Dragon Skin Pack for 9.99 USD."),
        "{text}"
    );
    // Once per event: a second purchase is thanked again.
    purchase(&app, "fan1", "o-3", 2500).await;
    deliver(&app, "fan1").await;
    assert_eq!(mails(&app)["fan1"].len(), 2);
    let log = app.get("/v1/customers/fan1/messages").await.body;
    let periods: Vec<&str> = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["period"].as_str().unwrap())
        .collect();
    assert!(
        periods.contains(&"purchase:accrual:o-1") && periods.contains(&"purchase:accrual:o-3"),
        "{periods:?}"
    );
}

async fn tier_up_and_signup_start_their_campaigns(b: Backend) {
    let app = TestApp::new(b).await;
    define(
        &app,
        json!({"campaign_id": "welcome", "name": "Welcome", "status": "active",
        "trigger": {"type": "signup"}, "templates": template("Welcome", "Welcome aboard"),
        "offer": {"value_minor": 300, "currency": "USD", "valid_days": 7}}),
    )
    .await;
    define(
        &app,
        json!({"campaign_id": "tier-normal", "name": "Normal tier", "status": "active",
        "trigger": {"type": "tier_up", "to": "normal"}, "frequency_cap_exempt": true,
        "templates": template("You reached {{ points.tier }}", "Congratulations")}),
    )
    .await;
    customer(&app, "newbie", json!({})).await;
    deliver(&app, "newbie").await;
    assert_eq!(mails(&app)["newbie"], ["Welcome"]);
    // A profile an import creates is a migrated customer, not a signup.
    let mut imported = fanloop_domain::profile::ProfilePatch::from_json(
        json!({"email": "old@example.com", "consent": {"email_marketing": true}}),
        jiff::civil::date(2026, 11, 22),
    )
    .unwrap();
    imported.imported = true;
    app.backend
        .store()
        .upsert_profile(
            &app.tenant,
            &cid("old"),
            &imported,
            ts("2026-11-22T08:00:00Z"),
        )
        .await
        .unwrap();
    deliver(&app, "old").await;
    assert!(!mails(&app).contains_key("old"), "no welcome for an import");
    // An update is no signup.
    customer(&app, "newbie", json!({"locale": "en-GB"})).await;
    deliver(&app, "newbie").await;
    let r = app
        .post(
            "/v1/customers/newbie/points/accruals",
            json!({"event_id": "b-1", "kind": "bonus", "points": 1000}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert_eq!(r.body["tier"], "normal");
    deliver(&app, "newbie").await;
    // More points in the same tier: no second congratulation.
    app.post(
        "/v1/customers/newbie/points/accruals",
        json!({"event_id": "b-2", "kind": "bonus", "points": 10}),
    )
    .await;
    deliver(&app, "newbie").await;
    let mut got = mails(&app)["newbie"].clone();
    got.sort();
    assert_eq!(got, ["Welcome", "You reached normal"]);
}

async fn quiet_hours_park_a_send_and_max_delay_drops_it(b: Backend) {
    let app = TestApp::new(b).await;
    let mut patient = thank_you();
    patient["quiet_hours"] = json!({"start": "22:00", "end": "08:00"});
    patient["max_delay_hours"] = json!(12);
    define(&app, patient).await;
    let mut hasty = thank_you();
    hasty["campaign_id"] = json!("thank-you-fast");
    hasty["quiet_hours"] = json!({"start": "22:00", "end": "08:00"});
    hasty["max_delay_hours"] = json!(2);
    hasty["templates"] = template("Quick thanks", "Thanks for {{ purchase.item }}");
    define(&app, hasty).await;
    customer(&app, "night", json!({"timezone": "Asia/Shanghai"})).await;
    deliver(&app, "night").await;
    // 23:30 in Shanghai.
    app.clock.set(ts("2026-11-22T15:30:00Z"));
    purchase(&app, "night", "o-n", 999).await;
    deliver(&app, "night").await;
    assert!(mails(&app).is_empty(), "quiet hours");
    // The hourly run at 07:00 local: still quiet; at 08:00: the patient one goes, the hasty
    // one (2 hours at most) was dropped.
    app.clock.set(ts("2026-11-22T23:00:00Z"));
    app.campaigns
        .run_defined_all(None, Some(&app.tenant))
        .await
        .unwrap();
    assert!(mails(&app).is_empty());
    app.clock.set(ts("2026-11-23T00:00:00Z"));
    app.campaigns
        .run_defined_all(None, Some(&app.tenant))
        .await
        .unwrap();
    assert_eq!(mails(&app)["night"], ["Thanks for Dragon Skin Pack"]);
    app.clock.set(ts("2026-11-23T01:00:00Z"));
    app.campaigns
        .run_defined_all(None, Some(&app.tenant))
        .await
        .unwrap();
    assert_eq!(mails(&app)["night"].len(), 1, "the parked record is gone");
    // The log: the mail, and the hasty one's drop, recorded once for its report.
    let log = app.get("/v1/customers/night/messages").await.body;
    let entries: Vec<(&str, &str, &str)> = log["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["campaign"].as_str().unwrap(),
                m["status"].as_str().unwrap(),
                m["reason"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("thank-you", "sent", ""),
            ("thank-you-fast", "skipped", "too_late")
        ],
        "{log}"
    );
}

/// SQLite: the purchase is committed with its trigger record, then the process is gone before
/// the worker ran; a new process on the same file sends the mail once, and a second worker
/// pass (or a lease run out) sends nothing more.
#[tokio::test]
async fn sqlite_a_crash_between_the_event_and_the_send_loses_nothing() {
    let dir = std::env::temp_dir().join("fanloop-tests");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("crash-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let tenant;
    {
        let app = TestApp::new(Backend::Sqlite(Arc::new(SqliteStore::open(&path).unwrap()))).await;
        tenant = app.tenant.clone();
        define(&app, thank_you()).await;
        customer(&app, "fan1", json!({})).await;
        purchase(&app, "fan1", "o-1", 999).await;
        assert!(outbox_files(&app.outbox).is_empty());
    }
    let store = Arc::new(SqliteStore::open(&path).unwrap());
    let backend = Backend::Sqlite(store.clone());
    let clock = Arc::new(ManualClock::new(ts("2026-11-22T08:01:00Z")));
    let (c, outbox) = campaigns(&backend, clock.clone(), None);
    let handled = fanloop_engine::drain_outbox(&c, store.as_ref())
        .await
        .unwrap();
    assert_eq!(handled, 2, "the signup and the purchase");
    assert_eq!(outbox_files(&outbox).len(), 1);
    assert_eq!(
        fanloop_engine::drain_outbox(&c, store.as_ref())
            .await
            .unwrap(),
        0
    );
    // A worker that crashed after its send and before removing the record: the lease runs
    // out, the record is handled again, the marker holds.
    let app_store: Arc<dyn fanloop_domain::ports::Store> = store.clone();
    let settings = app_store.settings(&tenant).await.unwrap().settings;
    let req = fanloop_domain::points::AccrualRequest::from_json(
        json!({"event_id": "o-2", "kind": "purchase", "amount_minor": 999, "currency": "USD"}),
        &Default::default(),
        clock.now_ts(),
    )
    .unwrap();
    fanloop_points::service::accrue(
        app_store.as_ref(),
        &settings,
        &tenant,
        &cid("fan1"),
        req,
        clock.now_ts(),
    )
    .await
    .ok()
    .unwrap();
    let leased = store
        .lease_triggers(clock.now_ts(), fanloop_engine::TRIGGER_LEASE, 10)
        .await
        .unwrap();
    assert_eq!(leased.len(), 1);
    c.handle_trigger(&leased[0].0, &leased[0].1).await.unwrap();
    assert_eq!(outbox_files(&outbox).len(), 2);
    assert_eq!(
        fanloop_engine::drain_outbox(&c, store.as_ref())
            .await
            .unwrap(),
        0,
        "leased"
    );
    clock.set(ts("2026-11-22T08:07:00Z"));
    assert_eq!(
        fanloop_engine::drain_outbox(&c, store.as_ref())
            .await
            .unwrap(),
        1
    );
    assert_eq!(outbox_files(&outbox).len(), 2, "handled again, sent once");
    let _ = std::fs::remove_file(&path);
}

trait NowTs {
    fn now_ts(&self) -> jiff::Timestamp;
}

impl NowTs for ManualClock {
    fn now_ts(&self) -> jiff::Timestamp {
        fanloop_domain::Clock::now(self)
    }
}

async fn an_unhappy_answer_starts_its_campaign_once(b: Backend) {
    let app = TestApp::new(b).await;
    define(
        &app,
        json!({"campaign_id": "sorry", "name": "We are sorry", "status": "active",
        "trigger": {"type": "survey_unhappy"}, "frequency_cap_exempt": true,
        "offer": {"value_minor": 500, "currency": "USD", "valid_days": 30},
        "templates": template("Sorry", "A coupon: {{ coupon.code }}")}),
    )
    .await;
    customer(&app, "grumpy", json!({})).await;
    customer(&app, "happy", json!({})).await;
    deliver(&app, "grumpy").await;
    deliver(&app, "happy").await;
    for (who, nps) in [("grumpy", 2), ("happy", 10)] {
        let r = app
            .post(
                "/v1/surveys/after-match/responses",
                json!({"response_id": format!("r-{who}"), "customer_id": who, "nps": nps,
                       "comment": "the matchmaking is slow"}),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    deliver(&app, "grumpy").await;
    deliver(&app, "happy").await;
    let m = mails(&app);
    assert_eq!(m.get("grumpy").map(Vec::len), Some(1), "{m:?}");
    assert!(!m.contains_key("happy"));
    let log = app.get("/v1/customers/grumpy/messages").await.body;
    assert!(
        log["messages"][0]["period"]
            .as_str()
            .unwrap()
            .starts_with("survey_unhappy:"),
        "{log}"
    );
}

async fn buy(app: &TestApp, id: &str, event: &str, sku: &str) {
    let r = app
        .post(
            &format!("/v1/customers/{id}/points/accruals"),
            json!({"event_id": event, "kind": "purchase", "amount_minor": 999, "currency": "USD",
                   "item": {"sku": sku}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
}

async fn a_thank_you_recommends_what_is_bought_together_never_what_is_owned(b: Backend) {
    let app = TestApp::new(b).await;
    let r = app
        .put(
            "/v1/settings",
            json!({"catalogue": [
                {"sku": "skin-dragon", "name": "Dragon Skin Pack", "category": "skins"},
                {"sku": "skin-phoenix", "name": "Phoenix Skin Pack", "category": "skins",
                 "url": "https://shop.example/skin-phoenix"},
                {"sku": "gems", "name": "100 Gems", "category": "currency"},
                {"sku": "pass", "name": "Season Pass", "category": "season"}]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Customer a bought the pass, then the dragon skin: they go together. b bought the
    // phoenix skin twice: the category's top seller.
    customer(&app, "a", json!({"tags": []})).await;
    customer(&app, "b", json!({"tags": []})).await;
    buy(&app, "a", "a-1", "pass").await;
    buy(&app, "a", "a-2", "skin-dragon").await;
    buy(&app, "b", "b-1", "skin-phoenix").await;
    buy(&app, "b", "b-2", "skin-phoenix").await;
    let mut def = thank_you();
    def["templates"] = template(
        "Thanks",
        "{% for r in recommendations %}{{ r.name }};{% endfor %}",
    );
    define(&app, def).await;
    // The fan owns the gems and buys the dragon skin.
    customer(&app, "fan", json!({})).await;
    buy(&app, "fan", "f-1", "gems").await;
    deliver(&app, "fan").await;
    purchase(&app, "fan", "f-2", 999).await;
    deliver(&app, "fan").await;
    let files = outbox_files(&app.outbox);
    let texts: Vec<String> = files.iter().map(|(_, raw)| mail_text(raw)).collect();
    assert!(
        texts
            .iter()
            .any(|t| t.contains("Season Pass;Phoenix Skin Pack;")),
        "{texts:?}"
    );
    assert!(!texts.iter().any(|t| t.contains("100 Gems")), "owned");
    // A bad catalogue is refused, naming the field.
    let r = app
        .put(
            "/v1/settings",
            json!({"catalogue": [{"sku": "x", "name": "X"}, {"sku": "x", "name": "Y"}]}),
        )
        .await;
    r.assert_problem(422, "validation-error");
    assert_eq!(r.fields(), ["catalogue[1].sku"]);
}
