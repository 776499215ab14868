"""Recording pixel hits off the request path: group commit on a thread of its own.

A committed transaction per hit caps the endpoint at the store's commit
rate (a few hundred to a few thousand a second with SQLite on a disk).  In
background mode the request only appends the hit to a queue and returns;
one thread takes what has gathered, turns it into events (token look-ups,
classification: see ``prepare``) and keeps it with one
:meth:`~mdnkit.Tracker.add_many` -- one transaction, a few statements.

Group commit: the writer keeps a batch when ``max_batch`` hits are waiting
or ``max_delay`` seconds after the first of them arrived, whichever comes
first, so a quiet endpoint still keeps every hit within ``max_delay`` (plus
the time of the write itself), and a busy one writes full batches.

The price, documented for users: hits not yet kept when the process dies
are lost -- those of the last ``max_delay`` seconds, at most ``max_queue``.
``close()`` keeps everything queued before it returns, and runs by itself
at a normal interpreter exit (:mod:`atexit`).  When the queue is
full the request waits for room (up to ``max_wait`` seconds: back-pressure
slows answers before anything is lost), then the hit is dropped with a
warning rather than let memory grow.

The queue is a :class:`collections.deque`: appending is atomic and takes
no lock, which matters on the request path of a threaded server.
"""

from __future__ import annotations

import atexit
import collections
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..events import Event
    from . import TrackerLike

__all__ = ["BackgroundWriter"]

log = logging.getLogger("mdnkit.pixel")

_IDLE = 1.0  # seconds: an idle writer looks at its queue this often all the same


class _Marker:
    """Put in the queue by flush() and close(): set once everything before it is kept."""

    __slots__ = ("done", "stop")

    def __init__(self, *, stop: bool) -> None:
        self.done = threading.Event()
        self.stop = stop


class BackgroundWriter:
    """A daemon thread that keeps queued hits, up to *max_batch* per transaction.

    *prepare* turns a list of queued items into the events to keep (the
    pixel app queues raw hits and resolves them here, off the request
    path); by default the items are events already.
    """

    def __init__(
        self,
        tracker: TrackerLike,
        *,
        max_queue: int = 10_000,
        max_batch: int = 500,
        max_wait: float = 1.0,
        max_delay: float = 0.05,
        prepare: Callable[[list[Any]], list[Event]] | None = None,
    ) -> None:
        self._tracker = tracker
        self._max_queue = max(1, max_queue)
        self._max_batch = max(1, max_batch)
        self._max_wait = max_wait
        self._max_delay = max_delay
        self._prepare = prepare
        self._dropped = 0
        self._dropped_lock = threading.Lock()
        self._items: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()  # something to do
        self._full = threading.Event()  # a batch is full, or someone waits: no delay
        self._room = threading.Condition()  # notified when the writer takes items
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="mdnkit-pixel-writer", daemon=True)
        self._thread.start()
        # The thread is a daemon (it must not keep a process alive), so a
        # normal interpreter exit closes the writer first: what is queued is kept.
        atexit.register(self.close)

    def put(self, item: Any) -> bool:
        """Queue a hit; False (and a warning) when the queue stays full or is closed."""
        if self._closed:
            log.warning("pixel writer closed: hit %s not recorded", _label(item))
            return False
        items = self._items
        if len(items) >= self._max_queue and not self._wait_for_room():
            self._drop(item)
            return False
        items.append(item)
        # Race-free without a lock: the writer clears _wake before it empties
        # the queue, so an item it will not see finds _wake clear and sets it.
        if not self._wake.is_set():
            self._wake.set()
        if len(items) >= self._max_batch and not self._full.is_set():
            self._full.set()  # once per batch: set() takes a lock the writer may hold
        return True

    def _wait_for_room(self) -> bool:
        self._full.set()  # no point delaying a batch while requests wait
        self._wake.set()
        with self._room:
            return self._room.wait_for(
                lambda: len(self._items) < self._max_queue, timeout=self._max_wait
            )

    def _drop(self, item: Any) -> None:
        with self._dropped_lock:
            self._dropped += 1
            dropped = self._dropped
        # Once, then every thousandth: an overload must not also flood the log.
        if dropped == 1 or dropped % 1000 == 0:
            log.warning(
                "pixel writer overloaded: %d hits not recorded so far (latest %s)",
                dropped,
                _label(item),
            )

    @property
    def dropped(self) -> int:
        """How many hits were dropped because the queue stayed full."""
        return self._dropped

    def flush(self) -> None:
        """Wait until every hit queued so far is kept (or has failed and been logged)."""
        if not self._thread.is_alive():
            return
        marker = _Marker(stop=False)
        self._signal(marker)
        # A writer that died (it should not: it catches every Exception)
        # will never set the marker: do not wait for it forever.
        while not marker.done.wait(timeout=_IDLE):
            if not self._thread.is_alive():
                return

    def close(self) -> None:
        """Keep what is queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self._signal(_Marker(stop=True))
        self._thread.join()

    def _signal(self, marker: _Marker) -> None:
        self._items.append(marker)
        self._full.set()
        self._wake.set()

    def _run(self) -> None:
        items = self._items
        while True:
            self._wake.wait(timeout=_IDLE)
            self._wake.clear()
            if not items:
                continue
            if len(items) < self._max_batch:
                # Group commit: let the batch grow for max_delay, unless it
                # fills up or a flush, a close or a waiting request is due.
                self._full.wait(timeout=self._max_delay)
            self._full.clear()
            stop = False
            while items:
                batch: list[Any] = []
                markers: list[_Marker] = []
                while items and len(batch) < self._max_batch:
                    item = items.popleft()
                    if isinstance(item, _Marker):
                        markers.append(item)
                        stop = stop or item.stop
                    else:
                        batch.append(item)
                with self._room:
                    self._room.notify_all()
                if batch:
                    self._keep(batch)
                for marker in markers:
                    marker.done.set()
            if stop:
                return

    def _keep(self, batch: list[Any]) -> None:
        try:
            self._add_many(self._events(batch))
            return
        except Exception:
            log.exception("a batch of %d pixel hits failed; keeping them one by one", len(batch))
        for item in batch:
            try:
                self._add_many(self._events([item]))
            except Exception:
                log.exception("pixel hit %s not recorded", _label(item))

    def _events(self, batch: list[Any]) -> list[Event]:
        return batch if self._prepare is None else self._prepare(batch)

    def _add_many(self, events: list[Event]) -> None:
        if not events:
            return
        add_many = getattr(self._tracker, "add_many", None)
        if add_many is not None:
            add_many(events)
            return
        # A tracker without the batch method: one transaction all the same.
        with self._tracker.store.transaction():
            for event in events:
                self._tracker.add(event)


def _label(item: Any) -> str:
    """How the log names a queued item: an event by its id, a raw hit by its token id."""
    event_id = getattr(item, "event_id", None)
    if isinstance(event_id, str):
        return event_id
    return f"for token {getattr(item, 'token_id', '?')}"
