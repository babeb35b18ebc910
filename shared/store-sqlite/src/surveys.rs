//! The surveys part of the SQLite store: responses, per-day counters and follow-ups in their own
//! tables. A response, its counters and its follow-up are written in one `BEGIN IMMEDIATE`
//! transaction; SQLite serialises writers, so the counters need no shards here.

use async_trait::async_trait;
use fanloop_domain::campaigns::triggers::unhappy_trigger;
use fanloop_domain::ports::{FollowUpPage, RecordError, Recorded, StoreError, SurveyStore};
use fanloop_domain::surveys::{FollowUp, FollowUpStatus, SurveyId, SurveyResponse, Tally};
use fanloop_domain::{CustomerId, TenantId};
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use crate::points::json;
use crate::{SqliteStore, begin, corrupt, db_err};

fn load_response(
    conn: &Connection,
    t: &str,
    survey: &str,
    id: &str,
) -> Result<Option<SurveyResponse>, StoreError> {
    let row: Option<(String, String)> = conn
        .prepare_cached(
            "SELECT response, fingerprint FROM survey_responses WHERE tenant_id = ?1 AND survey_id = ?2 AND response_id = ?3",
        )
        .map_err(db_err)?
        .query_row(params![t, survey, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db_err)?;
    row.map(|(doc, fp)| {
        let mut r: SurveyResponse =
            serde_json::from_str(&doc).map_err(|e| corrupt("survey response", e))?;
        r.fingerprint = fp;
        Ok(r)
    })
    .transpose()
}

pub(crate) fn load_followup(
    conn: &Connection,
    t: &str,
    id: &str,
) -> Result<Option<FollowUp>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT followup FROM followups WHERE tenant_id = ?1 AND id = ?2")
        .map_err(db_err)?
        .query_row(params![t, id], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("follow-up", e)))
        .transpose()
}

pub(crate) fn save_followup(conn: &Connection, t: &str, f: &FollowUp) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO followups (tenant_id, id, status, customer_id, followup) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant_id, id) DO UPDATE SET status = excluded.status,
             customer_id = excluded.customer_id, followup = excluded.followup",
    )
    .map_err(db_err)?
    .execute(params![
        t,
        f.id,
        f.status.as_str(),
        f.customer_id.as_ref().map(|c| c.as_str()),
        json("follow-up", f)?
    ])
    .map_err(db_err)?;
    Ok(())
}

fn docs<T: serde::de::DeserializeOwned>(
    conn: &Connection,
    what: &str,
    sql: &str,
    t: &str,
    c: &str,
) -> Result<Vec<T>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params![t, c], |r| r.get::<_, String>(0))
        .map_err(db_err)?;
    rows.map(|d| serde_json::from_str(&d.map_err(db_err)?).map_err(|e| corrupt(what, e)))
        .collect()
}

/// The customer's responses and follow-ups, oldest first (export).
pub(crate) fn customer_surveys(
    conn: &Connection,
    t: &str,
    c: &str,
) -> Result<(Vec<SurveyResponse>, Vec<FollowUp>), StoreError> {
    let mut responses: Vec<SurveyResponse> = docs(
        conn,
        "survey response",
        "SELECT response FROM survey_responses WHERE tenant_id = ?1 AND customer_id = ?2",
        t,
        c,
    )?;
    responses.sort_by_key(|r| (r.received_at, r.response_id.clone()));
    let followups = docs(
        conn,
        "follow-up",
        "SELECT followup FROM followups WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY id",
        t,
        c,
    )?;
    Ok((responses, followups))
}

/// Erasure: the customer's responses and follow-ups lose the customer and their words; the
/// scores stay, so the counters still match the responses.
pub(crate) fn anonymise_customer(conn: &Connection, t: &str, c: &str) -> Result<(), StoreError> {
    let mut responses: Vec<SurveyResponse> = docs(
        conn,
        "survey response",
        "SELECT response FROM survey_responses WHERE tenant_id = ?1 AND customer_id = ?2",
        t,
        c,
    )?;
    for r in &mut responses {
        r.anonymise();
        conn.prepare_cached(
            "UPDATE survey_responses SET customer_id = NULL, fingerprint = '', response = ?4
             WHERE tenant_id = ?1 AND survey_id = ?2 AND response_id = ?3",
        )
        .map_err(db_err)?
        .execute(params![
            t,
            r.survey_id.as_str(),
            r.response_id.as_str(),
            json("survey response", r)?
        ])
        .map_err(db_err)?;
    }
    let mut followups: Vec<FollowUp> = docs(
        conn,
        "follow-up",
        "SELECT followup FROM followups WHERE tenant_id = ?1 AND customer_id = ?2",
        t,
        c,
    )?;
    for f in &mut followups {
        if f.anonymise() {
            save_followup(conn, t, f)?;
        }
    }
    Ok(())
}

