//! What both stores share: SQL that reads the same on SQLite and PostgreSQL
//! (both take `$1` parameters), and turning rows into domain values.

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt::Write as _;

use super::exec::{Cols, blob, int, text};
use super::{
    AgentCall, AgentState, AgentStateView, CallTally, DebtorSummary, FeedItem, FloorAgent,
    Idempotency, Lease, QueueCount, QueueDebtor, StoreError,
};
use crate::domain::{
    Currency, Debt, Debtor, Document, Event, Jurisdiction, Money, Phone, User, Zone, name_key,
};

pub fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_ms(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

pub const USER_BY_NAME: &str = "SELECT id, name, role, password_hash FROM users WHERE name = $1";
pub const SESSION_USER: &str = "SELECT u.id, u.name, u.role, s.expires_ms \
     FROM sessions s JOIN users u ON u.id = s.user_id \
     WHERE s.token_hash = $1 AND s.expires_ms > $2";
pub const EXTEND_SESSION: &str = "UPDATE sessions SET expires_ms = $1 \
     WHERE token_hash = $2 AND expires_ms > $3 AND expires_ms < $1";
/// An exact id or external id first: typing `253` means debtor 253, not
/// the name that sorts first among those with 253 in their CPF.
pub const SEARCH: &str = "SELECT id, external_id, name, document FROM debtors \
     WHERE (name_key LIKE $1 ESCAPE '\\' AND name_key LIKE $5 ESCAPE '\\' \
     AND name_key LIKE $6 ESCAPE '\\' AND name_key LIKE $7 ESCAPE '\\') OR external_id = $2 OR id = $8 \
     OR (length($3) > 0 AND replace(replace(replace(document, '.', ''), '-', ''), '/', '') LIKE $3) \
     ORDER BY CASE WHEN id = $8 OR external_id = $2 THEN 0 ELSE 1 END, name, id LIMIT $4";
/// A debtor's events as one JSON array's items, so a long history is one
/// row rather than one row (one hand-off from the database) per event.
macro_rules! history_items {
    ($debtor:literal) => {
        concat!(
            "(SELECT COALESCE(string_agg(h.event, ',' ORDER BY h.at_ms, h.id), '') \
             FROM history h WHERE h.debtor_id = ",
            $debtor,
            ")"
        )
    };
}
pub const HISTORY: &str = concat!("SELECT ", history_items!("$1"), " AS events");
/// A debtor's debts as one JSON array, in the order they were stored.
macro_rules! debts_json {
    (sqlite) => {
        "(SELECT json_group_array(json_object('id', id, 'creditor', creditor, \
         'currency', currency, 'original_minor', original_minor, 'balance_minor', balance_minor, \
         'interest_fees_minor', interest_fees_minor, 'due_date', due_date)) \
         FROM (SELECT * FROM debts WHERE debtor_id = d.id ORDER BY id))"
    };
    (postgres) => {
        "(SELECT COALESCE(json_agg(json_build_object('id', id, 'creditor', creditor, \
         'currency', currency, 'original_minor', original_minor, 'balance_minor', balance_minor, \
         'interest_fees_minor', interest_fees_minor, 'due_date', due_date) ORDER BY id), '[]')::text \
         FROM debts WHERE debtor_id = d.id)"
    };
}
/// A debtor with their debts (`debts`) and, in `events`, their history or
/// nothing: one round trip for what a request reads of them.
macro_rules! debtor_file {
    ($dialect:tt, $events:expr) => {
        concat!(
            "SELECT id, external_id, name, document, phones, email, jurisdiction, time_zone, segment, tags, ",
            debts_json!($dialect),
            " AS debts, ",
            $events,
            " AS events FROM debtors d WHERE id = $1"
        )
    };
}
/// What `debtor_file` reads, by dialect: the debtor alone, with their
/// history, and with their history held against other writers until the
/// transaction ends (PostgreSQL locks the row; SQLite has one writer).
pub struct FileQueries {
    pub debtor: &'static str,
    pub file: &'static str,
    pub held: &'static str,
}
pub const SQLITE_FILE: FileQueries = FileQueries {
    debtor: debtor_file!(sqlite, "''"),
    file: debtor_file!(sqlite, history_items!("d.id")),
    held: debtor_file!(sqlite, history_items!("d.id")),
};
pub const POSTGRES_FILE: FileQueries = FileQueries {
    debtor: debtor_file!(postgres, "''"),
    file: debtor_file!(postgres, history_items!("d.id")),
    held: concat!(
        debtor_file!(postgres, history_items!("d.id")),
        " FOR UPDATE OF d"
    ),
};
/// Bulk writes put this many parameters in one statement at most (SQLite
/// allows 32,766, PostgreSQL 65,535): a few hundred rows each, so a million
/// rows are a few thousand statements rather than millions.
pub const PARAMS_PER_STATEMENT: usize = 8_000;

/// `rows` rows of `cols` placeholders: `($1, $2), ($3, $4)`, or on SQLite
/// `(?, ?), (?, ?)`: sqlx looks up every numbered parameter's name, which
/// SQLite finds by a walk through all of them, and a statement of thousands
/// spent most of an import there.
pub fn values(dialect: Dialect, rows: usize, cols: usize) -> String {
    let mut sql = String::with_capacity(rows * cols * 7);
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                sql.push_str(", ");
            }
            if dialect.postgres {
                let _ = write!(sql, "${}", r * cols + c + 1);
            } else {
                sql.push('?');
            }
        }
        sql.push(')');
    }
    sql
}

