//! `/v1/keys`: the tenant's API keys (admin scope). A new key's secret is in the answer once
//! and stored only as its hash; the list never shows it; a revoked key is refused at once by
//! this instance and within a minute by every other (their auth caches' lifetime).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use fanloop_domain::ingest::{IngestSecret, IngestSecretInfo, rotated};
use fanloop_domain::keys::{KeyInfo, NewKey};
use fanloop_domain::tenant::OsRandom;
use fanloop_http::{ApiError, AppState, AuthKey, AuthTenant, JsonBody, Problem};
use fanloop_services::keys::KeyError;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct CreatedKey {
    #[serde(flatten)]
    pub key: KeyInfo,
    /// The key itself: shown this once, never again.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeyList {
    /// Oldest first, revoked ones included.
    pub keys: Vec<KeyInfo>,
}

/// Create an API key with one or more scopes (`ingest`, `redeem`, `read`, `admin`); the answer
/// holds its secret, once.
#[utoipa::path(post, path = "/keys", tag = "keys", request_body = NewKey,
    responses((status = 201, body = CreatedKey),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_key(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    let now = state.clock.now();
    let (key, secret) =
        fanloop_services::keys::create(state.store.as_ref(), &OsRandom, &tenant, body, now)
            .await
            .map_err(|e| match e {
                KeyError::Invalid(v) => ApiError::Validation(v),
                KeyError::Random => ApiError::Internal,
                KeyError::Store(e) => e.into(),
            })?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedKey {
            key,
            secret: secret.expose().to_owned(),
        }),
    ))
}

/// The tenant's API keys: name, scopes, prefix, times — never the secret.
#[utoipa::path(get, path = "/keys", tag = "keys",
    responses((status = 200, body = KeyList)), security(("api_key" = [])))]
pub(crate) async fn get_keys(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<KeyList>, ApiError> {
    Ok(Json(KeyList {
        keys: state.store.keys(&tenant).await?,
    }))
}

/// Revoke an API key: refused from now on (204; again: 204). The key making the request is not
/// revoked by itself (409 `key-in-use`): revoke it with another admin key, so nobody locks
/// the tenant out by mistake.
#[utoipa::path(delete, path = "/keys/{key_id}", tag = "keys",
    params(("key_id" = String, Path, description = "`k_` and 16 hex digits")),
    responses((status = 204, description = "Revoked"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "key-in-use", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn delete_key(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Extension(AuthKey(me)): Extension<AuthKey>,
    Path(key_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if me.key_id == key_id {
        return Err(ApiError::Conflict {
            slug: "key-in-use",
            detail: "This request is made with that key: revoke it with another admin key.".into(),
            errors: vec![],
        });
    }
    let (key, hash) = state
        .store
        .revoke_key(&tenant, &key_id, state.clock.now())
        .await?
        .ok_or_else(|| ApiError::not_found("The key"))?;
    state.keys.forget(&hash);
    tracing::info!(tenant = %tenant, key_id = %key.key_id, "api key revoked");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct CreatedIngestSecret {
    #[serde(flatten)]
    pub info: IngestSecretInfo,
    /// Sign each queue message's body with it (HMAC-SHA-256, hex, in the `signature`
    /// attribute as `v1=…`): shown this once.
    pub secret: String,
}

#[derive(Serialize, ToSchema)]
pub struct IngestSecretList {
    /// Oldest first: at most two, both accepted (the newest and the one before it).
    pub secrets: Vec<IngestSecretInfo>,
}

/// Rotate the tenant's ingest secret: a new one (its secret in the answer, once) is accepted
/// at once beside the previous one; the oldest beyond two is retired.
#[utoipa::path(post, path = "/ingest-secrets", tag = "keys",
    responses((status = 201, body = CreatedIngestSecret)),
    security(("api_key" = [])))]
pub(crate) async fn post_ingest_secret(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<(StatusCode, Json<CreatedIngestSecret>), ApiError> {
    let new =
        IngestSecret::generate(&OsRandom, state.clock.now()).map_err(|_| ApiError::Internal)?;
    let current = state.store.ingest_secrets(&tenant).await?;
    state
        .store
        .put_ingest_secrets(&tenant, &rotated(current, new.clone()))
        .await?;
    tracing::info!(tenant = %tenant, secret_id = %new.id, "ingest secret rotated");
    Ok((
        StatusCode::CREATED,
        Json(CreatedIngestSecret {
            info: new.info(),
            secret: new.secret,
        }),
    ))
}

/// The tenant's ingest secrets: ids and times, never a secret.
#[utoipa::path(get, path = "/ingest-secrets", tag = "keys",
    responses((status = 200, body = IngestSecretList)), security(("api_key" = [])))]
pub(crate) async fn get_ingest_secrets(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<IngestSecretList>, ApiError> {
    let secrets = state.store.ingest_secrets(&tenant).await?;
    Ok(Json(IngestSecretList {
        secrets: secrets.iter().map(IngestSecret::info).collect(),
    }))
}
