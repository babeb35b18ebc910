//! The `cases` section of the tenant's settings: the SLA per priority and which tiers are
//! high-value.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationErrors;
use crate::points::PointsSettings;
use crate::points::rules::TierName;

use super::Priority;

/// An SLA may be at most a year.
const SLA_MAX_HOURS: u32 = 8784;

/// How long a case of each priority may stay unresolved, in hours (1–8784).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaHours {
    pub high: u32,
    pub normal: u32,
    pub low: u32,
}

impl Default for SlaHours {
    fn default() -> Self {
        Self {
            high: 4,
            normal: 24,
            low: 72,
        }
    }
}

impl SlaHours {
    pub fn of(&self, p: Priority) -> u32 {
        match p {
            Priority::High => self.high,
            Priority::Normal => self.normal,
            Priority::Low => self.low,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct CaseSettings {
    /// The time to resolve per priority; a case is due this long after it was opened.
    pub sla_hours: SlaHours,
    /// Cases of customers in these tiers are `high` priority unless the opener says otherwise
    /// (empty: the highest tier of `points.tiers`).
    #[schema(value_type = Vec<String>)]
    pub high_value_tiers: Vec<TierName>,
}

impl CaseSettings {
    /// The priority of a case of a customer in `tier` when the opener names none.
    pub fn default_priority(&self, tier: Option<&TierName>, points: &PointsSettings) -> Priority {
        let Some(tier) = tier else {
            return Priority::Normal;
        };
        let high = if self.high_value_tiers.is_empty() {
            // Ascending by `min_points`: the last is the highest (a single tier is everyone's).
            points.tiers.len() > 1 && points.tiers.last().is_some_and(|t| &t.name == tier)
        } else {
            self.high_value_tiers.contains(tier)
        };
        if high {
            Priority::High
        } else {
            Priority::Normal
        }
    }

    pub fn validate(&self, points: &PointsSettings, errs: &mut ValidationErrors) {
        for (name, h) in [
            ("high", self.sla_hours.high),
            ("normal", self.sla_hours.normal),
            ("low", self.sla_hours.low),
        ] {
            if !(1..=SLA_MAX_HOURS).contains(&h) {
                errs.push(
                    format!("cases.sla_hours.{name}"),
                    format!("must be 1 to {SLA_MAX_HOURS} hours"),
                );
            }
        }
        for (i, t) in self.high_value_tiers.iter().enumerate() {
            if !points.tiers.iter().any(|r| &r.name == t) {
                errs.push(
                    format!("cases.high_value_tiers[{i}]"),
                    format!("names no tier of points.tiers: {t}"),
                );
            }
        }
    }
}
