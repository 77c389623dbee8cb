-- When an agent's console last held the live stream open (NULL: gone).
-- The board's floor is the agents seen lately, not every unexpired token:
-- a token kept for the next start outlives the console by hours.
ALTER TABLE agent_states ADD COLUMN seen_ms BIGINT;
CREATE INDEX agent_states_seen ON agent_states (seen_ms) WHERE seen_ms IS NOT NULL;