#[async_trait]
impl SurveyStore for SqliteStore {
    async fn record_response(
        &self,
        tenant: &TenantId,
        response: &SurveyResponse,
    ) -> Result<Recorded, RecordError> {
        let t = tenant.to_string();
        let r = response.clone();
        self.write(move |conn| {
            let tx = begin(conn)?;
            let survey = r.survey_id.as_str();
            if let Some(existing) = load_response(&tx, &t, survey, r.response_id.as_str())? {
                return Ok(Recorded::Duplicate(Box::new(existing)));
            }
            if let Some(c) = &r.customer_id {
                let exists: Option<i64> = tx
                    .prepare_cached(
                        "SELECT 1 FROM customers WHERE tenant_id = ?1 AND customer_id = ?2",
                    )
                    .map_err(db_err)?
                    .query_row(params![t, c.as_str()], |row| row.get(0))
                    .optional()
                    .map_err(db_err)?;
                if exists.is_none() {
                    return Err(RecordError::UnknownCustomer);
                }
            }
            tx.prepare_cached(
                "INSERT INTO survey_responses (tenant_id, survey_id, response_id, customer_id, response, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db_err)?
            .execute(params![
                t,
                survey,
                r.response_id.as_str(),
                r.customer_id.as_ref().map(CustomerId::as_str),
                json("survey response", &r)?,
                r.fingerprint
            ])
            .map_err(db_err)?;
            {
                let mut add = tx
                    .prepare_cached(
                        "INSERT INTO survey_counters (tenant_id, survey_id, day, key, count) VALUES (?1, ?2, ?3, ?4, 1)
                         ON CONFLICT (tenant_id, survey_id, day, key) DO UPDATE SET count = count + 1",
                    )
                    .map_err(db_err)?;
                let day = r.day.to_string();
                for key in r.counter_keys() {
                    add.execute(params![t, survey, day, key]).map_err(db_err)?;
                }
            }
            if let Some(f) = r.followup() {
                save_followup(&tx, &t, &f)?;
                if let Some(trigger) = unhappy_trigger(&f) {
                    crate::triggers::put(&tx, &t, &trigger)?;
                }
            }
            tx.commit().map_err(db_err)?;
            Ok(Recorded::Created)
        })
        .await
    }

    async fn customer_surveys(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<(Vec<SurveyResponse>, Vec<FollowUp>), StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        self.read(move |conn| customer_surveys(conn, &t, &c)).await
    }

    async fn survey_tallies(
        &self,
        tenant: &TenantId,
        survey: &SurveyId,
        from: Date,
        to: Date,
    ) -> Result<Vec<Tally>, StoreError> {
        let (t, s) = (tenant.to_string(), survey.to_string());
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT day, key, count FROM survey_counters
                     WHERE tenant_id = ?1 AND survey_id = ?2 AND day >= ?3 AND day <= ?4 ORDER BY day",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t, s, from.to_string(), to.to_string()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                })
                .map_err(db_err)?;
            let mut out: Vec<Tally> = Vec::new();
            for row in rows {
                let (day, key, count) = row.map_err(db_err)?;
                let day: Date = day.parse().map_err(|e| corrupt("survey day", e))?;
                if out.last().is_none_or(|t| t.day != Some(day)) {
                    out.push(Tally {
                        day: Some(day),
                        ..Tally::default()
                    });
                }
                if let Some(last) = out.last_mut() {
                    last.add(&key, u64::try_from(count).unwrap_or(0));
                }
            }
            Ok(out)
        })
        .await
    }

    async fn followup(&self, tenant: &TenantId, id: &str) -> Result<Option<FollowUp>, StoreError> {
        let (t, id) = (tenant.to_string(), id.to_owned());
        self.read(move |conn| load_followup(conn, &t, &id)).await
    }

    async fn followups(
        &self,
        tenant: &TenantId,
        status: FollowUpStatus,
        after: Option<&str>,
        limit: usize,
    ) -> Result<FollowUpPage, StoreError> {
        let (t, after) = (tenant.to_string(), after.unwrap_or("").to_owned());
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT followup FROM followups WHERE tenant_id = ?1 AND status = ?2 AND id > ?3
                     ORDER BY id LIMIT ?4",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(
                    params![
                        t,
                        status.as_str(),
                        after,
                        i64::try_from(limit + 1).unwrap_or(i64::MAX)
                    ],
                    |r| r.get::<_, String>(0),
                )
                .map_err(db_err)?;
            let items = rows
                .map(|d| {
                    serde_json::from_str::<FollowUp>(&d.map_err(db_err)?)
                        .map_err(|e| corrupt("follow-up", e))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(FollowUpPage::from_overfetch(items, limit))
        })
        .await
    }

    async fn close_followup(
        &self,
        tenant: &TenantId,
        id: &str,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<Option<FollowUp>, StoreError> {
        let (t, id) = (tenant.to_string(), id.to_owned());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let Some(mut f) = load_followup(&tx, &t, &id)? else {
                return Ok(None);
            };
            if f.close(note, now) {
                save_followup(&tx, &t, &f)?;
                tx.commit().map_err(db_err)?;
            }
            Ok(Some(f))
        })
        .await
    }

    async fn set_followup_recovery(
        &self,
        tenant: &TenantId,
        id: &str,
        recovery: &str,
    ) -> Result<(), StoreError> {
        let (t, id, recovery) = (tenant.to_string(), id.to_owned(), recovery.to_owned());
        self.write(move |conn| {
            let tx = begin(conn)?;
            if let Some(mut f) = load_followup(&tx, &t, &id)?
                && f.set_recovery(&recovery)
            {
                save_followup(&tx, &t, &f)?;
                tx.commit().map_err(db_err)?;
            }
            Ok(())
        })
        .await
    }
}
