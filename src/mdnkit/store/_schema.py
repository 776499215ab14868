"""The SQLite schema, versioned with ``PRAGMA user_version``.

``MIGRATIONS[n]`` takes a database from version *n* to *n + 1*.  Each runs
in its own ``BEGIN IMMEDIATE`` transaction together with the version bump,
so a migration interrupted at any point (crash, kill, full disk) rolls back
and leaves the previous version intact and usable.  Migrations are only
ever appended: a released one is never edited.

``APPLICATION_ID`` (``PRAGMA application_id``, the four bytes ``mdnk``)
marks the file as ours, so a foreign SQLite file is refused instead of
being written into.

Every query the store makes has an index: events by message
(``events_message``), unmatched events by the Message-ID or envelope id
they refer to (partial indexes, small because few events stay unmatched),
events by time for ``since=<datetime>``, and sent messages by envelope id.
"""

from __future__ import annotations

__all__ = ["APPLICATION_ID", "MIGRATIONS"]

APPLICATION_ID = int.from_bytes(b"mdnk", "big")

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: the first schema.
    (
        """CREATE TABLE sent (
            message_id TEXT PRIMARY KEY,
            envelope_id TEXT,
            sent_at TEXT NOT NULL,          -- utc_key(): sortable UTC text
            sent_at_iso TEXT NOT NULL,      -- as given, offset kept
            subject TEXT,
            recipients TEXT NOT NULL        -- JSON array of addr-specs
        )""",
        "CREATE INDEX sent_envelope ON sent (envelope_id) WHERE envelope_id IS NOT NULL",
        "CREATE INDEX sent_time ON sent (sent_at)",
        """CREATE TABLE events (
            event_id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL UNIQUE,    -- grows with every insert and replace
            message_id TEXT,                -- NULL while unmatched
            ref_message_id TEXT,            -- what an unmatched event refers to
            envelope_id TEXT,
            ts TEXT NOT NULL,               -- utc_key() of the event timestamp
            body TEXT NOT NULL              -- the event as JSON
        ) WITHOUT ROWID""",
        "CREATE INDEX events_message ON events (message_id, seq)",
        "CREATE INDEX events_unmatched_ref ON events (ref_message_id) WHERE message_id IS NULL",
        "CREATE INDEX events_unmatched_env ON events (envelope_id) WHERE message_id IS NULL",
        "CREATE INDEX events_time ON events (ts)",
        """CREATE TABLE tokens (
            token_id TEXT PRIMARY KEY,
            message_id TEXT NOT NULL,
            recipient TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 1 -> 2: events in a rowid table keyed by seq.  Version 1 kept them in
    # a WITHOUT ROWID table keyed by the random event id, with the JSON body
    # inline: every insert landed on a random leaf page holding a handful of
    # rows, so a batch of pixel hits rewrote a page per event.  Keyed by seq,
    # new events are appended; only the small event_id index takes random
    # inserts.  The same columns, values and indexes otherwise.
    (
        """CREATE TABLE events_v2 (
            seq INTEGER PRIMARY KEY,        -- grows with every insert and replace
            event_id TEXT NOT NULL UNIQUE,
            message_id TEXT,                -- NULL while unmatched
            ref_message_id TEXT,            -- what an unmatched event refers to
            envelope_id TEXT,
            ts TEXT NOT NULL,               -- utc_key() of the event timestamp
            body TEXT NOT NULL              -- the event as JSON
        )""",
        "INSERT INTO events_v2 (seq, event_id, message_id, ref_message_id, envelope_id, ts, body)"
        " SELECT seq, event_id, message_id, ref_message_id, envelope_id, ts, body"
        " FROM events ORDER BY seq",
        "DROP TABLE events",
        "ALTER TABLE events_v2 RENAME TO events",
        "CREATE INDEX events_message ON events (message_id, seq)",
        "CREATE INDEX events_unmatched_ref ON events (ref_message_id) WHERE message_id IS NULL",
        "CREATE INDEX events_unmatched_env ON events (envelope_id) WHERE message_id IS NULL",
        "CREATE INDEX events_time ON events (ts)",
    ),
)
