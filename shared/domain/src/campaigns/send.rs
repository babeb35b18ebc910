//! The send rules: whether a customer gets a campaign's mail, decided on the customer as read
//! in the claim's atomic step.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::broadcast::BroadcastRule;
use super::expiring::ExpiringRule;
use super::periodic::PeriodicRule;
use super::quiet::QuietHours;
use super::tally::Expect;
use super::triggers::EventRule;
use super::{
    CampaignKind, CampaignRef, ContactState, CouponOffer, FrequencyCap, Message, MessageStatus,
    SkipReason, holdout, schedule,
};
use crate::points::{Account, Coupon, CouponCode};
use crate::profile::Profile;
use crate::values::Locale;

/// A run may act for a moment at most this far ahead of the clock (clock skew between the
/// scheduler and the function); later is refused so nothing goes out early.
pub const AS_OF_MAX_AHEAD: SignedDuration = SignedDuration::from_mins(5);

/// A claimed send not finished within this time is taken to have crashed and is retried.
pub const SEND_LEASE: SignedDuration = SignedDuration::from_mins(15);

/// A send that failed is retried by later runs until it has been tried this often.
pub const MAX_ATTEMPTS: u32 = 3;

/// What the campaign needs to know about a customer, as read in the claim's atomic step.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipient {
    pub profile: Profile,
    pub account: Account,
    pub contact: ContactState,
}

/// A send as it is claimed: the marker (pending), the coupon to mint with it (a new claim
/// only), and the contact state to store.
#[derive(Clone, Debug, PartialEq)]
pub struct SendClaim {
    pub message: Message,
    pub coupon: Option<Coupon>,
    pub contact: ContactState,
    /// How the stored marker must still be for the claim to apply: none yet, the attempt it
    /// takes over (a crashed or failed send), or a skip marker it replaces.
    pub expect: Expect,
}

/// Everything a claim decision needs besides the recipient.
#[derive(Clone, Debug)]
pub struct SendPlan {
    pub campaign: CampaignRef,
    /// What makes the customer due, checked again on the customer as read in the claim.
    pub rule: SendRule,
    pub period: String,
    pub now: Timestamp,
    /// The cross-campaign frequency cap; `None` for a campaign the tenant made exempt.
    pub cap: Option<FrequencyCap>,
    /// Checked again on the customer as read in the claim.
    pub due: SendPlanDue,
    /// The message and coupon a new claim writes (id and code drawn before the atomic step,
    /// so a retried step claims the same ones).
    pub message_id: String,
    pub coupon_code: CouponCode,
    /// The coupon the mail carries; `None`: a mail without one.
    pub offer: Option<CouponOffer>,
    pub locale: Locale,
    pub template: String,
    /// The control group's share, 0–100 ([`holdout::held_out`]).
    pub holdout_percent: u8,
    /// Local times in the customer's zone when nothing is sent (a later run sends it).
    pub quiet_hours: Option<QuietHours>,
    /// Purchases within this many days of the mail convert it (the report's conversions).
    pub attribution_days: u16,
    /// The recipient's address is on the tenant's suppression list (looked up by the caller
    /// just before the claim): never mailed, skipped as `suppressed_address`.
    pub address_suppressed: bool,
}

/// What makes a customer due for a campaign.
#[derive(Clone, Debug)]
pub enum SendRule {
    /// A built-in campaign's calendar (birthday, win-back) or none (recovery: the follow-up is
    /// the period).
    Builtin(CampaignKind),
    Broadcast(Arc<BroadcastRule>),
    /// A trigger record: due when it happened; dropped when quiet hours would hold it past its
    /// `max_delay`.
    Event(Arc<EventRule>),
    /// A lot of points about to expire: due while the customer still holds points of it.
    Expiring(Arc<ExpiringRule>),
    /// A definition's birthday or inactivity trigger.
    Periodic(Arc<PeriodicRule>),
}

impl SendRule {
    /// No second mail of the campaign within this many days of the last one.
    fn cooldown_days(&self, due: &SendPlanDue) -> Option<u32> {
        match self {
            Self::Builtin(k) => due.cooldown_days(*k),
            Self::Periodic(p) => p.cooldown_days(),
            Self::Broadcast(_) | Self::Event(_) | Self::Expiring(_) => None,
        }
    }
}

/// The inputs of the due check, carried with the plan.
#[derive(Clone, Debug)]
pub struct SendPlanDue {
    pub as_of: Timestamp,
    pub send_hour: u8,
    pub default_tz: crate::values::TimeZoneName,
    pub inactive_days: u32,
    pub cooldown_days: u32,
    pub recovery_cooldown_days: u32,
}

