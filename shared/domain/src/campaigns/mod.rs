//! Campaigns: the birthday and win-back mails, their settings, the send rules (consent, one mail
//! per campaign period, frequency cap, cooldown) and the communication log entries. Pure: the
//! runner in `functions/campaigns` does the reading, claiming, rendering and sending.

pub mod backlog;
pub mod definition;
pub mod holdout;
pub mod quiet;
pub mod schedule;
pub mod unsubscribe;

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationErrors;
use crate::points::rules::{MAX_AMOUNT, TierName, UnitCode};
use crate::points::{Account, Coupon, CouponCode, PointsSettings};
use crate::profile::Profile;
use crate::values::Locale;

/// The automated campaigns.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CampaignKind {
    Birthday,
    Winback,
    /// The apology with a recovery coupon after an unhappy survey answer (sent by the surveys
    /// function, never by a scheduled run).
    Recovery,
}

impl CampaignKind {
    pub const ALL: [CampaignKind; 3] = [
        CampaignKind::Birthday,
        CampaignKind::Winback,
        CampaignKind::Recovery,
    ];

    /// The campaigns a run (scheduled, HTTP or CLI) can start.
    pub const SCHEDULED: [CampaignKind; 2] = [CampaignKind::Birthday, CampaignKind::Winback];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Birthday => "birthday",
            Self::Winback => "winback",
            Self::Recovery => "recovery",
        }
    }

    /// A campaign that runs on a schedule (`birthday`, `winback`).
    pub fn parse(s: &str) -> Option<Self> {
        Self::SCHEDULED.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for CampaignKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A run may act for a moment at most this far ahead of the clock (clock skew between the
/// scheduler and the function); later is refused so nothing goes out early.
pub const AS_OF_MAX_AHEAD: SignedDuration = SignedDuration::from_mins(5);

/// A claimed send not finished within this time is taken to have crashed and is retried.
pub const SEND_LEASE: SignedDuration = SignedDuration::from_mins(15);

/// A send that failed is retried by later runs until it has been tried this often.
pub const MAX_ATTEMPTS: u32 = 3;

/// The coupon a campaign mail carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CouponOffer {
    /// Value in minor units of `currency` (500 = 5.00 USD).
    pub value_minor: u64,
    #[schema(value_type = String)]
    pub currency: UnitCode,
    pub valid_days: u32,
}

impl Default for CouponOffer {
    fn default() -> Self {
        Self {
            value_minor: 500,
            currency: UnitCode::parse("USD").unwrap_or_else(|_| unreachable!("USD is valid")),
            valid_days: 30,
        }
    }
}

/// A tenant's own wording for one locale; absent parts use the built-in template. Templates are
/// MiniJinja; they are rendered with sample data when saved, and one that fails is refused.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TemplateOverride {
    pub subject: Option<String>,
    pub html: Option<String>,
    pub text: Option<String>,
}

pub const TEMPLATE_MAX_LEN: usize = 16 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct BirthdaySettings {
    pub enabled: bool,
    pub coupon: CouponOffer,
    /// By locale (`zh-CN`, `en`, …).
    pub templates: BTreeMap<String, TemplateOverride>,
}

impl Default for BirthdaySettings {
    fn default() -> Self {
        Self {
            enabled: true,
            coupon: CouponOffer::default(),
            templates: BTreeMap::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct WinbackSettings {
    pub enabled: bool,
    /// Days without activity after which a customer gets the mail.
    pub inactive_days: u32,
    /// No second win-back mail within this many days.
    pub cooldown_days: u32,
    /// The coupon; `value_minor_by_tier` overrides its value for customers of a tier.
    pub coupon: CouponOffer,
    #[schema(value_type = Object)]
    pub value_minor_by_tier: BTreeMap<TierName, u64>,
    pub templates: BTreeMap<String, TemplateOverride>,
}

impl Default for WinbackSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            inactive_days: 30,
            cooldown_days: 90,
            coupon: CouponOffer {
                valid_days: 14,
                ..CouponOffer::default()
            },
            value_minor_by_tier: BTreeMap::new(),
            templates: BTreeMap::new(),
        }
    }
}

