//! Corrections of a points account: a **reversal** takes back what one accrual awarded (a
//! refunded purchase, a charged-back gift), an **adjustment** is a support correction (±).
//!
//! - A reversal takes the points from the lot the accrual made first, then from the lots that
//!   expire first. When they hold too few (the points were spent), the rest becomes a debt —
//!   the balance goes below zero and later credits pay it off first — or, with the tenant's
//!   `points.reversal: clamp`, stays untaken and is recorded as the entry's `shortfall`.
//! - What the accrual counted is taken back too: lifetime and the month's earnings (so the tier
//!   window follows, and the tier with it: one reached through the reversed points is left at
//!   once, without the downgrade grace), on the same tenant day the daily cap usage, and the
//!   purchase, spend, gift and watch totals.
//! - An adjustment up is a lot expiring like an accrual made now (it pays a debt first) but is
//!   not earning: it counts for neither tiers nor caps. An adjustment down spends like a
//!   redemption and treats a shortfall like a reversal.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::account::{Account, month_key};
use super::ledger::{Correction, DomainEvent, LedgerEntry, LedgerKind};
use super::rules::{MAX_POINTS, PointsSettings, ReversalMode};
use crate::ids::ExternalId;
use crate::values::Reason;
use crate::wire::SignedNonZero;

crate::wire_struct! {
    /// The body of a reversal: takes back what the accrual `event_id` awarded, once.
    #[derive(serde::Serialize)]
    pub struct ReversalInput {
        /// Your id of the reversal (a refund or chargeback id); a retry with the same body
        /// answers the original result.
        pub reversal_id: ExternalId,
        /// The `event_id` of the customer's accrual to take back.
        pub event_id: ExternalId,
        pub reason: Reason,
        /// Who asked for it, when a person did (a staff id).
        pub actor: Option<ExternalId>,
    }
}

crate::wire_struct! {
    /// The body of an adjustment: a support correction of `points` (positive credits,
    /// negative debits).
    #[derive(serde::Serialize)]
    pub struct AdjustmentInput {
        /// Your id of the adjustment: each is applied once.
        pub adjustment_id: ExternalId,
        pub points: SignedNonZero<{ MAX_POINTS }>,
        pub reason: Reason,
        /// Who made it (a staff id).
        pub actor: ExternalId,
    }
}

/// Why a reversal cannot apply to the entry it names.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("only an accrual can be reversed")]
pub struct NotAnAccrual;

/// What a correction did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CorrectionOutcome {
    /// The points the correction moved (negative when taken).
    pub points: i64,
    /// Points left untaken (`clamp`).
    pub shortfall: u64,
    pub entries: Vec<LedgerEntry>,
    #[serde(skip)]
    pub events: Vec<DomainEvent>,
}

impl Account {
    /// Takes back what `original` (an accrual entry of this account) awarded.
    pub fn reverse(
        &mut self,
        original: &LedgerEntry,
        input: &ReversalInput,
        s: &PointsSettings,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<CorrectionOutcome, NotAnAccrual> {
        let LedgerKind::Accrual { kind } = original.kind else {
            return Err(NotAnAccrual);
        };
        let mut entries = Vec::new();
        let mut events = Vec::new();
        self.settle(now, tz, &mut entries);
        let points = original.points.max(0).unsigned_abs();
        let lot = Self::lot_month(s, original.at, tz);
        let shortfall = self.debit(points, Some(&lot), s.reversal == ReversalMode::Debt);

        self.totals.remove(kind, original, tz);
        let earned_on = Self::today(original.at, tz);
        self.lifetime_earned = self.lifetime_earned.saturating_sub(points);
        let month = month_key(earned_on);
        if let Some(m) = self.earned_by_month.get_mut(&month) {
            *m = m.saturating_sub(points);
            if *m == 0 {
                self.earned_by_month.remove(&month);
            }
        }
        if let Some(caps) = self
            .caps
            .as_mut()
            .filter(|c| c.day == earned_on.to_string())
            && let Some(used) = caps.used.get_mut(&kind)
        {
            *used = used.saturating_sub(points);
        }
        // A tier reached with the points taken back was never earned: no grace keeps it.
        let held = self.tier.clone();
        if held.as_ref().is_some_and(|t| t.since >= original.at) {
            self.tier = None;
        }
        let _ = self.retier(s, now, tz);
        let (from, to) = (
            held.map(|t| t.name),
            self.tier.as_ref().map(|t| t.name.clone()),
        );
        if let Some(to) = to.filter(|to| from.as_ref() != Some(to)) {
            events.push(DomainEvent::TierChanged { from, to });
        }
        let taken = points - shortfall;
        let mut entry = self.next_entry(
            format!("reversal:{}", input.event_id),
            LedgerKind::Reversal {
                kind,
                event_id: input.event_id.clone(),
            },
            -(taken as i64),
            now,
            None,
        );
        entry.facts = original.facts.clone();
        entry.correction = Some(Correction {
            id: input.reversal_id.clone(),
            reason: Some(input.reason.clone()),
            actor: input.actor.clone(),
            shortfall,
        });
        entries.push(entry);
        Ok(CorrectionOutcome {
            points: -(taken as i64),
            shortfall,
            entries,
            events,
        })
    }

    /// Applies a support correction of `input.points`.
    pub fn adjust(
        &mut self,
        input: &AdjustmentInput,
        s: &PointsSettings,
        now: Timestamp,
        tz: &TimeZone,
    ) -> CorrectionOutcome {
        let mut entries = Vec::new();
        let mut events = Vec::new();
        self.settle(now, tz, &mut entries);
        let asked = input.points.get();
        let shortfall = if asked > 0 {
            self.credit(asked.unsigned_abs(), Self::lot_month(s, now, tz));
            0
        } else {
            self.debit(asked.unsigned_abs(), None, s.reversal == ReversalMode::Debt)
        };
        if let Some(e) = self.retier(s, now, tz) {
            events.push(e);
        }
        let moved = if asked > 0 {
            asked
        } else {
            asked + shortfall as i64
        };
        let mut entry = self.next_entry(
            format!("adjustment:{}", input.adjustment_id),
            LedgerKind::Adjustment,
            moved,
            now,
            None,
        );
        entry.correction = Some(Correction {
            id: input.adjustment_id.clone(),
            reason: Some(input.reason.clone()),
            actor: Some(input.actor.clone()),
            shortfall,
        });
        entries.push(entry);
        CorrectionOutcome {
            points: moved,
            shortfall,
            entries,
            events,
        }
    }
}

#[cfg(test)]
#[path = "corrections_tests.rs"]
mod tests;
