"""Asking for receipts (request_receipt, dsn_options) and reading requests (receipt_request)."""

from __future__ import annotations

import email
import email.message
import email.policy
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mdnkit
from mdnkit import RequestError
from mdnkit.model import AddressField, Defect
from mdnkit.request import (
    DsnOptions,
    NotificationOption,
    ReceiptRequest,
    dsn_options,
    receipt_request,
    request_receipt,
    utf8_addr_xtext,
    xtext,
)


def outgoing(**headers: str) -> email.message.EmailMessage:
    msg = email.message.EmailMessage()
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content("Hello\n")
    return msg


def wire(msg: email.message.Message, name: str) -> list[str]:
    """The values of *name* as sent: serialised, re-read raw, unfolded."""
    raw = email.message_from_bytes(msg.as_bytes())
    return [re.sub(r"\r?\n[ \t]", " ", v) for v in raw.get_all(name, [])]


# ---------------------------------------------------------------------------
# request_receipt


@pytest.mark.parametrize(
    ("from_", "notify_to", "dnt"),
    [
        ("ann@example.org", None, "ann@example.org"),
        ("Ann Lee <ann@example.org>", None, "Ann Lee <ann@example.org>"),
        ('"Lee, Ann" <ann@example.org>', None, '"Lee, Ann" <ann@example.org>'),
        ("Jörg Brandt <jb@example.org>", None, "=?utf-8?q?J=C3=B6rg_Brandt?= <jb@example.org>"),
        (
            "ann@example.org, bob@example.org",
            None,
            "ann@example.org, bob@example.org",
        ),
        ("ann@example.org", "receipts@example.org", "receipts@example.org"),
        ("ann@example.org", "Receipts <receipts@example.org>", "Receipts <receipts@example.org>"),
        (
            "ann@example.org",
            ["a@example.org", "Bo <b@example.net>"],
            "a@example.org, Bo <b@example.net>",
        ),
        ("ann@example.org", '"Q\\"uote" <q@example.org>', '"Q\\"uote" <q@example.org>'),
    ],
)
def test_request_receipt_sets_dnt(from_, notify_to, dnt):
    msg = outgoing(From=from_, Message_ID="<m1@example.org>")
    request = request_receipt(msg, notify_to)
    assert wire(msg, "Disposition-Notification-To") == [dnt]
    assert request == receipt_request(msg.as_bytes())


def test_request_receipt_returns_the_request():
    msg = outgoing(From="Ann <ann@example.org>", Message_ID="<m1@example.org>")
    request = request_receipt(
        msg,
        options=[NotificationOption(attribute="x-priority-receipt", values=("yes",))],
        legacy=True,
    )
    assert request == ReceiptRequest(
        addresses=("ann@example.org",),
        names=("Ann",),
        options=(NotificationOption(attribute="x-priority-receipt", values=("yes",)),),
        options_raw="x-priority-receipt=optional,yes",
        legacy=("ann@example.org",),
        message_id="m1@example.org",
    )
    assert msg["Return-Receipt-To"] == "Ann <ann@example.org>"
    assert msg["Disposition-Notification-Options"] == "x-priority-receipt=optional,yes"


def test_request_receipt_adds_message_id_with_from_domain():
    msg = outgoing(From="ann@Mail.Example.org")
    request = request_receipt(msg)
    assert re.fullmatch(r"<[0-9.]+@Mail\.Example\.org>", msg["Message-ID"])
    assert request.message_id == msg["Message-ID"][1:-1]


def test_request_receipt_keeps_existing_message_id():
    msg = outgoing(From="ann@example.org", Message_ID="<keep@example.org>")
    assert request_receipt(msg).message_id == "keep@example.org"
    assert msg.get_all("Message-ID") == ["<keep@example.org>"]


def test_request_receipt_message_id_uses_notify_to_without_from():
    msg = outgoing(To="bob@example.net")
    request_receipt(msg, "receipts@example.com")
    assert msg["Message-ID"].endswith("@example.com>")


def test_request_receipt_message_id_is_ascii_for_idn_domains():
    msg = outgoing(From="ann@bücher.example")
    request_receipt(msg)
    assert re.fullmatch(r"<[0-9.]+@xn--bcher-kva\.example>", msg["Message-ID"])


