"""Resource bounds: a bomb of each kind is refused or read, in bounded memory.

Each bomb (``tests/fuzz_corpus.py``: ``BOMBS``) goes through every entry
point that reads a stranger's mail.  The outcome is exact (the whole
``ParseError`` message, or the values of the report), and the peak of
Python allocations, measured with ``tracemalloc``, stays under four times
the input plus 32 MB (the largest fixed cost is the 100,000 report fields
``max_report_fields`` allows, about 24 MB of field tuples).  Nothing here is timed: ``benchmarks/bench_bombs.py``
prints the times.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

import fuzz_corpus as corpus
import mdnkit
from mdnkit.errors import ParseError
from mdnkit.model import (
    DSN,
    MDN,
    ActionMode,
    AddressField,
    Defect,
    Disposition,
    DispositionType,
    DSNAction,
    SendingMode,
)

BOMBS = {bomb.name: bomb for bomb in corpus.BOMBS}
RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
MB = 1024 * 1024


def peak_of(call: Callable[[], object], *, measure: bool = True) -> tuple[object, int]:
    """What *call* returned (or raised), and the peak of memory it allocated.

    Tracing slows allocation-heavy code tenfold; ``measure=False`` only
    checks the outcome (for a second entry point over the same code).
    """
    if not measure:
        try:
            return call(), 0
        except ParseError as error:
            return error, 0
    tracemalloc.start()
    try:
        try:
            result: object = call()
        except ParseError as error:
            result = error
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def memory_bound(data: bytes) -> int:
    return 4 * len(data) + 32 * MB


@pytest.fixture(scope="module")
def built() -> dict[str, bytes]:
    """Each bomb built once for the module (some are tens of megabytes)."""
    return {}


def bomb(built: dict[str, bytes], name: str) -> bytes:
    if name not in built:
        built.clear()  # keep one big input alive at a time
        built[name] = BOMBS[name].build()
    return built[name]


# ---------------------------------------------------------------------------
# parse and parse_all


REFUSED = [name for name, b in BOMBS.items() if b.refused is not None]


@pytest.mark.parametrize("name", REFUSED)
@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(mdnkit.parse, id="parse"),
        pytest.param(lambda d: mdnkit.parse(d, strict=True), id="strict"),
        pytest.param(mdnkit.parse_all, id="parse_all"),
    ],
)
def test_bomb_is_refused(
    built: dict[str, bytes], name: str, entry: Callable[[bytes], object], request: Any
) -> None:
    data = bomb(built, name)
    measure = request.node.callspec.id.startswith("parse-")
    outcome, peak = peak_of(lambda: entry(data), measure=measure)
    assert isinstance(outcome, ParseError), outcome
    assert (outcome.code, str(outcome).split("\n")[0]) == ("limit-exceeded", BOMBS[name].refused)
    assert peak < memory_bound(data)
    # The error shows a bounded window of the input, never the bomb itself.
    assert len(str(outcome)) < 400


DISPLAYED = Disposition(
    action_mode=ActionMode.MANUAL, sending_mode=SendingMode.MANUAL, type=DispositionType.DISPLAYED
)
RCPT = AddressField("rfc822", "a@rcpt.example")


def test_balanced_comment_storm_is_read(built: dict[str, bytes]) -> None:
    data = bomb(built, "comment storm, balanced")
    found, peak = peak_of(lambda: mdnkit.parse(data))
    assert isinstance(found, MDN)
    assert (found.disposition, found.final_recipient, found.defects) == (DISPLAYED, RCPT, ())
    assert peak < memory_bound(data)


def test_quote_storm_in_a_recipient_is_kept_as_written(built: dict[str, bytes]) -> None:
    data = bomb(built, "quote storm in a recipient")
    found, peak = peak_of(lambda: mdnkit.parse(data))
    assert isinstance(found, DSN)
    (recipient,) = found.recipients
    assert recipient.final_recipient == AddressField("rfc822", '"\\' * 100_000 + "@x")
    assert recipient.action is DSNAction.FAILED
    assert peak < memory_bound(data)


@pytest.mark.parametrize(
    ("name", "field"),
    [("quote storm in In-Reply-To", "In-Reply-To"), ("comment storm in Message-ID", None)],
)
def test_header_storms_are_read(built: dict[str, bytes], name: str, field: str | None) -> None:
    data = bomb(built, name)
    found, peak = peak_of(lambda: mdnkit.parse(data))
    assert isinstance(found, DSN)
    assert found.message_id == "bomb@relay.example"
    assert [r.final_recipient for r in found.recipients] == [RCPT]
    # Whatever is recorded about the storm is short.
    assert all(d.field == field and len(d.message) < 400 for d in found.defects)
    assert peak < memory_bound(data)


def test_many_reports_first_is_read_all_are_refused(built: dict[str, bytes]) -> None:
    data = bomb(built, "1000 reports in one message")
    found, peak = peak_of(lambda: mdnkit.parse(data))
    assert isinstance(found, MDN)
    assert (found.disposition, found.final_recipient) == (DISPLAYED, RCPT)
    assert peak < memory_bound(data)
    refused, peak = peak_of(lambda: mdnkit.parse_all(data))
    assert isinstance(refused, ParseError)
    assert (refused.code, str(refused)) == (
        "limit-exceeded",
        "The message has more than 64 reports; refused.",
    )
    assert peak < memory_bound(data)


def test_encoded_words_in_subject_are_decoded(built: dict[str, bytes]) -> None:
    data = bomb(built, "encoded words in Subject")
    found, peak = peak_of(lambda: mdnkit.parse(data))
    assert isinstance(found, DSN)
    # RFC 2047 §6.2: white space between adjacent encoded words is dropped.
    assert found.subject == "aé" * corpus.ENCODED_WORDS
    assert found.defects == ()
    assert peak < memory_bound(data)


# ---------------------------------------------------------------------------
# The other readers of a stranger's mail


@pytest.mark.parametrize("name", list(BOMBS))
@pytest.mark.parametrize(
    "entry",
    [
        pytest.param(mdnkit.receipt_request, id="receipt_request"),
        pytest.param(lambda d: mdnkit.decide(d, me="reader@receiver.example"), id="decide"),
        pytest.param(
            lambda d: mdnkit.Tracker().ingest(d, received_at=RECEIVED), id="Tracker.ingest"
        ),
    ],
)
def test_other_readers_survive_every_bomb(
    built: dict[str, bytes], name: str, entry: Callable[[bytes], object], request: Any
) -> None:
    data = bomb(built, name)
    # Tracker.ingest reads with parse_all, whose memory is measured above;
    # tracing it again would only double the suite's time.
    measure = not request.node.callspec.id.startswith("Tracker.ingest")
    outcome, peak = peak_of(lambda: entry(data), measure=measure)
    if isinstance(outcome, ParseError):
        assert outcome.code == "limit-exceeded"
        assert len(str(outcome)) < 400
    assert peak < memory_bound(data)


def test_receipt_request_reads_a_bounded_number_of_fields() -> None:
    """A thousand DNT fields: the first eight are read, the rest recorded as skipped."""
    raw = b"".join(b"Disposition-Notification-To: a%d@x.example\r\n" % i for i in range(1000))
    request = mdnkit.receipt_request(raw + b"\r\n")
    assert request is not None
    assert request.addresses == tuple(f"a{i}@x.example" for i in range(8))
    assert request.defects[0] == Defect(
        "too-many-fields",
        "more than 8 Disposition-Notification-To fields; the rest were not read",
        "Disposition-Notification-To",
    )
