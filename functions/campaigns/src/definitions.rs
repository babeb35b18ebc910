//! Campaign definitions (`/v1/campaigns`, issue 13): save, read, replace and archive
//! tenant-defined campaigns (rules: [`fanloop_domain::campaigns::definition`]). Saved
//! definitions are validated — their templates rendered with sample data, their audience's
//! filter parsed, its segment found. Active definitions are run by the engine
//! (`fanloop_engine`): broadcasts and periodic ones by the hourly runs, event-triggered ones as
//! their events arrive.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use fanloop_domain::TenantId;
use fanloop_domain::campaigns::CampaignKind;
use fanloop_domain::campaigns::definition::builtin::{builtin_kind, builtin_patch, builtin_record};
use fanloop_domain::campaigns::definition::{
    Audience, CampaignId, CampaignRecord, CampaignStatus, NewCampaign,
};
use fanloop_domain::ports::documents;
use fanloop_domain::segments::Segment;
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use fanloop_engine::Campaigns;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_campaign, get_campaigns))
        .routes(routes!(get_campaign, put_campaign, delete_campaign))
}

fn campaign_id(raw: String) -> Result<CampaignId, ApiError> {
    CampaignId::parse(raw).map_err(|e| ApiError::field("campaign_id", e))
}

fn not_found() -> ApiError {
    ApiError::not_found("The campaign")
}

/// Reads and checks a definition body: its fields, the rules across them, its templates
/// (with a sample coupon only when it has an offer), the saved segment it names.
async fn read(
    campaigns: &Campaigns,
    tenant: &TenantId,
    body: Value,
) -> Result<NewCampaign, ApiError> {
    let c = NewCampaign::read(body)?;
    campaigns.templates.check_campaign_templates(
        "templates",
        &c.templates,
        c.offer.is_some(),
        &c.trigger,
    )?;
    if let Some(Audience::Segment(id)) = &c.audience {
        let seg: Option<Segment> =
            documents::get(campaigns.store.as_ref(), tenant, id.as_str()).await?;
        if seg.is_none() {
            return Err(ApiError::field(
                "audience.segment_id",
                "is not a saved segment",
            ));
        }
    }
    Ok(c)
}

#[derive(Serialize, ToSchema)]
pub struct CampaignList {
    /// The built-in campaigns (`definition.builtin: true`: birthday, winback, recovery), then
    /// the tenant's definitions by id, archived ones included.
    pub campaigns: Vec<CampaignRecord>,
}

/// The built-in `kind` as a definition, from the tenant's settings.
async fn builtin(
    state: &AppState,
    tenant: &TenantId,
    kind: CampaignKind,
) -> Result<CampaignRecord, ApiError> {
    let t = state
        .store
        .tenant(tenant)
        .await?
        .ok_or_else(|| ApiError::not_found("The tenant"))?;
    let s = state.store.settings(tenant).await?.settings;
    Ok(builtin_record(kind, &s.campaigns, t.created_at))
}

/// Save a campaign definition.
///
/// Checked when saved: every field, the rules across them (`max_delay_hours` for event
/// triggers only, `once_per: period` for periodic triggers), and each template rendered with
/// sample data. Once active, a broadcast or periodic campaign is sent by the hourly runs, an
/// event-triggered one as its events arrive.
#[utoipa::path(post, path = "/campaigns", tag = "campaigns", request_body = NewCampaign,
    responses((status = 201, body = CampaignRecord),
        (status = 409, description = "The campaign_id is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_campaign(
    State(state): State<AppState>,
    Extension(campaigns): Extension<Arc<Campaigns>>,
    AuthTenant(tenant): AuthTenant,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<CampaignRecord>), ApiError> {
    let c = read(&campaigns, &tenant, body.clone()).await?;
    let now = state.clock.now();
    let record = CampaignRecord {
        campaign_id: c.campaign_id,
        status: c.status.unwrap_or_default(),
        definition: body,
        created_at: now,
        updated_at: now,
    };
    if !documents::create(state.store.as_ref(), &tenant, &record).await? {
        return Err(ApiError::Conflict {
            slug: "conflict",
            detail: "A campaign with this campaign_id exists; PUT it to change it.".into(),
            errors: vec![],
        });
    }
    Ok((StatusCode::CREATED, Json(record)))
}

/// The tenant's campaigns: the built-in ones and the definitions.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns",
    responses((status = 200, body = CampaignList)), security(("api_key" = [])))]
