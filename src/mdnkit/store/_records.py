"""The values a store keeps, and how an event travels to and from text.

:class:`SentMessage` is what the tracker remembers about a message it was
told about; events are :class:`mdnkit.events.Event` values, kept as JSON
so that a store needs no column per detail key and a newer mdnkit can add
keys without a schema change.
"""

from __future__ import annotations

import dataclasses
import json
import json.encoder
from collections.abc import Callable
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
    """A sortable text form of an aware datetime (UTC, fixed width).

    ``2026-11-27T12:00:00.000000Z``: what ``strftime("%Y-%m-%dT%H:%M:%S.%fZ")``
    gives, at a fraction of its cost, and with the year always four digits
    (glibc's ``%Y`` drops the zeros before year 1000, which would not sort).
    """
    return when.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


# One encoder for every event: json.dumps with options builds a new one per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
# json's own string encoder (in C): the quoted, escaped form of one string.
_quote: Callable[[str], str] = json.encoder.encode_basestring
_LITERAL = {True: "true", False: "false", None: "null"}


def event_to_json(event: Event) -> str:
    """The event as compact JSON with sorted keys, exactly as ``_ENCODER`` writes it.

    Written out by hand for the events the tracker makes (string details):
    a store writes one per event, and the generic encoder walking
    ``to_dict()`` was the largest cost of keeping a pixel hit.
    """
    try:
        return _event_json(event)
    except (TypeError, KeyError):  # a value of another type than the model says
        return _ENCODER.encode(event.to_dict())


def _event_json(event: Event) -> str:
    # _quote raises TypeError for anything but a string (and so does sorting
    # keys of mixed types): the generic encoder then takes over.
    items = ",".join([f"{_quote(k)}:{_quote(v)}" for k, v in sorted(event.detail.items())])
    message_id, recipient = event.message_id, event.recipient
    return (
        f'{{"automatic":{_LITERAL[event.automatic]}'
        f',"correlated_by":{_quote(event.correlated_by)}'
        f',"detail":{{{items}}}'
        f',"event_id":{_quote(event.event_id)}'
        f',"message_id":{"null" if message_id is None else _quote(message_id)}'
        f',"recipient":{"null" if recipient is None else _quote(recipient)}'
        f',"source":{_quote(str(event.source))}'
        f',"timestamp":{_quote(event.timestamp.isoformat())}'
        f',"type":{_quote(str(event.type))}}}'
    )


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
