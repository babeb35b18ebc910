//! Finding a customer, their page (the 360), and the actions on it: change the phone, log a
//! contact, adjust points. Each action is a form with the session's CSRF token and a request
//! id rendered into the form, which makes a resubmission a retry (the contact id, the
//! adjustment id and the audit entry's id), and answers with a redirect back to the page.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fanloop_domain::contacts::{ContactAuthor, ContactInput};
use fanloop_domain::lookup::CustomerQuery;
use fanloop_domain::points::coupon::format_amount;
use fanloop_domain::points::{AdjustmentInput, CouponCode, CouponVoid};
use fanloop_domain::ports::{StoreError, UpsertError};
use fanloop_domain::profile::Identity;
use fanloop_domain::staff::{AuditAction, AuditEntry, Permission, Role};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::timeline::TimelineCursor;
use fanloop_domain::{CustomerId, ExternalId, Platform, ProfilePatch, ValidationErrors};
use fanloop_services::contacts::{ContactError, log_contact as log_one};
use fanloop_services::points::service::{self as points, PointsError};
use serde_json::{Value, json};

use crate::Console;
use crate::auth::{Form, Refusal, Staff, failure, posting, refusal, require, staff};

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    q: Option<String>,
}

const LIST_LIMIT: usize = 50;

/// What the one search box found: by id, e-mail, phone, or `platform:external_id`.
async fn find(
    console: &Console,
    s: &Staff,
    q: &str,
) -> Result<Vec<fanloop_domain::Profile>, StoreError> {
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    if q.contains('@') {
        return match CustomerQuery::parse("email", q) {
            Ok(query) => Ok(store
                .find_customers(tenant, &query, None, LIST_LIMIT)
                .await?
                .customers),
            Err(_) => Ok(vec![]),
        };
    }
    if let Some((platform, id)) = q.split_once(':') {
        let (Ok(platform), Ok(external_id)) = (Platform::parse(platform), ExternalId::parse(id))
        else {
            return Ok(vec![]);
        };
        let identity = Identity {
            platform,
            external_id,
        };
        return match store.customer_for_identity(tenant, &identity).await? {
            Some(c) => Ok(store.profile(tenant, &c).await?.into_iter().collect()),
            None => Ok(vec![]),
        };
    }
    let mut found = Vec::new();
    if let Ok(id) = CustomerId::parse(q)
        && let Some(p) = store.profile(tenant, &id).await?
    {
        found.push(p);
    }
    let phone_like =
        q.starts_with('+') || q.chars().all(|c| c.is_ascii_digit() || " -()".contains(c));
    if phone_like && let Ok(query) = CustomerQuery::parse("phone", q) {
        for p in store
            .find_customers(tenant, &query, None, LIST_LIMIT)
            .await?
            .customers
        {
            if !found.iter().any(|f| f.customer_id == p.customer_id) {
                found.push(p);
            }
        }
    }
    Ok(found)
}

pub async fn search(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let q = q.q.unwrap_or_default().trim().to_owned();
    let customers = if q.is_empty() {
        vec![]
    } else {
        match find(&console, &s, &q).await {
            Ok(c) => c,
            Err(e) => return failure(&console, s.lang, &e),
        }
    };
    let mut ctx = s.context();
    ctx["q"] = json!(q);
    ctx["searched"] = json!(!q.is_empty());
    ctx["customers"] = json!(customers);
    console
        .templates
        .page(StatusCode::OK, "search.html", s.lang, ctx)
}

pub(crate) fn new_request_id(console: &Console) -> String {
    fanloop_domain::campaigns::new_message_id(console.state.clock.now(), &OsRandom)
        .unwrap_or_default()
}

/// One line of the timeline: what the item says, as text.
fn describe(item: &Value) -> String {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    if let Some(c) = item.get("contact") {
        return format!(
            "{} {}: {}{}",
            s(&c["channel"]),
            s(&c["direction"]),
            s(&c["summary"]),
            c.get("outcome")
                .map(|o| format!(" → {}", s(o)))
                .unwrap_or_default()
        );
    }
    if let Some(e) = item.get("entry") {
        let reason = e.pointer("/correction/reason").map(s).unwrap_or_default();
        return format!("{} {} {}", e["points"], s(&e["type"]), reason)
            .trim()
            .to_owned();
    }
    if let Some(m) = item.get("message") {
        return format!("{} {}", s(&m["campaign"]), s(&m["status"]))
            .trim()
            .to_owned();
    }
    if let Some(e) = item.get("event") {
        return s(&e["type"]);
    }
    if let Some(r) = item.get("response") {
        return format!(
            "{} {}",
            s(&r["survey_id"]),
            r.get("score").map(Value::to_string).unwrap_or_default()
        );
    }
    if let Some(f) = item.get("followup") {
        return s(&f["status"]);
    }
    String::new()
}

