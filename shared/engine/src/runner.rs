//! A campaign run: read the due customers from the campaign's index, claim each send (marker,
//! coupon, contact state in one atomic step), render, send, record. Repeating a run, or two runs
//! at once, sends nothing twice: the claim decides.

use std::collections::HashSet;
use std::sync::Arc;

use fanloop_domain::campaigns::backlog::{LateActive, WINBACK_BACKLOG_PER_RUN, WinbackBacklog};
use fanloop_domain::campaigns::definition::CampaignStatus;
use fanloop_domain::campaigns::outcomes::DEFAULT_ATTRIBUTION_DAYS;
use fanloop_domain::campaigns::schedule::{birthday_index_keys, winback_index_days};
use fanloop_domain::campaigns::unsubscribe::{PURPOSE_EMAIL_MARKETING, UnsubscribeKey};
use fanloop_domain::campaigns::{
    AS_OF_MAX_AHEAD, CampaignKind, Recipient, RunReport, SendPlanDue, SendRule, SkipReason,
    period_for,
};
use fanloop_domain::clock::Clock;
use fanloop_domain::ports::{IndexedRecipient, Mailbox, Mailer, Store, StoreError};
use fanloop_domain::values::Email;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_mail::Templates;
use fanloop_mail::templates::BrandContext;
use jiff::Timestamp;

