//! The reports read from the counters: the tenant's days (`overview`), the top items and
//! streamers, and tier moves. Every day of the range is present, with zeros.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;
use utoipa::ToSchema;

use super::counter::CounterRow;
use crate::rfm::RfmSettings;

/// A map of counters `{prefix}{name}` by name (`revenue.EUR` → `EUR`).
fn prefixed(counts: &BTreeMap<String, i64>, prefix: &str) -> BTreeMap<String, i64> {
    counts
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(prefix)?.to_owned(), *v)))
        .filter(|(_, v)| *v != 0)
        .collect()
}

fn add_all(into: &mut BTreeMap<String, i64>, from: &BTreeMap<String, i64>) {
    for (k, v) in from {
        *into.entry(k.clone()).or_insert(0) += v;
    }
}

/// The figures of a day or a range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct Figures {
    /// Customers whose activity moved into the day (new + returning).
    pub active: i64,
    /// … whose first activity ever it was.
    pub new: i64,
    /// … who had been active on an earlier day.
    pub returning: i64,
    /// Purchases less reversed purchases.
    pub purchases: i64,
    /// Revenue per currency, minor units, less reversed purchases.
    pub revenue: BTreeMap<String, i64>,
    pub points_issued: i64,
    pub points_redeemed: i64,
    pub points_expired: i64,
    /// Points taken back by reversals.
    pub points_reversed: i64,
    /// Support adjustments, signed.
    pub points_adjusted: i64,
    pub reversals: i64,
    pub gifts: i64,
    /// Gift coins per coin code.
    pub gift_coins: BTreeMap<String, i64>,
    /// Customers whose first gift ever it was.
    pub new_gifters: i64,
    pub watch_minutes: i64,
    /// Behaviour events per kind.
    pub events: BTreeMap<String, i64>,
}

impl Figures {
    fn of(c: &BTreeMap<String, i64>) -> Self {
        let g = |k: &str| c.get(k).copied().unwrap_or(0);
        Self {
            active: g("active"),
            new: g("new"),
            returning: g("returning"),
            purchases: g("purchases"),
            revenue: prefixed(c, "revenue."),
            points_issued: g("points_issued"),
            points_redeemed: g("points_redeemed"),
            points_expired: g("points_expired"),
            points_reversed: g("points_reversed"),
            points_adjusted: g("points_adjusted"),
            reversals: g("reversals"),
            gifts: g("gifts"),
            gift_coins: prefixed(c, "gift_coins."),
            new_gifters: g("new_gifters"),
            watch_minutes: g("watch_minutes"),
            events: prefixed(c, "events."),
        }
    }

    /// What the day did to the points liability.
    pub fn net_points(&self) -> i64 {
        self.points_issued - self.points_redeemed - self.points_expired - self.points_reversed
            + self.points_adjusted
    }

