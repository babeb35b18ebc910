//! The state every handler borrows: built once at start (Lambda init or `fanloop serve`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fanloop_domain::TenantId;
use fanloop_domain::clock::Clock;
use fanloop_domain::ports::{MailCopies, NoMailCopies, Store};
use fanloop_domain::settings::TenantSettings;

use crate::auth::KeyCache;
use crate::problem::ApiError;

/// How long a function keeps a tenant's settings before reading them again. The process that
/// saves settings forgets its copy at once; other Lambda instances see changes within this.
pub const SETTINGS_TTL: Duration = Duration::from_secs(30);

#[derive(Default)]
pub struct SettingsCache(Mutex<HashMap<TenantId, (Arc<TenantSettings>, Instant)>>);

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub keys: Arc<KeyCache>,
    /// Per-key request rates (settings `api.rate_per_s`), on this instance.
    pub limits: Arc<crate::auth::RateLimiter>,
    pub settings: Arc<SettingsCache>,
    /// Where copies of sent mail live outside the store (local mode's outbox), for erasure.
    pub mail_copies: Arc<dyn MailCopies>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>) -> Self {
        Self {
            store,
            clock,
            keys: Arc::new(KeyCache::default()),
            limits: Arc::default(),
            settings: Arc::new(SettingsCache::default()),
            mail_copies: Arc::new(NoMailCopies),
        }
    }

    /// The same state, erasing mail copies from `copies` (the outbox in local mode).
    pub fn with_mail_copies(mut self, copies: Arc<dyn MailCopies>) -> Self {
        self.mail_copies = copies;
        self
    }

    /// The tenant's settings, from the cache when fresh.
    pub async fn settings(&self, tenant: &TenantId) -> Result<Arc<TenantSettings>, ApiError> {
        {
            let map = self.settings.0.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((s, _)) = map
                .get(tenant)
                .filter(|(_, at)| at.elapsed() < SETTINGS_TTL)
            {
                return Ok(s.clone());
            }
        }
        let s = Arc::new(self.store.settings(tenant).await?.settings);
        let mut map = self.settings.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 10_000 {
            map.clear();
        }
        map.insert(tenant.clone(), (s.clone(), Instant::now()));
        Ok(s)
    }

    pub fn forget_settings(&self, tenant: &TenantId) {
        self.settings
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(tenant);
    }
}
