//! Nothing an agent records is lost: every write goes first into a SQLite
//! file in the data directory (`outbox.db`, durable at commit), and a sender
//! task delivers it from there, in order, retrying with backoff until the
//! server takes it or refuses it for good. Each item keeps its
//! Idempotency-Key for every attempt, so the server records it once however
//! many times it is sent. A refusal (a final 4xx) is kept, marked failed
//! with the server's message, for the agent to see, fix or send again:
//! never dropped. Items survive a restart: open the file and run again.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::Row;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqliteSynchronous};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::{Client, ClientError, Method};
use crate::domain::{Clock, Currency, Locale, SystemClock};

pub const FILE_NAME: &str = "outbox.db";
/// The first wait after a failed attempt; it doubles up to [`RETRY_MAX`]
/// (each wait between half and all of it, at random, so many consoles
/// do not come back at once) and starts again after a delivery.
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
pub const RETRY_MAX: Duration = Duration::from_secs(30);
/// The server remembers an Idempotency-Key for 7 days. A write already
/// tried that is older than this may have been recorded with its answer
/// lost, and the server would no longer know it: it waits for the agent
/// to look (a day short of 7, for clocks that disagree).
pub const KEY_REMEMBERED: chrono::TimeDelta = chrono::TimeDelta::days(6);

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    failed INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    about TEXT,
    owner TEXT,
    checked INTEGER NOT NULL DEFAULT 0,
    currency TEXT,
    zone TEXT
)";
/// Columns files from before them gain: who the write is about; whose it
/// is (`user@server`; none in older files, sent by whoever runs); whether
/// the agent looked before sending an old write again; the currency of
/// the amounts in its body; the zone of its times.
const ADDED: [(&str, &str); 5] = [
    ("about", "ALTER TABLE outbox ADD COLUMN about TEXT"),
    ("owner", "ALTER TABLE outbox ADD COLUMN owner TEXT"),
    (
        "checked",
        "ALTER TABLE outbox ADD COLUMN checked INTEGER NOT NULL DEFAULT 0",
    ),
    ("currency", "ALTER TABLE outbox ADD COLUMN currency TEXT"),
    ("zone", "ALTER TABLE outbox ADD COLUMN zone TEXT"),
];
const HAS: &str = "SELECT COUNT(*) FROM pragma_table_info('outbox') WHERE name = ?";
const ENQUEUE: &str = "INSERT INTO outbox \
                       (kind, idempotency_key, body, created_at, about, owner, currency, zone) \
                       VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id";
/// Only the writes of the user and server this console is signed in to
/// are sent: another's would go under this token.
const MINE: &str = "(owner IS NULL OR owner = ?1)";
const COLUMNS: &str = "id, kind, idempotency_key, body, failed, attempts, last_error, \
                       created_at, about, owner, checked, currency, zone";
const ATTEMPTED: &str =
    "UPDATE outbox SET attempts = attempts + 1, last_error = ?, failed = ? WHERE id = ?";
const HELD: &str = "UPDATE outbox SET last_error = ?, failed = 1 WHERE id = ?";
const DELIVERED: &str = "DELETE FROM outbox WHERE id = ?";

/// What a write is, and so where it goes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OutboxKind {
    /// `POST /v1/debtors/{debtor_id}/outcomes`
    Outcome { debtor_id: i64 },
    /// A row this regua cannot read (another version's kind, say), and
    /// why: kept for the agent, never sent, and not in the way of the rest.
    #[serde(skip)]
    Unreadable(String),
}

impl OutboxKind {
    /// Where it goes, or why it cannot go.
    fn route(&self) -> Result<(Method, String), &str> {
        match self {
            OutboxKind::Outcome { debtor_id } => {
                Ok((Method::POST, format!("/v1/debtors/{debtor_id}/outcomes")))
            }
            OutboxKind::Unreadable(why) => Err(why),
        }
    }

    /// The debtor it is about, if any.
    pub fn debtor_id(&self) -> Option<i64> {
        match self {
            OutboxKind::Outcome { debtor_id } => Some(*debtor_id),
            OutboxKind::Unreadable(_) => None,
        }
    }
}

