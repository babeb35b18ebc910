//! One campaign's sending for one tenant: the claim of each candidate (marker, coupon and
//! contact state in one atomic step), the rendering, the send, the record. The same for the
//! built-in campaigns and the tenant's definitions: only where the wording and the offer come
//! from differ ([`Source`]).

use std::sync::Arc;

use fanloop_domain::campaigns::definition::Templates as DefinedTemplates;
use fanloop_domain::campaigns::quiet::QuietHours;
use fanloop_domain::campaigns::recommend::recommend;
use fanloop_domain::campaigns::triggers::TriggerEvent;
use fanloop_domain::campaigns::{
    CampaignKind, CampaignRef, CouponOffer, DryRunRecipient, Message, MessageStatus, Recipient,
    RunReport, SendClaim, SendPlan, SendPlanDue, SendRule, SkipReason, decide, new_message_id,
    send_key,
};
use fanloop_domain::deliverability::{FeedbackEvent, FeedbackKind, MailRef, mail_tags};
use fanloop_domain::points::{Coupon, CouponCode};
use fanloop_domain::ports::{
    ClaimOutcome, IndexedRecipient, MailError, Mailbox, OutgoingMail, StoreError,
};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::OsRandom;
use fanloop_domain::{CustomerId, TenantId};
use fanloop_mail::templates::{
    BrandContext, CouponContext, ExpiringContext, ItemContext, MailContext, PointsContext,
    PurchaseContext, format_amount,
};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::Campaigns;

/// Sends in flight at once within a run.
const CONCURRENCY: usize = 16;

pub(crate) enum Done {
    Sent,
    Skipped(SkipReason),
    Would(DryRunRecipient),
}

/// Where a campaign's wording and offer come from.
#[derive(Clone)]
pub(crate) enum Source {
    /// The built-in templates and the tenant's settings for the campaign.
    Builtin(CampaignKind),
    /// A campaign definition's own.
    Defined {
        templates: Arc<DefinedTemplates>,
        offer: Option<CouponOffer>,
    },
}

/// Cloned per campaign from one [`Campaigns::job_base`] (one read of the tenant and settings).
#[derive(Clone)]
pub(crate) struct Job {
    pub campaigns: Campaigns,
    pub tenant: TenantId,
    pub campaign: CampaignRef,
    pub rule: SendRule,
    pub source: Source,
    /// Left alone by the cross-campaign frequency cap.
    pub cap_exempt: bool,
    pub holdout_percent: u8,
    pub quiet_hours: Option<QuietHours>,
    pub attribution_days: u16,
    pub settings: Arc<TenantSettings>,
    pub due: SendPlanDue,
    pub sender: Mailbox,
    pub brand: BrandContext,
    pub dry_run: bool,
}

impl Job {
    /// Claims (and sends) each candidate, [`CONCURRENCY`] at once, counting into `report`;
    /// returns the last store failure (the others' outcomes are counted).
    pub async fn claim_all(
        self: &Arc<Self>,
        candidates: Vec<(IndexedRecipient, String, bool)>,
        report: &mut RunReport,
    ) -> Option<StoreError> {
        let permits = Arc::new(Semaphore::new(CONCURRENCY));
        let mut tasks = JoinSet::new();
        for (r, period, known) in candidates {
            let (job, permits) = (self.clone(), permits.clone());
            tasks.spawn(async move {
                let _permit = permits.acquire_owned().await;
                job.one(r, period, known).await
            });
        }
        let mut store_error = None;
        while let Some(res) = tasks.join_next().await {
            match res {
                Ok(Ok(Done::Sent)) => report.sent += 1,
                Ok(Ok(Done::Skipped(reason))) => report.skip(reason),
                Ok(Ok(Done::Would(who))) => {
                    if let Some(list) = report.recipients.as_mut() {
                        list.push(who);
                    }
                }
                Ok(Err(e)) => store_error = Some(e),
                Err(e) => store_error = Some(StoreError::Unavailable(format!("send task: {e}"))),
            }
        }
        store_error
    }

    /// Claims and sends one mail; `known` says whether `r` is a fresh index read the claim may
    /// start from (a run) or only a hint to read again (a single send).
    /// A purchase's thank-you: up to three catalogue items the customer does not own.
    async fn recommendations(&self, owned: &[String]) -> Result<Vec<ItemContext>, StoreError> {
        let s = &self.settings;
        let bought = match &self.rule {
            SendRule::Event(e) => match &e.record.event {
                TriggerEvent::Purchase { item: Some(i), .. } => i.sku.to_string(),
                _ => return Ok(Vec::new()),
            },
            _ => return Ok(Vec::new()),
        };
        if s.catalogue.is_empty() {
            return Ok(Vec::new());
        }
        let cs = &self.campaigns;
        let rows = cs
            .item_rows
            .get(
                cs.store.as_ref(),
                &self.tenant,
                cs.clock.now(),
                &s.timezone.tz(),
            )
            .await?;
        Ok(recommend(&s.catalogue, &bought, owned, &rows)
            .into_iter()
            .map(|c| ItemContext {
                sku: c.sku.to_string(),
                name: c.name.as_str().to_owned(),
                category: c.category.as_ref().map(ToString::to_string),
                url: c.url.as_ref().map(|u| u.as_str().to_owned()),
                image: c.image.as_ref().map(|u| u.as_str().to_owned()),
            })
            .collect())
    }