pub async fn customer(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let not_found = |s: &Staff| {
        refusal(
            &console,
            s,
            StatusCode::NOT_FOUND,
            s.lang.strings()["not_found"],
        )
    };
    let Ok(id) = CustomerId::parse(raw) else {
        return not_found(&s);
    };
    match page_context(&console, &s, &id).await {
        Ok(Some(ctx)) => console
            .templates
            .page(StatusCode::OK, "customer.html", s.lang, ctx),
        Ok(None) => not_found(&s),
        Err(e) => failure(&console, s.lang, &e),
    }
}

const PAGE_ITEMS: usize = 30;

async fn page_context(
    console: &Console,
    s: &Staff,
    id: &CustomerId,
) -> Result<Option<Value>, PageError> {
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    let Some(p) = store.profile(tenant, id).await? else {
        return Ok(None);
    };
    let now = console.state.clock.now();
    let settings = console
        .state
        .settings(tenant)
        .await
        .map_err(|_| PageError::Settings)?;
    let view = points::view(store, &settings, tenant, id, now).await?;
    let ledger: Vec<Value> = store
        .ledger(tenant, id, None, PAGE_ITEMS)
        .await?
        .iter()
        .map(|e| {
            let v = serde_json::to_value(e).unwrap_or(Value::Null);
            json!({
                "at": fanloop_domain::time::format(e.at),
                "points": e.points,
                "kind": v["type"],
                "reason": v.pointer("/correction/reason"),
            })
        })
        .collect();
    let (items, _) = fanloop_services::timeline::page(
        store,
        tenant,
        id,
        &TimelineCursor::default(),
        PAGE_ITEMS,
        now,
    )
    .await?;
    let timeline: Vec<Value> = items
        .iter()
        .map(|i| {
            let v = serde_json::to_value(i).unwrap_or(Value::Null);
            json!({"at": fanloop_domain::time::format(i.at), "type": v["type"], "text": describe(&v)})
        })
        .collect();
    let audit: Vec<Value> = store
        .customer_audit(tenant, id, PAGE_ITEMS)
        .await?
        .iter()
        .map(|a| json!({"at": fanloop_domain::time::format(a.at), "staff_id": a.staff_id, "action": a.action.as_str(), "detail": a.detail}))
        .collect();
    let coupons: Vec<Value> = store
        .customer_coupons(tenant, id)
        .await?
        .iter()
        .map(|c| {
            json!({
                "code": c.code.as_str(),
                "value": format_amount(c.value_minor, c.currency.as_str()),
                "status": c.status(now),
                "expires_at": fanloop_domain::time::format(c.expires_at),
            })
        })
        .collect();
    let cases: Vec<Value> = store
        .customer_cases(tenant, id, PAGE_ITEMS)
        .await?
        .iter()
        .map(|c| json!({"id": c.case_id, "subject": c.subject, "status": c.status.as_str(), "priority": c.priority.as_str(), "due_at": fanloop_domain::time::format(c.due_at), "overdue": c.is_overdue(now)}))
        .collect();
    let consent = p.consent.email_marketing.as_ref().map(|c| {
        json!({"granted": c.granted, "at": fanloop_domain::time::format(c.at), "source": c.source})
    });
    let mut ctx = s.context();
    ctx["p"] = json!(p);
    ctx["consent"] = json!(consent);
    ctx["points"] = json!(view);
    ctx["ledger"] = json!(ledger);
    ctx["coupons"] = json!(coupons);
    ctx["timeline"] = json!(timeline);
    ctx["audit"] = json!(audit);
    ctx["cases"] = json!(cases);
    ctx["can_act"] = json!(s.can(Permission::ActOnCustomers));
    ctx["channels"] = json!(["phone", "email", "chat", "meeting", "in_game"]);
    ctx["request_ids"] = json!({
        "phone": new_request_id(console),
        "contact": new_request_id(console),
        "points": new_request_id(console),
        "void": new_request_id(console),
        "case": new_request_id(console),
    });
    Ok(Some(ctx))
}

