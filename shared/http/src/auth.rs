//! API-key authentication: `Authorization: Bearer <key>` on every `/v1` route. The key is
//! hashed and looked up; resolved keys are cached briefly so a warm function makes no extra
//! store round trip per request (a revoked key stops working within `CACHE_TTL`).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fanloop_domain::TenantId;
use fanloop_domain::tenant::{ApiKey, ApiKeyHash};

use crate::problem::ApiError;
use crate::state::AppState;

pub const CACHE_TTL: Duration = Duration::from_secs(60);
const CACHE_MAX: usize = 10_000;

#[derive(Default)]
pub struct KeyCache(Mutex<HashMap<ApiKeyHash, (TenantId, Instant)>>);

impl KeyCache {
    fn get(&self, key: &ApiKeyHash) -> Option<TenantId> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(_, at)| at.elapsed() < CACHE_TTL)
            .map(|(t, _)| t.clone())
    }

    fn put(&self, key: ApiKeyHash, tenant: TenantId) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CACHE_MAX {
            map.retain(|_, (_, at)| at.elapsed() < CACHE_TTL);
            if map.len() >= CACHE_MAX {
                map.clear();
            }
        }
        map.insert(key, (tenant, Instant::now()));
    }
}

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

async fn resolve(state: &AppState, key: ApiKey) -> Result<TenantId, ApiError> {
    let hash = key.hash();
    if let Some(t) = state.keys.get(&hash) {
        return Ok(t);
    }
    let tenant = state
        .store
        .tenant_for_key(&hash)
        .await?
        .ok_or(ApiError::Unauthorized("The API key is not valid."))?;
    state.keys.put(hash, tenant.clone());
    Ok(tenant)
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
    match resolve(&state, key).await {
        Ok(tenant) => {
            req.extensions_mut().insert(AuthTenant(tenant));
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}
