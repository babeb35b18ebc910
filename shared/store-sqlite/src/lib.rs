//! The embedded store: one SQLite file in WAL mode. Writes go to one writer thread that
//! commits them in groups, each operation in its own savepoint; reads run on their own
//! connections (`conn`).

use std::path::Path;
use std::sync::Arc;

use fanloop_domain::TenantId;
use fanloop_domain::ports::StoreError;
use rusqlite::{Connection, params};

mod analytics;
mod backlog;
mod campaigns;
mod cases;
mod conn;
mod contacts;
mod documents;
mod events;
mod keys;
mod lookups;
mod lots;
mod points;
mod profiles;
mod rewards;
mod schema;
mod staff;
mod suppressions;
mod surveys;
mod tallies;
mod tenants;
mod triggers;

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
pub(crate) use profiles::{active_day, load_profile};

pub(crate) fn begin(conn: &mut Connection) -> Result<rusqlite::Savepoint<'_>, StoreError> {
    conn.savepoint().map_err(db_err)
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
                "SELECT customer_id || ' ' || contact_id || ' ' || contact FROM contacts WHERE tenant_id = ?1",
                "SELECT ifnull(customer_id, '') || ' ' || entry FROM audit WHERE tenant_id = ?1",
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
