//! Request wire types: one declaration gives the struct, its OpenAPI schema and its parser, so
//! what the document says is what the parser does. Fields are read one at a time
//! ([`ObjectParser`]), so one answer names every invalid field; a field's type carries its
//! constraint (an id newtype, [`Bounded`], [`DateTime`], an enum) into both.

use std::borrow::Cow;

use crate::input::ObjectParser;

use jiff::Timestamp;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};
use utoipa::openapi::{KnownFormat, RefOr, SchemaFormat};

/// Declares a request body: the struct (serde + OpenAPI schema, unknown fields refused) and
/// `parse`/`parse_at`, which read it field by field. A field marked `@nested` is another wire
/// type, parsed with its own field names under this one's (`reward.value_minor`).
#[macro_export]
macro_rules! wire_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* pub $field:ident : $(@$nested:ident)? $fty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $fty ),*
        }

        impl $name {
            /// Reads a request body, naming every invalid field.
            pub fn parse(body: serde_json::Value) -> Result<Self, $crate::ValidationErrors> {
                <Self as $crate::wire::Wire>::parse_at(body, "")
            }
        }

        impl $crate::wire::Wire for $name {
            fn parse_at(
                body: serde_json::Value,
                prefix: &str,
            ) -> Result<Self, $crate::ValidationErrors> {
                let mut p = $crate::input::ObjectParser::new(body, prefix)?;
                $( let $field = $crate::wire_field!(p, stringify!($field), $fty $(, $nested)?); )*
                p.finish()?;
                match ($($field,)*) {
                    ($(Some($field),)*) => Ok(Self { $($field),* }),
                    #[allow(unreachable_patterns)]
                    _ => Err($crate::ValidationErrors::single(
                        if prefix.is_empty() { "(body)" } else { prefix },
                        "is invalid",
                    )),
                }
            }
        }
    };
}

/// One field of a [`wire_struct!`]: `Option<Type>` where `None` means an error was recorded.
#[macro_export]
macro_rules! wire_field {
    ($p:ident, $name:expr, $fty:ty) => {
        $p.field::<$fty>($name)
    };
    ($p:ident, $name:expr, $fty:ty, nested) => {
        $p.nested::<$fty>($name)
    };
}

/// A type declared with [`wire_struct!`].
pub trait Wire: Sized {
    /// Reads the object at `prefix` (`""` for a whole body, `responses[3]` for an item),
    /// naming every invalid field.
    fn parse_at(body: serde_json::Value, prefix: &str) -> Result<Self, crate::ValidationErrors>;
}

/// A field holding another wire type: `T` (required) or `Option<T>` (absent or `null` for none).
pub trait NestedField: Sized {
    fn read(p: &mut ObjectParser, name: &str) -> Option<Self>;
}

impl<T: Wire> NestedField for Option<T> {
    fn read(p: &mut ObjectParser, name: &str) -> Option<Self> {
        match p.take_raw(name) {
            None | Some(serde_json::Value::Null) => Some(None),
            Some(raw) => match T::parse_at(raw, &p.path(name)) {
                Ok(v) => Some(Some(v)),
                Err(e) => {
                    p.extend(e);
                    None
                }
            },
        }
    }
}

/// A required field holding another wire type.
impl<T: Wire> NestedField for T {
    fn read(p: &mut ObjectParser, name: &str) -> Option<Self> {
        let path = p.path(name);
        match p.take_raw(name) {
            None | Some(serde_json::Value::Null) => {
                p.extend(crate::ValidationErrors::single(path, "is required"));
                None
            }
            Some(raw) => match T::parse_at(raw, &path) {
                Ok(v) => Some(v),
                Err(e) => {
                    p.extend(e);
                    None
                }
            },
        }
    }
}

/// An integer from `MIN` to `MAX`, in the schema as `minimum`/`maximum`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bounded<const MIN: u64, const MAX: u64>(u64);

impl<const MIN: u64, const MAX: u64> Bounded<MIN, MAX> {
    pub fn get(self) -> u64 {
        self.0
    }
}

impl<'de, const MIN: u64, const MAX: u64> Deserialize<'de> for Bounded<MIN, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = u64::deserialize(d)?;
        if (MIN..=MAX).contains(&v) {
            Ok(Self(v))
        } else {
            Err(serde::de::Error::custom(format!("must be {MIN} to {MAX}")))
        }
    }
}

impl<const MIN: u64, const MAX: u64> Serialize for Bounded<MIN, MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<const MIN: u64, const MAX: u64> utoipa::PartialSchema for Bounded<MIN, MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(MIN as f64))
            .maximum(Some(MAX as f64))
            .into()
    }
}

impl<const MIN: u64, const MAX: u64> utoipa::ToSchema for Bounded<MIN, MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("Integer{MIN}To{MAX}"))
    }
}