    fn add(&mut self, o: &Figures) {
        self.active += o.active;
        self.new += o.new;
        self.returning += o.returning;
        self.purchases += o.purchases;
        add_all(&mut self.revenue, &o.revenue);
        self.points_issued += o.points_issued;
        self.points_redeemed += o.points_redeemed;
        self.points_expired += o.points_expired;
        self.points_reversed += o.points_reversed;
        self.points_adjusted += o.points_adjusted;
        self.reversals += o.reversals;
        self.gifts += o.gifts;
        add_all(&mut self.gift_coins, &o.gift_coins);
        self.new_gifters += o.new_gifters;
        self.watch_minutes += o.watch_minutes;
        add_all(&mut self.events, &o.events);
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct OverviewDay {
    #[schema(value_type = String, format = Date)]
    pub day: Date,
    #[serde(flatten)]
    pub figures: Figures,
    /// Outstanding points at the end of the day: all points issued to date less redeemed,
    /// expired and reversed, plus adjustments.
    pub liability: i64,
}

/// `GET /v1/analytics/overview`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Overview {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// The tenant's time zone, whose days these are.
    pub timezone: String,
    /// The range added up (`active` counts a customer once per day they were active).
    pub totals: Figures,
    /// Outstanding points at the end of `to`.
    pub liability: i64,
    pub days: Vec<OverviewDay>,
}

/// Sums rows of the same day (the shards of a store).
fn by_day(rows: &[CounterRow]) -> BTreeMap<Date, BTreeMap<String, i64>> {
    let mut out: BTreeMap<Date, BTreeMap<String, i64>> = BTreeMap::new();
    for r in rows {
        if let Some(d) = r.day {
            add_all(out.entry(d).or_default(), &r.counts);
        }
    }
    out
}

/// The overview of `from..=to` from the tenant's day rows from `from` up to today at least
/// (later days tell how the liability got to `liability_now`) and the all-time liability.
pub fn overview(
    from: Date,
    to: Date,
    timezone: &str,
    rows: &[CounterRow],
    liability_now: i64,
) -> Overview {
    let days = by_day(rows);
    let empty = BTreeMap::new();
    // Liability at the end of `to`: today's less what every later day did.
    let after_to: i64 = days
        .range(to.tomorrow().unwrap_or(to)..)
        .filter(|(d, _)| **d > to)
        .map(|(_, c)| Figures::of(c).net_points())
        .sum();
    let liability = liability_now - after_to;
    let mut out = Vec::new();
    let mut totals = Figures::default();
    let mut d = from;
    while d <= to {
        let figures = Figures::of(days.get(&d).unwrap_or(&empty));
        totals.add(&figures);
        out.push(OverviewDay {
            day: d,
            figures,
            liability: 0,
        });
        match d.tomorrow() {
            Ok(n) => d = n,
            Err(_) => break,
        }
    }
    let mut end = liability;
    for day in out.iter_mut().rev() {
        day.liability = end;
        end -= day.figures.net_points();
    }
    Overview {
        from,
        to,
        timezone: timezone.to_owned(),
        totals,
        liability,
        days: out,
    }
}

/// One item over the range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct ItemFigures {
    pub sku: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    pub purchases: i64,
    /// Distinct buyers per day, added up over the days.
    pub buyers: i64,
    pub revenue: BTreeMap<String, i64>,
    /// Revenue in the reporting currency (`rfm.currency`, other currencies at `rfm.rates`;
    /// currencies without a rate left out).
    pub revenue_reporting: i64,
}

/// `GET /v1/analytics/items`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ItemsReport {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    pub currency: String,
    pub by_revenue: Vec<ItemFigures>,
    pub by_buyers: Vec<ItemFigures>,
}

fn top<T: Clone>(all: &[T], limit: usize, key: impl Fn(&T) -> (i64, String)) -> Vec<T> {
    let mut v: Vec<&T> = all.iter().collect();
    v.sort_by(|a, b| {
        let (ka, ia) = key(a);
        let (kb, ib) = key(b);
        kb.cmp(&ka).then(ia.cmp(&ib))
    });
    v.into_iter().take(limit).cloned().collect()
}

pub fn items(
    from: Date,
    to: Date,
    rows: &[CounterRow],
    rfm: &RfmSettings,
    limit: usize,
) -> ItemsReport {
    let mut all: BTreeMap<&str, (ItemFigures, Option<Date>)> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.day.is_some_and(|d| d >= from && d <= to))
    {
        let (f, seen) = all.entry(&r.dim).or_insert_with(|| {
            (
                ItemFigures {
                    sku: r.dim.clone(),
                    ..ItemFigures::default()
                },
                None,
            )
        });
        f.purchases += r.get("purchases");
        f.buyers += r.get("buyers");
        add_all(&mut f.revenue, &prefixed(&r.counts, "revenue."));
        // The labels of the latest day the item sold on.
        if !r.labels.is_empty() && *seen <= r.day {
            *seen = r.day;
            f.name = r.labels.get("name").cloned().or(f.name.take());
            f.category = r.labels.get("category").cloned().or(f.category.take());
        }
    }
    let all: Vec<ItemFigures> = all
        .into_values()
        .map(|(mut f, _)| {
            f.revenue.retain(|_, v| *v != 0);
            f.revenue_reporting = f
                .revenue
                .iter()
                .filter_map(|(c, v)| rfm.convert(c, *v))
                .sum();
            f
        })
        .collect();
    ItemsReport {
        from,
        to,
        currency: rfm.currency.to_string(),
        by_revenue: top(&all, limit, |f| (f.revenue_reporting, f.sku.clone())),
        by_buyers: top(&all, limit, |f| (f.buyers, f.sku.clone())),
    }
}

