//! SQLite's writes: one thread with one connection, and one commit for many.
//!
//! SQLite has one writer, and a durable commit costs an fsync: committing
//! each request alone caps the server at a few hundred writes a second.
//! Jobs that arrive while a commit is under way wait together and go into
//! the next one, each in a savepoint of its own, and each is answered only
//! once that commit is on disk.
//!
//! The connection is `rusqlite`'s rather than sqlx's, and lives on this
//! thread: sqlx runs every statement on a thread of its own and hands the
//! answer back, and on two cores those hand-offs (about 13 a request) were
//! nearly half the server's time. Here a job's statements are plain calls,
//! and the one hand-off is the job's.

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rusqlite::{Connection, OpenFlags, Statement};
use std::panic::AssertUnwindSafe;
use std::path::Path;
use tokio::sync::mpsc;

use super::exec::{Arg, EachRow, Exec};
use super::rows::{self, Dialect};
use super::{Deliver, StoreError};

/// A unit of work on the writer's connection: says whether to keep what it
/// wrote, and whom to tell once that is settled.
pub(super) type SqlJob =
    Box<dyn for<'t> FnOnce(&'t mut dyn Exec) -> BoxFuture<'t, (bool, Deliver)> + Send + 'static>;

/// The most jobs one commit takes: bounds how long the first of them waits.
const MOST_PER_COMMIT: usize = 256;

/// Distinct statements kept prepared: every statement of `rows`, and the
/// multi-row inserts of a few sizes.
const PREPARED: usize = 256;

pub(super) struct Writer {
    jobs: mpsc::UnboundedSender<SqlJob>,
}

impl Writer {
    /// Opens the database file (its schema already migrated) and starts the
    /// writer's thread; it ends when the `Writer` is dropped and the jobs
    /// sent before have run.
    pub(super) fn open(path: &Path) -> Result<Writer, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Durable at every commit, power loss included: the WAL is synced
        // before a commit returns. Group commit makes that affordable.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.set_prepared_statement_cache_capacity(PREPARED);
        let (jobs, waiting) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("regua-sqlite-writer".into())
            .spawn(move || run(conn, waiting))
            .map_err(|e| StoreError::NotCommitted(format!("the writer did not start: {e}")))?;
        Ok(Writer { jobs })
    }

    pub(super) fn submit(&self, job: SqlJob) -> Result<(), StoreError> {
        self.jobs
            .send(job)
            .map_err(|_| StoreError::NotCommitted("the writer has stopped".into()))
    }
}

