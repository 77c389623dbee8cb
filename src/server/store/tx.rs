//! The reads and writes a request makes, each written once for both
//! databases and run on whatever connection it is given: a transaction of
//! the writer (a job of `write`) or a reader's connection.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use std::sync::LazyLock;

use super::exec::{Arg, Exec, Value, args, int, text};
use super::later::Later;
use super::rows::{self, from_ms, ms};
use super::*;
use crate::domain::{Currency, EventKind};

pub(super) struct SqlTx<'c> {
    /// Reached through `db`, which sends what `later` holds first.
    conn: &'c mut dyn Exec,
    published: Option<i64>,
    /// PostgreSQL's writes held back to go together.
    later: Later,
}

impl<'c> SqlTx<'c> {
    pub(super) fn new(conn: &'c mut dyn Exec) -> SqlTx<'c> {
        SqlTx {
            conn,
            published: None,
            later: Later::default(),
        }
    }

    fn postgres(&self) -> bool {
        self.conn.dialect().postgres
    }

    /// The connection, once the writes held back are sent: a statement
    /// run on it sees them.
    async fn db(&mut self) -> Result<&mut dyn Exec, StoreError> {
        self.send_later(false).await?;
        Ok(&mut *self.conn)
    }

    /// Sends the writes held back, and the feed items too when `feed`.
    async fn send_later(&mut self, feed: bool) -> Result<(), StoreError> {
        let Some((sql, values)) = self.later.take(feed) else {
            return Ok(());
        };
        let args: Vec<Arg<'_>> = values.iter().map(Value::arg).collect();
        let newest = self.conn.one(&sql, &args, |r| r.int("newest")).await?;
        self.published = self.published.max(newest);
        Ok(())
    }

    /// A write whose answer nobody waits on: held back on PostgreSQL to go
    /// with others, done now on SQLite (whose statements cost no round
    /// trip).
    async fn write_later(&mut self, sql: &'static str, args: &[Arg<'_>]) -> Result<(), StoreError> {
        if !self.postgres() {
            self.conn.execute(sql, args).await?;
            return Ok(());
        }
        if self.later.holds(sql) {
            self.send_later(false).await?;
        }
        self.later.hold(sql, args);
        Ok(())
    }

    /// A debtor with their debts and what `pick` reads with them: their
    /// history or nothing, held or not.
    async fn debtor_with(
        &mut self,
        id: i64,
        pick: fn(&rows::FileQueries) -> &'static str,
    ) -> Result<Option<(Debtor, Vec<Event>)>, StoreError> {
        let queries = if self.postgres() {
            &rows::POSTGRES_FILE
        } else {
            &rows::SQLITE_FILE
        };
        self.db()
            .await?
            .optional(pick(queries), &args![id], |r| {
                let debts: Vec<serde_json::Map<String, serde_json::Value>> =
                    serde_json::from_str(&text(r, "debts")?)
                        .map_err(|e| StoreError::Corrupt(format!("debts: {e}")))?;
                let debts = debts
                    .iter()
                    .map(|d| rows::debt(d))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok((rows::debtor(r, debts)?, rows::events(&text(r, "events")?)?))
            })
            .await
    }
}

/// One debtor's verdict, written by the statement imports use for many.
static UPSERT_VERDICT_SQLITE: LazyLock<String> =
    LazyLock::new(|| rows::upsert_verdicts(rows::SQLITE, 1));
static UPSERT_VERDICT_POSTGRES: LazyLock<String> =
    LazyLock::new(|| rows::upsert_verdicts(rows::POSTGRES, 1));

