//! The SES v2 path against moto: the scheduled handler (fed the EventBridge Scheduler input
//! fixture) runs the birthday campaign on DynamoDB and sends through SES; the raw message SES
//! received carries the coupon and the one-click headers, and the link unsubscribes.

use std::sync::Arc;

use fanloop_domain::clock::ManualClock;
use fanloop_domain::profile::ProfilePatch;
use fanloop_domain::{Clock, CustomerId};
use fanloop_mail::SesMailer;
use fanloop_tests::{MOTO_HELP, campaigns, dynamodb, moto_get, ts};
use serde_json::{Value, json};

fn ses_client() -> aws_sdk_sesv2::Client {
    use aws_sdk_sesv2::config::{BehaviorVersion, Credentials, Region};
    let endpoint = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").expect(MOTO_HELP);
    let conf = aws_sdk_sesv2::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    aws_sdk_sesv2::Client::from_conf(conf)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn scheduled_birthday_run_sends_through_ses_and_the_link_unsubscribes() {
    let backend = dynamodb();
    let ses = ses_client();
    ses.create_email_identity()
        .email_identity("hello@star-arena.example")
        .send()
        .await
        .unwrap();
    let clock = Arc::new(ManualClock::new(ts("2026-11-22T10:05:00Z")));
    let (c, _) = campaigns(
        &backend,
        clock.clone(),
        Some(Arc::new(SesMailer::new(ses, None))),
    );
    let (tenant, _) = backend.tenant().await;
    let store = backend.store();
    let customer = CustomerId::parse("viewer-1").unwrap();
    let patch = ProfilePatch::from_json(
        json!({"email": "viewer@example.com", "display_name": "Ana", "birthday": "--11-22",
               "consent": {"email_marketing": true}}),
        jiff::civil::date(2026, 11, 22),
    )
    .unwrap();
    store
        .upsert_profile(&tenant, &customer, &patch, clock.now())
        .await
        .unwrap();

    // The schedule's input, as EventBridge Scheduler delivers it; scoped to this test's tenant
    // because the moto table is shared by concurrent tests.
    let mut event: Value =
        serde_json::from_str(include_str!("../fixtures/scheduler-birthday.json")).unwrap();
    event["tenant"] = json!(tenant.as_str());
    let result = fanloop_campaigns::aws::handle_scheduled(&c, event)
        .await
        .unwrap();
    let report = serde_json::to_value(&result).unwrap();
    assert_eq!(report["runs"][0]["report"]["sent"], 1, "{report}");
    // Repeating the event (a scheduler retry) sends nothing more.
    let mut again: Value =
        serde_json::from_str(include_str!("../fixtures/scheduler-birthday.json")).unwrap();
    again["tenant"] = json!(tenant.as_str());
    let result = fanloop_campaigns::aws::handle_scheduled(&c, again)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&result).unwrap()["runs"][0]["report"]["sent"],
        0
    );

    let messages = store.messages(&tenant, &customer).await.unwrap();
    assert_eq!(messages.len(), 1);
    let m = &messages[0];
    assert_eq!(m.provider.as_deref(), Some("ses"));
    let ses_id = m.provider_message_id.clone().unwrap();
    assert!(!ses_id.is_empty());

    // What SES received: the raw MIME message with our headers.
    let data = moto_get("/moto-api/data.json").await;
    let data: Value = serde_json::from_str(&data).unwrap();
    let sent = data["ses"].to_string();
    let our_id = format!("{}@fanloop.mail", m.id);
    assert!(sent.contains(&our_id), "moto has our message");
    assert!(sent.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
    let token_url = c.unsubscribe_url(&tenant, &customer);
    assert!(sent.contains(&format!("List-Unsubscribe: <{token_url}>")));

    // Unsubscribing through the public route turns consent off.
    let app_state = fanloop_http::AppState::new(store.clone(), clock.clone());
    let (router, _) = fanloop_http::assemble(
        fanloop_campaigns::routes(c.clone()),
        fanloop_campaigns::public_routes(c.clone()),
        app_state,
    );
    use tower::ServiceExt;
    let path = token_url.trim_start_matches("https://fanloop.test");
    let res = router
        .oneshot(
            axum::http::Request::post(path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let p = store.profile(&tenant, &customer).await.unwrap().unwrap();
    assert!(!p.consent.email_marketing_granted());
}
