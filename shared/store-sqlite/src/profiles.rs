//! Profiles and identity claims: the upsert (with the search index), activity, export and
//! erasure.

use async_trait::async_trait;
use fanloop_domain::campaigns::backlog::Activity;
use fanloop_domain::campaigns::triggers::signup_trigger;
use fanloop_domain::export::CustomerExport;
use fanloop_domain::lookup::CustomerQuery;
use fanloop_domain::ports::{
    CustomerPage, Erased, ProfileStore, StoreError, UpsertError, Upserted,
};
use fanloop_domain::profile::{IDENTITIES_MAX, Identity, Profile, ProfilePatch};
use fanloop_domain::{CustomerId, TenantId, time};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    SqliteStore, backlog, begin, campaigns, corrupt, db_err, events, lookups, points, surveys,
};

fn identity_owner(
    conn: &Connection,
    tenant: &str,
    id: &Identity,
) -> Result<Option<String>, StoreError> {
    conn.query_row(
        "SELECT customer_id FROM identities WHERE tenant_id = ?1 AND platform = ?2 AND external_id = ?3",
        params![tenant, id.platform.as_str(), id.external_id.as_str()],
        |r| r.get(0),
    )
    .optional()
    .map_err(db_err)
}

pub(crate) fn load_profile(
    conn: &Connection,
    tenant: &str,
    customer: &str,
) -> Result<Option<Profile>, StoreError> {
    let doc: Option<String> = conn
        .prepare_cached("SELECT profile FROM customers WHERE tenant_id = ?1 AND customer_id = ?2")
        .map_err(db_err)?
        .query_row(params![tenant, customer], |r| r.get(0))
        .optional()
        .map_err(db_err)?;
    doc.map(|d| serde_json::from_str(&d).map_err(|e| corrupt("profile", e)))
        .transpose()
}

/// The UTC day the win-back index files the customer under: their last activity, or their
/// creation before any.
pub(crate) fn active_day(p: &Profile) -> String {
    time::utc_day(p.last_active_at.unwrap_or(p.created_at))
}

pub(crate) fn save_profile(conn: &Connection, tenant: &str, p: &Profile) -> Result<(), StoreError> {
    let doc = serde_json::to_string(p).map_err(|e| corrupt("profile", e))?;
    let birthday_md = p.birthday.map(|b| b.month_day());
    let active_day = active_day(p);
    conn.prepare_cached(
        "INSERT INTO customers (tenant_id, customer_id, profile, birthday_md, last_active_day)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant_id, customer_id) DO UPDATE SET
           profile = excluded.profile, birthday_md = excluded.birthday_md,
           last_active_day = excluded.last_active_day",
    )
    .map_err(db_err)?
    .execute(params![
        tenant,
        p.customer_id.as_str(),
        doc,
        birthday_md,
        active_day
    ])
    .map_err(db_err)?;
    Ok(())
}

