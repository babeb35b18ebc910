//! The win-back backlog in SQLite: where the day pass stands (`winback_backlog`, one row per
//! tenant) and the customers marked by late activity (`winback_late`), written in the same
//! transaction as the activity.

use fanloop_domain::CustomerId;
use fanloop_domain::campaigns::backlog::{Activity, LateActive, WinbackBacklog};
use fanloop_domain::ports::StoreError;
use fanloop_domain::profile::Profile;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{corrupt, db_err, load_profile};

/// What an activity changes on the customer row: the profile document, and the UTC day of
/// the last activity when that moved (the column the win-back run's index reads).
pub(crate) struct Touched {
    pub profile: String,
    pub day: Option<String>,
}

/// The profile after `activity` when it moves the last activity forward (`None` when it does
/// not); marks the customer for the backlog when the activity is late. The caller writes the
/// row (with the account, for an accrual: one row write per operation).
pub(crate) fn advance(
    conn: &Connection,
    tenant: &str,
    mut p: Profile,
    activity: Activity,
) -> Result<Option<Touched>, StoreError> {
    if !activity.moves_from(p.last_active_at) {
        return Ok(None);
    }
    let counters = fanloop_domain::analytics::activity_counters(&activity, p.last_active_at);
    crate::analytics::add(conn, tenant, p.customer_id.as_str(), &counters)?;
    let before = crate::active_day(&p);
    p.touch(activity.at);
    let after = crate::active_day(&p);
    if activity.late {
        conn.prepare_cached(
            "INSERT INTO winback_late (tenant_id, customer_id, day) VALUES (?1, ?2, ?3)
             ON CONFLICT (tenant_id, customer_id) DO UPDATE SET day = excluded.day",
        )
        .map_err(db_err)?
        .execute(params![tenant, p.customer_id.as_str(), after])
        .map_err(db_err)?;
    }
    Ok(Some(Touched {
        profile: serde_json::to_string(&p).map_err(|e| corrupt("profile", e))?,
        day: (after != before).then_some(after),
    }))
}

/// Moves the customer's last activity forward to `activity.at`, marking them for the backlog
/// when it is late; `false` if there is no such customer.
pub(crate) fn touch(
    conn: &Connection,
    tenant: &str,
    customer: &str,
    activity: Activity,
) -> Result<bool, StoreError> {
    let Some(p) = load_profile(conn, tenant, customer)? else {
        return Ok(false);
    };
    let Some(t) = advance(conn, tenant, p, activity)? else {
        return Ok(true);
    };
    let mut stmt = match &t.day {
        None => conn.prepare_cached(
            "UPDATE customers SET profile = ?3 WHERE tenant_id = ?1 AND customer_id = ?2",
        ),
        Some(_) => conn.prepare_cached(
            "UPDATE customers SET profile = ?3, last_active_day = ?4
             WHERE tenant_id = ?1 AND customer_id = ?2",
        ),
    }
    .map_err(db_err)?;
    match &t.day {
        None => stmt.execute(params![tenant, customer, t.profile]),
        Some(day) => stmt.execute(params![tenant, customer, t.profile, day]),
    }
    .map_err(db_err)?;
    Ok(true)
}

pub(crate) fn load_pass(
    conn: &Connection,
    tenant: &str,
) -> Result<Option<WinbackBacklog>, StoreError> {
    let doc: Option<String> = conn
        .query_row(
            "SELECT pass FROM winback_backlog WHERE tenant_id = ?1",
            params![tenant],
            |r| r.get(0),
        )
        .optional()
        .map_err(db_err)?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("winback backlog", e)))
        .transpose()
}

pub(crate) fn save_pass(
    conn: &Connection,
    tenant: &str,
    pass: Option<&WinbackBacklog>,
) -> Result<(), StoreError> {
    match pass {
        Some(p) => {
            let doc = serde_json::to_string(p).map_err(|e| corrupt("winback backlog", e))?;
            conn.execute(
                "INSERT INTO winback_backlog (tenant_id, pass) VALUES (?1, ?2)
                 ON CONFLICT (tenant_id) DO UPDATE SET pass = excluded.pass",
                params![tenant, doc],
            )
        }
        None => conn.execute(
            "DELETE FROM winback_backlog WHERE tenant_id = ?1",
            params![tenant],
        ),
    }
    .map_err(db_err)?;
    Ok(())
}

pub(crate) fn late(
    conn: &Connection,
    tenant: &str,
    limit: usize,
) -> Result<Vec<LateActive>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT customer_id, day FROM winback_late WHERE tenant_id = ?1 ORDER BY customer_id LIMIT ?2",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(
            params![tenant, i64::try_from(limit).unwrap_or(i64::MAX)],
            |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)),
        )
        .map_err(db_err)?;
    rows.map(|row| {
        let (c, d) = row.map_err(db_err)?;
        Ok(LateActive {
            customer_id: CustomerId::parse(c).map_err(|e| corrupt("late customer id", e))?,
            day: d.parse().map_err(|e| corrupt("late day", e))?,
        })
    })
    .collect()
}

pub(crate) fn clear_late(
    conn: &Connection,
    tenant: &str,
    done: &[LateActive],
) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "DELETE FROM winback_late WHERE tenant_id = ?1 AND customer_id = ?2 AND day = ?3",
        )
        .map_err(db_err)?;
    for l in done {
        stmt.execute(params![tenant, l.customer_id.as_str(), l.day.to_string()])
            .map_err(db_err)?;
    }
    Ok(())
}
