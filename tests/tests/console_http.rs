//! The staff console over HTTP (the router `fanloop serve` mounts under `/console`), on both
//! stores: password setting and login, session fixation, expiry and logout everywhere, CSRF,
//! the login throttle, roles (a viewer sees no form and is refused the POST), an agent's
//! whole visit (find by e-mail and by `steam:` identity, change the phone, log a call, adjust
//! points, see them on the page), the admin's audit log, escaping, the security headers and
//! the Chinese UI.

use axum::http::{Method, StatusCode, header};
use fanloop_domain::staff::Role;
use fanloop_domain::{Clock, CustomerId};
use fanloop_tests::{Backend, both_stores};
use jiff::SignedDuration;
use serde_json::json;

mod console_site;
use console_site::{PASSWORD, Site, urlenc};

both_stores!(
    a_link_sets_the_password_and_login_makes_a_new_session_id,
    sessions_expire_when_idle_and_end_everywhere,
    forms_without_the_right_csrf_token_change_nothing,
    ten_wrong_passwords_are_throttled,
    a_viewer_sees_no_form_and_is_refused_the_post,
    an_agent_finds_edits_logs_and_adjusts_and_the_admin_audits,
    free_text_renders_as_text_under_a_strict_policy,
    the_console_speaks_chinese,
    an_agent_voids_a_coupon_of_this_customer_only,
    an_admin_adds_staff_who_set_their_password_through_the_link,
);

