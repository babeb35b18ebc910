//! The customer profile: one central record per customer, and its merge rules.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::ValidationErrors;
use crate::ids::{CustomerId, ExternalId, Platform};
use crate::input::{ObjectParser, Patch};
use crate::time::serde_ts;
use crate::values::{
    ATTRIBUTES_MAX, Attributes, Birthday, DisplayName, Email, Locale, Phone, TAGS_MAX, Tag,
    TimeZoneName,
};

/// A link between the customer and their account on another platform. One identity belongs to
/// at most one customer of a tenant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    pub platform: Platform,
    pub external_id: ExternalId,
}

pub const IDENTITIES_MAX: usize = 20;

/// The customer's last statement about one consent purpose, with when and through what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ConsentRecord {
    pub granted: bool,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `api` (the tenant's backend), `unsubscribe` (the customer's one-click link), …
    pub source: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Consent {
    /// `null` means the customer never said: treated as no consent.
    pub email_marketing: Option<ConsentRecord>,
}

impl Consent {
    pub fn email_marketing_granted(&self) -> bool {
        self.email_marketing.as_ref().is_some_and(|c| c.granted)
    }
}

/// The central record of a customer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Profile {
    pub customer_id: CustomerId,
    pub email: Option<Email>,
    pub display_name: Option<DisplayName>,
    pub locale: Option<Locale>,
    pub timezone: Option<TimeZoneName>,
    /// `YYYY-MM-DD` or `--MM-DD`.
    #[schema(value_type = Option<String>)]
    pub birthday: Option<Birthday>,
    pub phone: Option<Phone>,
    pub tags: Vec<Tag>,
    #[schema(value_type = Object)]
    pub attributes: Attributes,
    pub consent: Consent,
    pub identities: Vec<Identity>,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[serde(with = "serde_ts::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_active_at: Option<Timestamp>,
}

/// A consent statement in an upsert.
#[derive(Clone, Debug, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ConsentInput)]
pub struct ConsentPatch {
    /// `null` leaves it as it is.
    #[serde(default)]
    #[schema(value_type = Option<bool>)]
    pub email_marketing: Patch<bool>,
    /// Where the statement was made (default `api`): 1–64 of the id alphabet.
    #[serde(default = "api_source")]
    #[schema(value_type = Option<Tag>)]
    pub source: String,
}

fn api_source() -> String {
    "api".to_owned()
}

/// A profile upsert (`PUT /v1/customers/{customer_id}`). An absent field is left as stored,
/// `null` clears it, a value replaces it (`tags` and `attributes` are replaced whole);
/// `identities` are added to the customer's links (unlinking is its own request); a consent
/// statement is stored with the time of the request and its source.
//
// Read with `ProfilePatch::from_json`, which names every invalid field. The serde form, the
// schema's source, reads bodies the same way (a test below holds it), bar what only the parser
// does: tags and identities sorted, a consent object without a statement ignored, birthdays
// after the tenant's today refused.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ProfileInput)]
pub struct ProfilePatch {
    #[serde(default)]
    #[schema(value_type = Option<Email>)]
    pub email: Patch<Email>,
    #[serde(default)]
    #[schema(value_type = Option<DisplayName>)]
    pub display_name: Patch<DisplayName>,
    /// BCP 47 tag such as `zh-CN` or `en`.
    #[serde(default)]
    #[schema(value_type = Option<Locale>)]
    pub locale: Patch<Locale>,
    /// IANA time zone such as `Asia/Shanghai`.
    #[serde(default)]
    #[schema(value_type = Option<TimeZoneName>)]
    pub timezone: Patch<TimeZoneName>,
    /// `YYYY-MM-DD` (from 1900, not in the future) or `--MM-DD`.
    #[serde(default)]
    #[schema(schema_with = birthday_schema, required = false)]
    pub birthday: Patch<Birthday>,
    /// E.164 (`+8613812345678`); spaces, dashes, dots and parentheses are dropped.
    #[serde(default)]
    #[schema(value_type = Option<Phone>)]
    pub phone: Patch<Phone>,
    /// Replaced whole; duplicates are dropped.
    #[serde(default)]
    #[schema(value_type = Option<Vec<Tag>>, max_items = 50)]
    pub tags: Patch<Vec<Tag>>,
    /// Replaced whole.
    #[serde(default)]
    #[schema(schema_with = attributes_schema, required = false)]
    pub attributes: Patch<Attributes>,
    #[serde(default)]
    #[schema(value_type = ConsentPatch, required = false, nullable = false)]
    pub consent: Option<ConsentPatch>,
    /// Added to the customer's links; unlink with `DELETE /v1/customers/{id}/identities/{platform}/{external_id}`.
    #[serde(default)]
    #[schema(max_items = 20, required = false)]
    pub identities: Vec<Identity>,
    /// Set by `fanloop import`, never from a request: a profile it creates is a migrated
    /// customer, not a signup, and starts no signup campaign.
    #[serde(skip)]
    pub imported: bool,
}

/// A full date from 1900, or `--MM-DD` with a day the month has (29 February included).
fn birthday_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
    use utoipa::openapi::{KnownFormat, SchemaFormat};
    OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
                .pattern(Some("^(19|[2-9][0-9])[0-9]{2}-")),
        )
        .item(ObjectBuilder::new().schema_type(Type::String).pattern(Some(
            "^--((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|[12][0-9]))$",
        )))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .into()
}