/// One streamer over the range.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct StreamerFigures {
    pub streamer_id: String,
    pub gifts: i64,
    /// Gift coins per coin code.
    pub gift_coins: BTreeMap<String, i64>,
    /// Distinct gifters per day, added up over the days.
    pub gifters: i64,
    /// Customers whose first gift ever went to this streamer.
    pub new_gifters: i64,
    pub watch_minutes: i64,
    /// `gift_sent` events (gifts that earn no points).
    pub gift_events: i64,
}

impl StreamerFigures {
    fn coins(&self) -> i64 {
        self.gift_coins.values().sum()
    }
}

/// `GET /v1/analytics/streamers`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct StreamersReport {
    #[schema(value_type = String, format = Date)]
    pub from: Date,
    #[schema(value_type = String, format = Date)]
    pub to: Date,
    /// Ranked by coins of every coin code added up.
    pub by_gift_coins: Vec<StreamerFigures>,
    pub by_gifters: Vec<StreamerFigures>,
    pub by_watch_minutes: Vec<StreamerFigures>,
}

pub fn streamers(from: Date, to: Date, rows: &[CounterRow], limit: usize) -> StreamersReport {
    let mut all: BTreeMap<&str, StreamerFigures> = BTreeMap::new();
    for r in rows
        .iter()
        .filter(|r| r.day.is_some_and(|d| d >= from && d <= to))
    {
        let f = all.entry(&r.dim).or_insert_with(|| StreamerFigures {
            streamer_id: r.dim.clone(),
            ..StreamerFigures::default()
        });
        f.gifts += r.get("gifts");
        add_all(&mut f.gift_coins, &prefixed(&r.counts, "gift_coins."));
        f.gifters += r.get("gifters");
        f.new_gifters += r.get("new_gifters");
        f.watch_minutes += r.get("watch_minutes");
        f.gift_events += r.get("gift_events");
    }
    let all: Vec<StreamerFigures> = all
        .into_values()
        .map(|mut f| {
            f.gift_coins.retain(|_, v| *v != 0);
            f
        })
        .collect();
    StreamersReport {
        from,
        to,
        by_gift_coins: top(&all, limit, |f| (f.coins(), f.streamer_id.clone())),
        by_gifters: top(&all, limit, |f| (f.gifters, f.streamer_id.clone())),
        by_watch_minutes: top(&all, limit, |f| (f.watch_minutes, f.streamer_id.clone())),
    }
}

/// Customers who moved from one tier (or stage) to another in the range.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Move {
    pub from: String,
    pub to: String,
    pub customers: i64,
}

/// The moves counted under `{prefix}{from}>{to}` in the day rows of `from..=to`.
pub fn moves(from: Date, to: Date, rows: &[CounterRow], prefix: &str) -> Vec<Move> {
    let mut all: BTreeMap<(String, String), i64> = BTreeMap::new();
    for (d, counts) in by_day(rows) {
        if d < from || d > to {
            continue;
        }
        for (k, v) in prefixed(&counts, prefix) {
            if let Some((a, b)) = k.split_once('>') {
                *all.entry((a.to_owned(), b.to_owned())).or_insert(0) += v;
            }
        }
    }
    all.into_iter()
        .filter(|(_, n)| *n != 0)
        .map(|((from, to), customers)| Move {
            from,
            to,
            customers,
        })
        .collect()
}
