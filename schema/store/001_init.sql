-- ownmail per-user store, schema version 1: the mail model.
-- Applied by store_migrate() (lib/store/store.c) inside one transaction;
-- PRAGMA user_version records the version. Never edit a released file: add 002_*.sql.

-- One row: the store-wide counters.
--   change_counter: bumped by every write transaction of lib/store, so another
--                   session of the same user can poll for changes cheaply.
--   modseq:         the last MODSEQ handed out (RFC 7162); strictly increasing.
--   quota_limit:    bytes allowed (0 = unlimited); quota_used: sum of message sizes,
--                   kept by the triggers below.
--   defaults_done:  1 once store_ensure_defaults() created INBOX and the special-use
--                   mailboxes, so a mailbox the user deleted is not created again.
CREATE TABLE store_meta (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    change_counter INTEGER NOT NULL DEFAULT 0,
    modseq         INTEGER NOT NULL DEFAULT 1,
    quota_limit    INTEGER NOT NULL DEFAULT 0 CHECK (quota_limit >= 0),
    quota_used     INTEGER NOT NULL DEFAULT 0,
    defaults_done  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO store_meta (id) VALUES (1);

-- Mailboxes: the full name with '/' as hierarchy delimiter, "INBOX" spelled so.
-- uidnext only grows: a UID is never given twice in one UIDVALIDITY.
-- special_use: bit set of STORE_USE_* (RFC 6154). noselect: a name kept only
-- because it has inferiors (RFC 9051 6.3.5).
-- AUTOINCREMENT: an id is never given twice, so a session holding the id of
-- a mailbox deleted meanwhile gets "no such mailbox", never another mailbox.
CREATE TABLE mailboxes (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE,
    uidvalidity   INTEGER NOT NULL CHECK (uidvalidity BETWEEN 1 AND 4294967295),
    uidnext       INTEGER NOT NULL DEFAULT 1 CHECK (uidnext BETWEEN 1 AND 4294967296),
    highestmodseq INTEGER NOT NULL,
    special_use   INTEGER NOT NULL DEFAULT 0,
    noselect      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Subscriptions are names, not mailboxes: RFC 9051 6.3.7 lets a name stay
-- subscribed after its mailbox is deleted.
CREATE TABLE subscriptions (
    name TEXT PRIMARY KEY
) WITHOUT ROWID;

-- One row per distinct message content; COPY shares it, the last message
-- that refers to it deletes it (trigger below). raw is the last column so
-- that reading the metadata does not walk the blob's overflow pages.
-- AUTOINCREMENT: a reader that looked an id up never opens another
-- message's blob under it after an expunge and an append.
CREATE TABLE bodies (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    size              INTEGER NOT NULL,
    header_len        INTEGER NOT NULL,
    envelope          TEXT,
    bodystructure     TEXT,
    bodystructure_ext TEXT,
    hdr_from          TEXT,
    hdr_to            TEXT,
    hdr_cc            TEXT,
    hdr_subject       TEXT,
    hdr_date          TEXT,
    sent_date         INTEGER,
    message_id        TEXT,
    in_reply_to       TEXT,
    hdr_references    TEXT,
    preview           TEXT,
    raw               BLOB NOT NULL
);

-- A message in a mailbox. flags: bit set of STORE_FLAG_*; keywords: the
-- message's keywords separated by one space (compared case-insensitively).
CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    mailbox_id    INTEGER NOT NULL REFERENCES mailboxes (id),
    uid           INTEGER NOT NULL,
    modseq        INTEGER NOT NULL,
    flags         INTEGER NOT NULL DEFAULT 0,
    keywords      TEXT NOT NULL DEFAULT '',
    internal_date INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    body_id       INTEGER NOT NULL REFERENCES bodies (id),
    UNIQUE (mailbox_id, uid)
);
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
CREATE INDEX messages_body ON messages (body_id);

-- Keywords ever used in a mailbox (the FLAGS / PERMANENTFLAGS lists).
CREATE TABLE mailbox_keywords (
    mailbox_id INTEGER NOT NULL,
    name       TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (mailbox_id, name)
) WITHOUT ROWID;

-- Expunged UIDs with the MODSEQ of their expunge, for QRESYNC VANISHED
-- (RFC 7162 3.2.5.1, 3.2.10).
CREATE TABLE expunged (
    mailbox_id INTEGER NOT NULL,
    uid        INTEGER NOT NULL,
    modseq     INTEGER NOT NULL,
    PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX expunged_modseq ON expunged (mailbox_id, modseq);

CREATE TRIGGER messages_quota_insert AFTER INSERT ON messages BEGIN
    UPDATE store_meta SET quota_used = quota_used + NEW.size WHERE id = 1;
END;

CREATE TRIGGER messages_quota_delete AFTER DELETE ON messages BEGIN
    UPDATE store_meta SET quota_used = quota_used - OLD.size WHERE id = 1;
    DELETE FROM bodies WHERE id = OLD.body_id
        AND NOT EXISTS (SELECT 1 FROM messages WHERE body_id = OLD.body_id);
END;

-- Keys of deliveries already stored (spool message ids), so that draining a
-- spool stores each message exactly once even when two processes drain at
-- once or one dies between the store's commit and the spool file's removal.
CREATE TABLE deliveries (
    key        TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
