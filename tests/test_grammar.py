"""Tests for the report-field grammar: fields, comments, addresses, ids, dates, Disposition."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit._defects import Problems
from mdnkit._grammar import (
    Field,
    Token,
    parse_address_field,
    parse_date,
    parse_disposition,
    parse_msg_id,
    read_fields,
    strip_comments,
    tokenize,
)
from mdnkit.errors import ParseError
from mdnkit.limits import DEFAULT_LIMITS, Limits
from mdnkit.model import ActionMode, AddressField, Disposition, DispositionType, SendingMode


def outcome(function: Callable[..., object], *args: object) -> tuple[object, ParseError | None]:
    """What *function* returns, or the ParseError it raises (anything else escapes)."""
    try:
        return function(*args), None
    except ParseError as error:
        return None, error


MANUAL = {"action_mode": ActionMode.MANUAL, "sending_mode": SendingMode.MANUAL}
AUTO = {"action_mode": ActionMode.AUTOMATIC, "sending_mode": SendingMode.AUTOMATIC}

# ---------------------------------------------------------------------------
# read_fields

F = Field

READ_FIELDS = [
    pytest.param(
        "Reporting-UA: pc.example.net; Mailer 2.0\r\n"
        "Final-Recipient: rfc822;ann@example.net\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n",
        [
            [
                F("Reporting-UA", "pc.example.net; Mailer 2.0", 1),
                F("Final-Recipient", "rfc822;ann@example.net", 2),
                F("Disposition", "manual-action/MDN-sent-manually; displayed", 3),
            ]
        ],
        [],
        id="crlf-one-group",
    ),
    pytest.param(
        "Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; a@example.net\n"
        "Action: failed\n\n\n\nFinal-Recipient: rfc822; b@example.net\nAction: delayed\n",
        [
            [F("Reporting-MTA", "dns; mx.example.net", 1)],
            [F("Final-Recipient", "rfc822; a@example.net", 3), F("Action", "failed", 4)],
            [F("Final-Recipient", "rfc822; b@example.net", 8), F("Action", "delayed", 9)],
        ],
        [],
        id="lf-groups-several-blank-lines",
    ),
    pytest.param(
        "\ufeff\r\n\r\nDisposition: automatic-action/MDN-sent-automatically;\r\n"
        "\tprocessed/error: authentication-failed\r\n",
        [
            [
                F(
                    "Disposition",
                    "automatic-action/MDN-sent-automatically;\tprocessed/error: "
                    "authentication-failed",
                    3,
                )
            ]
        ],
        [],
        id="bom-leading-blanks-folded",
    ),
    pytest.param(
        "Final-Recipient:rfc822;x@example.org\rDisposition :automatic-action/"
        "MDN-sent-automatically;processed   \r",
        [
            [
                F("Final-Recipient", "rfc822;x@example.org", 1),
                F("Disposition", "automatic-action/MDN-sent-automatically;processed", 2),
            ]
        ],
        [],
        id="bare-cr-no-space-space-before-colon",
    ),
    pytest.param(
        "A: 1\n   \t \nB: 2\n",
        [[F("A", "1", 1)], [F("B", "2", 3)]],
        [],
        id="white-space-only-line-separates",
    ),
    pytest.param(
        "  Reporting-UA: indented.example; X\nThis line has no colon\nB: 2\n",
        [[F("Reporting-UA", "indented.example; X", 1), F("B", "2", 3)]],
        ["orphan-continuation", "not-a-field"],
        id="orphan-continuation-and-junk",
    ),
    pytest.param(
        "   just text\nB: 2\n",
        [[F("B", "2", 2)]],
        ["orphan-continuation", "not-a-field"],
        id="orphan-continuation-not-a-field",
    ),
    pytest.param(
        "Original-Message-ID:\n <id@example.org>\nEmpty:\n",
        [[F("Original-Message-ID", "<id@example.org>", 1), F("Empty", "", 3)]],
        [],
        id="value-on-next-line-and-empty-value",
    ),
    pytest.param("", [], [], id="empty"),
    pytest.param("\n\n \n", [], [], id="only-blank"),
    pytest.param(
        "Final-Recipient: utf-8; j\u00e9r\u00f4me@example.fr\u2028x\n",
        [[F("Final-Recipient", "utf-8; j\u00e9r\u00f4me@example.fr\u2028x", 1)]],
        [],
        id="unicode-line-separator-is-not-a-line-end",
    ),
]


@pytest.mark.parametrize(("text", "groups", "codes"), READ_FIELDS)
def test_read_fields(text: str, groups: list[list[Field]], codes: list[str]) -> None:
    problems = Problems()
    assert read_fields(text, problems, DEFAULT_LIMITS) == groups
    assert problems.codes() == codes


def test_read_fields_defect_message() -> None:
    problems = Problems()
    read_fields("A: 1\nnonsense\n", problems, DEFAULT_LIMITS)
    assert [str(d) for d in problems.defects()] == [
        "not-a-field: Line 2 is not a 'name: value' field; skipped"
    ]


@pytest.mark.parametrize(
    ("text", "limits", "message"),
    [
        pytest.param(
            "A: 1\nB: 2\nC: 3\n",
            Limits(max_report_fields=2),
            "More than 2 fields in the report part",
            id="too-many-fields",
        ),
        pytest.param(
            "A: 1\nB: " + "x" * 200 + "\n",
            Limits(max_line_bytes=100),
            "The field at line 2 is longer than 100 bytes",
            id="long-line",
        ),
        pytest.param(
            "A: 1\nB: x\n" + " y\n" * 60,
            Limits(max_line_bytes=100),
            "The field at line 2 is longer than 100 bytes",
            id="long-folded-field",
        ),
        pytest.param(
            "A: " + "\u00e9" * 60 + "\n",
            Limits(max_line_bytes=100),
            "The field at line 1 is longer than 100 bytes",
            id="bytes-not-characters",
        ),
    ],
)
def test_read_fields_limits(text: str, limits: Limits, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_fields(text, Problems(), limits)
    assert caught.value.code == "limit-exceeded"
    assert str(caught.value) == message


# Lines made of the pieces that decide how a report part is read: names,
# colons, blank and white-space-only lines, folds, line ends of every kind.
_FIELD_TEXT = st.lists(
    st.sampled_from(
        [
            *("Action: failed", "Status:5.1.1", "X-A :b", "a:", " folded", "\tx", "  ", "\x0b", ""),
            *("junk", "Final-Recipient: rfc822; a@b", " ", "\u2028", "é: v", "n\x0c: v", ":"),
            *("B:\u00a0x\u00a0", "E:\t\tv\t ", "  \x85", " \t y  ", "D:   "),
            "\ufeffA: b",
        ]
    ),
    max_size=12,
).flatmap(lambda lines: st.sampled_from(["\n", "\r\n", "\r"]).map(lambda end: end.join(lines)))


@given(
    st.one_of(_FIELD_TEXT, st.text()),
    st.sampled_from(
        [DEFAULT_LIMITS, Limits(max_line_bytes=24, max_report_fields=3), Limits(max_line_bytes=9)]
    ),
)
def test_read_fields_fast_path_agrees_with_the_careful_reader(text: str, limits: Limits) -> None:
    # The findall() fast path must read exactly what the line-by-line
    # reader reads, and give up whenever the careful reader would record
    # a defect or go over a bound.
    from mdnkit._grammar import _group, _read_careful, _read_well_formed

    if text.startswith("\ufeff"):
        text = text[1:]
    # As read_groups hands them over: LF or CRLF line ends, no bare CR.
    if text.count("\r") != text.count("\r\n"):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    problems = Problems()
    careful, error = outcome(
        _read_careful, text.replace("\r\n", "\n").replace("\r", "\n"), problems, limits
    )
    fast = _read_well_formed(text, limits)
    if fast is not None:
        assert isinstance(careful, list)
        assert (fast, error, problems.codes()) == ([_group(g) for g in careful], None, [])
    elif limits is DEFAULT_LIMITS:
        # Short parts within the bounds: only a defect sends them there.
        assert problems.codes() != [], f"fast path gave up on a clean part: {text!r}"


@given(st.one_of(_FIELD_TEXT, st.text()))
def test_read_groups_pair_each_group_with_its_lower_cased_names(text: str) -> None:
    # read_groups is read_fields with the names of each group lower-cased,
    # whichever reader (fast or careful) read the part.
    from mdnkit._grammar import read_groups

    groups, error = outcome(read_groups, text, Problems(), DEFAULT_LIMITS)
    fields, same_error = outcome(read_fields, text, Problems(), DEFAULT_LIMITS)
    assert (error is None) == (same_error is None)
    if error is None:
        assert isinstance(groups, list)
        assert [group for group, _keys in groups] == fields
        assert [keys for _group, keys in groups] == [
            [name.lower() for name, _value, _line in group] for group, _keys in groups
        ]


@given(st.text())
def test_read_fields_any_text(text: str) -> None:
    problems = Problems()
    groups, error = outcome(read_fields, text, problems, DEFAULT_LIMITS)
    if error is not None:
        assert error.code == "limit-exceeded"
        return
    assert isinstance(groups, list)
    for group in groups:
        assert group
        for name, value, line in group:
            assert value == value.strip()
            assert name
            assert ":" not in name
            assert line >= 1


# ---------------------------------------------------------------------------
# strip_comments and tokenize

STRIP = [
    ("rfc822; a@example.org", "rfc822; a@example.org", ()),
    ("dns; mx.example.org (Postfix)", "dns; mx.example.org", ("Postfix",)),
    ("(lead) x (mid (nested \\) paren)) y", "x   y", ("lead", "mid (nested \\) paren)")),
    ('"(not a comment)" (is one)', '"(not a comment)"', ("is one",)),
    ('"quoted \\" (still quoted)" z', '"quoted \\" (still quoted)" z', ()),
    ("Wed, 20 Sep 1995 00:19:00 (EDT) -0400", "Wed, 20 Sep 1995 00:19:00   -0400", ("EDT",)),
    ("", "", ()),
]


@pytest.mark.parametrize(("value", "text", "comments"), STRIP)
def test_strip_comments(value: str, text: str, comments: tuple[str, ...]) -> None:
    problems = Problems()
    assert strip_comments(value, problems) == (text, comments)
    assert not problems


def test_unclosed_comment_is_a_defect_and_runs_to_the_end() -> None:
    problems = Problems()
    assert strip_comments("a@example.org (unclosed", problems, field="F") == (
        "a@example.org",
        ("unclosed",),
    )
    assert [str(d) for d in problems.defects()] == [
        "unclosed-comment [F]: Comment is not closed: missing ')'"
    ]
    # No collector: still read, nothing raised.
    assert strip_comments("x (y") == ("x", ("y",))


def test_unclosed_quote_inside_strip_comments() -> None:
    problems = Problems()
    assert strip_comments('"abc (x)', problems) == ('"abc (x)', ())
    assert problems.codes() == ["unclosed-quote"]


def test_comment_depth_is_bounded() -> None:
    value = "x " + "(" * 65 + ")" * 65
    with pytest.raises(ParseError) as caught:
        strip_comments(value, Problems())
    assert caught.value.code == "limit-exceeded"
    assert caught.value.message == "Comments nested deeper than 64"
    assert strip_comments("(" * 3 + ")" * 3, limits=Limits(max_comment_depth=3)) == ("", ("(())",))


def test_tokenize() -> None:
    tokens, comments = tokenize('a/B (c) ; "q, r" ,x:y')
    assert tokens == [
        Token("atom", "a", 0, 1),
        Token("special", "/", 1, 2),
        Token("atom", "B", 2, 3),
        Token("special", ";", 8, 9),
        Token("quoted", '"q, r"', 10, 16),
        Token("special", ",", 17, 18),
        Token("atom", "x", 18, 19),
        Token("special", ":", 19, 20),
        Token("atom", "y", 20, 21),
        Token("end", "", 21, 21),
    ]
    assert comments == ("c",)


@pytest.mark.parametrize(
    ("value", "message", "code"),
    [
        ("a (b", "Comment is not closed: missing ')'\n  a (b\n    ^", "unclosed-comment"),
        ('a "b', "Quoted string is not closed: missing '\"'\n  a \"b\n    ^", "unclosed-quote"),
    ],
)
def test_tokenize_strict_errors(value: str, message: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        tokenize(value)
    assert str(caught.value) == message
    assert caught.value.code == code


@given(st.text())
def test_strip_comments_any_text(value: str) -> None:
    result, error = outcome(strip_comments, value, Problems())
    if error is not None:
        assert error.code == "limit-exceeded"
        return
    assert isinstance(result, tuple)
    text, comments = result
    assert text == text.strip()
    assert len(comments) <= value.count("(")


@given(st.text(alphabet=st.sampled_from('ab ;/,:()"\\<>@\t')))
def test_tokenize_any_text(value: str) -> None:
    problems = Problems()
    tokens, _ = tokenize(value, problems)
    assert tokens[-1].kind == "end"
    for token in tokens[:-1]:
        assert value[token.start : token.end] == token.text


# ---------------------------------------------------------------------------
# parse_address_field

ADDRESSES = [
    pytest.param(
        "rfc822;Joe_Recipient@example.com",
        AddressField(type="rfc822", address="Joe_Recipient@example.com"),
        [],
        id="rfc8098-sec9",
    ),
    pytest.param(
        " rfc822 ; Ann.Example@Example.NET ",
        AddressField(type="rfc822", address="Ann.Example@Example.NET"),
        [],
        id="spaces-case-kept",
    ),
    pytest.param(
        "RFC822; bob@example.net",
        AddressField(type="rfc822", address="bob@example.net"),
        [],
        id="upper-case-type",
    ),
    pytest.param(
        'rfc822;"Jean" <Jean@ops.example>',
        AddressField(type="rfc822", address="Jean@ops.example"),
        ["display-name"],
        id="display-name",
    ),
    pytest.param(
        "rfc822; <carol@example.org>",
        AddressField(type="rfc822", address="carol@example.org"),
        ["display-name"],
        id="angle-brackets",
    ),
    pytest.param(
        "rfc822;@relay.example:user@host.example",
        AddressField(type="rfc822", address="user@host.example"),
        ["source-route"],
        id="source-route",
    ),
    pytest.param(
        "rfc822; dan@example.org (Dan at home)",
        AddressField(type="rfc822", address="dan@example.org"),
        [],
        id="trailing-comment",
    ),
    pytest.param(
        "(type) rfc822 (sep) ; (addr) dan@example.org",
        AddressField(type="rfc822", address="dan@example.org"),
        [],
        id="comments-everywhere",
    ),
    pytest.param(
        "rfc822 (old; style) ; x@example.org",
        AddressField(type="rfc822", address="x@example.org"),
        [],
        id="semicolon-in-comment",
    ),
    pytest.param(
        '"Doe; Jo" <jo@example.org>',
        AddressField(type="rfc822", address="jo@example.org"),
        ["missing-address-type", "display-name"],
        id="semicolon-in-display-name",
    ),
    pytest.param(
        "erin@example.org",
        AddressField(type="rfc822", address="erin@example.org"),
        ["missing-address-type"],
        id="bare-address",
    ),
    pytest.param(
        "Friendly Name <frank@example.org>",
        AddressField(type="rfc822", address="frank@example.org"),
        ["missing-address-type", "display-name"],
        id="name-addr-no-type",
    ),
    pytest.param(
        "<gina@example.org>",
        AddressField(type="rfc822", address="gina@example.org"),
        ["missing-address-type", "display-name"],
        id="angle-no-type",
    ),
    pytest.param(
        "TRADINGPARTNER7",
        AddressField(type="unknown", address="TRADINGPARTNER7"),
        ["missing-address-type"],
        id="no-type-not-a-mailbox",
    ),
    pytest.param(
        "rfc822; ACME-AS2-PROD",
        AddressField(type="rfc822", address="ACME-AS2-PROD"),
        [],
        id="as2-name",
    ),
    pytest.param(
        "x400; /C=US/ADMD=Mail/PRMD=Corp/O=Example/S=Smith/G=Jo/ (as is)",
        AddressField(
            type="x400", address="/C=US/ADMD=Mail/PRMD=Corp/O=Example/S=Smith/G=Jo/ (as is)"
        ),
        [],
        id="x400-verbatim",
    ),
    pytest.param(
        "dns; mx1.example.net",
        AddressField(type="dns", address="mx1.example.net"),
        [],
        id="mta-name",
    ),
    pytest.param(
        "utf-8; \\x{7528}\\x{6237}@\\x{4F8B}\\x{5B50}.\\x{6D4B}\\x{8BD5}",
        AddressField(type="utf-8", address="用户@例子.测试"),
        [],
        id="utf-8-xtext",
    ),
    pytest.param(
        "utf-8; jos\u00e9@example.es",
        AddressField(type="utf-8", address="jos\u00e9@example.es"),
        [],
        id="utf-8-unitext",
    ),
    pytest.param(
        "utf-8; a\\x{D800}b@example.es",
        AddressField(type="utf-8", address="a\\x{D800}b@example.es"),
        ["bad-utf8-escape"],
        id="utf-8-surrogate-escape",
    ),
    pytest.param("", None, ["empty-address"], id="empty"),
    pytest.param("rfc822;", None, ["empty-address"], id="type-only"),
    pytest.param("rfc822; (nobody)", None, ["empty-address"], id="comment-only"),
]


@pytest.mark.parametrize(("value", "expected", "codes"), ADDRESSES)
def test_parse_address_field(value: str, expected: AddressField | None, codes: list[str]) -> None:
    problems = Problems()
    assert parse_address_field(value, problems, field="Final-Recipient") == expected
    assert problems.codes() == codes


def test_address_defect_messages() -> None:
    problems = Problems()
    parse_address_field("Name <h@example.org>", problems, field="Final-Recipient")
    assert [str(d) for d in problems.defects()] == [
        "missing-address-type [Final-Recipient]: No address type before the address; "
        "'rfc822' assumed",
        "display-name [Final-Recipient]: Display name or angle brackets around 'h@example.org'",
    ]


@given(st.text())
def test_parse_address_field_any_text(value: str) -> None:
    result, error = outcome(lambda v: parse_address_field(v, Problems(), field="F"), value)
    if error is not None:
        assert error.code == "limit-exceeded"
        return
    if result is not None:
        assert result.type == result.type.lower()
        assert result.address


# ---------------------------------------------------------------------------
# parse_msg_id

MSG_IDS = [
    ("<199509192301.23456@example.org>", "199509192301.23456@example.org", []),
    ("  <a.b@c.example>  (comment) ", "a.b@c.example", []),
    (
        "67C022FA-A0D1-4083-9B45-1CFBEE17CB60",
        "67C022FA-A0D1-4083-9B45-1CFBEE17CB60",
        ["missing-angle-brackets", "message-id-without-at"],
    ),
    ("x.y@example.net", "x.y@example.net", ["missing-angle-brackets"]),
    (
        "<9501051053.aa04167@IETF.CNR I.Reston.VA.US>",
        "9501051053.aa04167@IETF.CNR I.Reston.VA.US",
        ["white-space-in-message-id"],
    ),
    ("<one@example.org> <two@example.org>", "one@example.org", ["several-message-ids"]),
    ("<one@example.org>, <two@example.org>", "one@example.org", ["several-message-ids"]),
    ("id: <three@example.org>", "three@example.org", ["junk-around-message-id"]),
    ("<four@example.org", "four@example.org", ["unclosed-angle-bracket"]),
    # A doubled bracket: the id opens at the last "<" before its ">".
    ("<<five@example.org>>", "five@example.org", ["junk-around-message-id"]),
    ("<note <six@example.org>", "six@example.org", ["junk-around-message-id"]),
    ("<<", None, ["unclosed-angle-bracket", "junk-around-message-id", "empty-message-id"]),
    ("", None, ["empty-message-id"]),
    ("(only a comment)", None, ["empty-message-id"]),
    ("<>", None, ["empty-message-id"]),
]


@pytest.mark.parametrize(("value", "expected", "codes"), MSG_IDS)
def test_parse_msg_id(value: str, expected: str | None, codes: list[str]) -> None:
    problems = Problems()
    assert parse_msg_id(value, problems, field="Original-Message-ID") == expected
    assert problems.codes() == codes


@given(st.text())
def test_parse_msg_id_any_text(value: str) -> None:
    result, error = outcome(lambda v: parse_msg_id(v, Problems(), field="F"), value)
    if error is not None:
        assert error.code == "limit-exceeded"
        return
    assert result is None or (result and "<" not in result[:1])


# ---------------------------------------------------------------------------
# parse_date

EDT = timezone(timedelta(hours=-4))

DATES = [
    ("Wed, 20 Sep 1995 00:19:00 (EDT) -0400", datetime(1995, 9, 20, 0, 19, tzinfo=EDT), []),
    ("Fri, 27 Nov 2026 10:00:00 +0000 (GMT)", datetime(2026, 11, 27, 10, 0, tzinfo=UTC), []),
    ("Fri,  27 Nov  2026 10:00:00   +0000", datetime(2026, 11, 27, 10, 0, tzinfo=UTC), []),
    ("27 Nov 2026 10:00 -0400", datetime(2026, 11, 27, 10, 0, tzinfo=EDT), []),
    (
        "Fri, 27 Nov 2026 10:00:00 -0000",
        datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        ["date-without-timezone"],
    ),
    (
        "2026-11-27T10:00:00+00:00",
        datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        ["iso-date"],
    ),
    (
        "2026-11-27 10:00:00",
        datetime(2026, 11, 27, 10, 0, tzinfo=UTC),
        ["iso-date", "date-without-timezone"],
    ),
    ("<date goes here>", None, ["unparseable-date"]),
    ("", None, ["unparseable-date"]),
    ("Fri, 31 Feb 2026 10:00:00 +0000", None, ["unparseable-date"]),
    ("Fri, 27 Nov 2026 99:00:00 +0000", None, ["unparseable-date"]),
]


@pytest.mark.parametrize(("value", "expected", "codes"), DATES)
def test_parse_date(value: str, expected: datetime | None, codes: list[str]) -> None:
    problems = Problems()
    assert parse_date(value, problems, field="Arrival-Date") == expected
    assert problems.codes() == codes


def test_unparseable_date_message() -> None:
    problems = Problems()
    parse_date("<date goes here>", problems, field="Arrival-Date")
    assert [str(d) for d in problems.defects()] == [
        "unparseable-date [Arrival-Date]: Cannot read the date '<date goes here>'"
    ]


@given(st.text())
def test_parse_date_any_text(value: str) -> None:
    result, error = outcome(lambda v: parse_date(v, Problems(), field="F"), value)
    if error is not None:
        assert error.code == "limit-exceeded"
        return
    assert result is None or result.tzinfo is not None


@given(
    st.datetimes(
        min_value=datetime(1900, 1, 1),
        max_value=datetime(9999, 1, 1),
        timezones=st.just(UTC),
    )
)
def test_parse_date_reads_what_email_utils_writes(moment: datetime) -> None:
    from email.utils import format_datetime

    moment = moment.replace(microsecond=0)
    assert parse_date(format_datetime(moment), Problems(), field="F") == moment


_DATE_TEXT = st.tuples(
    st.sampled_from(["", "Mon, ", "Sun ,", "mon, ", "Xyz, "]),
    st.integers(0, 39),
    st.sampled_from(["Jan", "Feb", "jan", "Dec", "Foo"]),
    st.one_of(st.integers(0, 120), st.integers(900, 1100), st.integers(1, 9999)),
    st.integers(0, 29),
    st.integers(0, 69),
    st.sampled_from(["", ":00", ":59", ":60", ":7"]),
    st.sampled_from(["+0000", "-0000", "+0130", "-0800", "+2400", "+0099", "GMT", "-9959"]),
    st.sampled_from(["", " (UTC)", "  ", " (a (b))", " junk"]),
).map(lambda p: f"{p[0]}{p[1]} {p[2]} {p[3]:04d} {p[4]:02d}:{p[5]:02d}{p[6]} {p[7]}{p[8]}")


_ADDRESS_TEXT = st.lists(
    st.sampled_from(
        [
            "rfc822",
            "RFC822",
            "Rfc822",
            "rfc822x",
            "rfc822;",
            "DNS;",
            "dNs",
            "\x7f",
            "[",
            "dns",
            "utf-8",
            "UTF-8;",
            "x400",
            ";",
            " ",
            "\t",
            "a",
            "@",
            "b.example",
            "<",
            ">",
            "(c)",
            '"q"',
            "\\",
            ":",
            ",",
            "\u00e9",
            "\x0b",
            "\\x{E9}",
            "-",
            ".",
        ]
    ),
    max_size=10,
).map("".join)


@given(_ADDRESS_TEXT)
def test_parse_address_field_fast_path_agrees_with_the_careful_reading(value: str) -> None:
    from mdnkit import _grammar

    fast_problems, careful_problems = Problems(), Problems()
    fast = parse_address_field(value, fast_problems, field="F")
    plain, usual = _grammar._PLAIN_TYPED, _grammar._PLAIN_ADDRESS
    try:
        # No pattern ever matches: the careful path only.
        _grammar._PLAIN_TYPED = _grammar._PLAIN_ADDRESS = re.compile(r"(?!)")
        careful = parse_address_field(value, careful_problems, field="F")
    finally:
        _grammar._PLAIN_TYPED, _grammar._PLAIN_ADDRESS = plain, usual
    assert (fast, fast_problems.codes()) == (careful, careful_problems.codes())


@given(
    st.lists(
        st.sampled_from([*'<>@.()" \tab1-_', "<a@b>", "x@y", "\u3000", "\xe9", "\x7f", "\x85"]),
        max_size=16,
    ).map("".join)
)
def test_parse_msg_id_fast_path_agrees_with_the_careful_reading(value: str) -> None:
    from mdnkit import _grammar

    fast_problems, careful_problems = Problems(), Problems()
    fast = parse_msg_id(value, fast_problems, field="F")
    plain = _grammar._PLAIN_MSG_ID
    try:
        _grammar._PLAIN_MSG_ID = re.compile(r"(?!)")  # never matches: careful path only
        careful = parse_msg_id(value, careful_problems, field="F")
    finally:
        _grammar._PLAIN_MSG_ID = plain
    assert (fast, fast_problems.codes()) == (careful, careful_problems.codes())


@pytest.mark.parametrize(
    "value",
    [
        "Mon, 5 Jan 2026 24:00:00 +0000",  # an hour a later fromisoformat() may read
        "Mon, 5 Jan 2026 23:59:60 +0000",
        "Mon, 5 Jan 2026 23:60 +0000",
        "Mon, 30 Feb 2026 10:00:00 +0000",
        "Mon, 0 Jan 2026 10:00:00 +0000",
        "Mon, 5 Jan 2026 10:00 +0099",
        "Mon, 5 Jan 2026 10:00:00 +2400",
        "Mon, 5 Jan 2026 10:00:00 -0000",
        "5 Dec 9999 23:59:59 -2359 (x)",
    ],
)
def test_parse_date_fast_path_edges(value: str) -> None:
    _date_paths_agree(value)


@given(_DATE_TEXT)
def test_parse_date_fast_path_agrees_with_email_utils(value: str) -> None:
    _date_paths_agree(value)


def _date_paths_agree(value: str) -> None:
    # The regex-and-fromisoformat() path must give what the standard library's
    # reading gives, with the same defects (the careful path is that reading).
    from mdnkit import _grammar

    fast_problems, careful_problems = Problems(), Problems()
    fast = parse_date(value, fast_problems, field="F")
    plain = _grammar._PLAIN_DATE
    try:
        _grammar._PLAIN_DATE = re.compile(r"(?!)")  # never matches: careful path only
        careful = parse_date(value, careful_problems, field="F")
    finally:
        _grammar._PLAIN_DATE = plain
    assert fast == careful
    assert (fast.utcoffset() if fast else None) == (careful.utcoffset() if careful else None)
    assert fast_problems.codes() == careful_problems.codes()


# ---------------------------------------------------------------------------
# parse_disposition


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "manual-action/MDN-\u017fent-manually; displayed",
            "Unknown sending mode 'MDN-\u017fent-manually': "
            "expected 'MDN-sent-manually' or 'MDN-sent-automatically'",
        ),
        (
            "manual-act\u0130on/MDN-sent-manually; displayed",
            "Unknown action mode 'manual-act\u0130on': "
            "expected 'manual-action' or 'automatic-action'",
        ),
    ],
)
def test_disposition_words_are_spelt_with_ascii_letters(text: str, message: str) -> None:
    # "\u017f" (long s) and "\u0130" match "s" and "i" in a case-insensitive
    # regex, but no mode is spelt with them: a ParseError, as the grammar says.
    with pytest.raises(ParseError) as raised:
        parse_disposition(text)
    assert raised.value.message == message


_DISPOSITION_TEXT = st.lists(
    st.sampled_from(
        [
            *("manual-action", "Automatic-Action", "MDN-sent-manually", "mdn-sent-automatically"),
            *("displayed", "DELETED", "Dispatched", "processed", "failed", "denied"),
            *("/", ";", " ", "\t", "(c)", "error", ",", "\u017f", "\u212a", "\u0130"),
        ]
    ),
    max_size=8,
).map("".join)


@given(_DISPOSITION_TEXT)
def test_parse_disposition_fast_path_agrees_with_the_grammar(text: str) -> None:
    from mdnkit import _grammar

    def read(problems: Problems) -> Disposition | str:
        try:
            return parse_disposition(text, problems=problems)
        except ParseError as error:
            return str(error)

    fast_problems, careful_problems = Problems(), Problems()
    fast = read(fast_problems)
    plain, usual = _grammar._PLAIN_DISPOSITION, _grammar._USUAL_DISPOSITIONS
    try:
        _grammar._PLAIN_DISPOSITION = re.compile(r"(?!)")  # never matches: the grammar only
        _grammar._USUAL_DISPOSITIONS = {}
        careful = read(careful_problems)
    finally:
        _grammar._PLAIN_DISPOSITION, _grammar._USUAL_DISPOSITIONS = plain, usual
    assert (fast, fast_problems.codes()) == (careful, careful_problems.codes())


def test_usual_dispositions_are_what_the_grammar_reads() -> None:
    # The table of usual spellings holds what the grammar reads from each
    # (with nothing to record), whatever the case it was written in.
    from mdnkit._grammar import _USUAL_DISPOSITIONS, _parse_disposition_field, _Scanner

    assert len(_USUAL_DISPOSITIONS) == 32
    for text, disposition in _USUAL_DISPOSITIONS.items():
        for written in (text, text.upper(), text.title()):
            problems = Problems()
            scanner = _Scanner(written, problems, "Disposition", DEFAULT_LIMITS)
            assert _parse_disposition_field(scanner, problems) == disposition
            assert problems.codes() == []
            assert parse_disposition(written) is disposition


DISPOSITIONS = [
    pytest.param(
        "manual-action/MDN-sent-manually; displayed",
        Disposition(**MANUAL, type=DispositionType.DISPLAYED),
        [],
        id="rfc8098-sec9",
    ),
    pytest.param(
        "Automatic-action/mdn-sent-automatically;processed",
        Disposition(**AUTO, type=DispositionType.PROCESSED),
        [],
        id="mixed-case-no-space",
    ),
    pytest.param(
        " manual-action / MDN-sent-automatically ; DELETED ",
        Disposition(
            action_mode=ActionMode.MANUAL,
            sending_mode=SendingMode.AUTOMATIC,
            type=DispositionType.DELETED,
        ),
        [],
        id="spaces-everywhere",
    ),
    pytest.param(
        "(who)manual-action(x)/(y)MDN-sent-manually(z);(t)dispatched(end)",
        Disposition(**MANUAL, type=DispositionType.DISPATCHED),
        [],
        id="comments-everywhere",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically; processed/error",
        Disposition(**AUTO, type=DispositionType.PROCESSED, modifiers=("error",)),
        [],
        id="error-modifier",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically; processed / Error , x-Custom",
        Disposition(**AUTO, type=DispositionType.PROCESSED, modifiers=("error", "x-custom")),
        [],
        id="two-modifiers",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically; processed/error: authentication-failed",
        Disposition(
            **AUTO,
            type=DispositionType.PROCESSED,
            modifiers=("error: authentication-failed",),
        ),
        ["as2-modifier"],
        id="as2-error",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically; processed/Error:unexpected-processing-error",
        Disposition(
            **AUTO,
            type=DispositionType.PROCESSED,
            modifiers=("error: unexpected-processing-error",),
        ),
        ["as2-modifier"],
        id="as2-error-no-space",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically;\tprocessed/warning: Duplicate Document (note)",
        Disposition(
            **AUTO, type=DispositionType.PROCESSED, modifiers=("warning: Duplicate Document",)
        ),
        ["as2-modifier"],
        id="as2-warning-text-as-written",
    ),
    pytest.param(
        'automatic-action/MDN-sent-automatically; processed/error: a (why) "b, c" d, x-more',
        Disposition(
            **AUTO, type=DispositionType.PROCESSED, modifiers=('error: a "b, c" d', "x-more")
        ),
        ["as2-modifier"],
        id="as2-text-comment-removed-quoted-comma-kept",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically; processed/warning:",
        Disposition(**AUTO, type=DispositionType.PROCESSED, modifiers=("warning:",)),
        ["as2-modifier"],
        id="as2-empty-text",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically; failed/failure: sender-equals-receiver",
        Disposition(
            **AUTO, type=DispositionType.FAILED, modifiers=("failure: sender-equals-receiver",)
        ),
        ["obsolete-disposition-type", "as2-modifier"],
        id="as2-failed-failure",
    ),
    pytest.param(
        "manual-action/MDN-sent-manually; denied",
        Disposition(**MANUAL, type=DispositionType.DENIED),
        ["obsolete-disposition-type"],
        id="rfc2298-denied",
    ),
    pytest.param(
        "automatic-action/MDN-sent-automatically; deleted/expired,Mailbox-Terminated",
        Disposition(
            **AUTO, type=DispositionType.DELETED, modifiers=("expired", "mailbox-terminated")
        ),
        ["obsolete-modifier", "obsolete-modifier"],
        id="rfc2298-modifiers",
    ),
    pytest.param(
        "manual-action/MDN-sent-manually; Opened",
        Disposition(**MANUAL, type="opened"),
        ["unknown-disposition-type"],
        id="unknown-type",
    ),
]


@pytest.mark.parametrize(("value", "expected", "codes"), DISPOSITIONS)
def test_parse_disposition(value: str, expected: Disposition, codes: list[str]) -> None:
    problems = Problems()
    assert parse_disposition(value, problems=problems) == expected
    assert problems.codes() == codes
    # Without a collector the vocabulary is still read, nothing is raised.
    assert parse_disposition(value) == expected


DISPOSITION_ERRORS = [
    (
        "manual-action MDN-sent-manually; displayed",
        "Expected '/' between action mode and sending mode\n"
        "  manual-action MDN-sent-manually; displayed\n"
        "               ^",
    ),
    (
        "manual-action/MDN-sent-manually displayed",
        "Expected ';' after sending mode\n"
        "  manual-action/MDN-sent-manually displayed\n"
        "                                 ^",
    ),
    (
        "manual-action/MDN-sent-manually;",
        "Expected a disposition type after ';'\n"
        "  manual-action/MDN-sent-manually;\n"
        "                                  ^",
    ),
    (
        "displayed",
        "Unknown action mode 'displayed': expected 'manual-action' or 'automatic-action'\n"
        "  displayed\n"
        "  ^",
    ),
    (
        "",
        "Expected an action mode ('manual-action' or 'automatic-action')\n  \n  ^",
    ),
    (
        "manual-action/sent-manually; displayed",
        "Unknown sending mode 'sent-manually': "
        "expected 'MDN-sent-manually' or 'MDN-sent-automatically'\n"
        "  manual-action/sent-manually; displayed\n"
        "                ^",
    ),
    (
        "manual-action/; displayed",
        "Expected a sending mode ('MDN-sent-manually' or 'MDN-sent-automatically')\n"
        "  manual-action/; displayed\n"
        "                ^",
    ),
    (
        "manual-action/MDN-sent-manually; displayed; processed",
        "Unexpected ';' after the disposition\n"
        "  manual-action/MDN-sent-manually; displayed; processed\n"
        "                                            ^",
    ),
    (
        "manual-action/MDN-sent-manually; displayed/",
        "Expected a disposition modifier\n"
        "  manual-action/MDN-sent-manually; displayed/\n"
        "                                             ^",
    ),
    (
        "manual-action/MDN-sent-manually; displayed (unclosed",
        "Comment is not closed: missing ')'\n"
        "  manual-action/MDN-sent-manually; displayed (unclosed\n"
        "                                             ^",
    ),
]


@pytest.mark.parametrize(("value", "shown"), DISPOSITION_ERRORS)
def test_parse_disposition_errors(value: str, shown: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_disposition(value, field=None)
    assert str(caught.value) == shown


def test_parse_disposition_error_names_the_field() -> None:
    with pytest.raises(ParseError) as caught:
        parse_disposition("manual-action")
    assert caught.value.field == "Disposition"
    assert caught.value.code == "malformed"
    assert caught.value.message == "Expected '/' between action mode and sending mode"


_ATOMS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-.", min_size=1, max_size=12)
_TEXT = st.text(alphabet="abcXYZ019-_.;:/ ()", min_size=1, max_size=20).filter(
    lambda t: t == t.strip() and "(" not in t and ")" not in t
)
_MODIFIERS = st.one_of(
    _ATOMS,
    st.builds(lambda n, t: f"{n}: {t}", st.sampled_from(["error", "warning", "failure"]), _TEXT),
)


@given(
    st.builds(
        Disposition,
        action_mode=st.sampled_from(ActionMode),
        sending_mode=st.sampled_from(SendingMode),
        type=st.one_of(st.sampled_from(DispositionType), _ATOMS),
        modifiers=st.lists(_MODIFIERS, max_size=4).map(tuple),
    )
)
def test_disposition_round_trips(disposition: Disposition) -> None:
    if isinstance(disposition.type, str) and disposition.type in set(DispositionType):
        disposition = Disposition(
            action_mode=disposition.action_mode,
            sending_mode=disposition.sending_mode,
            type=DispositionType(disposition.type),
            modifiers=disposition.modifiers,
        )
    assert parse_disposition(str(disposition)) == disposition


@given(st.text())
def test_parse_disposition_any_text(value: str) -> None:
    result, error = outcome(lambda v: parse_disposition(v, problems=Problems()), value)
    assert isinstance(result, Disposition) or error is not None


_PIECES = ["manual-action", "/", ";", ",", ":", " ", "(", ")", "MDN-sent-manually", "displayed"]


@given(st.lists(st.sampled_from([*_PIECES, "error", '"', "x", "\\"])).map("".join))
def test_parse_disposition_near_misses(value: str) -> None:
    _, error = outcome(parse_disposition, value)
    if error is not None:
        assert error.source == value
        assert error.position is not None
        assert 0 <= error.position <= len(value)


# ---------------------------------------------------------------------------
# Properties: what a well-behaved generator writes is read back unchanged

_LOCAL = st.text(alphabet="abcXYZ019._-+", min_size=1, max_size=10).filter(
    lambda s: not s.startswith(".") and not s.endswith(".") and ".." not in s
)
_DOMAIN = st.lists(
    st.text(alphabet="abcxyz019-", min_size=1, max_size=8), min_size=1, max_size=3
).map(".".join)


@given(
    st.one_of(
        st.builds(
            lambda local, d: AddressField(type="rfc822", address=f"{local}@{d}"), _LOCAL, _DOMAIN
        ),
        st.builds(lambda d: AddressField(type="dns", address=d), _DOMAIN),
    )
)
def test_address_field_round_trips(address: AddressField) -> None:
    problems = Problems()
    assert parse_address_field(str(address), problems, field="F") == address
    assert not problems


_NAMES = st.text(alphabet="ABCxyz-019", min_size=1, max_size=12)
_VALUES = (
    st.text(alphabet="abc XYZ;/,:<>@()019.", max_size=40)
    .map(str.strip)
    .filter(lambda v: "  " not in v)  # a fold there would leave a white-space-only line
)


@given(st.lists(st.lists(st.tuples(_NAMES, _VALUES), min_size=1, max_size=5), max_size=4))
def test_folded_fields_read_back(groups: list[list[tuple[str, str]]]) -> None:
    # Fold every value at its spaces (RFC 5322 §2.2.3), groups split by a blank line.
    lines: list[str] = []
    expected: list[list[Field]] = []
    for group in groups:
        read: list[Field] = []
        for name, value in group:
            read.append(Field(name, value, len(lines) + 1))
            first, *rest = value.split(" ")
            lines.append(f"{name}: {first}")
            lines.extend(" " + piece for piece in rest)
        lines.append("")
        expected.append(read)
    problems = Problems()
    assert read_fields("\r\n".join(lines), problems, DEFAULT_LIMITS) == expected
    assert not problems


def test_usual_plans_leave_out_optional_fields_only() -> None:
    from mdnkit._grammar import usual_plans

    def read_a(value: str, name: str, problems: Problems, limits: Limits) -> str:
        return value

    plans = usual_plans({"a": ("attr_a", read_a)}, ("a",), ("x-b", "a", "c"))
    assert plans == {
        ("a",): (("attr_a", read_a),),
        ("a", "c"): (("attr_a", read_a), ("c", None)),
        ("x-b", "a"): (("x-b", None), ("attr_a", read_a)),
        ("x-b", "a", "c"): (("x-b", None), ("attr_a", read_a), ("c", None)),
    }