/// The recovery mail: after a detractor (NPS ≤ 6) or unhappy (CSAT ≤ 2) survey answer, an
/// apology with a coupon, at most once per customer in `cooldown_days`, only with consent.
/// Off unless the tenant turns it on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RecoverySettings {
    pub enabled: bool,
    pub cooldown_days: u32,
    pub coupon: CouponOffer,
    pub templates: BTreeMap<String, TemplateOverride>,
}

impl Default for RecoverySettings {
    fn default() -> Self {
        Self {
            enabled: false,
            cooldown_days: 30,
            coupon: CouponOffer {
                valid_days: 30,
                ..CouponOffer::default()
            },
            templates: BTreeMap::new(),
        }
    }
}

/// At most `max_mails` marketing mails per customer in any `per_days` days, across campaigns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct FrequencyCap {
    pub max_mails: u32,
    pub per_days: u32,
}

impl Default for FrequencyCap {
    fn default() -> Self {
        Self {
            max_mails: 2,
            per_days: 7,
        }
    }
}

/// Settings section `campaigns`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignSettings {
    /// Local hour (0–23) at which birthday mails go out, in the customer's time zone.
    pub send_hour: u8,
    pub frequency_cap: FrequencyCap,
    pub birthday: BirthdaySettings,
    pub winback: WinbackSettings,
    pub recovery: RecoverySettings,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            send_hour: 10,
            frequency_cap: FrequencyCap::default(),
            birthday: BirthdaySettings::default(),
            winback: WinbackSettings::default(),
            recovery: RecoverySettings::default(),
        }
    }
}

impl CampaignSettings {
    pub fn validate(&self, points: &PointsSettings, errs: &mut ValidationErrors) {
        if self.send_hour > 23 {
            errs.push("campaigns.send_hour", "must be 0 to 23");
        }
        let f = &self.frequency_cap;
        if !(1..=100).contains(&f.max_mails) {
            errs.push("campaigns.frequency_cap.max_mails", "must be 1 to 100");
        }
        if !(1..=365).contains(&f.per_days) {
            errs.push("campaigns.frequency_cap.per_days", "must be 1 to 365");
        }
        let w = &self.winback;
        if !(1..=3650).contains(&w.inactive_days) {
            errs.push("campaigns.winback.inactive_days", "must be 1 to 3650");
        }
        if !(1..=3650).contains(&w.cooldown_days) {
            errs.push("campaigns.winback.cooldown_days", "must be 1 to 3650");
        }
        if !(1..=3650).contains(&self.recovery.cooldown_days) {
            errs.push("campaigns.recovery.cooldown_days", "must be 1 to 3650");
        }
        for (name, offer) in [
            ("birthday", &self.birthday.coupon),
            ("winback", &w.coupon),
            ("recovery", &self.recovery.coupon),
        ] {
            if offer.value_minor > MAX_AMOUNT {
                errs.push(
                    format!("campaigns.{name}.coupon.value_minor"),
                    format!("must be at most {MAX_AMOUNT}"),
                );
            }
            if !(1..=3650).contains(&offer.valid_days) {
                errs.push(
                    format!("campaigns.{name}.coupon.valid_days"),
                    "must be 1 to 3650",
                );
            }
        }
        for (tier, value) in &w.value_minor_by_tier {
            if points.tier(tier).is_none() {
                errs.push(
                    format!("campaigns.winback.value_minor_by_tier.{tier}"),
                    "is not a tier of points.tiers",
                );
            } else if *value > MAX_AMOUNT {
                errs.push(
                    format!("campaigns.winback.value_minor_by_tier.{tier}"),
                    format!("must be at most {MAX_AMOUNT}"),
                );
            }
        }
        for kind in CampaignKind::ALL {
            let (name, templates) = (kind.as_str(), self.templates(kind));
            for (locale, t) in templates {
                let field = format!("campaigns.{name}.templates.{locale}");
                match Locale::parse(locale.clone()) {
                    Ok(l) if l.as_str() == locale => {}
                    Ok(l) => errs.push(field.clone(), format!("write the locale as {l}")),
                    Err(e) => errs.push(field.clone(), e.0),
                }
                for (part, text) in [
                    ("subject", &t.subject),
                    ("html", &t.html),
                    ("text", &t.text),
                ] {
                    if text.as_ref().is_some_and(|s| s.len() > TEMPLATE_MAX_LEN) {
                        errs.push(
                            format!("{field}.{part}"),
                            format!("must be at most {TEMPLATE_MAX_LEN} bytes"),
                        );
                    }
                }
            }
        }
    }

