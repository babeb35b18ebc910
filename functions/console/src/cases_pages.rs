//! The case queue in the console: the queue (open and pending, soonest due first, overdue
//! marked), the resolved list, one case with its notes, and the work on it — assign, status,
//! priority, note, resolve — plus opening a case from the customer page. Agents and admins
//! work cases; viewers read. Each form carries the CSRF token and a request id (the audit
//! entry's id: a resubmitted form writes nothing twice).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fanloop_domain::cases::{
    Case, CaseAuthor, CaseInput, CaseNote, CaseStatus, CaseText, CaseView, Priority,
};
use fanloop_domain::staff::{AuditAction, AuditEntry, Permission};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, ExternalId};
use fanloop_services::cases::{self, CaseError};
use serde_json::{Value, json};

use crate::Console;
use crate::auth::{Form, Refusal, Staff, failure, not_found, posting, require, staff};
use crate::customers::{
    PageError, audit, invalid, invalid_all, new_request_id, request_id, reused,
};

const QUEUE_PAGE: usize = 50;

#[derive(serde::Deserialize)]
pub struct QueueQuery {
    view: Option<String>,
    mine: Option<String>,
    after: Option<String>,
}

/// A case as the pages show it.
fn row(c: &Case, now: jiff::Timestamp, staff: &[(String, String)]) -> Value {
    let fmt = fanloop_domain::time::format;
    let assignee = c.assignee.as_ref().map(|id| {
        staff
            .iter()
            .find(|(s, _)| s == id)
            .map_or(id.clone(), |(_, email)| email.clone())
    });
    json!({
        "id": c.case_id,
        "kind": c.kind.as_str(),
        "customer_id": c.customer_id.as_ref().map(|c| c.as_str()),
        "subject": c.subject,
        "description": c.description,
        "priority": c.priority.as_str(),
        "status": c.status.as_str(),
        "assignee": c.assignee,
        "assignee_name": assignee,
        "opened_at": fmt(c.opened_at),
        "due_at": fmt(c.due_at),
        "overdue": c.is_overdue(now),
        "resolved_at": c.resolved_at.map(fmt),
        "resolution": c.resolution,
        "notes": c.notes.iter().map(|n| json!({"at": fmt(n.at), "staff_id": n.staff_id, "text": n.text})).collect::<Vec<_>>(),
        "followup": c.followup,
    })
}

/// The tenant's staff as `(id, e-mail)`.
async fn roster(console: &Console, s: &Staff) -> Vec<(String, String)> {
    console
        .state
        .store
        .staff_of(&s.account.tenant)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| (a.staff_id, a.email.as_str().to_owned()))
        .collect()
}

pub async fn queue(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(q): Query<QueueQuery>,
) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let view = match q.view.as_deref() {
        Some("resolved") => CaseView::Resolved,
        _ => CaseView::Active,
    };
    let mine = q.mine.is_some();
    // A cursor is a list key this page handed out; anything else starts from the top.
    let after = q
        .after
        .filter(|a| a.len() <= 200 && a.starts_with(Case::view_prefix(view)));
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    let page = match store
        .cases(tenant, view, after.as_deref(), QUEUE_PAGE)
        .await
    {
        Ok(p) => p,
        Err(e) => return failure(&console, s.lang, &e),
    };
    let next = (page.len() == QUEUE_PAGE)
        .then(|| page.last().map(Case::list_key))
        .flatten();
    let now = console.state.clock.now();
    let staff_list = roster(&console, &s).await;
    let rows: Vec<Value> = page
        .iter()
        .filter(|c| !mine || c.assignee.as_deref() == Some(s.account.staff_id.as_str()))
        .map(|c| row(c, now, &staff_list))
        .collect();
    let mut ctx = s.context();
    ctx["cases"] = json!(rows);
    ctx["resolved_view"] = json!(view == CaseView::Resolved);
    ctx["mine"] = json!(mine);
    ctx["next"] = json!(next);
    console
        .templates
        .page(StatusCode::OK, "cases.html", s.lang, ctx)
}

fn case_id(raw: &str) -> Option<ExternalId> {
    ExternalId::parse(raw).ok()
}

pub async fn case_page(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let Some(id) = case_id(&raw) else {
        return not_found(&console, &s);
    };
    let case = match console
        .state
        .store
        .case(&s.account.tenant, id.as_str())
        .await
    {
        Ok(Some(c)) => c,
        Ok(None) => return not_found(&console, &s),
        Err(e) => return failure(&console, s.lang, &e),
    };
    let staff_list = roster(&console, &s).await;
    let mut ctx = s.context();
    ctx["c"] = row(&case, console.state.clock.now(), &staff_list);
    ctx["staff_list"] = json!(
        staff_list
            .iter()
            .map(|(id, email)| json!({"id": id, "email": email}))
            .collect::<Vec<_>>()
    );
    ctx["can_act"] = json!(s.can(Permission::ActOnCustomers));
    ctx["active"] = json!(case.is_active());
    ctx["priorities"] = json!(["high", "normal", "low"]);
    ctx["request_id"] = json!(new_request_id(&console));
    console
        .templates
        .page(StatusCode::OK, "case.html", s.lang, ctx)
}

