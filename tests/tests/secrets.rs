//! The unsubscribe key is read from Secrets Manager (moto) at init: the same key as the secret's
//! bytes give, and clear errors — never the value — when the secret is missing or too short.

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use fanloop_domain::campaigns::unsubscribe::{PURPOSE_EMAIL_MARKETING, UnsubscribeKey};
use fanloop_domain::{CustomerId, TenantId};
use fanloop_engine::aws::fetch_unsubscribe_key;
use fanloop_tests::MOTO_HELP;

fn client() -> aws_sdk_secretsmanager::Client {
    let endpoint = std::env::var("FANLOOP_TEST_AWS_ENDPOINT").expect(MOTO_HELP);
    let conf = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("test", "test", None, None, "static"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(conf)
}

#[tokio::test]
async fn the_unsubscribe_key_comes_from_secrets_manager() {
    let client = client();
    let suffix = std::process::id();
    let name = format!("fanloop/test-unsubscribe-{suffix}");
    let value = "0123456789abcdef0123456789abcdef-secret";
    client
        .create_secret()
        .name(&name)
        .secret_string(value)
        .send()
        .await
        .unwrap();
    let key = fetch_unsubscribe_key(&client, &name).await.unwrap();
    let (t, c) = (
        TenantId::parse("acme").unwrap(),
        CustomerId::parse("p1").unwrap(),
    );
    assert_eq!(
        key.sign(&t, &c, PURPOSE_EMAIL_MARKETING),
        UnsubscribeKey::new(value.as_bytes())
            .unwrap()
            .sign(&t, &c, PURPOSE_EMAIL_MARKETING)
    );

    let missing = fetch_unsubscribe_key(&client, "fanloop/no-such-secret")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(missing.contains("fanloop/no-such-secret"), "{missing}");

    let short = format!("fanloop/test-short-{suffix}");
    client
        .create_secret()
        .name(&short)
        .secret_string("too-short")
        .send()
        .await
        .unwrap();
    let err = fetch_unsubscribe_key(&client, &short)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(!err.contains("too-short"), "the value never appears: {err}");
}
