//! Customer rows: one column per profile field (`customer_id` required), `tags` as `a;b`,
//! `identities` as `platform:external_id;…`, `email_marketing` (`true`/`false`) with
//! `consent_source` (default `import`), `attributes.NAME` for attributes. An empty cell leaves
//! the field as it is.

use fanloop_domain::ports::{Store, StoreError, UpsertError};
use fanloop_domain::profile::ProfilePatch;
use fanloop_domain::{CustomerId, TenantId, ValidationErrors};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use super::run::{ImportError, Row, RowOutcome};

const FIELDS: &[&str] = &[
    "customer_id",
    "email",
    "display_name",
    "locale",
    "timezone",
    "birthday",
    "phone",
    "tags",
    "identities",
    "email_marketing",
    "consent_source",
];

pub fn check_headers(headers: &[String]) -> Result<(), ImportError> {
    if !headers.iter().any(|h| h == "customer_id") {
        return Err(ImportError::Header(
            "a customer_id column is required".into(),
        ));
    }
    let unknown: Vec<&str> = headers
        .iter()
        .map(String::as_str)
        .filter(|h| !FIELDS.contains(h) && !h.starts_with("attributes."))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Header(format!(
            "unknown columns {} (known: {}, attributes.NAME)",
            unknown.join(", "),
            FIELDS.join(", ")
        )))
    }
}

fn refused(e: ValidationErrors) -> RowOutcome {
    RowOutcome::Refused(e.summary())
}

/// The row as the body of a profile upsert, and its customer id.
fn body(row: Row) -> Result<(String, Value), ValidationErrors> {
    let mut doc = Map::new();
    let mut attributes = Map::new();
    let mut consent = Map::new();
    let mut customer = None;
    let mut errs = ValidationErrors::default();
    for (name, value) in row {
        match name.as_str() {
            "customer_id" => customer = Some(value),
            "tags" => {
                doc.insert(
                    "tags".into(),
                    json!(value.split(';').map(str::trim).collect::<Vec<_>>()),
                );
            }
            "identities" => {
                let mut ids = Vec::new();
                for (i, one) in value.split(';').map(str::trim).enumerate() {
                    match one.split_once(':') {
                        Some((platform, id)) => {
                            ids.push(json!({"platform": platform, "external_id": id}));
                        }
                        None => {
                            errs.push(format!("identities[{i}]"), "must be platform:external_id")
                        }
                    }
                }
                doc.insert("identities".into(), Value::Array(ids));
            }
            "email_marketing" => {
                let granted = match value.to_ascii_lowercase().as_str() {
                    "true" | "yes" | "1" => Value::Bool(true),
                    "false" | "no" | "0" => Value::Bool(false),
                    _ => {
                        errs.push("email_marketing", "must be true or false");
                        Value::Null
                    }
                };
                consent.insert("email_marketing".into(), granted);
            }
            "consent_source" => {
                consent.insert("source".into(), Value::String(value));
            }
            other => match other.strip_prefix("attributes.") {
                Some(attr) => {
                    attributes.insert(attr.to_owned(), Value::String(value));
                }
                None => {
                    doc.insert(other.to_owned(), Value::String(value));
                }
            },
        }
    }
    if consent.contains_key("email_marketing") {
        consent
            .entry("source")
            .or_insert_with(|| Value::String("import".into()));
        doc.insert("consent".into(), Value::Object(consent));
    } else if consent.contains_key("source") {
        errs.push("consent_source", "needs an email_marketing value");
    }
    if !attributes.is_empty() {
        doc.insert("attributes".into(), Value::Object(attributes));
    }
    let Some(customer) = customer else {
        errs.push("customer_id", "is required");
        return Err(errs);
    };
    errs.into_result()?;
    Ok((customer, Value::Object(doc)))
}

pub async fn row(
    store: &dyn Store,
    tenant: &TenantId,
    row: Row,
    now: Timestamp,
) -> Result<RowOutcome, StoreError> {
    let (raw_id, doc) = match body(row) {
        Ok(b) => b,
        Err(e) => return Ok(refused(e)),
    };
    let customer = match CustomerId::parse(raw_id) {
        Ok(c) => c,
        Err(e) => {
            return Ok(refused(ValidationErrors::single(
                "customer_id",
                e.to_string(),
            )));
        }
    };
    // The latest calendar date anywhere (UTC+14) bounds birthdays, as the API does.
    let latest_today = now
        .saturating_add(SignedDuration::from_hours(14))
        .unwrap_or(now)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let mut patch = match ProfilePatch::from_json(doc, latest_today) {
        Ok(p) => p,
        Err(e) => return Ok(refused(e)),
    };
    patch.imported = true;
    if let Some(existing) = store.profile(tenant, &customer).await?
        && !existing.changed_by(&patch, now)
    {
        return Ok(RowOutcome::Unchanged);
    }
    match store.upsert_profile(tenant, &customer, &patch, now).await {
        Ok(up) if up.created => Ok(RowOutcome::Created),
        Ok(_) => Ok(RowOutcome::Updated),
        Err(UpsertError::IdentityTaken(id)) => Ok(RowOutcome::Refused(format!(
            "identities: {}:{} is linked to another customer",
            id.platform, id.external_id
        ))),
        Err(UpsertError::TooManyIdentities) => Ok(RowOutcome::Refused(
            "identities: a customer may have at most 20".into(),
        )),
        Err(UpsertError::Store(e)) => Err(e),
    }
}
