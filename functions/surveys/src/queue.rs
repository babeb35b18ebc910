//! SQS ingestion: each message body is one response with its `survey_id`; the tenant is the
//! message attribute `tenant`, and the attribute `signature` (`v1=` + hex HMAC-SHA-256 of the
//! body under one of the tenant's ingest secrets, [`fanloop_domain::ingest`]) proves the
//! producer holds that tenant's secret: a message without a valid one is refused — deleted,
//! logged with `refused = "signature"` (a metric on AWS), never recorded. A batch is processed
//! concurrently and answered with partial batch failures (`ReportBatchItemFailures`): recorded
//! and duplicate messages are done; a message that failed on the store is listed and comes
//! back; an invalid one is listed too — it cannot succeed, so the queue's redrive policy moves
//! it to the dead-letter queue after `maxReceiveCount` receives instead of retrying it forever.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use fanloop_domain::TenantId;
use fanloop_domain::ingest::{SIGNATURE_ATTRIBUTE, verify};
use fanloop_domain::ports::StoreError;
use fanloop_engine::Campaigns;
use serde_json::Value;

use crate::service::{self, IngestError};

/// Messages of one batch ingested at once.
const CONCURRENCY: usize = 10;

/// Why a message failed, for the log (never its content).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Will never succeed: to the dead-letter queue after `maxReceiveCount` receives.
    Permanent,
    /// The store failed: retried.
    Transient,
}

/// A message as received: its index in the batch, id, raw body and `signature` attribute.
type Received = (usize, String, String, Option<String>);

pub async fn handle_sqs(campaigns: &Arc<Campaigns>, event: SqsEvent) -> SqsBatchResponse {
    let now = campaigns.clock.now();
    let mut failures: Vec<(String, Failure, String)> = Vec::new();
    let mut by_tenant: BTreeMap<TenantId, Vec<Received>> = BTreeMap::new();
    let ids: Vec<String> = event
        .records
        .iter()
        .enumerate()
        .map(|(i, m)| m.message_id.clone().unwrap_or_else(|| format!("#{i}")))
        .collect();
    for (i, m) in event.records.into_iter().enumerate() {
        let id = ids[i].clone();
        let tenant = m
            .message_attributes
            .get("tenant")
            .and_then(|a| a.string_value.as_deref())
            .map(TenantId::parse);
        let tenant = match tenant {
            Some(Ok(t)) => t,
            _ => {
                failures.push((id, Failure::Permanent, "no valid tenant attribute".into()));
                continue;
            }
        };
        let signature = m
            .message_attributes
            .get(SIGNATURE_ATTRIBUTE)
            .and_then(|a| a.string_value.clone());
        let body = m.body.unwrap_or_default();
        by_tenant
            .entry(tenant)
            .or_default()
            .push((i, id, body, signature));
    }
    for (tenant, messages) in by_tenant {
        let settings = match campaigns.store.tenant(&tenant).await {
            Ok(Some(_)) => match campaigns.store.settings(&tenant).await {
                Ok(s) => Some(Arc::new(s.settings)),
                Err(e) => {
                    tracing::error!(tenant = %tenant, error = %e, "settings unavailable");
                    None
                }
            },
            Ok(None) => {
                for (_, id, _, _) in messages {
                    failures.push((id, Failure::Permanent, "unknown tenant".into()));
                }
                continue;
            }
            Err(e) => {
                tracing::error!(tenant = %tenant, error = %e, "tenant unavailable");
                None
            }
        };
        let Some(settings) = settings else {
            for (_, id, _, _) in messages {
                failures.push((id, Failure::Transient, "store unavailable".into()));
            }
            continue;
        };
        let secrets = match campaigns.store.ingest_secrets(&tenant).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(tenant = %tenant, error = %e, "ingest secrets unavailable");
                for (_, id, _, _) in messages {
                    failures.push((id, Failure::Transient, "store unavailable".into()));
                }
                continue;
            }
        };
        let mut valid = Vec::new();
        for (i, id, raw, signature) in messages {
            // Refused, not retried: deleted from the queue and counted (the log metric
            // `refused`), never recorded.
            if !signature.is_some_and(|sig| verify(&secrets, raw.as_bytes(), &sig)) {
                tracing::warn!(message_id = %id, tenant = %tenant, refused = "signature",
                    "survey message refused: unsigned or wrongly signed");
                continue;
            }
            let body = match serde_json::from_str::<Value>(&raw) {
                Ok(b) => b,
                Err(_) => {
                    failures.push((id, Failure::Permanent, "body is not JSON".into()));
                    continue;
                }
            };
            match fanloop_domain::surveys::ResponseInput::from_json(body, "", now, true) {
                Ok((Some(survey), input)) => valid.push((i, survey, input)),
                Ok((None, _)) => failures.push((id, Failure::Permanent, "survey_id".into())),
                Err(e) => failures.push((id, Failure::Permanent, fields(&e))),
            }
        }
        for done in service::ingest_many(campaigns, &tenant, &settings, valid, CONCURRENCY).await {
            let id = ids[done.index].clone();
            match done.outcome {
                Ok(_) => {}
                Err(IngestError::Invalid(e)) => failures.push((id, Failure::Permanent, fields(&e))),
                Err(IngestError::Reused) => failures.push((
                    id,
                    Failure::Permanent,
                    "response_id reused for another answer".into(),
                )),
                Err(IngestError::Store(e)) => {
                    let why = match e {
                        StoreError::Conflict => "store conflict".to_owned(),
                        e => e.to_string(),
                    };
                    failures.push((id, Failure::Transient, why))
                }
            }
        }
    }
    for (id, kind, why) in &failures {
        match kind {
            Failure::Permanent => tracing::warn!(message_id = %id, reason = %why,
                "survey message invalid; it goes to the dead-letter queue after maxReceiveCount"),
            Failure::Transient => {
                tracing::warn!(message_id = %id, reason = %why, "survey message will be retried")
            }
        }
    }
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = ids
        .iter()
        .filter(|id| failures.iter().any(|(f, _, _)| f == *id))
        .map(|id| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = id.clone();
            f
        })
        .collect();
    response
}

/// The names of the invalid fields (values may be personal: never logged).
fn fields(e: &fanloop_domain::ValidationErrors) -> String {
    let names: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
    format!("invalid: {}", names.join(", "))
}
