"""Stores for the tracker: a Protocol and two implementations.

- :class:`Store` -- the :class:`typing.Protocol` a store follows
  (:class:`BatchStore` adds the optional batch methods).
- :class:`MemoryStore` -- in memory, for tests and short-lived programs.
- :class:`SQLiteStore` -- one SQLite file (standard library :mod:`sqlite3`),
  safe for several threads and processes, durable once a call returns.
"""

from __future__ import annotations

from ._memory import MemoryStore
from ._protocol import BatchStore, Store
from ._records import SentMessage
from ._sqlite import SQLiteStore

__all__ = ["BatchStore", "MemoryStore", "SQLiteStore", "SentMessage", "Store"]
