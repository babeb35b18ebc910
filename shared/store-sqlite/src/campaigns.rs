//! The campaigns part of the SQLite store: the contact state on the customer row, messages
//! (send markers that are also the communication log) in their own table. A claim is one
//! `BEGIN IMMEDIATE` transaction: read, decide (domain rule), write.

use async_trait::async_trait;
use fanloop_domain::campaigns::backlog::{LateActive, WinbackBacklog};
use fanloop_domain::campaigns::tally::TallyField;
use fanloop_domain::campaigns::tally::{marker_change, skip_marker};
use fanloop_domain::campaigns::{
    CampaignRef, ContactState, Message, Recipient, SendPlan, decide, send_key,
};
use fanloop_domain::ports::{CampaignStore, ClaimOutcome, IndexedRecipient, StoreError};
use fanloop_domain::{CustomerId, TenantId, time};
use rusqlite::{Connection, OptionalExtension, params};

use crate::points::json;
use crate::{SqliteStore, backlog, begin, corrupt, db_err, tallies};

fn recipient(
    profile: &str,
    account: Option<String>,
    contact: Option<String>,
) -> Result<Recipient, StoreError> {
    Ok(Recipient {
        profile: serde_json::from_str(profile).map_err(|e| corrupt("profile", e))?,
        account: match account {
            Some(a) => serde_json::from_str(&a).map_err(|e| corrupt("account", e))?,
            None => Default::default(),
        },
        contact: match contact {
            Some(c) => serde_json::from_str(&c).map_err(|e| corrupt("contact", e))?,
            None => ContactState::default(),
        },
    })
}

fn recipients_where(
    conn: &Connection,
    t: &str,
    column: &str,
    value: &str,
) -> Result<Vec<IndexedRecipient>, StoreError> {
    let sql = format!(
        "SELECT profile, account, contact FROM customers WHERE tenant_id = ?1 AND {column} = ?2 ORDER BY customer_id"
    );
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(params![t, value], |r| {
            Ok((r.get::<_, String>(0)?, r.get(1)?, r.get(2)?))
        })
        .map_err(db_err)?;
    rows.map(|row| {
        let (p, a, c) = row.map_err(db_err)?;
        Ok(IndexedRecipient {
            recipient: recipient(&p, a, c)?,
            version: String::new(),
        })
    })
    .collect()
}

fn load_message(
    conn: &Connection,
    t: &str,
    c: &str,
    key: &str,
) -> Result<Option<Message>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached(
            "SELECT message FROM messages WHERE tenant_id = ?1 AND customer_id = ?2 AND key = ?3",
        )
        .map_err(db_err)?
        .query_row(params![t, c, key], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("message", e)))
        .transpose()
}

fn save_message(conn: &Connection, t: &str, c: &str, m: &Message) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages (tenant_id, customer_id, key, message, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant_id, customer_id, key) DO UPDATE SET message = excluded.message, created_at = excluded.created_at",
    )
    .map_err(db_err)?
    .execute(params![t, c, m.key(), json("message", m)?, time::format(m.created_at)])
    .map_err(db_err)?;
    Ok(())
}

/// The customer's messages, newest first.
pub(crate) fn load_messages(
    conn: &Connection,
    t: &str,
    c: &str,
) -> Result<Vec<Message>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT message, delivery FROM messages WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY created_at DESC, key")
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![t, c], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })
        .map_err(db_err)?;
    rows.map(|r| {
        let (d, delivery) = r.map_err(db_err)?;
        let m = serde_json::from_str(&d).map_err(|e| corrupt("message", e))?;
        crate::suppressions::with_delivery(m, delivery)
    })
    .collect()
}