pub const DEBTOR_COLUMNS: usize = 11;
/// Creates or updates `rows` debtors by external id (which must differ), each
/// row's id with its external id (RETURNING's order is not the VALUES').
pub fn upsert_debtors(dialect: Dialect, rows: usize) -> String {
    format!(
        "INSERT INTO debtors \
         (external_id, name, name_key, document, phones, email, jurisdiction, time_zone, segment, tags, updated_ms) \
         VALUES {} \
         ON CONFLICT (external_id) DO UPDATE SET name = excluded.name, name_key = excluded.name_key, \
         document = excluded.document, \
         phones = excluded.phones, email = excluded.email, jurisdiction = excluded.jurisdiction, \
         time_zone = excluded.time_zone, segment = excluded.segment, tags = excluded.tags, \
         updated_ms = excluded.updated_ms \
         RETURNING id, external_id",
        values(dialect, rows, DEBTOR_COLUMNS)
    )
}

pub const DEBT_COLUMNS: usize = 7;
pub fn insert_debts(dialect: Dialect, rows: usize) -> String {
    format!(
        "INSERT INTO debts \
         (debtor_id, creditor, currency, original_minor, balance_minor, interest_fees_minor, due_date) \
         VALUES {}",
        values(dialect, rows, DEBT_COLUMNS)
    )
}

pub const VERDICT_COLUMNS: usize = 7;
/// `queued_ms` (given only with a queue) stays while the queue does (a
/// verdict stored before it was kept starts counting now).
pub fn upsert_verdicts(dialect: Dialect, rows: usize) -> String {
    format!(
        "INSERT INTO verdicts \
         (debtor_id, queue, callable, priority, review_ms, queued_ms, blocked_rule) \
         VALUES {} \
         ON CONFLICT (debtor_id) DO UPDATE SET queue = excluded.queue, \
         callable = excluded.callable, priority = excluded.priority, review_ms = excluded.review_ms, \
         blocked_rule = excluded.blocked_rule, \
         queued_ms = CASE WHEN verdicts.queue IS NOT DISTINCT FROM excluded.queue \
         THEN COALESCE(verdicts.queued_ms, excluded.queued_ms) ELSE excluded.queued_ms END",
        values(dialect, rows, VERDICT_COLUMNS)
    )
}

/// `upsert_verdicts` where the import's mark (`review_ms` = `mark_ms`) is
/// still on the stored verdict: one a write planned since the import
/// marked it is newer than the import's, and stays.
pub fn upsert_marked_verdicts(dialect: Dialect, rows: usize, mark_ms: i64) -> String {
    format!(
        "{} WHERE verdicts.review_ms = {mark_ms}",
        upsert_verdicts(dialect, rows)
    )
}

pub const MARK_COLUMNS: usize = 2;
/// An imported debtor's verdict, marked for the import's own (see
/// `Store::import_debtors`): a new debtor's with no queue, a known one's
/// as it was; each due for review at the mark.
pub fn mark_verdicts(dialect: Dialect, rows: usize) -> String {
    let mut tuples = String::with_capacity(rows * 24);
    for r in 0..rows {
        let (id, review) = if dialect.postgres {
            (format!("${}", 2 * r + 1), format!("${}", 2 * r + 2))
        } else {
            ("?".into(), "?".into())
        };
        let sep = if r == 0 { "" } else { ", " };
        let _ = write!(tuples, "{sep}({id}, NULL, FALSE, 0, {review})");
    }
    format!(
        "INSERT INTO verdicts (debtor_id, queue, callable, priority, review_ms) VALUES {tuples} \
         ON CONFLICT (debtor_id) DO UPDATE SET review_ms = excluded.review_ms"
    )
}

/// Where the bulk statements differ between the databases.
#[derive(Clone, Copy)]
pub struct Dialect {
    /// A parameter holding a JSON array, as a table of its elements in a
    /// column `value`: text (external ids) or whole numbers (ids). Neither
    /// database binds a list, and one spelt out as `IN ($1, $2, …)` would be
    /// a new statement for every length.
    pub text: &'static str,
    pub ids: &'static str,
    /// PostgreSQL: bulk statements number their placeholders (`$1`, `$2`
    /// rather than SQLite's `?`), and rows are locked, keys held and
    /// notices sent as only PostgreSQL does.
    pub postgres: bool,
}

pub const SQLITE: Dialect = Dialect {
    text: "SELECT value FROM json_each($1)",
    ids: "SELECT value FROM json_each($1)",
    postgres: false,
};

pub const POSTGRES: Dialect = Dialect {
    text: "SELECT value FROM json_array_elements_text($1::json)",
    ids: "SELECT value::bigint FROM json_array_elements_text($1::json)",
    postgres: true,
};

