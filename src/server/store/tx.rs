//! The reads and writes a request makes, each written once for both
//! databases and run on whatever connection it is given: a transaction of
//! the writer (a job of `write`) or a reader's connection.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use sqlx::{PgConnection, Row, SqliteConnection};
use std::sync::LazyLock;

use super::rows::{self, ms};
use super::*;
use crate::domain::EventKind;

pub(super) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// Runs `$body` with `$c` bound to the connection, whichever the database.
macro_rules! on_conn {
    ($self:ident, |$c:ident| $body:expr) => {
        match &mut $self.conn {
            Conn::Sqlite($c) => $body,
            Conn::Postgres($c) => $body,
        }
    };
}

pub(super) struct SqlTx<'c> {
    conn: Conn<'c>,
    published: Option<i64>,
}

impl<'c> SqlTx<'c> {
    pub(super) fn new(conn: Conn<'c>) -> SqlTx<'c> {
        SqlTx {
            conn,
            published: None,
        }
    }

    /// A debtor with their debts, and their history when `history` (else
    /// none).
    async fn debtor_with(
        &mut self,
        id: i64,
        history: bool,
    ) -> Result<Option<(Debtor, Vec<Event>)>, StoreError> {
        let sql = if history {
            rows::DEBTOR_FILE
        } else {
            rows::DEBTOR
        };
        on_conn!(self, |c| {
            let Some(row) = sqlx::query(sql).bind(id).fetch_optional(&mut **c).await? else {
                return Ok(None);
            };
            let debts = sqlx::query(rows::DEBTS)
                .bind(id)
                .fetch_all(&mut **c)
                .await?;
            let debts = debts
                .iter()
                .map(rows::debt)
                .collect::<Result<Vec<_>, _>>()?;
            let events = if history {
                rows::events(&row.try_get::<String, _>("events")?)?
            } else {
                Vec::new()
            };
            Ok(Some((rows::debtor(&row, debts)?, events)))
        })
    }
}

/// One debtor's verdict, written by the statement imports use for many.
static UPSERT_VERDICT_SQLITE: LazyLock<String> =
    LazyLock::new(|| rows::upsert_verdicts(rows::SQLITE, 1));
static UPSERT_VERDICT_POSTGRES: LazyLock<String> =
    LazyLock::new(|| rows::upsert_verdicts(rows::POSTGRES, 1));

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

/// The advisory lock that stands for a user's idempotency key: 64 bits of
/// its hash, so two keys (or a key and the scheduler's lock) share one by
/// a chance of one in 2^64.
fn key_lock(user_id: i64, key: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(user_id.to_le_bytes())
        .chain_update(key.as_bytes())
        .finalize();
    i64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
}

#[async_trait]
impl Tx for SqlTx<'_> {
    async fn lock_debtor(&mut self, id: i64) -> Result<(), StoreError> {
        // SQLite: the one writer already holds everything.
        if let Conn::Postgres(c) = &mut self.conn {
            sqlx::query(rows::LOCK_DEBTOR)
                .bind(id)
                .fetch_optional(&mut **c)
                .await?;
        }
        Ok(())
    }

    async fn debtor(&mut self, id: i64) -> Result<Option<Debtor>, StoreError> {
        Ok(self.debtor_with(id, false).await?.map(|(d, _)| d))
    }

    async fn history(&mut self, debtor_id: i64) -> Result<Vec<Event>, StoreError> {
        on_conn!(self, |c| {
            let row = sqlx::query(rows::HISTORY)
                .bind(debtor_id)
                .fetch_one(&mut **c)
                .await?;
            rows::events(&row.try_get::<String, _>("events")?)
        })
    }

    async fn file(&mut self, id: i64) -> Result<Option<(Debtor, Vec<Event>)>, StoreError> {
        self.debtor_with(id, true).await
    }

