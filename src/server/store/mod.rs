//! One `Store` trait, two implementations (SQLite and PostgreSQL), one
//! conformance suite (`tests/store.rs`) run against both. Chosen by the
//! URL's scheme; migrations under `migrations/` are applied on connect.

mod exec;
mod later;
mod rows;
mod sql;
mod sqlite_writer;
mod tx;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use std::sync::Arc;

use crate::api::{AgentCall, AgentState, AgentStateView, QueueDebtor};
use crate::domain::{Currency, Debtor, Event, Role, User};

pub use sql::SqlStore;

/// The right to run the scheduler (see [`Store::try_lead`]).
pub struct Lead(Option<sqlx::PgConnection>);

impl Lead {
    /// Whether the right still holds. On PostgreSQL the lock is its
    /// connection's and goes with it (the connection cut, its backend
    /// ended): another server may have taken it since, so one that finds
    /// it gone stops leading before its next pass.
    pub async fn holds(&mut self) -> bool {
        let Some(conn) = &mut self.0 else {
            return true;
        };
        sqlx::query_scalar::<_, bool>(rows::STILL_LEADS)
            .fetch_one(conn)
            .await
            .unwrap_or(false)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} already exists")]
    Conflict(String),
    #[error("{0}")]
    BadUrl(String),
    #[error("stored data could not be read: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// From the SQLite writer's own connection.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("the write was not committed: {0}")]
    NotCommitted(String),
}

impl StoreError {
    /// A write broke a unique constraint (a name or key taken).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(e)) => e.is_unique_violation(),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => matches!(
                e.extended_code,
                rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    | rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            ),
            _ => false,
        }
    }
}

/// The engine's verdict on a debtor, kept beside them so queues are a query.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    pub queue: Option<String>,
    /// A call is due and allowed now.
    pub callable: bool,
    pub priority: i32,
    /// When to plan again even if nothing happens (a window opening, a
    /// promise's end).
    pub review_at: Option<DateTime<Utc>>,
    /// When the engine gave it: a debtor moved into a queue has waited
    /// there since then.
    pub at: DateTime<Utc>,
    /// The rule that keeps a queued debtor from being called now.
    pub blocked_rule: Option<String>,
}

/// What one write changes about a debtor, all or nothing.
#[derive(Clone, Debug, Default)]
pub struct Change {
    /// Appended to the history, in order.
    pub events: Vec<Event>,
    /// Debts' new balances (after a payment).
    pub balances: Vec<DebtBalance>,
    pub verdict: Option<Verdict>,
    /// The call attempt this write starts or ends.
    pub call: Option<CallWrite>,
}

/// What a debt owes after a payment: in all, and of that, interest and
/// fees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebtBalance {
    pub debt_id: i64,
    pub balance_minor: i64,
    pub interest_fees_minor: i64,
}

/// A call attempt, kept with its agent and queue for the board.
#[derive(Clone, Debug)]
pub struct CallWrite {
    /// The currency the board adds up promises in: one in another is
    /// counted without its amount.
    pub counted_in: Currency,
    pub agent_id: i64,
    /// The queue the debtor was worked from.
    pub queue: Option<String>,
    /// The open call this write ends, and the contact its attempt becomes
    /// now that the result is known. `None`: the first event written is a
    /// new attempt. An outcome among the events, and any promise or plan,
    /// are what came of the call.
    pub ends: Option<(OpenCall, Event)>,
}

/// A call dialed whose outcome is not recorded yet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpenCall {
    pub id: i64,
    /// Its contact in the history, as written when dialed.
    pub attempt_id: i64,
    pub attempt: Event,
    /// The queue the debtor was called from, as the call's start said.
    pub queue: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub id: i64,
    pub debtor_id: i64,
    pub agent_id: i64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebtorSummary {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub document: String,
}

