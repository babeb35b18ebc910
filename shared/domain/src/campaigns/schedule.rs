//! When campaign mails are due: the birthday send moment in the customer's own time zone, and
//! the win-back period of an inactive customer. Pure calendar arithmetic on `jiff`.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

use crate::values::Birthday;

/// How far back a run makes good sends it missed: a send whose moment fell in the 24 hours
/// before the run still goes out; an older one never does.
pub const CATCH_UP: SignedDuration = SignedDuration::from_hours(24);

/// Win-back runs are daily; one that was missed is made good for this many days.
pub const WINBACK_CATCH_UP_DAYS: i64 = 7;

/// A customer who stays inactive gets at most this many win-back mails per lapse, one every
/// `cooldown_days`.
pub const WINBACKS_PER_LAPSE: i64 = 3;

/// The birthday in `year`: 29 February is celebrated on 28 February in common years.
pub fn birthday_in(b: Birthday, year: i16) -> Option<Date> {
    Date::new(year, b.month(), b.day())
        .ok()
        .or_else(|| (b.month() == 2 && b.day() == 29).then(|| Date::new(year, 2, 28).ok())?)
}

/// The moment the birthday mail of `year` is due: `hour`:00 on the birthday in `tz` (a local
/// time skipped by a DST change moves forward, as clocks do).
pub fn birthday_send_at(b: Birthday, year: i16, hour: u8, tz: &TimeZone) -> Option<Timestamp> {
    let date = birthday_in(b, year)?;
    let hour = i8::try_from(hour.min(23)).ok()?;
    date.to_datetime(Time::new(hour, 0, 0, 0).ok()?)
        .to_zoned(tz.clone())
        .ok()
        .map(|z| z.timestamp())
}

/// The birthday whose send moment falls in `(as_of − 24 h, as_of]`, as `(year, moment)`.
pub fn birthday_due(
    b: Birthday,
    hour: u8,
    tz: &TimeZone,
    as_of: Timestamp,
) -> Option<(i16, Timestamp)> {
    let local_year = as_of.to_zoned(tz.clone()).year();
    let from = as_of.checked_sub(CATCH_UP).ok()?;
    (local_year - 1..=local_year + 1).find_map(|y| {
        let at = birthday_send_at(b, y, hour, tz)?;
        (at > from && at <= as_of).then_some((y, at))
    })
}