/// PostgreSQL: replicas starting together fill in `name_key` one after
/// another (the next finds nothing left), not side by side on the same rows.
pub const FILL_NAME_KEYS_LOCK: &str = "SELECT pg_advisory_lock(7879)";
pub const FILL_NAME_KEYS_UNLOCK: &str = "SELECT pg_advisory_unlock(7879)";

/// Debtors stored before `name_key` was: a batch of them to fill in.
/// Past the last one filled (`$2`), so each batch starts where the last
/// stopped instead of stepping over every row filled before it.
pub const UNKEYED_NAMES: &str =
    "SELECT id, name FROM debtors WHERE name_key IS NULL AND id > $2 ORDER BY id LIMIT $1";

/// Sets `name_key` from a JSON array of `[id, key]` pairs.
pub fn fill_name_keys(dialect: Dialect) -> &'static str {
    if dialect.postgres {
        "UPDATE debtors SET name_key = j.value ->> 1 FROM json_array_elements($1::json) j \
         WHERE debtors.id = (j.value ->> 0)::bigint"
    } else {
        "UPDATE debtors SET name_key = json_extract(j.value, '$[1]') FROM json_each($1) j \
         WHERE debtors.id = json_extract(j.value, '$[0]')"
    }
}

/// The ids of the debtors already stored under some external ids.
pub fn known_debtors(list: Dialect) -> String {
    format!(
        "SELECT id, external_id FROM debtors WHERE external_id IN ({})",
        list.text
    )
}

pub fn delete_debts_of(list: Dialect) -> String {
    format!("DELETE FROM debts WHERE debtor_id IN ({})", list.ids)
}

/// The histories of some debtors, each in time order.
pub fn histories(list: Dialect) -> String {
    format!(
        "SELECT debtor_id, event FROM history WHERE debtor_id IN ({}) \
         ORDER BY debtor_id, at_ms, id",
        list.ids
    )
}

/// `rows` events of one debtor; ids come back in the order written.
pub fn insert_history(dialect: Dialect, rows: usize) -> String {
    format!(
        "INSERT INTO history (debtor_id, at_ms, event) VALUES {} RETURNING id",
        values(dialect, rows, 3)
    )
}
pub const SET_BALANCE: &str = "UPDATE debts SET balance_minor = $1, interest_fees_minor = $2 \
     WHERE id = $3 AND debtor_id = $4";
pub const DUE_FOR_REVIEW: &str = "SELECT debtor_id FROM verdicts WHERE review_ms IS NOT NULL AND review_ms <= $1 ORDER BY review_ms LIMIT $2";
pub const RENEW_LEASE: &str = "UPDATE leases SET expires_ms = $1 WHERE id = $2 AND agent_id = $3 AND expires_ms > $4 \
     RETURNING id, debtor_id, agent_id, expires_ms";
pub const RELEASE_LEASE: &str = "DELETE FROM leases WHERE id = $1 AND ($2 IS NULL OR agent_id = $2) \
     RETURNING id, debtor_id, agent_id, expires_ms";
/// 0 for a database with neither users nor debtors (each side stops at
/// its first row).
pub const ANYONE_OR_ANY_DEBTOR: &str = "SELECT (SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) u) \
     + (SELECT COUNT(*) FROM (SELECT 1 FROM debtors LIMIT 1) d) AS n";
/// PostgreSQL: an agent's row held until the transaction ends.
pub const HOLD_AGENT: &str = "SELECT id FROM users WHERE id = $1 FOR UPDATE";
pub const RELEASE_LEASES_OF: &str =
    "DELETE FROM leases WHERE agent_id = $1 RETURNING id, debtor_id, agent_id, expires_ms";
pub const LEASE_ON: &str = "SELECT id, debtor_id, agent_id, expires_ms FROM leases WHERE debtor_id = $1 AND expires_ms > $2";
/// `callable = TRUE`, not a bare `callable`: SQLite walks the index in its
/// order only past columns compared with `=`, and a bare test sorted the
/// whole queue at every lease (0.8 ms of the one writer's time at 5,000
/// debtors). `$also` narrows the walk further.
macro_rules! next_in_queue {
    ($also:expr) => {
        concat!(
            "SELECT v.debtor_id FROM verdicts v \
             WHERE v.queue = $1 AND v.callable = TRUE \
             AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.debtor_id = v.debtor_id AND l.expires_ms > $2) ",
            $also,
            " ORDER BY v.priority DESC, v.debtor_id LIMIT 1"
        )
    };
}
/// Passes over the debtors agent `$3` gave back lately (`skips`).
macro_rules! not_skipped {
    () => {
        "AND NOT EXISTS (SELECT 1 FROM skips s \
         WHERE s.agent_id = $3 AND s.debtor_id = v.debtor_id AND s.until_ms > $2)"
    };
}
/// Leases the next debtor of a queue, found as `next_in_queue!` finds them,
/// in one statement; nothing when the queue is empty, a lease is in the way,
/// or only debtors the agent skipped are left (`NEXT_IN_QUEUE` and
/// `NEXT_EVEN_SKIPPED` then tell which).
macro_rules! take_next {
    ($next:expr) => {
        concat!(
            "WITH next AS (",
            $next,
            ") INSERT INTO leases (debtor_id, agent_id, expires_ms) \
             SELECT debtor_id, $3, $4 FROM next WHERE TRUE \
             ON CONFLICT (debtor_id) DO NOTHING RETURNING id, debtor_id, agent_id, expires_ms"
        )
    };
}
/// The next debtor of queue `$1` at `$2` that agent `$3` has not skipped.
pub const NEXT_IN_QUEUE: &str = next_in_queue!(not_skipped!());
/// The same, for PostgreSQL: the row taken stays locked until the lease is
/// written, and rows other servers hold are skipped.
pub const NEXT_IN_QUEUE_SKIP_LOCKED: &str = concat!(
    next_in_queue!(not_skipped!()),
    " FOR UPDATE OF v SKIP LOCKED"
);
/// The next debtor of queue `$1` at `$2`, skipped or not: what an agent
/// gets once everyone they did not skip is taken.
pub const NEXT_EVEN_SKIPPED: &str = next_in_queue!("");
pub const NEXT_EVEN_SKIPPED_SKIP_LOCKED: &str =
    concat!(next_in_queue!(""), " FOR UPDATE OF v SKIP LOCKED");
