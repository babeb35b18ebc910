//! The points function: accruals from game and stream events, redemptions, balance, ledger
//! and coupons. One axum router, served on Lambda by `main.rs` and locally by `fanloop serve`.

pub mod service;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fanloop_domain::input::ObjectParser;
use fanloop_domain::points::rules::{AccrualInput, MAX_AMOUNT, MAX_POINTS, UnitCode};
use fanloop_domain::points::{
    AccrualRequest, Coupon, CouponCode, CouponRedemption, LedgerEntry, PointsView,
};
use fanloop_domain::{CustomerId, ExternalId, FieldError};
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem, parse_path};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use service::{
    AccrualResult, CouponReward, Outcome, PointsError, RedemptionRequest, RedemptionResult,
};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_accrual))
        .routes(routes!(post_redemption))
        .routes(routes!(get_points))
        .routes(routes!(get_ledger))
        .routes(routes!(get_coupon))
        .routes(routes!(post_coupon_redemption))
}

fn customer_id(raw: String) -> Result<CustomerId, ApiError> {
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
            PointsError::Store(e) => e.into(),
        })
    }
}

/// `PointsError` → problem+json.
struct PointsApiError(ApiError);

impl From<PointsApiError> for ApiError {
    fn from(e: PointsApiError) -> Self {
        e.0
    }
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

/// The body of a redemption (documentation of the wire form).
#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct RedemptionInput {
    /// Your id of the redemption: each is applied once.
    redemption_id: ExternalId,
    #[schema(minimum = 1, maximum = 1_000_000_000u64)]
    points: u64,
    reward: Option<RewardInput>,
}

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct RewardInput {
    #[schema(value_type = String, pattern = "^coupon$")]
    kind: String,
    #[schema(minimum = 1, maximum = 1_000_000_000_000u64)]
    value_minor: u64,
    currency: fanloop_domain::points::rules::UnitCode,
    /// Default 30.
    #[schema(minimum = 1, maximum = 3650)]
    valid_days: Option<u32>,
}

fn parse_redemption(body: Value) -> Result<RedemptionRequest, fanloop_domain::ValidationErrors> {
    let mut p = ObjectParser::new(body, "")?;
    let redemption_id = p.required::<ExternalId>("redemption_id");
    let points = p.required::<u64>("points");
    match points {
        Some(0) => p.error("points", "must be greater than 0"),
        Some(n) if n > MAX_POINTS => p.error("points", format!("must be at most {MAX_POINTS}")),
        _ => {}
    }
    let mut reward = None;
    if let Some(raw) = p.take_raw("reward").filter(|v| !v.is_null()) {
        match ObjectParser::new(raw, "reward") {
            Err(e) => p.extend(e),
            Ok(mut r) => {
                let kind = r.required::<String>("kind");
                if kind.as_deref().is_some_and(|k| k != "coupon") {
                    r.error("kind", "must be coupon");
                }
                let value_minor = r.required::<u64>("value_minor");
                if value_minor == Some(0) || value_minor.is_some_and(|v| v > MAX_AMOUNT) {
                    r.error("value_minor", "must be 1 to 1000000000000");
                }
                let currency = r.required::<UnitCode>("currency");
                let valid_days = r.optional::<u32>("valid_days").unwrap_or(30);
                if !(1..=3650).contains(&valid_days) {
                    r.error("valid_days", "must be 1 to 3650");
                }
                match r.finish() {
                    Err(e) => p.extend(e),
                    Ok(()) => {
                        if let (Some(value_minor), Some(currency)) = (value_minor, currency) {
                            reward = Some(CouponReward {
                                value_minor,
                                currency,
                                valid_days,
                            });
                        }
                    }
                }
            }
        }
    }
    p.finish()?;
    match (redemption_id, points) {
        (Some(redemption_id), Some(points)) => Ok(RedemptionRequest {
            redemption_id,
            points,
            reward,
        }),
        _ => Err(fanloop_domain::ValidationErrors::single(
            "(body)",
            "redemption_id and points are required",
        )),
    }
}