#[derive(Debug, thiserror::Error)]
pub(crate) enum PageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the tenant's settings could not be read")]
    Settings,
}

/// What every action checks first: a session, the CSRF token, the role, the customer id and
/// the form's request id.
async fn action(
    console: &Console,
    headers: &HeaderMap,
    raw: String,
    form: &Form,
    p: Permission,
) -> Result<(Staff, CustomerId, ExternalId), Refusal> {
    let s = posting(console, headers, form).await?;
    require(console, &s, p)?;
    let id = CustomerId::parse(raw).map_err(|_| {
        refusal(
            console,
            &s,
            StatusCode::NOT_FOUND,
            s.lang.strings()["not_found"],
        )
    })?;
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

fn back_to(id: &CustomerId) -> Response {
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

pub async fn edit_phone(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let (s, id, request) =
        match action(&console, &headers, raw, &form, Permission::ActOnCustomers).await {
            Ok(a) => a,
            Err(r) => return *r,
        };
    let phone = form.get("phone").cloned().unwrap_or_default();
    let now = console.state.clock.now();
    let today = now.to_zoned(jiff::tz::TimeZone::UTC).date();
    let patch = match ProfilePatch::from_json(json!({ "phone": phone }), today) {
        Ok(p) => p,
        Err(e) => return invalid_all(&console, &s, &e),
    };
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    let before = match store.profile(tenant, &id).await {
        Ok(Some(p)) => p.phone,
        Ok(None) => {
            return refusal(
                &console,
                &s,
                StatusCode::NOT_FOUND,
                s.lang.strings()["not_found"],
            );
        }
        Err(e) => return failure(&console, s.lang, &e),
    };
    let after = match store.upsert_profile(tenant, &id, &patch, now).await {
        Ok(_) => patch_phone(store, tenant, &id).await,
        Err(UpsertError::Store(e)) => return failure(&console, s.lang, &e),
        Err(e) => return failure(&console, s.lang, &e),
    };
    let entry = AuditEntry::new(
        request.to_string(),
        now,
        &s.account.staff_id,
        AuditAction::ProfileEdited,
    )
    .about(&id)
    .change(json!({ "phone": before }), json!({ "phone": after }));
    if let Err(r) = audit(&console, &s, entry).await {
        return *r;
    }
    back_to(&id)
}

async fn patch_phone(
    store: &dyn fanloop_domain::ports::Store,
    tenant: &fanloop_domain::TenantId,
    id: &CustomerId,
) -> Option<String> {
    store
        .profile(tenant, id)
        .await
        .ok()
        .flatten()
        .and_then(|p| p.phone)
        .map(|p| p.as_str().to_owned())
}

pub async fn log_contact(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let (s, id, request) =
        match action(&console, &headers, raw, &form, Permission::ActOnCustomers).await {
            Ok(a) => a,
            Err(r) => return *r,
        };
    let now = console.state.clock.now();
    let mut body = json!({
        "contact_id": request.as_str(),
        "channel": form.get("channel").cloned().unwrap_or_default(),
        "direction": form.get("direction").cloned().unwrap_or_default(),
        "summary": form.get("summary").cloned().unwrap_or_default(),
    });
    if let Some(o) = form.get("outcome").filter(|o| !o.trim().is_empty()) {
        body["outcome"] = json!(o);
    }
    let input = match ContactInput::read(body, now) {
        Ok(i) => i,
        Err(e) => return invalid_all(&console, &s, &e),
    };
    let channel = serde_json::to_value(input.channel)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let author = ContactAuthor::Staff {
        staff_id: s.account.staff_id.clone(),
    };
    match log_one(
        console.state.store.as_ref(),
        &OsRandom,
        &s.account.tenant,
        &id,
        input,
        author,
        now,
    )
    .await
    {
        Ok(_) => {}
        Err(ContactError::NotFound) => {
            return refusal(
                &console,
                &s,
                StatusCode::NOT_FOUND,
                s.lang.strings()["not_found"],
            );
        }
        Err(ContactError::Reused) => {
            return reused(&console, &s, "contact");
        }
        Err(e) => return failure(&console, s.lang, &e),
    }
    let entry = AuditEntry::new(
        request.to_string(),
        now,
        &s.account.staff_id,
        AuditAction::ContactLogged,
    )
    .about(&id)
    .detail(channel);
    if let Err(r) = audit(&console, &s, entry).await {
        return *r;
    }
    back_to(&id)
}

pub async fn adjust_points(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let (s, id, request) =
        match action(&console, &headers, raw, &form, Permission::AdjustPoints).await {
            Ok(a) => a,
            Err(r) => return *r,
        };
    let Ok(delta) = form
        .get("points")
        .map(|p| p.trim())
        .unwrap_or("")
        .parse::<i64>()
    else {
        return invalid(&console, &s, "points", "must be a whole number");
    };
    let reason = form.get("reason").cloned().unwrap_or_default();
    let body = json!({
        "adjustment_id": request.as_str(),
        "points": delta,
        "reason": reason,
        "actor": s.account.staff_id,
    });
    let input = match AdjustmentInput::parse(body) {
        Ok(i) => i,
        Err(e) => return invalid_all(&console, &s, &e),
    };
    let now = console.state.clock.now();
    let tenant = &s.account.tenant;
    let settings = match console.state.settings(tenant).await {
        Ok(st) => st,
        Err(_) => return failure(&console, s.lang, &PageError::Settings),
    };
    // The tenant's per-adjustment limit for agents (`console.agent_adjust_limit`).
    let limit = settings.console.agent_adjust_limit;
    if s.account.role != Role::Admin && delta.unsigned_abs() > limit {
        return refusal(
            &console,
            &s,
            StatusCode::FORBIDDEN,
            &format!("{} (> {limit})", s.lang.strings()["forbidden"]),
        );
    }
    match points::adjust(
        console.state.store.as_ref(),
        &settings,
        tenant,
        &id,
        input,
        now,
    )
    .await
    {
        Ok(_) => {}
        Err(PointsError::NotFound) => {
            return refusal(
                &console,
                &s,
                StatusCode::NOT_FOUND,
                s.lang.strings()["not_found"],
            );
        }
        Err(PointsError::Reused) => {
            return reused(&console, &s, "adjustment");
        }
        Err(PointsError::Insufficient { balance }) => {
            return invalid(&console, &s, "points", &format!("only {balance} available"));
        }
        Err(e) => return failure(&console, s.lang, &e),
    }
    let entry = AuditEntry::new(
        request.to_string(),
        now,
        &s.account.staff_id,
        AuditAction::PointsAdjusted,
    )
    .about(&id)
    .change(json!(null), json!({ "points": delta }))
    .detail(reason);
    if let Err(r) = audit(&console, &s, entry).await {
        return *r;
    }
    back_to(&id)
}

/// Voids one of the customer's coupons (one used on an order cannot be: reverse the order).
pub async fn void_coupon(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let (s, id, request) =
        match action(&console, &headers, raw, &form, Permission::ActOnCustomers).await {
            Ok(a) => a,
            Err(r) => return *r,
        };
    let not_found = || {
        refusal(
            &console,
            &s,
            StatusCode::NOT_FOUND,
            s.lang.strings()["not_found"],
        )
    };
    let Ok(code) = CouponCode::parse(form.get("code").map(String::as_str).unwrap_or("")) else {
        return not_found();
    };
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    // Only a coupon of this customer (the code alone would reach anyone's).
    match store.customer_coupons(tenant, &id).await {
        Ok(list) if list.iter().any(|c| c.code == code) => {}
        Ok(_) => return not_found(),
        Err(e) => return failure(&console, s.lang, &e),
    }
    let now = console.state.clock.now();
    match store.void_coupon(tenant, &code, now).await {
        Ok(CouponVoid::Voided(_) | CouponVoid::AlreadyVoided(_)) => {}
        Ok(CouponVoid::Redeemed) => {
            return invalid(
                &console,
                &s,
                "code",
                "was used on an order; reverse the order instead",
            );
        }
        Ok(CouponVoid::NotFound) => return not_found(),
        Err(e) => return failure(&console, s.lang, &e),
    }
    let entry = AuditEntry::new(
        request.to_string(),
        now,
        &s.account.staff_id,
        AuditAction::CouponVoided,
    )
    .about(&id)
    .detail(code.as_str());
    if let Err(r) = audit(&console, &s, entry).await {
        return *r;
    }
    back_to(&id)
}
