"""Mutation fuzzing: every reader, fed damaged and hostile mail, answers or refuses cleanly.

The seeds are the project's own fixtures, the bundled samples and a few
inline messages (``tests/fuzz_corpus.py``); hypothesis draws a short list
of mutations (bit flips, truncation, duplicated lines, stray boundaries,
CR/LF/NUL, storms of encoded words, comments and quotes, deep nesting,
splices) and shrinks a failure to the fewest edits.

The suite runs the ``default`` profile (100 examples per test); the long
run is ``HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=N`` (see
``benchmarks/fuzz_long.py`` for the million-input loop).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

import fuzz_corpus as corpus
import mdnkit
from mdnkit.errors import MdnkitError, ParseError
from mdnkit.model import DSN, MDN, Disposition
from mdnkit.request import ReceiptRequest
from mdnkit.respond import Decision

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# Mostly small edits; a storm now and then (size up to 2000 repeats).
OPS = st.lists(
    st.tuples(
        st.integers(0, len(corpus.KINDS) - 1),
        st.integers(0, 1 << 20),
        st.integers(0, 8) | st.integers(0, 2000),
        st.integers(0, 1 << 16),
    ),
    min_size=1,
    max_size=6,
)
SEED = st.integers(0, len(corpus.SEEDS) - 1)


def damaged(index: int, ops: list[tuple[int, int, int, int]]) -> bytes:
    return bytes(corpus.mutate(corpus.SEEDS[index], ops))


def refusals(exc: BaseException) -> list[MdnkitError]:
    """The mdnkit errors in *exc*; anything else fails the test (re-raised)."""
    if isinstance(exc, MdnkitError):
        return [exc]
    if isinstance(exc, ExceptionGroup):
        return [e for sub in exc.exceptions for e in refusals(sub)]
    raise exc


def assert_safe_message(error: MdnkitError) -> None:
    """str(error) never carries a control character to the user's terminal."""
    lines = str(error).split("\n")
    assert all(line.isprintable() for line in lines), repr(str(error))


# ---------------------------------------------------------------------------
# The corpus itself


def test_every_seed_is_read_without_error() -> None:
    """The unmutated seeds are the baseline: each parses (as a report or as None)."""
    names = corpus.seed_names()
    assert len(names) == len(corpus.SEEDS) >= 20
    for name, data in zip(names, corpus.SEEDS, strict=True):
        found = mdnkit.parse(data)
        if name.startswith("sample:sent-") or name == "inline:request":
            assert found is None, name
        else:
            assert isinstance(found, MDN | DSN), name


def test_mutations_are_deterministic_and_change_the_input() -> None:
    seed = corpus.SEEDS[0]
    for kind in range(len(corpus.KINDS)):
        ops = [(kind, 300, 3, 5)]
        once = corpus.mutate(seed, ops)
        assert once == corpus.mutate(seed, ops), corpus.KINDS[kind]
        assert once != seed, corpus.KINDS[kind]


# ---------------------------------------------------------------------------
# parse and parse_all


@given(SEED, OPS)
def test_parse_gives_a_report_none_or_a_parse_error(
    index: int, ops: list[tuple[int, int, int, int]]
) -> None:
    data = damaged(index, ops)
    outcomes: dict[bool, object] = {}
    for strict in (False, True):
        try:
            outcomes[strict] = mdnkit.parse(data, strict=strict)
        except BaseException as exc:  # refusals() re-raises strangers
            errors = refusals(exc)
            assert errors
            for error in errors:
                assert_safe_message(error)
                assert isinstance(error, ParseError)
            continue
    lenient = outcomes.get(False)
    if False in outcomes and lenient is not None:
        assert isinstance(lenient, MDN | DSN)
        # What a report carries is plain data, JSON-ready, and gives events.
        json.dumps(lenient.to_dict())
        lenient.events(received_at=RECEIVED)
    if True in outcomes:
        strict_found = outcomes[True]
        # A strict success has nothing to complain about, and agrees with lenient.
        assert strict_found is None or strict_found.defects == ()  # type: ignore[attr-defined]
        assert outcomes.get(False) == strict_found


