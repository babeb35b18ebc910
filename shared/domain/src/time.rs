//! Time: every stored or returned instant has millisecond precision and one fixed RFC 3339
//! format (`2026-11-22T07:19:49.123Z`), so stored strings sort in time order in both stores.

use jiff::{Timestamp, Unit, tz::TimeZone};

/// Truncates to whole milliseconds (the precision of everything Fanloop stores).
pub fn to_millis(ts: Timestamp) -> Timestamp {
    ts.round(
        jiff::TimestampRound::new()
            .smallest(Unit::Millisecond)
            .mode(jiff::RoundMode::Trunc),
    )
    .unwrap_or(ts)
}

/// The fixed-width UTC form used in storage and responses.
pub fn format(ts: Timestamp) -> String {
    format!("{:.3}", to_millis(ts))
}

/// Parses an RFC 3339 instant (any offset), truncated to milliseconds.
pub fn parse(s: &str) -> Result<Timestamp, crate::error::ParseError> {
    s.parse::<Timestamp>().map(to_millis).map_err(|_| {
        crate::error::ParseError::new(
            "must be an RFC 3339 date-time with offset, e.g. 2026-05-01T12:00:00Z",
        )
    })
}

/// The UTC calendar day of an instant, `YYYY-MM-DD` (the last-active index key).
pub fn utc_day(ts: Timestamp) -> String {
    ts.to_zoned(TimeZone::UTC).date().to_string()
}

/// Serde adapters for the fixed format.
pub mod serde_ts {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(*ts))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        super::parse(&s).map_err(serde::de::Error::custom)
    }

    pub mod option {
        use jiff::Timestamp;
        use serde::{Deserialize, Deserializer, Serializer};

        pub fn serialize<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
            match ts {
                Some(ts) => s.serialize_str(&super::super::format(*ts)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|s| super::super::parse(&s).map_err(serde::de::Error::custom))
                .transpose()
        }
    }
}

/// The longest range of days a report covers.
pub const MAX_RANGE_DAYS: i32 = 366;

/// The range a summary request asks for, checked: `to` defaults to today in the tenant's zone,
/// `from` to 29 days before `to`; at most [`MAX_RANGE_DAYS`] days.
pub fn day_range(
    from: Option<&str>,
    to: Option<&str>,
    today: jiff::civil::Date,
) -> Result<(jiff::civil::Date, jiff::civil::Date), crate::error::ValidationErrors> {
    let mut errs = crate::error::ValidationErrors::default();
    let mut dates = [None, None];
    for (slot, (name, raw)) in dates.iter_mut().zip([("from", from), ("to", to)]) {
        if let Some(raw) = raw {
            match raw.parse::<jiff::civil::Date>() {
                Ok(d) if d.to_string() == raw => *slot = Some(d),
                _ => errs.push(name, "must be a date, YYYY-MM-DD"),
            }
        }
    }
    errs.into_result()?;
    let to = dates[1].unwrap_or(today);
    let from = dates[0].unwrap_or_else(|| to.checked_sub(jiff::Span::new().days(29)).unwrap_or(to));
    if from > to {
        return Err(crate::error::ValidationErrors::single(
            "from",
            "must not be after to",
        ));
    }
    if (to - from).get_days() + 1 > MAX_RANGE_DAYS {
        return Err(crate::error::ValidationErrors::single(
            "from",
            format!("the range may cover at most {MAX_RANGE_DAYS} days"),
        ));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_fixed_width_and_sorts() {
        let a = parse("2026-01-02T03:04:05Z").unwrap();
        let b = parse("2026-01-02T03:04:05.1+00:00").unwrap();
        assert_eq!(format(a), "2026-01-02T03:04:05.000Z");
        assert_eq!(format(b), "2026-01-02T03:04:05.100Z");
        assert!(format(a) < format(b));
    }

    #[test]
    fn parse_normalises_offsets_and_truncates() {
        let ts = parse("2026-01-02T11:04:05.123456+08:00").unwrap();
        assert_eq!(format(ts), "2026-01-02T03:04:05.123Z");
        assert_eq!(utc_day(ts), "2026-01-02");
        assert!(parse("2026-01-02 03:04").is_err());
    }
}
