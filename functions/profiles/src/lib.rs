//! The profiles function: customers, identities, activity, export, erasure and settings.
//! One axum router, served on Lambda by `main.rs` and locally by `fanloop serve`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fanloop_domain::campaigns::backlog::Activity;
use fanloop_domain::export::CustomerExport;
use fanloop_domain::lifecycle::{Lifecycle, lifecycle};
use fanloop_domain::points::PointsView;
use fanloop_domain::ports::UpsertError;
use fanloop_domain::profile::{Identity, Profile, ProfilePatch};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{OsRandom, Random};
use fanloop_domain::time::serde_ts;
use fanloop_domain::wire::DateTime;
use fanloop_domain::{CustomerId, ExternalId, Platform, TenantId};
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem, parse_path};
use fanloop_services::settings::SettingsError;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

mod analytics;
pub mod contacts;
pub mod events;
mod keys;
mod search;
pub mod segments;
mod timeline;

/// How far in the future a client clock may be (`occurred_at`).
const CLOCK_SKEW: SignedDuration = SignedDuration::from_mins(5);

/// The authenticated `/v1` routes of this function.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_customer, get_customer, delete_customer))
        .routes(routes!(post_activity))
        .routes(routes!(events::post_event, events::get_events))
        .routes(routes!(events::post_event_batch))
        .routes(routes!(contacts::post_contact, contacts::get_contacts))
        .routes(routes!(timeline::get_timeline))
        .routes(routes!(search::get_customers))
        .routes(routes!(segments::post_segment, segments::get_segments))
        .routes(routes!(
            segments::get_segment,
            segments::put_segment,
            segments::delete_segment
        ))
        .routes(routes!(segments::post_preview))
        .routes(routes!(analytics::get_overview))
        .routes(routes!(analytics::get_items))
        .routes(routes!(analytics::get_streamers))
        .routes(routes!(analytics::get_tiers))
        .routes(routes!(analytics::get_lifecycle))
        .routes(routes!(analytics::get_churn))
        .routes(routes!(analytics::get_rfm))
        .routes(routes!(get_export))
        .routes(routes!(get_identity))
        .routes(routes!(delete_identity))
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(keys::post_key, keys::get_keys))
        .routes(routes!(keys::delete_key))
        .routes(routes!(keys::post_ingest_secret, keys::get_ingest_secrets))
}

/// The built-in campaign templates, compiled once per process.
fn templates() -> &'static fanloop_mail::Templates {
    static TEMPLATES: std::sync::OnceLock<fanloop_mail::Templates> = std::sync::OnceLock::new();
    TEMPLATES.get_or_init(fanloop_mail::Templates::new)
}

fn customer_id(raw: String) -> Result<CustomerId, ApiError> {
    parse_path("customer_id", raw, CustomerId::parse)
}

fn identity(platform: String, external_id: String) -> Result<Identity, ApiError> {
    Ok(Identity {
        platform: parse_path("platform", platform, Platform::parse)?,
        external_id: parse_path("external_id", external_id, ExternalId::parse)?,
    })
}

fn customer_not_found() -> ApiError {
    ApiError::not_found("The customer")
}

/// A customer as `GET` returns it: the profile plus derived facts.
#[derive(Serialize, ToSchema)]
pub struct CustomerView {
    #[serde(flatten)]
    pub profile: Profile,
    /// Balance, lifetime points and tier.
    pub points: PointsView,
    pub lifecycle: Lifecycle,
    /// Purchases, spend, gift coins and watch minutes from the accruals, less reversals.
    pub totals: fanloop_domain::points::totals::TotalsView,
    /// Recency, frequency and monetary scores and segment (thresholds: settings `rfm`).
    pub rfm: fanloop_domain::rfm::RfmView,
}

/// Create or merge a customer profile.
///
/// Absent fields are left as stored, `null` clears a field, a value replaces it (`tags` and
/// `attributes` whole). `identities` are added to the customer's links; an identity linked to
/// another customer is 409 and nothing is written.
#[utoipa::path(put, path = "/customers/{customer_id}", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path, description = "The tenant's id for the customer")),
    request_body = ProfilePatch,
    responses(
        (status = 201, description = "Created", body = Profile),
        (status = 200, description = "Updated", body = Profile),
        (status = 409, description = "An identity belongs to another customer", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields", body = Problem, content_type = "application/problem+json"),
    ),
    security(("api_key" = [])))]