    pub fn templates(&self, kind: CampaignKind) -> &BTreeMap<String, TemplateOverride> {
        match kind {
            CampaignKind::Birthday => &self.birthday.templates,
            CampaignKind::Winback => &self.winback.templates,
            CampaignKind::Recovery => &self.recovery.templates,
        }
    }

    pub fn enabled(&self, kind: CampaignKind) -> bool {
        match kind {
            CampaignKind::Birthday => self.birthday.enabled,
            CampaignKind::Winback => self.winback.enabled,
            CampaignKind::Recovery => self.recovery.enabled,
        }
    }

    /// The coupon a customer of `tier` gets with `kind`.
    pub fn offer(&self, kind: CampaignKind, tier: &TierName) -> CouponOffer {
        match kind {
            CampaignKind::Birthday => self.birthday.coupon.clone(),
            CampaignKind::Recovery => self.recovery.coupon.clone(),
            CampaignKind::Winback => {
                let mut o = self.winback.coupon.clone();
                if let Some(v) = self.winback.value_minor_by_tier.get(tier) {
                    o.value_minor = *v;
                }
                o
            }
        }
    }
}

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// Claimed by a run, not yet handed to the provider (or the run crashed: see [`SEND_LEASE`]).
    Pending,
    /// Accepted by the provider (SES) or written to the outbox.
    Sent,
    /// Refused by the provider; retried by later runs up to [`MAX_ATTEMPTS`].
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// One mail in the communication log. It is also the send marker: at most one exists per
/// customer, campaign and period, written conditionally before the mail is sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    /// Also the mail's `Message-ID` and the outbox file name.
    pub id: String,
    pub campaign: CampaignKind,
    /// The campaign period: the birthday's year, or the win-back lapse (`2026-09-01+0`).
    pub period: String,
    /// `{campaign}/{locale}`, with `+tenant` when the tenant's own wording was used.
    pub template: String,
    #[schema(value_type = String)]
    pub locale: Locale,
    pub subject: Option<String>,
    #[schema(value_type = Option<String>)]
    pub coupon: Option<CouponCode>,
    /// `ses` or `outbox`.
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub status: MessageStatus,
    pub attempts: u32,
    /// Why the provider refused it (no personal data).
    pub error: Option<String>,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl Message {
    /// The marker key: one per customer, campaign and period.
    pub fn key(&self) -> String {
        send_key(self.campaign, &self.period)
    }
}

pub fn send_key(kind: CampaignKind, period: &str) -> String {
    format!("{kind}#{period}")
}

/// The customer's recent marketing mail, kept on the customer record so the frequency cap and
/// the cooldown are checked in the same atomic step as the send marker.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactState {
    /// When marketing mails were claimed, oldest first (the last year, at most 64).
    #[serde(default)]
    pub recent: Vec<i64>,
    /// The last mail of each campaign: period and time (ms since the epoch).
    #[serde(default)]
    pub last: BTreeMap<CampaignKind, (String, i64)>,
}

impl ContactState {
    fn sent_since(&self, since: Timestamp) -> usize {
        let since = since.as_millisecond();
        self.recent.iter().filter(|t| **t > since).count()
    }

    fn record(&mut self, kind: CampaignKind, period: &str, now: Timestamp) {
        let year_ago = now.as_millisecond() - 366 * 86_400_000;
        self.recent.retain(|t| *t > year_ago);
        self.recent.push(now.as_millisecond());
        if self.recent.len() > 64 {
            let extra = self.recent.len() - 64;
            self.recent.drain(..extra);
        }
        self.last
            .insert(kind, (period.to_owned(), now.as_millisecond()));
    }
}

