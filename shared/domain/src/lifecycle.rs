//! Lifecycle stage (acquisition, growth, maturity, churn) derived from a customer's age and
//! activity, with the reason in words.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::profile::Profile;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Acquisition,
    Growth,
    Maturity,
    Churn,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acquisition => "acquisition",
            Self::Growth => "growth",
            Self::Maturity => "maturity",
            Self::Churn => "churn",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Lifecycle {
    pub stage: Stage,
    /// Which rule placed the customer in this stage.
    pub why: String,
}

/// The tenant's thresholds, in days.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LifecycleRules {
    /// A customer leaves acquisition this many days after joining.
    pub growth_after_days: u32,
    /// … and reaches maturity this many days after joining.
    pub maturity_after_days: u32,
    /// No activity for this many days means churn.
    pub churn_after_days: u32,
}

impl Default for LifecycleRules {
    fn default() -> Self {
        Self {
            growth_after_days: 30,
            maturity_after_days: 180,
            churn_after_days: 60,
        }
    }
}

fn whole_days(from: Timestamp, to: Timestamp) -> i64 {
    (to.as_second() - from.as_second()).max(0) / 86_400
}

fn plural(n: i64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

pub fn lifecycle(profile: &Profile, rules: &LifecycleRules, now: Timestamp) -> Lifecycle {
    let age = whole_days(profile.created_at, now);
    let seen = profile
        .last_active_at
        .unwrap_or(profile.created_at)
        .max(profile.created_at);
    let idle = whole_days(seen, now);
    let churn = i64::from(rules.churn_after_days);
    let (stage, why) = if idle >= churn {
        let what = if profile.last_active_at.is_some() {
            "no activity"
        } else {
            "no activity since joining"
        };
        (
            Stage::Churn,
            format!(
                "{what} for {idle} day{} (churn after {churn})",
                plural(idle)
            ),
        )
    } else if age < i64::from(rules.growth_after_days) {
        (
            Stage::Acquisition,
            format!(
                "joined {age} day{} ago (acquisition for the first {})",
                plural(age),
                rules.growth_after_days
            ),
        )
    } else if age < i64::from(rules.maturity_after_days) {
        (
            Stage::Growth,
            format!(
                "customer for {age} days and active {idle} day{} ago (maturity from day {})",
                plural(idle),
                rules.maturity_after_days
            ),
        )
    } else {
        (
            Stage::Maturity,
            format!(
                "customer for {age} days and active {idle} day{} ago",
                plural(idle)
            ),
        )
    };
    Lifecycle { stage, why }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CustomerId;
    use jiff::ToSpan;

    fn at(days: i64) -> Timestamp {
        crate::time::parse("2026-01-01T00:00:00Z")
            .unwrap()
            .checked_add((days * 24).hours())
            .unwrap()
    }

    fn profile(joined: i64, active: Option<i64>) -> Profile {
        let mut p = Profile::new(CustomerId::parse("c").unwrap(), at(joined));
        p.last_active_at = active.map(at);
        p
    }

    #[test]
    fn stages_follow_age_and_activity() {
        let rules = LifecycleRules::default();
        let stage = |p: &Profile, now| lifecycle(p, &rules, at(now)).stage;
        assert_eq!(stage(&profile(0, None), 29), Stage::Acquisition);
        assert_eq!(stage(&profile(0, Some(25)), 30), Stage::Growth);
        assert_eq!(stage(&profile(0, Some(200)), 200), Stage::Maturity);
        assert_eq!(stage(&profile(0, Some(100)), 160), Stage::Churn);
        assert_eq!(stage(&profile(0, None), 60), Stage::Churn);
        assert_eq!(stage(&profile(0, Some(100)), 159), Stage::Growth);
    }

    #[test]
    fn why_names_the_rule() {
        let l = lifecycle(&profile(0, Some(10)), &LifecycleRules::default(), at(75));
        assert_eq!(l.why, "no activity for 65 days (churn after 60)");
        let l = lifecycle(&profile(0, None), &LifecycleRules::default(), at(1));
        assert_eq!(l.why, "joined 1 day ago (acquisition for the first 30)");
    }
}
