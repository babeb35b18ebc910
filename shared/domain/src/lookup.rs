//! Customer search keys. A profile is findable by its e-mail, its phone and each of its tags;
//! each is a *lookup token* the stores index. E-mail and phone tokens are keyed hashes
//! (HMAC-SHA-256 under the tenant's own random lookup key, of the normalised value), so no
//! address or number is ever a key in an index; tag tokens are the tag itself.
//!
//! A customer is also listed under the [`Segments`] the daily analytics snapshot found them in
//! (tier, lifecycle stage, RFM segment): those tokens start with [`SEGMENT_PREFIX`], are
//! written by the snapshot with the stored segments, and are never derived from the profile.

use std::collections::BTreeSet;

use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::error::ValidationErrors;
use crate::lifecycle::Stage;
use crate::points::rules::TierName;
use crate::profile::Profile;
use crate::rfm::RfmSegment;
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

    /// HMAC-SHA-256 of `kind` and `value` (hex): what a lookup or suppression entry is kept as.
    pub(crate) fn hash(&self, kind: &str, value: &str) -> String {
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
    /// Customers the newest snapshot found in this tier.
    Tier(TierName),
    Lifecycle(Stage),
    RfmSegment(RfmSegment),
}

/// The query parameters naming what to search by; exactly one is given.
pub const QUERY_FIELDS: [&str; 6] = ["email", "phone", "tag", "tier", "lifecycle", "rfm_segment"];

/// Segment tokens start with this; no profile-derived token does.
pub const SEGMENT_PREFIX: &str = "seg.";

fn snake<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

impl CustomerQuery {
    /// The query of `field` (one of [`QUERY_FIELDS`]) for `value`, parsed (and normalised)
    /// like the profile's.
    pub fn parse(field: &str, value: &str) -> Result<Self, ValidationErrors> {
        let bad = |e: crate::error::ParseError| ValidationErrors::single(field, e.to_string());
        let one_of = |names: &[&str]| {
            ValidationErrors::single(field, format!("must be one of {}", names.join(", ")))
        };
        match field {
            "email" => Email::parse(value).map(Self::Email).map_err(bad),
            "phone" => Phone::parse(value).map(Self::Phone).map_err(bad),
            "tag" => Tag::parse(value).map(Self::Tag).map_err(bad),
            "tier" => TierName::parse(value).map(Self::Tier).map_err(bad),
            "lifecycle" => snake(value)
                .map(Self::Lifecycle)
                .ok_or_else(|| one_of(&["acquisition", "growth", "maturity", "churn"])),
            "rfm_segment" => snake(value)
                .map(Self::RfmSegment)
                .ok_or_else(|| one_of(RfmSegment::NAMES)),
            _ => Err(ValidationErrors::single(
                "(query)",
                "give exactly one of email, phone, identity, tag, tier, lifecycle or rfm_segment",
            )),
        }
    }

    /// The token the index holds for this query.
    pub fn token(&self, key: &LookupKey) -> String {
        match self {
            Self::Email(e) => format!("email:{}", key.hash("email", e.as_str())),
            Self::Phone(p) => format!("phone:{}", key.hash("phone", p.as_str())),
            Self::Tag(t) => format!("tag:{t}"),
            Self::Tier(t) => segment_token("tier", t.as_str()),
            Self::Lifecycle(s) => segment_token("lifecycle", s.as_str()),
            Self::RfmSegment(s) => segment_token("rfm", s.as_str()),
        }
    }

    /// Lists fed by the daily snapshot (their answer is as of that snapshot).
    pub fn is_segment(&self) -> bool {
        matches!(
            self,
            Self::Tier(_) | Self::Lifecycle(_) | Self::RfmSegment(_)
        )
    }

    /// Tags and segments can hold a large share of a tenant: their index is spread over shards.
    pub fn sharded(&self) -> bool {
        is_sharded(&self.token(&LookupKey(Vec::new())))
    }
}

/// Whether the index of `token` is spread over shards (tags and segments).
pub fn is_sharded(token: &str) -> bool {
    token.starts_with("tag:") || token.starts_with(SEGMENT_PREFIX)
}

fn segment_token(kind: &str, value: &str) -> String {
    format!("{SEGMENT_PREFIX}{kind}:{value}")
}

/// Where the daily snapshot last placed a customer; `None` before the first snapshot saw them
/// (and for a customer stored before segments were kept).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Segments {
    pub tier: Option<String>,
    /// The lifecycle stage (`acquisition`, …).
    pub lifecycle: Option<String>,
    /// The RFM segment (`champions`, …).
    pub rfm: Option<String>,
}

impl Segments {
    /// The customer's segment tokens.
    pub fn tokens(&self) -> BTreeSet<String> {
        [
            ("tier", &self.tier),
            ("lifecycle", &self.lifecycle),
            ("rfm", &self.rfm),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| segment_token(k, v)))
        .collect()
    }

    /// The tokens a move from `self` to `to` adds and removes.
    pub fn token_changes(&self, to: &Segments) -> (Vec<String>, Vec<String>) {
        let (old, new) = (self.tokens(), to.tokens());
        (
            new.difference(&old).cloned().collect(),
            old.difference(&new).cloned().collect(),
        )
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
        assert!(by(
            CustomerQuery::parse("email", "Li.Wei@example.com").unwrap()
        ));
        assert!(by(CustomerQuery::parse("phone", "+8613812345678").unwrap()));
        assert!(by(CustomerQuery::parse("tag", "vip").unwrap()));
        assert!(!by(
            CustomerQuery::parse("email", "li.wei@example.com").unwrap()
        ));
        assert!(t.iter().all(|s| !s.starts_with(SEGMENT_PREFIX)));
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
        assert_eq!(field(CustomerQuery::parse("identity", "x")), "(query)");
        assert_eq!(field(CustomerQuery::parse("email", "nope")), "email");
        assert_eq!(field(CustomerQuery::parse("phone", "123")), "phone");
        assert_eq!(field(CustomerQuery::parse("tag", "a b")), "tag");
        assert_eq!(field(CustomerQuery::parse("tier", "")), "tier");
        assert_eq!(
            field(CustomerQuery::parse("lifecycle", "Growth")),
            "lifecycle"
        );
        assert_eq!(
            field(CustomerQuery::parse("rfm_segment", "vip")),
            "rfm_segment"
        );
    }

    #[test]
    fn segments_are_listed_under_their_own_tokens() {
        let k = key(1);
        let q = |f: &str, v: &str| CustomerQuery::parse(f, v).unwrap();
        let seg = Segments {
            tier: Some("gold".into()),
            lifecycle: Some("growth".into()),
            rfm: Some("at_risk".into()),
        };
        let t = seg.tokens();
        for query in [
            q("tier", "gold"),
            q("lifecycle", "growth"),
            q("rfm_segment", "at_risk"),
        ] {
            assert!(query.is_segment() && query.sharded());
            assert!(t.contains(&query.token(&k)), "{query:?}");
        }
        assert!(!q("tag", "gold").is_segment() && q("tag", "gold").sharded());
        assert!(!q("email", "a@b.co").sharded());
        assert_ne!(q("tag", "gold").token(&k), q("tier", "gold").token(&k));
        let to = Segments {
            lifecycle: Some("churn".into()),
            ..seg.clone()
        };
        let (add, remove) = seg.token_changes(&to);
        assert_eq!(add, vec![q("lifecycle", "churn").token(&k)]);
        assert_eq!(remove, vec![q("lifecycle", "growth").token(&k)]);
        assert_eq!(Segments::default().token_changes(&seg).0.len(), 3);
    }
}
