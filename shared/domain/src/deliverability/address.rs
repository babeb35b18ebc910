//! The keyed hash an address is kept as on the suppression list: HMAC-SHA-256 of the address
//! (lower-cased) under a per-tenant random key. The list never holds the address itself, so it
//! survives erasure, and a copy of the table without the key cannot be matched to addresses.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use crate::lookup::LookupKey as AddressKey;
use crate::values::Email;

impl AddressKey {
    /// The suppression hash of `email` (case-insensitive: providers treat `Ann@x` and `ann@x`
    /// alike); another kind than the search index's, so the two never match.
    pub fn address_hash(&self, email: &Email) -> AddressHash {
        AddressHash(self.hash("suppression", &email.as_str().to_lowercase()))
    }
}

/// A suppressed address as kept: 64 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct AddressHash(String);

impl AddressHash {
    /// Reads a stored hash (64 lower-case hex digits).
    pub fn parse(s: &str) -> Option<Self> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for AddressHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
