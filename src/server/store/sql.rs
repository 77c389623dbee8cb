//! The store on SQL: SQLite (one file in WAL mode, foreign keys on) or
//! PostgreSQL. The SQL is written once (`rows`) and run through `Exec` on
//! whichever connection this store has. SQLite lets one writer at a time,
//! so every write goes to the one writer thread (`sqlite_writer`: no lock
//! to wait for, no `SQLITE_BUSY`) and reads to a pool of several.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use super::exec::{self, Arg, Exec, args, int, text};
use super::rows::{self, from_ms, ms};
use super::sqlite_writer::{SqlJob, Writer};
use super::tx::{SqlTx, verdict_args};
use super::*;
use crate::domain::name_key;

enum Pools {
    Sqlite { writer: Writer, reader: SqlitePool },
    Postgres(PgPool),
}

pub struct SqlStore {
    pools: Pools,
}

/// A connection for reading: one of the readers on SQLite (the writer is
/// busy writing), any on PostgreSQL.
enum Reader {
    Sqlite(PoolConnection<sqlx::Sqlite>),
    Postgres(PoolConnection<sqlx::Postgres>),
}

impl Reader {
    fn exec(&mut self) -> &mut dyn Exec {
        match self {
            Reader::Sqlite(c) => &mut **c,
            Reader::Postgres(c) => &mut **c,
        }
    }
}

impl SqlStore {
    pub async fn connect_postgres(url: &str) -> Result<SqlStore, StoreError> {
        let options =
            PgConnectOptions::from_str(url).map_err(|e| StoreError::BadUrl(e.to_string()))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let mut filling = pool.acquire().await?;
        // Closed, not pooled, when done: a fill cut short must not leave
        // a pooled connection holding the lock the other replicas wait on.
        filling.close_on_drop();
        sqlx::query(rows::FILL_NAME_KEYS_LOCK)
            .execute(&mut *filling)
            .await?;
        let filled = fill_name_keys(&mut *filling).await;
        sqlx::query(rows::FILL_NAME_KEYS_UNLOCK)
            .execute(&mut *filling)
            .await?;
        filled?;
        Ok(SqlStore {
            pools: Pools::Postgres(pool),
        })
    }

    pub async fn connect_sqlite(url: &str) -> Result<SqlStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(e.to_string()))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        // The schema first, on a connection of its own; then the writer
        // opens the file it made.
        // (A pool of one: `migrate` on a bare connection makes this future
        // not `Send`.)
        let migrating = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&migrating).await?;
        fill_name_keys(&mut *migrating.acquire().await?).await?;
        migrating.close().await;
        let writer = Writer::open(options.get_filename())?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqlStore {
            pools: Pools::Sqlite { writer, reader },
        })
    }
}

impl SqlStore {
    async fn reader(&self) -> Result<Reader, StoreError> {
        Ok(match &self.pools {
            Pools::Sqlite { reader, .. } => Reader::Sqlite(reader.acquire().await?),
            Pools::Postgres(pool) => Reader::Postgres(pool.acquire().await?),
        })
    }

