"""RFC 3463 status codes: the registry, describe() and the DSN Status field."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit._defects import Problems
from mdnkit.model import Defect, StatusCode
from mdnkit.statuscodes import CLASSES, REGISTRY, SUBJECTS, describe, parse_status

DESCRIBE = [
    ("2.0.0", "Success: Other undefined status"),
    ("2.1.5", "Success: Destination address valid"),
    ("4.2.2", "Persistent transient failure: Mailbox full"),
    ("4.4.7", "Persistent transient failure: Delivery time expired"),
    ("5.1.1", "Permanent failure: Bad destination mailbox address"),
    ("5.1.10", "Permanent failure: Recipient address has null MX"),
    ("5.2.3", "Permanent failure: Message length exceeds administrative limit"),
    ("5.3.4", "Permanent failure: Message too big for system"),
    ("5.5.0", "Permanent failure: Other or undefined protocol status"),
    ("5.6.7", "Permanent failure: Non-ASCII addresses not permitted for that sender/recipient"),
    ("5.7.1", "Permanent failure: Delivery not authorized, message refused"),
    ("5.7.26", "Permanent failure: Multiple authentication checks failed"),
    # Unregistered detail: the subject's meaning; unknown subject: the class.
    ("5.1.99", "Permanent failure: Addressing status"),
    ("4.9.1", "Persistent transient failure"),
    (" 5.1.1 ", "Permanent failure: Bad destination mailbox address"),
    # Not codes of a registered class.
    ("3.1.1", None),
    ("553", None),
    ("5.1", None),
    ("5.1.1234", None),
    ("55.1.1", None),
    ("", None),
    ("5.1.1 (comment)", None),
]


@pytest.mark.parametrize(("code", "meaning"), DESCRIBE)
def test_describe(code: str, meaning: str | None) -> None:
    assert describe(code) == meaning


def test_registry_entries_are_well_formed() -> None:
    assert len(REGISTRY) == len({(d.subject, d.detail) for d in REGISTRY.values()})
    for key, entry in REGISTRY.items():
        assert key == entry.code
        assert re.fullmatch(r"X\.[0-7]\.[0-9]{1,3}", key), key
        assert entry.subject in SUBJECTS
        assert entry.title
        assert entry.title == entry.title.strip()
        assert entry.title[0].isupper(), key
        assert re.fullmatch(r"RFC \d{4}( §3\.[1-8])?", entry.reference), entry.reference
        for klass in CLASSES:
            assert describe(f"{klass}.{entry.subject}.{entry.detail}") == (
                f"{CLASSES[klass]}: {entry.title}"
            )


def test_registry_covers_rfc3463_section_3() -> None:
    # RFC 3463 §3.1-§3.8: the number of detail codes defined in each subject.
    expected = {0: 1, 1: 9, 2: 5, 3: 6, 4: 8, 5: 6, 6: 6, 7: 8}
    counted = {
        subject: sum(
            1
            for d in REGISTRY.values()
            if d.subject == subject and d.reference.startswith("RFC 3463")
        )
        for subject in SUBJECTS
    }
    assert counted == expected
    assert all(
        REGISTRY[f"X.{s}.{n}"].reference.startswith("RFC 3463")
        for s, count in expected.items()
        for n in range(count)
    )


def test_status_code_meaning_uses_the_registry() -> None:
    assert StatusCode(code="5.1.1").meaning == "Permanent failure: Bad destination mailbox address"
    assert StatusCode(code="553 Too big", valid=False).meaning is None


def _status(value: str) -> tuple[StatusCode | None, tuple[Defect, ...]]:
    problems = Problems()
    return parse_status(value, problems, field="Status"), problems.defects()


PARSE_STATUS = [
    ("5.1.1", StatusCode(code="5.1.1"), ()),
    ("  2.0.0  ", StatusCode(code="2.0.0"), ()),
    ("4.4.7", StatusCode(code="4.4.7"), ()),
    ("5.7.26", StatusCode(code="5.7.26"), ()),
    ("5.123.999", StatusCode(code="5.123.999"), ()),
    (
        "5.0.0 (recipient reached disk quota)",
        StatusCode(code="5.0.0", comment="recipient reached disk quota"),
        (),
    ),
    (
        "4.4.1 (Persistent transient failure - routing/network: no answer from host)",
        StatusCode(
            code="4.4.1",
            comment="Persistent transient failure - routing/network: no answer from host",
        ),
        (),
    ),
    ("5.0.0(permanent failure)", StatusCode(code="5.0.0", comment="permanent failure"), ()),
    (
        "4.0.0 (a) (b)",
        StatusCode(code="4.0.0", comment="a b"),
        (),
    ),
    (
        "553 Exceeded maximum inbound message size",
        StatusCode(code="553 Exceeded maximum inbound message size", valid=False),
        (
            Defect(
                "malformed-status",
                "Expected an enhanced status code such as 5.1.1 (RFC 3463 class 2, 4 or 5)",
                "Status",
            ),
        ),
    ),
    (
        "3.1.1",
        StatusCode(code="3.1.1", valid=False),
        (
            Defect(
                "malformed-status",
                "Expected an enhanced status code such as 5.1.1 (RFC 3463 class 2, 4 or 5)",
                "Status",
            ),
        ),
    ),
    (
        "5.1.1000",
        StatusCode(code="5.1.1000", valid=False),
        (
            Defect(
                "malformed-status",
                "Expected an enhanced status code such as 5.1.1 (RFC 3463 class 2, 4 or 5)",
                "Status",
            ),
        ),
    ),
    (
        "smtp; 550 user unknown",
        StatusCode(code="smtp; 550 user unknown", valid=False),
        (
            Defect(
                "malformed-status",
                "Expected an enhanced status code such as 5.1.1 (RFC 3463 class 2, 4 or 5)",
                "Status",
            ),
        ),
    ),
    (
        "5.01.001",
        StatusCode(code="5.1.1"),
        (
            Defect(
                "status-leading-zero",
                "Status sub-fields must not have leading zeros; read 5.01.001 as 5.1.1",
                "Status",
            ),
        ),
    ),
    (
        "5.1.1 user unknown",
        StatusCode(code="5.1.1", comment="user unknown"),
        (
            Defect(
                "status-trailing-text",
                "Text after the status code should be a (comment)",
                "Status",
            ),
        ),
    ),
    ("", None, (Defect("empty-status", "The Status field is empty", "Status"),)),
    ("(only a comment)", None, (Defect("empty-status", "The Status field is empty", "Status"),)),
    (
        "5.0.0 (unclosed",
        StatusCode(code="5.0.0", comment="unclosed"),
        (Defect("unclosed-comment", "Comment is not closed: missing ')'", "Status"),),
    ),
]


@pytest.mark.parametrize(("value", "status", "defects"), PARSE_STATUS)
def test_parse_status(value: str, status: StatusCode | None, defects: tuple[Defect, ...]) -> None:
    assert _status(value) == (status, defects)


def test_invalid_status_keeps_its_parts_unknown() -> None:
    status, _ = _status("553 Too big")
    assert status is not None
    assert (status.klass, status.subject, status.detail, status.permanent) == (
        None,
        None,
        None,
        False,
    )


codes = st.tuples(st.sampled_from([2, 4, 5]), st.integers(0, 999), st.integers(0, 999)).map(
    lambda t: f"{t[0]}.{t[1]}.{t[2]}"
)
comments = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E, exclude_characters="()\\"),
    max_size=40,
).map(str.strip)


@given(codes, comments)
def test_rendered_status_reads_back(code: str, comment: str) -> None:
    value = f"{code} ({comment})" if comment else code
    status, defects = _status(value)
    assert defects == ()
    assert status == StatusCode(code=code, comment=comment or None)
    assert describe(code) is not None


_STATUS_PIECES = st.lists(
    st.sampled_from(
        [
            *("5.0.0", "4.4.7", "2.1.999", "5.01.1", "3.0.0", " ", "\t", "\n", "(", ")", "\\"),
            *('"', "permanent failure", "x", "; y", "\u00e9", "\u2028", "\xa0", "553"),
        ]
    ),
    max_size=8,
).map("".join)


@given(_STATUS_PIECES)
def test_plain_status_reads_as_the_careful_path(value: str) -> None:
    # parse_status reads a code and its one comment with a single match:
    # same value, same defects as the careful reading.
    from mdnkit.limits import DEFAULT_LIMITS
    from mdnkit.statuscodes import _read_status

    fast, careful = Problems(), Problems()
    got = parse_status(value, fast, field="Status", limits=DEFAULT_LIMITS)
    want = _read_status(value, careful, "Status", DEFAULT_LIMITS)
    assert (got, fast.defects()) == (want, careful.defects())


@pytest.mark.parametrize(
    ("value", "comment"),
    [
        ("5.0.0 (permanent failure)", "permanent failure"),
        ("4.0.0(x)", "x"),
        ("5.1.1 ()", None),
        ("5.1.1 ( spaced )", " spaced "),
    ],
)
def test_status_with_a_comment(value: str, comment: str | None) -> None:
    assert _status(value) == (StatusCode(code=value[:5], comment=comment), ())


@given(st.text(max_size=60))
def test_any_status_text_gives_a_value_or_none(value: str) -> None:
    status, _ = _status(value)
    assert status is None or isinstance(status, StatusCode)
    if status is not None and status.valid:
        assert describe(status.code) is not None


@pytest.mark.parametrize("comment", [None, "permanent failure"])
def test_status_code_fast_constructor_builds_the_dataclass(comment: str | None) -> None:
    from mdnkit.model import _status_code

    built = _status_code("5.1.1", comment)
    expected = StatusCode(code="5.1.1", comment=comment)
    assert (built, repr(built), hash(built)) == (expected, repr(expected), hash(expected))


def test_registered_codes_table_reads_as_parse_status() -> None:
    # The DSN reader takes the registered codes from a table of ready
    # values: each must be what parse_status reads, with nothing to record.
    from mdnkit.statuscodes import _REGISTERED

    assert len(_REGISTERED) == len(CLASSES) * len(REGISTRY)
    for code, status in _REGISTERED.items():
        problems = Problems()
        assert (status, problems.codes()) == (parse_status(code, problems), [])
        assert describe(code) == status.meaning