async fn put_customer(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let customer = customer_id(raw_id)?;
    let now = state.clock.now();
    // The latest calendar date anywhere on Earth (UTC+14) bounds birthdays without a settings read.
    let latest_today = now
        .saturating_add(SignedDuration::from_hours(14))
        .unwrap_or(now)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let patch = ProfilePatch::from_json(body, latest_today)?;
    match state
        .store
        .upsert_profile(&tenant, &customer, &patch, now)
        .await
    {
        Ok(up) => {
            let status = if up.created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok((status, Json(up.profile)).into_response())
        }
        Err(UpsertError::IdentityTaken(id)) => Err(ApiError::Conflict {
            slug: "conflict",
            detail: format!(
                "An identity on platform {} is linked to another customer.",
                id.platform
            ),
            errors: vec![fanloop_domain::FieldError {
                field: "identities".into(),
                message: format!(
                    "{}/{} belongs to another customer",
                    id.platform, id.external_id
                ),
            }],
        }),
        Err(UpsertError::TooManyIdentities) => Err(ApiError::field(
            "identities",
            format!(
                "a customer may have at most {} identities",
                fanloop_domain::profile::IDENTITIES_MAX
            ),
        )),
        Err(UpsertError::Store(e)) => Err(e.into()),
    }
}

