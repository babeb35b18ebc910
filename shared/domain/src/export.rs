//! Everything stored about one customer, as the export (data-portability) request returns it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::campaigns::Message;
use crate::points::{Coupon, LedgerEntry};
use crate::profile::Profile;
use crate::surveys::{FollowUp, SurveyResponse};

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct CustomerExport {
    pub profile: Profile,
    /// Every points movement, oldest first.
    pub ledger: Vec<LedgerEntry>,
    pub coupons: Vec<Coupon>,
    /// The communication log, newest first.
    pub messages: Vec<Message>,
    /// The customer's survey answers, oldest first.
    pub survey_responses: Vec<SurveyResponse>,
    /// The follow-ups their answers opened, oldest first.
    pub followups: Vec<FollowUp>,
    /// Their behaviour events still kept, oldest first.
    pub events: Vec<crate::events::BehaviourEvent>,
    /// The contacts staff logged with them, oldest first.
    pub contacts: Vec<crate::contacts::Contact>,
    /// What staff did about them, oldest first.
    pub audit: Vec<crate::staff::AuditEntry>,
    /// The cases about them (complaints, feedback, follow-ups), oldest first.
    #[serde(default)]
    pub cases: Vec<crate::cases::Case>,
}

/// Marks erased customers' anonymised ledgers: `~` is outside the id alphabet.
pub fn anonymous_id(random_hex: &str) -> String {
    format!("~erased-{random_hex}")
}