pub const TAKE_NEXT: &str = take_next!(next_in_queue!(not_skipped!()));
pub const TAKE_NEXT_SKIP_LOCKED: &str = take_next!(concat!(
    next_in_queue!(not_skipped!()),
    " FOR UPDATE OF v SKIP LOCKED"
));
/// Agent `$1` gave debtor `$2` back: others first until `$3`.
pub const SKIP: &str = "INSERT INTO skips (agent_id, debtor_id, until_ms) VALUES ($1, $2, $3) \
     ON CONFLICT (agent_id, debtor_id) DO UPDATE SET until_ms = excluded.until_ms";
pub const SKIPS_PRUNE: &str = "DELETE FROM skips WHERE until_ms <= $1";
pub const EXPIRE_LEASE_OF: &str = "DELETE FROM leases WHERE debtor_id = $1 AND expires_ms <= $2";
pub const INSERT_LEASE: &str = "INSERT INTO leases (debtor_id, agent_id, expires_ms) VALUES ($1, $2, $3) \
     ON CONFLICT (debtor_id) DO NOTHING RETURNING id, debtor_id, agent_id, expires_ms";
pub const EXPIRE_LEASES: &str = "DELETE FROM leases WHERE expires_ms <= $1 \
     RETURNING id, debtor_id, agent_id, expires_ms";
/// By queue and blocking rule; the store adds the rules up per queue.
pub const QUEUE_COUNTS: &str = "SELECT v.queue, v.blocked_rule, COUNT(*) AS waiting, \
     SUM(CASE WHEN v.callable AND l.id IS NULL THEN 1 ELSE 0 END) AS callable, \
     MIN(CASE WHEN v.callable AND l.id IS NULL THEN v.queued_ms END) AS oldest_ms, \
     SUM(CASE WHEN l.id IS NULL THEN 0 ELSE 1 END) AS leased, \
     SUM(CASE WHEN v.callable THEN 0 ELSE 1 END) AS blocked \
     FROM verdicts v LEFT JOIN leases l ON l.debtor_id = v.debtor_id AND l.expires_ms > $1 \
     WHERE v.queue IS NOT NULL GROUP BY v.queue, v.blocked_rule ORDER BY v.queue";
pub const FLOOR: &str = "SELECT u.id, u.name, s.state, s.reason, s.since_ms, \
     CAST(CASE WHEN s.seen_ms > $2 THEN 1 ELSE 0 END AS BIGINT) AS present, \
     l.id AS lease_id, l.debtor_id, l.agent_id, l.expires_ms, d.name AS debtor_name \
     FROM users u JOIN agent_states s ON s.user_id = u.id \
     LEFT JOIN leases l ON l.agent_id = u.id AND l.expires_ms > $1 \
     LEFT JOIN debtors d ON d.id = l.debtor_id \
     WHERE u.role = 'agent' AND (l.id IS NOT NULL OR s.seen_ms > $2) \
     ORDER BY u.name, u.id, l.expires_ms DESC";
/// A call's hour is its start's, what came of it its outcome's: a promise
/// recorded at 11:03 of a call dialed at 10:58 is one of 11:00, as the
/// live board counts it.
pub const CALL_TALLIES: &str = "SELECT c.agent_id, c.queue, c.disposition, \
     (c.started_ms - $1) / 3600000 AS hour, \
     (COALESCE(h.at_ms, c.started_ms) - $1) / 3600000 AS outcome_hour, \
     COUNT(*) AS calls, CAST(COALESCE(SUM(c.promised_minor), 0) AS BIGINT) AS promised_minor \
     FROM calls c LEFT JOIN history h ON h.id = c.outcome_id \
     WHERE c.started_ms >= $1 AND ($2 IS NULL OR c.agent_id = $2) \
     GROUP BY c.agent_id, c.queue, c.disposition, hour, outcome_hour";
