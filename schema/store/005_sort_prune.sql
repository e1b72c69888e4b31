-- ownmail per-user store, schema version 5: SORT keys (RFC 5256, RFC 5957)
-- and the pruning of the change logs. Never edit a released file: add 006_*.sql.

-- SORT keys, computed by the MIME parser at delivery
-- (store_msg_meta.sort_subject ... display_to) so that a SORT reads a few
-- bytes per message and never a raw header:
--   sort_subject: the base subject (RFC 5256 2.1) of the decoded Subject;
--   sort_from, sort_to, sort_cc: the addr-mailbox (local-part) of the first
--     address of From, To, Cc (RFC 5256 3), a group's name for a group;
--   display_from, display_to: the decoded display-name of the first address
--     of From, To, else its addr-spec (RFC 5957 2).
-- '' when the field or the part is absent. NULL means "not computed": the
-- bodies stored before this version, and messages appended without the
-- keys. lib/mailbox fills those from the raw header when it opens a store
-- (store_sort_backfill_next, store_sort_keys_set); until then SORT by one
-- of these keys answers STORE_ERR_SORT_KEYS rather than misorder.
-- These are the only columns of bodies ever updated after insert; none is
-- indexed by body_fts (002_fts.sql), which stays valid.
ALTER TABLE bodies ADD COLUMN sort_subject TEXT;
ALTER TABLE bodies ADD COLUMN sort_from TEXT;
ALTER TABLE bodies ADD COLUMN sort_to TEXT;
ALTER TABLE bodies ADD COLUMN sort_cc TEXT;
ALTER TABLE bodies ADD COLUMN display_from TEXT;
ALTER TABLE bodies ADD COLUMN display_to TEXT;

-- The bodies the backfill still has to visit; empty once it ran, so it
-- costs nothing afterwards. The expression must stay identical to
-- SORT_KEYS_MISSING in lib/store/sort.c, or the planner does not use it.
CREATE INDEX bodies_sort_missing ON bodies (id)
    WHERE sort_subject IS NULL OR sort_from IS NULL OR sort_to IS NULL
       OR sort_cc IS NULL OR display_from IS NULL OR display_to IS NULL;

-- QRESYNC expunge log pruning (RFC 7162 3.2.5.1). expunged_at: when the
-- UID was expunged (Unix time; rows older than this version get the time
-- of the migration). store_expunged_prune() removes the oldest entries, a
-- whole MODSEQ at a time, and raises vanished_floor to the highest MODSEQ
-- it removed: the log of the mailbox is complete for every MODSEQ above
-- vanished_floor, and store_vanished() refuses (STORE_ERR_EXPUNGE_LOG) a
-- MODSEQ below it, so the server falls back to reporting every UID of the
-- client's known range that does not exist any more.
ALTER TABLE expunged ADD COLUMN expunged_at INTEGER;
UPDATE expunged SET expunged_at = CAST(strftime('%s', 'now') AS INTEGER);
ALTER TABLE mailboxes ADD COLUMN vanished_floor INTEGER NOT NULL DEFAULT 0;

-- DAV change log (003_dav.sql): when each href last changed, so that
-- tombstones can be pruned by age (store_dav_changes_prune_age); rows older
-- than this version get the time of the migration.
ALTER TABLE dav_changes ADD COLUMN changed_at INTEGER;
UPDATE dav_changes SET changed_at = CAST(strftime('%s', 'now') AS INTEGER);
