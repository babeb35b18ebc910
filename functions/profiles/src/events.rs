//! Behaviour events: `POST /v1/customers/{id}/events` (one), `/events/batch` (up to 100, a
//! result per item) and `GET /v1/customers/{id}/events` (newest first, with a cursor).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fanloop_domain::events::{BehaviourEvent, EventBatch, EventInput, StoredEvent};
use fanloop_domain::ports::{EventRecorded, EventStore, RecordError, StoreError};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::{CustomerId, FieldError, TenantId, ValidationErrors};
use fanloop_http::{
    ApiError, AppState, AuthTenant, JsonBody, PageQuery, Problem, QueryParams, cursor,
};
use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{customer_id, customer_not_found};

/// How recording one event went.
#[derive(Debug)]
pub enum Recorded {
    Created(BehaviourEvent),
    /// The same request again: the event as first recorded.
    Duplicate(BehaviourEvent),
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("no such customer")]
    NotFound,
    #[error("the event id was recorded with a different body")]
    Reused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Records one event once per `(customer, event_id)`.
pub async fn record(
    store: &dyn EventStore,
    settings: &TenantSettings,
    tenant: &TenantId,
    customer: &CustomerId,
    input: EventInput,
    now: Timestamp,
) -> Result<Recorded, EventError> {
    let fingerprint = input.fingerprint(customer);
    let event = input.into_event(&settings.events, now);
    let tz = settings.timezone.tz();
    let activity = event.activity(now, &tz);
    let counters = fanloop_domain::analytics::event_counters(&event, &tz);
    let stored = StoredEvent { event, fingerprint };
    match store
        .record_event(tenant, customer, &stored, activity, &counters)
        .await
    {
        Ok(EventRecorded::Created) => Ok(Recorded::Created(stored.event)),
        Ok(EventRecorded::Duplicate(earlier)) if earlier.fingerprint == stored.fingerprint => {
            Ok(Recorded::Duplicate(earlier.event))
        }
        Ok(EventRecorded::Duplicate(_)) => Err(EventError::Reused),
        Err(RecordError::UnknownCustomer) => Err(EventError::NotFound),
        Err(RecordError::Store(e)) => Err(e.into()),
    }
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::NotFound => customer_not_found(),
            EventError::Reused => ApiError::Conflict {
                slug: "conflict",
                detail: "This event_id was recorded with a different body; nothing was changed."
                    .into(),
                errors: vec![],
            },
            EventError::Store(e) => e.into(),
        }
    }
}

/// Record what a customer did.
///
/// Exactly once per `event_id` and customer: the same request again answers 200 with the event
/// as first recorded; the same `event_id` with another body is 409. Moves the customer's
/// `last_active_at` forward like `/activities` (which stays, for callers that only report
/// activity). Kept for the tenant's `events.retention_days` (default 400).
#[utoipa::path(post, path = "/customers/{customer_id}/events", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = EventInput,
    responses(
        (status = 201, description = "Recorded", body = BehaviourEvent),
        (status = 200, description = "A retry: the event as first recorded", body = BehaviourEvent),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "event_id reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_event(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let customer = customer_id(raw_id)?;
    let now = state.clock.now();
    let input = EventInput::from_json(body, "", now)?;
    let settings = state.settings(&tenant).await?;
    Ok(
        match record(
            state.store.as_ref(),
            &settings,
            &tenant,
            &customer,
            input,
            now,
        )
        .await?
        {
            Recorded::Created(e) => (StatusCode::CREATED, Json(e)).into_response(),
            Recorded::Duplicate(e) => (StatusCode::OK, Json(e)).into_response(),
        },
    )
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventItemResult {
    Created,
    Duplicate,
    /// The `event_id` was recorded before with another body.
    Conflict,
    Invalid,
}

#[derive(Serialize, ToSchema)]
pub struct EventBatchItemResult {
    /// Position in `events`.
    pub index: usize,
    pub event_id: Option<String>,
    pub result: EventItemResult,
    /// Why an invalid item was refused (fields as `events[3].properties.level`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Serialize, ToSchema)]
pub struct EventBatchResult {
    pub created: usize,
    pub duplicates: usize,
    pub conflicts: usize,
    pub invalid: usize,
    /// One per item, in order.
    pub results: Vec<EventBatchItemResult>,
}

/// Record up to 100 events of one customer at once.
///
/// Each item is handled on its own, in order: valid ones are recorded (or found to be
/// duplicates or conflicts), invalid ones are reported with the reason and write nothing. If
/// the store fails the answer is 503 and the whole batch can be sent again safely (recorded
/// items come back as duplicates).
#[utoipa::path(post, path = "/customers/{customer_id}/events/batch", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = EventBatch,
    responses(
        (status = 200, body = EventBatchResult),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not a batch (or over 100 items)", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_event_batch(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<EventBatchResult>, ApiError> {
    let customer = customer_id(raw_id)?;
    let items = EventBatch::parse(body)?.events.0;
    let now = state.clock.now();
    let settings = state.settings(&tenant).await?;
    let mut out = EventBatchResult {
        created: 0,
        duplicates: 0,
        conflicts: 0,
        invalid: 0,
        results: Vec::with_capacity(items.len()),
    };
    for (index, item) in items.into_iter().enumerate() {
        let event_id = item
            .get("event_id")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned);
        let (result, errors) = match EventInput::from_json(item, &format!("events[{index}]"), now) {
            Err(ValidationErrors(errors)) => {
                out.invalid += 1;
                (EventItemResult::Invalid, errors)
            }
            Ok(input) => {
                match record(
                    state.store.as_ref(),
                    &settings,
                    &tenant,
                    &customer,
                    input,
                    now,
                )
                .await
                {
                    Ok(Recorded::Created(_)) => {
                        out.created += 1;
                        (EventItemResult::Created, vec![])
                    }
                    Ok(Recorded::Duplicate(_)) => {
                        out.duplicates += 1;
                        (EventItemResult::Duplicate, vec![])
                    }
                    Err(EventError::Reused) => {
                        out.conflicts += 1;
                        (EventItemResult::Conflict, vec![])
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        out.results.push(EventBatchItemResult {
            index,
            event_id,
            result,
            errors,
        });
    }
    Ok(Json(out))
}

#[derive(Serialize, ToSchema)]
pub struct EventsPage {
    /// Newest first (by `occurred_at`).
    pub events: Vec<BehaviourEvent>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "ec1.";

/// The customer's behaviour events still kept, newest first.
#[utoipa::path(get, path = "/customers/{customer_id}/events", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path), PageQuery),
    responses((status = 200, body = EventsPage), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_events(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<EventsPage>, ApiError> {
    let customer = customer_id(raw_id)?;
    let limit = q.limit()?;
    let before = match q.position(CURSOR_PREFIX)? {
        None => None,
        Some(b) => Some(
            String::from_utf8(b)
                .map_err(|_| ApiError::field("cursor", "is not a cursor this API returned"))?,
        ),
    };
    if state.store.profile(&tenant, &customer).await?.is_none() {
        return Err(customer_not_found());
    }
    let events = state
        .store
        .events(
            &tenant,
            &customer,
            before.as_deref(),
            limit,
            state.clock.now(),
        )
        .await?;
    let next_cursor = match events.last() {
        Some(last) if events.len() == limit => {
            Some(cursor(CURSOR_PREFIX, last.sort_key().as_bytes()))
        }
        _ => None,
    };
    Ok(Json(EventsPage {
        events,
        next_cursor,
    }))
}
