"""The store contract on both stores, and what only the SQLite store promises."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit import StoreError
from mdnkit.events import Event, EventType, Source
from mdnkit.store import MemoryStore, SentMessage, SQLiteStore, Store
from mdnkit.store._records import event_from_json, event_to_json, utc_key
from mdnkit.store._schema import APPLICATION_ID, MIGRATIONS
from mdnkit.store.contract import StoreContract

_COUNTER = itertools.count()


class TestMemoryStore(StoreContract):
    def make_store(self) -> Store:
        return MemoryStore()


class TestSQLiteStore(StoreContract):
    @pytest.fixture(autouse=True)
    def _directory(self, tmp_path: Path) -> None:
        self.directory = tmp_path

    def make_store(self) -> Store:
        return SQLiteStore(self.directory / f"store{next(_COUNTER)}.db")

    def reopen(self, store: Store) -> Store | None:
        assert isinstance(store, SQLiteStore)
        return SQLiteStore(store.path)


class TestSQLiteStoreFullSync(TestSQLiteStore):
    def make_store(self) -> Store:
        return SQLiteStore(self.directory / f"store{next(_COUNTER)}.db", synchronous="FULL")


# ---------------------------------------------------------------------------
# The file


def _pragma(path: Path, name: str) -> object:
    with sqlite3.connect(path) as conn:
        return conn.execute(f"PRAGMA {name}").fetchone()[0]


def test_new_file_is_private_and_wal(tmp_path: Path) -> None:
    path = tmp_path / "receipts.db"
    store = SQLiteStore(path)
    store.add_event(_hostile_event())
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    wal = Path(f"{path}-wal")
    assert stat.S_IMODE(os.stat(wal).st_mode) == 0o600
    store.close()
    assert _pragma(path, "journal_mode") == "wal"
    assert _pragma(path, "application_id") == APPLICATION_ID
    assert _pragma(path, "user_version") == len(MIGRATIONS)


def test_existing_permissions_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    SQLiteStore(path).close()
    os.chmod(path, 0o640)
    SQLiteStore(path).close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


@pytest.mark.parametrize(
    "content",
    [
        b"From: someone\r\nSubject: not a database\r\n\r\nhello\r\n",
        b"SQLite format 3\x00" + b"\xff" * 200,
        bytes(range(256)) * 8,
    ],
    ids=["text", "bad-header", "binary"],
)
def test_foreign_or_corrupt_file_is_refused_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "receipts.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert str(caught.value).startswith(
        f"{path} is not an mdnkit store (not an SQLite database, or corrupt): "
    )
    assert path.read_bytes() == content
    assert not Path(f"{path}-wal").exists()


def test_other_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    before = path.read_bytes()
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert str(caught.value) == (
        f"{path} is an SQLite database of another application; refusing to use it"
    )
    assert path.read_bytes() == before
    assert _pragma(path, "journal_mode") == "delete"


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    SQLiteStore(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 3}")
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert str(caught.value) == (
        f"{path} has store schema version {len(MIGRATIONS) + 3}; this mdnkit reads up to"
        f" {len(MIGRATIONS)}: upgrade mdnkit"
    )


def test_migrations_run_in_order_once(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    extra = (
        *MIGRATIONS,
        ("CREATE TABLE notes (n INTEGER)", "INSERT INTO notes VALUES (1)"),
        ("INSERT INTO notes SELECT max(n) + 1 FROM notes",),
    )
    SQLiteStore(path).close()  # version 1 first, as a released store would be
    SQLiteStore(path, migrations=extra).close()
    SQLiteStore(path, migrations=extra).close()  # nothing left to do: nothing runs twice
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT n FROM notes ORDER BY n").fetchall() == [(1,), (2,)]
    assert _pragma(path, "user_version") == len(MIGRATIONS) + 2


def test_interrupted_migration_leaves_the_old_schema_usable(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    store = SQLiteStore(path)
    store.add_sent(_sent())
    store.close()
    broken = (
        *MIGRATIONS,
        ("ALTER TABLE sent ADD COLUMN campaign TEXT", "THIS IS NOT SQL"),
    )
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path, migrations=broken)
    version = len(MIGRATIONS) + 1
    assert str(caught.value) == (
        f'cannot migrate {path} to schema version {version}: near "THIS": syntax error;'
        f" the file is left at version {version - 1}"
    )
    assert _pragma(path, "user_version") == len(MIGRATIONS)
    again = SQLiteStore(path)
    assert again.get_sent("m1@sender.example") == _sent()
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(sent)")]
    assert "campaign" not in columns
    again.close()


def test_bad_synchronous_value(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        SQLiteStore(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]
    assert str(caught.value) == "synchronous must be 'NORMAL' or 'FULL', not 'OFF'"
    assert not (tmp_path / "x.db").exists()


def test_unwritable_place(tmp_path: Path) -> None:
    path = tmp_path / "missing-dir" / "x.db"
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert str(caught.value) == f"cannot create {path}: No such file or directory"


# ---------------------------------------------------------------------------
# SQL is never built from input


_HOSTILE = "x'); DROP TABLE events; --\"\x00\u202e"


def _hostile_event() -> Event:
    return Event(
        event_id=_HOSTILE,
        type=EventType.FAILED,
        source=Source.DSN,
        message_id=None,
        recipient=_HOSTILE,
        timestamp=datetime(2026, 3, 1, tzinfo=UTC),
        automatic=None,
        correlated_by="none",
        detail={_HOSTILE: _HOSTILE, "ref_message_id": _HOSTILE, "envelope_id": _HOSTILE},
    )


def _sent(message_id: str = "m1@sender.example") -> SentMessage:
    return SentMessage(
        message_id=message_id,
        recipients=("a@one.example",),
        sent_at=datetime(2026, 3, 1, tzinfo=UTC),
        envelope_id=message_id,
        subject=message_id,
    )


def test_values_travel_as_parameters(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    statements: list[str] = []
    store._conn().set_trace_callback(statements.append)
    event = _hostile_event()
    store.add_event(event)
    store.add_sent(_sent(_HOSTILE))
    store.put_token(_HOSTILE, _HOSTILE, _HOSTILE)
    assert store.get_event(_HOSTILE) == event
    assert [e for _, e in store.unmatched(ref_message_id=_HOSTILE, envelope_id=_HOSTILE)] == [event]
    assert store.get_sent(_HOSTILE) == _sent(_HOSTILE)
    assert store.sent_by_envelope(_HOSTILE) == _sent(_HOSTILE)
    assert store.get_token(_HOSTILE) == (_HOSTILE, _HOSTILE)
    store.replace_event(event)
    assert store.add_events([event, dataclasses.replace(event, event_id="x")])[0] is None
    assert store.get_tokens([_HOSTILE]) == {_HOSTILE: (_HOSTILE, _HOSTILE)}
    # The trace shows statements with parameters expanded; a statement built
    # from the value would differ from its template in more than the values.
    assert statements
    templates = {_template(s) for s in statements}
    assert all("DROP TABLE" not in t for t in templates)
    store.close()


def _template(statement: str) -> str:
    """The statement with every quoted literal removed."""
    out, quoted = [], False
    i = 0
    while i < len(statement):
        c = statement[i]
        if c == "'":
            if quoted and statement[i + 1 : i + 2] == "'":
                i += 2
                continue
            quoted = not quoted
        elif not quoted:
            out.append(c)
        i += 1
    return "".join(out)


def test_stored_rows_are_json_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    store = SQLiteStore(path)
    store.add_event(_hostile_event())
    store.close()
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT event_id, message_id, ref_message_id, ts, body FROM events"
        ).fetchone()
    assert row[:4] == (_HOSTILE, None, _HOSTILE, "2026-03-01T00:00:00.000000Z")
    assert json.loads(row[4]) == _hostile_event().to_dict()


def _body(**changes: object) -> str:
    return json.dumps({**_hostile_event().to_dict(), **changes})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"type": "exploded"}', "missing field 'detail'"),
        (_body(type="exploded"), "'exploded' is not a valid EventType"),
        (_body(detail=[1]), "detail is not an object"),
        (_body(automatic="yes"), "automatic is not a boolean"),
        (_body(timestamp="yesterday"), "Invalid isoformat string: 'yesterday'"),
        ("not json", "Expecting value: line 1 column 1 (char 0)"),
    ],
)
def test_unreadable_stored_event_is_a_store_error(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "x.db"
    store = SQLiteStore(path)
    store.add_event(_hostile_event())
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE events SET body = ?", (body,))
    with pytest.raises(StoreError) as caught:
        store.get_event(_HOSTILE)
    assert str(caught.value) == f"a stored event cannot be read: {message}"
    store.close()


def test_every_query_uses_an_index(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "x.db")
    conn = store._conn()
    queries = [
        ("SELECT * FROM sent WHERE message_id = ?", ("m",)),
        ("SELECT * FROM sent WHERE envelope_id = ? ORDER BY rowid LIMIT 1", ("e",)),
        ("SELECT body FROM events WHERE event_id = ?", ("e",)),
        (
            "SELECT seq, body FROM events WHERE message_id = ? AND seq > ? ORDER BY seq LIMIT 5",
            ("m", 0),
        ),
        (
            "SELECT seq, body FROM events WHERE message_id IS NULL AND ref_message_id = ? AND seq > ?"
            " ORDER BY seq LIMIT 5",
            ("m", 0),
        ),
        (
            "SELECT seq, body FROM events WHERE message_id IS NULL AND envelope_id = ? AND seq > ?"
            " ORDER BY seq LIMIT 5",
            ("e", 0),
        ),
        ("SELECT seq, body FROM events WHERE ts >= ? AND seq > ? ORDER BY seq LIMIT 5", ("t", 0)),
        ("SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT 5", (0,)),
        ("SELECT coalesce(max(seq), 0) + 1 FROM events", ()),
        (
            "SELECT * FROM sent WHERE (sent_at, rowid) > (?, ?) ORDER BY sent_at, rowid LIMIT 5",
            ("", -1),
        ),
        ("SELECT message_id, recipient FROM tokens WHERE token_id = ?", ("t",)),
        # The batch methods.
        ("SELECT seq FROM events WHERE seq BETWEEN ? AND ?", (1, 9)),
        ("SELECT token_id, message_id, recipient FROM tokens WHERE token_id IN (?,?)", ("a", "b")),
    ]
    for sql, params in queries:
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN events" not in plan, (sql, plan)
        assert "SCAN sent" not in plan, (sql, plan)
    store.close()


# ---------------------------------------------------------------------------
# Batches, schema version 2, the JSON form


def _numbered(n: int) -> Event:
    return dataclasses.replace(_hostile_event(), event_id=f"ev{n:04d}")


def test_add_events_in_small_statements(tmp_path: Path) -> None:
    # Two rows per INSERT: duplicates in one statement, across statements,
    # and of rows kept before, each get None; the rest keep batch order.
    store = SQLiteStore(tmp_path / "x.db")
    store._max_params = 14
    first = store.add_event(_numbered(3))
    batch = [_numbered(n) for n in (1, 1, 2, 3, 4, 2, 5)]
    seqs = store.add_events(batch)
    assert first == 1
    assert seqs == [2, None, 4, None, 6, None, 8]
    assert [(seq, e.event_id) for seq, e in store.events()] == [
        (1, "ev0003"),
        (2, "ev0001"),
        (4, "ev0002"),
        (6, "ev0004"),
        (8, "ev0005"),
    ]
    # The numbers left unused are never handed out below the last one kept.
    assert store.add_event(_numbered(9)) == 9
    store.close()


def test_version_1_store_moves_to_version_2_intact(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = SQLiteStore(path, migrations=MIGRATIONS[:1])
    old.add_sent(_sent())
    old.put_token("tok", "m1@sender.example", "a@one.example")
    for n in range(5):
        old.add_event(_numbered(n))
    old.replace_event(dataclasses.replace(_numbered(1), message_id="tied@sender.example"))
    before = list(old.events())
    old.close()
    store = SQLiteStore(path)
    assert _pragma(path, "user_version") == 2 == len(MIGRATIONS)
    assert list(store.events()) == before
    assert [seq for seq, _ in before] == [1, 3, 4, 5, 6]
    assert [e.event_id for _, e in store.events(message_id="tied@sender.example")] == ["ev0001"]
    assert [e.event_id for _, e in store.unmatched(ref_message_id=_HOSTILE)] == [
        "ev0000",
        "ev0002",
        "ev0003",
        "ev0004",
    ]
    assert store.get_sent("m1@sender.example") == _sent()
    assert store.get_token("tok") == ("m1@sender.example", "a@one.example")
    assert store.add_event(_numbered(1)) is None
    assert store.add_event(_numbered(7)) == 7
    store.close()
    with sqlite3.connect(path) as conn:
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'events'").fetchone()[0]
        indexes = sorted(
            row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")
        )
    assert "WITHOUT ROWID" not in sql
    assert "seq INTEGER PRIMARY KEY" in sql
    assert indexes == [
        "events_message",
        "events_time",
        "events_unmatched_env",
        "events_unmatched_ref",
        "sent_envelope",
        "sent_time",
        "sqlite_autoindex_events_1",  # UNIQUE (event_id)
        "sqlite_autoindex_sent_1",  # tokens is WITHOUT ROWID: its key is the table
    ]


_TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
_OFFSETS = st.integers(-23 * 60, 23 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(
    event_id=_TEXT,
    message_id=st.none() | _TEXT,
    recipient=st.none() | _TEXT,
    when=st.datetimes(timezones=_OFFSETS),
    automatic=st.none() | st.booleans(),
    correlated_by=_TEXT,
    detail=st.dictionaries(_TEXT, _TEXT, max_size=5),
    kind=st.sampled_from(EventType),
    source=st.sampled_from(Source),
)
def test_event_json_is_what_the_generic_encoder_writes(
    event_id: str,
    message_id: str | None,
    recipient: str | None,
    when: datetime,
    automatic: bool | None,
    correlated_by: str,
    detail: dict[str, str],
    kind: EventType,
    source: Source,
) -> None:
    event = Event(
        event_id=event_id,
        type=kind,
        source=source,
        message_id=message_id,
        recipient=recipient,
        timestamp=when,
        automatic=automatic,
        correlated_by=correlated_by,
        detail=detail,
    )
    text = event_to_json(event)
    assert text == json.dumps(
        event.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True
    )
    assert event_from_json(text) == event


def test_event_json_of_values_outside_the_model() -> None:
    # A detail value that is not a string still round-trips as text.
    odd = dataclasses.replace(_hostile_event(), detail={"n": 3})  # type: ignore[dict-item]
    assert json.loads(event_to_json(odd))["detail"] == {"n": 3}
    assert event_from_json(event_to_json(odd)).detail == {"n": "3"}


@given(
    st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31), timezones=_OFFSETS)
)
def test_utc_key_is_fixed_width_utc(when: datetime) -> None:
    key = utc_key(when)
    utc = when.astimezone(UTC)
    assert len(key) == 27
    assert key.endswith("Z")
    assert datetime.fromisoformat(key[:-1]).replace(tzinfo=UTC) == utc
    if utc.year >= 1000:  # where strftime pads the year too
        assert key == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.mark.parametrize(
    ("when", "key"),
    [
        (
            datetime(2026, 11, 27, 13, 0, tzinfo=timezone(timedelta(hours=1))),
            "2026-11-27T12:00:00.000000Z",
        ),
        (datetime(999, 1, 1, 0, 0, 0, 5, tzinfo=UTC), "0999-01-01T00:00:00.000005Z"),
    ],
)
def test_utc_key_examples(when: datetime, key: str) -> None:
    assert utc_key(when) == key
