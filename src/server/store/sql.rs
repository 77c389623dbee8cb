//! The store on SQL: SQLite (one file in WAL mode, foreign keys on) or
//! PostgreSQL. The SQL is written once (`rows`); each method runs it on
//! whichever pool this store has. SQLite lets one writer at a time, so its
//! writes go through a pool of one connection (no lock to wait for, no
//! `SQLITE_BUSY`) and reads through several.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use super::group_commit::GroupCommit;
use super::rows::{self, ms};
use super::tx::{Conn, SqlTx};
use super::*;

enum Pools {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        group: GroupCommit,
    },
    Postgres(PgPool),
}

pub struct SqlStore {
    pools: Pools,
}

/// Runs `$body` with `$pool` bound to the pool for writes.
macro_rules! on_writer {
    ($self:ident, |$pool:ident| $body:expr) => {
        match &$self.pools {
            Pools::Sqlite { writer: $pool, .. } => $body,
            Pools::Postgres($pool) => $body,
        }
    };
}

/// Runs `$body` with `$conn` bound to a `SqlTx` on a reader's connection.
macro_rules! on_reader_conn {
    ($self:ident, |$conn:ident| $body:expr) => {
        match &$self.pools {
            Pools::Sqlite { reader, .. } => {
                let mut c = reader.acquire().await?;
                let mut $conn = SqlTx::new(Conn::Sqlite(&mut *c));
                $body
            }
            Pools::Postgres(pool) => {
                let mut c = pool.acquire().await?;
                let mut $conn = SqlTx::new(Conn::Postgres(&mut *c));
                $body
            }
        }
    };
}

/// Runs `$body` with `$pool` bound to the pool for reads.
macro_rules! on_reader {
    ($self:ident, |$pool:ident| $body:expr) => {
        match &$self.pools {
            Pools::Sqlite { reader: $pool, .. } => $body,
            Pools::Postgres($pool) => $body,
        }
    };
}

/// Writes verdicts, a few hundred to a statement, on `$conn`.
macro_rules! upsert_verdicts {
    ($self:ident, $conn:expr, $verdicts:expr) => {
        for part in $verdicts.chunks(rows::PARAMS_PER_STATEMENT / rows::VERDICT_COLUMNS) {
            let sql = rows::upsert_verdicts($self.dialect(), part.len());
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (id, v) in part {
                q = q
                    .bind(*id)
                    .bind(v.queue.as_deref())
                    .bind(v.callable)
                    .bind(v.priority)
                    .bind(v.review_at.map(ms))
                    .bind(v.queue.as_ref().map(|_| ms(v.at)))
                    .bind(v.blocked_rule.as_deref());
            }
            q.execute($conn).await?;
        }
    };
}

impl SqlStore {
    pub async fn connect_postgres(url: &str) -> Result<SqlStore, StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .connect_with(options)
            .await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        Ok(SqlStore {
            pools: Pools::Postgres(pool),
        })
    }

    pub async fn connect_sqlite(url: &str) -> Result<SqlStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(|e| StoreError::BadUrl(format!("{url}: {e}")))?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Durable at every commit, power loss included: the WAL is
            // synced before a commit returns. Group commit makes that
            // affordable.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqlStore {
            pools: Pools::Sqlite {
                group: GroupCommit::start(writer.clone()),
                writer,
                reader,
            },
        })
    }
}

impl SqlStore {
    fn dialect(&self) -> rows::Dialect {
        match self.pools {
            Pools::Sqlite { .. } => rows::SQLITE,
            Pools::Postgres(_) => rows::POSTGRES,
        }
    }
}

