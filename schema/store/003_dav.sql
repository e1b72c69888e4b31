-- ownmail per-user store, schema version 3: calendars (CalDAV, RFC 4791) and
-- address books (CardDAV, RFC 6352). Never edit a released file: add 004_*.sql.
-- Written only by lib/store/dav.c.

-- A calendar or an address book. name is its URL segment (unique per kind).
-- sync_revision: the collection's current sync token (RFC 6578); every
--   change of a member takes the next store-wide MODSEQ (store_meta.modseq),
--   so a token is never handed out twice, even by a collection recreated
--   under the same name.
-- sync_min: the oldest token still answerable: tombstones (dav_changes rows
--   with deleted = 1) at or below it have been pruned. A token below it is
--   refused (403 DAV:valid-sync-token, RFC 6578 3.2).
-- ctag: random, replaced on every change of the collection or its members
--   (CalendarServer getctag).
-- components: comma-separated supported components (calendars), e.g.
--   "VEVENT,VTODO"; '' for an address book.
-- AUTOINCREMENT: an id is never given twice (see mailboxes in 001_init.sql).
CREATE TABLE dav_collections (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL CHECK (kind IN ('calendar', 'addressbook')),
    name          TEXT NOT NULL,
    display_name  TEXT,
    description   TEXT,
    color         TEXT,
    components    TEXT NOT NULL DEFAULT '',
    sync_revision INTEGER NOT NULL,
    sync_min      INTEGER NOT NULL,
    ctag          TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (kind, name)
);

-- A calendar object resource or vCard. href: its name in the collection.
-- uid: the iCalendar / vCard UID (RFC 4791 5.3.2.1 no-uid-conflict, RFC 6352
-- 6.3.2.1). etag: random, replaced on every change. revision: the
-- collection's sync_revision when it last changed.
-- Time range (UTC seconds, for CalDAV time-range queries; NULL when the
-- object has no such property, always NULL for VCARD):
--   dtstart:   start of the first occurrence.
--   dtend:     end of the last occurrence when known (DTEND / DUE /
--              DTSTART+DURATION, and for a recurring event the end of the
--              last instance of a bounded RRULE: UNTIL or COUNT); NULL or
--              equal to dtstart for an instant.
--   unbounded: 1 for a recurrence without end (RRULE without UNTIL or
--              COUNT): the object overlaps every range ending after dtstart.
-- The range is a pre-filter: a query never misses an object but may return
-- one whose instances all miss the range (the server expands and checks).
-- data is the last column (see bodies in 001_init.sql).
CREATE TABLE dav_objects (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
    href          TEXT NOT NULL,
    etag          TEXT NOT NULL,
    uid           TEXT NOT NULL,
    component     TEXT NOT NULL CHECK (component IN ('VEVENT', 'VTODO', 'VJOURNAL', 'VCARD')),
    dtstart       INTEGER,
    dtend         INTEGER,
    unbounded     INTEGER NOT NULL DEFAULT 0 CHECK (unbounded IN (0, 1)),
    revision      INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    data          BLOB NOT NULL,
    UNIQUE (collection_id, href),
    UNIQUE (collection_id, uid)
);
CREATE INDEX dav_objects_range ON dav_objects (collection_id, dtstart);

-- The change log for sync-collection (RFC 6578): one row per href ever used
-- in the collection, with the revision of its last change and whether that
-- change was a delete (a tombstone). Live members' rows are kept; tombstones
-- are pruned by store_dav_changes_prune(), which raises sync_min.
CREATE TABLE dav_changes (
    collection_id INTEGER NOT NULL REFERENCES dav_collections (id) ON DELETE CASCADE,
    href          TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    deleted       INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    PRIMARY KEY (collection_id, href)
) WITHOUT ROWID;
CREATE INDEX dav_changes_revision ON dav_changes (collection_id, revision);
