//! Value newtypes of a customer profile, each parsed (and normalised) once.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ParseError;
use crate::ids::check_id;
use crate::string_newtype;

/// Text that is not blank and has no control characters, as a JSON Schema pattern.
const PLAIN_TEXT_PATTERN: &str = "^[^\\u0000-\\u001f\\u007f-\\u009f]*[^\\s\\u0000-\\u001f\\u007f-\\u009f][^\\u0000-\\u001f\\u007f-\\u009f]*$";

/// Trims `s` and checks it is 1 to `max` characters without control characters.
fn plain_text(s: &str, max: usize) -> Result<String, ParseError> {
    let s = s.trim();
    let n = s.chars().count();
    if n == 0 || n > max {
        return Err(ParseError::new(format!("must be 1 to {max} characters")));
    }
    if s.chars().any(char::is_control) {
        return Err(ParseError::new("must not contain control characters"));
    }
    Ok(s.to_owned())
}

string_newtype!(
    /// An e-mail address: syntax checked, surrounding space trimmed, domain lowercased.
    Email,
    schema: { format: utoipa::openapi::SchemaFormat::KnownFormat(utoipa::openapi::KnownFormat::Email), max_length: 254 },
    |s| {
        let s = s.trim();
        if s.chars().any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"')) {
            return Err(ParseError::new("must be an e-mail address like name@example.com"));
        }
        if s.len() > 254 {
            return Err(ParseError::new("must be at most 254 characters"));
        }
        let parsed: email_address::EmailAddress = s
            .parse()
            .map_err(|_| ParseError::new("must be an e-mail address like name@example.com"))?;
        // Only plain `local@domain` addresses: no display names, no IP-literal domains.
        if parsed.as_str() != s || !parsed.domain().contains('.') || parsed.domain().starts_with('[') {
            return Err(ParseError::new("must be an e-mail address like name@example.com"));
        }
        Ok(format!("{}@{}", parsed.local_part(), parsed.domain().to_ascii_lowercase()))
    }
);

string_newtype!(
    /// A display name: 1–200 characters after trimming, no control characters.
    DisplayName,
    schema: {
        pattern: PLAIN_TEXT_PATTERN,
        max_length: 200,
    },
    |s| plain_text(&s, 200)
);

string_newtype!(
    /// A name staff give a thing (a segment, a campaign): 1–200 characters, not only spaces.
    Title,
    schema: { min_length: 1, max_length: 200, pattern: "\\S" },
    |s| if s.trim().is_empty() || s.chars().count() > 200 {
        Err(ParseError::new("must be 1 to 200 characters, not only spaces"))
    } else {
        Ok(s)
    }
);

string_newtype!(
    /// A BCP 47 language tag (`en`, `zh-CN`, `zh-Hans-CN`), case-normalised; `_` is read as `-`.
    Locale,
    schema: { pattern: "^[A-Za-z]{2,3}([-_]([A-Za-z]{4}|[A-Za-z]{2}|[0-9]{3}|[A-Za-z0-9]{5,8})){0,3}$" },
    |s| {
        let invalid = || ParseError::new("must be a language tag such as en, zh-CN or pt-BR");
        let mut out = Vec::new();
        for (i, part) in s.split(['-', '_']).enumerate() {
            let n = part.len();
            let alpha = part.bytes().all(|b| b.is_ascii_alphabetic());
            let digit = part.bytes().all(|b| b.is_ascii_digit());
            let norm = match i {
                0 if alpha && (2..=3).contains(&n) => part.to_ascii_lowercase(),
                0 => return Err(invalid()),
                _ if alpha && n == 4 => {
                    let mut c = part.to_ascii_lowercase();
                    c[..1].make_ascii_uppercase();
                    c
                }
                _ if (alpha && n == 2) || (digit && n == 3) => part.to_ascii_uppercase(),
                _ if (5..=8).contains(&n) && part.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    part.to_ascii_lowercase()
                }
                _ => return Err(invalid()),
            };
            out.push(norm);
        }
        if out.len() > 4 {
            return Err(invalid());
        }
        Ok(out.join("-"))
    }
);

