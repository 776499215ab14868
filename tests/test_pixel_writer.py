"""The background writer: hits kept in batches, bounded, nothing raised."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from mdnkit import Tracker
from mdnkit.events import Event, EventType, Source
from mdnkit.pixel import Pixel
from mdnkit.pixel._writer import BackgroundWriter

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def hit(n: int, *, timestamp: datetime = NOW) -> Event:
    return Event(
        event_id=f"{n:032x}",
        type=EventType.OPENED,
        source=Source.PIXEL,
        message_id="m1@example.org",
        recipient="bob@example.net",
        timestamp=timestamp,
        automatic=False,
        correlated_by="token",
        detail={"open_kind": "human"},
    )


@pytest.mark.parametrize("store", ["memory", "sqlite"])
def test_everything_queued_is_kept(tmp_path: Path, store: str) -> None:
    tracker = Tracker(None if store == "memory" else tmp_path / "r.db")
    writer = BackgroundWriter(tracker, max_batch=7)
    for n in range(100):
        assert writer.put(hit(n)) is True
    writer.flush()
    assert sorted(e.event_id for e in tracker.events()) == [f"{n:032x}" for n in range(100)]
    for n in range(100, 110):
        writer.put(hit(n))
    writer.close()
    assert len(list(tracker.events())) == 110
    tracker.close()


def test_closed_writer_refuses(caplog: pytest.LogCaptureFixture) -> None:
    writer = BackgroundWriter(Tracker())
    writer.close()
    writer.close()  # twice is fine
    with caplog.at_level(logging.WARNING, logger="mdnkit.pixel"):
        assert writer.put(hit(1)) is False
    assert caplog.messages == [f"pixel writer closed: hit {1:032x} not recorded"]


def test_full_queue_drops_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    tracker = Tracker()
    entered, release = threading.Event(), threading.Event()

    def slow_subscriber(event: Event) -> None:
        entered.set()
        release.wait()

    tracker.subscribe(slow_subscriber)
    writer = BackgroundWriter(tracker, max_queue=1, max_wait=0)
    assert writer.put(hit(1)) is True
    assert entered.wait(timeout=30)  # the writer holds hit 1; the queue is empty
    with caplog.at_level(logging.WARNING, logger="mdnkit.pixel"):
        assert writer.put(hit(2)) is True
        for n in range(3, 3 + 1001):
            assert writer.put(hit(n)) is False
    release.set()
    writer.close()
    assert writer.dropped == 1001
    assert sorted(e.event_id for e in tracker.events()) == [f"{1:032x}", f"{2:032x}"]
    # Once, then every thousandth.
    assert caplog.messages == [
        f"pixel writer overloaded: 1 hits not recorded so far (latest {3:032x})",
        f"pixel writer overloaded: 1000 hits not recorded so far (latest {1002:032x})",
    ]


def test_a_full_queue_makes_the_request_wait_first() -> None:
    tracker = Tracker()
    entered, release = threading.Event(), threading.Event()

    def slow_subscriber(event: Event) -> None:
        entered.set()
        release.wait()

    tracker.subscribe(slow_subscriber)
    writer = BackgroundWriter(tracker, max_queue=1, max_wait=60)
    writer.put(hit(1))
    assert entered.wait(timeout=30)
    writer.put(hit(2))  # fills the queue
    outcome: list[bool] = []
    waiting = threading.Thread(target=lambda: outcome.append(writer.put(hit(3))))
    waiting.start()
    release.set()  # the writer drains; the waiting put gets its room
    waiting.join()
    writer.close()
    assert outcome == [True]
    assert writer.dropped == 0
    assert len(list(tracker.events())) == 3


def test_a_bad_event_does_not_sink_its_batch(caplog: pytest.LogCaptureFixture) -> None:
    tracker = Tracker()
    entered, release = threading.Event(), threading.Event()
    first = True

    def gate(event: Event) -> None:
        nonlocal first
        if first:
            first = False
            entered.set()
            release.wait()

    tracker.subscribe(gate)
    writer = BackgroundWriter(tracker)
    writer.put(hit(0))
    assert entered.wait(timeout=30)
    # These three queue up behind the gate and are kept as one batch.
    writer.put(hit(1))
    writer.put(hit(2, timestamp=datetime(2026, 11, 27, 12, 0)))  # naive: refused
    writer.put(hit(3))
    with caplog.at_level(logging.ERROR, logger="mdnkit.pixel"):
        release.set()
        writer.close()
    assert sorted(e.event_id for e in tracker.events()) == [f"{n:032x}" for n in (0, 1, 3)]
    assert caplog.messages == [
        "a batch of 3 pixel hits failed; keeping them one by one",
        f"pixel hit {2:032x} not recorded",
    ]


def test_pixel_background_app(tmp_path: Path) -> None:
    import io
    from wsgiref.util import setup_testing_defaults

    with Tracker(tmp_path / "r.db") as tracker:
        pixel = Pixel(tracker, keys=[b"k" * 32], base_url="https://t.example.org/o/")
        url = pixel.url("m1@example.org", "bob@example.net")
        app = pixel.wsgi_app(background=True)
        for _ in range(25):
            environ = {"PATH_INFO": url[len("https://t.example.org") :], "wsgi.input": io.BytesIO()}
            setup_testing_defaults(environ)
            environ["HTTP_USER_AGENT"] = "Thunderbird/128"
            app(environ, lambda s, h, e=None: None)  # type: ignore[arg-type,misc]
        app.flush()
        assert tracker.status("m1@example.org").recipients[0].opens == 25
        app.close()


class _Spy:
    """A tracker that records the batches it is given."""

    def __init__(self, *, batch_method: bool = True) -> None:
        self.tracker = Tracker()
        self.batches: list[list[str]] = []
        self.arrived = threading.Event()
        if batch_method:
            self.add_many = self._add_many

    @property
    def store(self) -> object:
        return self.tracker.store

    def add(self, event: Event) -> Event:
        self.batches.append([event.event_id])
        self.arrived.set()
        return self.tracker.add(event)

    def _add_many(self, events: list[Event]) -> tuple[Event, ...]:
        self.batches.append([e.event_id for e in events])
        self.arrived.set()
        return self.tracker.add_many(events)


def test_a_full_batch_is_kept_without_waiting_for_the_delay() -> None:
    spy = _Spy()
    writer = BackgroundWriter(spy, max_batch=10, max_delay=3600)  # type: ignore[arg-type]
    for n in range(10):
        writer.put(hit(n))
    assert spy.arrived.wait(timeout=30)  # not an hour
    assert spy.batches == [[f"{n:032x}" for n in range(10)]]
    writer.close()


def test_a_quiet_hit_is_kept_after_the_delay_without_a_flush() -> None:
    spy = _Spy()
    writer = BackgroundWriter(spy, max_delay=0.01)  # type: ignore[arg-type]
    writer.put(hit(1))
    assert spy.arrived.wait(timeout=30)
    assert spy.batches == [[f"{1:032x}"]]
    writer.put(hit(2))
    writer.flush()
    assert spy.batches == [[f"{1:032x}"], [f"{2:032x}"]]
    writer.close()
    writer.flush()  # after close: nothing to wait for


def test_batches_are_bounded_and_keep_the_order() -> None:
    spy = _Spy()
    writer = BackgroundWriter(spy, max_batch=7, max_delay=3600)  # type: ignore[arg-type]
    for n in range(100):
        writer.put(hit(n))
    writer.close()  # keeps everything queued, delay or not
    assert all(len(batch) <= 7 for batch in spy.batches)
    assert [i for batch in spy.batches for i in batch] == [f"{n:032x}" for n in range(100)]


def test_a_tracker_without_add_many_gets_one_transaction_per_batch() -> None:
    spy = _Spy(batch_method=False)
    writer = BackgroundWriter(spy, max_delay=3600)  # type: ignore[arg-type]
    for n in range(5):
        writer.put(hit(n))
    writer.flush()
    assert spy.batches == [[f"{n:032x}"] for n in range(5)]
    assert len(list(spy.tracker.events())) == 5
    writer.close()


def test_prepare_turns_queued_items_into_events(caplog: pytest.LogCaptureFixture) -> None:
    class Raw:
        def __init__(self, token_id: str) -> None:
            self.token_id = token_id

    batches: list[list[str]] = []

    def prepare(items: list[Raw]) -> list[Event]:
        batches.append([item.token_id for item in items])
        if any(item.token_id == "bad" for item in items):
            raise ValueError("cannot prepare")
        return [hit(int(item.token_id)) for item in items]

    tracker = Tracker()
    writer = BackgroundWriter(tracker, prepare=prepare, max_delay=3600)
    for token_id in ("1", "bad", "2"):
        writer.put(Raw(token_id))
    with caplog.at_level(logging.ERROR, logger="mdnkit.pixel"):
        writer.close()
    assert batches == [["1", "bad", "2"], ["1"], ["bad"], ["2"]]
    assert sorted(e.event_id for e in tracker.events()) == [f"{1:032x}", f"{2:032x}"]
    assert caplog.messages == [
        "a batch of 3 pixel hits failed; keeping them one by one",
        "pixel hit for token bad not recorded",
    ]


def test_queued_hits_are_kept_at_a_normal_exit_without_close(tmp_path: Path) -> None:
    import subprocess
    import sys
    import textwrap

    db = tmp_path / "r.db"
    program = textwrap.dedent(
        f"""
        from datetime import UTC, datetime
        from mdnkit import Tracker
        from mdnkit.events import Event, EventType, Source
        from mdnkit.pixel._writer import BackgroundWriter

        tracker = Tracker({str(db)!r})
        writer = BackgroundWriter(tracker, max_delay=3600)  # nothing written before exit
        for n in range(50):
            writer.put(Event(event_id=f"{{n:032x}}", type=EventType.OPENED, source=Source.PIXEL,
                             message_id="m1@example.org", recipient="bob@example.net",
                             timestamp=datetime(2026, 11, 27, tzinfo=UTC), automatic=False,
                             correlated_by="token", detail={{}}))
        """
    )
    subprocess.run([sys.executable, "-c", program], check=True, timeout=120)
    with Tracker(db) as tracker:
        assert sorted(e.event_id for e in tracker.events()) == [f"{n:032x}" for n in range(50)]


def test_many_request_threads_lose_nothing(tmp_path: Path) -> None:
    with Tracker(tmp_path / "r.db") as tracker:
        writer = BackgroundWriter(tracker, max_batch=50, max_delay=0.001)

        def requests(first: int) -> None:
            for n in range(first, first + 300):
                assert writer.put(hit(n)) is True

        threads = [threading.Thread(target=requests, args=(k * 1000,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        writer.flush()
        expected = sorted(f"{k * 1000 + n:032x}" for k in range(8) for n in range(300))
        assert sorted(e.event_id for e in tracker.events()) == expected
        writer.close()
        assert writer.dropped == 0
