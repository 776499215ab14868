"""Answering receipt requests: decide (RFC 8098 §2.1, RFC 3503) and make_mdn (RFC 8098 §3)."""

from __future__ import annotations

import email
import email.headerregistry
import email.message
import email.policy
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mdnkit
from mdnkit import RequestError
from mdnkit.model import (
    ActionMode,
    AddressField,
    Disposition,
    DispositionType,
    SendingMode,
)
from mdnkit.request import ReceiptRequest
from mdnkit.respond import (
    MDN_ENVELOPE_SENDER,
    Action,
    Decision,
    ReceiptPolicy,
    decide,
    make_mdn,
    mdn_envelope,
)

BASE = {
    "Return-Path": "<ann@example.org>",
    "From": "Ann Lee <ann@example.org>",
    "To": "Bob <bob@example.org>",
    "Subject": "Budget 2027",
    "Date": "Thu, 26 Nov 2026 10:00:00 +0100",
    "Message-ID": "<budget-1@example.org>",
    "Disposition-Notification-To": "Ann Lee <ann@example.org>",
}
ME = "bob@example.org"
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


def incoming(changes: dict[str, str | None] | None = None, body: str = "Hello Bob\n") -> bytes:
    """A received message: BASE headers, with *changes* (None removes a header)."""
    headers = dict(BASE)
    for name, value in (changes or {}).items():
        if value is None:
            headers.pop(name, None)
        else:
            headers[name] = value
    head = "".join(f"{n}: {v}\n" for n, v in headers.items())
    return (head + "\n" + body).encode()


BASE_REQUEST = ReceiptRequest(
    addresses=("ann@example.org",),
    names=("Ann Lee",),
    message_id="budget-1@example.org",
    return_path=("ann@example.org",),
)

AUTO = ReceiptPolicy(auto_send=True)
BATCH = ReceiptPolicy(auto_send=True, interactive=False)

MDN_BODY = (
    "--b\n"
    "Content-Type: text/plain\n\nDisplayed.\n"
    "--b\n"
    "Content-Type: message/disposition-notification\n\n"
    "Final-Recipient: rfc822; bob@example.org\n"
    "Disposition: manual-action/MDN-sent-manually; displayed\n"
    "--b--\n"
)
SIGNED_MDN_BODY = (
    "--s\n"
    'Content-Type: multipart/report; report-type="disposition-notification"; boundary="b"\n\n'
    + MDN_BODY
    + "--s\n"
    "Content-Type: application/pkcs7-signature\n\nAAAA\n"
    "--s--\n"
)
ATTACHED_MDN_BODY = (
    "--m\n"
    "Content-Type: text/plain\n\nSee the receipt I got.\n"
    "--m\n"
    "Content-Type: message/rfc822\n\n"
    'Content-Type: multipart/report; report-type="disposition-notification"; boundary="b"\n\n'
    + MDN_BODY
    + "--m--\n"
)


# ---------------------------------------------------------------------------
# decide: one vector per rule


def ask(code: str, reason: str) -> tuple[Action, str, str]:
    return (Action.ASK, code, reason)


def ignore(code: str, reason: str) -> tuple[Action, str, str]:
    return (Action.IGNORE, code, reason)


def send(code: str, reason: str) -> tuple[Action, str, str]:
    return (Action.SEND, code, reason)


CONSENT = ask("consent-needed", "The sender asks for a receipt to ann@example.org.")
SENT = send("consented", "The user agreed in advance to send receipts.")

