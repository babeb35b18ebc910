//! RFM: how recently, how often and for how much a customer buys, scored 1–5 each against the
//! tenant's thresholds (settings `rfm`), and the classic segment of the recency × frequency
//! grid. Computed from the account's purchase totals when read, so it is always current.
//!
//! - **R**: days since the last purchase; 5 when within `recency_days[0]`, 4 within `[1]`, 3
//!   within `[2]`, 2 within `[3]`, else 1 (also with no purchase).
//! - **F**: purchases in the last `window_months` calendar months; 1 plus the number of
//!   `frequency` thresholds reached.
//! - **M**: spend in the window in minor units of the reporting `currency`; other currencies
//!   count at the tenant's integer rate (`rates.{CUR} = {per, minor}`: `per` minor units are
//!   worth `minor` of the reporting currency, rounded down) or are left out, which `why` says.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationErrors;
use crate::points::rules::UnitCode;
use crate::points::totals::Totals;

/// `per` minor units of a currency are worth `minor` minor units of the reporting currency.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversionRate {
    pub per: u64,
    pub minor: u64,
}

/// Settings section `rfm`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct RfmSettings {
    /// F and M count the purchases of this many calendar months (the current one included).
    pub window_months: u32,
    /// The reporting currency of M.
    #[schema(value_type = String)]
    pub currency: UnitCode,
    /// Integer rates of other currencies into `currency`.
    #[schema(value_type = Object)]
    pub rates: BTreeMap<UnitCode, ConversionRate>,
    /// Four ascending day counts: R is 5 within the first, … 2 within the fourth, else 1.
    pub recency_days: Vec<u64>,
    /// Four ascending purchase counts: F is 1 plus the number reached.
    pub frequency: Vec<u64>,
    /// Four ascending amounts in minor units of `currency`: M is 1 plus the number reached.
    pub monetary_minor: Vec<u64>,
}

impl RfmSettings {
    /// `amount` minor units of `currency` in the reporting currency (rounded toward zero);
    /// `None` without a rate.
    pub fn convert(&self, currency: &str, amount: i64) -> Option<i64> {
        if self.currency.as_str() == currency {
            return Some(amount);
        }
        let rate = self.rates.iter().find(|(c, _)| c.as_str() == currency)?.1;
        let v = i128::from(amount) * i128::from(rate.minor) / i128::from(rate.per.max(1));
        i64::try_from(v).ok()
    }
}

impl Default for RfmSettings {
    fn default() -> Self {
        Self {
            window_months: 12,
            currency: UnitCode::parse("USD").unwrap_or_else(|_| unreachable!("USD is valid")),
            rates: BTreeMap::new(),
            recency_days: vec![14, 30, 90, 180],
            frequency: vec![2, 4, 8, 16],
            monetary_minor: vec![1_000, 5_000, 20_000, 100_000],
        }
    }
}

fn four_ascending(v: &[u64]) -> bool {
    v.len() == 4 && v.windows(2).all(|w| w[0] < w[1])
}

impl RfmSettings {
    pub fn validate(&self, errs: &mut ValidationErrors) {
        if !(1..=36).contains(&self.window_months) {
            errs.push("rfm.window_months", "must be 1 to 36");
        }
        for (name, v) in [
            ("recency_days", &self.recency_days),
            ("frequency", &self.frequency),
            ("monetary_minor", &self.monetary_minor),
        ] {
            if !four_ascending(v) {
                errs.push(
                    format!("rfm.{name}"),
                    "must be four numbers in strictly ascending order",
                );
            }
        }
        for (c, r) in &self.rates {
            if r.per == 0 || r.per > 1_000_000_000 || r.minor > 1_000_000_000 {
                errs.push(
                    format!("rfm.rates.{c}"),
                    "needs per 1 to 1000000000 and minor at most 1000000000",
                );
            }
        }
    }
}

