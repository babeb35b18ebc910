//! The campaign reports' counters: one row per tenant, campaign, UTC day and field, changed in
//! the transaction of the write it counts.

use fanloop_domain::campaigns::CampaignRef;
use fanloop_domain::campaigns::tally::{Tally, TallyField, grouped};
use fanloop_domain::ports::StoreError;
use jiff::civil::Date;
use rusqlite::{Connection, params};

use crate::{corrupt, db_err};

/// Applies `changes` (inside the caller's transaction).
pub(crate) fn apply(conn: &Connection, t: &str, changes: &[Tally]) -> Result<(), StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "INSERT INTO campaign_tallies (tenant_id, campaign, day, field, n) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (tenant_id, campaign, day, field) DO UPDATE SET n = n + excluded.n",
        )
        .map_err(db_err)?;
    for ((campaign, day), fields) in grouped(changes) {
        for (field, n) in fields {
            stmt.execute(params![
                t,
                campaign.as_str(),
                day.to_string(),
                field.name(),
                n
            ])
            .map_err(db_err)?;
        }
    }
    Ok(())
}

/// The counters of `campaign` from `from` to `to` (UTC days, inclusive).
pub(crate) fn rows(
    conn: &Connection,
    t: &str,
    campaign: &CampaignRef,
    from: Date,
    to: Date,
) -> Result<Vec<(Date, TallyField, i64)>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT day, field, n FROM campaign_tallies
             WHERE tenant_id = ?1 AND campaign = ?2 AND day >= ?3 AND day <= ?4",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(
            params![t, campaign.as_str(), from.to_string(), to.to_string()],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            },
        )
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (day, field, n) = row.map_err(db_err)?;
        let day = day.parse().map_err(|e| corrupt("tally day", e))?;
        // A field this version does not know (written by a later one) is left out.
        if let Some(f) = TallyField::parse(&field) {
            out.push((day, f, n));
        }
    }
    Ok(out)
}
