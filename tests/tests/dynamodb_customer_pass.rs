//! The pass over a tenant's customers on DynamoDB (the snapshot's and the segment preview's):
//! every shard of `by-tenant` read at once, page after page, each customer exactly once,
//! another tenant's never.

use std::collections::BTreeSet;

use fanloop_domain::CustomerId;
use fanloop_domain::ProfilePatch;
use fanloop_tests::{dynamodb, ts};
use serde_json::json;

#[tokio::test]
async fn pages_through_every_customer_once() {
    let b = dynamodb();
    let (t, _) = b.tenant().await;
    let (other, _) = b.tenant().await;
    let s = b.store();
    let patch = ProfilePatch::from_json(json!({}), jiff::civil::date(2026, 1, 1)).unwrap();
    let mut want = BTreeSet::new();
    for i in 0..40 {
        let c = CustomerId::parse(format!("p{i:03}")).unwrap();
        s.upsert_profile(&t, &c, &patch, ts("2026-01-01T00:00:00Z"))
            .await
            .unwrap();
        want.insert(c.to_string());
    }
    s.upsert_profile(
        &other,
        &CustomerId::parse("elsewhere").unwrap(),
        &patch,
        ts("2026-01-01T00:00:00Z"),
    )
    .await
    .unwrap();
    // 8 a page: one per shard per request, so most shards take several pages.
    let (mut seen, mut cursor, mut pages) = (Vec::new(), None, 0);
    loop {
        let (batch, next) = s.snapshot_customers(&t, cursor, 8).await.unwrap();
        pages += 1;
        assert!(batch.len() <= 8, "at most one per shard: {}", batch.len());
        seen.extend(batch.into_iter().map(|c| c.profile.customer_id.to_string()));
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    assert_eq!(seen.len(), 40, "no customer twice");
    assert_eq!(unique, want);
    assert!(pages >= 5, "paged: {pages}");
}
