//! API-key authentication and scopes: `Authorization: Bearer <key>` on every `/v1` route. The
//! key is hashed and looked up; resolved keys are cached briefly so a warm function makes no
//! extra store round trip per request. A revoked key stops working at once on the instance that
//! revoked it and within `CACHE_TTL` (60 s) everywhere else; an expired one at its expiry. A
//! key without the scope the route needs ([`accepted_scopes`]) is 403 naming the scope.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fanloop_domain::TenantId;
use fanloop_domain::keys::{Bucket, KeyInfo, Scope, accepted_scopes};
use fanloop_domain::tenant::{ApiKey, ApiKeyHash};

use crate::problem::ApiError;
use crate::state::AppState;

pub const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX: usize = 10_000;

#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<ApiKeyHash, (KeyInfo, Instant)>>);

impl KeyCache {
    fn get(&self, key: &ApiKeyHash) -> Option<KeyInfo> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(k, _)| k.clone())
    }

    fn put(&self, key: ApiKeyHash, info: KeyInfo) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_MAX {
            map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(key, (info, Instant::now()));
    }

    /// Forgets a key at once (revoked on this instance).
    pub fn forget(&self, key: &ApiKeyHash) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }
}

/// Each key's token bucket on this instance (settings `api.rate_per_s`).
#[derive(Default)]
pub struct RateLimiter(Mutex<HashMap<String, Bucket>>);

impl RateLimiter {
    /// One request of `key_id` at `now`, or the whole seconds to wait.
    fn take(&self, key_id: &str, rate: u32, now: jiff::Timestamp) -> Result<(), u64> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_MAX && !map.contains_key(key_id) {
            map.clear();
        }
        let b = map
            .entry(key_id.to_owned())
            .or_insert_with(|| Bucket::full(rate, now));
        b.take(rate, now).map_err(|wait| {
            let ms = u64::try_from(wait.as_millis()).unwrap_or(1000);
            ms.div_ceil(1000).max(1)
        })
    }
}

/// The key that authenticated a request (its record: scopes, id).
#[derive(Clone, Debug)]
pub struct AuthKey(pub KeyInfo);

/// The authenticated tenant of a request.
#[derive(Clone, Debug)]
pub struct AuthTenant(pub TenantId);

impl<S: Send + Sync> FromRequestParts<S> for AuthTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<AuthTenant>()
            .cloned()
            .ok_or(ApiError::Unauthorized("Authentication required."))
    }
}

fn presented_key(req: &Request) -> Result<ApiKey, ApiError> {
    let header = req
        .headers()
        .get(AUTHORIZATION)
        .ok_or(ApiError::Unauthorized(
            "Send the API key as Authorization: Bearer <key>.",
        ))?;
    let token = header
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .ok_or(ApiError::Unauthorized(
            "The Authorization header must be Bearer <key>.",
        ))?;
    ApiKey::parse(token.trim()).map_err(|_| ApiError::Unauthorized("The API key is malformed."))
}

async fn resolve(state: &AppState, key: ApiKey) -> Result<KeyInfo, ApiError> {
    let hash = key.hash();
    let info = match state.keys.get(&hash) {
        Some(k) => k,
        None => {
            let k = state
                .store
                .key(&hash)
                .await?
                .ok_or(ApiError::Unauthorized("The API key is not valid."))?;
            // Once per cache fill: "last used" to the cache's lifetime, not a write per request.
            if k.usable(state.clock.now())
                && let Err(e) = state.store.key_used(&hash, state.clock.now()).await
            {
                tracing::warn!(key_id = %k.key_id, error = %e, "key use not recorded");
            }
            state.keys.put(hash, k.clone());
            k
        }
    };
    if !info.usable(state.clock.now()) {
        return Err(ApiError::Unauthorized("The API key is revoked or expired."));
    }
    Ok(info)
}

pub async fn require_api_key(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let key = match presented_key(&req) {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let info = match resolve(&state, key).await {
        Ok(k) => k,
        Err(e) => return e.into_response(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| req.uri().path().to_owned(), |m| m.as_str().to_owned());
    let accepted = accepted_scopes(req.method().as_str(), &route);
    if !accepted.iter().any(|s| info.scopes.contains(s)) {
        return ApiError::Forbidden(accepted.first().copied().unwrap_or(Scope::Admin))
            .into_response();
    }
    let Some(tenant) = info.tenant.clone() else {
        return ApiError::Internal.into_response();
    };
    let rate = match state.settings(&tenant).await {
        Ok(s) => s.api.rate_per_s,
        Err(e) => return e.into_response(),
    };
    if rate > 0
        && let Err(secs) = state.limits.take(&info.key_id, rate, state.clock.now())
    {
        return ApiError::RateLimited(secs).into_response();
    }
    req.extensions_mut().insert(AuthTenant(tenant));
    req.extensions_mut().insert(AuthKey(info));
    next.run(req).await
}
