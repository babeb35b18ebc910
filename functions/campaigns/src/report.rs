//! `GET /v1/campaigns/{campaign_id}/report`: what a campaign did and what it earned, per UTC
//! day, from counters written with each send, coupon use and purchase (rules:
//! [`fanloop_domain::campaigns::tally`], [`fanloop_domain::campaigns::outcomes`]) — a bounded
//! number of reads per day in range, never one per customer or mail.

use axum::Json;
use axum::extract::{Path, State};
use fanloop_domain::campaigns::CampaignRef;
use fanloop_domain::campaigns::outcomes::CampaignReport;
use fanloop_domain::campaigns::tally::utc_day;
use fanloop_domain::time::day_range;
use fanloop_http::{ApiError, AppState, AuthTenant, Problem, QueryParams};
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First UTC day (YYYY-MM-DD); default 29 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last UTC day, included; default today. At most 366 days from `from`.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// A campaign's report: per UTC day (the day of each mail), `eligible` (due, with address and
/// consent), `held_out` (the control group), `sent`, `pending`, `skipped` by reason, the
/// campaign's `coupons_redeemed` with their orders' `revenue_minor`, and the customers mailed
/// and held out who bought within `attribution_days` of their day's mail (`converted_mailed`,
/// `converted_held_out`), their conversion shares and the `lift` between them; `totals` sums
/// the range. Figures move as mails are sent and bought from: a day's conversions keep growing
/// until its attribution window closes.
#[utoipa::path(get, path = "/campaigns/{campaign_id}/report", tag = "campaigns",
    params(("campaign_id" = CampaignRef, Path, description = "`birthday`, `winback`, `recovery` or a definition's id"), ReportQuery),
    responses((status = 200, body = CampaignReport),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_report(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    QueryParams(q): QueryParams<ReportQuery>,
) -> Result<Json<CampaignReport>, ApiError> {
    let campaign = CampaignRef::parse(raw).map_err(|e| ApiError::field("campaign_id", e))?;
    let (from, to) = day_range(
        q.from.as_deref(),
        q.to.as_deref(),
        utc_day(state.clock.now()),
    )?;
    fanloop_services::reports::campaign_report(state.store.as_ref(), &tenant, campaign, from, to)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("The campaign"))
}
