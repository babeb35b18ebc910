//! The win-back backlog. A daily run reads only the customers whose inactivity crossed a
//! threshold in the last [`WINBACK_CATCH_UP_DAYS`]; customers who were lapsed already when
//! win-back was switched on or its threshold changed, or who were imported with an old last
//! activity, cross nothing a daily run sees. Two bounded, resumable reads reach them:
//!
//! - the **day pass** walks the last-active index back from the threshold to
//!   [`WINBACK_BACKLOG_DAYS`] past it, at most [`WINBACK_BACKLOG_PER_RUN`] customers per run,
//!   saving where it stopped ([`WinbackBacklog`]); a new threshold starts it again;
//! - **late activity**: a write that sets a customer's last activity to a day a daily run no
//!   longer reads leaves a marker ([`Activity::late`]); the next run reads the marked customers
//!   and clears the markers.
//!
//! Both hand their customers to the same claim as the daily pass, so the period (the lapse and
//! reminder, [`super::schedule::winback_period`]), the cooldown and consent decide, and nobody
//! is mailed twice for one lapse.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};
use serde::{Deserialize, Serialize};

use super::schedule::WINBACK_CATCH_UP_DAYS;

/// How far past the threshold the day pass reads: customers lapsed longer than this when
/// win-back is switched on are left alone (two years).
pub const WINBACK_BACKLOG_DAYS: i64 = 730;

/// The customers one run reads from the backlog (day pass and late markers each); the rest
/// wait for the next run.
pub const WINBACK_BACKLOG_PER_RUN: usize = 10_000;

fn utc_day(t: Timestamp) -> Date {
    t.to_zoned(TimeZone::UTC).date()
}

fn days_before(d: Date, n: i64) -> Date {
    d.checked_sub(Span::new().days(n)).unwrap_or(Date::MIN)
}

/// Where the day pass of one tenant stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WinbackBacklog {
    /// The threshold the pass was started for.
    pub inactive_days: u32,
    /// The next last-active day to read; the pass walks back, one day at a time.
    pub next_day: Date,
}

impl WinbackBacklog {
    /// The pass to continue at `as_of`: the saved one, or a new one when there is none or the
    /// threshold changed. It starts at the first day the daily pass does not read.
    pub fn resume(saved: Option<Self>, inactive_days: u32, as_of: Timestamp) -> Self {
        match saved {
            Some(s) if s.inactive_days == inactive_days => s,
            _ => Self {
                inactive_days,
                next_day: days_before(
                    utc_day(as_of),
                    i64::from(inactive_days) + WINBACK_CATCH_UP_DAYS,
                ),
            },
        }
    }

    /// The oldest last-active day the pass reads at `as_of`.
    pub fn horizon(&self, as_of: Timestamp) -> Date {
        days_before(
            utc_day(as_of),
            i64::from(self.inactive_days) + WINBACK_BACKLOG_DAYS,
        )
    }

    /// Every day down to the horizon has been read.
    pub fn is_done(&self, as_of: Timestamp) -> bool {
        self.next_day < self.horizon(as_of)
    }

    /// The day `next_day` has been read completely.
    pub fn advance(&mut self) {
        self.next_day = days_before(self.next_day, 1);
    }
}

/// Activity as a store records it: when, whether it is late, and the tenant-local day it
/// counts for in analytics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Activity {
    pub at: Timestamp,
    /// Older than the days a daily win-back run reads: the store marks the customer for the
    /// backlog when this activity becomes their last.
    pub late: bool,
    /// The tenant-local day of `at`, and when it began.
    pub day: Date,
    pub day_start: Timestamp,
}

impl Activity {
    /// Activity at `at`, reported at `now`, counted on UTC days.
    pub fn new(at: Timestamp, now: Timestamp) -> Self {
        Self::in_zone(at, now, &TimeZone::UTC)
    }

    /// Activity at `at`, reported at `now`, counted on the days of `tz` (the tenant's zone).
    pub fn in_zone(at: Timestamp, now: Timestamp, tz: &TimeZone) -> Self {
        let late = days_before(utc_day(now), WINBACK_CATCH_UP_DAYS) > utc_day(at);
        let zoned = at.to_zoned(tz.clone());
        let day = zoned.date();
        let day_start = zoned.start_of_day().map_or(at, |z| z.timestamp());
        Self {
            at,
            late,
            day,
            day_start,
        }
    }

    /// Whether this activity moves a last activity of `prev` forward (never back).
    pub fn moves_from(&self, prev: Option<Timestamp>) -> bool {
        prev.is_none_or(|p| p < self.at)
    }

    /// The same kind of activity at another time, counted in the zone offset this one had (a
    /// store repairing a retried write knows no zone; it differs only across a DST change).
    pub fn retimed(&self, at: Timestamp, now: Timestamp) -> Self {
        let midnight = self
            .day
            .to_zoned(TimeZone::UTC)
            .map_or(self.day_start, |z| z.timestamp());
        let offset = jiff::tz::Offset::from_seconds(
            i32::try_from(midnight.as_second() - self.day_start.as_second()).unwrap_or(0),
        )
        .unwrap_or(jiff::tz::Offset::UTC);
        Self::in_zone(at, now, &TimeZone::fixed(offset))
    }
}

/// A customer marked by late activity, with the last-active day the marker was written for
/// (clearing it takes that day, so a newer marker survives).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LateActive {
    pub customer_id: crate::CustomerId,
    pub day: Date,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaigns::schedule::{winback_index_days, winback_period};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_day_pass_starts_where_the_daily_pass_stops_and_restarts_on_a_new_threshold() {
        let as_of = ts("2026-12-01T09:00:00Z");
        let pass = WinbackBacklog::resume(None, 30, as_of);
        let daily = winback_index_days(as_of, 30, 90);
        assert!(!daily.contains(&pass.next_day));
        assert!(daily.contains(&pass.next_day.tomorrow().unwrap()));
        let mut moved = pass.clone();
        moved.advance();
        assert_eq!(
            WinbackBacklog::resume(Some(moved.clone()), 30, as_of),
            moved
        );
        assert_eq!(
            WinbackBacklog::resume(Some(moved), 60, as_of).inactive_days,
            60
        );
        assert!(!pass.is_done(as_of));
        let mut end = pass.clone();
        end.next_day = pass.horizon(as_of);
        assert!(!end.is_done(as_of));
        end.advance();
        assert!(end.is_done(as_of));
    }

    #[test]
    fn activity_is_late_once_a_daily_run_would_miss_its_crossing() {
        let now = ts("2026-12-01T09:00:00Z");
        assert!(!Activity::new(ts("2026-11-24T00:00:00Z"), now).late);
        assert!(Activity::new(ts("2026-11-23T23:59:59Z"), now).late);
        // Not late = its crossing is still ahead or in the window the daily pass reads.
        let day = utc_day(ts("2026-11-24T00:00:00Z"));
        for threshold in [1, 7, 30] {
            let crossing = day.checked_add(Span::new().days(threshold)).unwrap();
            let reads_then = winback_index_days(
                crossing
                    .to_zoned(TimeZone::UTC)
                    .unwrap()
                    .timestamp()
                    .max(now),
                threshold as u32,
                90,
            );
            assert!(
                reads_then.contains(&day),
                "threshold {threshold}: a daily run reads the crossing"
            );
        }
        assert_eq!(
            winback_period(day, now, 7, 90).as_deref(),
            Some("2026-11-24+0")
        );
    }
}
