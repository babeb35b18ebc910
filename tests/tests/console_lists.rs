//! The console's customer lists on both stores: by tag in pages of 50 (each customer once),
//! by lifecycle stage, and bad list requests refused.

use axum::http::StatusCode;
use fanloop_domain::staff::Role;
use fanloop_tests::{Backend, both_stores};
use serde_json::json;

mod console_site;
use console_site::Site;

both_stores!(staff_list_customers_by_tag_and_stage_in_pages);

async fn staff_list_customers_by_tag_and_stage_in_pages(b: Backend) {
    let site = Site::new(&b).await;
    for i in 0..55 {
        site.customer(&format!("vip-{i:02}"), json!({"tags": ["vip"]}))
            .await;
    }
    site.customer("plain", json!({"tags": ["casual"]})).await;
    let viewer = site.login(&site.staff("vic", Role::Viewer).await).await;
    let first = site.get("/console/?by=tag&value=vip", &viewer).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.html);
    let ids = |html: &str| -> Vec<String> {
        html.match_indices("<td><a href=\"/console/customers/")
            .map(|(i, m)| html[i + m.len()..].split('"').next().unwrap().to_owned())
            .collect()
    };
    let page1 = ids(&first.html);
    assert_eq!(page1.len(), 50);
    let marker = "after=";
    let at = first.html.find(marker).expect("a link to the next page") + marker.len();
    let after = first.html[at..].split('"').next().unwrap();
    let second = site
        .get(
            &format!("/console/?by=tag&value=vip&after={after}"),
            &viewer,
        )
        .await;
    let page2 = ids(&second.html);
    assert_eq!(page2.len(), 5);
    let mut all: Vec<_> = page1.into_iter().chain(page2).collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 55, "each customer once");
    assert!(!all.contains(&"plain".to_owned()));
    let stage = site
        .get("/console/?by=lifecycle&value=acquisition", &viewer)
        .await;
    assert_eq!(stage.status, StatusCode::OK);
    for bad in [
        "/console/?by=lifecycle&value=teenage",
        "/console/?by=email&value=a@b.example",
        "/console/?by=tag&value=no%20spaces",
    ] {
        assert_eq!(
            site.get(bad, &viewer).await.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }
}