DECIDE_VECTORS = [
    # (id, changes, body, policy, flags, expected)
    ("default-asks", {}, None, None, (), CONSENT),
    ("auto-send", {}, None, AUTO, (), SENT),
    (
        "no-request",
        {"Disposition-Notification-To": None},
        None,
        AUTO,
        (),
        ignore("no-request", "The message does not ask for a receipt."),
    ),
    (
        "legacy-only",
        {"Disposition-Notification-To": None, "Return-Receipt-To": "ann@example.org"},
        None,
        AUTO,
        (),
        ignore(
            "legacy-request",
            "The message asks for a receipt only with an old non-standard header"
            " (Return-Receipt-To); RFC 8098 requests use Disposition-Notification-To.",
        ),
    ),
    (
        "no-valid-address",
        {"Disposition-Notification-To": "SIAS2PRD"},
        None,
        AUTO,
        (),
        ignore("no-valid-address", "The receipt request names no valid address to answer to."),
    ),
    (
        "is-mdn",
        {"Content-Type": 'multipart/report; report-type="disposition-notification"; boundary="b"'},
        MDN_BODY,
        AUTO,
        (),
        ignore("is-mdn", "The message is itself a receipt; receipts are never answered."),
    ),
    (
        "is-mdn-report-type-case",
        {"Content-Type": "Multipart/Report; Report-Type=Disposition-Notification; boundary=b"},
        MDN_BODY,
        AUTO,
        (),
        ignore("is-mdn", "The message is itself a receipt; receipts are never answered."),
    ),
    (
        "is-mdn-rfc2231",
        {
            "Content-Type": "multipart/report; report-type*=us-ascii''disposition-notification;"
            " boundary=b"
        },
        MDN_BODY,
        AUTO,
        (),
        ignore("is-mdn", "The message is itself a receipt; receipts are never answered."),
    ),
    (
        "is-mdn-global",
        {"Content-Type": "message/global-disposition-notification"},
        "Final-Recipient: rfc822; bob@example.org\n",
        AUTO,
        (),
        ignore("is-mdn", "The message is itself a receipt; receipts are never answered."),
    ),
    (
        "is-mdn-signed-as2",
        {
            "Content-Type": 'multipart/signed; protocol="application/pkcs7-signature";'
            ' micalg=sha-256; boundary="s"'
        },
        SIGNED_MDN_BODY,
        AUTO,
        (),
        ignore("is-mdn", "The message is itself a receipt; receipts are never answered."),
    ),
    (
        "attached-mdn-is-not-an-mdn",
        {"Content-Type": 'multipart/mixed; boundary="m"'},
        ATTACHED_MDN_BODY,
        AUTO,
        (),
        SENT,
    ),
    (
        "mdnsent",
        {},
        None,
        AUTO,
        ("\\Seen", "$MDNSent"),
        ignore("mdn-sent", "A receipt was already sent (or refused) for this message."),
    ),
    (
        "mdnsent-any-case-bytes",
        {},
        None,
        AUTO,
        (b"$mdnsent",),
        ignore("mdn-sent", "A receipt was already sent (or refused) for this message."),
    ),
    (
        "mdnsent-flag-string",
        {},
        None,
        AUTO,
        "(\\Seen $MdnSent)",
        ignore("mdn-sent", "A receipt was already sent (or refused) for this message."),
    ),
    (
        "draft",
        {},
        None,
        AUTO,
        ("\\draft",),
        ignore("draft", "The message is a draft."),
    ),
    ("seen-and-answered-do-not-count", {}, None, AUTO, ("\\Seen", "\\Answered", "\\Recent"), SENT),
    (
        "newsgroup",
        {"Newsgroups": "comp.mail.misc"},
        None,
        AUTO,
        (),
        ignore(
            "newsgroup", "The message was posted to a newsgroup; receipts are not sent for news."
        ),
    ),
    # RFC 8098 §2.1 Return-Path rules: consent needed even with auto_send.
    (
        "return-path-differs",
        {"Return-Path": "<bounces@lists.example.org>"},
        None,
        AUTO,
        (),
        ask(
            "return-path-differs",
            "The receipt would go to ann@example.org, not to the sender"
            " (bounces@lists.example.org).",
        ),
    ),
    (
        "return-path-null",
        {"Return-Path": "<>"},
        None,
        AUTO,
        (),
        ask(
            "return-path-differs",
            "The receipt would go to ann@example.org, not to the sender (<>).",
        ),
    ),
    (
        "local-part-case-matters",
        {"Return-Path": "<Ann@example.org>"},
        None,
        AUTO,
        (),
        ask(
            "return-path-differs",
            "The receipt would go to ann@example.org, not to the sender (Ann@example.org).",
        ),
    ),
    ("domain-case-does-not", {"Return-Path": "<ann@EXAMPLE.Org>"}, None, AUTO, (), SENT),
    ("quoted-local-part-canonical", {"Return-Path": '<"ann"@example.org>'}, None, AUTO, (), SENT),
    (
        "no-return-path",
        {"Return-Path": None},
        None,
        AUTO,
        (),
        ask("no-return-path", "The message has no Return-Path to check the request against."),
    ),
    (
        "several-return-paths",
        {"Return-Path": "<ann@example.org>\nReturn-Path: <other@example.org>"},
        None,
        AUTO,
        (),
        ask("several-return-paths", "The message has several different Return-Paths."),
    ),
    (
        "same-return-path-twice",
        {"Return-Path": "<ann@example.org>\nReturn-Path: <ann@example.org>"},
        None,
        AUTO,
        (),
        SENT,
    ),
    (
        "several-addresses",
        {"Disposition-Notification-To": "ann@example.org, boss@example.org"},
        None,
        AUTO,
        (),
        ask(
            "several-addresses",
            "The receipt would go to several addresses: ann@example.org, boss@example.org.",
        ),
    ),
    (
        "required-option",
        {"Disposition-Notification-Options": "x-signed=required,yes; x-other=optional,1"},
        None,
        AUTO,
        (),
        ask(
            "required-option",
            "The request needs options this program does not support: x-signed.",
        ),
    ),
    (
        "required-option-understood",
        {"Disposition-Notification-Options": "X-Signed=required,yes; x-other=optional,1"},
        None,
        ReceiptPolicy(auto_send=True, understood_options=frozenset({"X-SIGNED"})),
        (),
        SENT,
    ),
    (
        "optional-option-not-understood",
        {"Disposition-Notification-Options": "x-other=optional,1"},
        None,
        AUTO,
        (),
        SENT,
    ),
    # A client that cannot ask sends nothing where consent is needed.
    (
        "batch-return-path-differs",
        {"Return-Path": "<bounces@example.org>"},
        None,
        BATCH,
        (),
        ignore(
            "return-path-differs",
            "The receipt would go to ann@example.org, not to the sender (bounces@example.org)."
            " Consent is needed but cannot be asked for here, so no receipt may be sent"
            " (RFC 8098 §2.1).",
        ),
    ),
    (
        "batch-default",
        {},
        None,
        ReceiptPolicy(interactive=False),
        (),
        ignore(
            "consent-needed",
            "The sender asks for a receipt to ann@example.org. Consent is needed but cannot be"
            " asked for here, so no receipt may be sent (RFC 8098 §2.1).",
        ),
    ),
    ("batch-consented", {}, None, BATCH, (), SENT),
    # Thunderbird / KMail style choices.
    (
        "not-to-me",
        {"To": "team@example.org"},
        None,
        AUTO,
        (),
        ask("not-to-me", "I am not in the To or Cc of the message."),
    ),
    (
        "not-to-me-ignore",
        {"To": "team@example.org"},
        None,
        ReceiptPolicy(auto_send=True, not_to_me=Action.IGNORE),
        (),
        ignore("not-to-me", "I am not in the To or Cc of the message."),
    ),
    (
        "not-to-me-send",
        {"To": "team@example.org"},
        None,
        ReceiptPolicy(not_to_me="send"),  # type: ignore[arg-type]
        (),
        send("not-to-me", "I am not in the To or Cc of the message."),
    ),
    (
        "in-cc",
        {"To": "team@example.org", "Cc": "x@example.org, Bob <BOB@example.org>"},
        None,
        AUTO,
        (),
        SENT,
    ),
    (
        "outside-domains",
        {"From": "Carl <carl@elsewhere.example>", "Return-Path": "<ann@example.org>"},
        None,
        AUTO,
        (),
        ask("outside-domains", "The sender (carl@elsewhere.example) is outside my domains."),
    ),
    (
        "subdomain-is-inside",
        {"From": "Carl <carl@mail.example.org>"},
        None,
        AUTO,
        (),
        SENT,
    ),
    (
        "my-domains",
        {"From": "Carl <carl@partner.example>"},
        None,
        ReceiptPolicy(auto_send=True, my_domains=("Partner.Example.", "example.org")),
        (),
        SENT,
    ),
    (
        "outside-send-but-return-path-differs",
        {"From": "carl@elsewhere.example", "Return-Path": "<carl@elsewhere.example>"},
        None,
        ReceiptPolicy(outside_domains=Action.SEND),
        (),
        ask(
            "return-path-differs",
            "The receipt would go to ann@example.org, not to the sender (carl@elsewhere.example).",
        ),
    ),
    (
        "list-id",
        {"List-Id": "Budget <budget.lists.example.org>"},
        None,
        AUTO,
        (),
        ignore("from-list", "The message comes from a mailing list."),
    ),
    (
        "precedence-bulk",
        {"Precedence": "Bulk"},
        None,
        AUTO,
        (),
        ignore("from-list", "The message is bulk or list mail (Precedence: Bulk)."),
    ),
    ("precedence-other", {"Precedence": "first-class"}, None, AUTO, (), SENT),
    (
        "auto-submitted",
        {"Auto-Submitted": "auto-generated; owner-email=x@example.org"},
        None,
        AUTO,
        (),
        ignore("from-list", "The message was sent automatically (Auto-Submitted: auto-generated)."),
    ),
    ("auto-submitted-no", {"Auto-Submitted": "no (a person wrote this)"}, None, AUTO, (), SENT),
    (
        "from-list-ask",
        {"List-Id": "<budget.lists.example.org>"},
        None,
        ReceiptPolicy(auto_send=True, from_list=Action.ASK),
        (),
        ask("from-list", "The message comes from a mailing list."),
    ),
]