/// A non-zero integer from `-MAX` to `MAX` (a credit or a debit), in the schema as one of the
/// two ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedNonZero<const MAX: u64>(i64);

impl<const MAX: u64> SignedNonZero<MAX> {
    pub fn get(self) -> i64 {
        self.0
    }
}

impl<'de, const MAX: u64> Deserialize<'de> for SignedNonZero<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = i64::deserialize(d)?;
        if v != 0 && v.unsigned_abs() <= MAX {
            Ok(Self(v))
        } else {
            Err(serde::de::Error::custom(format!(
                "must be -{MAX} to {MAX}, not 0"
            )))
        }
    }
}

impl<const MAX: u64> Serialize for SignedNonZero<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<const MAX: u64> utoipa::PartialSchema for SignedNonZero<MAX> {
    fn schema() -> RefOr<Schema> {
        let range = |min: f64, max: f64| {
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(min))
                .maximum(Some(max))
        };
        utoipa::openapi::schema::OneOfBuilder::new()
            .item(range(1.0, MAX as f64))
            .item(range(-(MAX as f64), -1.0))
            .into()
    }
}

impl<const MAX: u64> utoipa::ToSchema for SignedNonZero<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("NonZeroIntegerWithin{MAX}"))
    }
}

/// Text of at most `MAX` characters, in the schema as `maxLength`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Text<const MAX: usize>(pub String);

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.chars().count() <= MAX {
            Ok(Self(s))
        } else {
            Err(serde::de::Error::custom(format!(
                "must be at most {MAX} characters"
            )))
        }
    }
}

impl<const MAX: usize> Serialize for Text<MAX> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<const MAX: usize> utoipa::PartialSchema for Text<MAX> {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .max_length(Some(MAX))
            .into()
    }
}

impl<const MAX: usize> utoipa::ToSchema for Text<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("TextUpTo{MAX}"))
    }
}

/// The items of a batch: 1 to `MAX` values, each read on its own by the route (one that is
/// invalid, or not even an object, is reported in the results and the others still count), so
/// the schema takes any value as an item.
#[derive(Clone, Debug, PartialEq)]
pub struct BatchItems<const MAX: usize>(pub Vec<serde_json::Value>);

impl<'de, const MAX: usize> Deserialize<'de> for BatchItems<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<serde_json::Value>::deserialize(d)?;
        if (1..=MAX).contains(&items.len()) {
            Ok(Self(items))
        } else {
            Err(serde::de::Error::custom(format!(
                "must hold 1 to {MAX} items"
            )))
        }
    }
}

impl<const MAX: usize> utoipa::PartialSchema for BatchItems<MAX> {
    fn schema() -> RefOr<Schema> {
        use utoipa::openapi::schema::{ArrayBuilder, SchemaType};
        ArrayBuilder::new()
            .items(ObjectBuilder::new().schema_type(SchemaType::AnyValue))
            .min_items(Some(1))
            .max_items(Some(MAX))
            .into()
    }
}

impl<const MAX: usize> utoipa::ToSchema for BatchItems<MAX> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(format!("BatchOf1To{MAX}"))
    }
}

/// An RFC 3339 date-time with an offset (`2026-05-01T12:00:00Z`), read as an instant.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateTime(pub Timestamp);

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        crate::time::parse(&s)
            .map(DateTime)
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::time::format(self.0).serialize(s)
    }
}

impl utoipa::PartialSchema for DateTime {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

impl utoipa::ToSchema for DateTime {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ids::{CustomerId, ExternalId};

    crate::wire_struct! {
        /// A test body.
        pub struct Inner {
            pub n: Bounded<1, 5>,
        }
    }

    crate::wire_struct! {
        /// A test body.
        pub struct Outer {
            pub id: CustomerId,
            pub order: Option<ExternalId>,
            pub at: Option<DateTime>,
            pub inner: @nested Option<Inner>,
        }
    }

    #[test]
    fn every_invalid_field_is_named_nested_ones_with_their_path() {
        let errs = Outer::parse(json!({"id": "a b", "at": "yesterday", "inner": {"n": 9}, "x": 1}))
            .unwrap_err()
            .0;
        let fields: Vec<_> = errs.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["id", "at", "inner.n", "x"]);
        let missing = Outer::parse(json!({})).unwrap_err().0;
        assert_eq!(missing[0].field, "id");
        assert_eq!(missing[0].message, "is required");
        assert_eq!(
            Inner::parse(json!({"n": 0})).unwrap_err().0[0].message,
            "must be 1 to 5"
        );
    }

    #[test]
    fn a_valid_body_parses_and_optional_fields_take_null() {
        let o = Outer::parse(json!({"id": "c1", "order": null, "inner": {"n": 5.0}})).unwrap();
        assert_eq!(o.id.as_str(), "c1");
        assert!(o.order.is_none() && o.at.is_none());
        assert_eq!(o.inner.map(|i| i.n.get()), Some(5));
    }
}
