//! Saved segments (`/v1/segments`) and `POST /v1/segments/preview`: who a filter selects
//! (rules: [`fanloop_domain::segments`]).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fanloop_domain::TenantId;
use fanloop_domain::ports::{AnalyticsStore, StoreError, documents};
use fanloop_domain::segments::{
    Facts, Filter, NewSegment, PreviewRequest, Segment, SegmentId, SegmentUpdate,
};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::wire::Wire;
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

/// How many customer ids a preview shows.
pub const SAMPLE: usize = 10;
/// Customers read per page of a preview.
const PAGE: usize = 100;

#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct Preview {
    /// Customers the filter selects who consent to marketing e-mail (every marketing
    /// audience requires it).
    pub count: u64,
    /// The first of them by id, at most 10.
    pub sample: Vec<String>,
    /// Customers read to answer (every customer of the tenant).
    pub customers: u64,
}

/// Counts the customers `filter` selects with marketing consent, in one pass over the tenant.
pub async fn preview(
    store: &dyn AnalyticsStore,
    tenant: &TenantId,
    settings: &TenantSettings,
    filter: &Filter,
    now: Timestamp,
) -> Result<Preview, StoreError> {
    let mut out = Preview {
        count: 0,
        sample: Vec::new(),
        customers: 0,
    };
    let mut cursor = None;
    loop {
        let (batch, next) = store.snapshot_customers(tenant, cursor, PAGE).await?;
        for c in batch {
            out.customers += 1;
            let facts = Facts::of(&c.profile, &c.account, settings, now);
            if facts.email_marketing && filter.matches(&facts) {
                out.count += 1;
                out.sample.push(c.profile.customer_id.to_string());
            }
        }
        // Pages come in id order within a shard only: keep the lowest ids.
        out.sample.sort();
        out.sample.truncate(SAMPLE);
        cursor = next;
        if cursor.is_none() {
            return Ok(out);
        }
    }
}

fn segment_id(raw: String) -> Result<SegmentId, ApiError> {
    SegmentId::parse(raw).map_err(|e| ApiError::field("segment_id", e))
}

fn segment_not_found() -> ApiError {
    ApiError::not_found("The segment")
}

#[derive(Serialize, ToSchema)]
pub struct SegmentList {
    /// By id.
    pub segments: Vec<Segment>,
}

/// Save a segment.
///
/// The filter is checked when saved: every invalid part is named by its path
/// (`filter.all[1].value`).
#[utoipa::path(post, path = "/segments", tag = "segments", request_body = NewSegment,
    responses((status = 201, body = Segment),
        (status = 409, description = "The segment_id is taken", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_segment(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Segment>), ApiError> {
    let input = NewSegment::parse_at(body, "")?;
    let now = state.clock.now();
    let segment = Segment {
        segment_id: input.segment_id,
        name: input.name,
        filter: input.filter.raw,
        created_at: now,
        updated_at: now,
    };
    if !documents::create(state.store.as_ref(), &tenant, &segment).await? {
        return Err(ApiError::Conflict {
            slug: "conflict",
            detail: "A segment with this segment_id exists; PUT it to change it.".into(),
            errors: vec![],
        });
    }
    Ok((StatusCode::CREATED, Json(segment)))
}

/// The tenant's saved segments.
#[utoipa::path(get, path = "/segments", tag = "segments",
    responses((status = 200, body = SegmentList)), security(("api_key" = [])))]
pub(crate) async fn get_segments(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<SegmentList>, ApiError> {
    let segments = documents::list(state.store.as_ref(), &tenant).await?;
    Ok(Json(SegmentList { segments }))
}

/// One saved segment.
#[utoipa::path(get, path = "/segments/{segment_id}", tag = "segments",
    params(("segment_id" = SegmentId, Path)),
    responses((status = 200, body = Segment),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_segment(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<Segment>, ApiError> {
    let id = segment_id(raw)?;
    let s: Option<Segment> = documents::get(state.store.as_ref(), &tenant, id.as_str()).await?;
    s.map(Json).ok_or_else(segment_not_found)
}

/// Replace a saved segment's name and filter.
#[utoipa::path(put, path = "/segments/{segment_id}", tag = "segments",
    params(("segment_id" = SegmentId, Path)), request_body = SegmentUpdate,
    responses((status = 200, body = Segment),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn put_segment(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Segment>, ApiError> {
    let id = segment_id(raw)?;
    let input = SegmentUpdate::parse_at(body, "")?;
    let stored: Segment = documents::get(state.store.as_ref(), &tenant, id.as_str())
        .await?
        .ok_or_else(segment_not_found)?;
    let segment = Segment {
        name: input.name,
        filter: input.filter.raw,
        updated_at: state.clock.now(),
        ..stored
    };
    if !documents::replace(state.store.as_ref(), &tenant, &segment).await? {
        return Err(segment_not_found());
    }
    Ok(Json(segment))
}

/// Delete a saved segment.
#[utoipa::path(delete, path = "/segments/{segment_id}", tag = "segments",
    params(("segment_id" = SegmentId, Path)),
    responses((status = 204, description = "Deleted"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn delete_segment(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = segment_id(raw)?;
    match documents::delete::<Segment>(state.store.as_ref(), &tenant, id.as_str()).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(segment_not_found()),
    }
}

/// How many customers a filter selects, and a sample of them.
///
/// Only customers who consent to marketing e-mail count (every marketing audience requires
/// it). One pass over the tenant's customers: the cost grows with the tenant.
#[utoipa::path(post, path = "/segments/preview", tag = "segments", request_body = PreviewRequest,
    responses((status = 200, body = Preview),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_preview(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    JsonBody(body): JsonBody,
) -> Result<Json<Preview>, ApiError> {
    let input = PreviewRequest::parse_at(body, "")?;
    let settings = state.settings(&tenant).await?;
    let p = preview(
        state.store.as_ref(),
        &tenant,
        &settings,
        &input.filter.filter,
        state.clock.now(),
    )
    .await?;
    Ok(Json(p))
}
