//! The points function: accruals from game and stream events, redemptions, balance, ledger
//! and coupons. One axum router, served on Lambda by `main.rs` and locally by `fanloop serve`.

mod corrections;
mod coupons;
mod redemptions;
pub use fanloop_services::points::service;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fanloop_domain::points::RewardDecline;
use fanloop_domain::points::accrual_input::AccrualInput;
use fanloop_domain::points::rules::MAX_AMOUNT;
use fanloop_domain::points::{
    AccrualRequest, Coupon, CouponCode, CouponRedemption, LedgerEntry, PointsView,
};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::wire::Bounded;
use fanloop_domain::{CustomerId, ExternalId, FieldError, TenantId, ValidationErrors};
use fanloop_http::{
    ApiError, AppState, AuthTenant, JsonBody, PageQuery, Problem, QueryParams, cursor, parse_path,
};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use service::{AccrualResult, Outcome, PointsError};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_accrual))
        .routes(routes!(redemptions::post_redemption))
        .routes(routes!(redemptions::get_rewards))
        .routes(routes!(corrections::post_reversal))
        .routes(routes!(corrections::post_adjustment))
        .routes(routes!(get_points))
        .routes(routes!(get_ledger))
        .routes(routes!(get_coupon))
        .routes(routes!(post_coupon_redemption))
        .routes(routes!(coupons::post_void))
        .routes(routes!(coupons::get_customer_coupons))
}

pub(crate) fn customer_id(raw: String) -> Result<CustomerId, ApiError> {
    parse_path("customer_id", raw, CustomerId::parse)
}

fn conflict(slug: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Conflict {
        slug,
        detail: detail.into(),
        errors: vec![],
    }
}

impl From<PointsError> for PointsApiError {
    fn from(e: PointsError) -> Self {
        PointsApiError(match e {
            PointsError::NotFound => ApiError::not_found("The customer"),
            PointsError::Reused => conflict(
                "conflict",
                "This id was already used for a different request; nothing was changed.",
            ),
            PointsError::Insufficient { balance } => ApiError::Conflict {
                slug: "insufficient-points",
                detail: format!(
                    "The customer has {balance} points available; nothing was changed."
                ),
                errors: vec![FieldError {
                    field: "points".into(),
                    message: format!("exceeds the {balance} points available"),
                }],
            },
            PointsError::UnknownEvent => {
                ApiError::field("event_id", "names no accrual of this customer")
            }
            PointsError::Reward(d) => reward_refusal(d),
            PointsError::Store(e) => e.into(),
        })
    }
}

fn reward_refusal(d: RewardDecline) -> ApiError {
    let (slug, detail) = match d {
        RewardDecline::Unknown => {
            return ApiError::field(
                "reward_id",
                "names no reward of the catalogue (settings rewards)",
            );
        }
        // Mapped to `Insufficient` by the use case; kept for completeness.
        RewardDecline::Insufficient { balance } => {
            return PointsApiError::from(PointsError::Insufficient { balance }).0;
        }
        RewardDecline::NotForTier => (
            "reward-not-for-tier",
            "This reward is not offered to the customer's tier; nothing was changed.".to_owned(),
        ),
        RewardDecline::LimitReached { limit } => (
            "reward-limit-reached",
            format!(
                "The customer has redeemed this reward {limit} times, its limit; nothing was changed."
            ),
        ),
        RewardDecline::OutOfStock => (
            "reward-out-of-stock",
            "This reward is out of stock; nothing was changed.".to_owned(),
        ),
    };
    ApiError::Conflict {
        slug,
        detail,
        errors: vec![FieldError {
            field: "reward_id".into(),
            message: d.to_string(),
        }],
    }
}

/// `PointsError` → problem+json.
struct PointsApiError(ApiError);

impl From<PointsApiError> for ApiError {
    fn from(e: PointsApiError) -> Self {
        e.0
    }
}

/// What a points write starts from: the customer of the path, the tenant's settings, the time.
pub(crate) struct Write {
    pub customer: CustomerId,
    pub settings: std::sync::Arc<TenantSettings>,
    pub now: jiff::Timestamp,
}

