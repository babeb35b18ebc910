//! `fanloop key create|list|revoke`: a tenant's API keys from the command line (as `/v1/keys`
//! does over HTTP). `create` prints the new key's secret alone on stdout, once.

use fanloop_domain::TenantId;
use fanloop_domain::keys::{KeyInfo, NewKey};
use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::tenant::{ApiKey, OsRandom};
use fanloop_domain::{Clock, ValidationErrors};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("--tenant {0}")]
    Tenant(String),
    #[error("no tenant {0}")]
    NoTenant(String),
    #[error("invalid: {0}")]
    Invalid(String),
    #[error("no key {0} for this tenant")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

async fn tenant(store: &dyn Store, t: &str) -> Result<TenantId, KeyError> {
    let id = TenantId::parse(t).map_err(|e| KeyError::Tenant(e.to_string()))?;
    match store.tenant(&id).await? {
        Some(_) => Ok(id),
        None => Err(KeyError::NoTenant(t.to_owned())),
    }
}

fn invalid(e: ValidationErrors) -> KeyError {
    KeyError::Invalid(e.summary())
}

/// Creates a key; returns its record and its secret.
pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    t: &str,
    name: &str,
    scopes: &[String],
    expires_at: Option<&str>,
) -> Result<(KeyInfo, ApiKey), KeyError> {
    let tenant = tenant(store, t).await?;
    let mut body = json!({"name": name, "scopes": scopes});
    if let Some(e) = expires_at {
        body["expires_at"] = json!(e);
    }
    let now = clock.now();
    let (name, scopes, expires_at) = NewKey::read(body, now).map_err(invalid)?;
    let secret = ApiKey::generate(&OsRandom).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let key = KeyInfo::new(&tenant, &secret, name, scopes, now, expires_at);
    store.create_key(&tenant, &key, &secret.hash()).await?;
    Ok((key, secret))
}

/// One JSON line per key, oldest first.
pub async fn list(store: &dyn Store, t: &str) -> Result<Vec<Value>, KeyError> {
    let tenant = tenant(store, t).await?;
    Ok(store
        .keys(&tenant)
        .await?
        .into_iter()
        .map(|k| serde_json::to_value(k).unwrap_or(Value::Null))
        .collect())
}

pub async fn revoke(
    store: &dyn Store,
    clock: &dyn Clock,
    t: &str,
    id: &str,
) -> Result<KeyInfo, KeyError> {
    let tenant = tenant(store, t).await?;
    store
        .revoke_key(&tenant, id, clock.now())
        .await?
        .map(|(k, _)| k)
        .ok_or_else(|| KeyError::NotFound(id.to_owned()))
}
