//! The OpenAPI document: what every route's own annotation says, completed with what the shared
//! edge answers for every route (problem+json errors of authentication, body and path parsing,
//! and an unavailable store) and with the links that chain create → read → act.
//!
//! The complete document of all functions is checked in (`shared/http/openapi.json`) and served
//! by whichever process answers `/openapi.json` — `fanloop serve` or, on AWS, the profiles
//! function — so on AWS it is the whole API, not one function's part. A test compares it with the
//! one the routers generate, so it cannot drift.

use serde_json::{Map, Value, json};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{ContentBuilder, InfoBuilder, OpenApi, Ref, RefOr, Response};

/// The complete document, as checked in.
pub const DOCUMENT: &str = include_str!("../openapi.json");

/// Where the checked-in document lives, from the workspace root.
pub const DOCUMENT_PATH: &str = "shared/http/openapi.json";

fn problem(description: &str) -> RefOr<Response> {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/problem+json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Problem")))
                .build(),
        )
        .build()
        .into()
}

fn operations(item: &mut PathItem) -> impl Iterator<Item = (&'static str, &mut Operation)> {
    [
        ("get", item.get.as_mut()),
        ("put", item.put.as_mut()),
        ("post", item.post.as_mut()),
        ("delete", item.delete.as_mut()),
        ("patch", item.patch.as_mut()),
    ]
    .into_iter()
    .filter_map(|(m, op)| op.map(|op| (m, op)))
}

/// Adds the statuses the shared edge can answer to each operation that does not list them.
fn document_errors(op: &mut Operation) {
    let mut add = |status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description));
    };
    // Every route reads the store, which may be unavailable.
    add("503", "The store is unavailable; retry later");
    if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
        add("401", "Missing, unknown, revoked or expired API key");
        add(
            "403",
            "The API key lacks the scope this route needs (`scope` names it)",
        );
        add(
            "429",
            "The API key's rate (settings api.rate_per_s) is used up; see Retry-After",
        );
    }
    if op.request_body.is_some() {
        add("400", "The body is not JSON");
        add("413", "The body is larger than 64 KiB");
        add("415", "The body is not application/json");
        add("422", "Invalid fields, each named");
    }
    let params = op.parameters.as_deref().unwrap_or_default();
    if !params.is_empty() {
        add("422", "Invalid parameters, each named");
    }
    if params
        .iter()
        .any(|p| matches!(p.parameter_in, utoipa::openapi::path::ParameterIn::Path))
    {
        add("404", "No such resource");
    }
}

/// `(from path, from method, statuses, link name, to operation id, parameters)`: the follow-ups
/// a response leads to, for clients and for stateful testing.
type LinkSpec = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const CUSTOMER: &[(&str, &str)] = &[("customer_id", "$request.path.customer_id")];

const LINKS: &[LinkSpec] = &[
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "GetCustomer",
        "get_customer",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "PostAccrual",
        "post_accrual",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "PostRedemption",
        "post_redemption",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "GetPoints",
        "get_points",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "PostActivity",
        "post_activity",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "GetExport",
        "get_export",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "GetMessages",
        "get_messages",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "DeleteCustomer",
        "delete_customer",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "PostEvent",
        "post_event",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "GetTimeline",
        "get_timeline",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}/events",
        "post",
        &["200", "201"],
        "GetEvents",
        "get_events",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}/points/accruals",
        "post",
        &["200", "201"],
        "GetLedger",
        "get_ledger",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}/points/accruals",
        "post",
        &["200", "201"],
        "GetPoints",
        "get_points",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}/points/accruals",
        "post",
        &["200", "201"],
        "PostRedemption",
        "post_redemption",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}/points/accruals",
        "post",
        &["200", "201"],
        "PostReversal",
        "post_reversal",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}",
        "put",
        &["200", "201"],
        "PostAdjustment",
        "post_adjustment",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}/points/redemptions",
        "post",
        &["200", "201"],
        "GetLedger",
        "get_ledger",
        CUSTOMER,
    ),
    (
        "/v1/customers/{customer_id}/points/redemptions",
        "post",
        &["200", "201"],
        "GetCoupon",
        "get_coupon",
        &[("code", "$response.body#/coupon/code")],
    ),
    (
        "/v1/customers/{customer_id}/points/redemptions",
        "post",
        &["200", "201"],
        "RedeemCoupon",
        "post_coupon_redemption",
        &[("code", "$response.body#/coupon/code")],
    ),
    (
        "/v1/surveys/{survey_id}/responses",
        "post",
        &["200", "201"],
        "GetSummary",
        "get_summary",
        &[("survey_id", "$request.path.survey_id")],
    ),
    (
        "/v1/surveys/{survey_id}/responses",
        "post",
        &["200", "201"],
        "GetFollowUp",
        "get_followup",
        &[("followup_id", "$response.body#/followup_id")],
    ),
    (
        "/v1/surveys/{survey_id}/responses",
        "post",
        &["200", "201"],
        "CloseFollowUp",
        "post_close",
        &[("followup_id", "$response.body#/followup_id")],
    ),
    (
        "/v1/followups/{followup_id}",
        "get",
        &["200"],
        "CloseFollowUp",
        "post_close",
        &[("followup_id", "$request.path.followup_id")],
    ),
];

