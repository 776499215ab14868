"""The MIME reader: header blocks, Content-Type, bodies, boundaries, bounds."""

from __future__ import annotations

import email
import email.policy
import re
from collections.abc import Callable
from functools import partial

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit import _mime
from mdnkit._defects import Problems
from mdnkit.errors import ParseError, RequestError
from mdnkit.limits import DEFAULT_LIMITS, Limits
from mdnkit.model import Defect


def fields_of(text: bytes) -> tuple[list[tuple[str, str, int]], bytes, tuple[Defect, ...]]:
    problems = Problems()
    fields, body = _mime.read_fields(text, 0, len(text), problems, DEFAULT_LIMITS)
    return [tuple(f) for f in fields], text[body:], problems.defects()  # type: ignore[misc]


# ---------------------------------------------------------------------------
# Header blocks (RFC 5322 §2.2)

HEADER_VECTORS = [
    (
        "LF, any case, no space after colon",
        b"content-TYPE:text/plain\nX-A:  b  \n\nbody",
        [("content-TYPE", "text/plain", 1), ("X-A", "b", 2)],
        b"body",
    ),
    (
        "CRLF",
        b"Subject: hi\r\nFrom: a@b\r\n\r\nbody\r\n",
        [("Subject", "hi", 1), ("From", "a@b", 2)],
        b"body\r\n",
    ),
    (
        "folding removes the line break only (RFC 5322 §2.2.3)",
        b"Content-Type: multipart/report;\r\n\treport-type=delivery-status;\r\n"
        b"        boundary=x\r\nTo: z\r\n\r\n",
        [
            (
                "Content-Type",
                "multipart/report;\treport-type=delivery-status;        boundary=x",
                1,
            ),
            ("To", "z", 4),
        ],
        b"",
    ),
    (
        "white space before the colon (RFC 5322 §4.5.3 obsolete syntax)",
        b"Subject : old\n\n",
        [("Subject", "old", 1)],
        b"",
    ),
    (
        "empty value",
        b"X-Direct-Final-Destination-Delivery:\nTo: a\n\n",
        [("X-Direct-Final-Destination-Delivery", "", 1), ("To", "a", 2)],
        b"",
    ),
    ("a part with no header fields starts with a blank line", b"\r\nbody", [], b"body"),
    ("LF form of the same", b"\nbody", [], b"body"),
    (
        "no blank line at all: the block runs to the end",
        b"A: 1\nB: 2",
        [("A", "1", 1), ("B", "2", 2)],
        b"",
    ),
    (
        "first line is not a field: no header block, nothing lost",
        b"Your message was received.\n\nMore text.",
        [],
        b"Your message was received.\n\nMore text.",
    ),
    (
        "mixed LF and CRLF (AS2 headers glued on a CRLF body)",
        b"message-id: <a@b>\nContent-Type: text/plain\r\n\r\nbody",
        [("message-id", "<a@b>", 1), ("Content-Type", "text/plain", 2)],
        b"body",
    ),
    (
        "raw UTF-8 (RFC 6532) is decoded",
        "Subject: Grüße\n\n".encode(),
        [("Subject", "Grüße", 1)],
        b"",
    ),
    (
        "legacy 8-bit text is kept octet for octet",
        b"Subject: Gr\xfc\xdfe\n\n",
        [("Subject", "Grüße", 1)],
        b"",
    ),
]


@pytest.mark.parametrize(
    ("text", "fields", "body"),
    [v[1:] for v in HEADER_VECTORS],
    ids=[v[0] for v in HEADER_VECTORS],
)
def test_header_block(text: bytes, fields: list[tuple[str, str, int]], body: bytes) -> None:
    got_fields, got_body, defects = fields_of(text)
    assert (got_fields, got_body, defects) == (fields, body, ())


@pytest.mark.parametrize(
    ("text", "head", "body"),
    [
        (b"A: 1\n\nbody", "A: 1", b"body"),
        (b"A: 1\r\n\r\nbody", "A: 1", b"body"),
        # The first empty line ends the block, whichever line end it has.
        (b"A: 1\r\nB: 2\n\n\r\nbody", "A: 1\r\nB: 2", b"\r\nbody"),
        (b"A: 1\n\r\n\nbody", "A: 1", b"\nbody"),
        (b"A: 1\r\r\n\r\nbody", "A: 1", b"body"),
    ],
)
def test_header_block_ends_at_the_first_empty_line(text: bytes, head: str, body: bytes) -> None:
    part = _mime.make_part(text, 0, len(text), depth=0, problems=Problems(), limits=DEFAULT_LIMITS)
    assert (part.head, part.raw_body()) == (head, body)
    assert _mime._read_head(text, 0, len(text), DEFAULT_LIMITS) == (head, len(text) - len(body))


def test_malformed_header_line_is_recorded_and_skipped() -> None:
    got_fields, body, defects = fields_of(b"To: a\nthis line has no colon\nFrom: b\n\nx")
    assert (got_fields, body) == ([("To", "a", 1), ("From", "b", 3)], b"x")
    assert defects == (
        Defect("malformed-header", "A header line is not a 'name: value' field; it was skipped."),
    )


def test_find_field_is_case_insensitive_and_unfolds() -> None:
    head = "Subject: a\nREPORT-X :  one\n two\nx-report-x: three"
    assert _mime.find_field(head, "report-x") == "one two"
    assert _mime.find_field(head, "Subject") == "a"
    assert _mime.find_field(head, "ject") is None
    assert _mime.find_field("", "Subject") is None


def test_find_field_after_text_that_lower_casing_lengthens() -> None:
    # "İ".lower() is two characters: offsets must not drift after it.
    head = "X-Name: İİİİİİ\r\nContent-Type: multipart/report; boundary=b\r\nSubject: Grüße"
    part = _mime.make_part(
        head.encode() + b"\r\n\r\nbody",
        0,
        len(head.encode()) + 8,
        depth=0,
        problems=Problems(),
        limits=DEFAULT_LIMITS,
    )
    assert (part.content_type, part.params, part.header("subject")) == (
        "multipart/report",
        {"boundary": "b"},
        "Grüße",
    )
    names = _mime.field_pattern("subject", "content-type", "x-name")
    assert _mime.find_fields(part, names) == {
        "x-name": "İİİİİİ",
        "content-type": "multipart/report; boundary=b",
        "subject": "Grüße",
    }


def test_find_fields_takes_the_first_of_each_and_unfolds() -> None:
    text = b"Date: one\nSubject : a\n  b\nX-Date: no\nDate: two\nsubject: c\n\nbody"
    part = _mime.make_part(text, 0, len(text), depth=0, problems=Problems(), limits=DEFAULT_LIMITS)
    names = _mime.field_pattern("date", "subject", "from")
    assert _mime.find_fields(part, names) == {"date": "one", "subject": "a  b"}


