//! Settings section `campaigns`: the built-in campaigns' switches, coupons and wording, the
//! send hour and the cross-campaign frequency cap.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::CampaignKind;
use crate::error::ValidationErrors;
use crate::points::PointsSettings;
use crate::points::rules::{MAX_AMOUNT, TierName, UnitCode};
use crate::values::Locale;

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
    /// The tenant's quiet hours in each customer's zone (`{"start": "22:00", "end": "08:00"}`),
    /// for the campaign definitions that set none; the built-in campaigns send at their own
    /// hour (`send_hour`).
    pub quiet_hours: Option<super::quiet::QuietHours>,
    pub birthday: BirthdaySettings,
    pub winback: WinbackSettings,
    pub recovery: RecoverySettings,
}

impl Default for CampaignSettings {
    fn default() -> Self {
        Self {
            send_hour: 10,
            frequency_cap: FrequencyCap::default(),
            quiet_hours: None,
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