pub(crate) async fn get_campaigns(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<CampaignList>, ApiError> {
    let mut campaigns = Vec::new();
    for k in CampaignKind::ALL {
        campaigns.push(builtin(&state, &tenant, k).await?);
    }
    campaigns.extend(documents::list::<CampaignRecord>(state.store.as_ref(), &tenant).await?);
    Ok(Json(CampaignList { campaigns }))
}

/// One campaign definition (`birthday`, `winback`, `recovery`: a built-in one, from settings
/// `campaigns.*`).
#[utoipa::path(get, path = "/campaigns/{campaign_id}", tag = "campaigns",
    params(("campaign_id" = CampaignId, Path)),
    responses((status = 200, body = CampaignRecord),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_campaign(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<CampaignRecord>, ApiError> {
    let id = campaign_id(raw)?;
    if let Some(k) = builtin_kind(id.as_str()) {
        return Ok(Json(builtin(&state, &tenant, k).await?));
    }
    let found: Option<CampaignRecord> =
        documents::get(state.store.as_ref(), &tenant, id.as_str()).await?;
    found.map(Json).ok_or_else(not_found)
}

/// Replace a campaign definition (the whole body, `campaign_id` as in the path).
///
/// A built-in campaign (`birthday`, `winback`, `recovery`) takes the body its `GET` returns:
/// `status` (`active` | `paused`), `offer`, `templates` (by locale; absent parts keep the
/// built-in wording), win-back's `trigger.days`, `trigger.cooldown_days` and
/// `value_minor_by_tier`, recovery's `cooldown_days`. What the body names changes in settings
/// `campaigns.{id}` (templates rendered with sample data first); the rest stays; any other
/// field is 422.
#[utoipa::path(put, path = "/campaigns/{campaign_id}", tag = "campaigns",
    params(("campaign_id" = CampaignId, Path)), request_body = NewCampaign,
    responses((status = 200, body = CampaignRecord),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_campaign(
    State(state): State<AppState>,
    Extension(campaigns): Extension<Arc<Campaigns>>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<CampaignRecord>, ApiError> {
    let id = campaign_id(raw)?;
    if let Some(k) = builtin_kind(id.as_str()) {
        return put_builtin(&state, &campaigns, &tenant, k, &body)
            .await
            .map(Json);
    }
    let c = read(&campaigns, &tenant, body.clone()).await?;
    if c.campaign_id != id {
        return Err(ApiError::field("campaign_id", "must be the id in the path"));
    }
    let stored: CampaignRecord = documents::get(state.store.as_ref(), &tenant, id.as_str())
        .await?
        .ok_or_else(not_found)?;
    let record = CampaignRecord {
        status: c.status.unwrap_or(stored.status),
        definition: body,
        updated_at: state.clock.now(),
        ..stored
    };
    if !documents::replace(state.store.as_ref(), &tenant, &record).await? {
        return Err(not_found());
    }
    Ok(Json(record))
}

/// A built-in campaign's change: a merge patch of its settings section, validated whole (and
/// its templates rendered) before it is saved; re-applied when a concurrent change wins.
async fn put_builtin(
    state: &AppState,
    campaigns: &Campaigns,
    tenant: &TenantId,
    kind: CampaignKind,
    body: &Value,
) -> Result<CampaignRecord, ApiError> {
    let patch = builtin_patch(kind, body)?;
    // Errors of the settings section named as the body's fields.
    let prefix = format!("campaigns.{}.", kind.as_str());
    let named = |mut e: fanloop_domain::ValidationErrors| {
        for f in &mut e.0 {
            if let Some(rest) = f.field.strip_prefix(&prefix) {
                f.field = match rest.split_once('.') {
                    Some(("coupon", more)) => format!("offer.{more}"),
                    _ if rest == "coupon" => "offer".to_owned(),
                    _ if rest == "inactive_days" => "trigger.days".to_owned(),
                    _ => rest.to_owned(),
                };
            }
        }
        ApiError::from(e)
    };
    let check = |s: &fanloop_domain::TenantSettings| campaigns.templates.validate(s);
    match fanloop_services::settings::update(state.store.as_ref(), tenant, patch, &check).await {
        Ok(_) => {
            state.forget_settings(tenant);
            builtin(state, tenant, kind).await
        }
        Err(fanloop_services::settings::SettingsError::Invalid(e)) => Err(named(e)),
        Err(fanloop_services::settings::SettingsError::Store(e)) => Err(e.into()),
    }
}

/// Archive a campaign definition (it stays readable, with status `archived`). A built-in
/// campaign is not archived: pause it (409 `builtin-campaign`).
#[utoipa::path(delete, path = "/campaigns/{campaign_id}", tag = "campaigns",
    params(("campaign_id" = CampaignId, Path)),
    responses((status = 204, description = "Archived"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "builtin-campaign", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn delete_campaign(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = campaign_id(raw)?;
    if builtin_kind(id.as_str()).is_some() {
        return Err(ApiError::Conflict {
            slug: "builtin-campaign",
            detail: "A built-in campaign is not archived: pause it (PUT with status paused)."
                .into(),
            errors: vec![],
        });
    }
    let stored: CampaignRecord = documents::get(state.store.as_ref(), &tenant, id.as_str())
        .await?
        .ok_or_else(not_found)?;
    let record = CampaignRecord {
        status: CampaignStatus::Archived,
        updated_at: state.clock.now(),
        ..stored
    };
    match documents::replace(state.store.as_ref(), &tenant, &record).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(not_found()),
    }
}
