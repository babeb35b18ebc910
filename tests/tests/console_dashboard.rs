//! The console's dashboard on both stores: the NPS of a seeded week (the figure, the daily
//! line and its table, NPS by tier), charts whose data is not there yet are absent rather than
//! drawn as zeros, SVG without script or inline style, and bad input refused.

use axum::http::StatusCode;
use fanloop_domain::staff::Role;
use fanloop_domain::surveys::{ResponseInput, Segment, SurveyId, SurveyResponse};
use fanloop_domain::{Clock, TenantSettings};
use fanloop_tests::{Backend, TestApp, both_stores, ts};
use serde_json::json;

mod console_site;
use console_site::Site;

both_stores!(
    a_broadcasts_funnel_and_lift_are_drawn_from_its_report,
    the_dashboard_shows_the_nps_of_a_seeded_week,
    missing_data_is_absent_and_bad_input_refused
);

/// Five answers from 16 to 20 November: 10, 9, 9 (promoters), 8 (passive), 3 (detractor) —
/// an NPS of (3 − 1) / 5 = 40.
async fn seed_week(site: &Site) {
    let settings = TenantSettings::default();
    let gold = settings.points.tiers.last().unwrap().name.clone();
    for (i, (nps, day)) in [(10, 16), (9, 17), (9, 18), (8, 19), (3, 20)]
        .into_iter()
        .enumerate()
    {
        let at = ts(&format!("2026-11-{day}T12:00:00Z"));
        let input = ResponseInput::from_json(
            json!({"response_id": format!("w-{i}"), "nps": nps, "submitted_at": fanloop_domain::time::format(at)}),
            "",
            site.clock.now(),
            false,
        )
        .unwrap()
        .1;
        let segment = Some(Segment {
            tier: gold.clone(),
            stage: fanloop_domain::lifecycle::Stage::Growth,
        });
        let r = SurveyResponse::new(
            SurveyId::parse("nps-week").unwrap(),
            input,
            segment,
            &jiff::tz::TimeZone::UTC,
            site.clock.now(),
            || format!("01JWEEK{i:019}"),
        );
        site.store.record_response(&site.tenant, &r).await.unwrap();
    }
}

async fn the_dashboard_shows_the_nps_of_a_seeded_week(b: Backend) {
    let site = Site::new(&b).await;
    seed_week(&site).await;
    let viewer = site.login(&site.staff("vic", Role::Viewer).await).await;
    let page = site
        .get(
            "/console/dashboard?survey=nps-week&from=2026-11-16&to=2026-11-22",
            &viewer,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        page.html.contains("<strong id=\"nps-value\">40</strong>"),
        "{}",
        page.html
    );
    let trend = page
        .html
        .find("id=\"table-nps-trend\"")
        .expect("the NPS table");
    let table = &page.html[trend..];
    assert!(
        table.contains("<th scope=\"row\">2026-11-16</th><td>100</td>"),
        "one promoter"
    );
    assert!(
        table.contains("<th scope=\"row\">2026-11-20</th><td>-100</td>"),
        "one detractor"
    );
    assert!(
        table.contains("<th scope=\"row\">2026-11-21</th><td>–</td>"),
        "no answers"
    );
    assert!(page.html.contains("id=\"table-nps-tier\""));
    let svgs = page.html.matches("<svg aria-hidden=\"true\"").count();
    assert!(
        svgs >= 3,
        "NPS by day, CSAT is absent, NPS by tier and stage: {svgs}"
    );
    assert!(!page.html.contains("<script"));
    assert!(!page.html.contains(" style="));
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'"), "{csp}");
}

