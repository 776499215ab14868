"""A conformance suite for :class:`~mdnkit.store.Store` implementations.

Subclass :class:`StoreContract`, say how to make an empty store, and let
pytest collect it::

    from mdnkit.store.contract import StoreContract

    class TestMyStore(StoreContract):
        def make_store(self):
            return MyStore()

Every ``test_*`` method opens a fresh store, checks one rule of the
protocol and closes it.  A persistent store may also override
:meth:`StoreContract.reopen` so that durability across close and reopen
is checked.  The suite needs no test framework at import time: failures
are plain :class:`AssertionError` with both values shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from ..errors import MdnkitError, RequestError, StoreError
from ..events import Event, EventType, Source
from ._protocol import BatchStore, Store
from ._records import SentMessage

__all__ = ["StoreContract"]

_T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
_PARIS = timezone(timedelta(hours=1))


def _sent(n: int, *, envelope_id: str | None = None, minutes: int = 0) -> SentMessage:
    return SentMessage(
        message_id=f"m{n}@sender.example",
        recipients=(f"a{n}@one.example", f"B{n}@two.example"),
        sent_at=_T0 + timedelta(minutes=minutes),
        envelope_id=envelope_id,
        subject=f"Quarterly report n°{n}",
    )


def _event(
    n: int,
    *,
    message_id: str | None = "m1@sender.example",
    minutes: int = 0,
    detail: dict[str, str] | None = None,
) -> Event:
    return Event(
        event_id=f"ev{n:04d}",
        type=EventType.DISPLAYED,
        source=Source.MDN,
        message_id=message_id,
        recipient="a1@one.example",
        # A non-UTC offset: stores must give back the same offset.
        timestamp=(_T0 + timedelta(minutes=minutes)).astimezone(_PARIS),
        automatic=False,
        correlated_by="original-message-id" if message_id else "none",
        detail=detail if detail is not None else {"reporting_ua": "Mailer ü; 1.0"},
    )


def _eq(actual: object, expected: object) -> None:
    if actual != expected:
        raise AssertionError(f"expected {expected!r}, got {actual!r}")


def _raises(kind: type[BaseException], action: Callable[[], object]) -> BaseException:
    try:
        action()
    except kind as exc:
        return exc
    raise AssertionError(f"expected {kind.__name__}")


class StoreContract:
    """The rules every store follows; subclass and define :meth:`make_store`."""

    def make_store(self) -> Store:
        raise NotImplementedError("define make_store() to return a new, empty store")

    def reopen(self, store: Store) -> Store | None:
        """A new store on the same data as the closed *store*, or None if not persistent."""
        return None

    def _with(self, check: Callable[[Store], None]) -> None:
        store = self.make_store()
        try:
            check(store)
        finally:
            store.close()

    # -- shape ------------------------------------------------------------

    def test_is_a_store(self) -> None:
        self._with(lambda store: _eq(isinstance(store, Store), True))

    # -- sent messages ----------------------------------------------------

    def test_sent_round_trip(self) -> None:
        def check(store: Store) -> None:
            sent = _sent(1, envelope_id="env-1")
            _eq(store.add_sent(sent), True)
            _eq(store.get_sent("m1@sender.example"), sent)
            _eq(store.get_sent("m2@sender.example"), None)

        self._with(check)

    def test_sent_first_record_wins(self) -> None:
        def check(store: Store) -> None:
            first = _sent(1)
            store.add_sent(first)
            other = SentMessage(
                message_id=first.message_id, recipients=("x@y.example",), sent_at=_T0
            )
            _eq(store.add_sent(other), False)
            _eq(store.get_sent(first.message_id), first)

        self._with(check)

    def test_sent_by_envelope(self) -> None:
        def check(store: Store) -> None:
            store.add_sent(_sent(1, envelope_id="env-A"))
            store.add_sent(_sent(2, envelope_id="env-B"))
            store.add_sent(_sent(3))
            _eq(store.sent_by_envelope("env-B"), _sent(2, envelope_id="env-B"))
            _eq(store.sent_by_envelope("env-C"), None)

        self._with(check)

    def test_sent_messages_oldest_first(self) -> None:
        def check(store: Store) -> None:
            for n, minutes in ((1, 30), (2, -5), (3, 10)):
                store.add_sent(_sent(n, minutes=minutes))
            _eq(
                [s.message_id for s in store.sent_messages()],
                ["m2@sender.example", "m3@sender.example", "m1@sender.example"],
            )

        self._with(check)

    # -- events -----------------------------------------------------------

    def test_event_round_trip(self) -> None:
        def check(store: Store) -> None:
            event = _event(1)
            seq = store.add_event(event)
            if not isinstance(seq, int):
                raise AssertionError(f"add_event returned {seq!r}, not a sequence number")
            got = store.get_event("ev0001")
            _eq(got, event)
            _eq(got.timestamp.utcoffset() if got else None, timedelta(hours=1))
            _eq(store.get_event("nope"), None)

        self._with(check)

    def test_duplicate_event_adds_nothing(self) -> None:
        def check(store: Store) -> None:
            first = _event(1)
            store.add_event(first)
            again = _event(1, detail={"changed": "yes"})
            _eq(store.add_event(again), None)
            _eq(store.get_event("ev0001"), first)
            _eq([e for _, e in store.events()], [first])

        self._with(check)

    def test_sequence_grows(self) -> None:
        def check(store: Store) -> None:
            seqs = [store.add_event(_event(n)) for n in range(5)]
            numbers = [s for s in seqs if s is not None]
            _eq(len(numbers), 5)
            _eq(sorted(set(numbers)), numbers)
            _eq([s for s, _ in store.events()], numbers)

        self._with(check)

    def test_replace_event_gets_new_sequence(self) -> None:
        def check(store: Store) -> None:
            untied = _event(1, message_id=None, detail={"ref_message_id": "m9@sender.example"})
            first = store.add_event(untied)
            store.add_event(_event(2))
            cursor = max(s for s, _ in store.events())
            tied = _event(1, message_id="m9@sender.example")
            second = store.replace_event(tied)
            if first is None or second <= cursor:
                raise AssertionError(f"replace gave {second}, not above {cursor}")
            _eq(store.get_event("ev0001"), tied)
            _eq(list(store.events(since=cursor)), [(second, tied)])
            _eq(list(store.unmatched()), [])

        self._with(check)

    def test_replace_unknown_event(self) -> None:
        def check(store: Store) -> None:
            error = _raises(StoreError, lambda: store.replace_event(_event(7)))
            _eq(str(error), "no event ev0007 to replace")

        self._with(check)

    def test_events_by_message(self) -> None:
        def check(store: Store) -> None:
            store.add_event(_event(1, message_id="m1@sender.example"))
            store.add_event(_event(2, message_id="m2@sender.example"))
            store.add_event(_event(3, message_id=None))
            store.add_event(_event(4, message_id="m1@sender.example"))
            ids = [e.event_id for _, e in store.events(message_id="m1@sender.example")]
            _eq(ids, ["ev0001", "ev0004"])
            _eq([e.event_id for _, e in store.events()], ["ev0001", "ev0002", "ev0003", "ev0004"])

        self._with(check)

    def test_events_since_sequence(self) -> None:
        def check(store: Store) -> None:
            seqs = [store.add_event(_event(n)) for n in range(4)]
            after = seqs[1]
            if after is None:
                raise AssertionError("no sequence number")
            _eq([e.event_id for _, e in store.events(since=after)], ["ev0002", "ev0003"])
            _eq(list(store.events(since=after + 1000)), [])

        self._with(check)

    def test_events_since_datetime(self) -> None:
        def check(store: Store) -> None:
            for n, minutes in ((1, 0), (2, 60), (3, 30), (4, 61)):
                store.add_event(_event(n, minutes=minutes))
            since = _T0 + timedelta(minutes=30)  # given in UTC, events kept at +01:00
            _eq([e.event_id for _, e in store.events(since=since)], ["ev0002", "ev0003", "ev0004"])

        self._with(check)

    def test_events_since_rejects_other_values(self) -> None:
        def check(store: Store) -> None:
            naive = _raises(RequestError, lambda: list(store.events(since=datetime(2026, 1, 1))))
            _eq(str(naive), "since must be a timezone-aware datetime")
            text = _raises(RequestError, lambda: list(store.events(since="5")))  # type: ignore[arg-type]
            _eq(str(text), "since must be an int sequence number or a datetime, not '5'")

        self._with(check)

    def test_many_events_are_all_iterated(self) -> None:
        def check(store: Store) -> None:
            with store.transaction():
                for n in range(1234):
                    store.add_event(_event(n, message_id="m1@sender.example"))
            _eq(sum(1 for _ in store.events(message_id="m1@sender.example")), 1234)
            seqs = [s for s, _ in store.events()]
            _eq(seqs, sorted(seqs))

        self._with(check)

    def test_unmatched_lookups(self) -> None:
        def check(store: Store) -> None:
            a = _event(1, message_id=None, detail={"ref_message_id": "m5@sender.example"})
            b = _event(2, message_id=None, detail={"envelope_id": "env-5"})
            c = _event(3, message_id=None, detail={})
            store.add_event(a)
            store.add_event(b)
            store.add_event(c)
            store.add_event(_event(4, message_id="m5@sender.example"))
            _eq([e for _, e in store.unmatched()], [a, b, c])
            _eq([e for _, e in store.unmatched(ref_message_id="m5@sender.example")], [a])
            _eq([e for _, e in store.unmatched(envelope_id="env-5")], [b])
            _eq(list(store.unmatched(ref_message_id="m6@sender.example")), [])

        self._with(check)

    # -- batches (optional: BatchStore) ---------------------------------------

    def _with_batch(self, check: Callable[[BatchStore], None]) -> None:
        def run(store: Store) -> None:
            if isinstance(store, BatchStore):  # a store without them is not checked here
                check(store)

        self._with(run)

    def test_add_events_is_add_event_for_each(self) -> None:
        def check(store: BatchStore) -> None:
            kept = store.add_event(_event(2))
            _eq(store.add_events([]), [])
            seqs = store.add_events([_event(1), _event(2), _event(3), _event(1, minutes=5)])
            _eq([seq is None for seq in seqs], [False, True, False, True])
            if kept is None or seqs[0] is None or seqs[2] is None:
                raise AssertionError(f"expected sequence numbers, got {kept!r} and {seqs!r}")
            _eq(kept < seqs[0] < seqs[2], True)
            # What was kept first stays; the pairs say which number each got.
            _eq(
                list(store.events()),
                [(kept, _event(2)), (seqs[0], _event(1)), (seqs[2], _event(3))],
            )
            _eq(list(store.events(since=seqs[0])), [(seqs[2], _event(3))])

        self._with_batch(check)

    def test_add_events_many(self) -> None:
        def check(store: BatchStore) -> None:
            events = [_event(n, minutes=n) for n in range(1, 1202)]
            seqs = store.add_events(events)
            _eq(all(seq is not None for seq in seqs), True)
            _eq(sorted(seqs, key=lambda s: s or 0), seqs)
            _eq([e for _, e in store.events()], events)
            again = store.add_events([*events[::-100], _event(5000)])
            _eq([seq is None for seq in again], [True] * 13 + [False])

        self._with_batch(check)

    def test_add_events_joins_a_transaction(self) -> None:
        def check(store: BatchStore) -> None:
            def fail() -> None:
                with store.transaction():
                    store.add_events([_event(1), _event(2)])
                    raise KeyError("boom")

            _raises(KeyError, fail)
            _eq(list(store.events()), [])
            _eq(store.add_events([_event(2)]) != [None], True)

        self._with_batch(check)

    def test_get_tokens(self) -> None:
        def check(store: BatchStore) -> None:
            store.put_token("tok1", "m1@sender.example", "a1@one.example")
            store.put_token("tok2", "m2@sender.example", "b@two.example")
            _eq(store.get_tokens([]), {})
            _eq(
                store.get_tokens(["tok2", "nope", "tok1", "tok2"]),
                {
                    "tok1": ("m1@sender.example", "a1@one.example"),
                    "tok2": ("m2@sender.example", "b@two.example"),
                },
            )

        self._with_batch(check)

    # -- tokens -------------------------------------------------------------

    def test_tokens(self) -> None:
        def check(store: Store) -> None:
            store.put_token("tok1", "m1@sender.example", "a1@one.example")
            store.put_token("tok1", "m2@sender.example", "b@two.example")
            _eq(store.get_token("tok1"), ("m1@sender.example", "a1@one.example"))
            _eq(store.get_token("tok2"), None)

        self._with(check)

    # -- transactions ---------------------------------------------------------

    def test_transaction_rolls_back(self) -> None:
        def check(store: Store) -> None:
            store.add_event(_event(1))

            def fail() -> None:
                with store.transaction():
                    store.add_sent(_sent(1))
                    store.add_event(_event(2))
                    store.replace_event(_event(1, detail={"tied": "yes"}))
                    store.put_token("tok", "m1@sender.example", "a1@one.example")
                    with store.transaction():  # nested: joins the outer one
                        store.add_event(_event(3))
                    raise KeyError("boom")

            _raises(KeyError, fail)
            _eq(store.get_sent("m1@sender.example"), None)
            _eq([e for _, e in store.events()], [_event(1)])
            _eq(store.get_token("tok"), None)

        self._with(check)

    def test_threads_never_share_a_sequence_number(self) -> None:
        def check(store: Store) -> None:
            seqs: list[int | None] = []
            lock = threading.Lock()

            def work(base: int) -> None:
                for n in range(base, base + 50):
                    seq = store.add_event(_event(n))
                    with lock:
                        seqs.append(seq)

            threads = [threading.Thread(target=work, args=(k * 100,)) for k in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            _eq(len(set(seqs)), 200)
            _eq(sum(1 for _ in store.events()), 200)

        self._with(check)

    # -- life cycle -----------------------------------------------------------

    def test_closed_store_refuses_work(self) -> None:
        store = self.make_store()
        store.close()
        error = _raises(MdnkitError, lambda: store.get_sent("m1@sender.example"))
        _eq(type(error), StoreError)
        _eq(str(error), "the store is closed")

    def test_reopen_keeps_everything(self) -> None:
        store = self.make_store()
        store.add_sent(_sent(1, envelope_id="env-1"))
        store.add_event(_event(1))
        store.put_token("tok", "m1@sender.example", "a1@one.example")
        store.close()
        again = self.reopen(store)
        if again is None:
            return  # not a persistent store
        try:
            _eq(again.get_sent("m1@sender.example"), _sent(1, envelope_id="env-1"))
            _eq([e for _, e in again.events()], [_event(1)])
            _eq(again.get_token("tok"), ("m1@sender.example", "a1@one.example"))
            seq = again.add_event(_event(2))
            _eq(seq is not None and seq > 1, True)
        finally:
            again.close()
