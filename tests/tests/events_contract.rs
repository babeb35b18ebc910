//! Behaviour events through the store port, on SQLite and DynamoDB: exactly once under 50
//! concurrent duplicates, last activity moved, newest-first pages, retention, export, erasure.

use std::sync::Arc;

use fanloop_domain::events::{EventInput, EventKind};
use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_profiles::events::{EventError, Recorded, record};
use fanloop_tests::{Backend, both_stores, ts};
use jiff::Timestamp;
use serde_json::{Value, json};

both_stores!(
    fifty_concurrent_duplicates_record_one_event,
    a_reused_event_id_is_refused_and_unknown_customers_record_nothing,
    events_read_newest_first_and_expire,
    export_has_the_events_and_erasure_leaves_none,
);

const NOW: &str = "2026-06-01T12:00:00Z";

async fn customer(b: &Backend, id: &str) -> (Arc<dyn Store>, TenantId, CustomerId) {
    let store = b.store();
    let (t, _) = b.tenant().await;
    let c = CustomerId::parse(id).unwrap();
    let p = fanloop_domain::ProfilePatch::from_json(
        json!({"email": "ev@example.com"}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    store
        .upsert_profile(&t, &c, &p, ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    (store, t, c)
}

fn input(v: Value) -> EventInput {
    EventInput::from_json(v, "", ts(NOW)).unwrap()
}

async fn send(
    store: &dyn Store,
    s: &TenantSettings,
    t: &TenantId,
    c: &CustomerId,
    v: Value,
    now: Timestamp,
) -> Result<Recorded, EventError> {
    for _ in 0..10 {
        match record(store, s, t, c, input(v.clone()), now).await {
            Err(EventError::Store(StoreError::Conflict)) => continue,
            other => return other,
        }
    }
    panic!("still conflicting after 10 client retries");
}

async fn fifty_concurrent_duplicates_record_one_event(b: Backend) {
    let (store, t, c) = customer(&b, "busy-viewer").await;
    let s = TenantSettings::default();
    let body = json!({"event_id": "watch-1", "kind": "stream_watch", "occurred_at": "2026-06-01T11:00:00Z",
                      "properties": {"streamer_id": "luna", "minutes": 42}});
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let (store, s, t, c, body) = (store.clone(), s.clone(), t.clone(), c.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            send(store.as_ref(), &s, &t, &c, body, ts(NOW))
                .await
                .unwrap()
        }));
    }
    let mut created = 0;
    for task in tasks {
        match task.await.unwrap() {
            Recorded::Created(_) => created += 1,
            Recorded::Duplicate(e) => assert_eq!(e.event_id.as_str(), "watch-1"),
        }
    }
    assert_eq!(created, 1, "recorded once");
    let events = store.events(&t, &c, None, 100, ts(NOW)).await.unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::StreamWatch);
    assert_eq!(events[0].properties["minutes"], 42);
    let profile = store.profile(&t, &c).await.unwrap().unwrap();
    assert_eq!(
        profile.last_active_at,
        Some(ts("2026-06-01T11:00:00Z")),
        "activity moved"
    );
}

async fn a_reused_event_id_is_refused_and_unknown_customers_record_nothing(b: Backend) {
    let (store, t, c) = customer(&b, "leveller").await;
    let s = TenantSettings::default();
    let now = ts(NOW);
    let up =
        |level: u64| json!({"event_id": "lvl", "kind": "level_up", "properties": {"level": level}});
    assert!(matches!(
        send(store.as_ref(), &s, &t, &c, up(5), now).await.unwrap(),
        Recorded::Created(_)
    ));
    let later = ts("2026-06-01T12:30:00Z");
    match send(store.as_ref(), &s, &t, &c, up(5), later)
        .await
        .unwrap()
    {
        Recorded::Duplicate(e) => assert_eq!(e.recorded_at, now, "the first recording stands"),
        Recorded::Created(_) => panic!("recorded twice"),
    }
    assert!(matches!(
        send(store.as_ref(), &s, &t, &c, up(6), now).await,
        Err(EventError::Reused)
    ));
    let ghost = CustomerId::parse("ghost").unwrap();
    assert!(matches!(
        send(store.as_ref(), &s, &t, &ghost, up(1), now).await,
        Err(EventError::NotFound)
    ));
    assert!(
        store.profile(&t, &ghost).await.unwrap().is_none(),
        "no stray customer"
    );
    assert!(
        store
            .events(&t, &ghost, None, 10, now)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.events(&t, &c, None, 10, now).await.unwrap().len(), 1);
}

