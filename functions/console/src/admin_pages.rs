//! The tenant's settings and API keys for admins. Settings: the current document, and a JSON
//! merge patch applied as `PUT /v1/settings` applies it (the same use case and checks),
//! audited with the changed sections before and after. Keys: the list (never a secret), a new
//! key whose secret is shown once, and revoking one (refused at once by this instance, within
//! a minute by every other). Every form carries the CSRF token.

use std::sync::OnceLock;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use fanloop_domain::keys::Scope;
use fanloop_domain::staff::{AuditAction, AuditEntry, Permission};
use fanloop_domain::tenant::OsRandom;
use fanloop_services::keys::KeyError;
use fanloop_services::settings::SettingsError;
use serde_json::{Value, json};

use crate::Console;
use crate::auth::{Form, Staff, failure, not_found, posting, require, staff};
use crate::customers::{audit, invalid, invalid_all, new_request_id};

fn templates() -> &'static fanloop_mail::Templates {
    static TEMPLATES: OnceLock<fanloop_mail::Templates> = OnceLock::new();
    TEMPLATES.get_or_init(fanloop_mail::Templates::new)
}

async fn admin(console: &Console, headers: &HeaderMap) -> Result<Staff, Response> {
    let s = staff(console, headers).await.map_err(|r| *r)?;
    require(console, &s, Permission::Administer).map_err(|r| *r)?;
    Ok(s)
}

async fn admin_posting(
    console: &Console,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Staff, Response> {
    let s = posting(console, headers, form).await.map_err(|r| *r)?;
    require(console, &s, Permission::Administer).map_err(|r| *r)?;
    Ok(s)
}

fn entry(console: &Console, s: &Staff, action: AuditAction) -> AuditEntry {
    AuditEntry::new(
        new_request_id(console),
        console.state.clock.now(),
        &s.account.staff_id,
        action,
    )
}

pub async fn settings_page(State(console): State<Console>, headers: HeaderMap) -> Response {
    let s = match admin(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    settings_view(&console, &s, StatusCode::OK, "").await
}

async fn settings_view(console: &Console, s: &Staff, status: StatusCode, patch: &str) -> Response {
    let current = match console.state.store.settings(&s.account.tenant).await {
        Ok(c) => c.settings,
        Err(e) => return failure(console, s.lang, &e),
    };
    let mut ctx = s.context();
    ctx["settings"] = json!(serde_json::to_string_pretty(&current).unwrap_or_default());
    ctx["patch"] = json!(patch);
    console.templates.page(status, "settings.html", s.lang, ctx)
}

/// `POST /console/settings`: `patch` is a JSON merge patch (RFC 7396).
pub async fn update_settings(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match admin_posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let raw = form.get("patch").cloned().unwrap_or_default();
    let Ok(patch) = serde_json::from_str::<Value>(&raw) else {
        return invalid(&console, &s, "patch", "is not JSON");
    };
    let tenant = &s.account.tenant;
    let check = |st: &fanloop_domain::TenantSettings| templates().validate(st);
    let (before, after) = match fanloop_services::settings::update(
        console.state.store.as_ref(),
        tenant,
        patch.clone(),
        &check,
    )
    .await
    {
        Ok(b) => b,
        Err(SettingsError::Invalid(e)) => return invalid_all(&console, &s, &e),
        Err(SettingsError::Store(e)) => return failure(&console, s.lang, &e),
    };
    console.state.forget_settings(tenant);
    // The sections the patch named, as they were and as they became.
    let sections = |v: &fanloop_domain::TenantSettings| {
        let doc = serde_json::to_value(v).unwrap_or(Value::Null);
        let keys = patch
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default();
        Value::Object(
            keys.into_iter()
                .map(|k| (k.clone(), doc[&k].clone()))
                .collect(),
        )
    };
    let e = entry(&console, &s, AuditAction::SettingsChanged)
        .change(sections(&before), sections(&after));
    if let Err(r) = audit(&console, &s, e).await {
        return *r;
    }
    Redirect::to("/console/settings").into_response()
}

pub async fn keys_page(State(console): State<Console>, headers: HeaderMap) -> Response {
    let s = match admin(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    keys_view(&console, &s, StatusCode::OK, None).await
}

async fn keys_view(
    console: &Console,
    s: &Staff,
    status: StatusCode,
    secret: Option<String>,
) -> Response {
    let keys = match console.state.store.keys(&s.account.tenant).await {
        Ok(k) => k,
        Err(e) => return failure(console, s.lang, &e),
    };
    let fmt = fanloop_domain::time::format;
    let rows: Vec<Value> = keys
        .iter()
        .map(|k| {
            json!({
                "id": k.key_id,
                "name": k.name,
                "prefix": k.prefix,
                "scopes": k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                "created_at": fmt(k.created_at),
                "expires_at": k.expires_at.map(fmt),
                "revoked_at": k.revoked_at.map(fmt),
            })
        })
        .collect();
    let mut ctx = s.context();
    ctx["keys"] = json!(rows);
    ctx["secret"] = json!(secret);
    ctx["scopes"] = json!(Scope::ALL.map(|s| s.as_str()));
    console.templates.page(status, "keys.html", s.lang, ctx)
}

/// `POST /console/keys`: `name` and one or more `scope` checkboxes.
pub async fn create_key(
    State(console): State<Console>,
    headers: HeaderMap,
    // Several `scope` fields: the form as pairs, not a map.
    axum::Form(pairs): axum::Form<Vec<(String, String)>>,
) -> Response {
    let form: Form = pairs.iter().cloned().collect();
    let s = match admin_posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let scopes: Vec<&str> = pairs
        .iter()
        .filter(|(k, _)| k == "scope")
        .map(|(_, v)| v.as_str())
        .collect();
    let body = json!({"name": form.get("name").cloned().unwrap_or_default(), "scopes": scopes});
    let now = console.state.clock.now();
    let tenant = &s.account.tenant;
    let (key, secret) = match fanloop_services::keys::create(
        console.state.store.as_ref(),
        &OsRandom,
        tenant,
        body,
        now,
    )
    .await
    {
        Ok(k) => k,
        Err(KeyError::Invalid(e)) => return invalid_all(&console, &s, &e),
        Err(KeyError::Random) => return failure(&console, s.lang, &KeyError::Random),
        Err(KeyError::Store(e)) => return failure(&console, s.lang, &e),
    };
    let e = entry(&console, &s, AuditAction::KeyCreated).detail(format!(
        "{} {}",
        key.key_id,
        scopes.join(",")
    ));
    if let Err(r) = audit(&console, &s, e).await {
        return *r;
    }
    keys_view(
        &console,
        &s,
        StatusCode::CREATED,
        Some(secret.expose().to_owned()),
    )
    .await
}

/// `POST /console/keys/{key_id}/revoke`.
pub async fn revoke_key(
    State(console): State<Console>,
    headers: HeaderMap,
    Path(key_id): Path<String>,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match admin_posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let now = console.state.clock.now();
    match console
        .state
        .store
        .revoke_key(&s.account.tenant, &key_id, now)
        .await
    {
        Ok(Some((key, hash))) => {
            console.state.keys.forget(&hash);
            let e = entry(&console, &s, AuditAction::KeyRevoked).detail(key.key_id);
            if let Err(r) = audit(&console, &s, e).await {
                return *r;
            }
            Redirect::to("/console/keys").into_response()
        }
        Ok(None) => not_found(&console, &s),
        Err(e) => failure(&console, s.lang, &e),
    }
}
