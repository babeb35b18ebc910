//! How the store talks to SQLite: one writer thread owns the only write connection and commits
//! queued operations in groups; reads run on their own connections from a small pool.
//!
//! SQLite lets one transaction write at a time. Callers that each took the write lock in turn
//! spent their time waiting for it (throughput fell as clients were added, and the tail grew
//! to tens of milliseconds). Here every write operation is sent to the writer, which takes
//! whatever has queued up, runs each operation inside its own `SAVEPOINT` within one
//! `BEGIN IMMEDIATE … COMMIT`, and answers every caller only once that `COMMIT` has returned.
//! An operation that fails is rolled back to its savepoint, alone; its neighbours commit. The
//! more clients, the larger the groups, the fewer commits per operation.
//!
//! In WAL mode readers never block the writer nor each other, and see every write whose
//! caller has been answered (the group committed before the answer).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use fanloop_domain::ports::StoreError;
use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::db_err;

/// The most operations one commit carries; a full group commits, the rest wait for the next.
const MAX_GROUP: usize = 256;
/// How many operations may wait for the writer before senders wait too (back-pressure).
const QUEUE: usize = 4096;
/// Idle read connections kept open.
const IDLE_READERS: usize = 8;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Pages the writer keeps in memory (negative: KiB), so the indexes an accrual touches are
/// read from its cache rather than from the file.
const WRITER_CACHE_KIB: i64 = 65_536;
/// The WAL size (pages) past which the checkpointer has the writer copy the last pages so that
/// the WAL starts over: the WAL file stays under about 130 MiB under sustained writes, and the
/// writer pauses for that copy (about 10 ms) once per 32,768 pages written (about once a
/// second at full load) rather than at every 1,000 as SQLite's own checkpoints do.
const WAL_RESTART_PAGES: i64 = 32_768;
/// How long the checkpointer lets commits accumulate before copying them into the database.
const CHECKPOINT_PAUSE: Duration = Duration::from_millis(20);

/// What the writer calls back once the group's `COMMIT` is known.
type Completion = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;
/// A write operation: runs inside its savepoint; says whether it succeeded (a failed one is
/// rolled back) and how to answer its caller.
type WriteJob = Box<dyn FnOnce(&mut Connection) -> (bool, Completion) + Send>;

enum Msg {
    /// Runs in the next group.
    Write(WriteJob),
    /// Runs after the current group's commit, outside any transaction (a checkpoint).
    Alone(WriteJob),
}

pub(crate) struct Db {
    writer: mpsc::Sender<Msg>,
    path: PathBuf,
    readers: Mutex<Vec<Connection>>,
}

/// The per-connection settings both kinds of connection share.
pub(crate) fn configure(conn: &Connection) -> Result<(), StoreError> {
    conn.busy_timeout(BUSY_TIMEOUT).map_err(db_err)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(db_err)?;
    // Deleted content is overwritten with zeros, so an erased customer is not readable in free
    // space of the file (erasure then truncates the WAL: `SqliteStore::checkpoint`).
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(db_err)?;
    Ok(())
}

impl Db {
    /// Starts the writer thread on `conn` (already migrated) and the checkpointer beside it.
    pub(crate) fn start(conn: Connection, path: &Path) -> Result<Self, StoreError> {
        Self::start_with(conn, path, WAL_RESTART_PAGES)
    }

