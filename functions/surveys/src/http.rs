//! HTTP: `POST /v1/surveys/{survey_id}/responses` (and `/batch`), `GET
//! /v1/surveys/{survey_id}/summary`, `GET /v1/followups`, `GET /v1/followups/{id}`, `POST
//! /v1/followups/{id}/close`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fanloop_domain::surveys::{
    BATCH_MAX, FollowUp, FollowUpStatus, NOTE_MAX_CHARS, ResponseInput, Summary, SurveyId,
    SurveyResponse, summary_range,
};
use fanloop_domain::wire::Text;
use fanloop_domain::{FieldError, ValidationErrors};
use fanloop_engine::Campaigns;
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem, QueryParams, parse_path};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::service::{self, IngestError, Ingested};

/// Responses of one batch ingested at once.
const BATCH_CONCURRENCY: usize = 16;

/// The authenticated routes (under `/v1`). Recovery mails go through `campaigns`.
pub fn routes(campaigns: Arc<Campaigns>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_response))
        .routes(routes!(post_batch))
        .routes(routes!(get_summary))
        .routes(routes!(get_followups))
        .routes(routes!(get_followup))
        .routes(routes!(post_close))
        .routes(routes!(crate::cases::post_case, crate::cases::get_cases))
        .routes(routes!(crate::cases::get_case))
        .layer(Extension(campaigns))
}

fn survey_id(raw: String) -> Result<SurveyId, ApiError> {
    parse_path("survey_id", raw, SurveyId::parse)
}

impl From<IngestError> for ApiError {
    fn from(e: IngestError) -> Self {
        match e {
            IngestError::Invalid(v) => ApiError::Validation(v),
            IngestError::Reused => ApiError::Conflict {
                slug: "conflict",
                detail:
                    "This response_id was recorded with a different answer; nothing was changed."
                        .into(),
                errors: vec![FieldError {
                    field: "response_id".into(),
                    message: "was used for a different answer".into(),
                }],
            },
            IngestError::Store(e) => e.into(),
        }
    }
}

