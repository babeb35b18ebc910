//! A campaign definition as the tenant sends it (`POST /v1/campaigns`), with the rules across
//! its fields that a schema cannot state.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

use super::trigger::{Trigger, TriggerClass};
use crate::campaigns::quiet::QuietHours;
use crate::error::ValidationErrors;
use crate::ids::{ID_MAX_LEN, ID_PATTERN, check_id};
use crate::points::rules::{MAX_AMOUNT, UnitCode};
use crate::segments::{FilterDoc, SegmentId};
use crate::values::{Locale, Title};
use crate::wire::{Bounded, Text, Wire};

crate::string_newtype!(
    /// A campaign's id, chosen by the tenant (`lunar-new-year-2027`).
    CampaignId,
    schema: { pattern: ID_PATTERN },
    |s| check_id(&s, ID_MAX_LEN).map(|_| s)
);

/// The ids of the built-in campaigns.
pub const RESERVED_IDS: [&str; 3] = ["birthday", "winback", "recovery"];

impl From<crate::campaigns::CampaignKind> for CampaignId {
    /// A built-in campaign's id (its name, a valid id the tenant's definitions cannot take).
    fn from(k: crate::campaigns::CampaignKind) -> Self {
        Self(k.as_str().to_owned())
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Saved, never sent.
    #[default]
    Draft,
    Active,
    /// Sends nothing until active again; a paused broadcast resumes where it stopped.
    Paused,
    Archived,
}

/// How often one customer may get this campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OncePer {
    /// Once at all.
    Ever,
    /// Once per period of a periodic trigger (a birthday year, an inactivity spell).
    Period,
    /// Once per triggering event (a purchase, a lot of points).
    Event,
}

crate::wire_struct! {
    /// The coupon the mail carries.
    pub struct Offer {
        /// Minor units of `currency` (500 = 5.00 USD).
        pub value_minor: Bounded<1, { MAX_AMOUNT }>,
        #[schema(value_type = String, pattern = "^[A-Z0-9_]{3,16}$")]
        pub currency: UnitCode,
        pub valid_days: Bounded<1, 3650>,
    }
}

crate::wire_struct! {
    /// One locale's wording (MiniJinja; rendered with sample data when saved).
    pub struct CampaignTemplate {
        pub subject: Text<500>,
        pub html: Text<{ crate::campaigns::TEMPLATE_MAX_LEN }>,
        pub text: Text<{ crate::campaigns::TEMPLATE_MAX_LEN }>,
    }
}

/// The wording per locale: 1–50 locales.
#[derive(Clone, Debug)]
pub struct Templates(pub BTreeMap<Locale, CampaignTemplate>);

const LOCALES_MAX: usize = 50;

impl Wire for Templates {
    fn parse_at(body: Value, prefix: &str) -> Result<Self, ValidationErrors> {
        let Value::Object(map) = body else {
            return Err(ValidationErrors::single(
                prefix,
                "must be an object of locales",
            ));
        };
        if map.is_empty() || map.len() > LOCALES_MAX {
            return Err(ValidationErrors::single(
                prefix,
                format!("must have 1 to {LOCALES_MAX} locales"),
            ));
        }
        let mut errs = ValidationErrors::default();
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let path = format!("{prefix}.{k}");
            match Locale::parse(k.as_str()) {
                Err(e) => errs.push(path, e.to_string()),
                Ok(l) => match CampaignTemplate::parse_at(v, &path) {
                    Ok(t) => {
                        out.insert(l, t);
                    }
                    Err(e) => errs.0.extend(e.0),
                },
            }
        }
        errs.into_result().map(|()| Self(out))
    }
}

impl utoipa::PartialSchema for Templates {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("By locale (`en`, `zh-CN`): `{subject, html, text}`."))
            .additional_properties(Some(CampaignTemplate::schema()))
            .min_properties(Some(1))
            .max_properties(Some(LOCALES_MAX))
            .into()
    }
}

impl ToSchema for Templates {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CampaignTemplates")
    }
}

/// Who a campaign is for: a saved segment or a filter (customers who consent to marketing
/// e-mail in either case). Absent: every consenting customer.
#[derive(Clone, Debug)]
pub enum Audience {
    Segment(SegmentId),
    Filter(FilterDoc),
}

