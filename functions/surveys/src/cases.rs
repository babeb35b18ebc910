//! The case queue for backends: `POST /v1/cases` (a complaint or feedback from the tenant's
//! support tools or game), `GET /v1/cases` (the queue by due time, or the resolved list) and
//! `GET /v1/cases/{case_id}`. Staff work the cases in the console. Rules:
//! [`fanloop_domain::cases`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use fanloop_domain::ExternalId;
use fanloop_domain::cases::{Case, CaseAuthor, CaseInput, CaseView};
use fanloop_http::{
    ApiError, AppState, AuthKey, AuthTenant, JsonBody, Problem, QueryParams, cursor, parse_path,
};
use fanloop_services::cases::{CaseError, Opened, open_case};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

fn problem(e: CaseError) -> ApiError {
    match e {
        CaseError::UnknownCustomer => ApiError::field("customer_id", "names no customer"),
        CaseError::NotFound => ApiError::not_found("The case"),
        CaseError::Reused => ApiError::Conflict {
            slug: "conflict",
            detail: "This case_id was used with a different body; nothing was changed.".into(),
            errors: vec![],
        },
        CaseError::Random => ApiError::Internal,
        CaseError::Store(e) => e.into(),
    }
}

/// Open a case.
///
/// A complaint or feedback for staff to work: it joins the queue due by the tenant's SLA for
/// its priority (`cases.sla_hours`; `high` by default for a customer in a high-value tier).
/// With a `case_id` a retry opens nothing twice (200 with the case as it is; the same id with
/// another body is 409). Unhappy survey answers open their cases themselves.
#[utoipa::path(post, path = "/cases", tag = "surveys", request_body = CaseInput,
    responses(
        (status = 201, description = "Opened", body = Case),
        (status = 200, description = "A retry: the case as it is", body = Case),
        (status = 409, description = "case_id reused with a different body", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_case(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Extension(AuthKey(key)): Extension<AuthKey>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let input = CaseInput::parse(body)?;
    let settings = state.settings(&tenant).await?;
    let author = CaseAuthor::ApiKey { key_id: key.key_id };
    let opened = open_case(
        state.store.as_ref(),
        &fanloop_domain::tenant::OsRandom,
        &settings,
        &tenant,
        input,
        author,
        state.clock.now(),
    )
    .await
    .map_err(problem)?;
    Ok(match opened {
        Opened::Created(c) => (StatusCode::CREATED, Json(c)).into_response(),
        Opened::Duplicate(c) => (StatusCode::OK, Json(c)).into_response(),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CasesQuery {
    /// `active` (default: open and pending, soonest due first) or `resolved` (newest first).
    #[param(value_type = Option<String>, pattern = "^(active|resolved)$")]
    view: Option<String>,
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CasesPage {
    pub cases: Vec<Case>,
    /// Pass as `cursor` (with the same `view`) for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "cs1.";

/// The case queue.
///
/// Open and pending cases by due time (the soonest first), or the resolved ones, newest
/// first. Read from an index kept on write: the cost does not grow with the number of cases.
#[utoipa::path(get, path = "/cases", tag = "surveys", params(CasesQuery),
    responses((status = 200, body = CasesPage),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_cases(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<CasesQuery>,
) -> Result<Json<CasesPage>, ApiError> {
    let view = match q.view.as_deref() {
        None | Some("active") => CaseView::Active,
        Some("resolved") => CaseView::Resolved,
        Some(_) => return Err(ApiError::field("view", "must be active or resolved")),
    };
    let page = fanloop_http::PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    };
    let limit = page.limit()?;
    let after = match page.position(CURSOR_PREFIX)? {
        None => None,
        Some(b) => Some(
            String::from_utf8(b)
                .ok()
                .filter(|k| k.len() <= 200 && k.starts_with(Case::view_prefix(view)))
                .ok_or_else(|| ApiError::field("cursor", "is not a cursor this API returned"))?,
        ),
    };
    let cases = state
        .store
        .cases(&tenant, view, after.as_deref(), limit)
        .await?;
    let next_cursor = match cases.last() {
        Some(last) if cases.len() == limit => {
            Some(cursor(CURSOR_PREFIX, last.list_key().as_bytes()))
        }
        _ => None,
    };
    Ok(Json(CasesPage { cases, next_cursor }))
}

/// One case, with its notes and resolution.
#[utoipa::path(get, path = "/cases/{case_id}", tag = "surveys",
    params(("case_id" = String, Path)),
    responses((status = 200, body = Case),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_case(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<Case>, ApiError> {
    // Ids are external ids or ULIDs; anything else cannot exist.
    let id = parse_path("case_id", raw, ExternalId::parse)
        .map_err(|_| ApiError::not_found("The case"))?;
    state
        .store
        .case(&tenant, id.as_str())
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("The case"))
}