    /// What the triggering purchase was, for the template.
    fn purchase(&self) -> Option<PurchaseContext> {
        let SendRule::Event(e) = &self.rule else {
            return None;
        };
        let TriggerEvent::Purchase {
            amount_minor,
            currency,
            item,
        } = &e.record.event
        else {
            return None;
        };
        Some(PurchaseContext {
            item: item.as_ref().map(|i| {
                i.name
                    .as_ref()
                    .map_or_else(|| i.sku.to_string(), |n| n.as_str().to_owned())
            }),
            sku: item.as_ref().map(|i| i.sku.to_string()),
            category: item
                .as_ref()
                .and_then(|i| i.category.as_ref())
                .map(ToString::to_string),
            amount: amount_minor
                .zip(currency.as_deref())
                .map(|(a, c)| format_amount(a, c)),
        })
    }

    pub async fn one(
        &self,
        r: IndexedRecipient,
        period: String,
        known: bool,
    ) -> Result<Done, StoreError> {
        let cs = &self.campaigns;
        let now = cs.clock.now();
        let s = &self.settings;
        let profile = &r.recipient.profile;
        let tz = s.timezone.tz();
        let view = r.recipient.account.view(&s.points, now, &tz);
        let (locale, template, offer) = match &self.source {
            Source::Builtin(kind) => {
                let l = cs
                    .templates
                    .choose_locale(*kind, s, profile.locale.as_ref());
                let t = format!("{kind}/{l}");
                (l, t, Some(s.campaigns.offer(*kind, &view.tier)))
            }
            Source::Defined { templates, offer } => {
                let l = cs
                    .templates
                    .choose_defined_locale(templates, s, profile.locale.as_ref());
                let t = format!("{}/{l}", self.campaign);
                (l, t, offer.clone())
            }
        };
        // Checked before every claim: a bounced or complaining address is never mailed.
        let address_suppressed = match &profile.email {
            Some(e) => {
                crate::suppression::is_suppressed(cs.store.as_ref(), &self.tenant, e).await?
            }
            None => false,
        };
        let plan = SendPlan {
            campaign: self.campaign.clone(),
            rule: self.rule.clone(),
            period,
            now,
            cap: (!self.cap_exempt).then(|| s.campaigns.frequency_cap.clone()),
            due: self.due.clone(),
            message_id: new_message_id(now, &OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            coupon_code: CouponCode::generate(&OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?,
            offer,
            template,
            locale,
            holdout_percent: self.holdout_percent,
            quiet_hours: self.quiet_hours,
            attribution_days: self.attribution_days,
            address_suppressed,
        };
        if self.dry_run {
            // A hint carries no contact state: the customer's marker for this period decides.
            let existing = if known {
                None
            } else {
                let key = send_key(&plan.campaign, &plan.period);
                cs.store
                    .messages(&self.tenant, &profile.customer_id)
                    .await?
                    .into_iter()
                    .find(|m| m.key() == key)
            };
            return Ok(match decide(&plan, &r.recipient, existing.as_ref()) {
                Ok(c) if c.message.status == MessageStatus::HeldOut => {
                    Done::Skipped(SkipReason::HeldOut)
                }
                Ok(_) => Done::Would(DryRunRecipient {
                    customer_id: profile.customer_id.clone(),
                    period: plan.period,
                    locale: plan.locale,
                }),
                Err(reason) => Done::Skipped(reason),
            });
        }
        let customer = profile.customer_id.clone();
        let (claim, recipient) = match cs
            .store
            .claim_send(&self.tenant, &plan, &customer, known.then_some(&r))
            .await?
        {
            // The control group's marker is written: nothing to send.
            ClaimOutcome::Claimed(c, _) if c.message.status == MessageStatus::HeldOut => {
                return Ok(Done::Skipped(SkipReason::HeldOut));
            }
            ClaimOutcome::Claimed(c, r) => (c, r),
            ClaimOutcome::Skipped(reason) => return Ok(Done::Skipped(reason)),
            ClaimOutcome::NotFound => return Ok(Done::Skipped(SkipReason::NoLongerDue)),
        };
        self.send(claim, &recipient).await
    }

    async fn send(&self, claim: SendClaim, r: &Recipient) -> Result<Done, StoreError> {
        let cs = &self.campaigns;
        let s = &self.settings;
        let mut message = claim.message;
        let coupon: Option<Coupon> = match (claim.coupon, &message.coupon) {
            (Some(c), _) => Some(c),
            (None, Some(code)) => cs.store.coupon(&self.tenant, code).await?,
            (None, None) => None,
        };
        if message.coupon.is_some() && coupon.is_none() {
            return self
                .fail_with(message, &r.profile.customer_id, "coupon missing".into())
                .await;
        }
        let now = cs.clock.now();
        let tz = r.profile.timezone.as_ref().unwrap_or(&s.timezone).tz();
        let view = r.account.view(&s.points, now, &s.timezone.tz());
        let ctx = MailContext {
            name: r
                .profile
                .display_name
                .as_ref()
                .map(|n| n.as_str().to_owned()),
            brand: self.brand.clone(),
            points: PointsContext {
                balance: view.balance,
                tier: view.tier.to_string(),
            },
            coupon: coupon.map(|c| CouponContext {
                code: c.code.to_string(),
                value: format_amount(c.value_minor, c.currency.as_str()),
                value_minor: c.value_minor,
                currency: c.currency.to_string(),
                // The last whole day it can be used, as the customer's calendar shows it.
                expires_on: c
                    .expires_at
                    .checked_sub(jiff::SignedDuration::from_millis(1))
                    .unwrap_or(c.expires_at)
                    .to_zoned(tz)
                    .date()
                    .to_string(),
            }),
            purchase: self.purchase(),
            recommendations: self.recommendations(&r.account.totals.items).await?,
            expiring: match &self.rule {
                SendRule::Expiring(x) => {
                    x.points(&r.account, self.due.as_of)
                        .map(|points| ExpiringContext {
                            points,
                            last_day: x
                                .expires_at
                                .checked_sub(jiff::SignedDuration::from_millis(1))
                                .unwrap_or(x.expires_at)
                                .to_zoned(s.timezone.tz())
                                .date()
                                .to_string(),
                        })
                }
                _ => None,
            },
            unsubscribe_url: cs.unsubscribe_url(&self.tenant, &r.profile.customer_id),
        };
        let rendered = match &self.source {
            Source::Builtin(kind) => cs.templates.render(*kind, s, &message.locale, &ctx),
            Source::Defined { templates, .. } => cs.templates.render_defined(
                self.campaign.as_str(),
                templates,
                &message.locale,
                &ctx,
            ),
        };
        let (rendered, label) = match rendered {
            Ok(r) => r,
            Err(e) => {
                tracing::error!(tenant = %self.tenant, campaign = %self.campaign, error = %e, "template failed");
                return self
                    .fail_with(message, &r.profile.customer_id, "template failed".into())
                    .await;
            }
        };
        let Some(to) = r.profile.email.clone() else {
            return Ok(Done::Skipped(SkipReason::NoEmail));
        };
        let mail = OutgoingMail {
            id: message.id.clone(),
            from: self.sender.clone(),
            to: Mailbox {
                email: to,
                name: ctx.name.clone(),
            },
            subject: rendered.subject.clone(),
            html: rendered.html,
            text: rendered.text,
            unsubscribe_url: ctx.unsubscribe_url.clone(),
            date: now,
            tags: mail_tags(&MailRef {
                tenant: self.tenant.clone(),
                customer: r.profile.customer_id.clone(),
                message_id: message.id.clone(),
            }),
        };
        message.template = label;
        message.subject = Some(rendered.subject);
        cs.pacer.wait().await;
        match cs.mailer.send(&mail).await {
            Ok(d) => {
                tracing::debug!(tenant = %self.tenant, campaign = %self.campaign, message_id = %message.id, "mail sent");
                message.status = MessageStatus::Sent;
                message.provider = Some(d.provider.to_owned());
                message.provider_message_id = Some(d.provider_message_id);
                message.updated_at = cs.clock.now();
                cs.store
                    .finish_send(&self.tenant, &r.profile.customer_id, &message)
                    .await?;
                Ok(Done::Sent)
            }
            Err(e) => {
                let reason = match &e {
                    MailError::Throttled => "throttled".to_owned(),
                    MailError::Rejected(why) => format!("rejected: {why}"),
                    MailError::Bounced(why) => format!("bounced: {why}"),
                    MailError::Unavailable(why) => format!("unavailable: {why}"),
                };
                tracing::warn!(tenant = %self.tenant, campaign = %self.campaign, message_id = %message.id, error = %reason, "send failed");
                let bounce = matches!(e, MailError::Bounced(_)).then(|| FeedbackEvent {
                    kind: FeedbackKind::Bounced { permanent: true },
                    recipients: vec![mail.to.email.clone()],
                    at: cs.clock.now(),
                    mail: Some(MailRef {
                        tenant: self.tenant.clone(),
                        customer: r.profile.customer_id.clone(),
                        message_id: message.id.clone(),
                    }),
                });
                let done = self
                    .fail_with(message, &r.profile.customer_id, reason)
                    .await?;
                // The server refused the address for good: as an SES hard bounce would.
                if let Some(event) = bounce {
                    crate::suppression::apply_feedback(cs.store.as_ref(), &self.tenant, &event)
                        .await?;
                }
                Ok(done)
            }
        }
    }

    async fn fail_with(
        &self,
        mut message: Message,
        customer: &CustomerId,
        why: String,
    ) -> Result<Done, StoreError> {
        message.status = MessageStatus::Failed;
        message.error = Some(why);
        message.updated_at = self.campaigns.clock.now();
        self.campaigns
            .store
            .finish_send(&self.tenant, customer, &message)
            .await?;
        Ok(Done::Skipped(SkipReason::Failed))
    }
}