impl Locale {
    /// The primary language subtag (`zh` of `zh-CN`).
    pub fn language(&self) -> &str {
        self.0.split('-').next().unwrap_or(&self.0)
    }
}

string_newtype!(
    /// An IANA time zone name known to the bundled tz database (`Asia/Shanghai`).
    TimeZoneName,
    schema: { enum_values: jiff::tz::db().available().map(|n| n.to_string()).collect::<Vec<_>>() },
    |s| {
        match jiff::tz::TimeZone::get(&s) {
            Ok(tz) => Ok(tz.iana_name().map(str::to_owned).unwrap_or(s)),
            Err(_) => Err(ParseError::new("must be an IANA time zone such as Asia/Shanghai or UTC")),
        }
    }
);

impl TimeZoneName {
    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }

    pub fn tz(&self) -> jiff::tz::TimeZone {
        jiff::tz::TimeZone::get(&self.0).unwrap_or(jiff::tz::TimeZone::UTC)
    }
}

string_newtype!(
    /// Why staff changed something: 1–500 characters after trimming, no control characters.
    Reason,
    schema: {
        pattern: PLAIN_TEXT_PATTERN,
        max_length: 500,
    },
    |s| plain_text(&s, 500)
);

string_newtype!(
    /// A phone number in E.164 form (`+8613812345678`); spaces, dashes and parentheses are dropped.
    Phone,
    schema: { pattern: "^[ ().-]*\\+[ ().-]*[1-9]([ ().-]*[0-9]){7,14}[ ().-]*$" },
    |s| {
        let compact: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
        let digits = compact.strip_prefix('+').unwrap_or("");
        let ok = (8..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        if ok { Ok(compact) } else { Err(ParseError::new("must be an E.164 number such as +14155550123")) }
    }
);

string_newtype!(
    /// A segment tag: 1–64 of the id alphabet.
    Tag,
    schema: { pattern: crate::ids::id_pattern(64) },
    |s| check_id(&s, 64).map(|_| s)
);

string_newtype!(
    /// A key of the free-form `attributes` map: 1–64 of the id alphabet.
    AttrKey,
    schema: { pattern: crate::ids::id_pattern(64) },
    |s| check_id(&s, 64).map(|_| s)
);

/// A birthday: a full date, or month and day only (`--MM-DD`, ISO 8601's form without year).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Birthday {
    year: Option<i16>,
    month: i8,
    day: i8,
}

impl Birthday {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let invalid = || ParseError::new("must be a date YYYY-MM-DD or a month and day --MM-DD");
        if let Some(md) = s.strip_prefix("--") {
            // Validate month/day against a leap year so --02-29 is accepted.
            let (m, d) = md.split_once('-').ok_or_else(invalid)?;
            if m.len() != 2 || d.len() != 2 {
                return Err(invalid());
            }
            let month: i8 = m.parse().map_err(|_| invalid())?;
            let day: i8 = d.parse().map_err(|_| invalid())?;
            Date::new(2000, month, day).map_err(|_| invalid())?;
            return Ok(Self {
                year: None,
                month,
                day,
            });
        }
        if s.len() != 10 {
            return Err(invalid());
        }
        let date: Date = s.parse().map_err(|_| invalid())?;
        if date.year() < 1900 {
            return Err(ParseError::new("must not be before 1900"));
        }
        Ok(Self {
            year: Some(date.year()),
            month: date.month(),
            day: date.day(),
        })
    }

    pub fn year(&self) -> Option<i16> {
        self.year
    }

    pub fn month(&self) -> i8 {
        self.month
    }

    pub fn day(&self) -> i8 {
        self.day
    }

    /// `MM-DD`: the key of the birthday index.
    pub fn month_day(&self) -> String {
        format!("{:02}-{:02}", self.month, self.day)
    }

    /// The full date, if the year is known.
    pub fn date(&self) -> Option<Date> {
        self.year
            .and_then(|y| Date::new(y, self.month, self.day).ok())
    }
}

