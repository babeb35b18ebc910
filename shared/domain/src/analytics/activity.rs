//! What activity and behaviour events add to the tenant's counters.
//!
//! A customer is **active** on a tenant-local day when their last activity moves into that day
//! (counted once, by the write that moves it); **new** when it is their first activity ever,
//! **returning** otherwise. Activity older than the last one (a late event) moves nothing and
//! counts nothing here.

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::counter::{Counters, Scope};
use crate::campaigns::backlog::Activity;
use crate::events::{BehaviourEvent, EventKind};

/// The counters of `activity` when the customer's last activity was `prev`.
pub fn activity_counters(activity: &Activity, prev: Option<Timestamp>) -> Counters {
    let mut c = Counters::default();
    if !activity.moves_from(prev) {
        return c;
    }
    match prev {
        None => {
            c.day(activity.day, "active", 1);
            c.day(activity.day, "new", 1);
        }
        Some(p) if p < activity.day_start => {
            c.day(activity.day, "active", 1);
            c.day(activity.day, "returning", 1);
        }
        Some(_) => {}
    }
    c
}

/// The counters of a behaviour event, on the tenant-local day it happened: one per kind, and
/// watch minutes and gifts per streamer (watch time counts once whether it comes as a `watch`
/// accrual or a `stream_watch` event: send it one way).
pub fn event_counters(e: &BehaviourEvent, tz: &TimeZone) -> Counters {
    let mut c = Counters::default();
    let day = e.occurred_at.to_zoned(tz.clone()).date();
    c.day(day, format!("events.{}", e.kind.as_str()), 1);
    let streamer = e.properties.get("streamer_id").and_then(|v| v.as_str());
    let number = |k: &str| {
        e.properties
            .get(k)
            .and_then(|v| v.as_u64())
            .and_then(|n| i64::try_from(n).ok())
            .unwrap_or(0)
    };
    match (e.kind, streamer) {
        (EventKind::StreamWatch, Some(s)) => {
            c.day(day, "watch_minutes", number("minutes"));
            c.add(
                Scope::Streamer,
                Some(day),
                s,
                "watch_minutes",
                number("minutes"),
            );
        }
        (EventKind::GiftSent, Some(s)) => {
            c.add(Scope::Streamer, Some(day), s, "gift_events", 1);
        }
        _ => {}
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_first_move_into_a_local_day_counts_the_customer_active_once() {
        let tz = TimeZone::get("Asia/Tokyo").unwrap();
        // 2026-11-02T16:00Z is 01:00 on the 3rd in Tokyo.
        let a = Activity::in_zone(ts("2026-11-02T16:00:00Z"), ts("2026-11-02T16:00:00Z"), &tz);
        assert_eq!(a.day.to_string(), "2026-11-03");
        let first = activity_counters(&a, None);
        assert_eq!(first.get(Scope::Overview, Some(a.day), "", "new"), 1);
        assert_eq!(first.get(Scope::Overview, Some(a.day), "", "active"), 1);
        // Last seen at 23:30 Tokyo on the 2nd: a returning customer on the 3rd.
        let back = activity_counters(&a, Some(ts("2026-11-02T14:30:00Z")));
        assert_eq!(back.get(Scope::Overview, Some(a.day), "", "returning"), 1);
        assert_eq!(back.get(Scope::Overview, Some(a.day), "", "new"), 0);
        // Already active that local day, or later: nothing.
        assert!(activity_counters(&a, Some(ts("2026-11-02T15:30:00Z"))).is_empty());
        assert!(activity_counters(&a, Some(ts("2026-11-05T00:00:00Z"))).is_empty());
    }
}
