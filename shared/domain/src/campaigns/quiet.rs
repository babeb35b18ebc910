//! Quiet hours: the local times a marketing mail must not arrive, in the recipient's zone. A
//! send that falls inside waits for the end; a triggered mail that would then be older than its
//! `max_delay` is dropped, with the reason recorded.

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::error::ParseError;

/// `{"start": "22:00", "end": "08:00"}`: from `start` (included) to `end` (excluded), local
/// time; `start` after `end` spans midnight. `start` = `end` is refused (it would mean always
/// or never).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ToSchema)]
pub struct QuietHours {
    #[schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub start: Time,
    #[schema(value_type = String, pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub end: Time,
}

fn hh_mm(s: &str) -> Result<Time, ParseError> {
    let bad = || ParseError::new("must be a local time HH:MM, 00:00 to 23:59");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    if h.len() != 2 || m.len() != 2 {
        return Err(bad());
    }
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

impl QuietHours {
    pub fn parse(start: &str, end: &str) -> Result<Self, (&'static str, ParseError)> {
        let start = hh_mm(start).map_err(|e| ("start", e))?;
        let end = hh_mm(end).map_err(|e| ("end", e))?;
        if start == end {
            return Err(("end", ParseError::new("must differ from start")));
        }
        Ok(Self { start, end })
    }

    fn inside(&self, t: Time) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// The first instant at or after `at` outside the quiet hours, in `tz`. When the end falls
    /// in a daylight-saving gap it is the instant the clocks jump to.
    pub fn next_allowed(&self, at: Timestamp, tz: &TimeZone) -> Timestamp {
        let local = at.to_zoned(tz.clone());
        if !self.inside(local.time()) {
            return at;
        }
        let mut day = local.date();
        // Before midnight in a span over midnight: the end is tomorrow.
        if self.start > self.end && local.time() >= self.start {
            day = day.checked_add(1.day()).unwrap_or(day);
        }
        // `compatible`: a gap moves forward, a fold takes the earlier instant.
        tz.to_ambiguous_zoned(day.to_datetime(self.end))
            .compatible()
            .map(|z| z.timestamp())
            .unwrap_or(at)
            .max(at)
    }
}

impl Serialize for QuietHours {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let f = |t: Time| format!("{:02}:{:02}", t.hour(), t.minute());
        let mut st = s.serialize_struct("QuietHours", 2)?;
        st.serialize_field("start", &f(self.start))?;
        st.serialize_field("end", &f(self.end))?;
        st.end()
    }
}

impl<'de> Deserialize<'de> for QuietHours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Raw {
            start: String,
            end: String,
        }
        let r = Raw::deserialize(d)?;
        Self::parse(&r.start, &r.end)
            .map_err(|(field, e)| serde::de::Error::custom(format!("{field} {e}")))
    }
}

/// What to do with a mail due at `now` that was triggered at `triggered_at`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    Now,
    /// Inside quiet hours: send at this instant.
    Wait(Timestamp),
    /// It would arrive more than `max_delay` after what triggered it.
    TooLate,
}

