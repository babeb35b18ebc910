//! Signed queue input: a message on a Fanloop queue (the surveys queue, and any added later) is
//! accepted only with `signature` = `v1=` and the hex HMAC-SHA-256 of its body under one of the
//! tenant's ingest secrets. A tenant has at most [`MAX_INGEST_SECRETS`]: rotating adds a new one
//! and retires the oldest, so producers switch without a gap.

use hmac::{KeyInit, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;

use crate::tenant::{Random, RandomError};

type HmacSha256 = hmac::Hmac<Sha256>;

/// The message attribute that carries the signature.
pub const SIGNATURE_ATTRIBUTE: &str = "signature";

/// Secrets a tenant holds at once: the current one and the one before it.
pub const MAX_INGEST_SECRETS: usize = 2;

/// A tenant's ingest secret (stored; shown once when made).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IngestSecret {
    pub id: String,
    /// 64 hex digits: the HMAC key is these characters' bytes, as producers use them.
    pub secret: String,
    #[serde(with = "crate::time::serde_ts")]
    pub created_at: Timestamp,
}

impl std::fmt::Debug for IngestSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IngestSecret({}, redacted)", self.id)
    }
}

/// What a list shows of a secret: never the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct IngestSecretInfo {
    pub id: String,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl IngestSecret {
    pub fn generate(rng: &dyn Random, now: Timestamp) -> Result<Self, RandomError> {
        let mut secret = [0u8; 32];
        rng.fill(&mut secret)?;
        let mut id = [0u8; 6];
        rng.fill(&mut id)?;
        Ok(Self {
            id: format!("is_{}", hex::encode(id)),
            secret: hex::encode(secret),
            created_at: now,
        })
    }

    fn mac(&self, body: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(self.secret.as_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(body);
        mac
    }

    /// The signature a producer puts in the `signature` attribute.
    pub fn sign(&self, body: &[u8]) -> String {
        format!("v1={}", hex::encode(self.mac(body).finalize().into_bytes()))
    }

    pub fn info(&self) -> IngestSecretInfo {
        IngestSecretInfo {
            id: self.id.clone(),
            created_at: self.created_at,
        }
    }
}

/// Whether `signature` is the body's under one of `secrets` (compared in constant time).
pub fn verify(secrets: &[IngestSecret], body: &[u8], signature: &str) -> bool {
    let Some(tag) = signature
        .strip_prefix("v1=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    secrets
        .iter()
        .any(|s| s.mac(body).verify_slice(&tag).is_ok())
}

/// The secrets after adding `new`: the newest [`MAX_INGEST_SECRETS`].
pub fn rotated(mut current: Vec<IngestSecret>, new: IngestSecret) -> Vec<IngestSecret> {
    current.push(new);
    current.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
    let extra = current.len().saturating_sub(MAX_INGEST_SECRETS);
    current.drain(..extra);
    current
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::OsRandom;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn only_a_current_secret_signs_a_body() {
        let a = IngestSecret::generate(&OsRandom, ts("2027-01-01T00:00:00Z")).unwrap();
        let b = IngestSecret::generate(&OsRandom, ts("2027-02-01T00:00:00Z")).unwrap();
        let c = IngestSecret::generate(&OsRandom, ts("2027-03-01T00:00:00Z")).unwrap();
        let body = br#"{"survey_id":"s","response_id":"r","nps":9}"#;
        let sig = a.sign(body);
        assert!(sig.starts_with("v1=") && sig.len() == 3 + 64);
        assert!(verify(std::slice::from_ref(&a), body, &sig));
        assert!(
            !verify(std::slice::from_ref(&a), b"{}", &sig),
            "another body"
        );
        assert!(
            !verify(std::slice::from_ref(&b), body, &sig),
            "another secret"
        );
        assert!(!verify(std::slice::from_ref(&a), body, "v1=zz"));
        assert!(!verify(
            std::slice::from_ref(&a),
            body,
            &sig.replace("v1=", "v2=")
        ));
        assert!(!verify(&[], body, &sig));
        let two = rotated(vec![a.clone()], b.clone());
        assert!(verify(&two, body, &sig), "the previous one still works");
        let three = rotated(two, c.clone());
        assert_eq!(
            three.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            [b.id.as_str(), c.id.as_str()]
        );
        assert!(!verify(&three, body, &sig), "the oldest is retired");
        assert!(
            !format!("{a:?}").contains(&a.secret),
            "Debug never shows it"
        );
    }
}
