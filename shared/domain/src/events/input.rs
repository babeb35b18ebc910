//! The body of `POST /v1/customers/{id}/events` (and each item of `/events/batch`): one wire
//! type per `kind`, each with its own `properties`, so the schema (a `oneOf` by `kind`) and the
//! parser say the same about what each kind takes.

use serde_json::Value;
use utoipa::ToSchema;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, Type};

use super::event::{BehaviourEvent, EventKind, EventsSettings};
use crate::error::ValidationErrors;
use crate::ids::{CustomerId, ExternalId, Platform};
use crate::points::rules::{MAX_AMOUNT, MAX_MINUTES, UnitCode, fingerprint};
use crate::values::Tag;
use crate::wire::{Bounded, DateTime, Wire};

/// Most events one batch may carry.
pub const BATCH_MAX: usize = 100;
/// How far ahead of the server's clock an `occurred_at` may be.
const CLOCK_SKEW: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

crate::wire_struct! {
    /// Properties of a `login` (all optional).
    #[derive(serde::Serialize)]
    pub struct LoginProperties {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub platform: Option<Platform>,
    }
}

crate::wire_struct! {
    /// Properties of a `session`: how long it lasted.
    #[derive(serde::Serialize)]
    pub struct SessionProperties {
        /// 1 second to 7 days.
        pub duration_s: Bounded<1, 604_800>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub platform: Option<Platform>,
    }
}

crate::wire_struct! {
    /// Properties of a `level_up`: the level reached.
    #[derive(serde::Serialize)]
    pub struct LevelUpProperties {
        pub level: Bounded<1, 1_000_000>,
    }
}

crate::wire_struct! {
    /// Properties of a `stream_watch`: whose stream, for how long.
    #[derive(serde::Serialize)]
    pub struct StreamWatchProperties {
        pub streamer_id: ExternalId,
        pub minutes: Bounded<1, { MAX_MINUTES }>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub room_id: Option<ExternalId>,
    }
}

crate::wire_struct! {
    /// Properties of a `chat` or a `vote` (no message text is taken: it is the customer's own
    /// words).
    #[derive(serde::Serialize)]
    pub struct RoomProperties {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub streamer_id: Option<ExternalId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub room_id: Option<ExternalId>,
    }
}

crate::wire_struct! {
    /// Properties of a `gift_sent` that earns no points (an accrual of kind `gift` is the one
    /// that does).
    #[derive(serde::Serialize)]
    pub struct GiftSentProperties {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub streamer_id: Option<ExternalId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub room_id: Option<ExternalId>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub coins: Option<Bounded<1, { MAX_AMOUNT }>>,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub currency: Option<UnitCode>,
    }
}

crate::wire_struct! {
    /// Properties of a `custom` event: its name, and a number if it has one.
    #[derive(serde::Serialize)]
    pub struct CustomProperties {
        /// 1–64 of the id alphabet (`tutorial_done`).
        pub name: Tag,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub value: Option<Bounded<0, { MAX_AMOUNT }>>,
    }
}

/// Declares the body of one kind: `event_id`, `occurred_at`, and `properties` of type `$p`
/// (`required` or `optional`).
macro_rules! event_body {
    ($name:ident, $p:ty, required) => {
        crate::wire_struct! {
            #[derive(serde::Serialize)]
            pub struct $name {
                /// Your id of the event: each is recorded once per customer.
                pub event_id: ExternalId,
                /// When it happened (default: when it is recorded); at most 5 minutes ahead.
                pub occurred_at: Option<DateTime>,
                pub properties: @nested $p,
            }
        }
    };
    ($name:ident, $p:ty, optional) => {
        crate::wire_struct! {
            #[derive(serde::Serialize)]
            pub struct $name {
                /// Your id of the event: each is recorded once per customer.
                pub event_id: ExternalId,
                /// When it happened (default: when it is recorded); at most 5 minutes ahead.
                pub occurred_at: Option<DateTime>,
                pub properties: @nested Option<$p>,
            }
        }
    };
}

event_body!(LoginEvent, LoginProperties, optional);
event_body!(SessionEvent, SessionProperties, required);
event_body!(LevelUpEvent, LevelUpProperties, required);
event_body!(StreamWatchEvent, StreamWatchProperties, required);
event_body!(RoomEvent, RoomProperties, optional);
event_body!(GiftSentEvent, GiftSentProperties, optional);
event_body!(CustomEvent, CustomProperties, required);

/// The body of an event, by `kind` (its schema: [`EventInput::schema`]).
#[derive(Clone, Debug)]
pub struct EventInput {
    pub event_id: ExternalId,
    pub kind: EventKind,
    pub occurred_at: Option<jiff::Timestamp>,
    pub properties: serde_json::Map<String, Value>,
}