/// Spend points, optionally for a coupon minted in the same atomic step.
///
/// Exactly once per `redemption_id`. Never overdraws: too few points is 409
/// `insufficient-points` and nothing changes. Spending takes the points that expire first.
#[utoipa::path(post, path = "/customers/{customer_id}/points/redemptions", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = RedemptionInput,
    responses(
        (status = 201, body = RedemptionResult), (status = 200, description = "A retry", body = RedemptionResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "insufficient-points, or the id reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_redemption(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let customer = customer_id(raw_id)?;
    let req = parse_redemption(body)?;
    let settings = state.settings(&tenant).await?;
    let outcome = service::redeem(
        state.store.as_ref(),
        &settings,
        &tenant,
        &customer,
        req,
        state.clock.now(),
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

#[derive(Deserialize, IntoParams)]
pub struct LedgerQuery {
    /// 1–100, default 20.
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerPage {
    /// Newest first.
    pub entries: Vec<LedgerEntry>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "lc1.";

fn encode_cursor(seq: u64) -> String {
    format!("{CURSOR_PREFIX}{}", hex::encode(seq.to_be_bytes()))
}

fn decode_cursor(s: &str) -> Option<u64> {
    let bytes = hex::decode(s.strip_prefix(CURSOR_PREFIX)?).ok()?;
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

/// The points ledger, newest first, paginated with an opaque cursor.
#[utoipa::path(get, path = "/customers/{customer_id}/points/ledger", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path), LedgerQuery),
    responses((status = 200, body = LedgerPage), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_ledger(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    Query(q): Query<LedgerQuery>,
) -> Result<Json<LedgerPage>, ApiError> {
    let customer = customer_id(raw_id)?;
    let limit = match q.limit.as_deref() {
        None => 20,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(ApiError::field(
                    "limit",
                    "must be a whole number from 1 to 100",
                ));
            }
        },
    };
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            decode_cursor(c)
                .ok_or_else(|| ApiError::field("cursor", "is not a cursor this API returned"))?,
        ),
    };
    if state.store.account(&tenant, &customer).await?.is_none() {
        return Err(ApiError::not_found("The customer"));
    }
    let entries =
        service::ledger_page(state.store.as_ref(), &tenant, &customer, before, limit).await?;
    let next_cursor = match entries.last() {
        Some(last) if entries.len() == limit && last.seq > 1 => Some(encode_cursor(last.seq)),
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
    /// `active`, `redeemed` or `expired`.
    pub status: &'static str,
}

fn coupon_view(coupon: Coupon, now: jiff::Timestamp) -> CouponView {
    let status = if coupon.redeemed.is_some() {
        "redeemed"
    } else if now >= coupon.expires_at {
        "expired"
    } else {
        "active"
    };
    CouponView { coupon, status }
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

#[derive(Deserialize, ToSchema)]
#[allow(dead_code)]
#[serde(deny_unknown_fields)]
pub struct CouponRedemptionInput {
    /// The customer whose order uses it: a coupon is personal.
    customer_id: CustomerId,
    order_id: ExternalId,
}

/// Use a customer's coupon on their order: once. The same order again is 200; another order, or
/// an expired coupon, is 409; a code that is not this customer's is 404, as an unknown one.
#[utoipa::path(post, path = "/coupons/{code}/redemptions", tag = "coupons", params(("code" = fanloop_domain::points::CouponCode, Path)),
    request_body = CouponRedemptionInput,
    responses((status = 201, body = CouponView), (status = 200, description = "This order already used it", body = CouponView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "coupon-used or coupon-expired", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_coupon_redemption(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let code = coupon_code(raw)?;
    let mut p = ObjectParser::new(body, "")?;
    let customer = p.required::<CustomerId>("customer_id");
    let order = p.required::<ExternalId>("order_id");
    p.finish()?;
    let customer = customer.ok_or_else(|| ApiError::field("customer_id", "is required"))?;
    let order = order.ok_or_else(|| ApiError::field("order_id", "is required"))?;
    let now = state.clock.now();
    match state
        .store
        .redeem_coupon(&tenant, &code, &customer, &order, now)
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
        CouponRedemption::NotFound => Err(ApiError::not_found("The coupon")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_junk() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        for junk in ["", "42", "lc1.zz", "lc1.00", "lc2.000000000000002a"] {
            assert_eq!(decode_cursor(junk), None, "{junk}");
        }
    }
}
