-- ownmail per-user store, schema version 4: raw messages in their own table.
-- Never edit a released file: add 005_*.sql.
--
-- Until version 3 the raw message was the last column of bodies. A table
-- b-tree keeps the first part of every row's payload on its leaf page, so
-- each body took a leaf page of its own (about 4 KB) and anything that read
-- the metadata of many messages (FETCH ENVELOPE of a whole mailbox, SEARCH
-- FROM / SUBJECT, SORT) read - and, in the encrypted store, decrypted - one
-- page per message. With the raw bytes in body_raw, bodies rows are a few
-- hundred bytes and many share a page; the raw message is read only when
-- asked for.
CREATE TABLE body_raw (
    body_id INTEGER PRIMARY KEY, -- bodies.id
    raw     BLOB NOT NULL
);
INSERT INTO body_raw (body_id, raw) SELECT id, raw FROM bodies;
ALTER TABLE bodies DROP COLUMN raw;

CREATE TRIGGER bodies_raw_delete AFTER DELETE ON bodies BEGIN
    DELETE FROM body_raw WHERE body_id = OLD.id;
END;