@given(
    st.lists(
        st.sampled_from(
            [
                "Content-Type",
                "content-TYPE",
                "X-Content-Type",
                "Content-Typo",
                ":",
                " ",
                "\t",
                "\r\n",
                "\n",
                " text/plain",
                "; charset=x",
                "İ",
                "K",
                "a: b",
                "\r",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_field_search_agrees_with_a_line_by_line_reading(head: str) -> None:
    def by_lines(text: str, name: str) -> str | None:
        # The first line "name [WSP] : value" (name in any case), then its folds.
        lines = text.split("\n")
        for number, line in enumerate(lines):
            field, colon, value = line.partition(":")
            if colon and field.rstrip(" \t").lower() == name:
                for more in lines[number + 1 :]:
                    if not more.startswith((" ", "\t")):
                        break
                    value += "\n" + more
                return _mime._unfold(value)
        return None

    assert _mime.find_field(head, "content-type") == by_lines(head, "content-type")
    cte = head.replace("Type", "Transfer-Encoding").replace("TYPE", "TRANSFER-encoding")
    assert _mime.find_field(cte, "content-transfer-encoding") == by_lines(
        cte, "content-transfer-encoding"
    )


# ---------------------------------------------------------------------------
# Content-Type (RFC 2045 §5.1, RFC 2231)

CONTENT_TYPES = [
    ("text/plain", "text/plain", {}),
    (
        'multipart/report; report-type=disposition-notification; boundary="abc def"',
        "multipart/report",
        {"report-type": "disposition-notification", "boundary": "abc def"},
    ),
    (
        'Multipart/Report;Report-Type=Disposition-Notification;boundary="_=1Sterling"',
        "multipart/report",
        {"report-type": "Disposition-Notification", "boundary": "_=1Sterling"},
    ),
    ("message/delivery-status;", "message/delivery-status", {}),
    (
        "message/disposition-notification; charset=UTF-8",
        "message/disposition-notification",
        {"charset": "UTF-8"},
    ),
    (
        "multipart/report;\treport-type=delivery-status;        boundary=x",
        "multipart/report",
        {"report-type": "delivery-status", "boundary": "x"},
    ),
    ('text/plain; name="a \\"quoted\\" name"', "text/plain", {"name": 'a "quoted" name'}),
    ('text/plain; name="unterminated', "text/plain", {"name": "unterminated"}),
    (
        "application/x-stuff; title*0*=us-ascii'en'This%20is%20; title*1=\"fun\"",
        "application/x-stuff",
        {"title": "This is fun"},
    ),
    ("text/plain; title*=utf-8''%E2%82%AC%20rate", "text/plain", {"title": "€ rate"}),
    (
        'text/plain; title*1="two"; title*0="one "',
        "text/plain",
        {"title": "one two"},
    ),
    ("text/plain (a comment); charset=us-ascii", "text/plain", {"charset": "us-ascii"}),
]


@pytest.mark.parametrize(("value", "media", "params"), CONTENT_TYPES)
def test_content_type(value: str, media: str, params: dict[str, str]) -> None:
    problems = Problems()
    assert _mime.parse_content_type(value, problems) == (media, params, True)
    assert problems.defects() == ()


def test_content_type_junk_inside_the_value() -> None:
    # Tiscali put the transfer encoding inside the Content-Type value.
    problems = Problems()
    got = _mime.parse_content_type("text/rfc822-headers; Content-Transfer-Encoding: 8bit", problems)
    assert got == ("text/rfc822-headers", {}, True)
    assert problems.defects() == (
        Defect(
            "malformed-content-type",
            "Junk 'Content-Transfer-Encoding: 8bit' in the Content-Type parameters was ignored.",
            "Content-Type",
        ),
    )


def test_content_type_without_subtype_falls_back() -> None:
    problems = Problems()
    assert _mime.parse_content_type("text", problems) == ("text/plain", {}, False)
    assert problems.defects() == (
        Defect(
            "malformed-content-type",
            "Content-Type 'text' is not type/subtype; read as text/plain.",
            "Content-Type",
        ),
    )


def test_missing_content_type_is_the_default() -> None:
    assert _mime.parse_content_type(None, Problems()) == ("text/plain", {}, False)
    assert _mime.parse_content_type(None, Problems(), default="message/rfc822") == (
        "message/rfc822",
        {},
        False,
    )


# ---------------------------------------------------------------------------
# Bodies (RFC 2045 §6)


def part_of(text: bytes) -> _mime.Part:
    return _mime.make_part(text, 0, len(text), depth=0, problems=Problems(), limits=DEFAULT_LIMITS)


BODIES = [
    (b"Content-Transfer-Encoding: base64\n\naGVsbG8g\nd29ybGQ=\n", b"hello world", ()),
    (b"Content-Transfer-Encoding: BASE64\n\naGVsbG8gd29ybGQ\n", b"hello world", ()),
    (
        b"Content-Transfer-Encoding: base64\n\naGVs*bG8g!d29y\nbGQ=\n",
        b"hello world",
        (
            Defect(
                "malformed-base64",
                "2 characters outside the base64 alphabet were ignored.",
                "Content-Transfer-Encoding",
            ),
        ),
    ),
    (
        b"Content-Transfer-Encoding: base64\n\naGVsbG8gd29ybGQx\nZ",
        b"hello world1",
        (
            Defect(
                "malformed-base64",
                "The base64 body ends with a stray character; it was dropped.",
                "Content-Transfer-Encoding",
            ),
        ),
    ),
    (
        b"Content-Transfer-Encoding: quoted-printable\n\nGr=FC=DFe=\n und\n",
        b"Gr\xfc\xdfe und\n",
        (),
    ),
    (b"Content-Transfer-Encoding: 8bit\n\n\xc3\xa9t\xc3\xa9", b"\xc3\xa9t\xc3\xa9", ()),
    (b"\nplain", b"plain", ()),
    (
        b"Content-Transfer-Encoding: x-uuencode-ish\n\nraw",
        b"raw",
        (),
    ),
    (
        b"Content-Transfer-Encoding: rot13\n\nraw",
        b"raw",
        (
            Defect(
                "unknown-transfer-encoding",
                "Unknown Content-Transfer-Encoding 'rot13'; body read as is.",
                "Content-Transfer-Encoding",
            ),
        ),
    ),
]


@pytest.mark.parametrize(("text", "body", "defects"), BODIES)
def test_decode_body(text: bytes, body: bytes, defects: tuple[Defect, ...]) -> None:
    problems = Problems()
    assert _mime.decode_body(part_of(text), problems) == body
    assert problems.defects() == defects


def test_decode_body_bound_is_checked_before_decoding() -> None:
    part = part_of(b"Content-Transfer-Encoding: base64\n\n" + b"QUFB" * 100)
    with pytest.raises(ParseError) as info:
        _mime.decode_body(part, Problems(), max_bytes=299)
    assert (info.value.code, info.value.message) == (
        "limit-exceeded",
        "The message has a report part larger than 299 bytes; refused.",
    )
    assert _mime.decode_body(part, Problems(), max_bytes=300) == b"AAA" * 100


TEXTS = [
    (b"caf\xe9", "latin-1", "café", ()),
    ("café".encode(), "UTF-8", "café", ()),
    ("café".encode(), '"utf-8"', "café", ()),
    ("café".encode(), "us-ascii", "café", ()),  # mislabelled 8-bit text
    ("café".encode(), None, "café", ()),
    (
        b"abc",
        "rot13",
        "abc",
        (Defect("unknown-charset", "Unknown charset 'rot13'; read as UTF-8.", "Content-Type"),),
    ),
    (
        b"abc",
        "idna",
        "abc",
        (Defect("unknown-charset", "Unknown charset 'idna'; read as UTF-8.", "Content-Type"),),
    ),
    (
        b"abc",
        "utf\x00-8",
        "abc",
        (
            Defect(
                "unknown-charset", "Unknown charset 'utf\\x00-8'; read as UTF-8.", "Content-Type"
            ),
        ),
    ),
    (
        b"caf\xe9",
        "x-no-such-charset",
        "caf\ufffd",
        (
            Defect(
                "unknown-charset",
                "Unknown charset 'x-no-such-charset'; read as UTF-8.",
                "Content-Type",
            ),
        ),
    ),
]


@pytest.mark.parametrize(("data", "charset", "text", "defects"), TEXTS)
def test_decode_text(
    data: bytes, charset: str | None, text: str, defects: tuple[Defect, ...]
) -> None:
    problems = Problems()
    assert _mime.decode_text(data, charset, problems, field="Content-Type") == text
    assert problems.defects() == defects


# ---------------------------------------------------------------------------
# Multipart (RFC 2046 §5.1.1)


def split(
    text: bytes, limits: Limits = DEFAULT_LIMITS
) -> tuple[list[tuple[str, bytes]], tuple[Defect, ...]]:
    problems = Problems()
    root = _mime.read_message(text, problems, limits)
    kids = _mime.children(root, problems, limits, _mime.Budget(limits))
    return [(k.content_type, k.raw_body()) for k in kids], problems.defects()


MULTIPARTS = [
    (
        "preamble, epilogue, CRLF",
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\npreamble\r\n--b\r\n'
        b"Content-Type: text/html\r\n\r\none\r\n--b\r\n\r\ntwo\r\n\r\n--b--\r\nepilogue\r\n",
        [("text/html", b"one"), ("text/plain", b"two\r\n")],
    ),
    (
        "boundary that begins with '-' (Java mail)",
        b'Content-Type: multipart/mixed; boundary="----=_Part_1"\n\n------=_Part_1\n\none\n'
        b"------=_Part_1\n\ntwo\n------=_Part_1--\n",
        [("text/plain", b"one"), ("text/plain", b"two")],
    ),
    (
        "transport padding after delimiters",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b  \t\n\none\n--b-- \n",
        [("text/plain", b"one")],
    ),
    (
        "a line that extends the boundary is not a delimiter",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--bb\nstill one\n--b--\n",
        [("text/plain", b"one\n--bb\nstill one")],
    ),
    (
        "empty parts",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n\nx\n--b--",
        [("text/plain", b""), ("text/plain", b"x")],
    ),
    (
        "multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5)",
        b"Content-Type: multipart/digest; boundary=b\n\n--b\n\nSubject: x\n\nhi\n--b--\n",
        [("message/rfc822", b"Subject: x\n\nhi")],
    ),
    (
        "no final line break after the close-delimiter",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b--",
        [("text/plain", b"one")],
    ),
]


@pytest.mark.parametrize(
    ("text", "parts"), [v[1:] for v in MULTIPARTS], ids=[v[0] for v in MULTIPARTS]
)
def test_children(text: bytes, parts: list[tuple[str, bytes]]) -> None:
    assert split(text) == (parts, ())


def test_missing_close_delimiter() -> None:
    text = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\none\n--b\n\ntwo\n"
    assert split(text) == (
        [("text/plain", b"one"), ("text/plain", b"two\n")],
        (
            Defect(
                "missing-close-delimiter",
                "The multipart/mixed part ends without its close-delimiter line.",
            ),
        ),
    )


def test_missing_boundary() -> None:
    assert split(b"Content-Type: multipart/mixed\n\nbody") == (
        [],
        (Defect("missing-boundary", "A multipart/mixed part has no boundary parameter."),),
    )
    assert split(b"Content-Type: multipart/mixed; boundary=zz\n\nbody") == (
        [],
        (Defect("missing-boundary", "No delimiter line for boundary 'zz' was found."),),
    )


INDENTED = "A delimiter line of the {} is indented (RFC 2046 §5.1.1 does not allow it); read as a delimiter"

INDENTED_BOUNDARIES = [
    (
        "report part behind an indented delimiter (RFC 3464 Appendix E)",
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=j\r\n\r\n"
        b"--j\r\n\r\nhuman\r\n\r\n --j\r\nContent-Type: message/delivery-status\r\n\r\n"
        b"Reporting-MTA: dns; a.example\r\n\r\n--j--\r\n",
        (
            [
                ("text/plain", b"human\r\n"),
                ("message/delivery-status", b"Reporting-MTA: dns; a.example\r\n"),
            ],
            (Defect("indented-boundary", INDENTED.format("multipart/report")),),
        ),
    ),
    (
        "a single part found strictly, two when indented lines count",
        b"Content-Type: multipart/mixed; boundary=j\n\n--j\n\none\n\t--j\n\ntwo\n--j--\n",
        (
            [("text/plain", b"one"), ("text/plain", b"two")],
            (Defect("indented-boundary", INDENTED.format("multipart/mixed")),),
        ),
    ),
    (
        "no delimiter at the line start at all: the close-delimiter is indented too",
        b"Content-Type: multipart/mixed; boundary=j\n\n  --j\n\none\n  --j\n\ntwo\n  --j--\n",
        (
            [("text/plain", b"one"), ("text/plain", b"two")],
            (Defect("indented-boundary", INDENTED.format("multipart/mixed")),),
        ),
    ),
    (
        "two parts found strictly: indented lines stay text",
        b"Content-Type: multipart/mixed; boundary=j\n\n--j\n\none\n --j\nstill one\n--j\n\ntwo\n--j--\n",
        ([("text/plain", b"one\n --j\nstill one"), ("text/plain", b"two")], ()),
    ),
    (
        "a report found strictly: indented lines stay text",
        b"Content-Type: multipart/report; boundary=j\n\n--j\n\nhuman\n --j\n--j\n"
        b"Content-Type: message/delivery-status\n\nReporting-MTA: dns; a.example\n--j--\n",
        (
            [
                ("text/plain", b"human\n --j"),
                ("message/delivery-status", b"Reporting-MTA: dns; a.example"),
            ],
            (),
        ),
    ),
    (
        "the strict reading's defects are dropped when the lenient one wins",
        b"Content-Type: multipart/mixed; boundary=j\n\nx\n --j\n\none\n --j\n\ntwo\n --j--\n",
        (
            [("text/plain", b"one"), ("text/plain", b"two")],
            (Defect("indented-boundary", INDENTED.format("multipart/mixed")),),
        ),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [v[1:] for v in INDENTED_BOUNDARIES],
    ids=[v[0] for v in INDENTED_BOUNDARIES],
)
def test_indented_delimiters_as_a_fallback(
    text: bytes, expected: tuple[list[tuple[str, bytes]], tuple[Defect, ...]]
) -> None:
    assert split(text) == expected


def test_indented_fallback_counts_parts_once() -> None:
    text = b"Content-Type: multipart/mixed; boundary=j\n\n--j\n\none\n --j\n\ntwo\n --j--\n"
    problems = Problems()
    root = _mime.read_message(text, problems, DEFAULT_LIMITS)
    budget = _mime.Budget(DEFAULT_LIMITS)
    assert len(_mime.children(root, problems, DEFAULT_LIMITS, budget)) == 2
    assert budget.parts == 2


def test_children_agree_with_the_standard_library() -> None:
    text = (
        b"Content-Type: multipart/report; report-type=delivery-status;\r\n"
        b' boundary="x.y/z"\r\n\r\n--x.y/z\r\n\r\nhuman\r\n--x.y/z\r\n'
        b"Content-Type: text/x-status\r\n\r\nReporting-MTA: dns; a\r\n\r\n"
        b"--x.y/z\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: s\r\n\r\n--x.y/z--\r\n"
    )
    std = email.message_from_bytes(text, policy=email.policy.compat32)
    expected = [(p.get_content_type(), p.get_payload(decode=True)) for p in std.get_payload()]
    assert split(text) == (expected, ())


# ---------------------------------------------------------------------------
# Top level


READ_MESSAGE = [
    (
        "UTF-8 byte order mark",
        b"\xef\xbb\xbfContent-Type: text/plain\n\nx",
        ("text/plain", {}, b"x"),
        (Defect("byte-order-mark", "The message starts with a UTF-8 byte order mark."),),
    ),
    (
        "mbox From line",
        b"From MAILER-DAEMON Fri Jul  8 12:08:34 2011\nContent-Type: message/rfc822\n\nx",
        ("message/rfc822", {}, b"x"),
        (),
    ),
    (
        "leading blank lines",
        b"\r\n\r\nContent-Type: text/html\r\n\r\nx",
        ("text/html", {}, b"x"),
        (Defect("leading-blank-lines", "Blank lines precede the first header field."),),
    ),
    (
        "bare CR line ends",
        b"Content-Type: multipart/mixed;\r boundary=q\r\r--q\r\rx\r--q--\r",
        ("multipart/mixed", {"boundary": "q"}, b"--q\n\nx\n--q--\n"),
        (),
    ),
    (
        "no headers, first line is a boundary (AS2 payload)",
        b"\n------=_Part_7\nContent-Type: text/plain\n\nx\n------=_Part_7--\n",
        (
            "multipart/mixed",
            {"boundary": "----=_Part_7"},
            b"------=_Part_7\nContent-Type: text/plain\n\nx\n------=_Part_7--\n",
        ),
        (
            Defect(
                "missing-headers",
                "The message has no header block and starts with a boundary line; "
                "read as a multipart with that boundary.",
            ),
        ),
    ),
    (
        "no usable Content-Type, body starts with a recurring delimiter (RFC 3464 Appendix E)",
        b"Date: Thu, 7 Jul 1994 17:16:05 -0400 From: Mail Delivery\r\n<md@example.edu> "
        b"MIME-\r\nVersion: 1.0 Content-Type: multipart/report;\r\n   boundary=R/x\r\n\r\n"
        b"--R/x\r\n\r\nhello\r\n--R/x--\r\n",
        ("multipart/mixed", {"boundary": "R/x"}, b"--R/x\r\n\r\nhello\r\n--R/x--\r\n"),
        (
            Defect(
                "boundary-without-content-type",
                "The message has no usable Content-Type, but its body starts with a delimiter "
                "line that recurs; read as a multipart with that boundary.",
                "Content-Type",
            ),
        ),
    ),
    (
        "malformed Content-Type, body starts with a recurring delimiter",
        b"Content-Type: report\n\n\n--q\n\nx\n--q--\n",
        ("multipart/mixed", {"boundary": "q"}, b"--q\n\nx\n--q--\n"),
        (
            Defect(
                "malformed-content-type",
                "Content-Type 'report' is not type/subtype; read as text/plain.",
                "Content-Type",
            ),
            Defect(
                "boundary-without-content-type",
                "The message has no usable Content-Type, but its body starts with a delimiter "
                "line that recurs; read as a multipart with that boundary.",
                "Content-Type",
            ),
        ),
    ),
    (
        "no Content-Type, a dashed line that does not recur stays text",
        b"Subject: notes\n\n--signature\nbye\n",
        ("text/plain", {}, b"--signature\nbye\n"),
        (),
    ),
    (
        "explicit text/plain starting with a recurring dashed line stays text",
        b"Content-Type: text/plain\n\n--x\none\n--x\n",
        ("text/plain", {}, b"--x\none\n--x\n"),
        (),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected", "defects"), [v[1:] for v in READ_MESSAGE], ids=[v[0] for v in READ_MESSAGE]
)
def test_read_message(
    text: bytes, expected: tuple[str, dict[str, str], bytes], defects: tuple[Defect, ...]
) -> None:
    problems = Problems()
    root = _mime.read_message(text, problems, DEFAULT_LIMITS)
    assert (root.content_type, root.params, root.raw_body()) == expected
    assert problems.defects() == defects


def test_read_message_with_a_content_type_from_elsewhere() -> None:
    problems = Problems()
    root = _mime.read_message(
        b"AS2-To: X\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n",
        problems,
        DEFAULT_LIMITS,
        content_type='multipart/signed; boundary="b"',
    )
    assert (root.content_type, root.params, root.body_start, root.header("content-type")) == (
        "multipart/signed",
        {"boundary": "b"},
        0,
        'multipart/signed; boundary="b"',
    )
    kids = _mime.children(root, problems, DEFAULT_LIMITS, _mime.Budget(DEFAULT_LIMITS))
    assert [k.raw_body() for k in kids] == [b"x"]
    assert problems.defects() == ()


def test_open_message_and_headers_only() -> None:
    text = (
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: message/rfc822\n\n"
        b"Message-ID: <orig@example.org>\nSubject: the original\n\n" + b"x" * 1000 + b"\n--b--\n"
    )
    problems = Problems()
    root = _mime.read_message(text, problems, DEFAULT_LIMITS)
    (kid,) = _mime.children(root, problems, DEFAULT_LIMITS, _mime.Budget(DEFAULT_LIMITS))
    inner = _mime.open_message(kid, problems, DEFAULT_LIMITS)
    assert (inner.depth, inner.header("message-id"), inner.body_size) == (
        2,
        "<orig@example.org>",
        1000,
    )
    assert _mime.headers_only(kid, problems, DEFAULT_LIMITS) == (
        ("Message-ID", "<orig@example.org>"),
        ("Subject", "the original"),
    )


def test_headers_only_decodes_quoted_printable_headers() -> None:
    # RFC 6522 §4: text/rfc822-headers may be QP-encoded when 8-bit.
    part = part_of(
        b"Content-Type: text/rfc822-headers\nContent-Transfer-Encoding: quoted-printable\n\n"
        b"Subject: Gr=C3=BC=C3=9Fe\nTo: a@b\n"
    )
    assert _mime.headers_only(part, Problems(), DEFAULT_LIMITS) == (
        ("Subject", "Grüße"),
        ("To", "a@b"),
    )


# ---------------------------------------------------------------------------
# Inputs


def test_to_bytes_accepts_the_documented_types() -> None:
    raw = "Subject: é\n\nx".encode()
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert _mime.to_bytes(raw, DEFAULT_LIMITS) == raw
    assert _mime.to_bytes(bytearray(raw), DEFAULT_LIMITS) == raw
    assert _mime.to_bytes(memoryview(raw), DEFAULT_LIMITS) == raw
    assert _mime.to_bytes(raw.decode(), DEFAULT_LIMITS) == raw
    assert _mime.to_bytes(raw.decode("utf-8", "surrogateescape"), DEFAULT_LIMITS) == raw
    assert _mime.to_bytes(msg, DEFAULT_LIMITS) == raw


@pytest.mark.parametrize("value", [42, None, ["Subject: x"], object()])
def test_to_bytes_rejects_other_types(value: object) -> None:
    with pytest.raises(RequestError) as info:
        _mime.to_bytes(value, DEFAULT_LIMITS)
    assert str(info.value) == (
        f"parse() reads bytes, str or email.message.Message, not {type(value).__name__}"
    )


# ---------------------------------------------------------------------------
# Bounds: each bomb is refused with limit-exceeded


def walk_all(text: bytes, limits: Limits) -> None:
    """Read every multipart in *text*, as a parse_all would."""
    problems = Problems()
    budget = _mime.Budget(limits)
    queue = [_mime.read_message(text, problems, limits)]
    while queue:
        part = queue.pop()
        if part.maintype == "multipart":
            queue.extend(_mime.children(part, problems, limits, budget))


def refused(text: bytes, limits: Limits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ParseError) as info:
        walk_all(text, limits)
    assert info.value.code == "limit-exceeded"
    return info.value.message


def test_bomb_header_line() -> None:
    assert refused(b"Subject: " + b"x" * 10_000_000 + b"\r\n\r\nbody") == (
        "The message has a header block longer than 1048576 bytes; refused."
    )


def test_bomb_folded_lines() -> None:
    assert refused(b"X-Long: a\r\n" + b" b\r\n" * 1_000_000 + b"\r\nbody") == (
        "The message has a header block longer than 1048576 bytes; refused."
    )


def test_long_field_within_the_block_bound() -> None:
    assert refused(b"X-Long: a\n" + b" b\n" * 100_000 + b"\nbody") == (
        "The message has a header field longer than 262144 bytes; refused."
    )


def test_too_many_fields() -> None:
    assert refused(b"A: b\n" * 3000 + b"\nbody") == (
        "The message has more than 2000 header fields in one block; refused."
    )


def test_bomb_nested_multiparts() -> None:
    depth = 50_000
    head = b"".join(
        b"--n%d.\nContent-Type: multipart/mixed; boundary=n%d.\n\n" % (i, i + 1)
        for i in range(depth)
    )
    text = b"Content-Type: multipart/mixed; boundary=n0.\n\n" + head
    assert refused(text) == "The message has MIME parts nested more than 32 deep; refused."


def test_bomb_many_parts() -> None:
    text = b"Content-Type: multipart/mixed; boundary=b\n\n" + b"--b\n\nx\n" * 100_000 + b"--b--\n"
    assert refused(text) == "The message has more than 10000 MIME parts; refused."


def test_bomb_lines_that_look_like_delimiters() -> None:
    text = b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n" + b"--bx\n" * 20_000
    assert refused(text) == (
        "The message has more than 10000 lines that look like delimiters; refused."
    )


def test_parts_are_counted_across_the_message() -> None:
    limits = Limits(max_parts=5)
    inner = b"--i\n\nx\n--i\n\ny\n--i--\n"
    text = (
        b"Content-Type: multipart/mixed; boundary=o\n\n"
        + b"".join(b"--o\nContent-Type: multipart/mixed; boundary=i\n\n" + inner for _ in range(2))
        + b"--o--\n"
    )
    assert refused(text, limits) == "The message has more than 5 MIME parts; refused."


def test_input_size() -> None:
    with pytest.raises(ParseError) as info:
        _mime.to_bytes(b"x" * 101, Limits(max_input_bytes=100))
    assert (info.value.code, info.value.message) == (
        "limit-exceeded",
        "The message has more than 100 bytes; refused.",
    )


def test_content_type_readings_are_the_same_every_time() -> None:
    # Readings without defects are memoised; those with defects record them every time.
    for value, defects in (("text/plain; charset=utf-8", 0), ("text/plain; junk", 1)):
        for _ in range(3):
            problems = Problems()
            media, params, usable = _mime.parse_content_type(value, problems)
            assert (media, usable, len(problems)) == ("text/plain", True, defects)
            assert params == ({"charset": "utf-8"} if defects == 0 else {})


@given(
    st.lists(
        st.sampled_from(
            ["Received", "X-A", ":", " ", "\t", "\r\n", "\n", "\r", "from a", "by b", "é", "junk"]
        ),
        max_size=16,
    ).map("".join)
)
def test_split_pairs_agrees_with_split_fields(head: str) -> None:
    fields = _mime.split_fields(head, Problems(), DEFAULT_LIMITS)
    pairs = _mime.split_pairs(head, Problems(), DEFAULT_LIMITS)
    assert pairs == tuple((f.name, f.value) for f in fields)


def test_split_pairs_unfolds() -> None:
    assert _mime.split_pairs("Received: from a\r\n\tby b", Problems(), DEFAULT_LIMITS) == (
        ("Received", "from a\tby b"),
    )
    assert _mime.split_pairs("A: 1\nnot a field\nB:\n  2", Problems(), DEFAULT_LIMITS) == (
        ("A", "1"),
        ("B", "2"),
    )


def test_a_message_too_deep_to_flatten() -> None:
    from email.mime.multipart import MIMEMultipart
    from email.mime.text import MIMEText

    msg: email.message.Message = MIMEText("x")
    for _ in range(5000):
        outer = MIMEMultipart()
        outer.attach(msg)
        msg = outer
    with pytest.raises(ParseError) as info:
        _mime.to_bytes(msg, DEFAULT_LIMITS)
    assert (info.value.code, info.value.message) == (
        "limit-exceeded",
        "The email.message.Message is nested too deeply to be flattened; refused.",
    )


def _spans_by_lines(body: bytes, boundary: bytes) -> tuple[list[tuple[int, int]], int, bool]:
    """RFC 2046 §5.1.1 read line by line: the reference for the delimiter scanner."""
    lines: list[tuple[int, int, bool]] = []  # (line start, body start after it, closing)
    offset = 0
    for line in body.split(b"\n"):
        # A line is the text up to an LF; "--" boundary ["--"] *WSP [CR] is a delimiter.
        rest = line.removeprefix(b"--" + boundary)
        closing = rest.startswith(b"--")
        padding = (rest[2:] if closing else rest).removesuffix(b"\r")
        if rest != line and not padding.strip(b" \t"):
            lines.append((offset, min(offset + len(line) + 1, len(body)), closing))
            if closing:
                break
        offset += len(line) + 1
    if not lines:
        return [], 0, False
    closed = lines[-1][2]
    count = len(lines) - 1 if closed else len(lines)
    ends = [start for start, _, _ in lines[1:]] + ([] if closed else [len(body) + 1])
    spans = []
    for (_, start, _), stop in zip(lines, ends, strict=False):
        cut = stop - 1  # the line break before a delimiter is the delimiter's
        if cut > start and body[cut - 1 : cut] == b"\r":
            cut -= 1
        spans.append((start, max(cut, start)))
    return spans, count, closed


@given(
    st.lists(
        st.sampled_from([b"--b", b"--b--", b"--bx", b"\r\n", b"\n", b"\r", b" ", b"x", b"--"]),
        max_size=14,
    ).map(b"".join)
)
def test_delimiter_scanner_agrees_with_a_line_by_line_reading(body: bytes) -> None:
    # The body alone, after a header block (an LF before it), and after
    # text with no LF before it: the scanner finds a first delimiter line
    # on its first line either way.
    for prefix in (b"", b"X: y\n\n", b"X: y\nab"):
        text = prefix + body
        starts, ends, closed = _mime._strict_spans(
            text, b"b", len(prefix), len(text), DEFAULT_LIMITS
        )
        spans = [
            (start - len(prefix), end - len(prefix))
            for start, end in zip(starts, ends, strict=True)
        ]
        assert (spans, len(starts), closed) == _spans_by_lines(body, b"b")


# ---------------------------------------------------------------------------
# Fast paths: each agrees with the careful reading it short-cuts

HEAD_TOKENS = [
    b"A: 1",
    b"Content-Description: x",
    b"Content-Type: text/plain",
    b"content-type:multipart/mixed; boundary=b",
    b" folded",
    b"no colon",
    b":",
    b"\n",
    b"\r\n",
    b"\r",
    b" ",
    b"\xc3\xa9",
    b"\xe9",
]
FAST_PATH_LIMITS = [
    DEFAULT_LIMITS,
    Limits(max_header_fields=2),
    Limits(max_line_bytes=6),
    Limits(max_header_bytes=8),
]


def outcome(read: Callable[[], object]) -> object:
    """What *read* returns, or the limit it refuses.

    A part is compared with the encoding it has, whether its reader learnt
    that with the header block (``transfer``) or not.
    """
    try:
        found = read()
    except ParseError as exc:
        return (exc.code, exc.message)
    if isinstance(found, _mime.Part):
        return found._replace(transfer=None), found.encoding
    return found


@given(
    st.lists(st.sampled_from(HEAD_TOKENS), max_size=12).map(b"".join),
    st.integers(min_value=0, max_value=3),
)
def test_short_header_blocks_read_as_the_careful_reader_does(text: bytes, skip: int) -> None:
    start = min(skip, len(text))

    def careful(limits: Limits) -> tuple[str, int]:
        if _mime._FIELD_LINE.match(text, start, len(text)) is None:
            return _mime._no_head(text, start, len(text))
        return _mime._read_long_head(text, start, len(text), limits)

    for limits in FAST_PATH_LIMITS:
        fast = partial(_mime._read_head, text, start, len(text), limits)
        assert outcome(fast) == outcome(partial(careful, limits))


@given(st.lists(st.sampled_from(HEAD_TOKENS), max_size=12).map(b"".join))
def test_content_type_of_a_part_is_the_first_field_unfolded(text: bytes) -> None:
    head, _ = _mime._read_head(text, 0, len(text), DEFAULT_LIMITS)
    problems = Problems()
    part = _mime.make_part(text, 0, len(text), depth=0, problems=problems, limits=DEFAULT_LIMITS)
    expected = _mime.parse_content_type(_mime.find_field(head, "content-type"), Problems())
    assert (part.content_type, part.params, part.explicit_type) == expected
    names = _mime.field_pattern("content-type", "a")
    found = {
        name: value
        for name in ("content-type", "a")
        if (value := _mime.find_field(head, name)) is not None
    }
    assert _mime.find_fields(part, names) == found


MESSAGE_TOKENS = [
    *(b"From ", b"--b", b"\xef\xbb\xbf", b"Subject: x", b"Content-Type: multipart/mixed;"),
    *(b" boundary=b", b"\n", b"\r\n", b"\r", b" ", b"x", b":"),
]


@given(st.lists(st.sampled_from(MESSAGE_TOKENS), max_size=12).map(b"".join))
def test_the_usual_message_start_reads_as_the_careful_reader_does(text: bytes) -> None:
    fast, careful = Problems(), Problems()
    assert _mime.read_message(text, fast, DEFAULT_LIMITS) == _mime._read_unusual(
        text, careful, DEFAULT_LIMITS, None
    )
    assert fast.defects() == careful.defects()


@given(
    st.sampled_from([b"", b"Content-Transfer-Encoding: 7bit\n", b"Content-Transfer-Encoding: x\n"]),
    st.binary(max_size=20),
    st.one_of(st.none(), st.integers(min_value=0, max_value=20)),
)
def test_a_body_without_transfer_encoding_is_read_as_7bit(
    field: bytes, body: bytes, max_bytes: int | None
) -> None:
    part = part_of(b"Content-Type: text/plain\n" + field + b"\n" + body)
    problems = Problems()
    got = outcome(lambda: _mime.decode_body(part, problems, max_bytes=max_bytes))
    if max_bytes is not None and len(body) > max_bytes:
        assert got == (
            "limit-exceeded",
            f"The message has a report part larger than {max_bytes} bytes; refused.",
        )
    else:
        assert got == body
    unknown = field.endswith(b"x\n")
    assert [d.code for d in problems.defects()] == (
        ["unknown-transfer-encoding"] if unknown and got == body else []
    )


def test_a_control_character_makes_a_media_type_unusable() -> None:
    # RFC 2045 §5.1: a token has no CTLs (DEL included); such a type is
    # never quoted raw into later defect messages.
    problems = Problems()
    got = _mime.parse_content_type("multipart/rep\x7frt; boundary=b", problems)
    assert got == ("text/plain", {"boundary": "b"}, False)
    assert [d.message for d in problems.defects()] == [
        "Content-Type 'multipart/rep\\x7frt' is not type/subtype; read as text/plain."
    ]


TRANSFER_TOKENS = [
    "Content-Transfer-Encoding: base64",
    "content-transfer-encoding:x",
    "CONTENT-TRANSFER-ENCODING :",
    # re.IGNORECASE also folds U+017F (long s) to "s": lower() does not.
    "Content-Tran\u017ffer-Encoding: 7bit",
    "Content-Type: text/plain",
    "\n",
    "\r\n",
    " ",
    "x",
    "\xe9",
]


@given(st.lists(st.sampled_from(TRANSFER_TOKENS), max_size=8).map("".join))
def test_transfer_encoding_check_agrees_with_the_field_search(head: str) -> None:
    expected = _mime.find_field(head, "content-transfer-encoding") is not None
    assert _mime._has_transfer_encoding(head) == expected


FOLDING_TOKENS = [
    "Subject: a",
    "\u017fubject: b",  # re.IGNORECASE folds U+017F to "s"
    "In-Reply-To: c",
    "\u0130n-reply-to: d",  # and U+0130, U+0131 to "i"
    "\u0131N-Reply-To: e",
    "\u212a: f",  # and U+212A (Kelvin sign) to "k"
    "k: g",
    "Received: h",
    "\n",
    "\r\n",
    " folded",
]


@given(st.lists(st.sampled_from(FOLDING_TOKENS), max_size=10).map("".join))
def test_several_names_are_found_as_each_alone(head: str) -> None:
    # The look-ahead for the names' first letters lets through what the
    # case-insensitive names match (a single name has no look-ahead).
    names = ("subject", "in-reply-to", "k")
    part = _mime.Part(b"", 0, 0, head, "text/plain", {}, 0)
    alone = [_mime.find_fields(part, _mime.field_pattern(name)) for name in names]
    expected = {key: value for found in alone for key, value in found.items()}
    assert _mime.find_fields(part, _mime.field_pattern(*names)) == expected


@given(
    st.lists(st.sampled_from(HEAD_TOKENS), max_size=12).map(b"".join),
    st.integers(min_value=0, max_value=3),
    st.sampled_from(["text/plain", "message/rfc822"]),
)
def test_a_one_line_content_type_block_reads_as_the_careful_reader_does(
    text: bytes, skip: int, default: str
) -> None:
    # A window of 0 bytes turns the one-match reading off.
    start = min(skip, len(text))
    for limits in FAST_PATH_LIMITS:
        fast, careful = Problems(), Problems()
        window = _mime._window(limits)
        quick = partial(_mime._entity, (text, 1, fast, limits, default, window), start, len(text))
        slow = partial(_mime._entity, (text, 1, careful, limits, default, 0), start, len(text))
        assert outcome(quick) == outcome(slow)
        assert fast.defects() == careful.defects()


def test_a_one_line_content_type_block_is_read_with_one_match() -> None:
    text = b"Content-Type: text/plain; charset=us-ascii \r\n\r\nHello\r\n"
    site = (text, 1, Problems(), DEFAULT_LIMITS, "text/plain", _mime._window(DEFAULT_LIMITS))
    part = _mime._entity(site, 0, len(text))
    assert part.head == "Content-Type: text/plain; charset=us-ascii "
    assert (part.content_type, part.params) == ("text/plain", {"charset": "us-ascii"})
    assert part.raw_body() == b"Hello\r\n"


@given(
    st.lists(
        st.sampled_from([b"--b", b"--b--", b"--bx", b"\r\n", b"\n", b"\r", b" ", b"\t", b"x"]),
        max_size=14,
    ).map(b"".join),
    st.integers(min_value=0, max_value=4),
)
def test_indented_delimiter_lines_begin_a_line(body: bytes, start: int) -> None:
    # "^" in MULTILINE mode: the start of the input, or after an LF, as
    # the look-behind that spells it out.
    spelled_out = re.compile(rb"(?:\A|(?<=\n))[ \t]*--b(--)?[ \t]*\r?(?:\n|\Z)")
    start = min(start, len(body))
    found = _mime._indented(b"b").finditer(body, start, len(body))
    expected = spelled_out.finditer(body, start, len(body))
    assert [(m.span(), m.group(1)) for m in found] == [(m.span(), m.group(1)) for m in expected]


@given(st.lists(st.sampled_from(HEAD_TOKENS), min_size=1, max_size=6))
def test_parts_written_out_read_as_one_at_a_time(blocks: list[bytes]) -> None:
    text = b"--b\n".join(blocks)
    starts, ends, offset = [], [], 0
    for block in blocks:
        starts.append(offset)
        ends.append(offset + len(block))
        offset += len(block) + 4
    fast, careful = Problems(), Problems()
    window = _mime._window(DEFAULT_LIMITS)
    quick = (text, 1, fast, DEFAULT_LIMITS, "text/plain", window)
    slow = (text, 1, careful, DEFAULT_LIMITS, "text/plain", window)
    assert _mime._entities(quick, starts, ends) == list(
        map(partial(_mime._entity, slow), starts, ends)
    )
    assert fast.defects() == careful.defects()


# ---------------------------------------------------------------------------
# Fast path: the one-match reading of a body part's header block

BLOCK_LINES = [
    *(b"Content-Type: text/plain", b"CONTENT-type:message/rfc822", b"content-type : x/y"),
    *(b"Content-Description: d", b"Content-Transfer-Encoding: base64", b" folded", b"\tf"),
    *(b"content-transfer-encoding:8bit", b"Content-Type: text/plain; charset=\xc3\xa9"),
    *(b"Content-Type: a/b\xe9", b"A: 1", b"no colon", b"", b"\r", b" "),
]
BLOCK_STARTS = [
    b"Content-Type: text/plain",
    b"content-TYPE:message/rfc822",
    b"Content-Description: d",
]
LINE_ENDS = st.sampled_from([b"\n", b"\r\n"])
BLOCK_LINE = st.tuples(st.sampled_from(BLOCK_LINES), LINE_ENDS).map(b"".join)


@given(
    # A first line of the block that the one match may take, then others.
    st.tuples(st.sampled_from(BLOCK_STARTS), LINE_ENDS).map(b"".join),
    st.lists(BLOCK_LINE, max_size=3).map(b"".join),
    st.sampled_from([b"\n", b"\r\n", b"body"]),
    st.sampled_from(["text/plain", "message/rfc822"]),
)
def test_a_content_type_block_of_any_case_reads_as_the_careful_reader_does(
    first: bytes, lines: bytes, after: bytes, default: str
) -> None:
    # Any case, with a Content-Transfer-Encoding line after the
    # Content-Type line: the one match agrees with _read_entity.
    text = first + lines + after
    for limits in FAST_PATH_LIMITS:
        fast, careful = Problems(), Problems()
        window = _mime._window(limits)
        quick = partial(_mime._entity, (text, 1, fast, limits, default, window), 0, len(text))
        slow = partial(_mime._read_entity, (text, 1, careful, limits, default, 0), 0, len(text))
        assert outcome(quick) == outcome(slow)
        assert fast.defects() == careful.defects()


@pytest.mark.parametrize(
    "text",
    [
        b"content-type: message/delivery-status\r\n\r\nReporting-MTA: dns; x\r\n",
        b"Content-Type: application/pkcs7-signature; name=smime.p7s\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nAAAA\r\n",
        b"Content-Description: Notification\nCONTENT-TYPE: text/plain\n"
        b"Content-Transfer-Encoding: 8bit\n\nHello\n",
    ],
)
def test_usual_blocks_of_real_senders_are_read_with_one_match(text: bytes) -> None:
    window = _mime._window(DEFAULT_LIMITS)
    assert _mime._CONTENT_TYPE_BLOCK.match(text, 0, window) is not None
    site = (text, 1, Problems(), DEFAULT_LIMITS, "text/plain", window)
    careful = (text, 1, Problems(), DEFAULT_LIMITS, "text/plain", 0)
    assert outcome(partial(_mime._entity, site, 0, len(text))) == outcome(
        partial(_mime._read_entity, careful, 0, len(text))
    )


@given(st.lists(st.sampled_from(MESSAGE_TOKENS), max_size=12).map(b"".join))
def test_the_usual_message_start_reads_as_the_careful_reader_does_within_any_limits(
    text: bytes,
) -> None:
    # The usual path reads the first line with _read_head alone; within
    # tight limits (a negative max_depth refuses even the top level) it
    # refuses what the careful reader refuses.
    for limits in [*FAST_PATH_LIMITS, Limits(max_depth=-1), Limits(max_depth=0)]:
        fast, careful = Problems(), Problems()
        quick = partial(_mime.read_message, text, fast, limits)
        slow = partial(_mime._read_unusual, text, careful, limits, None)
        assert outcome(quick) == outcome(slow)
        assert fast.defects() == careful.defects()


# ---------------------------------------------------------------------------
# Fast path: the Content-Transfer-Encoding learnt with the header block

TRANSFER_VALUES = [
    *(b" 7bit", b" 8bit", b" binary", b" base64", b" quoted-printable", b" BASE64"),
    *(b"8bit", b"  8bit", b" 8bit ", b" x-uuencode", b" 8bit; x=y", b" ", b""),
    *(b" 8b\rit", b" base64 (comment)", b" \xc3\xa9"),
]


@given(
    st.sampled_from([b"Content-Type: text/plain", b"content-type: message/rfc822"]),
    st.sampled_from([b"Content-Transfer-Encoding:", b"CONTENT-TRANSFER-ENCODING:", b""]),
    st.sampled_from(TRANSFER_VALUES),
    LINE_ENDS,
    st.sampled_from([b"", b"SGVsbG8=\n", b"caf=C3=A9\n", b"\xc3\xa9\n"]),
)
def test_the_transfer_encoding_learnt_with_the_block_is_what_the_search_finds(
    first: bytes, name: bytes, value: bytes, eol: bytes, body: bytes
) -> None:
    block = first + eol + (name + value + eol if name else b"")
    text = block + eol + body
    site = (text, 1, Problems(), DEFAULT_LIMITS, "text/plain", _mime._window(DEFAULT_LIMITS))
    careful = (text, 1, Problems(), DEFAULT_LIMITS, "text/plain", 0)
    fast = _mime._entity(site, 0, len(text))
    slow = _mime._read_entity(careful, 0, len(text))
    assert slow.transfer is None
    assert fast._replace(transfer=None) == slow
    assert fast.encoding == slow.encoding
    # The body the parser reads, with the shortcut or without it.
    for limit in (None, 4):
        bodies = []
        for part in (fast, slow):
            problems = Problems()
            plain = _mime.plain_body(part)
            try:
                if plain is None or (limit is not None and len(plain) > limit):
                    plain = _mime.decode_body(part, problems, max_bytes=limit)
            except ParseError as exc:
                plain = exc.code.encode()
            bodies.append((plain, problems.defects()))
        assert bodies[0] == bodies[1]


# ---------------------------------------------------------------------------
# Possessive runs in the header field patterns

# The header field patterns as first written, with backtracking runs.
BACKTRACKING_FIELD = re.compile(r"(?:([!-9;-~]+)[ \t]*:(.*(?:\n[ \t].*)*)|(.+(?:\n[ \t].*)*))\n?")
HEADER_TEXT = st.lists(
    st.sampled_from(
        [
            *(t.decode("utf-8", "replace") for t in HEAD_TOKENS),
            *FOLDING_TOKENS,
            *("\n", "\r\n", "\r", " ", "\t", ":", " :", "a", "\x85", "\u2028", ""),
        ]
    ),
    max_size=16,
).map("".join)


@given(HEADER_TEXT)
def test_possessive_field_pattern_reads_as_the_backtracking_one(head: str) -> None:
    found = [(m.span(), m.groups()) for m in _mime._FIELD.finditer(head)]
    assert found == [(m.span(), m.groups()) for m in BACKTRACKING_FIELD.finditer(head)]


@given(HEADER_TEXT)
def test_possessive_field_search_reads_as_the_backtracking_one(head: str) -> None:
    for names in (("content-type",), ("subject", "in-reply-to", "k", "date")):
        pattern = _mime.field_pattern(*names).pattern
        backtracking = re.compile(pattern.replace("*+", "*"))
        assert "+" not in backtracking.pattern
        text = "\n" + head
        assert _mime.field_pattern(*names).findall(text) == backtracking.findall(text)
