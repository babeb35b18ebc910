//! Customer search through the store port, on SQLite and DynamoDB: by e-mail and phone (as the
//! profile normalises them) and by tag (paged, across shards), following every change, and gone
//! with erasure; the index never holds an address in the clear.

use std::sync::Arc;

use fanloop_domain::lookup::CustomerQuery;
use fanloop_domain::ports::Store;
use fanloop_domain::{CustomerId, ProfilePatch, TenantId};
use fanloop_tests::{Backend, both_stores, ts};
use serde_json::{Value, json};

both_stores!(
    email_and_phone_find_their_customer_and_follow_changes,
    a_tag_lists_every_customer_once_in_pages,
    erasure_leaves_the_customer_in_no_index,
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

fn email(s: &str) -> CustomerQuery {
    CustomerQuery::parse(Some(s), None, None).unwrap()
}

fn phone(s: &str) -> CustomerQuery {
    CustomerQuery::parse(None, Some(s), None).unwrap()
}

fn tag(s: &str) -> CustomerQuery {
    CustomerQuery::parse(None, None, Some(s)).unwrap()
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
    let mut seen = Vec::new();
    let mut after: Option<CustomerId> = None;
    loop {
        let page = s
            .find_customers(&t, &tag("pc"), after.as_ref(), 7)
            .await
            .unwrap();
        seen.extend(page.customers.iter().map(|p| p.customer_id.to_string()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
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
    s.erase_customer(&t, &CustomerId::parse("gone").unwrap(), "~erased-s1")
        .await
        .unwrap()
        .unwrap();
    assert!(ids(s, &t, email("gone@example.com")).await.is_empty());
    assert!(ids(s, &t, phone("+14155550123")).await.is_empty());
    assert_eq!(ids(s, &t, tag("vip")).await, ["stays"]);
    let dump = b.dump(&t).await.join("\n");
    assert!(
        !dump.contains("gone"),
        "no index item names the customer: {dump}"
    );
}
