//! Runs of a definition's periodic trigger (`birthday`, `inactivity`): the customers come from
//! the same indexes as the built-in birthday and win-back runs (the birthday index by `MM-DD`,
//! the last-active index by day), each kept if due in its own zone and in the audience, then
//! claimed once per period.

use std::collections::HashSet;
use std::sync::Arc;

use fanloop_domain::TenantId;
use fanloop_domain::campaigns::audience::AudienceCheck;
use fanloop_domain::campaigns::definition::{CampaignId, NewCampaign};
use fanloop_domain::campaigns::periodic::{Periodic, PeriodicRule};
use fanloop_domain::campaigns::schedule::{birthday_index_keys, winback_index_days};
use fanloop_domain::campaigns::{RunReport, SendRule};
use jiff::Timestamp;

use crate::defined::configure;
use crate::{Campaigns, RunError};

impl Campaigns {
    pub(crate) async fn run_periodic(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        c: NewCampaign,
        kind: Periodic,
        as_of: Timestamp,
        dry_run: bool,
    ) -> Result<RunReport, RunError> {
        let filter = self.audience(tenant, c.audience.as_ref()).await?;
        let mut job = self.job_base(tenant, as_of, dry_run).await?;
        let rule = Arc::new(PeriodicRule {
            kind: kind.clone(),
            audience: AudienceCheck {
                filter,
                settings: job.settings.clone(),
            },
        });
        job.rule = SendRule::Periodic(rule.clone());
        configure(&mut job, id, c);
        let job = Arc::new(job);
        let batches = match kind {
            Periodic::Birthday => {
                let mut v = Vec::new();
                for md in birthday_index_keys(as_of) {
                    v.push(self.store.recipients_by_birthday(tenant, &md).await?);
                }
                v
            }
            Periodic::Inactivity {
                days,
                cooldown_days,
            } => {
                let mut v = Vec::new();
                for day in winback_index_days(as_of, days, cooldown_days) {
                    v.push(self.store.recipients_last_active_on(tenant, day).await?);
                }
                v
            }
        };
        let mut report = RunReport::new(id.into(), as_of, dry_run);
        let mut seen = HashSet::new();
        let mut due = Vec::new();
        for r in batches.into_iter().flatten() {
            let p = &r.recipient;
            if let Some(period) = rule.period(&p.profile, &job.due)
                && rule.audience.includes(&p.profile, &p.account, as_of)
                && seen.insert(p.profile.customer_id.clone())
            {
                // An index read: the claim may start from it (contact state included).
                due.push((r, period, true));
            }
        }
        report.candidates = due.len() as u64;
        if let Some(e) = job.claim_all(due, &mut report).await {
            return Err(e.into());
        }
        crate::runner::finish_report(tenant, &mut report);
        Ok(report)
    }
}
