//! Coupons beyond their use: voiding one (support, fraud) and a customer's list.

use axum::Json;
use axum::extract::{Path, State};
use fanloop_domain::points::CouponVoid;
use fanloop_http::{ApiError, AppState, AuthTenant, Problem};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{CouponView, conflict, coupon_code, coupon_view, customer_id};

/// Void a coupon: it can never be used after (200 with the voided coupon; again: 200 as it
/// was). A coupon already used on an order is 409 `coupon-used`: reverse the order instead.
/// Needs the `redeem` or the `admin` scope.
#[utoipa::path(post, path = "/coupons/{code}/void", tag = "coupons",
    params(("code" = fanloop_domain::points::CouponCode, Path)),
    responses((status = 200, body = CouponView),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "coupon-used", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_void(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<CouponView>, ApiError> {
    let code = coupon_code(raw)?;
    let now = state.clock.now();
    match state.store.void_coupon(&tenant, &code, now).await? {
        CouponVoid::Voided(c) => {
            tracing::info!(tenant = %tenant, "coupon voided");
            Ok(Json(coupon_view(c, now)))
        }
        CouponVoid::AlreadyVoided(c) => Ok(Json(coupon_view(c, now))),
        CouponVoid::Redeemed => Err(conflict(
            "coupon-used",
            "The coupon was used on an order; reverse the order instead.",
        )),
        CouponVoid::NotFound => Err(ApiError::not_found("The coupon")),
    }
}

#[derive(Serialize, ToSchema)]
pub struct CouponList {
    /// Newest first; expired ones until the store deletes them (90 days after expiry at the
    /// earliest).
    pub coupons: Vec<CouponView>,
}

/// A customer's coupons: status, value, expiry, what minted them (the source campaign).
#[utoipa::path(get, path = "/customers/{customer_id}/coupons", tag = "coupons",
    params(("customer_id" = fanloop_domain::CustomerId, Path)),
    responses((status = 200, body = CouponList),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_customer_coupons(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<CouponList>, ApiError> {
    let customer = customer_id(raw)?;
    if state.store.profile(&tenant, &customer).await?.is_none() {
        return Err(ApiError::not_found("The customer"));
    }
    let now = state.clock.now();
    let coupons = state
        .store
        .customer_coupons(&tenant, &customer)
        .await?
        .into_iter()
        .map(|c| coupon_view(c, now))
        .collect();
    Ok(Json(CouponList { coupons }))
}