def test_request_receipt_idn_domain_as_a_labels():
    msg = outgoing(From="ann@example.org", Message_ID="<m@example.org>")
    request = request_receipt(msg, "Ann <ann@bücher.example>")
    assert wire(msg, "Disposition-Notification-To") == ["Ann <ann@xn--bcher-kva.example>"]
    assert request.addresses == ("ann@xn--bcher-kva.example",)
    with pytest.raises(RequestError) as info:
        request_receipt(outgoing(From="a@example.org"), "a@\u2024.org")
    assert str(info.value) == "not a valid internationalised domain: '\u2024.org'"


def test_request_receipt_same_address_twice_once():
    msg = outgoing(From="ann@example.org", Message_ID="<m@example.org>")
    request = request_receipt(msg, ["Ann <ann@example.org>", "ann@example.org", "b@example.org"])
    assert wire(msg, "Disposition-Notification-To") == ["Ann <ann@example.org>, b@example.org"]
    assert request.addresses == ("ann@example.org", "b@example.org")
    assert request.names == ("Ann", "")


def test_request_receipt_works_on_compat32_message():
    msg = email.message_from_string("From: Ann <ann@example.org>\nSubject: x\n\nbody\n")
    request_receipt(msg)
    assert msg["Disposition-Notification-To"] == "Ann <ann@example.org>"
    assert receipt_request(msg.as_bytes()).addresses == ("ann@example.org",)


@pytest.mark.parametrize(
    ("options", "header"),
    [
        (
            [
                NotificationOption(
                    attribute="signed-receipt-protocol",
                    values=("pkcs7-signature",),
                    required=True,
                ),
                NotificationOption(attribute="signed-receipt-micalg", values=("sha-256", "sha1")),
            ],
            "signed-receipt-protocol=required,pkcs7-signature;"
            " signed-receipt-micalg=optional,sha-256,sha1",
        ),
        (
            {"signed-receipt-micalg": ("Optional", ["sha-256"])},
            "signed-receipt-micalg=optional,sha-256",
        ),
        ({"x-note": ("required", "two words")}, 'x-note=required,"two words"'),
        ({"x-q": ("optional", ['say "hi"'])}, 'x-q=optional,"say \\"hi\\""'),
    ],
)
def test_request_receipt_options(options, header):
    msg = outgoing(From="ann@example.org", Message_ID="<m@example.org>")
    request_receipt(msg, options=options)
    assert msg["Disposition-Notification-Options"] == header
    assert (
        receipt_request(msg.as_bytes()).options
        == request_receipt(
            outgoing(From="ann@example.org", Message_ID="<m@example.org>"), options=options
        ).options
    )


BREAKS = ["\r", "\n", "\x00", "\u2028", "\u2029", "\x85", "\r\nBcc: eve@example.net"]