async fn a_link_sets_the_password_and_login_makes_a_new_session_id(b: Backend) {
    let site = Site::new(&b).await;
    let email = site.staff("mei", Role::Agent).await;
    // The link is used up.
    let invited_again = site
        .get("/console/set-password?token=nonsense.token", "")
        .await;
    let pre = invited_again.cookie("fl_login").unwrap().to_owned();
    let bad = site
        .send(
            Method::POST,
            "/console/set-password",
            &format!("fl_login={pre}"),
            &[
                ("csrf", &invited_again.hidden("csrf")),
                ("token", "nonsense.token"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A session id planted before login is replaced, and is worth nothing.
    let planted = "fl_session=planted-by-an-attacker";
    let res = site.login_attempt(&email, PASSWORD, planted).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let fresh = res.cookie("fl_session").unwrap().to_owned();
    assert_ne!(fresh, "planted-by-an-attacker");
    let set = res
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        set.contains("HttpOnly")
            && set.contains("SameSite=Strict")
            && set.contains("Path=/console"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "http: no Secure flag");
    assert_eq!(
        site.get("/console/", planted).await.location,
        "/console/login"
    );
    assert_eq!(
        site.get("/console/", &format!("fl_session={fresh}"))
            .await
            .status,
        StatusCode::OK
    );
    // Each login is a new session.
    let second = site.login(&email).await;
    assert_ne!(second, format!("fl_session={fresh}"));
}

async fn sessions_expire_when_idle_and_end_everywhere(b: Backend) {
    let site = Site::new(&b).await;
    let email = site.staff("kai", Role::Agent).await;
    let s = site.login(&email).await;
    site.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(
        site.get("/console/", &s).await.status,
        StatusCode::OK,
        "used within 30 minutes"
    );
    site.clock.advance(SignedDuration::from_mins(29));
    assert_eq!(
        site.get("/console/", &s).await.status,
        StatusCode::OK,
        "its use moved the idle limit"
    );
    site.clock.advance(SignedDuration::from_mins(31));
    let expired = site.get("/console/", &s).await;
    assert_eq!(
        (expired.status, expired.location.as_str()),
        (StatusCode::SEE_OTHER, "/console/login")
    );

    let (one, two) = (site.login(&email).await, site.login(&email).await);
    let page = site.get("/console/", &one).await;
    let out = site
        .send(
            Method::POST,
            "/console/logout-everywhere",
            &one,
            &[("csrf", &page.hidden("csrf"))],
        )
        .await;
    assert_eq!(out.location, "/console/login");
    assert_eq!(
        site.get("/console/", &two).await.location,
        "/console/login",
        "the other session ended too"
    );
    assert_eq!(site.get("/console/", &one).await.location, "/console/login");
}

async fn forms_without_the_right_csrf_token_change_nothing(b: Backend) {
    let site = Site::new(&b).await;
    let c = site
        .customer("csrf-target", json!({"phone": "+8613800138000"}))
        .await;
    let s = site.login(&site.staff("lin", Role::Agent).await).await;
    let page = site.get("/console/customers/csrf-target", &s).await;
    let rid = page.hidden("request_id");
    for csrf in [None, Some("wrong"), Some("")] {
        let mut form = vec![("request_id", rid.as_str()), ("phone", "+8613900139000")];
        if let Some(t) = csrf {
            form.push(("csrf", t));
        }
        let res = site
            .send(
                Method::POST,
                "/console/customers/csrf-target/phone",
                &s,
                &form,
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{csrf:?}");
        let res = site
            .send(
                Method::POST,
                "/console/customers/csrf-target/contacts",
                &s,
                &[
                    ("request_id", "r1"),
                    ("channel", "phone"),
                    ("direction", "inbound"),
                    ("summary", "x"),
                    ("csrf", csrf.unwrap_or("")),
                ],
            )
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
    let p = site.store.profile(&site.tenant, &c).await.unwrap().unwrap();
    assert_eq!(
        p.phone.unwrap().as_str(),
        "+8613800138000",
        "nothing changed"
    );
    assert!(
        site.store
            .contacts(&site.tenant, &c, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        site.store
            .customer_audit(&site.tenant, &c, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The login form checks its own token too.
    let res = site
        .send(
            Method::POST,
            "/console/login",
            "fl_login=abc",
            &[
                ("csrf", "xyz"),
                ("email", "lin@studio.example"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.cookie("fl_session").is_none());
}

async fn ten_wrong_passwords_are_throttled(b: Backend) {
    let site = Site::new(&b).await;
    let email = site.staff("guess", Role::Agent).await;
    let mut statuses = Vec::new();
    for i in 0..10 {
        statuses.push(
            site.login_attempt(&email, &format!("wrong password {i}"), "")
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..4], [StatusCode::UNAUTHORIZED; 4]);
    assert_eq!(
        &statuses[4..],
        [StatusCode::TOO_MANY_REQUESTS; 6],
        "{statuses:?}"
    );
    let right = site.login_attempt(&email, PASSWORD, "").await;
    assert_eq!(
        right.status,
        StatusCode::TOO_MANY_REQUESTS,
        "locked: not even the right one"
    );
    assert!(right.cookie("fl_session").is_none());
    site.clock.advance(SignedDuration::from_mins(16));
    site.login(&email).await;
    // An unknown address is the same answer as a wrong password.
    assert_eq!(
        site.login_attempt("nobody@studio.example", PASSWORD, "")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

async fn a_viewer_sees_no_form_and_is_refused_the_post(b: Backend) {
    let site = Site::new(&b).await;
    let c = site
        .customer(
            "look-only",
            json!({"phone": "+8613800138000", "email": "fan@example.com"}),
        )
        .await;
    let s = site.login(&site.staff("vic", Role::Viewer).await).await;
    let page = site.get("/console/customers/look-only", &s).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.html.contains("+8613800138000"), "a viewer reads");
    for action in ["/phone\"", "/contacts\"", "/points\""] {
        assert!(!page.html.contains(action), "no {action} form for a viewer");
    }
    let csrf = page.hidden("csrf");
    let res = site
        .send(
            Method::POST,
            "/console/customers/look-only/phone",
            &s,
            &[
                ("csrf", &csrf),
                ("request_id", "r1"),
                ("phone", "+8613900139000"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = site
        .send(
            Method::POST,
            "/console/customers/look-only/points",
            &s,
            &[
                ("csrf", &csrf),
                ("request_id", "r2"),
                ("points", "100"),
                ("reason", "gift"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        site.store
            .profile(&site.tenant, &c)
            .await
            .unwrap()
            .unwrap()
            .phone
            .unwrap()
            .as_str(),
        "+8613800138000"
    );
    assert!(
        site.store
            .account(&site.tenant, &c)
            .await
            .unwrap()
            .is_none_or(|a| a.account.balance() == 0)
    );
    assert_eq!(
        site.get("/console/audit", &s).await.status,
        StatusCode::FORBIDDEN
    );
}

async fn an_agent_finds_edits_logs_and_adjusts_and_the_admin_audits(b: Backend) {
    let site = Site::new(&b).await;
    let email = format!("li.wei.{}@example.com", site.tenant);
    site.customer(
        "li-wei",
        json!({"email": email, "display_name": "Li Wei", "phone": "+8613800138000",
        "identities": [{"platform": "steam", "external_id": "76561198000000001"}],
        "consent": {"email_marketing": true, "source": "signup"}}),
    )
    .await;
    let agent = site.login(&site.staff("agent", Role::Agent).await).await;

    for q in [
        email.as_str(),
        "steam:76561198000000001",
        "+8613800138000",
        "li-wei",
    ] {
        let found = site.search(q, &agent).await;
        assert!(
            found.html.contains("/console/customers/li-wei"),
            "found by {q}"
        );
    }
    assert!(
        site.search("steam:1", &agent)
            .await
            .html
            .contains("No customer found")
    );
    let forged = site
        .send(Method::POST, "/console/", &agent, &[("q", email.as_str())])
        .await;
    assert_eq!(
        forged.status,
        StatusCode::FORBIDDEN,
        "a search without the CSRF token"
    );
    let by_get = site
        .get(&format!("/console/?q={}", urlenc(&email)), &agent)
        .await;
    assert!(
        !by_get.html.contains("/console/customers/li-wei"),
        "an address in the URL finds nothing: searches are POSTs"
    );

    let page = site.get("/console/customers/li-wei", &agent).await;
    assert!(
        page.html.contains("granted") && page.html.contains("signup"),
        "consent with its source"
    );
    let csrf = page.hidden("csrf");
    let ids: Vec<String> = page
        .html
        .match_indices("name=\"request_id\" value=\"")
        .map(|(i, m)| {
            page.html[i + m.len()..]
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    let [phone_id, points_id, _case_id, contact_id] = &ids[..] else {
        panic!("{ids:?}")
    };

    let res = site
        .send(
            Method::POST,
            "/console/customers/li-wei/phone",
            &agent,
            &[
                ("csrf", &csrf),
                ("request_id", phone_id),
                ("phone", "+86 139 0013 9000"),
            ],
        )
        .await;
    assert_eq!(
        (res.status, res.location.as_str()),
        (StatusCode::SEE_OTHER, "/console/customers/li-wei"),
        "{}",
        res.html
    );
    let contact = [
        ("csrf", csrf.as_str()),
        ("request_id", contact_id.as_str()),
        ("channel", "phone"),
        ("direction", "inbound"),
        ("summary", "Called about a missing gift"),
        ("outcome", "gift resent"),
    ];
    for _ in 0..2 {
        // A resubmitted form is a retry: one contact.
        let res = site
            .send(
                Method::POST,
                "/console/customers/li-wei/contacts",
                &agent,
                &contact,
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
    }
    let adjust = [
        ("csrf", csrf.as_str()),
        ("request_id", points_id.as_str()),
        ("points", "250"),
        ("reason", "missing gift"),
    ];
    let res = site
        .send(
            Method::POST,
            "/console/customers/li-wei/points",
            &agent,
            &adjust,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
    let res = site
        .send(
            Method::POST,
            "/console/customers/li-wei/points",
            &agent,
            &[
                ("csrf", &csrf),
                ("request_id", "no-reason"),
                ("points", "5"),
                ("reason", ""),
            ],
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a reason is required"
    );
    let res = site
        .send(
            Method::POST,
            "/console/customers/li-wei/points",
            &agent,
            &[
                ("csrf", &csrf),
                ("request_id", "too-many"),
                ("points", "20000"),
                ("reason", "typo"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "past the agent's limit");

    let page = site.get("/console/customers/li-wei", &agent).await;
    assert!(page.html.contains("+8613900139000"), "the new phone");
    assert_eq!(
        page.html.matches("Called about a missing gift").count(),
        1,
        "the call once, in the timeline"
    );
    assert!(
        page.html.contains("250 adjustment missing gift"),
        "the adjustment in the timeline"
    );
    assert!(page.html.contains("<dd id=\"balance\">250</dd>"));

    let admin = site.login(&site.staff("boss", Role::Admin).await).await;
    let log = site.get("/console/audit", &admin).await;
    assert_eq!(log.status, StatusCode::OK);
    for what in [
        "profile_edited",
        "contact_logged",
        "points_adjusted",
        "logged_in",
    ] {
        assert!(log.html.contains(what), "{what} in the audit log");
    }
    assert!(
        log.html.contains("+8613800138000") && log.html.contains("+8613900139000"),
        "before and after"
    );
    assert_eq!(log.html.matches("contact_logged").count(), 1);
    assert_eq!(
        site.get("/console/audit", &agent).await.status,
        StatusCode::FORBIDDEN
    );
    let c = CustomerId::parse("li-wei").unwrap();
    let export = site
        .store
        .export_customer(&site.tenant, &c)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        export.audit.len(),
        3,
        "the customer's export has what staff did about them"
    );
}

async fn free_text_renders_as_text_under_a_strict_policy(b: Backend) {
    let site = Site::new(&b).await;
    let payload = "<script>alert(1)</script>";
    site.customer("xss", json!({"display_name": payload})).await;
    let s = site.login(&site.staff("sec", Role::Agent).await).await;
    let page = site.get("/console/customers/xss", &s).await;
    let res = site
        .send(
            Method::POST,
            "/console/customers/xss/contacts",
            &s,
            &[
                ("csrf", &page.hidden("csrf")),
                ("request_id", "xss-1"),
                ("channel", "chat"),
                ("direction", "inbound"),
                ("summary", "\"><img src=x onerror=alert(2)>"),
                ("outcome", payload),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let pages = [
        (
            "the customer page",
            site.get("/console/customers/xss", &s).await,
        ),
        ("a search", site.search("xss", &s).await),
        ("a search for the payload", site.search(payload, &s).await),
    ];
    for (uri, page) in pages {
        assert!(!page.html.contains("<script>alert"), "{uri}: {}", page.html);
        assert!(!page.html.contains("<img src=x"), "{uri}");
        let csp = page
            .headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .to_str()
            .unwrap();
        assert!(
            csp.contains("default-src 'none'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert_eq!(
            page.headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
    }
    let page = site.get("/console/customers/xss", &s).await;
    assert!(
        page.html.contains("&lt;script&gt;alert(1)&lt;"),
        "shown as text: {}",
        page.html
    );
    assert!(!page.html.contains("<script"), "no script element at all");
}

async fn the_console_speaks_chinese(b: Backend) {
    let site = Site::new(&b).await;
    let s = site.login(&site.staff("wang", Role::Viewer).await).await;
    let page = site.get("/console/", &s).await;
    assert!(page.html.contains("Find a customer") && page.html.contains("lang=\"en\""));
    let res = site
        .send(
            Method::POST,
            "/console/locale",
            &s,
            &[("csrf", &page.hidden("csrf")), ("locale", "zh-CN")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = site.get("/console/", &s).await;
    assert!(
        page.html.contains("查找客户") && page.html.contains("lang=\"zh-CN\""),
        "{}",
        page.html
    );
    assert!(!page.html.contains("Find a customer"));
}

/// A 5.00 USD coupon bought with 100 of the customer's points.
async fn coupon(site: &Site, c: &CustomerId) -> String {
    use fanloop_services::points::service::{CouponReward, RedemptionRequest, Spend, redeem};
    let settings = fanloop_domain::TenantSettings::default();
    let adj = fanloop_domain::points::AdjustmentInput::parse(json!({
        "adjustment_id": format!("seed-{c}"), "points": 100, "reason": "seed", "actor": "test"}))
    .unwrap();
    let now = site.clock.now();
    let store = site.store.as_ref();
    fanloop_services::points::service::adjust(store, &settings, &site.tenant, c, adj, now)
        .await
        .unwrap();
    let req = RedemptionRequest {
        redemption_id: fanloop_domain::ExternalId::parse(format!("buy-{c}")).unwrap(),
        spend: Spend::Points {
            points: 100,
            reward: Some(CouponReward {
                value_minor: 500,
                currency: fanloop_domain::points::rules::UnitCode::parse("USD").unwrap(),
                valid_days: 30,
            }),
        },
    };
    let fanloop_services::points::service::Outcome::Created(r) =
        redeem(store, &settings, &site.tenant, c, req, now)
            .await
            .unwrap()
    else {
        panic!("a new redemption")
    };
    r.coupon.unwrap().code.as_str().to_owned()
}

async fn an_agent_voids_a_coupon_of_this_customer_only(b: Backend) {
    let site = Site::new(&b).await;
    let mine = site.customer("coupon-owner", json!({})).await;
    let other = site.customer("someone-else", json!({})).await;
    let (code, others) = (coupon(&site, &mine).await, coupon(&site, &other).await);
    let s = site.login(&site.staff("cara", Role::Agent).await).await;
    let page = site.get("/console/customers/coupon-owner", &s).await;
    assert!(
        page.html.contains(&code) && page.html.contains("5.00 USD"),
        "{}",
        page.html
    );
    assert!(!page.html.contains(&others));
    let csrf = page.hidden("csrf");
    let void = |code: String, rid: &'static str| {
        let (site, s, csrf) = (&site, s.clone(), csrf.clone());
        async move {
            site.send(
                Method::POST,
                "/console/customers/coupon-owner/coupons/void",
                &s,
                &[("csrf", &csrf), ("request_id", rid), ("code", &code)],
            )
            .await
        }
    };
    assert_eq!(
        void(others.clone(), "v0").await.status,
        StatusCode::NOT_FOUND,
        "not this customer's"
    );
    let theirs = site
        .store
        .customer_coupons(&site.tenant, &other)
        .await
        .unwrap();
    assert_eq!(theirs[0].status(site.clock.now()), "active");
    assert_eq!(void(code.clone(), "v1").await.status, StatusCode::SEE_OTHER);
    let page = site.get("/console/customers/coupon-owner", &s).await;
    assert!(
        page.html
            .contains("<td class=\"coupon-status\">voided</td>"),
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("coupons/void"),
        "no void button on a voided coupon"
    );
    let audit = site
        .store
        .customer_audit(&site.tenant, &mine, 10)
        .await
        .unwrap();
    assert_eq!(
        audit[0].action,
        fanloop_domain::staff::AuditAction::CouponVoided
    );
    // A viewer cannot.
    let v = site.login(&site.staff("vera", Role::Viewer).await).await;
    let page = site.get("/console/customers/someone-else", &v).await;
    let res = site
        .send(
            Method::POST,
            "/console/customers/someone-else/coupons/void",
            &v,
            &[
                ("csrf", &page.hidden("csrf")),
                ("request_id", "v2"),
                ("code", &others),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

async fn an_admin_adds_staff_who_set_their_password_through_the_link(b: Backend) {
    let site = Site::new(&b).await;
    let admin = site.login(&site.staff("root", Role::Admin).await).await;
    let page = site.get("/console/staff", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = page.hidden("csrf");
    let email = format!("new.{}@studio.example", site.tenant);
    let add = [
        ("csrf", csrf.as_str()),
        ("email", email.as_str()),
        ("role", "agent"),
    ];
    let res = site
        .send(Method::POST, "/console/staff", &admin, &add)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.html);
    let marker = "<code id=\"link\">";
    let at = res
        .html
        .find(marker)
        .unwrap_or_else(|| panic!("{}", res.html))
        + marker.len();
    // The page escapes `/` as `&#x2f;`.
    let link = res.html[at..]
        .split('<')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let token = link
        .strip_prefix("http://127.0.0.1:3000/console/set-password?token=")
        .unwrap_or_else(|| panic!("{link}"))
        .to_owned();
    assert!(
        site.get("/console/staff", &admin)
            .await
            .html
            .contains(&email),
        "listed"
    );
    assert_eq!(
        site.send(Method::POST, "/console/staff", &admin, &add)
            .await
            .status,
        StatusCode::CONFLICT
    );
    let bad = [
        ("csrf", csrf.as_str()),
        ("email", "x@y.example"),
        ("role", "root"),
    ];
    assert_eq!(
        site.send(Method::POST, "/console/staff", &admin, &bad)
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let form = site
        .get(&format!("/console/set-password?token={token}"), "")
        .await;
    let pre = form.cookie("fl_login").unwrap().to_owned();
    let done = site
        .send(
            Method::POST,
            "/console/set-password",
            &format!("fl_login={pre}"),
            &[
                ("csrf", &form.hidden("csrf")),
                ("token", &token),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK);
    let agent = site.login(&email).await;
    assert_eq!(
        site.get("/console/staff", &agent).await.status,
        StatusCode::FORBIDDEN,
        "agents do not manage staff"
    );
    let res = site
        .send(
            Method::POST,
            "/console/staff",
            &agent,
            &[
                ("csrf", &site.get("/console/", &agent).await.hidden("csrf")),
                ("email", "x@y.example"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let log = site.store.audit_log(&site.tenant, None, 50).await.unwrap();
    assert!(
        log.iter().any(
            |e| e.action == fanloop_domain::staff::AuditAction::StaffCreated
                && e.staff_id != "test"
        ),
        "the admin's addition is audited"
    );
}
