-- The call a key was first used on (`POST /v1/debtors/7/outcomes`): the
-- same key and body on another call is refused, not answered with this
-- one's result. NULL for keys stored before: they answer any call, as they
-- did. The body's hash stays the body's alone, so a server of the version
-- before (a rolling upgrade, or going back) still replays keys stored here.
ALTER TABLE idempotency ADD COLUMN scope TEXT;
