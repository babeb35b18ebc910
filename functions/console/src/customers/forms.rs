//! What every action form of the console shares: the checks (session, CSRF token, role, the
//! form's request id), the refusals, and the audit entry written after it succeeds.

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fanloop_domain::staff::{AuditEntry, Permission};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, ExternalId, ValidationErrors};

use crate::Console;
use crate::auth::{Form, Refusal, Staff, failure, not_found, posting, refusal, require};

pub(crate) fn new_request_id(console: &Console) -> String {
    fanloop_domain::campaigns::new_message_id(console.state.clock.now(), &OsRandom)
        .unwrap_or_default()
}

/// What every action checks first: a session, the CSRF token, the role, the customer id and
/// the form's request id.
pub(crate) async fn action(
    console: &Console,
    headers: &HeaderMap,
    raw: String,
    form: &Form,
    p: Permission,
) -> Result<(Staff, CustomerId, ExternalId), Refusal> {
    let s = posting(console, headers, form).await?;
    require(console, &s, p)?;
    let id = CustomerId::parse(raw).map_err(|_| not_found(console, &s))?;
    let request = request_id(console, &s, form)?;
    Ok((s, id, request))
}

/// The form's request id (rendered into it: a resubmission is a retry of the same request).
pub(crate) fn request_id(console: &Console, s: &Staff, form: &Form) -> Result<ExternalId, Refusal> {
    form.get("request_id")
        .and_then(|r| ExternalId::parse(r.as_str()).ok())
        .ok_or_else(|| {
            Box::new(invalid(
                console,
                s,
                "request_id",
                "is missing; reload the page",
            ))
        })
}

/// The form's request id did something else before (a stale page).
pub(crate) fn reused(console: &Console, s: &Staff, what: &str) -> Response {
    invalid(
        console,
        s,
        "request_id",
        &format!("was used for another {what}; reload the page"),
    )
}

pub(crate) fn invalid(console: &Console, s: &Staff, field: &str, why: &str) -> Response {
    let message = format!("{} — {field}: {why}", s.lang.strings()["invalid"]);
    refusal(console, s, StatusCode::UNPROCESSABLE_ENTITY, &message)
}

pub(crate) fn invalid_all(console: &Console, s: &Staff, e: &ValidationErrors) -> Response {
    let message = format!("{}: {}", s.lang.strings()["invalid"], e.summary());
    refusal(console, s, StatusCode::UNPROCESSABLE_ENTITY, &message)
}

pub(crate) fn back_to(id: &CustomerId) -> Response {
    Redirect::to(&format!("/console/customers/{}", id.as_str())).into_response()
}

pub(crate) async fn audit(console: &Console, s: &Staff, entry: AuditEntry) -> Result<(), Refusal> {
    console
        .state
        .store
        .record_audit(&s.account.tenant, &entry)
        .await
        .map(|_| ())
        .map_err(|e| Box::new(failure(console, s.lang, &e)))
}
