//! Routes of the corrections: reversals of accruals and staff adjustments.

use axum::extract::{Path, State};
use axum::response::Response;
use fanloop_domain::points::{AdjustmentInput, ReversalInput};
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem};

use crate::service::{self, CorrectionResult};
use crate::{Write, answer};

/// Take back what an accrual awarded (a refunded purchase, a charged-back gift).
///
/// Once per accrual: the same request again answers 200 with the original result; another
/// reversal of the same `event_id` is 409. Lifetime points, the tier window (and the tier) and
/// that day's cap usage follow. When the points were already spent the balance goes below zero
/// and later accruals pay the debt first, or — with the tenant's `points.reversal: clamp` — it
/// stops at zero and `shortfall` says what was not taken. An `event_id` with no accrual of
/// this customer is 422.
#[utoipa::path(post, path = "/customers/{customer_id}/points/reversals", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = ReversalInput,
    responses(
        (status = 201, description = "Reversed", body = CorrectionResult),
        (status = 200, description = "A retry: the original result", body = CorrectionResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The accrual was reversed before, by another request", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_reversal(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (w, req) = Write::read(&state, &tenant, raw_id, body, ReversalInput::parse).await?;
    let store = state.store.as_ref();
    answer(service::reverse(store, &w.settings, &tenant, &w.customer, req, w.now).await)
}

/// A support correction of points (positive credits, negative debits), with its reason and
/// who made it.
///
/// Once per `adjustment_id`. A credit expires like points earned now but counts for neither
/// tiers nor daily caps; a debit spends the points that expire first and, past zero, follows
/// the tenant's `points.reversal` (a debt, or `clamp` with a `shortfall`).
#[utoipa::path(post, path = "/customers/{customer_id}/points/adjustments", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = AdjustmentInput,
    responses(
        (status = 201, description = "Applied", body = CorrectionResult),
        (status = 200, description = "A retry: the original result", body = CorrectionResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "adjustment_id reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_adjustment(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let (w, req) = Write::read(&state, &tenant, raw_id, body, AdjustmentInput::parse).await?;
    let store = state.store.as_ref();
    answer(service::adjust(store, &w.settings, &tenant, &w.customer, req, w.now).await)
}