/// The classic RFM segments of the recency × frequency grid.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RfmSegment {
    Champions,
    Loyal,
    PotentialLoyalist,
    New,
    Promising,
    NeedAttention,
    AboutToSleep,
    AtRisk,
    CannotLoseThem,
    Hibernating,
    Lost,
}

impl RfmSegment {
    pub const ALL: [Self; 11] = [
        Self::Champions,
        Self::Loyal,
        Self::PotentialLoyalist,
        Self::New,
        Self::Promising,
        Self::NeedAttention,
        Self::AboutToSleep,
        Self::AtRisk,
        Self::CannotLoseThem,
        Self::Hibernating,
        Self::Lost,
    ];
    pub const NAMES: &'static [&'static str] = &[
        "champions",
        "loyal",
        "potential_loyalist",
        "new",
        "promising",
        "need_attention",
        "about_to_sleep",
        "at_risk",
        "cannot_lose_them",
        "hibernating",
        "lost",
    ];

    /// Its name as the API writes it (`at_risk`).
    pub fn as_str(self) -> &'static str {
        let i = Self::ALL.iter().position(|s| *s == self).unwrap_or(0);
        Self::NAMES[i]
    }

    /// The segment of an R and an F score (1–5 each).
    pub fn of(r: u8, f: u8) -> Self {
        match (r, f) {
            (4..=5, 4..=5) => Self::Champions,
            (3, 4..=5) => Self::Loyal,
            (4..=5, 2..=3) => Self::PotentialLoyalist,
            (5, _) => Self::New,
            (4, _) => Self::Promising,
            (3, 3) => Self::NeedAttention,
            (3, _) => Self::AboutToSleep,
            (1..=2, 5) => Self::CannotLoseThem,
            (1..=2, 3..=4) => Self::AtRisk,
            (2, _) => Self::Hibernating,
            _ => Self::Lost,
        }
    }
}

/// What `GET /v1/customers/{id}` shows as `rfm`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct RfmView {
    /// Days since the last purchase; absent when there was none.
    pub recency_days: Option<u64>,
    /// Purchases in the window.
    pub frequency: u64,
    /// Spend in the window, minor units of `currency`.
    pub monetary_minor: u64,
    #[schema(value_type = String)]
    pub currency: UnitCode,
    pub r: u8,
    pub f: u8,
    pub m: u8,
    pub segment: RfmSegment,
    /// How each score came about, and what was left out.
    pub why: String,
}

/// 1 plus the number of `thresholds` that `v` reaches.
fn score_up(v: u64, thresholds: &[u64]) -> u8 {
    1 + thresholds.iter().filter(|t| v >= **t).count().min(4) as u8
}

