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
    /// Starts the writer thread on `conn` (already migrated).
    pub(crate) fn start(conn: Connection, path: &Path) -> Result<Self, StoreError> {
        let (tx, rx) = mpsc::channel(QUEUE);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, rx))
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

fn writer_loop(mut conn: Connection, mut rx: mpsc::Receiver<Msg>) {
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
        }
        for job in after.drain(..) {
            job(&mut conn).1(Ok(()));
        }
    }
}

/// One `BEGIN IMMEDIATE`, each job in its savepoint, one `COMMIT`; then every caller is told.
fn commit_group(conn: &mut Connection, jobs: impl Iterator<Item = WriteJob>) {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // The jobs are dropped unrun: each caller gets "not done".
        tracing::error!(error = %e, operations = jobs.count(), "sqlite: cannot begin a write group");
        return;
    }
    let done: Vec<Completion> = jobs.map(|job| in_savepoint(conn, job)).collect();
    let commit = conn.execute_batch("COMMIT").map_err(db_err);
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
        let dir = std::env::temp_dir().join(format!("fanloop-conn-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.db");
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        configure(&conn).unwrap();
        conn.execute_batch("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT NOT NULL)")
            .unwrap();
        Arc::new(Db::start(conn, &path).unwrap())
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
}