impl SendPlanDue {
    /// The due-check inputs a tenant's settings give for a moment.
    pub fn from_settings(s: &crate::settings::TenantSettings, as_of: Timestamp) -> Self {
        let c = &s.campaigns;
        Self {
            as_of,
            send_hour: c.send_hour,
            default_tz: s.timezone.clone(),
            inactive_days: c.winback.inactive_days,
            cooldown_days: c.winback.cooldown_days,
            recovery_cooldown_days: c.recovery.cooldown_days,
        }
    }

    /// No second mail of `kind` within this many days of the last one.
    fn cooldown_days(&self, kind: CampaignKind) -> Option<u32> {
        match kind {
            CampaignKind::Birthday => None,
            CampaignKind::Winback => Some(self.cooldown_days),
            CampaignKind::Recovery => Some(self.recovery_cooldown_days),
        }
    }
}

/// The period a birthday mail is due for at `due.as_of`, if any.
pub fn birthday_period(p: &Profile, due: &SendPlanDue) -> Option<String> {
    let b = p.birthday?;
    let tz = p.timezone.as_ref().unwrap_or(&due.default_tz).tz();
    schedule::birthday_due(b, due.send_hour, &tz, due.as_of).map(|(y, _)| y.to_string())
}

/// The win-back period a customer is due for at `due.as_of`, if any.
pub fn winback_period(p: &Profile, due: &SendPlanDue) -> Option<String> {
    schedule::winback_period(
        schedule::last_active_day(p.last_active_at, p.created_at),
        due.as_of,
        due.inactive_days,
        due.cooldown_days,
    )
}

/// The period a scheduled campaign is due for; `None` for recovery, whose period (the
/// follow-up) comes from the survey answer, not from the calendar.
pub fn period_for(kind: CampaignKind, p: &Profile, due: &SendPlanDue) -> Option<String> {
    match kind {
        CampaignKind::Birthday => birthday_period(p, due),
        CampaignKind::Winback => winback_period(p, due),
        CampaignKind::Recovery => None,
    }
}

