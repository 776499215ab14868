from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mdnkit.errors import RequestError
from mdnkit.events import Event, EventType, Source, events_from_report, make_event_id
from mdnkit.model import (
    DSN,
    MDN,
    ActionMode,
    AddressField,
    Diagnostic,
    Disposition,
    DispositionType,
    DSNAction,
    DSNRecipient,
    MessageRef,
    RefSource,
    SendingMode,
    StatusCode,
)

T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
REF = MessageRef("sent-1@example.org", RefSource.ORIGINAL_MESSAGE_ID)


def _disposition(
    kind: DispositionType | str, sending: SendingMode = SendingMode.MANUAL
) -> Disposition:
    return Disposition(action_mode=ActionMode.MANUAL, sending_mode=sending, type=kind)


def _mdn(**changes: object) -> MDN:
    values: dict[str, object] = {
        "message_ref": REF,
        "message_id": "mdn-1@example.net",
        "date": T0,
        "final_recipient": AddressField("rfc822", "Bob@Example.NET"),
        "original_message_id": "sent-1@example.org",
        "disposition": _disposition(DispositionType.DISPLAYED),
        "reporting_ua": "pc.example.net; Foomail 1.0",
    }
    values.update(changes)
    return MDN(**values)  # type: ignore[arg-type]


def test_mdn_gives_one_event_with_its_evidence() -> None:
    (event,) = _mdn().events()
    assert event == Event(
        event_id=event.event_id,
        type=EventType.DISPLAYED,
        source=Source.MDN,
        message_id="sent-1@example.org",
        recipient="Bob@example.net",
        timestamp=T0,
        automatic=False,
        correlated_by="original-message-id",
        detail={
            "disposition": "manual-action/MDN-sent-manually; displayed",
            "action_mode": "manual-action",
            "sending_mode": "MDN-sent-manually",
            "reporting_ua": "pc.example.net; Foomail 1.0",
            "report_message_id": "mdn-1@example.net",
        },
    )
    assert len(event.event_id) == 32


def test_event_id_is_stable_and_content_derived() -> None:
    first = _mdn().events()[0]
    again = _mdn().events(received_at=T0 + timedelta(days=3))[0]
    assert first.event_id == again.event_id
    other = _mdn(disposition=_disposition(DispositionType.DELETED)).events()[0]
    assert other.event_id != first.event_id


def test_automatic_sending_mode_is_reported() -> None:
    (event,) = _mdn(
        disposition=_disposition(DispositionType.DISPLAYED, SendingMode.AUTOMATIC)
    ).events()
    assert event.automatic is True


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (DispositionType.DELETED, EventType.DELETED),
        (DispositionType.DISPATCHED, EventType.DISPATCHED),
        (DispositionType.PROCESSED, EventType.PROCESSED),
        (DispositionType.DENIED, EventType.DENIED),
        (DispositionType.FAILED, EventType.FAILED),
        ("x-archived", EventType.UNKNOWN),
    ],
)
def test_mdn_disposition_types(kind: DispositionType | str, expected: EventType) -> None:
    (event,) = _mdn(disposition=_disposition(kind)).events()
    assert event.type is expected


def test_mdn_without_disposition_is_kept_as_unknown() -> None:
    (event,) = _mdn(disposition=None).events()
    assert event.type is EventType.UNKNOWN
    assert event.automatic is None


def test_mdn_recipient_falls_back_to_the_report_sender() -> None:
    (event,) = _mdn(final_recipient=None, sender="Carol <carol@Example.com>").events()
    assert event.recipient == "carol@example.com"


def test_unmatched_report_has_no_message_id() -> None:
    (event,) = _mdn(message_ref=None).events()
    assert event.message_id is None
    assert event.correlated_by == "none"


def test_timestamp_needs_a_date_or_received_at() -> None:
    with pytest.raises(RequestError, match="pass received_at"):
        _mdn(date=None).events()
    (event,) = _mdn(date=None).events(received_at=T0)
    assert event.timestamp == T0
    with pytest.raises(RequestError, match="timezone-aware"):
        _mdn().events(received_at=datetime(2026, 1, 1))


def _dsn(*recipients: DSNRecipient, **changes: object) -> DSN:
    values: dict[str, object] = {
        "message_ref": MessageRef(None, RefSource.ENVELOPE_ID, envelope_id="env-7"),
        "date": T0,
        "original_envelope_id": "env-7",
        "reporting_mta": AddressField("dns", "mx.example.net"),
        "recipients": recipients,
    }
    values.update(changes)
    return DSN(**values)  # type: ignore[arg-type]


def test_dsn_gives_one_event_per_recipient() -> None:
    failed = DSNRecipient(
        final_recipient=AddressField("rfc822", "a@example.net"),
        action=DSNAction.FAILED,
        status=StatusCode(code="5.1.1"),
        diagnostic_code=Diagnostic(type="smtp", text="550 5.1.1 unknown user"),
        last_attempt_date=T0 - timedelta(minutes=1),
    )
    delayed = DSNRecipient(
        final_recipient=AddressField("x400", "/S=b/O=x/"),
        action=DSNAction.DELAYED,
        status=StatusCode(code="4.4.7"),
    )
    first, second = _dsn(failed, delayed).events()
    assert (first.type, first.recipient, first.timestamp) == (
        EventType.FAILED,
        "a@example.net",
        T0 - timedelta(minutes=1),
    )
    assert first.source is Source.DSN
    assert first.automatic is None
    assert first.message_id is None
    assert first.correlated_by == "envelope-id"
    assert first.detail["status"] == "5.1.1"
    assert first.detail["diagnostic"] == "550 5.1.1 unknown user"
    assert first.detail["envelope_id"] == "env-7"
    assert (second.type, second.recipient, second.timestamp) == (EventType.DELAYED, "/S=b/O=x/", T0)
    assert first.event_id != second.event_id


@pytest.mark.parametrize(
    ("action", "status", "expected", "inferred"),
    [
        ("failure", "5.0.0", EventType.FAILED, True),
        ("deliverable", "2.1.5", EventType.DELIVERED, True),
        ("mystery", "4.2.2", EventType.DELAYED, True),
        ("mystery", None, EventType.UNKNOWN, False),
        (None, None, EventType.UNKNOWN, False),
    ],
)
def test_unregistered_action_is_judged_by_status_class_and_says_so(
    action: str | None, status: str | None, expected: EventType, inferred: bool
) -> None:
    rcpt = DSNRecipient(
        final_recipient=AddressField("rfc822", "a@example.net"),
        action=action,
        status=StatusCode(code=status) if status else None,
    )
    (event,) = _dsn(rcpt).events()
    assert event.type is expected
    assert ("inferred_from" in event.detail) is inferred


def test_dsn_without_recipients_is_kept() -> None:
    (event,) = _dsn().events()
    assert event.type is EventType.UNKNOWN
    assert event.recipient is None


def test_event_to_dict() -> None:
    (event,) = _mdn().events()
    data = event.to_dict()
    assert data["type"] == "displayed"
    assert data["timestamp"] == "2026-01-05T10:00:00+00:00"


def test_make_event_id_separates_parts() -> None:
    assert make_event_id("a", "bc") != make_event_id("ab", "c")
    assert make_event_id("a", None) == make_event_id("a", "")


def test_events_from_report_rejects_other_values() -> None:
    with pytest.raises(RequestError):
        events_from_report(object())  # type: ignore[arg-type]
