"""One event shape for every source of evidence: MDNs, DSNs and the pixel.

A report becomes one :class:`Event` per recipient it speaks of.  The event
says what happened (``type``), where the evidence came from (``source``),
how it was tied to a sent message (``correlated_by``) and whether a machine
rather than a person acted (``automatic``): receipts are evidence, not
proof (RFC 8098 §6.3), and the event never claims more than its source.

``event_id`` is derived from the content of the report, not from when or
how it was read, so ingesting the same receipt twice yields the same id.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from collections.abc import Mapping
from datetime import datetime

from . import _address
from .errors import RequestError
from .model import DSN, MDN, DispositionType, DSNAction, DSNRecipient, Report

__all__ = ["Event", "EventType", "Source", "events_from_report"]


class EventType(enum.StrEnum):
    """What happened to a message for one recipient."""

    # Delivery (RFC 3464 §2.3.3 actions)
    DELIVERED = "delivered"
    DELAYED = "delayed"
    FAILED = "failed"
    RELAYED = "relayed"  # handed to a system that reports no further
    EXPANDED = "expanded"  # delivered to a list or alias
    # Disposition (RFC 8098 §3.2.6.2 types)
    DISPLAYED = "displayed"
    DELETED = "deleted"
    DISPATCHED = "dispatched"
    PROCESSED = "processed"
    DENIED = "denied"  # obsolete RFC 2298 disposition, still seen
    # Open tracking
    OPENED = "opened"
    # A report whose outcome could not be read; kept so nothing is lost.
    UNKNOWN = "unknown"

    @property
    def is_delivery(self) -> bool:
        return self in _DELIVERY

    @property
    def is_read(self) -> bool:
        """Types that say a person (or their client) had the message in front of them."""
        return self in (EventType.DISPLAYED, EventType.OPENED)


_DELIVERY = frozenset(
    {
        EventType.DELIVERED,
        EventType.DELAYED,
        EventType.FAILED,
        EventType.RELAYED,
        EventType.EXPANDED,
    }
)


class Source(enum.StrEnum):
    MDN = "mdn"  # a read receipt (RFC 8098)
    DSN = "dsn"  # a delivery status notification (RFC 3464)
    PIXEL = "pixel"  # an image fetch (mdnkit.pixel)


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """One piece of evidence about one message and one recipient.

    ``message_id`` is None while the event is not tied to a sent message
    (an unmatched receipt); ``recipient`` is None when the report names no
    usable address.  ``automatic`` is the MDN sending mode (True: sent
    without asking the user), or for the pixel whether a machine fetched
    the image; None when the source says nothing about it.
    """

    event_id: str
    type: EventType
    source: Source
    message_id: str | None
    recipient: str | None
    timestamp: datetime
    automatic: bool | None
    correlated_by: str
    detail: Mapping[str, str] = dataclasses.field(default_factory=dict, hash=False)

    def to_dict(self) -> dict[str, object]:
        return {
            "event_id": self.event_id,
            "type": str(self.type),
            "source": str(self.source),
            "message_id": self.message_id,
            "recipient": self.recipient,
            "timestamp": self.timestamp.isoformat(),
            "automatic": self.automatic,
            "correlated_by": self.correlated_by,
            "detail": dict(self.detail),
        }


def make_event_id(*parts: object) -> str:
    """A stable id from the identifying values of a piece of evidence."""
    digest = hashlib.sha256("\x1f".join("" if p is None else str(p) for p in parts).encode())
    return digest.hexdigest()[:32]


def events_from_report(report: Report, *, received_at: datetime | None = None) -> tuple[Event, ...]:
    """The events *report* stands for: one per recipient it names.

    The timestamp is the report's own date (for a DSN recipient, its
    Last-Attempt-Date first), else *received_at*.  Raises
    :class:`~mdnkit.RequestError` when neither is known, or when
    *received_at* is naive.
    """
    if received_at is not None and received_at.tzinfo is None:
        raise RequestError("received_at must be timezone-aware")
    if isinstance(report, MDN):
        return (_mdn_event(report, received_at),)
    if isinstance(report, DSN):
        return _dsn_events(report, received_at)
    raise RequestError(f"not a report: {type(report).__name__}")


def _when(*candidates: datetime | None) -> datetime:
    for candidate in candidates:
        if candidate is not None:
            return candidate
    raise RequestError("the report has no date: pass received_at")


def _reference(report: Report) -> tuple[str | None, str]:
    ref = report.message_ref
    if ref is None:
        return None, "none"
    return ref.message_id, str(ref.by)


def _recipient(field_address: str | None, field_type: str | None) -> str | None:
    if field_address is None:
        return None
    if field_type in (None, "rfc822", "utf-8", "unknown"):
        return _address.normalize(field_address) or field_address
    return field_address


def _mdn_event(report: MDN, received_at: datetime | None) -> Event:
    message_id, correlated_by = _reference(report)
    field = report.final_recipient or report.original_recipient
    recipient = _recipient(field.address, field.type) if field else None
    if recipient is None:
        # RFC 8098 §3: the From of an MDN is the recipient it speaks for.
        recipient = _address.normalize(report.sender)
    detail: dict[str, str] = {}
    disposition = report.disposition
    automatic: bool | None = None
    if disposition is None:
        kind = EventType.UNKNOWN
    else:
        detail["disposition"] = str(disposition)
        detail["action_mode"] = str(disposition.action_mode)
        detail["sending_mode"] = str(disposition.sending_mode)
        automatic = disposition.automatic
        if isinstance(disposition.type, DispositionType):
            kind = _MDN_TYPES[disposition.type]
        else:
            kind = EventType.UNKNOWN
            detail["value"] = disposition.type
    if report.reporting_ua:
        detail["reporting_ua"] = report.reporting_ua
    if report.errors:
        detail["error"] = "; ".join(report.errors)
    if report.message_id:
        detail["report_message_id"] = report.message_id
    event_id = make_event_id(
        "mdn",
        report.message_id,
        report.original_message_id,
        report.final_recipient,
        report.original_recipient,
        disposition,
        report.reporting_ua,
        report.date.isoformat() if report.date else None,
        message_id,
    )
    return Event(
        event_id=event_id,
        type=kind,
        source=Source.MDN,
        message_id=message_id,
        recipient=recipient,
        timestamp=_when(report.date, received_at),
        automatic=automatic,
        correlated_by=correlated_by,
        detail=detail,
    )


_MDN_TYPES: dict[DispositionType, EventType] = {
    DispositionType.DISPLAYED: EventType.DISPLAYED,
    DispositionType.DELETED: EventType.DELETED,
    DispositionType.DISPATCHED: EventType.DISPATCHED,
    DispositionType.PROCESSED: EventType.PROCESSED,
    DispositionType.DENIED: EventType.DENIED,
    # AS2 (RFC 4130 §7.4.3): the receiving system could not process it.
    DispositionType.FAILED: EventType.FAILED,
}

# An action we do not know is judged by the status class, and says so.
_BY_STATUS_CLASS = {2: EventType.DELIVERED, 4: EventType.DELAYED, 5: EventType.FAILED}


def _dsn_events(report: DSN, received_at: datetime | None) -> tuple[Event, ...]:
    message_id, correlated_by = _reference(report)
    recipients = report.recipients or (DSNRecipient(),)
    events = []
    for index, rcpt in enumerate(recipients):
        kind, detail = _dsn_kind(rcpt)
        field = rcpt.final_recipient or rcpt.original_recipient
        if report.reporting_mta:
            detail["reporting_mta"] = report.reporting_mta.address
        if report.original_envelope_id:
            detail["envelope_id"] = report.original_envelope_id
        if report.message_id:
            detail["report_message_id"] = report.message_id
        event_id = make_event_id(
            "dsn",
            report.message_id,
            report.original_envelope_id,
            report.reporting_mta,
            index,
            rcpt.final_recipient,
            rcpt.original_recipient,
            rcpt.action,
            rcpt.status,
            rcpt.last_attempt_date.isoformat() if rcpt.last_attempt_date else None,
            report.date.isoformat() if report.date else None,
            message_id,
        )
        events.append(
            Event(
                event_id=event_id,
                type=kind,
                source=Source.DSN,
                message_id=message_id,
                recipient=_recipient(field.address, field.type) if field else None,
                timestamp=_when(
                    rcpt.last_attempt_date, report.date, report.arrival_date, received_at
                ),
                automatic=None,
                correlated_by=correlated_by,
                detail=detail,
            )
        )
    return tuple(events)


def _dsn_kind(rcpt: DSNRecipient) -> tuple[EventType, dict[str, str]]:
    detail: dict[str, str] = {}
    if rcpt.status is not None:
        detail["status"] = rcpt.status.code
        meaning = rcpt.status.meaning
        if meaning:
            detail["status_meaning"] = meaning
    if rcpt.diagnostic_code is not None:
        detail["diagnostic_type"] = rcpt.diagnostic_code.type
        detail["diagnostic"] = rcpt.diagnostic_code.text
    if rcpt.remote_mta is not None:
        detail["remote_mta"] = rcpt.remote_mta.address
    if rcpt.will_retry_until is not None:
        detail["will_retry_until"] = rcpt.will_retry_until.isoformat()
    if isinstance(rcpt.action, DSNAction):
        return EventType(rcpt.action.value), detail
    if rcpt.action is not None:
        detail["action"] = rcpt.action
    klass = rcpt.status.klass if rcpt.status is not None else None
    if klass in _BY_STATUS_CLASS:
        detail["inferred_from"] = "status"
        return _BY_STATUS_CLASS[klass], detail
    return EventType.UNKNOWN, detail
