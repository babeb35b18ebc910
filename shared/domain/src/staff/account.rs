//! A staff account: who may log in to the console, for which tenant, in which role; its
//! password hash, its one-time password-set link, and its login throttle.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::TenantId;
use crate::staff::Role;
use crate::staff::password::{Password, decoy_hash, verify_password};
use crate::staff::session::{Token, token_hash};
use crate::time::serde_ts;
use crate::values::Email;

/// A password-set link works this long.
pub const SETUP_LIFETIME: SignedDuration = SignedDuration::from_hours(72);
/// After this many wrong passwords in a row the account is locked ...
pub const LOCK_AFTER_FAILURES: u32 = 5;
/// ... for this long, during which no password is checked (a correct one neither).
pub const LOCK_FOR: SignedDuration = SignedDuration::from_mins(15);

/// The key an address logs in by: the whole address lowercased.
pub fn login_key(email: &Email) -> String {
    email.as_str().to_lowercase()
}

/// A pending password-set link, stored as its token's hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    pub token_hash: String,
    #[serde(with = "serde_ts")]
    pub expires_at: Timestamp,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub staff_id: String,
    pub email: Email,
    pub tenant: TenantId,
    pub role: Role,
    /// Argon2id PHC string; none until the password-set link is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup: Option<Setup>,
    #[serde(default)]
    pub failed_logins: u32,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::time::serde_ts::option"
    )]
    pub locked_until: Option<Timestamp>,
    /// Sessions made at an earlier epoch are over ("log out everywhere" moves it on).
    #[serde(default)]
    pub epoch: u32,
    /// `en` or `zh-CN`; none: the tenant's locale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Removed by an admin: no password, no session, no login until invited again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
    #[serde(with = "serde_ts")]
    pub created_at: Timestamp,
    /// The store's optimistic-concurrency version (not part of the document).
    #[serde(skip)]
    pub version: u64,
}

/// How a login attempt went.
#[derive(Debug, PartialEq, Eq)]
pub enum LoginCheck {
    Ok,
    /// Wrong password (or none set yet): the account counts a failure.
    Wrong,
    /// Too many failures: no password is checked until `until`.
    Locked {
        until: Timestamp,
    },
}

impl StaffAccount {
    /// A new account with a password-set link (returned: shown once, never stored).
    pub fn invite(
        staff_id: String,
        email: Email,
        tenant: TenantId,
        role: Role,
        setup: &Token,
        now: Timestamp,
    ) -> Self {
        Self {
            staff_id,
            email,
            tenant,
            role,
            password: None,
            setup: Some(Setup {
                token_hash: token_hash(setup),
                expires_at: now + SETUP_LIFETIME,
            }),
            failed_logins: 0,
            locked_until: None,
            epoch: 0,
            locale: None,
            disabled: false,
            created_at: now,
            version: 0,
        }
    }

    /// Checks a login attempt (the password is hashed only when the account is not locked).
    pub fn check_login(&self, password: Option<&Password>, now: Timestamp) -> LoginCheck {
        if let Some(until) = self.locked_until
            && now < until
        {
            return LoginCheck::Locked { until };
        }
        let ok = match (password, self.password.as_deref()) {
            (Some(p), Some(phc)) => verify_password(p, phc),
            (Some(p), None) => {
                // As slow as a real check: the answer does not tell whether a password is set.
                let _ = verify_password(p, decoy_hash());
                false
            }
            (None, _) => false,
        };
        if ok {
            LoginCheck::Ok
        } else {
            LoginCheck::Wrong
        }
    }

    /// Counts a wrong password; the fifth in a row locks the account.
    pub fn record_failure(&mut self, now: Timestamp) {
        self.failed_logins = self.failed_logins.saturating_add(1);
        if self.failed_logins >= LOCK_AFTER_FAILURES {
            self.locked_until = Some(now + LOCK_FOR);
        }
    }

    /// A successful login clears the throttle.
    pub fn record_success(&mut self) {
        self.failed_logins = 0;
        self.locked_until = None;
    }

    /// Whether `token` is this account's live password-set link.
    pub fn setup_matches(&self, token: &Token, now: Timestamp) -> bool {
        self.setup.as_ref().is_some_and(|s| {
            now < s.expires_at && Token::from_browser(&s.token_hash).matches(&token_hash(token))
        })
    }

