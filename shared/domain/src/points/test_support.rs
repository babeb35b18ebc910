//! What the points tests share: instants, UTC, and bonus accruals.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::json;

use super::rules::AccrualRequest;

pub(super) fn ts(s: &str) -> Timestamp {
    crate::time::parse(s).unwrap()
}

pub(super) fn utc() -> TimeZone {
    TimeZone::UTC
}

/// A bonus accrual of `points` with event id `id`.
pub(super) fn bonus(id: &str, points: u64) -> AccrualRequest {
    AccrualRequest::from_json(
        json!({"event_id": id, "kind": "bonus", "points": points}),
        &Default::default(),
        ts("2030-01-01T00:00:00Z"),
    )
    .unwrap()
}
