//! Identifier newtypes. Every id is 1–128 of `A-Z a-z 0-9 _ . : @ -` (the HTTP contract), so no
//! id can contain the `#` or `/` used as separators in store keys.

use crate::error::ParseError;

pub const ID_MAX_LEN: usize = 128;

/// Checks the id alphabet and length shared by every identifier in the API.
pub fn check_id(s: &str, max_len: usize) -> Result<(), ParseError> {
    if s.is_empty() || s.len() > max_len {
        return Err(ParseError::new(format!(
            "must be 1 to {max_len} characters"
        )));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b':' | b'@' | b'-'))
    {
        return Err(ParseError::new(
            "may contain only letters A-Z a-z, digits and _ . : @ -",
        ));
    }
    Ok(())
}

/// The id alphabet and length of the HTTP contract, as a JSON Schema pattern.
pub const ID_PATTERN: &str = "^[A-Za-z0-9_.:@-]{1,128}$";

/// Declares a string newtype that can only hold a parsed value; (de)serialises as a string.
/// `schema: { pattern: …, max_length: …, … }` are the `ObjectBuilder` settings of its OpenAPI
/// schema, which must describe exactly what `parse` accepts.
#[macro_export]
macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident, $parse:expr) => {
        $crate::string_newtype!($(#[$meta])* $name, schema: {}, $parse);
    };
    ($(#[$meta:meta])* $name:ident, schema: { $($key:ident : $val:expr),* $(,)? }, $parse:expr) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                let b = utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String);
                $( let b = b.$key(Some($val)); )*
                b.into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            pub fn parse(s: impl Into<String>) -> Result<Self, $crate::error::ParseError> {
                let parse: fn(String) -> Result<String, $crate::error::ParseError> = $parse;
                parse(s.into()).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::error::ParseError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// The id alphabet with a shorter maximum length.
pub fn id_pattern(max_len: usize) -> String {
    format!("^[A-Za-z0-9_.:@-]{{1,{max_len}}}$")
}

string_newtype!(
    /// A customer's id, chosen by the tenant's backend (a player or viewer id).
    CustomerId,
    schema: { pattern: ID_PATTERN },
    |s| check_id(&s, ID_MAX_LEN).map(|_| s)
);

string_newtype!(
    /// A platform name in an identity link (`steam`, `apple`, `twitch`, …).
    Platform,
    schema: { pattern: id_pattern(64) },
    |s| check_id(&s, 64).map(|_| s)
);

string_newtype!(
    /// The customer's id on an external platform.
    ExternalId,
    schema: { pattern: ID_PATTERN },
    |s| check_id(&s, ID_MAX_LEN).map(|_| s)
);

string_newtype!(
    /// A tenant (one studio or platform): lowercase letters, digits and `-`, 1–64 long,
    /// starting with a letter, so it is safe in URLs, keys and file names.
    TenantId,
    schema: { pattern: "^[a-z][a-z0-9-]{0,63}$" },
    |s| {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.as_bytes()[0].is_ascii_lowercase()
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(s)
        } else {
            Err(ParseError::new(
                "must be 1 to 64 of a-z 0-9 -, starting with a letter",
            ))
        }
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_the_contract_alphabet() {
        assert!(CustomerId::parse("player_42.eu:main@x-1").is_ok());
        assert!(CustomerId::parse("a".repeat(128)).is_ok());
    }

    #[test]
    fn ids_reject_separators_and_bad_lengths() {
        for bad in ["", "a#b", "a/b", "a b", "ünï", &"a".repeat(129)] {
            assert!(
                CustomerId::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn tenant_ids_are_slugs() {
        assert!(TenantId::parse("acme-games2").is_ok());
        for bad in ["Acme", "1acme", "acme_games", ""] {
            assert!(TenantId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn ids_deserialize_through_parse() {
        let ok: CustomerId = serde_json::from_str("\"p1\"").unwrap();
        assert_eq!(ok.as_str(), "p1");
        assert!(serde_json::from_str::<CustomerId>("\"p#1\"").is_err());
    }
}
