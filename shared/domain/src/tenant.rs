//! Tenants and their API keys. A key is 256 random bits, shown once, stored only as its SHA-256.

use jiff::Timestamp;
use sha2::{Digest, Sha256};

use crate::error::ParseError;
use crate::ids::TenantId;

/// The random-bytes port (keys, coupon codes, tokens).
pub trait Random: Send + Sync {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError>;
}

#[derive(Debug, thiserror::Error)]
#[error("the operating system's random source failed")]
pub struct RandomError;

/// The operating system's cryptographic random source.
#[derive(Clone, Copy, Debug, Default)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), RandomError> {
        getrandom::fill(buf).map_err(|_| RandomError)
    }
}

const KEY_PREFIX: &str = "flk_";
const KEY_HEX_LEN: usize = 64;

/// A tenant's API key in clear text. It only exists in memory: when created (to be shown once)
/// and while a request is authenticated. `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(redacted)")
    }
}

impl ApiKey {
    pub fn generate(rng: &dyn Random) -> Result<Self, RandomError> {
        let mut bytes = [0u8; KEY_HEX_LEN / 2];
        rng.fill(&mut bytes)?;
        Ok(Self(format!("{KEY_PREFIX}{}", hex::encode(bytes))))
    }

    /// Checks the shape of a presented key, so a malformed one is refused without a store read.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = s.strip_prefix(KEY_PREFIX).is_some_and(|h| {
            h.len() == KEY_HEX_LEN
                && h.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new("malformed API key"))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> ApiKeyHash {
        ApiKeyHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }
}

/// The stored form of an API key: lowercase hex SHA-256. (The key has 256 bits of entropy, so a
/// fast hash is enough: there is nothing to brute-force.)
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ApiKeyHash(String);

impl ApiKeyHash {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Re-reads a stored hash.
    pub fn from_stored(s: &str) -> Result<Self, ParseError> {
        if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(ParseError::new("stored key hash is not 64 hex digits"))
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_random_well_formed_and_never_printed() {
        let a = ApiKey::generate(&OsRandom).unwrap();
        let b = ApiKey::generate(&OsRandom).unwrap();
        assert_ne!(a, b);
        assert_eq!(ApiKey::parse(a.expose()).unwrap(), a);
        assert!(!format!("{a:?}").contains(&a.expose()[4..]));
        assert_eq!(a.hash(), ApiKey::parse(a.expose()).unwrap().hash());
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn malformed_keys_are_refused() {
        for bad in [
            "",
            "flk_",
            "flk_XYZ",
            &format!("flk_{}", "A".repeat(64)),
            &"0".repeat(68),
        ] {
            assert!(ApiKey::parse(bad).is_err(), "{bad:?}");
        }
    }
}
