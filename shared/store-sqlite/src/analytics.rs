//! Analytics in SQLite: counter rows (`analytics_counters`, one row per counter, `day` =
//! `total` for all-time), their labels, and the daily snapshots. Counters are added to inside
//! the transaction of the write they count; SQLite serialises writers, so no shards here.

use std::cell::RefCell;
use std::collections::BTreeMap;

use async_trait::async_trait;
use fanloop_domain::analytics::{CounterRow, Counters, Scope, Snapshot};
use fanloop_domain::lookup::Segments;
use fanloop_domain::ports::{AnalyticsStore, CustomerBatch, SnapshotCustomer, StoreError};
use fanloop_domain::profile::Profile;
use fanloop_domain::{CustomerId, TenantId};
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use crate::points::json;
use crate::{SqliteStore, corrupt, db_err};

const TOTAL: &str = "total";

thread_local! {
    /// On the writer thread, inside a group: the counters of the running operation and of the
    /// group's operations that succeeded, written once just before the group commits.
    static DEFERRED: RefCell<Option<Deferred>> = const { RefCell::new(None) };
}

#[derive(Default)]
struct Deferred {
    op: BTreeMap<String, Counters>,
    group: BTreeMap<String, Counters>,
}

/// The writer starts a group: counters wait for [`flush_group`].
pub(crate) fn begin_group() {
    DEFERRED.with(|d| *d.borrow_mut() = Some(Deferred::default()));
}

/// The running operation ended: its counters join the group's when it succeeded, and are
/// dropped with its savepoint when it failed (a write answering `Ok` has committed).
pub(crate) fn settle_op(ok: bool) {
    DEFERRED.with(|d| {
        if let Some(d) = d.borrow_mut().as_mut() {
            let op = std::mem::take(&mut d.op);
            if ok {
                for (tenant, c) in op {
                    d.group.entry(tenant).or_default().merge(c);
                }
            }
        }
    });
}

/// Writes the group's counters, merged per row, in the group's transaction; the group then
/// commits them with the operations that produced them, or none of them.
pub(crate) fn flush_group(conn: &Connection) -> Result<(), StoreError> {
    let Some(d) = DEFERRED.with(|d| d.borrow_mut().take()) else {
        return Ok(());
    };
    for (tenant, counters) in &d.group {
        write(conn, tenant, counters)?;
    }
    Ok(())
}

/// Adds `counters` to the caller's transaction (`_customer` names no row: counters are the
/// tenant's). In a writer group they are merged with the group's and written once per row
/// at its commit: a burst of accruals on one day updates each counter row once per group.
pub(crate) fn add(
    conn: &Connection,
    tenant: &str,
    _customer: &str,
    counters: &Counters,
) -> Result<(), StoreError> {
    let deferred = DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(d) => {
            d.op.entry(tenant.to_owned())
                .or_default()
                .merge(counters.clone());
            true
        }
        None => false,
    });
    if deferred {
        return Ok(());
    }
    write(conn, tenant, counters)
}

fn write(conn: &Connection, tenant: &str, counters: &Counters) -> Result<(), StoreError> {
    for (k, d) in &counters.rows {
        let day = k.day.map_or_else(|| TOTAL.to_owned(), |d| d.to_string());
        for (key, by) in &d.add {
            conn.prepare_cached(
                "INSERT INTO analytics_counters (tenant_id, scope, day, dim, key, value)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant_id, scope, day, dim, key) DO UPDATE SET value = value + excluded.value",
            )
            .map_err(db_err)?
            .execute(params![tenant, k.scope.as_str(), day, k.dim, key, by])
            .map_err(db_err)?;
        }
        for (name, value) in &d.labels {
            conn.prepare_cached(
                "INSERT INTO analytics_labels (tenant_id, scope, day, dim, name, value)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (tenant_id, scope, day, dim, name) DO UPDATE SET value = excluded.value",
            )
            .map_err(db_err)?
            .execute(params![tenant, k.scope.as_str(), day, k.dim, name, value])
            .map_err(db_err)?;
        }
    }
    Ok(())
}

fn rows(
    conn: &Connection,
    tenant: &str,
    scope: Scope,
    from: &str,
    to: &str,
) -> Result<Vec<CounterRow>, StoreError> {
    let mut out: BTreeMap<(String, String), CounterRow> = BTreeMap::new();
    let day_of = |d: &str| -> Result<Option<Date>, StoreError> {
        if d == TOTAL {
            return Ok(None);
        }
        d.parse().map(Some).map_err(|e| corrupt("analytics day", e))
    };
    // Counters (integers) and labels (text) of the rows, in one read.
    let mut stmt = conn
        .prepare_cached(
            "SELECT day, dim, key, value FROM analytics_counters
             WHERE tenant_id = ?1 AND scope = ?2 AND day >= ?3 AND day <= ?4
             UNION ALL
             SELECT day, dim, name, value FROM analytics_labels
             WHERE tenant_id = ?1 AND scope = ?2 AND day >= ?3 AND day <= ?4",
        )
        .map_err(db_err)?;
    let found = stmt
        .query_map(params![tenant, scope.as_str(), from, to], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, rusqlite::types::Value>(3)?,
            ))
        })
        .map_err(db_err)?;
    for row in found {
        let (day, dim, key, value) = row.map_err(db_err)?;
        let r = match out.entry((day, dim)) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let (day, dim) = e.key().clone();
                e.insert(CounterRow {
                    day: day_of(&day)?,
                    dim,
                    ..CounterRow::default()
                })
            }
        };
        match value {
            rusqlite::types::Value::Integer(n) => {
                r.counts.insert(key, n);
            }
            rusqlite::types::Value::Text(t) => {
                r.labels.insert(key, t);
            }
            _ => return Err(corrupt("analytics counter", "neither a number nor a label")),
        }
    }
    Ok(out.into_values().collect())
}

