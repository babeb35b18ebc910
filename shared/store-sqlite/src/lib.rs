//! The embedded store: one SQLite file in WAL mode. Writes go to one writer thread that
//! commits them in groups, each operation in its own savepoint; reads run on their own
//! connections (`conn`).

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use fanloop_domain::campaigns::backlog::Activity;
use fanloop_domain::export::CustomerExport;
use fanloop_domain::lookup::CustomerQuery;
use fanloop_domain::ports::{
    CreateTenantError, CustomerPage, Erased, ProfileStore, StoreError, TenantStore, UpsertError,
    Upserted, VersionedSettings,
};
use fanloop_domain::profile::{IDENTITIES_MAX, Identity, Profile, ProfilePatch};
use fanloop_domain::settings::TenantSettings;
use fanloop_domain::tenant::{ApiKeyHash, Tenant};
use fanloop_domain::{CustomerId, TenantId, time};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

mod backlog;
mod campaigns;
mod conn;
mod events;
mod lookups;
mod points;
mod schema;
mod surveys;

#[derive(Clone)]
pub struct SqliteStore {
    db: Arc<conn::Db>,
}

pub(crate) fn db_err(e: rusqlite::Error) -> StoreError {
    StoreError::Unavailable(format!("sqlite: {e}"))
}

pub(crate) fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

impl SqliteStore {
    /// Opens (creating if needed) the database file, brings its schema up to date and starts
    /// the writer.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let mut conn = Connection::open(path).map_err(db_err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        // A commit reaches the OS before its caller is answered, so a killed process loses
        // nothing acknowledged; only a power cut can lose the last commits (not corrupt).
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        conn::configure(&conn)?;
        schema::migrate(&mut conn).map_err(db_err)?;
        Ok(Self {
            db: Arc::new(conn::Db::start(conn, path)?),
        })
    }

    /// Runs `f` as one write operation: in its own savepoint of the writer's next group
    /// (an error result rolls back what it wrote), answered after that group commits.
    pub(crate) async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        self.db.write(f).await
    }

    /// Runs `f` on a read connection (its own snapshot; sees every answered write).
    pub(crate) async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        self.db.read(f).await
    }

    /// Copies the WAL into the database file and truncates it to nothing, so page images
    /// from before a deletion are gone from disk. Readers in the middle of a read, or the
    /// background checkpointer, make it wait and try again, not fail.
    pub(crate) async fn checkpoint(&self) -> Result<(), StoreError> {
        self.db
            .alone(|conn| {
                // The background checkpointer (or a reader's snapshot) can hold it for a moment:
                // try again for up to half a second before calling the store unavailable.
                for _ in 0..100 {
                    let busy: i64 = conn
                        .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))
                        .map_err(db_err)?;
                    if busy == 0 {
                        return Ok(());
                    }
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                Err(StoreError::Unavailable(
                    "sqlite: checkpoint blocked by readers".into(),
                ))
            })
            .await
    }
}