@pytest.mark.parametrize(
    ("headers", "args", "kwargs", "message"),
    [
        (
            {"From": "ann@example.org", "Disposition-Notification-To": "ann@example.org"},
            (),
            {},
            "the message already has a Disposition-Notification-To header"
            " (RFC 8098 §2.1: at most one)",
        ),
        (
            {
                "From": "ann@example.org",
                "Disposition-Notification-Options": "x=optional,y",
            },
            (),
            {"options": {"a": ("optional", ["b"])}},
            "the message already has a Disposition-Notification-Options header"
            " (RFC 8098 §2.2: at most one)",
        ),
        (
            {"From": "ann@example.org", "Return-Receipt-To": "ann@example.org"},
            (),
            {"legacy": True},
            "the message already has a Return-Receipt-To header",
        ),
        (
            {"To": "bob@example.net"},
            (),
            {},
            "the message has no From header: say where receipts should go",
        ),
        ({"From": "undisclosed"}, (), {}, "From: not a valid mailbox address: 'undisclosed'"),
        (
            {"From": "ann@example.org"},
            ("not-an-address",),
            {},
            "notify_to: not a valid mailbox address: 'not-an-address'",
        ),
        (
            {"From": "ann@example.org"},
            ("a@example.org, b@example.org",),
            {},
            "notify_to: expected one mailbox per item, got 'a@example.org, b@example.org'",
        ),
        ({"From": "ann@example.org"}, ([],), {}, "notify_to is empty"),
        (
            {"From": "ann@example.org"},
            ([b"a@example.org"],),
            {},
            "notify_to must be str addresses, not bytes",
        ),
        (
            {"From": "ann@example.org"},
            ("=?utf-8?q?Eve?= <eve@example.net>",),
            {},
            "notify_to: RFC 2047 encoded words are not allowed in"
            " '=?utf-8?q?Eve?= <eve@example.net>'",
        ),
        (
            {"From": "ann@example.org"},
            ("=?utf-8?q?eve=40example.net?=@example.org",),
            {},
            "notify_to: RFC 2047 encoded words are not allowed in"
            " '=?utf-8?q?eve=40example.net?=@example.org'",
        ),
        (
            {"From": "ann@example.org"},
            (),
            {"options": {"bad attr": ("optional", ["x"])}},
            "option attribute must be an RFC 5321 Atom without '=': 'bad attr'",
        ),
        (
            {"From": "ann@example.org"},
            (),
            {"options": {"x": ("maybe", ["x"])}},
            "option 'x': importance must be 'required' or 'optional', not 'maybe'",
        ),
        (
            {"From": "ann@example.org"},
            (),
            {"options": {"x": ("optional", [])}},
            "option 'x' needs at least one value (RFC 8098 §2.2)",
        ),
        (
            {"From": "ann@example.org"},
            (),
            {"options": {"x": "optional"}},
            "option 'x': expected (importance, values), got 'optional'",
        ),
        (
            {"From": "ann@example.org"},
            (),
            {"options": {"x": ("optional", ["é"])}},
            "option 'x': values must be printable ASCII: 'é'",
        ),
        (
            {"From": "ann@example.org"},
            (),
            {
                "options": [
                    NotificationOption(attribute="X", values=("1",)),
                    NotificationOption(attribute="x", values=("2",)),
                ]
            },
            "option 'x' given twice",
        ),
        (
            {"From": "ann@example.org"},
            (),
            {"options": ["x=optional,y"]},
            "options must be NotificationOption values, not 'x=optional,y'",
        ),
    ],
)
def test_request_receipt_refuses(headers, args, kwargs, message):
    msg = email.message.EmailMessage()
    for name, value in headers.items():
        msg[name] = value
    before = list(msg.items())
    with pytest.raises(RequestError) as info:
        request_receipt(msg, *args, **kwargs)
    assert str(info.value) == message
    assert list(msg.items()) == before  # nothing half-written


def test_request_receipt_refuses_non_message():
    with pytest.raises(RequestError) as info:
        request_receipt(b"From: a@b\n\n")  # type: ignore[arg-type]
    assert str(info.value) == "request_receipt needs an email.message.Message"


@pytest.mark.parametrize("bad", BREAKS)
@pytest.mark.parametrize(
    "place",
    ["address", "name", "option attribute", "option value"],
)
def test_request_receipt_refuses_injection(bad, place):
    msg = outgoing(From="ann@example.org", Message_ID="<m@example.org>")
    before = list(msg.items())
    notify = "ann@example.org"
    options = None
    if place == "address":
        notify = f"ann{bad}@example.org"
    elif place == "name":
        notify = f"Ann{bad}Lee <ann@example.org>"
    elif place == "option attribute":
        options = [NotificationOption(attribute=f"x{bad}y", values=("v",))]
    else:
        options = [NotificationOption(attribute="x", values=(f"v{bad}w",))]
    with pytest.raises(RequestError, match="line breaks and NUL are not allowed"):
        request_receipt(msg, notify, options=options)
    assert list(msg.items()) == before


# ---------------------------------------------------------------------------
# receipt_request


def test_receipt_request_none_without_request():
    assert receipt_request(b"From: a@example.org\nSubject: hi\n\nbody\n") is None
    assert receipt_request("From: a@example.org\n\n") is None
    assert receipt_request(email.message.EmailMessage()) is None


