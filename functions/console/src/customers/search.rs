//! The one search box — by id, e-mail, phone or `platform:external_id` — and the lists by
//! tier, lifecycle stage, RFM segment or tag (50 a page), through the same indexes as
//! `GET /v1/customers` (never a scan).

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use fanloop_domain::lookup::CustomerQuery;
use fanloop_domain::ports::StoreError;
use fanloop_domain::profile::Identity;
use fanloop_domain::{CustomerId, ExternalId, Platform};
use serde_json::json;

use crate::Console;
use crate::auth::{Form, Staff, failure, posting, staff};
use crate::customers::forms::{invalid, invalid_all};

#[derive(serde::Deserialize)]
pub struct SearchQuery {
    /// A list: `tier`, `lifecycle`, `rfm_segment` or `tag`, with `value`, from `after`.
    by: Option<String>,
    value: Option<String>,
    after: Option<String>,
}

/// The fields a list is by.
const LIST_BY: [&str; 4] = ["tier", "lifecycle", "rfm_segment", "tag"];

const LIST_LIMIT: usize = 50;

/// What the one search box found: by id, e-mail, phone, or `platform:external_id`.
async fn find(
    console: &Console,
    s: &Staff,
    q: &str,
) -> Result<Vec<fanloop_domain::Profile>, StoreError> {
    let store = console.state.store.as_ref();
    let tenant = &s.account.tenant;
    if q.contains('@') {
        return match CustomerQuery::parse("email", q) {
            Ok(query) => Ok(store
                .find_customers(tenant, &query, None, LIST_LIMIT)
                .await?
                .customers),
            Err(_) => Ok(vec![]),
        };
    }
    if let Some((platform, id)) = q.split_once(':') {
        let (Ok(platform), Ok(external_id)) = (Platform::parse(platform), ExternalId::parse(id))
        else {
            return Ok(vec![]);
        };
        let identity = Identity {
            platform,
            external_id,
        };
        return match store.customer_for_identity(tenant, &identity).await? {
            Some(c) => Ok(store.profile(tenant, &c).await?.into_iter().collect()),
            None => Ok(vec![]),
        };
    }
    let mut found = Vec::new();
    if let Ok(id) = CustomerId::parse(q)
        && let Some(p) = store.profile(tenant, &id).await?
    {
        found.push(p);
    }
    let phone_like =
        q.starts_with('+') || q.chars().all(|c| c.is_ascii_digit() || " -()".contains(c));
    if phone_like && let Ok(query) = CustomerQuery::parse("phone", q) {
        for p in store
            .find_customers(tenant, &query, None, LIST_LIMIT)
            .await?
            .customers
        {
            if !found.iter().any(|f| f.customer_id == p.customer_id) {
                found.push(p);
            }
        }
    }
    Ok(found)
}

/// `GET /console/`: the search box and the list form, or a list (`by`, `value`, `after`: no
/// personal data, so a link can hold them).
pub async fn search(
    State(console): State<Console>,
    headers: HeaderMap,
    Query(q): Query<SearchQuery>,
) -> Response {
    let s = match staff(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    if let (Some(by), Some(value)) = (q.by.as_deref(), q.value.as_deref()) {
        return list(&console, &s, by, value.trim(), q.after.as_deref()).await;
    }
    results(&console, &s, "", vec![])
}

/// `POST /console/`: the search box's answer. A POST so that the e-mail address or phone
/// number searched for stays out of URLs, browser history and access logs.
pub async fn search_post(
    State(console): State<Console>,
    headers: HeaderMap,
    axum::Form(form): axum::Form<Form>,
) -> Response {
    let s = match posting(&console, &headers, &form).await {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let q = form
        .get("q")
        .map(|q| q.trim())
        .unwrap_or_default()
        .to_owned();
    if q.is_empty() {
        return results(&console, &s, "", vec![]);
    }
    match find(&console, &s, &q).await {
        Ok(found) => results(&console, &s, &q, found),
        Err(e) => failure(&console, s.lang, &e),
    }
}

fn results(
    console: &Console,
    s: &Staff,
    q: &str,
    customers: Vec<fanloop_domain::Profile>,
) -> Response {
    let mut ctx = s.context();
    ctx["q"] = json!(q);
    ctx["searched"] = json!(!q.is_empty());
    ctx["customers"] = json!(customers);
    ctx["list_by"] = json!(LIST_BY);
    console
        .templates
        .page(StatusCode::OK, "search.html", s.lang, ctx)
}

/// One page of the customers in a tier, lifecycle stage, RFM segment or with a tag.
async fn list(
    console: &Console,
    s: &Staff,
    by: &str,
    value: &str,
    after: Option<&str>,
) -> Response {
    if !LIST_BY.contains(&by) {
        return invalid(
            console,
            s,
            "by",
            "must be tier, lifecycle, rfm_segment or tag",
        );
    }
    let query = match CustomerQuery::parse(by, value) {
        Ok(q) => q,
        Err(e) => return invalid_all(console, s, &e),
    };
    let after = after.and_then(|a| CustomerId::parse(a).ok());
    let page = match console
        .state
        .store
        .find_customers(&s.account.tenant, &query, after.as_ref(), LIST_LIMIT)
        .await
    {
        Ok(p) => p,
        Err(e) => return failure(console, s.lang, &e),
    };
    let mut ctx = s.context();
    ctx["searched"] = json!(true);
    ctx["customers"] = json!(page.customers);
    ctx["list_by"] = json!(LIST_BY);
    ctx["by"] = json!(by);
    ctx["value"] = json!(value);
    ctx["next"] = json!(page.next.as_ref().map(|c| c.as_str()));
    console
        .templates
        .page(StatusCode::OK, "search.html", s.lang, ctx)
}
