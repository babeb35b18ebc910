//! Converting stored items back to domain values.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use fanloop_domain::ports::StoreError;
use fanloop_domain::profile::{Consent, ConsentRecord, Identity, Profile};
use fanloop_domain::values::{AttrKey, AttrValue, Attributes, Birthday};
use fanloop_domain::{CustomerId, ExternalId, Platform, time};
use jiff::Timestamp;

pub type Item = HashMap<String, AttributeValue>;

pub fn av_s(s: impl Into<String>) -> AttributeValue {
    AttributeValue::S(s.into())
}

pub fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

pub fn get_n(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|n| n.parse().ok())
}

/// An identity as a member of the profile's string set (`/` is not in the id alphabet).
pub fn identity_token(id: &Identity) -> String {
    format!("{}/{}", id.platform, id.external_id)
}

fn corrupt(field: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("profile {field}: {e}"))
}

fn parse_opt<T, E: std::fmt::Display>(
    item: &Item,
    name: &str,
    parse: impl Fn(&str) -> Result<T, E>,
) -> Result<Option<T>, StoreError> {
    get_s(item, name)
        .map(|s| parse(s).map_err(|e| corrupt(name, e)))
        .transpose()
}

fn ts(item: &Item, name: &str) -> Result<Option<Timestamp>, StoreError> {
    parse_opt(item, name, time::parse)
}

pub fn attr_to_av(v: &AttrValue) -> AttributeValue {
    match v {
        AttrValue::String(s) => AttributeValue::S(s.clone()),
        AttrValue::Number(n) => AttributeValue::N(n.to_string()),
        AttrValue::Bool(b) => AttributeValue::Bool(*b),
    }
}

fn av_to_attr(v: &AttributeValue) -> Result<AttrValue, StoreError> {
    match v {
        AttributeValue::S(s) => Ok(AttrValue::String(s.clone())),
        AttributeValue::N(n) => n
            .parse()
            .map(AttrValue::Number)
            .map_err(|e| corrupt("attributes", e)),
        AttributeValue::Bool(b) => Ok(AttrValue::Bool(*b)),
        _ => Err(corrupt("attributes", "unexpected value type")),
    }
}

pub fn item_to_profile(item: &Item) -> Result<Profile, StoreError> {
    let customer_id = CustomerId::parse(get_s(item, "customer_id").unwrap_or_default())
        .map_err(|e| corrupt("customer_id", e))?;
    let tags = match item.get("tags") {
        Some(AttributeValue::L(l)) => l
            .iter()
            .map(|v| {
                v.as_s()
                    .map_err(|_| corrupt("tags", "not a string"))
                    .and_then(|s| {
                        fanloop_domain::values::Tag::parse(s.clone())
                            .map_err(|e| corrupt("tags", e))
                    })
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let mut attributes = Attributes::new();
    if let Some(AttributeValue::M(m)) = item.get("attributes") {
        for (k, v) in m {
            attributes.insert(
                AttrKey::parse(k.clone()).map_err(|e| corrupt("attributes", e))?,
                av_to_attr(v)?,
            );
        }
    }
    let email_marketing = match item.get("consent_email") {
        Some(AttributeValue::M(m)) => Some(ConsentRecord {
            granted: matches!(m.get("granted"), Some(AttributeValue::Bool(true))),
            at: ts(m, "at")?.ok_or_else(|| corrupt("consent", "no time"))?,
            source: get_s(m, "source").unwrap_or("api").to_owned(),
        }),
        _ => None,
    };
    let mut identities = Vec::new();
    if let Some(AttributeValue::Ss(set)) = item.get("idents") {
        for token in set {
            let (p, e) = token
                .split_once('/')
                .ok_or_else(|| corrupt("idents", "no separator"))?;
            identities.push(Identity {
                platform: Platform::parse(p).map_err(|e| corrupt("idents", e))?,
                external_id: ExternalId::parse(e).map_err(|e| corrupt("idents", e))?,
            });
        }
    }
    identities.sort();
    Ok(Profile {
        customer_id,
        email: parse_opt(item, "email", |s| fanloop_domain::values::Email::parse(s))?,
        display_name: parse_opt(item, "display_name", |s| {
            fanloop_domain::values::DisplayName::parse(s)
        })?,
        locale: parse_opt(item, "locale", |s| fanloop_domain::values::Locale::parse(s))?,
        timezone: parse_opt(item, "timezone", |s| {
            fanloop_domain::values::TimeZoneName::parse(s)
        })?,
        birthday: parse_opt(item, "birthday", Birthday::parse)?,
        phone: parse_opt(item, "phone", |s| fanloop_domain::values::Phone::parse(s))?,
        tags,
        attributes,
        consent: Consent { email_marketing },
        identities,
        created_at: ts(item, "created_at")?.ok_or_else(|| corrupt("created_at", "missing"))?,
        updated_at: ts(item, "updated_at")?.ok_or_else(|| corrupt("updated_at", "missing"))?,
        last_active_at: ts(item, "last_active_at")?,
    })
}

/// The items of a partition whose sort key starts with `prefix`, parsed, in `key` order (the
/// export's per-kind lists).
pub fn parsed_with_prefix<T, K: Ord>(
    items: &[Item],
    prefix: &str,
    parse: impl Fn(&Item) -> Result<T, fanloop_domain::ports::StoreError>,
    key: impl Fn(&T) -> K,
) -> Result<Vec<T>, fanloop_domain::ports::StoreError> {
    let mut out = items
        .iter()
        .filter(|i| get_s(i, "sk").is_some_and(|sk| sk.starts_with(prefix)))
        .map(parse)
        .collect::<Result<Vec<_>, _>>()?;
    out.sort_by_key(key);
    Ok(out)
}
