//! The engine on AWS: its configuration from the environment, built once at a function's init
//! (the campaigns, surveys and triggers functions each build their own).

use std::sync::Arc;

use fanloop_domain::SystemClock;
use fanloop_domain::campaigns::unsubscribe::UnsubscribeKey;
use fanloop_domain::values::Email;
use fanloop_mail::{SesMailer, Templates};
use fanloop_store_dynamodb::DynamoStore;

use crate::{Campaigns, Pacer};

/// Why the engine cannot start; it names the variable or the secret, never a secret's value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(&'static str),
    #[error("{name}: {why}")]
    Invalid { name: &'static str, why: String },
    #[error("the unsubscribe secret {id}: {why}")]
    Secret { id: String, why: String },
}

fn var(name: &'static str) -> Result<String, ConfigError> {
    std::env::var(name).map_err(|_| ConfigError::Missing(name))
}

/// The key that signs unsubscribe links: read once at init from Secrets Manager when
/// `FANLOOP_UNSUBSCRIBE_SECRET_ID` names a secret (on AWS: the secret never sits in the
/// function's configuration), else from `FANLOOP_UNSUBSCRIBE_SECRET` (local runs, tests).
pub async fn unsubscribe_key_from_env(
    conf: &aws_config::SdkConfig,
) -> Result<UnsubscribeKey, ConfigError> {
    match std::env::var("FANLOOP_UNSUBSCRIBE_SECRET_ID") {
        Ok(id) => fetch_unsubscribe_key(&aws_sdk_secretsmanager::Client::new(conf), &id).await,
        Err(_) => {
            let secret = var("FANLOOP_UNSUBSCRIBE_SECRET")?;
            UnsubscribeKey::new(secret.as_bytes()).map_err(|e| ConfigError::Invalid {
                name: "FANLOOP_UNSUBSCRIBE_SECRET",
                why: e.to_string(),
            })
        }
    }
}

/// Reads the secret `id` (its string value, at least 32 bytes).
pub async fn fetch_unsubscribe_key(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> Result<UnsubscribeKey, ConfigError> {
    let secret = |why: String| ConfigError::Secret {
        id: id.to_owned(),
        why,
    };
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            secret(format!(
                "cannot read it: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            ))
        })?;
    let value = out
        .secret_string()
        .ok_or_else(|| secret("has no string value".into()))?;
    UnsubscribeKey::new(value.as_bytes()).map_err(|e| secret(e.to_string()))
}

/// The table alone (`FANLOOP_TABLE`, `FANLOOP_DYNAMODB_ENDPOINT` for tests): for functions that
/// only store, such as `feedback`.
pub async fn store_from_env() -> Result<DynamoStore, ConfigError> {
    let table = var("FANLOOP_TABLE")?;
    Ok(DynamoStore::connect(table, std::env::var("FANLOOP_DYNAMODB_ENDPOINT").ok()).await)
}

/// `FANLOOP_TABLE`, `FANLOOP_PUBLIC_URL` (https), the unsubscribe key
/// ([`unsubscribe_key_from_env`]),
/// `FANLOOP_SENDER` (an address of the verified SES identity), optional `FANLOOP_SEND_RATE`
/// (mails per second, default 14: SES's starting rate), `FANLOOP_SES_CONFIGURATION_SET`,
/// optional `FANLOOP_BROADCAST_QUEUE_URL` (broadcast runs queue their batches there for the
/// `broadcasts` function instead of sending them), and the endpoints
/// `FANLOOP_DYNAMODB_ENDPOINT` / `FANLOOP_SES_ENDPOINT` / `FANLOOP_SQS_ENDPOINT` (tests).
pub async fn campaigns_from_env() -> Result<Campaigns, ConfigError> {
    let table = var("FANLOOP_TABLE")?;
    let public_url = var("FANLOOP_PUBLIC_URL")?;
    if !public_url.starts_with("https://") {
        return Err(ConfigError::Invalid {
            name: "FANLOOP_PUBLIC_URL",
            why: "must be an https:// URL (RFC 8058 one-click links)".into(),
        });
    }
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let key = unsubscribe_key_from_env(&conf).await?;
    let sender = Email::parse(var("FANLOOP_SENDER")?).map_err(|e| ConfigError::Invalid {
        name: "FANLOOP_SENDER",
        why: e.to_string(),
    })?;
    let rate = match std::env::var("FANLOOP_SEND_RATE") {
        Ok(r) => r.parse().map_err(|_| ConfigError::Invalid {
            name: "FANLOOP_SEND_RATE",
            why: "must be a whole number".into(),
        })?,
        Err(_) => 14,
    };
    let store = DynamoStore::connect(table, std::env::var("FANLOOP_DYNAMODB_ENDPOINT").ok()).await;
    let mailer = SesMailer::connect(
        std::env::var("FANLOOP_SES_ENDPOINT").ok(),
        std::env::var("FANLOOP_SES_CONFIGURATION_SET").ok(),
    )
    .await;
    let queue = match std::env::var("FANLOOP_BROADCAST_QUEUE_URL") {
        Ok(url) if !url.is_empty() => {
            let q = crate::sqs::SqsQueue::connect(
                &conf,
                url,
                std::env::var("FANLOOP_SQS_ENDPOINT").ok(),
            )
            .await;
            Some(Arc::new(q) as Arc<dyn crate::fanout::SendQueue>)
        }
        _ => None,
    };
    Ok(Campaigns {
        store: Arc::new(store),
        mailer: Arc::new(mailer),
        clock: Arc::new(SystemClock),
        templates: Arc::new(Templates::new()),
        unsubscribe_key: key,
        public_url,
        default_sender: Some(sender),
        pacer: Arc::new(Pacer::new(rate)),
        item_rows: Default::default(),
        queue,
    })
}