/// At most 50 entries; keys of the id alphabet (1–64), values a string of at most 256
/// characters, a number or a boolean.
fn attributes_schema() -> utoipa::openapi::schema::Schema {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Type};
    let value = OneOfBuilder::new()
        .item(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(256)),
        )
        .item(ObjectBuilder::new().schema_type(Type::Number))
        .item(ObjectBuilder::new().schema_type(Type::Boolean));
    ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
            Type::Object,
            Type::Null,
        ]))
        .max_properties(Some(50))
        .property_names(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(crate::ids::id_pattern(64))),
        ))
        .additional_properties(Some(AdditionalProperties::RefOr(
            utoipa::openapi::schema::Schema::OneOf(value.build()).into(),
        )))
        .into()
}

impl ProfilePatch {
    /// Parses an upsert body. `today` (the tenant's date) bounds birthdays.
    pub fn from_json(body: Value, today: jiff::civil::Date) -> Result<Self, ValidationErrors> {
        let mut p = ObjectParser::new(body, "")?;
        let mut patch = ProfilePatch {
            email: p.patch("email"),
            display_name: p.patch("display_name"),
            locale: p.patch("locale"),
            timezone: p.patch("timezone"),
            birthday: p.patch("birthday"),
            phone: p.patch("phone"),
            tags: p.patch("tags"),
            attributes: p.patch("attributes"),
            consent: None,
            identities: Vec::new(),
            imported: false,
        };
        if let Patch::Set(b) = &patch.birthday
            && b.date().is_some_and(|d| d > today)
        {
            p.error("birthday", "must not be in the future");
        }
        if let Patch::Set(tags) = &mut patch.tags {
            tags.sort();
            tags.dedup();
            if tags.len() > TAGS_MAX {
                p.error("tags", format!("must have at most {TAGS_MAX} tags"));
            }
        }
        if let Patch::Set(attrs) = &patch.attributes
            && attrs.len() > ATTRIBUTES_MAX
        {
            p.error(
                "attributes",
                format!("must have at most {ATTRIBUTES_MAX} entries"),
            );
        }
        match p.take_raw("consent") {
            None => {}
            Some(Value::Null) => p.error(
                "consent",
                "must be an object such as {\"email_marketing\": true}",
            ),
            Some(raw) => match ObjectParser::new(raw, "consent") {
                Err(e) => p.extend(e),
                Ok(mut c) => {
                    let email_marketing = c.patch::<bool>("email_marketing");
                    let source = c
                        .optional::<Tag>("source")
                        .map_or_else(|| "api".to_owned(), String::from);
                    let result = c.finish();
                    match result {
                        Err(e) => p.extend(e),
                        Ok(()) if !email_marketing.is_keep() => {
                            patch.consent = Some(ConsentPatch {
                                email_marketing,
                                source,
                            })
                        }
                        Ok(()) => {}
                    }
                }
            },
        }
        match p.patch::<Vec<Identity>>("identities") {
            Patch::Keep => {}
            Patch::Clear => p.error(
                "identities",
                "cannot be null: unlink with DELETE /v1/customers/{customer_id}/identities/{platform}/{external_id}",
            ),
            Patch::Set(mut ids) => {
                ids.sort();
                ids.dedup();
                if ids.len() > IDENTITIES_MAX {
                    p.error("identities", format!("must have at most {IDENTITIES_MAX} identities"));
                }
                patch.identities = ids;
            }
        }
        p.finish()?;
        Ok(patch)
    }
}

impl Profile {
    /// A profile that does not exist yet, as the first upsert creates it.
    pub fn new(customer_id: CustomerId, now: Timestamp) -> Self {
        Self {
            customer_id,
            email: None,
            display_name: None,
            locale: None,
            timezone: None,
            birthday: None,
            phone: None,
            tags: Vec::new(),
            attributes: Attributes::new(),
            consent: Consent::default(),
            identities: Vec::new(),
            created_at: now,
            updated_at: now,
            last_active_at: None,
        }
    }