@pytest.mark.parametrize(
    ("changes", "body", "policy", "flags", "expected"),
    [v[1:] for v in DECIDE_VECTORS],
    ids=[v[0] for v in DECIDE_VECTORS],
)
def test_decide(changes, body, policy, flags, expected):
    raw = incoming(changes) if body is None else incoming(changes, body)
    action, code, reason = expected
    decision = decide(raw, me=ME, policy=policy, flags=flags)
    assert (decision.action, decision.code, decision.reason) == (action, code, reason)
    # Same answer whatever shape the message arrives in.
    assert decide(raw.decode(), me=ME, policy=policy, flags=flags) == decision
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert decide(parsed, me=[ME], policy=policy, flags=flags) == decision


def test_decide_returns_the_request():
    assert decide(incoming(), me=ME) == Decision(
        action=Action.ASK,
        reason="The sender asks for a receipt to ann@example.org.",
        code="consent-needed",
        request=BASE_REQUEST,
    )
    assert mdnkit.decide is decide


def test_decide_default_policy_is_ask_like_the_rfc():
    assert ReceiptPolicy() == ReceiptPolicy(
        auto_send=False,
        interactive=True,
        not_to_me=Action.ASK,
        outside_domains=Action.ASK,
        from_list=Action.IGNORE,
        my_domains=(),
        understood_options=frozenset(),
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"me": ""}, "me: not an address: ''"),
        ({"me": []}, "me is empty: give my address(es)"),
        ({"me": [b"bob@example.org"]}, "me must be str addresses, not bytes"),
        ({"me": ME, "policy": {"auto_send": True}}, "policy must be a ReceiptPolicy, not dict"),
    ],
)
def test_decide_refuses(kwargs, message):
    with pytest.raises(RequestError) as info:
        decide(incoming(), **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"not_to_me": "maybe"}, "not_to_me must be 'send', 'ask' or 'ignore', not 'maybe'"),
        (
            {"my_domains": "example.org"},
            "my_domains must be a collection of str, not 'example.org'",
        ),
        ({"understood_options": "x"}, "understood_options must be a collection of str, not 'x'"),
        ({"my_domains": [1]}, "my_domains must be a collection of str, not [1]"),
    ],
)
def test_policy_refuses(kwargs, message):
    with pytest.raises(RequestError) as info:
        ReceiptPolicy(**kwargs)
    assert str(info.value) == message


