//! Staff passwords: at least 12 characters, kept only as an Argon2id PHC string (the crate's
//! default parameters: 19 MiB, 2 passes, one lane — OWASP's minimum for Argon2id).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// Shortest password a staff member may set, in characters.
pub const MIN_CHARS: usize = 12;
/// Longest, in characters (hashing a megabyte would be a denial of service).
pub const MAX_CHARS: usize = 128;

/// A password as typed; never logged (its `Debug` is redacted).
#[derive(Clone)]
pub struct Password(String);

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(…)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("must be {MIN_CHARS} to {MAX_CHARS} characters")]
    Length,
    #[error("the password could not be hashed")]
    Hash,
}

impl Password {
    /// A new password (for setting): its length is checked.
    pub fn new(s: String) -> Result<Self, PasswordError> {
        let n = s.chars().count();
        if !(MIN_CHARS..=MAX_CHARS).contains(&n) {
            return Err(PasswordError::Length);
        }
        Ok(Self(s))
    }

    /// A password typed at login: any length up to the maximum (an over-long one cannot
    /// match, and is not hashed).
    pub fn attempt(s: String) -> Option<Self> {
        (s.chars().count() <= MAX_CHARS).then_some(Self(s))
    }
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash_password(password: &Password) -> Result<String, PasswordError> {
    Argon2::default()
        .hash_password(password.0.as_bytes())
        .map(|h| h.to_string())
        .map_err(|_| PasswordError::Hash)
}

/// Whether `password` matches the stored PHC string (false for a malformed one).
pub fn verify_password(password: &Password, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.0.as_bytes(), &parsed)
        .is_ok()
}

/// A hash of no password, verified against when the e-mail is unknown so that a wrong
/// address takes as long as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        Argon2::default()
            .hash_password(b"no account has this password")
            .map(|h| h.to_string())
            .unwrap_or_default()
    });
    &DECOY
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let pw = Password::new("correct horse battery".into()).unwrap();
        let phc = hash_password(&pw).unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(verify_password(&pw, &phc));
        let wrong = Password::attempt("correct horse battery!".into()).unwrap();
        assert!(!verify_password(&wrong, &phc));
        assert!(!verify_password(&pw, "not a hash"));
        assert!(!verify_password(&pw, decoy_hash()));
        // A fresh salt each time.
        assert_ne!(hash_password(&pw).unwrap(), phc);
    }

    #[test]
    fn lengths_are_checked() {
        assert_eq!(
            Password::new("short".into()).unwrap_err(),
            PasswordError::Length
        );
        assert!(Password::new("x".repeat(MAX_CHARS + 1)).is_err());
        assert!(Password::attempt("x".repeat(MAX_CHARS + 1)).is_none());
        assert!(format!("{:?}", Password::new("a secret phrase".into()).unwrap()).contains('…'));
    }
}
