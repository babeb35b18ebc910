//! Points-expiring reminders: the lot months due (`days_before` their expiry), the customers
//! the lot index lists under each, each account read again and claimed once per lot.

use std::sync::Arc;

use fanloop_domain::TenantId;
use fanloop_domain::campaigns::audience::AudienceCheck;
use fanloop_domain::campaigns::definition::{CampaignId, NewCampaign};
use fanloop_domain::campaigns::expiring::ExpiringRule;
use fanloop_domain::campaigns::{Recipient, RunReport, SendRule};
use fanloop_domain::ports::IndexedRecipient;
use jiff::Timestamp;

use crate::defined::configure;
use crate::{Campaigns, RunError};

/// Customers claimed at once.
const PAGE: usize = 500;

impl Campaigns {
    pub(crate) async fn run_expiring(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        c: NewCampaign,
        days_before: u32,
        as_of: Timestamp,
        dry_run: bool,
    ) -> Result<RunReport, RunError> {
        let mut report = RunReport::new(id.into(), as_of, dry_run);
        let filter = self.audience(tenant, c.audience.as_ref()).await?;
        let mut base = self.job_base(tenant, as_of, dry_run).await?;
        configure(&mut base, id, c);
        let settings = base.settings.clone();
        let tz = settings.timezone.tz();
        for (month, expires_at) in ExpiringRule::due_months(as_of, &tz, days_before) {
            let rule = Arc::new(ExpiringRule {
                month,
                expires_at,
                days_before,
                audience: AudienceCheck {
                    filter: filter.clone(),
                    settings: settings.clone(),
                },
            });
            let mut job = base.clone();
            job.rule = SendRule::Expiring(rule.clone());
            let job = Arc::new(job);
            let customers = self.store.customers_with_lot(tenant, &rule.month).await?;
            for page in customers.chunks(PAGE) {
                let mut due = Vec::new();
                for customer in page {
                    let Some((profile, account)) =
                        self.store.profile_and_account(tenant, customer).await?
                    else {
                        continue;
                    };
                    if rule.points(&account.account, as_of).is_none() {
                        continue;
                    }
                    let hint = IndexedRecipient {
                        recipient: Recipient {
                            profile,
                            account: account.account,
                            contact: Default::default(),
                        },
                        version: String::new(),
                    };
                    due.push((hint, rule.period(), false));
                }
                report.candidates += due.len() as u64;
                if let Some(e) = job.claim_all(due, &mut report).await {
                    return Err(e.into());
                }
            }
        }
        crate::runner::finish_report(tenant, &mut report);
        Ok(report)
    }
}
