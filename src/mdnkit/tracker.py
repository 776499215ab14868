"""Tie receipts to the messages they are about, and say where each message stands.

A :class:`Tracker` remembers what was sent (:meth:`Tracker.record_sent`),
turns every receipt into per-recipient events (:meth:`Tracker.ingest`),
takes events from other sources (:meth:`Tracker.add`, the pixel), and
answers "who received, who read, who bounced" (:meth:`Tracker.status`).

Correlation, in order (each event says which rule tied it):

1. The message: the report's reference (``Original-Message-ID``, the
   returned original's Message-ID, ``In-Reply-To``, ``References``) when a
   message with that Message-ID was recorded; for a DSN that names no
   Message-ID, its ``Original-Envelope-Id`` (RFC 3461 ``ENVID``) against the
   envelope ids recorded.  ``event.correlated_by`` says which.
2. The recipient, compared as RFC 5321 compares addresses (local part as
   is once unquoted, domain case-insensitive): the report's
   ``Final-Recipient``, else its ``Original-Recipient``, else (MDNs only)
   the report's ``From``, else the message's only recipient.
   ``event.detail["recipient_by"]`` says which (``final-recipient``,
   ``original-recipient``, ``from``, ``only-recipient``; ``token`` for the
   pixel; ``reported`` for an event given to :meth:`Tracker.add` that
   names only its ``recipient``; ``unlisted`` when the address named is
   not among the recipients recorded -- an alias or a list member -- and
   is kept as reported).

A receipt that cannot be tied is kept as *unmatched* (``message_id`` None,
``detail["ref_message_id"]`` and ``detail["ref_by"]`` saying what it
refers to) and is tied as soon as :meth:`Tracker.record_sent` records its
message: the result does not depend on the order in which things arrive.
"""

from __future__ import annotations

import contextlib
import dataclasses
import email.errors
import email.header
import email.message
import email.parser
import email.policy
import email.utils
import functools
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING

from . import _address, _ids
from ._message import read_headers
from .errors import RequestError
from .events import Event, EventType, Source
from .store import BatchStore, MemoryStore, SQLiteStore, Store
from .store._records import SentMessage, check_since

if TYPE_CHECKING:
    from .model import Report

__all__ = ["MessageStatus", "RecipientStatus", "SentMessage", "Tracker"]

log = logging.getLogger("mdnkit.tracker")

# detail keys that carry the recipient evidence of a receipt, strongest first,
# and the recipient_by value each one gives.
_CANDIDATES = (
    ("final_recipient", "final-recipient"),
    ("original_recipient", "original-recipient"),
    ("from", "from"),
)
# Address types whose values are mailboxes (RFC 3464 §2.3.2, RFC 6533 §3).
_MAILBOX_TYPES = frozenset({"rfc822", "utf-8", "unknown"})


