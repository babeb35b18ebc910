//! The AWS side of the function: configuration from the environment (built once at init) and
//! the scheduled-event handler (EventBridge Scheduler delivers the schedule's input as the
//! event, e.g. `{"kind": "birthday"}`).

use std::sync::Arc;

use fanloop_domain::campaigns::CampaignKind;
use fanloop_domain::campaigns::unsubscribe::UnsubscribeKey;
use fanloop_domain::values::Email;
use fanloop_domain::{SystemClock, TenantId, time};
use fanloop_mail::{SesMailer, Templates};
use fanloop_store_dynamodb::DynamoStore;
use serde::{Deserialize, Serialize};

use crate::{Campaigns, Pacer, RunError};

fn var(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

/// The key that signs unsubscribe links: read once at init from Secrets Manager when
/// `FANLOOP_UNSUBSCRIBE_SECRET_ID` names a secret (on AWS: the secret never sits in the
/// function's configuration), else from `FANLOOP_UNSUBSCRIBE_SECRET` (local runs, tests).
pub async fn unsubscribe_key_from_env(
    conf: &aws_config::SdkConfig,
) -> Result<UnsubscribeKey, String> {
    match std::env::var("FANLOOP_UNSUBSCRIBE_SECRET_ID") {
        Ok(id) => fetch_unsubscribe_key(&aws_sdk_secretsmanager::Client::new(conf), &id).await,
        Err(_) => {
            let secret = var("FANLOOP_UNSUBSCRIBE_SECRET")?;
            UnsubscribeKey::new(secret.as_bytes()).map_err(|e| e.to_string())
        }
    }
}

/// Reads the secret `id` (its string value, at least 32 bytes). Errors name the secret, never
/// its value.
pub async fn fetch_unsubscribe_key(
    client: &aws_sdk_secretsmanager::Client,
    id: &str,
) -> Result<UnsubscribeKey, String> {
    let out = client
        .get_secret_value()
        .secret_id(id)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read the unsubscribe secret {id}: {}",
                aws_sdk_secretsmanager::error::DisplayErrorContext(e)
            )
        })?;
    let value = out
        .secret_string()
        .ok_or_else(|| format!("the unsubscribe secret {id} has no string value"))?;
    UnsubscribeKey::new(value.as_bytes()).map_err(|e| format!("the unsubscribe secret {id}: {e}"))
}

/// `FANLOOP_TABLE`, `FANLOOP_PUBLIC_URL` (https), the unsubscribe key
/// ([`unsubscribe_key_from_env`]),
/// `FANLOOP_SENDER` (an address of the verified SES identity), optional `FANLOOP_SEND_RATE`
/// (mails per second, default 14: SES's starting rate), `FANLOOP_SES_CONFIGURATION_SET`, and
/// the endpoints `FANLOOP_DYNAMODB_ENDPOINT` / `FANLOOP_SES_ENDPOINT` (tests).
pub async fn campaigns_from_env() -> Result<Campaigns, String> {
    let table = var("FANLOOP_TABLE")?;
    let public_url = var("FANLOOP_PUBLIC_URL")?;
    if !public_url.starts_with("https://") {
        return Err("FANLOOP_PUBLIC_URL must be an https:// URL (RFC 8058 one-click links)".into());
    }
    let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let key = unsubscribe_key_from_env(&conf).await?;
    let sender = Email::parse(var("FANLOOP_SENDER")?).map_err(|e| format!("FANLOOP_SENDER {e}"))?;
    let rate = match std::env::var("FANLOOP_SEND_RATE") {
        Ok(r) => r
            .parse()
            .map_err(|_| "FANLOOP_SEND_RATE must be a whole number")?,
        Err(_) => 14,
    };
    let store = DynamoStore::connect(table, std::env::var("FANLOOP_DYNAMODB_ENDPOINT").ok()).await;
    let mailer = SesMailer::connect(
        std::env::var("FANLOOP_SES_ENDPOINT").ok(),
        std::env::var("FANLOOP_SES_CONFIGURATION_SET").ok(),
    )
    .await;
    Ok(Campaigns {
        store: Arc::new(store),
        mailer: Arc::new(mailer),
        clock: Arc::new(SystemClock),
        templates: Arc::new(Templates::new()),
        unsubscribe_key: key,
        public_url,
        default_sender: Some(sender),
        pacer: Arc::new(Pacer::new(rate)),
    })
}

/// The input of a schedule.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledRun {
    /// `birthday`, `winback`, or `snapshot` (the daily analytics snapshot).
    pub kind: String,
    /// Default: now. For backfills started by hand.
    pub as_of: Option<String>,
    /// Default: every tenant.
    pub tenant: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ScheduledResult {
    pub runs: Vec<TenantRun>,
    /// The tenants whose analytics snapshot was taken (`kind: snapshot`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<TenantId>,
}

#[derive(Debug, Serialize)]
pub struct TenantRun {
    pub tenant: TenantId,
    pub report: fanloop_domain::campaigns::RunReport,
}

/// Handles one scheduled event. An invalid event is an error the scheduler's retries cannot
/// fix: it ends in the dead-letter queue. A store failure is retried (runs are idempotent).
pub async fn handle_scheduled(
    campaigns: &Campaigns,
    event: serde_json::Value,
) -> Result<ScheduledResult, String> {
    let run: ScheduledRun =
        serde_json::from_value(event).map_err(|e| format!("invalid schedule input: {e}"))?;
    if run.kind == "snapshot" {
        // Hourly: each tenant's snapshot is taken in the first run of its local day.
        let tenants = campaigns
            .snapshot_all(false)
            .await
            .map_err(|e| e.to_string())?;
        return Ok(ScheduledResult {
            runs: Vec::new(),
            snapshots: tenants,
        });
    }
    let kind = CampaignKind::parse(&run.kind)
        .ok_or_else(|| format!("invalid schedule input: unknown campaign {:?}", run.kind))?;
    let as_of = run
        .as_of
        .as_deref()
        .map(time::parse)
        .transpose()
        .map_err(|e| format!("invalid schedule input: as_of {e}"))?;
    let err = |e: RunError| e.to_string();
    let runs = match run.tenant {
        Some(t) => {
            let tenant =
                TenantId::parse(t).map_err(|e| format!("invalid schedule input: tenant {e}"))?;
            let report = campaigns
                .run(&tenant, kind, as_of, false)
                .await
                .map_err(err)?;
            vec![TenantRun { tenant, report }]
        }
        None => campaigns
            .run_all(kind, as_of)
            .await
            .map_err(err)?
            .into_iter()
            .map(|(tenant, report)| TenantRun { tenant, report })
            .collect(),
    };
    Ok(ScheduledResult {
        runs,
        snapshots: Vec::new(),
    })
}
