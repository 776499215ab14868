"""parse() and parse_all(): where the report is, report-level values, evidence, modes."""

from __future__ import annotations

import email
import email.policy
import pathlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mdnkit
from mdnkit import _mime, parser
from mdnkit._defects import Problems
from mdnkit.errors import ParseError, RequestError
from mdnkit.limits import Limits
from mdnkit.model import (
    DSN,
    MDN,
    ActionMode,
    AddressField,
    Defect,
    Disposition,
    DispositionType,
    DSNAction,
    Headers,
    MessageRef,
    RefSource,
    SendingMode,
)


def crlf(text: str) -> bytes:
    """A message written with LF in the source, sent with CRLF as on the wire."""
    return text.replace("\n", "\r\n").encode()


# RFC 8098 §9, verbatim (de-indented).
RFC8098_EXAMPLE = """\
Date: Wed, 20 Sep 1995 00:19:00 (EDT) -0400
From: Joe Recipient <Joe_Recipient@example.com>
Message-Id: <199509200019.12345@example.com>
Subject: Disposition notification
To: Jane Sender <Jane_Sender@example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification;
   boundary="RAA14128.773615765/example.com"

--RAA14128.773615765/example.com

The message sent on 1995 Sep 19 at 13:30:00 (EDT) -0400 to Joe
Recipient <Joe_Recipient@example.com> with subject "First draft of
report" has been displayed.
This is no guarantee that the message has been read or understood.

--RAA14128.773615765/example.com
Content-Type: message/disposition-notification

Reporting-UA: joes-pc.cs.example.com; Foomail 97.1
Original-Recipient: rfc822;Joe_Recipient@example.com
Final-Recipient: rfc822;Joe_Recipient@example.com
Original-Message-ID: <199509192301.23456@example.org>
Disposition: manual-action/MDN-sent-manually; displayed

--RAA14128.773615765/example.com
Content-Type: message/rfc822

[original message optionally goes here]

--RAA14128.773615765/example.com--
"""

DISPLAYED = Disposition(
    action_mode=ActionMode.MANUAL,
    sending_mode=SendingMode.MANUAL,
    type=DispositionType.DISPLAYED,
)
JOE = AddressField("rfc822", "Joe_Recipient@example.com")


def test_rfc8098_example() -> None:
    assert mdnkit.parse(crlf(RFC8098_EXAMPLE)) == MDN(
        message_ref=MessageRef("199509192301.23456@example.org", RefSource.ORIGINAL_MESSAGE_ID),
        message_id="199509200019.12345@example.com",
        date=datetime(1995, 9, 20, 0, 19, tzinfo=timezone(timedelta(hours=-4))),
        sender="Joe_Recipient@example.com",
        subject="Disposition notification",
        human_text=(
            "The message sent on 1995 Sep 19 at 13:30:00 (EDT) -0400 to Joe\r\n"
            'Recipient <Joe_Recipient@example.com> with subject "First draft of\r\n'
            'report" has been displayed.\r\n'
            "This is no guarantee that the message has been read or understood.\r\n"
        ),
        # The third part holds a placeholder line, not a header block.
        original_headers=Headers([]),
        reporting_ua="joes-pc.cs.example.com; Foomail 97.1",
        original_recipient=JOE,
        final_recipient=JOE,
        original_message_id="199509192301.23456@example.org",
        disposition=DISPLAYED,
    )


def test_line_endings_do_not_matter() -> None:
    expected = mdnkit.parse(crlf(RFC8098_EXAMPLE))
    assert expected is not None
    for raw in (RFC8098_EXAMPLE.encode(), RFC8098_EXAMPLE.replace("\n", "\r").encode()):
        got = mdnkit.parse(raw)
        assert got is not None
        assert got.human_text == expected.human_text.replace(  # type: ignore[union-attr]
            "\r\n", "\n"
        )
        assert got.__class__ is MDN
        assert (got.message_ref, got.final_recipient, got.disposition, got.defects) == (  # type: ignore[union-attr]
            expected.message_ref,
            JOE,
            DISPLAYED,
            (),
        )


# ---------------------------------------------------------------------------
# Building blocks for the vectors below

MDN_BODY = """\
Reporting-UA: pc.example.com; Mailer 1.0
Final-Recipient: rfc822; bob@example.com
Original-Message-ID: <sent-1@example.org>
Disposition: automatic-action/MDN-sent-automatically; displayed
"""
DSN_BODY = """\
Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; bob@example.com
Action: failed
Status: 5.1.1
"""


def report(
    body: str = MDN_BODY,
    *,
    part_type: str = "message/disposition-notification",
    outer: str = "multipart/report; report-type=disposition-notification",
    headers: str = "From: Bob <bob@example.com>\nMessage-ID: <report-1@example.com>\n",
    human: str = "Content-Type: text/plain\n\nYour message was displayed.\n",
    third: str = "",
    boundary: str = "RB",
) -> str:
    """A report message (LF line ends) with the given pieces."""
    text = f'{headers}Content-Type: {outer}; boundary="{boundary}"\n\n'
    text += f"--{boundary}\n{human}\n"
    text += f"--{boundary}\nContent-Type: {part_type}\n\n{body}\n"
    if third:
        text += f"--{boundary}\n{third}\n"
    return text + f"--{boundary}--\n"


def wrap(
    inner: str, outer: str, *, before: str = "", after: str = "", boundary: str = "OUT"
) -> str:
    """*inner* (a whole message) as a part of a multipart of type *outer*."""
    return (
        f'From: relay@example.net\nContent-Type: {outer}; boundary="{boundary}"\n\n'
        + (f"--{boundary}\n{before}\n" if before else "")
        + f"--{boundary}\n{inner}\n"
        + (f"--{boundary}\n{after}\n" if after else "")
        + f"--{boundary}--\n"
    )


def summary(found: MDN | DSN | None) -> tuple[object, ...] | None:
    """What identifies a report in the vectors: kind, recipient, evidence, defect codes."""
    if found is None:
        return None
    if isinstance(found, MDN):
        who = found.final_recipient.address if found.final_recipient else None
    else:
        who = found.recipients[0].address if found.recipients else None
    return (
        type(found).__name__,
        who,
        found.message_ref,
        tuple(d.code for d in found.defects),
    )


SENT = MessageRef("sent-1@example.org", RefSource.ORIGINAL_MESSAGE_ID)
ORIGINAL = "Content-Type: text/rfc822-headers\n\nMessage-ID: <orig-9@example.org>\nSubject: hi\n"
ATTACHED = MessageRef("orig-9@example.org", RefSource.ATTACHED_ORIGINAL)
BOUNCE_OF_BOUNCE = report(
    DSN_BODY.replace("bob@", "outer@"),
    part_type="message/delivery-status",
    outer="multipart/report; report-type=delivery-status",
    third="Content-Type: message/rfc822\n\n"
    + report(
        DSN_BODY.replace("bob@", "inner@"),
        part_type="message/delivery-status",
        outer="multipart/report; report-type=delivery-status",
        headers="From: MAILER-DAEMON@example.net\nMessage-ID: <bounce-1@example.net>\n",
        boundary="INNER",
        third=ORIGINAL,
    ),
)
# The outer report is about the inner bounce, whose Message-ID it returns.
ABOUT_BOUNCE = MessageRef("bounce-1@example.net", RefSource.ATTACHED_ORIGINAL)