AS2_REQUEST = (
    b"From: partner@as2.example\r\n"
    b"Message-ID: <as2-1@as2.example>\r\n"
    b"disposition-notification-to: SIAS2PRD\r\n"
    b"disposition-notification-options: signed-receipt-protocol=optional,"
    b"pkcs7-signature;signed-receipt-micalg=optional,sha1\r\n"
    b"\r\n"
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"Return-Path: <ann@example.org>\n"
            b"From: Ann <ann@example.org>\n"
            b"Message-ID: <  m1@example.org >\n"
            b"Disposition-Notification-To: Ann <ann@example.org>\n\nbody\n",
            ReceiptRequest(
                addresses=("ann@example.org",),
                names=("Ann",),
                message_id="m1@example.org",
                return_path=("ann@example.org",),
            ),
        ),
        # AS2: the DNT names a system, not a mailbox; the options still count.
        (
            AS2_REQUEST,
            ReceiptRequest(
                options=(
                    NotificationOption(
                        attribute="signed-receipt-protocol", values=("pkcs7-signature",)
                    ),
                    NotificationOption(attribute="signed-receipt-micalg", values=("sha1",)),
                ),
                options_raw="signed-receipt-protocol=optional,pkcs7-signature;"
                "signed-receipt-micalg=optional,sha1",
                message_id="as2-1@as2.example",
                defects=(
                    Defect(
                        "invalid-address",
                        "not a mailbox address: 'SIAS2PRD'",
                        "Disposition-Notification-To",
                    ),
                ),
            ),
        ),
        # Spaces after commas (other AS2 senders), importance in capitals,
        # a quoted value, and one parameter that does not parse.
        (
            b"Disposition-Notification-To: a@example.org\n"
            b"Disposition-Notification-Options: signed-receipt-micalg = REQUIRED , sha-256 ,"
            b' sha1; x-note=optional,"a; b"; broken; x-e=optional\n\n',
            ReceiptRequest(
                addresses=("a@example.org",),
                names=("",),
                options=(
                    NotificationOption(
                        attribute="signed-receipt-micalg", values=("sha-256", "sha1"), required=True
                    ),
                    NotificationOption(attribute="x-note", values=("a; b",)),
                ),
                options_raw="signed-receipt-micalg = REQUIRED , sha-256 , sha1;"
                ' x-note=optional,"a; b"; broken; x-e=optional',
                defects=(
                    Defect(
                        "malformed-option",
                        "expected attribute=importance,value: 'broken'",
                        "Disposition-Notification-Options",
                    ),
                    Defect(
                        "malformed-option",
                        "expected importance ('required' or 'optional') then at least one"
                        " value: 'x-e=optional'",
                        "Disposition-Notification-Options",
                    ),
                ),
            ),
        ),
        # Folded list, encoded and quoted names, a comment, a duplicate.
        (
            b"Disposition-Notification-To: =?iso-8859-1?q?J=F6rg?= <jorg@example.org>,\n"
            b' "Lee, Ann" <ann@example.org> (work),\n'
            b"\tjorg@example.org\n\n",
            ReceiptRequest(
                addresses=("jorg@example.org", "ann@example.org"),
                names=("Jörg", "Lee, Ann"),
            ),
        ),
        # Two DNT fields: both read, noted.
        (
            b"Disposition-Notification-To: a@example.org\n"
            b"Disposition-Notification-To: b@example.org\n\n",
            ReceiptRequest(
                addresses=("a@example.org", "b@example.org"),
                names=("", ""),
                defects=(
                    Defect(
                        "multiple-dnt",
                        "2 Disposition-Notification-To fields; RFC 8098 §2.1 allows one"
                        " (all were read)",
                        "Disposition-Notification-To",
                    ),
                ),
            ),
        ),
        # Original-Recipient (RFC 8098 §2.3) with a comment, and the RFC 6533 utf-8 type.
        (
            b"Original-Recipient: (from ORCPT) RFC822; Bob@Example.net\n"
            b"Disposition-Notification-To: a@example.org\n\n",
            ReceiptRequest(
                addresses=("a@example.org",),
                names=("",),
                original_recipient=AddressField(type="rfc822", address="Bob@Example.net"),
            ),
        ),
        (
            b"Original-Recipient: utf-8; j\\x{F6}rg@example.org\n"
            b"Disposition-Notification-To: a@example.org\n\n",
            ReceiptRequest(
                addresses=("a@example.org",),
                names=("",),
                original_recipient=AddressField(type="utf-8", address="jörg@example.org"),
            ),
        ),
        (
            b"Original-Recipient: rfc822; a@example.org\n"
            b"Original-Recipient: rfc822; b@example.org\n"
            b"Original-Recipient: nonsense\n"
            b"Disposition-Notification-To: a@example.org\n\n",
            ReceiptRequest(
                addresses=("a@example.org",),
                names=("",),
                defects=(
                    Defect(
                        "multiple-original-recipient",
                        "3 Original-Recipient fields; none is used (RFC 8098 §3.2.3)",
                        "Original-Recipient",
                    ),
                ),
            ),
        ),
        (
            b"Original-Recipient: bob@example.net\nDisposition-Notification-To: a@example.org\n\n",
            # Read as the report field is read: the type is guessed, and said so.
            ReceiptRequest(
                addresses=("a@example.org",),
                names=("",),
                original_recipient=AddressField("rfc822", "bob@example.net"),
                defects=(
                    Defect(
                        "missing-address-type",
                        "No address type before the address; 'rfc822' assumed",
                        "Original-Recipient",
                    ),
                ),
            ),
        ),
        # Legacy headers only: a request, but not an RFC 8098 one.
        (
            b"Return-Receipt-To: <old@example.org>\n"
            b'X-Confirm-Reading-To: "Old" <old2@example.org>\n\n',
            ReceiptRequest(legacy=("old@example.org", "old2@example.org")),
        ),
        # Null and several Return-Paths; a Return-Path that is no address.
        (
            b"Return-Path: <>\nReturn-Path: <b@example.org>\nReturn-Path: junk\n"
            b"Disposition-Notification-To: a@example.org\n\n",
            ReceiptRequest(
                addresses=("a@example.org",),
                names=("",),
                return_path=("", "b@example.org"),
                defects=(Defect("malformed-return-path", "no address in 'junk'", "Return-Path"),),
            ),
        ),
        (
            b"Disposition-Notification-To:\n\n",
            ReceiptRequest(
                defects=(
                    Defect("empty-field", "the field is empty", "Disposition-Notification-To"),
                )
            ),
        ),
        # Raw UTF-8 display name (RFC 6532), bytes kept by the stdlib as surrogates.
        (
            "Disposition-Notification-To: Jörg <jorg@example.org>\n\n".encode(),
            ReceiptRequest(addresses=("jorg@example.org",), names=("Jörg",)),
        ),
    ],
)
def test_receipt_request_vectors(raw, expected):
    assert receipt_request(raw) == expected
    assert receipt_request(email.message_from_bytes(raw)) == expected
    assert receipt_request(email.message_from_bytes(raw, policy=email.policy.default)) == expected


