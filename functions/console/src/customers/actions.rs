//! The actions on a customer: change the phone, log a contact, adjust points (within the
//! tenant's agent limit), void one of their coupons.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fanloop_domain::contacts::{ContactAuthor, ContactInput};
use fanloop_domain::points::{AdjustmentInput, CouponCode, CouponVoid};
use fanloop_domain::ports::UpsertError;
use fanloop_domain::staff::{AuditAction, AuditEntry, Permission, Role};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, ProfilePatch};
use fanloop_services::contacts::{ContactError, log_contact as log_one};
use fanloop_services::points::service::{self as points, PointsError};
use serde_json::json;

use super::forms::{action, audit, back_to, invalid, invalid_all, reused};
use super::page::PageError;
use crate::Console;
use crate::auth::{Form, failure, not_found, refusal};

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
            return not_found(&console, &s);
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
            return not_found(&console, &s);
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
            return not_found(&console, &s);
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
    let Ok(code) = CouponCode::parse(form.get("code").map(String::as_str).unwrap_or("")) else {
        return not_found(&console, &s);
    };
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    // Only a coupon of this customer (the code alone would reach anyone's).
    match store.customer_coupons(tenant, &id).await {
        Ok(list) if list.iter().any(|c| c.code == code) => {}
        Ok(_) => return not_found(&console, &s),
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
        Ok(CouponVoid::NotFound) => return not_found(&console, &s),
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