WHERE = [
    ("top-level multipart/report", report(), ("MDN", "bob@example.com", SENT, ())),
    (
        "inside multipart/mixed (Delta Chat, forwarded reports)",
        wrap(report(headers=""), "multipart/mixed", before="Content-Type: text/plain\n\nFYI\n"),
        ("MDN", "bob@example.com", SENT, ()),
    ),
    (
        "inside multipart/signed (AS2)",
        wrap(
            report(headers=""),
            'multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256',
            after="Content-Type: application/pkcs7-signature\n\nMIAGCSqGSIb3DQEHAqCAMIACAQEx",
        ),
        ("MDN", "bob@example.com", SENT, ()),
    ),
    (
        "in a forwarded message/rfc822",
        wrap(
            "Content-Type: message/rfc822\n\n" + report(),
            "multipart/mixed",
            before="Content-Type: text/plain\n\nSee the receipt below.\n",
        ),
        ("MDN", "bob@example.com", SENT, ()),
    ),
    (
        "top level is message/rfc822",
        "Content-Type: message/rfc822\n\n" + report(),
        ("MDN", "bob@example.com", SENT, ()),
    ),
    (
        "report part straight at the top level",
        "Content-Type: message/disposition-notification\n\n" + MDN_BODY,
        ("MDN", "bob@example.com", SENT, ()),
    ),
    (
        "message/delivery-status in multipart/mixed (OpenSMTPD, McAfee)",
        report(DSN_BODY, part_type="message/delivery-status", outer="multipart/mixed"),
        (
            "DSN",
            "bob@example.com",
            None,
            ("not-multipart-report",),
        ),
    ),
    (
        "report-type missing",
        report(outer="multipart/report"),
        ("MDN", "bob@example.com", SENT, ("missing-report-type",)),
    ),
    (
        "report-type upper-case, Report-Type= spelling",
        report(outer="multipart/report; Report-Type=DISPOSITION-NOTIFICATION"),
        ("MDN", "bob@example.com", SENT, ()),
    ),
    (
        "report-type wrong: the part's type decides",
        report(outer="multipart/report; report-type=xxxxxxxx"),
        ("MDN", "bob@example.com", SENT, ("wrong-report-type",)),
    ),
    (
        "report-type delivery-status with the global form (RFC 6533 §4.4)",
        report(
            DSN_BODY,
            part_type="message/global-delivery-status",
            outer="multipart/report; report-type=delivery-status",
        ),
        ("DSN", "bob@example.com", None, ()),
    ),
    (
        "global disposition notification",
        report(
            MDN_BODY,
            part_type="message/global-disposition-notification",
            outer="multipart/report; report-type=global-disposition-notification",
        ),
        ("MDN", "bob@example.com", SENT, ()),
    ),
    (
        "part type in odd case with junk parameters",
        report(
            DSN_BODY,
            part_type='Message/DELIVERY-STATUS; charset=UTF-8; name="deliverystatus.txt"',
            outer="multipart/report; report-type=delivery-status",
        ),
        ("DSN", "bob@example.com", None, ()),
    ),
    (
        "report part without Content-Type: report-type says what it is",
        report(MDN_BODY).replace("Content-Type: message/disposition-notification\n", ""),
        ("MDN", "bob@example.com", SENT, ("missing-content-type",)),
    ),
    (
        "a bounce of a bounce: the outer report wins",
        BOUNCE_OF_BOUNCE,
        ("DSN", "outer@example.com", ABOUT_BOUNCE, ()),
    ),
    ("plain text is not a report", "From: a@b\nSubject: hi\n\nhello\n", None),
    (
        "multipart/mixed without a report part",
        wrap("Content-Type: text/plain\n\nhello\n", "multipart/mixed"),
        None,
    ),
    ("no headers, no boundary", "hello\n", None),
    ("empty input", "", None),
]


@pytest.mark.parametrize(("text", "expected"), [v[1:] for v in WHERE], ids=[v[0] for v in WHERE])
def test_where_the_report_is(text: str, expected: tuple[object, ...] | None) -> None:
    assert summary(mdnkit.parse(crlf(text))) == expected


def test_not_a_report_is_decided_from_the_top_header_block() -> None:
    # The body is never looked at: a report-looking body under text/plain is ignored.
    text = "Content-Type: text/plain\n\n" + report()
    assert mdnkit.parse(crlf(text)) is None


def test_parse_all_returns_every_report() -> None:
    second = report(MDN_BODY.replace("bob@", "carol@"), boundary="RB2", headers="")
    text = wrap(report(headers=""), "multipart/parallel", after=second)
    assert [summary(r) for r in mdnkit.parse_all(crlf(text))] == [
        ("MDN", "bob@example.com", SENT, ()),
        ("MDN", "carol@example.com", SENT, ()),
    ]
    assert summary(mdnkit.parse(crlf(text))) == ("MDN", "bob@example.com", SENT, ())


def test_parse_all_skips_reports_inside_returned_originals() -> None:
    assert [summary(r) for r in mdnkit.parse_all(crlf(BOUNCE_OF_BOUNCE))] == [
        ("DSN", "outer@example.com", ABOUT_BOUNCE, ()),
    ]


def test_parse_all_of_a_non_report() -> None:
    assert mdnkit.parse_all(b"Subject: hi\r\n\r\nhello\r\n") == ()


def test_parse_all_bound() -> None:
    many = "".join(f"--OUT\n{report(headers='', boundary=f'R{i}')}\n" for i in range(4))
    text = 'Content-Type: multipart/parallel; boundary="OUT"\n\n' + many + "--OUT--\n"
    assert len(mdnkit.parse_all(crlf(text), limits=Limits(max_reports=4))) == 4
    with pytest.raises(ParseError) as info:
        mdnkit.parse_all(crlf(text), limits=Limits(max_reports=3))
    assert (info.value.code, info.value.message) == (
        "limit-exceeded",
        "The message has more than 3 reports; refused.",
    )


def test_defects_of_the_structure_go_to_every_report() -> None:
    second = report(MDN_BODY.replace("bob@", "carol@"), boundary="RB2", headers="")
    raw = b"\xef\xbb\xbf" + crlf(wrap(report(headers=""), "multipart/parallel", after=second))
    assert [r.defects for r in mdnkit.parse_all(raw)] == [
        (Defect("byte-order-mark", "The message starts with a UTF-8 byte order mark."),),
        (Defect("byte-order-mark", "The message starts with a UTF-8 byte order mark."),),
    ]


# ---------------------------------------------------------------------------
# Evidence for the sent message, strongest first

NO_OMID = MDN_BODY.replace("Original-Message-ID: <sent-1@example.org>\n", "")
REPLY = "From: bob@example.com\nIn-Reply-To: <reply-2@example.org>\nReferences: <a@x> <ref-3@example.org>\n"
REFS = "From: bob@example.com\nReferences: <a@x>\n <ref-3@example.org>\n"
DSN_ENVID = "Original-Envelope-Id: QQ314159\nReporting-MTA: dns; mx.example.com\n\nFinal-Recipient: rfc822; bob@example.com\nAction: failed\nStatus: 5.0.0\n"