def test_receipt_request_str_and_bytes_agree():
    text = "Disposition-Notification-To: Ann <ann@example.org>\nMessage-ID: <x@y>\n\nbody"
    assert receipt_request(text) == receipt_request(text.encode())


def test_receipt_request_refuses_other_types():
    with pytest.raises(RequestError) as info:
        receipt_request(42)  # type: ignore[arg-type]
    assert str(info.value) == "expected a Message, bytes or str, not int"


def test_receipt_request_option_lookup():
    request = receipt_request(AS2_REQUEST)
    assert request is not None
    assert request.option("SIGNED-RECEIPT-MICALG") == NotificationOption(
        attribute="signed-receipt-micalg", values=("sha1",)
    )
    assert request.option("x") is None
    assert request.required_options == ()


def test_receipt_request_bounds_huge_header():
    raw = b"Disposition-Notification-To: " + b"a@example.org, " * 100_000 + b"\n\n"
    request = receipt_request(raw)
    assert request is not None
    assert request.addresses == ("a@example.org",)
    assert request.defects == (
        Defect(
            "field-too-long",
            "longer than 16384 characters; the rest was not read",
            "Disposition-Notification-To",
        ),
    )


@given(st.binary(max_size=2000))
def test_receipt_request_never_raises_on_bytes(raw):
    result = receipt_request(raw)
    assert result is None or isinstance(result, ReceiptRequest)


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",)),
        max_size=300,
    )
)
def test_receipt_request_reads_any_dnt_value(value):
    raw = "Disposition-Notification-To: " + value.replace("\r", " ").replace("\n", " ")
    result = receipt_request((raw + "\n\n").encode("utf-8"))
    assert isinstance(result, ReceiptRequest)
    for address in result.addresses:
        assert "\n" not in address
        assert "\r" not in address


