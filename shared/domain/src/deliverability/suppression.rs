//! The suppression list's rules: a hard bounce or any complaint suppresses an address at once;
//! soft bounces after [`SOFT_BOUNCE_LIMIT`] within [`SOFT_BOUNCE_WINDOW_DAYS`]. What a message
//! in the communication log records of the provider's events.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::address::AddressHash;
use super::ses::FeedbackKind;

/// Soft bounces within the window that suppress an address.
pub const SOFT_BOUNCE_LIMIT: usize = 3;
pub const SOFT_BOUNCE_WINDOW_DAYS: i64 = 30;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SuppressionReason {
    HardBounce,
    SoftBounces,
    Complaint,
    /// Added by the tenant's staff (not used by feedback).
    Manual,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Suppression {
    pub reason: SuppressionReason,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// A complaint's feedback type, as the mailbox provider reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_type: Option<String>,
}

/// An address as the list knows it: only its keyed hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AddressState {
    #[schema(value_type = String)]
    pub address_hash: AddressHash,
    /// Soft bounces within the window, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    pub soft_bounces: Vec<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
}

impl AddressState {
    pub fn new(address_hash: AddressHash) -> Self {
        Self {
            address_hash,
            soft_bounces: Vec::new(),
            suppressed: None,
        }
    }

    pub fn is_suppressed(&self) -> bool {
        self.suppressed.is_some()
    }

    /// The state after `kind` at `at`; `None` if the event changes nothing (a delivery, a
    /// reject, anything about an address already suppressed, a soft bounce told twice).
    pub fn after(&self, kind: &FeedbackKind, at: Timestamp) -> Option<Self> {
        if self.suppressed.is_some() {
            return None;
        }
        let suppress = |reason, feedback_type| {
            let mut s = self.clone();
            s.suppressed = Some(Suppression {
                reason,
                at,
                feedback_type,
            });
            Some(s)
        };
        match kind {
            FeedbackKind::Delivered | FeedbackKind::Rejected => None,
            FeedbackKind::Bounced { permanent: true } => {
                suppress(SuppressionReason::HardBounce, None)
            }
            FeedbackKind::Complained { feedback_type } => {
                suppress(SuppressionReason::Complaint, feedback_type.clone())
            }
            FeedbackKind::Bounced { permanent: false } => {
                if self.soft_bounces.contains(&at) {
                    return None;
                }
                let since = at
                    .checked_sub(SignedDuration::from_hours(24 * SOFT_BOUNCE_WINDOW_DAYS))
                    .unwrap_or(at);
                let mut s = self.clone();
                s.soft_bounces.retain(|t| *t > since);
                s.soft_bounces.push(at);
                s.soft_bounces.sort();
                if s.soft_bounces.len() >= SOFT_BOUNCE_LIMIT {
                    s.suppressed = Some(Suppression {
                        reason: SuppressionReason::SoftBounces,
                        at,
                        feedback_type: None,
                    });
                }
                Some(s)
            }
        }
    }
}

/// What applying one provider event did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct FeedbackOutcome {
    /// Addresses this event put on the suppression list.
    pub suppressed: usize,
    /// Whether the event was recorded on its message in the communication log.
    pub message_updated: bool,
}

/// What the provider said of a sent message, as its log entry shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Delivered,
    Bounced,
    Complained,
    Rejected,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageDelivery {
    pub status: DeliveryStatus,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// `permanent` / `transient` for a bounce, the feedback type of a complaint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl MessageDelivery {
    pub fn of(kind: &FeedbackKind, at: Timestamp) -> Self {
        let (status, detail) = match kind {
            FeedbackKind::Delivered => (DeliveryStatus::Delivered, None),
            FeedbackKind::Bounced { permanent } => (
                DeliveryStatus::Bounced,
                Some(if *permanent { "permanent" } else { "transient" }.to_owned()),
            ),
            FeedbackKind::Complained { feedback_type } => {
                (DeliveryStatus::Complained, feedback_type.clone())
            }
            FeedbackKind::Rejected => (DeliveryStatus::Rejected, None),
        };
        Self { status, at, detail }
    }

    /// Whether this should replace `before` on the message: a complaint or bounce outranks a
    /// delivery (a complaint comes after the delivery), the same news again changes nothing.
    pub fn replaces(&self, before: Option<&MessageDelivery>) -> bool {
        let rank = |s: DeliveryStatus| match s {
            DeliveryStatus::Delivered => 0,
            DeliveryStatus::Rejected | DeliveryStatus::Bounced => 1,
            DeliveryStatus::Complained => 2,
        };
        before.is_none_or(|b| rank(self.status) > rank(b.status))
    }
}

#[cfg(test)]
#[path = "suppression_tests.rs"]
mod tests;
