//! Staff management in the console, on both stores: an admin changes a member's role (in force
//! at the member's next request), removes them (their session ends, their password no longer
//! logs in) and sends a new link that brings them back; an admin cannot change their own
//! account, another tenant's member is not found, and each change is audited.

use axum::http::{Method, StatusCode};
use fanloop_domain::staff::{AuditAction, Role, login_key};
use fanloop_domain::values::Email;
use fanloop_tests::{Backend, both_stores};
use serde_json::json;

mod console_site;
use console_site::{PASSWORD, Site};

both_stores!(an_admin_changes_a_role_removes_and_brings_back_a_member);

async fn staff_id(site: &Site, email: &str) -> String {
    site.store
        .staff_by_login(&login_key(&Email::parse(email).unwrap()))
        .await
        .unwrap()
        .unwrap()
        .staff_id
}

async fn change(site: &Site, admin: &str, id: &str, form: &[(&str, &str)]) -> console_site::Page {
    let csrf = site.get("/console/staff", admin).await.hidden("csrf");
    let mut body = vec![("csrf", csrf.as_str())];
    body.extend_from_slice(form);
    site.send(Method::POST, &format!("/console/staff/{id}"), admin, &body)
        .await
}

async fn an_admin_changes_a_role_removes_and_brings_back_a_member(b: Backend) {
    let site = Site::new(&b).await;
    site.customer("c-1", json!({"phone": "+8613800138000"}))
        .await;
    let admin_email = site.staff("root", Role::Admin).await;
    let admin = site.login(&admin_email).await;
    let agent_email = site.staff("mei", Role::Agent).await;
    let agent = site.login(&agent_email).await;
    let id = staff_id(&site, &agent_email).await;
    let form = |html: &str| html.contains("/console/customers/c-1/phone");
    assert!(form(&site.get("/console/customers/c-1", &agent).await.html));

    let res = change(&site, &admin, &id, &[("op", "role"), ("role", "viewer")]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.html);
    let page = site.get("/console/customers/c-1", &agent).await;
    assert_eq!(page.status, StatusCode::OK, "the session goes on");
    assert!(!form(&page.html), "as a viewer from the next request");
    let res = change(&site, &admin, &id, &[("op", "role"), ("role", "root")]).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);

    let res = change(&site, &admin, &id, &[("op", "remove")]).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.html.contains("removed"));
    let gone = site.get("/console/customers/c-1", &agent).await;
    assert_eq!(
        (gone.status, gone.location.as_str()),
        (StatusCode::SEE_OTHER, "/console/login"),
        "the session ended"
    );
    let again = site.login_attempt(&agent_email, PASSWORD, "").await;
    assert_ne!(
        again.status,
        StatusCode::SEE_OTHER,
        "the password no longer logs in"
    );

    let res = change(&site, &admin, &id, &[("op", "reinvite")]).await;
    let marker = "<code id=\"link\">";
    let at = res
        .html
        .find(marker)
        .unwrap_or_else(|| panic!("{}", res.html))
        + marker.len();
    let link = res.html[at..]
        .split('<')
        .next()
        .unwrap()
        .replace("&#x2f;", "/");
    let token = link
        .strip_prefix("http://127.0.0.1:3000/console/set-password?token=")
        .unwrap()
        .to_owned();
    let setp = site
        .get(&format!("/console/set-password?token={token}"), "")
        .await;
    let pre = setp.cookie("fl_login").unwrap().to_owned();
    let done = site
        .send(
            Method::POST,
            "/console/set-password",
            &format!("fl_login={pre}"),
            &[
                ("csrf", &setp.hidden("csrf")),
                ("token", &token),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.html);
    let back = site.login(&agent_email).await;
    assert_eq!(
        site.get("/console/", &back).await.status,
        StatusCode::OK,
        "back, as a viewer"
    );

    let me = staff_id(&site, &admin_email).await;
    let res = change(&site, &admin, &me, &[("op", "role"), ("role", "viewer")]).await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not one's own account"
    );
    let elsewhere = Site::new(&b).await;
    let stranger = staff_id(&elsewhere, &elsewhere.staff("other", Role::Agent).await).await;
    let res = change(&site, &admin, &stranger, &[("op", "remove")]).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "another tenant's member");
    let agent_res = change(&site, &back, &me, &[("op", "remove")]).await;
    assert_eq!(
        agent_res.status,
        StatusCode::FORBIDDEN,
        "a viewer manages no one"
    );

    let log = site.store.audit_log(&site.tenant, None, 50).await.unwrap();
    let changes: Vec<_> = log
        .iter()
        .filter(|e| e.action == AuditAction::StaffChanged)
        .collect();
    assert_eq!(changes.len(), 3, "role, removal, new link");
    let removal = changes
        .iter()
        .find(|e| e.after.as_ref().unwrap()["removed"] == true)
        .unwrap();
    assert_eq!(removal.before.as_ref().unwrap()["removed"], false);
    assert_eq!(removal.detail.as_deref(), Some(id.as_str()));
}