    /// [`Db::start`], with the WAL starting over past `wal_restart_pages`.
    fn start_with(
        conn: Connection,
        path: &Path,
        wal_restart_pages: i64,
    ) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel(QUEUE);
        // Checkpoints copy committed WAL pages into the database. By default the commit that
        // takes the WAL past 1,000 pages copies them all, with two fsyncs, while every other
        // write waits. Here the checkpointer thread copies them on its own connection as
        // commits happen, in parallel with the writer ([`checkpoint_loop`]).
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db_err)?;
        conn.pragma_update(None, "cache_size", -WRITER_CACHE_KIB)
            .map_err(db_err)?;
        let checkpoints = Connection::open(path).map_err(db_err)?;
        configure(&checkpoints)?;
        let (kick, kicked) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn({
                let writer = tx.downgrade();
                move || checkpoint_loop(&checkpoints, &kicked, &writer, wal_restart_pages)
            })
            .map_err(|e| StoreError::Unavailable(format!("sqlite checkpoint thread: {e}")))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx, kick))
            .map_err(|e| StoreError::Unavailable(format!("sqlite writer thread: {e}")))?;
        Ok(Self {
            writer: tx,
            path: path.to_owned(),
            readers: Mutex::new(Vec::new()),
        })
    }

    /// Runs `f` as one operation of the writer's next group; answers after its commit.
    pub(crate) async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        self.send(f, Msg::Write).await
    }

    /// Runs `f` on the writer after the current group, outside a transaction.
    pub(crate) async fn alone<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        self.send(f, Msg::Alone).await
    }

    async fn send<T, E, F>(&self, f: F, wrap: fn(WriteJob) -> Msg) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel::<Result<T, E>>();
        let job: WriteJob = Box::new(move |conn| {
            let result = catch_unwind(AssertUnwindSafe(|| f(conn)))
                .unwrap_or_else(|_| Err(E::from(unavailable("sqlite operation panicked"))));
            let ok = result.is_ok();
            let done: Completion = Box::new(move |commit: Result<(), &StoreError>| {
                let result = match commit {
                    Ok(()) => result,
                    Err(e) => Err(E::from(unavailable(&format!("commit: {e}")))),
                };
                let _ = answer.send(result);
            });
            (ok, done)
        });
        self.writer
            .send(wrap(job))
            .await
            .map_err(|_| E::from(unavailable("sqlite writer stopped")))?;
        // Dropped unanswered only when its group could not even begin (logged there).
        answered
            .await
            .map_err(|_| E::from(unavailable("sqlite write not done")))?
    }

    /// Runs `f` on a read connection (on the blocking pool).
    pub(crate) async fn read<T, E, F>(self: &Arc<Self>, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let mut conn = db.reader()?;
            let result = f(&mut conn);
            let mut idle = db.readers.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < IDLE_READERS {
                idle.push(conn);
            }
            result
        })
        .await
        .map_err(|e| E::from(unavailable(&format!("sqlite task: {e}"))))?
    }

    fn reader(&self) -> Result<Connection, StoreError> {
        let idle = self.readers.lock().unwrap_or_else(|e| e.into_inner()).pop();
        if let Some(conn) = idle {
            return Ok(conn);
        }
        let conn = Connection::open(&self.path).map_err(db_err)?;
        configure(&conn)?;
        conn.pragma_update(None, "query_only", "ON")
            .map_err(db_err)?;
        Ok(conn)
    }
}

fn unavailable(what: &str) -> StoreError {
    StoreError::Unavailable(what.to_owned())
}

fn writer_loop(
    mut conn: Connection,
    mut rx: mpsc::Receiver<Msg>,
    kick: std::sync::mpsc::SyncSender<()>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut after = Vec::new();
    while let Some(first) = rx.blocking_recv() {
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Write(job) => group.push(job),
                Msg::Alone(job) => after.push(job),
            }
            if group.len() < MAX_GROUP {
                next = rx.try_recv().ok();
            }
        }
        if !group.is_empty() {
            commit_group(&mut conn, group.drain(..));
            // Coalesced: a checkpoint already asked for covers this commit too.
            let _ = kick.try_send(());
        }
        for job in after.drain(..) {
            job(&mut conn).1(Ok(()));
        }
    }
}