def test_decide_never_raises_on_hostile_structure():
    deep = "Content-Type: multipart/mixed; boundary=b\n\n--b\n" * 200
    raw = incoming({"Content-Type": "multipart/mixed; boundary=b"}, deep)
    assert decide(raw, me=ME, policy=AUTO).action is Action.SEND


def test_deeply_nested_message():
    # The stdlib parser recurses per level; the headers still decide, the body stays verbatim.
    body = "".join(
        f"--b{i}\nContent-Type: multipart/mixed; boundary=b{i + 1}\n\n" for i in range(3000)
    )
    raw = incoming({"Content-Type": "multipart/mixed; boundary=b0"}, body)
    assert decide(raw, me=ME, policy=AUTO).action is Action.SEND
    mdn = make_mdn(raw, disposition="displayed", final_recipient=ME, include="full", now=NOW)
    assert raw in mdn.as_bytes()


@given(st.binary(max_size=1500))
def test_decide_any_bytes(raw):
    decision = decide(b"Disposition-Notification-To: a@example.org\n" + raw, me=ME)
    assert decision.action in (Action.ASK, Action.IGNORE, Action.SEND)


# ---------------------------------------------------------------------------
# make_mdn

EXPECTED_MDN = """\
Date: Fri, 27 Nov 2026 09:30:00 +0000
From: Bob <bob@example.org>
To: Ann Lee <ann@example.org>
Subject: Read: Budget 2027
Message-ID: <mdn-1@example.org>
In-Reply-To: <budget-1@example.org>
References: <budget-0@example.org> <budget-1@example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type="disposition-notification";
 boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset="utf-8"
Content-Transfer-Encoding: 7bit

The message sent on Thu, 26 Nov 2026 10:00:00 +0100 to bob@example.org
with subject "Budget 2027" has been displayed. This is no guarantee that
it has been read or understood.

--BOUNDARY
Content-Type: message/disposition-notification
Content-Transfer-Encoding: 7bit

Reporting-UA: mail.example.org; mdnkit
Final-Recipient: rfc822; bob@example.org
Original-Message-ID: <budget-1@example.org>
Disposition: manual-action/MDN-sent-manually; displayed


--BOUNDARY
Content-Type: text/rfc822-headers; charset="utf-8"
Content-Transfer-Encoding: 7bit

Return-Path: <ann@example.org>
From: Ann Lee <ann@example.org>
To: Bob <bob@example.org>
Subject: Budget 2027
Date: Thu, 26 Nov 2026 10:00:00 +0100
Message-ID: <budget-1@example.org>
Disposition-Notification-To: Ann Lee <ann@example.org>
References: <budget-0@example.org>

--BOUNDARY--
"""


def flat(mdn: email.message.Message) -> str:
    text = mdn.as_bytes().decode("utf-8")
    boundary = mdn.get_boundary()
    assert boundary is not None
    return text.replace(boundary, "BOUNDARY")


def build(
    changes: dict[str, str | None] | None = None, **kwargs: object
) -> email.message.EmailMessage:
    kwargs.setdefault("disposition", "displayed")
    kwargs.setdefault("final_recipient", "Bob <bob@example.org>")
    kwargs.setdefault("now", NOW)
    return make_mdn(incoming(changes), **kwargs)  # type: ignore[arg-type]


