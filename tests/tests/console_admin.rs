//! Settings and API keys in the console, on both stores: an admin changes a setting with a
//! merge patch (checked as the API checks it, audited with the section before and after), makes
//! a key whose secret is shown once and revokes it; bad input changes nothing; agents and a
//! missing CSRF token are refused.

use axum::http::{Method, StatusCode};
use fanloop_domain::keys::Scope;
use fanloop_domain::staff::{AuditAction, Role};
use fanloop_tests::{Backend, both_stores};

mod console_site;
use console_site::Site;

both_stores!(an_admin_changes_settings_and_manages_keys);

async fn an_admin_changes_settings_and_manages_keys(b: Backend) {
    let site = Site::new(&b).await;
    let admin = site.login(&site.staff("root", Role::Admin).await).await;
    let agent = site.login(&site.staff("mei", Role::Agent).await).await;
    assert_eq!(
        site.get("/console/settings", &agent).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        site.get("/console/keys", &agent).await.status,
        StatusCode::FORBIDDEN
    );
    let page = site.get("/console/settings", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.html.contains("sla_hours"),
        "the current settings are shown"
    );
    let csrf = page.hidden("csrf");
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let site = &site;
        let admin = admin.clone();
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            site.send(Method::POST, &path, &admin, &form).await
        }
    };
    let patch = r#"{"cases": {"sla_hours": {"high": 2}}}"#.to_owned();
    let res = post(
        "/console/settings".into(),
        vec![("csrf", csrf.clone()), ("patch", patch.clone())],
    )
    .await;
    assert_eq!(
        (res.status, res.location.as_str()),
        (StatusCode::SEE_OTHER, "/console/settings")
    );
    let stored = site.store.settings(&site.tenant).await.unwrap().settings;
    assert_eq!(stored.cases.sla_hours.high, 2);
    assert_eq!(stored.cases.sla_hours.normal, 24, "the rest kept");
    for bad in [
        "not json",
        r#"{"cases": {"sla_hours": {"high": 0}}}"#,
        r#"{"nope": 1}"#,
    ] {
        let res = post(
            "/console/settings".into(),
            vec![("csrf", csrf.clone()), ("patch", bad.to_owned())],
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let res = post("/console/settings".into(), vec![("patch", patch.clone())]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "no CSRF token");
    assert_eq!(
        site.store.settings(&site.tenant).await.unwrap().version,
        1,
        "one save"
    );

    let res = post(
        "/console/keys".into(),
        vec![
            ("csrf", csrf.clone()),
            ("name", "game backend".into()),
            ("scope", "ingest".into()),
            ("scope", "read".into()),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.html);
    let marker = "<code id=\"secret\">";
    let at = res.html.find(marker).unwrap() + marker.len();
    let secret = res.html[at..].split('<').next().unwrap().to_owned();
    assert!(secret.starts_with("flk_"), "{secret}");
    let keys = site.store.keys(&site.tenant).await.unwrap();
    let made = keys.iter().find(|k| k.name == "game backend").unwrap();
    assert_eq!(made.scopes, [Scope::Ingest, Scope::Read].into());
    let listed = site.get("/console/keys", &admin).await;
    assert!(
        listed.html.contains("game backend") && !listed.html.contains(&secret),
        "never again"
    );
    let res = post(
        "/console/keys".into(),
        vec![("csrf", csrf.clone()), ("name", "no scope".into())],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let path = format!("/console/keys/{}/revoke", made.key_id);
    let res = post(path, vec![("csrf", csrf.clone())]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let keys = site.store.keys(&site.tenant).await.unwrap();
    assert!(
        keys.iter()
            .find(|k| k.key_id == made.key_id)
            .unwrap()
            .revoked_at
            .is_some()
    );
    let res = post(
        "/console/keys/k_0000000000000000/revoke".into(),
        vec![("csrf", csrf.clone())],
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    let log = site.store.audit_log(&site.tenant, None, 50).await.unwrap();
    let changed = log
        .iter()
        .find(|e| e.action == AuditAction::SettingsChanged)
        .unwrap();
    assert_eq!(
        changed.before.as_ref().unwrap()["cases"]["sla_hours"]["high"],
        4
    );
    assert_eq!(
        changed.after.as_ref().unwrap()["cases"]["sla_hours"]["high"],
        2
    );
    assert_eq!(
        log.iter()
            .filter(|e| e.action == AuditAction::SettingsChanged)
            .count(),
        1
    );
    assert!(log.iter().any(|e| e.action == AuditAction::KeyCreated));
    assert!(log.iter().any(|e| e.action == AuditAction::KeyRevoked
        && e.detail.as_deref() == Some(made.key_id.as_str())));
}