/// When a mail may go: now, after the quiet hours (`None`: the recipient has none), or not at
/// all if by then it would be older than `max_delay` (scheduled mails have none).
pub fn delivery(
    quiet: Option<&QuietHours>,
    tz: &TimeZone,
    now: Timestamp,
    triggered_at: Timestamp,
    max_delay: Option<SignedDuration>,
) -> Delivery {
    let at = quiet.map_or(now, |q| q.next_allowed(now, tz));
    if max_delay.is_some_and(|d| at.duration_since(triggered_at) > d) {
        return Delivery::TooLate;
    }
    if at == now {
        Delivery::Now
    } else {
        Delivery::Wait(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        crate::time::parse(s).unwrap()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn night() -> QuietHours {
        QuietHours::parse("22:00", "08:00").unwrap()
    }

    #[test]
    fn the_edges_of_a_night_span() {
        let utc = TimeZone::UTC;
        let q = night();
        assert_eq!(
            q.next_allowed(ts("2026-05-01T21:59:59Z"), &utc),
            ts("2026-05-01T21:59:59Z")
        );
        assert_eq!(
            q.next_allowed(ts("2026-05-01T22:00:00Z"), &utc),
            ts("2026-05-02T08:00:00Z")
        );
        assert_eq!(
            q.next_allowed(ts("2026-05-02T03:00:00Z"), &utc),
            ts("2026-05-02T08:00:00Z")
        );
        assert_eq!(
            q.next_allowed(ts("2026-05-02T07:59:00Z"), &utc),
            ts("2026-05-02T08:00:00Z")
        );
        assert_eq!(
            q.next_allowed(ts("2026-05-02T08:00:00Z"), &utc),
            ts("2026-05-02T08:00:00Z")
        );
        let lunch = QuietHours::parse("12:00", "13:30").unwrap();
        assert_eq!(
            lunch.next_allowed(ts("2026-05-02T12:10:00Z"), &utc),
            ts("2026-05-02T13:30:00Z")
        );
        assert_eq!(
            lunch.next_allowed(ts("2026-05-02T11:00:00Z"), &utc),
            ts("2026-05-02T11:00:00Z")
        );
    }

    #[test]
    fn each_recipient_in_their_own_zone() {
        // 05:00 UTC is 22:00 in Los Angeles (PDT) and 14:00 in Tokyo.
        let at = ts("2026-05-02T05:00:00Z");
        assert_eq!(night().next_allowed(at, &tz("Asia/Tokyo")), at);
        // 08:00 PDT the next morning = 15:00 UTC.
        assert_eq!(
            night().next_allowed(at, &tz("America/Los_Angeles")),
            ts("2026-05-02T15:00:00Z")
        );
    }

    #[test]
    fn daylight_saving_in_march() {
        let la = tz("America/Los_Angeles");
        // The night of 7–8 March 2026 is one hour shorter: 08:00 PDT is 15:00 UTC, not 16:00.
        assert_eq!(
            night().next_allowed(ts("2026-03-08T07:00:00Z"), &la),
            ts("2026-03-08T15:00:00Z")
        );
        // The night before ends at 08:00 PST = 16:00 UTC.
        assert_eq!(
            night().next_allowed(ts("2026-03-07T07:00:00Z"), &la),
            ts("2026-03-07T16:00:00Z")
        );
        // An end inside the gap (02:30 does not exist on 8 March) is when the clocks jump.
        let q = QuietHours::parse("01:00", "02:30").unwrap();
        let at = ts("2026-03-08T09:30:00Z"); // 01:30 PST
        let allowed = q.next_allowed(at, &la);
        assert_eq!(allowed, ts("2026-03-08T10:30:00Z"), "03:30 PDT");
    }

    #[test]
    fn late_triggered_mail_is_dropped() {
        let utc = TimeZone::UTC;
        let q = night();
        let now = ts("2026-05-01T23:00:00Z");
        let hours = |h| Some(SignedDuration::from_hours(h));
        assert_eq!(
            delivery(Some(&q), &utc, now, now, hours(12)),
            Delivery::Wait(ts("2026-05-02T08:00:00Z"))
        );
        assert_eq!(
            delivery(Some(&q), &utc, now, now, hours(8)),
            Delivery::TooLate
        );
        assert_eq!(delivery(None, &utc, now, now, hours(1)), Delivery::Now);
        assert_eq!(
            delivery(Some(&q), &utc, now, now, None),
            Delivery::Wait(ts("2026-05-02T08:00:00Z"))
        );
    }

    #[test]
    fn parse_and_wire_form() {
        assert!(QuietHours::parse("22:00", "22:00").is_err());
        assert_eq!(QuietHours::parse("24:00", "08:00").unwrap_err().0, "start");
        assert_eq!(QuietHours::parse("22:00", "8:00").unwrap_err().0, "end");
        let q: QuietHours =
            serde_json::from_value(serde_json::json!({"start": "22:00", "end": "07:30"})).unwrap();
        assert_eq!(
            serde_json::to_value(q).unwrap(),
            serde_json::json!({"start": "22:00", "end": "07:30"})
        );
        assert!(
            serde_json::from_value::<QuietHours>(serde_json::json!({"start": "22:00"})).is_err()
        );
    }
}
