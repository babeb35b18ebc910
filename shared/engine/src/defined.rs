//! Runs of the tenant's campaign definitions. A broadcast reads the tenant's customers a page
//! at a time (the pass of the analytics snapshot: never the whole audience in memory), keeps
//! those due at its local moment in their own zone and in its audience, and claims each
//! through the same atomic step as every campaign: a rerun, a second runner at once, or a
//! resume after a pause finds the marker and sends nothing twice.

use std::sync::Arc;

use fanloop_domain::TenantId;
use fanloop_domain::campaigns::audience::AudienceCheck;
use fanloop_domain::campaigns::broadcast::{BroadcastRule, PERIOD_EVER};
use fanloop_domain::campaigns::definition::{
    Audience, CampaignId, CampaignRecord, CampaignStatus, LocalDateTime, NewCampaign, Trigger,
    TriggerClass,
};
use fanloop_domain::campaigns::outcomes::DEFAULT_ATTRIBUTION_DAYS;
use fanloop_domain::campaigns::{CouponOffer, Recipient, RunReport, SendRule};
use fanloop_domain::ports::{IndexedRecipient, StoreError, documents};
use fanloop_domain::segments::{Filter, Segment};
use jiff::Timestamp;

use fanloop_domain::campaigns::periodic::{INACTIVITY_COOLDOWN_DAYS, Periodic};

use crate::fanout::batches;
use crate::job::{Job, Source};
use crate::runner::finish_report;
use crate::{Campaigns, RunError};

/// Customers read per page of a broadcast's pass.
const PAGE: usize = 500;

impl Campaigns {
    /// Runs the definition `id` of `tenant` as of `as_of` (default now). Only an active
    /// campaign sends; a dry run reports who would get it in any status. Between pages the
    /// status is read again, so a pause stops a run under way.
    pub async fn run_defined(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        as_of: Option<Timestamp>,
        dry_run: bool,
    ) -> Result<RunReport, RunError> {
        let now = self.clock.now();
        let as_of = self.as_of(as_of)?;
        let record = self.definition(tenant, id).await?;
        if !dry_run && record.status != CampaignStatus::Active {
            return Err(RunError::NotActive(record.status));
        }
        let c = parse_definition(&record)?;
        let at = match c.trigger {
            Trigger::Broadcast { at } => at,
            Trigger::Birthday {} => {
                return self
                    .run_periodic(tenant, id, c, Periodic::Birthday, as_of, dry_run)
                    .await;
            }
            Trigger::Inactivity {
                days,
                cooldown_days,
            } => {
                let kind = Periodic::Inactivity {
                    days: u32::try_from(days.get()).unwrap_or(3650),
                    cooldown_days: cooldown_days.map_or(INACTIVITY_COOLDOWN_DAYS, |d| {
                        u32::try_from(d.get()).unwrap_or(3650)
                    }),
                };
                return self.run_periodic(tenant, id, c, kind, as_of, dry_run).await;
            }
            Trigger::PointsExpiring { days_before } => {
                let days = u32::try_from(days_before.get()).unwrap_or(365);
                return self.run_expiring(tenant, id, c, days, as_of, dry_run).await;
            }
            _ => return Err(RunError::NotRunnable(c.trigger.name())),
        };
        if !BroadcastRule::may_be_due(&at, as_of) {
            return Ok(RunReport::new(id.into(), as_of, dry_run));
        }
        let (job, rule) = self
            .broadcast_job(tenant, id, c, at, as_of, dry_run)
            .await?;
        let job = Arc::new(job);
        // Sent here by in-process workers, or queued for the senders when a queue is set.
        let queue = self.queue.as_ref().filter(|_| !dry_run);

        let mut report = RunReport::new(id.into(), as_of, dry_run);
        let default_tz = job.settings.timezone.clone();
        let mut cursor = None;
        loop {
            let (page, next) = self.store.snapshot_customers(tenant, cursor, PAGE).await?;
            let due: Vec<(IndexedRecipient, String, bool)> = page
                .into_iter()
                .filter(|c| {
                    rule.due(&c.profile, &default_tz, as_of)
                        && rule.audience.includes(&c.profile, &c.account, now)
                })
                .map(|c| {
                    // A hint: the claim reads the customer again, contact state included.
                    let r = IndexedRecipient {
                        recipient: Recipient {
                            profile: c.profile,
                            account: c.account,
                            contact: Default::default(),
                        },
                        version: String::new(),
                    };
                    (r, PERIOD_EVER.to_owned(), false)
                })
                .collect();
            report.candidates += due.len() as u64;
            if let Some(q) = queue {
                q.enqueue(&batches(tenant, id, as_of, &due)).await?;
                report.queued += due.len() as u64;
            } else if let Some(e) = job.claim_all(due, &mut report).await {
                return Err(e.into());
            }
            cursor = next;
            if cursor.is_none() {
                break;
            }
            if !dry_run && self.definition(tenant, id).await?.status != CampaignStatus::Active {
                tracing::info!(tenant = %tenant, campaign = %id, "campaign paused during a run");
                break;
            }
        }
        finish_report(tenant, &mut report);
        Ok(report)
    }