fn add_links(doc: &mut OpenApi) {
    for (path, method, statuses, name, target, params) in LINKS {
        let Some(item) = doc.paths.paths.get_mut(*path) else {
            continue;
        };
        let Some((_, op)) = operations(item).find(|(m, _)| m == method) else {
            continue;
        };
        for status in *statuses {
            let Some(RefOr::T(response)) = op.responses.responses.get_mut(*status) else {
                continue;
            };
            let mut link = LinkBuilder::new().operation_id(*target);
            for (p, v) in *params {
                link = link.parameter(*p, *v);
            }
            response
                .links
                .insert((*name).to_owned(), link.build().into());
        }
    }
}

fn register<T: utoipa::ToSchema>(components: &mut utoipa::openapi::Components) {
    components
        .schemas
        .entry(T::name().into_owned())
        .or_insert_with(T::schema);
}

/// The schema of an RFC 7396 merge patch of `schema`: nothing required, every property may be
/// `null` (reset to the default), nested objects are patches too (`{Name}Patch` for each
/// referenced one, added to `out`), arrays and values are replaced whole.
fn patch_of(schema: &Value, schemas: &Map<String, Value>, out: &mut Map<String, Value>) -> Value {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or_default();
        let patch = format!("{name}Patch");
        if !out.contains_key(&patch) {
            out.insert(patch.clone(), Value::Null);
            let p = schemas
                .get(name)
                .map_or(Value::Null, |s| patch_of(s, schemas, out));
            out.insert(patch.clone(), p);
        }
        return json!({"$ref": format!("#/components/schemas/{patch}")});
    }
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    let mut p = obj.clone();
    p.remove("required");
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(items)) = obj.get(key) {
            let items = items.iter().map(|i| patch_of(i, schemas, out)).collect();
            p.insert(key.into(), Value::Array(items));
        }
    }
    if let Some(Value::Object(props)) = obj.get("properties") {
        let props = props
            .iter()
            .map(|(k, v)| {
                let inner = patch_of(v, schemas, out);
                (k.clone(), json!({"anyOf": [inner, {"type": "null"}]}))
            })
            .collect();
        p.insert("properties".into(), Value::Object(props));
    }
    if let Some(ap @ Value::Object(_)) = obj.get("additionalProperties") {
        let inner = patch_of(ap, schemas, out);
        p.insert(
            "additionalProperties".into(),
            json!({"anyOf": [inner, {"type": "null"}]}),
        );
    }
    Value::Object(p)
}

/// `PUT /v1/settings` takes a merge patch of the settings, not the settings.
fn settings_patch(v: &mut Value) {
    let Some(schemas) = v
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .cloned()
    else {
        return;
    };
    let mut out = Map::new();
    let root = patch_of(
        &json!({"$ref": "#/components/schemas/TenantSettings"}),
        &schemas,
        &mut out,
    );
    if let Some(Value::Object(s)) = v.pointer_mut("/components/schemas") {
        s.extend(out);
    }
    if let Some(body) = v.pointer_mut("/paths/~1v1~1settings/put/requestBody") {
        *body = json!({
            "description": "An RFC 7396 merge patch of the settings: absent keys are kept, `null` resets to the default, values replace.",
            "required": true,
            "content": {
                "application/json": {"schema": root},
                "application/merge-patch+json": {"schema": root},
            }
        });
    }
}

/// The document as JSON. utoipa 5.5 writes a link's `operationId` as `operation_id`; this
/// writes the OpenAPI name. The settings update body becomes a merge patch schema.
pub fn to_json(doc: &OpenApi) -> serde_json::Value {
    let mut v = serde_json::to_value(doc).unwrap_or_default();
    settings_patch(&mut v);
    if let Some(paths) = v.get_mut("paths").and_then(|p| p.as_object_mut()) {
        for item in paths.values_mut().filter_map(|i| i.as_object_mut()) {
            for op in item.values_mut() {
                let Some(responses) = op.get_mut("responses").and_then(|r| r.as_object_mut())
                else {
                    continue;
                };
                for link in responses
                    .values_mut()
                    .filter_map(|r| r.get_mut("links").and_then(|l| l.as_object_mut()))
                    .flat_map(|l| l.values_mut())
                    .filter_map(|l| l.as_object_mut())
                {
                    if let Some(id) = link.remove("operation_id") {
                        link.insert("operationId".into(), id);
                    }
                }
            }
        }
    }
    v
}

/// Completes a document generated from routers: info, the API key scheme, the shared error
/// statuses of every operation, links.
pub fn complete(doc: &mut OpenApi) {
    doc.info = InfoBuilder::new()
        .title("Fanloop API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Loyalty and marketing automation for game studios and streaming platforms.",
        ))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    // Path parameter types: the routers reference them without collecting them.
    register::<fanloop_domain::CustomerId>(components);
    register::<fanloop_domain::Platform>(components);
    register::<fanloop_domain::ExternalId>(components);
    register::<fanloop_domain::points::CouponCode>(components);
    register::<fanloop_domain::surveys::SurveyId>(components);
    for item in doc.paths.paths.values_mut() {
        for (_, op) in operations(item) {
            document_errors(op);
        }
    }
    add_links(doc);
}