REFS_VECTORS = [
    ("Original-Message-ID wins over everything", report(headers=REPLY, third=ORIGINAL), SENT),
    (
        "then the returned original's Message-ID",
        report(NO_OMID, headers=REPLY, third=ORIGINAL),
        ATTACHED,
    ),
    (
        "then In-Reply-To (Outlook)",
        report(NO_OMID, headers=REPLY),
        MessageRef("reply-2@example.org", RefSource.IN_REPLY_TO),
    ),
    (
        "then the last References id",
        report(NO_OMID, headers=REFS),
        MessageRef("ref-3@example.org", RefSource.REFERENCES),
    ),
    ("nothing at all", report(NO_OMID, headers="From: bob@example.com\n"), None),
    (
        "a DSN with only an envelope id",
        report(
            DSN_ENVID,
            part_type="message/delivery-status",
            outer="multipart/report; report-type=delivery-status",
        ),
        MessageRef(None, RefSource.ENVELOPE_ID, envelope_id="QQ314159"),
    ),
    (
        "a DSN prefers the returned original to the envelope id",
        report(
            DSN_ENVID,
            part_type="message/delivery-status",
            outer="multipart/report; report-type=delivery-status",
            third=ORIGINAL,
        ),
        ATTACHED,
    ),
    (
        "a DSN prefers In-Reply-To to the envelope id",
        report(
            DSN_ENVID,
            part_type="message/delivery-status",
            outer="multipart/report; report-type=delivery-status",
            headers=REPLY,
        ),
        MessageRef("reply-2@example.org", RefSource.IN_REPLY_TO),
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [v[1:] for v in REFS_VECTORS], ids=[v[0] for v in REFS_VECTORS]
)
def test_message_ref(text: str, expected: MessageRef | None) -> None:
    found = mdnkit.parse(crlf(text))
    assert found is not None
    assert found.message_ref == expected


def test_message_ref_keeps_odd_ids_with_a_defect() -> None:
    # Direct Project agents write ids with a space; Sterling writes them bare.
    text = report(
        NO_OMID, headers="From: b@example.com\nIn-Reply-To: 9501051053.aa04167@IETF.CNR\n"
    )
    found = mdnkit.parse(crlf(text))
    assert found is not None
    assert found.message_ref == MessageRef("9501051053.aa04167@IETF.CNR", RefSource.IN_REPLY_TO)
    assert [d.code for d in found.defects] == ["missing-angle-brackets"]


# ---------------------------------------------------------------------------
# Report-level values


def test_report_level_values() -> None:
    human = (
        'Content-Type: multipart/alternative; boundary="ALT"\n\n'
        "--ALT\nContent-Type: text/plain; charset=iso-8859-1\n"
        "Content-Transfer-Encoding: quoted-printable\n\nGelesen: Ihre Nachricht =FCber\n"
        "--ALT\nContent-Type: text/html\n\n<p>Gelesen</p>\n--ALT--\n"
    )
    headers = (
        'From: "Bob B." <bob@example.com>\n'
        "Date: Mon, 13 Dec 2021 12:35:26 +0100\n"
        "Subject: =?iso-8859-1?q?Gelesen:_=FCber?= the plan\n"
        "Message-ID: <Report-7@Example.COM>\n"
    )
    found = mdnkit.parse(crlf(report(headers=headers, human=human, third=ORIGINAL)))
    assert isinstance(found, MDN)
    assert (
        found.sender,
        found.date,
        found.subject,
        found.message_id,
        found.human_text,
        found.original_headers,
    ) == (
        "bob@example.com",
        datetime(2021, 12, 13, 11, 35, 26, tzinfo=UTC),
        "Gelesen: über the plan",
        "Report-7@Example.COM",
        "Gelesen: Ihre Nachricht über",
        Headers([("Message-ID", "<orig-9@example.org>"), ("Subject", "hi")]),
    )


def test_nested_report_part_carries_its_own_message_id() -> None:
    # Delta Chat puts a Message-ID on the multipart/report part inside multipart/mixed.
    inner = "Message-ID: <inner-5@example.com>\n" + report(headers="")
    text = 'Content-Type: multipart/mixed; boundary="OUT"\n\n--OUT\n' + inner + "\n--OUT--\n"
    found = mdnkit.parse(crlf(text))
    assert found is not None
    assert found.message_id == "inner-5@example.com"


ORIGINAL_PARTS = [
    (
        "message/rfc822: headers only",
        "Content-Type: message/rfc822\n\nMessage-ID: <orig-9@example.org>\nSubject: hi\n\nbody\n",
        ((("Message-ID", "<orig-9@example.org>"), ("Subject", "hi")), ()),
    ),
    (
        "message/global-headers",
        "Content-Type: message/global-headers\n\nSubject: Grüße\n",
        ((("Subject", "Grüße"),), ()),
    ),
    (
        "the bogus message/rfc822-headers",
        "Content-Type: message/rfc822-headers\n\nSubject: hi\n",
        ((("Subject", "hi"),), ("bogus-original-type",)),
    ),
    ("an unrelated third part", "Content-Type: application/pdf\n\n%PDF", (None, ())),
]


@pytest.mark.parametrize(
    ("third", "expected"), [v[1:] for v in ORIGINAL_PARTS], ids=[v[0] for v in ORIGINAL_PARTS]
)
def test_original_headers(third: str, expected: tuple[object, tuple[str, ...]]) -> None:
    found = mdnkit.parse(crlf(report(third=third)))
    assert found is not None
    headers = None if found.original_headers is None else tuple(found.original_headers)
    assert (headers, tuple(d.code for d in found.defects)) == expected


def test_report_part_decoding() -> None:
    import base64

    encoded = base64.encodebytes(crlf(MDN_BODY)).decode()
    text = report(encoded).replace(
        "Content-Type: message/disposition-notification\n",
        "Content-Type: message/disposition-notification\nContent-Transfer-Encoding: base64\n",
    )
    found = mdnkit.parse(crlf(text))
    assert summary(found) == ("MDN", "bob@example.com", SENT, ())


def test_report_part_that_is_not_utf8() -> None:
    raw = crlf(report(MDN_BODY + "X-Note: caf\x00\n")).replace(b"caf\x00", b"caf\xe9")
    offset = len(crlf(MDN_BODY + "X-Note: caf"))
    found = mdnkit.parse(raw)
    assert isinstance(found, MDN)
    assert found.extension_fields == Headers([("X-Note", "caf\ufffd")])
    assert found.defects == (
        Defect(
            "non-utf8-report",
            f"The report part is not valid UTF-8 (first bad byte at offset {offset}); "
            "undecodable bytes were replaced.",
            "Content-Type",
        ),
    )


def test_report_part_size_bound() -> None:
    with pytest.raises(ParseError) as info:
        mdnkit.parse(
            crlf(report(MDN_BODY + "X-Pad: " + "x" * 500 + "\n")),
            limits=Limits(max_report_bytes=400),
        )
    assert (info.value.code, info.value.message) == (
        "limit-exceeded",
        "The message has a report part larger than 400 bytes; refused.",
    )


def test_mdn_fields_in_the_part_header_block() -> None:
    # Direct Project: no blank line between the part header and the fields.
    text = report().replace(
        "Content-Type: message/disposition-notification\n\n",
        "Content-Type: message/disposition-notification\n",
    )
    found = mdnkit.parse(crlf(text))
    assert summary(found) == ("MDN", "bob@example.com", SENT, ("fields-in-part-header",))


@pytest.mark.parametrize(
    ("old", "new", "codes"),
    [
        # One Content-* line, any spelling: no MDN field in the part header.
        (
            "Content-Type: message/disposition-notification\n",
            "content-type:message/disposition-notification\n",
            (),
        ),
        (
            "Content-Type: message/disposition-notification\n",
            "Content-Type: message/disposition-notification\nContent-ID: <p2@x>\n",
            (),
        ),
        # A one-line block holding an MDN field (the part type then comes
        # from report-type): the field is read, with defects.
        (
            "Content-Type: message/disposition-notification\n\nReporting-UA: pc.example.com; Mailer 1.0\n",
            "Reporting-UA: pc.example.com; Mailer 1.0\n\n",
            ("missing-content-type", "fields-in-part-header"),
        ),
    ],
)
def test_mdn_part_header_one_line_or_more(old: str, new: str, codes: tuple[str, ...]) -> None:
    text = report().replace(old, new)
    assert new in text
    found = mdnkit.parse(crlf(text))
    assert summary(found) == ("MDN", "bob@example.com", SENT, codes)
    assert isinstance(found, MDN)
    assert found.reporting_ua == "pc.example.com; Mailer 1.0"


# ---------------------------------------------------------------------------
# content_type= (AS2 over HTTP) and a body that starts with a boundary

AS2_BODY = """\
--SIG
Content-Type: multipart/report; report-type=disposition-notification;
  boundary="RB"

--RB
Content-Type: text/plain

The message was received.

--RB
Content-Type: message/disposition-notification

Final-Recipient: rfc822; PARTNER
Original-Message-ID: 67C022FA-A0D1-4083-9B45-1CFBEE17CB60
Disposition: automatic-action/MDN-sent-automatically; processed
Received-Content-MIC: 7v7F++fQaNB1sVLFtMRp+dF+eG4=, sha1

--RB--

--SIG
Content-Type: application/pkcs7-signature

MIAGCSqGSIb3DQEHAqCAMIACAQEx
--SIG--
"""
AS2_REF = MessageRef("67C022FA-A0D1-4083-9B45-1CFBEE17CB60", RefSource.ORIGINAL_MESSAGE_ID)


def test_content_type_argument() -> None:
    found = mdnkit.parse(
        crlf(AS2_BODY),
        content_type='multipart/signed; protocol="application/pkcs7-signature"; boundary=SIG',
    )
    assert isinstance(found, MDN)
    assert (found.final_recipient, found.received_content_mic, found.message_ref) == (
        AddressField("rfc822", "PARTNER"),
        "7v7F++fQaNB1sVLFtMRp+dF+eG4=, sha1",
        AS2_REF,
    )
    assert [d.code for d in found.defects] == ["missing-angle-brackets", "message-id-without-at"]


def test_body_starting_with_a_boundary_is_detected() -> None:
    found = mdnkit.parse(crlf(AS2_BODY))
    assert isinstance(found, MDN)
    assert found.message_ref == AS2_REF
    assert [d.code for d in found.defects] == [
        "missing-headers",
        "missing-angle-brackets",
        "message-id-without-at",
    ]


# ---------------------------------------------------------------------------
# Modes and inputs


def test_strict_raises_what_lenient_records() -> None:
    text = crlf(report(outer="multipart/report"))
    lenient = mdnkit.parse(text)
    assert lenient is not None
    assert lenient.defects == (
        Defect(
            "missing-report-type",
            "The multipart/report has no report-type parameter (RFC 6522 §3); read as "
            "disposition-notification from the report part.",
            "Content-Type",
        ),
    )
    with pytest.raises(ParseError) as info:
        mdnkit.parse(text, strict=True)
    assert (info.value.code, info.value.message, info.value.field) == (
        "missing-report-type",
        lenient.defects[0].message,
        "Content-Type",
    )
    assert mdnkit.parse(crlf(report()), strict=True) == mdnkit.parse(crlf(report()))


def test_strict_raises_a_group_for_several_problems() -> None:
    text = crlf(
        report(
            NO_OMID.replace("Final-Recipient: rfc822; bob@example.com\n", ""),
            outer="multipart/report",
        )
    )
    with pytest.raises(ExceptionGroup) as info:
        mdnkit.parse(text, strict=True)
    assert [e.code for e in info.value.exceptions] == [
        "missing-report-type",
        "missing-final-recipient",
    ]  # type: ignore[attr-defined]


def test_inputs_of_every_accepted_type() -> None:
    raw = crlf(RFC8098_EXAMPLE)
    expected = mdnkit.parse(raw)
    assert expected is not None
    assert mdnkit.parse(bytearray(raw)) == expected
    assert mdnkit.parse(memoryview(raw)) == expected
    assert mdnkit.parse(raw.decode()) == expected
    # A Message flattens with LF line ends; nothing else changes.
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert mdnkit.parse(msg) == mdnkit.parse(raw.replace(b"\r\n", b"\n"))
    modern = email.message_from_bytes(raw, policy=email.policy.default)
    found = mdnkit.parse(modern)
    assert found is not None
    assert (found.message_ref, found.disposition) == (expected.message_ref, DISPLAYED)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data": 42}, "parse() reads bytes, str or email.message.Message, not int"),
        ({"data": b"", "content_type": b"text/plain"}, "content_type must be a str, not bytes"),
        ({"data": b"", "limits": {"max_parts": 3}}, "limits must be a mdnkit.Limits, not dict"),
    ],
)
def test_misuse_is_a_request_error(kwargs: dict[str, object], message: str) -> None:
    data = kwargs.pop("data")
    with pytest.raises(RequestError) as info:
        mdnkit.parse(data, **kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_parse_disposition_is_reexported() -> None:
    assert parser.__all__ == ["parse", "parse_all", "parse_disposition"]
    assert mdnkit.parse_disposition("manual-action/MDN-sent-manually; displayed") == DISPLAYED


# ---------------------------------------------------------------------------
# Bombs through the public entry point (no timing: the bounds are what is tested)

BOMBS = [
    (
        "10 MB header line",
        b"Subject: " + b"x" * 10_000_000 + b"\r\n\r\n",
        "a header block longer than 1048576 bytes",
    ),
    (
        "a million folded lines",
        b"Content-Type: multipart/report;\r\n" + b" x=y;\r\n" * 1_000_000 + b"\r\n",
        "a header block longer than 1048576 bytes",
    ),
    (
        "50,000 nested multiparts",
        b'Content-Type: multipart/mixed; boundary="n0."\r\n\r\n'
        + b"".join(
            b'--n%d.\r\nContent-Type: multipart/mixed; boundary="n%d."\r\n\r\n' % (i, i + 1)
            for i in range(50_000)
        ),
        "MIME parts nested more than 32 deep",
    ),
    (
        "50,000 nested forwarded messages",
        b"Content-Type: message/rfc822\r\n\r\n" * 50_000,
        "MIME parts nested more than 32 deep",
    ),
    (
        "100,000 parts",
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        + b"--b\r\n\r\nx\r\n" * 100_000
        + b"--b--\r\n",
        "more than 10000 MIME parts",
    ),
]


@pytest.mark.parametrize(("data", "what"), [v[1:] for v in BOMBS], ids=[v[0] for v in BOMBS])
def test_bombs_are_refused(data: bytes, what: str) -> None:
    for strict in (False, True):
        with pytest.raises(ParseError) as info:
            mdnkit.parse(data, strict=strict)
        assert (info.value.code, info.value.message) == (
            "limit-exceeded",
            f"The message has {what}; refused.",
        )


# ---------------------------------------------------------------------------
# Properties


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_any_bytes_give_a_report_none_or_a_parse_error(data: bytes) -> None:
    try:
        found = mdnkit.parse(data)
    except ParseError:
        return
    assert found is None or isinstance(found, MDN | DSN)


SEEDS = [crlf(RFC8098_EXAMPLE), crlf(BOUNCE_OF_BOUNCE), crlf(AS2_BODY)]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SEEDS),
    st.lists(
        st.tuples(st.integers(0, 4000), st.integers(0, 40), st.binary(max_size=12)), max_size=6
    ),
)
def test_damaged_reports_give_a_report_none_or_a_parse_error(
    seed: bytes, edits: list[tuple[int, int, bytes]]
) -> None:
    data = seed
    for position, cut, insert in edits:
        at = position % (len(data) + 1)
        data = data[:at] + insert + data[at + cut :]
    for strict in (False, True):
        try:
            found = mdnkit.parse(data, strict=strict)
            every = mdnkit.parse_all(data, strict=strict)
        except ParseError:
            continue
        except ExceptionGroup as group:
            errors = group.exceptions
        else:
            errors = ()
        if errors:
            assert all(isinstance(e, ParseError) for e in errors)
            continue
        assert found is None or isinstance(found, MDN | DSN)
        assert (found is None) == (every == ())
        assert all(isinstance(r, MDN | DSN) for r in every)


