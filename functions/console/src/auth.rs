//! The session of a console request: its cookie, its staff member and language, the CSRF
//! check of a form, and the role check of an action.

use std::collections::HashMap;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fanloop_domain::staff::{Permission, Session, StaffAccount, Token};
use fanloop_services::staff::{StaffError, authenticate};
use serde_json::json;

use crate::Console;
use crate::strings::Lang;

pub const SESSION_COOKIE: &str = "fl_session";
/// The login and password-set forms' CSRF token, before there is a session.
pub const LOGIN_COOKIE: &str = "fl_login";

/// A page answered instead of doing what was asked (boxed: a response is large).
pub type Refusal = Box<Response>;

/// A form's fields (a repeated field keeps its last value).
pub type Form = HashMap<String, String>;

/// The value of cookie `name`.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `Set-Cookie` for `name`: HttpOnly, SameSite=Strict, only under `/console`, Secure behind
/// https; an empty value with `Max-Age=0` removes it.
pub fn set_cookie(name: &str, value: &str, secure: bool) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if value.is_empty() {
        c.push_str("; Max-Age=0");
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("fl_invalid=1"))
}

/// A logged-in staff member.
pub struct Staff {
    pub session: Session,
    pub account: StaffAccount,
    pub lang: Lang,
}

impl Staff {
    pub fn can(&self, p: Permission) -> bool {
        self.account.role.can(p)
    }

    /// What every page's header shows.
    pub fn context(&self) -> serde_json::Value {
        json!({
            "staff": {
                "email": self.account.email.as_str(),
                "role": self.account.role.as_str(),
                "admin": self.can(Permission::Administer),
            },
            "csrf": self.session.csrf,
        })
    }
}

pub fn to_login() -> Response {
    Redirect::to("/console/login").into_response()
}

/// The request's staff member; no (or an ended) session sends the browser to the login page.
pub async fn staff(console: &Console, headers: &HeaderMap) -> Result<Staff, Refusal> {
    let Some(token) = cookie(headers, SESSION_COOKIE) else {
        return Err(Box::new(to_login()));
    };
    let now = console.state.clock.now();
    match authenticate(console.state.store.as_ref(), token, now).await {
        Ok((session, account)) => {
            let lang = match &account.locale {
                Some(l) => Lang::from_locale(l),
                None => match console.state.settings(&account.tenant).await {
                    Ok(s) => Lang::from_locale(s.locale.as_str()),
                    Err(_) => Lang::En,
                },
            };
            Ok(Staff {
                session,
                account,
                lang,
            })
        }
        Err(StaffError::NoSession) => Err(Box::new(to_login())),
        Err(e) => Err(Box::new(failure(console, Lang::En, &e))),
    }
}

/// A page saying what went wrong (the details only in the log).
pub fn failure(console: &Console, lang: Lang, e: &dyn std::error::Error) -> Response {
    tracing::error!(error = %e, "console request failed");
    let message = lang.strings()["error"];
    console.templates.page(
        StatusCode::INTERNAL_SERVER_ERROR,
        "message.html",
        lang,
        json!({ "message": message }),
    )
}

/// A 4xx page with `message` and the header of `staff`.
pub fn refusal(console: &Console, staff: &Staff, status: StatusCode, message: &str) -> Response {
    let mut ctx = staff.context();
    ctx["message"] = json!(message);
    console
        .templates
        .page(status, "message.html", staff.lang, ctx)
}

/// The 404 page: no such customer, case, key or staff member (of this tenant).
pub fn not_found(console: &Console, staff: &Staff) -> Response {
    refusal(
        console,
        staff,
        StatusCode::NOT_FOUND,
        staff.lang.strings()["not_found"],
    )
}

/// The form's `csrf` must be the session's: otherwise 403 and nothing is done.
pub fn check_csrf(console: &Console, staff: &Staff, form: &Form) -> Result<(), Refusal> {
    let given = form.get("csrf").map(String::as_str).unwrap_or("");
    if Token::from_browser(&staff.session.csrf).matches(given) && !given.is_empty() {
        Ok(())
    } else {
        let message = "CSRF token missing or wrong";
        Err(Box::new(refusal(
            console,
            staff,
            StatusCode::FORBIDDEN,
            message,
        )))
    }
}

/// The staff member's role must allow `p`: otherwise 403.
pub fn require(console: &Console, staff: &Staff, p: Permission) -> Result<(), Refusal> {
    if staff.can(p) {
        Ok(())
    } else {
        let message = staff.lang.strings()["forbidden"];
        Err(Box::new(refusal(
            console,
            staff,
            StatusCode::FORBIDDEN,
            message,
        )))
    }
}

/// The staff member of a state-changing form: a session, and the form's CSRF token.
pub async fn posting(
    console: &Console,
    headers: &HeaderMap,
    form: &Form,
) -> Result<Staff, Refusal> {
    let s = staff(console, headers).await?;
    check_csrf(console, &s, form)?;
    Ok(s)
}
