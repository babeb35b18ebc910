//! The contact log: one row per `(tenant, customer, contact_id)`, ordered by
//! [`Contact::sort_key`] for newest-first reads; deleted with the customer.

use async_trait::async_trait;
use fanloop_domain::contacts::Contact;
use fanloop_domain::ports::{ContactRecorded, ContactStore, RecordError, StoreError};
use fanloop_domain::{CustomerId, TenantId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{SqliteStore, begin, corrupt, db_err};

fn parse(doc: &str, fingerprint: String) -> Result<Contact, StoreError> {
    let mut c: Contact = serde_json::from_str(doc).map_err(|e| corrupt("contact", e))?;
    c.fingerprint = fingerprint;
    Ok(c)
}

/// The customer's contacts, oldest first, for the export.
pub(crate) fn customer_contacts(
    conn: &Connection,
    tenant: &str,
    customer: &str,
) -> Result<Vec<Contact>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT contact, fingerprint FROM contacts WHERE tenant_id = ?1 AND customer_id = ?2
             ORDER BY sort_key",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![tenant, customer], |r| Ok((r.get(0)?, r.get(1)?)))
        .map_err(db_err)?;
    rows.map(|r| {
        r.map_err(db_err)
            .and_then(|(d, f): (String, String)| parse(&d, f))
    })
    .collect()
}

#[async_trait]
impl ContactStore for SqliteStore {
    async fn record_contact(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        contact: &Contact,
    ) -> Result<ContactRecorded, RecordError> {
        let (t, c, contact) = (tenant.to_string(), customer.to_string(), contact.clone());
        let doc = serde_json::to_string(&contact).map_err(|e| corrupt("contact", e))?;
        self.write(move |conn| {
            let tx = begin(conn)?;
            let existing: Option<(String, String)> = tx
                .query_row(
                    "SELECT contact, fingerprint FROM contacts
                     WHERE tenant_id = ?1 AND customer_id = ?2 AND contact_id = ?3",
                    params![t, c, contact.contact_id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            if let Some((doc, fingerprint)) = existing {
                return Ok(ContactRecorded::Duplicate(parse(&doc, fingerprint)?));
            }
            let known: Option<i64> = tx
                .query_row(
                    "SELECT 1 FROM customers WHERE tenant_id = ?1 AND customer_id = ?2",
                    params![t, c],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            if known.is_none() {
                return Err(RecordError::UnknownCustomer);
            }
            tx.execute(
                "INSERT INTO contacts (tenant_id, customer_id, contact_id, sort_key, contact, fingerprint)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![t, c, contact.contact_id, contact.sort_key(), doc, contact.fingerprint],
            )
            .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(ContactRecorded::Created)
        })
        .await
    }

    async fn contacts(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Vec<Contact>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        // `~` sorts after every key (digits, `#` and the id alphabet).
        let before = before.unwrap_or("~").to_owned();
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT contact, fingerprint FROM contacts
                     WHERE tenant_id = ?1 AND customer_id = ?2 AND sort_key < ?3
                     ORDER BY sort_key DESC LIMIT ?4",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![t, c, before, limit], |r| Ok((r.get(0)?, r.get(1)?)))
                .map_err(db_err)?;
            rows.map(|r| {
                r.map_err(db_err)
                    .and_then(|(d, f): (String, String)| parse(&d, f))
            })
            .collect()
        })
        .await
    }
}