def test_dsn_action_is_read() -> None:
    found = mdnkit.parse(
        crlf(
            report(
                DSN_BODY,
                part_type="message/delivery-status",
                outer="multipart/report; report-type=delivery-status",
            )
        )
    )
    assert isinstance(found, DSN)
    assert found.recipients[0].action is DSNAction.FAILED


# Pieces of encoded words, ids, addresses and folds, in any order.
HEADER_TEXT = st.lists(
    st.sampled_from(
        [*"=?_<>@;:\"'()\\ \t/abcQB0123456789é€\x00\x7f", "=?", "?=", "\r\n ", "utf-8", "?q?"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(
        ["Subject", "Date", "Message-ID", "In-Reply-To", "References", "From", "Content-Type"]
    ),
    HEADER_TEXT,
    st.booleans(),
)
def test_any_header_value_gives_a_report_or_a_parse_error(
    name: str, value: str, outer: bool
) -> None:
    """Hostile values in the headers parse() reads itself never raise anything else."""
    text = report(third=ORIGINAL, headers=f"{name}: {value}\n")
    if not outer:
        text = text.replace(
            "Content-Type: text/plain\n", f"Content-Type: text/plain; {name}={value}\n"
        )
    try:
        found = mdnkit.parse(text.encode("utf-8", "surrogateescape"))
    except ParseError:
        return
    assert found is None or isinstance(found, MDN)


# ---------------------------------------------------------------------------
# Fixture files: whole messages shaped like real senders' (own values)

FIXTURES = pathlib.Path(__file__).parent / "fixtures"

FIXTURE_VECTORS = [
    (
        "mdn_outlook_alternative.eml",
        (
            "MDN",
            "carla@example.net",
            MessageRef("offer-2023-03@example.org", RefSource.IN_REPLY_TO),
            (),
        ),
        ("Gelesen: Angebot für März", "carla@example.net", "Ihre Nachricht\r\n"),
    ),
    (
        "mdn_as2_signed.eml",
        (
            "MDN",
            "PARTNER-B",
            MessageRef("as2-msg-4471@sender.example.org", RefSource.ORIGINAL_MESSAGE_ID),
            (),
        ),
        (None, None, "Your message was successfully received and processed.\r\n"),
    ),
    (
        "mdn_direct_no_blank_line.eml",
        (
            "MDN",
            None,
            MessageRef("lab-results-19@hospital.example.com", RefSource.IN_REPLY_TO),
            (
                "byte-order-mark",
                "missing-close-delimiter",
                "missing-angle-brackets",
                "fields-in-part-header",
                "missing-final-recipient",
            ),
        ),
        ("processed:Lab results", "agent@direct.example.org", "Your message was successfully"),
    ),
    (
        "parse_headerless_as2.payload",
        (
            "MDN",
            "PARTNER-C",
            MessageRef("OPENAS2-9090-1700000000@SENDER_PARTNER-C", RefSource.ORIGINAL_MESSAGE_ID),
            ("missing-headers",),
        ),
        (None, None, "The message sent to Recipient PARTNER-C was received."),
    ),
    (
        "dsn_bounce_of_bounce.eml",
        (
            "DSN",
            "postmaster@gone.example.net",
            MessageRef("20230602173955.INNER@gone.example.net", RefSource.ATTACHED_ORIGINAL),
            (),
        ),
        (
            "Undelivered Mail Returned to Sender",
            "MAILER-DAEMON@relay.example.com",
            "Your bounce could not be delivered either.\r\n",
        ),
    ),
    (
        "dsn_mixed_container.eml",
        (
            "DSN",
            "erin@slow.example.com",
            MessageRef("queued-33@example.org", RefSource.ATTACHED_ORIGINAL),
            ("not-multipart-report",),
        ),
        (
            "Delivery status notification: delay",
            "MAILER-DAEMON@smtpd.example.org",
            "Your message is still queued after 4 hours.\r\n",
        ),
    ),
    (
        "dsn_global_postfix.eml",
        (
            "DSN",
            "jürgen@exämple.de",
            MessageRef("gruesse-1@example.org", RefSource.ATTACHED_ORIGINAL),
            (),
        ),
        (
            "Undelivered Mail Returned to Sender",
            "MAILER-DAEMON@mx.example.org",
            "Die Nachricht an jürgen@exämple.de konnte nicht zugestellt werden.\r\n",
        ),
    ),
]


@pytest.mark.parametrize(
    ("name", "expected", "values"), FIXTURE_VECTORS, ids=[v[0] for v in FIXTURE_VECTORS]
)
def test_fixture(
    name: str, expected: tuple[object, ...], values: tuple[str | None, str | None, str]
) -> None:
    found = mdnkit.parse((FIXTURES / name).read_bytes())
    assert summary(found) == expected
    assert found is not None
    assert found.human_text is not None
    subject, sender, text_start = values
    assert (found.subject, found.sender, found.human_text[: len(text_start)]) == (
        subject,
        sender,
        text_start,
    )


def _delivery(
    address: str, action: DSNAction, code: str, comment: str | None = None
) -> tuple[str, DSNAction | str | None, str | None, str | None]:
    return (address, action, code, comment)


# RFC 3464 Appendix E, whole messages as the RFC prints them (de-indented,
# page breaks removed, CRLF): each needs one lenient reading.
RFC3464_WHOLE = [
    (
        "parse_rfc3464_simple.eml",
        "dns; cs.utk.edu",
        [_delivery("louisl@larry.slip.umd.edu", DSNAction.FAILED, "4.0.0")],
        ("boundary-without-content-type", "not-multipart-report"),
        "The original message was received at Sat, 2 Jul 1994 17:10:28 -0400\r\n",
    ),
    (
        "parse_rfc3464_multi_recipient.eml",
        "dns; cs.utk.edu",
        [
            _delivery("arathib@vnet.ibm.com", DSNAction.FAILED, "5.0.0", "permanent failure"),
            _delivery(
                "johnh@hpnjld.njd.hp.com",
                DSNAction.DELAYED,
                "4.0.0",
                "hpnjld.njd.jp.com: host name lookup failure",
            ),
            _delivery("wsnell@sdcc13.ucsd.edu", DSNAction.FAILED, "5.0.0"),
        ],
        ("indented-boundary",),
        "       ----- The following addresses had delivery problems -----\r\n",
    ),
    (
        "parse_rfc3464_delayed.eml",
        "dns; sun2.nsfnet-relay.ac.uk",
        [
            _delivery(
                "thomas@de-montfort.ac.uk", DSNAction.DELAYED, "4.0.0", "unknown temporary failure"
            )
        ],
        ("split-recipient-group",),
        "The following message:\r\n",
    ),
]


@pytest.mark.parametrize(
    ("name", "mta", "recipients", "codes", "text_start"),
    RFC3464_WHOLE,
    ids=[v[0] for v in RFC3464_WHOLE],
)
def test_rfc3464_appendix_e_whole_messages(
    name: str,
    mta: str,
    recipients: list[tuple[str, DSNAction | str | None, str | None, str | None]],
    codes: tuple[str, ...],
    text_start: str,
) -> None:
    found = mdnkit.parse((FIXTURES / name).read_bytes())
    assert isinstance(found, DSN)
    read = [
        (
            r.address,
            r.action,
            r.status.code if r.status else None,
            r.status.comment if r.status else None,
        )
        for r in found.recipients
    ]
    assert (str(found.reporting_mta), read, tuple(d.code for d in found.defects)) == (
        mta,
        recipients,
        codes,
    )
    assert found.human_text is not None
    assert found.human_text.splitlines(keepends=True)[0] == text_start


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("parse_rfc3464_multi_recipient.eml", "indented-boundary"),
        ("parse_rfc3464_delayed.eml", "split-recipient-group"),
    ],
)
def test_rfc3464_appendix_e_lenient_readings_are_strict_errors(name: str, code: str) -> None:
    with pytest.raises(ParseError) as caught:
        mdnkit.parse((FIXTURES / name).read_bytes(), strict=True)
    assert caught.value.code == code


