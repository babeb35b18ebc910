//! `GET /v1/analytics/...`: the tenant's figures per tenant-local day, read from counters
//! written with each event (a bounded number of rows per day in range, never one per event
//! or customer), and the daily snapshot of what needs every customer (rules:
//! [`fanloop_domain::analytics`]).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use fanloop_domain::TenantId;
use fanloop_domain::analytics::{
    self, ChurnReport, ItemsReport, Move, Overview, Scope, Snapshot, StreamersReport,
};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::time::day_range;
use fanloop_http::{ApiError, AppState, AuthTenant, Problem, QueryParams};
use fanloop_services::reports;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First day (YYYY-MM-DD, the tenant's time zone); default 29 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day, included; default today. At most 366 days from `from`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopQuery {
    /// First day (YYYY-MM-DD, the tenant's time zone); default 29 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day, included; default today. At most 366 days from `from`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
    /// How many of each ranking: 1–100, default 10.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
}

impl TopQuery {
    fn limit(&self) -> Result<usize, ApiError> {
        match self.limit.as_deref() {
            None => Ok(10),
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => Ok(n),
                _ => Err(ApiError::field(
                    "limit",
                    "must be a whole number from 1 to 100",
                )),
            },
        }
    }
}

struct Ctx {
    tenant: TenantId,
    settings: std::sync::Arc<TenantSettings>,
    today: Date,
}

async fn ctx(state: &AppState, tenant: TenantId) -> Result<Ctx, ApiError> {
    let settings = state.settings(&tenant).await?;
    let today = state.clock.now().to_zoned(settings.timezone.tz()).date();
    Ok(Ctx {
        tenant,
        settings,
        today,
    })
}

/// Active, new and returning customers, purchases and revenue per currency, points issued,
/// redeemed, expired, reversed and adjusted, gifts and watch time per tenant-local day, and
/// the outstanding points liability at the end of each day.
#[utoipa::path(get, path = "/analytics/overview", tag = "analytics",
    params(RangeQuery),
    responses((status = 200, body = Overview),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_overview(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<RangeQuery>,
) -> Result<Json<Overview>, ApiError> {
    let c = ctx(&state, tenant).await?;
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref(), c.today)?;
    Ok(Json(
        reports::overview(
            state.store.as_ref(),
            &c.tenant,
            &c.settings,
            from,
            to,
            c.today,
        )
        .await?,
    ))
}

/// The top items by revenue (in the reporting currency, `rfm.currency`) and by buyers, with
/// their names and categories.
#[utoipa::path(get, path = "/analytics/items", tag = "analytics",
    params(TopQuery),
    responses((status = 200, body = ItemsReport),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_items(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<TopQuery>,
) -> Result<Json<ItemsReport>, ApiError> {
    let c = ctx(&state, tenant).await?;
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref(), c.today)?;
    let limit = q.limit()?;
    Ok(Json(
        reports::items(
            state.store.as_ref(),
            &c.tenant,
            &c.settings,
            from,
            to,
            limit,
        )
        .await?,
    ))
}

/// The top streamers by gift coins, by distinct gifters and by watch minutes, with the first
/// gifts of new gifters.
#[utoipa::path(get, path = "/analytics/streamers", tag = "analytics",
    params(TopQuery),
    responses((status = 200, body = StreamersReport),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_streamers(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<TopQuery>,
) -> Result<Json<StreamersReport>, ApiError> {
    let c = ctx(&state, tenant).await?;
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref(), c.today)?;
    let limit = q.limit()?;
    Ok(Json(
        reports::streamers(state.store.as_ref(), &c.tenant, from, to, limit).await?,
    ))
}

/// A distribution from the daily snapshot, with the moves counted in a range.
#[derive(Serialize, ToSchema)]
pub struct DistributionReport {
    /// When the snapshot was taken (absent before the first daily run).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<String>,
    /// Customers per value at `as_of`.
    pub distribution: BTreeMap<String, u64>,
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// Customers who moved, counted on the day they moved.
    pub moves: Vec<Move>,
}

fn as_of(s: &Option<Snapshot>) -> Option<String> {
    s.as_ref().map(|s| fanloop_domain::time::format(s.as_of))
}

/// The distribution `pick` takes from the newest snapshot and the moves counted under
/// `prefix` in the range.
async fn distribution(
    state: &AppState,
    tenant: TenantId,
    q: &RangeQuery,
    pick: fn(Snapshot) -> BTreeMap<String, u64>,
    prefix: &str,
) -> Result<DistributionReport, ApiError> {
    let c = ctx(state, tenant).await?;
    let (from, to) = day_range(q.from.as_deref(), q.to.as_deref(), c.today)?;
    let store = state.store.as_ref();
    let snapshot = store.latest_snapshot(&c.tenant).await?;
    let rows = store
        .counter_rows(&c.tenant, Scope::Overview, from, to)
        .await?;
    Ok(DistributionReport {
        as_of: as_of(&snapshot),
        distribution: snapshot.map(pick).unwrap_or_default(),
        from,
        to,
        moves: analytics::moves(from, to, &rows, prefix),
    })
}

/// Customers per tier (the daily snapshot) and tier moves in the range (counted as they
/// happen, on the tenant-local day).
#[utoipa::path(get, path = "/analytics/tiers", tag = "analytics",
    params(RangeQuery),
    responses((status = 200, body = DistributionReport),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_tiers(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<RangeQuery>,
) -> Result<Json<DistributionReport>, ApiError> {
    Ok(Json(
        distribution(&state, tenant, &q, |s| s.tiers, "tier_move.").await?,
    ))
}

/// Customers per lifecycle stage, from the daily snapshot, and the moves the snapshots found
/// in the range.
#[utoipa::path(get, path = "/analytics/lifecycle", tag = "analytics",
    params(RangeQuery),
    responses((status = 200, body = DistributionReport),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_lifecycle(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<RangeQuery>,
) -> Result<Json<DistributionReport>, ApiError> {
    Ok(Json(
        distribution(&state, tenant, &q, |s| s.lifecycle, "stage_move.").await?,
    ))
}

/// Churned (lifecycle stage `churn`) against retained customers, compared on tier, platform,
/// tenure, favourite category and whether they answered NPS, from the daily snapshot.
#[utoipa::path(get, path = "/analytics/churn", tag = "analytics",
    responses((status = 200, body = ChurnReport)),
    security(("api_key" = [])))]
pub(crate) async fn get_churn(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<ChurnReport>, ApiError> {
    let snapshot = state.store.latest_snapshot(&tenant).await?;
    Ok(Json(
        snapshot.map_or_else(ChurnReport::empty, |s| s.churn()),
    ))
}

#[derive(Serialize, ToSchema)]
pub struct RfmReport {
    /// When the snapshot was taken (absent before the first daily run).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<String>,
    /// Customers per RFM segment.
    pub segments: BTreeMap<String, u64>,
}

/// Customers per RFM segment, from the daily snapshot.
#[utoipa::path(get, path = "/analytics/rfm", tag = "analytics",
    responses((status = 200, body = RfmReport)),
    security(("api_key" = [])))]
pub(crate) async fn get_rfm(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<RfmReport>, ApiError> {
    let snapshot = state.store.latest_snapshot(&tenant).await?;
    Ok(Json(RfmReport {
        as_of: as_of(&snapshot),
        segments: snapshot.map(|s| s.rfm).unwrap_or_default(),
    }))
}