#[async_trait]
impl AnalyticsStore for SqliteStore {
    async fn counter_rows(
        &self,
        tenant: &TenantId,
        scope: Scope,
        from: Date,
        to: Date,
    ) -> Result<Vec<CounterRow>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| rows(conn, &t, scope, &from.to_string(), &to.to_string()))
            .await
    }

    async fn counter_totals(&self, tenant: &TenantId) -> Result<CounterRow, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| {
            Ok(rows(conn, &t, Scope::Overview, TOTAL, TOTAL)?
                .into_iter()
                .next()
                .unwrap_or_default())
        })
        .await
    }

    async fn snapshot_customers(
        &self,
        tenant: &TenantId,
        cursor: Option<String>,
        limit: usize,
    ) -> Result<CustomerBatch, StoreError> {
        let t = tenant.to_string();
        let after = cursor.unwrap_or_default();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT customer_id, profile, account, stage, tier_segment, rfm_segment,
                        EXISTS (SELECT 1 FROM survey_responses s
                                WHERE s.tenant_id = customers.tenant_id
                                  AND s.customer_id = customers.customer_id
                                  AND json_extract(s.response, '$.nps') IS NOT NULL)
                     FROM customers
                     WHERE tenant_id = ?1 AND customer_id > ?2 ORDER BY customer_id LIMIT ?3",
                )
                .map_err(db_err)?;
            let found = stmt
                .query_map(params![t, after, limit], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        Segments {
                            lifecycle: r.get(3)?,
                            tier: r.get(4)?,
                            rfm: r.get(5)?,
                        },
                        r.get::<_, bool>(6)?,
                    ))
                })
                .map_err(db_err)?;
            let mut out = Vec::new();
            let mut last = None;
            for row in found {
                let (id, profile, account, segments, nps_answered) = row.map_err(db_err)?;
                let profile: Profile =
                    serde_json::from_str(&profile).map_err(|e| corrupt("profile", e))?;
                let account = match account {
                    Some(a) => serde_json::from_str(&a).map_err(|e| corrupt("account", e))?,
                    None => Default::default(),
                };
                out.push(SnapshotCustomer {
                    profile,
                    account,
                    segments,
                    nps_answered,
                });
                last = Some(id);
            }
            let next = if out.len() as i64 == limit {
                last
            } else {
                None
            };
            Ok((out, next))
        })
        .await
    }

    async fn move_segments(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        from: &Segments,
        to: &Segments,
        counters: &Counters,
    ) -> Result<bool, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        let (from, to, counters) = (from.clone(), to.clone(), counters.clone());
        self.write(move |conn| {
            let tx = crate::begin(conn)?;
            let n = tx
                .prepare_cached(
                    "UPDATE customers SET stage = ?3, tier_segment = ?4, rfm_segment = ?5
                     WHERE tenant_id = ?1 AND customer_id = ?2
                       AND stage IS ?6 AND tier_segment IS ?7 AND rfm_segment IS ?8",
                )
                .map_err(db_err)?
                .execute(params![
                    t,
                    c,
                    to.lifecycle,
                    to.tier,
                    to.rfm,
                    from.lifecycle,
                    from.tier,
                    from.rfm
                ])
                .map_err(db_err)?;
            if n == 0 {
                return Ok(false);
            }
            let (added, removed) = from.token_changes(&to);
            crate::lookups::change(&tx, &t, &c, &added, &removed)?;
            add(&tx, &t, &c, &counters)?;
            tx.commit().map_err(db_err)?;
            Ok(true)
        })
        .await
    }

    async fn put_snapshot(&self, tenant: &TenantId, snapshot: &Snapshot) -> Result<(), StoreError> {
        let (t, day, doc) = (
            tenant.to_string(),
            snapshot.day.to_string(),
            json("snapshot", snapshot)?,
        );
        self.write(move |conn| {
            conn.prepare_cached(
                "INSERT INTO analytics_snapshots (tenant_id, day, snapshot) VALUES (?1, ?2, ?3)
                 ON CONFLICT (tenant_id, day) DO UPDATE SET snapshot = excluded.snapshot",
            )
            .map_err(db_err)?
            .execute(params![t, day, doc])
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn latest_snapshot(&self, tenant: &TenantId) -> Result<Option<Snapshot>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .prepare_cached(
                    "SELECT snapshot FROM analytics_snapshots WHERE tenant_id = ?1
                     ORDER BY day DESC LIMIT 1",
                )
                .map_err(db_err)?
                .query_row(params![t], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("snapshot", e)))
                .transpose()
        })
        .await
    }
}
