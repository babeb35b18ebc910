//! One logged contact, and the body of `POST /v1/customers/{id}/contacts` it is made from.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ParseError, ValidationErrors};
use crate::ids::{CustomerId, ExternalId};
use crate::time::serde_ts;
use crate::wire::DateTime;

/// A summary may be this long, in characters.
pub const SUMMARY_MAX_CHARS: usize = 2000;
/// An outcome may be this long, in characters.
const OUTCOME_MAX_CHARS: usize = 500;
/// `at` may be at most this far ahead of the clock.
const AT_MAX_AHEAD: SignedDuration = SignedDuration::from_mins(5);
/// ... and at most this far back (a contact logged a year late is a data import, not a log).
const AT_MAX_BACK: SignedDuration = SignedDuration::from_hours(366 * 24);

/// How staff and the customer talked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ContactChannel {
    Phone,
    Email,
    Chat,
    Meeting,
    InGame,
}

/// Who started the contact.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The customer reached out.
    Inbound,
    /// Staff reached out.
    Outbound,
}

crate::string_newtype!(
    /// What was said, for the next agent: 1–2000 characters, not only spaces.
    ContactSummary,
    schema: { min_length: 1, max_length: 2000, pattern: "\\S" },
    |s| if s.trim().is_empty() || s.chars().count() > SUMMARY_MAX_CHARS {
        Err(ParseError::new("must be 1 to 2000 characters, not only spaces"))
    } else {
        Ok(s)
    }
);

crate::string_newtype!(
    /// How it ended (`refund promised`, `solved`): 1–500 characters, not only spaces.
    ContactOutcome,
    schema: { min_length: 1, max_length: 500, pattern: "\\S" },
    |s| if s.trim().is_empty() || s.chars().count() > OUTCOME_MAX_CHARS {
        Err(ParseError::new("must be 1 to 500 characters, not only spaces"))
    } else {
        Ok(s)
    }
);

crate::wire_struct! {
    /// The body of `POST /v1/customers/{id}/contacts`.
    #[derive(Serialize)]
    pub struct ContactInput {
        /// Your id of the contact: with it a retry records nothing twice (the same body again
        /// answers 200 with the contact as first logged). Without it each request logs one.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub contact_id: Option<ExternalId>,
        pub channel: ContactChannel,
        pub direction: Direction,
        pub summary: ContactSummary,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub outcome: Option<ContactOutcome>,
        /// When it happened (default: now): at most 5 minutes ahead, at most 366 days back.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub at: Option<DateTime>,
    }
}

/// Who logged a contact: an API key (the tenant's support tool) or a staff member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContactAuthor {
    ApiKey { key_id: String },
    Staff { staff_id: String },
}

/// A logged contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    pub contact_id: String,
    pub channel: ContactChannel,
    pub direction: Direction,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
    pub recorded_by: ContactAuthor,
    /// A digest of the request that logged it (a retry's must match); not shown.
    #[serde(default, skip_serializing)]
    #[schema(ignore)]
    pub fingerprint: String,
}

impl ContactInput {
    /// Reads the body and checks what serde cannot: `at` within the window around `now`.
    pub fn read(body: serde_json::Value, now: Timestamp) -> Result<Self, ValidationErrors> {
        let input = Self::parse(body)?;
        if let Some(DateTime(at)) = input.at
            && (at > now + AT_MAX_AHEAD || at < now - AT_MAX_BACK)
        {
            let mut errs = ValidationErrors::default();
            errs.push(
                "at",
                "must be at most 5 minutes ahead and at most 366 days back",
            );
            return Err(errs);
        }
        Ok(input)
    }

