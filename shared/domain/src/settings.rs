//! A tenant's settings: defaults so a new tenant works unconfigured, JSON merge-patch updates,
//! and validation of the merged whole.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::campaigns::CampaignSettings;
use crate::error::{ParseError, ValidationErrors};
use crate::input::merge_patch;
use crate::lifecycle::LifecycleRules;
use crate::points::PointsSettings;
use crate::string_newtype;
use crate::values::{DisplayName, Email, Locale, TimeZoneName};

string_newtype!(
    /// An absolute `https://` URL (links in mails, brand site).
    HttpsUrl,
    |s| {
        let ok = s.len() <= 2048
            && s.strip_prefix("https://").is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'))
            && !s.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok { Ok(s) } else { Err(ParseError::new("must be an https:// URL")) }
    }
);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Brand {
    /// Shown in mails; defaults to the tenant's name.
    pub name: Option<DisplayName>,
    pub url: Option<HttpsUrl>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Sender {
    /// The From address of marketing mail (must be a verified SES identity on AWS).
    pub email: Option<Email>,
    pub name: Option<DisplayName>,
}

/// The tenant's rules. Later functions add their sections (earning rules, tiers, campaigns).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TenantSettings {
    /// Used for customers without a time zone of their own.
    pub timezone: TimeZoneName,
    /// Used for customers without a locale of their own.
    pub locale: Locale,
    pub brand: Brand,
    pub sender: Sender,
    pub lifecycle: LifecycleRules,
    /// Earning rules, tiers, points validity.
    pub points: PointsSettings,
    /// Birthday and win-back campaigns, frequency cap, templates.
    pub campaigns: CampaignSettings,
    /// Behaviour events: how long they are kept.
    pub events: crate::events::EventsSettings,
    /// RFM thresholds, window and reporting currency.
    pub rfm: crate::rfm::RfmSettings,
    /// What the tenant sells (`{sku, name, category?, url?, image?}`, at most 1,000): what a
    /// thank-you recommends from.
    pub catalogue: Vec<crate::campaigns::recommend::CatalogueItem>,
    /// The reward catalogue (`{reward_id, name, points_cost, coupon {value_minor, currency,
    /// valid_days}, stock?, per_customer_limit?, tiers?}`, at most 200): what points buy.
    pub rewards: Vec<crate::points::Reward>,
    /// The HTTP API's limits.
    pub api: crate::keys::ApiSettings,
    /// The case queue: SLA hours per priority, high-value tiers.
    pub cases: crate::cases::CaseSettings,
    /// The staff console: how many points an agent may adjust at once.
    pub console: crate::staff::ConsoleSettings,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            timezone: TimeZoneName::utc(),
            locale: Locale::parse("en")
                .unwrap_or_else(|_| unreachable!("\"en\" is a valid locale")),
            brand: Brand::default(),
            sender: Sender::default(),
            lifecycle: LifecycleRules::default(),
            points: PointsSettings::default(),
            campaigns: CampaignSettings::default(),
            events: Default::default(),
            rfm: Default::default(),
            catalogue: Vec::new(),
            rewards: Vec::new(),
            api: Default::default(),
            cases: Default::default(),
            console: Default::default(),
        }
    }
}

/// Names every place where the settings hold an object and the patched document does not.
fn objects_stay_objects(before: &Value, after: &Value, path: &str, errs: &mut ValidationErrors) {
    let (Value::Object(b), Value::Object(a)) = (before, after) else {
        return;
    };
    for (k, bv) in b {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        match a.get(k) {
            Some(av) if bv.is_object() && !av.is_object() => errs.push(p, "must be an object"),
            Some(av) => objects_stay_objects(bv, av, &p, errs),
            None => {}
        }
    }
}

impl TenantSettings {
    /// Applies a JSON merge patch (RFC 7396: absent keeps, `null` resets to the default, values
    /// replace) and validates the result.
    /// The catalogue's reward `id`, if there is one.
    pub fn reward(&self, id: &crate::points::RewardId) -> Option<&crate::points::Reward> {
        self.rewards.iter().find(|r| &r.reward_id == id)
    }

