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
    /// By id, archived ones included.
    pub campaigns: Vec<CampaignRecord>,
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

/// The tenant's campaign definitions.
#[utoipa::path(get, path = "/campaigns", tag = "campaigns",
    responses((status = 200, body = CampaignList)), security(("api_key" = [])))]
pub(crate) async fn get_campaigns(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<CampaignList>, ApiError> {
    let campaigns = documents::list(state.store.as_ref(), &tenant).await?;
    Ok(Json(CampaignList { campaigns }))
}

/// One campaign definition.
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
    let found: Option<CampaignRecord> =
        documents::get(state.store.as_ref(), &tenant, id.as_str()).await?;
    found.map(Json).ok_or_else(not_found)
}

/// Replace a campaign definition (the whole body, `campaign_id` as in the path).
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

/// Archive a campaign definition (it stays readable, with status `archived`).
#[utoipa::path(delete, path = "/campaigns/{campaign_id}", tag = "campaigns",
    params(("campaign_id" = CampaignId, Path)),
    responses((status = 204, description = "Archived"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn delete_campaign(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = campaign_id(raw)?;
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
