-- regua's schema on SQLite. Instants are Unix milliseconds (INTEGER), dates
-- ISO text; money is integer minor units with its currency code.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    password_hash TEXT NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE sessions (
    token_hash BLOB PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_ms INTEGER NOT NULL
);

CREATE TABLE debtors (
    id           INTEGER PRIMARY KEY,
    external_id  TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    document     TEXT NOT NULL,
    phones       TEXT NOT NULL,   -- JSON array
    email        TEXT,
    jurisdiction TEXT NOT NULL,
    time_zone    TEXT NOT NULL,
    segment      TEXT NOT NULL,
    tags         TEXT NOT NULL,   -- JSON array
    updated_ms   INTEGER NOT NULL
);

CREATE TABLE debts (
    id                INTEGER PRIMARY KEY,
    debtor_id         INTEGER NOT NULL REFERENCES debtors (id) ON DELETE CASCADE,
    creditor          TEXT NOT NULL,
    currency          TEXT NOT NULL,
    original_minor    INTEGER NOT NULL,
    balance_minor     INTEGER NOT NULL,
    interest_fees_minor INTEGER NOT NULL,
    due_date          TEXT NOT NULL
);
CREATE INDEX debts_by_debtor ON debts (debtor_id);

-- A debtor's history: append-only, in time order per debtor.
CREATE TABLE history (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    debtor_id INTEGER NOT NULL REFERENCES debtors (id) ON DELETE CASCADE,
    at_ms     INTEGER NOT NULL,
    event     TEXT NOT NULL       -- JSON
);
CREATE INDEX history_by_debtor ON history (debtor_id, at_ms, id);

-- The engine's verdict on each debtor, renewed at every re-plan.
CREATE TABLE verdicts (
    debtor_id INTEGER PRIMARY KEY REFERENCES debtors (id) ON DELETE CASCADE,
    queue     TEXT,
    callable  INTEGER NOT NULL,
    priority  INTEGER NOT NULL,
    review_ms INTEGER            -- when to plan again without any event
);
CREATE INDEX verdicts_by_queue ON verdicts (queue, callable, priority DESC, debtor_id);

CREATE TABLE leases (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    debtor_id  INTEGER NOT NULL UNIQUE REFERENCES debtors (id) ON DELETE CASCADE,
    agent_id   INTEGER NOT NULL REFERENCES users (id),
    expires_ms INTEGER NOT NULL
);

CREATE TABLE idempotency (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    key        TEXT NOT NULL,
    body_hash  BLOB NOT NULL,
    status     INTEGER,          -- NULL while the first request is in flight
    response   TEXT,
    created_ms INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);

-- What happened, for live subscribers: increasing ids, kept for a while.
CREATE TABLE feed (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    debtor_id INTEGER,
    user_id   INTEGER,
    body      TEXT NOT NULL      -- JSON
);

CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at_ms     INTEGER NOT NULL,
    user_id   INTEGER,
    action    TEXT NOT NULL,
    debtor_id INTEGER,
    detail    TEXT NOT NULL
);
