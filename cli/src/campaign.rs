//! `fanloop campaign list|show|run`: the tenant's campaigns — the built-in birthday, win-back
//! and recovery mails and the saved definitions — from the command line, as JSON.

use fanloop_domain::TenantId;
use fanloop_domain::campaigns::CampaignKind;
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

/// One line per campaign: the built-ins with their switch, then the definitions by id.
pub async fn list(store: &dyn Store, tenant: &str) -> Result<Vec<Value>, CampaignError> {
    let tenant = tenant_id(tenant)?;
    let settings = store.settings(&tenant).await?.settings;
    let mut out: Vec<Value> = CampaignKind::ALL
        .into_iter()
        .map(|k| {
            json!({"campaign_id": k.as_str(), "built_in": true,
                   "status": if settings.campaigns.enabled(k) { "active" } else { "off" }})
        })
        .collect();
    let defs: Vec<CampaignRecord> = documents::list(store, &tenant).await?;
    for d in defs {
        out.push(
            json!({"campaign_id": d.campaign_id, "built_in": false, "status": d.status,
                        "name": d.definition["name"], "trigger": d.definition["trigger"]["type"]}),
        );
    }
    Ok(out)
}

/// A built-in's settings section, or a definition's stored record.
pub async fn show(store: &dyn Store, tenant: &str, id: &str) -> Result<Value, CampaignError> {
    let tenant = tenant_id(tenant)?;
    if let Some(k) = CampaignKind::ALL.into_iter().find(|k| k.as_str() == id) {
        let settings = store.settings(&tenant).await?.settings;
        let section = serde_json::to_value(&settings.campaigns)
            .ok()
            .and_then(|v| v.get(k.as_str()).cloned())
            .unwrap_or(Value::Null);
        return Ok(json!({"campaign_id": id, "built_in": true, "settings": section}));
    }
    let missing = || CampaignError::NotFound(id.to_owned());
    let cid = CampaignId::parse(id).map_err(|_| missing())?;
    let record: CampaignRecord = documents::get(store, &tenant, cid.as_str())
        .await?
        .ok_or_else(missing)?;
    Ok(serde_json::to_value(record).unwrap_or(Value::Null))
}