class Tracker:
    """Sent messages, their receipts and what they add up to.

    ``Tracker()`` keeps everything in memory; ``Tracker("receipts.db")``
    in an SQLite file; ``Tracker(store=...)`` in any
    :class:`~mdnkit.store.Store`.  *clock* returns the current aware time
    (defaults to the system clock in UTC) and dates receipts that carry no
    date of their own.

    Safe to share between threads.  Subscribers (:meth:`subscribe`) are
    called after the change is committed, on the thread that made it.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        store: Store | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if path is not None and store is not None:
            raise RequestError("pass a path or a store, not both")
        if store is None:
            store = MemoryStore() if path is None else SQLiteStore(path)
        elif not isinstance(store, Store):
            raise RequestError(f"not a store: {type(store).__name__}")
        self.store: Store = store
        # The batch methods are optional (BatchStore); checked once, not per call.
        self._batch: BatchStore | None = store if isinstance(store, BatchStore) else None
        self._clock = clock or _utc_now
        self._subscribers: list[Callable[[Event], object]] = []
        self._subscribers_lock = threading.Lock()

    # -- the sent side -----------------------------------------------------

    def record_sent(
        self,
        msg: email.message.Message | bytes | str,
        *,
        sent_at: datetime | None = None,
        envelope_id: str | None = None,
        recipients: Iterable[str] | None = None,
    ) -> SentMessage:
        """Remember that *msg* was sent, and tie the receipts already waiting for it.

        The Message-ID comes from the message (required); the recipients
        from *recipients*, else its To, Cc and Bcc; *sent_at* from the
        argument, else its Date, else the clock; *envelope_id* is the RFC
        3461 ``ENVID`` it was sent with, if any.

        Recording the same message again changes nothing and returns what
        was recorded first; recording a different recipient list or
        envelope id under a Message-ID already recorded is a
        :class:`~mdnkit.RequestError` (two messages must not share one).
        """
        message = read_headers(msg)
        message_id = _message_id(message.get("Message-ID"))
        if message_id is None:
            raise RequestError("the message has no Message-ID: it could never be tied to a receipt")
        rcpts = _recipients(message, recipients)
        if not rcpts:
            raise RequestError(f"message <{message_id}> has no recipients")
        if sent_at is None:
            sent_at = _date(message.get("Date")) or self._now()
        elif sent_at.tzinfo is None:
            raise RequestError("sent_at must be timezone-aware")
        if envelope_id is not None and (
            not envelope_id or any(not c.isprintable() or c.isspace() for c in envelope_id)
        ):
            raise RequestError(
                f"envelope_id must be printable text without spaces: {envelope_id!r}"
            )
        sent = SentMessage(
            message_id=message_id,
            recipients=rcpts,
            sent_at=sent_at,
            envelope_id=envelope_id,
            subject=_subject(message.get("Subject")),
        )
        tied: list[Event] = []
        with self.store.transaction():
            if not self.store.add_sent(sent):
                known = self.store.get_sent(message_id)
                if known is None:  # pragma: no cover - the store broke its contract
                    raise RequestError(f"<{message_id}> could not be recorded")
                if set(known.recipients) != set(sent.recipients) or (
                    envelope_id is not None and known.envelope_id != envelope_id
                ):
                    raise RequestError(
                        f"<{message_id}> is already recorded with other recipients or envelope id"
                    )
                return known
            waiting = [e for _, e in self.store.unmatched(ref_message_id=message_id)]
            if envelope_id is not None:
                waiting += [
                    e
                    for _, e in self.store.unmatched(envelope_id=envelope_id)
                    if "ref_message_id" not in e.detail
                ]
            for event in waiting:
                resolved = self._resolve(event)
                if resolved is not None:
                    self.store.replace_event(resolved)
                    tied.append(resolved)
        self._notify(tied)
        return sent

    def sent(self, message_id: str) -> SentMessage | None:
        """What was recorded for *message_id* (angle brackets optional), or None."""
        normal = _message_id(message_id)
        return self.store.get_sent(normal) if normal else None

    # -- the receiving side ------------------------------------------------

    def ingest(
        self,
        data: bytes | str | email.message.Message | Report,
        *,
        received_at: datetime | None = None,
    ) -> tuple[Event, ...]:
        """Read every report in *data*, tie its events, keep them; () for a non-report.

        *data* is a message (bytes, str, :class:`email.message.Message`) or
        a report already parsed (:class:`~mdnkit.MDN`, :class:`~mdnkit.DSN`).

        Returns the events the message stands for, as kept: a receipt
        ingested a second time returns the events kept the first time and
        adds nothing.  *received_at* (default: the clock) dates reports
        that carry no date.  Raises :class:`~mdnkit.ParseError` only when
        the message breaks a resource bound (see :class:`~mdnkit.Limits`).
        """
        from .model import Report

        if received_at is None:
            received_at = self._now()
        elif received_at.tzinfo is None:
            raise RequestError("received_at must be timezone-aware")
        pending: list[Event] = []
        if isinstance(data, Report):
            reports: tuple[Report, ...] = (data,)
        else:
            from .parser import parse_all

            reports = parse_all(data)
        for report in reports:
            events = report.events(received_at=received_at)
            for index, event in enumerate(events):
                pending.append(_untie(event, _report_candidates(report, index)))
        return self._keep(pending)

    def add(self, event: Event) -> Event:
        """Keep an event from another source (the pixel); tie it if its message is known.

        An event already kept (same ``event_id``) is not added again; the
        kept one is returned.  An event with ``correlated_by="token"`` was
        issued for a message and recipient this tracker registered
        (:meth:`register_token`) and is tied to them even before the
        message is recorded.
        """
        return self._keep([_pending(event)])[0]

    def add_many(self, events: Iterable[Event]) -> tuple[Event, ...]:
        """:meth:`add` for each of *events*, in one transaction; the kept events, in order.

        All or nothing: an invalid event raises :class:`~mdnkit.RequestError`
        before anything is kept.  Much faster than one :meth:`add` per event
        (the pixel's background writer keeps its hits this way).
        """
        return self._keep([_pending(event) for event in events])

    def _keep(self, pending: list[Event]) -> tuple[Event, ...]:
        """Tie what can be tied and keep it all in one transaction.

        *pending* events are unmatched (``_untie``), or already tied by a
        pixel token, which no lookup could change.
        """
        kept: list[Event] = []
        new: list[Event] = []
        with self.store.transaction():
            finals = [
                event if event.message_id is not None else (self._resolve(event) or event)
                for event in pending
            ]
            if self._batch is not None:
                seqs = self._batch.add_events(finals)
            else:
                seqs = [self.store.add_event(final) for final in finals]
            for final, seq in zip(finals, seqs, strict=True):
                if seq is not None:
                    kept.append(final)
                    new.append(final)
                else:
                    kept.append(self.store.get_event(final.event_id) or final)
        self._notify(new)
        return tuple(kept)

    def _resolve(self, event: Event) -> Event | None:
        """The tied form of an unmatched *event*, or None while its message is unknown."""
        ref = event.detail.get("ref_message_id")
        by = event.detail.get("ref_by", "none")
        if ref is not None and by == "token":
            # The token names message and recipient; no lookup can change that.
            return _tie(event, ref, (), by)
        sent = None
        if ref is not None:
            sent = self.store.get_sent(ref)
        elif by == "envelope-id" and "envelope_id" in event.detail:
            sent = self.store.sent_by_envelope(event.detail["envelope_id"])
        if sent is not None:
            return _tie(event, sent.message_id, sent.recipients, by)
        return None

    # -- pixel tokens --------------------------------------------------------

    def register_token(self, token_id: str, message_id: str, recipient: str) -> None:
        """Remember that pixel token *token_id* stands for *message_id* and *recipient*."""
        normal_id = _message_id(message_id)
        normal_rcpt = _address.normalize(recipient)
        if not token_id or normal_id is None or normal_rcpt is None:
            raise RequestError("a token needs an id, a Message-ID and a recipient address")
        self.store.put_token(token_id, normal_id, normal_rcpt)

    def resolve_token(self, token_id: str) -> tuple[str, str] | None:
        """``(message_id, recipient)`` for a registered token, else None."""
        return self.store.get_token(token_id)

    def resolve_tokens(self, token_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """:meth:`resolve_token` for many: the registered ones of *token_ids* only."""
        if self._batch is not None:
            return self._batch.get_tokens(token_ids)
        found = {}
        for token_id in token_ids:
            target = self.store.get_token(token_id)
            if target is not None:
                found[token_id] = target
        return found

    # -- answers ---------------------------------------------------------------

    def events(
        self, *, message_id: str | None = None, since: int | datetime | None = None
    ) -> Iterator[Event]:
        """Every event kept, tied or not, in the order kept.

        *message_id* keeps those tied to one message.  *since* is an int
        cursor (a sequence number from :meth:`changes`: events kept or tied
        after it) or an aware datetime (events that happened at or after
        it).
        """
        check_since(since)
        normal = None
        if message_id is not None:
            normal = _message_id(message_id)
            if normal is None:
                return iter(())
        return (event for _, event in self.store.events(message_id=normal, since=since))

    def changes(self, since: int = 0) -> Iterator[tuple[int, Event]]:
        """``(sequence, event)`` for every event kept or tied after *since*.

        For another process following the store: remember the last
        sequence number seen and ask again.  A receipt tied after it was
        first kept comes again with a higher number, now tied; keep events
        by ``event_id``.
        """
        return self.store.events(since=since)

    def unmatched(self) -> Iterator[Event]:
        """Events not (yet) tied to a recorded message."""
        return (event for _, event in self.store.unmatched())

    def status(self, message_id: str) -> MessageStatus:
        """Where *message_id* stands, per recipient.

        Raises :class:`~mdnkit.RequestError` for a Message-ID that was
        never recorded and has no event tied to it.
        """
        normal = _message_id(message_id)
        sent = self.store.get_sent(normal) if normal else None
        events = [e for _, e in self.store.events(message_id=normal)] if normal else []
        if normal is None or (sent is None and not events):
            raise RequestError(f"unknown message: {message_id!r}")
        return _message_status(normal, sent, events)

    def sent_messages(self) -> Iterator[SentMessage]:
        """Every message recorded, oldest first."""
        return self.store.sent_messages()

    # -- real time ---------------------------------------------------------------

    def subscribe(self, callback: Callable[[Event], object]) -> Callable[[], None]:
        """Call *callback* with every event kept from now on, and every receipt tied later.

        Returns a function that unsubscribes.  A callback that raises is
        logged (logger ``mdnkit.tracker``) and does not stop the others or
        the caller: the event is already kept.
        """
        with self._subscribers_lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._subscribers_lock, contextlib.suppress(ValueError):
                self._subscribers.remove(callback)

        return unsubscribe

    def _notify(self, events: list[Event]) -> None:
        if not events:
            return
        with self._subscribers_lock:
            subscribers = list(self._subscribers)
        for event in events:
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:
                    log.exception("subscriber %r failed on event %s", callback, event.event_id)

    def _now(self) -> datetime:
        now = self._clock()
        if now.tzinfo is None:
            raise RequestError("the clock must return timezone-aware datetimes")
        return now

    # -- life cycle ----------------------------------------------------------------

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Tracker:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


# ---------------------------------------------------------------------------
# Correlation


def _report_candidates(report: Report, index: int) -> tuple[tuple[str, str], ...]:
    """The recipient evidence of the *index*-th event of *report*, as detail items."""
    from .model import DSN, MDN, AddressField

    fields: list[tuple[str, AddressField | None]] = []
    if isinstance(report, MDN):
        fields = [
            ("final_recipient", report.final_recipient),
            ("original_recipient", report.original_recipient),
        ]
    elif isinstance(report, DSN) and index < len(report.recipients):
        rcpt = report.recipients[index]
        fields = [
            ("final_recipient", rcpt.final_recipient),
            ("original_recipient", rcpt.original_recipient),
        ]
    out = [
        (key, field.address)
        for key, field in fields
        if field is not None and field.type in _MAILBOX_TYPES and field.address
    ]
    if isinstance(report, MDN) and report.sender:
        # RFC 8098 §2.1: an MDN comes from the recipient it speaks for.
        out.append(("from", report.sender))
    envelope = report.message_ref.envelope_id if report.message_ref else None
    if isinstance(report, DSN) and report.original_envelope_id:
        envelope = report.original_envelope_id
    if envelope:
        out.append(("envelope_id", envelope))
    return tuple(out)


def _pending(event: Event) -> Event:
    """An event given to :meth:`Tracker.add`, checked, in the form ``_keep`` takes."""
    if not isinstance(event, Event):
        raise RequestError(f"not an Event: {type(event).__name__}")
    if event.timestamp.tzinfo is None:
        raise RequestError("the event timestamp must be timezone-aware")
    if event.correlated_by == "token" and event.message_id is not None:
        # The token names message and recipient: tie it now, without the
        # round trip through the unmatched form (the pixel's hot path).
        # Equal to _tie(_untie(event, ()), event.message_id, (), "token").
        detail = dict(event.detail)
        detail["ref_message_id"] = event.message_id
        detail["ref_by"] = "token"
        detail["recipient_by"] = "token"
        return Event(
            event_id=event.event_id,
            type=event.type,
            source=event.source,
            message_id=event.message_id,
            recipient=_token_recipient(event.recipient),
            timestamp=event.timestamp,
            automatic=event.automatic,
            correlated_by="token",
            detail=detail,
        )
    return _untie(event, ())


@functools.lru_cache(maxsize=4096)
def _token_recipient(recipient: str | None) -> str | None:
    # A pixel event names the recipient its token was registered for, and
    # a recipient opens more than once: remember the normal forms.
    return _address.normalize(recipient) or recipient


def _untie(event: Event, candidates: Iterable[tuple[str, str]]) -> Event:
    """*event* as kept while unmatched: what it refers to moved into ``detail``."""
    detail = dict(event.detail)
    if event.message_id is not None:
        detail["ref_message_id"] = event.message_id
    detail["ref_by"] = event.correlated_by
    for key, value in candidates:
        detail.setdefault(key, value)
    return dataclasses.replace(event, message_id=None, correlated_by="none", detail=detail)


def _tie(event: Event, message_id: str, recipients: tuple[str, ...], by: str) -> Event:
    """The unmatched *event* tied to *message_id*, its recipient chosen as the module says.

    A pure function of the unmatched event and the recorded message, so an
    event tied at ingest and one tied later by record_sent are equal.
    """
    detail = dict(event.detail)
    recipient, recipient_by = _pick_recipient(event, detail, recipients, by)
    detail["recipient_by"] = recipient_by
    return dataclasses.replace(
        event, message_id=message_id, recipient=recipient, correlated_by=by, detail=detail
    )


def _pick_recipient(
    event: Event, detail: Mapping[str, str], recipients: tuple[str, ...], by: str
) -> tuple[str | None, str]:
    if by == "token":
        # The tracker issued the token for exactly this recipient.
        return _address.normalize(event.recipient) or event.recipient, "token"
    named: list[tuple[str, str]] = []
    for key, recipient_by in _CANDIDATES:
        normal = _address.normalize(detail.get(key))
        if normal is not None:
            named.append((normal, recipient_by))
    if not named and event.recipient is not None:
        normal = _address.normalize(event.recipient)
        if normal is not None:
            named.append((normal, "reported"))
    listed = set(recipients)
    for normal, recipient_by in named:
        if normal in listed:
            return normal, recipient_by
    if len(recipients) == 1:
        return recipients[0], "only-recipient"
    if named:
        # Final-Recipient first: it is the mailbox the report is about.
        return named[0][0], "unlisted"
    return None, "none"


# ---------------------------------------------------------------------------
# Status


# Read states, strongest evidence first.  A display is what a person's
# client says it showed (RFC 8098 §3.2.6.2); a pixel open may be a proxy or
# scanner (see mdnkit.pixel); deleted/dispatched/processed say the message
# was handled, possibly without anyone looking at it; "denied" (RFC 2298)
# only says the recipient refused to send a receipt.
_READ_RANK = {
    EventType.DISPLAYED: 5,
    EventType.OPENED: 4,
    EventType.DELETED: 3,
    EventType.DISPATCHED: 2,
    EventType.PROCESSED: 1,
    EventType.DENIED: 0,
}
# Delivery outcomes.  "delayed" is transient (RFC 3464 §2.3.3): it never
# undoes a final outcome; among final outcomes the latest report wins.
_FINAL = frozenset({EventType.DELIVERED, EventType.FAILED, EventType.RELAYED, EventType.EXPANDED})
_REACHED = frozenset({EventType.DELIVERED, EventType.RELAYED, EventType.EXPANDED})


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class RecipientStatus:
    """What the evidence says about one recipient of one message.

    ``delivery``: the delivery outcome (``delivered``, ``relayed``,
    ``expanded``, ``failed``, ``delayed``) and ``delivery_at`` its time.  A
    final outcome beats ``delayed`` whatever the order; among final
    outcomes the latest wins (a bounce after a relay report is a bounce).
    When no DSN reported a final outcome but the recipient read or opened
    the message, ``delivery`` is ``delivered`` with ``delivery_inferred``
    True: the mail arrived, though no server said so.

    ``read``: the strongest read evidence (``displayed`` > ``opened`` >
    ``deleted`` > ``dispatched`` > ``processed`` > ``denied``), its first
    time ``read_at``, and ``read_automatic``: True when the MDN was sent
    without asking the user or a machine fetched the pixel, False when a
    person is known to have acted, None when the source does not say.  A
    receipt is evidence, not proof (RFC 8098 §6.3).

    ``listed`` is False for an address the reports named that is not among
    the recipients recorded (an alias, a list member).
    """

    recipient: str
    listed: bool
    delivery: EventType | None = None
    delivery_at: datetime | None = None
    delivery_inferred: bool = False
    read: EventType | None = None
    read_at: datetime | None = None
    read_automatic: bool | None = None
    first_opened_at: datetime | None = None
    opens: int = 0
    dsn_status: str | None = None
    dsn_diagnostic: str | None = None
    correlated_by: tuple[str, ...] = ()
    sources: tuple[Source, ...] = ()
    events: int = 0

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict: enums as strings, datetimes as ISO 8601."""
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class MessageStatus:
    """Where one message stands: one :class:`RecipientStatus` per recipient.

    ``sent`` is None for a message never recorded but named by events that
    tie themselves (pixel tokens).  ``unattributed`` are events tied to the
    message that name no recipient it could be matched to.
    """

    message_id: str
    sent: SentMessage | None
    recipients: tuple[RecipientStatus, ...]
    unattributed: tuple[Event, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict, counts included."""
        sent = self.sent
        return {
            "message_id": self.message_id,
            "sent": None
            if sent is None
            else {f.name: _plain(getattr(sent, f.name)) for f in dataclasses.fields(sent)},
            "counts": {
                "recipients": len(self.recipients),
                "delivered": self.delivered,
                "failed": self.failed,
                "delayed": self.delayed,
                "displayed": self.displayed,
                "read": self.read,
                "opened": self.opened,
            },
            "recipients": [r.to_dict() for r in self.recipients],
            "unattributed": [e.to_dict() for e in self.unattributed],
        }

    def recipient(self, address: str) -> RecipientStatus | None:
        """The row for *address* (compared as the tracker compares), or None."""
        normal = _address.normalize(address)
        return next((r for r in self.recipients if r.recipient == normal), None)

    def _count(self, test: Callable[[RecipientStatus], bool]) -> int:
        return sum(1 for r in self.recipients if test(r))

    @property
    def delivered(self) -> int:
        """Recipients the message reached (delivered, relayed, expanded; inferred included)."""
        return self._count(lambda r: r.delivery in _REACHED)

    @property
    def failed(self) -> int:
        return self._count(lambda r: r.delivery is EventType.FAILED)

    @property
    def delayed(self) -> int:
        return self._count(lambda r: r.delivery is EventType.DELAYED)

    @property
    def displayed(self) -> int:
        """Recipients whose client reported displaying the message."""
        return self._count(lambda r: r.read is EventType.DISPLAYED)

    @property
    def read(self) -> int:
        """Recipients with any read evidence (see :attr:`RecipientStatus.read`)."""
        return self._count(lambda r: r.read is not None)

    @property
    def opened(self) -> int:
        """Recipients with at least one pixel open."""
        return self._count(lambda r: r.opens > 0)


def _message_status(
    message_id: str, sent: SentMessage | None, events: list[Event]
) -> MessageStatus:
    listed = sent.recipients if sent is not None else ()
    by_recipient: dict[str, list[Event]] = {r: [] for r in listed}
    unattributed = []
    for event in events:
        if event.recipient is None:
            unattributed.append(event)
        else:
            by_recipient.setdefault(event.recipient, []).append(event)
    extra = sorted(r for r in by_recipient if r not in set(listed))
    rows = tuple(
        _recipient_status(r, r in set(listed) or sent is None, by_recipient[r])
        for r in (*listed, *extra)
    )
    return MessageStatus(
        message_id=message_id,
        sent=sent,
        recipients=rows,
        unattributed=tuple(sorted(unattributed, key=_order)),
    )


def _plain(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, EventType | Source):
        return str(value)
    return value


def _order(event: Event) -> tuple[datetime, str]:
    # Event time first; the id breaks ties so the result never depends on
    # the order events were kept in.
    return (event.timestamp, event.event_id)


def _recipient_status(recipient: str, listed: bool, events: list[Event]) -> RecipientStatus:
    events = sorted(events, key=_order)
    delivery: Event | None = None
    for event in events:
        if not event.type.is_delivery or event.source is Source.PIXEL:
            continue
        if delivery is None or event.type in _FINAL or delivery.type not in _FINAL:
            delivery = event
    read: Event | None = None
    for event in events:
        rank = _READ_RANK.get(event.type)
        if rank is not None and (read is None or rank > _READ_RANK[read.type]):
            read = event
    opens = [e for e in events if e.type is EventType.OPENED]
    dsns = [e for e in events if e.source is Source.DSN]
    last_dsn = dsns[-1] if dsns else None
    delivery_type = delivery.type if delivery else None
    delivery_at = delivery.timestamp if delivery else None
    inferred = False
    if (delivery_type is None or delivery_type is EventType.DELAYED) and read is not None:
        # Any read evidence means the message reached the recipient's mailbox.
        delivery_type, delivery_at, inferred = EventType.DELIVERED, read.timestamp, True
    return RecipientStatus(
        recipient=recipient,
        listed=listed,
        delivery=delivery_type,
        delivery_at=delivery_at,
        delivery_inferred=inferred,
        read=read.type if read else None,
        read_at=read.timestamp if read else None,
        read_automatic=read.automatic if read else None,
        first_opened_at=opens[0].timestamp if opens else None,
        opens=len(opens),
        dsn_status=last_dsn.detail.get("status") if last_dsn else None,
        dsn_diagnostic=last_dsn.detail.get("diagnostic") if last_dsn else None,
        correlated_by=tuple(sorted({e.correlated_by for e in events})),
        sources=tuple(sorted({e.source for e in events})),
        events=len(events),
    )


# ---------------------------------------------------------------------------
# Reading the sent message


def _text(value: object) -> str | None:
    # compat32 gives str, or a Header for a field with undecodable bytes.
    return None if value is None else str(value)


def _message_id(value: object) -> str | None:
    """A Message-ID as every part of mdnkit compares it (see :mod:`mdnkit._ids`)."""
    return _ids.canonical(_text(value))


def _recipients(message: email.message.Message, given: Iterable[str] | None) -> tuple[str, ...]:
    if given is not None:
        if isinstance(given, str):
            raise RequestError("recipients must be a list of addresses, not one string")
        values = list(given)
        out = []
        for value in values:
            normal = _address.normalize(value) if isinstance(value, str) else None
            if normal is None or not _address.is_valid_mailbox(_address.addr_spec(value) or ""):
                raise RequestError(f"not an email address: {value!r}")
            out.append(normal)
    else:
        fields = [
            _text(v) or "" for name in ("To", "Cc", "Bcc") for v in (message.get_all(name) or [])
        ]
        out = [
            normal
            for _, address in email.utils.getaddresses(fields)
            if (normal := _address.normalize(address)) is not None
        ]
    return tuple(dict.fromkeys(out))


def _date(value: object) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    # RFC 5322 §3.3: "-0000" means the zone is unknown; UTC is the honest reading.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _subject(value: object) -> str | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return str(email.header.make_header(email.header.decode_header(text)))
    except (UnicodeError, LookupError, ValueError, email.errors.HeaderParseError):
        return text


def _utc_now() -> datetime:
    return datetime.now(UTC)