    /// Runs every active broadcast and points-expiring reminder of every tenant and the
    /// triggered sends parked for the end of quiet hours (the hourly schedule); a failure is logged and reported after the others
    /// ran.
    /// `only`: one tenant's (a backfill by hand, tests).
    pub async fn run_defined_all(
        &self,
        as_of: Option<Timestamp>,
        only: Option<&TenantId>,
    ) -> Result<Vec<(TenantId, RunReport)>, RunError> {
        let mut out = Vec::new();
        let mut failed = None;
        let tenants = match only {
            Some(t) => vec![t.clone()],
            None => self.store.tenant_ids().await?,
        };
        for tenant in tenants {
            if let Err(e) = self.run_parked(&tenant).await {
                tracing::error!(tenant = %tenant, error = %e, "parked triggers failed");
                failed = Some(e);
            }
            let records: Vec<CampaignRecord> =
                match documents::list(self.store.as_ref(), &tenant).await {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::error!(tenant = %tenant, error = %e, "campaign list failed");
                        failed = Some(RunError::Store(e));
                        continue;
                    }
                };
            for r in records {
                // The hourly run sends broadcasts and the scheduled triggers (their markers
                // make the hourly repeats send nothing twice).
                let runs_hourly =
                    parse_definition(&r).is_ok_and(|c| c.trigger.class() != TriggerClass::Event);
                if r.status != CampaignStatus::Active || !runs_hourly {
                    continue;
                }
                match self
                    .run_defined(&tenant, &r.campaign_id, as_of, false)
                    .await
                {
                    Ok(report) => out.push((tenant.clone(), report)),
                    // Paused between the list and the run.
                    Err(RunError::NotActive(_)) => {}
                    // The tenant's to fix; retrying the run would not help.
                    Err(RunError::NoSegment(seg)) => {
                        tracing::warn!(tenant = %tenant, campaign = %r.campaign_id, segment = %seg, "broadcast skipped: its segment is gone");
                    }
                    Err(e) => {
                        tracing::error!(tenant = %tenant, campaign = %r.campaign_id, error = %e, "campaign run failed");
                        failed = Some(e);
                    }
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// A broadcast's job and rule as of `as_of`: the tenant's settings, the audience, the
    /// definition's wording, offer, holdout and quiet hours.
    pub(crate) async fn broadcast_job(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        c: NewCampaign,
        at: LocalDateTime,
        as_of: Timestamp,
        dry_run: bool,
    ) -> Result<(Job, Arc<BroadcastRule>), RunError> {
        let audience = self.audience(tenant, c.audience.as_ref()).await?;
        let mut job = self.job_base(tenant, as_of, dry_run).await?;
        let rule = Arc::new(BroadcastRule {
            at,
            audience: AudienceCheck {
                filter: audience,
                settings: job.settings.clone(),
            },
        });
        job.rule = SendRule::Broadcast(rule.clone());
        configure(&mut job, id, c);
        Ok((job, rule))
    }

    pub(crate) async fn definition(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
    ) -> Result<CampaignRecord, RunError> {
        documents::get(self.store.as_ref(), tenant, id.as_str())
            .await?
            .ok_or(RunError::NoCampaign)
    }

    /// The audience's filter (`None`: every consenting customer).
    pub(crate) async fn audience(
        &self,
        tenant: &TenantId,
        audience: Option<&Audience>,
    ) -> Result<Option<Filter>, RunError> {
        match audience {
            None => Ok(None),
            Some(Audience::Filter(doc)) => Ok(Some(doc.filter.clone())),
            Some(Audience::Segment(id)) => {
                let seg: Segment = documents::get(self.store.as_ref(), tenant, id.as_str())
                    .await?
                    .ok_or_else(|| RunError::NoSegment(id.to_string()))?;
                let filter = seg
                    .parsed()
                    .map_err(|_| StoreError::Corrupt(format!("segment {id}")))?;
                Ok(Some(filter))
            }
        }
    }
}

/// Fills in the campaign part of a job from a definition (the rule is the caller's).
pub(crate) fn configure(job: &mut Job, id: &CampaignId, c: NewCampaign) {
    job.campaign = id.into();
    job.source = Source::Defined {
        templates: Arc::new(c.templates),
        offer: c.offer.map(|o| CouponOffer {
            value_minor: o.value_minor.get(),
            currency: o.currency,
            valid_days: u32::try_from(o.valid_days.get()).unwrap_or(u32::MAX),
        }),
    };
    job.cap_exempt = c.frequency_cap_exempt.unwrap_or(false);
    job.holdout_percent = c
        .holdout_percent
        .map_or(0, |p| u8::try_from(p.get()).unwrap_or(100));
    job.quiet_hours = c.quiet_hours.or(job.settings.campaigns.quiet_hours);
    job.attribution_days = c.attribution_days.map_or(DEFAULT_ATTRIBUTION_DAYS, |d| {
        u16::try_from(d.get()).unwrap_or(90)
    });
}

/// A stored definition, read again (it was checked when saved).
pub(crate) fn parse_definition(r: &CampaignRecord) -> Result<NewCampaign, StoreError> {
    NewCampaign::read(r.definition.clone()).map_err(|e| {
        StoreError::Corrupt(format!(
            "campaign {}: {}",
            r.campaign_id,
            e.0.first().map_or("invalid", |f| f.field.as_str())
        ))
    })
}
