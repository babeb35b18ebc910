//! Campaigns over HTTP on both stores: the whole loop a customer sees (consent → birthday run →
//! `.eml` in the outbox → coupon valid → one-click unsubscribe → no more mail), and bad input
//! answered with problem+json while nothing is sent or written.

use axum::http::{Method, StatusCode};
use fanloop_tests::{
    Backend, Reply, TestApp, both_stores, mail_header, mail_text, outbox_files, ts,
};
use serde_json::json;

both_stores!(
    birthday_mail_to_unsubscribe_over_http,
    bad_campaign_input_changes_nothing
);

fn assert_problem(r: &Reply, status: u16, slug: &str) {
    r.assert_problem(status, slug)
}

async fn birthday_mail_to_unsubscribe_over_http(b: Backend) {
    let app = TestApp::new(b).await;
    // 08:00Z on 22 November is 16:00 in Shanghai: today's 10:00 send is due.
    let r = app
        .put("/v1/settings", json!({"timezone": "Asia/Shanghai", "brand": {"name": "Star Arena", "url": "https://star-arena.example"}}))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let r = app
        .put(
            "/v1/customers/p1",
            json!({"email": "li.wei@example.com", "display_name": "李伟", "locale": "zh-CN",
                   "birthday": "1998-11-22", "consent": {"email_marketing": true}}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED);
    app.put("/v1/customers/p2", json!({"email": "sam@example.com", "locale": "en-GB", "birthday": "--11-22", "consent": {"email_marketing": true}}))
        .await;

    let dry = app
        .post("/v1/campaigns/birthday/runs", json!({"dry_run": true}))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.body);
    assert_eq!(dry.body["recipients"].as_array().unwrap().len(), 2);
    assert!(outbox_files(&app.outbox).is_empty());

    let run = app.post("/v1/campaigns/birthday/runs", json!({})).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    assert_eq!(
        (run.body["candidates"].as_u64(), run.body["sent"].as_u64()),
        (Some(2), Some(2))
    );

    let log = app.get("/v1/customers/p1/messages").await;
    assert_eq!(log.status, StatusCode::OK);
    let m = &log.body["messages"][0];
    assert_eq!(
        (
            m["campaign"].as_str(),
            m["status"].as_str(),
            m["template"].as_str()
        ),
        (Some("birthday"), Some("sent"), Some("birthday/zh-CN"))
    );
    assert_eq!(m["provider"], "outbox");
    let code = m["coupon"].as_str().unwrap().to_owned();
    assert!(m["subject"].as_str().unwrap().contains("李伟"));

    let files = outbox_files(&app.outbox);
    assert_eq!(files.len(), 2);
    let (name, raw) = files
        .iter()
        .find(|(n, _)| n.starts_with(m["id"].as_str().unwrap()))
        .unwrap();
    assert_eq!(m["provider_message_id"].as_str(), Some(name.as_str()));
    let body = mail_text(raw);
    assert!(
        body.contains("生日快乐") && body.contains("李伟") && body.contains(&code),
        "{body}"
    );
    assert!(body.contains("Star Arena") && body.contains("5.00 USD"));
    assert!(mail_header(raw, "Subject").unwrap().starts_with("=?utf-8?"));
    assert_eq!(
        mail_header(raw, "List-Unsubscribe-Post").as_deref(),
        Some("List-Unsubscribe=One-Click")
    );
    let link = mail_header(raw, "List-Unsubscribe").unwrap();
    let url = link.trim_start_matches('<').trim_end_matches('>');
    assert!(
        url.starts_with("https://fanloop.test/unsubscribe/v1."),
        "{url}"
    );
    assert!(body.contains(url), "the visible link is the header's");
    let english = &files.iter().find(|(n, _)| n != name).unwrap().1;
    assert!(mail_text(english).contains("Happy birthday"));

    // The coupon is real and bound to the customer.
    let c = app.get(&format!("/v1/coupons/{code}")).await;
    assert_eq!(
        (c.status, c.body["customer_id"].as_str()),
        (StatusCode::OK, Some("p1"))
    );

    // One click, as a mail client does it: POST to the header's URL, no API key.
    let path = url.trim_start_matches("https://fanloop.test");
    let page = app.send(Method::GET, path, None, vec![], None).await;
    assert_eq!(page.status, StatusCode::OK);
    let p = app.get("/v1/customers/p1").await;
    assert_eq!(
        p.body["consent"]["email_marketing"]["granted"], true,
        "a GET changes nothing"
    );
    for _ in 0..2 {
        let r = app
            .send(
                Method::POST,
                path,
                Some("application/x-www-form-urlencoded"),
                b"List-Unsubscribe=One-Click".to_vec(),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let p = app.get("/v1/customers/p1").await;
    assert_eq!(p.body["consent"]["email_marketing"]["granted"], false);
    assert_eq!(
        p.body["consent"]["email_marketing"]["source"],
        "unsubscribe"
    );

    // A year later p1 gets nothing; p2 still does.
    app.clock.set(ts("2027-11-22T08:00:00Z"));
    let run = app.post("/v1/campaigns/birthday/runs", json!({})).await;
    assert_eq!(
        (
            run.body["sent"].as_u64(),
            run.body["skipped"]["no_consent"].as_u64()
        ),
        (Some(1), Some(1)),
        "{}",
        run.body
    );
    assert_eq!(
        app.get("/v1/customers/p1/messages").await.body["messages"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // The export carries the log.
    let export = app.get("/v1/customers/p2/export").await;
    assert_eq!(export.body["messages"].as_array().unwrap().len(), 2);
}

async fn bad_campaign_input_changes_nothing(b: Backend) {
    let app = TestApp::new(b).await;
    app.put("/v1/customers/p1", json!({"email": "a@example.com", "birthday": "--11-22", "consent": {"email_marketing": true}}))
        .await;
    assert_problem(
        &app.post("/v1/campaigns/newsletter/runs", json!({})).await,
        404,
        "not-found",
    );
    let r = app
        .post(
            "/v1/campaigns/birthday/runs",
            json!({"as_of": "2026-11-22T09:00:00Z"}),
        )
        .await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(r.body["errors"][0]["field"], "as_of");
    let r = app
        .post(
            "/v1/campaigns/birthday/runs",
            json!({"as_of": "yesterday", "dry_run": "yes", "force": true}),
        )
        .await;
    assert_problem(&r, 422, "validation-error");
    let mut f: Vec<&str> = r.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    f.sort();
    assert_eq!(f, ["as_of", "dry_run", "force"]);
    let r = app
        .send(
            Method::POST,
            "/v1/campaigns/birthday/runs",
            Some("application/json"),
            b"{".to_vec(),
            Some(&app.key),
        )
        .await;
    assert_problem(&r, 400, "malformed-json");
    let r = app
        .send(
            Method::POST,
            "/v1/campaigns/birthday/runs",
            Some("application/json"),
            b"{}".to_vec(),
            None,
        )
        .await;
    assert_problem(&r, 401, "unauthorized");
    assert_problem(
        &app.get("/v1/customers/nobody/messages").await,
        404,
        "not-found",
    );
    assert!(outbox_files(&app.outbox).is_empty());
    assert_eq!(
        app.get("/v1/customers/p1/messages").await.body["messages"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    // A template that does not render is refused when saved, and nothing is saved.
    let r = app
        .put(
            "/v1/settings",
            json!({"campaigns": {"birthday": {"templates": {"en": {"subject": "Hi {{ nmae }}"}}}}}),
        )
        .await;
    assert_problem(&r, 422, "validation-error");
    assert_eq!(
        r.body["errors"][0]["field"],
        "campaigns.birthday.templates.en.subject"
    );
    assert!(
        app.get("/v1/settings").await.body["campaigns"]["birthday"]["templates"]
            .as_object()
            .unwrap()
            .is_empty()
    );
    let r = app.put("/v1/settings", json!({"campaigns": {"send_hour": 24, "winback": {"value_minor_by_tier": {"gold": 5}}}})).await;
    assert_problem(&r, 422, "validation-error");

    // Tampered and foreign tokens: 404, consent unchanged.
    let url = app.campaigns.unsubscribe_url(
        &app.tenant,
        &fanloop_domain::CustomerId::parse("p1").unwrap(),
    );
    let path = url.trim_start_matches("https://fanloop.test").to_owned();
    let mut tampered = path.clone().into_bytes();
    let i = tampered.len() - 3;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for p in [
        tampered.as_str(),
        "/unsubscribe/v1.abc.def",
        "/unsubscribe/nonsense",
    ] {
        assert_problem(
            &app.send(Method::POST, p, None, vec![], None).await,
            404,
            "not-found",
        );
        assert_problem(
            &app.send(Method::GET, p, None, vec![], None).await,
            404,
            "not-found",
        );
    }
    let p = app.get("/v1/customers/p1").await;
    assert_eq!(p.body["consent"]["email_marketing"]["granted"], true);
    // A genuine token for a customer erased since: 404.
    assert_eq!(
        app.json(Method::DELETE, "/v1/customers/p1", None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_problem(
        &app.send(Method::POST, &path, None, vec![], None).await,
        404,
        "not-found",
    );
    assert_eq!(
        app.get("/v1/customers/p1").await.status,
        StatusCode::NOT_FOUND,
        "unsubscribe never creates a customer"
    );
}
