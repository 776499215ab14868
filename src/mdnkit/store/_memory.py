"""A store in memory: for tests, examples and programs that need no history."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime

from ..errors import StoreError
from ..events import Event
from ._records import SentMessage, check_since

__all__ = ["MemoryStore"]


class MemoryStore:
    """Everything in dictionaries, guarded by one re-entrant lock.

    A transaction holds the lock and keeps an undo list, so an exception
    inside it leaves the store as it was.  Iterators return a snapshot
    taken when they start, so a caller may add events while iterating.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._sent: dict[str, SentMessage] = {}
        self._events: dict[str, tuple[int, Event]] = {}  # event_id -> (seq, event)
        self._tokens: dict[str, tuple[str, str]] = {}
        self._seq = 0
        self._closed = False
        self._undo: list[Callable[[], object]] | None = None  # set inside a transaction

    def _check(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._lock:
            self._check()
            if self._undo is not None:  # nested: the outer transaction decides
                yield
                return
            self._undo = []
            try:
                yield
            except BaseException:
                for action in reversed(self._undo):
                    action()
                raise
            finally:
                self._undo = None

    def _on_rollback(self, action: Callable[[], object]) -> None:
        if self._undo is not None:
            self._undo.append(action)

    def add_sent(self, sent: SentMessage) -> bool:
        with self._lock:
            self._check()
            if sent.message_id in self._sent:
                return False
            self._sent[sent.message_id] = sent
            self._on_rollback(lambda: self._sent.pop(sent.message_id))
            return True

    def get_sent(self, message_id: str) -> SentMessage | None:
        with self._lock:
            self._check()
            return self._sent.get(message_id)

    def sent_by_envelope(self, envelope_id: str) -> SentMessage | None:
        with self._lock:
            self._check()
            for sent in self._sent.values():
                if sent.envelope_id == envelope_id:
                    return sent
            return None

    def sent_messages(self) -> Iterator[SentMessage]:
        with self._lock:
            self._check()
            # Insertion order breaks ties, as the SQLite store's rowid does.
            snapshot = sorted(self._sent.values(), key=lambda s: s.sent_at)
        return iter(snapshot)

    def add_event(self, event: Event) -> int | None:
        with self._lock:
            self._check()
            if event.event_id in self._events:
                return None
            self._seq += 1
            self._events[event.event_id] = (self._seq, event)
            self._on_rollback(lambda: self._events.pop(event.event_id))
            return self._seq

    def add_events(self, events: Sequence[Event]) -> list[int | None]:
        with self.transaction():
            return [self.add_event(event) for event in events]

    def replace_event(self, event: Event) -> int:
        with self._lock:
            self._check()
            if event.event_id not in self._events:
                raise StoreError(f"no event {event.event_id} to replace")
            self._seq += 1
            old = self._events[event.event_id]
            self._events[event.event_id] = (self._seq, event)
            self._on_rollback(lambda: self._events.__setitem__(event.event_id, old))
            return self._seq

    def get_event(self, event_id: str) -> Event | None:
        with self._lock:
            self._check()
            found = self._events.get(event_id)
            return found[1] if found else None

    def events(
        self, *, message_id: str | None = None, since: int | datetime | None = None
    ) -> Iterator[tuple[int, Event]]:
        check_since(since)
        with self._lock:
            self._check()
            snapshot = sorted(self._events.values(), key=_seq_of)
        out = []
        for seq, event in snapshot:
            if message_id is not None and event.message_id != message_id:
                continue
            if isinstance(since, int) and seq <= since:
                continue
            if isinstance(since, datetime) and event.timestamp < since:
                continue
            out.append((seq, event))
        return iter(out)

    def unmatched(
        self, *, ref_message_id: str | None = None, envelope_id: str | None = None
    ) -> Iterator[tuple[int, Event]]:
        with self._lock:
            self._check()
            snapshot = sorted(self._events.values(), key=_seq_of)
        out = []
        for seq, event in snapshot:
            if event.message_id is not None:
                continue
            if ref_message_id is not None and event.detail.get("ref_message_id") != ref_message_id:
                continue
            if envelope_id is not None and event.detail.get("envelope_id") != envelope_id:
                continue
            out.append((seq, event))
        return iter(out)

    def put_token(self, token_id: str, message_id: str, recipient: str) -> None:
        with self._lock:
            self._check()
            if token_id not in self._tokens:
                self._tokens[token_id] = (message_id, recipient)
                self._on_rollback(lambda: self._tokens.pop(token_id))

    def get_token(self, token_id: str) -> tuple[str, str] | None:
        with self._lock:
            self._check()
            return self._tokens.get(token_id)

    def get_tokens(self, token_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        with self._lock:
            self._check()
            return {t: self._tokens[t] for t in token_ids if t in self._tokens}

    def close(self) -> None:
        with self._lock:
            self._closed = True

    def __repr__(self) -> str:
        return f"MemoryStore(sent={len(self._sent)}, events={len(self._events)})"


def _seq_of(item: tuple[int, Event]) -> int:
    return item[0]
