-- One row per call attempt: who placed it, on whom, from which queue, and
-- what came of it. `attempt_id` is the attempt's contact in the history:
-- written `dialed` when a call starts, given its result by the outcome.
CREATE TABLE calls (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    debtor_id      INTEGER NOT NULL REFERENCES debtors (id) ON DELETE CASCADE,
    agent_id       INTEGER NOT NULL REFERENCES users (id),
    attempt_id     INTEGER NOT NULL REFERENCES history (id) ON DELETE CASCADE,
    queue          TEXT,
    started_ms     INTEGER NOT NULL,
    outcome_id     INTEGER REFERENCES history (id) ON DELETE CASCADE,  -- NULL while open
    disposition    TEXT,
    promised_minor INTEGER
);
CREATE INDEX calls_by_debtor ON calls (debtor_id, agent_id, started_ms);
CREATE INDEX calls_by_start ON calls (started_ms);