impl Wire for Audience {
    fn parse_at(body: Value, prefix: &str) -> Result<Self, ValidationErrors> {
        let one =
            || ValidationErrors::single(prefix, "must be {\"segment_id\": …} or {\"filter\": …}");
        let Value::Object(mut map) = body else {
            return Err(one());
        };
        if map.len() != 1 {
            return Err(one());
        }
        if let Some(id) = map.remove("segment_id") {
            let path = format!("{prefix}.segment_id");
            return match id.as_str().map(SegmentId::parse) {
                Some(Ok(id)) => Ok(Self::Segment(id)),
                Some(Err(e)) => Err(ValidationErrors::single(path, e.to_string())),
                None => Err(ValidationErrors::single(path, "must be a string")),
            };
        }
        match map.remove("filter") {
            Some(f) => FilterDoc::parse_at(f, &format!("{prefix}.filter")).map(Self::Filter),
            None => Err(one()),
        }
    }
}

impl utoipa::PartialSchema for Audience {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "`{\"segment_id\": …}` or `{\"filter\": …}` (README: Segments).",
            ))
            .into()
    }
}

impl ToSchema for Audience {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("CampaignAudience")
    }
}

crate::wire_struct! {
    /// A campaign definition.
    pub struct NewCampaign {
        pub campaign_id: CampaignId,
        pub name: Title,
        /// Default `draft`.
        pub status: Option<CampaignStatus>,
        pub trigger: Trigger,
        /// Default: every customer who consents to marketing e-mail.
        pub audience: @nested Option<Audience>,
        pub offer: @nested Option<Offer>,
        pub templates: @nested Templates,
        /// Default: `period` for birthday and inactivity, `event` for event triggers and
        /// points expiring (once per lot), `ever` for a broadcast.
        pub once_per: Option<OncePer>,
        /// Share of the audience recorded but not mailed (the control group), 0–100.
        pub holdout_percent: Option<Bounded<0, 100>>,
        /// In the recipient's zone; default the tenant's (settings `campaigns.quiet_hours`).
        pub quiet_hours: Option<QuietHours>,
        /// Event triggers only: drop a mail that quiet hours would delay past this.
        pub max_delay_hours: Option<Bounded<1, 720>>,
        /// Purchases within this many days of the mail count as its conversions (default 7).
        pub attribution_days: Option<Bounded<1, 90>>,
        /// Transactional mail (a thank-you) that the cross-campaign frequency cap leaves alone.
        pub frequency_cap_exempt: Option<bool>,
    }
}

impl NewCampaign {
    /// Reads a definition and checks the rules across its fields.
    pub fn read(body: Value) -> Result<Self, ValidationErrors> {
        let c = Self::parse_at(body, "")?;
        let mut errs = ValidationErrors::default();
        if RESERVED_IDS.contains(&c.campaign_id.as_str()) {
            errs.push("campaign_id", "is the id of a built-in campaign");
        }
        let class = c.trigger.class();
        if c.max_delay_hours.is_some() && class != TriggerClass::Event {
            errs.push("max_delay_hours", "applies to event triggers only");
        }
        match c.once_per {
            Some(OncePer::Period) if !c.trigger.periodic() => errs.push(
                "once_per",
                "period needs a periodic trigger (birthday, inactivity)",
            ),
            Some(OncePer::Event) if class == TriggerClass::Broadcast => {
                errs.push("once_per", "a broadcast is sent once: use ever")
            }
            _ => {}
        }
        errs.into_result().map(|()| c)
    }

    /// `once_per` as given or its default for the trigger.
    pub fn once_per(&self) -> OncePer {
        self.once_per.unwrap_or(match self.trigger.class() {
            _ if self.trigger.periodic() => OncePer::Period,
            TriggerClass::Broadcast => OncePer::Ever,
            _ => OncePer::Event,
        })
    }
}

/// Serde reads these through their [`Wire`] parser (the struct's own parse never uses it; it
/// exists for the derive of the containing wire struct).
fn via_wire<'de, D: serde::Deserializer<'de>, T: Wire>(d: D) -> Result<T, D::Error> {
    let v = Value::deserialize(d)?;
    T::parse_at(v, "").map_err(|e| {
        serde::de::Error::custom(
            e.0.first()
                .map_or_else(|| "is invalid".to_owned(), |f| f.message.clone()),
        )
    })
}

impl<'de> Deserialize<'de> for Templates {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_wire(d)
    }
}

impl<'de> Deserialize<'de> for Audience {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        via_wire(d)
    }
}