    pub fn merged(&self, patch: Value) -> Result<TenantSettings, ValidationErrors> {
        if !patch.is_object() {
            return Err(ValidationErrors::single("(body)", "must be a JSON object"));
        }
        let mut doc = serde_json::to_value(self).map_err(|_| {
            ValidationErrors::single("(body)", "current settings could not be read")
        })?;
        let mut patch = patch;
        crate::input::integral_numbers(&mut patch);
        let before = doc.clone();
        merge_patch(&mut doc, patch);
        // serde would read a struct from an array of its fields; a patch must not.
        let mut errs = ValidationErrors::default();
        objects_stay_objects(&before, &doc, "", &mut errs);
        errs.into_result()?;
        let merged: TenantSettings = serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            let msg = e.into_inner().to_string();
            let msg = if msg.starts_with("unknown field") {
                "is not a known field".to_owned()
            } else {
                msg.split_once(", expected ")
                    .map_or(msg.clone(), |(_, exp)| format!("expected {exp}"))
            };
            ValidationErrors::single(path, msg)
        })?;
        merged.validate()?;
        Ok(merged)
    }

    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut errs = ValidationErrors::default();
        if self.api.rate_per_s > crate::keys::MAX_RATE_PER_S {
            errs.push(
                "api.rate_per_s",
                format!("must be at most {}", crate::keys::MAX_RATE_PER_S),
            );
        }
        let l = &self.lifecycle;
        if l.growth_after_days == 0 || l.growth_after_days >= l.maturity_after_days {
            errs.push(
                "lifecycle.growth_after_days",
                "must be at least 1 and less than maturity_after_days",
            );
        }
        if l.maturity_after_days > 3650 {
            errs.push("lifecycle.maturity_after_days", "must be at most 3650");
        }
        if !(1..=3650).contains(&l.churn_after_days) {
            errs.push("lifecycle.churn_after_days", "must be 1 to 3650");
        }
        self.points.validate(&mut errs);
        self.campaigns.validate(&self.points, &mut errs);
        self.events.validate(&mut errs);
        self.rfm.validate(&mut errs);
        crate::campaigns::recommend::validate_catalogue(&self.catalogue, &mut errs);
        crate::points::rewards::validate_rewards(&self.rewards, &self.points, &mut errs);
        self.cases.validate(&self.points, &mut errs);
        self.console.validate(&mut errs);
        errs.into_result()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_keeps_other_sections_and_null_resets() {
        let s = TenantSettings::default()
            .merged(json!({"timezone": "Asia/Shanghai", "brand": {"name": "Star Arena"}}))
            .unwrap();
        let s = s.merged(json!({"locale": "zh-cn"})).unwrap();
        assert_eq!(s.timezone.as_str(), "Asia/Shanghai");
        assert_eq!(s.locale.as_str(), "zh-CN");
        assert_eq!(
            s.brand.name.as_ref().map(|n| n.as_str()),
            Some("Star Arena")
        );
        let s = s.merged(json!({"timezone": null})).unwrap();
        assert_eq!(s.timezone.as_str(), "UTC");
    }

    #[test]
    fn invalid_settings_name_the_field() {
        let d = TenantSettings::default();
        let e = d.merged(json!({"sender": {"email": "nope"}})).unwrap_err();
        assert_eq!(e.0[0].field, "sender.email");
        let e = d
            .merged(json!({"lifecycle": {"growth_after_days": 500}}))
            .unwrap_err();
        assert_eq!(e.0[0].field, "lifecycle.growth_after_days");
        let e = d.merged(json!({"colour": "red"})).unwrap_err();
        assert_eq!(
            (e.0[0].field.as_str(), e.0[0].message.as_str()),
            ("colour", "is not a known field")
        );
        let e = d
            .merged(json!({"brand": {"url": "http://x.com"}}))
            .unwrap_err();
        assert_eq!(e.0[0].field, "brand.url");
    }
}