# ---------------------------------------------------------------------------
# Round trip (property)

LOCAL = st.from_regex(r"[a-z0-9][a-z0-9+_-]{0,10}(\.[a-z0-9_-]{1,6}){0,2}", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z][a-z0-9-]{0,10}\.(org|net|example)", fullmatch=True)
ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)
NAME = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn"),
        blacklist_characters="\x85",
    ),
    max_size=20,
).map(lambda s: " ".join(s.split()))
ATOM = st.from_regex(r"[A-Za-z0-9!#$%&'*+/?^_`{|}~-]{1,12}", fullmatch=True)
VALUE = st.one_of(ATOM, st.from_regex(r"[ -~]{1,12}", fullmatch=True))
OPTION = st.builds(
    lambda a, v, r: NotificationOption(attribute=a, values=tuple(v), required=r),
    ATOM,
    st.lists(VALUE, min_size=1, max_size=3),
    st.booleans(),
)


@given(
    mailboxes=st.lists(st.tuples(NAME, ADDRESS), min_size=1, max_size=4, unique_by=lambda m: m[1]),
    options=st.lists(OPTION, max_size=3, unique_by=lambda o: o.attribute.lower()),
    compat=st.booleans(),
)
def test_round_trip(mailboxes, options, compat):
    """RFC 8098 §2.1-2.2: what request_receipt writes, receipt_request reads back."""
    if compat:
        msg: email.message.Message = email.message.Message()
    else:
        msg = email.message.EmailMessage()
    msg["From"] = "sender@example.org"
    # Names go in plainly quoted; request_receipt encodes them (RFC 2047) itself.
    notify = [f'"{_q(n)}" <{a}>' if n else a for n, a in mailboxes]
    sent = request_receipt(msg, notify, options=options)
    for data in (msg.as_bytes(), msg.as_string(), msg):
        got = receipt_request(data)
        assert got is not None
        assert got.addresses == tuple(a for _, a in mailboxes)
        assert got.names == tuple(n for n, _ in mailboxes)
        assert got.options == tuple(options)
        assert got.message_id == sent.message_id
        assert got.defects == ()
    assert sent.addresses == tuple(a for _, a in mailboxes)
    assert sent.options == tuple(options)


