-- A debtor whose lease an agent let go of (given back unworked, or left
-- after an outcome): that agent is offered everyone else in the queue first
-- until `until_ms`, so "skip" moves on instead of handing the same debtor
-- straight back. Others may take them.
CREATE TABLE skips (
    agent_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    debtor_id INTEGER NOT NULL REFERENCES debtors (id) ON DELETE CASCADE,
    until_ms  INTEGER NOT NULL,
    PRIMARY KEY (agent_id, debtor_id)
) WITHOUT ROWID;
CREATE INDEX skips_by_until ON skips (until_ms);
