//! What a run did.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use utoipa::ToSchema;

use super::{CampaignRef, SkipReason};
use crate::values::Locale;

/// What a run did: how many customers were due, how many got the mail, and why the others not.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct RunReport {
    pub campaign: Option<CampaignRef>,
    #[serde(with = "crate::time::serde_ts::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub as_of: Option<Timestamp>,
    pub dry_run: bool,
    pub candidates: u64,
    pub sent: u64,
    /// Handed to the broadcast queue's senders (AWS), who send or skip each.
    #[serde(skip_serializing_if = "is_zero")]
    pub queued: u64,
    /// Every reason, with 0 when none.
    #[schema(value_type = Object)]
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Dry run only: who would receive the mail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipients: Option<Vec<DryRunRecipient>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct DryRunRecipient {
    #[schema(value_type = String)]
    pub customer_id: crate::ids::CustomerId,
    pub period: String,
    #[schema(value_type = String)]
    pub locale: Locale,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl RunReport {
    pub fn new(campaign: CampaignRef, as_of: Timestamp, dry_run: bool) -> Self {
        Self {
            campaign: Some(campaign),
            as_of: Some(as_of),
            dry_run,
            skipped: SkipReason::ALL.into_iter().map(|r| (r, 0)).collect(),
            recipients: dry_run.then(Vec::new),
            ..Self::default()
        }
    }

    /// A dry run's recipients in customer order (claims finish in any order).
    pub fn sort_recipients(&mut self) {
        if let Some(list) = self.recipients.as_mut() {
            list.sort_by(|a, b| a.customer_id.cmp(&b.customer_id));
        }
    }

    pub fn skip(&mut self, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
    }

    pub fn merge(&mut self, other: &RunReport) {
        self.candidates += other.candidates;
        self.sent += other.sent;
        for (r, n) in &other.skipped {
            *self.skipped.entry(*r).or_default() += n;
        }
    }
}

/// A new message id: a ULID (time-ordered, 26 Crockford base-32 symbols), safe as a file name.
pub fn new_message_id(
    now: Timestamp,
    rng: &dyn crate::tenant::Random,
) -> Result<String, crate::tenant::RandomError> {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes)?;
    let ms = u64::try_from(now.as_millisecond()).unwrap_or(0);
    // A ULID has 80 random bits below the 48-bit time.
    let random = u128::from_le_bytes(bytes) & ((1u128 << 80) - 1);
    Ok(ulid::Ulid::from_parts(ms, random).to_string())
}