def test_make_mdn_whole_message():
    mdn = build(
        {"References": "<budget-0@example.org>"},
        reporting_ua="mail.example.org; mdnkit",
        message_id="<mdn-1@example.org>",
    )
    assert flat(mdn) == EXPECTED_MDN
    assert mdnkit.make_mdn is make_mdn


def test_make_mdn_addressing():
    mdn = build(
        {
            "Disposition-Notification-To": '"Lee, Ann" <ann@example.org>, =?utf-8?q?Bj=C3=B6rn?= <bj@example.net>'
        }
    )
    assert mdn["To"] == '"Lee, Ann" <ann@example.org>, Björn <bj@example.net>'
    assert mdn["From"] == "Bob <bob@example.org>"
    assert mdn["Disposition-Notification-To"] is None  # §3: an MDN never asks for one
    assert mdn["Auto-Submitted"] is None
    assert mdn["Message-ID"] != "<budget-1@example.org>"
    assert re.fullmatch(r"<[0-9.]+@example\.org>", mdn["Message-ID"])
    assert mdn_envelope(mdn) == ("", ["ann@example.org", "bj@example.net"])
    assert MDN_ENVELOPE_SENDER == ""


def test_make_mdn_automatic_is_auto_submitted():
    mdn = build(disposition="processed", automatic=True)
    assert mdn["Auto-Submitted"] == "auto-replied"
    report = mdnkit.parse(mdn.as_bytes())
    assert report.disposition == Disposition(
        action_mode=ActionMode.AUTOMATIC,
        sending_mode=SendingMode.AUTOMATIC,
        type=DispositionType.PROCESSED,
    )
    assert report.subject == "Processed: Budget 2027"


@pytest.mark.parametrize(
    ("disposition", "kwargs", "field", "subject"),
    [
        ("displayed", {}, "manual-action/MDN-sent-manually; displayed", "Read: Budget 2027"),
        ("Deleted", {}, "manual-action/MDN-sent-manually; deleted", "Deleted: Budget 2027"),
        (
            DispositionType.DISPATCHED,
            {"automatic": True},
            "automatic-action/MDN-sent-automatically; dispatched",
            "Dispatched: Budget 2027",
        ),
        (
            Disposition(
                action_mode=ActionMode.MANUAL,
                sending_mode=SendingMode.AUTOMATIC,
                type=DispositionType.DISPLAYED,
            ),
            {"subject": "Return Receipt (displayed) - Budget 2027"},
            "manual-action/MDN-sent-automatically; displayed",
            "Return Receipt (displayed) - Budget 2027",
        ),
        (
            "processed",
            {"error": ["disk quota exceeded", "retry later"]},
            "manual-action/MDN-sent-manually; processed/error",
            "Processed: Budget 2027",
        ),
        (
            Disposition(
                action_mode=ActionMode.AUTOMATIC,
                sending_mode=SendingMode.AUTOMATIC,
                type=DispositionType.PROCESSED,
                modifiers=("error",),
            ),
            {"error": "bad signature"},
            "automatic-action/MDN-sent-automatically; processed/error",
            "Processed: Budget 2027",
        ),
    ],
)
def test_make_mdn_disposition(disposition, kwargs, field, subject):
    mdn = build(disposition=disposition, **kwargs)
    fields = mdn.get_payload(1).get_payload(0)
    assert fields["Disposition"] == field
    assert mdn["Subject"] == subject
    errors = kwargs.get("error", ())
    assert fields.get_all("Error", []) == ([errors] if isinstance(errors, str) else list(errors))


def test_make_mdn_subject_without_original_subject():
    assert build({"Subject": None})["Subject"] == "Read"


@pytest.mark.parametrize(
    ("changes", "kwargs", "expected"),
    [
        ({}, {}, None),
        ({"Original-Recipient": "rfc822; Bob@Example.org"}, {}, "rfc822; Bob@Example.org"),
        (
            {},
            {"original_recipient": "rfc822;bob.alias@example.org"},
            "rfc822; bob.alias@example.org",
        ),
        ({}, {"original_recipient": "bob.alias@example.org"}, "rfc822; bob.alias@example.org"),
        (
            {"Original-Recipient": "rfc822; a@example.org"},
            {"original_recipient": "x400; /C=DE/ADMD=x/"},
            "x400; /C=DE/ADMD=x/",
        ),
        # Several Original-Recipient headers: §3.2.3 allows acting as if there were none.
        (
            {
                "Original-Recipient": "rfc822; a@example.org\nOriginal-Recipient: rfc822; b@example.org"
            },
            {},
            None,
        ),
    ],
)
def test_make_mdn_original_recipient(changes, kwargs, expected):
    fields = build(changes, **kwargs).get_payload(1).get_payload(0)
    assert fields["Original-Recipient"] == expected