def test_rfc3464_appendix_e_defect_messages() -> None:
    simple = mdnkit.parse((FIXTURES / "parse_rfc3464_simple.eml").read_bytes())
    multi = mdnkit.parse((FIXTURES / "parse_rfc3464_multi_recipient.eml").read_bytes())
    assert simple is not None
    assert multi is not None
    assert (simple.defects[0], multi.defects) == (
        Defect(
            "boundary-without-content-type",
            "The message has no usable Content-Type, but its body starts with a delimiter "
            "line that recurs; read as a multipart with that boundary.",
            "Content-Type",
        ),
        (
            Defect(
                "indented-boundary",
                "A delimiter line of the multipart/report is indented (RFC 2046 §5.1.1 "
                "does not allow it); read as a delimiter",
            ),
        ),
    )


def test_header_text_that_lower_casing_lengthens_does_not_hide_the_report() -> None:
    text = (
        "X-Name: İİİİİİİİ\r\nSubject: Undelivered\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n"
        "\r\nFinal-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "\r\n--b--\r\n"
    )
    found = mdnkit.parse(text.encode())
    assert isinstance(found, DSN)
    assert (found.subject, found.recipients[0].address, found.defects) == (
        "Undelivered",
        "a@example.org",
        (),
    )


def test_fixture_details() -> None:
    outlook = mdnkit.parse((FIXTURES / "mdn_outlook_alternative.eml").read_bytes())
    assert isinstance(outlook, MDN)
    assert outlook.extension_fields == Headers(
        [
            ("X-MSExch-Correlation-Key", "c2FtcGxlLWtleS1ub3QtcmVhbA=="),
            ("X-Display-Name", "Carla Reader"),
        ]
    )
    as2 = mdnkit.parse((FIXTURES / "mdn_as2_signed.eml").read_bytes())
    assert isinstance(as2, MDN)
    assert (as2.message_id, as2.received_content_mic, str(as2.disposition)) == (
        "MDN-77-A1@as2.example.com",
        "Qm9ndXMgTUlDIGZvciB0ZXN0cw==,sha1",
        "automatic-action/MDN-sent-automatically; processed",
    )
    postfix = mdnkit.parse((FIXTURES / "dsn_global_postfix.eml").read_bytes())
    assert isinstance(postfix, DSN)
    assert (postfix.utf8, postfix.original_envelope_id, postfix.original_headers) == (
        True,
        "ENV-5512",
        Headers(
            [
                ("From", "Änne <aenne@example.org>"),
                ("Subject", "Grüße"),
                ("Message-ID", "<gruesse-1@example.org>"),
            ]
        ),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*'<>@.()" \tab1-_', "<a@b>", "x@y"]), max_size=20).map("".join))
