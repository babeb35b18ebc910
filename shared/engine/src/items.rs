//! The item counters a thank-you's recommendations rank from: the last 30 days of the tenant's
//! item rows, read once per tenant and kept for ten minutes (one read serves a burst of
//! purchases; on DynamoDB it is 8 `Query` of the days' item rows).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fanloop_domain::TenantId;
use fanloop_domain::analytics::{CounterRow, Scope};
use fanloop_domain::ports::{AnalyticsStore, StoreError};
use jiff::Timestamp;
use jiff::tz::TimeZone;

/// Days of item counters recommendations read.
pub const WINDOW_DAYS: i64 = 30;

const KEEP: Duration = Duration::from_secs(600);

type Entry = (Instant, Arc<Vec<CounterRow>>);

/// Per tenant: when read, and the rows.
#[derive(Clone, Default)]
pub struct ItemRows(Arc<Mutex<HashMap<TenantId, Entry>>>);

impl ItemRows {
    pub async fn get(
        &self,
        store: &dyn AnalyticsStore,
        tenant: &TenantId,
        now: Timestamp,
        tz: &TimeZone,
    ) -> Result<Arc<Vec<CounterRow>>, StoreError> {
        if let Some((at, rows)) = self.lock().get(tenant)
            && at.elapsed() < KEEP
        {
            return Ok(rows.clone());
        }
        let to = now.to_zoned(tz.clone()).date();
        let from = to
            .checked_sub(jiff::Span::new().days(WINDOW_DAYS - 1))
            .unwrap_or(to);
        let rows = Arc::new(store.counter_rows(tenant, Scope::Item, from, to).await?);
        self.lock()
            .insert(tenant.clone(), (Instant::now(), rows.clone()));
        Ok(rows)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TenantId, Entry>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