/// The RFM of `totals` at `now`.
pub fn rfm(totals: &Totals, s: &RfmSettings, now: Timestamp, tz: &TimeZone) -> RfmView {
    let recency_days = totals.last_purchase_at.map(|t| {
        let secs = now.as_second().saturating_sub(t.as_second()).max(0);
        (secs / 86_400).unsigned_abs()
    });
    let r = match recency_days {
        None => 1,
        Some(d) => 5 - s.recency_days.iter().filter(|t| d > **t).count().min(4) as u8,
    };
    let window = totals.window(s.window_months, now, tz);
    let mut monetary: u128 = 0;
    let mut left_out = Vec::new();
    for (currency, amount) in &window.spend {
        if *currency == s.currency {
            monetary += u128::from(*amount);
        } else if let Some(rate) = s.rates.get(currency) {
            monetary += u128::from(*amount) * u128::from(rate.minor) / u128::from(rate.per.max(1));
        } else {
            left_out.push(currency.as_str().to_owned());
        }
    }
    let monetary_minor = u64::try_from(monetary).unwrap_or(u64::MAX);
    let f = score_up(window.purchases, &s.frequency);
    let m = score_up(monetary_minor, &s.monetary_minor);
    let months = s.window_months;
    let mut why = match recency_days {
        None => "r=1: no purchase".to_owned(),
        Some(d) => format!("r={r}: last purchase {d} days ago"),
    };
    why.push_str(&format!(
        "; f={f}: {} purchases in {months} months; m={m}: {monetary_minor} {} minor units in {months} months",
        window.purchases, s.currency
    ));
    if !left_out.is_empty() {
        why.push_str(&format!(
            "; spend in {} left out of m (no rate in rfm.rates)",
            left_out.join(", ")
        ));
    }
    RfmView {
        recency_days,
        frequency: window.purchases,
        monetary_minor,
        currency: s.currency.clone(),
        r,
        f,
        m,
        segment: RfmSegment::of(r, f),
        why,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn segment_names_are_the_wire_names() {
        for s in super::RfmSegment::ALL {
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    use super::*;
    use crate::points::rules::AccrualRequest;
    use crate::points::{Account, PointsSettings};
    use serde_json::json;

    fn ts(s: &str) -> Timestamp {
        crate::time::parse(s).unwrap()
    }

    /// An account with purchases of `amount` USD minor units at each instant.
    fn buyer(purchases: &[(&str, u64, &str)]) -> Account {
        let mut a = Account::default();
        for (i, (at, amount, currency)) in purchases.iter().enumerate() {
            let mut earning = PointsSettings::default().earning;
            earning.purchase.insert(
                UnitCode::parse(*currency).unwrap(),
                crate::points::rules::Rate::new(1, 100),
            );
            let req = AccrualRequest::from_json(
                json!({"event_id": format!("o{i}"), "kind": "purchase", "amount_minor": amount, "currency": currency}),
                &earning,
                ts(at),
            )
            .unwrap();
            a.accrue(&req, &PointsSettings::default(), ts(at), &TimeZone::UTC);
        }
        a
    }

    #[test]
    fn recency_scores_change_exactly_at_each_threshold() {
        let s = RfmSettings::default(); // 14, 30, 90, 180 days
        let a = buyer(&[("2026-01-01T00:00:00Z", 500, "USD")]);
        for (now, days, r) in [
            ("2026-01-15T00:00:00Z", 14, 5),
            ("2026-01-16T00:00:00Z", 15, 4),
            ("2026-01-31T00:00:00Z", 30, 4),
            ("2026-02-01T00:00:00Z", 31, 3),
            ("2026-04-01T00:00:00Z", 90, 3),
            ("2026-04-02T00:00:00Z", 91, 2),
            ("2026-06-30T00:00:00Z", 180, 2),
            ("2026-07-01T00:00:00Z", 181, 1),
        ] {
            let v = rfm(&a.totals, &s, ts(now), &TimeZone::UTC);
            assert_eq!((v.recency_days, v.r), (Some(days), r), "{now}: {}", v.why);
        }
        let none = rfm(
            &Account::default().totals,
            &s,
            ts("2026-01-01T00:00:00Z"),
            &TimeZone::UTC,
        );
        assert_eq!((none.recency_days, none.r, none.f, none.m), (None, 1, 1, 1));
        assert_eq!(none.segment, RfmSegment::Lost);
    }

    #[test]
    fn frequency_and_monetary_count_the_window_at_each_threshold() {
        let s = RfmSettings::default(); // f: 2, 4, 8, 16; m: 1000, 5000, 20000, 100000
        let now = ts("2026-12-20T00:00:00Z");
        let at =
            |n: usize| -> Vec<(&str, u64, &str)> { vec![("2026-12-01T00:00:00Z", 100, "USD"); n] };
        for (n, f) in [
            (1, 1),
            (2, 2),
            (3, 2),
            (4, 3),
            (7, 3),
            (8, 4),
            (15, 4),
            (16, 5),
        ] {
            let v = rfm(&buyer(&at(n)).totals, &s, now, &TimeZone::UTC);
            assert_eq!((v.frequency, v.f), (n as u64, f), "{n} purchases");
        }
        for (amount, m) in [
            (999, 1),
            (1_000, 2),
            (4_999, 2),
            (5_000, 3),
            (20_000, 4),
            (99_999, 4),
            (100_000, 5),
        ] {
            let v = rfm(
                &buyer(&[("2026-12-01T00:00:00Z", amount, "USD")]).totals,
                &s,
                now,
                &TimeZone::UTC,
            );
            assert_eq!((v.monetary_minor, v.m), (amount, m), "{amount}");
        }
        // A purchase 12 calendar months back is in the window; 13 is not.
        let a = buyer(&[
            ("2026-01-31T00:00:00Z", 5_000, "USD"),
            ("2025-12-31T00:00:00Z", 5_000, "USD"),
        ]);
        let v = rfm(&a.totals, &s, now, &TimeZone::UTC);
        assert_eq!((v.frequency, v.monetary_minor), (1, 5_000));
    }

    #[test]
    fn other_currencies_convert_at_the_tenants_rate_or_are_left_out() {
        let mut s = RfmSettings::default();
        let now = ts("2026-12-20T00:00:00Z");
        let a = buyer(&[
            ("2026-12-01T00:00:00Z", 10_000, "USD"),
            ("2026-12-02T00:00:00Z", 10_000, "CNY"),
            ("2026-12-03T00:00:00Z", 1_000, "JPY"),
        ]);
        let v = rfm(&a.totals, &s, now, &TimeZone::UTC);
        assert_eq!(v.monetary_minor, 10_000);
        assert!(v.why.contains("CNY, JPY left out"), "{}", v.why);
        s.rates.insert(
            UnitCode::parse("CNY").unwrap(),
            ConversionRate {
                per: 100,
                minor: 14,
            },
        );
        let v = rfm(&a.totals, &s, now, &TimeZone::UTC);
        assert_eq!(v.monetary_minor, 10_000 + 1_400);
        assert!(
            v.why.contains("JPY left out") && !v.why.contains("CNY"),
            "{}",
            v.why
        );
    }

    #[test]
    fn the_grid_names_every_cell() {
        use RfmSegment::*;
        let grid = [
            // f = 1 .. 5, for r = 5 down to 1
            [
                New,
                PotentialLoyalist,
                PotentialLoyalist,
                Champions,
                Champions,
            ],
            [
                Promising,
                PotentialLoyalist,
                PotentialLoyalist,
                Champions,
                Champions,
            ],
            [AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal],
            [Hibernating, Hibernating, AtRisk, AtRisk, CannotLoseThem],
            [Lost, Lost, AtRisk, AtRisk, CannotLoseThem],
        ];
        for (i, row) in grid.iter().enumerate() {
            for (j, seg) in row.iter().enumerate() {
                let (r, f) = (5 - i as u8, j as u8 + 1);
                assert_eq!(RfmSegment::of(r, f), *seg, "r={r} f={f}");
            }
        }
    }

    #[test]
    fn a_refund_takes_the_purchase_out_of_f_and_m() {
        let s = RfmSettings::default();
        let p = PointsSettings::default();
        let mut a = buyer(&[("2026-12-01T00:00:00Z", 6_000, "USD")]);
        let at = ts("2026-12-02T00:00:00Z");
        let req = AccrualRequest::from_json(
            json!({"event_id": "o-refunded", "kind": "purchase", "amount_minor": 6_000, "currency": "USD"}),
            &p.earning,
            at,
        )
        .unwrap();
        let out = a.accrue(&req, &p, at, &TimeZone::UTC);
        let now = ts("2026-12-20T00:00:00Z");
        assert_eq!(rfm(&a.totals, &s, now, &TimeZone::UTC).frequency, 2);
        let input = crate::points::ReversalInput::parse(
            json!({"reversal_id": "r", "event_id": "o-refunded", "reason": "refund"}),
        )
        .unwrap();
        a.reverse(out.entries.last().unwrap(), &input, &p, now, &TimeZone::UTC)
            .unwrap();
        let v = rfm(&a.totals, &s, now, &TimeZone::UTC);
        assert_eq!((v.frequency, v.monetary_minor), (1, 6_000));
        assert_eq!(a.totals.spend.values().sum::<u64>(), 6_000);
    }
}
