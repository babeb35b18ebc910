//! Customer search through the store port, on SQLite and DynamoDB: by e-mail and phone (as the
//! profile normalises them) and by tag (paged, across shards), following every change, and gone
//! with erasure; the index never holds an address in the clear.

use std::sync::Arc;

use fanloop_domain::analytics::Counters;
use fanloop_domain::lookup::{CustomerQuery, Segments};
use fanloop_domain::ports::Store;
use fanloop_domain::{CustomerId, ProfilePatch, TenantId};
use fanloop_tests::{Backend, both_stores, ts};
use serde_json::{Value, json};

both_stores!(
    email_and_phone_find_their_customer_and_follow_changes,
    a_tag_lists_every_customer_once_in_pages,
    erasure_leaves_the_customer_in_no_index,
    segments_list_customers_where_the_snapshot_placed_them,
);

async fn put(store: &dyn Store, t: &TenantId, id: &str, body: Value) {
    let p = ProfilePatch::from_json(body, jiff::civil::date(2026, 1, 1)).unwrap();
    store
        .upsert_profile(
            t,
            &CustomerId::parse(id).unwrap(),
            &p,
            ts("2026-01-01T00:00:00Z"),
        )
        .await
        .unwrap();
}

async fn ids(store: &dyn Store, t: &TenantId, q: CustomerQuery) -> Vec<String> {
    store
        .find_customers(t, &q, None, 100)
        .await
        .unwrap()
        .customers
        .iter()
        .map(|p| p.customer_id.to_string())
        .collect()
}

/// Every customer under `q`, read `limit` at a time through the cursor.
async fn paged(store: &dyn Store, t: &TenantId, q: CustomerQuery, limit: usize) -> Vec<String> {
    let mut seen = Vec::new();
    let mut after: Option<CustomerId> = None;
    loop {
        let page = store
            .find_customers(t, &q, after.as_ref(), limit)
            .await
            .unwrap();
        seen.extend(page.customers.iter().map(|p| p.customer_id.to_string()));
        match page.next {
            Some(n) => after = Some(n),
            None => return seen,
        }
    }
}

fn email(s: &str) -> CustomerQuery {
    CustomerQuery::parse("email", s).unwrap()
}

fn phone(s: &str) -> CustomerQuery {
    CustomerQuery::parse("phone", s).unwrap()
}

fn tag(s: &str) -> CustomerQuery {
    CustomerQuery::parse("tag", s).unwrap()
}

fn tier(s: &str) -> CustomerQuery {
    CustomerQuery::parse("tier", s).unwrap()
}

fn segments(tier: &str, stage: &str, rfm: &str) -> Segments {
    Segments {
        tier: Some(tier.into()),
        lifecycle: Some(stage.into()),
        rfm: Some(rfm.into()),
    }
}

async fn move_to(s: &dyn Store, t: &TenantId, id: &str, from: &Segments, to: &Segments) -> bool {
    s.move_segments(
        t,
        &CustomerId::parse(id).unwrap(),
        from,
        to,
        &Counters::default(),
    )
    .await
    .unwrap()
}

async fn setup(b: &Backend) -> (Arc<dyn Store>, TenantId) {
    let (t, _) = b.tenant().await;
    (b.store(), t)
}

async fn email_and_phone_find_their_customer_and_follow_changes(b: Backend) {
    let (store, t) = setup(&b).await;
    let s = store.as_ref();
    put(
        s,
        &t,
        "li",
        json!({"email": "Li.Wei@Example.COM", "phone": "+86 138-1234-5678"}),
    )
    .await;
    put(s, &t, "sam", json!({"email": "sam@example.com"})).await;
    // A second customer with the same address (a shared family account): both are found.
    put(s, &t, "li-alt", json!({"email": "Li.Wei@example.com"})).await;
    assert_eq!(
        ids(s, &t, email("Li.Wei@EXAMPLE.com")).await,
        ["li", "li-alt"]
    );
    assert_eq!(
        ids(s, &t, email("li.wei@example.com")).await,
        Vec::<String>::new(),
        "the local part is exact"
    );
    assert_eq!(ids(s, &t, phone("+8613812345678")).await, ["li"]);
    assert_eq!(ids(s, &t, phone("+86 (138) 1234 5678")).await, ["li"]);

    put(
        s,
        &t,
        "li",
        json!({"email": "li@new.example.com", "phone": null}),
    )
    .await;
    assert_eq!(ids(s, &t, email("Li.Wei@example.com")).await, ["li-alt"]);
    assert_eq!(ids(s, &t, email("li@new.example.com")).await, ["li"]);
    assert!(
        ids(s, &t, phone("+8613812345678")).await.is_empty(),
        "a cleared phone is gone"
    );
    // Another tenant with the same address sees only its own.
    let (other, _) = b.tenant().await;
    put(s, &other, "x", json!({"email": "sam@example.com"})).await;
    assert_eq!(ids(s, &t, email("sam@example.com")).await, ["sam"]);
    assert_eq!(ids(s, &other, email("sam@example.com")).await, ["x"]);
    let dump = b.dump(&t).await.join("\n");
    for line in dump
        .lines()
        .filter(|l| l.contains("LOOKUP") || l.contains("email:"))
    {
        assert!(
            !line.contains("example.com") && !line.contains("1381234"),
            "{line}"
        );
    }
}

