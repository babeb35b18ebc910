//! `GET /v1/customers/{id}/timeline`: what the customer did and what happened to them, newest
//! first, in one read (rules: [`fanloop_domain::timeline`]).

use axum::Json;
use axum::extract::{Path, State};
use fanloop_domain::timeline::{TimelineCursor, TimelineItem};
use fanloop_http::{ApiError, AppState, AuthTenant, PageQuery, Problem, QueryParams, cursor};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{customer_id, customer_not_found};

#[derive(Serialize, ToSchema)]
pub struct TimelinePage {
    /// Newest first: events, ledger entries, messages, survey answers, follow-ups and
    /// logged contacts.
    pub items: Vec<TimelineItem>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "tc1.";

fn bad_cursor() -> ApiError {
    ApiError::field("cursor", "is not a cursor this API returned")
}

/// The customer's timeline, newest first: behaviour events, points ledger entries, messages,
/// survey answers, the follow-ups they opened and the contacts staff logged, each with its
/// `type`.
///
/// A page reads at most `limit` ledger entries, `limit` events and `limit` contacts, plus the customer's
/// messages, answers and follow-ups (a customer has few), whatever the length of the history.
#[utoipa::path(get, path = "/customers/{customer_id}/timeline", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path), PageQuery),
    responses((status = 200, body = TimelinePage), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_timeline(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<TimelinePage>, ApiError> {
    let customer = customer_id(raw_id)?;
    let limit = q.limit()?;
    let at: TimelineCursor = match q.position(CURSOR_PREFIX)? {
        None => TimelineCursor::default(),
        Some(b) => serde_json::from_slice(&b).map_err(|_| bad_cursor())?,
    };
    let store = state.store.as_ref();
    if store.profile(&tenant, &customer).await?.is_none() {
        return Err(customer_not_found());
    }
    let now = state.clock.now();
    let (items, next) =
        fanloop_services::timeline::page(store, &tenant, &customer, &at, limit, now).await?;
    let next_cursor = match next {
        Some(c) => Some(cursor(
            CURSOR_PREFIX,
            &serde_json::to_vec(&c).map_err(|_| ApiError::Internal)?,
        )),
        None => None,
    };
    Ok(Json(TimelinePage { items, next_cursor }))
}