impl Write {
    /// Reads the path's customer id and the body (with `parse`), then the settings.
    pub async fn read<I>(
        state: &AppState,
        tenant: &TenantId,
        raw_id: String,
        body: serde_json::Value,
        parse: impl FnOnce(serde_json::Value) -> Result<I, ValidationErrors>,
    ) -> Result<(Self, I), ApiError> {
        let customer = customer_id(raw_id)?;
        let req = parse(body)?;
        let settings = state.settings(tenant).await?;
        let now = state.clock.now();
        Ok((
            Self {
                customer,
                settings,
                now,
            },
            req,
        ))
    }
}

/// 201 with the answer, 200 for a retry, problem+json for a refusal.
pub(crate) fn answer<T: Serialize>(
    outcome: Result<Outcome<T>, PointsError>,
) -> Result<Response, ApiError> {
    Ok(respond(outcome.map_err(PointsApiError::from)?))
}

fn respond<T: Serialize>(outcome: Outcome<T>) -> Response {
    match outcome {
        Outcome::Created(r) => (StatusCode::CREATED, Json(r)).into_response(),
        Outcome::Replayed(r) => (StatusCode::OK, Json(r)).into_response(),
    }
}

/// Credit points for a purchase, gift, watch time or bonus.
///
/// Exactly once per `event_id`: the same request again answers 200 with the original result;
/// the same `event_id` with a different body is 409. Unknown customers are 404: points belong
/// to a profile (upsert it first), so consent, export and erasure always cover them.
#[utoipa::path(post, path = "/customers/{customer_id}/points/accruals", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = AccrualInput,
    responses(
        (status = 201, description = "Credited", body = AccrualResult),
        (status = 200, description = "A retry: the original result", body = AccrualResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "event_id reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_accrual(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let customer = customer_id(raw_id)?;
    let settings = state.settings(&tenant).await?;
    let now = state.clock.now();
    let req = AccrualRequest::from_json(body, &settings.points.earning, now)?;
    let outcome = service::accrue(
        state.store.as_ref(),
        &settings,
        &tenant,
        &customer,
        req,
        now,
    )
    .await
    .map_err(PointsApiError::from)?;
    Ok(respond(outcome))
}

/// Balance, lifetime points, tier (with why), and what expires next and when.
#[utoipa::path(get, path = "/customers/{customer_id}/points", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path)),
    responses((status = 200, body = PointsView), (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_points(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
) -> Result<Json<PointsView>, ApiError> {
    let customer = customer_id(raw_id)?;
    let settings = state.settings(&tenant).await?;
    service::view(
        state.store.as_ref(),
        &settings,
        &tenant,
        &customer,
        state.clock.now(),
    )
    .await?
    .map(Json)
    .ok_or_else(|| ApiError::not_found("The customer"))
}

#[derive(Serialize, ToSchema)]
pub struct LedgerPage {
    /// Newest first.
    pub entries: Vec<LedgerEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "lc1.";

/// The points ledger, newest first, paginated with an opaque cursor.
#[utoipa::path(get, path = "/customers/{customer_id}/points/ledger", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path), PageQuery),
    responses((status = 200, body = LedgerPage), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_ledger(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<LedgerPage>, ApiError> {
    let customer = customer_id(raw_id)?;
    let limit = q.limit()?;
    let before = match q.position(CURSOR_PREFIX)? {
        None => None,
        Some(b) => Some(u64::from_be_bytes(b.try_into().map_err(|_| {
            ApiError::field("cursor", "is not a cursor this API returned")
        })?)),
    };
    if state.store.account(&tenant, &customer).await?.is_none() {
        return Err(ApiError::not_found("The customer"));
    }
    let entries =
        service::ledger_page(state.store.as_ref(), &tenant, &customer, before, limit).await?;
    let next_cursor = match entries.last() {
        Some(last) if entries.len() == limit && last.seq > 1 => {
            Some(cursor(CURSOR_PREFIX, &last.seq.to_be_bytes()))
        }
        _ => None,
    };
    Ok(Json(LedgerPage {
        entries,
        next_cursor,
    }))
}

/// A code as the path gives it: malformed is 422; well formed with a wrong check symbol (a
/// mistyped code) cannot be a coupon, so it is 404 without a lookup.
fn coupon_code(raw: String) -> Result<CouponCode, ApiError> {
    if CouponCode::is_well_formed(&raw) {
        CouponCode::parse(&raw).map_err(|_| ApiError::not_found("The coupon"))
    } else {
        parse_path("code", raw, |s| CouponCode::parse(&s))
    }
}

#[derive(Serialize, ToSchema)]
pub struct CouponView {
    #[serde(flatten)]
    pub coupon: Coupon,
    /// `active`, `redeemed`, `voided` or `expired`.
    pub status: &'static str,
    /// The campaign whose mail carried it, if a campaign minted it.
    #[schema(value_type = Option<String>)]
    pub campaign: Option<fanloop_domain::campaigns::CampaignRef>,
}

pub(crate) fn coupon_view(coupon: Coupon, now: jiff::Timestamp) -> CouponView {
    CouponView {
        status: coupon.status(now),
        campaign: fanloop_domain::campaigns::tally::coupon_campaign(&coupon),
        coupon,
    }
}

/// Look a coupon up by its code (a malformed code is 422; a mistyped one, whose check symbol
/// fails, is 404 without a lookup).
#[utoipa::path(get, path = "/coupons/{code}", tag = "coupons", params(("code" = fanloop_domain::points::CouponCode, Path)),
    responses((status = 200, body = CouponView), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_coupon(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<CouponView>, ApiError> {
    let code = coupon_code(raw)?;
    let coupon = state
        .store
        .coupon(&tenant, &code)
        .await?
        .ok_or_else(|| ApiError::not_found("The coupon"))?;
    Ok(Json(coupon_view(coupon, state.clock.now())))
}

fanloop_domain::wire_struct! {
    /// The body of a coupon use.
    pub struct CouponRedemptionInput {
        /// The customer whose order uses it: a coupon is personal.
        pub customer_id: CustomerId,
        pub order_id: ExternalId,
        /// The order's amount in minor units of the coupon's currency: the revenue a
        /// campaign's report credits to its coupon.
        pub amount_minor: Option<Bounded<0, { MAX_AMOUNT }>>,
    }
}

/// Use a customer's coupon on their order: once. The same order again is 200; another order, or
/// an expired coupon, is 409; a code that is not this customer's is 404, as an unknown one.
#[utoipa::path(post, path = "/coupons/{code}/redemptions", tag = "coupons", params(("code" = fanloop_domain::points::CouponCode, Path)),
    request_body = CouponRedemptionInput,
    responses((status = 201, body = CouponView), (status = 200, description = "This order already used it", body = CouponView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "coupon-used, coupon-expired or coupon-voided", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_coupon_redemption(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let code = coupon_code(raw)?;
    let CouponRedemptionInput {
        customer_id: customer,
        order_id: order,
        amount_minor,
    } = CouponRedemptionInput::parse(body)?;
    let now = state.clock.now();
    match state
        .store
        .redeem_coupon(
            &tenant,
            &code,
            &customer,
            &order,
            amount_minor.map(|a| a.get()),
            now,
        )
        .await?
    {
        CouponRedemption::Redeemed(c) => {
            Ok((StatusCode::CREATED, Json(coupon_view(c, now))).into_response())
        }
        CouponRedemption::AlreadyByThisOrder(c) => {
            Ok((StatusCode::OK, Json(coupon_view(c, now))).into_response())
        }
        CouponRedemption::UsedByAnotherOrder => Err(conflict(
            "coupon-used",
            "The coupon was already used by another order.",
        )),
        CouponRedemption::Expired => Err(conflict("coupon-expired", "The coupon has expired.")),
        CouponRedemption::Voided => Err(conflict("coupon-voided", "The coupon was voided.")),
        CouponRedemption::NotFound => Err(ApiError::not_found("The coupon")),
    }
}
