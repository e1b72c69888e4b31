-- ownmail per-user store, schema version 2: full-text search (FTS5) for
-- IMAP SEARCH BODY and TEXT. Never edit a released file: add 003_*.sql.
--
-- One index row per body (bodies.id is the FTS rowid), so every COPY of a
-- message (which shares its body) is found through the same row, and the row
-- goes when the last message using the body is expunged (the body's delete
-- fires bodies_fts_delete below). The index lives in this database, so in
-- production it is encrypted page by page with the rest of the store.
--
-- External content, not contentless: FTS5 of SQLite 3.40 can remove a row of
-- a contentless table only when given the exact text it indexed
-- (contentless_delete came in 3.43), so the text must be kept somewhere
-- anyway. The indexed text of the body parts is kept once in body_index; the
-- four header fields are read from bodies (through body_fts_source), never
-- copied. bodies rows never change after insert, so the index never goes
-- stale; only the triggers below write body_fts.
--
-- A body without a body_index row (stored before this version, or appended
-- without index text) has no index row: SEARCH falls back to a substring
-- search of its raw bytes (lib/store/search.c).

-- The decoded text of a body's text parts (store_msg_meta.index_text), as
-- the MIME parser produced it. Rows are written by store_append() and
-- removed by bodies_fts_delete.
CREATE TABLE body_index (
    body_id INTEGER PRIMARY KEY, -- bodies.id
    text    TEXT NOT NULL
);

-- What body_fts indexes: one row per indexed body.
CREATE VIEW body_fts_source AS
    SELECT x.body_id     AS body_id,
           b.hdr_subject AS subject,
           b.hdr_from    AS hdr_from,
           b.hdr_to      AS hdr_to,
           b.hdr_cc      AS hdr_cc,
           x.text        AS body
    FROM body_index x JOIN bodies b ON b.id = x.body_id;

-- unicode61 with remove_diacritics 2: case folded and diacritics removed on
-- both sides, so "creme" finds "Crème" and "CRÈME" finds "creme".
CREATE VIRTUAL TABLE body_fts USING fts5(
    subject, hdr_from, hdr_to, hdr_cc, body,
    content = 'body_fts_source',
    content_rowid = 'body_id',
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER body_index_fts_insert AFTER INSERT ON body_index BEGIN
    INSERT INTO body_fts (rowid, subject, hdr_from, hdr_to, hdr_cc, body)
        SELECT b.id, b.hdr_subject, b.hdr_from, b.hdr_to, b.hdr_cc, NEW.text
        FROM bodies b WHERE b.id = NEW.body_id;
END;

-- An external-content FTS5 row is removed by giving it the values it
-- indexed: the body's (unchanged) header fields and its body_index text.
CREATE TRIGGER bodies_fts_delete AFTER DELETE ON bodies BEGIN
    INSERT INTO body_fts (body_fts, rowid, subject, hdr_from, hdr_to, hdr_cc, body)
        SELECT 'delete', x.body_id, OLD.hdr_subject, OLD.hdr_from, OLD.hdr_to, OLD.hdr_cc, x.text
        FROM body_index x WHERE x.body_id = OLD.id;
    DELETE FROM body_index WHERE body_id = OLD.id;
END;
