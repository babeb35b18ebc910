//! Broadcast fan-out. The planner (a broadcast run) reads the tenant's customers a page at a
//! time and cuts those due into batches of ids; each batch is sent either by in-process
//! workers (locally, and wherever no queue is configured) or through a queue whose consumers
//! send at the configured rate (on AWS: SQS, the `broadcasts` function). A batch carries ids
//! only — no address or name rests in the queue — and its sender reads each customer again and
//! claims through the same atomic step as every campaign, so a batch delivered twice, a
//! planner run that queues a customer again, or a pause and resume sends nobody a second copy.

use std::sync::Arc;

use async_trait::async_trait;
use fanloop_domain::campaigns::RunReport;
use fanloop_domain::campaigns::broadcast::PERIOD_EVER;
use fanloop_domain::campaigns::definition::{CampaignId, CampaignStatus, Trigger};
use fanloop_domain::ports::IndexedRecipient;
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::defined::parse_definition;
use crate::runner::finish_report;
use crate::{Campaigns, RunError};

/// Customers per queued batch (an SQS message of ids stays far below its 256 KiB).
pub const BATCH_SIZE: usize = 100;

/// One queued batch of a broadcast: whom to send it to, as of when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendBatch {
    pub tenant: TenantId,
    pub campaign_id: CampaignId,
    /// The planner's moment: the sender checks each customer is due then.
    #[serde(with = "fanloop_domain::time::serde_ts")]
    pub as_of: Timestamp,
    pub customers: Vec<CustomerId>,
}

#[derive(Debug, thiserror::Error)]
#[error("send queue: {0}")]
pub struct QueueError(pub String);

/// Where the planner puts its batches when sending is done elsewhere.
#[async_trait]
pub trait SendQueue: Send + Sync {
    /// Queues every batch, or fails (the planner's run then fails and is retried; batches
    /// queued before the failure are harmless twice).
    async fn enqueue(&self, batches: &[SendBatch]) -> Result<(), QueueError>;
}

/// The planner's batches of the due customers of one page.
pub(crate) fn batches(
    tenant: &TenantId,
    campaign: &CampaignId,
    as_of: Timestamp,
    due: &[(IndexedRecipient, String, bool)],
) -> Vec<SendBatch> {
    due.chunks(BATCH_SIZE)
        .map(|chunk| SendBatch {
            tenant: tenant.clone(),
            campaign_id: campaign.clone(),
            as_of,
            customers: chunk
                .iter()
                .map(|(r, _, _)| r.recipient.profile.customer_id.clone())
                .collect(),
        })
        .collect()
}

impl Campaigns {
    /// Sends one queued batch: a paused, archived or deleted campaign sends nothing (the
    /// batch is done; after a resume the next planner run queues whoever is still due).
    pub async fn send_batch(&self, batch: &SendBatch) -> Result<RunReport, RunError> {
        let (tenant, id) = (&batch.tenant, &batch.campaign_id);
        let mut report = RunReport::new(id.into(), batch.as_of, false);
        let record = match self.definition(tenant, id).await {
            Ok(r) => r,
            Err(RunError::NoCampaign) => return Ok(report),
            Err(e) => return Err(e),
        };
        if record.status != CampaignStatus::Active {
            tracing::info!(tenant = %tenant, campaign = %id, "batch of a campaign not active: nothing sent");
            return Ok(report);
        }
        let c = parse_definition(&record)?;
        let Trigger::Broadcast { at } = c.trigger else {
            return Err(RunError::NotRunnable(c.trigger.name()));
        };
        let (job, _) = self
            .broadcast_job(tenant, id, c, at, batch.as_of, false)
            .await?;
        let mut hints = Vec::with_capacity(batch.customers.len());
        for customer in &batch.customers {
            // Erased since it was planned: nobody to send to.
            let Some((profile, account)) = self.store.profile_and_account(tenant, customer).await?
            else {
                report.skip(fanloop_domain::campaigns::SkipReason::NoLongerDue);
                continue;
            };
            let hint = IndexedRecipient {
                recipient: fanloop_domain::campaigns::Recipient {
                    profile,
                    account: account.account,
                    contact: Default::default(),
                },
                version: String::new(),
            };
            hints.push((hint, PERIOD_EVER.to_owned(), false));
        }
        report.candidates = batch.customers.len() as u64;
        if let Some(e) = Arc::new(job).claim_all(hints, &mut report).await {
            return Err(e.into());
        }
        finish_report(tenant, &mut report);
        Ok(report)
    }
}
