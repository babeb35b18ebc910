//! Event rows: `customer_id`, `event_id`, `kind`, `occurred_at` (optional) and `properties`
//! (a JSON object, optional), read like the body of `POST /v1/customers/{id}/events`.

use fanloop_domain::events::EventInput;
use fanloop_domain::ports::{Store, StoreError};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_profiles::events::{EventError, Recorded, record};
use jiff::Timestamp;
use serde_json::{Map, Value};

use super::run::{ImportError, Row, RowOutcome};

const FIELDS: &[&str] = &[
    "customer_id",
    "event_id",
    "kind",
    "occurred_at",
    "properties",
];

pub fn check_headers(headers: &[String]) -> Result<(), ImportError> {
    for required in ["customer_id", "event_id", "kind"] {
        if !headers.iter().any(|h| h == required) {
            return Err(ImportError::Header(format!(
                "a {required} column is required"
            )));
        }
    }
    let unknown: Vec<&str> = headers
        .iter()
        .map(String::as_str)
        .filter(|h| !FIELDS.contains(h))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ImportError::Header(format!(
            "unknown columns {} (known: {})",
            unknown.join(", "),
            FIELDS.join(", ")
        )))
    }
}

pub async fn row(
    store: &dyn Store,
    tenant: &TenantId,
    settings: &TenantSettings,
    row: Row,
    now: Timestamp,
) -> Result<RowOutcome, StoreError> {
    let mut doc = Map::new();
    let mut customer = None;
    for (name, value) in row {
        match name.as_str() {
            "customer_id" => customer = Some(value),
            "properties" => match serde_json::from_str::<Value>(&value) {
                Ok(v) => {
                    doc.insert(name, v);
                }
                Err(_) => {
                    return Ok(RowOutcome::Refused(
                        "properties: must be a JSON object".into(),
                    ));
                }
            },
            _ => {
                doc.insert(name, Value::String(value));
            }
        }
    }
    let customer = match customer.map(CustomerId::parse) {
        Some(Ok(c)) => c,
        Some(Err(e)) => return Ok(RowOutcome::Refused(format!("customer_id: {e}"))),
        None => return Ok(RowOutcome::Refused("customer_id: is required".into())),
    };
    let input = match EventInput::from_json(Value::Object(doc), "", now) {
        Ok(i) => i,
        Err(e) => {
            let why = e.0.iter().map(|f| format!("{}: {}", f.field, f.message));
            return Ok(RowOutcome::Refused(why.collect::<Vec<_>>().join("; ")));
        }
    };
    match record(store, settings, tenant, &customer, input, now).await {
        Ok(Recorded::Created(_)) => Ok(RowOutcome::Created),
        Ok(Recorded::Duplicate(_)) => Ok(RowOutcome::Unchanged),
        Err(EventError::Reused) => Ok(RowOutcome::Refused(
            "event_id: was recorded before with another body".into(),
        )),
        Err(EventError::NotFound) => {
            Ok(RowOutcome::Refused("customer_id: no such customer".into()))
        }
        Err(EventError::Store(e)) => Err(e),
    }
}