def test_msg_id_fast_path_agrees_with_the_grammar(value: str) -> None:
    from mdnkit._defects import Problems
    from mdnkit._grammar import parse_msg_id

    fast, slow = Problems(), Problems()
    assert parser._msg_id(value, fast, "Message-ID") == parse_msg_id(
        value, slow, field="Message-ID"
    )
    assert fast.defects() == slow.defects()


def test_sender_and_message_inputs_with_encoded_display_names() -> None:
    # An EmailMessage flattened with compat32 encodes the whole From field;
    # parse() flattens with the message's own policy and decodes such a field.
    raw = crlf(report(headers="From: =?utf-8?b?wqEgPGJvYkBleGFtcGxlLmNvbT4=?=\n"))
    found = mdnkit.parse(raw)
    assert found is not None
    assert (found.sender, found.defects) == ("bob@example.com", ())
    modern = email.message_from_bytes(
        crlf(report(headers="From: =?utf-8?q?=C2=A1?= <bob@example.com>\n")),
        policy=email.policy.default,
    )
    found = mdnkit.parse(modern)
    assert found is not None
    assert (found.sender, found.defects) == ("bob@example.com", ())


_MSG_ID_TEXT = st.lists(
    st.sampled_from([*'<>@.()" \tab1-_\u00fc\u00a0\u3000', "<a@b>", "x@y", "<\u00fc@b>"]),
    max_size=20,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_MSG_ID_TEXT)