def test_make_mdn_without_original_message_id():
    mdn = build({"Message-ID": None})
    fields = mdn.get_payload(1).get_payload(0)
    assert fields["Original-Message-ID"] is None  # §3.2.5: only if the original had one
    assert mdn["In-Reply-To"] is None
    assert mdn["References"] is None


@pytest.mark.parametrize(
    ("include", "types"),
    [
        ("none", ["text/plain", "message/disposition-notification"]),
        ("headers", ["text/plain", "message/disposition-notification", "text/rfc822-headers"]),
        ("full", ["text/plain", "message/disposition-notification", "message/rfc822"]),
    ],
)
def test_make_mdn_include(include, types):
    mdn = build(include=include)
    assert [p.get_content_type() for p in mdn.iter_parts()] == types
    report = mdnkit.parse(mdn.as_bytes())
    assert report.defects == ()
    expected = None if include == "none" else mdnkit.Headers(list(BASE.items()))
    assert report.original_headers == expected


def test_make_mdn_full_keeps_the_body():
    mdn = build(include="full")
    inner = mdn.get_payload(2).get_payload(0)
    assert inner.get_payload() == "Hello Bob\n"


def test_make_mdn_from_message_objects():
    for original in (
        email.message_from_bytes(incoming()),
        email.message_from_bytes(incoming(), policy=email.policy.default),
    ):
        mdn = make_mdn(original, disposition="displayed", final_recipient=ME, now=NOW)
        assert mdnkit.parse(mdn.as_bytes()).original_headers == mdnkit.Headers(list(BASE.items()))


def test_make_mdn_global_form():
    mdn = build(
        final_recipient="Jörg <jörg@bücher.example>",
        reporting_ua="Bücherwurm; Post 3",
        include="none",
    )
    report_part = mdn.get_payload(1)
    assert report_part.get_content_type() == "message/global-disposition-notification"
    assert report_part["Content-Transfer-Encoding"] == "8bit"
    raw = mdn.as_bytes()
    assert "Final-Recipient: utf-8; jörg@bücher.example\n".encode() in raw
    assert "From: Jörg <jörg@bücher.example>\n".encode() in raw
    report = mdnkit.parse(raw)
    assert report.defects == ()
    assert report.final_recipient == AddressField(type="utf-8", address="jörg@bücher.example")
    assert report.reporting_ua == "Bücherwurm; Post 3"
    assert mdn_envelope(mdn) == ("", ["ann@example.org"])


def test_make_mdn_ascii_address_with_non_ascii_ua_keeps_ascii_headers():
    mdn = build(reporting_ua="Bücherwurm", include="none")
    assert mdn.get_payload(1).get_content_type() == "message/global-disposition-notification"
    assert mdnkit.parse(mdn.as_bytes()).final_recipient == AddressField(
        type="rfc822", address="bob@example.org"
    )
    assert mdn.as_bytes(policy=email.policy.SMTP).split(b"\r\n\r\n")[0].isascii()


def test_make_mdn_crlf_for_smtp():
    wire = build().as_bytes(policy=email.policy.SMTP)
    assert b"\n" not in wire.replace(b"\r\n", b"")  # no bare LF anywhere (SMTP smuggling)


def test_make_mdn_text():
    mdn = build(text="Gelesen.")
    assert mdn.get_payload(0).get_content() == "Gelesen.\n"