    /// Runs a job on a transaction of its own (on SQLite, the writer's
    /// next group).
    async fn run_sql(&self, job: SqlJob) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { writer, .. } => writer.submit(job),
            Pools::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let (keep, deliver) = job(&mut *tx).await;
                let settled = if keep {
                    tx.commit().await
                } else {
                    tx.rollback().await
                };
                deliver(settled.map_err(StoreError::from));
                Ok(())
            }
        }
    }

    /// Runs `work` in one transaction and answers once that is durable;
    /// the store's own writes, which are not a request's.
    async fn write_sql<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Exec) -> BoxFuture<'t, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let (answer, answered) = tokio::sync::oneshot::channel();
        self.run_sql(Box::new(move |e| {
            Box::pin(async move { settle(work(e).await, answer) })
        }))
        .await?;
        answered.await.map_err(|_| unanswered())?
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn run(&self, job: Job) -> Result<(), StoreError> {
        self.run_sql(Box::new(move |e| {
            Box::pin(async move {
                let mut tx = SqlTx::new(e);
                let (keep, deliver) = job(&mut tx).await;
                if keep && let Err(e) = tx.flush().await {
                    let failed: Deliver = Box::new(move |_| deliver(Err(e)));
                    return (false, failed);
                }
                (keep, deliver)
            })
        }))
        .await
    }

    async fn debtor(&self, id: i64) -> Result<Option<Debtor>, StoreError> {
        let mut r = self.reader().await?;
        SqlTx::new(r.exec()).debtor(id).await
    }

    async fn history(&self, debtor_id: i64) -> Result<Vec<Event>, StoreError> {
        let mut r = self.reader().await?;
        SqlTx::new(r.exec()).history(debtor_id).await
    }

    async fn apply(&self, debtor_id: i64, change: &Change) -> Result<Vec<i64>, StoreError> {
        let change = change.clone();
        write(self, move |tx| {
            Box::pin(async move { tx.apply(debtor_id, &change).await })
        })
        .await
    }

    async fn open_call(
        &self,
        debtor_id: i64,
        agent_id: i64,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<OpenCall>, StoreError> {
        let mut r = self.reader().await?;
        SqlTx::new(r.exec())
            .open_call(debtor_id, agent_id, since, until)
            .await
    }

    async fn lease_next(
        &self,
        queue: &str,
        agent_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let queue = queue.to_string();
        write(self, move |tx| {
            Box::pin(async move { tx.lease_next(&queue, agent_id, now, ttl).await })
        })
        .await
    }

    async fn release_lease(
        &self,
        lease_id: i64,
        agent_id: Option<i64>,
        skip_until: Option<DateTime<Utc>>,
    ) -> Result<Option<Lease>, StoreError> {
        write(self, move |tx| {
            Box::pin(async move { tx.release_lease(lease_id, agent_id, skip_until).await })
        })
        .await
    }

    async fn set_agent_state(
        &self,
        user_id: i64,
        state: AgentState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(AgentStateView, bool), StoreError> {
        let reason = reason.map(str::to_string);
        write(self, move |tx| {
            Box::pin(async move {
                tx.set_agent_state(user_id, state, reason.as_deref(), now)
                    .await
            })
        })
        .await
    }

    async fn publish(
        &self,
        kind: &str,
        debtor_id: Option<i64>,
        user_id: Option<i64>,
        body: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let (kind, body) = (kind.to_string(), body.clone());
        write(self, move |tx| {
            Box::pin(async move {
                tx.publish(&kind, debtor_id, user_id, &body, now).await?;
                tx.flush().await?;
                tx.published()
                    .ok_or_else(|| StoreError::Corrupt("the feed gave no id".into()))
            })
        })
        .await
    }

    async fn audit(
        &self,
        user_id: Option<i64>,
        action: &str,
        debtor_id: Option<i64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (action, detail) = (action.to_string(), detail.to_string());
        write(self, move |tx| {
            Box::pin(async move { tx.audit(user_id, &action, debtor_id, &detail, now).await })
        })
        .await
    }

    async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError> {
        let (owned, hash) = (name.to_string(), password_hash.to_string());
        let created = self
            .write_sql(move |e| {
                Box::pin(async move {
                    e.one(
                        rows::CREATE_USER,
                        &args![&owned, role.name(), &hash, ms(now)],
                        |r| int(r, "id"),
                    )
                    .await
                })
            })
            .await;
        match created {
            Ok(id) => Ok(User {
                id,
                name: name.to_string(),
                role,
            }),
            Err(e) if e.is_unique_violation() => {
                Err(StoreError::Conflict(format!("user '{name}'")))
            }
            Err(e) => Err(e),
        }
    }

    async fn add_user_key(
        &self,
        user_id: i64,
        public_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = public_key.to_string();
        let added = self
            .write_sql(move |e| {
                Box::pin(async move {
                    e.execute(rows::ADD_USER_KEY, &args![user_id, &key, ms(now)])
                        .await
                })
            })
            .await;
        match added {
            Ok(_) => Ok(()),
            Err(e) if e.is_unique_violation() => {
                Err(StoreError::Conflict("that key for this user".into()))
            }
            Err(e) => Err(e),
        }
    }

    async fn user_keys(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all(rows::USER_KEYS, &args![user_id], |r| text(r, "public_key"))
            .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        let mut r = self.reader().await?;
        let found = r
            .exec()
            .one(rows::ANYONE_OR_ANY_DEBTOR, &args![], |r| int(r, "n"))
            .await?;
        Ok(found == 0)
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .optional(rows::USER_BY_NAME, &args![name], |r| {
                Ok((rows::user(r)?, text(r, "password_hash")?))
            })
            .await
    }

    async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        let mut r = self.reader().await?;
        r.exec().optional(rows::USER, &args![id], rows::user).await
    }

    async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let hash = token_hash.to_vec();
        self.write_sql(move |e| {
            Box::pin(async move {
                e.execute(
                    rows::CREATE_SESSION,
                    &args![&hash[..], user_id, ms(expires_at)],
                )
                .await
            })
        })
        .await?;
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &[u8]) -> Result<bool, StoreError> {
        let hash = token_hash.to_vec();
        let ended = self
            .write_sql(move |e| {
                Box::pin(async move { e.execute(rows::REVOKE_SESSION, &args![&hash[..]]).await })
            })
            .await?;
        Ok(ended > 0)
    }

    async fn sessions_prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write_sql(move |e| {
            Box::pin(async move { e.execute(rows::SESSIONS_PRUNE, &args![ms(now)]).await })
        })
        .await
    }

    async fn skips_prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write_sql(move |e| {
            Box::pin(async move { e.execute(rows::SKIPS_PRUNE, &args![ms(now)]).await })
        })
        .await
    }

    async fn session_user(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(User, DateTime<Utc>)>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .optional(rows::SESSION_USER, &args![token_hash, ms(now)], |row| {
                Ok((rows::user(row)?, from_ms(int(row, "expires_ms")?)))
            })
            .await
    }

    async fn extend_session(
        &self,
        token_hash: &[u8],
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let hash = token_hash.to_vec();
        self.write_sql(move |e| {
            Box::pin(async move {
                e.execute(rows::EXTEND_SESSION, &args![ms(until), &hash[..], ms(now)])
                    .await
            })
        })
        .await?;
        Ok(())
    }

    async fn agent_state(&self, user_id: i64) -> Result<Option<AgentStateView>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .optional(rows::AGENT_STATE, &args![user_id], rows::agent_state)
            .await
    }

    async fn begin_agent_state(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<AgentStateView, StoreError> {
        self.write_sql(move |e| {
            Box::pin(async move {
                e.execute(rows::BEGIN_AGENT_STATE, &args![user_id, ms(now)])
                    .await?;
                e.one(rows::AGENT_STATE, &args![user_id], rows::agent_state)
                    .await
            })
        })
        .await
    }

    async fn import_debtors(
        &self,
        debtors: Arc<[Debtor]>,
        now: DateTime<Utc>,
    ) -> Result<Imported, StoreError> {
        self.write_sql(move |e| Box::pin(async move { import(e, &debtors, now).await }))
            .await
    }

    async fn set_verdicts(
        &self,
        verdicts: Vec<(i64, Verdict)>,
        mark: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_sql(move |e| {
            Box::pin(async move { upsert_marked_verdicts(e, &verdicts, ms(mark)).await })
        })
        .await
    }

    async fn histories(&self, debtor_ids: &[i64]) -> Result<Vec<Vec<Event>>, StoreError> {
        let at: HashMap<i64, usize> = debtor_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i))
            .collect();
        let mut histories = vec![Vec::new(); debtor_ids.len()];
        let mut r = self.reader().await?;
        let sql = rows::histories(r.exec().dialect());
        // Bounded, so a million debtors are not one answer in memory.
        for chunk in debtor_ids.chunks(rows::PARAMS_PER_STATEMENT) {
            let ids = serde_json::to_string(chunk).expect("ids serialize");
            r.exec()
                .each(&sql, &args![&ids], &mut |row| {
                    let id = int(row, "debtor_id")?;
                    let event = rows::event(&text(row, "event")?)?;
                    if let Some(&i) = at.get(&id) {
                        histories[i].push(event);
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(histories)
    }

    async fn search_debtors(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<DebtorSummary>, StoreError> {
        let terms = rows::search_terms(query);
        let [first, second, third, rest] = &terms.words;
        let mut r = self.reader().await?;
        r.exec()
            .all(
                rows::SEARCH,
                &args![
                    first,
                    &terms.external,
                    &terms.digits,
                    i64::from(limit),
                    second,
                    third,
                    rest,
                    terms.id
                ],
                rows::summary,
            )
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all("SELECT CAST(1 AS BIGINT) AS one", &args![], |r| {
                int(r, "one")
            })
            .await
            .map(drop)
    }

    async fn due_for_review(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all(
                rows::DUE_FOR_REVIEW,
                &args![ms(now), i64::from(limit)],
                |r| int(r, "debtor_id"),
            )
            .await
    }

    async fn renew_lease(
        &self,
        lease_id: i64,
        agent_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        self.write_sql(move |e| {
            Box::pin(async move {
                e.optional(
                    rows::RENEW_LEASE,
                    &args![ms(now + ttl), lease_id, agent_id, ms(now)],
                    rows::lease,
                )
                .await
            })
        })
        .await
    }

    async fn expire_leases(&self, now: DateTime<Utc>) -> Result<Vec<Lease>, StoreError> {
        let mut ended = self
            .write_sql(move |e| {
                Box::pin(async move {
                    e.all(rows::EXPIRE_LEASES, &args![ms(now)], rows::lease)
                        .await
                })
            })
            .await?;
        ended.sort_by_key(|l| l.id);
        Ok(ended)
    }

    async fn lapse_presence(&self, before: DateTime<Utc>) -> Result<Vec<i64>, StoreError> {
        let mut gone = self
            .write_sql(move |e| {
                Box::pin(async move {
                    e.all(rows::LAPSE_PRESENCE, &args![ms(before)], |r| {
                        int(r, "user_id")
                    })
                    .await
                })
            })
            .await?;
        gone.sort_unstable();
        Ok(gone)
    }

    async fn queue_counts(&self, now: DateTime<Utc>) -> Result<Vec<QueueCount>, StoreError> {
        let mut counts = Vec::new();
        let mut r = self.reader().await?;
        r.exec()
            .each(rows::QUEUE_COUNTS, &args![ms(now)], &mut |row| {
                rows::add_queue_count(&mut counts, row)
            })
            .await?;
        Ok(counts)
    }

    async fn floor(
        &self,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> Result<Vec<FloorAgent>, StoreError> {
        let mut agents: Vec<FloorAgent> = Vec::new();
        let mut r = self.reader().await?;
        r.exec()
            .each(rows::FLOOR, &args![ms(now), ms(seen_after)], &mut |row| {
                let agent = rows::floor_agent(row)?;
                // Newest lease first: the rest of an agent's rows are older.
                if agents.last().is_none_or(|a| a.id != agent.id) {
                    agents.push(agent);
                }
                Ok(())
            })
            .await?;
        Ok(agents)
    }

    async fn call_tallies(
        &self,
        since: DateTime<Utc>,
        agent: Option<i64>,
    ) -> Result<Vec<CallTally>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all(
                rows::CALL_TALLIES,
                &args![ms(since), agent],
                rows::call_tally,
            )
            .await
    }

    async fn queue_debtors(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueueDebtor>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all(
                rows::QUEUE_DEBTORS,
                &args![queue, ms(now), i64::from(limit)],
                rows::queue_debtor,
            )
            .await
    }

    async fn agent_calls(
        &self,
        agent_id: i64,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AgentCall>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all(
                rows::AGENT_CALLS,
                &args![agent_id, ms(since), i64::from(limit)],
                rows::agent_call,
            )
            .await
    }

    async fn idempotency_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write_sql(move |e| {
            Box::pin(async move { e.execute(rows::IDEMPOTENCY_PRUNE, &args![ms(before)]).await })
        })
        .await
    }

    async fn feed_latest_of(
        &self,
        kinds: &[&str],
        limit: u32,
    ) -> Result<Vec<FeedItem>, StoreError> {
        let mut r = self.reader().await?;
        let mut items = r
            .exec()
            .all(
                &rows::feed_latest_of(kinds),
                &args![i64::from(limit)],
                rows::feed_item,
            )
            .await?;
        items.reverse();
        Ok(items)
    }

    async fn feed_money_since(&self, since: DateTime<Utc>) -> Result<Vec<FeedItem>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all(rows::FEED_MONEY_SINCE, &args![ms(since)], rows::feed_item)
            .await
    }

    async fn feed_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        let mut r = self.reader().await?;
        let (oldest, newest) = r
            .exec()
            .one(rows::FEED_BOUNDS, &[], |r| {
                Ok((r.int("oldest")?, r.int("newest")?))
            })
            .await?;
        Ok(oldest.zip(newest))
    }

    async fn feed_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.write_sql(move |e| {
            Box::pin(async move { e.execute(rows::FEED_PRUNE, &args![ms(before)]).await })
        })
        .await
    }

    async fn listen(&self, latest: Arc<tokio::sync::watch::Sender<i64>>) -> Result<(), StoreError> {
        let Pools::Postgres(pool) = &self.pools else {
            return Ok(());
        };
        let channel: String = sqlx::query_scalar(rows::FEED_CHANNEL_NAME)
            .fetch_one(pool)
            .await?;
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(&channel).await?;
        tokio::spawn(async move {
            // recv reconnects by itself after a dropped connection.
            while let Ok(note) = listener.recv().await {
                if let Ok(id) = note.payload().parse::<i64>() {
                    latest.send_if_modified(|l| {
                        let newer = id > *l;
                        if newer {
                            *l = id;
                        }
                        newer
                    });
                }
            }
        });
        Ok(())
    }

    async fn feed_after(
        &self,
        after_id: i64,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<(FeedItem, Option<i64>)>, StoreError> {
        let mut r = self.reader().await?;
        r.exec()
            .all(
                rows::FEED_AFTER,
                &args![after_id, i64::from(limit), ms(now)],
                |r| Ok((rows::feed_item(r)?, r.int("holder")?)),
            )
            .await
    }

    async fn try_lead(&self) -> Result<Option<Lead>, StoreError> {
        match &self.pools {
            // One process per SQLite file.
            Pools::Sqlite { .. } => Ok(Some(Lead(None))),
            Pools::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let row = sqlx::query(rows::TRY_LEAD).fetch_one(&mut *conn).await?;
                // The lock lives as long as this connection: keep it out of
                // the pool by holding it.
                Ok(row
                    .try_get::<bool, _>("lead")?
                    .then(|| Lead(Some(conn.detach()))))
            }
        }
    }
}

