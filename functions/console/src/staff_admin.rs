//! Staff management for admins (`/console/staff`): the tenant's members, adding one (the
//! password-set link shown once), changing a role, removing a member and sending a new link.
//! An admin cannot change their own account here (no locking oneself out); every change is
//! audited with the role and removal before and after.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fanloop_domain::staff::{Permission, Role};
use fanloop_domain::tenant::OsRandom;
use fanloop_services::staff::{self as use_case, StaffChange, StaffError};
use serde_json::json;

use crate::Console;
use crate::auth::{Form, failure, posting, require, staff};

fn field(form: &Form, name: &str) -> String {
    form.get(name).cloned().unwrap_or_default()
}

/// The tenant's staff, with the link of a just-added one when `link` is given.
async fn staff_page(
    console: &Console,
    s: &crate::auth::Staff,
    status: StatusCode,
    link: Option<String>,
    message: Option<&str>,
) -> Response {
    let accounts = match console.state.store.staff_of(&s.account.tenant).await {
        Ok(a) => a,
        Err(e) => return failure(console, s.lang, &e),
    };
    let rows: Vec<_> = accounts
        .iter()
        .map(|a| {
            json!({
                "id": a.staff_id,
                "email": a.email.as_str(),
                "role": a.role.as_str(),
                "password": a.password.is_some(),
                "removed": a.disabled,
                "me": a.staff_id == s.account.staff_id,
            })
        })
        .collect();
    let mut ctx = s.context();
    ctx["accounts"] = json!(rows);
    ctx["link"] = json!(link);
    ctx["message"] = json!(message);
    console.templates.page(status, "staff.html", s.lang, ctx)
}

/// The tenant's staff (admins only).
pub async fn staff_list(State(console): State<Console>, headers: HeaderMap) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Err(r) = require(&console, &s, Permission::Administer) {
        return *r;
    }
    staff_page(&console, &s, StatusCode::OK, None, None).await
}

/// Adds a staff member of the admin's tenant and shows their password-set link once.
pub async fn add_staff(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Err(r) = require(&console, &s, Permission::Administer) {
        return *r;
    }
    let t = s.lang.strings();
    let (Ok(email), Some(role)) = (
        fanloop_domain::values::Email::parse(field(&form, "email")),
        Role::parse(&field(&form, "role")),
    ) else {
        let message = format!("{}: {} / {}", t["invalid"], t["email"], t["role"]);
        return staff_page(
            &console,
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(&message),
        )
        .await;
    };
    let now = console.state.clock.now();
    let store = console.state.store.as_ref();
    match use_case::invite(
        store,
        &OsRandom,
        &s.account.tenant,
        email,
        role,
        &s.account.staff_id,
        now,
    )
    .await
    {
        Ok(invited) => {
            let link = use_case::setup_link(&console.public_url, &invited);
            staff_page(&console, &s, StatusCode::CREATED, Some(link), None).await
        }
        Err(StaffError::Taken) => {
            staff_page(&console, &s, StatusCode::CONFLICT, None, Some(t["taken"])).await
        }
        Err(e) => failure(&console, s.lang, &e),
    }
}

/// `POST /console/staff/{id}`: `op` = `role` (with `role`), `remove` or `reinvite`.
pub async fn change_staff(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Err(r) = require(&console, &s, Permission::Administer) {
        return *r;
    }
    let t = s.lang.strings();
    if id == s.account.staff_id {
        return staff_page(
            &console,
            &s,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            Some(t["not_yourself"]),
        )
        .await;
    }
    let change = match field(&form, "op").as_str() {
        "role" => match Role::parse(&field(&form, "role")) {
            Some(r) => StaffChange::Role(r),
            None => {
                let message = format!("{}: {}", t["invalid"], t["role"]);
                return staff_page(
                    &console,
                    &s,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(&message),
                )
                .await;
            }
        },
        "remove" => StaffChange::Remove,
        "reinvite" => StaffChange::Reinvite,
        _ => {
            return staff_page(
                &console,
                &s,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(t["invalid"]),
            )
            .await;
        }
    };
    let now = console.state.clock.now();
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    match use_case::change_staff(
        store,
        &OsRandom,
        tenant,
        &id,
        change,
        &s.account.staff_id,
        now,
    )
    .await
    {
        Ok(Some(invited)) => {
            let link = use_case::setup_link(&console.public_url, &invited);
            staff_page(&console, &s, StatusCode::OK, Some(link), None).await
        }
        Ok(None) => staff_page(&console, &s, StatusCode::OK, None, None).await,
        Err(StaffError::NoSession) => {
            staff_page(
                &console,
                &s,
                StatusCode::NOT_FOUND,
                None,
                Some(t["not_found"]),
            )
            .await
        }
        Err(e) => failure(&console, s.lang, &e),
    }
}
