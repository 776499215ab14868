"""A store in one SQLite file, with the standard library's :mod:`sqlite3`.

Choices, and why:

- **WAL journal**: readers never block the writer and the writer never
  blocks readers, so a status query or a follower (``events(since=...)``)
  runs while receipts are ingested.
- **synchronous=NORMAL by default**: in WAL mode every committed transaction
  is in the WAL file before the call returns, so it survives the process
  being killed (``kill -9``) the next instant; only an operating-system
  crash or power loss can lose the last few commits, and never corrupts
  the file (SQLite's documented WAL guarantee).  Pass
  ``synchronous="FULL"`` to fsync every commit and survive power loss too,
  at the cost of one disk flush per call.
- **BEGIN IMMEDIATE** for every write unit and a busy timeout, plus a
  bounded retry when SQLite still answers "database is locked": two
  processes writing to one file wait for each other instead of failing, and
  ``INSERT OR IGNORE`` on the event id means they never duplicate a receipt.
- **One connection per thread** (thread-local), so callbacks and pixel
  requests on other threads never share a connection.
- **Parameterised SQL only**: no value from a message ever becomes SQL text.
- **The file is created with mode 0600**: receipts name people.  SQLite
  gives its ``-wal`` and ``-shm`` files the database file's mode.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, Literal

from ..errors import StoreError
from ..events import Event
from ._records import SentMessage, check_since, event_from_json, event_to_json, utc_key
from ._schema import APPLICATION_ID, MIGRATIONS

__all__ = ["SQLiteStore"]

# What a damaged file raises: sqlite3's own errors, and UnicodeDecodeError for
# a stored text value whose bytes are no longer UTF-8 (one flipped bit does it).
_DB_ERRORS = (sqlite3.Error, UnicodeDecodeError)
_PAGE = 500  # rows fetched per query when iterating: no read transaction stays open long
_RETRIES = 50  # attempts at BEGIN IMMEDIATE beyond the busy timeout
# Rows per multi-row INSERT in add_events: one statement, one sqlite3_step
# (and one release of the GIL) for many events.  Capped further by the
# library's bound on host parameters (999 before SQLite 3.32).
_ROWS_PER_INSERT = 200
_EVENT_COLUMNS = "event_id, seq, message_id, ref_message_id, envelope_id, ts, body"
_EVENT_PARAMS = _EVENT_COLUMNS.count(",") + 1


class SQLiteStore:
    """A :class:`~mdnkit.store.Store` in the SQLite file at *path*.

    The file is created (mode 0600) when missing and its schema migrated
    to the current version.  A file that is not an mdnkit store (another
    application's database, a text file, a corrupt file, a newer schema)
    raises :class:`~mdnkit.StoreError` and is left untouched.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 30.0,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        migrations: Sequence[Sequence[str]] = MIGRATIONS,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise StoreError(f"synchronous must be 'NORMAL' or 'FULL', not {synchronous!r}")
        self.path = os.fspath(path)
        self._timeout = timeout
        self._synchronous = synchronous
        self._migrations = tuple(tuple(m) for m in migrations)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._closed = False
        # Journal mode and synchronous are set only once the file is known
        # to be ours: switching a foreign database to WAL would modify it.
        self._checked = False
        _create_private(self.path)
        conn = self._conn()
        try:
            self._max_params = _max_params(conn)
            _check_ours(conn, self.path, len(self._migrations))
            self._checked = True
            self._tune(conn)
            _migrate(conn, self.path, self._migrations)
        except BaseException:
            self.close()
            raise

    # -- connections ------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise StoreError("the store is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            return conn
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves.
            conn = sqlite3.connect(
                self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}") from exc
        self._local.conn = conn
        self._local.depth = 0
        with self._all_lock:
            self._all.append(conn)
        if self._checked:
            self._tune(conn)
        return conn

    def _tune(self, conn: sqlite3.Connection) -> None:
        try:
            _retry(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute(f"PRAGMA synchronous = {self._synchronous}")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot configure {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn()
        if self._local.depth:
            self._local.depth += 1
            try:
                yield
            finally:
                self._local.depth -= 1
            return
        try:
            _retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to {self.path}: {exc}") from exc
        self._local.depth = 1
        try:
            yield
        except BaseException:
            self._local.depth = 0
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        self._local.depth = 0
        try:
            _retry(lambda: conn.execute("COMMIT"))
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise StoreError(f"cannot commit to {self.path}: {exc}") from exc

    def _run(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        try:
            return _Cursor(self._conn().execute(sql, params), self.path)
        except _DB_ERRORS as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def _write(self, sql: str, params: Sequence[Any] = ()) -> _Cursor:
        with self.transaction():
            return self._run(sql, params)

    # -- sent messages ----------------------------------------------------

    def add_sent(self, sent: SentMessage) -> bool:
        cursor = self._write(
            "INSERT OR IGNORE INTO sent"
            " (message_id, envelope_id, sent_at, sent_at_iso, subject, recipients)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                sent.message_id,
                sent.envelope_id,
                utc_key(sent.sent_at),
                sent.sent_at.isoformat(),
                sent.subject,
                json.dumps(list(sent.recipients), ensure_ascii=False),
            ),
        )
        return cursor.rowcount == 1

    _SENT_COLUMNS = "message_id, envelope_id, sent_at_iso, subject, recipients"

    def get_sent(self, message_id: str) -> SentMessage | None:
        row = self._run(
            f"SELECT {self._SENT_COLUMNS} FROM sent WHERE message_id = ?", (message_id,)
        ).fetchone()
        return _sent(row) if row else None

    def sent_by_envelope(self, envelope_id: str) -> SentMessage | None:
        row = self._run(
            f"SELECT {self._SENT_COLUMNS} FROM sent WHERE envelope_id = ? ORDER BY rowid LIMIT 1",
            (envelope_id,),
        ).fetchone()
        return _sent(row) if row else None

    def sent_messages(self) -> Iterator[SentMessage]:
        last: tuple[str, int] = ("", -1)
        while True:
            rows = self._run(
                f"SELECT {self._SENT_COLUMNS}, sent_at, rowid FROM sent"
                " WHERE (sent_at, rowid) > (?, ?) ORDER BY sent_at, rowid LIMIT ?",
                (*last, _PAGE),
            ).fetchall()
            for row in rows:
                yield _sent(row[:5])
            if len(rows) < _PAGE:
                return
            last = (rows[-1][5], rows[-1][6])

    # -- events -----------------------------------------------------------

    def add_event(self, event: Event) -> int | None:
        with self.transaction():
            seq = self._next_seq()
            cursor = self._run(
                "INSERT OR IGNORE INTO events"
                " (event_id, seq, message_id, ref_message_id, envelope_id, ts, body)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                _insert_params(seq, event),
            )
            return seq if cursor.rowcount == 1 else None

    def add_events(self, events: Sequence[Event]) -> list[int | None]:
        """Keep many events in one transaction, one multi-row INSERT per few hundred.

        Each row is given the next sequence number up front; ``INSERT OR
        IGNORE`` skips the ids already kept (and repeats within the batch).
        When a statement inserted fewer rows than it had, the numbers that
        made it in say which were new; the others are left unused (the
        contract asks for growing numbers, not consecutive ones).
        """
        out: list[int | None] = [None] * len(events)
        if not events:
            return out
        per_insert = max(1, min(_ROWS_PER_INSERT, self._max_params // _EVENT_PARAMS))
        row_marks = f"({','.join('?' * _EVENT_PARAMS)})"
        with self.transaction():
            first = self._next_seq()
            for start in range(0, len(events), per_insert):
                chunk = events[start : start + per_insert]
                params: list[Any] = []
                for offset, event in enumerate(chunk):
                    params.extend(_insert_params(first + start + offset, event))
                cursor = self._run(
                    f"INSERT OR IGNORE INTO events ({_EVENT_COLUMNS})"
                    f" VALUES {','.join([row_marks] * len(chunk))}",
                    params,
                )
                low, high = first + start, first + start + len(chunk) - 1
                if cursor.rowcount == len(chunk):
                    out[start : start + len(chunk)] = range(low, high + 1)
                    continue
                rows = self._run(
                    "SELECT seq FROM events WHERE seq BETWEEN ? AND ?", (low, high)
                ).fetchall()
                for (seq,) in rows:
                    out[int(seq) - first] = int(seq)
        return out

    def replace_event(self, event: Event) -> int:
        with self.transaction():
            seq = self._next_seq()
            cursor = self._run(
                "UPDATE events SET seq = ?, message_id = ?, ref_message_id = ?, envelope_id = ?,"
                " ts = ?, body = ? WHERE event_id = ?",
                (seq, *_event_row(event), event.event_id),
            )
            if cursor.rowcount != 1:
                raise StoreError(f"no event {event.event_id} to replace")
            return seq

    def _next_seq(self) -> int:
        # Inside BEGIN IMMEDIATE no other writer can take the same number.
        row = self._run("SELECT coalesce(max(seq), 0) + 1 FROM events").fetchone()
        return int(row[0])

    def get_event(self, event_id: str) -> Event | None:
        row = self._run("SELECT body FROM events WHERE event_id = ?", (event_id,)).fetchone()
        return event_from_json(row[0]) if row else None

    def events(
        self, *, message_id: str | None = None, since: int | datetime | None = None
    ) -> Iterator[tuple[int, Event]]:
        check_since(since)
        where = []
        params: list[Any] = []
        if message_id is not None:
            where.append("message_id = ?")
            params.append(message_id)
        if isinstance(since, datetime):
            where.append("ts >= ?")
            params.append(utc_key(since))
        cursor = since if isinstance(since, int) else 0
        return self._page(where, params, cursor)

    def unmatched(
        self, *, ref_message_id: str | None = None, envelope_id: str | None = None
    ) -> Iterator[tuple[int, Event]]:
        where = ["message_id IS NULL"]
        params: list[Any] = []
        if ref_message_id is not None:
            where.append("ref_message_id = ?")
            params.append(ref_message_id)
        if envelope_id is not None:
            where.append("envelope_id = ?")
            params.append(envelope_id)
        return self._page(where, params, 0)

    def _page(self, where: list[str], params: list[Any], after: int) -> Iterator[tuple[int, Event]]:
        # Keyset pagination on seq: each page is a short read, so a long
        # iteration never pins an old snapshot of the WAL.
        sql = "SELECT seq, body FROM events WHERE " + " AND ".join([*where, "seq > ?"])
        sql += " ORDER BY seq LIMIT ?"
        while True:
            rows = self._run(sql, (*params, after, _PAGE)).fetchall()
            for seq, body in rows:
                yield int(seq), event_from_json(body)
            if len(rows) < _PAGE:
                return
            after = int(rows[-1][0])

    # -- pixel tokens -----------------------------------------------------

    def put_token(self, token_id: str, message_id: str, recipient: str) -> None:
        self._write(
            "INSERT OR IGNORE INTO tokens (token_id, message_id, recipient) VALUES (?, ?, ?)",
            (token_id, message_id, recipient),
        )

    def get_token(self, token_id: str) -> tuple[str, str] | None:
        row = self._run(
            "SELECT message_id, recipient FROM tokens WHERE token_id = ?", (token_id,)
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else None

    def get_tokens(self, token_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        found: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(list(dict.fromkeys(token_ids)), self._max_params):
            marks = ",".join("?" * len(chunk))
            rows = self._run(
                f"SELECT token_id, message_id, recipient FROM tokens WHERE token_id IN ({marks})",
                chunk,
            ).fetchall()
            for token_id, message_id, recipient in rows:
                found[str(token_id)] = (str(message_id), str(recipient))
        return found

    # -- life cycle -------------------------------------------------------

    def close(self) -> None:
        """Close every connection this store opened (on any thread)."""
        self._closed = True
        with self._all_lock:
            connections, self._all = self._all, []
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def __repr__(self) -> str:
        return f"SQLiteStore({self.path!r})"


class _Cursor:
    """A cursor whose reads raise StoreError too.

    SQLite reads pages lazily: a corrupt page or a column that is not
    UTF-8 fails in ``fetchall()``, after ``execute()`` returned.
    """

    __slots__ = ("_cursor", "_path")

    def __init__(self, cursor: sqlite3.Cursor, path: str) -> None:
        self._cursor = cursor
        self._path = path

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def fetchone(self) -> Any:
        try:
            return self._cursor.fetchone()
        except _DB_ERRORS as exc:
            raise StoreError(f"{self._path}: {exc}") from exc

    def fetchall(self) -> list[Any]:
        try:
            return self._cursor.fetchall()
        except _DB_ERRORS as exc:
            raise StoreError(f"{self._path}: {exc}") from exc


def _insert_params(seq: int, event: Event) -> tuple[Any, ...]:
    return (event.event_id, seq, *_event_row(event))


def _event_row(event: Event) -> tuple[Any, ...]:
    """message_id, ref_message_id, envelope_id, ts, body -- in that order."""
    return (
        event.message_id,
        event.detail.get("ref_message_id"),
        event.detail.get("envelope_id"),
        utc_key(event.timestamp),
        event_to_json(event),
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _max_params(conn: sqlite3.Connection) -> int:
    """How many ``?`` one statement may hold (999 before SQLite 3.32, 32766 since)."""
    try:
        return max(1, min(conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), 30_000))
    except (AttributeError, sqlite3.Error):  # pragma: no cover - older Python or SQLite
        return 999


def _sent(row: Sequence[Any]) -> SentMessage:
    try:
        recipients = json.loads(row[4])
        return SentMessage(
            message_id=str(row[0]),
            envelope_id=None if row[1] is None else str(row[1]),
            sent_at=datetime.fromisoformat(row[2]),
            subject=None if row[3] is None else str(row[3]),
            recipients=tuple(str(r) for r in recipients),
        )
    except (ValueError, TypeError) as exc:
        raise StoreError(f"a stored sent message cannot be read: {exc}") from exc


def _retry(action: Any) -> Any:
    """Run *action*, retrying while SQLite reports the database locked or busy.

    The busy timeout already waits inside SQLite; this covers the cases
    where SQLite returns SQLITE_BUSY at once (a WAL snapshot that cannot be
    upgraded, a concurrent WAL checkpoint or journal-mode change).
    """
    for attempt in range(_RETRIES):
        try:
            return action()
        except sqlite3.OperationalError as exc:
            text = str(exc).lower()
            if ("locked" not in text and "busy" not in text) or attempt == _RETRIES - 1:
                raise
            time.sleep(min(0.005 * 2**attempt, 0.2))
    raise AssertionError("unreachable")  # pragma: no cover


def _create_private(path: str) -> None:
    """Create an empty file readable by its owner only, unless it exists."""
    if path == ":memory:" or path.startswith("file:"):
        return
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        # SQLite reads a one-byte file as an empty database and would
        # write a store over it; anything shorter than the 100-byte
        # SQLite header is not a database (an empty file is a new store).
        with contextlib.suppress(OSError):
            if 0 < os.path.getsize(path) < 100:
                raise StoreError(
                    f"{path} is not an mdnkit store (not an SQLite database, or corrupt):"
                    " shorter than an SQLite header"
                ) from None
        return
    except OSError as exc:
        raise StoreError(f"cannot create {path}: {exc.strerror or exc}") from exc
    os.close(fd)


def _check_ours(conn: sqlite3.Connection, path: str, latest: int) -> None:
    """Refuse, without writing to it, a file that is not an mdnkit store we can read."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except _DB_ERRORS as exc:
        raise StoreError(
            f"{path} is not an mdnkit store (not an SQLite database, or corrupt): {exc}"
        ) from exc
    if app_id == APPLICATION_ID:
        if version > latest:
            raise StoreError(
                f"{path} has store schema version {version}; this mdnkit reads up to {latest}:"
                " upgrade mdnkit"
            )
        return
    if app_id != 0 or tables:
        raise StoreError(f"{path} is an SQLite database of another application; refusing to use it")


def _migrate(conn: sqlite3.Connection, path: str, migrations: Sequence[Sequence[str]]) -> None:
    for target in range(1, len(migrations) + 1):
        try:
            _retry(lambda: conn.execute("BEGIN IMMEDIATE"))
        except sqlite3.Error as exc:
            raise StoreError(f"cannot migrate {path}: {exc}") from exc
        try:
            # Another process may have migrated while we waited for the lock.
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version < target:
                for statement in migrations[target - 1]:
                    conn.execute(statement)
                if target == 1:
                    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {target}")
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise StoreError(
                f"cannot migrate {path} to schema version {target}: {exc};"
                f" the file is left at version {target - 1}"
            ) from exc
