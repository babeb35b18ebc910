//! Console sessions: a random token in an HttpOnly cookie, stored only as its SHA-256, expiring
//! after [`IDLE_LIFETIME`] without a request and [`ABSOLUTE_LIFETIME`] after login, ended by
//! logout or by "log out everywhere" (which moves the account's session epoch). Each session
//! has its own CSRF token, which every state-changing form carries.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::TenantId;
use crate::tenant::{Random, RandomError};
use crate::time::serde_ts;

/// A session unused this long is over.
pub const IDLE_LIFETIME: SignedDuration = SignedDuration::from_mins(30);
/// A session is over this long after login, however busy.
pub const ABSOLUTE_LIFETIME: SignedDuration = SignedDuration::from_hours(12);
/// `last_seen` is written again only when older than this (a page view is not a write).
pub const TOUCH_AFTER: SignedDuration = SignedDuration::from_mins(1);

/// A secret handed to the browser (session cookie, CSRF token, password-set link): 32 random
/// bytes, base64url.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(String);

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(…)")
    }
}

impl Token {
    pub fn generate(rng: &dyn Random) -> Result<Self, RandomError> {
        let mut bytes = [0u8; 32];
        rng.fill(&mut bytes)?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    pub fn from_browser(s: &str) -> Self {
        Self(s.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this token, in time independent of where they differ.
    pub fn matches(&self, other: &str) -> bool {
        let (a, b) = (
            Sha256::digest(self.0.as_bytes()),
            Sha256::digest(other.as_bytes()),
        );
        a.iter()
            .zip(b.iter())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
    }
}

/// What the store keys a token by: its SHA-256, hex (a leaked table holds no usable secret).
pub fn token_hash(token: &Token) -> String {
    hex::encode(Sha256::digest(token.0.as_bytes()))
}

/// A logged-in staff member's session as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// [`token_hash`] of the cookie.
    pub id_hash: String,
    pub staff_id: String,
    pub tenant: TenantId,
    /// The account's session epoch at login; a later epoch ends the session.
    pub epoch: u32,
    /// The CSRF token of this session's forms.
    pub csrf: String,
    #[serde(with = "serde_ts")]
    pub created_at: Timestamp,
    #[serde(with = "serde_ts")]
    pub last_seen: Timestamp,
}

/// What a request finds its session to be.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionState {
    Valid,
    /// Valid, and `last_seen` should be written again.
    ValidTouch,
    Expired,
}

impl Session {
    /// When the session ends at the latest (the store's time to live).
    pub fn expires_at(&self) -> Timestamp {
        self.created_at + ABSOLUTE_LIFETIME
    }

    pub fn state(&self, now: Timestamp, account_epoch: u32) -> SessionState {
        if self.epoch != account_epoch
            || now >= self.expires_at()
            || now >= self.last_seen + IDLE_LIFETIME
        {
            SessionState::Expired
        } else if now >= self.last_seen + TOUCH_AFTER {
            SessionState::ValidTouch
        } else {
            SessionState::Valid
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::OsRandom;

    fn session(at: Timestamp) -> Session {
        Session {
            id_hash: "h".into(),
            staff_id: "s".into(),
            tenant: TenantId::parse("shop").unwrap(),
            epoch: 2,
            csrf: "c".into(),
            created_at: at,
            last_seen: at,
        }
    }

    #[test]
    fn sessions_end_when_idle_when_old_or_when_the_epoch_moves() {
        let t0: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let mut s = session(t0);
        assert_eq!(s.state(t0, 2), SessionState::Valid);
        assert_eq!(
            s.state(t0 + SignedDuration::from_mins(2), 2),
            SessionState::ValidTouch
        );
        assert_eq!(s.state(t0 + IDLE_LIFETIME, 2), SessionState::Expired);
        assert_eq!(s.state(t0, 3), SessionState::Expired);
        // Kept busy, it still ends 12 hours after login.
        s.last_seen = t0 + ABSOLUTE_LIFETIME - SignedDuration::from_mins(1);
        assert_eq!(
            s.state(t0 + ABSOLUTE_LIFETIME - SignedDuration::from_secs(1), 2),
            SessionState::Valid
        );
        assert_eq!(s.state(t0 + ABSOLUTE_LIFETIME, 2), SessionState::Expired);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (
            Token::generate(&OsRandom).unwrap(),
            Token::generate(&OsRandom).unwrap(),
        );
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 43);
        assert!(a.matches(a.as_str()));
        assert!(!a.matches(b.as_str()));
        assert!(!a.matches(""));
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a.as_str());
        assert_eq!(format!("{a:?}"), "Token(…)");
    }
}