/// The send rules, applied to the recipient and the existing marker as read in the claim's
/// atomic step. Order: an existing marker decides first (sent, in progress, retry of a crashed
/// or failed send); then the customer must still be due (and in the audience), have an address
/// and consent, not be in the control group nor in quiet hours, and be under the frequency cap
/// and outside the campaign's cooldown.
pub fn decide(
    plan: &SendPlan,
    r: &Recipient,
    existing: Option<&Message>,
) -> Result<SendClaim, SkipReason> {
    // A skip marker decides nothing: the customer is decided again, and a claim replaces it.
    let skipped = existing.filter(|m| m.status == MessageStatus::Skipped);
    if let Some(m) = existing.filter(|m| m.status != MessageStatus::Skipped) {
        let retry = match m.status {
            MessageStatus::Sent => return Err(SkipReason::AlreadySent),
            MessageStatus::HeldOut => return Err(SkipReason::HeldOut),
            MessageStatus::Pending => {
                let stale = m
                    .updated_at
                    .checked_add(SEND_LEASE)
                    .is_ok_and(|t| t <= plan.now);
                if !stale {
                    return Err(SkipReason::InProgress);
                }
                m.attempts < MAX_ATTEMPTS
            }
            MessageStatus::Failed => m.attempts < MAX_ATTEMPTS,
            MessageStatus::Skipped => true,
        };
        if !retry {
            return Err(SkipReason::Failed);
        }
        // Consent is checked again: the customer may have unsubscribed since the first try.
        check_reachable(plan, &r.profile)?;
        let mut message = m.clone();
        message.status = MessageStatus::Pending;
        message.attempts += 1;
        message.updated_at = plan.now;
        message.error = None;
        return Ok(SendClaim {
            message,
            coupon: None,
            contact: r.contact.clone(),
            expect: Expect::Attempt(m.attempts),
        });
    }
    let due = match &plan.rule {
        SendRule::Builtin(CampaignKind::Recovery) => true,
        SendRule::Builtin(kind) => {
            period_for(*kind, &r.profile, &plan.due).as_deref() == Some(plan.period.as_str())
        }
        SendRule::Broadcast(b) => {
            b.due(&r.profile, &plan.due.default_tz, plan.due.as_of)
                && b.audience.includes(&r.profile, &r.account, plan.now)
        }
        SendRule::Event(e) => e.audience.includes(&r.profile, &r.account, plan.now),
        SendRule::Periodic(x) => {
            x.period(&r.profile, &plan.due).as_deref() == Some(plan.period.as_str())
                && x.audience.includes(&r.profile, &r.account, plan.now)
        }
        SendRule::Expiring(x) => {
            x.points(&r.account, plan.due.as_of).is_some()
                && x.audience.includes(&r.profile, &r.account, plan.now)
        }
    };
    if !due {
        return Err(SkipReason::NoLongerDue);
    }
    check_reachable(plan, &r.profile)?;
    if r.contact
        .last
        .get(&plan.campaign)
        .is_some_and(|(p, _)| *p == plan.period)
    {
        return Err(SkipReason::AlreadySent);
    }
    // A triggered mail later than its `max_delay` (held by quiet hours before, or a backlog
    // of deliveries) is dropped, however often it is handled.
    if let SendRule::Event(e) = &plan.rule
        && e.too_late(plan.now)
    {
        return Err(SkipReason::TooLate);
    }
    let customer = r.profile.customer_id.as_str();
    if holdout::held_out(plan.campaign.as_str(), customer, plan.holdout_percent) {
        // Recorded (the marker, in the log, and the control's attribution window), neither
        // mailed nor counted by the cap.
        let mut contact = r.contact.clone();
        contact.touch(&plan.campaign, plan.now, plan.attribution_days, true);
        return Ok(SendClaim {
            message: Message {
                status: MessageStatus::HeldOut,
                coupon: None,
                ..new_message(plan)
            },
            coupon: None,
            contact,
            expect: Expect::of(skipped),
        });
    }
    if let Some(q) = &plan.quiet_hours {
        let tz = r.profile.timezone.as_ref().unwrap_or(&plan.due.default_tz);
        let allowed = q.next_allowed(plan.now, &tz.tz());
        if allowed != plan.now {
            if let SendRule::Event(e) = &plan.rule
                && e.too_late(allowed)
            {
                return Err(SkipReason::TooLate);
            }
            return Err(SkipReason::QuietHours);
        }
    }
    if let Some(cap) = &plan.cap {
        let window = SignedDuration::from_hours(24 * i64::from(cap.per_days));
        let since = plan.now.checked_sub(window).unwrap_or(Timestamp::MIN);
        if r.contact.sent_since(since) >= cap.max_mails as usize {
            return Err(SkipReason::Suppressed);
        }
    }
    if let Some(days) = plan.rule.cooldown_days(&plan.due) {
        let since = plan
            .now
            .checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
            .unwrap_or(Timestamp::MIN)
            .as_millisecond();
        if r.contact
            .last
            .get(&plan.campaign)
            .is_some_and(|(_, at)| *at > since)
        {
            return Err(SkipReason::Suppressed);
        }
    }
    let coupon = plan.offer.as_ref().map(|offer| {
        Coupon::mint(
            plan.coupon_code.clone(),
            r.profile.customer_id.clone(),
            offer.value_minor,
            offer.currency.clone(),
            format!("campaign:{}:{}", plan.campaign, plan.period),
            plan.now,
            offer.valid_days,
        )
        .0
    });
    let mut contact = r.contact.clone();
    contact.record(&plan.campaign, &plan.period, plan.now);
    contact.touch(&plan.campaign, plan.now, plan.attribution_days, false);
    Ok(SendClaim {
        message: Message {
            coupon: coupon.as_ref().map(|c| c.code.clone()),
            ..new_message(plan)
        },
        coupon,
        contact,
        expect: Expect::of(skipped),
    })
}

/// The marker a new claim writes: pending, first attempt.
pub(super) fn new_message(plan: &SendPlan) -> Message {
    Message {
        id: plan.message_id.clone(),
        campaign: plan.campaign.clone(),
        period: plan.period.clone(),
        template: plan.template.clone(),
        locale: plan.locale.clone(),
        subject: None,
        coupon: None,
        provider: None,
        provider_message_id: None,
        status: MessageStatus::Pending,
        attempts: 1,
        error: None,
        reason: None,
        delivery: None,
        created_at: plan.now,
        updated_at: plan.now,
    }
}

fn check_reachable(plan: &SendPlan, p: &Profile) -> Result<(), SkipReason> {
    if p.email.is_none() {
        return Err(SkipReason::NoEmail);
    }
    if !p.consent.email_marketing_granted() {
        return Err(SkipReason::NoConsent);
    }
    if plan.address_suppressed {
        return Err(SkipReason::SuppressedAddress);
    }
    Ok(())
}
