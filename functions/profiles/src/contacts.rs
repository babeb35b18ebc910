//! The contact log: `POST /v1/customers/{id}/contacts` (a call, a mail, a chat, a meeting or an
//! in-game talk with the customer, from the tenant's support tools or the staff console) and
//! `GET /v1/customers/{id}/contacts` (newest first, with a cursor). Rules:
//! [`fanloop_domain::contacts`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fanloop_domain::contacts::{Contact, ContactAuthor, ContactInput};
use fanloop_http::{
    ApiError, AppState, AuthKey, AuthTenant, JsonBody, PageQuery, Problem, QueryParams, cursor,
};
use fanloop_services::contacts::{ContactError, Logged, log_contact};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{customer_id, customer_not_found};

/// The problem a failed contact log answers.
fn problem(e: ContactError) -> ApiError {
    match e {
        ContactError::NotFound => customer_not_found(),
        ContactError::Reused => ApiError::Conflict {
            slug: "conflict",
            detail: "This contact_id was logged with a different body; nothing was changed.".into(),
            errors: vec![],
        },
        ContactError::Random => ApiError::Internal,
        ContactError::Store(e) => e.into(),
    }
}

/// Log a contact with the customer.
///
/// What staff and the customer said — by phone, e-mail, chat, in a meeting or in the game —
/// so the next agent sees it: in the timeline, the communication log (`/messages`) and the
/// export, erased with the customer. With a `contact_id` a retry logs nothing twice (200 with
/// the contact as first logged; the same id with another body is 409). The summary is the
/// customer's business: it never appears in logs.
#[utoipa::path(post, path = "/customers/{customer_id}/contacts", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = ContactInput,
    responses(
        (status = 201, description = "Logged", body = Contact),
        (status = 200, description = "A retry: the contact as first logged", body = Contact),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "contact_id reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_contact(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Extension(AuthKey(key)): Extension<AuthKey>,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let customer = customer_id(raw_id)?;
    let now = state.clock.now();
    let input = ContactInput::read(body, now)?;
    let author = ContactAuthor::ApiKey { key_id: key.key_id };
    let logged = log_contact(
        state.store.as_ref(),
        &fanloop_domain::tenant::OsRandom,
        &tenant,
        &customer,
        input,
        author,
        now,
    )
    .await
    .map_err(problem)?;
    Ok(match logged {
        Logged::Created(c) => (StatusCode::CREATED, Json(c)).into_response(),
        Logged::Duplicate(c) => (StatusCode::OK, Json(c)).into_response(),
    })
}

#[derive(Serialize, ToSchema)]
pub struct ContactsPage {
    /// Newest first (by `at`).
    pub contacts: Vec<Contact>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "kc1.";

/// The contacts logged with the customer, newest first.
#[utoipa::path(get, path = "/customers/{customer_id}/contacts", tag = "profiles",
    params(("customer_id" = fanloop_domain::CustomerId, Path), PageQuery),
    responses((status = 200, body = ContactsPage), (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_contacts(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw_id): Path<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> Result<Json<ContactsPage>, ApiError> {
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
    let contacts = state
        .store
        .contacts(&tenant, &customer, before.as_deref(), limit)
        .await?;
    let next_cursor = match contacts.last() {
        Some(last) if contacts.len() == limit => {
            Some(cursor(CURSOR_PREFIX, last.sort_key().as_bytes()))
        }
        _ => None,
    };
    Ok(Json(ContactsPage {
        contacts,
        next_cursor,
    }))
}