/// Callable first, then by priority, as a lease would take them.
pub const QUEUE_DEBTORS: &str = "SELECT v.debtor_id, d.name, \
     CAST(CASE WHEN v.callable THEN 1 ELSE 0 END AS BIGINT) AS callable, \
     CAST(v.priority AS BIGINT) AS priority, v.queued_ms, v.blocked_rule, v.review_ms, \
     l.agent_id AS leased_by \
     FROM verdicts v JOIN debtors d ON d.id = v.debtor_id \
     LEFT JOIN leases l ON l.debtor_id = v.debtor_id AND l.expires_ms > $2 \
     WHERE v.queue = $1 ORDER BY v.callable DESC, v.priority DESC, v.debtor_id LIMIT $3";
pub const AGENT_CALLS: &str = "SELECT c.debtor_id, d.name AS debtor_name, c.started_ms, c.queue, \
     c.disposition, c.promised_minor FROM calls c JOIN debtors d ON d.id = c.debtor_id \
     WHERE c.agent_id = $1 AND c.started_ms >= $2 ORDER BY c.started_ms DESC, c.id DESC LIMIT $3";
pub const ADD_USER_KEY: &str =
    "INSERT INTO user_keys (user_id, public_key, created_ms) VALUES ($1, $2, $3)";
pub const USER_KEYS: &str = "SELECT public_key FROM user_keys WHERE user_id = $1 ORDER BY id";
pub const USER: &str = "SELECT id, name, role FROM users WHERE id = $1";
pub const IDEMPOTENCY_GET: &str = "SELECT body_hash, scope, status, response FROM idempotency \
     WHERE user_id = $1 AND key = $2";
/// A key and its answer are written in one transaction, so a stored key
/// without an answer is one a server of an earlier version took in a
/// commit of its own and never answered (it stopped): taken over.
pub const IDEMPOTENCY_INSERT: &str = "INSERT INTO idempotency (user_id, key, body_hash, created_ms, scope) \
     VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (user_id, key) DO UPDATE SET body_hash = excluded.body_hash, \
     created_ms = excluded.created_ms, scope = excluded.scope \
     WHERE idempotency.status IS NULL";
pub const IDEMPOTENCY_FINISH: &str =
    "UPDATE idempotency SET status = $1, response = $2 WHERE user_id = $3 AND key = $4";
/// PostgreSQL only: `IDEMPOTENCY_INSERT` under the key's advisory lock,
/// held until the transaction ends, so another server's request with the
/// same key learns it is in flight instead of waiting; nothing is inserted
/// when the lock is not got.
pub const IDEMPOTENCY_LOCK_INSERT: &str = "WITH lock AS (SELECT pg_try_advisory_xact_lock($6) AS got), \
     ins AS (INSERT INTO idempotency (user_id, key, body_hash, created_ms, scope) \
     SELECT $1, $2, $3, $4, $5 FROM lock WHERE got \
     ON CONFLICT (user_id, key) DO UPDATE SET body_hash = excluded.body_hash, \
     created_ms = excluded.created_ms, scope = excluded.scope \
     WHERE idempotency.status IS NULL RETURNING 1) \
     SELECT (SELECT got FROM lock) AS got, (SELECT COUNT(*) FROM ins) AS inserted";
pub const IDEMPOTENCY_PRUNE: &str = "DELETE FROM idempotency WHERE created_ms < $1";
/// The start of an insert of feed items, up to their rows.
macro_rules! insert_feed {
    () => {
        "INSERT INTO feed (at_ms, kind, debtor_id, user_id, body) VALUES "
    };
}
pub const INSERT_FEED: &str = insert_feed!();
pub const FEED_COLUMNS: usize = 5;
pub const PUBLISH: &str = concat!(insert_feed!(), "($1, $2, $3, $4, $5) RETURNING id");
/// The channel servers on one schema tell each other of new feed items
/// on: a database may hold several deployments (or tests) in schemas of
/// their own, and one's ids mean nothing to another's streams. (63 bytes
/// is PostgreSQL's longest name.)
macro_rules! feed_channel {
    () => {
        "left('regua_feed_' || current_schema(), 63)"
    };
}
pub const FEED_CHANNEL: &str = feed_channel!();
pub const FEED_CHANNEL_NAME: &str = concat!("SELECT ", feed_channel!(), " AS channel");
pub const FEED_AFTER: &str = "SELECT f.id, f.at_ms, f.kind, f.debtor_id, f.user_id, f.body, \
     l.agent_id AS holder FROM feed f \
     LEFT JOIN leases l ON l.debtor_id = f.debtor_id AND l.expires_ms > $3 \
     WHERE f.id > $1 ORDER BY f.id LIMIT $2";
/// The newest items of some kinds (constants of the code, never input).
pub fn feed_latest_of(kinds: &[&str]) -> String {
    let kinds: Vec<String> = kinds.iter().map(|k| format!("'{k}'")).collect();
    format!(
        "SELECT id, at_ms, kind, debtor_id, user_id, body FROM feed WHERE kind IN ({}) \
         ORDER BY id DESC LIMIT $1",
        kinds.join(", ")
    )
}
pub const FEED_MONEY_SINCE: &str = "SELECT id, at_ms, kind, debtor_id, user_id, body FROM feed \
     WHERE at_ms >= $1 AND kind IN ('payment_received', 'promise_kept', 'promise_broken') ORDER BY id";