async fn a_tag_lists_every_customer_once_in_pages(b: Backend) {
    let (store, t) = setup(&b).await;
    let s = store.as_ref();
    let mut expected = Vec::new();
    for i in 0..30 {
        let id = format!("c{i:02}");
        let tags = if i % 3 == 0 {
            json!(["vip", "pc"])
        } else {
            json!(["pc"])
        };
        put(s, &t, &id, json!({"tags": tags})).await;
        if i % 3 == 0 {
            expected.push(id);
        }
    }
    assert_eq!(ids(s, &t, tag("vip")).await, expected);
    let seen = paged(s, &t, tag("pc"), 7).await;
    let all: Vec<String> = (0..30).map(|i| format!("c{i:02}")).collect();
    assert_eq!(
        seen, all,
        "pages of 7 over 8 shards: each once, in id order"
    );
    put(s, &t, "c00", json!({"tags": ["pc"]})).await;
    assert_eq!(
        ids(s, &t, tag("vip")).await,
        &expected[1..],
        "a removed tag lets go"
    );
}

async fn erasure_leaves_the_customer_in_no_index(b: Backend) {
    let (store, t) = setup(&b).await;
    let s = store.as_ref();
    put(
        s,
        &t,
        "gone",
        json!({"email": "gone@example.com", "phone": "+14155550123", "tags": ["vip"]}),
    )
    .await;
    put(s, &t, "stays", json!({"tags": ["vip"]})).await;
    let gold = segments("gold", "growth", "champions");
    assert!(move_to(s, &t, "gone", &Segments::default(), &gold).await);
    assert!(move_to(s, &t, "stays", &Segments::default(), &gold).await);
    s.erase_customer(&t, &CustomerId::parse("gone").unwrap(), "~erased-s1")
        .await
        .unwrap()
        .unwrap();
    assert!(ids(s, &t, email("gone@example.com")).await.is_empty());
    assert!(ids(s, &t, phone("+14155550123")).await.is_empty());
    assert_eq!(ids(s, &t, tag("vip")).await, ["stays"]);
    assert_eq!(ids(s, &t, tier("gold")).await, ["stays"]);
    let lifecycle = CustomerQuery::parse("lifecycle", "growth").unwrap();
    assert_eq!(ids(s, &t, lifecycle).await, ["stays"]);
    let dump = b.dump(&t).await.join("\n");
    assert!(
        !dump.contains("gone"),
        "no index item names the customer: {dump}"
    );
}

async fn segments_list_customers_where_the_snapshot_placed_them(b: Backend) {
    let (store, t) = setup(&b).await;
    let s = store.as_ref();
    let none = Segments::default();
    let (gold, silver) = (
        segments("gold", "growth", "champions"),
        segments("silver", "growth", "at_risk"),
    );
    let mut expected = Vec::new();
    for i in 0..10 {
        let id = format!("c{i:02}");
        put(s, &t, &id, json!({"tags": ["pc"]})).await;
        let to = if i % 3 == 0 { &silver } else { &gold };
        assert!(move_to(s, &t, &id, &none, to).await);
        if i % 3 != 0 {
            expected.push(id);
        }
    }
    // Paged across the shards, each customer once.
    let seen = paged(s, &t, tier("gold"), 4).await;
    assert_eq!(seen, expected);
    let q = |f: &str, v: &str| CustomerQuery::parse(f, v).unwrap();
    assert_eq!(
        ids(s, &t, q("rfm_segment", "at_risk")).await,
        ["c00", "c03", "c06", "c09"]
    );
    assert_eq!(ids(s, &t, q("lifecycle", "growth")).await.len(), 10);
    assert!(ids(s, &t, q("lifecycle", "churn")).await.is_empty());
    assert!(
        ids(s, &t, tag("gold")).await.is_empty(),
        "a tier is not a tag"
    );

    // A move from what is no longer stored writes nothing (a rerun, a racing snapshot).
    assert!(!move_to(s, &t, "c01", &none, &silver).await);
    assert!(!move_to(s, &t, "c01", &silver, &gold).await);
    assert!(!move_to(s, &t, "nobody", &none, &gold).await);
    assert_eq!(ids(s, &t, tier("gold")).await, expected);
    // A real move: out of one list, into the other, only the changed segment.
    let churned = segments("gold", "churn", "champions");
    assert!(move_to(s, &t, "c01", &gold, &churned).await);
    assert!(move_to(s, &t, "c02", &gold, &silver).await);
    assert_eq!(ids(s, &t, q("lifecycle", "churn")).await, ["c01"]);
    assert_eq!(
        ids(s, &t, tier("gold")).await,
        expected[..1]
            .iter()
            .chain(&expected[2..])
            .cloned()
            .collect::<Vec<_>>()
    );
    assert_eq!(
        ids(s, &t, tier("silver")).await,
        ["c00", "c02", "c03", "c06", "c09"]
    );
    // Rewriting the profile (its own tokens) leaves the segments where they are.
    put(
        s,
        &t,
        "c01",
        json!({"tags": ["console"], "email": "c01@example.com"}),
    )
    .await;
    assert_eq!(ids(s, &t, q("lifecycle", "churn")).await, ["c01"]);
    assert_eq!(ids(s, &t, tag("console")).await, ["c01"]);
    assert!(!ids(s, &t, tag("pc")).await.contains(&"c01".to_owned()));
}