/// A transaction inside a write operation: a savepoint, so that it nests in the writer's
/// group. Committing it keeps its changes for the group's commit; dropping it undoes them.
pub(crate) fn begin(conn: &mut Connection) -> Result<rusqlite::Savepoint<'_>, StoreError> {
    conn.savepoint().map_err(db_err)
}

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
impl TenantStore for SqliteStore {
    async fn create_tenant(
        &self,
        tenant: &Tenant,
        key: &ApiKeyHash,
    ) -> Result<(), CreateTenantError> {
        let (id, name, at, key) = (
            tenant.id.to_string(),
            tenant.name.clone(),
            time::format(tenant.created_at),
            key.as_str().to_owned(),
        );
        let lookup_key =
            fanloop_domain::lookup::LookupKey::generate(&fanloop_domain::tenant::OsRandom)
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
                .to_hex();
        self.write(move |conn| {
            let tx = begin(conn)?;
            let inserted = tx
                .execute(
                    "INSERT INTO tenants (id, name, created_at, lookup_key) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (id) DO NOTHING",
                    params![id, name, at, lookup_key],
                )
                .map_err(db_err)?;
            if inserted == 0 {
                return Err(CreateTenantError::Exists);
            }
            tx.execute("INSERT INTO api_keys (key_hash, tenant_id, created_at) VALUES (?1, ?2, ?3)", params![key, id, at])
                .map_err(db_err)?;
            tx.commit().map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn add_api_key(
        &self,
        tenant: &TenantId,
        key: &ApiKeyHash,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let (id, key, at) = (
            tenant.to_string(),
            key.as_str().to_owned(),
            time::format(at),
        );
        self.write(move |conn| {
            conn.execute(
                "INSERT INTO api_keys (key_hash, tenant_id, created_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key_hash) DO NOTHING",
                params![key, id, at],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let id = id.clone();
        self.read(move |conn| {
            let row: Option<(String, String)> = conn
                .query_row(
                    "SELECT name, created_at FROM tenants WHERE id = ?1",
                    params![id.as_str()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            row.map(|(name, at)| {
                Ok(Tenant {
                    id: id.clone(),
                    name,
                    created_at: time::parse(&at).map_err(|e| corrupt("tenant", e))?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn tenant_for_key(&self, key: &ApiKeyHash) -> Result<Option<TenantId>, StoreError> {
        let key = key.as_str().to_owned();
        self.read(move |conn| {
            let id: Option<String> = conn
                .query_row(
                    "SELECT tenant_id FROM api_keys WHERE key_hash = ?1",
                    params![key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db_err)?;
            id.map(|id| TenantId::parse(id).map_err(|e| corrupt("api key", e)))
                .transpose()
        })
        .await
    }

    async fn settings(&self, tenant: &TenantId) -> Result<VersionedSettings, StoreError> {
        let id = tenant.to_string();
        self.read(move |conn| {
            let row: Option<(Option<String>, i64)> = conn
                .query_row(
                    "SELECT settings, settings_version FROM tenants WHERE id = ?1",
                    params![id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db_err)?;
            match row {
                Some((Some(doc), v)) => Ok(VersionedSettings {
                    settings: serde_json::from_str(&doc).map_err(|e| corrupt("settings", e))?,
                    version: u64::try_from(v).map_err(|e| corrupt("settings version", e))?,
                }),
                _ => Ok(VersionedSettings {
                    settings: TenantSettings::default(),
                    version: 0,
                }),
            }
        })
        .await
    }

    async fn put_settings(
        &self,
        tenant: &TenantId,
        settings: &TenantSettings,
        expected_version: u64,
    ) -> Result<u64, StoreError> {
        let id = tenant.to_string();
        let doc = serde_json::to_string(settings).map_err(|e| corrupt("settings", e))?;
        let expected =
            i64::try_from(expected_version).map_err(|e| corrupt("settings version", e))?;
        self.write(move |conn| {
            let n = conn
                .execute(
                    "UPDATE tenants SET settings = ?1, settings_version = settings_version + 1
                     WHERE id = ?2 AND settings_version = ?3",
                    params![doc, id, expected],
                )
                .map_err(db_err)?;
            if n == 1 {
                Ok(expected_version + 1)
            } else {
                Err(StoreError::Conflict)
            }
        })
        .await
    }
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
            Ok(Some(CustomerExport { profile, ledger, coupons, messages, survey_responses, followups, events }))
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
                ] {
                    tx.execute(sql, params![t, c]).map_err(db_err)?;
                }
                points::anonymise_ledger(&tx, &t, &c, &anon)?;
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

impl SqliteStore {
    /// Every text value stored for a tenant, for tests that prove erasure leaves no PII behind.
    pub async fn dump_tenant_text(&self, tenant: &TenantId) -> Result<Vec<String>, StoreError> {
        let tenant = tenant.to_string();
        self.read(move |conn| {
            let mut out = Vec::new();
            for sql in [
                "SELECT customer_id || ' ' || profile || ' ' || ifnull(birthday_md, '') FROM customers WHERE tenant_id = ?1",
                "SELECT platform || ' ' || external_id || ' ' || customer_id FROM identities WHERE tenant_id = ?1",
                "SELECT customer_id || ' ' || key || ' ' || entry || ' ' || ifnull(result, '') FROM ledger WHERE tenant_id = ?1",
                "SELECT customer_id || ' ' || coupon FROM coupons WHERE tenant_id = ?1",
                "SELECT ifnull(customer_id, '') || ' ' || response FROM survey_responses WHERE tenant_id = ?1",
                "SELECT ifnull(customer_id, '') || ' ' || followup FROM followups WHERE tenant_id = ?1",
                "SELECT customer_id || ' ' || message FROM messages WHERE tenant_id = ?1",
                "SELECT customer_id || ' ' || event_id || ' ' || event FROM events WHERE tenant_id = ?1",
                "SELECT token || ' ' || customer_id FROM lookups WHERE tenant_id = ?1",
            ] {
                let mut stmt = conn.prepare(sql).map_err(db_err)?;
                let rows = stmt.query_map(params![tenant], |r| r.get::<_, String>(0)).map_err(db_err)?;
                for r in rows {
                    out.push(r.map_err(db_err)?);
                }
            }
            Ok(out)
        })
        .await
    }
}
