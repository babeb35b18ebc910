//! The contact log through the store port, on SQLite and DynamoDB: once per `contact_id` under
//! 20 concurrent retries, a reused id with another body refused, unknown customers log nothing,
//! newest-first pages, the export, and erasure leaving no summary on the store.

use std::sync::Arc;

use fanloop_domain::contacts::{ContactAuthor, ContactInput};
use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_services::contacts::{ContactError, Logged, log_contact};
use fanloop_tests::{Backend, both_stores, ts};
use jiff::Timestamp;
use serde_json::{Value, json};

both_stores!(
    twenty_concurrent_retries_log_one_contact,
    a_reused_id_is_refused_and_unknown_customers_log_nothing,
    contacts_read_newest_first_in_pages,
    export_has_the_contacts_and_erasure_leaves_none,
);

const NOW: &str = "2026-06-01T12:00:00Z";

async fn customer(b: &Backend, id: &str) -> (Arc<dyn Store>, TenantId, CustomerId) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = CustomerId::parse(id).unwrap();
    let p = fanloop_domain::ProfilePatch::from_json(
        json!({"email": "caller@example.com"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store
        .upsert_profile(&t, &c, &p, ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    (store, t, c)
}

fn agent() -> ContactAuthor {
    ContactAuthor::ApiKey {
        key_id: "support-tool".into(),
    }
}

async fn log(
    store: &dyn Store,
    t: &TenantId,
    c: &CustomerId,
    v: Value,
    now: Timestamp,
) -> Result<Logged, ContactError> {
    for _ in 0..10 {
        let input = ContactInput::read(v.clone(), now).unwrap();
        match log_contact(store, &OsRandom, t, c, input, agent(), now).await {
            Err(ContactError::Store(StoreError::Conflict)) => continue,
            other => return other,
        }
    }
    panic!("still conflicting after 10 client retries");
}

async fn twenty_concurrent_retries_log_one_contact(b: Backend) {
    let (store, t, c) = customer(&b, "angry-caller").await;
    let body = json!({"contact_id": "call-1", "channel": "phone", "direction": "inbound",
                      "summary": "Lost 300 gems after the update", "outcome": "refund promised"});
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let (store, t, c, body) = (store.clone(), t.clone(), c.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            log(store.as_ref(), &t, &c, body, ts(NOW)).await.unwrap()
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Logged::Created(_) => created += 1,
            Logged::Duplicate(k) => assert_eq!(k.summary, "Lost 300 gems after the update"),
        }
    }
    assert_eq!(created, 1, "exactly one of 20 racing requests logs it");
    let all = store.contacts(&t, &c, None, 10).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].outcome.as_deref(), Some("refund promised"));
    assert_eq!(all[0].recorded_by, agent());
}

async fn a_reused_id_is_refused_and_unknown_customers_log_nothing(b: Backend) {
    let (store, t, c) = customer(&b, "reuser").await;
    let body = json!({"contact_id": "chat-9", "channel": "chat", "direction": "outbound", "summary": "Sent the guide"});
    log(store.as_ref(), &t, &c, body.clone(), ts(NOW))
        .await
        .unwrap();
    let other = json!({"contact_id": "chat-9", "channel": "chat", "direction": "outbound", "summary": "Something else"});
    assert!(matches!(
        log(store.as_ref(), &t, &c, other, ts(NOW)).await,
        Err(ContactError::Reused)
    ));
    // A retry a minute later, `at` omitted: the same request, the contact as first logged.
    let later = ts("2026-06-01T12:01:00Z");
    match log(store.as_ref(), &t, &c, body, later).await.unwrap() {
        Logged::Duplicate(k) => assert_eq!(k.at, ts(NOW)),
        Logged::Created(_) => panic!("logged twice"),
    }
    let ghost = CustomerId::parse("nobody-here").unwrap();
    let body = json!({"channel": "email", "direction": "inbound", "summary": "Hello?"});
    assert!(matches!(
        log(store.as_ref(), &t, &ghost, body, ts(NOW)).await,
        Err(ContactError::NotFound)
    ));
    assert!(
        store
            .contacts(&t, &ghost, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.contacts(&t, &c, None, 10).await.unwrap().len(), 1);
}

async fn contacts_read_newest_first_in_pages(b: Backend) {
    let (store, t, c) = customer(&b, "regular").await;
    // Seven contacts, two at one instant, logged out of time order; ids generated.
    for (i, at) in [
        "2026-05-03T10:00:00Z",
        "2026-05-01T10:00:00Z",
        "2026-05-07T10:00:00Z",
        "2026-05-05T10:00:00Z",
        "2026-05-05T10:00:00Z",
        "2026-05-02T10:00:00Z",
        "2026-05-06T10:00:00Z",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"channel": "in_game", "direction": "outbound", "summary": format!("note {i}"), "at": at});
        assert!(matches!(
            log(store.as_ref(), &t, &c, body, ts(NOW)).await.unwrap(),
            Logged::Created(_)
        ));
    }
    let whole = store.contacts(&t, &c, None, 100).await.unwrap();
    assert_eq!(whole.len(), 7);
    let ats: Vec<_> = whole.iter().map(|k| k.at).collect();
    let mut sorted = ats.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ats, sorted, "newest first");
    assert_eq!(whole[0].summary, "note 2");
    let mut paged = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = store.contacts(&t, &c, before.as_deref(), 3).await.unwrap();
        assert!(page.len() <= 3);
        let done = page.len() < 3;
        before = page.last().map(|k| k.sort_key());
        paged.extend(page);
        if done {
            break;
        }
    }
    assert_eq!(paged, whole, "pages of 3 give each contact once, in order");
}

async fn export_has_the_contacts_and_erasure_leaves_none(b: Backend) {
    let (store, t, c) = customer(&b, "erase-my-calls").await;
    let body = json!({"contact_id": "visit-1", "channel": "meeting", "direction": "inbound",
                      "summary": "Visited the fan meeting, wants a VIP badge 徽章"});
    log(store.as_ref(), &t, &c, body, ts(NOW)).await.unwrap();
    let export = store.export_customer(&t, &c).await.unwrap().unwrap();
    assert_eq!(export.contacts.len(), 1);
    assert_eq!(export.contacts[0].contact_id, "visit-1");
    store
        .erase_customer(&t, &c, "~erased-contacts")
        .await
        .unwrap()
        .unwrap();
    let dump = b.dump(&t).await.join("\n");
    assert!(!dump.contains("VIP badge"), "the summary is gone");
    assert!(!dump.contains("visit-1"));
    assert!(store.contacts(&t, &c, None, 10).await.unwrap().is_empty());
}