    /// Sets the password (the link is used up, the throttle cleared, other sessions ended).
    pub fn set_password(&mut self, phc: String) {
        self.password = Some(phc);
        self.setup = None;
        self.record_success();
        self.end_sessions();
    }

    /// Ends every session of the account.
    pub fn end_sessions(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
    }

    /// A new role, in force from the next request (the account is read with every one).
    pub fn set_role(&mut self, role: Role) -> bool {
        if self.role == role {
            return false;
        }
        self.role = role;
        true
    }

    /// Removes the member: the password and any link go, every session ends; a login answers
    /// like a wrong password. The account stays (the audit log names it); `false` if it was
    /// removed already.
    pub fn disable(&mut self) -> bool {
        if self.disabled {
            return false;
        }
        self.disabled = true;
        self.password = None;
        self.setup = None;
        self.end_sessions();
        true
    }

    /// A new password-set link (a forgotten password, or a removed member coming back): the
    /// old link stops working; the password, if any, stays until the link is used.
    pub fn reinvite(&mut self, setup: &Token, now: Timestamp) {
        self.disabled = false;
        self.setup = Some(Setup {
            token_hash: token_hash(setup),
            expires_at: now + SETUP_LIFETIME,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::password::hash_password;
    use crate::tenant::OsRandom;

    fn account(now: Timestamp) -> (StaffAccount, Token) {
        let token = Token::generate(&OsRandom).unwrap();
        let a = StaffAccount::invite(
            "01STAFF".into(),
            Email::parse("Mei@Example.com").unwrap(),
            TenantId::parse("shop").unwrap(),
            Role::Agent,
            &token,
            now,
        );
        (a, token)
    }

    #[test]
    fn a_removed_member_cannot_log_in_until_invited_again() {
        let now: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let (mut a, token) = account(now);
        let pw = Password::new("a long enough phrase".into()).unwrap();
        a.set_password(hash_password(&pw).unwrap());
        let epoch = a.epoch;
        assert!(a.set_role(Role::Admin) && !a.set_role(Role::Admin));
        assert!(a.disable());
        assert!(!a.disable(), "removed once");
        assert_ne!(a.epoch, epoch, "its sessions ended");
        assert_eq!(a.check_login(Some(&pw), now), LoginCheck::Wrong);
        assert!(!a.setup_matches(&token, now), "the old link is gone too");
        let fresh = Token::generate(&OsRandom).unwrap();
        a.reinvite(&fresh, now);
        assert!(!a.disabled && a.setup_matches(&fresh, now));
        a.set_password(hash_password(&pw).unwrap());
        assert_eq!(a.check_login(Some(&pw), now), LoginCheck::Ok);
    }

    #[test]
    fn the_link_sets_the_password_once_and_expires() {
        let now: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let (mut a, token) = account(now);
        assert_eq!(login_key(&a.email), "mei@example.com");
        let other = Token::generate(&OsRandom).unwrap();
        assert!(!a.setup_matches(&other, now));
        assert!(!a.setup_matches(&token, now + SETUP_LIFETIME));
        assert!(a.setup_matches(&token, now));
        let pw = Password::new("a long enough phrase".into()).unwrap();
        assert_eq!(
            a.check_login(Some(&pw), now),
            LoginCheck::Wrong,
            "no password yet"
        );
        a.set_password(hash_password(&pw).unwrap());
        assert!(!a.setup_matches(&token, now), "used up");
        assert_eq!(a.epoch, 1);
        assert_eq!(a.check_login(Some(&pw), now), LoginCheck::Ok);
    }

    #[test]
    fn five_wrong_passwords_lock_the_account_for_a_while() {
        let now: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let (mut a, _) = account(now);
        let pw = Password::new("a long enough phrase".into()).unwrap();
        a.set_password(hash_password(&pw).unwrap());
        let wrong = Password::attempt("guess".into()).unwrap();
        for _ in 0..LOCK_AFTER_FAILURES {
            assert_eq!(a.check_login(Some(&wrong), now), LoginCheck::Wrong);
            a.record_failure(now);
        }
        let until = now + LOCK_FOR;
        assert_eq!(a.check_login(Some(&pw), now), LoginCheck::Locked { until });
        assert_eq!(a.check_login(Some(&pw), until), LoginCheck::Ok);
        a.record_success();
        assert_eq!(a.failed_logins, 0);
    }
}
