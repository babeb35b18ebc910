//! Login, password setting, logout (here or everywhere), the language switch, the audit log.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fanloop_domain::staff::{Password, Permission, Token, token_hash};
use fanloop_domain::tenant::OsRandom;
use fanloop_services::staff::{self as use_case, StaffError};
use serde_json::json;

use crate::Console;
use crate::auth::{
    Form, LOGIN_COOKIE, SESSION_COOKIE, cookie, failure, posting, require, set_cookie, staff,
};
use crate::strings::Lang;

pub async fn home_redirect() -> Redirect {
    Redirect::permanent("/console/")
}

/// A page of the login family, with a fresh pre-session CSRF token in its cookie.
fn login_family(
    console: &Console,
    status: StatusCode,
    name: &str,
    mut ctx: serde_json::Value,
) -> Response {
    let Ok(token) = Token::generate(&OsRandom) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "no random source").into_response();
    };
    ctx["login_csrf"] = json!(token.as_str());
    let mut res = console.templates.page(status, name, Lang::En, ctx);
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_COOKIE, token.as_str(), console.secure_cookies),
    );
    res
}

pub async fn login_page(State(console): State<Console>) -> Response {
    login_family(&console, StatusCode::OK, "login.html", json!({}))
}

/// The login form's token must be its cookie's (a page elsewhere cannot post it).
fn login_csrf_ok(headers: &HeaderMap, form: &Form) -> bool {
    match (cookie(headers, LOGIN_COOKIE), form.get("csrf")) {
        (Some(c), Some(f)) => !c.is_empty() && Token::from_browser(c).matches(f),
        _ => false,
    }
}

fn field<'a>(form: &'a Form, name: &str) -> &'a str {
    form.get(name).map(String::as_str).unwrap_or("")
}

pub async fn login(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let t = Lang::En.strings();
    if !login_csrf_ok(&headers, &form) {
        return login_family(
            &console,
            StatusCode::FORBIDDEN,
            "login.html",
            json!({"message": "CSRF token missing or wrong"}),
        );
    }
    let store = console.state.store.as_ref();
    let now = console.state.clock.now();
    match use_case::login(
        store,
        &OsRandom,
        field(&form, "email"),
        field(&form, "password"),
        now,
    )
    .await
    {
        Ok(done) => {
            // A session id the browser had before is worth nothing now.
            if let Some(old) = cookie(&headers, SESSION_COOKIE) {
                let _ = store
                    .delete_session(&token_hash(&Token::from_browser(old)))
                    .await;
            }
            let mut res = Redirect::to("/console/").into_response();
            let h = res.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, done.cookie.as_str(), console.secure_cookies),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(LOGIN_COOKIE, "", console.secure_cookies),
            );
            res
        }
        Err(StaffError::WrongCredentials) => login_family(
            &console,
            StatusCode::UNAUTHORIZED,
            "login.html",
            json!({"message": t["bad_login"]}),
        ),
        Err(StaffError::Throttled { .. }) => {
            let mut res = login_family(
                &console,
                StatusCode::TOO_MANY_REQUESTS,
                "login.html",
                json!({"message": t["throttled"]}),
            );
            res.headers_mut().insert(
                header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("900"),
            );
            res
        }
        Err(e) => failure(&console, Lang::En, &e),
    }
}

#[derive(serde::Deserialize)]
pub struct LinkQuery {
    token: Option<String>,
}

pub async fn set_password_page(
    State(console): State<Console>,
    Query(q): Query<LinkQuery>,
) -> Response {
    let token = q.token.unwrap_or_default();
    login_family(
        &console,
        StatusCode::OK,
        "set_password.html",
        json!({ "token": token }),
    )
}

pub async fn set_password(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let t = Lang::En.strings();
    let token = field(&form, "token").to_owned();
    let again = |status, message: &str| {
        login_family(
            &console,
            status,
            "set_password.html",
            json!({"token": token, "message": message}),
        )
    };
    if !login_csrf_ok(&headers, &form) {
        return again(StatusCode::FORBIDDEN, "CSRF token missing or wrong");
    }
    let password = match Password::new(field(&form, "password").to_owned()) {
        Ok(p) => p,
        Err(e) => {
            return again(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("{}: {e}", t["password"]),
            );
        }
    };
    let now = console.state.clock.now();
    match use_case::set_password(
        console.state.store.as_ref(),
        &OsRandom,
        &token,
        password,
        now,
    )
    .await
    {
        Ok(_) => login_family(
            &console,
            StatusCode::OK,
            "login.html",
            json!({"message": t["password_set"]}),
        ),
        Err(StaffError::BadLink) => again(StatusCode::UNPROCESSABLE_ENTITY, t["bad_link"]),
        Err(e) => failure(&console, Lang::En, &e),
    }
}

fn logged_out(console: &Console) -> Response {
    let mut res = Redirect::to("/console/login").into_response();
    res.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", console.secure_cookies),
    );
    res
}

pub async fn logout(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    match use_case::logout(console.state.store.as_ref(), &s.session).await {
        Ok(()) => logged_out(&console),
        Err(e) => failure(&console, s.lang, &e),
    }
}

pub async fn logout_everywhere(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let now = console.state.clock.now();
    match use_case::logout_everywhere(console.state.store.as_ref(), &OsRandom, &s.session, now)
        .await
    {
        Ok(()) => logged_out(&console),
        Err(e) => failure(&console, s.lang, &e),
    }
}

/// Switches the staff member's language (kept on their account).
pub async fn set_locale(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let lang = Lang::from_locale(field(&form, "locale"));
    match use_case::set_locale(
        console.state.store.as_ref(),
        &s.account.staff_id,
        lang.tag(),
    )
    .await
    {
        // The pages send no Referer (`Referrer-Policy: no-referrer`): back to the search.
        Ok(()) => Redirect::to("/console/").into_response(),
        Err(e) => failure(&console, s.lang, &e),
    }
}

#[derive(serde::Deserialize)]
pub struct AuditQuery {
    before: Option<String>,
}

const AUDIT_PAGE: usize = 50;

/// The tenant's audit log, newest first (admins only).
pub async fn audit_log(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let Err(r) = require(&console, &s, Permission::Administer) {
        return *r;
    }
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    let read = async {
        let entries = store
            .audit_log(tenant, q.before.as_deref(), AUDIT_PAGE)
            .await?;
        let staff = store.staff_of(tenant).await?;
        Ok::<_, fanloop_domain::ports::StoreError>((entries, staff))
    };
    let (entries, staff_list) = match read.await {
        Ok(r) => r,
        Err(e) => return failure(&console, s.lang, &e),
    };
    let email = |id: &str| {
        staff_list
            .iter()
            .find(|a| a.staff_id == id)
            .map_or_else(|| id.to_owned(), |a| a.email.as_str().to_owned())
    };
    let next = (entries.len() == AUDIT_PAGE)
        .then(|| entries.last().map(|e| e.sort_key()))
        .flatten();
    let rows: Vec<_> = entries
        .iter()
        .map(|e| {
            json!({
                "at": fanloop_domain::time::format(e.at),
                "staff": email(&e.staff_id),
                "action": e.action.as_str(),
                "customer": e.customer.as_ref().map(|c| c.as_str()),
                "before": e.before.as_ref().map(|v| v.to_string()),
                "after": e.after.as_ref().map(|v| v.to_string()),
                "detail": e.detail,
            })
        })
        .collect();
    let mut ctx = s.context();
    ctx["entries"] = json!(rows);
    ctx["next"] = json!(next);
    console
        .templates
        .page(StatusCode::OK, "audit.html", s.lang, ctx)
}