use crate::job::{Done, Job, Source};
use crate::pacer::Pacer;

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("as_of is more than {AS_OF_MAX_AHEAD} ahead of the clock")]
    AsOfInFuture,
    #[error("no sender address: set sender.email in the settings")]
    NoSender,
    #[error("no such tenant")]
    NoTenant,
    #[error("no such campaign")]
    NoCampaign,
    /// Only an active campaign sends (a dry run works in any status).
    #[error("the campaign is {0:?}")]
    NotActive(CampaignStatus),
    /// The trigger's campaigns are started by their events or are not run by this engine yet.
    #[error("a {0} campaign is not run by hand")]
    NotRunnable(&'static str),
    /// The audience names a saved segment that was deleted.
    #[error("the audience's segment {0} does not exist")]
    NoSegment(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Queue(#[from] crate::fanout::QueueError),
}

/// What a campaign run needs, built once per process and shared.
#[derive(Clone)]
pub struct Campaigns {
    pub store: Arc<dyn Store>,
    pub mailer: Arc<dyn Mailer>,
    pub clock: Arc<dyn Clock>,
    pub templates: Arc<Templates>,
    pub unsubscribe_key: UnsubscribeKey,
    /// Base of the links in mails (`https://fanloop.example.com`), no trailing slash.
    pub public_url: String,
    /// The From address when the tenant set none (on AWS: the verified SES identity).
    pub default_sender: Option<Email>,
    pub pacer: Arc<Pacer>,
    /// The item counters recommendations rank from, cached per tenant.
    pub item_rows: crate::items::ItemRows,
    /// Where broadcast runs queue their batches for the senders (AWS: SQS); `None`: the run
    /// sends them itself.
    pub queue: Option<Arc<dyn crate::fanout::SendQueue>>,
}

impl Campaigns {
    pub fn unsubscribe_url(
        &self,
        tenant: &TenantId,
        customer: &fanloop_domain::CustomerId,
    ) -> String {
        let token = self
            .unsubscribe_key
            .sign(tenant, customer, PURPOSE_EMAIL_MARKETING);
        format!(
            "{}/unsubscribe/{token}",
            self.public_url.trim_end_matches('/')
        )
    }

    /// Runs `kind` for every tenant; a tenant that fails does not stop the others, and the run
    /// fails at the end so the scheduler retries it (the markers make the retry safe).
    pub async fn run_all(
        &self,
        kind: CampaignKind,
        as_of: Option<Timestamp>,
    ) -> Result<Vec<(TenantId, RunReport)>, RunError> {
        let mut out = Vec::new();
        let mut failed = None;
        for tenant in self.store.tenant_ids().await? {
            match self.run(&tenant, kind, as_of, false).await {
                Ok(r) => out.push((tenant, r)),
                Err(e) => {
                    tracing::error!(tenant = %tenant, campaign = %kind, error = %e, "campaign run failed");
                    failed = Some(e);
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(out),
        }
    }

    /// Takes the analytics snapshot of every tenant whose newest one is not of today (tenant
    /// time zone), or of every tenant when `force`; a tenant's failure is logged and reported
    /// after the others ran.
    pub async fn snapshot_all(&self, force: bool) -> Result<Vec<TenantId>, RunError> {
        let mut done = Vec::new();
        let mut failed = None;
        for tenant in self.store.tenant_ids().await? {
            let now = self.clock.now();
            let res = async {
                let settings = self.store.settings(&tenant).await?.settings;
                let today = now.to_zoned(settings.timezone.tz()).date();
                let latest = self.store.latest_snapshot(&tenant).await?;
                if !force && latest.is_some_and(|s| s.day == today) {
                    return Ok(false);
                }
                crate::snapshot::take(self.store.as_ref(), &tenant, &settings, now).await?;
                Ok::<_, fanloop_domain::ports::StoreError>(true)
            }
            .await;
            match res {
                Ok(true) => done.push(tenant),
                Ok(false) => {}
                Err(e) => {
                    tracing::error!(tenant = %tenant, error = %e, "analytics snapshot failed");
                    failed = Some(RunError::Store(e));
                }
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    /// The moment a run acts for: `as_of`, default now; refused when more than
    /// [`AS_OF_MAX_AHEAD`] ahead of the clock.
    pub(crate) fn as_of(&self, as_of: Option<Timestamp>) -> Result<Timestamp, RunError> {
        let now = self.clock.now();
        let as_of = as_of.unwrap_or(now);
        if as_of > now.checked_add(AS_OF_MAX_AHEAD).unwrap_or(now) {
            return Err(RunError::AsOfInFuture);
        }
        Ok(as_of)
    }

    /// Runs `kind` for one tenant, acting for `as_of` (default: now).
    pub async fn run(
        &self,
        tenant: &TenantId,
        kind: CampaignKind,
        as_of: Option<Timestamp>,
        dry_run: bool,
    ) -> Result<RunReport, RunError> {
        let as_of = self.as_of(as_of)?;
        let mut report = RunReport::new(kind.into(), as_of, dry_run);
        let Some(job) = self.job(tenant, kind, as_of, dry_run).await? else {
            if kind == CampaignKind::Winback && !dry_run {
                // Switched off: switching it on again starts the backlog pass afresh.
                if self.store.winback_backlog(tenant).await?.is_some() {
                    self.store.save_winback_backlog(tenant, None).await?;
                }
            }
            return Ok(report);
        };
        let due = job.due.clone();
        let mut seen = HashSet::new();
        let mut candidates = Vec::new();
        let mut backlog = None;
        let batches = match kind {
            CampaignKind::Birthday => {
                let mut v = Vec::new();
                for md in birthday_index_keys(as_of) {
                    v.push(self.store.recipients_by_birthday(tenant, &md).await?);
                }
                v
            }
            CampaignKind::Winback => {
                let mut v = Vec::new();
                for day in winback_index_days(as_of, due.inactive_days, due.cooldown_days) {
                    v.push(self.store.recipients_last_active_on(tenant, day).await?);
                }
                let b = self.backlog(tenant, &due).await?;
                v.extend(b.batches.iter().cloned());
                backlog = Some(b);
                v
            }
            // Sent one at a time by the surveys function ([`Campaigns::send_recovery`]).
            CampaignKind::Recovery => Vec::new(),
        };
        let late = backlog.as_ref().map(|b| b.late.clone()).unwrap_or_default();
        for (r, known) in batches
            .into_iter()
            .flatten()
            .map(|r| (r, true))
            .chain(late.into_iter().map(|r| (r, false)))
        {
            if let Some(period) = period_for(kind, &r.recipient.profile, &due)
                && seen.insert(r.recipient.profile.customer_id.clone())
            {
                candidates.push((r, period, known));
            }
        }
        report.candidates = candidates.len() as u64;

        let job = Arc::new(job);
        let store_error = job.claim_all(candidates, &mut report).await;
        finish_report(tenant, &mut report);
        // Customers not reached because the store failed are picked up by the next run: the
        // backlog moves on only after a run that reached everyone it read.
        if let Some(e) = store_error {
            return Err(e.into());
        }
        if let Some(b) = backlog
            && !dry_run
        {
            if b.saved.as_ref() != Some(&b.pass) {
                self.store
                    .save_winback_backlog(tenant, Some(&b.pass))
                    .await?;
            }
            self.store.clear_late_actives(tenant, &b.markers).await?;
        }
        Ok(report)
    }

    /// The backlog part of a win-back run: the next days of the day pass (at most
    /// [`WINBACK_BACKLOG_PER_RUN`] customers) and the customers marked by late activity.
    async fn backlog(&self, tenant: &TenantId, due: &SendPlanDue) -> Result<Backlog, RunError> {
        let saved = self.store.winback_backlog(tenant).await?;
        let mut pass = WinbackBacklog::resume(saved.clone(), due.inactive_days, due.as_of);
        let mut batches = Vec::new();
        let mut read = 0;
        while !pass.is_done(due.as_of) && read < WINBACK_BACKLOG_PER_RUN {
            let day = self
                .store
                .recipients_last_active_on(tenant, pass.next_day)
                .await?;
            read += day.len();
            batches.push(day);
            pass.advance();
        }
        let markers = self
            .store
            .late_actives(tenant, WINBACK_BACKLOG_PER_RUN)
            .await?;
        let mut late = Vec::new();
        for m in &markers {
            if let Some((profile, account)) = self
                .store
                .profile_and_account(tenant, &m.customer_id)
                .await?
            {
                late.push(hint(profile, account));
            }
        }
        Ok(Backlog {
            saved,
            pass,
            batches,
            markers,
            late,
        })
    }
}

/// Puts a run's dry-run recipients in order and logs what the run did (ids and counts only).
pub(crate) fn finish_report(tenant: &TenantId, report: &mut RunReport) {
    report.sort_recipients();
    tracing::info!(
        tenant = %tenant,
        campaign = report.campaign.as_ref().map_or("", |c| c.as_str()),
        as_of = ?report.as_of, dry_run = report.dry_run,
        candidates = report.candidates, sent = report.sent,
        skipped = ?report.skipped, "campaign run"
    );
}

/// A customer as a hint for a claim that reads them again (contact state included).
fn hint(
    profile: fanloop_domain::profile::Profile,
    account: fanloop_domain::ports::AccountRecord,
) -> IndexedRecipient {
    IndexedRecipient {
        recipient: Recipient {
            profile,
            account: account.account,
            contact: Default::default(),
        },
        version: String::new(),
    }
}

/// What a win-back run read from the backlog, and where the pass stands after it.
struct Backlog {
    saved: Option<WinbackBacklog>,
    pass: WinbackBacklog,
    batches: Vec<Vec<IndexedRecipient>>,
    markers: Vec<LateActive>,
    late: Vec<IndexedRecipient>,
}

impl Campaigns {
    /// What sending `kind` for `tenant` needs: settings, sender, brand, due inputs; `None`
    /// when the tenant turned the campaign off.
    async fn job(
        &self,
        tenant: &TenantId,
        kind: CampaignKind,
        as_of: Timestamp,
        dry_run: bool,
    ) -> Result<Option<Job>, RunError> {
        let base = self.job_base(tenant, as_of, dry_run).await?;
        if !base.settings.campaigns.enabled(kind) {
            return Ok(None);
        }
        Ok(Some(Job {
            campaign: kind.into(),
            rule: SendRule::Builtin(kind),
            source: Source::Builtin(kind),
            cap_exempt: false,
            holdout_percent: 0,
            quiet_hours: None,
            ..base
        }))
    }

    /// A job's tenant part: settings, sender, brand, due inputs; the campaign part is the
    /// caller's to fill in.
    pub(crate) async fn job_base(
        &self,
        tenant: &TenantId,
        as_of: Timestamp,
        dry_run: bool,
    ) -> Result<Job, RunError> {
        let tenant_record = self.store.tenant(tenant).await?.ok_or(RunError::NoTenant)?;
        let settings = Arc::new(self.store.settings(tenant).await?.settings);
        // Once per run, before its sends start at once: each send then finds it cached.
        crate::suppression::address_key(self.store.as_ref(), tenant).await?;
        let sender = Mailbox {
            email: settings
                .sender
                .email
                .clone()
                .or_else(|| self.default_sender.clone())
                .ok_or(RunError::NoSender)?,
            name: settings
                .sender
                .name
                .as_ref()
                .or(settings.brand.name.as_ref())
                .map(|n| n.as_str().to_owned())
                .or_else(|| Some(tenant_record.name.clone())),
        };
        let brand = BrandContext {
            name: settings
                .brand
                .name
                .as_ref()
                .map(|n| n.as_str().to_owned())
                .unwrap_or_else(|| tenant_record.name.clone()),
            url: settings.brand.url.as_ref().map(|u| u.as_str().to_owned()),
        };
        Ok(Job {
            campaigns: self.clone(),
            tenant: tenant.clone(),
            campaign: CampaignKind::Birthday.into(),
            rule: SendRule::Builtin(CampaignKind::Birthday),
            source: Source::Builtin(CampaignKind::Birthday),
            cap_exempt: false,
            holdout_percent: 0,
            quiet_hours: None,
            attribution_days: DEFAULT_ATTRIBUTION_DAYS,
            due: SendPlanDue::from_settings(&settings, as_of),
            settings,
            sender,
            brand,
            dry_run,
        })
    }

    /// Sends the recovery mail for follow-up `followup_id` to `customer`, once: the follow-up
    /// is the period, so a repeated call finds the marker; the cooldown, the frequency cap and
    /// consent are checked in the same atomic claim as for every campaign.
    pub async fn send_recovery(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        followup_id: &str,
    ) -> Result<RecoveryOutcome, RunError> {
        let now = self.clock.now();
        let Some(job) = self.job(tenant, CampaignKind::Recovery, now, false).await? else {
            return Ok(RecoveryOutcome::Disabled);
        };
        let Some(r) = self.store.profile_and_account(tenant, customer).await? else {
            return Ok(RecoveryOutcome::Skipped(SkipReason::NoLongerDue));
        };
        let recipient = hint(r.0, r.1);
        // The claim reads the customer again (contact state included) in its atomic step.
        Ok(
            match job.one(recipient, followup_id.to_owned(), false).await? {
                Done::Sent => RecoveryOutcome::Sent,
                Done::Skipped(reason) => RecoveryOutcome::Skipped(reason),
                Done::Would(_) => RecoveryOutcome::Skipped(SkipReason::InProgress),
            },
        )
    }
}

/// What became of a recovery mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// The tenant has not turned recovery mails on.
    Disabled,
    Sent,
    Skipped(SkipReason),
}

impl RecoveryOutcome {
    /// `sent`, `disabled`, or the skip reason (`no_consent`, `suppressed`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Disabled => "disabled",
            Self::Sent => "sent",
            Self::Skipped(r) => r.as_str(),
        }
    }
}
