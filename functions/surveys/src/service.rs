//! The surveys use cases, shared by the HTTP router and the SQS handler: ingest a response
//! (exactly once, counted atomically, follow-up opened, recovery mail offered), summarise.

use std::sync::Arc;

use fanloop_domain::campaigns::new_message_id;
use fanloop_domain::lifecycle::lifecycle;
use fanloop_domain::ports::{RecordError, Recorded, StoreError};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::surveys::{ResponseInput, Segment, SurveyId, SurveyResponse};
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{TenantId, ValidationErrors};
use fanloop_engine::{Campaigns, RunError};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The answer can never be recorded as sent (unknown customer): a 422, an SQS message for
    /// the dead-letter queue.
    #[error("invalid response")]
    Invalid(ValidationErrors),
    /// The `response_id` was recorded with a different answer.
    #[error("response_id reused for a different answer")]
    Reused,
    /// Retryable: the store failed (nothing or everything of the response was written).
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<RecordError> for IngestError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::UnknownCustomer => unknown_customer(),
            RecordError::Store(e) => Self::Store(e),
        }
    }
}

fn unknown_customer() -> IngestError {
    IngestError::Invalid(ValidationErrors::single(
        "customer_id",
        "is not a customer of this tenant (create the profile first)",
    ))
}

/// How an ingestion went.
#[derive(Clone, Debug, PartialEq)]
pub enum Ingested {
    Created(SurveyResponse),
    /// Sent before: the response as first recorded.
    Duplicate(SurveyResponse),
}

impl Ingested {
    pub fn response(&self) -> &SurveyResponse {
        match self {
            Self::Created(r) | Self::Duplicate(r) => r,
        }
    }
}

/// Records one response. A response naming a customer counts as their activity (at
/// `submitted_at`). An unhappy one opens a follow-up; when the tenant turned recovery mails on,
/// the apology goes out through the campaigns' mailer — and a retry of the response retries a
/// recovery that did not finish.
pub async fn ingest(
    campaigns: &Campaigns,
    tenant: &TenantId,
    settings: &TenantSettings,
    survey: SurveyId,
    input: ResponseInput,
) -> Result<Ingested, IngestError> {
    let store = campaigns.store.as_ref();
    let now = campaigns.clock.now();
    let tz = settings.timezone.tz();
    let segment = match &input.customer_id {
        None => None,
        Some(c) => {
            let (profile, account) = store
                .profile_and_account(tenant, c)
                .await?
                .ok_or_else(unknown_customer)?;
            Some(Segment {
                tier: account.account.view(&settings.points, now, &tz).tier,
                stage: lifecycle(&profile, &settings.lifecycle, now).stage,
            })
        }
    };
    let followup_id =
        new_message_id(now, &OsRandom).map_err(|e| StoreError::Unavailable(e.to_string()))?;
    let response = SurveyResponse::new(survey, input, segment, &tz, now, || followup_id);
    let outcome = match store.record_response(tenant, &response).await? {
        Recorded::Created => {
            if let Some(c) = &response.customer_id {
                store
                    .record_activity(
                        tenant,
                        c,
                        fanloop_domain::campaigns::backlog::Activity::in_zone(
                            response.submitted_at,
                            now,
                            &tz,
                        ),
                    )
                    .await?;
            }
            Ingested::Created(response)
        }
        Recorded::Duplicate(existing) => {
            // Erasure clears the fingerprint; a resend of an erased answer stays a duplicate.
            if !existing.fingerprint.is_empty() && existing.fingerprint != response.fingerprint {
                return Err(IngestError::Reused);
            }
            Ingested::Duplicate(*existing)
        }
    };
    // The follow-up becomes a case for staff; a retry of the answer opens nothing twice and
    // opens the case a failed earlier try did not.
    fanloop_services::cases::open_followup_case(store, settings, tenant, outcome.response())
        .await?;
    recover(campaigns, tenant, settings, &outcome).await?;
    Ok(outcome)
}

/// Offers the recovery mail of an unhappy, identified answer, unless a earlier try settled it.
async fn recover(
    campaigns: &Campaigns,
    tenant: &TenantId,
    settings: &TenantSettings,
    outcome: &Ingested,
) -> Result<(), StoreError> {
    let r = outcome.response();
    let (Some(id), Some(customer)) = (&r.followup_id, &r.customer_id) else {
        return Ok(());
    };
    if !settings.campaigns.recovery.enabled {
        return Ok(());
    }
    if let Ingested::Duplicate(_) = outcome {
        let settled = campaigns
            .store
            .followup(tenant, id)
            .await?
            .and_then(|f| f.recovery)
            .is_some_and(|s| !matches!(s.as_str(), "failed" | "in_progress"));
        if settled {
            return Ok(());
        }
    }
    let recovery = match campaigns.send_recovery(tenant, customer, id).await {
        Ok(o) => o.as_str(),
        Err(RunError::NoSender) => "no_sender",
        Err(RunError::Store(e)) => return Err(e),
        Err(e) => {
            tracing::warn!(tenant = %tenant, followup = %id, error = %e, "recovery mail not sent");
            "failed"
        }
    };
    tracing::info!(tenant = %tenant, followup = %id, recovery, "recovery mail");
    campaigns
        .store
        .set_followup_recovery(tenant, id, recovery)
        .await
}

/// One item of a batch: its position, what came of it.
#[derive(Debug)]
pub struct BatchItem {
    pub index: usize,
    pub outcome: Result<Ingested, IngestError>,
}

/// Ingests parsed responses concurrently (at most `concurrency` at once), results in input
/// order. Duplicates inside one batch are told apart by the store, like any duplicate.
pub async fn ingest_many(
    campaigns: &Arc<Campaigns>,
    tenant: &TenantId,
    settings: &Arc<TenantSettings>,
    items: Vec<(usize, SurveyId, ResponseInput)>,
    concurrency: usize,
) -> Vec<BatchItem> {
    let expected: Vec<usize> = items.iter().map(|(i, _, _)| *i).collect();
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency.max(1)));
    let mut tasks = tokio::task::JoinSet::new();
    for (index, survey, input) in items {
        let (campaigns, tenant, settings, permits) = (
            campaigns.clone(),
            tenant.clone(),
            settings.clone(),
            permits.clone(),
        );
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            BatchItem {
                index,
                outcome: ingest(&campaigns, &tenant, &settings, survey, input).await,
            }
        });
    }
    let mut out = Vec::new();
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(item) => out.push(item),
            Err(e) => tracing::error!(error = %e, "survey ingestion task failed"),
        }
    }
    // A task that died reports as retryable: its response may or may not be recorded.
    for index in expected {
        if !out.iter().any(|i| i.index == index) {
            out.push(BatchItem {
                index,
                outcome: Err(StoreError::Unavailable("ingestion task failed".into()).into()),
            });
        }
    }
    out.sort_by_key(|i| i.index);
    out
}
