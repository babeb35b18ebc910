//! The suppression list as the senders and the feedback paths use it: the tenant's
//! address-hashing key (made on first need, kept as a tenant document, cached per process),
//! the check every send makes before its claim, and applying a provider's event.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use fanloop_domain::TenantId;
use fanloop_domain::deliverability::{
    AddressHash, AddressKey, AddressState, FeedbackEvent, FeedbackOutcome, MessageDelivery,
};
use fanloop_domain::ports::{Collection, DocumentStore, Store, StoreError};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::values::Email;

const KEY_DOC: &str = "address-key";

/// Keys never change once made: cached per store instance and tenant.
fn cache() -> &'static Mutex<HashMap<(usize, TenantId), AddressKey>> {
    static CACHE: OnceLock<Mutex<HashMap<(usize, TenantId), AddressKey>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn read_key(doc: &str) -> Result<AddressKey, StoreError> {
    serde_json::from_str::<serde_json::Value>(doc)
        .ok()
        .and_then(|v| v["key"].as_str().and_then(AddressKey::from_hex))
        .ok_or_else(|| StoreError::Corrupt("address key".into()))
}

/// The tenant's address-hashing key, made (once, whoever races) on first need.
pub async fn address_key(
    store: &dyn DocumentStore,
    tenant: &TenantId,
) -> Result<AddressKey, StoreError> {
    let id = (
        std::ptr::from_ref(store).cast::<()>() as usize,
        tenant.clone(),
    );
    if let Some(k) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(&id) {
        return Ok(k.clone());
    }
    let key = match store.document(tenant, Collection::Secrets, KEY_DOC).await? {
        Some(doc) => read_key(&doc)?,
        None => {
            let new = AddressKey::generate(&OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?;
            let doc = serde_json::json!({"key": new.to_hex()}).to_string();
            if store
                .create_document(tenant, Collection::Secrets, KEY_DOC, &doc)
                .await?
            {
                new
            } else {
                // Another writer made it first: theirs is the key.
                let doc = store
                    .document(tenant, Collection::Secrets, KEY_DOC)
                    .await?
                    .ok_or_else(|| StoreError::Corrupt("address key vanished".into()))?;
                read_key(&doc)?
            }
        }
    };
    let mut map = cache().lock().unwrap_or_else(|e| e.into_inner());
    if map.len() > 100_000 {
        map.clear();
    }
    map.insert(id, key.clone());
    Ok(key)
}

/// The keyed hash of `email` for the tenant.
pub async fn address_hash(
    store: &dyn DocumentStore,
    tenant: &TenantId,
    email: &Email,
) -> Result<AddressHash, StoreError> {
    Ok(address_key(store, tenant).await?.address_hash(email))
}

/// Whether `email` is on the tenant's suppression list.
pub async fn is_suppressed(
    store: &dyn Store,
    tenant: &TenantId,
    email: &Email,
) -> Result<bool, StoreError> {
    let hash = address_hash(store, tenant, email).await?;
    Ok(store
        .address(tenant, &hash)
        .await?
        .is_some_and(|s| s.is_suppressed()))
}

/// Applies a provider event for `tenant`: each recipient's suppression state, then the news on
/// the message the event's tags name (if it is the tenant's). Safe to apply again: a second
/// delivery of the same event changes nothing.
pub async fn apply_feedback(
    store: &dyn Store,
    tenant: &TenantId,
    event: &FeedbackEvent,
) -> Result<FeedbackOutcome, StoreError> {
    let key = address_key(store, tenant).await?;
    let mut out = FeedbackOutcome::default();
    for email in &event.recipients {
        let hash = key.address_hash(email);
        let (kind, at, h) = (event.kind.clone(), event.at, hash.clone());
        let written = store
            .update_address(
                tenant,
                &hash,
                Box::new(move |s| {
                    s.cloned()
                        .unwrap_or_else(|| AddressState::new(h.clone()))
                        .after(&kind, at)
                }),
            )
            .await?;
        if let Some(s) = written.as_ref().and_then(|s| s.suppressed.as_ref())
            && s.at == event.at
        {
            out.suppressed += 1;
            tracing::info!(tenant = %tenant, reason = ?s.reason, "address suppressed");
        }
    }
    if let Some(m) = event.mail.as_ref().filter(|m| &m.tenant == tenant) {
        let news = MessageDelivery::of(&event.kind, event.at);
        out.message_updated = store
            .record_delivery(tenant, &m.customer, &m.message_id, &news)
            .await?;
    }
    Ok(out)
}
