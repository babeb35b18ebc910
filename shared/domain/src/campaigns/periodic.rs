//! The periodic triggers of a campaign definition — `birthday` (once per birthday year, at the
//! tenant's `send_hour` in the customer's zone) and `inactivity {days, cooldown_days}` (a
//! lapse of `days` without activity, again at most every `cooldown_days`) — with the same
//! calendar as the built-in birthday and win-back mails ([`super::schedule`]), and the
//! definition's own audience.

use super::audience::AudienceCheck;
use super::{SendPlanDue, schedule};
use crate::profile::Profile;

/// The default `cooldown_days` of an inactivity trigger.
pub const INACTIVITY_COOLDOWN_DAYS: u32 = 90;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Periodic {
    Birthday,
    Inactivity { days: u32, cooldown_days: u32 },
}

#[derive(Clone, Debug)]
pub struct PeriodicRule {
    pub kind: Periodic,
    pub audience: AudienceCheck,
}

impl PeriodicRule {
    /// The period the customer is due for at `due.as_of` (a birthday's year, a lapse), if any.
    pub fn period(&self, p: &Profile, due: &SendPlanDue) -> Option<String> {
        match self.kind {
            Periodic::Birthday => super::birthday_period(p, due),
            Periodic::Inactivity {
                days,
                cooldown_days,
            } => schedule::winback_period(
                schedule::last_active_day(p.last_active_at, p.created_at),
                due.as_of,
                days,
                cooldown_days,
            ),
        }
    }

    /// No second mail of the campaign within this many days.
    pub fn cooldown_days(&self) -> Option<u32> {
        match self.kind {
            Periodic::Birthday => None,
            Periodic::Inactivity { cooldown_days, .. } => Some(cooldown_days),
        }
    }
}
