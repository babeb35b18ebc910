//! Unsubscribe tokens: `v1.{payload}.{mac}`, both base64url. The payload names the tenant, the
//! customer and the purpose; the MAC is HMAC-SHA-256 over it with a secret from configuration,
//! so a link cannot be forged or moved to another customer. Tokens do not expire: a link in an
//! old mail must keep working (RFC 8058 asks the link to work for a long time).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{KeyInit, Mac};
use sha2::Sha256;

use crate::ids::{CustomerId, TenantId};

type HmacSha256 = hmac::Hmac<Sha256>;

/// The consent purpose a token withdraws.
pub const PURPOSE_EMAIL_MARKETING: &str = "email_marketing";

/// The signing secret. Its `Debug` never shows the bytes.
#[derive(Clone)]
pub struct UnsubscribeKey(Vec<u8>);

impl std::fmt::Debug for UnsubscribeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UnsubscribeKey(..)")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the unsubscribe secret must be at least 32 bytes")]
pub struct WeakKey;

impl UnsubscribeKey {
    pub fn new(secret: &[u8]) -> Result<Self, WeakKey> {
        if secret.len() < 32 {
            return Err(WeakKey);
        }
        Ok(Self(secret.to_vec()))
    }

    fn mac(&self, payload: &[u8]) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(payload);
        mac
    }

    /// The token for `customer` of `tenant` to withdraw `purpose`.
    pub fn sign(&self, tenant: &TenantId, customer: &CustomerId, purpose: &str) -> String {
        // `\n` cannot occur in ids, so the payload splits back unambiguously.
        let payload = format!("{tenant}\n{customer}\n{purpose}");
        let tag = self.mac(payload.as_bytes()).finalize().into_bytes();
        format!("v1.{}.{}", B64.encode(payload), B64.encode(tag))
    }

    /// The tenant, customer and purpose of a genuine token; `None` for anything else.
    pub fn verify(&self, token: &str) -> Option<UnsubscribeClaim> {
        let rest = token.strip_prefix("v1.")?;
        let (payload_b64, tag_b64) = rest.split_once('.')?;
        let payload = B64.decode(payload_b64).ok()?;
        let tag = B64.decode(tag_b64).ok()?;
        self.mac(&payload).verify_slice(&tag).ok()?;
        let payload = String::from_utf8(payload).ok()?;
        let mut parts = payload.split('\n');
        let tenant = TenantId::parse(parts.next()?).ok()?;
        let customer = CustomerId::parse(parts.next()?).ok()?;
        let purpose = parts.next()?.to_owned();
        if parts.next().is_some() {
            return None;
        }
        Some(UnsubscribeClaim {
            tenant,
            customer,
            purpose,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsubscribeClaim {
    pub tenant: TenantId,
    pub customer: CustomerId,
    pub purpose: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(b: u8) -> UnsubscribeKey {
        UnsubscribeKey::new(&[b; 32]).unwrap()
    }

    #[test]
    fn a_token_verifies_to_what_it_was_signed_for() {
        let (t, c) = (
            TenantId::parse("star").unwrap(),
            CustomerId::parse("p-1").unwrap(),
        );
        let token = key(7).sign(&t, &c, PURPOSE_EMAIL_MARKETING);
        assert_eq!(
            key(7).verify(&token),
            Some(UnsubscribeClaim {
                tenant: t,
                customer: c,
                purpose: PURPOSE_EMAIL_MARKETING.into()
            })
        );
        assert!(
            token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        );
    }

    #[test]
    fn tampered_or_foreign_tokens_are_refused() {
        let (t, c) = (
            TenantId::parse("star").unwrap(),
            CustomerId::parse("p-1").unwrap(),
        );
        let token = key(7).sign(&t, &c, PURPOSE_EMAIL_MARKETING);
        assert_eq!(key(8).verify(&token), None, "another secret");
        let other = key(7).sign(
            &t,
            &CustomerId::parse("p-2").unwrap(),
            PURPOSE_EMAIL_MARKETING,
        );
        let (_, mac_other) = other.rsplit_once('.').unwrap();
        let (payload, _) = token.rsplit_once('.').unwrap();
        assert_eq!(
            key(7).verify(&format!("{payload}.{mac_other}")),
            None,
            "swapped MAC"
        );
        for i in 3..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let t2 = String::from_utf8(bytes).unwrap();
            if t2 != token {
                assert_eq!(key(7).verify(&t2), None, "flipped byte {i}");
            }
        }
        assert_eq!(key(7).verify(""), None);
        assert!(UnsubscribeKey::new(b"short").is_err());
    }
}