/// Why a candidate got no mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NoConsent,
    NoEmail,
    /// Held back by the frequency cap or the win-back cooldown.
    Suppressed,
    AlreadySent,
    /// Another run holds the send (claimed within [`SEND_LEASE`]).
    InProgress,
    /// The provider refused it (this run or, after [`MAX_ATTEMPTS`], earlier ones).
    Failed,
    /// The customer changed between the index read and the claim (new birthday, new activity).
    NoLongerDue,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::NoEmail => "no_email",
            Self::Suppressed => "suppressed",
            Self::AlreadySent => "already_sent",
            Self::InProgress => "in_progress",
            Self::Failed => "failed",
            Self::NoLongerDue => "no_longer_due",
        }
    }

    pub const ALL: [SkipReason; 7] = [
        Self::NoConsent,
        Self::NoEmail,
        Self::Suppressed,
        Self::AlreadySent,
        Self::InProgress,
        Self::Failed,
        Self::NoLongerDue,
    ];
}

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
    /// `Some(n)` when this takes over a marker at attempt `n` (crashed or failed send).
    pub retake_of: Option<u32>,
}

/// Everything a claim decision needs besides the recipient.
#[derive(Clone, Debug)]
pub struct SendPlan {
    pub kind: CampaignKind,
    pub period: String,
    pub now: Timestamp,
    pub cap: FrequencyCap,
    /// Checked again on the customer as read in the claim.
    pub due: SendPlanDue,
    /// The message and coupon a new claim writes (id and code drawn before the atomic step,
    /// so a retried step claims the same ones).
    pub message_id: String,
    pub coupon_code: CouponCode,
    pub offer: CouponOffer,
    pub locale: Locale,
    pub template: String,
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
/// or failed send); then the customer must still be due, have an address and consent, and be
/// under the frequency cap and outside the win-back cooldown.
pub fn decide(
    plan: &SendPlan,
    r: &Recipient,
    existing: Option<&Message>,
) -> Result<SendClaim, SkipReason> {
    if let Some(m) = existing {
        let retry = match m.status {
            MessageStatus::Sent => return Err(SkipReason::AlreadySent),
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
        };
        if !retry {
            return Err(SkipReason::Failed);
        }
        // Consent is checked again: the customer may have unsubscribed since the first try.
        check_reachable(&r.profile)?;
        let mut message = m.clone();
        message.status = MessageStatus::Pending;
        message.attempts += 1;
        message.updated_at = plan.now;
        message.error = None;
        return Ok(SendClaim {
            message,
            coupon: None,
            contact: r.contact.clone(),
            retake_of: Some(m.attempts),
        });
    }
    if plan.kind != CampaignKind::Recovery
        && period_for(plan.kind, &r.profile, &plan.due).as_deref() != Some(plan.period.as_str())
    {
        return Err(SkipReason::NoLongerDue);
    }
    check_reachable(&r.profile)?;
    if r.contact
        .last
        .get(&plan.kind)
        .is_some_and(|(p, _)| *p == plan.period)
    {
        return Err(SkipReason::AlreadySent);
    }
    let window = SignedDuration::from_hours(24 * i64::from(plan.cap.per_days));
    let since = plan.now.checked_sub(window).unwrap_or(Timestamp::MIN);
    if r.contact.sent_since(since) >= plan.cap.max_mails as usize {
        return Err(SkipReason::Suppressed);
    }
    if let Some(days) = plan.due.cooldown_days(plan.kind) {
        let since = plan
            .now
            .checked_sub(SignedDuration::from_hours(24 * i64::from(days)))
            .unwrap_or(Timestamp::MIN)
            .as_millisecond();
        if r.contact
            .last
            .get(&plan.kind)
            .is_some_and(|(_, at)| *at > since)
        {
            return Err(SkipReason::Suppressed);
        }
    }
    let (coupon, _event) = Coupon::mint(
        plan.coupon_code.clone(),
        r.profile.customer_id.clone(),
        plan.offer.value_minor,
        plan.offer.currency.clone(),
        format!("campaign:{}:{}", plan.kind, plan.period),
        plan.now,
        plan.offer.valid_days,
    );
    let mut contact = r.contact.clone();
    contact.record(plan.kind, &plan.period, plan.now);
    Ok(SendClaim {
        message: Message {
            id: plan.message_id.clone(),
            campaign: plan.kind,
            period: plan.period.clone(),
            template: plan.template.clone(),
            locale: plan.locale.clone(),
            subject: None,
            coupon: Some(coupon.code.clone()),
            provider: None,
            provider_message_id: None,
            status: MessageStatus::Pending,
            attempts: 1,
            error: None,
            created_at: plan.now,
            updated_at: plan.now,
        },
        coupon: Some(coupon),
        contact,
        retake_of: None,
    })
}

fn check_reachable(p: &Profile) -> Result<(), SkipReason> {
    if p.email.is_none() {
        return Err(SkipReason::NoEmail);
    }
    if !p.consent.email_marketing_granted() {
        return Err(SkipReason::NoConsent);
    }
    Ok(())
}

/// What a run did: how many customers were due, how many got the mail, and why the others not.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct RunReport {
    pub campaign: Option<CampaignKind>,
    #[serde(with = "crate::time::serde_ts::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
    pub dry_run: bool,
    pub candidates: u64,
    pub sent: u64,
    /// Every reason, with 0 when none.
    #[schema(value_type = Object)]
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Dry run only: who would receive the mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<DryRunRecipient>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DryRunRecipient {
    #[schema(value_type = String)]
    pub customer_id: crate::ids::CustomerId,
    pub period: String,
    #[schema(value_type = String)]
    pub locale: Locale,
}

impl RunReport {
    pub fn new(kind: CampaignKind, as_of: Timestamp, dry_run: bool) -> Self {
        Self {
            campaign: Some(kind),
            as_of: Some(as_of),
            dry_run,
            skipped: SkipReason::ALL.into_iter().map(|r| (r, 0)).collect(),
            recipients: dry_run.then(Vec::new),
            ..Self::default()
        }
    }

