-- control.db, version 1: the directory the api owns.
-- Times are Unix seconds (UTC). Names are stored in their canonical form:
-- domains as lowercase A-labels, local parts lowercased.

CREATE TABLE admins (
    id             INTEGER PRIMARY KEY,
    username       TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,              -- crypto_pwhash_str (Argon2id)
    role           TEXT NOT NULL CHECK (role IN ('global', 'domain')),
    enabled        INTEGER NOT NULL DEFAULT 1,
    token_version  INTEGER NOT NULL DEFAULT 1,  -- bumped to revoke issued JWTs
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE TABLE domains (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT NOT NULL UNIQUE,
    description          TEXT NOT NULL DEFAULT '',
    enabled              INTEGER NOT NULL DEFAULT 1,
    default_quota_bytes  INTEGER NOT NULL,
    max_users            INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);

CREATE TABLE admin_domains (
    admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    domain_id  INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    PRIMARY KEY (admin_id, domain_id)
) WITHOUT ROWID;
CREATE INDEX admin_domains_domain ON admin_domains(domain_id);

CREATE TABLE api_keys (
    id            TEXT PRIMARY KEY,             -- public half of the secret
    admin_id      INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    secret_hash   BLOB NOT NULL,                -- BLAKE2b-256 of the secret half
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER,
    last_used_at  INTEGER
);
CREATE INDEX api_keys_admin ON api_keys(admin_id);

CREATE TABLE users (
    id                INTEGER PRIMARY KEY,
    domain_id         INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    local             TEXT NOT NULL,
    display_name      TEXT NOT NULL DEFAULT '',
    enabled           INTEGER NOT NULL DEFAULT 1,
    quota_bytes       INTEGER NOT NULL,
    store_id          TEXT NOT NULL UNIQUE,
    public_key        BLOB NOT NULL,            -- X25519
    x25519_sealed_sk  BLOB NOT NULL,            -- secret key under the store key
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    UNIQUE (domain_id, local)
);

-- One wrap of a user's store key per credential (lib/keys).
CREATE TABLE credentials (
    id          TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('password', 'app', 'recovery')),
    name        TEXT NOT NULL DEFAULT '',
    wrap        BLOB NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX credentials_user ON credentials(user_id);
CREATE UNIQUE INDEX credentials_single ON credentials(user_id, kind)
    WHERE kind IN ('password', 'recovery');

CREATE TABLE aliases (
    id          INTEGER PRIMARY KEY,
    domain_id   INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    local       TEXT NOT NULL,                  -- '*' is the catch-all
    targets     TEXT NOT NULL,                  -- JSON array of addresses
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (domain_id, local)
);

CREATE TABLE dkim_keys (
    id                  INTEGER PRIMARY KEY,
    domain_id           INTEGER NOT NULL REFERENCES domains(id) ON DELETE CASCADE,
    selector            TEXT NOT NULL,
    algorithm           TEXT NOT NULL CHECK (algorithm IN ('rsa-2048', 'ed25519')),
    status              TEXT NOT NULL CHECK (status IN ('active', 'retired')),
    public_txt          TEXT NOT NULL,
    private_key_sealed  BLOB NOT NULL,          -- PEM sealed under keys/server.key
    created_at          INTEGER NOT NULL,
    UNIQUE (domain_id, selector)
);

-- Transactional outbox: appended in the same transaction as every write,
-- published in order to the Redis stream by the relay.
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    type        TEXT NOT NULL,
    key         TEXT NOT NULL,
    data        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