async fn events_read_newest_first_and_expire(b: Backend) {
    let (store, t, c) = customer(&b, "regular").await;
    let mut s = TenantSettings::default();
    s.events.retention_days = 30;
    for (i, at) in [
        "2026-05-01T10:00:00Z",
        "2026-05-20T10:00:00Z",
        "2026-05-20T10:00:00Z",
        "2026-05-31T23:59:59Z",
    ]
    .iter()
    .enumerate()
    {
        let body = json!({"event_id": format!("e{i}"), "kind": "login", "occurred_at": at});
        send(store.as_ref(), &s, &t, &c, body, ts(NOW))
            .await
            .unwrap();
    }
    let ids = |v: &[fanloop_domain::events::BehaviourEvent]| {
        v.iter().map(|e| e.event_id.to_string()).collect::<Vec<_>>()
    };
    // e0 happened 31 days before NOW: past its 30-day retention, no longer shown.
    let all = store.events(&t, &c, None, 10, ts(NOW)).await.unwrap();
    assert_eq!(ids(&all), ["e3", "e2", "e1"]);
    let first = store.events(&t, &c, None, 2, ts(NOW)).await.unwrap();
    assert_eq!(ids(&first), ["e3", "e2"]);
    let cursor = first.last().unwrap().sort_key();
    let rest = store
        .events(&t, &c, Some(&cursor), 2, ts(NOW))
        .await
        .unwrap();
    assert_eq!(ids(&rest), ["e1"]);
    let earlier = store
        .events(&t, &c, None, 10, ts("2026-05-25T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(
        ids(&earlier),
        ["e3", "e2", "e1", "e0"],
        "e0 was still kept then"
    );
}

async fn export_has_the_events_and_erasure_leaves_none(b: Backend) {
    let (store, t, c) = customer(&b, "erase-my-events").await;
    let s = TenantSettings::default();
    let body = json!({"event_id": "tutorial-done-77", "kind": "custom", "properties": {"name": "tutorial_done", "value": 3}});
    send(store.as_ref(), &s, &t, &c, body, ts(NOW))
        .await
        .unwrap();
    let export = store.export_customer(&t, &c).await.unwrap().unwrap();
    assert_eq!(export.events.len(), 1);
    assert_eq!(export.events[0].properties["name"], "tutorial_done");
    store
        .erase_customer(&t, &c, "~erased-ev")
        .await
        .unwrap()
        .unwrap();
    let dump = b.dump(&t).await.join("\n");
    assert!(!dump.contains("tutorial-done-77"), "the event is gone");
    assert!(!dump.contains("erase-my-events"));
    assert!(
        store
            .events(&t, &c, None, 10, ts(NOW))
            .await
            .unwrap()
            .is_empty()
    );
}

/// SQLite keeps no TTL: the scheduler's purge deletes what retention ended (DynamoDB's table
/// TTL on `expires_at` does the same there).
#[tokio::test]
async fn sqlite_purges_events_whose_retention_ended() {
    let b = fanloop_tests::sqlite();
    let (store, t, c) = customer(&b, "old-timer").await;
    let mut s = TenantSettings::default();
    s.events.retention_days = 10;
    for (id, at) in [
        ("old-1", "2026-05-01T00:00:00Z"),
        ("new-1", "2026-05-30T00:00:00Z"),
    ] {
        let body = json!({"event_id": id, "kind": "login", "occurred_at": at});
        send(store.as_ref(), &s, &t, &c, body, ts(NOW))
            .await
            .unwrap();
    }
    let Backend::Sqlite(sqlite) = &b else {
        unreachable!()
    };
    assert_eq!(sqlite.purge_expired_events(ts(NOW)).await.unwrap(), 1);
    let dump = b.dump(&t).await.join("\n");
    assert!(!dump.contains("old-1") && dump.contains("new-1"), "{dump}");
    assert_eq!(sqlite.purge_expired_events(ts(NOW)).await.unwrap(), 0);
}

/// Erasure ends with a truncating checkpoint, which the background checkpointer and readers
/// can hold up for a moment: under concurrent writes and reads it still succeeds every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_erasure_succeeds_under_concurrent_writes_and_reads() {
    let b = fanloop_tests::sqlite();
    let store = b.store();
    let (t, _) = b.tenant().await;
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut load = Vec::new();
    for w in 0..4 {
        let (store, t, stop) = (store.clone(), t.clone(), stop.clone());
        load.push(tokio::spawn(async move {
            let c = CustomerId::parse(format!("busy-{w}")).unwrap();
            let p =
                fanloop_domain::ProfilePatch::from_json(json!({}), jiff::civil::date(2026, 1, 1))
                    .unwrap();
            store.upsert_profile(&t, &c, &p, ts(NOW)).await.unwrap();
            let s = TenantSettings::default();
            let mut i = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                i += 1;
                let body = json!({"event_id": format!("e{i}"), "kind": "login"});
                send(store.as_ref(), &s, &t, &c, body, ts(NOW))
                    .await
                    .unwrap();
                store.events(&t, &c, None, 5, ts(NOW)).await.unwrap();
            }
        }));
    }
    for i in 0..60 {
        let c = CustomerId::parse(format!("gone-{i}")).unwrap();
        let p = fanloop_domain::ProfilePatch::from_json(
            json!({"email": format!("gone{i}@example.com")}),
            jiff::civil::date(2026, 1, 1),
        )
        .unwrap();
        store.upsert_profile(&t, &c, &p, ts(NOW)).await.unwrap();
        store
            .erase_customer(&t, &c, &format!("~erased-{i}"))
            .await
            .unwrap_or_else(|e| panic!("erasure {i}: {e}"))
            .unwrap();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for l in load {
        l.await.unwrap();
    }
}
