//! Earning rules and tiers (tenant settings, section `points`), and parsing an accrual request.
//!
//! Arithmetic is integer only. A rate awards `points` for every whole `per` units (minor
//! currency units, platform coins or watch minutes): `floor(amount / per) * points` — a partial
//! block earns nothing. The tier multiplier is a percentage applied after that:
//! `floor(base * multiplier_pct / 100)`. Caps then cut the award down to what is left today.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::facts::{Context, Facts};
use crate::error::{ParseError, ValidationErrors};
use crate::ids::{CustomerId, check_id};
use crate::string_newtype;

/// The largest number of points one request may move (keeps every sum far from overflow).
pub const MAX_POINTS: u64 = 1_000_000_000;
/// The largest amount (minor units or coins) one accrual may report.
pub const MAX_AMOUNT: u64 = 1_000_000_000_000;
pub const MAX_MINUTES: u64 = 100_000;

string_newtype!(
    /// A currency or platform-coin code: ISO 4217 (`USD`, `CNY`) or a platform's own (`BEAN`),
    /// 3–16 of `A-Z 0-9 _`.
    UnitCode,
    schema: { pattern: "^[A-Z0-9_]{3,16}$" },
    |s| {
        let ok = (3..=16).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
        if ok { Ok(s) } else { Err(ParseError::new("must be 3 to 16 of A-Z 0-9 _ (e.g. USD, BEAN)")) }
    }
);

string_newtype!(
    /// A tier name, 1–32 of the id alphabet (`high-value`).
    TierName,
    schema: { pattern: crate::ids::id_pattern(32) },
    |s| check_id(&s, 32).map(|_| s)
);

/// `points` for every whole `per` units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub points: u64,
    pub per: u64,
}

impl Rate {
    pub fn new(points: u64, per: u64) -> Self {
        Self { points, per }
    }

