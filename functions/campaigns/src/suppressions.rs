//! Deliverability over HTTP (admin scope): `POST /v1/feedback` takes a provider event in SES's
//! JSON (as published to EventBridge or SNS, or the event itself — what a self-hosted studio
//! relays from its provider's webhooks, and what tests feed), `GET /v1/suppressions` lists the
//! suppression list (keyed hashes only), `DELETE /v1/suppressions/{email}` takes an address off.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fanloop_domain::deliverability::{AddressHash, AddressState, FeedbackOutcome, parse_event};
use fanloop_domain::values::Email;
use fanloop_engine::suppression::{address_hash, apply_feedback};
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem, QueryParams};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// At most this many suppressions per page.
const PAGE_MAX: usize = 200;

/// Record a mail provider's event (SES event JSON: `Delivery`, `Bounce`, `Complaint`,
/// `Reject`; an EventBridge event with it in `detail` or an SNS message with it in `Message`
/// is read too). A hard bounce or a complaint suppresses the address at once, soft bounces
/// after 3 in 30 days; the event is recorded on the message its `fl_*` tags name (`delivery`
/// in the communication log). Other SES event types are accepted and change nothing. Applying
/// the same event again changes nothing.
#[utoipa::path(post, path = "/feedback", tag = "deliverability",
    request_body(content = Object, description = "An SES event, as SES publishes it"),
    responses((status = 200, body = FeedbackOutcome),
        (status = 422, description = "Not an SES event, or its tags name another tenant", body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_feedback(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    JsonBody(body): JsonBody,
) -> Result<Json<FeedbackOutcome>, ApiError> {
    let Some(event) = parse_event(&body).map_err(|e| ApiError::field("(body)", e))? else {
        return Ok(Json(FeedbackOutcome::default()));
    };
    if event.mail.as_ref().is_some_and(|m| m.tenant != tenant) {
        return Err(ApiError::field(
            "mail.tags.fl_tenant",
            "names another tenant",
        ));
    }
    Ok(Json(
        apply_feedback(state.store.as_ref(), &tenant, &event).await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SuppressionQuery {
    /// Only this address (its keyed hash is looked up).
    #[param(value_type = Option<String>, format = "email", max_length = 254)]
    email: Option<String>,
    /// Continue after this hash (`next` of the previous page).
    #[param(value_type = Option<String>, pattern = "^[0-9a-f]{64}$")]
    after: Option<String>,
    /// At most this many (default and maximum 200).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<usize>,
}

/// A page of the suppression list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionPage {
    pub suppressions: Vec<AddressState>,
    /// Pass as `after` for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// The tenant's suppression list, in hash order: each entry is the keyed hash of an address
/// (never the address: the list outlives erasure), why and when it was suppressed. With
/// `email`, only that address's entry (an empty list if it is not suppressed).
#[utoipa::path(get, path = "/suppressions", tag = "deliverability", params(SuppressionQuery),
    responses((status = 200, body = SuppressionPage),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_suppressions(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<SuppressionQuery>,
) -> Result<Json<SuppressionPage>, ApiError> {
    let store = state.store.as_ref();
    if let Some(raw) = q.email {
        let email = Email::parse(raw).map_err(|e| ApiError::field("email", e))?;
        let hash = address_hash(store, &tenant, &email).await?;
        let found = store.address(&tenant, &hash).await?;
        return Ok(Json(SuppressionPage {
            suppressions: found
                .into_iter()
                .filter(AddressState::is_suppressed)
                .collect(),
            next: None,
        }));
    }
    let after = match q.after.as_deref() {
        Some(a) => Some(
            AddressHash::parse(a)
                .ok_or_else(|| ApiError::field("after", "must be a hash from next"))?,
        ),
        None => None,
    };
    let limit = match q.limit {
        Some(l) if (1..=PAGE_MAX).contains(&l) => l,
        Some(_) => return Err(ApiError::field("limit", "must be 1 to 200")),
        None => PAGE_MAX,
    };
    let mut list = store
        .suppressions(&tenant, after.as_ref(), limit + 1)
        .await?;
    let next = (list.len() > limit).then(|| {
        list.truncate(limit);
        list.last().map(|s| s.address_hash.to_string())
    });
    Ok(Json(SuppressionPage {
        suppressions: list,
        next: next.flatten(),
    }))
}

/// Take an address off the suppression list (it was fixed, or suppressed by mistake): it can
/// be mailed again, and its soft bounces are forgotten. 404 if the address is not on it.
#[utoipa::path(delete, path = "/suppressions/{email}", tag = "deliverability",
    params(("email" = String, Path, format = "email", max_length = 254)),
    responses((status = 204, description = "Removed"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn delete_suppression(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let email = Email::parse(raw).map_err(|e| ApiError::field("email", e))?;
    let store = state.store.as_ref();
    let hash = address_hash(store, &tenant, &email).await?;
    if store.delete_address(&tenant, &hash).await? {
        tracing::info!(tenant = %tenant, "address taken off the suppression list");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("The address on the suppression list"))
    }
}