/// Writes an import's verdicts, a few hundred to a statement, where its
/// mark is still on the stored one.
async fn upsert_marked_verdicts(
    e: &mut dyn Exec,
    verdicts: &[(i64, Verdict)],
    mark_ms: i64,
) -> Result<(), StoreError> {
    for part in verdicts.chunks(rows::PARAMS_PER_STATEMENT / rows::VERDICT_COLUMNS) {
        let sql = rows::upsert_marked_verdicts(e.dialect(), part.len(), mark_ms);
        let params: Vec<Arg<'_>> = part
            .iter()
            .flat_map(|(id, v)| verdict_args(*id, v))
            .collect();
        e.execute(&sql, &params).await?;
    }
    Ok(())
}

/// Gives debtors stored before `name_key` existed theirs, a few thousand
/// to a statement: once, at the first start after the upgrade (each
/// batch its own commit, so a start cut short goes on where it stopped).
async fn fill_name_keys(e: &mut dyn Exec) -> Result<(), StoreError> {
    const BATCH: i64 = 5000;
    let fill = rows::fill_name_keys(e.dialect());
    let mut past = i64::MIN;
    loop {
        let names = e
            .all(rows::UNKEYED_NAMES, &args![BATCH, past], |r| {
                Ok((int(r, "id")?, text(r, "name")?))
            })
            .await?;
        let Some(&(last, _)) = names.last() else {
            return Ok(());
        };
        past = last;
        let pairs: Vec<(i64, String)> = names
            .into_iter()
            .map(|(id, name)| (id, name_key(&name)))
            .collect();
        let pairs = serde_json::to_string(&pairs).expect("pairs serialize");
        e.execute(fill, &args![&pairs]).await?;
    }
}