pub const FEED_BOUNDS: &str = "SELECT MIN(id) AS oldest, MAX(id) AS newest FROM feed";
pub const FEED_PRUNE: &str = "DELETE FROM feed WHERE at_ms < $1";
/// Any constant does: every regua server asks for the same one.
pub const TRY_LEAD: &str = "SELECT pg_try_advisory_lock(7878) AS lead";
/// Whether this connection still holds `TRY_LEAD`'s lock (a one-argument
/// lock is class 0, the number as objid, objsubid 1).
pub const STILL_LEADS: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
     AND classid = 0 AND objid = 7878 AND objsubid = 1 AND granted \
     AND pid = pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))";
pub const AUDIT: &str =
    "INSERT INTO audit (at_ms, user_id, action, debtor_id, detail) VALUES ($1, $2, $3, $4, $5)";
pub const CREATE_USER: &str = "INSERT INTO users (name, role, password_hash, created_ms) VALUES ($1, $2, $3, $4) RETURNING id";
pub const AGENT_STATE: &str = "SELECT state, reason, since_ms FROM agent_states WHERE user_id = $1";
pub const PRESENCE: &str =
    "SELECT state, reason, since_ms, seen_ms FROM agent_states WHERE user_id = $1";
pub const SET_SEEN: &str = "UPDATE agent_states SET seen_ms = $1 WHERE user_id = $2";
pub const LAPSE_PRESENCE: &str =
    "UPDATE agent_states SET seen_ms = NULL WHERE seen_ms <= $1 RETURNING user_id";
pub const BEGIN_AGENT_STATE: &str = "INSERT INTO agent_states (user_id, state, reason, since_ms) \
     VALUES ($1, 'ready', NULL, $2) ON CONFLICT (user_id) DO NOTHING";
pub const SET_AGENT_STATE: &str = "INSERT INTO agent_states (user_id, state, reason, since_ms) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (user_id) DO UPDATE SET \
     since_ms = CASE WHEN agent_states.state = excluded.state \
     AND agent_states.reason IS NOT DISTINCT FROM excluded.reason \
     THEN agent_states.since_ms ELSE excluded.since_ms END, \
     state = excluded.state, reason = excluded.reason \
     RETURNING state, reason, since_ms";
pub const INSERT_CALL: &str = "INSERT INTO calls \
     (debtor_id, agent_id, attempt_id, queue, started_ms, outcome_id, disposition, promised_minor) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// Only an open call ends: two outcomes for one call cannot both land.
pub const END_CALL: &str = "UPDATE calls SET outcome_id = $1, disposition = $2, promised_minor = $3 \
     WHERE id = $4 AND debtor_id = $5 AND outcome_id IS NULL";
pub const SET_HISTORY_EVENT: &str =
    "UPDATE history SET event = $1 WHERE id = $2 AND debtor_id = $3";
pub const PROMISE_QUEUE: &str = "SELECT queue FROM calls WHERE debtor_id = $1 AND promised_minor > 0 \
     ORDER BY started_ms DESC, id DESC LIMIT 1";
pub const OPEN_CALL: &str = "SELECT c.id, c.attempt_id, c.queue, h.event FROM calls c \
     JOIN history h ON h.id = c.attempt_id \
     WHERE c.debtor_id = $1 AND c.agent_id = $2 AND c.outcome_id IS NULL AND c.started_ms >= $3 \
     AND c.started_ms <= $4 \
     ORDER BY c.started_ms DESC, c.id DESC LIMIT 1";
pub const CREATE_SESSION: &str =
    "INSERT INTO sessions (token_hash, user_id, expires_ms) VALUES ($1, $2, $3)";
pub const REVOKE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";
pub const SESSIONS_PRUNE: &str = "DELETE FROM sessions WHERE expires_ms <= $1";

pub fn lease(row: &dyn Cols) -> Result<Lease, StoreError> {
    Ok(Lease {
        id: int(row, "id")?,
        debtor_id: int(row, "debtor_id")?,
        agent_id: int(row, "agent_id")?,
        expires_at: from_ms(int(row, "expires_ms")?),
    })
}

pub fn user(row: &dyn Cols) -> Result<User, StoreError> {
    let role = text(row, "role")?;
    Ok(User {
        id: int(row, "id")?,
        name: text(row, "name")?,
        role: role.parse().map_err(|e| corrupt("role", e))?,
    })
}

pub fn agent_state(row: &dyn Cols) -> Result<AgentStateView, StoreError> {
    let state = text(row, "state")?;
    Ok(AgentStateView {
        state: AgentState::parse(&state).ok_or_else(|| corrupt("agent state", &state))?,
        reason: row.text("reason")?,
        since: from_ms(int(row, "since_ms")?),
    })
}

