//! The customer page (the 360): profile and consent, identities, points and tier with the why,
//! ledger, coupons, cases, the timeline and the audit entries about them, and the action forms.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fanloop_domain::CustomerId;
use fanloop_domain::points::coupon::format_amount;
use fanloop_domain::ports::StoreError;
use fanloop_domain::staff::Permission;
use fanloop_domain::timeline::TimelineCursor;
use fanloop_services::points::service::{self as points};
use serde_json::{Value, json};

use super::forms::new_request_id;
use crate::Console;
use crate::auth::{Staff, failure, not_found, staff};

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
    let Ok(id) = CustomerId::parse(raw) else {
        return not_found(&console, &s);
    };
    match page_context(&console, &s, &id).await {
        Ok(Some(ctx)) => console
            .templates
            .page(StatusCode::OK, "customer.html", s.lang, ctx),
        Ok(None) => not_found(&console, &s),
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