/// Copies committed WAL pages into the database after commits, without blocking the writer
/// (`PASSIVE`). A busy writer keeps adding pages while a pass runs, so such passes alone never
/// finish the WAL, and SQLite starts a WAL over only once every page in it is copied: when the
/// WAL has grown past `restart_pages`, the checkpointer asks the writer to copy the few
/// pages left itself, between two groups, after which the next commit starts the WAL over.
/// Ends when the writer does.
fn checkpoint_loop(
    conn: &Connection,
    kicked: &std::sync::mpsc::Receiver<()>,
    writer: &mpsc::WeakSender<Msg>,
    restart_pages: i64,
) {
    while kicked.recv().is_ok() {
        std::thread::sleep(CHECKPOINT_PAUSE);
        let _ = kicked.try_recv();
        match passive_checkpoint(conn) {
            Ok(pages) if pages >= restart_pages => {
                // Once more at once: what was committed during the pass, so that the writer's
                // own part (and its pause) stays small.
                let _ = passive_checkpoint(conn);
                let finish: WriteJob = Box::new(|conn| {
                    if let Err(e) = passive_checkpoint(conn) {
                        tracing::warn!(error = %e, "sqlite: checkpoint failed");
                    }
                    (true, Box::new(|_| ()))
                });
                let Some(writer) = writer.upgrade() else {
                    return;
                };
                let _ = writer.blocking_send(Msg::Alone(finish));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "sqlite: checkpoint failed; the next commit retries")
            }
        }
    }
}

/// A `PASSIVE` checkpoint; the size of the WAL (pages).
fn passive_checkpoint(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get(1))
}

/// One `BEGIN IMMEDIATE`, each job in its savepoint, one `COMMIT`; then every caller is told.
fn commit_group(conn: &mut Connection, jobs: impl Iterator<Item = WriteJob>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // The jobs are dropped unrun: each caller gets "not done".
        tracing::error!(error = %e, operations = jobs.count(), "sqlite: cannot begin a write group");
        return;
    }
    crate::analytics::begin_group();
    let done: Vec<Completion> = jobs.map(|job| in_savepoint(conn, job)).collect();
    // The group's analytics counters, merged, then the one commit that holds everything.
    let commit = crate::analytics::flush_group(conn)
        .and_then(|()| conn.execute_batch("COMMIT").map_err(db_err));
    if commit.is_err() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for answer in done {
        answer(commit.as_ref().map(|_| ()));
    }
}