    async fn lease_on(
        &mut self,
        debtor_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, StoreError> {
        on_conn!(self, |c| {
            let row = sqlx::query(rows::LEASE_ON)
                .bind(debtor_id)
                .bind(ms(now))
                .fetch_optional(&mut **c)
                .await?;
            Ok(match row {
                Some(row) => Some(rows::lease(&row)?),
                None => None,
            })
        })
    }

    async fn open_call(
        &mut self,
        debtor_id: i64,
        agent_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Option<OpenCall>, StoreError> {
        on_conn!(self, |c| {
            let row = sqlx::query(rows::OPEN_CALL)
                .bind(debtor_id)
                .bind(agent_id)
                .bind(ms(since))
                .fetch_optional(&mut **c)
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

    async fn lease_next(
        &mut self,
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
        let next = match self.conn {
            Conn::Sqlite(_) => rows::NEXT_IN_QUEUE,
            Conn::Postgres(_) => rows::NEXT_IN_QUEUE_SKIP_LOCKED,
        };
        on_conn!(self, |c| {
            for _ in 0..8 {
                let candidate = sqlx::query(next)
                    .bind(queue)
                    .bind(ms(now))
                    .fetch_optional(&mut **c)
                    .await?;
                let Some(candidate) = candidate else {
                    return Ok(None);
                };
                let debtor_id: i64 = candidate.try_get("debtor_id")?;
                let insert = || {
                    sqlx::query(rows::INSERT_LEASE)
                        .bind(debtor_id)
                        .bind(agent_id)
                        .bind(ms(now + ttl))
                };
                if let Some(row) = insert().fetch_optional(&mut **c).await? {
                    return Ok(Some(rows::lease(&row)?));
                }
                // The row in the way is an expired lease the scheduler has
                // not cleared yet, or (PostgreSQL) a lease another server
                // just took: the first goes, the second stays.
                sqlx::query(rows::EXPIRE_LEASE_OF)
                    .bind(debtor_id)
                    .bind(ms(now))
                    .execute(&mut **c)
                    .await?;
                if let Some(row) = insert().fetch_optional(&mut **c).await? {
                    return Ok(Some(rows::lease(&row)?));
                }
            }
            Ok(None)
        })
    }

    async fn release_lease(
        &mut self,
        lease_id: i64,
        agent_id: Option<i64>,
    ) -> Result<Option<Lease>, StoreError> {
        on_conn!(self, |c| {
            let row = sqlx::query(rows::RELEASE_LEASE)
                .bind(lease_id)
                .bind(agent_id)
                .fetch_optional(&mut **c)
                .await?;
            Ok(match row {
                Some(row) => Some(rows::lease(&row)?),
                None => None,
            })
        })
    }

    async fn apply(&mut self, debtor_id: i64, change: &Change) -> Result<Vec<i64>, StoreError> {
        let (upsert_verdict, dialect): (&LazyLock<String>, _) = match self.conn {
            Conn::Sqlite(_) => (&UPSERT_VERDICT_SQLITE, rows::SQLITE),
            Conn::Postgres(_) => (&UPSERT_VERDICT_POSTGRES, rows::POSTGRES),
        };
        on_conn!(self, |c| {
            let mut ids = Vec::with_capacity(change.events.len());
            if !change.events.is_empty() {
                let sql = rows::insert_history(dialect, change.events.len());
                let mut insert = sqlx::query(sqlx::AssertSqlSafe(sql));
                for e in &change.events {
                    insert = insert
                        .bind(debtor_id)
                        .bind(ms(e.at))
                        .bind(serde_json::to_string(e).expect("events serialize"));
                }
                for row in insert.fetch_all(&mut **c).await? {
                    ids.push(row.try_get::<i64, _>("id")?);
                }
                // Ids grow in the order rows are written; the order rows
                // come back in is not promised.
                ids.sort_unstable();
            }
            for (debt_id, balance) in &change.balances {
                sqlx::query(rows::SET_BALANCE)
                    .bind(balance)
                    .bind(debt_id)
                    .bind(debtor_id)
                    .execute(&mut **c)
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
                            .execute(&mut **c)
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
                            .execute(&mut **c)
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
                            .execute(&mut **c)
                            .await?;
                    }
                }
            }
            if let Some(v) = &change.verdict {
                sqlx::query(sqlx::AssertSqlSafe(upsert_verdict.as_str()))
                    .bind(debtor_id)
                    .bind(v.queue.as_deref())
                    .bind(v.callable)
                    .bind(v.priority)
                    .bind(v.review_at.map(ms))
                    .bind(v.queue.as_ref().map(|_| ms(v.at)))
                    .bind(v.blocked_rule.as_deref())
                    .execute(&mut **c)
                    .await?;
            }
            Ok(ids)
        })
    }

    async fn set_agent_state(
        &mut self,
        user_id: i64,
        state: AgentState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(AgentStateView, bool), StoreError> {
        on_conn!(self, |c| {
            let row = sqlx::query(rows::SET_AGENT_STATE)
                .bind(user_id)
                .bind(state.name())
                .bind(reason)
                .bind(ms(now))
                .fetch_one(&mut **c)
                .await?;
            let stored = rows::agent_state(&row)?;
            // `since` moves only when something changed.
            let changed = ms(stored.since) == ms(now);
            Ok((stored, changed))
        })
    }

    async fn publish(
        &mut self,
        kind: &str,
        debtor_id: Option<i64>,
        user_id: Option<i64>,
        body: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        // On PostgreSQL the notice goes at commit to every server listening.
        let sql = match self.conn {
            Conn::Sqlite(_) => rows::PUBLISH,
            Conn::Postgres(_) => rows::PUBLISH_NOTIFY,
        };
        let id = on_conn!(self, |c| {
            let row = sqlx::query(sql)
                .bind(ms(now))
                .bind(kind)
                .bind(debtor_id)
                .bind(user_id)
                .bind(body.to_string())
                .fetch_one(&mut **c)
                .await?;
            row.try_get::<i64, _>("id")?
        });
        self.published = self.published.max(Some(id));
        Ok(id)
    }

    fn published(&self) -> Option<i64> {
        self.published
    }

    async fn audit(
        &mut self,
        user_id: Option<i64>,
        action: &str,
        debtor_id: Option<i64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        on_conn!(self, |c| {
            sqlx::query(rows::AUDIT)
                .bind(ms(now))
                .bind(user_id)
                .bind(action)
                .bind(debtor_id)
                .bind(detail)
                .execute(&mut **c)
                .await?;
        });
        Ok(())
    }

    async fn idempotency_begin(
        &mut self,
        user_id: i64,
        key: &str,
        body_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Idempotency, StoreError> {
        // SQLite answers one transaction at a time: none is ever beside this
        // one. PostgreSQL runs them side by side, and an insert of a key
        // another has inserted but not committed would wait for it.
        if let Conn::Postgres(c) = &mut self.conn {
            let got: bool = sqlx::query(rows::IDEMPOTENCY_LOCK)
                .bind(key_lock(user_id, key))
                .fetch_one(&mut **c)
                .await?
                .try_get("got")?;
            if !got {
                return Ok(Idempotency::InFlight);
            }
        }
        on_conn!(self, |c| {
            let inserted = sqlx::query(rows::IDEMPOTENCY_INSERT)
                .bind(user_id)
                .bind(key)
                .bind(body_hash)
                .bind(ms(now))
                .execute(&mut **c)
                .await?
                .rows_affected();
            if inserted == 1 {
                return Ok(Idempotency::New);
            }
            let row = sqlx::query(rows::IDEMPOTENCY_GET)
                .bind(user_id)
                .bind(key)
                .fetch_one(&mut **c)
                .await?;
            rows::idempotency_state(&row, body_hash)
        })
    }

    async fn idempotency_finish(
        &mut self,
        user_id: i64,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        on_conn!(self, |c| {
            sqlx::query(rows::IDEMPOTENCY_FINISH)
                .bind(status as i64)
                .bind(body)
                .bind(user_id)
                .bind(key)
                .execute(&mut **c)
                .await?;
        });
        Ok(())
    }
}