fn field(form: &Form, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// What the work forms check first: a session, the CSRF token, the role, the request id.
async fn working(
    console: &Console,
    headers: &HeaderMap,
    form: &Form,
) -> Result<(Staff, ExternalId), Refusal> {
    let s = posting(console, headers, form).await?;
    require(console, &s, Permission::ActOnCustomers)?;
    let request = request_id(console, &s, form)?;
    Ok((s, request))
}

fn text(console: &Console, s: &Staff, form: &Form, name: &str) -> Result<String, Refusal> {
    CaseText::parse(field(form, name))
        .map(String::from)
        .map_err(|e| Box::new(invalid(console, s, name, &e.to_string())))
}

/// `POST /console/cases/{id}`: one piece of work, named by the form's `op`.
pub async fn work(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    match work_on(&console, &headers, &raw, &form).await {
        Ok(r) | Err(r) => r,
    }
}

async fn work_on(
    console: &Console,
    headers: &HeaderMap,
    raw: &str,
    form: &Form,
) -> Result<Response, Response> {
    let (s, request) = working(console, headers, form).await.map_err(|r| *r)?;
    let Some(id) = case_id(raw) else {
        return Err(not_found(console, &s));
    };
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    let now = console.state.clock.now();
    let me = s.account.staff_id.clone();
    let op = field(form, "op");
    let changed = match op.as_str() {
        "assign" => {
            let to = field(form, "assignee");
            let to = match to.as_str() {
                "" => None,
                "me" => Some(me.clone()),
                other => {
                    let known = roster(console, &s).await.iter().any(|(id, _)| id == other);
                    if !known {
                        return Err(invalid(
                            console,
                            &s,
                            "assignee",
                            "is not a staff member here",
                        ));
                    }
                    Some(other.to_owned())
                }
            };
            cases::change_case(store, tenant, id.as_str(), |c| c.assign(to.clone())).await
        }
        "status" => {
            let Some(status) =
                CaseStatus::parse(&field(form, "status")).filter(|st| *st != CaseStatus::Resolved)
            else {
                return Err(invalid(console, &s, "status", "must be open or pending"));
            };
            cases::change_case(store, tenant, id.as_str(), |c| {
                c.set_status(status, &me, now)
            })
            .await
        }
        "priority" => {
            let Some(p) = Priority::parse(&field(form, "priority")) else {
                return Err(invalid(
                    console,
                    &s,
                    "priority",
                    "must be high, normal or low",
                ));
            };
            let settings = console
                .state
                .settings(tenant)
                .await
                .map_err(|_| failure(console, s.lang, &PageError::Settings))?;
            let sla = settings.cases.sla_hours.clone();
            cases::change_case(store, tenant, id.as_str(), |c| c.set_priority(p, &sla)).await
        }
        "note" => {
            let note = CaseNote {
                staff_id: me.clone(),
                text: text(console, &s, form, "note").map_err(|r| *r)?,
                at: now,
            };
            cases::change_case(store, tenant, id.as_str(), |c| c.add_note(note.clone())).await
        }
        "resolve" => {
            let resolution = text(console, &s, form, "resolution").map_err(|r| *r)?;
            cases::resolve(store, tenant, id.as_str(), resolution, now).await
        }
        _ => return Err(invalid(console, &s, "op", "is not a known action")),
    };
    let changed = match changed {
        Ok(c) => c,
        Err(CaseError::NotFound) => return Err(not_found(console, &s)),
        Err(e) => return Err(failure(console, s.lang, &e)),
    };
    if let Some((before, after)) = changed {
        let (b, a) = (row(&before, now, &[]), row(&after, now, &[]));
        let pick = |v: &Value| json!({ "status": v["status"], "priority": v["priority"], "assignee": v["assignee"], "due_at": v["due_at"] });
        let mut entry = AuditEntry::new(request.to_string(), now, &me, AuditAction::CaseUpdated)
            .change(pick(&b), pick(&a))
            .detail(format!("{} {op}", after.case_id));
        if let Some(c) = &after.customer_id {
            entry = entry.about(c);
        }
        audit(console, &s, entry).await.map_err(|r| *r)?;
    }
    Ok(Redirect::to(&format!("/console/cases/{}", id.as_str())).into_response())
}

/// `POST /console/customers/{id}/cases`: staff open a case for the customer.
pub async fn open_for_customer(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let (s, request) = match working(&console, &headers, &form).await {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let Ok(customer) = CustomerId::parse(raw) else {
        return not_found(&console, &s);
    };
    let mut body = json!({
        "case_id": request.as_str(),
        "customer_id": customer.as_str(),
        "kind": field(&form, "kind"),
        "subject": field(&form, "subject"),
    });
    if let Some(d) = form.get("description").filter(|d| !d.trim().is_empty()) {
        body["description"] = json!(d);
    }
    if let Some(p) = form.get("priority").filter(|p| !p.is_empty()) {
        body["priority"] = json!(p);
    }
    let input = match CaseInput::parse(body) {
        Ok(i) => i,
        Err(e) => return invalid_all(&console, &s, &e),
    };
    let tenant = &s.account.tenant;
    let settings = match console.state.settings(tenant).await {
        Ok(st) => st,
        Err(_) => return failure(&console, s.lang, &PageError::Settings),
    };
    let now = console.state.clock.now();
    let author = CaseAuthor::Staff {
        staff_id: s.account.staff_id.clone(),
    };
    let store = console.state.store.as_ref();
    match cases::open_case(store, &OsRandom, &settings, tenant, input, author, now).await {
        Ok(_) => {}
        Err(CaseError::UnknownCustomer | CaseError::NotFound) => {
            return not_found(&console, &s);
        }
        Err(CaseError::Reused) => {
            return reused(&console, &s, "case");
        }
        Err(e) => return failure(&console, s.lang, &e),
    }
    let entry = AuditEntry::new(
        request.to_string(),
        now,
        &s.account.staff_id,
        AuditAction::CaseOpened,
    )
    .about(&customer)
    .detail(request.as_str());
    if let Err(r) = audit(&console, &s, entry).await {
        return *r;
    }
    Redirect::to(&format!("/console/cases/{}", request.as_str())).into_response()
}
