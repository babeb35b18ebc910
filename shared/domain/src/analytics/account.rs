//! What a change of a points account adds to the tenant's counters: the points each ledger
//! entry moves (on the day of the entry), what its accrual reported — purchases, revenue,
//! items, gifts, streamers, watch time (on the day it happened) — and tier moves.
//!
//! A reversal takes back, on its own day, what its accrual counted (net revenue); buyers and
//! gifters stay counted (they did buy). Adjustments are counted apart from issued points, so
//! the liability at a day's end is issued − redeemed − expired − reversed + adjusted.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::counter::{Counters, Scope};
use crate::points::account::{Account, LedgerEntry, LedgerKind};
use crate::points::rules::AccrualKind;

fn local_day(at: Timestamp, tz: &TimeZone) -> Date {
    at.to_zoned(tz.clone()).date()
}

/// The counters of `entries` written by changing `before` into `after`; marks the day's buyers
/// and gifters on `after` (so a retry of the same change counts the same).
pub fn account_counters(
    before: &Account,
    after: &mut Account,
    entries: &[LedgerEntry],
    now: Timestamp,
    tz: &TimeZone,
) -> Counters {
    let mut c = Counters::default();
    let mut first_gift = before.totals.gift_coins.is_empty();
    for e in entries {
        let day = local_day(e.at, tz);
        let points = e.points;
        c.add(Scope::Overview, None, "", "liability", points);
        match &e.kind {
            LedgerKind::Accrual { kind } => {
                c.day(day, "points_issued", points);
                let at = e.occurred_at.unwrap_or(e.at).min(e.at);
                let facts_day = local_day(at, tz);
                commerce(&mut c, *kind, e, facts_day, 1);
                co_purchases(&mut c, before, *kind, e, facts_day);
                marks(&mut c, after, *kind, e, facts_day, &mut first_gift);
            }
            LedgerKind::Redemption => c.day(day, "points_redeemed", -points),
            LedgerKind::Expiry => c.day(day, "points_expired", -points),
            LedgerKind::Reversal { kind, .. } => {
                c.day(day, "points_reversed", -points);
                c.day(day, "reversals", 1);
                commerce(&mut c, *kind, e, day, -1);
            }
            LedgerKind::Adjustment => c.day(day, "points_adjusted", points),
        }
    }
    let from = before.tier.as_ref().map(|t| t.name.to_string());
    let to = after.tier.as_ref().map(|t| t.name.to_string());
    if from != to {
        c.day(
            local_day(now, tz),
            format!(
                "tier_move.{}>{}",
                from.as_deref().unwrap_or("none"),
                to.as_deref().unwrap_or("none")
            ),
            1,
        );
    }
    c
}

/// Items bought together: a purchase of X by a customer whose last purchases were Y… adds
/// `co.Y` to X's row and `co.X` to each Y's (the last 5 distinct, so a purchase writes at most 6
/// item rows). A refund leaves them: they say what was chosen together.
fn co_purchases(c: &mut Counters, before: &Account, kind: AccrualKind, e: &LedgerEntry, day: Date) {
    const PAIRED: usize = 5;
    let (AccrualKind::Purchase, Some(item)) = (kind, e.facts.context.item.as_ref()) else {
        return;
    };
    let sku = item.sku.as_str();
    let co = crate::campaigns::recommend::CO_PREFIX;
    for other in before
        .totals
        .items
        .iter()
        .rev()
        .filter(|o| o.as_str() != sku)
        .take(PAIRED)
    {
        c.add(Scope::Item, Some(day), sku, format!("{co}{other}"), 1);
        c.add(Scope::Item, Some(day), other, format!("{co}{sku}"), 1);
    }
}

/// Purchases, revenue, gifts and watch time of an accrual (`sign` 1) or its reversal (−1).
fn commerce(c: &mut Counters, kind: AccrualKind, e: &LedgerEntry, day: Date, sign: i64) {
    let f = &e.facts;
    let amount = i64::try_from(f.amount_minor.unwrap_or(0)).unwrap_or(i64::MAX);
    match (kind, &f.currency) {
        (AccrualKind::Purchase, Some(cur)) => {
            c.day(day, "purchases", sign);
            c.day(day, format!("revenue.{cur}"), sign * amount);
            if let Some(item) = &f.context.item {
                let sku = item.sku.as_str();
                c.add(Scope::Item, Some(day), sku, "purchases", sign);
                c.add(
                    Scope::Item,
                    Some(day),
                    sku,
                    format!("revenue.{cur}"),
                    sign * amount,
                );
                if let Some(n) = &item.name {
                    c.label(Scope::Item, day, sku, "name", n.as_str());
                }
                if let Some(cat) = &item.category {
                    c.label(Scope::Item, day, sku, "category", cat.as_str());
                }
            }
        }
        (AccrualKind::Gift, Some(coin)) => {
            c.day(day, "gifts", sign);
            c.day(day, format!("gift_coins.{coin}"), sign * amount);
            if let Some(s) = &f.context.streamer_id {
                c.add(Scope::Streamer, Some(day), s.as_str(), "gifts", sign);
                let key = format!("gift_coins.{coin}");
                c.add(Scope::Streamer, Some(day), s.as_str(), key, sign * amount);
            }
        }
        (AccrualKind::Watch, _) => {
            let minutes = i64::try_from(f.minutes.unwrap_or(0)).unwrap_or(i64::MAX);
            c.day(day, "watch_minutes", sign * minutes);
            if let Some(s) = &f.context.streamer_id {
                let dim = s.as_str();
                c.add(
                    Scope::Streamer,
                    Some(day),
                    dim,
                    "watch_minutes",
                    sign * minutes,
                );
            }
        }
        _ => {}
    }
}

/// Distinct buyers of an item and gifters of a streamer per day; a customer's first gift ever
/// counts for the streamer it went to (`new_gifters`).
fn marks(
    c: &mut Counters,
    after: &mut Account,
    kind: AccrualKind,
    e: &LedgerEntry,
    day: Date,
    first_gift: &mut bool,
) {
    let f = &e.facts;
    match (kind, &f.currency) {
        (AccrualKind::Purchase, Some(_)) => {
            if let Some(item) = &f.context.item {
                let sku = item.sku.as_str();
                if after.totals.today.first(day, false, sku) {
                    c.add(Scope::Item, Some(day), sku, "buyers", 1);
                }
            }
        }
        (AccrualKind::Gift, Some(_)) => {
            if *first_gift {
                *first_gift = false;
                c.day(day, "new_gifters", 1);
                if let Some(s) = &f.context.streamer_id {
                    c.add(Scope::Streamer, Some(day), s.as_str(), "new_gifters", 1);
                }
            }
            if let Some(s) = &f.context.streamer_id
                && after.totals.today.first(day, true, s.as_str())
            {
                c.add(Scope::Streamer, Some(day), s.as_str(), "gifters", 1);
            }
        }
        _ => {}
    }
}
