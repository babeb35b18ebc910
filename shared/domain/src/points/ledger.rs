//! The ledger a points account writes, what its operations report, and what a balance read
//! shows.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::facts::Facts;
use super::rules::{AccrualKind, TierName};
use crate::ids::ExternalId;
use crate::time::serde_ts;
use crate::values::Reason;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum LedgerKind {
    Accrual {
        kind: AccrualKind,
    },
    Redemption,
    Expiry,
    /// Takes back what the accrual `event_id` (of `kind`) awarded.
    Reversal {
        kind: AccrualKind,
        #[schema(value_type = String)]
        event_id: ExternalId,
    },
    /// A staff correction.
    Adjustment,
}

/// Who corrected the points and why (reversals and adjustments).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Correction {
    /// The `reversal_id` or `adjustment_id` of the request.
    #[schema(value_type = String)]
    pub id: ExternalId,
    /// Removed when the customer is erased (staff text may name the person).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub reason: Option<Reason>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub actor: Option<ExternalId>,
    /// Points that could not be taken back because the balance was already spent and the
    /// tenant's `points.reversal` is `clamp`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub shortfall: u64,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// An immutable movement of points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    /// Position in the customer's ledger, from 1.
    pub seq: u64,
    /// Unique per customer: `accrual:{event_id}`, `redemption:{id}`, `expiry:{YYYY-MM}`,
    /// `reversal:{event_id}` (of the accrual taken back), `adjustment:{id}`.
    pub key: String,
    #[serde(flatten)]
    pub kind: LedgerKind,
    /// Positive when credited, negative when spent, expired or taken back.
    pub points: i64,
    /// Below zero when a reversal took back points already spent (a debt later accruals pay).
    pub balance_after: i64,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// When the event happened, if the caller said so.
    #[serde(
        with = "serde_ts::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<Timestamp>,
    /// What the accrual reported (a reversal repeats its accrual's facts).
    #[serde(default, skip_serializing_if = "Facts::is_empty")]
    pub facts: Facts,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<Correction>,
}

impl LedgerEntry {
    /// The entry with every link to the person removed, for the ledger kept after erasure.
    pub fn anonymised(&self) -> Self {
        let mut e = self.clone();
        e.facts = e.facts.anonymised();
        if let Some(c) = &mut e.correction {
            c.reason = None;
        }
        e
    }
}

/// Facts other functions react to (campaigns, the communication log).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DomainEvent {
    CustomerBecameActive {
        at: Timestamp,
    },
    TierChanged {
        from: Option<TierName>,
        to: TierName,
    },
    CouponMinted {
        code: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccrualOutcome {
    pub points_awarded: u64,
    /// Points the daily cap held back.
    pub capped: u64,
    pub entries: Vec<LedgerEntry>,
    pub events: Vec<DomainEvent>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedeemOutcome {
    pub entries: Vec<LedgerEntry>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("insufficient points: {balance} available")]
pub struct Insufficient {
    pub balance: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExpiringLot {
    pub points: u64,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// What `GET …/points` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct PointsView {
    pub balance: i64,
    pub lifetime_earned: u64,
    #[schema(value_type = String)]
    pub tier: TierName,
    /// Which rule placed the customer in the tier.
    pub tier_why: String,
    /// Points earned in the tier window.
    pub window_earned: u64,
    /// The next lot to expire, if any.
    pub next_expiry: Option<ExpiringLot>,
    /// Every lot expiring within the tenant's `expiring_soon_days`.
    pub expiring_soon: Vec<ExpiringLot>,
}
