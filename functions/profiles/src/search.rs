//! `GET /v1/customers?email=|phone=|identity=|tag=`: find customers for staff tools, from
//! indexes (rules: [`fanloop_domain::lookup`]), never a scan.

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

/// Find customers by e-mail, phone, identity or tag (exactly one of them).
///
/// E-mail and phone are normalised as the profile does (the domain of an address is matched in
/// lower case; a number's spaces and dashes are dropped) and matched exactly, through an index
/// that holds keyed hashes, never the address.
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
    if let Some(raw) = q.identity.as_deref() {
        if q.email.is_some() || q.phone.is_some() || q.tag.is_some() {
            return Err(ApiError::field(
                "(query)",
                "give exactly one of email, phone, identity or tag",
            ));
        }
        let id = identity(raw)?;
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
        }));
    }
    let query = CustomerQuery::parse(q.email.as_deref(), q.phone.as_deref(), q.tag.as_deref())?;
    let found = state
        .store
        .find_customers(&tenant, &query, after.as_ref(), limit)
        .await?;
    Ok(Json(CustomerList {
        customers: found.customers,
        next_cursor: found
            .next
            .map(|c| cursor(CURSOR_PREFIX, c.as_str().as_bytes())),
    }))
}
