//! The staff console: server-rendered HTML under `/console` (no JavaScript; one embedded
//! stylesheet), logged in with staff accounts (not API keys). It acts through the same use
//! cases as the API (`fanloop-services`) and writes every action to the audit log.
//!
//! Safety: every page is rendered with HTML auto-escaping; the Content-Security-Policy allows
//! no script at all and styles from the console only; the session cookie is HttpOnly,
//! SameSite=Strict (and Secure behind https); each state-changing form carries the session's
//! CSRF token (the login form a pre-session one); no customer data appears in URLs beyond ids.

mod admin_pages;
mod auth;
mod cases_pages;
mod charts;
mod customers;
mod dashboard;
mod render;
mod staff_admin;
mod staff_pages;
pub mod strings;
mod strings_work;

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::{get, post};
use fanloop_http::AppState;

/// What the console needs beside the API's state.
#[derive(Clone)]
pub struct Console {
    pub state: AppState,
    /// Set the `Secure` flag on cookies (the public URL is https).
    pub secure_cookies: bool,
    /// Base of the links the console hands out (password-set links).
    pub public_url: String,
    pub templates: Arc<render::Templates>,
}

impl Console {
    pub fn new(state: AppState, public_url: &str) -> Self {
        Self {
            state,
            secure_cookies: public_url.starts_with("https://"),
            public_url: public_url.trim_end_matches('/').to_owned(),
            templates: Arc::new(render::Templates::new()),
        }
    }
}

const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// The `/console` routes.
pub fn router(console: Console) -> Router {
    let pages = Router::new()
        .route("/console", get(staff_pages::home_redirect))
        .route(
            "/console/",
            get(customers::search).post(customers::search_post),
        )
        .route(
            "/console/login",
            get(staff_pages::login_page).post(staff_pages::login),
        )
        .route(
            "/console/set-password",
            get(staff_pages::set_password_page).post(staff_pages::set_password),
        )
        .route("/console/logout", post(staff_pages::logout))
        .route(
            "/console/logout-everywhere",
            post(staff_pages::logout_everywhere),
        )
        .route("/console/locale", post(staff_pages::set_locale))
        .route("/console/audit", get(staff_pages::audit_log))
        .route(
            "/console/staff",
            get(staff_admin::staff_list).post(staff_admin::add_staff),
        )
        .route("/console/staff/{id}", post(staff_admin::change_staff))
        .route(
            "/console/settings",
            get(admin_pages::settings_page).post(admin_pages::update_settings),
        )
        .route(
            "/console/keys",
            get(admin_pages::keys_page).post(admin_pages::create_key),
        )
        .route(
            "/console/keys/{key_id}/revoke",
            post(admin_pages::revoke_key),
        )
        .route("/console/dashboard", get(dashboard::dashboard))
        .route("/console/campaigns", get(dashboard::campaigns))
        .route("/console/cases", get(cases_pages::queue))
        .route(
            "/console/cases/{id}",
            get(cases_pages::case_page).post(cases_pages::work),
        )
        .route(
            "/console/customers/{id}/cases",
            post(cases_pages::open_for_customer),
        )
        .route("/console/customers/{id}", get(customers::customer))
        .route("/console/customers/{id}/phone", post(customers::edit_phone))
        .route(
            "/console/customers/{id}/contacts",
            post(customers::log_contact),
        )
        .route(
            "/console/customers/{id}/points",
            post(customers::adjust_points),
        )
        .route(
            "/console/customers/{id}/coupons/void",
            post(customers::void_coupon),
        )
        .route("/console/assets/console.css", get(render::stylesheet))
        .with_state(console);
    pages.layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut res: axum::response::Response) -> axum::response::Response {
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