/// Where a request with an Idempotency-Key stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Idempotency {
    /// First seen: go on, then `idempotency_finish`.
    New,
    /// Seen and answered: give this answer again.
    Replay { status: u16, body: String },
    /// Being answered now by another transaction (on PostgreSQL, which
    /// runs them side by side: the key's lock is held).
    InFlight,
    /// Seen with another body, or on another call.
    Mismatch,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FeedItem {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub debtor_id: Option<i64>,
    pub user_id: Option<i64>,
    pub body: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueCount {
    pub queue: String,
    pub waiting: i64,
    pub callable: i64,
    pub leased: i64,
    /// Since when the longest-waiting callable debtor nobody holds has been
    /// in the queue.
    pub oldest: Option<DateTime<Utc>>,
    /// Debtors who may not be called now, by the rule that blocks them.
    pub blocked: std::collections::BTreeMap<String, i64>,
}

/// An agent on the floor (their console's live stream seen lately, or a
/// lease) for the board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FloorAgent {
    pub id: i64,
    pub name: String,
    pub state: AgentStateView,
    /// Their console was seen lately (else they are here by a lease alone).
    pub present: bool,
    /// Their newest lease, and the name of the debtor it holds.
    pub lease: Option<(Lease, String)>,
}

/// Calls started since some instant, counted by agent, queue, disposition
/// (`None` while open) and hour since that instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallTally {
    pub agent_id: i64,
    pub queue: Option<String>,
    pub disposition: Option<String>,
    /// Hours since the day's start: of the calls' start, and of their
    /// outcomes.
    pub hour: i64,
    pub outcome_hour: i64,
    pub calls: i64,
    pub promised_minor: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Imported {
    /// The stored id of each debtor, in the order given.
    pub ids: Vec<i64>,
    /// Whether each was already stored (and may have a history), in the
    /// order given.
    pub known: Vec<bool>,
    pub created: u64,
    pub updated: u64,
}

