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

use super::rows::{self, from_ms, ms};
use super::*;
use crate::domain::EventKind;

enum Pools {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
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

fn lease(id: i64, debtor_id: i64, agent_id: i64, expires_ms: i64) -> Lease {
    Lease {
        id,
        debtor_id,
        agent_id,
        expires_at: from_ms(expires_ms),
    }
}

/// A lease row, whichever the database.
macro_rules! lease_row {
    ($row:expr) => {{
        let row = $row;
        lease(
            row.try_get("id")?,
            row.try_get("debtor_id")?,
            row.try_get("agent_id")?,
            row.try_get("expires_ms")?,
        )
    }};
}

/// The outcome among the events written (its row id and disposition) and
/// what was promised with it, in minor units.
fn what_came_of(events: &[Event], ids: &[i64]) -> (Option<i64>, Option<String>, Option<i64>) {
    let mut outcome = (None, None, None);
    for (e, id) in events.iter().zip(ids) {
        match &e.kind {
            EventKind::Outcome { disposition, .. } => {
                outcome.0 = Some(*id);
                outcome.1 = serde_json::to_value(disposition)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string));
            }
            EventKind::Promise { amount, .. } => outcome.2 = Some(amount.minor),
            EventKind::InstallmentPlan { installments, .. } => {
                outcome.2 = Some(installments.iter().map(|i| i.amount.minor).sum())
            }
            _ => {}
        }
    }
    outcome
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
            // Durable at every commit in WAL mode without an fsync per read.
            .synchronous(SqliteSynchronous::Normal)
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
            pools: Pools::Sqlite { writer, reader },
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

    async fn set_agent_state(
        &self,
        user_id: i64,
        state: AgentState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(AgentStateView, bool), StoreError> {
        on_writer!(self, |pool| {
            let row = sqlx::query(rows::SET_AGENT_STATE)
                .bind(user_id)
                .bind(state.name())
                .bind(reason)
                .bind(ms(now))
                .fetch_one(pool)
                .await?;
            let stored = rows::agent_state(&row)?;
            // `since` moves only when something changed.
            let changed = ms(stored.since) == ms(now);
            Ok((stored, changed))
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

    async fn debtor(&self, id: i64) -> Result<Option<Debtor>, StoreError> {
        on_reader!(self, |pool| {
            let Some(row) = sqlx::query(rows::DEBTOR)
                .bind(id)
                .fetch_optional(pool)
                .await?
            else {
                return Ok(None);
            };
            let debts = sqlx::query(rows::DEBTS).bind(id).fetch_all(pool).await?;
            let debts = debts
                .iter()
                .map(rows::debt)
                .collect::<Result<Vec<_>, _>>()?;
            rows::debtor(&row, debts).map(Some)
        })
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

    async fn history(&self, debtor_id: i64) -> Result<Vec<Event>, StoreError> {
        on_reader!(self, |pool| {
            let rows = sqlx::query(rows::HISTORY)
                .bind(debtor_id)
                .fetch_all(pool)
                .await?;
            rows.iter()
                .map(|r| rows::event(&r.try_get::<String, _>("event")?))
                .collect()
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

    async fn apply(&self, debtor_id: i64, change: &Change) -> Result<Vec<i64>, StoreError> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let mut ids = Vec::with_capacity(change.events.len());
            for e in &change.events {
                let row = sqlx::query(rows::INSERT_HISTORY)
                    .bind(debtor_id)
                    .bind(ms(e.at))
                    .bind(serde_json::to_string(e).expect("events serialize"))
                    .fetch_one(&mut *tx)
                    .await?;
                ids.push(row.try_get::<i64, _>("id")?);
            }
            for (debt_id, balance) in &change.balances {
                sqlx::query(rows::SET_BALANCE)
                    .bind(balance)
                    .bind(debt_id)
                    .bind(debtor_id)
                    .execute(&mut *tx)
                    .await?;
            }
            if let Some(call) = &change.call {
                let (outcome_id, disposition, promised) = what_came_of(&change.events, &ids);
                match &call.ends {
                    Some((open, contact)) => {
                        let ended = sqlx::query(rows::END_CALL)
                            .bind(outcome_id)
                            .bind(&disposition)
                            .bind(promised)
                            .bind(open.id)
                            .bind(debtor_id)
                            .execute(&mut *tx)
                            .await?;
                        if ended.rows_affected() == 0 {
                            return Err(StoreError::Conflict(format!(
                                "an outcome for call {}",
                                open.id
                            )));
                        }
                        sqlx::query(rows::SET_HISTORY_EVENT)
                            .bind(serde_json::to_string(contact).expect("events serialize"))
                            .bind(open.attempt_id)
                            .bind(debtor_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        let (Some(attempt), Some(attempt_id)) =
                            (change.events.first(), ids.first())
                        else {
                            return Err(StoreError::Corrupt(
                                "a call needs its attempt as the first event".into(),
                            ));
                        };
                        sqlx::query(rows::INSERT_CALL)
                            .bind(debtor_id)
                            .bind(call.agent_id)
                            .bind(attempt_id)
                            .bind(&call.queue)
                            .bind(ms(attempt.at))
                            .bind(outcome_id)
                            .bind(&disposition)
                            .bind(promised)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            if let Some(v) = &change.verdict {
                upsert_verdicts!(self, &mut *tx, &[(debtor_id, v.clone())]);
            }
            tx.commit().await?;
            Ok(ids)
        })
    }

    async fn open_call(
        &self,
        debtor_id: i64,
        agent_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Option<OpenCall>, StoreError> {
        on_reader!(self, |pool| {
            let row = sqlx::query(rows::OPEN_CALL)
                .bind(debtor_id)
                .bind(agent_id)
                .bind(ms(since))
                .fetch_optional(pool)
                .await?;
            row.map(|r| {
                Ok(OpenCall {
                    id: r.try_get("id")?,
                    attempt_id: r.try_get("attempt_id")?,
                    attempt: rows::event(&r.try_get::<String, _>("event")?)?,
                })
            })
            .transpose()
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

    async fn lease_next(
        &self,
        queue: &str,
        agent_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        // SQLite's single writer makes select-then-insert atomic. On
        // PostgreSQL many servers lease at once: each locks the row it takes
        // and skips rows others hold; a statement that began before another's
        // lease committed can still pick that debtor, so the insert yields on
        // conflict and the next statement, which sees the lease, picks again.
        let next = match self.pools {
            Pools::Sqlite { .. } => rows::NEXT_IN_QUEUE,
            Pools::Postgres(_) => rows::NEXT_IN_QUEUE_SKIP_LOCKED,
        };
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            for _ in 0..8 {
                let candidate = sqlx::query(next)
                    .bind(queue)
                    .bind(ms(now))
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(candidate) = candidate else {
                    return Ok(None);
                };
                let debtor_id: i64 = candidate.try_get("debtor_id")?;
                sqlx::query(rows::EXPIRE_LEASE_OF)
                    .bind(debtor_id)
                    .bind(ms(now))
                    .execute(&mut *tx)
                    .await?;
                let row = sqlx::query(rows::INSERT_LEASE)
                    .bind(debtor_id)
                    .bind(agent_id)
                    .bind(ms(now + ttl))
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(row) = row {
                    let lease = lease_row!(row);
                    tx.commit().await?;
                    return Ok(Some(lease));
                }
            }
            Ok(None)
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
                Some(row) => Some(lease_row!(row)),
                None => None,
            })
        })
    }

    async fn release_lease(
        &self,
        lease_id: i64,
        agent_id: Option<i64>,
    ) -> Result<Option<Lease>, StoreError> {
        on_writer!(self, |pool| {
            let row = sqlx::query(rows::RELEASE_LEASE)
                .bind(lease_id)
                .bind(agent_id)
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(lease_row!(row)),
                None => None,
            })
        })
    }

    async fn lease_on(
        &self,
        debtor_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, StoreError> {
        on_reader!(self, |pool| {
            let row = sqlx::query(rows::LEASE_ON)
                .bind(debtor_id)
                .bind(ms(now))
                .fetch_optional(pool)
                .await?;
            Ok(match row {
                Some(row) => Some(lease_row!(row)),
                None => None,
            })
        })
    }

    async fn expire_leases(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        on_writer!(self, |pool| Ok(sqlx::query(rows::EXPIRE_LEASES)
            .bind(ms(now))
            .execute(pool)
            .await?
            .rows_affected()))
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

    async fn idempotency_begin(
        &self,
        user_id: i64,
        key: &str,
        body_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Idempotency, StoreError> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let inserted = sqlx::query(rows::IDEMPOTENCY_INSERT)
                .bind(user_id)
                .bind(key)
                .bind(body_hash)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?
                .rows_affected();
            let state = if inserted == 1 {
                Idempotency::New
            } else {
                let row = sqlx::query(rows::IDEMPOTENCY_GET)
                    .bind(user_id)
                    .bind(key)
                    .fetch_one(&mut *tx)
                    .await?;
                rows::idempotency_state(&row, body_hash)?
            };
            tx.commit().await?;
            Ok(state)
        })
    }

    async fn idempotency_finish(
        &self,
        user_id: i64,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(rows::IDEMPOTENCY_FINISH)
                .bind(status as i64)
                .bind(body)
                .bind(user_id)
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn idempotency_abandon(&self, user_id: i64, key: &str) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(rows::IDEMPOTENCY_ABANDON)
                .bind(user_id)
                .bind(key)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    async fn idempotency_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        on_writer!(self, |pool| Ok(sqlx::query(rows::IDEMPOTENCY_PRUNE)
            .bind(ms(before))
            .execute(pool)
            .await?
            .rows_affected()))
    }

    async fn publish(
        &self,
        kind: &str,
        debtor_id: Option<i64>,
        user_id: Option<i64>,
        body: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        on_writer!(self, |pool| {
            let mut tx = pool.begin().await?;
            let row = sqlx::query(rows::PUBLISH)
                .bind(ms(now))
                .bind(kind)
                .bind(debtor_id)
                .bind(user_id)
                .bind(body.to_string())
                .fetch_one(&mut *tx)
                .await?;
            let id: i64 = row.try_get("id")?;
            if matches!(self.pools, Pools::Postgres(_)) {
                // Delivered at commit, to every server listening.
                sqlx::query(rows::NOTIFY)
                    .bind(id.to_string())
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(id)
        })
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

    async fn audit(
        &self,
        user_id: Option<i64>,
        action: &str,
        debtor_id: Option<i64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_writer!(self, |pool| {
            sqlx::query(rows::AUDIT)
                .bind(ms(now))
                .bind(user_id)
                .bind(action)
                .bind(debtor_id)
                .bind(detail)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
