//! The points-expiring trigger: a reminder `days_before` a lot of points expires (lots expire
//! at the end of their month in the tenant's zone), once per lot. The stores keep an index of
//! the customers holding points per lot month (written with the account), so a run reads the
//! customers of the one or two months due, never every customer.

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};

use super::audience::AudienceCheck;
use crate::points::Account;
use crate::points::account::lot_expiry;

/// A reminder for the lot of `month`, expiring at `expires_at`.
#[derive(Clone, Debug)]
pub struct ExpiringRule {
    pub month: String,
    pub expires_at: Timestamp,
    pub days_before: u32,
    pub audience: AudienceCheck,
}

impl ExpiringRule {
    /// The lot months whose reminder is due at `now`: expiring within `days_before` days and
    /// not yet expired, with their expiry instants.
    pub fn due_months(now: Timestamp, tz: &TimeZone, days_before: u32) -> Vec<(String, Timestamp)> {
        let today = now.to_zoned(tz.clone()).date().first_of_month();
        let lead = SignedDuration::from_hours(24 * i64::from(days_before));
        // A lot of month M expires at the start of M + 1: with at most 365 days of lead, the
        // months from this one to 13 ahead cover every due lot.
        (0..14)
            .filter_map(|i| today.checked_add(i.months()).ok())
            .map(|d| format!("{:04}-{:02}", d.year(), d.month()))
            .filter_map(|m| lot_expiry(&m, tz).map(|at| (m, at)))
            .filter(|(_, at)| *at > now && at.checked_sub(lead).is_ok_and(|start| start <= now))
            .collect()
    }

    /// The points of the lot the customer still holds, when the reminder is due at `now`.
    pub fn points(&self, account: &Account, now: Timestamp) -> Option<u64> {
        let lead = SignedDuration::from_hours(24 * i64::from(self.days_before));
        let due = self.expires_at > now
            && self
                .expires_at
                .checked_sub(lead)
                .is_ok_and(|start| start <= now);
        account
            .lots
            .get(&self.month)
            .copied()
            .filter(|p| due && *p > 0)
    }

    /// Once per lot.
    pub fn period(&self) -> String {
        format!("lot:{}", self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_lot_is_due_from_days_before_its_expiry_in_the_tenant_zone() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        // The November lot expires at 2026-12-01T00:00+08:00 = 2026-11-30T16:00Z.
        assert!(ExpiringRule::due_months(ts("2026-11-23T15:59:59Z"), &tz, 7).is_empty());
        let due = ExpiringRule::due_months(ts("2026-11-23T16:00:00Z"), &tz, 7);
        assert_eq!(due, [("2026-11".to_owned(), ts("2026-11-30T16:00:00Z"))]);
        assert!(
            ExpiringRule::due_months(ts("2026-11-30T16:00:00Z"), &tz, 7).is_empty(),
            "expired"
        );
        // 40 days ahead: December's lot too.
        let both: Vec<String> = ExpiringRule::due_months(ts("2026-11-25T00:00:00Z"), &tz, 40)
            .into_iter()
            .map(|(m, _)| m)
            .collect();
        assert_eq!(both, ["2026-11", "2026-12"]);
    }
}
