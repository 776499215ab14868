"""What the tracker needs from a store: a :class:`typing.Protocol`.

Two implementations ship (:class:`~mdnkit.store.MemoryStore` for tests and
short-lived programs, :class:`~mdnkit.store.SQLiteStore` for everything
else); any other class with these methods works too, and the conformance
suite in :mod:`mdnkit.store.contract` checks one.

The rules every store keeps:

- An event is identified by ``event_id``: :meth:`Store.add_event` stores it
  once and says whether it was new, so the same receipt read twice adds
  nothing.
- Every stored or replaced event gets a sequence number greater than any
  before it in that store; ``events(since=<int>)`` returns the events whose
  number is greater, so a reader can follow the store with a cursor.
- An event whose ``message_id`` is None is *unmatched*; its
  ``detail["ref_message_id"]`` and ``detail["envelope_id"]`` say what it
  refers to, and :meth:`Store.unmatched` finds it by either.
- :meth:`Store.transaction` makes the calls inside it one atomic unit,
  against other threads and, for a shared store, other processes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

from ..events import Event
from ._records import SentMessage

__all__ = ["BatchStore", "Store"]


@runtime_checkable
class Store(Protocol):
    """Where a :class:`~mdnkit.Tracker` keeps sent messages, events and pixel tokens."""

    def transaction(self) -> AbstractContextManager[None]:
        """Run the calls in the ``with`` block as one unit; nested blocks join the outer one."""
        ...

    def add_sent(self, sent: SentMessage) -> bool:
        """Keep *sent*; False (and nothing changed) when its Message-ID is already kept."""
        ...

    def get_sent(self, message_id: str) -> SentMessage | None: ...

    def sent_by_envelope(self, envelope_id: str) -> SentMessage | None:
        """The first message kept with this envelope id, or None."""
        ...

    def sent_messages(self) -> Iterator[SentMessage]:
        """Every kept message, oldest ``sent_at`` first."""
        ...

    def add_event(self, event: Event) -> int | None:
        """Keep *event* and return its sequence number; None when its id is already kept."""
        ...

    def replace_event(self, event: Event) -> int:
        """Replace the kept event with the same id (to tie it); it gets a new sequence number.

        Raises :class:`~mdnkit.StoreError` when no event has that id.
        """
        ...

    def get_event(self, event_id: str) -> Event | None: ...

    def events(
        self, *, message_id: str | None = None, since: int | datetime | None = None
    ) -> Iterator[tuple[int, Event]]:
        """``(sequence, event)`` pairs in sequence order.

        *message_id* keeps the events tied to that message.  *since* is
        either a sequence number (events stored or replaced after it) or an
        aware datetime (events whose timestamp is at or after it).
        """
        ...

    def unmatched(
        self, *, ref_message_id: str | None = None, envelope_id: str | None = None
    ) -> Iterator[tuple[int, Event]]:
        """Unmatched events, all of them or those referring to one id, in sequence order."""
        ...

    def put_token(self, token_id: str, message_id: str, recipient: str) -> None:
        """Remember what a pixel token stands for (the first value kept wins)."""
        ...

    def get_token(self, token_id: str) -> tuple[str, str] | None: ...

    def close(self) -> None: ...


@runtime_checkable
class BatchStore(Store, Protocol):
    """A :class:`Store` that also keeps and looks up many items per call.

    Optional: the tracker uses these methods when a store has them (both
    shipped stores do) and falls back to one call per item otherwise.  A
    batch is what makes the pixel's background writer fast: one statement
    for a few hundred events instead of one each.
    """

    def add_events(self, events: Sequence[Event]) -> list[int | None]:
        """:meth:`Store.add_event` for each of *events*, in order, as one transaction.

        Returns what ``add_event`` would have returned for each, in the
        same order: an event whose id is already kept, or repeats an
        earlier one of the batch, gets None.
        """
        ...

    def get_tokens(self, token_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """:meth:`Store.get_token` for each of *token_ids*: the registered ones only."""
        ...