impl std::fmt::Display for Birthday {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.year {
            Some(y) => write!(f, "{y:04}-{:02}-{:02}", self.month, self.day),
            None => write!(f, "--{:02}-{:02}", self.month, self.day),
        }
    }
}

impl Serialize for Birthday {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Birthday {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A value of the `attributes` map: a short string, a finite number or a boolean.
#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    String(String),
    Number(serde_json::Number),
    Bool(bool),
}

pub const ATTR_STRING_MAX: usize = 256;

impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::String(v) => s.serialize_str(v),
            AttrValue::Number(n) => n.serialize(s),
            AttrValue::Bool(b) => s.serialize_bool(*b),
        }
    }
}

impl<'de> Deserialize<'de> for AttrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::String(v) if v.chars().count() <= ATTR_STRING_MAX => {
                Ok(AttrValue::String(v))
            }
            serde_json::Value::String(_) => Err(D::Error::custom(format!(
                "strings must be at most {ATTR_STRING_MAX} characters"
            ))),
            serde_json::Value::Number(n) => Ok(AttrValue::Number(n)),
            serde_json::Value::Bool(b) => Ok(AttrValue::Bool(b)),
            _ => Err(D::Error::custom("must be a string, a number or a boolean")),
        }
    }
}

/// The free-form attribute map of a profile (at most 50 entries).
pub type Attributes = BTreeMap<AttrKey, AttrValue>;
pub const ATTRIBUTES_MAX: usize = 50;
pub const TAGS_MAX: usize = 50;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_domain_lowercased() {
        assert_eq!(
            Email::parse(" Li.Wei@Example.COM ").unwrap().as_str(),
            "Li.Wei@example.com"
        );
        for bad in [
            "",
            "no-at-sign",
            "a@b",
            "Name <a@b.com>",
            "a@[127.0.0.1]",
            "a b@c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn locale_is_case_normalised() {
        assert_eq!(Locale::parse("zh_cn").unwrap().as_str(), "zh-CN");
        assert_eq!(Locale::parse("ZH-hans-cn").unwrap().as_str(), "zh-Hans-CN");
        assert_eq!(Locale::parse("en").unwrap().language(), "en");
        for bad in ["", "e", "english-x", "zh--CN", "12"] {
            assert!(Locale::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn time_zones_come_from_the_bundled_database() {
        assert_eq!(
            TimeZoneName::parse("Pacific/Kiritimati").unwrap().as_str(),
            "Pacific/Kiritimati"
        );
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn birthdays_with_and_without_year() {
        let b = Birthday::parse("--02-29").unwrap();
        assert_eq!((b.year(), b.month_day()), (None, "02-29".to_owned()));
        assert_eq!(b.to_string(), "--02-29");
        let b = Birthday::parse("1990-07-04").unwrap();
        assert_eq!(b.to_string(), "1990-07-04");
        for bad in [
            "1990-02-29",
            "--13-01",
            "--02-30",
            "1890-01-01",
            "1990-7-4",
            "07-04",
        ] {
            assert!(Birthday::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn phones_are_e164() {
        assert_eq!(
            Phone::parse("+86 138-1234-5678").unwrap().as_str(),
            "+8613812345678"
        );
        for bad in ["13812345678", "+0123456789", "+12", "+1234567890123456"] {
            assert!(Phone::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn attribute_values_are_scalars() {
        let v: AttrValue = serde_json::from_str("12.5").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "12.5");
        assert!(serde_json::from_str::<AttrValue>("{\"a\":1}").is_err());
        assert!(serde_json::from_str::<AttrValue>("null").is_err());
    }
}