def test_msg_id_ascii_pattern_first_agrees_with_the_unicode_one(value: str) -> None:
    from mdnkit._defects import Problems
    from mdnkit._grammar import parse_msg_id

    fast, slow = Problems(), Problems()
    plain = parser._PLAIN_ID.match(value)
    expected = plain[1] if plain else parse_msg_id(value, slow, field="Message-ID")
    assert parser._msg_id(value, fast, "Message-ID") == expected
    assert fast.defects() == slow.defects()


@settings(max_examples=300, deadline=None)
@given(_MSG_ID_TEXT)
def test_message_ref_of_the_attached_original_agrees_with_the_careful_path(value: str) -> None:
    from mdnkit import _ids
    from mdnkit._defects import Problems

    fast, slow = Problems(), Problems()
    found = parser._msg_id(value, slow, "Message-ID") if value else None
    expected = MessageRef(_ids.canonical(found), RefSource.ATTACHED_ORIGINAL) if found else None
    original = Headers([("Message-ID", value)])
    assert parser._message_ref(None, None, original, {}, fast) == expected
    assert fast.defects() == slow.defects()


@settings(max_examples=300, deadline=None)
@given(_MSG_ID_TEXT)
def test_message_ref_of_an_original_message_id_is_its_canonical_key(value: str) -> None:
    from mdnkit import _ids
    from mdnkit._defects import Problems

    expected = MessageRef(_ids.canonical(value), RefSource.ORIGINAL_MESSAGE_ID) if value else None
    assert parser._message_ref(value, None, None, {}, Problems()) == expected


_PART_HEADS = st.sampled_from(
    [
        "",
        "Content-Type: text/plain",
        "content-type: text/plain; charset=us-ascii",
        'Content-Type: text/plain; charset="UTF-8"',
        "Content-Type: text/plain; charset=utf8",
        "Content-Type: text/plain; charset=iso-8859-1",
        "Content-Type: text/plain; charset=x-unknown",
        "Content-Description: Notification\nContent-Type: text/plain; charset=ascii",
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit",
        "Content-Type: text/plain\nContent-Transfer-Encoding: quoted-printable",
        "Content-Type: text/plain\nCONTENT-TRANSFER-ENCODING: BASE64",
        "Content-Type: text/plain\nContent-Tran\u017ffer-Encoding: base64",  # a case fold of "s"
        "Content-Type: text/plain\nContent-Transfer-Encoding: x-custom",
    ]
)


@settings(max_examples=300, deadline=None)
@given(_PART_HEADS, st.binary(max_size=120), st.sampled_from([8, 60, 1000]))
def test_plain_body_shortcuts_agree_with_decode_body_and_decode_text(
    head: str, body: bytes, max_report_bytes: int
) -> None:
    from mdnkit import _mime
    from mdnkit._defects import Problems

    body = body.replace(b"\r", b"").replace(b"--", b"- -")
    raw = (
        b'Content-Type: multipart/report; report-type=disposition-notification; boundary="B"\n'
        b"\n--B\n"
        + head.encode()
        + b"\n\n"
        + body
        + b"\n--B\n"
        + head.replace("text/plain", "message/disposition-notification").encode()
        + b"\n\n"
        + body
        + b"\n--B--\n"
    )
    limits = Limits(max_report_bytes=max_report_bytes)
    problems = Problems()
    root = _mime.read_message(raw, problems, limits)
    item = parser._find(root, problems, limits, _mime.Budget(limits), first=True)[0]
    for part in (item.part, item.siblings[0]):
        plain = _mime.plain_body(part)
        assert (plain is None) == (part.encoding != "7bit")
        assert plain is None or plain == _mime.decode_body(part, Problems())
    # _human_text against decode_body and decode_text, as it read before.
    node = item.siblings[0]
    fast, slow = Problems(), Problems()
    expected = None
    if node.end - node.body_start <= max_report_bytes:
        expected = _mime.decode_text(
            _mime.decode_body(node, slow), node.params.get("charset"), slow, field="Content-Type"
        )
    else:
        slow.add("human-text-too-large", "")
    assert parser._human_text(item, fast, limits, _mime.Budget(limits)) == expected
    assert fast.codes() == slow.codes()


# ---------------------------------------------------------------------------
# The usual report read without the walk: as the walk reads it


def find_first(data: bytes, walk: bool, limits: Limits) -> object:
    """The first report _find gives for *data* (or, *walk* true, the walk alone), or its error."""
    problems, budget = Problems(), _mime.Budget(limits)
    root = _mime.read_message(data, Problems(), limits)
    try:
        if walk:
            found = parser._walk([(root, root)], problems, limits, budget, True)
        else:
            found = parser._find(root, problems, limits, budget, True)
    except ParseError as exc:
        return exc.code, exc.message
    return found, problems.defects(), budget.parts


FIND_PARTS = [
    "Content-Type: text/plain\n\nHello.",
    "Content-Type: message/disposition-notification\n\n" + MDN_BODY,
    "Content-Type: message/delivery-status\n\nReporting-MTA: dns; a.example\n\n"
    "Final-Recipient: rfc822; b@example.com\nAction: failed\nStatus: 5.0.0",
    "\nno header block",
    "Content-Type: message/rfc822\n\n" + report(),
    'Content-Type: multipart/mixed; boundary="IN"\n\n--IN\n'
    "Content-Type: message/disposition-notification\n\n" + MDN_BODY + "\n--IN--",
]
FIND_OUTER = [
    "multipart/report; report-type=disposition-notification",
    "multipart/report; report-type=delivery-status",
    "multipart/report",
    "multipart/mixed",
    "message/disposition-notification",
]


@given(
    st.sampled_from(FIND_OUTER),
    st.lists(st.sampled_from(FIND_PARTS), max_size=4),
    st.booleans(),
    st.integers(min_value=0, max_value=3),
)
def test_the_usual_report_is_found_as_the_walk_finds_it(
    outer: str, parts: list[str], closed: bool, max_parts: int
) -> None:
    text = f'From: a@example.com\nContent-Type: {outer}; boundary="RB"\n\n'
    text += "".join(f"--RB\n{part}\n" for part in parts) + ("--RB--\n" if closed else "")
    data = text.encode()
    for limits in (Limits(), Limits(max_parts=max_parts)):
        if outer not in parser._REPORT_TYPES:
            assert find_first(data, False, limits) == find_first(data, True, limits)


# ---------------------------------------------------------------------------
# Report values: the usual From and Subject decided inline by _report_values


@given(st.sampled_from(["From", "Subject"]), st.text(max_size=40))
def test_the_usual_from_and_subject_read_as_the_careful_path(name: str, value: str) -> None:
    value = value.replace("\r", " ").replace("\n", " ")
    text = f"{name}: {value}\nContent-Type: multipart/report; boundary=RB\n\n--RB\n"
    text += "Content-Type: message/disposition-notification\n\n" + MDN_BODY + "\n--RB--\n"
    limits = Limits()
    problems = Problems()
    root = _mime.read_message(text.encode(), Problems(), limits)
    item = parser._find(root, Problems(), limits, _mime.Budget(limits), True)[0]
    own = _mime.find_fields(item.message, parser._REPORT_HEADERS)
    _, _, sender, subject, _, _ = parser._report_values(
        item, own, problems, limits, _mime.Budget(limits)
    )
    careful = Problems()
    found = own.get(name.lower())
    if name == "From":
        assert sender == (parser._sender(found, careful) if found else None)
    else:
        assert subject == (parser._decode_subject(found, careful) if found is not None else None)
    assert problems.defects() == careful.defects()


