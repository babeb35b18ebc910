//! A behaviour event as stored, the tenant's retention setting, and the rules around them.

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::campaigns::backlog::Activity;
use crate::error::ValidationErrors;
use crate::ids::ExternalId;
use crate::time::serde_ts;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Login,
    Session,
    LevelUp,
    StreamWatch,
    Chat,
    Vote,
    GiftSent,
    Custom,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Login,
        EventKind::Session,
        EventKind::LevelUp,
        EventKind::StreamWatch,
        EventKind::Chat,
        EventKind::Vote,
        EventKind::GiftSent,
        EventKind::Custom,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Login => "login",
            EventKind::Session => "session",
            EventKind::LevelUp => "level_up",
            EventKind::StreamWatch => "stream_watch",
            EventKind::Chat => "chat",
            EventKind::Vote => "vote",
            EventKind::GiftSent => "gift_sent",
            EventKind::Custom => "custom",
        }
    }
}

/// What the customer did, as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BehaviourEvent {
    #[schema(value_type = String)]
    pub event_id: ExternalId,
    pub kind: EventKind,
    /// When it happened (the time it was recorded when the caller did not say).
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: Timestamp,
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
    /// The kind's properties, as validated (`duration_s`, `level`, `streamer_id`, …).
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    #[schema(value_type = Object)]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// Removed from the store after this (the tenant's `events.retention_days`).
    #[serde(with = "serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
}

/// An event with the digest of the request that recorded it, to tell a retry from a reuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredEvent {
    pub event: BehaviourEvent,
    pub fingerprint: String,
}

impl BehaviourEvent {
    /// The activity it is: at `occurred_at` (never later than `now`), reported at `now`,
    /// counted on the days of `tz`.
    pub fn activity(&self, now: Timestamp, tz: &jiff::tz::TimeZone) -> Activity {
        Activity::in_zone(self.occurred_at.min(now), now, tz)
    }

    /// The key that orders a customer's events newest first (fixed width, so text order is
    /// time order), then by id.
    pub fn sort_key(&self) -> String {
        format!(
            "{:015}#{}",
            self.occurred_at.as_millisecond().max(0),
            self.event_id
        )
    }
}

/// Settings section `events`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EventsSettings {
    /// Events are kept this many days after they happened (counters and aggregates built
    /// from them are not affected).
    pub retention_days: u32,
}

impl Default for EventsSettings {
    fn default() -> Self {
        Self {
            retention_days: 400,
        }
    }
}

impl EventsSettings {
    pub fn validate(&self, errs: &mut ValidationErrors) {
        if !(1..=3650).contains(&self.retention_days) {
            errs.push("events.retention_days", "must be 1 to 3650");
        }
    }

    /// When an event that happened at `at` leaves the store.
    pub fn expiry(&self, at: Timestamp) -> Timestamp {
        at.saturating_add(SignedDuration::from_hours(
            24 * i64::from(self.retention_days),
        ))
        .unwrap_or(at)
    }
}