/// What a job of `write` reads to decide and what it writes, in one
/// transaction: no other writer changes what it read before it commits.
#[async_trait]
pub trait Tx: Send {
    async fn debtor(&mut self, id: i64) -> Result<Option<Debtor>, StoreError>;
    /// The history in time order.
    async fn history(&mut self, debtor_id: i64) -> Result<Vec<Event>, StoreError>;
    /// The debtor and their history in time order: what `debtor` and
    /// `history` give, in fewer round trips.
    async fn file(&mut self, id: i64) -> Result<Option<(Debtor, Vec<Event>)>, StoreError>;
    /// What `file` gives, with the debtor held against other writers until
    /// the end (PostgreSQL locks the row; SQLite has one writer).
    async fn hold(&mut self, id: i64) -> Result<Option<(Debtor, Vec<Event>)>, StoreError>;
    async fn lease_on(
        &mut self,
        debtor_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Lease>, StoreError>;
    /// The queue the debtor's latest promise (or plan) was made from: the
    /// call that recorded it.
    async fn promise_queue(&mut self, debtor_id: i64) -> Result<Option<String>, StoreError>;
    async fn open_call(
        &mut self,
        debtor_id: i64,
        agent_id: i64,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<OpenCall>, StoreError>;
    async fn lease_next(
        &mut self,
        queue: &str,
        agent_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError>;
    /// Ends a lease `agent_id` holds (anyone's when `None`); the lease
    /// ended. With `skip_until`, the agent who held it is offered everyone
    /// else in the queue first until then.
    async fn release_lease(
        &mut self,
        lease_id: i64,
        agent_id: Option<i64>,
        skip_until: Option<DateTime<Utc>>,
    ) -> Result<Option<Lease>, StoreError>;
    /// Ends every lease `agent_id` holds, each skipped until `skip_until`
    /// as `release_lease` does; the leases ended. An agent works one debtor
    /// at a time: the one they move on from goes back to the queue now,
    /// not when its lease runs out.
    async fn release_leases_of(
        &mut self,
        agent_id: i64,
        skip_until: DateTime<Utc>,
    ) -> Result<Vec<Lease>, StoreError>;
    async fn apply(&mut self, debtor_id: i64, change: &Change) -> Result<Vec<i64>, StoreError>;
    async fn set_agent_state(
        &mut self,
        user_id: i64,
        state: AgentState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(AgentStateView, bool), StoreError>;
    /// Marks the agent seen by a live stream at `at`, or gone (`None`).
    /// Their state, and when they were seen before; `None` when they have
    /// no state yet.
    async fn see(
        &mut self,
        user_id: i64,
        at: Option<DateTime<Utc>>,
    ) -> Result<Option<(AgentStateView, Option<DateTime<Utc>>)>, StoreError>;
    /// Appends an item to the feed. Its id is in `published` once it is
    /// sent (on PostgreSQL, by `flush` or before commit).
    async fn publish(
        &mut self,
        kind: &str,
        debtor_id: Option<i64>,
        user_id: Option<i64>,
        body: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The newest feed item this transaction published and sent.
    fn published(&self) -> Option<i64>;
    /// Sends what was held back (PostgreSQL sends writes nobody waits on
    /// together: before the next statement that reads, or now). A job's
    /// transaction sends it before committing; a job that asks `published`
    /// sends it first.
    async fn flush(&mut self) -> Result<(), StoreError>;
    async fn audit(
        &mut self,
        user_id: Option<i64>,
        action: &str,
        debtor_id: Option<i64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Takes `key` for a request: `scope` names the call (`POST
    /// /v1/payments`), `body_hash` its body.
    async fn idempotency_begin(
        &mut self,
        user_id: i64,
        key: &str,
        scope: &str,
        body_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Idempotency, StoreError>;
    async fn idempotency_finish(
        &mut self,
        user_id: i64,
        key: &str,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError>;
}

/// Told whether the transaction a job ran in was committed.
pub type Deliver = Box<dyn FnOnce(Result<(), StoreError>) + Send>;

/// A unit of work: runs on a transaction and says whether to keep what it
/// wrote, and whom to tell once that is settled. It awaits nothing but its
/// `Tx`: SQLite's writer runs it on a thread of its own and expects it done
/// at its first poll (one that is not is dropped, unanswered).
pub type Job =
    Box<dyn for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, (bool, Deliver)> + Send + 'static>;

/// A closure as a `Job` (naming the bound lets the compiler see the
/// closure's signature).
fn job<F>(f: F) -> Job
where
    F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, (bool, Deliver)> + Send + 'static,
{
    Box::new(f)
}

/// Runs `work` in one transaction and answers once that is durable: all it
/// wrote, or nothing if it fails.
pub async fn write<T, E, F>(store: &dyn Store, work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T, E>> + Send + 'static,
{
    let (answer, answered) = tokio::sync::oneshot::channel::<Result<T, E>>();
    store
        .run(job(move |tx| {
            Box::pin(async move { settle(work(tx).await, answer) })
        }))
        .await?;
    answered.await.map_err(|_| E::from(unanswered()))?
}

/// A job's result: kept when it is `Ok`, and handed to `answer` once its
/// transaction is settled (an error if that was not committed).
fn settle<T, E>(
    result: Result<T, E>,
    answer: tokio::sync::oneshot::Sender<Result<T, E>>,
) -> (bool, Deliver)
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let keep = result.is_ok();
    let deliver: Deliver = Box::new(move |committed: Result<(), StoreError>| {
        let _ = answer.send(committed.map_err(E::from).and(result));
    });
    (keep, deliver)
}

/// What a caller hears when the writer dropped its job unanswered.
fn unanswered() -> StoreError {
    StoreError::NotCommitted("the writer stopped before answering".into())
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Runs a job on a transaction of its own; on SQLite, jobs that arrive
    /// together share one commit (one fsync), each in a savepoint, so one
    /// that fails takes back only its own writes.
    async fn run(&self, job: Job) -> Result<(), StoreError>;
    async fn create_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<User, StoreError>;
    /// Whether nobody and no debtor is stored yet: a database the demo may
    /// fill.
    async fn is_empty(&self) -> Result<bool, StoreError>;
    /// Whether the database answers (a health check).
    async fn ping(&self) -> Result<(), StoreError>;
    /// The user and their password hash.
    async fn user_by_name(&self, name: &str) -> Result<Option<(User, String)>, StoreError>;
    async fn user(&self, id: i64) -> Result<Option<User>, StoreError>;
    /// Lets `public_key` (an OpenSSH public key line) open SSH sessions as
    /// the user; the same key twice is a conflict.
    async fn add_user_key(
        &self,
        user_id: i64,
        public_key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn user_keys(&self, user_id: i64) -> Result<Vec<String>, StoreError>;
    async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Ends a session at once (log out); whether there was one.
    async fn revoke_session(&self, token_hash: &[u8]) -> Result<bool, StoreError>;
    /// Forgets sessions expired by `now`; how many.
    async fn sessions_prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Forgets skips over by `now` (see `release_lease`); how many.
    async fn skips_prune(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
    /// The user of an unexpired session, and when it expires.
    async fn session_user(
        &self,
        token_hash: &[u8],
        now: DateTime<Utc>,
    ) -> Result<Option<(User, DateTime<Utc>)>, StoreError>;
    /// Moves an unexpired session's end to `until`, never earlier.
    async fn extend_session(
        &self,
        token_hash: &[u8],
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The user's state, if they ever had one.
    async fn agent_state(&self, user_id: i64) -> Result<Option<AgentStateView>, StoreError>;
    /// The user's state; `ready` since `now` if they have none yet.
    async fn begin_agent_state(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<AgentStateView, StoreError>;
    /// Sets the user's state; `since` stays as it was when neither the state
    /// nor the reason changes. The state stored, and whether it changed.
    async fn set_agent_state(
        &self,
        user_id: i64,
        state: AgentState,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(AgentStateView, bool), StoreError>;

    /// Creates or updates debtors by external id (no two the same),
    /// replacing their debts; all or nothing. Each one's verdict is marked
    /// for the import (see [`import_mark`]) until `set_verdicts` writes it.
    /// (Shared, not copied: the writer runs on a thread of its own, and a
    /// million debtors are most of an import's memory.)
    async fn import_debtors(
        &self,
        debtors: Arc<[Debtor]>,
        now: DateTime<Utc>,
    ) -> Result<Imported, StoreError>;
    /// The verdicts of an import's debtors, as `apply` would store each,
    /// where the import's `mark` is still on them (a write that planned
    /// one since is newer); all or nothing.
    async fn set_verdicts(
        &self,
        verdicts: Vec<(i64, Verdict)>,
        mark: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    async fn debtor(&self, id: i64) -> Result<Option<Debtor>, StoreError>;
    /// By words of the name (each anywhere, any case, accents or not), id,
    /// external id or document digits.
    async fn search_debtors(
        &self,
        query: &str,
        limit: u32,
    ) -> Result<Vec<DebtorSummary>, StoreError>;
    /// The history in time order.
    async fn history(&self, debtor_id: i64) -> Result<Vec<Event>, StoreError>;
    /// The histories of many debtors, in the order of `debtor_ids` (empty for
    /// an id with none or unknown).
    async fn histories(&self, debtor_ids: &[i64]) -> Result<Vec<Vec<Event>>, StoreError>;
    /// Returns the ids of the history rows written, in order.
    async fn apply(&self, debtor_id: i64, change: &Change) -> Result<Vec<i64>, StoreError>;
    /// The newest call `agent_id` dialed to this debtor from `since` to
    /// `until` that has no outcome yet.
    async fn open_call(
        &self,
        debtor_id: i64,
        agent_id: i64,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Option<OpenCall>, StoreError>;
    /// Debtors whose verdict asks to be planned again by `now`.
    async fn due_for_review(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, StoreError>;

    /// The highest-priority callable debtor of the queue that nobody holds,
    /// held for `agent_id` until `now + ttl`. Never the same debtor to two
    /// agents at once. Debtors the agent skipped (see `release_lease`) come
    /// only when nobody else is left.
    async fn lease_next(
        &self,
        queue: &str,
        agent_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError>;
    /// Extends a lease its agent still holds.
    async fn renew_lease(
        &self,
        lease_id: i64,
        agent_id: i64,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError>;
    /// Ends a lease `agent_id` holds (anyone's when `None`); the lease
    /// ended. With `skip_until`, the agent who held it is offered everyone
    /// else in the queue first until then.
    async fn release_lease(
        &self,
        lease_id: i64,
        agent_id: Option<i64>,
        skip_until: Option<DateTime<Utc>>,
    ) -> Result<Option<Lease>, StoreError>;
    /// Removes expired leases; the leases removed.
    async fn expire_leases(&self, now: DateTime<Utc>) -> Result<Vec<Lease>, StoreError>;
    async fn queue_counts(&self, now: DateTime<Utc>) -> Result<Vec<QueueCount>, StoreError>;
    /// Agents seen after `seen_after` (see `Tx::see`) or holding a lease at
    /// `now`, by name.
    async fn floor(
        &self,
        now: DateTime<Utc>,
        seen_after: DateTime<Utc>,
    ) -> Result<Vec<FloorAgent>, StoreError>;
    /// Forgets the agents last seen at or before `before` (their console
    /// went without a word: a server or a network gone); who they were.
    async fn lapse_presence(&self, before: DateTime<Utc>) -> Result<Vec<i64>, StoreError>;
    /// Calls since `since`, of one agent or of all.
    async fn call_tallies(
        &self,
        since: DateTime<Utc>,
        agent: Option<i64>,
    ) -> Result<Vec<CallTally>, StoreError>;
    /// Who waits in `queue`, callable first, at most `limit`.
    async fn queue_debtors(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<QueueDebtor>, StoreError>;
    /// An agent's calls started since `since`, newest first, at most `limit`.
    async fn agent_calls(
        &self,
        agent_id: i64,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<AgentCall>, StoreError>;

    /// Forgets keys older than `before`.
    async fn idempotency_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    async fn publish(
        &self,
        kind: &str,
        debtor_id: Option<i64>,
        user_id: Option<i64>,
        body: &serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError>;
    /// Items after `after_id`, oldest first, each with the agent whose
    /// lease holds its debtor at `now` (agents see their leased debtors'
    /// items): one read, not one a debtor.
    async fn feed_after(
        &self,
        after_id: i64,
        limit: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<(FeedItem, Option<i64>)>, StoreError>;
    /// The newest `limit` items of these kinds, oldest first.
    async fn feed_latest_of(&self, kinds: &[&str], limit: u32)
    -> Result<Vec<FeedItem>, StoreError>;
    /// Payments and promises kept or broken published since `since`.
    async fn feed_money_since(&self, since: DateTime<Utc>) -> Result<Vec<FeedItem>, StoreError>;
    /// The oldest and newest ids kept (`None`: the feed is empty).
    async fn feed_bounds(&self) -> Result<Option<(i64, i64)>, StoreError>;
    /// Forgets feed items older than `before`.
    async fn feed_prune(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Tells `latest` of every item published by any process on this
    /// database (PostgreSQL's LISTEN/NOTIFY); SQLite has one process, whose
    /// own publishing tells it.
    async fn listen(&self, latest: Arc<tokio::sync::watch::Sender<i64>>) -> Result<(), StoreError>;
    /// Asks to be the one process running the scheduler; the answer holds the
    /// right while kept (PostgreSQL: an advisory lock on a connection of its
    /// own, released if the process dies), `None` if another holds it.
    async fn try_lead(&self) -> Result<Option<Lead>, StoreError>;
    async fn audit(
        &self,
        user_id: Option<i64>,
        action: &str,
        debtor_id: Option<i64>,
        detail: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// When an import begun at `now` has its debtors due for review until it
/// writes their verdicts: should it stop between the two writes (its
/// process killed), the scheduler plans them then, and none is left
/// without a verdict, in no queue. Later than the import should take, so
/// the scheduler does not plan them one by one while it runs.
pub fn import_mark(now: DateTime<Utc>) -> DateTime<Utc> {
    now + Duration::minutes(10)
}

/// A database URL as it may be shown in a message or a log: with its
/// password masked.
pub fn shown_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) if let Some((user, _)) = user_info.split_once(':') => {
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_string(),
    }
}

/// Opens the store a URL names: `sqlite://PATH` (created if missing) or
/// `postgres://…`; applies the migrations.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(SqlStore::connect_sqlite(url).await?))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok(Arc::new(SqlStore::connect_postgres(url).await?))
    } else {
        Err(StoreError::BadUrl(
            "neither sqlite://PATH nor postgres://…".into(),
        ))
    }
}