/// The outcome among the events written (its row id and disposition) and
/// what was promised with it, in minor units.
fn what_came_of(
    events: &[Event],
    ids: &[i64],
    counted_in: Currency,
) -> (Option<i64>, Option<String>, Option<i64>) {
    let mut outcome = (None, None, None);
    for (e, id) in events.iter().zip(ids) {
        match &e.kind {
            EventKind::Outcome { disposition, .. } => {
                outcome.0 = Some(*id);
                outcome.1 = Some(disposition.name().to_string());
            }
            EventKind::Promise { amount, .. } if amount.currency == counted_in => {
                outcome.2 = Some(amount.minor)
            }
            EventKind::InstallmentPlan { installments, .. }
                if installments.iter().all(|i| i.amount.currency == counted_in) =>
            {
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
    async fn debtor(&mut self, id: i64) -> Result<Option<Debtor>, StoreError> {
        Ok(self.debtor_with(id, |q| q.debtor).await?.map(|(d, _)| d))
    }

    async fn history(&mut self, debtor_id: i64) -> Result<Vec<Event>, StoreError> {
        self.db()
            .await?
            .one(rows::HISTORY, &args![debtor_id], |r| {
                rows::events(&text(r, "events")?)
            })
            .await
    }

    async fn file(&mut self, id: i64) -> Result<Option<(Debtor, Vec<Event>)>, StoreError> {
        self.debtor_with(id, |q| q.file).await
    }

    async fn hold(&mut self, id: i64) -> Result<Option<(Debtor, Vec<Event>)>, StoreError> {
        self.debtor_with(id, |q| q.held).await
    }

    async fn lease_on(
        &mut self,
        debtor_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, StoreError> {
        self.db()
            .await?
            .optional(rows::LEASE_ON, &args![debtor_id, ms(now)], rows::lease)
            .await
    }

    async fn promise_queue(&mut self, debtor_id: i64) -> Result<Option<String>, StoreError> {
        let queue = self
            .db()
            .await?
            .optional(rows::PROMISE_QUEUE, &args![debtor_id], |r| r.text("queue"))
            .await?;
        Ok(queue.flatten())
    }

    async fn open_call(
        &mut self,
        debtor_id: i64,
        agent_id: i64,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<OpenCall>, StoreError> {
        self.db()
            .await?
            .optional(
                rows::OPEN_CALL,
                &args![debtor_id, agent_id, ms(since), ms(until)],
                |r| {
                    Ok(OpenCall {
                        id: int(r, "id")?,
                        attempt_id: int(r, "attempt_id")?,
                        attempt: rows::event(&text(r, "event")?)?,
                        queue: r.text("queue")?,
                    })
                },
            )
            .await
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
        let (take, next, even_skipped) = if self.postgres() {
            (
                rows::TAKE_NEXT_SKIP_LOCKED,
                rows::NEXT_IN_QUEUE_SKIP_LOCKED,
                rows::NEXT_EVEN_SKIPPED_SKIP_LOCKED,
            )
        } else {
            (
                rows::TAKE_NEXT,
                rows::NEXT_IN_QUEUE,
                rows::NEXT_EVEN_SKIPPED,
            )
        };
        let taken = self
            .db()
            .await?
            .optional(
                take,
                &args![queue, ms(now), agent_id, ms(now + ttl)],
                rows::lease,
            )
            .await?;
        if taken.is_some() {
            return Ok(taken);
        }
        // Nobody is callable, a lease was in the way, or the agent skipped
        // everyone left: one step at a time.
        for _ in 0..8 {
            let mut candidate = self
                .db()
                .await?
                .optional(next, &args![queue, ms(now), agent_id], |r| {
                    int(r, "debtor_id")
                })
                .await?;
            // On PostgreSQL a debtor another transaction has locked at
            // this instant counts as taken, so a skipped one may come
            // before them: such locks are mostly other leases, which take
            // that debtor anyway.
            if candidate.is_none() {
                candidate = self
                    .db()
                    .await?
                    .optional(even_skipped, &args![queue, ms(now)], |r| {
                        int(r, "debtor_id")
                    })
                    .await?;
            }
            let Some(debtor_id) = candidate else {
                return Ok(None);
            };
            let insert = args![debtor_id, agent_id, ms(now + ttl)];
            if let Some(lease) = self
                .db()
                .await?
                .optional(rows::INSERT_LEASE, &insert, rows::lease)
                .await?
            {
                return Ok(Some(lease));
            }
            // The row in the way is an expired lease the scheduler has
            // not cleared yet, or (PostgreSQL) a lease another server
            // just took: the first goes, the second stays.
            self.db()
                .await?
                .execute(rows::EXPIRE_LEASE_OF, &args![debtor_id, ms(now)])
                .await?;
            if let Some(lease) = self
                .db()
                .await?
                .optional(rows::INSERT_LEASE, &insert, rows::lease)
                .await?
            {
                return Ok(Some(lease));
            }
        }
        Ok(None)
    }

    async fn release_lease(
        &mut self,
        lease_id: i64,
        agent_id: Option<i64>,
        skip_until: Option<DateTime<Utc>>,
    ) -> Result<Option<Lease>, StoreError> {
        let released = self
            .db()
            .await?
            .optional(rows::RELEASE_LEASE, &args![lease_id, agent_id], rows::lease)
            .await?;
        if let (Some(lease), Some(until)) = (&released, skip_until) {
            self.db()
                .await?
                .execute(
                    rows::SKIP,
                    &args![lease.agent_id, lease.debtor_id, ms(until)],
                )
                .await?;
        }
        Ok(released)
    }

    async fn release_leases_of(
        &mut self,
        agent_id: i64,
        skip_until: DateTime<Utc>,
    ) -> Result<Vec<Lease>, StoreError> {
        // On PostgreSQL two leases of one agent at once (two consoles, a
        // retry) would each find nothing to give back and both lease:
        // they take turns on the agent's row, and the second's delete,
        // begun after the first committed, sees its lease. (SQLite's one
        // writer takes turns already.)
        if self.postgres() {
            self.db()
                .await?
                .execute(rows::HOLD_AGENT, &args![agent_id])
                .await?;
        }
        let released = self
            .db()
            .await?
            .all(rows::RELEASE_LEASES_OF, &args![agent_id], rows::lease)
            .await?;
        for lease in &released {
            self.db()
                .await?
                .execute(
                    rows::SKIP,
                    &args![agent_id, lease.debtor_id, ms(skip_until)],
                )
                .await?;
        }
        Ok(released)
    }

    async fn apply(&mut self, debtor_id: i64, change: &Change) -> Result<Vec<i64>, StoreError> {
        let (upsert_verdict, dialect): (&'static LazyLock<String>, _) = if self.postgres() {
            (&UPSERT_VERDICT_POSTGRES, rows::POSTGRES)
        } else {
            (&UPSERT_VERDICT_SQLITE, rows::SQLITE)
        };
        let mut ids = Vec::with_capacity(change.events.len());
        if !change.events.is_empty() {
            let sql = rows::insert_history(dialect, change.events.len());
            let json: Vec<(i64, String)> = change
                .events
                .iter()
                .map(|e| {
                    (
                        ms(e.at),
                        serde_json::to_string(e).expect("events serialize"),
                    )
                })
                .collect();
            let mut params = Vec::with_capacity(json.len() * 3);
            for (at, event) in &json {
                params.extend(args![debtor_id, *at, event]);
            }
            ids = self
                .db()
                .await?
                .all(&sql, &params, |r| int(r, "id"))
                .await?;
            // Ids grow in the order rows are written; the order rows
            // come back in is not promised.
            ids.sort_unstable();
        }
        for b in &change.balances {
            self.write_later(
                rows::SET_BALANCE,
                &args![b.balance_minor, b.interest_fees_minor, b.debt_id, debtor_id],
            )
            .await?;
        }
        if let Some(call) = &change.call {
            let (outcome_id, disposition, promised) =
                what_came_of(&change.events, &ids, call.counted_in);
            match &call.ends {
                Some((open, contact)) => {
                    let ended = self
                        .db()
                        .await?
                        .execute(
                            rows::END_CALL,
                            &args![
                                outcome_id,
                                disposition.as_deref(),
                                promised,
                                open.id,
                                debtor_id
                            ],
                        )
                        .await?;
                    if ended == 0 {
                        return Err(StoreError::Conflict(format!(
                            "an outcome for call {}",
                            open.id
                        )));
                    }
                    let contact = serde_json::to_string(contact).expect("events serialize");
                    self.write_later(
                        rows::SET_HISTORY_EVENT,
                        &args![&contact, open.attempt_id, debtor_id],
                    )
                    .await?;
                }
                None => {
                    let (Some(attempt), Some(attempt_id)) = (change.events.first(), ids.first())
                    else {
                        return Err(StoreError::Corrupt(
                            "a call needs its attempt as the first event".into(),
                        ));
                    };
                    self.write_later(
                        rows::INSERT_CALL,
                        &args![
                            debtor_id,
                            call.agent_id,
                            *attempt_id,
                            call.queue.as_deref(),
                            ms(attempt.at),
                            outcome_id,
                            disposition.as_deref(),
                            promised
                        ],
                    )
                    .await?;
                }
            }
        }
        if let Some(v) = &change.verdict {
            self.write_later(upsert_verdict, &verdict_args(debtor_id, v))
                .await?;
        }
        Ok(ids)
    }

    async fn set_agent_state(
        &mut self,
        user_id: i64,
        state: AgentState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(AgentStateView, bool), StoreError> {
        let stored = self
            .db()
            .await?
            .one(
                rows::SET_AGENT_STATE,
                &args![user_id, state.name(), reason, ms(now)],
                rows::agent_state,
            )
            .await?;
        // `since` moves only when something changed.
        let changed = ms(stored.since) == ms(now);
        Ok((stored, changed))
    }

    async fn see(
        &mut self,
        user_id: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<(AgentStateView, Option<DateTime<Utc>>)>, StoreError> {
        let before = self
            .db()
            .await?
            .optional(rows::PRESENCE, &args![user_id], |r| {
                Ok((rows::agent_state(r)?, r.int("seen_ms")?.map(from_ms)))
            })
            .await?;
        if before.is_some() {
            self.write_later(rows::SET_SEEN, &args![at.map(ms), user_id])
                .await?;
        }
        Ok(before)
    }

    async fn publish(
        &mut self,
        kind: &str,
        debtor_id: Option<i64>,
        user_id: Option<i64>,
        body: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let body = body.to_string();
        let item = args![ms(now), kind, debtor_id, user_id, &body];
        if self.postgres() {
            // With the notice to every server listening, at commit.
            self.later.publish(item);
            return Ok(());
        }
        let id = self
            .conn
            .one(rows::PUBLISH, &item, |r| int(r, "id"))
            .await?;
        self.published = self.published.max(Some(id));
        Ok(())
    }

    fn published(&self) -> Option<i64> {
        self.published
    }

    async fn flush(&mut self) -> Result<(), StoreError> {
        self.send_later(true).await
    }

    async fn audit(
        &mut self,
        user_id: Option<i64>,
        action: &str,
        debtor_id: Option<i64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.write_later(
            rows::AUDIT,
            &args![ms(now), user_id, action, debtor_id, detail],
        )
        .await
    }

    async fn idempotency_begin(
        &mut self,
        user_id: i64,
        key: &str,
        scope: &str,
        body_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Idempotency, StoreError> {
        // SQLite answers one transaction at a time: none is ever beside this
        // one. PostgreSQL runs them side by side, and an insert of a key
        // another has inserted but not committed would wait for it.
        let inserted = if self.postgres() {
            let (got, inserted) = self
                .db()
                .await?
                .one(
                    rows::IDEMPOTENCY_LOCK_INSERT,
                    &args![
                        user_id,
                        key,
                        body_hash,
                        ms(now),
                        scope,
                        key_lock(user_id, key)
                    ],
                    |r| Ok((r.flag("got")?, int(r, "inserted")?)),
                )
                .await?;
            if !got {
                return Ok(Idempotency::InFlight);
            }
            inserted as u64
        } else {
            self.db()
                .await?
                .execute(
                    rows::IDEMPOTENCY_INSERT,
                    &args![user_id, key, body_hash, ms(now), scope],
                )
                .await?
        };
        if inserted == 1 {
            return Ok(Idempotency::New);
        }
        self.db()
            .await?
            .one(rows::IDEMPOTENCY_GET, &args![user_id, key], |r| {
                rows::idempotency_state(r, scope, body_hash)
            })
            .await
    }

    async fn idempotency_finish(
        &mut self,
        user_id: i64,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        self.write_later(
            rows::IDEMPOTENCY_FINISH,
            &args![i64::from(status), body, user_id, key],
        )
        .await
    }
}

/// A verdict's parameters, in the order of `rows::upsert_verdicts`.
pub(super) fn verdict_args(debtor_id: i64, v: &Verdict) -> [Arg<'_>; rows::VERDICT_COLUMNS] {
    args![
        debtor_id,
        v.queue.as_deref(),
        v.callable,
        i64::from(v.priority),
        v.review_at.map(ms),
        v.queue.as_ref().map(|_| ms(v.at)),
        v.blocked_rule.as_deref()
    ]
}
