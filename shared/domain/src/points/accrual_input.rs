//! The body of `POST /v1/customers/{id}/points/accruals`: one wire type per kind, so the
//! schema (a `oneOf` by `kind`) and the parser say the same about which fields each kind takes.

use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

use super::rules::{
    AccrualKind, AccrualRequest, EarningRules, MAX_AMOUNT, MAX_MINUTES, MAX_POINTS, UnitCode,
};
use crate::error::ValidationErrors;
use crate::ids::ExternalId;
use crate::wire::{Bounded, DateTime, Wire};

/// How far ahead of the server's clock an `occurred_at` may be.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

crate::wire_struct! {
    /// A purchase (`amount_minor` in minor units of `currency`, ISO 4217) or a gift
    /// (`amount_minor` platform coins of `currency`); the currency needs an earning rule in the
    /// tenant's settings.
    pub struct AmountAccrual {
        /// Your id of the event (order id, gift id, …): each is credited once.
        pub event_id: ExternalId,
        pub amount_minor: Bounded<1, { MAX_AMOUNT }>,
        pub currency: UnitCode,
        /// Recorded in the ledger; at most 5 minutes in the future.
        pub occurred_at: Option<DateTime>,
    }
}

crate::wire_struct! {
    /// Watch time.
    pub struct WatchAccrual {
        pub event_id: ExternalId,
        pub minutes: Bounded<1, { MAX_MINUTES }>,
        pub occurred_at: Option<DateTime>,
    }
}

crate::wire_struct! {
    /// A bonus: `points` (default: the tenant's bonus points).
    pub struct BonusAccrual {
        pub event_id: ExternalId,
        pub points: Option<Bounded<1, { MAX_POINTS }>>,
        pub occurred_at: Option<DateTime>,
    }
}

/// The body of an accrual, by `kind` (its schema: [`AccrualInput::schema`]).
#[derive(Clone, Debug)]
pub enum AccrualInput {
    Purchase(AmountAccrual),
    Gift(AmountAccrual),
    Watch(WatchAccrual),
    Bonus(BonusAccrual),
}

/// One `oneOf` branch: the kind's fields with `kind` itself among them, so that
/// `additionalProperties: false` still holds.
fn branch<T: utoipa::PartialSchema>(kind: &str) -> RefOr<Schema> {
    let mut schema = T::schema();
    if let RefOr::T(Schema::Object(o)) = &mut schema {
        let tag = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some([kind]))
            .build();
        o.properties
            .insert("kind".into(), RefOr::T(Schema::Object(tag)));
        o.required.insert(0, "kind".into());
    }
    schema
}

impl utoipa::PartialSchema for AccrualInput {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some("The body of an accrual, by `kind`."))
            .item(branch::<AmountAccrual>("purchase"))
            .item(branch::<AmountAccrual>("gift"))
            .item(branch::<WatchAccrual>("watch"))
            .item(branch::<BonusAccrual>("bonus"))
            .into()
    }
}

impl ToSchema for AccrualInput {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        AmountAccrual::schemas(out);
        WatchAccrual::schemas(out);
        BonusAccrual::schemas(out);
    }
}

impl AccrualInput {
    /// Reads `kind`, then the fields of that kind, naming every invalid one.
    pub fn parse(body: Value) -> Result<Self, ValidationErrors> {
        let mut body = body;
        let Some(map) = body.as_object_mut() else {
            return Err(ValidationErrors::single("(body)", "must be a JSON object"));
        };
        let kind = match map.remove("kind") {
            None | Some(Value::Null) => {
                return Err(ValidationErrors::single("kind", "is required"));
            }
            Some(k) => serde_json::from_value::<AccrualKind>(k).map_err(|_| {
                ValidationErrors::single("kind", "must be purchase, gift, watch or bonus")
            })?,
        };
        Ok(match kind {
            AccrualKind::Purchase => Self::Purchase(AmountAccrual::parse_at(body, "")?),
            AccrualKind::Gift => Self::Gift(AmountAccrual::parse_at(body, "")?),
            AccrualKind::Watch => Self::Watch(WatchAccrual::parse_at(body, "")?),
            AccrualKind::Bonus => Self::Bonus(BonusAccrual::parse_at(body, "")?),
        })
    }
}

impl AccrualRequest {
    /// Parses the body and checks what depends on the tenant and the clock: `rules` decides
    /// which currencies and coins earn (one without a rule is refused, rather than silently
    /// earning nothing); `occurred_at` may not be later than `now` (5 minutes of skew).
    pub fn from_json(
        body: Value,
        rules: &EarningRules,
        now: jiff::Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let input = AccrualInput::parse(body)?;
        let is_gift = matches!(input, AccrualInput::Gift(_));
        let (event_id, occurred_at) = match &input {
            AccrualInput::Purchase(a) | AccrualInput::Gift(a) => {
                (a.event_id.clone(), a.occurred_at)
            }
            AccrualInput::Watch(w) => (w.event_id.clone(), w.occurred_at),
            AccrualInput::Bonus(b) => (b.event_id.clone(), b.occurred_at),
        };
        let mut req = AccrualRequest {
            event_id,
            kind: AccrualKind::Bonus,
            amount_minor: None,
            currency: None,
            minutes: None,
            points: None,
            occurred_at: occurred_at.map(|t| t.0),
        };
        let mut errs = ValidationErrors::default();
        match input {
            AccrualInput::Purchase(a) | AccrualInput::Gift(a) => {
                let table = if is_gift {
                    &rules.gift
                } else {
                    &rules.purchase
                };
                req.kind = if is_gift {
                    AccrualKind::Gift
                } else {
                    AccrualKind::Purchase
                };
                if !table.contains_key(&a.currency) {
                    errs.push(
                        "currency",
                        format!("has no {} earning rule in the settings", req.kind.as_str()),
                    );
                }
                req.amount_minor = Some(a.amount_minor.get());
                req.currency = Some(a.currency);
            }
            AccrualInput::Watch(w) => {
                req.kind = AccrualKind::Watch;
                req.minutes = Some(w.minutes.get());
            }
            AccrualInput::Bonus(b) => req.points = b.points.map(Bounded::get),
        }
        if req
            .occurred_at
            .is_some_and(|t| t > now.saturating_add(CLOCK_SKEW).unwrap_or(now))
        {
            errs.push("occurred_at", "must not be in the future");
        }
        errs.into_result()?;
        Ok(req)
    }
}