/// Read a customer: profile, lifecycle stage (with the reason) and activity times.
#[utoipa::path(get, path = "/customers/{customer_id}", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path)),
    responses((status = 200, body = CustomerView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_customer(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
) -> Result<Json<CustomerView>, ApiError> {
    let customer = customer_id(raw_id)?;
    let (record, settings) = tokio::join!(
        state.store.profile_and_account(&tenant, &customer),
        state.settings(&tenant)
    );
    let ((profile, account), settings) = (record?.ok_or_else(customer_not_found)?, settings?);
    let now = state.clock.now();
    let points = account
        .account
        .view(&settings.points, now, &settings.timezone.tz());
    let lifecycle = lifecycle(&profile, &settings.lifecycle, now);
    let rfm = fanloop_domain::rfm::rfm(
        &account.account.totals,
        &settings.rfm,
        now,
        &settings.timezone.tz(),
    );
    Ok(Json(CustomerView {
        profile,
        points,
        lifecycle,
        totals: (&account.account.totals).into(),
        rfm,
    }))
}

/// Erase a customer: every item holding their personal data is deleted; afterwards the
/// customer is 404.
#[utoipa::path(delete, path = "/customers/{customer_id}", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path)),
    responses((status = 204, description = "Erased"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The mail copies could not be removed; nothing was erased, retry", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn delete_customer(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let customer = customer_id(raw_id)?;
    let mut random = [0u8; 16];
    OsRandom.fill(&mut random).map_err(|_| ApiError::Internal)?;
    let anonymous = fanloop_domain::export::anonymous_id(&hex::encode(random));
    // The copies of their mail (the outbox, locally) go first, so a failure leaves the
    // customer in place for a retry; then the store; then any mail recorded in between.
    let logged: Vec<String> = (state.store.messages(&tenant, &customer).await?)
        .into_iter()
        .map(|m| m.id)
        .collect();
    forget_mail(&state, &tenant, &logged).await?;
    let Some(erased) = state
        .store
        .erase_customer(&tenant, &customer, &anonymous)
        .await?
    else {
        return Err(customer_not_found());
    };
    forget_mail(&state, &tenant, &erased.message_ids).await?;
    tracing::info!(tenant = %tenant, messages = erased.message_ids.len(), "customer erased");
    Ok(StatusCode::NO_CONTENT)
}

async fn forget_mail(state: &AppState, tenant: &TenantId, ids: &[String]) -> Result<(), ApiError> {
    state.mail_copies.forget(ids).await.map_err(|e| {
        tracing::error!(tenant = %tenant, error = %e, "mail copies of an erasure not removed");
        ApiError::Unavailable
    })
}

/// What the customer did (all count the same: as activity).
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Login,
    Session,
    Custom,
}

fanloop_domain::wire_struct! {
    /// The body of an activity report.
    pub struct ActivityInput {
        pub kind: ActivityKind,
        /// Defaults to now; at most 5 minutes in the future.
        pub occurred_at: Option<DateTime>,
    }
}

/// Record customer activity (login, session, …): moves `last_active_at` forward.
#[utoipa::path(post, path = "/customers/{customer_id}/activities", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = ActivityInput,
    responses((status = 204, description = "Recorded"), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_activity(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<StatusCode, ApiError> {
    let customer = customer_id(raw_id)?;
    let now = state.clock.now();
    let input = ActivityInput::parse(body)?;
    let at = input.occurred_at.map_or(now, |t| t.0);
    if at > now.saturating_add(CLOCK_SKEW).unwrap_or(now) {
        return Err(ApiError::field("occurred_at", "must not be in the future"));
    }
    let tz = state.settings(&tenant).await?.timezone.tz();
    if state
        .store
        .record_activity(&tenant, &customer, Activity::in_zone(at, now, &tz))
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(customer_not_found())
    }
}

#[derive(Serialize, ToSchema)]
pub struct ExportDocument {
    /// `fanloop.customer-export.v1`
    pub format: &'static str,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub exported_at: Timestamp,
    #[serde(flatten)]
    pub data: CustomerExport,
}

/// Export everything stored about a customer (data portability, GDPR art. 20 / PIPL art. 45).
#[utoipa::path(get, path = "/customers/{customer_id}/export", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path)),
    responses((status = 200, body = ExportDocument), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_export(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
) -> Result<Json<ExportDocument>, ApiError> {
    let customer = customer_id(raw_id)?;
    let data = state
        .store
        .export_customer(&tenant, &customer)
        .await?
        .ok_or_else(customer_not_found)?;
    Ok(Json(ExportDocument {
        format: "fanloop.customer-export.v1",
        exported_at: state.clock.now(),
        data,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct IdentityLookup {
    pub customer_id: CustomerId,
}

/// Find the customer linked to an identity on another platform.
#[utoipa::path(get, path = "/identities/{platform}/{external_id}", tag = "profiles",
    params(("platform" = fanloop_domain::Platform, Path), ("external_id" = fanloop_domain::ExternalId, Path)),
    responses((status = 200, body = IdentityLookup), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_identity(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path((platform, external_id)): Path<(String, String)>,
) -> Result<Json<IdentityLookup>, ApiError> {
    let id = identity(platform, external_id)?;
    let customer_id = state
        .store
        .customer_for_identity(&tenant, &id)
        .await?
        .ok_or_else(|| ApiError::not_found("The identity"))?;
    Ok(Json(IdentityLookup { customer_id }))
}

/// Unlink an identity from a customer.
#[utoipa::path(delete, path = "/customers/{customer_id}/identities/{platform}/{external_id}", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path), ("platform" = fanloop_domain::Platform, Path), ("external_id" = fanloop_domain::ExternalId, Path)),
    responses((status = 204, description = "Unlinked"), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn delete_identity(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path((raw_id, platform, external_id)): Path<(String, String, String)>,
) -> Result<StatusCode, ApiError> {
    let customer = customer_id(raw_id)?;
    let id = identity(platform, external_id)?;
    if state
        .store
        .unlink_identity(&tenant, &customer, &id, state.clock.now())
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("The identity link"))
    }
}

/// The tenant's settings (defaults where never set).
#[utoipa::path(get, path = "/settings", tag = "settings",
    responses((status = 200, body = TenantSettings)), security(("api_key" = [])))]
async fn get_settings(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<TenantSettings>, ApiError> {
    Ok(Json(state.store.settings(&tenant).await?.settings))
}

/// Update the tenant's settings with JSON merge-patch semantics (RFC 7396): absent keys are
/// kept, `null` resets to the default, values replace. The merged whole is validated.
#[utoipa::path(put, path = "/settings", tag = "settings", request_body = TenantSettings,
    responses((status = 200, body = TenantSettings), (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn put_settings(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    JsonBody(body): JsonBody,
) -> Result<Json<TenantSettings>, ApiError> {
    // Tenant templates must render, with sample data, before they are saved.
    let check = |s: &TenantSettings| templates().validate(s);
    match fanloop_services::settings::update(state.store.as_ref(), &tenant, body, &check).await {
        Ok((_, merged)) => {
            state.forget_settings(&tenant);
            Ok(Json(merged))
        }
        Err(SettingsError::Invalid(e)) => Err(e.into()),
        Err(SettingsError::Store(e)) => Err(e.into()),
    }
}
