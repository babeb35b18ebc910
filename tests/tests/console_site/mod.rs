//! The console test harness: a router on a store with a manual clock, staff accounts with
//! their passwords set through the link, logins, and form posts as a browser sends them.

#![allow(dead_code)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use fanloop_console::{Console, router};
use fanloop_domain::ports::Store;
use fanloop_domain::staff::Role;
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::values::Email;
use fanloop_domain::{Clock, CustomerId, ManualClock, TenantId};
use fanloop_http::AppState;
use fanloop_tests::{Backend, ts};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct Page {
    pub status: StatusCode,
    pub location: String,
    pub cookies: Vec<(String, String)>,
    pub headers: axum::http::HeaderMap,
    pub html: String,
}

impl Page {
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the first hidden input `name` on the page.
    pub fn hidden(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self
            .html
            .find(&marker)
            .unwrap_or_else(|| panic!("no {name} in {}", self.html))
            + marker.len();
        self.html[at..].split('"').next().unwrap().to_owned()
    }
}

pub struct Site {
    pub router: axum::Router,
    pub clock: Arc<ManualClock>,
    pub store: Arc<dyn Store>,
    pub tenant: TenantId,
}

impl Site {
    pub async fn new(b: &Backend) -> Self {
        let clock = Arc::new(ManualClock::new(ts("2026-11-22T08:00:00Z")));
        let state = AppState::new(b.store(), clock.clone() as Arc<dyn Clock>);
        let (tenant, _) = b.tenant().await;
        Self {
            router: router(Console::new(state, "http://127.0.0.1:3000")),
            clock,
            store: b.store(),
            tenant,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> Page {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{}={}", urlenc(k), urlenc(v)))
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::builder().method(method).uri(uri);
        if !cookie.is_empty() {
            req = req.header(header::COOKIE, cookie);
        }
        if !form.is_empty() {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let res = self
            .router
            .clone()
            .oneshot(req.body(Body::from(body)).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let location = headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let cookies = headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|c| {
                c.split(';')
                    .next()?
                    .split_once('=')
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
            })
            .collect();
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap();
        Page {
            status,
            location,
            cookies,
            headers,
            html: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, uri: &str, cookie: &str) -> Page {
        self.send(Method::GET, uri, cookie, &[]).await
    }

    /// The search box, as the browser sends it (a POST with the session's CSRF token).
    pub async fn search(&self, q: &str, cookie: &str) -> Page {
        let csrf = self.get("/console/", cookie).await.hidden("csrf");
        self.send(
            Method::POST,
            "/console/",
            cookie,
            &[("csrf", &csrf), ("q", q)],
        )
        .await
    }

    /// A staff account with its password set; returns its login address.
    pub async fn staff(&self, name: &str, role: Role) -> String {
        let email = format!("{name}.{}@studio.example", self.tenant);
        let invited = fanloop_services::staff::invite(
            self.store.as_ref(),
            &OsRandom,
            &self.tenant,
            Email::parse(&email).unwrap(),
            role,
            "test",
            self.clock.now(),
        )
        .await
        .unwrap();
        let page = self
            .get(
                &format!("/console/set-password?token={}", invited.link_token),
                "",
            )
            .await;
        assert_eq!(page.status, StatusCode::OK);
        let pre = page.cookie("fl_login").unwrap().to_owned();
        let done = self
            .send(
                Method::POST,
                "/console/set-password",
                &format!("fl_login={pre}"),
                &[
                    ("csrf", &page.hidden("csrf")),
                    ("token", &invited.link_token),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(done.status, StatusCode::OK, "{}", done.html);
        email
    }

    pub async fn login_attempt(&self, email: &str, password: &str, extra_cookie: &str) -> Page {
        let page = self.get("/console/login", "").await;
        let pre = page.cookie("fl_login").unwrap().to_owned();
        let mut cookie = format!("fl_login={pre}");
        if !extra_cookie.is_empty() {
            cookie = format!("{extra_cookie}; {cookie}");
        }
        self.send(
            Method::POST,
            "/console/login",
            &cookie,
            &[
                ("csrf", &page.hidden("csrf")),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Logs in; returns the `Cookie` header of the session.
    pub async fn login(&self, email: &str) -> String {
        let res = self.login_attempt(email, PASSWORD, "").await;
        assert_eq!(
            (res.status, res.location.as_str()),
            (StatusCode::SEE_OTHER, "/console/"),
            "{}",
            res.html
        );
        format!("fl_session={}", res.cookie("fl_session").unwrap())
    }

    pub async fn customer(&self, id: &str, body: serde_json::Value) -> CustomerId {
        let c = CustomerId::parse(id).unwrap();
        let p =
            fanloop_domain::ProfilePatch::from_json(body, jiff::civil::date(2026, 11, 1)).unwrap();
        self.store
            .upsert_profile(&self.tenant, &c, &p, self.clock.now())
            .await
            .unwrap();
        c
    }
}

pub fn urlenc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
