"""Recording pixel hits off the request path, many per transaction.

A committed transaction per hit caps the endpoint at the store's commit
rate (a few hundred to a few thousand a second with SQLite on a disk).  In
background mode the request only puts the event on a bounded queue; one
thread takes what has gathered and keeps it in a single store transaction
(the Store contract: nested transactions join the outer one).

The price, documented for users: hits still in the queue when the process
dies are lost (at most ``max_queue``).  When the queue is full the request
waits for room (up to ``max_wait`` seconds: back-pressure slows answers
before anything is lost), then the hit is dropped with a warning rather
than let memory grow.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..events import Event
    from . import TrackerLike

__all__ = ["BackgroundWriter"]

log = logging.getLogger("mdnkit.pixel")

_STOP = object()


class BackgroundWriter:
    """A daemon thread that keeps queued events, up to *max_batch* per transaction."""

    def __init__(
        self,
        tracker: TrackerLike,
        *,
        max_queue: int = 10_000,
        max_batch: int = 500,
        max_wait: float = 1.0,
    ) -> None:
        self._tracker = tracker
        self._max_batch = max_batch
        self._max_wait = max_wait
        self._dropped = 0
        self._dropped_lock = threading.Lock()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="mdnkit-pixel-writer", daemon=True)
        self._thread.start()

    def put(self, event: Event) -> bool:
        """Queue *event*; False (and a warning) when the queue is full or closed."""
        if self._closed:
            log.warning("pixel writer closed: hit %s not recorded", event.event_id)
            return False
        try:
            self._queue.put(event, timeout=self._max_wait)
        except queue.Full:
            with self._dropped_lock:
                self._dropped += 1
                dropped = self._dropped
            # Once, then every thousandth: an overload must not also flood the log.
            if dropped == 1 or dropped % 1000 == 0:
                log.warning(
                    "pixel writer overloaded: %d hits not recorded so far (latest %s)",
                    dropped,
                    event.event_id,
                )
            return False
        return True

    @property
    def dropped(self) -> int:
        """How many hits were dropped because the queue stayed full."""
        return self._dropped

    def flush(self) -> None:
        """Wait until every event queued so far is kept (or has failed and been logged)."""
        self._queue.join()

    def close(self) -> None:
        """Keep what is queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            batch: list[Event] = []
            stop = first is _STOP
            if not stop:
                batch.append(first)  # type: ignore[arg-type]
            while not stop and len(batch) < self._max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                else:
                    batch.append(item)  # type: ignore[arg-type]
            try:
                if batch:
                    self._keep(batch)
            finally:
                for _ in range(len(batch) + (1 if stop else 0)):
                    self._queue.task_done()
            if stop:
                return

    def _keep(self, batch: list[Event]) -> None:
        try:
            with self._tracker.store.transaction():
                for event in batch:
                    self._tracker.add(event)
            return
        except Exception:
            log.exception("a batch of %d pixel hits failed; keeping them one by one", len(batch))
        for event in batch:
            try:
                self._tracker.add(event)
            except Exception:
                log.exception("pixel hit %s not recorded", event.event_id)