@pytest.mark.parametrize(
    ("changes", "kwargs", "message"),
    [
        (
            {"Disposition-Notification-To": None},
            {},
            "the original message has no usable Disposition-Notification-To: no MDN can be sent",
        ),
        (
            {"Disposition-Notification-To": "SIAS2PRD"},
            {},
            "the original message has no usable Disposition-Notification-To: no MDN can be sent",
        ),
        (
            {"Content-Type": "message/disposition-notification"},
            {},
            "the original message is itself an MDN (RFC 8098 §2.1: never answer)",
        ),
        (
            {},
            {"disposition": "read"},
            "unknown disposition type 'read': use displayed, deleted, dispatched or processed",
        ),
        (
            {},
            {"disposition": "denied"},
            "RFC 8098 §3.2.6.2 defines displayed, deleted, dispatched and processed;"
            " 'denied' cannot be sent",
        ),
        (
            {},
            {
                "disposition": Disposition(
                    action_mode=ActionMode.MANUAL,
                    sending_mode=SendingMode.MANUAL,
                    type=DispositionType.FAILED,
                )
            },
            "RFC 8098 §3.2.6.2 defines displayed, deleted, dispatched and processed;"
            " 'failed' cannot be sent",
        ),
        (
            {},
            {
                "disposition": Disposition(
                    action_mode=ActionMode.MANUAL,
                    sending_mode=SendingMode.MANUAL,
                    type=DispositionType.DISPLAYED,
                    modifiers=("error: x",),
                )
            },
            "disposition modifier must be an Atom (§3.2.6.3): 'error: x'",
        ),
        ({}, {"disposition": 3}, "disposition must be a Disposition or a type, not 3"),
        ({}, {"final_recipient": "bob"}, "final_recipient: not a valid mailbox address: 'bob'"),
        (
            {},
            {"final_recipient": "a@example.org, b@example.org"},
            "final_recipient: expected one mailbox, got 'a@example.org, b@example.org'",
        ),
        ({}, {"final_recipient": None}, "final_recipient must be a str, not NoneType"),
        ({}, {"include": "body"}, "include must be 'none', 'headers' or 'full', not 'body'"),
        ({}, {"now": datetime(2026, 11, 27, 9, 30)}, "now must be a timezone-aware datetime"),
        (
            {},
            {"message_id": "<budget-1@example.org>"},
            "message_id must differ from the original's (RFC 8098 §3)",
        ),
        ({}, {"message_id": "no-at-sign"}, "message_id: not a msg-id: 'no-at-sign'"),
        # Not dot-atom-text (RFC 5322 §3.6.4): the email package raised IndexError on it.
        (
            {},
            {"message_id": ',reader@receiver.example"'},
            """message_id: not a msg-id: ',reader@receiver.example"'""",
        ),
        ({}, {"message_id": "a..b@example.org"}, "message_id: not a msg-id: 'a..b@example.org'"),
        ({}, {"original_recipient": " "}, "original_recipient is empty"),
        (
            {},
            {"original_recipient": "x y; z"},
            "original_recipient: expected 'type; address': 'x y; z'",
        ),
        (
            {},
            {"extension_fields": {"Disposition": "x"}},
            "'Disposition' is an RFC 8098 field; use the matching argument",
        ),
        (
            {},
            {"extension_fields": {"X Bad": "x"}},
            "extension field name must be an RFC 5322 field-name: 'X Bad'",
        ),
        ({}, {"text": "a\x00b"}, "text must be a str without NUL characters"),
        (
            {},
            {"reporting_ua": "ua\x1bx"},
            "reporting_ua: control characters are not allowed in 'ua\\x1bx'",
        ),
    ],
)
def test_make_mdn_refuses(changes, kwargs, message):
    with pytest.raises(RequestError) as info:
        build(changes, **kwargs)
    assert str(info.value) == message


BREAKS = ["\r", "\n", "\x00", "\u2028", "\u2029", "\x85", "\r\nBcc: eve@example.net"]
INJECTABLE = {
    "final_recipient": "Bob{} <bob@example.org>",
    "reporting_ua": "mail.example.org{}; x",
    "subject": "Read{}",
    "error": "failed{}",
    "original_recipient": "rfc822; bob{}@example.org",
    "message_id": "<mdn{}@example.org>",
    "disposition": "displayed{}",
    "extension_fields": "value{}",
}


@pytest.mark.parametrize("bad", BREAKS)
@pytest.mark.parametrize("argument", sorted(INJECTABLE))
def test_make_mdn_refuses_injection(argument, bad):
    value: object = INJECTABLE[argument].format(bad)
    if argument == "extension_fields":
        value = {"X-Note": value}
    with pytest.raises(RequestError):
        build(**{argument: value})


@pytest.mark.parametrize(
    "value",
    [
        "=?utf-8?q?Eve?= <eve@example.net>",
        "Bob <=?utf-8?q?eve=40example.net?=@example.org>",
    ],
)
def test_make_mdn_refuses_encoded_words_in_addresses(value):
    with pytest.raises(RequestError, match="RFC 2047 encoded words are not allowed"):
        build(final_recipient=value)


def test_make_mdn_hostile_original_cannot_inject():
    # A stranger's DNT display name carrying an encoded line break stays on one line.
    mdn = build(
        {
            "Disposition-Notification-To": "=?utf-8?q?Ann=0D=0ABcc:_eve@example.net?= <ann@example.org>"
        }
    )
    head = mdn.as_bytes().split(b"\n\n")[0]
    assert b"\nBcc:" not in head
    assert mdn_envelope(mdn) == ("", ["ann@example.org"])


# ---------------------------------------------------------------------------
# Property: what make_mdn builds, mdnkit.parse and the stdlib read back