#[async_trait]
impl Store for SqlStore {
    async fn run(&self, job: Job) -> Result<(), StoreError> {
        match &self.pools {
            Pools::Sqlite { group, .. } => group.submit(job),
            Pools::Postgres(pool) => {
                let mut tx = pool.begin().await?;
                let (keep, deliver) = job(&mut SqlTx::new(Conn::Postgres(&mut tx))).await;
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

    async fn debtor(&self, id: i64) -> Result<Option<Debtor>, StoreError> {
        on_reader_conn!(self, |conn| conn.debtor(id).await)
    }

    async fn history(&self, debtor_id: i64) -> Result<Vec<Event>, StoreError> {
        on_reader_conn!(self, |conn| conn.history(debtor_id).await)
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
    ) -> Result<Option<OpenCall>, StoreError> {
        on_reader_conn!(self, |conn| conn
            .open_call(debtor_id, agent_id, since)
            .await)
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
    ) -> Result<Option<Lease>, StoreError> {
        write(self, move |tx| {
            Box::pin(async move { tx.release_lease(lease_id, agent_id).await })
        })
        .await
    }

    async fn lease_on(
        &self,
        debtor_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, StoreError> {
        on_reader_conn!(self, |conn| conn.lease_on(debtor_id, now).await)
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
            Box::pin(async move { tx.publish(&kind, debtor_id, user_id, &body, now).await })
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
        let result = on_writer!(self, |pool| {
            sqlx::query(rows::CREATE_USER)
                .bind(name)
                .bind(role.name())
                .bind(password_hash)
                .bind(ms(now))
                .fetch_one(pool)
                .await
                .and_then(|row| row.try_get::<i64, _>("id"))
        });
        match result {
            Ok(id) => Ok(User {
                id,
                name: name.to_string(),
                role,
            }),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Conflict(format!("user '{name}'")))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn add_user_key(
        &self,
        user_id: i64,
        public_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let result = on_writer!(self, |pool| {
            sqlx::query(rows::ADD_USER_KEY)
                .bind(user_id)
                .bind(public_key)
                .bind(ms(now))
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
        });
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(StoreError::Conflict("that key for this user".into()))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn user_keys(&self, user_id: i64) -> Result<Vec<String>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::USER_KEYS)
                .bind(user_id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| r.try_get("public_key").map_err(StoreError::from))
                .collect()
        })
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>, StoreError> {
        on_reader!(self, |pool| {
            let row = sqlx::query(rows::USER_BY_NAME)
                .bind(name)
                .fetch_optional(pool)
                .await?;
            row.map(|r| Ok((rows::user(&r)?, r.try_get("password_hash")?)))
                .transpose()
        })
    }

    async fn user(&self, id: i64) -> Result<Option<User>, StoreError> {
        on_reader!(self, |pool| {
            let row = sqlx::query(rows::USER)
                .bind(id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(rows::user).transpose()
        })
    }

    async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(rows::CREATE_SESSION)
                .bind(token_hash)
                .bind(user_id)
                .bind(ms(expires_at))
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn revoke_session(&self, token_hash: &[u8]) -> Result<bool, StoreError> {
        on_writer!(self, |pool| Ok(sqlx::query(rows::REVOKE_SESSION)
            .bind(token_hash)
            .execute(pool)
            .await?
            .rows_affected()
            > 0))
    }

    async fn sessions_prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        on_writer!(self, |pool| Ok(sqlx::query(rows::SESSIONS_PRUNE)
            .bind(ms(now))
            .execute(pool)
            .await?
            .rows_affected()))
    }

    async fn session_user(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        on_reader!(self, |pool| {
            let row = sqlx::query(rows::SESSION_USER)
                .bind(token_hash)
                .bind(ms(now))
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(rows::user).transpose()
        })
    }

    async fn agent_state(&self, user_id: i64) -> Result<Option<AgentStateView>, StoreError> {
        on_reader!(self, |pool| {
            let row = sqlx::query(rows::AGENT_STATE)
                .bind(user_id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(rows::agent_state).transpose()
        })
    }

    async fn begin_agent_state(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<AgentStateView, StoreError> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            sqlx::query(rows::BEGIN_AGENT_STATE)
                .bind(user_id)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
            let row = sqlx::query(rows::AGENT_STATE)
                .bind(user_id)
                .fetch_one(&mut *tx)
                .await?;
            tx.commit().await?;
            rows::agent_state(&row)
        })
    }

    async fn import_debtors(
        &self,
        debtors: &[Debtor],
        now: DateTime<Utc>,
    ) -> Result<Imported, StoreError> {
        let dialect = self.dialect();
        let (known_sql, delete_sql) =
            (rows::known_debtors(dialect), rows::delete_debts_of(dialect));
        let per = rows::PARAMS_PER_STATEMENT / rows::DEBTOR_COLUMNS;
        let full = rows::upsert_debtors(dialect, per);
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut imported = Imported {
                ids: Vec::with_capacity(debtors.len()),
                known: Vec::with_capacity(debtors.len()),
                ..Imported::default()
            };
            for chunk in debtors.chunks(per) {
                let external: Vec<&str> = chunk.iter().map(|d| d.external_id.as_str()).collect();
                let known: HashMap<String, i64> =
                    sqlx::query(sqlx::AssertSqlSafe(known_sql.as_str()))
                        .bind(serde_json::to_string(&external).expect("strings serialize"))
                        .fetch_all(&mut *tx)
                        .await?
                        .iter()
                        .map(|r| Ok((r.try_get("external_id")?, r.try_get("id")?)))
                        .collect::<Result<_, sqlx::Error>>()?;
                if !known.is_empty() {
                    let ids: Vec<i64> = known.values().copied().collect();
                    sqlx::query(sqlx::AssertSqlSafe(delete_sql.as_str()))
                        .bind(serde_json::to_string(&ids).expect("ids serialize"))
                        .execute(&mut *tx)
                        .await?;
                }
                let sql = if chunk.len() == per {
                    full.clone()
                } else {
                    rows::upsert_debtors(dialect, chunk.len())
                };
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for d in chunk {
                    q = q
                        .bind(d.external_id.as_str())
                        .bind(d.name.as_str())
                        .bind(d.document.to_string())
                        .bind(serde_json::to_string(&d.phones).expect("phones serialize"))
                        .bind(d.email.as_deref())
                        .bind(d.jurisdiction.to_string())
                        .bind(d.time_zone.to_string())
                        .bind(d.segment.as_str())
                        .bind(serde_json::to_string(&d.tags).expect("tags serialize"))
                        .bind(ms(now));
                }
                let stored: HashMap<String, i64> = q
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| Ok((r.try_get("external_id")?, r.try_get("id")?)))
                    .collect::<Result<_, sqlx::Error>>()?;
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
                    let mut q =
                        sqlx::query(sqlx::AssertSqlSafe(rows::insert_debts(dialect, part.len())));
                    for (id, debt) in part {
                        q = q
                            .bind(*id)
                            .bind(debt.creditor.as_str())
                            .bind(debt.balance.currency.code())
                            .bind(debt.original.minor)
                            .bind(debt.balance.minor)
                            .bind(debt.interest_and_fees.minor)
                            .bind(debt.due_date.format("%Y-%m-%d").to_string());
                    }
                    q.execute(&mut *tx).await?;
                }
            }
            tx.commit().await?;
            Ok(imported)
        })
    }

    async fn set_verdicts(&self, verdicts: &[(i64, Verdict)]) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            upsert_verdicts!(self, &mut *tx, verdicts);
            tx.commit().await?;
            Ok(())
        })
    }

    async fn histories(&self, debtor_ids: &[i64]) -> Result<Vec<Vec<Event>>, StoreError> {
        let sql = rows::histories(self.dialect());
        let at: HashMap<i64, usize> = debtor_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| (id, i))
            .collect();
        let mut histories = vec![Vec::new(); debtor_ids.len()];
        on_reader!(self, |pool| {
            // Bounded, so a million debtors are not one answer in memory.
            for chunk in debtor_ids.chunks(rows::PARAMS_PER_STATEMENT) {
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
                    .bind(serde_json::to_string(chunk).expect("ids serialize"))
                    .fetch_all(pool)
                    .await?;
                for r in &rows {
                    let id: i64 = r.try_get("debtor_id")?;
                    let event = rows::event(&r.try_get::<String, _>("event")?)?;
                    if let Some(&i) = at.get(&id) {
                        histories[i].push(event);
                    }
                }
            }
        });
        Ok(histories)
    }

    async fn search_debtors(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<DebtorSummary>, StoreError> {
        let (name, external, digits) = rows::search_terms(query);
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::SEARCH)
                .bind(&name)
                .bind(&external)
                .bind(&digits)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?;
            rows.iter().map(rows::summary).collect()
        })
    }

    async fn due_for_review(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::DUE_FOR_REVIEW)
                .bind(ms(now))
                .bind(limit as i64)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| r.try_get("debtor_id").map_err(StoreError::from))
                .collect()
        })
    }

    async fn renew_lease(
        &self,
        lease_id: i64,
        agent_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        on_writer!(self, |pool| {
            let row = sqlx::query(rows::RENEW_LEASE)
                .bind(ms(now + ttl))
                .bind(lease_id)
                .bind(agent_id)
                .bind(ms(now))
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(rows::lease(&row)?),
                None => None,
            })
        })
    }

    async fn expire_leases(&self, now: DateTime<Utc>) -> Result<Vec<Lease>, StoreError> {
        on_writer!(self, |pool| {
            let rows = sqlx::query(rows::EXPIRE_LEASES)
                .bind(ms(now))
                .fetch_all(pool)
                .await?;
            let mut ended = Vec::with_capacity(rows.len());
            for row in rows {
                ended.push(rows::lease(&row)?);
            }
            ended.sort_by_key(|l| l.id);
            Ok(ended)
        })
    }

    async fn queue_counts(&self, now: DateTime<Utc>) -> Result<Vec<QueueCount>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::QUEUE_COUNTS)
                .bind(ms(now))
                .fetch_all(pool)
                .await?;
            let mut counts = Vec::new();
            for row in &rows {
                rows::add_queue_count(&mut counts, row)?;
            }
            Ok(counts)
        })
    }

    async fn floor(&self, now: DateTime<Utc>) -> Result<Vec<FloorAgent>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::FLOOR)
                .bind(ms(now))
                .fetch_all(pool)
                .await?;
            let mut agents: Vec<FloorAgent> = Vec::new();
            for row in &rows {
                let agent = rows::floor_agent(row)?;
                // Newest lease first: the rest of an agent's rows are older.
                if agents.last().is_none_or(|a| a.id != agent.id) {
                    agents.push(agent);
                }
            }
            Ok(agents)
        })
    }

    async fn call_tallies(&self, since: DateTime<Utc>) -> Result<Vec<CallTally>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::CALL_TALLIES)
                .bind(ms(since))
                .fetch_all(pool)
                .await?;
            rows.iter().map(rows::call_tally).collect()
        })
    }

    async fn queue_debtors(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueueDebtor>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::QUEUE_DEBTORS)
                .bind(queue)
                .bind(ms(now))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(rows::queue_debtor).collect()
        })
    }

    async fn agent_calls(
        &self,
        agent_id: i64,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AgentCall>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::AGENT_CALLS)
                .bind(agent_id)
                .bind(ms(since))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?;
            rows.iter().map(rows::agent_call).collect()
        })
    }

    async fn idempotency_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        on_writer!(self, |pool| Ok(sqlx::query(rows::IDEMPOTENCY_PRUNE)
            .bind(ms(before))
            .execute(pool)
            .await?
            .rows_affected()))
    }

    async fn feed_latest(&self, limit: u32) -> Result<Vec<FeedItem>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::FEED_LATEST)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?;
            let mut items = rows
                .iter()
                .map(rows::feed_item)
                .collect::<Result<Vec<_>, _>>()?;
            items.reverse();
            Ok(items)
        })
    }

    async fn feed_money_since(&self, since: DateTime<Utc>) -> Result<Vec<FeedItem>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::FEED_MONEY_SINCE)
                .bind(ms(since))
                .fetch_all(pool)
                .await?;
            rows.iter().map(rows::feed_item).collect()
        })
    }

    async fn feed_bounds(&self) -> Result<Option<(i64, i64)>, StoreError> {
        on_reader!(self, |pool| {
            let row = sqlx::query(rows::FEED_BOUNDS).fetch_one(pool).await?;
            let oldest: Option<i64> = row.try_get("oldest")?;
            let newest: Option<i64> = row.try_get("newest")?;
            Ok(oldest.zip(newest))
        })
    }

    async fn feed_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        on_writer!(self, |pool| Ok(sqlx::query(rows::FEED_PRUNE)
            .bind(ms(before))
            .execute(pool)
            .await?
            .rows_affected()))
    }

    async fn listen(&self, latest: Arc<tokio::sync::watch::Sender<i64>>) -> Result<(), StoreError> {
        let Pools::Postgres(pool) = &self.pools else {
            return Ok(());
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen("regua_feed").await?;
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

    async fn feed_after(&self, after_id: i64, limit: u32) -> Result<Vec<FeedItem>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::FEED_AFTER)
                .bind(after_id)
                .bind(limit as i64)
                .fetch_all(pool)
                .await?;
            rows.iter().map(rows::feed_item).collect()
        })
    }

    async fn try_lead(&self) -> Result<Option<Box<dyn std::any::Any + Send>>, StoreError> {
        match &self.pools {
            // One process per SQLite file.
            Pools::Sqlite { .. } => Ok(Some(Box::new(()))),
            Pools::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let row = sqlx::query(rows::TRY_LEAD).fetch_one(&mut *conn).await?;
                // The lock lives as long as this connection: keep it out of
                // the pool by holding it.
                Ok(row
                    .try_get::<bool, _>("lead")?
                    .then(|| Box::new(conn.detach()) as Box<dyn std::any::Any + Send>))
            }
        }
    }
}
