-- One row per call attempt: who placed it, on whom, from which queue, and
-- what came of it. `attempt_id` is the attempt's contact in the history:
-- written `dialed` when a call starts, given its result by the outcome.
CREATE TABLE calls (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    debtor_id      BIGINT NOT NULL REFERENCES debtors (id) ON DELETE CASCADE,
    agent_id       BIGINT NOT NULL REFERENCES users (id),
    attempt_id     BIGINT NOT NULL REFERENCES history (id) ON DELETE CASCADE,
    queue          TEXT,
    started_ms     BIGINT NOT NULL,
    outcome_id     BIGINT REFERENCES history (id) ON DELETE CASCADE,  -- NULL while open
    disposition    TEXT,
    promised_minor BIGINT
);
CREATE INDEX calls_by_debtor ON calls (debtor_id, agent_id, started_ms);
CREATE INDEX calls_by_start ON calls (started_ms);