fn run(mut conn: Connection, mut waiting: mpsc::UnboundedReceiver<SqlJob>) {
    let mut group = Vec::with_capacity(MOST_PER_COMMIT);
    while let Some(first) = waiting.blocking_recv() {
        group.push(first);
        while group.len() < MOST_PER_COMMIT {
            match waiting.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let mut told = Vec::with_capacity(group.len());
        let failed = commit(&mut conn, &mut group, &mut told)
            .err()
            .map(|e| e.to_string());
        if let Some(e) = &failed {
            tracing::error!("a group of {} writes was not committed: {e}", told.len());
        }
        // Jobs the failure left unrun hear of it when their answer drops.
        group.clear();
        for deliver in told {
            deliver(match &failed {
                None => Ok(()),
                Some(e) => Err(StoreError::NotCommitted(e.clone())),
            });
        }
    }
}

/// Runs a statement that returns nothing.
fn plain(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.raw_execute()?;
    Ok(())
}

/// Runs the group in one transaction. A job runs bare while the transaction
/// holds nothing else (if it fails, the transaction is rolled back and
/// begun again); after that each runs in a savepoint that is never
/// released, each nested in the one before, so a failure rolls back to its
/// own and keeps the rest: one statement a job, where a savepoint begun
/// and released would cost two. Whether a transaction is open is asked of
/// SQLite, which also ends one itself after some errors.
fn commit(
    conn: &mut Connection,
    group: &mut Vec<SqlJob>,
    told: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    let ran = run_group(conn, group, told);
    if ran.is_err() && !conn.is_autocommit() {
        // Nothing of a failed group may stay on the connection.
        let _ = plain(conn, "ROLLBACK");
    }
    ran
}

fn run_group(
    conn: &mut Connection,
    group: &mut Vec<SqlJob>,
    told: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    let mut holds = false;
    for job in group.drain(..) {
        if conn.is_autocommit() {
            plain(conn, "BEGIN IMMEDIATE")?;
        }
        if holds {
            plain(conn, "SAVEPOINT job")?;
        }
        // A job only awaits its statements, which are plain calls here:
        // it is done at its first poll. One that is not, or that
        // panicked, is not told: its caller hears that the writer did not
        // answer.
        let ran = std::panic::catch_unwind(AssertUnwindSafe(|| job(conn).now_or_never()));
        let (keep, deliver) = match ran {
            Ok(Some((keep, deliver))) => (keep, Some(deliver)),
            Ok(None) => {
                tracing::error!("a write waited on something other than the database");
                (false, None)
            }
            Err(_) => (false, None),
        };
        if keep {
            holds = true;
        } else if holds {
            plain(conn, "ROLLBACK TO job")?;
        } else if !conn.is_autocommit() {
            plain(conn, "ROLLBACK")?;
        }
        told.extend(deliver);
    }
    if !conn.is_autocommit() {
        plain(conn, "COMMIT")?;
    }
    Ok(())
}

/// Binds `args` to a statement whose parameters are `$1`, `$2` (each may
/// come more than once, in any order) or `?`.
fn bind(statement: &mut Statement<'_>, sql: &str, args: &[Arg<'_>]) -> Result<(), StoreError> {
    for at in 1..=statement.parameter_count() {
        let arg = match statement.parameter_name(at) {
            Some(name) => name
                .strip_prefix('$')
                .and_then(|n| n.parse::<usize>().ok())
                .and_then(|n| args.get(n.wrapping_sub(1))),
            None => args.get(at - 1),
        };
        let Some(arg) = arg else {
            let name = statement
                .parameter_name(at)
                .map_or_else(|| format!("parameter {at}"), str::to_string);
            return Err(StoreError::Corrupt(format!(
                "no value for {name} in: {sql}"
            )));
        };
        match *arg {
            Arg::Int(v) => statement.raw_bind_parameter(at, v)?,
            Arg::Text(v) => statement.raw_bind_parameter(at, v)?,
            Arg::Blob(v) => statement.raw_bind_parameter(at, v)?,
            Arg::Flag(v) => statement.raw_bind_parameter(at, v)?,
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl Exec for Connection {
    fn dialect(&self) -> Dialect {
        rows::SQLITE
    }

    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        let mut statement = self.prepare_cached(sql)?;
        bind(&mut statement, sql, args)?;
        Ok(statement.raw_execute()? as u64)
    }

    async fn each(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
        row: &mut EachRow<'_>,
    ) -> Result<(), StoreError> {
        let mut statement = self.prepare_cached(sql)?;
        bind(&mut statement, sql, args)?;
        let mut rows = statement.raw_query();
        while let Some(r) = rows.next()? {
            row(r)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::Exec;
    use crate::server::store::StoreError;
    use crate::server::store::exec::{args, int};
    use futures_util::FutureExt;
    use rusqlite::Connection;

    /// Runs `sql` with `params` on a fresh connection; the row's columns
    /// `a`, `b` and `c`.
    fn abc(sql: &str, params: &[super::Arg<'_>]) -> Result<(i64, i64, i64), StoreError> {
        let mut conn = Connection::open_in_memory().unwrap();
        let e: &mut dyn Exec = &mut conn;
        e.one(sql, params, |r| {
            Ok((int(r, "a")?, int(r, "b")?, int(r, "c")?))
        })
        .now_or_never()
        .expect("a plain call")
    }

    #[test]
    fn numbered_parameters_bind_by_their_number_in_any_order() {
        // SQLite numbers `$2` first here: binding by position would swap them.
        assert_eq!(
            abc("SELECT $2 AS a, $1 AS b, $2 AS c", &args![1, 2]).unwrap(),
            (2, 1, 2)
        );
        assert_eq!(
            abc("SELECT ? AS a, ? AS b, ? AS c", &args![1, 2, 3]).unwrap(),
            (1, 2, 3)
        );
    }

    #[test]
    fn a_parameter_without_a_value_is_an_error_naming_it() {
        let missing = abc("SELECT $1 AS a, $3 AS b, 0 AS c", &args![1, 2]);
        assert!(
            matches!(&missing, Err(StoreError::Corrupt(m)) if m.starts_with("no value for $3 in: SELECT")),
            "{missing:?}"
        );
    }
}