async fn missing_data_is_absent_and_bad_input_refused(b: Backend) {
    let site = Site::new(&b).await;
    let agent = site.login(&site.staff("amy", Role::Agent).await).await;
    let page = site.get("/console/dashboard", &agent).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    assert!(
        !page.html.contains("<svg"),
        "nothing to draw on a new tenant"
    );
    // Points, liability, tiers and stages (no snapshot yet), revenue, top items, top
    // streamers: each says so.
    assert_eq!(
        page.html.matches("class=\"no-data\"").count(),
        7,
        "{}",
        page.html
    );
    assert!(
        !page.html.contains("id=\"nps-value\""),
        "no survey asked for"
    );
    let bad = site.get("/console/dashboard?from=2026-13-01", &agent).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = site
        .get("/console/dashboard?campaign=no-such-campaign", &agent)
        .await;
    assert_eq!(unknown.status, StatusCode::OK);
    assert!(unknown.html.contains("h-campaign-charts") && unknown.html.contains("Not found."));
    let list = site.get("/console/campaigns", &agent).await;
    assert_eq!(list.status, StatusCode::OK);
    for builtin in ["birthday", "winback", "recovery"] {
        assert!(
            list.html
                .contains(&format!("/console/dashboard?campaign={builtin}")),
            "{builtin} links to its funnel"
        );
    }
    let funnel = site
        .get("/console/dashboard?campaign=birthday", &agent)
        .await;
    assert!(funnel.html.contains("h-campaign-charts"), "{}", funnel.html);
    assert!(
        funnel.html.contains("id=\"lift\""),
        "a known campaign has its lift line"
    );
    let zh = site.get("/console/dashboard?survey=nps-week", &agent).await;
    assert!(zh.html.contains("区间 NPS") || zh.html.contains("NPS over the range"));
}

/// A broadcast to 20 fans with a 30 % control group, run through the API: the dashboard's
/// funnel has the report's figures and the lift line its shares.
async fn a_broadcasts_funnel_and_lift_are_drawn_from_its_report(b: Backend) {
    let app = TestApp::new(b).await;
    for i in 0..20 {
        let body = json!({"email": format!("fan{i}@example.com"), "tags": ["fan"],
                          "consent": {"email_marketing": true}});
        let r = app.put(&format!("/v1/customers/fan-{i:02}"), body).await;
        assert!(r.status.is_success(), "{}", r.body);
    }
    let def = json!({"campaign_id": "spring", "name": "Spring sale", "status": "active",
        "trigger": {"type": "broadcast", "at": "2027-02-10T10:00"},
        "audience": {"filter": {"field": "tags", "op": "contains", "value": "fan"}},
        "holdout_percent": 30,
        "templates": {"en": {"subject": "Spring", "html": "<p>Hi</p>", "text": "Hi"}}});
    let r = app.post("/v1/campaigns", def).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    app.run_campaign("spring", "2027-02-10T10:00:00Z").await;
    let report = app
        .get("/v1/campaigns/spring/report?from=2027-02-10&to=2027-02-10")
        .await;
    let (sent, held) = (
        &report.body["totals"]["sent"],
        &report.body["totals"]["held_out"],
    );
    assert!(
        sent.as_u64().unwrap() > 0 && held.as_u64().unwrap() > 0,
        "{}",
        report.body
    );
    let state = fanloop_http::AppState::new(
        app.backend.store(),
        app.clock.clone() as std::sync::Arc<dyn fanloop_domain::Clock>,
    );
    let site = Site {
        router: fanloop_console::router(fanloop_console::Console::new(
            state,
            "http://127.0.0.1:3000",
        )),
        clock: app.clock.clone(),
        store: app.backend.store(),
        tenant: app.tenant.clone(),
    };
    let viewer = site.login(&site.staff("vic", Role::Viewer).await).await;
    let page = site
        .get(
            "/console/dashboard?campaign=spring&from=2027-02-10&to=2027-02-10",
            &viewer,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.html);
    let at = page
        .html
        .find("id=\"table-funnel\"")
        .expect("the funnel is drawn");
    let table = &page.html[at..];
    assert!(
        table.contains(&format!("<th scope=\"row\">sent</th><td>{sent}</td>")),
        "{table}"
    );
    assert!(table.contains(&format!("<th scope=\"row\">held_out</th><td>{held}</td>")));
    assert!(table.contains("<th scope=\"row\">eligible</th><td>20</td>"));
    assert!(page.html.contains("id=\"lift\""));
}