    /// The merge rules of an upsert, applied at `now`.
    pub fn apply(&mut self, patch: &ProfilePatch, now: Timestamp) {
        let p = patch.clone();
        p.email.apply_to(&mut self.email);
        p.display_name.apply_to(&mut self.display_name);
        p.locale.apply_to(&mut self.locale);
        p.timezone.apply_to(&mut self.timezone);
        p.birthday.apply_to(&mut self.birthday);
        p.phone.apply_to(&mut self.phone);
        match p.tags {
            Patch::Keep => {}
            Patch::Clear => self.tags.clear(),
            Patch::Set(t) => self.tags = t,
        }
        match p.attributes {
            Patch::Keep => {}
            Patch::Clear => self.attributes.clear(),
            Patch::Set(a) => self.attributes = a,
        }
        if let Some(c) = p.consent {
            match c.email_marketing {
                Patch::Keep => {}
                Patch::Clear => self.consent.email_marketing = None,
                Patch::Set(granted) => {
                    self.consent.email_marketing = Some(ConsentRecord {
                        granted,
                        at: now,
                        source: c.source,
                    })
                }
            }
        }
        for id in p.identities {
            if !self.identities.contains(&id) {
                self.identities.push(id);
            }
        }
        self.identities.sort();
        self.updated_at = now;
    }

    /// Whether applying `patch` at `now` would change what the profile says: the times it
    /// would stamp (`updated_at`, a restated consent's `at`) do not count. An import run again
    /// uses it to write nothing.
    pub fn changed_by(&self, patch: &ProfilePatch, now: Timestamp) -> bool {
        let mut after = self.clone();
        after.apply(patch, now);
        after.updated_at = self.updated_at;
        if let (Some(a), Some(b)) = (
            after.consent.email_marketing.as_mut(),
            self.consent.email_marketing.as_ref(),
        ) && a.granted == b.granted
            && a.source == b.source
        {
            a.at = b.at;
        }
        after != *self
    }

    /// Removes an identity link.
    pub fn unlink(&mut self, identity: &Identity, now: Timestamp) {
        self.identities.retain(|i| i != identity);
        self.updated_at = now;
    }

