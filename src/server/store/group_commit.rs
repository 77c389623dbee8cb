//! SQLite's writes, one commit for many. SQLite has one writer, and a
//! durable commit costs an fsync (milliseconds on these disks): committing
//! each request alone caps the server at a few hundred writes a second.
//! Jobs that arrive while a commit is under way wait together and go into
//! the next one, each in a savepoint of its own, and each is answered only
//! once that commit is on disk.

use futures_util::FutureExt;
use sqlx::{Connection, SqlitePool};
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
    /// Starts the writer on the current runtime.
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

async fn commit(
    pool: &SqlitePool,
    group: &mut Vec<Job>,
    told: &mut Vec<Deliver>,
) -> Result<(), StoreError> {
    let mut conn = pool.acquire().await?;
    let mut tx = Connection::begin(&mut *conn).await?;
    if group.len() == 1 {
        // Alone in its commit: the transaction is the job's, no savepoint
        // needed (two statements fewer when the server is not busy).
        let job = group.pop().expect("one job");
        let ran = {
            let mut on = SqlTx::new(Conn::Sqlite(&mut tx));
            AssertUnwindSafe(job(&mut on)).catch_unwind().await
        };
        return match ran {
            Ok((keep, deliver)) => {
                told.push(deliver);
                if keep {
                    tx.commit().await?;
                } else {
                    tx.rollback().await?;
                }
                Ok(())
            }
            Err(_) => Ok(tx.rollback().await?),
        };
    }
    for job in group.drain(..) {
        let mut savepoint = Connection::begin(&mut *tx).await?;
        let ran = {
            let mut on = SqlTx::new(Conn::Sqlite(&mut savepoint));
            AssertUnwindSafe(job(&mut on)).catch_unwind().await
        };
        match ran {
            Ok((true, deliver)) => {
                savepoint.commit().await?;
                told.push(deliver);
            }
            Ok((false, deliver)) => {
                savepoint.rollback().await?;
                told.push(deliver);
            }
            // Its caller hears that the writer did not answer.
            Err(_) => savepoint.rollback().await?,
        }
    }
    tx.commit().await?;
    Ok(())
}