#[async_trait]
impl ProfileStore for SqliteStore {
    async fn upsert_profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        patch: &ProfilePatch,
        now: Timestamp,
    ) -> Result<Upserted, UpsertError> {
        let (tenant, customer, patch) = (tenant.to_string(), customer.clone(), patch.clone());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let existing = load_profile(&tx, &tenant, customer.as_str())?;
            let created = existing.is_none();
            let mut profile = existing.unwrap_or_else(|| Profile::new(customer.clone(), now));
            let before = profile.identities.clone();
            profile.apply(&patch, now);
            if profile.identities.len() > IDENTITIES_MAX {
                return Err(UpsertError::TooManyIdentities);
            }
            for id in profile.identities.iter().filter(|i| !before.contains(i)) {
                match identity_owner(&tx, &tenant, id)? {
                    Some(o) if o != customer.as_str() => return Err(UpsertError::IdentityTaken(id.clone())),
                    Some(_) => {}
                    None => {
                        tx.execute(
                            "INSERT INTO identities (tenant_id, platform, external_id, customer_id) VALUES (?1, ?2, ?3, ?4)",
                            params![tenant, id.platform.as_str(), id.external_id.as_str(), customer.as_str()],
                        )
                        .map_err(db_err)?;
                    }
                }
            }
            save_profile(&tx, &tenant, &profile)?;
            let key = lookups::key_or_create(&tx, &tenant)?;
            lookups::sync(&tx, &tenant, &profile, &key)?;
            if let Some(t) = signup_trigger(created && !patch.imported, &profile, now) {
                crate::triggers::put(&tx, &tenant, &t)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(Upserted { profile, created })
        })
        .await
    }

    async fn profile(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<Profile>, StoreError> {
        let (tenant, customer) = (tenant.to_string(), customer.to_string());
        self.read(move |conn| load_profile(conn, &tenant, &customer))
            .await
    }

    async fn customer_for_identity(
        &self,
        tenant: &TenantId,
        identity: &Identity,
    ) -> Result<Option<CustomerId>, StoreError> {
        let (tenant, identity) = (tenant.to_string(), identity.clone());
        self.read(move |conn| {
            identity_owner(conn, &tenant, &identity)?
                .map(|c| CustomerId::parse(c).map_err(|e| corrupt("identity", e)))
                .transpose()
        })
        .await
    }

    async fn find_customers(
        &self,
        tenant: &TenantId,
        query: &CustomerQuery,
        after: Option<&CustomerId>,
        limit: usize,
    ) -> Result<CustomerPage, StoreError> {
        let (t, q) = (tenant.to_string(), query.clone());
        let after = after.map_or(String::new(), |c| c.to_string());
        let key = match self.read(move |conn| lookups::key(conn, &t)).await? {
            Some(k) => k,
            // No key yet: make it, indexing what the tenant has.
            None => {
                let t = tenant.to_string();
                self.write(move |conn| lookups::key_or_create(conn, &t))
                    .await?
            }
        };
        let t = tenant.to_string();
        self.read(move |conn| {
            let ids = lookups::find(conn, &t, &q.token(&key), &after, limit)?;
            let next = match ids.last() {
                Some(last) if ids.len() == limit => {
                    Some(CustomerId::parse(last.clone()).map_err(|e| corrupt("lookup", e))?)
                }
                _ => None,
            };
            let mut customers = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some(p) = load_profile(conn, &t, &id)? {
                    customers.push(p);
                }
            }
            Ok(CustomerPage { customers, next })
        })
        .await
    }

    async fn unlink_identity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        identity: &Identity,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let (tenant, customer, identity) =
            (tenant.to_string(), customer.to_string(), identity.clone());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let n = tx
                .execute(
                    "DELETE FROM identities WHERE tenant_id = ?1 AND platform = ?2 AND external_id = ?3 AND customer_id = ?4",
                    params![tenant, identity.platform.as_str(), identity.external_id.as_str(), customer],
                )
                .map_err(db_err)?;
            if n == 0 {
                return Ok(false);
            }
            if let Some(mut p) = load_profile(&tx, &tenant, &customer)? {
                p.unlink(&identity, now);
                save_profile(&tx, &tenant, &p)?;
            }
            tx.commit().map_err(db_err)?;
            Ok(true)
        })
        .await
    }

    async fn record_activity(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        activity: Activity,
    ) -> Result<bool, StoreError> {
        let (tenant, customer) = (tenant.to_string(), customer.to_string());
        self.write(move |conn| {
            let tx = begin(conn)?;
            let known = backlog::touch(&tx, &tenant, &customer, activity)?;
            tx.commit().map_err(db_err)?;
            Ok(known)
        })
        .await
    }

    async fn export_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
    ) -> Result<Option<CustomerExport>, StoreError> {
        let (t, c) = (tenant.to_string(), customer.to_string());
        self.read(move |conn| {
            let Some(profile) = load_profile(conn, &t, &c)? else {
                return Ok(None);
            };
            let docs = |sql: &str| -> Result<Vec<String>, StoreError> {
                let mut stmt = conn.prepare(sql).map_err(db_err)?;
                let rows = stmt.query_map(params![t, c], |r| r.get::<_, String>(0)).map_err(db_err)?;
                rows.map(|r| r.map_err(db_err)).collect()
            };
            let ledger = docs("SELECT entry FROM ledger WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY seq")?
                .iter()
                .map(|d| serde_json::from_str(d).map_err(|e| corrupt("ledger entry", e)))
                .collect::<Result<_, _>>()?;
            let coupons = docs("SELECT coupon FROM coupons WHERE tenant_id = ?1 AND customer_id = ?2 ORDER BY code")?
                .iter()
                .map(|d| serde_json::from_str(d).map_err(|e| corrupt("coupon", e)))
                .collect::<Result<_, _>>()?;
            let messages = campaigns::load_messages(conn, &t, &c)?;
            let (survey_responses, followups) = surveys::customer_surveys(conn, &t, &c)?;
            let events = events::customer_events(conn, &t, &c)?;
            let contacts = crate::contacts::customer_contacts(conn, &t, &c)?;
            let audit = crate::staff::customer_audit_oldest_first(conn, &t, &c)?;
            let cases = crate::cases::customer_cases_oldest_first(conn, &t, &c)?;
            Ok(Some(CustomerExport { profile, ledger, coupons, messages, survey_responses, followups, events, contacts, audit, cases }))
        })
        .await
    }

    async fn erase_customer(
        &self,
        tenant: &TenantId,
        customer: &CustomerId,
        anonymous: &str,
    ) -> Result<Option<Erased>, StoreError> {
        let (t, c, anon) = (
            tenant.to_string(),
            customer.to_string(),
            anonymous.to_owned(),
        );
        let erased = self
            .write(move |conn| {
                let tx = begin(conn)?;
                let message_ids = campaigns::load_messages(&tx, &t, &c)?
                    .into_iter()
                    .map(|m| m.id)
                    .collect();
                let n = tx
                    .execute(
                        "DELETE FROM customers WHERE tenant_id = ?1 AND customer_id = ?2",
                        params![t, c],
                    )
                    .map_err(db_err)?;
                if n == 0 {
                    return Ok(None);
                }
                surveys::anonymise_customer(&tx, &t, &c)?;
                for sql in [
                    "DELETE FROM identities WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM coupons WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM messages WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM winback_late WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM events WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM lookups WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM trigger_outbox WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM parked_triggers WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM lot_index WHERE tenant_id = ?1 AND customer_id = ?2",
                    "DELETE FROM contacts WHERE tenant_id = ?1 AND customer_id = ?2",
                ] {
                    tx.execute(sql, params![t, c]).map_err(db_err)?;
                }
                points::anonymise_ledger(&tx, &t, &c, &anon)?;
                crate::staff::redact_customer_audit(&tx, &t, &c)?;
                crate::cases::anonymise_customer_cases(&tx, &t, &c)?;
                tx.commit().map_err(db_err)?;
                Ok(Some(Erased { message_ids }))
            })
            .await?;
        if erased.is_some() {
            // `secure_delete` zeroed the freed cells in the pages; the WAL still holds the
            // pages as they were, until it is checkpointed into the database and truncated.
            self.checkpoint().await?;
        }
        Ok(erased)
    }
}