def _q(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


@given(st.text(min_size=1, max_size=30), st.sampled_from(BREAKS))
def test_any_break_is_refused(text, bad):
    msg = outgoing(From="ann@example.org")
    cut = len(text) // 2
    with pytest.raises(RequestError):
        request_receipt(msg, text[:cut] + bad + text[cut:] + " <a@example.org>")
    assert msg["Disposition-Notification-To"] is None


# ---------------------------------------------------------------------------
# dsn_options


@pytest.mark.parametrize(
    ("kwargs", "mail", "rcpt"),
    [
        ({}, ["RET=HDRS"], ["NOTIFY=SUCCESS,FAILURE,DELAY"]),
        (
            {"notify": ["delay", "FAILURE", "failure"], "ret": "Full"},
            ["RET=FULL"],
            ["NOTIFY=FAILURE,DELAY"],
        ),
        ({"notify": "never", "ret": None}, [], ["NOTIFY=NEVER"]),
        ({"notify": None, "ret": None}, [], []),
        (
            {"envid": "batch 7/+x=y"},
            ["RET=HDRS", "ENVID=batch+207/+2Bx+3Dy"],
            ["NOTIFY=SUCCESS,FAILURE,DELAY"],
        ),
        (
            {"envid": "e" * 100},
            ["RET=HDRS", "ENVID=" + "e" * 100],
            ["NOTIFY=SUCCESS,FAILURE,DELAY"],
        ),
    ],
)
def test_dsn_options(kwargs, mail, rcpt):
    options = dsn_options(**kwargs)
    assert options.mail_options == mail
    assert options.rcpt_options == rcpt
    assert options.envid == kwargs.get("envid")


def test_dsn_options_value():
    assert dsn_options(notify=("success",), envid="abc") == DsnOptions(
        notify=("SUCCESS",), ret="HDRS", envid="abc"
    )
    assert mdnkit.dsn_options is dsn_options


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"notify": ["never", "success"]},
            "NOTIFY=NEVER cannot be combined with other values (RFC 3461 §4.1)",
        ),
        (
            {"notify": ["sometimes"]},
            "unknown NOTIFY value 'SOMETIMES': use success, failure, delay or never",
        ),
        ({"notify": []}, "notify is empty: use ('never',) to ask for no DSN at all"),
        ({"notify": [1]}, "notify values must be str, not 1"),
        (
            {"notify": ["success\r\n"]},
            "notify: line breaks and NUL are not allowed ('\\r' in 'success\\r\\n')",
        ),
        ({"ret": "body"}, "ret must be 'full' or 'hdrs', not 'body'"),
        ({"ret": 1}, "ret must be 'full' or 'hdrs', not 1"),
        ({"envid": ""}, "envid is empty"),
        (
            {"envid": "a\r\nRCPT TO:<x@y>"},
            "envid must be printable US-ASCII (RFC 3461 §4.4): 'a\\r\\nRCPT TO:<x@y>'",
        ),
        ({"envid": "é"}, "envid must be printable US-ASCII (RFC 3461 §4.4): 'é'"),
        (
            {"envid": "e" * 101},
            "envid is 101 characters once xtext-encoded; RFC 3461 §4.4 allows 100",
        ),
        (
            {"envid": "+" * 34},
            "envid is 102 characters once xtext-encoded; RFC 3461 §4.4 allows 100",
        ),
        ({"envid": 5}, "envid must be a str, not 5"),
    ],
)
def test_dsn_options_refuses(kwargs, message):
    with pytest.raises(RequestError) as info:
        dsn_options(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("address", "orcpt"),
    [
        ("bob@example.net", "ORCPT=rfc822;bob@example.net"),
        ("b+tag=1@example.net", "ORCPT=rfc822;b+2Btag+3D1@example.net"),
        ('"b c"@example.net', 'ORCPT=rfc822;"b+20c"@example.net'),
        ("bob@bücher.example", "ORCPT=utf-8;bob@b\\x{FC}cher.example"),
    ],
)
def test_rcpt_options_for(address, orcpt):
    assert dsn_options(notify=["failure"]).rcpt_options_for(address) == ["NOTIFY=FAILURE", orcpt]


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("bob", "not a valid mailbox address: 'bob'"),
        (
            "bob@example.net\r\nDATA",
            "address: line breaks and NUL are not allowed ('\\r' in 'bob@example.net\\r\\nDATA')",
        ),
    ],
)
def test_rcpt_options_for_refuses(address, message):
    with pytest.raises(RequestError) as info:
        dsn_options().rcpt_options_for(address)
    assert str(info.value) == message


def test_docstring_examples():
    import doctest

    import mdnkit.request

    result = doctest.testmod(mdnkit.request)
    assert (result.failed, result.attempted) == (0, 3)


@given(st.text(max_size=50))
def test_xtext_is_printable_and_reversible(text):
    encoded = xtext(text)
    assert all(33 <= ord(c) <= 126 for c in encoded)
    assert "=" not in encoded
    decoded = re.sub(rb"\+([0-9A-F]{2})", lambda m: bytes([int(m.group(1), 16)]), encoded.encode())
    assert decoded.decode("utf-8") == text


@given(st.text(min_size=1, max_size=30).filter(lambda s: not s.isascii() or "+" in s))
def test_utf8_addr_xtext_is_7bit_qchar(text):
    encoded = utf8_addr_xtext(text)
    assert encoded.isascii()
    assert not set(encoded) & set("+= ")
    decoded = re.sub(r"\\x\{([0-9A-F]+)\}", lambda m: chr(int(m.group(1), 16)), encoded)
    assert decoded == text