@given(SEED, OPS)
def test_parse_all_agrees_with_parse(index: int, ops: list[tuple[int, int, int, int]]) -> None:
    data = damaged(index, ops)
    try:
        every = mdnkit.parse_all(data)
    except ParseError as error:
        # parse_all reads every branch; only a resource bound can stop it
        # where parse (which stops at the first report) might not.
        assert_safe_message(error)
        return
    assert all(isinstance(r, MDN | DSN) for r in every)
    first = mdnkit.parse(data)
    assert (first is None) == (every == ())
    if first is not None:
        assert type(first) is type(every[0])
        assert first.message_ref == every[0].message_ref


@given(SEED, OPS, st.sampled_from(["utf-8", "latin-1", "ascii"]))
def test_str_input_reads_like_bytes(
    index: int, ops: list[tuple[int, int, int, int]], codec: str
) -> None:
    """str input (any code points, lone surrogates too) never escapes as a stranger."""
    text = damaged(index, ops).decode(codec, "surrogateescape")
    try:
        found = mdnkit.parse(text)
    except ParseError as error:
        assert_safe_message(error)
        return
    assert found is None or isinstance(found, MDN | DSN)


# ---------------------------------------------------------------------------
# The other readers of untrusted mail


@given(SEED, OPS)
def test_receipt_request_and_decide(index: int, ops: list[tuple[int, int, int, int]]) -> None:
    data = damaged(index, ops)
    try:
        request = mdnkit.receipt_request(data)
    except MdnkitError as error:
        assert_safe_message(error)
    else:
        assert request is None or isinstance(request, ReceiptRequest)
    try:
        decision = mdnkit.decide(data, me="reader@receiver.example")
    except MdnkitError as error:
        assert_safe_message(error)
    else:
        assert isinstance(decision, Decision)
        # Never "send" without the user's consent (RFC 8098 §2.1): the
        # default policy has auto_send=False.
        assert decision.action != "send"


@given(SEED, OPS)
def test_tracker_ingest_is_clean_and_idempotent(
    index: int, ops: list[tuple[int, int, int, int]]
) -> None:
    data = damaged(index, ops)
    tracker = mdnkit.Tracker()
    try:
        first = tracker.ingest(data, received_at=RECEIVED)
    except ParseError as error:
        assert_safe_message(error)
        assert list(tracker.events()) == []
        return
    kept = list(tracker.events())
    assert tracker.ingest(data, received_at=RECEIVED) == first
    assert list(tracker.events()) == kept
    # Nothing is lost: every event returned is kept (matched or not).
    assert {e.event_id for e in first} <= {e.event_id for e in kept}


STORM = st.sampled_from(["(", ")", '"', "\\", ";", "/", ",", "=?", "?=", "\r\n ", "\x00", " "])
WORD = st.sampled_from(
    [
        "manual-action",
        "automatic-action",
        "MDN-sent-manually",
        "MDN-sent-automatically",
        "displayed",
        "deleted",
        "error",
        "x-weird",
    ]
)


@given(
    st.lists(WORD | STORM, max_size=40).map("".join),
    st.integers(0, 5000),
    st.sampled_from(["(", '"', "(\\", "((a)", '"\\']),
)
def test_parse_disposition_under_storms(text: str, storm: int, unit: str) -> None:
    value = "manual-action/MDN-sent-manually; displayed" + unit * storm + text
    for candidate in (text, value, unit * storm + value):
        try:
            found = mdnkit.parse_disposition(candidate)
        except ParseError as error:
            assert_safe_message(error)
            position = error.position
        else:
            assert isinstance(found, Disposition)
            continue
        # The caret points inside the value (or just past its end).
        assert position is None or 0 <= position <= len(candidate)
