//! Customer search keys. A profile is findable by its e-mail, its phone and each of its tags;
//! each is a *lookup token* the stores index. E-mail and phone tokens are keyed hashes
//! (HMAC-SHA-256 under the tenant's own random lookup key, of the normalised value), so no
//! address or number is ever a key in an index; tag tokens are the tag itself.

use std::collections::BTreeSet;

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::error::ValidationErrors;
use crate::profile::Profile;
use crate::tenant::{Random, RandomError};
use crate::values::{Email, Phone, Tag};

type HmacSha256 = hmac::Hmac<Sha256>;

/// A tenant's lookup key (32 random bytes, stored with the tenant). `Debug` hides it.
#[derive(Clone, PartialEq, Eq)]
pub struct LookupKey(Vec<u8>);

impl std::fmt::Debug for LookupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LookupKey(..)")
    }
}

impl LookupKey {
    pub fn generate(random: &dyn Random) -> Result<Self, RandomError> {
        let mut b = vec![0u8; 32];
        random.fill(&mut b)?;
        Ok(Self(b))
    }

    /// From its stored form (hex); `None` if it is not 32 bytes of hex.
    pub fn from_hex(s: &str) -> Option<Self> {
        hex::decode(s).ok().filter(|b| b.len() == 32).map(Self)
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    fn hash(&self, kind: &str, value: &str) -> String {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(kind.as_bytes());
        mac.update(b"\n");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// What staff search customers by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomerQuery {
    Email(Email),
    Phone(Phone),
    Tag(Tag),
}

impl CustomerQuery {
    /// Exactly one of `email`, `phone`, `tag`, parsed (and normalised) like the profile's.
    pub fn parse(
        email: Option<&str>,
        phone: Option<&str>,
        tag: Option<&str>,
    ) -> Result<Self, ValidationErrors> {
        let field =
            |name: &str, e: crate::error::ParseError| ValidationErrors::single(name, e.to_string());
        match (email, phone, tag) {
            (Some(e), None, None) => Email::parse(e)
                .map(Self::Email)
                .map_err(|e| field("email", e)),
            (None, Some(p), None) => Phone::parse(p)
                .map(Self::Phone)
                .map_err(|e| field("phone", e)),
            (None, None, Some(t)) => Tag::parse(t).map(Self::Tag).map_err(|e| field("tag", e)),
            _ => Err(ValidationErrors::single(
                "(query)",
                "give exactly one of email, phone, identity or tag",
            )),
        }
    }

    /// The token the index holds for this query.
    pub fn token(&self, key: &LookupKey) -> String {
        match self {
            Self::Email(e) => format!("email:{}", key.hash("email", e.as_str())),
            Self::Phone(p) => format!("phone:{}", key.hash("phone", p.as_str())),
            Self::Tag(t) => format!("tag:{t}"),
        }
    }

    /// Tags can hold a large share of a tenant: their index is spread over shards.
    pub fn sharded(&self) -> bool {
        matches!(self, Self::Tag(_))
    }
}

/// Every token a profile is findable by.
pub fn tokens(profile: &Profile, key: &LookupKey) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    if let Some(e) = &profile.email {
        out.insert(CustomerQuery::Email(e.clone()).token(key));
    }
    if let Some(p) = &profile.phone {
        out.insert(CustomerQuery::Phone(p.clone()).token(key));
    }
    for t in &profile.tags {
        out.insert(CustomerQuery::Tag(t.clone()).token(key));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::CustomerId;
    use crate::profile::ProfilePatch;
    use serde_json::json;

    fn key(b: u8) -> LookupKey {
        LookupKey(vec![b; 32])
    }

    #[test]
    fn tokens_are_keyed_normalised_and_never_the_address() {
        let now = crate::time::parse("2026-01-01T00:00:00Z").unwrap();
        let mut p = Profile::new(CustomerId::parse("c").unwrap(), now);
        let patch = ProfilePatch::from_json(
            json!({"email": "Li.Wei@Example.COM", "phone": "+86 138 1234 5678", "tags": ["vip"]}),
            jiff::civil::date(2026, 1, 1),
        )
        .unwrap();
        p.apply(&patch, now);
        let t = tokens(&p, &key(1));
        let by = |q: CustomerQuery| t.contains(&q.token(&key(1)));
        assert!(by(CustomerQuery::parse(
            Some("Li.Wei@example.com"),
            None,
            None
        )
        .unwrap()));
        assert!(by(
            CustomerQuery::parse(None, Some("+8613812345678"), None).unwrap()
        ));
        assert!(by(CustomerQuery::parse(None, None, Some("vip")).unwrap()));
        assert!(!by(CustomerQuery::parse(
            Some("li.wei@example.com"),
            None,
            None
        )
        .unwrap()));
        assert!(
            t.iter().all(|s| !s.contains('@') && !s.contains("1381234")),
            "{t:?}"
        );
        assert_ne!(tokens(&p, &key(2)), t, "another tenant's key, other tokens");
        assert_eq!(LookupKey::from_hex(&key(7).to_hex()), Some(key(7)));
    }

    #[test]
    fn a_query_names_one_thing() {
        let field = |r: Result<CustomerQuery, ValidationErrors>| r.unwrap_err().0[0].field.clone();
        assert_eq!(field(CustomerQuery::parse(None, None, None)), "(query)");
        assert_eq!(
            field(CustomerQuery::parse(Some("a@b.co"), None, Some("x"))),
            "(query)"
        );
        assert_eq!(
            field(CustomerQuery::parse(Some("nope"), None, None)),
            "email"
        );
        assert_eq!(
            field(CustomerQuery::parse(None, Some("123"), None)),
            "phone"
        );
        assert_eq!(field(CustomerQuery::parse(None, None, Some("a b"))), "tag");
    }
}