/// What the agent needs to read a write later, as they knew it when it was
/// made: offline, there is no asking the server.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gist {
    /// Who the write is about (the debtor's name).
    pub about: Option<String>,
    /// The currency of the amounts its body gives in minor units (a
    /// promise's).
    pub currency: Option<Currency>,
    /// The zone its times were typed in (the debtor's: a callback's).
    pub zone: Option<Tz>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub kind: OutboxKind,
    pub idempotency_key: String,
    pub body: Value,
    /// Refused for good by the server: waits for [`Outbox::retry`] or
    /// [`Outbox::discard`].
    pub failed: bool,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub gist: Gist,
    /// Whose it is (`user@server`) when it is not this outbox's owner's:
    /// it waits for them to sign in here.
    pub other_owner: Option<String>,
    /// The agent looked, and sent it again, after it was held for its age.
    checked: bool,
    /// The body as stored, sent byte for byte on every attempt.
    raw: String,
}

/// Something the server took, with its answer (the outcome with its id).
#[derive(Clone, Debug, PartialEq)]
pub struct Delivered {
    pub id: i64,
    pub kind: OutboxKind,
    pub answer: Value,
}

/// Where the outbox stands, sent after every change.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutboxStatus {
    /// Items still to send.
    pub waiting: usize,
    /// Items the server refused, kept.
    pub failed: usize,
    /// Items of another user or server, kept for them.
    pub others: usize,
    /// The newest error, until a delivery succeeds.
    pub last_error: Option<String>,
    /// What was just delivered, if that is the change.
    pub delivered: Option<Delivered>,
    /// What the server just refused for good, if that is the change: the
    /// console no longer shows it as recorded.
    pub refused: Option<OutboxKind>,
}

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox: {0}")]
    Store(#[from] sqlx::Error),
    #[error("outbox: {0}")]
    Io(#[from] std::io::Error),
}

/// The outbox file. Cheap to clone: enqueue from the UI side while the
/// sender runs on another clone.
#[derive(Clone)]
pub struct Outbox {
    pool: SqlitePool,
    wake: Arc<Notify>,
    /// The language a refusal is kept in, for the agent to read.
    locale: Locale,
    /// What a record's time is read from: the session's, so its age on
    /// screen is counted on the clock the console shows.
    clock: Arc<dyn Clock>,
    /// Whose writes these are (`user@server`): others' wait for them.
    owner: Option<String>,
}

fn item(row: &sqlx::sqlite::SqliteRow, owner: Option<&str>) -> Result<OutboxItem, OutboxError> {
    let id: i64 = row.try_get("id")?;
    let other_owner: Option<String> = row.try_get("owner")?;
    let kind: String = row.try_get("kind")?;
    let body: String = row.try_get("body")?;
    let read = serde_json::from_str::<OutboxKind>(&kind)
        .map_err(|e| format!("{kind}: {e}"))
        .and_then(|kind| {
            Ok((
                kind,
                serde_json::from_str::<Value>(&body).map_err(|e| e.to_string())?,
            ))
        });
    let (kind, body_value) = read.unwrap_or_else(|why| (OutboxKind::Unreadable(why), Value::Null));
    Ok(OutboxItem {
        id,
        kind,
        idempotency_key: row.try_get("idempotency_key")?,
        body: body_value,
        raw: body,
        failed: row.try_get("failed")?,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: row.try_get("created_at")?,
        gist: Gist {
            about: row.try_get("about")?,
            currency: row
                .try_get::<Option<String>, _>("currency")?
                .and_then(|c| Currency::read(&c).ok()),
            zone: row
                .try_get::<Option<String>, _>("zone")?
                .and_then(|z| z.parse().ok()),
        },
        other_owner: other_owner.filter(|o| Some(o.as_str()) != owner),
        checked: row.try_get("checked")?,
    })
}

impl Outbox {
    /// Opens (or creates) `<dir>/outbox.db`; a refusal is kept said in
    /// `locale`, as the agent reads it.
    pub async fn open(dir: &Path, locale: Locale) -> Result<Outbox, OutboxError> {
        std::fs::create_dir_all(dir)?;
        // Two consoles opening one file at the same moment meet while one
        // switches it to WAL, which SQLite answers "locked" at once rather
        // than waiting out the busy timeout: the other tries again.
        let mut tries = 0;
        loop {
            match Outbox::open_once(dir, locale).await {
                Err(OutboxError::Store(sqlx::Error::Database(e)))
                    if e.code().as_deref() == Some("5") && tries < 100 =>
                {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other,
            }
        }
    }

    async fn open_once(dir: &Path, locale: Locale) -> Result<Outbox, OutboxError> {
        let options = SqliteConnectOptions::new()
            .filename(dir.join(FILE_NAME))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Every commit reaches the disk before enqueue returns.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        sqlx::query(SCHEMA).execute(&pool).await?;
        for (column, add) in ADDED {
            let has = |pool| {
                sqlx::query_scalar::<_, i64>(HAS)
                    .bind(column)
                    .fetch_one(pool)
            };
            if has(&pool).await? == 0
                && let Err(e) = sqlx::query(add).execute(&pool).await
                // Another console on the same file may have added it first.
                && has(&pool).await? == 0
            {
                return Err(e.into());
            }
        }
        Ok(Outbox {
            pool,
            wake: Arc::default(),
            locale,
            clock: Arc::new(SystemClock),
            owner: None,
        })
    }

    /// Makes the writes `owner`'s (`user@server`, the session's): only
    /// theirs are sent and counted, and others' kept for them.
    pub fn for_owner(mut self, owner: String) -> Outbox {
        self.owner = Some(owner);
        self
    }

    /// Stamps records from `clock` (the wall clock otherwise).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Outbox {
        self.clock = clock;
        self
    }

    /// Keeps a write to send, durably, and wakes the sender. `body` is the
    /// request's JSON; `idempotency_key` is sent with every attempt (one
    /// key, one write: a key already in the outbox is refused); `gist` is
    /// for the agent reading the outbox later.
    pub async fn enqueue(
        &self,
        kind: OutboxKind,
        idempotency_key: &str,
        body: Value,
        gist: &Gist,
    ) -> Result<i64, OutboxError> {
        let id: i64 = sqlx::query(ENQUEUE)
            .bind(serde_json::to_string(&kind).expect("kinds serialize"))
            .bind(idempotency_key)
            .bind(body.to_string())
            .bind(self.clock.now())
            .bind(&gist.about)
            .bind(&self.owner)
            .bind(gist.currency.as_ref().map(Currency::code))
            .bind(gist.zone.map(|z| z.name()))
            .fetch_one(&self.pool)
            .await?
            .try_get("id")?;
        self.wake.notify_one();
        Ok(id)
    }

    /// Everything kept, waiting and failed, oldest first.
    pub async fn items(&self) -> Result<Vec<OutboxItem>, OutboxError> {
        let all = format!("SELECT {COLUMNS} FROM outbox ORDER BY id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(all))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| item(r, self.owner.as_deref()))
            .collect()
    }

    /// Sends a failed item again (after the cause was fixed, or the agent
    /// looked whether an old one arrived); false when there is no such
    /// failed item of this owner's.
    pub async fn retry(&self, id: i64) -> Result<bool, OutboxError> {
        let retry = format!(
            "UPDATE outbox SET failed = 0, checked = 1 WHERE id = ?2 AND failed = 1 AND {MINE}"
        );
        let done = sqlx::query(sqlx::AssertSqlSafe(retry))
            .bind(&self.owner)
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.wake.notify_one();
        Ok(done.rows_affected() == 1)
    }

    /// Gives up on a failed item, the agent's decision; false when there is
    /// no such failed item (waiting items cannot be discarded).
    pub async fn discard(&self, id: i64) -> Result<bool, OutboxError> {
        let discard = format!("DELETE FROM outbox WHERE id = ?2 AND failed = 1 AND {MINE}");
        let done = sqlx::query(sqlx::AssertSqlSafe(discard))
            .bind(&self.owner)
            .bind(id)
            .execute(&self.pool)
            .await?;
        self.wake.notify_one();
        Ok(done.rows_affected() == 1)
    }

    async fn status(&self, last_error: &Option<String>) -> Result<OutboxStatus, OutboxError> {
        let counts = format!(
            "SELECT COALESCE(SUM(failed = 0 AND {MINE}), 0) AS waiting, \
             COALESCE(SUM(failed = 1 AND {MINE}), 0) AS failed, \
             COALESCE(SUM(NOT {MINE}), 0) AS others FROM outbox"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(counts))
            .bind(&self.owner)
            .fetch_one(&self.pool)
            .await?;
        Ok(OutboxStatus {
            waiting: row.try_get::<i64, _>("waiting")? as usize,
            failed: row.try_get::<i64, _>("failed")? as usize,
            others: row.try_get::<i64, _>("others")? as usize,
            last_error: last_error.clone(),
            delivered: None,
            refused: None,
        })
    }

    /// The sender: delivers waiting items in order through `client` and
    /// reports to `updates` after each change (and once at the start);
    /// ends when `updates` is closed.
    pub fn run(self, client: Client, updates: UnboundedSender<OutboxStatus>) -> JoinHandle<()> {
        tokio::spawn(async move {
            tokio::select! {
                _ = self.send_all(&client, &updates) => {}
                _ = updates.closed() => {}
            }
        })
    }

    async fn send_all(&self, client: &Client, updates: &UnboundedSender<OutboxStatus>) {
        let mut delay = RETRY_FIRST;
        let mut last_error = None;
        let mut delivered = None;
        let mut refused = None;
        loop {
            let attempt = self
                .attempt(client, &mut last_error, &mut delivered, &mut refused)
                .await
                .unwrap_or_else(|e| {
                    last_error = Some(e.to_string());
                    Attempt::Later
                });
            match self.status(&last_error).await {
                Ok(mut status) => {
                    status.delivered = delivered.take();
                    status.refused = refused.take();
                    if updates.send(status).is_err() {
                        return;
                    }
                }
                Err(e) => last_error = Some(e.to_string()),
            }
            match attempt {
                Attempt::Done => delay = RETRY_FIRST,
                Attempt::Idle => self.wake.notified().await,
                Attempt::Later => {
                    tokio::select! {
                        _ = tokio::time::sleep(jitter(delay)) => {}
                        _ = self.wake.notified() => {}
                    }
                    delay = (delay * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// Keeps an item back as refused, for the agent to look at, without
    /// sending it; the next goes on.
    async fn hold(
        &self,
        id: i64,
        message: String,
        last_error: &mut Option<String>,
    ) -> Result<Attempt, OutboxError> {
        sqlx::query(HELD)
            .bind(&message)
            .bind(id)
            .execute(&self.pool)
            .await?;
        *last_error = Some(message);
        Ok(Attempt::Done)
    }

    /// Sends the oldest waiting item once.
    async fn attempt(
        &self,
        client: &Client,
        last_error: &mut Option<String>,
        delivered: &mut Option<Delivered>,
        refused_now: &mut Option<OutboxKind>,
    ) -> Result<Attempt, OutboxError> {
        let next =
            format!("SELECT {COLUMNS} FROM outbox WHERE failed = 0 AND {MINE} ORDER BY id LIMIT 1");
        let Some(row) = sqlx::query(sqlx::AssertSqlSafe(next))
            .bind(&self.owner)
            .fetch_optional(&self.pool)
            .await?
        else {
            return Ok(Attempt::Idle);
        };
        let next = item(&row, self.owner.as_deref())?;
        if next.attempts > 0 && !next.checked && self.clock.now() - next.created_at > KEY_REMEMBERED
        {
            return self
                .hold(next.id, held_for_age(self.locale), last_error)
                .await;
        }
        let (method, path) = match next.kind.route() {
            Ok(route) => route,
            Err(why) => {
                let message = unreadable(self.locale, why);
                return self.hold(next.id, message, last_error).await;
            }
        };
        // Its age on this outbox's clock dates it on the server's.
        let ago = self.clock.now() - next.created_at;
        let sent = client
            .send_bytes::<Value>(
                method,
                &path,
                Some(next.raw.into_bytes()),
                Some(&next.idempotency_key),
                Some(ago),
            )
            .await;
        match sent {
            Ok(answer) => {
                sqlx::query(DELIVERED)
                    .bind(next.id)
                    .execute(&self.pool)
                    .await?;
                *last_error = None;
                *delivered = Some(Delivered {
                    id: next.id,
                    kind: next.kind,
                    answer,
                });
                Ok(Attempt::Done)
            }
            Err(e) => {
                // Without a valid session nothing can be sent, but logging
                // in again will fix it: wait, do not fail the item.
                let refused = e.is_final() && !matches!(e, ClientError::Api { status: 401, .. });
                let message = e.said(self.locale, |t| t.format("%Y-%m-%d %H:%M UTC").to_string());
                sqlx::query(ATTEMPTED)
                    .bind(&message)
                    .bind(refused)
                    .bind(next.id)
                    .execute(&self.pool)
                    .await?;
                *last_error = Some(message);
                if refused {
                    *refused_now = Some(next.kind);
                }
                Ok(if refused {
                    Attempt::Done
                } else {
                    Attempt::Later
                })
            }
        }
    }
}

/// Why a row this regua cannot read waits for the agent.
fn unreadable(locale: Locale, why: &str) -> String {
    match locale {
        Locale::PtBr => {
            format!("registro ilegível para esta versão do regua (feito por outra?): {why}")
        }
        Locale::En => {
            format!("a record this version of regua cannot read (made by another?): {why}")
        }
    }
}

/// Why an old write already tried waits for the agent.
fn held_for_age(locale: Locale) -> String {
    locale
        .pick(
            "tentado há mais de 6 dias sem resposta: o servidor pode tê-lo recebido e já não se lembra; veja o histórico do devedor e envie de novo só se não estiver lá",
            "tried more than 6 days ago with no answer: the server may have taken it and no longer remembers; check the debtor's timeline and send it again only if it is not there",
        )
        .to_string()
}

enum Attempt {
    /// Nothing waiting.
    Idle,
    /// Delivered or refused: on to the next at once.
    Done,
    /// Not this time: wait and try again.
    Later,
}

/// Between half of `delay` and all of it.
fn jitter(delay: Duration) -> Duration {
    delay.mul_f64(rand::random_range(0.5..=1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[tokio::test]
    async fn items_are_kept_in_order_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path(), Locale::En).await.unwrap();
        let a = outbox
            .enqueue(
                OutboxKind::Outcome { debtor_id: 4 },
                "k1",
                json!({"disposition": "no_answer"}),
                &Gist {
                    about: Some("Ana Paula".into()),
                    currency: Some(Currency::BRL),
                    zone: Some(chrono_tz::America::Manaus),
                },
            )
            .await
            .unwrap();
        let b = outbox
            .enqueue(
                OutboxKind::Outcome { debtor_id: 5 },
                "k2",
                json!({"note": "x\ny"}),
                &Gist::default(),
            )
            .await
            .unwrap();
        assert!(a < b);
        assert!(
            outbox
                .enqueue(
                    OutboxKind::Outcome { debtor_id: 6 },
                    "k1",
                    json!({}),
                    &Gist::default(),
                )
                .await
                .is_err(),
            "one key, one write"
        );
        assert!(!outbox.retry(a).await.unwrap(), "not failed");
        assert!(!outbox.discard(a).await.unwrap(), "waiting items stay");
        drop(outbox);
        let again = Outbox::open(dir.path(), Locale::En).await.unwrap();
        let items = again.items().await.unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!(
            (
                items[0].id,
                &items[0].kind,
                items[0].idempotency_key.as_str()
            ),
            (a, &OutboxKind::Outcome { debtor_id: 4 }, "k1")
        );
        assert_eq!(items[0].gist.about.as_deref(), Some("Ana Paula"));
        assert_eq!(
            (items[0].gist.currency, items[0].gist.zone),
            (Some(Currency::BRL), Some(chrono_tz::America::Manaus))
        );
        assert_eq!(items[1].body, json!({"note": "x\ny"}));
        assert_eq!(items[1].gist, Gist::default());
        assert_eq!(items[1].kind.debtor_id(), Some(5));
        assert!(!items[1].failed);
        assert_eq!(
            again.status(&None).await.unwrap(),
            OutboxStatus {
                waiting: 2,
                ..OutboxStatus::default()
            }
        );
    }

    /// An outbox file as sessions before `about` made it, holding one
    /// record (debtor 7) when `with_record`.
    async fn old_file(dir: &Path, with_record: bool) {
        let url = format!("sqlite://{}?mode=rwc", dir.join(FILE_NAME).display());
        let old = SqlitePool::connect(&url).await.unwrap();
        sqlx::query(
            "CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, \
             idempotency_key TEXT NOT NULL UNIQUE, body TEXT NOT NULL, \
             failed INTEGER NOT NULL DEFAULT 0, attempts INTEGER NOT NULL DEFAULT 0, \
             last_error TEXT, created_at TEXT NOT NULL)",
        )
        .execute(&old)
        .await
        .unwrap();
        if with_record {
            sqlx::query(
                "INSERT INTO outbox (kind, idempotency_key, body, created_at) \
                 VALUES ('{\"kind\":\"outcome\",\"debtor_id\":7}', 'old', '{}', '2026-03-10T13:00:00Z')",
            )
            .execute(&old)
            .await
            .unwrap();
        }
        old.close().await;
    }

    #[tokio::test]
    async fn a_file_from_before_about_keeps_its_items_and_gains_the_columns() {
        let dir = tempfile::tempdir().unwrap();
        old_file(dir.path(), true).await;
        let outbox = Outbox::open(dir.path(), Locale::En)
            .await
            .unwrap()
            .for_owner("ana@embedded".into());
        outbox
            .enqueue(
                OutboxKind::Outcome { debtor_id: 8 },
                "new",
                json!({}),
                &Gist {
                    about: Some("Rui".into()),
                    currency: Some(Currency::USD),
                    zone: None,
                },
            )
            .await
            .unwrap();
        let items = outbox.items().await.unwrap();
        let kept: Vec<_> = items
            .iter()
            .map(|i| (i.kind.debtor_id(), i.gist.about.as_deref(), i.gist.currency))
            .collect();
        assert_eq!(
            kept,
            vec![
                (Some(7), None, None),
                (Some(8), Some("Rui"), Some(Currency::USD))
            ]
        );
        drop(outbox);
        // A write from before owners is sent by whoever signs in.
        assert!(items.iter().all(|i| i.other_owner.is_none()), "{items:?}");
        // Opening it again finds the columns there.
        let again = Outbox::open(dir.path(), Locale::En)
            .await
            .unwrap()
            .for_owner("bruno@embedded".into());
        let owners: Vec<_> = again
            .items()
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.other_owner)
            .collect();
        assert_eq!(owners, vec![None, Some("ana@embedded".into())]);
    }

    /// Two consoles opening one file at the same moment, new or old.
    #[tokio::test]
    async fn two_consoles_opening_one_file_at_once_both_open_it() {
        for old in [false, true] {
            for _ in 0..10 {
                let dir = tempfile::tempdir().unwrap();
                if old {
                    old_file(dir.path(), false).await;
                }
                let (a, b) = tokio::join!(
                    Outbox::open(dir.path(), Locale::En),
                    Outbox::open(dir.path(), Locale::En)
                );
                a.unwrap();
                b.unwrap();
            }
        }
    }

    #[test]
    fn jitter_stays_within_the_delay() {
        for _ in 0..100 {
            let d = jitter(Duration::from_secs(8));
            assert!(d >= Duration::from_secs(4) && d <= Duration::from_secs(8));
        }
    }
}
