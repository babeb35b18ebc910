//! Trigger records handled by the engine: each active definition whose trigger the record
//! matches claims and sends through the same atomic step as every campaign. The marker's
//! period is the record (`once_per: event`) or `ever`, so a record delivered again, or handled
//! by two workers at once, sends nothing twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use fanloop_domain::TenantId;
use fanloop_domain::campaigns::audience::AudienceCheck;
use fanloop_domain::campaigns::broadcast::PERIOD_EVER;
use fanloop_domain::campaigns::definition::{
    CampaignRecord, CampaignStatus, OncePer, TriggerClass,
};
use fanloop_domain::campaigns::triggers::{EventRule, TriggerEvent, TriggerRecord, matches};
use fanloop_domain::campaigns::{Recipient, SendRule, SkipReason};
use fanloop_domain::ports::{IndexedRecipient, documents};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::defined::{configure, parse_definition};
use crate::job::Done;
use crate::{Campaigns, RunError};

/// What the definitions a record started did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TriggerReport {
    /// The definitions the record matched, by id: `sent` or the skip reason.
    pub campaigns: BTreeMap<String, String>,
    /// A send waits for the end of quiet hours: handle the record again then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<Timestamp>,
    /// Campaign contacts this purchase converted (counted for the campaigns' reports).
    #[serde(skip_serializing_if = "is_zero")]
    pub converted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Parked records handled per tenant and hourly run.
const PARKED_PER_RUN: usize = 1000;

impl Campaigns {
    /// Keeps a record whose send waits for quiet hours until `at`, for the hourly run.
    pub async fn park_trigger(
        &self,
        tenant: &TenantId,
        record: &TriggerRecord,
        at: Timestamp,
    ) -> Result<(), RunError> {
        Ok(self.store.park_trigger(tenant, record, at).await?)
    }

    /// Handles the tenant's parked records that are due; returns how many.
    pub async fn run_parked(&self, tenant: &TenantId) -> Result<usize, RunError> {
        let now = self.clock.now();
        let parked = self
            .store
            .parked_triggers(tenant, now, PARKED_PER_RUN)
            .await?;
        let n = parked.len();
        for (at, record) in parked {
            let report = self.handle_trigger(tenant, &record).await?;
            match report.retry_at {
                Some(next) if next > at => self.park_trigger(tenant, &record, next).await?,
                _ => self.store.unpark_trigger(tenant, &record, at).await?,
            }
        }
        Ok(n)
    }

    /// Handles one trigger record of `tenant`.
    pub async fn handle_trigger(
        &self,
        tenant: &TenantId,
        record: &TriggerRecord,
    ) -> Result<TriggerReport, RunError> {
        let mut report = TriggerReport::default();
        if let TriggerEvent::Purchase { .. } = record.event {
            // Before any send it starts: a thank-you claimed now is not converted by the
            // purchase it thanks for.
            report.converted = self
                .store
                .attribute_purchase(tenant, &record.customer_id, record.occurred_at)
                .await?;
        }
        let definitions: Vec<CampaignRecord> = documents::list(self.store.as_ref(), tenant).await?;
        let mut started = Vec::new();
        for d in definitions {
            if d.status != CampaignStatus::Active {
                continue;
            }
            let c = parse_definition(&d)?;
            if c.trigger.class() == TriggerClass::Event && matches(&c.trigger, &record.event) {
                started.push((d, c));
            }
        }
        if started.is_empty() {
            return Ok(report);
        }
        let Some((profile, account)) = self
            .store
            .profile_and_account(tenant, &record.customer_id)
            .await?
        else {
            // Erased since the event: nothing to send.
            return Ok(report);
        };
        let now = self.clock.now();
        let base = self.job_base(tenant, now, false).await?;
        for (d, c) in started {
            let id = d.campaign_id.clone();
            let period = match c.once_per() {
                OncePer::Ever => PERIOD_EVER.to_owned(),
                _ => record.period(),
            };
            let max_delay = c
                .max_delay_hours
                .map(|h| SignedDuration::from_hours(i64::try_from(h.get()).unwrap_or(720)));
            let filter = match self.audience(tenant, c.audience.as_ref()).await {
                Ok(f) => f,
                Err(RunError::NoSegment(_)) => {
                    report
                        .campaigns
                        .insert(id.to_string(), "segment_missing".into());
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut job = base.clone();
            job.rule = SendRule::Event(Arc::new(EventRule {
                record: record.clone(),
                audience: AudienceCheck {
                    filter,
                    settings: job.settings.clone(),
                },
                max_delay,
            }));
            configure(&mut job, &id, c);
            let quiet = job.quiet_hours;
            let hint = IndexedRecipient {
                recipient: Recipient {
                    profile: profile.clone(),
                    account: account.account.clone(),
                    contact: Default::default(),
                },
                version: String::new(),
            };
            let done = job.one(hint, period, false).await?;
            let outcome = match done {
                Done::Sent => "sent".to_owned(),
                Done::Skipped(SkipReason::QuietHours) => {
                    if let Some(q) = quiet {
                        let tz = profile
                            .timezone
                            .as_ref()
                            .unwrap_or(&job.settings.timezone)
                            .tz();
                        let at = q.next_allowed(now, &tz);
                        report.retry_at = Some(report.retry_at.map_or(at, |r| r.min(at)));
                    }
                    SkipReason::QuietHours.as_str().to_owned()
                }
                Done::Skipped(r) => r.as_str().to_owned(),
                Done::Would(_) => "dry_run".to_owned(),
            };
            report.campaigns.insert(id.to_string(), outcome);
        }
        tracing::info!(
            tenant = %tenant, trigger = record.event.kind(),
            campaigns = ?report.campaigns, converted = report.converted, "trigger handled"
        );
        Ok(report)
    }
}