pub fn debt(row: &dyn Cols) -> Result<Debt, StoreError> {
    let code = text(row, "currency")?;
    let currency = Currency::read(&code).map_err(|e| corrupt("currency", e))?;
    let due = text(row, "due_date")?;
    Ok(Debt {
        id: int(row, "id")?,
        creditor: text(row, "creditor")?,
        original: Money::new(int(row, "original_minor")?, currency),
        balance: Money::new(int(row, "balance_minor")?, currency),
        interest_and_fees: Money::new(int(row, "interest_fees_minor")?, currency),
        due_date: NaiveDate::parse_from_str(&due, "%Y-%m-%d")
            .map_err(|e| corrupt("due_date", e))?,
    })
}

pub fn debtor(row: &dyn Cols, debts: Vec<Debt>) -> Result<Debtor, StoreError> {
    let document = text(row, "document")?;
    let jurisdiction = text(row, "jurisdiction")?;
    let phones = text(row, "phones")?;
    let tags = text(row, "tags")?;
    let zone = text(row, "time_zone")?;
    Ok(Debtor {
        id: int(row, "id")?,
        external_id: text(row, "external_id")?,
        name: text(row, "name")?,
        document: document
            .parse::<Document>()
            .map_err(|e| corrupt("document", e))?,
        phones: serde_json::from_str::<Vec<Phone>>(&phones).map_err(|e| corrupt("phones", e))?,
        email: row.text("email")?,
        jurisdiction: jurisdiction
            .parse::<Jurisdiction>()
            .map_err(|e| corrupt("jurisdiction", e))?,
        time_zone: Zone::parse(&zone),
        segment: text(row, "segment")?,
        tags: serde_json::from_str(&tags).map_err(|e| corrupt("tags", e))?,
        debts,
    })
}

pub fn event(json: &str) -> Result<Event, StoreError> {
    serde_json::from_str(json).map_err(|e| corrupt("history event", e))
}

/// The events of `history_items!`: JSON objects joined by commas.
pub fn events(items: &str) -> Result<Vec<Event>, StoreError> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str(&format!("[{items}]")).map_err(|e| corrupt("history event", e))
}

/// How many words of a name search are looked for one by one; more are
/// looked for together with the last, in their order.
pub const SEARCH_WORDS: usize = 4;

/// What a search looks for: the words of the name (each anywhere in it, in
/// any case, with or without accents: "lima joao" finds João Carvalho
/// Lima), the id or external id, or at least three digits of the document.
pub struct SearchTerms {
    /// `LIKE` patterns, `%` for the words not typed.
    pub words: [String; SEARCH_WORDS],
    pub external: String,
    /// The debtor's own id, as the results list shows it (0, no debtor's,
    /// when the query is not a number).
    pub id: i64,
    /// A `LIKE` pattern of the digits, or empty for fewer than three.
    pub digits: String,
}

pub fn search_terms(query: &str) -> SearchTerms {
    let q = query.trim();
    let escaped: Vec<String> = name_key(q)
        .split_whitespace()
        .map(|word| {
            word.chars()
                .flat_map(|c| match c {
                    '%' | '_' | '\\' => vec!['\\', c],
                    c => vec![c],
                })
                .collect()
        })
        .collect();
    let mut words: [String; SEARCH_WORDS] = Default::default();
    for (i, slot) in words.iter_mut().enumerate() {
        let mine = if i + 1 == SEARCH_WORDS {
            escaped.get(i..).unwrap_or_default().join("%")
        } else {
            escaped.get(i).cloned().unwrap_or_default()
        };
        *slot = if mine.is_empty() {
            "%".to_string()
        } else {
            format!("%{mine}%")
        };
    }
    let digits: String = q.chars().filter(char::is_ascii_digit).collect();
    let digits = if digits.len() >= 3 {
        format!("%{digits}%")
    } else {
        String::new()
    };
    SearchTerms {
        words,
        external: q.to_string(),
        id: q.parse().unwrap_or(0),
        digits,
    }
}

pub fn summary(row: &dyn Cols) -> Result<DebtorSummary, StoreError> {
    Ok(DebtorSummary {
        id: int(row, "id")?,
        external_id: text(row, "external_id")?,
        name: text(row, "name")?,
        document: text(row, "document")?,
    })
}

/// Adds a row of `QUEUE_COUNTS` to its queue's count (rows of one queue
/// come together).
pub fn add_queue_count(counts: &mut Vec<QueueCount>, row: &dyn Cols) -> Result<(), StoreError> {
    let queue = text(row, "queue")?;
    if counts.last().is_none_or(|c| c.queue != queue) {
        counts.push(QueueCount {
            queue,
            waiting: 0,
            callable: 0,
            leased: 0,
            oldest: None,
            blocked: Default::default(),
        });
    }
    let c = counts.last_mut().expect("pushed");
    c.waiting += int(row, "waiting")?;
    c.callable += int(row, "callable")?;
    c.leased += int(row, "leased")?;
    if let Some(oldest) = row.int("oldest_ms")?.map(from_ms) {
        c.oldest = Some(c.oldest.map_or(oldest, |o| o.min(oldest)));
    }
    let blocked = int(row, "blocked")?;
    if let (Some(rule), true) = (row.text("blocked_rule")?, blocked > 0) {
        *c.blocked.entry(rule).or_default() += blocked;
    }
    Ok(())
}