#[async_trait]
impl CampaignStore for SqliteStore {
    async fn tenant_ids(&self) -> Result<Vec<TenantId>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn
                .prepare("SELECT id FROM tenants ORDER BY id")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db_err)?;
            rows.map(|r| {
                let id = r.map_err(db_err)?;
                TenantId::parse(id).map_err(|e| corrupt("tenant id", e))
            })
            .collect()
        })
        .await
    }

    async fn recipients_by_birthday(
        &self,
        tenant: &TenantId,
        month_day: &str,
    ) -> Result<Vec<IndexedRecipient>, StoreError> {
        let (t, md) = (tenant.to_string(), month_day.to_owned());
        self.read(move |conn| recipients_where(conn, &t, "birthday_md", &md))
            .await
    }

    async fn recipients_last_active_on(
        &self,
        tenant: &TenantId,
        day: jiff::civil::Date,
    ) -> Result<Vec<IndexedRecipient>, StoreError> {
        let (t, d) = (tenant.to_string(), day.to_string());
        self.read(move |conn| recipients_where(conn, &t, "last_active_day", &d))
            .await
    }

    async fn winback_backlog(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<WinbackBacklog>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| backlog::load_pass(conn, &t)).await
    }

    async fn save_winback_backlog(
        &self,
        tenant: &TenantId,
        pass: Option<&WinbackBacklog>,
    ) -> Result<(), StoreError> {
        let (t, pass) = (tenant.to_string(), pass.cloned());
        self.write(move |conn| backlog::save_pass(conn, &t, pass.as_ref()))
            .await
    }

    async fn late_actives(
        &self,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<Vec<LateActive>, StoreError> {
        let t = tenant.to_string();
        self.read(move |conn| backlog::late(conn, &t, limit)).await
    }

    async fn clear_late_actives(
        &self,
        tenant: &TenantId,
        done: &[LateActive],
    ) -> Result<(), StoreError> {
        let (t, done) = (tenant.to_string(), done.to_vec());
        self.write(move |conn| backlog::clear_late(conn, &t, &done))
            .await
    }

    async fn claim_send(
        &self,
        tenant: &TenantId,
        plan: &SendPlan,
        customer: &CustomerId,
        _known: Option<&IndexedRecipient>,
    ) -> Result<ClaimOutcome, StoreError> {
        let (t, c, plan) = (tenant.to_string(), customer.to_string(), plan.clone());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let row: Option<(String, Option<String>, Option<String>)> = tx
                .prepare_cached("SELECT profile, account, contact FROM customers WHERE tenant_id = ?1 AND customer_id = ?2")
                .map_err(db_err)?
                .query_row(params![t, c], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
                .map_err(db_err)?;
            let Some((p, a, ct)) = row else {
                return Ok(ClaimOutcome::NotFound);
            };
            let r = recipient(&p, a, ct)?;
            let existing = load_message(&tx, &t, &c, &send_key(&plan.campaign, &plan.period))?;
            let claim = match decide(&plan, &r, existing.as_ref()) {
                Ok(claim) => claim,
                Err(reason) => {
                    if let Some(m) = skip_marker(&plan, reason, existing.as_ref()) {
                        save_message(&tx, &t, &c, &m)?;
                        tallies::apply(&tx, &t, &marker_change(existing.as_ref(), &m))?;
                        tx.commit().map_err(db_err)?;
                    }
                    return Ok(ClaimOutcome::Skipped(reason));
                }
            };
            save_message(&tx, &t, &c, &claim.message)?;
            tallies::apply(&tx, &t, &marker_change(existing.as_ref(), &claim.message))?;
            if let Some(coupon) = &claim.coupon {
                tx.prepare_cached("INSERT INTO coupons (tenant_id, code, customer_id, coupon) VALUES (?1, ?2, ?3, ?4)")
                    .map_err(db_err)?
                    .execute(params![t, coupon.code.as_str(), c, json("coupon", coupon)?])
                    .map_err(db_err)?;
            }
            tx.prepare_cached("UPDATE customers SET contact = ?3 WHERE tenant_id = ?1 AND customer_id = ?2")
                .map_err(db_err)?
                .execute(params![t, c, json("contact", &claim.contact)?])
                .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(ClaimOutcome::Claimed(claim, Box::new(r)))
        })
        .await
    }

    async fn finish_send(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        message: &Message,
    ) -> Result<(), StoreError> {
        let (t, c, m) = (tenant.to_string(), customer.to_string(), message.clone());
        self.write(move |conn| {
            let tx = begin(conn)?;
            // Only the attempt that holds the marker may finish it; a customer erased meanwhile
            // stays erased.
            let current = load_message(&tx, &t, &c, &m.key())?;
            if let Some(cur) = current.filter(|cur| cur.attempts == m.attempts) {
                save_message(&tx, &t, &c, &m)?;
                tallies::apply(&tx, &t, &marker_change(Some(&cur), &m))?;
            }
            tx.commit().map_err(db_err)
        })
        .await
    }

    async fn messages(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Vec<Message>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        self.read(move |conn| load_messages(conn, &t, &c)).await
    }

    async fn attribute_purchase(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        at: jiff::Timestamp,
    ) -> Result<usize, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let doc: Option<Option<String>> = tx
                .prepare_cached(
                    "SELECT contact FROM customers WHERE tenant_id = ?1 AND customer_id = ?2",
                )
                .map_err(db_err)?
                .query_row(params![t, c], |r| r.get(0))
                .optional()
                .map_err(db_err)?;
            let Some(Some(doc)) = doc else {
                return Ok(0);
            };
            let mut contact: ContactState =
                serde_json::from_str(&doc).map_err(|e| corrupt("contact", e))?;
            let changes = contact.convert(at);
            if changes.is_empty() {
                return Ok(0);
            }
            tx.prepare_cached(
                "UPDATE customers SET contact = ?3 WHERE tenant_id = ?1 AND customer_id = ?2",
            )
            .map_err(db_err)?
            .execute(params![t, c, json("contact", &contact)?])
            .map_err(db_err)?;
            tallies::apply(&tx, &t, &changes)?;
            tx.commit().map_err(db_err)?;
            Ok(changes.len())
        })
        .await
    }

    async fn campaign_tallies(
        &self,
        tenant: &TenantId,
        campaign: &CampaignRef,
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    ) -> Result<Vec<(jiff::civil::Date, TallyField, i64)>, StoreError> {
        let (t, campaign) = (tenant.to_string(), campaign.clone());
        self.read(move |conn| tallies::rows(conn, &t, &campaign, from, to))
            .await
    }
}
