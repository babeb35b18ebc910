//! What starts a campaign: a schedule (birthday, inactivity, points expiring), something the
//! customer did (purchase, tier up, signup, an unhappy survey answer), or a broadcast at a
//! local date and time read in each recipient's zone.

use jiff::civil::DateTime as CivilDateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::points::rules::{MAX_AMOUNT, TierName};
use crate::wire::{Bounded, Text};

/// `2027-02-10T10:00`: a wall-clock time without offset, the same for every recipient in their
/// own zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, ToSchema)]
#[schema(value_type = String, pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?$")]
pub struct LocalDateTime(pub CivilDateTime);

impl<'de> Deserialize<'de> for LocalDateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let shape = s.len() == 16 || s.len() == 19;
        match s.parse::<CivilDateTime>() {
            Ok(dt) if shape && s.as_bytes().get(10) == Some(&b'T') => Ok(Self(dt)),
            _ => Err(serde::de::Error::custom(
                "must be a local date and time without offset, e.g. 2027-02-10T10:00",
            )),
        }
    }
}

impl Serialize for LocalDateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.strftime("%Y-%m-%dT%H:%M").to_string().serialize(s)
    }
}

/// A trigger: `{"type": …, …}`. Kinds without settings are empty struct variants, so that
/// serde refuses unknown fields on them too (it does not on unit variants of a tagged enum).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// On the customer's birthday, in their zone.
    Birthday {},
    /// `days` without activity; again at most every `cooldown_days` (default 90).
    Inactivity {
        days: Bounded<1, 3650>,
        cooldown_days: Option<Bounded<1, 3650>>,
    },
    /// A purchase of at least `min_amount_minor` (in its own currency), of `category` if given.
    Purchase {
        min_amount_minor: Option<Bounded<1, { MAX_AMOUNT }>>,
        category: Option<Text<64>>,
    },
    /// A move to a higher tier (to `to` only, if given).
    TierUp {
        #[schema(value_type = Option<String>)]
        to: Option<TierName>,
    },
    /// `days_before` a lot of points expires.
    PointsExpiring { days_before: Bounded<1, 365> },
    /// A new customer who consents to marketing e-mail.
    Signup {},
    /// An unhappy survey answer (as the recovery mail).
    SurveyUnhappy {},
    /// Once, at `at` in each recipient's zone.
    Broadcast { at: LocalDateTime },
}

/// How a trigger's campaign is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TriggerClass {
    /// Found by the hourly runs.
    Scheduled,
    /// Started by an event, as it happens.
    Event,
    Broadcast,
}

impl Trigger {
    pub fn class(&self) -> TriggerClass {
        match self {
            Self::Birthday {} | Self::Inactivity { .. } | Self::PointsExpiring { .. } => {
                TriggerClass::Scheduled
            }
            Self::Purchase { .. }
            | Self::TierUp { .. }
            | Self::Signup {}
            | Self::SurveyUnhappy {} => TriggerClass::Event,
            Self::Broadcast { .. } => TriggerClass::Broadcast,
        }
    }

    /// The trigger's `type` as written (`points_expiring`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Birthday {} => "birthday",
            Self::Inactivity { .. } => "inactivity",
            Self::Purchase { .. } => "purchase",
            Self::TierUp { .. } => "tier_up",
            Self::PointsExpiring { .. } => "points_expiring",
            Self::Signup {} => "signup",
            Self::SurveyUnhappy {} => "survey_unhappy",
            Self::Broadcast { .. } => "broadcast",
        }
    }

    /// Triggers that recur per customer in periods (a year of birthdays, an inactivity spell).
    pub fn periodic(&self) -> bool {
        matches!(self, Self::Birthday {} | Self::Inactivity { .. })
    }
}
