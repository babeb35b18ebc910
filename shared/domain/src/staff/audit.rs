//! The audit log: every staff action — who, what, when, and for edits what was before and
//! after. Admins read the tenant's log; the entries about a customer are in their export, and
//! their erasure blanks the entries' details (who did what when stays).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::CustomerId;
use crate::time::serde_ts;

/// What a staff member did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    LoggedIn,
    LoginLocked,
    LoggedOutEverywhere,
    PasswordSet,
    StaffCreated,
    StaffChanged,
    ProfileEdited,
    ContactLogged,
    PointsAdjusted,
    CouponVoided,
    CaseOpened,
    CaseUpdated,
    SettingsChanged,
    KeyCreated,
    KeyRevoked,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoggedIn => "logged_in",
            Self::LoginLocked => "login_locked",
            Self::LoggedOutEverywhere => "logged_out_everywhere",
            Self::PasswordSet => "password_set",
            Self::StaffCreated => "staff_created",
            Self::StaffChanged => "staff_changed",
            Self::ProfileEdited => "profile_edited",
            Self::ContactLogged => "contact_logged",
            Self::PointsAdjusted => "points_adjusted",
            Self::CouponVoided => "coupon_voided",
            Self::CaseOpened => "case_opened",
            Self::CaseUpdated => "case_updated",
            Self::SettingsChanged => "settings_changed",
            Self::KeyCreated => "key_created",
            Self::KeyRevoked => "key_revoked",
        }
    }
}

/// One staff action.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    /// The id of the request that did it: a retried form writes no second entry.
    pub audit_id: String,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The staff member (`cli` for the command line).
    pub staff_id: String,
    pub action: AuditAction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub customer: Option<CustomerId>,
    /// The edited fields as they were, and as they became.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub after: Option<serde_json::Value>,
    /// Why (an adjustment's reason, a contact's channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The customer was erased: the details are gone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
}

impl AuditEntry {
    pub fn new(audit_id: String, at: Timestamp, staff_id: &str, action: AuditAction) -> Self {
        Self {
            audit_id,
            at,
            staff_id: staff_id.to_owned(),
            action,
            customer: None,
            before: None,
            after: None,
            detail: None,
            erased: false,
        }
    }

    pub fn about(mut self, customer: &CustomerId) -> Self {
        self.customer = Some(customer.clone());
        self
    }

    pub fn change(mut self, before: serde_json::Value, after: serde_json::Value) -> Self {
        self.before = Some(before);
        self.after = Some(after);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Newest-first order key: the time in milliseconds, zero-padded, then the id.
    pub fn sort_key(&self) -> String {
        format!("{:015}#{}", self.at.as_millisecond().max(0), self.audit_id)
    }

    /// What is left of the entry once its customer is erased.
    pub fn redacted(&self) -> Self {
        Self {
            before: None,
            after: None,
            detail: None,
            erased: true,
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_keeps_who_what_when_only() {
        let at: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let c = CustomerId::parse("c1").unwrap();
        let e = AuditEntry::new("01A".into(), at, "s1", AuditAction::ProfileEdited)
            .about(&c)
            .change(
                serde_json::json!({"phone": "+1"}),
                serde_json::json!({"phone": "+2"}),
            )
            .detail("typo");
        let r = e.redacted();
        assert_eq!(
            (r.at, r.staff_id.as_str(), r.action, r.customer.as_ref()),
            (at, "s1", AuditAction::ProfileEdited, Some(&c))
        );
        assert!(r.before.is_none() && r.after.is_none() && r.detail.is_none() && r.erased);
        assert!(
            e.sort_key()
                < AuditEntry::new(
                    "01B".into(),
                    at + jiff::SignedDuration::from_millis(1),
                    "s1",
                    AuditAction::LoggedIn
                )
                .sort_key()
        );
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["action"], "profile_edited");
        assert!(json.get("before").is_none());
    }
}
