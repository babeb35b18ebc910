//! HTTP: campaign runs (`POST /v1/campaigns/{campaign_id}/runs`), the communication log
//! (`GET /v1/customers/{id}/messages`), and the public unsubscribe link (`GET|POST
//! /unsubscribe/{token}`, RFC 8058 one-click).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use fanloop_domain::CustomerId;
use fanloop_domain::campaigns::unsubscribe::{PURPOSE_EMAIL_MARKETING, UnsubscribeClaim};
use fanloop_domain::campaigns::{CampaignKind, Message, RunReport};
use fanloop_domain::input::Patch;
use fanloop_domain::profile::{ConsentPatch, ProfilePatch};
use fanloop_http::{ApiError, AppState, AuthTenant, JsonBody, Problem, parse_path};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use fanloop_domain::campaigns::definition::CampaignId;
use fanloop_engine::{Campaigns, RunError};

/// The authenticated routes (under `/v1`).
pub fn routes(campaigns: Arc<Campaigns>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_run))
        .routes(routes!(get_messages))
        .routes(routes!(post_snapshot))
        .routes(routes!(crate::report::get_report))
        .routes(routes!(crate::suppressions::post_feedback))
        .routes(routes!(crate::suppressions::get_suppressions))
        .routes(routes!(crate::suppressions::delete_suppression))
        .merge(crate::definitions::routes())
        .layer(Extension(campaigns))
}

/// The public routes: the unsubscribe link needs no API key.
pub fn public_routes(campaigns: Arc<Campaigns>) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_unsubscribe, post_unsubscribe))
        .layer(Extension(campaigns))
}

fn run_error(e: RunError) -> ApiError {
    {
        match e {
            RunError::AsOfInFuture => ApiError::field(
                "as_of",
                "must not be more than 5 minutes ahead: nothing may go out early",
            ),
            RunError::NoSender => ApiError::field(
                "sender.email",
                "must be set in the settings before a campaign can send",
            ),
            RunError::NoTenant => ApiError::not_found("The tenant"),
            RunError::NoCampaign => ApiError::not_found("The campaign"),
            RunError::NotActive(status) => ApiError::Conflict {
                slug: "campaign-not-active",
                detail: format!(
                    "The campaign is {}: activate it (PUT with status active) to send; a dry run works in any status.",
                    serde_json::to_value(status)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default()
                ),
                errors: vec![],
            },
            RunError::NotRunnable(trigger) => ApiError::Conflict {
                slug: "campaign-not-runnable",
                detail: format!(
                    "A {trigger} campaign is not run by hand: it is sent when its events happen or by the schedule."
                ),
                errors: vec![],
            },
            RunError::NoSegment(_) => ApiError::Conflict {
                slug: "segment-missing",
                detail: "The campaign's audience names a saved segment that no longer exists."
                    .into(),
                errors: vec![],
            },
            RunError::Store(e) => e.into(),
            RunError::Queue(e) => {
                tracing::error!(error = %e, "broadcast batches not queued");
                ApiError::Unavailable
            }
        }
    }
}

fanloop_domain::wire_struct! {
    /// The body of a run.
    pub struct RunInput {
        /// The moment the run acts for; default now. A past one is a backfill (still at most
        /// one mail per customer and period); more than 5 minutes ahead is refused.
        pub as_of: Option<fanloop_domain::wire::DateTime>,
        /// Report who would receive the mail; send and write nothing.
        pub dry_run: Option<bool>,
    }
}

/// Run a campaign now (the schedule calls the same code).
///
/// `birthday` and `winback` are the built-in campaigns; any other id is a saved definition
/// (broadcasts run by hand; event-triggered ones are sent as their events happen). Answers
/// with the counts: `candidates` (customers due), `sent`, and `skipped` by reason (`held_out`:
/// the control group; `quiet_hours`: a later run sends it); a dry run also lists who would
/// receive the mail.
#[utoipa::path(post, path = "/campaigns/{campaign_id}/runs", tag = "campaigns",
    params(("campaign_id" = String, Path, description = "birthday, winback, or a campaign definition's id")), request_body = RunInput,
    responses(
        (status = 200, body = RunReport),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The definition is not active, not run by hand, or its segment is gone", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn post_run(
    Extension(campaigns): Extension<Arc<Campaigns>>,
    AuthTenant(tenant): AuthTenant,
    Path(kind): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<RunReport>, ApiError> {
    let input = RunInput::parse(body)?;
    let as_of = input.as_of.map(|t| t.0);
    let dry_run = input.dry_run.unwrap_or(false);
    let report = match CampaignKind::parse(&kind) {
        Some(kind) => campaigns.run(&tenant, kind, as_of, dry_run).await,
        None => {
            let id = CampaignId::parse(kind).map_err(|_| ApiError::not_found("The campaign"))?;
            campaigns.run_defined(&tenant, &id, as_of, dry_run).await
        }
    };
    Ok(Json(report.map_err(run_error)?))
}

/// What a snapshot run found.
#[derive(Serialize, ToSchema)]
pub struct SnapshotTaken {
    #[schema(value_type = String, format = DateTime)]
    pub as_of: String,
    /// The tenant-local day it is the snapshot of.
    #[schema(value_type = String, format = Date)]
    pub day: jiff::civil::Date,
    pub customers: u64,
}

/// Take the tenant's analytics snapshot now (tiers, lifecycle stages, RFM segments, churn
/// traits, lifecycle moves since the last one). The schedule takes one a day; this refreshes
/// it. It reads every customer of the tenant once.
#[utoipa::path(post, path = "/analytics/snapshots", tag = "analytics",
    responses((status = 200, body = SnapshotTaken)),
    security(("api_key" = [])))]