    /// Records activity at `at`; the last-active time only moves forward.
    pub fn touch(&mut self, at: Timestamp) {
        if self.last_active_at.is_none_or(|t| t < at) {
            self.last_active_at = Some(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn today() -> jiff::civil::Date {
        jiff::civil::date(2026, 11, 22)
    }

    #[test]
    fn restating_a_profile_changes_nothing_but_a_new_value_does() {
        let t0 = crate::time::parse("2026-01-01T00:00:00Z").unwrap();
        let later = crate::time::parse("2026-02-01T00:00:00Z").unwrap();
        let patch = |v| ProfilePatch::from_json(v, today()).unwrap();
        let body = json!({"email": "a@example.com", "tags": ["vip"],
                          "consent": {"email_marketing": true, "source": "form"}});
        let mut p = Profile::new(CustomerId::parse("c").unwrap(), t0);
        p.apply(&patch(body.clone()), t0);
        assert!(
            !p.changed_by(&patch(body), later),
            "same values, later: no change"
        );
        assert!(!p.changed_by(&patch(json!({})), later));
        assert!(p.changed_by(&patch(json!({"email": "b@example.com"})), later));
        assert!(p.changed_by(
            &patch(json!({"consent": {"email_marketing": false, "source": "form"}})),
            later
        ));
        assert!(p.changed_by(
            &patch(json!({"consent": {"email_marketing": true, "source": "app"}})),
            later
        ));
        assert!(p.changed_by(&patch(json!({"tags": null})), later));
    }

    /// The serde form of the upsert (the source of its schema) reads bodies as the parser
    /// does: the same patch from valid bodies, a refusal of invalid ones.
    #[test]
    fn the_schema_type_reads_bodies_as_the_parser_does() {
        let valid = [
            json!({}),
            json!({"email": "a@example.com", "display_name": "Ana", "locale": "zh-CN",
                   "timezone": "Asia/Shanghai", "birthday": "1990-05-01",
                   "phone": "+8613812345678", "tags": ["a", "b"],
                   "attributes": {"club": "x", "level": 3, "vip": true},
                   "consent": {"email_marketing": true, "source": "signup"},
                   "identities": [{"platform": "steam", "external_id": "765"}]}),
            json!({"email": null, "display_name": null, "birthday": "--02-29", "tags": null,
                   "attributes": null, "phone": null, "consent": {"email_marketing": null}}),
            json!({"consent": {"email_marketing": false}, "identities": []}),
        ];
        for body in valid {
            let parsed = ProfilePatch::from_json(body.clone(), today()).unwrap();
            let read: ProfilePatch = serde_json::from_value(body.clone()).unwrap();
            assert_eq!(parsed, read, "{body}");
        }
        let invalid = [
            json!({"nickname": "x"}),
            json!({"email": 3}),
            json!({"email": "not an address"}),
            json!({"tags": "a"}),
            json!({"birthday": "1990-02-30"}),
            json!({"consent": {"email_marketing": true, "by": "x"}}),
            json!({"identities": null}),
        ];
        for body in invalid {
            assert!(
                ProfilePatch::from_json(body.clone(), today()).is_err(),
                "{body}"
            );
            assert!(
                serde_json::from_value::<ProfilePatch>(body.clone()).is_err(),
                "{body}"
            );
        }
    }

    fn ts(s: &str) -> Timestamp {
        crate::time::parse(s).unwrap()
    }

    #[test]
    fn merge_keeps_absent_clears_null_replaces_values() {
        let now = ts("2026-01-01T00:00:00Z");
        let mut p = Profile::new(CustomerId::parse("c1").unwrap(), now);
        let first = ProfilePatch::from_json(
            json!({"email": "a@example.com", "display_name": "Li Wei", "tags": ["vip", "eu", "vip"],
                   "consent": {"email_marketing": true}}),
            today(),
        )
        .unwrap();
        p.apply(&first, now);
        let later = ts("2026-01-02T00:00:00Z");
        let second =
            ProfilePatch::from_json(json!({"display_name": null, "tags": ["new"]}), today())
                .unwrap();
        p.apply(&second, later);
        assert_eq!(p.email.as_ref().map(Email::as_str), Some("a@example.com"));
        assert_eq!(p.display_name, None);
        assert_eq!(p.tags, vec![Tag::parse("new").unwrap()]);
        let consent = p.consent.email_marketing.clone().unwrap();
        assert!(consent.granted && consent.at == now && consent.source == "api");
        assert_eq!((p.created_at, p.updated_at), (now, later));
    }

    #[test]
    fn identities_are_added_not_replaced() {
        let now = ts("2026-01-01T00:00:00Z");
        let mut p = Profile::new(CustomerId::parse("c1").unwrap(), now);
        let a = json!({"identities": [{"platform": "steam", "external_id": "1"}]});
        let b = json!({"identities": [{"platform": "apple", "external_id": "x"}]});
        p.apply(&ProfilePatch::from_json(a, today()).unwrap(), now);
        p.apply(&ProfilePatch::from_json(b, today()).unwrap(), now);
        let platforms: Vec<_> = p.identities.iter().map(|i| i.platform.as_str()).collect();
        assert_eq!(platforms, ["apple", "steam"]);
    }

    #[test]
    fn every_invalid_field_is_reported() {
        let body = json!({
            "email": "bad", "birthday": "2030-01-01", "locale": 7,
            "consent": {"email_marketing": "yes"}, "identities": [{"platform": "a#b", "external_id": "1"}],
            "favourite_colour": "blue"
        });
        let errs = ProfilePatch::from_json(body, today()).unwrap_err().0;
        let mut fields: Vec<_> = errs.iter().map(|e| e.field.clone()).collect();
        fields.sort();
        assert_eq!(
            fields,
            [
                "birthday",
                "consent.email_marketing",
                "email",
                "favourite_colour",
                "identities[0].platform",
                "locale"
            ]
        );
    }

    #[test]
    fn identities_cannot_be_nulled_and_body_must_be_an_object() {
        assert!(ProfilePatch::from_json(json!({"identities": null}), today()).is_err());
        assert!(ProfilePatch::from_json(json!("x"), today()).is_err());
        assert_eq!(
            ProfilePatch::from_json(json!({}), today()).unwrap(),
            ProfilePatch::default()
        );
    }

    #[test]
    fn last_active_only_moves_forward() {
        let mut p = Profile::new(CustomerId::parse("c1").unwrap(), ts("2026-01-01T00:00:00Z"));
        p.touch(ts("2026-02-01T00:00:00Z"));
        p.touch(ts("2026-01-15T00:00:00Z"));
        assert_eq!(p.last_active_at, Some(ts("2026-02-01T00:00:00Z")));
    }
}
