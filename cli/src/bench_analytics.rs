//! `fanloop bench` part: the analytics `overview` over 30 and 366 days, read after 10,000 and
//! after `events` behaviour events (recorded through the events use case, spread over 399
//! days): the read costs rows per day in range, so its latency must not grow with the count.

use std::time::Instant;

use fanloop_domain::analytics::Scope;
use fanloop_domain::ports::{AnalyticsStore, ProfileStore, TenantStore};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKey, OsRandom, Tenant};
use fanloop_domain::{CustomerId, ProfilePatch, TenantId};
use fanloop_store_sqlite::SqliteStore;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::bench::report;

const CUSTOMERS: usize = 1_000;
/// Inside the default event retention (400 days).
const DAYS: i64 = 399;

async fn overview(
    store: &SqliteStore,
    tenant: &TenantId,
    today: jiff::civil::Date,
    days: i64,
    label: &str,
) -> Result<(), String> {
    let from = today
        .checked_sub(jiff::Span::new().days(days - 1))
        .map_err(|e| e.to_string())?;
    let runs = 200;
    let mut lat = Vec::with_capacity(runs);
    let mut read = 0;
    let started = Instant::now();
    for _ in 0..runs {
        let t0 = Instant::now();
        let rows = store
            .counter_rows(tenant, Scope::Overview, from, today)
            .await
            .map_err(|e| e.to_string())?;
        read = rows.len();
        let now = store
            .counter_totals(tenant)
            .await
            .map_err(|e| e.to_string())?
            .get("liability");
        std::hint::black_box(fanloop_domain::analytics::overview(
            from, today, "UTC", &rows, now,
        ));
        lat.push(t0.elapsed());
    }
    report(
        &format!("analytics overview, {days} days, {label} ({read} counter rows read)"),
        runs,
        started.elapsed(),
        lat,
    );
    Ok(())
}

pub async fn run(store: &SqliteStore, events: usize) -> Result<(), String> {
    let start: Timestamp = "2025-06-01T00:00:00Z"
        .parse()
        .map_err(|e: jiff::Error| e.to_string())?;
    let tenant = TenantId::parse("bench-analytics").map_err(|e| e.to_string())?;
    let key = ApiKey::generate(&OsRandom).map_err(|e| e.to_string())?;
    let t = Tenant {
        id: tenant.clone(),
        name: "bench analytics".into(),
        created_at: start,
    };
    store
        .create_tenant(&t, &key)
        .await
        .map_err(|e| e.to_string())?;
    let customers: Vec<CustomerId> = (0..CUSTOMERS)
        .map(|i| CustomerId::parse(format!("a{i}")))
        .collect::<Result<_, _>>()
        .map_err(|e| e.to_string())?;
    let patch = ProfilePatch::from_json(json!({}), jiff::civil::date(2025, 1, 1))
        .map_err(|e| format!("{e:?}"))?;
    for c in &customers {
        store
            .upsert_profile(&tenant, c, &patch, start)
            .await
            .map_err(|e| e.to_string())?;
    }
    let settings = TenantSettings::default();
    // Every day of the window gets its share from the start, so each read below has rows in
    // range: event `i` happened `i mod DAYS` days (and some seconds) before the end.
    let end = start + SignedDuration::from_hours(DAYS * 24);
    let today = end.to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut lat = Vec::with_capacity(events);
    let started = Instant::now();
    for i in 0..events {
        if i == 10_000 {
            report(
                "behaviour events over 399 days (first 10,000)",
                i,
                started.elapsed(),
                std::mem::take(&mut lat),
            );
            overview(store, &tenant, today, 30, "after 10,000 events").await?;
            overview(store, &tenant, today, 366, "after 10,000 events").await?;
        }
        let body = match i % 3 {
            0 => json!({"event_id": format!("b{i}"), "kind": "login"}),
            1 => json!({"event_id": format!("b{i}"), "kind": "stream_watch",
                        "properties": {"streamer_id": format!("s{}", i % 50), "minutes": 5}}),
            _ => {
                json!({"event_id": format!("b{i}"), "kind": "level_up", "properties": {"level": 1 + i % 90}})
            }
        };
        let back = i64::try_from(i).unwrap_or(0);
        let at = end - SignedDuration::from_secs((back % DAYS) * 86_400 + back % 86_000);
        let mut body = body;
        body["occurred_at"] = json!(fanloop_domain::time::format(at));
        let input = fanloop_domain::events::EventInput::from_json(body, "", end)
            .map_err(|e| format!("{e:?}"))?;
        let t0 = Instant::now();
        fanloop_profiles::events::record(
            store,
            &settings,
            &tenant,
            &customers[i % CUSTOMERS],
            input,
            end,
        )
        .await
        .map_err(|e| e.to_string())?;
        if i < 10_000 {
            lat.push(t0.elapsed());
        }
    }
    report(
        &format!("behaviour events over 399 days (all {events})"),
        events,
        started.elapsed(),
        vec![],
    );
    overview(store, &tenant, today, 30, &format!("after {events} events")).await?;
    overview(
        store,
        &tenant,
        today,
        366,
        &format!("after {events} events"),
    )
    .await
}
