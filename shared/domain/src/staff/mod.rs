//! Staff of the console: accounts separate from API keys, roles, password and login-throttle
//! rules, sessions with idle and absolute expiry, CSRF tokens, and the audit log of what staff
//! did. Hashing and token rules live here; the stores only keep what these types say.

pub mod account;
pub mod audit;
pub mod password;
pub mod role;
pub mod session;
pub mod store;

pub use account::{LOCK_AFTER_FAILURES, LoginCheck, SETUP_LIFETIME, StaffAccount, login_key};
pub use audit::{AuditAction, AuditEntry};
pub use password::{Password, PasswordError, hash_password, verify_password};
pub use role::{AGENT_ADJUST_LIMIT, ConsoleSettings, Permission, Role};
pub use session::{ABSOLUTE_LIFETIME, IDLE_LIFETIME, Session, SessionState, Token, token_hash};
pub use store::StaffStore;