/// Reads one kind's body into the common form.
fn read<B: Wire + serde::Serialize>(
    kind: EventKind,
    body: Value,
    prefix: &str,
) -> Result<EventInput, ValidationErrors> {
    let parsed = B::parse_at(body, prefix)?;
    let mut doc = match serde_json::to_value(&parsed) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(ValidationErrors::single(
                prefix_or_body(prefix),
                "is invalid",
            ));
        }
    };
    let event_id = doc
        .remove("event_id")
        .and_then(|v| serde_json::from_value(v).ok());
    let occurred_at = doc
        .remove("occurred_at")
        .and_then(|v| serde_json::from_value::<DateTime>(v).ok())
        .map(|t| t.0);
    let properties = match doc.remove("properties") {
        Some(Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    let event_id =
        event_id.ok_or_else(|| ValidationErrors::single(prefix_or_body(prefix), "is invalid"))?;
    Ok(EventInput {
        event_id,
        kind,
        occurred_at,
        properties,
    })
}

fn prefix_or_body(prefix: &str) -> String {
    if prefix.is_empty() {
        "(body)".into()
    } else {
        prefix.into()
    }
}

fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() {
        field.into()
    } else {
        format!("{prefix}.{field}")
    }
}

impl EventInput {
    /// Reads `kind`, then that kind's fields, naming every invalid one under `prefix`.
    pub fn parse_at(body: Value, prefix: &str) -> Result<Self, ValidationErrors> {
        let mut body = body;
        let Some(map) = body.as_object_mut() else {
            return Err(ValidationErrors::single(
                prefix_or_body(prefix),
                "must be a JSON object",
            ));
        };
        let kind = match map.remove("kind") {
            None | Some(Value::Null) => {
                return Err(ValidationErrors::single(
                    join(prefix, "kind"),
                    "is required",
                ));
            }
            Some(k) => serde_json::from_value::<EventKind>(k).map_err(|_| {
                let kinds: Vec<&str> = EventKind::ALL.iter().map(EventKind::as_str).collect();
                ValidationErrors::single(
                    join(prefix, "kind"),
                    format!("must be one of {}", kinds.join(", ")),
                )
            })?,
        };
        match kind {
            EventKind::Login => read::<LoginEvent>(kind, body, prefix),
            EventKind::Session => read::<SessionEvent>(kind, body, prefix),
            EventKind::LevelUp => read::<LevelUpEvent>(kind, body, prefix),
            EventKind::StreamWatch => read::<StreamWatchEvent>(kind, body, prefix),
            EventKind::Chat | EventKind::Vote => read::<RoomEvent>(kind, body, prefix),
            EventKind::GiftSent => read::<GiftSentEvent>(kind, body, prefix),
            EventKind::Custom => read::<CustomEvent>(kind, body, prefix),
        }
    }

    /// Parses and checks what depends on the clock: `occurred_at` at most 5 minutes ahead of
    /// `now`.
    pub fn from_json(
        body: Value,
        prefix: &str,
        now: jiff::Timestamp,
    ) -> Result<Self, ValidationErrors> {
        let input = Self::parse_at(body, prefix)?;
        if input
            .occurred_at
            .is_some_and(|t| t > now.saturating_add(CLOCK_SKEW).unwrap_or(now))
        {
            return Err(ValidationErrors::single(
                join(prefix, "occurred_at"),
                "must not be in the future",
            ));
        }
        Ok(input)
    }

    /// A digest of what was asked, so a retry can be told from a reuse of the id.
    pub fn fingerprint(&self, customer: &CustomerId) -> String {
        let doc = serde_json::json!({
            "event_id": self.event_id,
            "kind": self.kind,
            "occurred_at": self.occurred_at.map(crate::time::format),
            "properties": self.properties,
        });
        fingerprint(customer, &doc)
    }

    /// The event as recorded at `now`.
    pub fn into_event(self, settings: &EventsSettings, now: jiff::Timestamp) -> BehaviourEvent {
        let occurred_at = self.occurred_at.unwrap_or(now);
        BehaviourEvent {
            event_id: self.event_id,
            kind: self.kind,
            occurred_at,
            recorded_at: now,
            properties: self.properties,
            expires_at: settings.expiry(occurred_at),
        }
    }
}

/// One `oneOf` branch: the kind's fields with `kind` itself among them (one or more names).
fn branch<T: utoipa::PartialSchema>(kinds: &[&str]) -> RefOr<Schema> {
    let mut schema = T::schema();
    if let RefOr::T(Schema::Object(o)) = &mut schema {
        let tag = ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(kinds.iter().copied()))
            .build();
        o.properties
            .insert("kind".into(), RefOr::T(Schema::Object(tag)));
        o.required.insert(0, "kind".into());
    }
    schema
}

