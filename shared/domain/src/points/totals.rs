//! What a customer's accruals add up to — purchases (count, first and last, spend per
//! currency), gift coins, watch minutes — kept on the account, so they change in the same
//! atomic step as the accrual or reversal that moves them, with monthly buckets for the rolling
//! windows of RFM. Amounts are exact integers (minor units, coins, minutes).

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};

use super::account::month_key;
use super::ledger::LedgerEntry;
use super::rules::{AccrualKind, UnitCode};
use crate::time::serde_ts;

/// One calendar month (tenant time zone) of purchases.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTotals {
    pub purchases: u64,
    /// Minor units per currency.
    pub spend: BTreeMap<UnitCode, u64>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub purchases: u64,
    #[serde(
        default,
        with = "serde_ts::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub first_purchase_at: Option<Timestamp>,
    #[serde(
        default,
        with = "serde_ts::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_purchase_at: Option<Timestamp>,
    /// Lifetime spend, minor units per currency.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub spend: BTreeMap<UnitCode, u64>,
    /// Lifetime gift coins per coin code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gift_coins: BTreeMap<UnitCode, u64>,
    #[serde(default)]
    pub watch_minutes: u64,
    /// Purchases by month (`YYYY-MM`), for rolling windows.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub months: BTreeMap<String, MonthTotals>,
    /// Purchases per item category (the favourite category of churn analytics).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub categories: BTreeMap<String, u64>,
    /// The SKUs bought (a refunded purchase taken out), most recent last, at most
    /// [`Totals::ITEMS_CAP`]: what recommendations leave out and co-purchases pair with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// What the customer bought and whom they gifted on their latest day, so analytics count
    /// each buyer of an item and each gifter of a streamer once per day.
    #[serde(default, skip_serializing_if = "DayMarks::is_empty")]
    pub today: DayMarks,
}

/// The items bought and streamers gifted on `day` (tenant-local), at most [`DayMarks::CAP`]
/// each.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayMarks {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<jiff::civil::Date>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub items: std::collections::BTreeSet<String>,
    #[serde(default, skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub streamers: std::collections::BTreeSet<String>,
}

impl DayMarks {
    /// Marks kept per kind and day; past it (a customer buying more distinct items in a day)
    /// each further purchase counts as a new buyer.
    pub const CAP: usize = 64;

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Marks `key` (of `items` or `streamers`) on `day`: `true` when it is the first time that
    /// day. A day before the marked one (a late event) always counts as first.
    pub fn first(&mut self, day: jiff::civil::Date, streamer: bool, key: &str) -> bool {
        match self.day {
            Some(d) if d > day => return true,
            Some(d) if d == day => {}
            _ => {
                *self = DayMarks {
                    day: Some(day),
                    ..DayMarks::default()
                }
            }
        }
        let set = if streamer {
            &mut self.streamers
        } else {
            &mut self.items
        };
        if set.contains(key) {
            return false;
        }
        if set.len() < Self::CAP {
            set.insert(key.to_owned());
        }
        true
    }
}

impl Totals {
    /// Distinct SKUs kept in [`Totals::items`].
    pub const ITEMS_CAP: usize = 50;

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Counts an accrual entry (its facts) of `kind` made at `entry.at`.
    pub fn add(&mut self, kind: AccrualKind, entry: &LedgerEntry, tz: &TimeZone) {
        self.apply(kind, entry, tz, true);
    }

    /// Takes back what [`Totals::add`] counted for `original` (a reversal). First and last
    /// purchase stay: they say when purchases happened.
    pub fn remove(&mut self, kind: AccrualKind, original: &LedgerEntry, tz: &TimeZone) {
        self.apply(kind, original, tz, false);
    }