/// Runs one job so that its failure undoes its own changes only: a job that returns an error
/// has written nothing, whatever it did before failing.
fn in_savepoint(conn: &mut Connection, job: WriteJob) -> Completion {
    if let Err(e) = conn.execute_batch("SAVEPOINT op") {
        let message = e.to_string();
        return Box::new(move |_| {
            tracing::error!(error = %message, "sqlite: cannot open a savepoint");
        });
    }
    let (ok, answer) = job(conn);
    crate::analytics::settle_op(ok);
    let settle = if ok {
        "RELEASE op"
    } else {
        "ROLLBACK TO op; RELEASE op"
    };
    if let Err(e) = conn.execute_batch(settle) {
        tracing::error!(error = %e, "sqlite: cannot settle a savepoint");
        let _ = conn.execute_batch("ROLLBACK TO op; RELEASE op");
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::params;

    fn db(name: &str) -> Arc<Db> {
        db_with(name, WAL_RESTART_PAGES)
    }

    fn db_with(name: &str, wal_restart_pages: i64) -> Arc<Db> {
        let dir = std::env::temp_dir().join(format!("fanloop-conn-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        configure(&conn).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL);
             CREATE TABLE analytics_counters (tenant_id TEXT, scope TEXT, day TEXT, dim TEXT,
                key TEXT, value INTEGER, PRIMARY KEY (tenant_id, scope, day, dim, key));",
        )
        .unwrap();
        Arc::new(Db::start_with(conn, &path, wal_restart_pages).unwrap())
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Many writers at once share commits; the ones that fail (after writing) or panic undo
    /// only their own rows, and every caller's answer matches what is stored.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_failing_operation_does_not_fail_its_group() {
        let db = db("group");
        let tasks: Vec<_> = (0..400i64)
            .map(|k| {
                let db = db.clone();
                tokio::spawn(async move {
                    db.write(move |conn| {
                        conn.execute("INSERT INTO t VALUES (?1, 'x')", params![k])
                            .map_err(db_err)?;
                        // Analytics counters wait for the group's commit: a failed operation's
                        // are dropped with it.
                        let mut c = fanloop_domain::analytics::Counters::default();
                        let day = jiff::civil::date(2026, 1, 1);
                        c.day(day, "ops".to_owned(), 1);
                        c.day(day, "sum".to_owned(), k);
                        crate::analytics::add(conn, "t1", "c", &c)?;
                        match k % 10 {
                            3 => Err(StoreError::Unavailable("refused after writing".into())),
                            7 => panic!("an operation that panics"),
                            // A duplicate key: the statement fails inside its savepoint.
                            9 => conn
                                .execute("INSERT INTO t VALUES (?1, 'again')", params![k])
                                .map(|_| ())
                                .map_err(db_err),
                            _ => Ok(()),
                        }
                    })
                    .await
                })
            })
            .collect();
        let mut ok = Vec::new();
        for (k, task) in tasks.into_iter().enumerate() {
            if task.await.unwrap().is_ok() {
                ok.push(k as i64);
            }
        }
        assert_eq!(ok.len(), 280, "7 of every 10 succeed");
        assert!(ok.iter().all(|k| ![3, 7, 9].contains(&(k % 10))));
        let stored: Vec<i64> = db
            .read(|conn| {
                let mut stmt = conn.prepare("SELECT k FROM t ORDER BY k").map_err(db_err)?;
                let rows = stmt.query_map([], |r| r.get(0)).map_err(db_err)?;
                rows.collect::<Result<_, _>>().map_err(db_err)
            })
            .await
            .unwrap();
        assert_eq!(stored, ok, "exactly the answered writes are stored");
        let counted = db
            .read(|conn| {
                Ok::<_, StoreError>((
                    count(
                        conn,
                        "SELECT value FROM analytics_counters WHERE key = 'ops'",
                    ),
                    count(
                        conn,
                        "SELECT value FROM analytics_counters WHERE key = 'sum'",
                    ),
                ))
            })
            .await
            .unwrap();
        assert_eq!(
            counted,
            (280, ok.iter().sum::<i64>()),
            "counted once per answered write"
        );
        let groups = db
            .write(|conn| Ok::<_, StoreError>(count(conn, "SELECT count(*) FROM t")))
            .await
            .unwrap();
        assert_eq!(groups, 280, "the writer still works after a panic");
    }

    /// A caller is answered only after its group is committed: a read that starts after the
    /// answer sees the write.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_answered_write_is_visible_to_readers() {
        let db = db("visible");
        for k in 0..50i64 {
            db.write(move |conn| {
                conn.execute("INSERT INTO t VALUES (?1, 'x')", params![k])
                    .map(|_| ())
                    .map_err(db_err)
            })
            .await
            .unwrap();
            let n = db
                .read(|conn| Ok::<_, StoreError>(count(conn, "SELECT count(*) FROM t")))
                .await
                .unwrap();
            assert_eq!(n, k + 1);
        }
    }

    /// Writers that never pause still let the WAL start over: it stays near the restart size
    /// instead of growing with everything written (a checkpointer that only ran `PASSIVE`
    /// passes beside a busy writer let it reach 1.6 GB in ten seconds).
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_wal_starts_over_under_sustained_writes() {
        const RESTART: i64 = 64;
        let db = db_with("wal", RESTART);
        let wal = db.path.with_extension("db-wal");
        let writers: Vec<_> = (0..8i64)
            .map(|w| {
                let db = db.clone();
                tokio::spawn(async move {
                    for i in 0..1_500i64 {
                        let k = w * 1_000_000 + i;
                        // A page of data per write: the WAL grows by at least a page a commit.
                        db.write(move |conn| {
                            conn.execute(
                                "INSERT INTO t VALUES (?1, ?2)",
                                params![k, "x".repeat(4000)],
                            )
                            .map(|_| ())
                            .map_err(db_err)
                        })
                        .await
                        .unwrap();
                    }
                })
            })
            .collect();
        let mut largest = 0;
        for task in writers {
            task.await.unwrap();
            largest = largest.max(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0));
        }
        let written: i64 = db
            .read(|conn| Ok::<_, StoreError>(count(conn, "SELECT count(*) FROM t")))
            .await
            .unwrap();
        assert_eq!(written, 12_000);
        let page = 4096 + 24;
        let size = std::fs::metadata(&wal).unwrap().len();
        // 12,000 pages were written; the WAL holds what a checkpoint pause lets through.
        assert!(
            size.max(largest) < 4_000 * page,
            "WAL of {} pages for {} written",
            size.max(largest) / page,
            written
        );
    }
}