    /// Integer only: `floor(amount / per) * points`.
    pub fn apply(&self, amount: u64) -> u64 {
        (amount / self.per.max(1)).saturating_mul(self.points)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DailyCaps {
    pub purchase: Option<u64>,
    pub gift: Option<u64>,
    pub watch: Option<u64>,
    pub bonus: Option<u64>,
}

impl DailyCaps {
    pub fn for_kind(&self, kind: AccrualKind) -> Option<u64> {
        match kind {
            AccrualKind::Purchase => self.purchase,
            AccrualKind::Gift => self.gift,
            AccrualKind::Watch => self.watch,
            AccrualKind::Bonus => self.bonus,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EarningRules {
    /// In-app purchases, by ISO currency: points per `per` minor units.
    #[schema(value_type = Object)]
    pub purchase: BTreeMap<UnitCode, Rate>,
    /// Stream gifts and tips, by the platform's coin code: points per `per` coins.
    #[schema(value_type = Object)]
    pub gift: BTreeMap<UnitCode, Rate>,
    /// Watch time: points per `per` minutes.
    pub watch: Rate,
    /// Points of a `bonus` accrual that names no `points` of its own.
    pub bonus: u64,
    /// At most this many points per kind, per customer, per day (tenant time zone).
    pub daily_caps: DailyCaps,
}

fn code(s: &str) -> UnitCode {
    UnitCode::parse(s).unwrap_or_else(|_| unreachable!("built-in unit codes are valid"))
}

impl Default for EarningRules {
    fn default() -> Self {
        Self {
            // 10 points per dollar/euro/pound, 1 per yuan, 1 per 10 yen (per = minor units).
            purchase: BTreeMap::from([
                (code("USD"), Rate::new(10, 100)),
                (code("EUR"), Rate::new(10, 100)),
                (code("GBP"), Rate::new(10, 100)),
                (code("CNY"), Rate::new(1, 100)),
                (code("JPY"), Rate::new(1, 10)),
            ]),
            gift: BTreeMap::from([(code("COIN"), Rate::new(1, 10))]),
            watch: Rate::new(1, 10),
            bonus: 100,
            daily_caps: DailyCaps {
                purchase: None,
                gift: Some(5_000),
                watch: Some(144),
                bonus: Some(10_000),
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TierRule {
    pub name: TierName,
    /// Points earned in the tier window that qualify for this tier.
    pub min_points: u64,
    /// Earning multiplier in percent (100 = ×1, 125 = ×1.25).
    pub multiplier_pct: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct PointsSettings {
    pub earning: EarningRules,
    /// Ascending by `min_points`, the first at 0.
    pub tiers: Vec<TierRule>,
    /// Tiers count points earned in this many calendar months (the current one included).
    pub tier_window_months: u32,
    /// A customer below their tier keeps it this many days before moving down.
    pub downgrade_grace_days: u32,
    /// Points expire at the end of the month in which they become this many days old.
    pub validity_days: u32,
    /// `GET …/points` lists lots expiring within this many days.
    pub expiring_soon_days: u32,
    /// What a reversal or a negative adjustment does when the points were already spent.
    pub reversal: ReversalMode,
}

/// `debt`: the balance goes below zero and later credits pay the debt first (redemptions are
/// refused meanwhile); `clamp`: the balance stops at zero and the shortfall is recorded on the
/// ledger entry.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReversalMode {
    #[default]
    Debt,
    Clamp,
}

impl Default for PointsSettings {
    fn default() -> Self {
        let tier = |name: &str, min_points, multiplier_pct| TierRule {
            name: TierName::parse(name)
                .unwrap_or_else(|_| unreachable!("built-in tier names are valid")),
            min_points,
            multiplier_pct,
        };
        Self {
            earning: EarningRules::default(),
            tiers: vec![
                tier("potential", 0, 100),
                tier("normal", 1_000, 110),
                tier("high-value", 5_000, 125),
            ],
            tier_window_months: 12,
            downgrade_grace_days: 30,
            validity_days: 365,
            expiring_soon_days: 30,
            reversal: ReversalMode::Debt,
        }
    }
}

impl PointsSettings {
    pub fn validate(&self, errs: &mut ValidationErrors) {
        let e = &self.earning;
        for (section, rates) in [("purchase", &e.purchase), ("gift", &e.gift)] {
            for (unit, rate) in rates {
                if rate.per == 0 || rate.points > MAX_POINTS {
                    errs.push(
                        format!("points.earning.{section}.{unit}"),
                        "needs per ≥ 1 and points ≤ 1000000000",
                    );
                }
            }
        }
        if e.watch.per == 0 {
            errs.push("points.earning.watch.per", "must be at least 1");
        }
        if e.bonus > MAX_POINTS {
            errs.push("points.earning.bonus", "must be at most 1000000000");
        }
        if self.tiers.is_empty() || self.tiers[0].min_points != 0 {
            errs.push("points.tiers", "must start with a tier at min_points 0");
        }
        if self
            .tiers
            .windows(2)
            .any(|w| w[0].min_points >= w[1].min_points)
        {
            errs.push(
                "points.tiers",
                "must be in strictly ascending min_points order",
            );
        }
        let mut names: Vec<_> = self.tiers.iter().map(|t| &t.name).collect();
        names.sort();
        names.dedup();
        if names.len() != self.tiers.len() {
            errs.push("points.tiers", "names must be unique");
        }
        if self
            .tiers
            .iter()
            .any(|t| !(1..=1_000).contains(&t.multiplier_pct))
        {
            errs.push("points.tiers", "multiplier_pct must be 1 to 1000");
        }
        if !(1..=120).contains(&self.tier_window_months) {
            errs.push("points.tier_window_months", "must be 1 to 120");
        }
        if self.downgrade_grace_days > 3650 {
            errs.push("points.downgrade_grace_days", "must be at most 3650");
        }
        if !(1..=3650).contains(&self.validity_days) {
            errs.push("points.validity_days", "must be 1 to 3650");
        }
        if self.expiring_soon_days > 3650 {
            errs.push("points.expiring_soon_days", "must be at most 3650");
        }
    }

    /// The highest tier `earned` qualifies for.
    pub fn qualifying_tier(&self, earned: u64) -> Option<&TierRule> {
        self.tiers.iter().rev().find(|t| earned >= t.min_points)
    }

    pub fn tier(&self, name: &TierName) -> Option<&TierRule> {
        self.tiers.iter().find(|t| &t.name == name)
    }

    /// The rank of a tier (index), for comparing up and down.
    pub fn rank(&self, name: &TierName) -> Option<usize> {
        self.tiers.iter().position(|t| &t.name == name)
    }
}

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum AccrualKind {
    Purchase,
    Gift,
    Watch,
    Bonus,
}

impl AccrualKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            AccrualKind::Purchase => "purchase",
            AccrualKind::Gift => "gift",
            AccrualKind::Watch => "watch",
            AccrualKind::Bonus => "bonus",
        }
    }
}

/// What an accrual reports, validated. `amount`: minor units (purchase) or coins (gift).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccrualRequest {
    pub event_id: crate::ids::ExternalId,
    pub kind: AccrualKind,
    pub amount_minor: Option<u64>,
    pub currency: Option<UnitCode>,
    pub minutes: Option<u64>,
    pub points: Option<u64>,
    #[serde(with = "crate::time::serde_ts::option")]
    pub occurred_at: Option<jiff::Timestamp>,
    /// Absent from the fingerprint when empty, so digests of requests without context stay
    /// as they were.
    #[serde(skip_serializing_if = "Context::is_empty")]
    pub context: Context,
}

impl AccrualRequest {
    /// A request of `kind` with nothing else said.
    pub fn new(
        event_id: crate::ids::ExternalId,
        kind: AccrualKind,
        occurred_at: Option<crate::wire::DateTime>,
    ) -> Self {
        Self {
            event_id,
            kind,
            amount_minor: None,
            currency: None,
            minutes: None,
            points: None,
            occurred_at: occurred_at.map(|t| t.0),
            context: Context::default(),
        }
    }

    /// What the ledger entry keeps of the request.
    pub fn facts(&self) -> Facts {
        Facts {
            amount_minor: self.amount_minor,
            currency: self.currency.clone(),
            minutes: self.minutes,
            context: self.context.clone(),
        }
    }

    /// Points before tier multiplier and caps.
    pub fn base_points(&self, rules: &EarningRules) -> u64 {
        match self.kind {
            AccrualKind::Purchase | AccrualKind::Gift => {
                let table = if self.kind == AccrualKind::Purchase {
                    &rules.purchase
                } else {
                    &rules.gift
                };
                let rate = self.currency.as_ref().and_then(|c| table.get(c));
                rate.map_or(0, |r| r.apply(self.amount_minor.unwrap_or(0)))
            }
            AccrualKind::Watch => rules.watch.apply(self.minutes.unwrap_or(0)),
            AccrualKind::Bonus => self.points.unwrap_or(rules.bonus),
        }
        .min(MAX_POINTS)
    }

    /// A digest of what was asked, so a retry can be told from a reuse of the id.
    pub fn fingerprint(&self, customer: &CustomerId) -> String {
        fingerprint(customer, self)
    }
}

/// A digest of a request for a customer: equal requests give equal digests.
pub fn fingerprint<T: Serialize>(customer: &CustomerId, request: &T) -> String {
    let doc = serde_json::json!({"customer": customer, "request": request});
    hex::encode(Sha256::digest(doc.to_string().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn now() -> jiff::Timestamp {
        crate::time::parse("2026-11-22T08:00:00Z").unwrap()
    }

    fn parse(v: Value) -> Result<AccrualRequest, Vec<String>> {
        AccrualRequest::from_json(v, &EarningRules::default(), now())
            .map_err(|e| e.0.into_iter().map(|f| f.field).collect())
    }

    #[test]
    fn rates_are_whole_blocks_only() {
        let r = Rate::new(10, 100);
        assert_eq!((r.apply(99), r.apply(100), r.apply(1999)), (0, 10, 190));
        let rules = EarningRules::default();
        let req = parse(
            json!({"event_id": "o1", "kind": "purchase", "amount_minor": 4999, "currency": "USD"}),
        )
        .unwrap();
        assert_eq!(req.base_points(&rules), 490);
        let req = parse(json!({"event_id": "w1", "kind": "watch", "minutes": 95})).unwrap();
        assert_eq!(req.base_points(&rules), 9);
        let req = parse(json!({"event_id": "b1", "kind": "bonus"})).unwrap();
        assert_eq!(req.base_points(&rules), 100);
    }

    #[test]
    fn each_kind_needs_its_fields() {
        assert_eq!(
            parse(json!({"event_id": "e", "kind": "purchase"})).unwrap_err(),
            ["amount_minor", "currency"]
        );
        assert_eq!(
            parse(
                json!({"event_id": "e", "kind": "purchase", "amount_minor": 5, "currency": "XXX"})
            )
            .unwrap_err(),
            ["currency"]
        );
        assert_eq!(
            parse(json!({"event_id": "e", "kind": "watch", "minutes": 5, "points": 3}))
                .unwrap_err(),
            ["points"]
        );
        assert_eq!(
            parse(json!({"event_id": "e", "kind": "gift", "amount_minor": 5, "currency": "COIN"}))
                .map(|r| r.kind),
            Ok(AccrualKind::Gift)
        );
    }

    #[test]
    fn each_kind_takes_its_own_commercial_facts() {
        let req = parse(json!({
            "event_id": "o1", "kind": "purchase", "amount_minor": 499, "currency": "USD",
            "item": {"sku": "gems-100", "name": "100 gems", "category": "gems"},
            "platform": "ios", "order_id": "GPA.1234"
        }))
        .unwrap();
        let facts = req.facts();
        assert_eq!(facts.amount_minor, Some(499));
        assert_eq!(
            facts.context.item.unwrap().category.unwrap().as_str(),
            "gems"
        );
        assert_eq!(facts.context.order_id.unwrap().as_str(), "GPA.1234");
        let gift = parse(json!({
            "event_id": "g1", "kind": "gift", "amount_minor": 50, "currency": "COIN",
            "streamer_id": "s-9", "room_id": "room-1"
        }))
        .unwrap();
        assert_eq!(gift.context.streamer_id.unwrap().as_str(), "s-9");
        // A gift has no item, a watch no order; an item's fields are named under it.
        assert_eq!(
            parse(json!({"event_id": "g", "kind": "gift", "amount_minor": 5, "currency": "COIN", "item": {"sku": "x"}}))
                .unwrap_err(),
            ["item"]
        );
        assert_eq!(
            parse(json!({"event_id": "w", "kind": "watch", "minutes": 5, "order_id": "o"}))
                .unwrap_err(),
            ["order_id"]
        );
        assert_eq!(
            parse(
                json!({"event_id": "o", "kind": "purchase", "amount_minor": 5, "currency": "USD",
                         "item": {"sku": "a#b", "category": "no spaces", "colour": "red"}})
            )
            .unwrap_err(),
            ["item.sku", "item.category", "item.colour"]
        );
        // Without context the fingerprint is what it was before facts were kept.
        let c = CustomerId::parse("c").unwrap();
        let plain = parse(json!({"event_id": "e", "kind": "bonus", "points": 5})).unwrap();
        assert!(!serde_json::to_string(&plain).unwrap().contains("context"));
        let with = parse(json!({"event_id": "e", "kind": "bonus", "points": 5, "platform": "web"}))
            .unwrap();
        assert_ne!(plain.fingerprint(&c), with.fingerprint(&c));
    }

    #[test]
    fn amounts_must_be_positive_whole_and_bounded() {
        for bad in [
            json!(0),
            json!(-5),
            json!(1.5),
            json!("10"),
            json!(MAX_AMOUNT + 1),
        ] {
            let r = parse(
                json!({"event_id": "e", "kind": "purchase", "amount_minor": bad, "currency": "USD"}),
            );
            assert_eq!(r.unwrap_err(), ["amount_minor"], "{bad}");
        }
        assert_eq!(
            parse(json!({"event_id": "e", "kind": "bonus", "points": 2.5})).unwrap_err(),
            ["points"]
        );
        assert_eq!(
            parse(json!({"event_id": "e", "kind": "tip"})).unwrap_err(),
            ["kind"]
        );
        assert_eq!(
            parse(json!({"kind": "bonus", "event_id": "a#b"})).unwrap_err(),
            ["event_id"]
        );
        assert_eq!(
            parse(json!({"event_id": "e", "kind": "bonus", "occurred_at": "2027-01-01T00:00:00Z"}))
                .unwrap_err(),
            ["occurred_at"]
        );
    }

    #[test]
    fn fingerprints_tell_retries_from_reuse() {
        let c = CustomerId::parse("c").unwrap();
        let a = parse(json!({"event_id": "e", "kind": "bonus", "points": 5})).unwrap();
        let same = parse(json!({"points": 5, "kind": "bonus", "event_id": "e"})).unwrap();
        let other = parse(json!({"event_id": "e", "kind": "bonus", "points": 6})).unwrap();
        assert_eq!(a.fingerprint(&c), same.fingerprint(&c));
        assert_ne!(a.fingerprint(&c), other.fingerprint(&c));
        assert_ne!(
            a.fingerprint(&c),
            a.fingerprint(&CustomerId::parse("d").unwrap())
        );
    }

    #[test]
    fn default_settings_are_valid() {
        let mut e = ValidationErrors::default();
        PointsSettings::default().validate(&mut e);
        assert!(e.is_empty(), "{e:?}");
        let s = PointsSettings::default();
        assert_eq!(s.qualifying_tier(999).unwrap().name.as_str(), "potential");
        assert_eq!(
            s.qualifying_tier(5_000).unwrap().name.as_str(),
            "high-value"
        );
    }
}