LOCAL = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9+_-]{0,8}(\.[a-z0-9]{1,5})?", fullmatch=True)
ULOCAL = st.sampled_from(["jörg", "δοκιμή", "用户", "ann"])
DOMAIN = st.from_regex(r"[a-z][a-z0-9-]{0,8}\.(org|example)", fullmatch=True)
UDOMAIN = st.sampled_from(["bücher.example", "例え.jp", "example.org"])
ASCII_ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)
ADDRESS = st.one_of(
    ASCII_ADDRESS, st.builds(lambda local, domain: f"{local}@{domain}", ULOCAL, UDOMAIN)
)
NAME = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn"),
        blacklist_characters='\x85"\\',
    ),
    max_size=15,
).map(lambda s: " ".join(s.split()))
SUBJECT = st.text(
    alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn")),
    max_size=40,
).map(lambda s: " ".join(s.split()))
DISPOSITION = st.builds(
    lambda a, s, t, m: Disposition(action_mode=a, sending_mode=s, type=t, modifiers=tuple(m)),
    st.sampled_from(ActionMode),
    st.sampled_from(SendingMode),
    st.sampled_from(
        [
            DispositionType.DISPLAYED,
            DispositionType.DELETED,
            DispositionType.DISPATCHED,
            DispositionType.PROCESSED,
        ]
    ),
    st.lists(st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True), max_size=2, unique=True),
)
UA = st.one_of(
    st.none(),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 ./-]{0,15}(; [A-Za-z0-9./-]{1,10})?", fullmatch=True).map(
        str.strip
    ),
    st.just("Bücherwurm 2.0"),
)


def _original(
    name: str, dnt: str, subject: str, message_id: str | None, orcpt: str | None
) -> bytes:
    msg = email.message.EmailMessage()
    msg["From"] = email.headerregistry.Address(display_name=name, addr_spec=dnt) if name else dnt
    msg["To"] = "bob@example.org"
    msg["Subject"] = subject
    msg["Return-Path"] = f"<{dnt}>"
    if message_id is not None:
        msg["Message-ID"] = f"<{message_id}>"
    if orcpt is not None:
        msg["Original-Recipient"] = f"rfc822; {orcpt}"
    msg.set_content("Hello\n")
    raw = msg.as_bytes()
    return raw.replace(
        b"MIME-Version", b"Disposition-Notification-To: " + dnt.encode() + b"\nMIME-Version", 1
    )


@given(
    disposition=DISPOSITION,
    recipient=ADDRESS,
    recipient_name=NAME,
    dnt=ASCII_ADDRESS,
    dnt_name=NAME,
    subject=SUBJECT,
    message_id=st.one_of(
        st.none(), st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)
    ),
    orcpt=st.one_of(st.none(), ASCII_ADDRESS),
    ua=UA,
    include=st.sampled_from(["none", "headers", "full"]),
    minutes=st.integers(min_value=-720, max_value=720),
)
def test_make_mdn_parses_back(
    disposition,
    recipient,
    recipient_name,
    dnt,
    dnt_name,
    subject,
    message_id,
    orcpt,
    ua,
    include,
    minutes,
):
    """make_mdn output parses back through mdnkit.parse with the same values and no defects,
    and through the stdlib parser with both policies."""
    original = _original(dnt_name, dnt, subject, message_id, orcpt)
    now = datetime(2026, 11, 27, 9, 30, tzinfo=timezone(timedelta(minutes=minutes)))
    final = f'"{recipient_name}" <{recipient}>' if recipient_name else recipient
    mdn = make_mdn(
        original,
        disposition=disposition,
        final_recipient=final,
        reporting_ua=ua,
        include=include,
        now=now,
    )
    raw = mdn.as_bytes()
    for data in (raw, mdn):
        report = mdnkit.parse(data)
        assert isinstance(report, mdnkit.MDN)
        assert report.defects == ()
        assert report.disposition == disposition
        kind = "rfc822" if recipient.isascii() else "utf-8"
        assert report.final_recipient == AddressField(type=kind, address=recipient)
        assert report.original_recipient == (
            AddressField(type="rfc822", address=orcpt) if orcpt else None
        )
        assert report.original_message_id == message_id
        assert report.reporting_ua == ua
        if data is raw or final.isascii():
            # mdnkit.parse flattens a Message with compat32 first, which
            # RFC 2047-encodes a non-ASCII From whole: known gap; the bytes are right.
            assert report.sender == recipient
        assert report.date == now
        assert report.message_id != message_id
        assert report.subject.startswith(("Read", "Deleted", "Dispatched", "Processed"))
        assert (report.original_headers is None) == (include == "none")
    for policy in (email.policy.compat32, email.policy.default):
        parsed = email.message_from_bytes(raw, policy=policy)
        assert parsed.get_content_type() == "multipart/report"
        assert all(not part.defects for part in parsed.walk())
        assert parsed["Disposition-Notification-To"] is None
        assert mdn_envelope(parsed) == ("", [dnt])
        second = parsed.get_payload(1)
        assert second.get_content_type() in (
            "message/disposition-notification",
            "message/global-disposition-notification",
        )


def test_make_mdn_builds_a_new_message_each_time():
    # Building twice gives two different Message-IDs and leaves the original alone.
    original = incoming()
    first = make_mdn(original, disposition="displayed", final_recipient=ME, now=NOW)
    second = make_mdn(original, disposition="displayed", final_recipient=ME, now=NOW)
    assert first["Message-ID"] != second["Message-ID"]
    assert original == incoming()