/// Record a survey response.
///
/// Exactly once per `response_id` within the survey: the same answer again is 200 with the
/// stored response, another answer under the same id is 409. A detractor (NPS 0–6) or CSAT 1–2
/// opens a follow-up (`followup_id`).
#[utoipa::path(post, path = "/surveys/{survey_id}/responses", tag = "surveys",
    params(("survey_id" = fanloop_domain::surveys::SurveyId, Path)), request_body = fanloop_domain::surveys::ResponseBody,
    responses(
        (status = 201, description = "Recorded", body = SurveyResponse),
        (status = 200, description = "Sent before: the stored response", body = SurveyResponse),
        (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_response(
    State(state): State<AppState>,
    Extension(campaigns): Extension<Arc<Campaigns>>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let survey = survey_id(raw)?;
    let (_, input) = ResponseInput::from_json(body, "", state.clock.now(), false)?;
    let settings = state.settings(&tenant).await?;
    Ok(
        match service::ingest(&campaigns, &tenant, &settings, survey, input).await? {
            Ingested::Created(r) => (StatusCode::CREATED, Json(r)).into_response(),
            Ingested::Duplicate(r) => (StatusCode::OK, Json(r)).into_response(),
        },
    )
}

/// 1–100 answers, each a `ResponseBody` checked on its own.
pub type Answers = fanloop_domain::wire::BatchItems<BATCH_MAX>;

fanloop_domain::wire_struct! {
    /// The body of a batch.
    pub struct BatchBody {
        pub responses: Answers,
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ItemResult {
    Created,
    Duplicate,
    Invalid,
}

#[derive(Serialize, ToSchema)]
pub struct BatchItemResult {
    /// Position in `responses`.
    pub index: usize,
    pub response_id: Option<String>,
    pub result: ItemResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followup_id: Option<String>,
    /// Why an invalid item was refused (fields as `responses[3].nps`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Serialize, ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub duplicates: usize,
    pub invalid: usize,
    /// One per item, in order.
    pub results: Vec<BatchItemResult>,
}

/// Record up to 100 responses at once.
///
/// Each item is handled on its own: valid ones are recorded (or found to be duplicates),
/// invalid ones are reported with the reason and write nothing. If the store fails, the answer
/// is 503 and the whole batch can be sent again safely (recorded items come back as duplicates).
#[utoipa::path(post, path = "/surveys/{survey_id}/responses/batch", tag = "surveys",
    params(("survey_id" = fanloop_domain::surveys::SurveyId, Path)), request_body = BatchBody,
    responses(
        (status = 200, body = BatchResult),
        (status = 422, description = "Not a batch (or over 100 items)", body = Problem, content_type = "application/problem+json"),
        (status = 503, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_batch(
    State(state): State<AppState>,
    Extension(campaigns): Extension<Arc<Campaigns>>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<BatchResult>, ApiError> {
    let survey = survey_id(raw)?;
    let raw_items = BatchBody::parse(body)?.responses.0;
    let now = state.clock.now();
    let settings = state.settings(&tenant).await?;

    let mut results: Vec<Option<BatchItemResult>> = Vec::new();
    let mut valid = Vec::new();
    for (index, item) in raw_items.into_iter().enumerate() {
        let response_id = item
            .get("response_id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        match ResponseInput::from_json(item, &format!("responses[{index}]"), now, false) {
            Ok((_, input)) => {
                valid.push((index, survey.clone(), input));
                results.push(None);
            }
            Err(e) => results.push(Some(invalid(index, response_id, e))),
        }
    }
    for done in service::ingest_many(&campaigns, &tenant, &settings, valid, BATCH_CONCURRENCY).await
    {
        let result = match done.outcome {
            Ok(ok) => {
                let (result, r) = match ok {
                    Ingested::Created(r) => (ItemResult::Created, r),
                    Ingested::Duplicate(r) => (ItemResult::Duplicate, r),
                };
                BatchItemResult {
                    index: done.index,
                    response_id: Some(r.response_id.to_string()),
                    result,
                    followup_id: r.followup_id,
                    errors: vec![],
                }
            }
            Err(IngestError::Store(e)) => return Err(e.into()),
            Err(e) => {
                let errs = match e {
                    IngestError::Invalid(v) => v,
                    _ => ValidationErrors::single(
                        "response_id",
                        "was recorded with a different answer",
                    ),
                };
                let prefixed = ValidationErrors(
                    errs.0
                        .into_iter()
                        .map(|f| FieldError {
                            field: format!("responses[{}].{}", done.index, f.field),
                            message: f.message,
                        })
                        .collect(),
                );
                invalid(done.index, None, prefixed)
            }
        };
        if let Some(slot) = results.get_mut(done.index) {
            *slot = Some(result);
        }
    }
    let results: Vec<BatchItemResult> = results.into_iter().flatten().collect();
    let count = |f: fn(&ItemResult) -> bool| results.iter().filter(|r| f(&r.result)).count();
    Ok(Json(BatchResult {
        created: count(|r| matches!(r, ItemResult::Created)),
        duplicates: count(|r| matches!(r, ItemResult::Duplicate)),
        invalid: count(|r| matches!(r, ItemResult::Invalid)),
        results,
    }))
}

fn invalid(index: usize, response_id: Option<String>, e: ValidationErrors) -> BatchItemResult {
    BatchItemResult {
        index,
        response_id,
        result: ItemResult::Invalid,
        followup_id: None,
        errors: e.0,
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SummaryQuery {
    /// First day (YYYY-MM-DD, the tenant's time zone); default 29 days before `to`.
    #[param(value_type = Option<String>, format = Date)]
    from: Option<String>,
    /// Last day, included; default today.
    #[param(value_type = Option<String>, format = Date)]
    to: Option<String>,
}

/// NPS and CSAT of a survey over a range of days in the tenant's time zone, with a per-day
/// series and NPS by tier and lifecycle stage. Read from counters kept on write: the cost does
/// not grow with the number of responses.
#[utoipa::path(get, path = "/surveys/{survey_id}/summary", tag = "surveys",
    params(("survey_id" = fanloop_domain::surveys::SurveyId, Path), SummaryQuery),
    responses((status = 200, body = Summary),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_summary(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    QueryParams(q): QueryParams<SummaryQuery>,
) -> Result<Json<Summary>, ApiError> {
    let survey = survey_id(raw)?;
    let settings = state.settings(&tenant).await?;
    let today = state.clock.now().to_zoned(settings.timezone.tz()).date();
    let (from, to) = summary_range(q.from.as_deref(), q.to.as_deref(), today)?;
    Ok(Json(
        fanloop_services::reports::survey_summary(
            state.store.as_ref(),
            &tenant,
            &settings,
            survey,
            from,
            to,
        )
        .await?,
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FollowUpQuery {
    /// `open` (default) or `closed`.
    #[param(value_type = Option<String>, pattern = "^(open|closed)$")]
    status: Option<String>,
    /// 1–100, default 50.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FollowUpList {
    /// Oldest first.
    pub items: Vec<FollowUp>,
    pub next_cursor: Option<String>,
}

const CURSOR_PREFIX: &str = "fc1.";

/// Follow-up cases, oldest first: the work queue of unhappy answers.
#[utoipa::path(get, path = "/followups", tag = "surveys", params(FollowUpQuery),
    responses((status = 200, body = FollowUpList),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_followups(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<FollowUpQuery>,
) -> Result<Json<FollowUpList>, ApiError> {
    let mut errs = ValidationErrors::default();
    let status = match q.status.as_deref() {
        None => Some(FollowUpStatus::Open),
        Some(s) => FollowUpStatus::parse(s).or_else(|| {
            errs.push("status", "must be open or closed");
            None
        }),
    };
    let limit = match q.limit.as_deref() {
        None => 50,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                errs.push("limit", "must be a whole number from 1 to 100");
                0
            }
        },
    };
    let after = match q.cursor.as_deref() {
        None => None,
        Some(c) => match c.strip_prefix(CURSOR_PREFIX) {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                Some(id.to_owned())
            }
            _ => {
                errs.push("cursor", "is not a cursor this API returned");
                None
            }
        },
    };
    errs.into_result()?;
    let status = status.unwrap_or(FollowUpStatus::Open);
    let page = state
        .store
        .followups(&tenant, status, after.as_deref(), limit)
        .await?;
    Ok(Json(FollowUpList {
        items: page.items,
        next_cursor: page.next.map(|id| format!("{CURSOR_PREFIX}{id}")),
    }))
}

fn followup_id(raw: String) -> Result<String, ApiError> {
    // Ids are ULIDs; anything else cannot exist.
    if raw.len() == 26 && raw.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(raw)
    } else {
        Err(ApiError::not_found("The follow-up"))
    }
}

/// One follow-up case.
#[utoipa::path(get, path = "/followups/{followup_id}", tag = "surveys",
    params(("followup_id" = String, Path)),
    responses((status = 200, body = FollowUp),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_followup(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<FollowUp>, ApiError> {
    let id = followup_id(raw)?;
    state
        .store
        .followup(&tenant, &id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("The follow-up"))
}

fanloop_domain::wire_struct! {
    /// The body of a close.
    pub struct CloseBody {
        /// What was done.
        pub note: Option<Text<{ NOTE_MAX_CHARS }>>,
    }
}

/// Close a follow-up case. Closing a closed case changes nothing and answers the case as it is.
#[utoipa::path(post, path = "/followups/{followup_id}/close", tag = "surveys",
    params(("followup_id" = String, Path)), request_body = CloseBody,
    responses((status = 200, body = FollowUp),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_close(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<FollowUp>, ApiError> {
    let id = followup_id(raw)?;
    let note = CloseBody::parse(body)?.note.map(|n| n.0);
    let now = state.clock.now();
    let closed = state
        .store
        .close_followup(&tenant, &id, note.clone(), now)
        .await?
        .ok_or_else(|| ApiError::not_found("The follow-up"))?;
    // Its case leaves the queue too (also on a retry, if the first try stopped here).
    fanloop_services::cases::followup_closed(state.store.as_ref(), &tenant, &id, note, now).await?;
    Ok(Json(closed))
}
