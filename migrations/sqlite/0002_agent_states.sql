-- What each user is doing now (ready, on a call, wrapping up, paused), as
-- they or a supervisor last said, and since when.
CREATE TABLE agent_states (
    user_id  INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    state    TEXT NOT NULL CHECK (state IN ('ready', 'on_call', 'wrap_up', 'paused')),
    reason   TEXT,             -- why a pause; NULL otherwise
    since_ms INTEGER NOT NULL
);
