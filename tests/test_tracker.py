"""The tracker: correlation, status precedence, order independence, durability."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdnkit import RequestError, StoreError
from mdnkit.events import Event, EventType, Source
from mdnkit.model import (
    DSN,
    MDN,
    ActionMode,
    AddressField,
    Disposition,
    DispositionType,
    DSNAction,
    DSNRecipient,
    MessageRef,
    RefSource,
    SendingMode,
    StatusCode,
)
from mdnkit.store import MemoryStore, SQLiteStore
from mdnkit.tracker import MessageStatus, RecipientStatus, SentMessage, Tracker

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
CLOCK = T0 + timedelta(days=3)


def _tracker(path: Path | None = None) -> Tracker:
    return Tracker(path, clock=lambda: CLOCK)


def _sent_bytes(
    message_id: str, to: str, *, cc: str | None = None, date: str | None = None
) -> bytes:
    lines = [
        "From: Alice <alice@sender.example>",
        f"To: {to}",
        *([f"Cc: {cc}"] if cc else []),
        f"Date: {date or 'Mon, 02 Mar 2026 09:00:00 +0100'}",
        "Subject: =?utf-8?q?Rapport_trimestriel_n=C2=B0?= 4",
        f"Message-ID: <{message_id}>",
        "",
        "Bonjour.",
        "",
    ]
    return "\r\n".join(lines).encode()


def _mdn(
    *,
    ref: str | None = "m1@sender.example",
    by: RefSource = RefSource.ORIGINAL_MESSAGE_ID,
    final: str | None = "bob@two.example",
    original: str | None = None,
    sender: str | None = None,
    kind: DispositionType | str = DispositionType.DISPLAYED,
    sending: SendingMode = SendingMode.MANUAL,
    minutes: int = 60,
    report_id: str = "mdn1@two.example",
) -> MDN:
    return MDN(
        message_ref=MessageRef(ref, by) if ref else None,
        message_id=report_id,
        date=T0 + timedelta(minutes=minutes),
        sender=sender,
        final_recipient=AddressField("rfc822", final) if final else None,
        original_recipient=AddressField("rfc822", original) if original else None,
        original_message_id=ref if by is RefSource.ORIGINAL_MESSAGE_ID else None,
        disposition=Disposition(
            action_mode=ActionMode.MANUAL
            if sending is SendingMode.MANUAL
            else ActionMode.AUTOMATIC,
            sending_mode=sending,
            type=kind,
        ),
    )


def _dsn(
    *rcpts: tuple[str, DSNAction, str],
    ref: str | None = "m1@sender.example",
    by: RefSource = RefSource.ATTACHED_ORIGINAL,
    envelope: str | None = None,
    minutes: int = 10,
    report_id: str = "dsn1@mx.sender.example",
    diagnostic: str | None = None,
) -> DSN:
    from mdnkit.model import Diagnostic

    return DSN(
        message_ref=MessageRef(ref, by, envelope) if (ref or envelope) else None,
        message_id=report_id,
        date=T0 + timedelta(minutes=minutes),
        original_envelope_id=envelope,
        reporting_mta=AddressField("dns", "mx.sender.example"),
        recipients=tuple(
            DSNRecipient(
                final_recipient=AddressField("rfc822", address),
                action=action,
                status=StatusCode(code=status),
                diagnostic_code=Diagnostic(type="smtp", text=diagnostic) if diagnostic else None,
            )
            for address, action, status in rcpts
        ),
    )


def _pixel(
    token: str,
    recipient: str,
    *,
    message_id: str = "m1@sender.example",
    minutes: int,
    automatic: bool | None = None,
) -> Event:
    return Event(
        event_id=f"px-{token}-{minutes}",
        type=EventType.OPENED,
        source=Source.PIXEL,
        message_id=message_id,
        recipient=recipient,
        timestamp=T0 + timedelta(minutes=minutes),
        automatic=automatic,
        correlated_by="token",
        detail={"user_agent": "Mozilla/5.0"},
    )


def _tied(event: Event) -> tuple[str | None, str | None, str, str | None]:
    return (
        event.message_id,
        event.recipient,
        event.correlated_by,
        event.detail.get("recipient_by"),
    )


# ---------------------------------------------------------------------------
# Correlation


TWO = "bob@two.example, carol@three.example"

CORRELATION = [
    # (recipients recorded, report, expected (message_id, recipient, correlated_by, recipient_by))
    pytest.param(
        TWO,
        _mdn(final="bob@TWO.Example."),
        [("m1@sender.example", "bob@two.example", "original-message-id", "final-recipient")],
        id="final-recipient, domain case and trailing dot ignored",
    ),
    pytest.param(
        TWO,
        _mdn(final="bob.forward@elsewhere.example", original="carol@three.example"),
        [("m1@sender.example", "carol@three.example", "original-message-id", "original-recipient")],
        id="original-recipient when the final one was forwarded",
    ),
    pytest.param(
        TWO,
        _mdn(final=None, sender='"Bob B." <bob@two.example>'),
        [("m1@sender.example", "bob@two.example", "original-message-id", "from")],
        id="from when no recipient field",
    ),
    pytest.param(
        TWO,
        _mdn(final='"bob"@two.example'),
        [("m1@sender.example", "bob@two.example", "original-message-id", "final-recipient")],
        id="quoted local part canonicalised",
    ),
    pytest.param(
        TWO,
        _mdn(final="Bob@two.example"),
        [("m1@sender.example", "Bob@two.example", "original-message-id", "unlisted")],
        id="local part case is significant (RFC 5321 §2.4)",
    ),
    pytest.param(
        "bob@two.example",
        _mdn(final="robert@gateway.example", sender="robert@gateway.example"),
        [("m1@sender.example", "bob@two.example", "original-message-id", "only-recipient")],
        id="the only recipient",
    ),
    pytest.param(
        TWO,
        _mdn(ref="m1@sender.example", by=RefSource.IN_REPLY_TO, final="carol@three.example"),
        [("m1@sender.example", "carol@three.example", "in-reply-to", "final-recipient")],
        id="in-reply-to",
    ),
    pytest.param(
        TWO,
        _dsn(
            ("bob@two.example", DSNAction.DELIVERED, "2.0.0"),
            ("carol@three.example", DSNAction.FAILED, "5.1.1"),
        ),
        [
            ("m1@sender.example", "bob@two.example", "attached-original", "final-recipient"),
            ("m1@sender.example", "carol@three.example", "attached-original", "final-recipient"),
        ],
        id="dsn with two recipients",
    ),
    pytest.param(
        TWO,
        _dsn(
            ("carol@three.example", DSNAction.FAILED, "5.1.1"),
            ref=None,
            by=RefSource.ENVELOPE_ID,
            envelope="ENV-42",
        ),
        [("m1@sender.example", "carol@three.example", "envelope-id", "final-recipient")],
        id="envelope id only",
    ),
]


@pytest.mark.parametrize(("recipients", "report", "expected"), CORRELATION)
@pytest.mark.parametrize("sent_first", [True, False], ids=["sent-first", "receipt-first"])
def test_correlation(
    recipients: str, report: MDN | DSN, expected: list[tuple[str, ...]], sent_first: bool
) -> None:
    tracker = _tracker()
    msg = _sent_bytes("m1@sender.example", recipients)
    if sent_first:
        tracker.record_sent(msg, envelope_id="ENV-42")
        events = tracker.ingest(report)
    else:
        events = tracker.ingest(report)
        assert [e.message_id for e in events] == [None] * len(expected)
        assert [e.correlated_by for e in events] == ["none"] * len(expected)
        tracker.record_sent(msg, envelope_id="ENV-42")
    assert [_tied(e) for e in tracker.events()] == expected
    assert list(tracker.unmatched()) == []


def test_unknown_message_is_kept_unmatched_with_its_reference() -> None:
    tracker = _tracker()
    (event,) = tracker.ingest(_mdn(ref="gone@sender.example"))
    assert event == Event(
        event_id=event.event_id,
        type=EventType.DISPLAYED,
        source=Source.MDN,
        message_id=None,
        recipient="bob@two.example",
        timestamp=T0 + timedelta(minutes=60),
        automatic=False,
        correlated_by="none",
        detail={
            "disposition": "manual-action/MDN-sent-manually; displayed",
            "action_mode": "manual-action",
            "sending_mode": "MDN-sent-manually",
            "report_message_id": "mdn1@two.example",
            "ref_message_id": "gone@sender.example",
            "ref_by": "original-message-id",
            "final_recipient": "bob@two.example",
        },
    )
    assert list(tracker.unmatched()) == [event]
    tracker.record_sent(_sent_bytes("other@sender.example", TWO))
    assert list(tracker.unmatched()) == [event]


def test_report_without_reference_is_never_lost() -> None:
    tracker = _tracker()
    events = tracker.ingest(_mdn(ref=None, report_id="orphan@two.example"))
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    assert list(tracker.unmatched()) == list(events)
    assert events[0].detail["ref_by"] == "none"
    assert "ref_message_id" not in events[0].detail


def test_envelope_id_is_not_used_when_a_message_id_is_named() -> None:
    # Otherwise the answer would depend on which message was recorded first.
    tracker = _tracker()
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO), envelope_id="ENV-1")
    report = _dsn(
        ("bob@two.example", DSNAction.FAILED, "5.0.0"), ref="m2@sender.example", envelope="ENV-1"
    )
    (event,) = tracker.ingest(report)
    assert event.message_id is None
    tracker.record_sent(_sent_bytes("m2@sender.example", TWO))
    assert [_tied(e) for e in tracker.events()] == [
        ("m2@sender.example", "bob@two.example", "attached-original", "final-recipient")
    ]


def test_unattributed_event_on_a_multi_recipient_message() -> None:
    tracker = _tracker()
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    (event,) = tracker.ingest(_mdn(final=None, sender=None))
    assert _tied(event) == ("m1@sender.example", None, "original-message-id", "none")
    status = tracker.status("m1@sender.example")
    assert status.unattributed == (event,)
    assert [r.events for r in status.recipients] == [0, 0]


# ---------------------------------------------------------------------------
# Idempotence and order independence


def test_ingesting_twice_adds_nothing() -> None:
    tracker = _tracker()
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    seen: list[Event] = []
    tracker.subscribe(seen.append)
    report = _dsn(("bob@two.example", DSNAction.DELIVERED, "2.0.0"))
    first = tracker.ingest(report)
    second = tracker.ingest(report, received_at=CLOCK + timedelta(hours=5))
    assert first == second
    assert list(tracker.events()) == list(first)
    assert seen == list(first)


def test_adding_an_event_twice_returns_the_kept_one() -> None:
    tracker = _tracker()
    hit = _pixel("tok-1", "bob@two.example", minutes=5)
    kept = tracker.add(hit)
    again = tracker.add(dataclasses.replace(hit, detail={"user_agent": "changed"}))
    assert again == kept
    assert list(tracker.events()) == [kept]


def _ops() -> list[tuple[str, object]]:
    a = _sent_bytes("m1@sender.example", "bob@two.example, carol@three.example, dan@four.example")
    b = _sent_bytes("m2@sender.example", "erin@five.example")
    return [
        ("sent", (a, "ENV-A")),
        ("sent", (b, None)),
        ("ingest", _mdn(minutes=30)),
        (
            "ingest",
            _mdn(
                final="carol@three.example",
                sending=SendingMode.AUTOMATIC,
                kind=DispositionType.PROCESSED,
                report_id="mdn2",
            ),
        ),
        ("ingest", _dsn(("dan@four.example", DSNAction.DELAYED, "4.4.1"), minutes=5)),
        (
            "ingest",
            _dsn(
                ("dan@four.example", DSNAction.FAILED, "5.4.7"),
                minutes=500,
                report_id="dsn2",
                ref=None,
                by=RefSource.ENVELOPE_ID,
                envelope="ENV-A",
            ),
        ),
        (
            "ingest",
            _dsn(("bob@two.example", DSNAction.DELIVERED, "2.0.0"), minutes=2, report_id="dsn3"),
        ),
        ("ingest", _mdn(ref="m2@sender.example", final="someone@else.example", report_id="mdn3")),
        ("ingest", _mdn(ref="m3@sender.example", report_id="mdn4")),
        ("add", _pixel("tok-9", "erin@five.example", message_id="m2@sender.example", minutes=7)),
        ("ingest", _mdn(minutes=30)),  # a duplicate
    ]


def _apply(tracker: Tracker, ops: list[tuple[str, object]]) -> None:
    for kind, value in ops:
        if kind == "sent":
            msg, envelope = value  # type: ignore[misc]
            tracker.record_sent(msg, envelope_id=envelope)
        elif kind == "ingest":
            tracker.ingest(value)  # type: ignore[arg-type]
        else:
            tracker.add(value)  # type: ignore[arg-type]


def _snapshot(tracker: Tracker) -> tuple[object, ...]:
    return (
        tracker.status("m1@sender.example"),
        tracker.status("m2@sender.example"),
        sorted(tracker.events(), key=lambda e: e.event_id),
        sorted(tracker.unmatched(), key=lambda e: e.event_id),
    )


@settings(max_examples=60, deadline=None)
@given(st.permutations(range(len(_ops()))))
def test_any_order_gives_the_same_answer(order: list[int]) -> None:
    ops = _ops()
    reference = _tracker()
    _apply(reference, ops)
    shuffled = _tracker()
    _apply(shuffled, [ops[i] for i in order])
    assert _snapshot(shuffled) == _snapshot(reference)


@settings(
    max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.permutations(range(len(_ops()))))
def test_any_order_gives_the_same_answer_in_sqlite(tmp_path: Path, order: list[int]) -> None:
    ops = _ops()
    reference = _tracker()
    _apply(reference, ops)
    path = tmp_path / f"o{'-'.join(map(str, order))}.db"
    with Tracker(path, clock=lambda: CLOCK) as shuffled:
        _apply(shuffled, [ops[i] for i in order])
        assert _snapshot(shuffled) == _snapshot(reference)


def test_full_status_of_the_order_scenario() -> None:
    tracker = _tracker()
    _apply(tracker, _ops())
    status = tracker.status("<m1@sender.example>")
    bob, carol, dan = status.recipients
    assert bob == RecipientStatus(
        recipient="bob@two.example",
        listed=True,
        delivery=EventType.DELIVERED,
        delivery_at=T0 + timedelta(minutes=2),
        read=EventType.DISPLAYED,
        read_at=T0 + timedelta(minutes=30),
        read_automatic=False,
        dsn_status="2.0.0",
        correlated_by=("attached-original", "original-message-id"),
        sources=(Source.DSN, Source.MDN),
        events=2,
    )
    assert carol == RecipientStatus(
        recipient="carol@three.example",
        listed=True,
        delivery=EventType.DELIVERED,
        delivery_at=T0 + timedelta(minutes=60),
        delivery_inferred=True,
        read=EventType.PROCESSED,
        read_at=T0 + timedelta(minutes=60),
        read_automatic=True,
        correlated_by=("original-message-id",),
        sources=(Source.MDN,),
        events=1,
    )
    assert dan == RecipientStatus(
        recipient="dan@four.example",
        listed=True,
        delivery=EventType.FAILED,
        delivery_at=T0 + timedelta(minutes=500),
        dsn_status="5.4.7",
        correlated_by=("attached-original", "envelope-id"),
        sources=(Source.DSN,),
        events=2,
    )
    assert (
        status.delivered,
        status.failed,
        status.delayed,
        status.displayed,
        status.read,
        status.opened,
    ) == (2, 1, 0, 1, 2, 0)
    other = tracker.status("m2@sender.example")
    assert [(r.recipient, r.read, r.opens, r.events) for r in other.recipients] == [
        ("erin@five.example", EventType.DISPLAYED, 1, 2)
    ]
    assert other.recipients[0].correlated_by == ("original-message-id", "token")
    assert [e.detail["ref_message_id"] for e in tracker.unmatched()] == ["m3@sender.example"]


# ---------------------------------------------------------------------------
# Status precedence


def _delivery(action: DSNAction, status: str, minutes: int, diagnostic: str | None = None) -> DSN:
    return _dsn(
        ("bob@two.example", action, status),
        minutes=minutes,
        report_id=f"d{minutes}",
        diagnostic=diagnostic,
    )


PRECEDENCE = [
    pytest.param(
        [_delivery(DSNAction.DELIVERED, "2.0.0", 10), _delivery(DSNAction.DELAYED, "4.4.1", 20)],
        {"delivery": EventType.DELIVERED, "delivery_at": 10, "dsn_status": "4.4.1"},
        id="a later delayed does not undo delivered",
    ),
    pytest.param(
        [
            _delivery(DSNAction.DELAYED, "4.4.1", 10),
            _delivery(DSNAction.FAILED, "5.4.7", 20, "550 timeout"),
        ],
        {
            "delivery": EventType.FAILED,
            "delivery_at": 20,
            "dsn_status": "5.4.7",
            "dsn_diagnostic": "550 timeout",
        },
        id="failed after delayed wins",
    ),
    pytest.param(
        [_delivery(DSNAction.FAILED, "5.4.7", 20), _delivery(DSNAction.DELAYED, "4.4.1", 10)],
        {"delivery": EventType.FAILED, "delivery_at": 20, "dsn_status": "5.4.7"},
        id="an earlier delayed does not undo failed",
    ),
    pytest.param(
        [_delivery(DSNAction.RELAYED, "2.0.0", 10), _delivery(DSNAction.FAILED, "5.1.1", 30)],
        {"delivery": EventType.FAILED, "delivery_at": 30, "dsn_status": "5.1.1"},
        id="the latest final outcome wins",
    ),
    pytest.param(
        [_delivery(DSNAction.DELAYED, "4.4.1", 10), _mdn(minutes=40)],
        {
            "delivery": EventType.DELIVERED,
            "delivery_at": 40,
            "delivery_inferred": True,
            "read": EventType.DISPLAYED,
            "read_at": 40,
            "read_automatic": False,
            "dsn_status": "4.4.1",
        },
        id="a read after delayed implies delivery, and says so",
    ),
    pytest.param(
        [_delivery(DSNAction.FAILED, "5.1.1", 10), _mdn(minutes=40)],
        {
            "delivery": EventType.FAILED,
            "delivery_at": 10,
            "read": EventType.DISPLAYED,
            "read_at": 40,
            "read_automatic": False,
            "dsn_status": "5.1.1",
        },
        id="a read does not overrule a bounce",
    ),
    pytest.param(
        [
            _mdn(
                minutes=50,
                kind=DispositionType.PROCESSED,
                sending=SendingMode.AUTOMATIC,
                report_id="a",
            ),
            _mdn(minutes=70, report_id="b"),
            _mdn(minutes=90, kind=DispositionType.DELETED, report_id="c"),
        ],
        {
            "delivery": EventType.DELIVERED,
            "delivery_at": 70,
            "delivery_inferred": True,
            "read": EventType.DISPLAYED,
            "read_at": 70,
            "read_automatic": False,
        },
        id="displayed is the strongest read evidence",
    ),
    pytest.param(
        [
            _pixel("t", "bob@two.example", minutes=80),
            _pixel("t", "bob@two.example", minutes=30, automatic=True),
            _mdn(minutes=95, kind=DispositionType.DELETED),
        ],
        {
            "delivery": EventType.DELIVERED,
            "delivery_at": 30,
            "delivery_inferred": True,
            "read": EventType.OPENED,
            "read_at": 30,
            "read_automatic": True,
            "first_opened_at": 30,
            "opens": 2,
        },
        id="opens counted; the first open is the read time",
    ),
]


@pytest.mark.parametrize(("inputs", "expected"), PRECEDENCE)
def test_status_precedence(inputs: list[object], expected: dict[str, object]) -> None:
    tracker = _tracker()
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    for item in inputs:
        if isinstance(item, Event):
            tracker.add(item)
        else:
            tracker.ingest(item)  # type: ignore[arg-type]
    bob = tracker.status("m1@sender.example").recipients[0]
    got = {
        name: getattr(bob, name)
        for name in (
            "delivery",
            "delivery_at",
            "delivery_inferred",
            "read",
            "read_at",
            "read_automatic",
            "first_opened_at",
            "opens",
            "dsn_status",
            "dsn_diagnostic",
        )
    }
    defaults = {
        "delivery_inferred": False,
        "read": None,
        "read_at": None,
        "read_automatic": None,
        "first_opened_at": None,
        "opens": 0,
        "dsn_status": None,
        "dsn_diagnostic": None,
    }
    want = {**defaults, **expected}
    for key in ("delivery_at", "read_at", "first_opened_at"):
        if isinstance(want[key], int):
            want[key] = T0 + timedelta(minutes=want[key])  # type: ignore[arg-type]
    assert got == want


def test_status_of_a_message_with_no_receipts() -> None:
    tracker = _tracker()
    sent = tracker.record_sent(
        _sent_bytes("m1@sender.example", "bob@two.example", cc="Carol <carol@three.example>")
    )
    assert tracker.status("m1@sender.example") == MessageStatus(
        message_id="m1@sender.example",
        sent=sent,
        recipients=(
            RecipientStatus(recipient="bob@two.example", listed=True),
            RecipientStatus(recipient="carol@three.example", listed=True),
        ),
    )


def test_status_of_unknown_message() -> None:
    tracker = _tracker()
    tracker.ingest(_mdn(ref="m1@sender.example"))  # unmatched events do not make it known
    with pytest.raises(RequestError) as caught:
        tracker.status("<m1@sender.example>")
    assert str(caught.value) == "unknown message: '<m1@sender.example>'"
    with pytest.raises(RequestError) as caught:
        tracker.status("  ")
    assert str(caught.value) == "unknown message: '  '"


def test_pixel_events_tie_before_the_message_is_recorded() -> None:
    tracker = _tracker()
    tracker.register_token("tok-1", "<m1@sender.example>", "Bob@TWO.example")
    assert tracker.resolve_token("tok-1") == ("m1@sender.example", "Bob@two.example")
    assert tracker.resolve_token("tok-2") is None
    tracker.add(_pixel("tok-1", "Bob@two.example", minutes=3))
    status = tracker.status("m1@sender.example")
    assert status.sent is None
    assert [(r.recipient, r.listed, r.opens, r.first_opened_at) for r in status.recipients] == [
        ("Bob@two.example", True, 1, T0 + timedelta(minutes=3))
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "m@x", "a@b.example"), "a token needs an id, a Message-ID and a recipient address"),
        (("t", "<>", "a@b.example"), "a token needs an id, a Message-ID and a recipient address"),
        (
            ("t", "m@x", "not an address"),
            "a token needs an id, a Message-ID and a recipient address",
        ),
    ],
)
def test_register_token_refuses(args: tuple[str, str, str], message: str) -> None:
    with pytest.raises(RequestError) as caught:
        _tracker().register_token(*args)
    assert str(caught.value) == message


# ---------------------------------------------------------------------------
# record_sent


def test_record_sent_reads_the_message() -> None:
    tracker = _tracker()
    sent = tracker.record_sent(
        _sent_bytes(
            "m1@sender.example",
            '"Bob" <bob@TWO.example>, carol@three.example',
            cc="bob@two.example",
        )
    )
    assert sent == SentMessage(
        message_id="m1@sender.example",
        recipients=("bob@two.example", "carol@three.example"),
        sent_at=datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=1))),
        subject="Rapport trimestriel n° 4",
    )
    assert tracker.sent("<m1@sender.example>") == sent
    assert tracker.sent("m2@sender.example") is None
    assert list(tracker.sent_messages()) == [sent]


def test_record_sent_accepts_a_message_object_and_overrides() -> None:
    import email

    msg = email.message_from_bytes(
        _sent_bytes("m1@sender.example", "bob@two.example", date="Mon, 2 Mar 2026 09:00:00 -0000")
    )
    tracker = _tracker()
    sent = tracker.record_sent(msg)
    assert sent.sent_at == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    other = tracker.record_sent(
        _sent_bytes("m2@sender.example", "bob@two.example", date="garbage"),
        recipients=["x@y.example", "<Z@Y.EXAMPLE>"],
        envelope_id="E1",
    )
    assert (other.recipients, other.sent_at, other.envelope_id) == (
        ("x@y.example", "Z@y.example"),
        CLOCK,
        "E1",
    )
    explicit = tracker.record_sent(_sent_bytes("m3@sender.example", "a@b.example"), sent_at=T0)
    assert explicit.sent_at == T0


def test_recording_again() -> None:
    tracker = _tracker()
    first = tracker.record_sent(_sent_bytes("m1@sender.example", TWO), envelope_id="E")
    assert tracker.record_sent(_sent_bytes("m1@sender.example", TWO), sent_at=CLOCK) == first
    with pytest.raises(RequestError) as caught:
        tracker.record_sent(_sent_bytes("m1@sender.example", "bob@two.example"))
    assert (
        str(caught.value)
        == "<m1@sender.example> is already recorded with other recipients or envelope id"
    )


@pytest.mark.parametrize(
    ("msg", "kwargs", "message"),
    [
        (
            b"To: a@b.example\r\n\r\n",
            {},
            "the message has no Message-ID: it could never be tied to a receipt",
        ),
        (b"Message-ID: <m@x>\r\n\r\n", {}, "message <m@x> has no recipients"),
        (
            b"Message-ID: <m@x>\r\nTo: undisclosed-recipients:;\r\n\r\n",
            {},
            "message <m@x> has no recipients",
        ),
        (
            b"Message-ID: <m@x>\r\n\r\n",
            {"recipients": ["a@b.example", "no-at-sign"]},
            "not an email address: 'no-at-sign'",
        ),
        (
            b"Message-ID: <m@x>\r\n\r\n",
            {"recipients": "a@b.example"},
            "recipients must be a list of addresses, not one string",
        ),
        (
            b"Message-ID: <m@x>\r\nTo: a@b.example\r\n\r\n",
            {"sent_at": datetime(2026, 1, 1)},
            "sent_at must be timezone-aware",
        ),
        (
            b"Message-ID: <m@x>\r\nTo: a@b.example\r\n\r\n",
            {"envelope_id": "a b"},
            "envelope_id must be printable text without spaces: 'a b'",
        ),
        (
            b"Message-ID: <m@x>\r\nTo: a@b.example\r\n\r\n",
            {"envelope_id": ""},
            "envelope_id must be printable text without spaces: ''",
        ),
        (42, {}, "expected a Message, bytes or str, not int"),
    ],
)
def test_record_sent_refuses(msg: object, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(RequestError) as caught:
        _tracker().record_sent(msg, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value) == message


# ---------------------------------------------------------------------------
# Reading back, following, subscribing


def test_events_filters_and_cursor() -> None:
    tracker = _tracker()
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    a = tracker.ingest(_mdn(minutes=10))
    b = tracker.ingest(_mdn(ref="m2@sender.example", minutes=20, report_id="x"))
    c = tracker.ingest(_dsn(("carol@three.example", DSNAction.DELIVERED, "2.0.0"), minutes=30))
    assert list(tracker.events(message_id="<m1@sender.example>")) == [*a, *c]
    assert list(tracker.events(message_id="<>")) == []
    assert list(tracker.events(since=T0 + timedelta(minutes=20))) == [*b, *c]
    changes = list(tracker.changes())
    assert [e for _, e in changes] == [*a, *b, *c]
    cursor = changes[-1][0]
    assert list(tracker.changes(cursor)) == []
    tracker.record_sent(_sent_bytes("m2@sender.example", TWO))
    ((_, tied),) = tracker.changes(cursor)
    assert (tied.event_id, tied.message_id) == (b[0].event_id, "m2@sender.example")
    with pytest.raises(RequestError):
        list(tracker.events(since=datetime(2026, 1, 1)))


def test_subscribers(caplog: pytest.LogCaptureFixture) -> None:
    tracker = _tracker()
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("subscriber bug")

    tracker.subscribe(broken)
    stop = tracker.subscribe(lambda e: seen.append(e.event_id))
    with caplog.at_level(logging.ERROR, logger="mdnkit.tracker"):
        (unmatched,) = tracker.ingest(_mdn())
    assert seen == [unmatched.event_id]
    assert caplog.records[0].getMessage().startswith("subscriber <function")
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))  # tying is news too
    assert seen == [unmatched.event_id] * 2
    stop()
    stop()  # twice is harmless
    tracker.ingest(_mdn(report_id="another"))
    assert len(seen) == 2


def test_construction_and_life_cycle(tmp_path: Path) -> None:
    with Tracker(tmp_path / "t.db") as tracker:
        assert isinstance(tracker.store, SQLiteStore)
        tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    with pytest.raises(StoreError):
        tracker.sent("m1@sender.example")
    assert isinstance(Tracker().store, MemoryStore)
    with pytest.raises(RequestError) as caught:
        Tracker(tmp_path / "u.db", store=MemoryStore())
    assert str(caught.value) == "pass a path or a store, not both"
    with pytest.raises(RequestError) as caught:
        Tracker(store=object())  # type: ignore[arg-type]
    assert str(caught.value) == "not a store: object"
    with Tracker(tmp_path / "t.db") as again:
        assert again.sent("m1@sender.example") is not None


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda t: t.ingest(_mdn(), received_at=datetime(2026, 1, 1)),
            "received_at must be timezone-aware",
        ),
        (lambda t: t.add("event"), "not an Event: str"),
        (
            lambda t: t.add(
                dataclasses.replace(
                    _pixel("t", "a@b.example", minutes=1), timestamp=datetime(2026, 1, 1)
                )
            ),
            "the event timestamp must be timezone-aware",
        ),
        (
            lambda t: Tracker(clock=lambda: datetime(2026, 1, 1)).ingest(_mdn()),
            "the clock must return timezone-aware datetimes",
        ),
    ],
)
def test_misuse(call: object, message: str) -> None:
    with pytest.raises(RequestError) as caught:
        call(_tracker())  # type: ignore[operator]
    assert str(caught.value) == message


# ---------------------------------------------------------------------------
# Real processes, real files


_CHILD = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from mdnkit import Tracker
    from mdnkit.events import Event, EventType, Source

    path, name, count, shared = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    tracker = Tracker(path)
    def event(event_id):
        return Event(event_id=event_id, type=EventType.DELIVERED, source=Source.DSN,
                     message_id="m1@sender.example", recipient="bob@two.example",
                     timestamp=datetime(2026, 3, 2, tzinfo=UTC), automatic=None,
                     correlated_by="attached-original", detail={"writer": name})
    for n in range(count):
        tracker.add(event(f"{name}-{n}"))
        if n < shared:
            tracker.add(event(f"shared-{n}"))
    print("done", flush=True)
    if name == "sleeper":
        import time
        time.sleep(600)
    """
)