    fn apply(&mut self, kind: AccrualKind, e: &LedgerEntry, tz: &TimeZone, add: bool) {
        let f = &e.facts;
        let amount = f.amount_minor.unwrap_or(0);
        let step = |v: &mut u64, by: u64| {
            *v = if add {
                v.saturating_add(by)
            } else {
                v.saturating_sub(by)
            }
        };
        match (kind, &f.currency) {
            (AccrualKind::Purchase, Some(currency)) => {
                let at = e.occurred_at.unwrap_or(e.at).min(e.at);
                step(&mut self.purchases, 1);
                step(self.spend.entry(currency.clone()).or_insert(0), amount);
                let month = self
                    .months
                    .entry(month_key(at.to_zoned(tz.clone()).date()))
                    .or_default();
                step(&mut month.purchases, 1);
                step(month.spend.entry(currency.clone()).or_insert(0), amount);
                if let Some(cat) = f.context.item.as_ref().and_then(|i| i.category.as_ref()) {
                    step(self.categories.entry(cat.to_string()).or_insert(0), 1);
                }
                if let Some(item) = &f.context.item {
                    let sku = item.sku.as_str();
                    self.items.retain(|s| s != sku);
                    if add {
                        self.items.push(sku.to_owned());
                        if self.items.len() > Self::ITEMS_CAP {
                            self.items.remove(0);
                        }
                    }
                }
                if add {
                    self.first_purchase_at = Some(self.first_purchase_at.map_or(at, |t| t.min(at)));
                    self.last_purchase_at = Some(self.last_purchase_at.map_or(at, |t| t.max(at)));
                }
            }
            (AccrualKind::Gift, Some(coin)) => {
                step(self.gift_coins.entry(coin.clone()).or_insert(0), amount);
            }
            (AccrualKind::Watch, _) => step(&mut self.watch_minutes, f.minutes.unwrap_or(0)),
            _ => {}
        }
        self.spend.retain(|_, v| *v > 0);
        self.categories.retain(|_, v| *v > 0);
        self.gift_coins.retain(|_, v| *v > 0);
        self.months
            .retain(|_, m| m.purchases > 0 || m.spend.values().any(|v| *v > 0));
    }

    /// Purchases and spend per currency in the `months` calendar months ending with `now`'s.
    pub fn window(&self, months: u32, now: Timestamp, tz: &TimeZone) -> MonthTotals {
        let end = now.to_zoned(tz.clone()).date().first_of_month();
        let start = end
            .checked_sub(jiff::Span::new().months(i64::from(months.max(1)) - 1))
            .unwrap_or(end);
        let mut out = MonthTotals::default();
        for m in self
            .months
            .range(month_key(start)..=month_key(end))
            .map(|(_, m)| m)
        {
            out.purchases += m.purchases;
            for (c, v) in &m.spend {
                *out.spend.entry(c.clone()).or_insert(0) += v;
            }
        }
        out
    }

    /// Drops months older than `keep` months before `now`'s (bounded size).
    pub fn prune(&mut self, keep: u32, now: Timestamp, tz: &TimeZone) {
        let end = now.to_zoned(tz.clone()).date().first_of_month();
        if let Ok(from) = end.checked_sub(jiff::Span::new().months(i64::from(keep))) {
            let from = month_key(from);
            self.months.retain(|k, _| *k >= from);
        }
    }
}

/// What `GET /v1/customers/{id}` shows as `totals`: lifetime figures from the accruals (less
/// reversals).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TotalsView {
    pub purchases: u64,
    #[serde(with = "serde_ts::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_purchase_at: Option<Timestamp>,
    #[serde(with = "serde_ts::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_purchase_at: Option<Timestamp>,
    /// Minor units per currency.
    #[schema(value_type = Object)]
    pub spend: BTreeMap<UnitCode, u64>,
    /// Coins per coin code.
    #[schema(value_type = Object)]
    pub gift_coins: BTreeMap<UnitCode, u64>,
    pub watch_minutes: u64,
}

impl From<&Totals> for TotalsView {
    fn from(t: &Totals) -> Self {
        Self {
            purchases: t.purchases,
            first_purchase_at: t.first_purchase_at,
            last_purchase_at: t.last_purchase_at,
            spend: t.spend.clone(),
            gift_coins: t.gift_coins.clone(),
            watch_minutes: t.watch_minutes,
        }
    }
}