    pub fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    pub fn merge(&mut self, other: &RunReport) {
        self.candidates += other.candidates;
        self.sent += other.sent;
        for (r, n) in &other.skipped {
            *self.skipped.entry(*r).or_default() += n;
        }
    }
}

/// A new message id: a ULID (time-ordered, 26 Crockford base-32 symbols), safe as a file name.
pub fn new_message_id(
    now: Timestamp,
    rng: &dyn crate::tenant::Random,
) -> Result<String, crate::tenant::RandomError> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes)?;
    let ms = u64::try_from(now.as_millisecond()).unwrap_or(0);
    // A ULID has 80 random bits below the 48-bit time.
    let random = u128::from_le_bytes(bytes) & ((1u128 << 80) - 1);
    Ok(ulid::Ulid::from_parts(ms, random).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::OsRandom;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn recipient(consent: bool, email: bool) -> Recipient {
        let mut patch = serde_json::json!({"birthday": "--11-25"});
        if email {
            patch["email"] = "fan@example.com".into();
        }
        patch["consent"] = serde_json::json!({"email_marketing": consent});
        let patch =
            crate::profile::ProfilePatch::from_json(patch, jiff::civil::date(2026, 1, 1)).unwrap();
        let mut profile = Profile::new(
            crate::CustomerId::parse("c").unwrap(),
            ts("2026-01-01T00:00:00Z"),
        );
        profile.apply(&patch, ts("2026-01-01T00:00:00Z"));
        Recipient {
            profile,
            account: Account::default(),
            contact: ContactState::default(),
        }
    }

    fn plan(kind: CampaignKind, now: &str) -> SendPlan {
        let s = CampaignSettings::default();
        SendPlan {
            kind,
            period: match kind {
                CampaignKind::Birthday => "2026".into(),
                CampaignKind::Winback => "2026-01-01+0".into(),
                CampaignKind::Recovery => "01JRECOVERY".into(),
            },
            now: ts(now),
            cap: s.frequency_cap.clone(),
            due: SendPlanDue {
                as_of: ts(now),
                send_hour: 10,
                default_tz: crate::values::TimeZoneName::utc(),
                inactive_days: 30,
                cooldown_days: 90,
                recovery_cooldown_days: 30,
            },
            message_id: new_message_id(ts(now), &OsRandom).unwrap(),
            coupon_code: CouponCode::generate(&OsRandom).unwrap(),
            offer: s.birthday.coupon.clone(),
            locale: Locale::parse("en").unwrap(),
            template: "birthday/en".into(),
        }
    }

    #[test]
    fn consent_and_address_are_required() {
        let p = plan(CampaignKind::Birthday, "2026-11-25T10:00:00Z");
        assert_eq!(
            decide(&p, &recipient(false, true), None),
            Err(SkipReason::NoConsent)
        );
        assert_eq!(
            decide(&p, &recipient(true, false), None),
            Err(SkipReason::NoEmail)
        );
        let claim = decide(&p, &recipient(true, true), None).unwrap();
        assert_eq!(claim.message.status, MessageStatus::Pending);
        assert_eq!(
            claim.coupon.as_ref().unwrap().source,
            "campaign:birthday:2026"
        );
        assert_eq!(claim.contact.last[&CampaignKind::Birthday].0, "2026");
    }

    #[test]
    fn the_frequency_cap_counts_every_campaign_in_the_window() {
        let mut r = recipient(true, true);
        let p = plan(CampaignKind::Birthday, "2026-11-25T10:00:00Z");
        r.contact
            .record(CampaignKind::Winback, "x", ts("2026-11-19T11:00:00Z"));
        r.contact
            .record(CampaignKind::Winback, "y", ts("2026-11-24T11:00:00Z"));
        assert_eq!(decide(&p, &r, None), Err(SkipReason::Suppressed));
        let later = plan(CampaignKind::Birthday, "2026-11-26T12:00:00Z");
        let mut later = later;
        later.due.as_of = ts("2026-11-25T10:00:00Z");
        assert!(
            decide(&later, &r, None).is_ok(),
            "the older mail left the 7-day window"
        );
    }

    #[test]
    fn markers_decide_first_and_crashed_or_failed_sends_are_retaken() {
        let r = recipient(true, true);
        let p = plan(CampaignKind::Birthday, "2026-11-25T10:00:00Z");
        let first = decide(&p, &r, None).unwrap().message;
        let mut sent = first.clone();
        sent.status = MessageStatus::Sent;
        assert_eq!(decide(&p, &r, Some(&sent)), Err(SkipReason::AlreadySent));
        assert_eq!(decide(&p, &r, Some(&first)), Err(SkipReason::InProgress));
        let mut p2 = plan(CampaignKind::Birthday, "2026-11-25T10:15:00Z");
        p2.due.as_of = ts("2026-11-25T10:15:00Z");
        let retake = decide(&p2, &r, Some(&first)).unwrap();
        assert_eq!(
            (
                retake.message.id.as_str(),
                retake.message.attempts,
                retake.retake_of
            ),
            (first.id.as_str(), 2, Some(1))
        );
        assert!(retake.coupon.is_none(), "the first claim's coupon stays");
        let mut failed = first.clone();
        failed.status = MessageStatus::Failed;
        failed.attempts = MAX_ATTEMPTS;
        assert_eq!(decide(&p2, &r, Some(&failed)), Err(SkipReason::Failed));
        assert_eq!(
            decide(&p2, &recipient(false, true), Some(&first)),
            Err(SkipReason::NoConsent),
            "consent is checked again"
        );
    }

    #[test]
    fn recovery_needs_no_calendar_but_keeps_its_cooldown() {
        let mut r = recipient(true, true);
        let mut p = plan(CampaignKind::Recovery, "2026-06-01T10:00:00Z");
        p.period = "01FOLLOWUPA".into();
        let claim = decide(&p, &r, None).expect("any day, no birthday needed");
        assert_eq!(claim.message.campaign, CampaignKind::Recovery);
        r.contact = claim.contact;
        let mut again = plan(CampaignKind::Recovery, "2026-06-30T09:00:00Z");
        again.period = "01FOLLOWUPB".into();
        assert_eq!(decide(&again, &r, None), Err(SkipReason::Suppressed));
        let mut later = plan(CampaignKind::Recovery, "2026-07-01T10:00:01Z");
        later.period = "01FOLLOWUPC".into();
        assert!(decide(&later, &r, None).is_ok(), "30 days later");
        assert_eq!(CampaignKind::parse("recovery"), None, "not a scheduled run");
    }

    #[test]
    fn message_ids_are_time_ordered_ulids() {
        let a = new_message_id(ts("2026-11-25T10:00:00Z"), &OsRandom).unwrap();
        let b = new_message_id(ts("2026-11-25T10:00:01Z"), &OsRandom).unwrap();
        assert_eq!(a.len(), 26);
        assert!(a < b);
        let decoded = ulid::Ulid::from_string(&a).unwrap();
        assert_eq!(decoded.timestamp_ms(), 1_795_600_800_000, "{a}");
    }
}
