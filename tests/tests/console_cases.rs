//! The case queue in the console, on both stores: a detractor's answer opens a case that shows
//! in the queue (overdue once past its SLA), an agent assigns, notes, parks and resolves it
//! (its follow-up closes with it, each step audited), a viewer reads but cannot work it,
//! staff open a case from the customer page (once per form), free text renders as text, and
//! the agent's points limit is the tenant's setting.

use axum::http::{Method, StatusCode};
use fanloop_domain::cases::{CaseStatus, CaseView};
use fanloop_domain::staff::Role;
use fanloop_domain::surveys::{FollowUpStatus, ResponseInput, SurveyId, SurveyResponse};
use fanloop_domain::{Clock, CustomerId, TenantSettings};
use fanloop_tests::{Backend, both_stores};
use jiff::SignedDuration;
use serde_json::json;

mod console_site;
use console_site::Site;

both_stores!(
    a_detractor_answer_becomes_a_case_an_agent_works_to_resolution,
    a_viewer_reads_cases_but_cannot_work_them,
    staff_open_a_case_from_the_customer_page_once,
    the_agent_points_limit_is_the_tenants_setting,
);

const FOLLOWUP: &str = "01JCASEFOLLOWUP000000000000";

/// What `POST /v1/surveys/nps/responses` does with a detractor's answer: the response, then
/// its follow-up's case.
async fn detractor(site: &Site, c: &CustomerId) {
    let input = ResponseInput::from_json(
        json!({"response_id": "r-angry", "customer_id": c.as_str(), "nps": 2,
               "comment": "<b>Lag</b> every evening"}),
        "",
        site.clock.now(),
        false,
    )
    .unwrap()
    .1;
    let r = SurveyResponse::new(
        SurveyId::parse("nps").unwrap(),
        input,
        None,
        &jiff::tz::TimeZone::UTC,
        site.clock.now(),
        || FOLLOWUP.into(),
    );
    site.store.record_response(&site.tenant, &r).await.unwrap();
    fanloop_services::cases::open_followup_case(
        site.store.as_ref(),
        &TenantSettings::default(),
        &site.tenant,
        &r,
    )
    .await
    .unwrap();
}

async fn work(site: &Site, cookie: &str, op: &[(&str, &str)]) -> StatusCode {
    let page = site
        .get(&format!("/console/cases/{FOLLOWUP}"), cookie)
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let (csrf, request) = (page.hidden("csrf"), page.hidden("request_id"));
    let mut form = vec![("csrf", csrf.as_str()), ("request_id", request.as_str())];
    form.extend_from_slice(op);
    let res = site
        .send(
            Method::POST,
            &format!("/console/cases/{FOLLOWUP}"),
            cookie,
            &form,
        )
        .await;
    if res.status == StatusCode::SEE_OTHER {
        assert_eq!(res.location, format!("/console/cases/{FOLLOWUP}"));
    }
    res.status
}