async fn post_snapshot(
    State(state): State<AppState>,
    Extension(campaigns): Extension<Arc<Campaigns>>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<SnapshotTaken>, ApiError> {
    let settings = state.settings(&tenant).await?;
    let now = campaigns.clock.now();
    let s =
        fanloop_engine::snapshot::take(campaigns.store.as_ref(), &tenant, &settings, now).await?;
    Ok(Json(SnapshotTaken {
        as_of: fanloop_domain::time::format(s.as_of),
        day: s.day,
        customers: s.customers,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    /// Newest first.
    pub messages: Vec<Message>,
    /// The latest contacts staff logged with the customer (at most 50), newest first; every
    /// one at `GET /v1/customers/{id}/contacts`.
    pub contacts: Vec<fanloop_domain::contacts::Contact>,
}

/// How many logged contacts the communication log shows.
const LOG_CONTACTS: usize = 50;

/// The customer's communication log: every campaign mail with its template, subject, coupon,
/// provider message id and status, and the latest contacts staff logged.
#[utoipa::path(get, path = "/customers/{customer_id}/messages", tag = "campaigns",
    params(("customer_id" = fanloop_domain::CustomerId, Path)),
    responses((status = 200, body = MessageList),
        (status = 404, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
async fn get_messages(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Path(raw): Path<String>,
) -> Result<Json<MessageList>, ApiError> {
    let customer = parse_path("customer_id", raw, CustomerId::parse)?;
    if state.store.profile(&tenant, &customer).await?.is_none() {
        return Err(ApiError::not_found("The customer"));
    }
    let messages = state.store.messages(&tenant, &customer).await?;
    let contacts = state
        .store
        .contacts(&tenant, &customer, None, LOG_CONTACTS)
        .await?;
    Ok(Json(MessageList { messages, contacts }))
}

fn page(title: &str, body: &str) -> Response {
    let html = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{title}</title></head><body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">{body}</body></html>"
    );
    (
        [
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        Html(html),
    )
        .into_response()
}

fn not_found() -> ApiError {
    ApiError::not_found("The unsubscribe link")
}

/// A genuine marketing-consent token, or 404.
fn verify(campaigns: &Campaigns, token: &str) -> Result<UnsubscribeClaim, ApiError> {
    campaigns
        .unsubscribe_key
        .verify(token)
        .filter(|c| c.purpose == PURPOSE_EMAIL_MARKETING)
        .ok_or_else(not_found)
}

/// The page behind the link in a mail: asks to confirm (a GET changes nothing, so link
/// scanners of mail providers cannot unsubscribe anyone).
#[utoipa::path(get, path = "/unsubscribe/{token}", tag = "unsubscribe",
    params(("token" = String, Path)),
    responses((status = 200, description = "A confirmation page", content_type = "text/html"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn get_unsubscribe(
    Extension(campaigns): Extension<Arc<Campaigns>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    verify(&campaigns, &token)?;
    Ok(page(
        "Unsubscribe · 退订",
        "<h1>Unsubscribe? · 退订？</h1>\
         <p>You will no longer receive marketing e-mail from us.<br>你将不再收到我们的营销邮件。</p>\
         <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" value=\"One-Click\">\
         <button type=\"submit\">Unsubscribe · 退订</button></form>",
    ))
}

/// One-click unsubscribe (RFC 8058): turns marketing e-mail consent off, recorded with source
/// `unsubscribe`. Idempotent; a tampered or foreign token is 404 and changes nothing.
#[utoipa::path(post, path = "/unsubscribe/{token}", tag = "unsubscribe",
    params(("token" = String, Path)),
    responses((status = 200, description = "Unsubscribed", content_type = "text/html"),
        (status = 404, body = Problem, content_type = "application/problem+json")))]
async fn post_unsubscribe(
    Extension(campaigns): Extension<Arc<Campaigns>>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let claim = verify(&campaigns, &token)?;
    let store = &campaigns.store;
    let profile = store
        .profile(&claim.tenant, &claim.customer)
        .await?
        .ok_or_else(not_found)?;
    if profile.consent.email_marketing_granted() {
        let patch = ProfilePatch {
            consent: Some(ConsentPatch {
                email_marketing: Patch::Set(false),
                source: "unsubscribe".into(),
            }),
            ..ProfilePatch::default()
        };
        store
            .upsert_profile(
                &claim.tenant,
                &claim.customer,
                &patch,
                campaigns.clock.now(),
            )
            .await
            .map_err(|e| match e {
                fanloop_domain::ports::UpsertError::Store(s) => ApiError::from(s),
                _ => ApiError::Internal,
            })?;
        tracing::info!(tenant = %claim.tenant, event = "unsubscribed", "marketing consent withdrawn");
    }
    Ok(page(
        "Unsubscribed · 已退订",
        "<h1>You are unsubscribed · 你已退订</h1>\
         <p>You will no longer receive marketing e-mail from us.<br>你将不再收到我们的营销邮件。</p>",
    ))
}
