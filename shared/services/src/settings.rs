//! Changing a tenant's settings (the API's `PUT /v1/settings` and the console's settings
//! page): a JSON merge patch applied to the stored settings, the merged whole validated (and
//! by `check`, e.g. that the tenant's mail templates render), saved if nobody saved in
//! between — otherwise re-read and re-applied.

use fanloop_domain::ports::{StoreError, TenantStore};
use fanloop_domain::{TenantId, TenantSettings, ValidationErrors};
use serde_json::Value;

/// A concurrent save is re-applied this many times.
const ATTEMPTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("invalid settings")]
    Invalid(ValidationErrors),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies `patch`; `(before, after)`.
pub async fn update(
    store: &dyn TenantStore,
    tenant: &TenantId,
    patch: Value,
    check: &(dyn Fn(&TenantSettings) -> Result<(), ValidationErrors> + Sync),
) -> Result<(TenantSettings, TenantSettings), SettingsError> {
    for _ in 0..ATTEMPTS {
        let current = store.settings(tenant).await?;
        let merged = current
            .settings
            .merged(patch.clone())
            .map_err(SettingsError::Invalid)?;
        check(&merged).map_err(SettingsError::Invalid)?;
        match store.put_settings(tenant, &merged, current.version).await {
            Ok(_) => return Ok((current.settings, merged)),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(StoreError::Conflict.into())
}