/// The `MM-DD` keys of the birthday index a run at `as_of` must read: every local date on which
/// a send moment in the catch-up window can fall, in any time zone (UTC−12 to UTC+14), plus
/// `02-29` whenever 28 February of a common year is among them.
pub fn birthday_index_keys(as_of: Timestamp) -> Vec<String> {
    let day = |ts: Timestamp| ts.to_zoned(TimeZone::UTC).date();
    let first = as_of
        .checked_sub(CATCH_UP + SignedDuration::from_hours(12))
        .map(day)
        .unwrap_or_else(|_| day(as_of));
    let last = as_of
        .checked_add(SignedDuration::from_hours(14))
        .map(day)
        .unwrap_or_else(|_| day(as_of));
    let mut keys = Vec::new();
    let mut d = first;
    while d <= last {
        keys.push(format!("{:02}-{:02}", d.month(), d.day()));
        if d.month() == 2 && d.day() == 28 && !d.in_leap_year() {
            keys.push("02-29".to_owned());
        }
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    keys.dedup();
    keys
}

/// The UTC day a customer was last active (their creation if never since): the key of the
/// last-active index.
pub fn last_active_day(last_active_at: Option<Timestamp>, created_at: Timestamp) -> Date {
    last_active_at
        .unwrap_or(created_at)
        .to_zoned(TimeZone::UTC)
        .date()
}

/// The win-back period of a customer last active on `last_day` at `as_of`, if they are lapsed:
/// inactive for at least `inactive_days`. The period names the lapse and the reminder
/// (`2026-09-01+0`, then `+1` after a further `cooldown_days`, up to [`WINBACKS_PER_LAPSE`]), so
/// one lapse gets each reminder once, whichever pass finds it. Which lapsed customers a run
/// reads is a separate matter: the daily pass reads only the threshold crossings
/// ([`winback_index_days`]), the backlog pass the rest ([`super::backlog`]).
pub fn winback_period(
    last_day: Date,
    as_of: Timestamp,
    inactive_days: u32,
    cooldown_days: u32,
) -> Option<String> {
    let today = as_of.to_zoned(TimeZone::UTC).date();
    let idle = (today - last_day).get_days() as i64;
    let over = idle - i64::from(inactive_days);
    if over < 0 {
        return None;
    }
    let n = (over / i64::from(cooldown_days.max(1))).min(WINBACKS_PER_LAPSE - 1);
    Some(format!("{last_day}+{n}"))
}

/// The last-active days a win-back run at `as_of` reads: those whose customers can be due.
pub fn winback_index_days(as_of: Timestamp, inactive_days: u32, cooldown_days: u32) -> Vec<Date> {
    let today = as_of.to_zoned(TimeZone::UTC).date();
    let mut days = Vec::new();
    for n in 0..WINBACKS_PER_LAPSE {
        for k in 0..WINBACK_CATCH_UP_DAYS.min(i64::from(cooldown_days.max(1))) {
            let back = i64::from(inactive_days) + n * i64::from(cooldown_days.max(1)) + k;
            if let Ok(d) = today.checked_sub(jiff::Span::new().days(back)) {
                days.push(d);
            }
        }
    }
    days.sort();
    days.dedup();
    days
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn bday(s: &str) -> Birthday {
        Birthday::parse(s).unwrap()
    }

    #[test]
    fn send_moment_is_the_local_hour_on_the_birthday() {
        let sh = TimeZone::get("Asia/Shanghai").unwrap();
        assert_eq!(
            birthday_send_at(bday("1990-11-25"), 2026, 10, &sh),
            Some(ts("2026-11-25T02:00:00Z"))
        );
        let kiritimati = TimeZone::get("Pacific/Kiritimati").unwrap();
        assert_eq!(
            birthday_send_at(bday("--11-25"), 2026, 10, &kiritimati),
            Some(ts("2026-11-24T20:00:00Z"))
        );
    }

    #[test]
    fn feb_29_is_feb_28_in_common_years_only() {
        let b = bday("2000-02-29");
        assert_eq!(birthday_in(b, 2027), Some(Date::constant(2027, 2, 28)));
        assert_eq!(birthday_in(b, 2028), Some(Date::constant(2028, 2, 29)));
        let keys = birthday_index_keys(ts("2027-02-28T12:00:00Z"));
        assert!(keys.contains(&"02-29".to_owned()), "{keys:?}");
        let keys = birthday_index_keys(ts("2028-02-28T12:00:00Z"));
        assert_eq!(
            keys.iter().filter(|k| *k == "02-29").count(),
            1,
            "a leap year reads 02-29 once, as a date of its own"
        );
    }

    #[test]
    fn due_only_in_the_24_hours_after_the_send_moment() {
        let la = TimeZone::get("America/Los_Angeles").unwrap();
        let b = bday("--11-25");
        // 10:00 PST on 25 Nov = 18:00Z.
        assert_eq!(birthday_due(b, 10, &la, ts("2026-11-25T17:59:59Z")), None);
        assert_eq!(
            birthday_due(b, 10, &la, ts("2026-11-25T18:00:00Z")),
            Some((2026, ts("2026-11-25T18:00:00Z")))
        );
        assert!(birthday_due(b, 10, &la, ts("2026-11-26T17:59:59Z")).is_some());
        assert_eq!(birthday_due(b, 10, &la, ts("2026-11-26T18:00:00Z")), None);
    }

    #[test]
    fn index_keys_cover_every_zone_that_can_be_due() {
        for as_of in [
            "2026-11-25T00:00:00Z",
            "2026-11-25T13:00:00Z",
            "2026-12-31T23:00:00Z",
        ] {
            let as_of = ts(as_of);
            let keys = birthday_index_keys(as_of);
            for zone in ["Pacific/Kiritimati", "Etc/GMT+12", "Asia/Kolkata", "UTC"] {
                let tz = TimeZone::get(zone).unwrap();
                for month in 1..=12 {
                    for day in 1..=28 {
                        let b = Birthday::parse(&format!("--{month:02}-{day:02}")).unwrap();
                        if birthday_due(b, 10, &tz, as_of).is_some() {
                            assert!(keys.contains(&b.month_day()), "{as_of} {zone} {b}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn winback_is_due_when_inactivity_crosses_a_threshold() {
        let d = Date::constant(2026, 10, 1);
        assert_eq!(winback_period(d, ts("2026-10-30T09:00:00Z"), 30, 90), None);
        assert_eq!(
            winback_period(d, ts("2026-10-31T09:00:00Z"), 30, 90).as_deref(),
            Some("2026-10-01+0")
        );
        assert!(winback_period(d, ts("2026-11-06T09:00:00Z"), 30, 90).is_some());
        assert_eq!(
            winback_period(d, ts("2026-12-20T09:00:00Z"), 30, 90).as_deref(),
            Some("2026-10-01+0"),
            "still lapsed, long after the crossing: the same first mail"
        );
        assert_eq!(
            winback_period(d, ts("2027-01-29T09:00:00Z"), 30, 90).as_deref(),
            Some("2026-10-01+1")
        );
        assert_eq!(
            winback_period(d, ts("2030-01-01T09:00:00Z"), 30, 90).as_deref(),
            Some("2026-10-01+2"),
            "no more than three mails per lapse"
        );
        let days = winback_index_days(ts("2026-10-31T09:00:00Z"), 30, 90);
        assert!(days.contains(&d));
        assert_eq!(days.len(), 21);
    }
}