def _child(path: Path, name: str, count: int, shared: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(path), name, str(count), str(shared)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_event_survives_kill_right_after_it_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "k.db"
    child = _child(path, "sleeper", 3, 0)
    assert child.stdout is not None
    assert child.stdout.readline() == "done\n"
    os.kill(child.pid, signal.SIGKILL)  # no close, no checkpoint, no atexit
    child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with Tracker(path) as tracker:
        assert sorted(e.event_id for e in tracker.events()) == [
            "sleeper-0",
            "sleeper-1",
            "sleeper-2",
        ]


@pytest.mark.slow
def test_two_processes_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    children = [_child(path, name, 300, 150) for name in ("w1", "w2")]
    for child in children:
        out, err = child.communicate(timeout=300)
        assert (child.returncode, out, err) == (0, "done\n", "")
    with Tracker(path) as tracker:
        changes = list(tracker.changes())
        ids = [e.event_id for _, e in changes]
        assert len(ids) == 750
        assert set(ids) == {f"w{k}-{n}" for k in (1, 2) for n in range(300)} | {
            f"shared-{n}" for n in range(150)
        }
        seqs = [s for s, _ in changes]
        assert seqs == sorted(set(seqs))


# ---------------------------------------------------------------------------
# Messages as bytes, hostile input, threads


def _sample(name: str) -> bytes:
    from importlib.resources import files

    return (files("mdnkit") / "samples" / name).read_bytes()


def test_ingest_bytes_and_a_non_report() -> None:
    tracker = _tracker()
    tracker.record_sent(_sample("sent-3.eml"), envelope_id="ENV-contract-v2")
    assert tracker.ingest(_sample("sent-1.eml")) == ()
    (event,) = tracker.ingest(_sample("dsn-delayed.eml"))
    assert event == Event(
        event_id=event.event_id,
        type=EventType.DELAYED,
        source=Source.DSN,
        message_id="contract-v2.a01e@mail.example.com",
        recipient="grace@example.com",
        timestamp=datetime(2026, 3, 3, 15, 31, 12, tzinfo=timezone(timedelta(hours=1))),
        automatic=None,
        correlated_by="envelope-id",
        detail={
            "status": "4.4.1",
            "status_meaning": event.detail["status_meaning"],
            "remote_mta": "mx.example.com",
            "will_retry_until": "2026-03-08T11:30:04+01:00",
            "reporting_mta": "relay.example.com",
            "envelope_id": "ENV-contract-v2",
            "report_message_id": "202603031431.23VEVCx4012345@relay.example.com",
            "ref_by": "envelope-id",
            "final_recipient": "grace@example.com",
            "recipient_by": "final-recipient",
        },
    )


def test_non_mailbox_address_types_are_not_compared() -> None:
    tracker = _tracker()
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    report = DSN(
        message_ref=MessageRef("m1@sender.example", RefSource.ATTACHED_ORIGINAL),
        date=T0,
        recipients=(
            DSNRecipient(
                final_recipient=AddressField("x400", "c=de;a=example;p=corp;s=bob"),
                original_recipient=AddressField("rfc822", "carol@three.example"),
                action=DSNAction.RELAYED,
            ),
        ),
    )
    (event,) = tracker.ingest(report)
    assert (event.recipient, event.detail["recipient_by"]) == (
        "carol@three.example",
        "original-recipient",
    )
    assert "final_recipient" not in event.detail


@settings(max_examples=150, deadline=None)
@given(
    st.binary(max_size=2000)
    | st.text(max_size=2000).map(lambda t: "Content-Type: multipart/report\r\n\r\n" + t)
)
def test_any_input_gives_events_nothing_or_an_mdnkit_error(data: bytes | str) -> None:
    from mdnkit import MdnkitError

    tracker = _tracker()
    try:
        events = tracker.ingest(data)
    except MdnkitError:
        return
    assert list(tracker.events()) == list(events)


def test_threads_ingesting_into_one_file_with_a_subscriber(tmp_path: Path) -> None:
    import threading

    with Tracker(tmp_path / "t.db") as tracker:
        tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
        heard: list[str] = []
        lock = threading.Lock()

        def listen(event: Event) -> None:
            with lock:
                heard.append(event.event_id)

        tracker.subscribe(listen)

        def work(k: int) -> None:
            for n in range(40):
                tracker.ingest(_mdn(report_id=f"r{n % 30}-{k % 2}", minutes=n))

        threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        kept = [e.event_id for e in tracker.events()]
        # 4 threads, 2 distinct report-id families, 40 ingests each: duplicates collapse.
        assert len(kept) == len(set(kept))
        assert sorted(heard) == sorted(kept)
        assert len(kept) == len({(n % 30, k % 2, n) for k in range(4) for n in range(40)})


def test_ids_written_differently_still_tie() -> None:
    # Direct Project agents copy ids with a space inside; folding can split
    # an id across lines.  The sent message and the receipt must still meet.
    tracker = Tracker()
    tracker.record_sent(
        b"From: a@example.org\r\nTo: bob@example.net\r\n"
        b"Message-ID: <95010510.aa04@IETF.CNR I.Reston.VA.US>\r\n"
        b"Date: Mon, 5 Jan 2026 10:00:00 +0000\r\n\r\nhi\r\n"
    )
    receipt = (
        b"From: bob@example.net\r\nIn-Reply-To: <95010510.aa04@IETF.CNR\r\n I.Reston.VA.US>\r\n"
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="b"\r\n'
        b"\r\n--b\r\nContent-Type: text/plain\r\n\r\nshown\r\n--b\r\n"
        b"Content-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; bob@example.net\r\n"
        b"Disposition: automatic-action/MDN-sent-automatically; processed\r\n--b--\r\n"
    )
    with_field = receipt.replace(
        b"Final-Recipient:",
        b"Original-Message-ID: <95010510.aa04@IETF.CNR I.Reston.VA.US>\r\nFinal-Recipient:",
    )
    received = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    for data, by in ((receipt, "in-reply-to"), (with_field, "original-message-id")):
        (event,) = tracker.ingest(data, received_at=received)
        assert (event.message_id, event.recipient, event.correlated_by) == (
            "95010510.aa04@IETF.CNRI.Reston.VA.US",
            "bob@example.net",
            by,
        )


# ---------------------------------------------------------------------------
# Many events at once


class _PlainStore:
    """Only the Store protocol: no batch methods, so the tracker falls back."""

    def __init__(self) -> None:
        self._inner = MemoryStore()
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> object:
        if name in ("add_events", "get_tokens"):
            raise AttributeError(name)
        self.calls.append(name)
        return getattr(self._inner, name)


_STORES = {
    "memory": lambda path: MemoryStore(),
    "sqlite": lambda path: SQLiteStore(path / "r.db"),
    "plain": lambda path: _PlainStore(),
}


@pytest.mark.parametrize("kind", sorted(_STORES))
def test_add_many_is_add_for_each_in_one_transaction(tmp_path: Path, kind: str) -> None:
    tracker = Tracker(store=_STORES[kind](tmp_path), clock=lambda: CLOCK)
    tracker.record_sent(_sent_bytes("m1@sender.example", TWO))
    tracker.register_token("tok-1", "m1@sender.example", "bob@two.example")
    seen: list[str] = []
    tracker.subscribe(lambda e: seen.append(e.event_id))
    earlier = tracker.add(_pixel("tok-1", "bob@two.example", minutes=1))
    report = _mdn_event()
    batch = [
        _pixel("tok-1", "Bob@TWO.example", minutes=2),
        report,
        _pixel("tok-1", "bob@two.example", minutes=1),  # kept before: the kept one comes back
        _pixel("tok-1", "Bob@TWO.example", minutes=2, automatic=True),  # same id: the first wins
    ]
    kept = tracker.add_many(batch)
    singly = Tracker(clock=lambda: CLOCK)
    singly.record_sent(_sent_bytes("m1@sender.example", TWO))
    expected = tuple(singly.add(event) for event in (batch[0], report))
    assert kept == (expected[0], expected[1], earlier, expected[0])
    assert kept[0].recipient == "Bob@two.example"
    assert seen == [earlier.event_id, kept[0].event_id, kept[1].event_id]
    assert [e.event_id for e in tracker.events()] == seen
    assert tracker.add_many([]) == ()
    assert tracker.resolve_tokens(["tok-2", "tok-1"]) == {
        "tok-1": ("m1@sender.example", "bob@two.example")
    }
    if kind == "plain":
        assert "add_event" in tracker.store.calls  # type: ignore[attr-defined]
    tracker.close()


def _mdn_event() -> Event:
    (event,) = _mdn().events(received_at=CLOCK)
    return event


@pytest.mark.parametrize("kind", sorted(_STORES))
def test_add_many_keeps_nothing_when_one_event_is_invalid(tmp_path: Path, kind: str) -> None:
    tracker = Tracker(store=_STORES[kind](tmp_path), clock=lambda: CLOCK)
    naive = dataclasses.replace(
        _pixel("tok-2", "bob@two.example", minutes=2), timestamp=T0.replace(tzinfo=None)
    )
    for bad, message in [
        (naive, "the event timestamp must be timezone-aware"),
        ("not an event", "not an Event: str"),
    ]:
        with pytest.raises(RequestError) as caught:
            tracker.add_many([_pixel("tok-1", "bob@two.example", minutes=1), bad])  # type: ignore[list-item]
        assert str(caught.value) == message
    assert list(tracker.events()) == []
    tracker.close()


@settings(max_examples=100, deadline=None)
@given(
    recipient=st.none()
    | st.sampled_from(["Bob@TWO.example", "bob@two.example", "not an address", ""]),
    detail=st.dictionaries(
        st.sampled_from(["user_agent", "ref_message_id", "ref_by", "recipient_by", "x"]),
        st.text(max_size=5),
        max_size=4,
    ),
    automatic=st.none() | st.booleans(),
)
def test_token_events_are_tied_as_the_unmatched_route_ties_them(
    recipient: str | None, detail: dict[str, str], automatic: bool | None
) -> None:
    from mdnkit.tracker import _pending, _tie, _untie

    event = dataclasses.replace(
        _pixel("tok", "x@y.example", minutes=1, automatic=automatic),
        recipient=recipient,
        detail=detail,
    )
    assert _pending(event) == _tie(_untie(event, ()), "m1@sender.example", (), "token")
