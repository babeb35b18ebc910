//! A customer's points account: lots by expiry month, lifetime and monthly earnings (for tiers),
//! today's cap usage, and the tier. Stores load and save it whole, with the ledger entries an
//! operation produced, in one atomic write; every rule is here.
//!
//! - **Lots**: points earned at `t` expire at the end of the month (tenant time zone) that
//!   contains `t + validity_days`; lots of one expiry month are one lot. Spending takes the lots
//!   that expire first. An expired lot is written off by the next operation on the account (an
//!   `expiry` ledger entry), and a balance read never counts it, so no sweep is needed.
//! - **Tiers**: the highest tier whose `min_points` the points earned in the last
//!   `tier_window_months` calendar months reach. Upgrades apply at once. A customer whose window
//!   falls below their tier keeps it for `downgrade_grace_days` from the first day of the month in
//!   which it fell below, then moves down.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

pub use super::ledger::{
    AccrualOutcome, DomainEvent, ExpiringLot, Insufficient, LedgerEntry, LedgerKind, PointsView,
    RedeemOutcome,
};
use super::rules::{AccrualKind, AccrualRequest, PointsSettings, TierName};
use super::totals::Totals;
use crate::time::serde_ts;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TierState {
    pub name: TierName,
    #[serde(with = "serde_ts")]
    pub since: Timestamp,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapUsage {
    /// The tenant-zone day the usage counts for (`YYYY-MM-DD`).
    pub day: String,
    pub used: BTreeMap<AccrualKind, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Unspent points by the month at whose end they expire (`YYYY-MM`).
    pub lots: BTreeMap<String, u64>,
    pub lifetime_earned: u64,
    /// Points earned per calendar month (`YYYY-MM`), for the tier window.
    pub earned_by_month: BTreeMap<String, u64>,
    pub tier: Option<TierState>,
    pub caps: Option<CapUsage>,
    /// How many ledger entries the account has (the next entry's sequence number).
    pub seq: u64,
    /// Points owed: reversals that took back points already spent. Only while there are no
    /// lots (credits pay the debt before they make a lot), so the balance is `lots − debt`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub debt: u64,
    /// What the accruals add up to (purchases, spend, gifts, watch time), for RFM and reports.
    #[serde(default, skip_serializing_if = "Totals::is_empty")]
    pub totals: Totals,
    /// How many of each catalogue reward the customer redeemed (its `per_customer_limit`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rewards_redeemed: BTreeMap<String, u32>,
}

/// Months of purchase buckets kept for rolling windows (RFM windows are at most 36).
const TOTALS_MONTHS: u32 = 48;

fn is_zero(v: &u64) -> bool {
    *v == 0
}

pub(super) fn month_key(d: Date) -> String {
    format!("{:04}-{:02}", d.year(), d.month())
}

fn parse_month(key: &str) -> Option<Date> {
    let (y, m) = key.split_once('-')?;
    Date::new(y.parse().ok()?, m.parse().ok()?, 1).ok()
}

fn first_of_month(d: Date) -> Date {
    d.first_of_month()
}

/// The instant a lot of month `key` expires: the start of the next month in `tz`.
pub fn lot_expiry(key: &str, tz: &TimeZone) -> Option<Timestamp> {
    let next = parse_month(key)?.checked_add(1.month()).ok()?;
    next.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

impl Account {
    /// The months of the lots holding points (`YYYY-MM`): the keys of the points-expiring
    /// index the stores keep beside the account.
    pub fn lot_months(&self) -> std::collections::BTreeSet<String> {
        self.lots
            .iter()
            .filter(|(_, p)| **p > 0)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Unexpired-or-not lots less the debt: below zero only while there is a debt.
    pub fn balance(&self) -> i64 {
        let lots: u64 = self.lots.values().sum();
        i64::try_from(lots).unwrap_or(i64::MAX) - i64::try_from(self.debt).unwrap_or(i64::MAX)
    }

    /// Adds `points` to the lot expiring at the end of `month`, paying off any debt first.
    pub(super) fn credit(&mut self, points: u64, month: String) {
        let paid = points.min(self.debt);
        self.debt -= paid;
        if points > paid {
            *self.lots.entry(month).or_insert(0) += points - paid;
        }
    }

    /// Takes `points` from the lots — the lot `prefer` first, then those expiring first —
    /// and, when they do not hold enough, owes the rest as a debt (`into_debt`) or leaves it
    /// untaken. Answers the points left untaken.
    pub(super) fn debit(&mut self, points: u64, prefer: Option<&str>, into_debt: bool) -> u64 {
        let mut left = points;
        if let Some(lot) = prefer.and_then(|k| self.lots.get_mut(k)) {
            let take = left.min(*lot);
            *lot -= take;
            left -= take;
        }
        for lot in self.lots.values_mut() {
            let take = left.min(*lot);
            *lot -= take;
            left -= take;
        }
        self.lots.retain(|_, v| *v > 0);
        if into_debt {
            self.debt = self.debt.saturating_add(left);
            0
        } else {
            left
        }
    }

    /// The month at whose end points earned at `at` expire.
    pub(super) fn lot_month(s: &PointsSettings, at: Timestamp, tz: &TimeZone) -> String {
        let today = Self::today(at, tz);
        month_key(
            today
                .checked_add(i64::from(s.validity_days).days())
                .unwrap_or(today),
        )
    }

    pub(super) fn today(now: Timestamp, tz: &TimeZone) -> Date {
        now.to_zoned(tz.clone()).date()
    }

    /// Points earned in the `months` calendar months ending with the one containing `day`.
    pub(super) fn window_at(&self, day: Date, months: u32) -> u64 {
        let end = first_of_month(day);
        let start = end
            .checked_sub((i64::from(months) - 1).months())
            .unwrap_or(end);
        let (from, to) = (month_key(start), month_key(end));
        self.earned_by_month.range(from..=to).map(|(_, v)| *v).sum()
    }

    pub(super) fn next_entry(
        &mut self,
        key: String,
        kind: LedgerKind,
        points: i64,
        at: Timestamp,
        occurred_at: Option<Timestamp>,
    ) -> LedgerEntry {
        self.seq += 1;
        LedgerEntry {
            seq: self.seq,
            key,
            kind,
            points,
            balance_after: self.balance(),
            at,
            occurred_at,
            facts: Default::default(),
            correction: None,
        }
    }

    /// Writes off lots that expired before `now`.
    pub(super) fn settle(&mut self, now: Timestamp, tz: &TimeZone, out: &mut Vec<LedgerEntry>) {
        let current = month_key(Self::today(now, tz));
        let expired: Vec<String> = self.lots.range(..current).map(|(k, _)| k.clone()).collect();
        for key in expired {
            let points = self.lots.remove(&key).unwrap_or(0);
            if points > 0 {
                let e = self.next_entry(
                    format!("expiry:{key}"),
                    LedgerKind::Expiry,
                    -(points as i64),
                    now,
                    None,
                );
                out.push(e);
            }
        }
    }

    /// The tier in force at `now` and why, without changing the account.
    fn effective_tier(
        &self,
        s: &PointsSettings,
        now: Timestamp,
        tz: &TimeZone,
    ) -> (TierName, Timestamp, String) {
        let today = Self::today(now, tz);
        let window = self.window_at(today, s.tier_window_months);
        let qualifying = s.qualifying_tier(window).map(|t| t.name.clone());
        let fallback = || s.tiers.first().map(|t| t.name.clone());
        let Some(q) = qualifying.or_else(fallback) else {
            return (
                TierName::parse("none").unwrap_or_else(|_| unreachable!()),
                now,
                "no tiers configured".into(),
            );
        };
        let months = s.tier_window_months;
        let held = self.tier.as_ref().filter(|t| s.rank(&t.name).is_some());
        let Some(held) = held else {
            return (
                q.clone(),
                now,
                format!("{window} points earned in the last {months} months"),
            );
        };
        let (held_rank, q_rank) = (s.rank(&held.name).unwrap_or(0), s.rank(&q).unwrap_or(0));
        if q_rank > held_rank {
            let min = s.tier(&q).map_or(0, |t| t.min_points);
            return (
                q.clone(),
                now,
                format!("{window} points earned in the last {months} months (≥ {min})"),
            );
        }
        if q_rank == held_rank {
            let min = s.tier(&held.name).map_or(0, |t| t.min_points);
            return (
                held.name.clone(),
                held.since,
                format!("{window} points earned in the last {months} months (≥ {min})"),
            );
        }
        // Below the held tier: find the first month start since it was gained with a window
        // below its minimum; the downgrade applies `downgrade_grace_days` after that.
        let min = s.tier(&held.name).map_or(0, |t| t.min_points);
        let gained = first_of_month(Self::today(held.since, tz));
        let mut month = gained.checked_add(1.month()).unwrap_or(gained);
        let mut fell = first_of_month(today);
        while month <= today {
            if self.window_at(month, months) < min {
                fell = month;
                break;
            }
            month = match month.checked_add(1.month()) {
                Ok(m) => m,
                Err(_) => break,
            };
        }
        let until = fell
            .checked_add(i64::from(s.downgrade_grace_days).days())
            .unwrap_or(fell);
        let until_ts = until
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .unwrap_or(now);
        if now >= until_ts {
            (
                q.clone(),
                until_ts,
                format!(
                    "{window} points earned in the last {months} months; below {} since {fell}, grace ended {until}",
                    held.name
                ),
            )
        } else {
            (
                held.name.clone(),
                held.since,
                format!(
                    "kept until {until} (grace): {window} points earned in the last {months} months is below {min}"
                ),
            )
        }
    }

    /// Applies the tier in force now; reports a change.
    pub(super) fn retier(
        &mut self,
        s: &PointsSettings,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Option<DomainEvent> {
        let (name, since, _) = self.effective_tier(s, now, tz);
        let from = self.tier.as_ref().map(|t| t.name.clone());
        if from.as_ref() == Some(&name) {
            return None;
        }
        self.tier = Some(TierState {
            name: name.clone(),
            since,
        });
        Some(DomainEvent::TierChanged { from, to: name })
    }

    pub(super) fn prune_months(&mut self, s: &PointsSettings, today: Date) {
        let keep_from = first_of_month(today)
            .checked_sub((i64::from(s.tier_window_months) + 24).months())
            .ok();
        if let Some(from) = keep_from {
            let from = month_key(from);
            self.earned_by_month.retain(|k, _| *k >= from);
        }
    }

    /// Credits an accrual at `now`.
    pub fn accrue(
        &mut self,
        req: &AccrualRequest,
        s: &PointsSettings,
        now: Timestamp,
        tz: &TimeZone,
    ) -> AccrualOutcome {
        let mut entries = Vec::new();
        let mut events = Vec::new();
        self.settle(now, tz, &mut entries);
        if let Some(e) = self.retier(s, now, tz) {
            events.push(e);
        }
        let today = Self::today(now, tz);
        let multiplier = self
            .tier
            .as_ref()
            .and_then(|t| s.tier(&t.name))
            .map_or(100, |t| u64::from(t.multiplier_pct));
        let base = req.base_points(&s.earning);
        let multiplied = base.saturating_mul(multiplier) / 100;

        let day = today.to_string();
        let caps = self.caps.get_or_insert_with(CapUsage::default);
        if caps.day != day {
            *caps = CapUsage {
                day,
                used: BTreeMap::new(),
            };
        }
        let used = caps.used.get(&req.kind).copied().unwrap_or(0);
        let awarded = match s.earning.daily_caps.for_kind(req.kind) {
            Some(cap) => multiplied.min(cap.saturating_sub(used)),
            None => multiplied,
        };
        if awarded > 0 {
            caps.used.insert(req.kind, used + awarded);
            self.credit(awarded, Self::lot_month(s, now, tz));
            self.lifetime_earned = self.lifetime_earned.saturating_add(awarded);
            *self.earned_by_month.entry(month_key(today)).or_insert(0) += awarded;
        }
        self.prune_months(s, today);
        let mut entry = self.next_entry(
            format!("accrual:{}", req.event_id),
            LedgerKind::Accrual { kind: req.kind },
            awarded as i64,
            now,
            req.occurred_at,
        );
        entry.facts = req.facts();
        self.totals.add(req.kind, &entry, tz);
        self.totals.prune(TOTALS_MONTHS, now, tz);
        entries.push(entry);
        if let Some(e) = self.retier(s, now, tz) {
            events.push(e);
        }
        events.push(DomainEvent::CustomerBecameActive {
            at: req.occurred_at.unwrap_or(now).min(now),
        });
        AccrualOutcome {
            points_awarded: awarded,
            capped: multiplied - awarded,
            entries,
            events,
        }
    }

    /// Spends `points`, the lots that expire first first; nothing changes if there are too few.
    pub fn redeem(
        &mut self,
        key: &str,
        points: u64,
        s: &PointsSettings,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<RedeemOutcome, Insufficient> {
        let mut trial = self.clone();
        let mut entries = Vec::new();
        trial.settle(now, tz, &mut entries);
        let balance = trial.balance();
        if points == 0 || balance < i64::try_from(points).unwrap_or(i64::MAX) {
            return Err(Insufficient { balance });
        }
        trial.debit(points, None, false);
        let _ = trial.retier(s, now, tz);
        let entry = trial.next_entry(
            format!("redemption:{key}"),
            LedgerKind::Redemption,
            -(points as i64),
            now,
            None,
        );
        entries.push(entry);
        *self = trial;
        Ok(RedeemOutcome { entries })
    }

    /// The account as of `now`: expired lots not counted, tier as in force.
    pub fn view(&self, s: &PointsSettings, now: Timestamp, tz: &TimeZone) -> PointsView {
        let mut a = self.clone();
        a.settle(now, tz, &mut Vec::new());
        let (tier, _, why) = a.effective_tier(s, now, tz);
        let horizon = now
            .checked_add(jiff::SignedDuration::from_hours(
                24 * i64::from(s.expiring_soon_days),
            ))
            .unwrap_or(now);
        let lots: Vec<ExpiringLot> = a
            .lots
            .iter()
            .filter(|(_, p)| **p > 0)
            .filter_map(|(k, p)| {
                lot_expiry(k, tz).map(|expires_at| ExpiringLot {
                    points: *p,
                    expires_at,
                })
            })
            .collect();
        PointsView {
            balance: a.balance(),
            lifetime_earned: a.lifetime_earned,
            tier,
            tier_why: why,
            window_earned: a.window_at(Self::today(now, tz), s.tier_window_months),
            next_expiry: lots.first().cloned(),
            expiring_soon: lots
                .into_iter()
                .filter(|l| l.expires_at <= horizon)
                .collect(),
        }
    }
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
