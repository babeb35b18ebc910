//! The body of `POST /v1/customers/{id}/points/accruals`: one wire type per kind, so the
//! schema (a `oneOf` by `kind`) and the parser say the same about which fields each kind takes.

use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

use super::facts::{Context, Item};
use super::rules::{
    AccrualKind, AccrualRequest, EarningRules, MAX_AMOUNT, MAX_MINUTES, MAX_POINTS, UnitCode,
};
use crate::error::ValidationErrors;
use crate::ids::{ExternalId, Platform};
use crate::wire::{Bounded, DateTime, Wire};

/// How far ahead of the server's clock an `occurred_at` may be.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

crate::wire_struct! {
    /// An in-app purchase: `amount_minor` in minor units of `currency` (ISO 4217), which needs
    /// a purchase earning rule in the tenant's settings.
    pub struct PurchaseAccrual {
        /// Your id of the event: each is credited once.
        pub event_id: ExternalId,
        pub amount_minor: Bounded<1, { MAX_AMOUNT }>,
        pub currency: UnitCode,
        /// Recorded in the ledger; at most 5 minutes in the future.
        pub occurred_at: Option<DateTime>,
        /// What was bought.
        pub item: @nested Option<Item>,
        /// Where it was bought (`ios`, `android`, `steam`, …).
        pub platform: Option<Platform>,
        /// Your order id.
        pub order_id: Option<ExternalId>,
    }
}

crate::wire_struct! {
    /// A stream gift or tip: `amount_minor` platform coins of `currency`, which needs a gift
    /// earning rule in the tenant's settings.
    pub struct GiftAccrual {
        pub event_id: ExternalId,
        pub amount_minor: Bounded<1, { MAX_AMOUNT }>,
        pub currency: UnitCode,
        pub occurred_at: Option<DateTime>,
        /// The streamer who received the gift.
        pub streamer_id: Option<ExternalId>,
        /// The live room it was sent in.
        pub room_id: Option<ExternalId>,
        pub platform: Option<Platform>,
        pub order_id: Option<ExternalId>,
    }
}

crate::wire_struct! {
    /// Watch time.
    pub struct WatchAccrual {
        pub event_id: ExternalId,
        pub minutes: Bounded<1, { MAX_MINUTES }>,
        pub occurred_at: Option<DateTime>,
        /// The streamer whose stream was watched.
        pub streamer_id: Option<ExternalId>,
        pub room_id: Option<ExternalId>,
        pub platform: Option<Platform>,
    }
}

crate::wire_struct! {
    /// A bonus: `points` (default: the tenant's bonus points).
    pub struct BonusAccrual {
        pub event_id: ExternalId,
        pub points: Option<Bounded<1, { MAX_POINTS }>>,
        pub occurred_at: Option<DateTime>,
        pub platform: Option<Platform>,
    }
}

/// The body of an accrual, by `kind` (its schema: [`AccrualInput::schema`]).
#[derive(Clone, Debug)]
pub enum AccrualInput {
    Purchase(PurchaseAccrual),
    Gift(GiftAccrual),
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
            .item(branch::<PurchaseAccrual>("purchase"))
            .item(branch::<GiftAccrual>("gift"))
            .item(branch::<WatchAccrual>("watch"))
            .item(branch::<BonusAccrual>("bonus"))
            .into()
    }
}

impl ToSchema for AccrualInput {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        PurchaseAccrual::schemas(out);
        GiftAccrual::schemas(out);
        Item::schemas(out);
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
            AccrualKind::Purchase => Self::Purchase(PurchaseAccrual::parse_at(body, "")?),
            AccrualKind::Gift => Self::Gift(GiftAccrual::parse_at(body, "")?),
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
        let mut errs = ValidationErrors::default();
        let mut unit = |kind: AccrualKind, currency: &UnitCode| {
            let table = if kind == AccrualKind::Gift {
                &rules.gift
            } else {
                &rules.purchase
            };
            if !table.contains_key(currency) {
                errs.push(
                    "currency",
                    format!("has no {} earning rule in the settings", kind.as_str()),
                );
            }
        };
        let req = match input {
            AccrualInput::Purchase(a) => {
                unit(AccrualKind::Purchase, &a.currency);
                AccrualRequest {
                    amount_minor: Some(a.amount_minor.get()),
                    currency: Some(a.currency),
                    context: Context {
                        item: a.item,
                        platform: a.platform,
                        order_id: a.order_id,
                        ..Context::default()
                    },
                    ..AccrualRequest::new(a.event_id, AccrualKind::Purchase, a.occurred_at)
                }
            }
            AccrualInput::Gift(a) => {
                unit(AccrualKind::Gift, &a.currency);
                AccrualRequest {
                    amount_minor: Some(a.amount_minor.get()),
                    currency: Some(a.currency),
                    context: Context {
                        streamer_id: a.streamer_id,
                        room_id: a.room_id,
                        platform: a.platform,
                        order_id: a.order_id,
                        ..Context::default()
                    },
                    ..AccrualRequest::new(a.event_id, AccrualKind::Gift, a.occurred_at)
                }
            }
            AccrualInput::Watch(w) => AccrualRequest {
                minutes: Some(w.minutes.get()),
                context: Context {
                    streamer_id: w.streamer_id,
                    room_id: w.room_id,
                    platform: w.platform,
                    ..Context::default()
                },
                ..AccrualRequest::new(w.event_id, AccrualKind::Watch, w.occurred_at)
            },
            AccrualInput::Bonus(b) => AccrualRequest {
                points: b.points.map(Bounded::get),
                context: Context {
                    platform: b.platform,
                    ..Context::default()
                },
                ..AccrualRequest::new(b.event_id, AccrualKind::Bonus, b.occurred_at)
            },
        };
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
