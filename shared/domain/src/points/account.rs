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
use utoipa::ToSchema;

use super::rules::{AccrualKind, AccrualRequest, PointsSettings, TierName};
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
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum LedgerKind {
    Accrual { kind: AccrualKind },
    Redemption,
    Expiry,
}

/// An immutable movement of points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LedgerEntry {
    /// Position in the customer's ledger, from 1.
    pub seq: u64,
    /// Unique per customer: `accrual:{event_id}`, `redemption:{id}`, `expiry:{YYYY-MM}`.
    pub key: String,
    #[serde(flatten)]
    pub kind: LedgerKind,
    /// Positive when credited, negative when spent or expired.
    pub points: i64,
    pub balance_after: u64,
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
    pub balance: u64,
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
    pub balance: u64,
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

fn month_key(d: Date) -> String {
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
fn lot_expiry(key: &str, tz: &TimeZone) -> Option<Timestamp> {
    let next = parse_month(key)?.checked_add(1.month()).ok()?;
    next.to_zoned(tz.clone()).ok().map(|z| z.timestamp())
}

impl Account {
    pub fn balance(&self) -> u64 {
        self.lots.values().sum()
    }

    fn today(now: Timestamp, tz: &TimeZone) -> Date {
        now.to_zoned(tz.clone()).date()
    }

    /// Points earned in the `months` calendar months ending with the one containing `day`.
    fn window_at(&self, day: Date, months: u32) -> u64 {
        let end = first_of_month(day);
        let start = end
            .checked_sub((i64::from(months) - 1).months())
            .unwrap_or(end);
        let (from, to) = (month_key(start), month_key(end));
        self.earned_by_month.range(from..=to).map(|(_, v)| *v).sum()
    }

    fn next_entry(
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
        }
    }

    /// Writes off lots that expired before `now`.
    fn settle(&mut self, now: Timestamp, tz: &TimeZone, out: &mut Vec<LedgerEntry>) {
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
    fn retier(&mut self, s: &PointsSettings, now: Timestamp, tz: &TimeZone) -> Option<DomainEvent> {
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

    fn prune_months(&mut self, s: &PointsSettings, today: Date) {
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
            let expires = today
                .checked_add(i64::from(s.validity_days).days())
                .unwrap_or(today);
            *self.lots.entry(month_key(expires)).or_insert(0) += awarded;
            self.lifetime_earned = self.lifetime_earned.saturating_add(awarded);
            *self.earned_by_month.entry(month_key(today)).or_insert(0) += awarded;
        }
        self.prune_months(s, today);
        let entry = self.next_entry(
            format!("accrual:{}", req.event_id),
            LedgerKind::Accrual { kind: req.kind },
            awarded as i64,
            now,
            req.occurred_at,
        );
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
        if points == 0 || balance < points {
            return Err(Insufficient { balance });
        }
        let mut left = points;
        for lot in trial.lots.values_mut() {
            let take = left.min(*lot);
            *lot -= take;
            left -= take;
            if left == 0 {
                break;
            }
        }
        trial.lots.retain(|_, v| *v > 0);
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
mod tests {
    use super::*;
    use crate::points::rules::{AccrualRequest, DailyCaps};
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        crate::time::parse(s).unwrap()
    }

    fn utc() -> TimeZone {
        TimeZone::UTC
    }

    fn bonus(id: &str, points: u64) -> AccrualRequest {
        AccrualRequest::from_json(
            json!({"event_id": id, "kind": "bonus", "points": points}),
            &Default::default(),
            ts("2030-01-01T00:00:00Z"),
        )
        .unwrap()
    }

    fn settings() -> PointsSettings {
        PointsSettings {
            validity_days: 60,
            ..Default::default()
        }
    }

    #[test]
    fn lots_expire_at_month_end_and_spending_takes_the_oldest_first() {
        let s = settings();
        let mut a = Account::default();
        a.accrue(&bonus("a", 100), &s, ts("2026-01-10T12:00:00Z"), &utc()); // expires end of 2026-03
        a.accrue(&bonus("b", 50), &s, ts("2026-02-10T12:00:00Z"), &utc()); // expires end of 2026-04
        assert_eq!(
            a.lots,
            BTreeMap::from([("2026-03".into(), 100), ("2026-04".into(), 50)])
        );
        a.redeem("r1", 120, &s, ts("2026-02-11T00:00:00Z"), &utc())
            .unwrap();
        assert_eq!(
            a.lots,
            BTreeMap::from([("2026-04".into(), 30)]),
            "the March lot is used up first"
        );

        let v = a.view(&s, ts("2026-04-30T23:59:59Z"), &utc());
        assert_eq!(v.balance, 30);
        assert_eq!(
            v.next_expiry,
            Some(ExpiringLot {
                points: 30,
                expires_at: ts("2026-05-01T00:00:00Z")
            })
        );
        let v = a.view(&s, ts("2026-05-01T00:00:00Z"), &utc());
        assert_eq!(v.balance, 0, "a read never counts expired points");
        assert_eq!(a.balance(), 30, "…and reading does not change the account");

        let out = a.accrue(&bonus("c", 10), &s, ts("2026-05-02T00:00:00Z"), &utc());
        assert_eq!(out.entries[0].kind, LedgerKind::Expiry);
        assert_eq!(
            (out.entries[0].points, out.entries[0].key.as_str()),
            (-30, "expiry:2026-04")
        );
        assert_eq!(out.entries[1].balance_after, 10);
        assert_eq!(a.seq, 5);
    }

    #[test]
    fn expiry_follows_the_tenant_time_zone() {
        let s = settings();
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let mut a = Account::default();
        // 2026-01-31T20:00Z is already 1 February in Shanghai: the lot expires end of April.
        a.accrue(&bonus("a", 10), &s, ts("2026-01-31T20:00:00Z"), &tz);
        assert_eq!(a.lots.keys().collect::<Vec<_>>(), ["2026-04"]);
        let v = a.view(&s, ts("2026-04-30T15:59:59Z"), &tz);
        assert_eq!(
            (v.balance, v.next_expiry.unwrap().expires_at),
            (10, ts("2026-04-30T16:00:00Z"))
        );
        assert_eq!(a.view(&s, ts("2026-04-30T16:00:00Z"), &tz).balance, 0);
    }

    #[test]
    fn redemption_never_overdraws_and_changes_nothing_when_refused() {
        let s = settings();
        let mut a = Account::default();
        a.accrue(&bonus("a", 100), &s, ts("2026-01-10T00:00:00Z"), &utc());
        let before = a.clone();
        assert_eq!(
            a.redeem("r", 101, &s, ts("2026-01-11T00:00:00Z"), &utc()),
            Err(Insufficient { balance: 100 })
        );
        assert_eq!(a, before);
        // Expired points cannot be spent.
        assert_eq!(
            a.redeem("r", 50, &s, ts("2026-04-01T00:00:00Z"), &utc()),
            Err(Insufficient { balance: 0 })
        );
    }

    #[test]
    fn daily_caps_cut_awards_per_kind_and_reset_each_day() {
        let mut s = settings();
        s.earning.daily_caps = DailyCaps {
            bonus: Some(150),
            ..Default::default()
        };
        let mut a = Account::default();
        let day1 = ts("2026-01-10T10:00:00Z");
        assert_eq!(
            a.accrue(&bonus("a", 100), &s, day1, &utc()).points_awarded,
            100
        );
        let o = a.accrue(&bonus("b", 100), &s, day1, &utc());
        assert_eq!((o.points_awarded, o.capped), (50, 50));
        assert_eq!(
            a.accrue(&bonus("c", 100), &s, day1, &utc()).points_awarded,
            0
        );
        assert_eq!(
            a.accrue(&bonus("d", 100), &s, ts("2026-01-11T00:00:00Z"), &utc())
                .points_awarded,
            100
        );
    }

    #[test]
    fn tiers_go_up_at_once_and_down_only_after_the_grace_period() {
        let s = PointsSettings {
            validity_days: 400,
            ..Default::default()
        }; // normal ≥ 1000 (×1.1), high-value ≥ 5000 (×1.25)
        let tz = utc();
        let mut a = Account::default();
        let out = a.accrue(&bonus("a", 1_000), &s, ts("2026-01-15T00:00:00Z"), &tz);
        assert!(out.events.contains(&DomainEvent::TierChanged {
            from: Some(TierName::parse("potential").unwrap()),
            to: TierName::parse("normal").unwrap()
        }));
        assert_eq!(a.tier.as_ref().unwrap().name.as_str(), "normal");
        // The multiplier of the tier held when points are earned applies.
        assert_eq!(
            a.accrue(&bonus("b", 100), &s, ts("2026-01-16T00:00:00Z"), &tz)
                .points_awarded,
            110
        );

        // 12-month window: January 2026's 1110 points leave the window on 2027-01-01.
        let v = a.view(&s, ts("2026-12-31T23:00:00Z"), &tz);
        assert_eq!((v.tier.as_str(), v.window_earned), ("normal", 1_110));
        let v = a.view(&s, ts("2027-01-20T00:00:00Z"), &tz);
        assert_eq!(
            v.tier.as_str(),
            "normal",
            "kept during the 30-day grace: {}",
            v.tier_why
        );
        assert!(
            v.tier_why.contains("kept until 2027-01-31"),
            "{}",
            v.tier_why
        );
        let v = a.view(&s, ts("2027-01-31T00:00:00Z"), &tz);
        assert_eq!(v.tier.as_str(), "potential", "{}", v.tier_why);

        // Earning back within the grace period keeps the tier.
        let mut b = Account::default();
        b.accrue(&bonus("a", 1_000), &s, ts("2026-01-15T00:00:00Z"), &tz);
        b.accrue(&bonus("b", 1_000), &s, ts("2027-01-10T00:00:00Z"), &tz);
        assert_eq!(
            b.view(&s, ts("2027-03-01T00:00:00Z"), &tz).tier.as_str(),
            "normal"
        );
    }

    #[test]
    fn the_ledger_sums_to_the_balance() {
        let s = settings();
        let mut a = Account::default();
        let mut ledger = Vec::new();
        let mut t = ts("2026-01-01T00:00:00Z");
        for i in 0..40u64 {
            ledger.extend(
                a.accrue(&bonus(&format!("e{i}"), 7 + i), &s, t, &utc())
                    .entries,
            );
            if i % 3 == 0
                && let Ok(r) = a.redeem(&format!("r{i}"), 20, &s, t, &utc())
            {
                ledger.extend(r.entries);
            }
            t = t
                .checked_add(jiff::SignedDuration::from_hours(100))
                .unwrap();
        }
        let sum: i64 = ledger.iter().map(|e| e.points).sum();
        assert_eq!(sum, a.balance() as i64);
        assert_eq!(ledger.last().unwrap().balance_after, a.balance());
        assert!(
            ledger.iter().any(|e| e.kind == LedgerKind::Expiry),
            "some lots expired on the way"
        );
        let seqs: Vec<u64> = ledger.iter().map(|e| e.seq).collect();
        assert_eq!(seqs, (1..=ledger.len() as u64).collect::<Vec<_>>());
    }
}
