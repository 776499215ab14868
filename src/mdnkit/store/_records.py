"""The values a store keeps, and how an event travels to and from text.

:class:`SentMessage` is what the tracker remembers about a message it was
told about; events are :class:`mdnkit.events.Event` values, kept as JSON
so that a store needs no column per detail key and a newer mdnkit can add
keys without a schema change.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

from ..errors import RequestError, StoreError
from ..events import Event, EventType, Source

__all__ = ["SentMessage", "check_since", "event_from_json", "event_to_json", "utc_key"]


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class SentMessage:
    """A message the tracker was told was sent.

    ``message_id`` is normalised (no angle brackets); ``recipients`` are
    normalised addr-specs (:func:`mdnkit._address.normalize`) in the order
    first seen; ``envelope_id`` is the RFC 3461 ``ENVID`` the message was
    sent with, if any, which is how a DSN without a Message-ID is tied.
    """

    message_id: str
    recipients: tuple[str, ...]
    sent_at: datetime
    envelope_id: str | None = None
    subject: str | None = None


def utc_key(when: datetime) -> str:
    """A sortable text form of an aware datetime (UTC, fixed width)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_to_json(event: Event) -> str:
    return json.dumps(event.to_dict(), ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def event_from_json(text: str) -> Event:
    """The inverse of :func:`event_to_json`; a value it did not write is a StoreError."""
    try:
        data = json.loads(text)
        detail = data["detail"]
        if not isinstance(detail, dict):
            raise TypeError("detail is not an object")
        automatic = data["automatic"]
        if automatic is not None and not isinstance(automatic, bool):
            raise TypeError("automatic is not a boolean")
        return Event(
            event_id=str(data["event_id"]),
            type=EventType(data["type"]),
            source=Source(data["source"]),
            message_id=None if data["message_id"] is None else str(data["message_id"]),
            recipient=None if data["recipient"] is None else str(data["recipient"]),
            timestamp=datetime.fromisoformat(data["timestamp"]),
            automatic=automatic,
            correlated_by=str(data["correlated_by"]),
            detail={str(k): str(v) for k, v in detail.items()},
        )
    except KeyError as exc:
        raise StoreError(f"a stored event cannot be read: missing field {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise StoreError(f"a stored event cannot be read: {exc}") from exc


def check_since(since: object) -> None:
    """*since* is an int cursor, an aware datetime or None; anything else is the caller's mistake."""
    if since is None:
        return
    if isinstance(since, bool) or not isinstance(since, int | datetime):
        raise RequestError(f"since must be an int sequence number or a datetime, not {since!r}")
    if isinstance(since, datetime) and since.tzinfo is None:
        raise RequestError("since must be a timezone-aware datetime")