impl utoipa::PartialSchema for EventInput {
    fn schema() -> RefOr<Schema> {
        OneOfBuilder::new()
            .description(Some("A behaviour event, by `kind`."))
            .item(branch::<LoginEvent>(&["login"]))
            .item(branch::<SessionEvent>(&["session"]))
            .item(branch::<LevelUpEvent>(&["level_up"]))
            .item(branch::<StreamWatchEvent>(&["stream_watch"]))
            .item(branch::<RoomEvent>(&["chat", "vote"]))
            .item(branch::<GiftSentEvent>(&["gift_sent"]))
            .item(branch::<CustomEvent>(&["custom"]))
            .into()
    }
}

impl ToSchema for EventInput {
    fn schemas(out: &mut Vec<(String, RefOr<Schema>)>) {
        LoginEvent::schemas(out);
        SessionEvent::schemas(out);
        LevelUpEvent::schemas(out);
        StreamWatchEvent::schemas(out);
        RoomEvent::schemas(out);
        GiftSentEvent::schemas(out);
        CustomEvent::schemas(out);
    }
}

/// The `events` of a batch: 1 to 100 items, each an [`EventInput`] read on its own.
pub type EventItems = crate::wire::BatchItems<BATCH_MAX>;

crate::wire_struct! {
    /// The body of `POST …/events/batch`.
    pub struct EventBatch {
        pub events: EventItems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> jiff::Timestamp {
        crate::time::parse("2026-11-22T08:00:00Z").unwrap()
    }

    fn fields(v: Value) -> Vec<String> {
        EventInput::from_json(v, "", now())
            .unwrap_err()
            .0
            .into_iter()
            .map(|f| f.field)
            .collect()
    }

    #[test]
    fn each_kind_takes_its_own_properties() {
        let e = EventInput::from_json(
            json!({"event_id": "s1", "kind": "session", "properties": {"duration_s": 600, "platform": "ios"}}),
            "",
            now(),
        )
        .unwrap();
        assert_eq!(e.kind, EventKind::Session);
        assert_eq!(
            e.properties,
            json!({"duration_s": 600, "platform": "ios"})
                .as_object()
                .unwrap()
                .clone()
        );
        let login =
            EventInput::from_json(json!({"event_id": "l1", "kind": "login"}), "", now()).unwrap();
        assert!(login.properties.is_empty());
        let vote = EventInput::from_json(
            json!({"event_id": "v", "kind": "vote", "properties": {"room_id": "r1"}}),
            "",
            now(),
        )
        .unwrap();
        assert_eq!(vote.kind, EventKind::Vote);
        let ev = vote.into_event(&EventsSettings::default(), now());
        assert_eq!(ev.occurred_at, now());
        assert_eq!(
            ev.expires_at,
            crate::time::parse("2027-12-27T08:00:00Z").unwrap()
        );
    }

    #[test]
    fn bad_events_name_every_field() {
        assert_eq!(
            fields(json!({"event_id": "e", "kind": "session"})),
            ["properties"]
        );
        assert_eq!(
            fields(
                json!({"event_id": "e", "kind": "session", "properties": {"duration_s": 0, "x": 1}})
            ),
            ["properties.duration_s", "properties.x"]
        );
        assert_eq!(fields(json!({"event_id": "e", "kind": "dance"})), ["kind"]);
        assert_eq!(fields(json!({"event_id": "e"})), ["kind"]);
        assert_eq!(
            fields(json!({"kind": "stream_watch", "properties": {"minutes": 5}})),
            ["event_id", "properties.streamer_id"]
        );
        assert_eq!(
            fields(json!({"event_id": "e", "kind": "custom", "properties": {"name": "has space"}})),
            ["properties.name"]
        );
        assert_eq!(
            fields(
                json!({"event_id": "e", "kind": "login", "occurred_at": "2027-01-01T00:00:00Z"})
            ),
            ["occurred_at"]
        );
        assert_eq!(
            fields(json!({"event_id": "e", "kind": "chat", "properties": {"text": "hi"}})),
            ["properties.text"]
        );
        let batch_item = EventInput::from_json(
            json!({"event_id": "e", "kind": "level_up", "properties": {}}),
            "events[3]",
            now(),
        );
        assert_eq!(
            batch_item.unwrap_err().0[0].field,
            "events[3].properties.level"
        );
    }

    #[test]
    fn fingerprints_tell_retries_from_reuse() {
        let c = CustomerId::parse("c").unwrap();
        let read = |v| EventInput::from_json(v, "", now()).unwrap().fingerprint(&c);
        let a = read(json!({"event_id": "e", "kind": "level_up", "properties": {"level": 3}}));
        let same = read(json!({"kind": "level_up", "properties": {"level": 3}, "event_id": "e"}));
        let other = read(json!({"event_id": "e", "kind": "level_up", "properties": {"level": 4}}));
        assert_eq!(a, same);
        assert_ne!(a, other);
    }
}