# ---------------------------------------------------------------------------
# Report building: the header blocks _content_only says hold no field to read

_HEAD_NAMES = [
    "Content-Type",
    "content-type",
    "CONTENT-TRANSFER-ENCODING",
    "Content-ID",
    "Content-",
    "Date",
    "DATE",
    "Message-ID",
    "meſſage-id",  # U+017F: an "s" to a case-insensitive pattern
    "From",
    "Subject",
    "In-Reply-To",
    "References",
    "Reporting-UA",
    "X-Mailer",
]
_HEAD_LINE = st.builds(
    "{}{}:{}".format,
    st.sampled_from(_HEAD_NAMES),
    st.sampled_from(["", " ", "\t"]),
    st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\r\n"), max_size=20),
)
_HEAD = st.lists(_HEAD_LINE, min_size=0, max_size=3).map("\n".join)


@given(_HEAD)
def test_a_content_only_head_holds_no_field_to_read(head: str) -> None:
    limits = Limits()
    root = _mime.read_message((head + "\n\nbody\n").encode(), Problems(), limits)
    if parser._content_only(root.head):
        assert _mime.find_fields(root, parser._REPORT_HEADERS) == {}
        fields = root.fields(Problems(), limits)
        assert [f.name for f in fields if not f.name.lower().startswith("content-")] == []


@given(
    st.sampled_from(["Content-Type", "content-type", "CONTENT-TYPE", "Content-type"]),
    st.sampled_from(["", " ", "\t"]),
    st.lists(
        _HEAD_LINE.filter(lambda line: not line.lower().startswith("content-type")), max_size=2
    ),
)
def test_report_values_with_a_content_only_container_read_as_the_careful_path(
    name: str, space: str, more: list[str]
) -> None:
    # A multipart/report inside a multipart/signed (AS2): its header block
    # is searched for the report's own fields unless _content_only says
    # there are none.
    head = "\n".join(
        [
            f"{name}{space}: multipart/report; report-type=disposition-notification; boundary=RB",
            *more,
        ]
    )
    text = (
        "Message-ID: <outer@example.org>\n"
        'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; boundary=SB\n'
        f"\n--SB\n{head}\n\n--RB\n"
        "Content-Type: message/disposition-notification\n\n" + MDN_BODY + "\n--RB--\n"
        "\n--SB\nContent-Type: application/pkcs7-signature\n\nsig\n--SB--\n"
    )
    limits = Limits()

    def values(careful: bool) -> object:
        root = _mime.read_message(text.encode(), Problems(), limits)
        item = parser._find(root, Problems(), limits, _mime.Budget(limits), True)[0]
        assert item.container is not None
        assert item.container is not item.message
        own = _mime.find_fields(item.message, parser._REPORT_HEADERS)
        problems = Problems()
        saved = parser._content_only
        if careful:
            parser._content_only = lambda head: False  # type: ignore[assignment]
        try:
            found = parser._report_values(item, own, problems, limits, _mime.Budget(limits))
        finally:
            parser._content_only = saved
        return found, problems.defects()

    assert values(False) == values(True)


# The first report of a top-level multipart/report or multipart/signed (AS2),
# read by _find without the walk: as the walk finds it

FIRST_PARTS = [
    *FIND_PARTS,
    "Content-Type: message/global-delivery-status\n\nReporting-MTA: dns; a.example\n\n"
    "Final-Recipient: rfc822; b@example.com\nAction: failed\nStatus: 5.0.0",
    "Content-Type: message/global-disposition-notification\n\n" + MDN_BODY,
    "Content-Type: application/pkcs7-signature\n\nMIIB",
    "Content-Type: text/rfc822-headers\n\nMessage-ID: <a@example.com>",
]
FIRST_REPORT_TYPES = [
    "",
    "; report-type=disposition-notification",
    "; report-type=delivery-status",
    "; report-type=global-delivery-status",
    "; report-type=global-disposition-notification",
    '; report-type="Delivery-Status "',
    "; report-type=other",
]


@st.composite
def first_multipart(draw: st.DrawFn, boundary: str, media: str) -> str:
    """A multipart *media* body: often the usual report (human text, then the
    report part named by report-type), and all around it."""
    parts = draw(st.lists(st.sampled_from(FIRST_PARTS), max_size=4))
    report_type = draw(st.sampled_from(FIRST_REPORT_TYPES))
    if draw(st.booleans()):
        human = draw(st.sampled_from([FIRST_PARTS[0], FIRST_PARTS[3], FIRST_PARTS[8]]))
        kind = draw(st.sampled_from([1, 2, 6, 7]))
        parts = [human, FIRST_PARTS[kind], *parts[:2]]
        name = FIRST_PARTS[kind].split("\n")[0].removeprefix("Content-Type: message/")
        report_type = "; report-type=" + draw(
            st.sampled_from([name, name.removeprefix("global-"), name, "Delivery-Status"])
        )
    text = f'Content-Type: {media}{report_type}; boundary="{boundary}"\n\n'
    return text + "".join(f"--{boundary}\n{part}\n" for part in parts) + f"--{boundary}--"


@given(
    st.sampled_from(
        ["multipart/report", "multipart/signed", "multipart/signed", "multipart/mixed"]
    ),
    first_multipart("RB", "multipart/report"),
    st.lists(st.sampled_from(FIRST_PARTS[8:] + FIRST_PARTS), max_size=2),
    st.booleans(),
    st.integers(min_value=0, max_value=6),
    st.data(),
)
def test_the_first_report_is_found_as_the_walk_finds_it(
    outer: str,
    inner: str,
    others: list[str],
    nested: bool,
    max_parts: int,
    data: st.DataObject,
) -> None:
    # A top-level multipart/report; or one that is the first part of an
    # outer multipart (AS2 when that is multipart/signed), before others.
    if nested:
        inner = inner.replace("RB", "IR")
        text = f'Content-Type: {outer}; boundary="RB"\n\n'
        text += "".join(f"--RB\n{part}\n" for part in [inner, *others]) + "--RB--\n"
    else:
        text = data.draw(first_multipart("RB", outer)) + "\n"
    message = ("From: a@example.com\n" + text).encode()
    for limits in (Limits(), Limits(max_parts=max_parts)):
        assert find_first(message, False, limits) == find_first(message, True, limits)


def test_the_first_report_of_an_as2_mdn_is_read_without_the_walk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_walk(*args: object) -> None:
        raise AssertionError("walked")

    monkeypatch.setattr(parser, "_walk", no_walk)
    found = mdnkit.parse((FIXTURES / "mdn_as2_signed.eml").read_bytes())
    assert isinstance(found, MDN)
    assert found.defects == ()
