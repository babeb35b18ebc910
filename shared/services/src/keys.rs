//! Creating an API key (the API's `POST /v1/keys` and the console's keys page): the secret is
//! returned once and stored only as its hash.

use fanloop_domain::keys::{KeyInfo, NewKey};
use fanloop_domain::ports::{StoreError, TenantStore};
use fanloop_domain::tenant::{ApiKey, Random};
use fanloop_domain::{TenantId, ValidationErrors};
use jiff::Timestamp;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("invalid key request")]
    Invalid(ValidationErrors),
    #[error("no random secret")]
    Random,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A new key from `body` (`{name, scopes, expires_at?}`) and its secret (shown once).
pub async fn create(
    store: &dyn TenantStore,
    random: &dyn Random,
    tenant: &TenantId,
    body: serde_json::Value,
    now: Timestamp,
) -> Result<(KeyInfo, ApiKey), KeyError> {
    let (name, scopes, expires_at) = NewKey::read(body, now).map_err(KeyError::Invalid)?;
    let secret = ApiKey::generate(random).map_err(|_| KeyError::Random)?;
    let key = KeyInfo::new(tenant, &secret, name, scopes, now, expires_at);
    store.create_key(tenant, &key, &secret.hash()).await?;
    tracing::info!(tenant = %tenant, key_id = %key.key_id, "api key created");
    Ok((key, secret))
}
