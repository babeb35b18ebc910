//! `fanloop campaign list|show|run`: the tenant's campaigns — the built-in birthday, win-back
//! and recovery mails and the saved definitions — from the command line, as JSON.

use fanloop_domain::TenantId;
use fanloop_domain::campaigns::CampaignKind;
use fanloop_domain::campaigns::definition::builtin::{builtin_kind, builtin_record};
use fanloop_domain::campaigns::definition::{CampaignId, CampaignRecord};
use fanloop_domain::ports::{Store, StoreError, documents};
use serde_json::{Value, json};

/// Why a campaign command failed.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("--tenant {0}")]
    Tenant(String),
    #[error("no campaign {0} (built-in: birthday, winback, recovery; or a definition's id)")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn tenant_id(t: &str) -> Result<TenantId, CampaignError> {
    TenantId::parse(t).map_err(|e| CampaignError::Tenant(e.to_string()))
}

/// One line per campaign: the built-ins, then the definitions by id.
pub async fn list(store: &dyn Store, tenant: &str) -> Result<Vec<Value>, CampaignError> {
    let tenant = tenant_id(tenant)?;
    let (created, settings) = builtin_source(store, &tenant).await?;
    let builtins = CampaignKind::ALL
        .into_iter()
        .map(|k| builtin_record(k, &settings.campaigns, created));
    let defs: Vec<CampaignRecord> = documents::list(store, &tenant).await?;
    Ok(builtins
        .chain(defs)
        .map(|d| {
            json!({"campaign_id": d.campaign_id, "built_in": d.definition["builtin"] == true,
                   "status": d.status, "name": d.definition["name"],
                   "trigger": d.definition["trigger"]["type"]})
        })
        .collect())
}

/// A campaign's record: a built-in's from the settings, a definition's as stored.
pub async fn show(store: &dyn Store, tenant: &str, id: &str) -> Result<Value, CampaignError> {
    let tenant = tenant_id(tenant)?;
    if let Some(k) = builtin_kind(id) {
        let (created, settings) = builtin_source(store, &tenant).await?;
        let record = builtin_record(k, &settings.campaigns, created);
        return Ok(serde_json::to_value(record).unwrap_or(Value::Null));
    }
    let missing = || CampaignError::NotFound(id.to_owned());
    let cid = CampaignId::parse(id).map_err(|_| missing())?;
    let record: CampaignRecord = documents::get(store, &tenant, cid.as_str())
        .await?
        .ok_or_else(missing)?;
    Ok(serde_json::to_value(record).unwrap_or(Value::Null))
}

/// What the built-ins' records are made of: the tenant's creation and its settings.
async fn builtin_source(
    store: &dyn Store,
    tenant: &TenantId,
) -> Result<(jiff::Timestamp, fanloop_domain::settings::TenantSettings), CampaignError> {
    let t = store
        .tenant(tenant)
        .await?
        .ok_or_else(|| CampaignError::Tenant(format!("{tenant}: no such tenant")))?;
    Ok((t.created_at, store.settings(tenant).await?.settings))
}