/// Creates or updates debtors by external id, replacing their debts, a few
/// hundred to a statement.
async fn import(
    e: &mut dyn Exec,
    debtors: &[Debtor],
    now: DateTime<Utc>,
) -> Result<Imported, StoreError> {
    let dialect = e.dialect();
    let (known_sql, delete_sql) = (rows::known_debtors(dialect), rows::delete_debts_of(dialect));
    let per = rows::PARAMS_PER_STATEMENT / rows::DEBTOR_COLUMNS;
    let full = rows::upsert_debtors(dialect, per);
    let mut imported = Imported {
        ids: Vec::with_capacity(debtors.len()),
        known: Vec::with_capacity(debtors.len()),
        ..Imported::default()
    };
    let id_of = |r: &dyn exec::Cols| Ok((text(r, "external_id")?, int(r, "id")?));
    for chunk in debtors.chunks(per) {
        let external: Vec<&str> = chunk.iter().map(|d| d.external_id.as_str()).collect();
        let external = serde_json::to_string(&external).expect("strings serialize");
        let known: HashMap<String, i64> = e
            .all(&known_sql, &args![&external], id_of)
            .await?
            .into_iter()
            .collect();
        if !known.is_empty() {
            let ids: Vec<i64> = known.values().copied().collect();
            let ids = serde_json::to_string(&ids).expect("ids serialize");
            e.execute(&delete_sql, &args![&ids]).await?;
        }
        let sql = if chunk.len() == per {
            full.clone()
        } else {
            rows::upsert_debtors(dialect, chunk.len())
        };
        // The columns that are not already text, as text, and the name as
        // search compares it.
        let written: Vec<[String; 5]> = chunk
            .iter()
            .map(|d| {
                [
                    name_key(&d.name),
                    d.document.to_string(),
                    serde_json::to_string(&d.phones).expect("phones serialize"),
                    d.jurisdiction.to_string(),
                    serde_json::to_string(&d.tags).expect("tags serialize"),
                ]
            })
            .collect();
        let zones: Vec<String> = chunk.iter().map(|d| d.time_zone.to_string()).collect();
        let mut params = Vec::with_capacity(chunk.len() * rows::DEBTOR_COLUMNS);
        for ((d, [key, document, phones, jurisdiction, tags]), zone) in
            chunk.iter().zip(&written).zip(&zones)
        {
            params.extend(args![
                d.external_id.as_str(),
                d.name.as_str(),
                key,
                document,
                phones,
                d.email.as_deref(),
                jurisdiction,
                zone,
                d.segment.as_str(),
                tags,
                ms(now)
            ]);
        }
        let stored: HashMap<String, i64> = e.all(&sql, &params, id_of).await?.into_iter().collect();
        let mut debts = Vec::new();
        for d in chunk {
            let id = *stored.get(&d.external_id).ok_or_else(|| {
                StoreError::Corrupt(format!("no id came back for {}", d.external_id))
            })?;
            let was_known = known.contains_key(&d.external_id);
            imported.ids.push(id);
            imported.known.push(was_known);
            if was_known {
                imported.updated += 1;
            } else {
                imported.created += 1;
            }
            debts.extend(d.debts.iter().map(|debt| (id, debt)));
        }
        for part in debts.chunks(rows::PARAMS_PER_STATEMENT / rows::DEBT_COLUMNS) {
            let due: Vec<String> = part
                .iter()
                .map(|(_, debt)| debt.due_date.format("%Y-%m-%d").to_string())
                .collect();
            let mut params = Vec::with_capacity(part.len() * rows::DEBT_COLUMNS);
            for ((id, debt), due) in part.iter().zip(&due) {
                params.extend(args![
                    *id,
                    debt.creditor.as_str(),
                    debt.balance.currency.code(),
                    debt.original.minor,
                    debt.balance.minor,
                    debt.interest_and_fees.minor,
                    due
                ]);
            }
            e.execute(&rows::insert_debts(dialect, part.len()), &params)
                .await?;
        }
        let mark = ms(import_mark(now));
        let ids = &imported.ids[imported.ids.len() - chunk.len()..];
        for part in ids.chunks(rows::PARAMS_PER_STATEMENT / rows::MARK_COLUMNS) {
            let params: Vec<Arg<'_>> = part.iter().flat_map(|id| args![*id, mark]).collect();
            e.execute(&rows::mark_verdicts(dialect, part.len()), &params)
                .await?;
        }
    }
    Ok(imported)
}