    /// The contact this body logs; `generated_id` is used when the body names none.
    pub fn into_contact(
        self,
        customer: &CustomerId,
        generated_id: String,
        author: ContactAuthor,
        now: Timestamp,
    ) -> Contact {
        // The author is part of the request: the same id from another key is another request.
        let fingerprint =
            crate::points::rules::fingerprint(customer, &serde_json::json!([&self, &author]));
        Contact {
            contact_id: self
                .contact_id
                .map_or(generated_id, |id| id.as_str().to_owned()),
            channel: self.channel,
            direction: self.direction,
            summary: self.summary.into(),
            outcome: self.outcome.map(String::from),
            at: self.at.map_or(now, |d| d.0),
            recorded_at: now,
            recorded_by: author,
            fingerprint,
        }
    }
}

impl Contact {
    /// Newest-first order of a customer's contacts: when it happened, then the id.
    pub fn sort_key(&self) -> String {
        format!(
            "{:015}#{}",
            self.at.as_millisecond().max(0),
            self.contact_id
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        crate::time::parse("2026-11-22T08:00:00Z").unwrap()
    }

    fn fields(v: serde_json::Value) -> Vec<String> {
        ContactInput::read(v, now())
            .err()
            .map(|e| e.0.iter().map(|f| f.field.clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_contact_is_read_with_its_defaults() {
        let c = ContactInput::read(
            json!({"channel": "phone", "direction": "inbound", "summary": "Asked about a refund"}),
            now(),
        )
        .unwrap()
        .into_contact(
            &CustomerId::parse("c1").unwrap(),
            "01GEN".into(),
            ContactAuthor::ApiKey {
                key_id: "k1".into(),
            },
            now(),
        );
        assert_eq!(c.contact_id, "01GEN");
        assert_eq!((c.at, c.recorded_at), (now(), now()));
        assert_eq!(c.outcome, None);
        assert_eq!(c.channel, ContactChannel::Phone);
        assert_eq!(c.fingerprint.len(), 64);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut named = fields(
            json!({"channel": "fax", "direction": "sideways", "summary": "  ",
            "outcome": "", "contact_id": "no spaces", "at": "yesterday", "extra": 1}),
        );
        named.sort();
        assert_eq!(
            named,
            [
                "at",
                "channel",
                "contact_id",
                "direction",
                "extra",
                "outcome",
                "summary"
            ]
        );
        assert_eq!(
            fields(json!({"channel": "chat", "direction": "outbound"})),
            ["summary"]
        );
        let long = "字".repeat(SUMMARY_MAX_CHARS);
        let ok = json!({"channel": "chat", "direction": "outbound", "summary": long});
        assert!(fields(ok).is_empty(), "2000 characters are allowed");
        let over =
            json!({"channel": "chat", "direction": "outbound", "summary": format!("{long}x")});
        assert_eq!(fields(over), ["summary"]);
    }

    #[test]
    fn at_stays_near_the_clock() {
        let at =
            |t: &str| json!({"channel": "email", "direction": "inbound", "summary": "s", "at": t});
        assert!(fields(at("2026-11-22T08:04:59Z")).is_empty());
        assert_eq!(fields(at("2026-11-22T08:05:01Z")), ["at"]);
        assert!(fields(at("2025-11-22T08:00:00Z")).is_empty());
        assert_eq!(fields(at("2025-11-20T08:00:00Z")), ["at"]);
    }

    #[test]
    fn the_author_is_part_of_the_fingerprint() {
        let input = || {
            ContactInput::read(
                json!({"contact_id": "call-1", "channel": "phone", "direction": "inbound", "summary": "s"}),
                now(),
            )
            .unwrap()
        };
        let c = CustomerId::parse("c1").unwrap();
        let by = |k: &str| ContactAuthor::ApiKey { key_id: k.into() };
        let a = input().into_contact(&c, "x".into(), by("k1"), now());
        let b = input().into_contact(
            &c,
            "y".into(),
            by("k1"),
            now() + SignedDuration::from_secs(3),
        );
        let other = input().into_contact(&c, "x".into(), by("k2"), now());
        assert_eq!(a.contact_id, "call-1");
        assert_eq!(
            a.fingerprint, b.fingerprint,
            "a retry later is the same request"
        );
        assert_ne!(a.fingerprint, other.fingerprint);
    }
}