async fn a_detractor_answer_becomes_a_case_an_agent_works_to_resolution(b: Backend) {
    let site = Site::new(&b).await;
    let c = site
        .customer("unhappy-1", json!({"email": "u1@example.com"}))
        .await;
    detractor(&site, &c).await;
    let agent_email = site.staff("mei", Role::Agent).await;
    let agent = site.login(&agent_email).await;
    let queue = site.get("/console/cases", &agent).await;
    assert_eq!(queue.status, StatusCode::OK);
    assert!(queue.html.contains("NPS 2 · nps"), "{}", queue.html);
    assert!(!queue.html.contains("class=\"overdue\""), "not due yet");
    // Past the normal SLA (24 h) it is overdue.
    site.clock.advance(SignedDuration::from_hours(25));
    let agent = site.login(&agent_email).await;
    let queue = site.get("/console/cases", &agent).await;
    assert!(queue.html.contains("class=\"overdue\""), "{}", queue.html);
    let page = site
        .get(&format!("/console/cases/{FOLLOWUP}"), &agent)
        .await;
    assert!(
        page.html
            .contains("&lt;b&gt;Lag&lt;&#x2f;b&gt; every evening"),
        "{}",
        page.html
    );

    assert_eq!(
        work(&site, &agent, &[("op", "assign"), ("assignee", "me")]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        work(
            &site,
            &agent,
            &[("op", "note"), ("note", "Called, will check the servers")]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        work(&site, &agent, &[("op", "status"), ("status", "pending")]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        work(&site, &agent, &[("op", "priority"), ("priority", "high")]).await,
        StatusCode::SEE_OTHER
    );
    let page = site
        .get(&format!("/console/cases/{FOLLOWUP}"), &agent)
        .await;
    assert!(
        page.html
            .contains(&format!("<dd id=\"case-assignee\">{}</dd>", agent_email))
    );
    assert!(page.html.contains("<dd id=\"case-status\">pending</dd>"));
    assert!(page.html.contains("<dd id=\"case-priority\">high</dd>"));
    assert!(page.html.contains("Called, will check the servers"));
    let mine = site.get("/console/cases?mine=1", &agent).await;
    assert!(mine.html.contains("NPS 2 · nps"));
    // Bad work changes nothing.
    assert_eq!(
        work(&site, &agent, &[("op", "status"), ("status", "resolved")]).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        work(&site, &agent, &[("op", "resolve"), ("resolution", "  ")]).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        work(
            &site,
            &agent,
            &[("op", "assign"), ("assignee", "someone-else")]
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        work(&site, &agent, &[("op", "explode")]).await,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    assert_eq!(
        work(
            &site,
            &agent,
            &[
                ("op", "resolve"),
                ("resolution", "Moved them to the new region")
            ]
        )
        .await,
        StatusCode::SEE_OTHER
    );
    let k = site
        .store
        .case(&site.tenant, FOLLOWUP)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(k.status, CaseStatus::Resolved);
    assert_eq!(k.notes.len(), 1);
    let f = site
        .store
        .followup(&site.tenant, FOLLOWUP)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        f.status,
        FollowUpStatus::Closed,
        "the follow-up closed with it"
    );
    assert_eq!(f.note.as_deref(), Some("Moved them to the new region"));
    let queue = site.get("/console/cases", &agent).await;
    assert!(!queue.html.contains("NPS 2 · nps"), "it left the queue");
    let resolved = site.get("/console/cases?view=resolved", &agent).await;
    assert!(resolved.html.contains("NPS 2 · nps"));
    let customer = site.get("/console/customers/unhappy-1", &agent).await;
    assert!(
        customer
            .html
            .contains(&format!("/console/cases/{FOLLOWUP}")),
        "on the customer page"
    );

    let admin = site.login(&site.staff("boss", Role::Admin).await).await;
    let log = site.get("/console/audit", &admin).await;
    assert_eq!(
        log.html.matches("case_updated").count(),
        5,
        "assign, note, status, priority, resolve"
    );
    assert!(log.html.contains(&format!("{FOLLOWUP} resolve")));
}

async fn a_viewer_reads_cases_but_cannot_work_them(b: Backend) {
    let site = Site::new(&b).await;
    let c = site.customer("unhappy-2", json!({})).await;
    detractor(&site, &c).await;
    let viewer = site.login(&site.staff("vic", Role::Viewer).await).await;
    let page = site
        .get(&format!("/console/cases/{FOLLOWUP}"), &viewer)
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.html.contains("name=\"op\""),
        "no work forms for a viewer"
    );
    let csrf = page.hidden("csrf");
    let res = site
        .send(
            Method::POST,
            &format!("/console/cases/{FOLLOWUP}"),
            &viewer,
            &[
                ("csrf", &csrf),
                ("request_id", "r1"),
                ("op", "resolve"),
                ("resolution", "x"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let agent = site.login(&site.staff("amy", Role::Agent).await).await;
    let res = site
        .send(
            Method::POST,
            &format!("/console/cases/{FOLLOWUP}"),
            &agent,
            &[
                ("csrf", "forged"),
                ("request_id", "r1"),
                ("op", "resolve"),
                ("resolution", "x"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "a wrong CSRF token");
    let k = site
        .store
        .case(&site.tenant, FOLLOWUP)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (k.status, k.version),
        (CaseStatus::Open, 1),
        "nothing changed"
    );
    assert_eq!(
        site.get("/console/cases/no%20such", &agent).await.status,
        StatusCode::NOT_FOUND
    );
}

async fn staff_open_a_case_from_the_customer_page_once(b: Backend) {
    let site = Site::new(&b).await;
    site.customer("vip-9", json!({"email": "vip@example.com"}))
        .await;
    let agent = site.login(&site.staff("mei", Role::Agent).await).await;
    let page = site.get("/console/customers/vip-9", &agent).await;
    let (csrf, request) = (page.hidden("csrf"), {
        let marker = "action=\"/console/customers/vip-9/cases\"";
        let at = page.html.find(marker).expect("the open-case form");
        let tail = &page.html[at..];
        let m = "name=\"request_id\" value=\"";
        let s = tail.find(m).unwrap() + m.len();
        tail[s..].split('"').next().unwrap().to_owned()
    });
    let form = [
        ("csrf", csrf.as_str()),
        ("request_id", request.as_str()),
        ("kind", "complaint"),
        ("subject", "<script>alert(1)</script> refund"),
        ("description", "Paid twice"),
        ("priority", ""),
    ];
    for _ in 0..2 {
        let res = site
            .send(
                Method::POST,
                "/console/customers/vip-9/cases",
                &agent,
                &form,
            )
            .await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.html);
        assert_eq!(res.location, format!("/console/cases/{request}"));
    }
    let open = site
        .store
        .cases(&site.tenant, CaseView::Active, None, 10)
        .await
        .unwrap();
    assert_eq!(open.len(), 1, "a resubmitted form opens one case");
    assert!(matches!(
        open[0].opened_by,
        fanloop_domain::cases::CaseAuthor::Staff { .. }
    ));
    assert_eq!(open[0].description.as_deref(), Some("Paid twice"));
    let page = site.get(&format!("/console/cases/{request}"), &agent).await;
    assert!(
        page.html
            .contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt; refund")
    );
    assert!(!page.html.contains("<script>"));
    let bad = site
        .send(
            Method::POST,
            "/console/customers/vip-9/cases",
            &agent,
            &[
                ("csrf", &csrf),
                ("request_id", "r-2"),
                ("kind", "praise"),
                ("subject", ""),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        site.store
            .cases(&site.tenant, CaseView::Active, None, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}

async fn the_agent_points_limit_is_the_tenants_setting(b: Backend) {
    let site = Site::new(&b).await;
    site.customer("limit-1", json!({})).await;
    let cur = site.store.settings(&site.tenant).await.unwrap();
    let merged = cur
        .settings
        .merged(json!({"console": {"agent_adjust_limit": 100}}))
        .unwrap();
    site.store
        .put_settings(&site.tenant, &merged, cur.version)
        .await
        .unwrap();
    let agent = site.login(&site.staff("mei", Role::Agent).await).await;
    let adjust = |points: &'static str| {
        let (site, agent) = (&site, &agent);
        async move {
            let page = site.get("/console/customers/limit-1", agent).await;
            let marker = "action=\"/console/customers/limit-1/points\"";
            let tail = &page.html[page.html.find(marker).unwrap()..];
            let m = "name=\"request_id\" value=\"";
            let s = tail.find(m).unwrap() + m.len();
            let request = tail[s..].split('"').next().unwrap().to_owned();
            site.send(
                Method::POST,
                "/console/customers/limit-1/points",
                agent,
                &[
                    ("csrf", &page.hidden("csrf")),
                    ("request_id", &request),
                    ("points", points),
                    ("reason", "goodwill"),
                ],
            )
            .await
            .status
        }
    };
    assert_eq!(
        adjust("150").await,
        StatusCode::FORBIDDEN,
        "over the tenant's 100"
    );
    assert_eq!(adjust("100").await, StatusCode::SEE_OTHER);
    let c = CustomerId::parse("limit-1").unwrap();
    let acct = site.store.account(&site.tenant, &c).await.unwrap().unwrap();
    assert_eq!(
        acct.account
            .view(
                &TenantSettings::default().points,
                site.clock.now(),
                &jiff::tz::TimeZone::UTC
            )
            .balance,
        100
    );
}
