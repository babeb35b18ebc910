//! On DynamoDB a profile written before search has no index items (search arrived after it);
//! the first snapshot that stores its segments puts them, under the profile's revision, so an
//! older deployment's customers become findable without a migration job.

use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_domain::CustomerId;
use fanloop_domain::ProfilePatch;
use fanloop_domain::analytics::Counters;
use fanloop_domain::lookup::{CustomerQuery, Segments};
use fanloop_tests::{Backend, MOTO_HELP, dynamo_client, dynamodb, ts};
use serde_json::json;

/// Deletes every search index item of the tenant, as if its profiles predated search.
async fn forget_index(tenant: &str) -> usize {
    let (Ok(endpoint), Ok(table)) = (
        std::env::var("FANLOOP_TEST_AWS_ENDPOINT"),
        std::env::var("FANLOOP_TEST_TABLE"),
    ) else {
        panic!("{MOTO_HELP}");
    };
    let client = dynamo_client(&endpoint);
    let items = client
        .scan()
        .table_name(&table)
        .filter_expression("begins_with(pk, :p)")
        .expression_attribute_values(":p", AttributeValue::S(format!("T#{tenant}#LOOKUP#")))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default();
    for it in &items {
        client
            .delete_item()
            .table_name(&table)
            .key("pk", it["pk"].clone())
            .key("sk", it["sk"].clone())
            .send()
            .await
            .unwrap();
    }
    items.len()
}

#[tokio::test]
async fn the_first_segment_move_indexes_a_profile_from_before_search() {
    let b: Backend = dynamodb();
    let (t, _) = b.tenant().await;
    let s = b.store();
    let c = CustomerId::parse("old-timer").unwrap();
    let patch = ProfilePatch::from_json(
        json!({"email": "old@example.com", "tags": ["vip"]}),
        jiff::civil::date(2026, 1, 1),
    )
    .unwrap();
    s.upsert_profile(&t, &c, &patch, ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(forget_index(t.as_str()).await, 2, "e-mail and tag");
    let email = CustomerQuery::parse("email", "old@example.com").unwrap();
    let found = |q: CustomerQuery| {
        let s = s.clone();
        let t = t.clone();
        async move {
            s.find_customers(&t, &q, None, 10)
                .await
                .unwrap()
                .customers
                .len()
        }
    };
    assert_eq!(found(email.clone()).await, 0, "not findable before");

    let to = Segments {
        tier: Some("potential".into()),
        lifecycle: Some("acquisition".into()),
        rfm: Some("lost".into()),
    };
    assert!(
        s.move_segments(&t, &c, &Segments::default(), &to, &Counters::default())
            .await
            .unwrap()
    );
    assert_eq!(found(email).await, 1);
    assert_eq!(found(CustomerQuery::parse("tag", "vip").unwrap()).await, 1);
    assert_eq!(
        found(CustomerQuery::parse("tier", "potential").unwrap()).await,
        1
    );

    // A customer erased after the snapshot read them: the move writes nothing, so no index
    // item is put back for them.
    let d = CustomerId::parse("changing").unwrap();
    s.upsert_profile(&t, &d, &patch, ts("2026-01-01T00:00:00Z"))
        .await
        .unwrap();
    s.erase_customer(&t, &d, "~erased-b1").await.unwrap();
    assert!(
        !s.move_segments(&t, &d, &Segments::default(), &to, &Counters::default())
            .await
            .unwrap()
    );
    let dump = b.dump(&t).await.join("\n");
    assert!(!dump.contains("changing"), "{dump}");
}
