//! SQLite's writes, one commit for many. SQLite has one writer, and a
//! durable commit costs an fsync (milliseconds on these disks): committing
//! each request alone caps the server at a few hundred writes a second.
//! Jobs that arrive while a commit is under way wait together and go into
//! the next one, each in a savepoint of its own, and each is answered only
//! once that commit is on disk.

use futures_util::FutureExt;
use sqlx::{SqliteConnection, SqlitePool};
use std::panic::AssertUnwindSafe;
use tokio::sync::mpsc;

use super::tx::{Conn, SqlTx};
use super::{Deliver, Job, StoreError};

/// The most jobs one commit takes: bounds how long the first of them waits.
const MOST_PER_COMMIT: usize = 256;

pub(super) struct GroupCommit {
    jobs: mpsc::UnboundedSender<Job>,
}

impl GroupCommit {
    /// Starts the writer on the current runtime. (On a thread of its own
    /// it was slower: one more thread to switch to on two cores.)
    pub(super) fn start(pool: SqlitePool) -> GroupCommit {
        let (jobs, waiting) = mpsc::unbounded_channel();
        tokio::spawn(run(pool, waiting));
        GroupCommit { jobs }
    }

    pub(super) fn submit(&self, job: Job) -> Result<(), StoreError> {
        self.jobs
            .send(job)
            .map_err(|_| StoreError::NotCommitted("the writer has stopped".into()))
    }
}

async fn run(pool: SqlitePool, mut waiting: mpsc::UnboundedReceiver<Job>) {
    let mut group = Vec::with_capacity(MOST_PER_COMMIT);
    while waiting.recv_many(&mut group, MOST_PER_COMMIT).await > 0 {
        let mut told = Vec::with_capacity(group.len());
        let failed = commit(&pool, &mut group, &mut told)
            .await
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

/// Runs the group in one transaction. A job runs bare while the transaction
/// holds nothing else (if it fails, the transaction is rolled back and
/// begun again); after that each runs in a savepoint that is never
/// released, each nested in the one before, so a failure rolls back to its
/// own and keeps the rest: one statement a job, where a savepoint begun
/// and released would cost two.
async fn commit(
    pool: &SqlitePool,
    group: &mut Vec<Job>,
    told: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    let mut open = false;
    let ran = run_group(&mut conn, group, told, &mut open).await;
    if ran.is_err() && open {
        // Nothing of a failed group may stay on the connection.
        let _ = sqlx::query("ROLLBACK").execute(&mut *conn).await;
    }
    ran
}

async fn run_group(
    conn: &mut SqliteConnection,
    group: &mut Vec<Job>,
    told: &mut Vec<Deliver>,
    open: &mut bool,
) -> Result<(), StoreError> {
    let mut holds = false;
    for job in group.drain(..) {
        if !*open {
            sqlx::query("BEGIN").execute(&mut *conn).await?;
            *open = true;
        }
        if holds {
            sqlx::query("SAVEPOINT job").execute(&mut *conn).await?;
        }
        let ran = {
            let mut on = SqlTx::new(Conn::Sqlite(&mut *conn));
            AssertUnwindSafe(job(&mut on)).catch_unwind().await
        };
        // A job that panicked is not told: its caller hears that the
        // writer did not answer.
        let (keep, deliver) = match ran {
            Ok((keep, deliver)) => (keep, Some(deliver)),
            Err(_) => (false, None),
        };
        if keep {
            holds = true;
        } else if holds {
            sqlx::query("ROLLBACK TO job").execute(&mut *conn).await?;
        } else {
            sqlx::query("ROLLBACK").execute(&mut *conn).await?;
            *open = false;
        }
        told.extend(deliver);
    }
    if *open {
        sqlx::query("COMMIT").execute(&mut *conn).await?;
        *open = false;
    }
    Ok(())
}
