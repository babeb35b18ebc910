//! `GET /v1/customers?email=|phone=|identity=|tag=|tier=|lifecycle=|rfm_segment=`: find
//! customers for staff tools, from indexes (rules: [`fanloop_domain::lookup`]), never a scan.

use axum::Json;
use axum::extract::State;
use fanloop_domain::lookup::CustomerQuery;
use fanloop_domain::profile::{Identity, Profile};
use fanloop_domain::{CustomerId, ExternalId, Platform};
use fanloop_http::{ApiError, AppState, AuthTenant, PageQuery, Problem, QueryParams, cursor};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// An e-mail address, matched exactly as the profile normalises it.
    email: Option<String>,
    /// A phone number, matched in its E.164 form.
    phone: Option<String>,
    /// `platform:external_id`, e.g. `twitch:liwei`.
    identity: Option<String>,
    /// A tag: every customer carrying it, by id.
    tag: Option<String>,
    /// A tier name: the customers the newest analytics snapshot found in it.
    #[param(value_type = Option<fanloop_domain::points::rules::TierName>)]
    tier: Option<String>,
    /// A lifecycle stage: the customers the newest analytics snapshot found in it.
    #[param(value_type = Option<fanloop_domain::lifecycle::Stage>)]
    lifecycle: Option<String>,
    /// An RFM segment: the customers the newest analytics snapshot found in it.
    #[param(value_type = Option<fanloop_domain::rfm::RfmSegment>)]
    rfm_segment: Option<String>,
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    limit: Option<String>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerList {
    /// In customer id order.
    pub customers: Vec<Profile>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// For `tier`, `lifecycle` and `rfm_segment`: when the snapshot that placed them was
    /// taken (absent before the first, when the list is empty).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub segments_as_of: Option<String>,
}

const CURSOR_PREFIX: &str = "cc1.";

fn identity(raw: &str) -> Result<Identity, ApiError> {
    let bad = || {
        ApiError::field(
            "identity",
            "must be platform:external_id, e.g. twitch:liwei",
        )
    };
    let (platform, id) = raw.split_once(':').ok_or_else(bad)?;
    Ok(Identity {
        platform: Platform::parse(platform).map_err(|_| bad())?,
        external_id: ExternalId::parse(id).map_err(|_| bad())?,
    })
}

/// Find customers by e-mail, phone, identity, tag, tier, lifecycle stage or RFM segment
/// (exactly one of them).
///
/// E-mail and phone are normalised as the profile does (the domain of an address is matched in
/// lower case; a number's spaces and dashes are dropped) and matched exactly, through an index
/// that holds keyed hashes, never the address. Tier, lifecycle and RFM lists are the daily
/// analytics snapshot's (`segments_as_of`): a customer moves between them when a snapshot
/// runs (daily, or `POST /v1/analytics/snapshots`), the profiles returned are current.
#[utoipa::path(get, path = "/customers", tag = "profiles", params(SearchQuery),
    responses((status = 200, body = CustomerList),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn get_customers(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    QueryParams(q): QueryParams<SearchQuery>,
) -> Result<Json<CustomerList>, ApiError> {
    let page = PageQuery {
        limit: q.limit.clone(),
        cursor: q.cursor.clone(),
    };
    let limit = page.limit()?;
    let after = match page.position(CURSOR_PREFIX)? {
        None => None,
        Some(b) => Some(
            String::from_utf8(b)
                .ok()
                .and_then(|s| CustomerId::parse(s).ok())
                .ok_or_else(|| ApiError::field("cursor", "is not a cursor this API returned"))?,
        ),
    };
    let given: Vec<(&str, &str)> = [
        ("email", &q.email),
        ("phone", &q.phone),
        ("identity", &q.identity),
        ("tag", &q.tag),
        ("tier", &q.tier),
        ("lifecycle", &q.lifecycle),
        ("rfm_segment", &q.rfm_segment),
    ]
    .into_iter()
    .filter_map(|(name, v)| v.as_deref().map(|v| (name, v)))
    .collect();
    let [(field, value)] = given[..] else {
        return Err(ApiError::field(
            "(query)",
            "give exactly one of email, phone, identity, tag, tier, lifecycle or rfm_segment",
        ));
    };
    if field == "identity" {
        let id = identity(value)?;
        let mut customers = Vec::new();
        if let Some(c) = state.store.customer_for_identity(&tenant, &id).await?
            && after.as_ref().is_none_or(|a| &c > a)
            && let Some(p) = state.store.profile(&tenant, &c).await?
        {
            customers.push(p);
        }
        return Ok(Json(CustomerList {
            customers,
            next_cursor: None,
            segments_as_of: None,
        }));
    }
    let query = CustomerQuery::parse(field, value)?;
    let found = state
        .store
        .find_customers(&tenant, &query, after.as_ref(), limit)
        .await?;
    let segments_as_of = match query.is_segment() {
        true => state
            .store
            .latest_snapshot(&tenant)
            .await?
            .map(|s| fanloop_domain::time::format(s.as_of)),
        false => None,
    };
    Ok(Json(CustomerList {
        customers: found.customers,
        next_cursor: found
            .next
            .map(|c| cursor(CURSOR_PREFIX, c.as_str().as_bytes())),
        segments_as_of,
    }))
}