pub fn floor_agent(row: &dyn Cols) -> Result<FloorAgent, StoreError> {
    let lease = match row.int("lease_id")? {
        Some(id) => Some((
            Lease {
                id,
                debtor_id: int(row, "debtor_id")?,
                agent_id: int(row, "agent_id")?,
                expires_at: from_ms(int(row, "expires_ms")?),
            },
            text(row, "debtor_name")?,
        )),
        None => None,
    };
    Ok(FloorAgent {
        id: int(row, "id")?,
        name: text(row, "name")?,
        state: agent_state(row)?,
        present: int(row, "present")? == 1,
        lease,
    })
}

pub fn call_tally(row: &dyn Cols) -> Result<CallTally, StoreError> {
    Ok(CallTally {
        agent_id: int(row, "agent_id")?,
        queue: row.text("queue")?,
        disposition: row.text("disposition")?,
        hour: int(row, "hour")?,
        outcome_hour: int(row, "outcome_hour")?,
        calls: int(row, "calls")?,
        promised_minor: int(row, "promised_minor")?,
    })
}

pub fn queue_debtor(row: &dyn Cols) -> Result<QueueDebtor, StoreError> {
    let callable = int(row, "callable")? != 0;
    Ok(QueueDebtor {
        debtor_id: int(row, "debtor_id")?,
        name: text(row, "name")?,
        callable,
        priority: int(row, "priority")?,
        waiting_since: row.int("queued_ms")?.map(from_ms),
        // A rule left from before they became callable says nothing now.
        blocked_by: row.text("blocked_rule")?.filter(|_| !callable),
        review_at: row.int("review_ms")?.map(from_ms),
        leased_by: row.int("leased_by")?,
    })
}

pub fn agent_call(row: &dyn Cols) -> Result<AgentCall, StoreError> {
    let disposition = row
        .text("disposition")?
        .map(|d| {
            serde_json::from_value(serde_json::Value::String(d.clone()))
                .map_err(|e| corrupt("disposition", format!("{d}: {e}")))
        })
        .transpose()?;
    Ok(AgentCall {
        debtor_id: int(row, "debtor_id")?,
        debtor_name: text(row, "debtor_name")?,
        started_at: from_ms(int(row, "started_ms")?),
        queue: row.text("queue")?,
        disposition,
        promised_minor: row.int("promised_minor")?,
    })
}

pub fn feed_item(row: &dyn Cols) -> Result<FeedItem, StoreError> {
    let body = text(row, "body")?;
    Ok(FeedItem {
        id: int(row, "id")?,
        at: from_ms(int(row, "at_ms")?),
        kind: text(row, "kind")?,
        debtor_id: row.int("debtor_id")?,
        user_id: row.int("user_id")?,
        body: serde_json::from_str(&body).map_err(|e| corrupt("feed body", e))?,
    })
}

/// A key seen before: the same body on the same call is a replay (or
/// still in flight), another body or another call a mismatch. A key stored
/// before calls were kept (no scope) answers any call, as it did.
pub fn idempotency_state(
    row: &dyn Cols,
    scope: &str,
    body_hash: &[u8],
) -> Result<Idempotency, StoreError> {
    let other_call = row.text("scope")?.is_some_and(|s| s != scope);
    if other_call || blob(row, "body_hash")? != body_hash {
        return Ok(Idempotency::Mismatch);
    }
    Ok(match (row.int("status")?, row.text("response")?) {
        (Some(status), Some(body)) => Idempotency::Replay {
            status: status as u16,
            body,
        },
        _ => Idempotency::InFlight,
    })
}

#[cfg(test)]
mod tests {
    use sqlx::Row;
    use sqlx::sqlite::SqlitePoolOptions;

    /// How SQLite would run `sql` for the queue `late` (its other `params`
    /// parameters 0): the plan's lines.
    async fn plan_of(sql: &str, params: usize) -> Vec<String> {
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::migrate!("migrations/sqlite")
            .run(&pool)
            .await
            .unwrap();
        let explain = format!("EXPLAIN QUERY PLAN {sql}");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(explain)).bind("late");
        for _ in 1..params {
            query = query.bind(0_i64);
        }
        query
            .fetch_all(&pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("detail"))
            .collect()
    }

    #[tokio::test]
    async fn a_lease_walks_the_queue_in_index_order() {
        for (sql, params) in [
            (super::NEXT_IN_QUEUE, 3),
            (super::TAKE_NEXT, 4),
            (super::NEXT_EVEN_SKIPPED, 2),
        ] {
            let plan = plan_of(sql, params).await;
            assert!(
                plan.iter()
                    .any(|l| l.contains("verdicts_by_queue (queue=? AND callable=?)")),
                "{plan:?}"
            );
            if sql.contains("skips") {
                // One probe of the agent's skips per debtor looked at.
                assert!(
                    plan.iter()
                        .any(|l| l.contains("SEARCH s USING PRIMARY KEY")),
                    "{plan:?}"
                );
            }
            // Sorting the queue at every lease is what the writer must not do.
            assert!(!plan.iter().any(|l| l.contains("TEMP B-TREE")), "{plan:?}");
        }
    }
}
