-- Public keys that may open an SSH board session as their user (OpenSSH
-- `authorized_keys` lines: type, base64 key, optional comment).
CREATE TABLE user_keys (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    public_key TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    UNIQUE (user_id, public_key)
);
