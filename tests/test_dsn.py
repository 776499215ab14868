"""Reading the body of a message/delivery-status part (RFC 3464 §2, RFC 6533 §4.1)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mdnkit._defects import Problems
from mdnkit._dsn import dsn_values, parse_action, parse_diagnostic
from mdnkit.errors import ParseError
from mdnkit.limits import DEFAULT_LIMITS, Limits
from mdnkit.model import (
    AddressField,
    Defect,
    Diagnostic,
    DSNAction,
    DSNRecipient,
    Headers,
    StatusCode,
)

FIXTURES = Path(__file__).parent / "fixtures"
EDT = timezone(timedelta(hours=-4))


def read(text: str, *, utf8: bool = False, limits: Limits = DEFAULT_LIMITS) -> dict[str, Any]:
    problems = Problems()
    values = dsn_values(text, problems, limits, utf8=utf8)
    values["defects"] = problems.defects()
    return values


def fixture(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


def rfc822(address: str) -> AddressField:
    return AddressField(type="rfc822", address=address)


def dns(name: str) -> AddressField:
    return AddressField(type="dns", address=name)


def summary(values: dict[str, Any]) -> list[tuple[str | None, str | None, str | None]]:
    """(address, action, status) per recipient: the shape of most quirk vectors."""
    return [
        (
            r.address,
            None if r.action is None else str(r.action),
            None if r.status is None else r.status.code,
        )
        for r in values["recipients"]
    ]


def codes(values: dict[str, Any]) -> list[str]:
    return [d.code for d in values["defects"]]


NO_MESSAGE_FIELDS: dict[str, Any] = {
    "original_envelope_id": None,
    "reporting_mta": None,
    "dsn_gateway": None,
    "received_from_mta": None,
    "arrival_date": None,
    "extension_fields": Headers(),
}


# ---------------------------------------------------------------------------
# RFC 3464 Appendix E, the status parts verbatim (CRLF line ends)

RFC_EXAMPLES = [
    (
        "dsn_rfc3464_simple.txt",
        {
            **NO_MESSAGE_FIELDS,
            "reporting_mta": dns("cs.utk.edu"),
            "recipients": (
                DSNRecipient(
                    original_recipient=rfc822("louisl@larry.slip.umd.edu"),
                    final_recipient=rfc822("louisl@larry.slip.umd.edu"),
                    action=DSNAction.FAILED,
                    status=StatusCode(code="4.0.0"),
                    diagnostic_code=Diagnostic(type="smtp", text="426 connection timed out"),
                    last_attempt_date=datetime(1994, 7, 7, 17, 15, 49, tzinfo=EDT),
                ),
            ),
            "utf8": False,
            "defects": (),
        },
    ),
    (
        "dsn_rfc3464_multi_recipient.txt",
        {
            **NO_MESSAGE_FIELDS,
            "reporting_mta": dns("cs.utk.edu"),
            "recipients": (
                DSNRecipient(
                    original_recipient=rfc822("arathib@vnet.ibm.com"),
                    final_recipient=rfc822("arathib@vnet.ibm.com"),
                    action=DSNAction.FAILED,
                    status=StatusCode(code="5.0.0", comment="permanent failure"),
                    diagnostic_code=Diagnostic(
                        type="smtp",
                        text="550 'arathib@vnet.IBM.COM' is not a registered gateway user",
                    ),
                    remote_mta=dns("vnet.ibm.com"),
                ),
                DSNRecipient(
                    original_recipient=rfc822("johnh@hpnjld.njd.hp.com"),
                    final_recipient=rfc822("johnh@hpnjld.njd.hp.com"),
                    action=DSNAction.DELAYED,
                    status=StatusCode(
                        code="4.0.0", comment="hpnjld.njd.jp.com: host name lookup failure"
                    ),
                ),
                DSNRecipient(
                    original_recipient=rfc822("wsnell@sdcc13.ucsd.edu"),
                    final_recipient=rfc822("wsnell@sdcc13.ucsd.edu"),
                    action=DSNAction.FAILED,
                    status=StatusCode(code="5.0.0"),
                    diagnostic_code=Diagnostic(type="smtp", text="550 user unknown"),
                    remote_mta=dns("sdcc13.ucsd.edu"),
                ),
            ),
            "utf8": False,
            "defects": (),
        },
    ),
    (
        "dsn_rfc3464_gateway.txt",
        {
            **NO_MESSAGE_FIELDS,
            "reporting_mta": AddressField(type="mailbus", address="SYS30"),
            "recipients": (
                DSNRecipient(
                    final_recipient=AddressField(type="unknown", address="nair_s"),
                    action=DSNAction.FAILED,
                    status=StatusCode(code="5.0.0", comment="unknown permanent failure"),
                ),
            ),
            "utf8": False,
            "defects": (),
        },
    ),
    (
        "dsn_rfc3464_delayed.txt",
        {
            **NO_MESSAGE_FIELDS,
            "reporting_mta": dns("sun2.nsfnet-relay.ac.uk"),
            "recipients": (
                DSNRecipient(
                    final_recipient=rfc822("thomas@de-montfort.ac.uk"),
                    action=DSNAction.DELAYED,
                    status=StatusCode(code="4.0.0", comment="unknown temporary failure"),
                ),
            ),
            "utf8": False,
            "defects": (),
        },
    ),
]


@pytest.mark.parametrize(("name", "expected"), RFC_EXAMPLES)
def test_rfc3464_appendix_e(name: str, expected: dict[str, Any]) -> None:
    assert read(fixture(name)) == expected


# ---------------------------------------------------------------------------
# Per-message fields (RFC 3464 §2.2)


def test_every_per_message_field() -> None:
    text = (
        "Original-Envelope-Id: QQ+2B314159+3D\n"
        "Reporting-MTA: dns; mx2.sender.example\n"
        "DSN-Gateway: dns; gw.sender.example\n"
        "Received-From-MTA: dns; client.sender.example (192.0.2.8)\n"
        "Arrival-Date: Tue, 14 Mar 2023 09:12:44 -0400 (EDT)\n"
        "X-Postfix-Queue-ID: 4F2A1B0C77\n"
        "X-Original-Message-ID: <a1@sender.example>\n"
        "\n"
        "Final-Recipient: rfc822; kai@receiver.example\n"
        "Action: delivered\n"
        "Status: 2.0.0\n"
    )
    assert read(text) == {
        "original_envelope_id": "QQ+314159=",
        "reporting_mta": dns("mx2.sender.example"),
        "dsn_gateway": dns("gw.sender.example"),
        "received_from_mta": dns("client.sender.example (192.0.2.8)"),
        "arrival_date": datetime(2023, 3, 14, 9, 12, 44, tzinfo=EDT),
        "extension_fields": Headers(
            [
                ("X-Postfix-Queue-ID", "4F2A1B0C77"),
                ("X-Original-Message-ID", "<a1@sender.example>"),
            ]
        ),
        "recipients": (
            DSNRecipient(
                final_recipient=rfc822("kai@receiver.example"),
                action=DSNAction.DELIVERED,
                status=StatusCode(code="2.0.0"),
            ),
        ),
        "utf8": False,
        "defects": (),
    }


ENVELOPE_IDS = [
    ("QQ314159", "QQ314159", []),
    ("  0GK500B4HD0888@relay.example  ", "0GK500B4HD0888@relay.example", []),
    ("a+2Bb+3Dc+20d", "a+b=c d", []),
    # X.400 gateways put their own bracketed form here; kept as written.
    ("[/PRMD=EX/ADMD= /C=GB/;<ABC.def>]", "[/PRMD=EX/ADMD= /C=GB/;<ABC.def>]", []),
    ("bad+2b+zz", "bad+2b+zz", ["malformed-xtext"]),
    ("", None, ["empty-envelope-id"]),
]


@pytest.mark.parametrize(("value", "envid", "defects"), ENVELOPE_IDS)
def test_original_envelope_id_is_xtext_decoded(
    value: str, envid: str | None, defects: list[str]
) -> None:
    values = read(
        f"Original-Envelope-Id: {value}\nReporting-MTA: dns; a.example\n\n"
        "Final-Recipient: rfc822; b@c.example\nAction: failed\nStatus: 5.0.0\n"
    )
    assert (values["original_envelope_id"], codes(values)) == (envid, defects)


def test_malformed_xtext_points_at_the_bad_plus() -> None:
    problems = Problems()
    dsn_values(
        "Original-Envelope-Id: a+2Bb+zz\nReporting-MTA: dns; a.example\n\n"
        "Final-Recipient: rfc822; b@c.example\nAction: failed\nStatus: 5.0.0\n",
        problems,
        DEFAULT_LIMITS,
        utf8=False,
    )
    with pytest.raises(ParseError) as caught:
        problems.raise_if_any()
    assert str(caught.value) == (
        "Original-Envelope-Id: A '+' in the envelope id is not followed by two upper-case "
        "hex digits (RFC 3461 §4); kept as written\n"
        "  a+2Bb+zz\n"
        "       ^"
    )


def test_duplicate_per_message_field_keeps_the_first() -> None:
    values = read(
        "Reporting-MTA: dns; first.example\nReporting-MTA: dns; second.example\n\n"
        "Final-Recipient: rfc822; b@c.example\nAction: failed\nStatus: 5.0.0\n"
    )
    assert values["reporting_mta"] == dns("first.example")
    assert values["defects"] == (
        Defect(
            "duplicate-field",
            "Reporting-MTA appears more than once in a group (line 2); the first one is kept",
            "Reporting-MTA",
        ),
    )


# ---------------------------------------------------------------------------
# Per-recipient fields (RFC 3464 §2.3)

ACTIONS = [
    ("failed", DSNAction.FAILED, []),
    ("delayed", DSNAction.DELAYED, []),
    ("Delayed", DSNAction.DELAYED, []),
    ("DELIVERED", DSNAction.DELIVERED, []),
    (" relayed ", DSNAction.RELAYED, []),
    ("expanded", DSNAction.EXPANDED, []),
    ("failed (Bad destination mailbox address)", DSNAction.FAILED, []),
    ("(note) failed", DSNAction.FAILED, []),
    ("failure", "failure", ["unregistered-action"]),
    ("Deliverable", "deliverable", ["unregistered-action"]),
    ("", None, ["empty-action"]),
    ("(only a comment)", None, ["empty-action"]),
]


@pytest.mark.parametrize(("value", "action", "defects"), ACTIONS)
def test_parse_action(value: str, action: DSNAction | str | None, defects: list[str]) -> None:
    problems = Problems()
    got = parse_action(value, problems)
    assert (got, type(got), problems.codes()) == (action, type(action), defects)


def test_unregistered_action_message() -> None:
    problems = Problems()
    parse_action("failure", problems)
    assert problems.defects() == (
        Defect(
            "unregistered-action",
            "'failure' is not an RFC 3464 action (failed, delayed, delivered, relayed, "
            "expanded); kept as written",
            "Action",
        ),
    )


def test_unregistered_action_message_shows_control_characters_escaped() -> None:
    # The word is quoted as repr() quotes it: a message never carries a
    # control character of a stranger's value to the user's terminal.
    problems = Problems()
    assert parse_action("fa\x00iled", problems) == "fa\x00iled"
    assert problems.defects()[0].message == (
        "'fa\\x00iled' is not an RFC 3464 action (failed, delayed, delivered, relayed, "
        "expanded); kept as written"
    )


_STATUS_TEXT = st.lists(
    st.sampled_from(
        ["5.1.1", "4.4.7", "2.0.0", "5", "05", ".", "1", "1000", " ", "\t", "(x)", "(", ")", "()"]
    ),
    max_size=6,
).map("".join)
_ACTION_TEXT = st.lists(
    st.sampled_from(["failed", "Delayed", "DELIVERED", "relayed", "expanded", "failure", " "]),
    max_size=3,
).map("".join) | st.sampled_from(["(a) failed", "failed\t", "\u212aexpanded", "f\u0130led"])


@given(_STATUS_TEXT, _ACTION_TEXT)
def test_recipient_fast_readers_agree_with_the_parse_functions(status: str, action: str) -> None:
    # The Status and Action readers of a recipient group take the usual
    # values without parse_status/parse_action: same value, same defects.
    from mdnkit import _dsn
    from mdnkit.statuscodes import _read_status

    def parse_status(value: str, problems: Problems, *, field: str, limits: Limits) -> object:
        return _read_status(value, problems, field, limits)  # without its own fast path

    for fast, careful, value, name in (
        (_dsn._status, parse_status, status, "Status"),
        (_dsn._action, parse_action, action, "Action"),
    ):
        fast_problems, careful_problems = Problems(), Problems()
        got = fast(value, name, fast_problems, DEFAULT_LIMITS)
        want = careful(value, careful_problems, field=name, limits=DEFAULT_LIMITS)
        assert (got, type(got), fast_problems.defects()) == (
            want,
            type(want),
            careful_problems.defects(),
        )


def test_reader_tables_cover_the_rfc_fields() -> None:
    # Each RFC 3464 field name is listed twice (the sets that sort fields
    # into groups, the tables that read them): the two must agree.
    from mdnkit import _dsn

    assert set(_dsn._PER_MESSAGE_READERS) == _dsn._PER_MESSAGE
    assert set(_dsn._RECIPIENT_READERS) == _dsn._PER_RECIPIENT - {"localized-diagnostic"}
    assert [attr for attr, _read in _dsn._RECIPIENT_READERS.values()] == [
        name.replace("-", "_") for name in _dsn._RECIPIENT_READERS
    ]


def test_usual_orders_hold_known_fields_only_where_read_without_a_check() -> None:
    # A recipient group read by place calls each reader with no test for
    # an extension field: its usual orders name known fields only.
    from mdnkit import _dsn

    for plan in _dsn._USUAL_RECIPIENTS.values():
        assert all(read is not None for _attr, read in plan)
    assert all("reporting-mta" in order for order in _dsn._USUAL_PER_MESSAGE)


def test_diagnostic_fast_constructor_builds_the_dataclass() -> None:
    from mdnkit.model import _diagnostic

    built = _diagnostic("smtp", "550 5.1.1 unknown")
    assert built == Diagnostic(type="smtp", text="550 5.1.1 unknown")
    assert (repr(built), hash(built)) == (
        repr(Diagnostic(type="smtp", text="550 5.1.1 unknown")),
        hash(Diagnostic(type="smtp", text="550 5.1.1 unknown")),
    )


DIAGNOSTICS = [
    ("smtp; 550 5.1.1 user unknown", Diagnostic(type="smtp", text="550 5.1.1 user unknown"), []),
    (
        "smtp;550 Requested action not taken",
        Diagnostic(type="smtp", text="550 Requested action not taken"),
        [],
    ),
    (
        "X-Postfix; mail for example.org loops back to myself",
        Diagnostic(type="X-Postfix", text="mail for example.org loops back to myself"),
        [],
    ),
    (
        "X-Notes; Failed to deliver; unknown user",
        Diagnostic(type="X-Notes", text="Failed to deliver; unknown user"),
        [],
    ),
    (
        "Reason 1 (Unable-To-Transfer); Diagnostic 5 (Maximum-Time-Expired)",
        Diagnostic(
            type="Reason 1 (Unable-To-Transfer)", text="Diagnostic 5 (Maximum-Time-Expired)"
        ),
        [],
    ),
    ("smtp;", Diagnostic(type="smtp", text=""), []),
    (
        "550 mailbox unavailable",
        Diagnostic(type="", text="550 mailbox unavailable"),
        ["diagnostic-without-type"],
    ),
]


@pytest.mark.parametrize(("value", "diagnostic", "defects"), DIAGNOSTICS)
def test_parse_diagnostic(value: str, diagnostic: Diagnostic, defects: list[str]) -> None:
    problems = Problems()
    assert (parse_diagnostic(value, problems), problems.codes()) == (diagnostic, defects)


def test_folded_multi_line_smtp_reply_is_joined() -> None:
    # Gmail folds its multi-line 550- reply over several lines.
    values = read(
        "Reporting-MTA: dns; mail.example\n\n"
        "Final-Recipient: rfc822; nobody@example.com\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Diagnostic-Code: smtp; 550-5.1.1 The account that you tried to reach does not exist.\n"
        " 550-5.1.1 Please check the address for typos or\n"
        " 550 5.1.1  unnecessary spaces. x12si - gsmtp\n"
        "Last-Attempt-Date: Mon, 18 May 2020 09:23:25 -0700 (PDT)\n"
    )
    assert values["recipients"][0].diagnostic_code == Diagnostic(
        type="smtp",
        text="550-5.1.1 The account that you tried to reach does not exist. 550-5.1.1 Please "
        "check the address for typos or 550 5.1.1 unnecessary spaces. x12si - gsmtp",
    )
    assert values["defects"] == ()


def test_every_per_recipient_field() -> None:
    text = (
        "Reporting-MTA: dns; mx.sender.example\n"
        "\n"
        "Original-Recipient: rfc822;list@sender.example\n"
        "Final-Recipient: RFC822; <Kim.Doe@receiver.example>\n"
        "Action: delayed\n"
        "Status: 4.4.1 (no answer from host)\n"
        "Remote-MTA: dns; mx.receiver.example\n"
        "Diagnostic-Code: smtp; 421 4.4.1 try later\n"
        "Last-Attempt-Date: Fri, 3 Feb 2023 10:00:00 +0000\n"
        "Final-Log-ID: 9F1 2C3\n"
        "Will-Retry-Until: Mon, 6 Feb 2023  10:00:00 +0000 (GMT)\n"
        "X-Actual-Recipient: rfc822; kim@relay.example\n"
        "Localized-Diagnostic: fr; boîte pleine\n"
    )
    assert read(text, utf8=True) == {
        **NO_MESSAGE_FIELDS,
        "reporting_mta": dns("mx.sender.example"),
        "recipients": (
            DSNRecipient(
                original_recipient=rfc822("list@sender.example"),
                final_recipient=rfc822("Kim.Doe@receiver.example"),
                action=DSNAction.DELAYED,
                status=StatusCode(code="4.4.1", comment="no answer from host"),
                remote_mta=dns("mx.receiver.example"),
                diagnostic_code=Diagnostic(type="smtp", text="421 4.4.1 try later"),
                last_attempt_date=datetime(2023, 2, 3, 10, 0, tzinfo=UTC),
                final_log_id="9F1 2C3",
                will_retry_until=datetime(2023, 2, 6, 10, 0, tzinfo=UTC),
                extension_fields=Headers(
                    [
                        ("X-Actual-Recipient", "rfc822; kim@relay.example"),
                        ("Localized-Diagnostic", "fr; boîte pleine"),
                    ]
                ),
            ),
        ),
        "utf8": True,
        "defects": (
            Defect(
                "display-name",
                "Display name or angle brackets around 'Kim.Doe@receiver.example'",
                "Final-Recipient",
            ),
        ),
    }


# ---------------------------------------------------------------------------
# Real bounces: the quirks, each one a defect and never an exception

QUIRKS = [
    (
        "no blank line before the first recipient",
        "Reporting-MTA: dns;mx.example.net\n"
        "Arrival-Date: Wed, 18 Nov 2009 00:08:05 +0000\n"
        "Final-Recipient: rfc822;ann@example.net\n"
        "Action: failed\n"
        "Status: 5.1.1\n",
        [("ann@example.net", "failed", "5.1.1")],
        ["missing-blank-line"],
    ),
    (
        "no blank line between recipients",
        "Reporting-MTA: dns;mx.example.net\n"
        "\n"
        "Original-Recipient: rfc822;a@example.net\n"
        "Final-Recipient: rfc822;b@example.net\n"
        "Action: failed\n"
        "Status: 5.1.1\n"
        "Original-Recipient: rfc822;c@example.net\n"
        "Final-Recipient: rfc822;c@example.net\n"
        "Action: failed\n"
        "Status: 5.2.2\n",
        [("b@example.net", "failed", "5.1.1"), ("c@example.net", "failed", "5.2.2")],
        ["missing-blank-line"],
    ),
    (
        "no blank line at all",
        "Reporting-MTA: dns;mx.example.net\n"
        "Final-Recipient: rfc822;one@example.net\n"
        "Action: failed\n"
        "Status: 5.0.0\n"
        "Final-Recipient: rfc822;two@example.net\n"
        "Action: delayed\n"
        "Status: 4.0.0\n",
        [("one@example.net", "failed", "5.0.0"), ("two@example.net", "delayed", "4.0.0")],
        ["missing-blank-line", "missing-blank-line"],
    ),
    (
        "several and leading blank lines",
        "\n\nReporting-MTA: dns;someserver.example\n\n\n\n"
        "Final-Recipient:rfc822;x@customer.example\nAction:failed\nStatus:5.5.0\n\n\n",
        [("x@customer.example", "failed", "5.5.0")],
        [],
    ),
    (
        "no per-message group, Action first (SurfControl)",
        "\n\nAction: failed\n"
        "Final-Recipient: rfc822;cat@example.com\n"
        "Diagnostic-Code: smtp; 550 cat@example.com... No such user\n"
        "Status: 5.0.0\n\n\n",
        [("cat@example.com", "failed", "5.0.0")],
        ["missing-per-message-fields", "missing-reporting-mta"],
    ),
    (
        "Action and Status before the recipients (SIMS), lower-case names",
        "Original-envelope-id: 0GK500B4HD0888@mail.example.edu\n"
        "Reporting-MTA: dns; mail.example.edu\n"
        "\n"
        "Action: failed\n"
        "Status: 5.0.0 (recipient reached disk quota)\n"
        "Original-recipient: rfc822;jo@mail.example.edu\n"
        "Final-recipient: rfc822;jo@ms-daemon\n",
        [("jo@ms-daemon", "failed", "5.0.0")],
        [],
    ),
    (
        "Diagnostic-Code first (Direct Project)",
        "Reporting-MTA: dns; direct.example.org\n\n"
        "Diagnostic-Code: smtp; 550 5.0.0 no such user\n"
        "Final-Recipient: rfc822;Carol@Ivory.example\n"
        "Action: failed\n"
        "Status: 5.0.0\n",
        [("Carol@Ivory.example", "failed", "5.0.0")],
        [],
    ),
    (
        "missing Final-Recipient and Action (Original-Recipient used)",
        "Reporting-MTA: dns;someserver.example\n\n"
        "Original-Recipient:rfc822;orig@customer.example\n"
        "Status:5.5.0\n"
        "Diagnostic-Code:smtp;550 Requested action not taken\n",
        [("orig@customer.example", None, "5.5.0")],
        ["missing-final-recipient", "missing-action"],
    ),
    (
        "missing Status",
        "Reporting-MTA: dns; relay.example.com\n"
        "Arrival-Date: Sat, 9 Mar 1996 01:10:21 -0800\n\n"
        "Final-Recipient: RFC822; newsletter@shop.example\n"
        "Action: failed\n"
        "Diagnostic-Code: X-LOCAL; 500 (unknown user)\n",
        [("newsletter@shop.example", "failed", None)],
        ["missing-status"],
    ),
    (
        "missing Action and Status",
        "Reporting-MTA: dns;direct.example.org\n\nFinal-Recipient: rfc822;Carol@Ivory.example\n",
        [("Carol@Ivory.example", None, None)],
        ["missing-action", "missing-status"],
    ),
    (
        "gateway: only an untyped Original-Recipient (McAfee)",
        "Original-Recipient: <tabby@example.co.jp>\n"
        "Action: failed\n"
        "Diagnostic-Code: smtp; 550 Unknown user tabby@example.co.jp\n"
        "Remote-MTA: 192.0.2.192\n\n\n",
        [("tabby@example.co.jp", "failed", None)],
        [
            "missing-per-message-fields",
            "missing-reporting-mta",
            "missing-address-type",
            "display-name",
            "missing-address-type",
            "missing-final-recipient",
            "missing-status",
        ],
    ),
    (
        "Final-Recipient without type, no Status",
        "Reporting-MTA: dns; mx.example.dk\n\n"
        "Final-Recipient: <art@home.example>\nAction: failed\n",
        [("art@home.example", "failed", None)],
        ["missing-address-type", "display-name", "missing-status"],
    ),
    (
        "SMTP reply and unregistered action",
        "Reporting-MTA: dns; mx.example.be\n\n"
        "Final-Recipient: rfc822;dk@example.be\n"
        "Action: failure\n"
        "Status: 553 Exceeded maximum inbound message size\n",
        [("dk@example.be", "failure", "553 Exceeded maximum inbound message size")],
        ["unregistered-action", "malformed-status"],
    ),
    (
        "X.400 gateway",
        "Reporting-MTA: x400; mta relay.example.ac.uk in /PRMD=EX/ADMD= /C=GB/\n"
        "DSN-Gateway: dns; relay.example.ac.uk\n"
        "X400-Content-Type: 822\n\n"
        "Original-Recipient: rfc822; zed@zeus.example.ac.uk\n"
        "Final-Recipient: x400; /S=zed/OU=zeus/PRMD=EX/ADMD= /C=GB/\n"
        "Action: failed\n"
        "Diagnostic-Code: Reason 1 (Unable-To-Transfer); Diagnostic 5 (Maximum-Time-Expired)\n"
        "Status: 4.4.7\n",
        [("/S=zed/OU=zeus/PRMD=EX/ADMD= /C=GB/", "failed", "4.4.7")],
        [],
    ),
    (
        "source-routed address (Messaging Server)",
        "Reporting-MTA: dns;mr.example.com (tcp-daemon)\n\n"
        "Original-recipient: rfc822;tom@example.net\n"
        "Final-recipient: rfc822;@smtp.example.net:tom@server\n"
        "Action: failed\n"
        "Status: 5.2.0 (LMTP transmission failure has occurred)\n",
        [("tom@server", "failed", "5.2.0")],
        ["source-route"],
    ),
    (
        "the same recipient three times (Sendmail)",
        "Reporting-MTA: dns; mx.example.com\n\n"
        + "".join(
            "Final-Recipient: RFC822; <joe@example.com>\n"
            "X-Actual-Recipient: RFC822; joe@local.example.com\n"
            "Action: failed\nStatus: 5.1.1\n\n"
            for _ in range(3)
        ),
        [("joe@example.com", "failed", "5.1.1")] * 3,
        ["display-name"] * 3,
    ),
    (
        "Will-Retry-Until in a failed report",
        "Reporting-MTA: dns; mx.example.com\n\n"
        "Final-Recipient: rfc822; joe@example.com\nAction: failed\nStatus: 5.0.0\n"
        "Will-Retry-Until: Mon, 6 Feb 2023 10:00:00 +0000\n",
        [("joe@example.com", "failed", "5.0.0")],
        ["will-retry-until-not-delayed"],
    ),
    (
        "placeholder dates",
        "Reporting-MTA: dns; mx.example.org\nArrival-Date: <date goes here>\n\n"
        "Final-Recipient: rfc822;jane@example.org\nAction: delivered\nStatus: 2.1.5\n"
        "Last-Attempt-Date: <date goes here>\n",
        [("jane@example.org", "delivered", "2.1.5")],
        ["unparseable-date", "unparseable-date"],
    ),
    (
        "only per-message fields",
        "Reporting-MTA: dns; mx.example.org\n",
        [],
        ["no-recipients"],
    ),
    ("empty part", "", [], ["empty-delivery-status"]),
    ("blank lines only", "\r\n\r\n  \r\n", [], ["empty-delivery-status"]),
    (
        "a line that is no field",
        "Reporting-MTA: dns; mx.example.org\n\n"
        "This message could not be delivered\n"
        "Final-Recipient: rfc822;jane@example.org\nAction: failed\nStatus: 5.0.0\n",
        [("jane@example.org", "failed", "5.0.0")],
        ["not-a-field"],
    ),
    (
        "8-bit text in a 7-bit part",
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822;jane@example.org\nAction: failed\nStatus: 5.0.0\n"
        "Diagnostic-Code: smtp; 550 Nie ma takiego użytkownika\n",
        [("jane@example.org", "failed", "5.0.0")],
        ["non-ascii-delivery-status"],
    ),
    (
        "blank lines inside one recipient (RFC 3464 Appendix E Delayed DSN)",
        "Reporting-MTA: dns; relay.example.net\r\n\r\n"
        "Final-Recipient: rfc822;ana@example.org\r\n\r\n\r\n"
        "Status: 4.0.0 (unknown temporary failure)\r\nAction: delayed\r\n",
        [("ana@example.org", "delayed", "4.0.0")],
        ["split-recipient-group"],
    ),
    (
        "recipient cut after Action, Status and Diagnostic-Code follow",
        "Reporting-MTA: dns; relay.example.net\n\n"
        "Original-Recipient: rfc822;ana@example.org\nFinal-Recipient: rfc822;ana@example.org\n"
        "Action: failed\n\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 no such user\n",
        [("ana@example.org", "failed", "5.1.1")],
        ["split-recipient-group"],
    ),
    (
        "a group repeating the fields it would bring stays a recipient of its own",
        "Reporting-MTA: dns; relay.example.net\n\n"
        "Final-Recipient: rfc822;ana@example.org\nAction: failed\nStatus: 5.0.0\n\n"
        "Action: failed\nStatus: 5.0.0\n",
        [("ana@example.org", "failed", "5.0.0"), (None, "failed", "5.0.0")],
        ["missing-final-recipient"],
    ),
    (
        "a recipient-less first group is not merged into anything",
        "Reporting-MTA: dns; relay.example.net\n\nAction: failed\nStatus: 5.0.0\n\n"
        "Final-Recipient: rfc822;ana@example.org\nAction: failed\nStatus: 5.0.0\n",
        [(None, "failed", "5.0.0"), ("ana@example.org", "failed", "5.0.0")],
        ["missing-final-recipient"],
    ),
]


@pytest.mark.parametrize(
    ("text", "recipients", "defects"), [q[1:] for q in QUIRKS], ids=[q[0] for q in QUIRKS]
)
def test_real_bounce_quirks(
    text: str, recipients: list[tuple[str | None, str | None, str | None]], defects: list[str]
) -> None:
    values = read(text)
    assert (summary(values), codes(values)) == (recipients, defects)


def test_missing_blank_line_defect_names_the_line() -> None:
    values = read(
        "Reporting-MTA: dns;mx.example.net\n"
        "Final-Recipient: rfc822;one@example.net\nAction: failed\nStatus: 5.0.0\n"
        "Final-Recipient: rfc822;two@example.net\nAction: failed\nStatus: 5.0.0\n"
    )
    assert values["defects"] == (
        Defect(
            "missing-blank-line",
            "No blank line before the first per-recipient field (Final-Recipient, line 2)",
            "Final-Recipient",
        ),
        Defect(
            "missing-blank-line",
            "No blank line between two recipients (Final-Recipient, line 5)",
            "Final-Recipient",
        ),
    )


def test_split_recipient_group_defect_names_the_line() -> None:
    values = read(
        "Reporting-MTA: dns; relay.example.net\n\nFinal-Recipient: rfc822;ana@example.org\n"
        "\n\nStatus: 4.0.0\nAction: delayed\n"
    )
    assert values["defects"] == (
        Defect(
            "split-recipient-group",
            "A blank line splits one recipient's fields (Status, line 6, has no "
            "Final-Recipient before it); read as one group",
            "Status",
        ),
    )


def test_missing_fields_defect_messages() -> None:
    values = read("Original-Recipient: rfc822;orig@customer.example\n")
    assert values["defects"] == (
        Defect(
            "missing-per-message-fields",
            "The delivery-status part starts with per-recipient fields (RFC 3464 §2.1 asks "
            "for a per-message group first)",
        ),
        Defect(
            "missing-reporting-mta",
            "No Reporting-MTA field (RFC 3464 §2.2.2 requires it)",
            "Reporting-MTA",
        ),
        Defect(
            "missing-final-recipient",
            "No Final-Recipient field for orig@customer.example (RFC 3464 §2.3.2 requires it) "
            "(Original-Recipient used instead)",
            "Final-Recipient",
        ),
        Defect(
            "missing-action",
            "No Action field for orig@customer.example (RFC 3464 §2.3.3 requires it)",
            "Action",
        ),
        Defect(
            "missing-status",
            "No Status field for orig@customer.example (RFC 3464 §2.3.4 requires it)",
            "Status",
        ),
    )


def test_encoded_recipient_block_is_decoded() -> None:
    # A filtering relay re-encoded the per-recipient group inside the part.
    values = read(fixture("dsn_encoded_recipient_block.txt"))
    assert values == {
        **NO_MESSAGE_FIELDS,
        "reporting_mta": dns("relay.sender.example"),
        "arrival_date": datetime(2023, 3, 14, 9, 12, 44, tzinfo=EDT),
        "extension_fields": Headers(
            [
                ("X-Postfix-Queue-ID", "4F2A1B0C77"),
                ("X-Postfix-Sender", "rfc822; desk@sender.example"),
            ]
        ),
        "recipients": (
            DSNRecipient(
                original_recipient=rfc822("ana.lima@receiver.example"),
                final_recipient=rfc822("ana.lima@receiver.example"),
                action=DSNAction.FAILED,
                status=StatusCode(code="5.1.1"),
                remote_mta=dns(
                    "https://scanner.example/v2/url?u=http-3A__mx.receiver.example&d=AbC"
                ),
                diagnostic_code=Diagnostic(
                    type="smtp",
                    text="550 5.1.1 <ana.lima@receiver.example>: Recipient address "
                    "rejected: User unknown",
                ),
            ),
        ),
        "utf8": False,
        "defects": (
            Defect(
                "encoded-recipient-block",
                "A group inside the delivery-status part was base64-encoded (by a relay); "
                "it was decoded and read",
            ),
        ),
    }


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_encoded_recipient_block_with_other_line_ends(newline: str) -> None:
    text = fixture("dsn_encoded_recipient_block.txt")
    assert read(text.replace("\n", newline)) == read(text)


def test_undecodable_encoded_block() -> None:
    values = read(
        "Reporting-MTA: dns; relay.example\nContent-Transfer-Encoding: base64\n\nQUJD=QUJD\n"
    )
    assert (summary(values), codes(values)) == (
        [],
        ["undecodable-recipient-block", "no-recipients"],
    )


def test_global_delivery_status_reads_utf8() -> None:
    # RFC 6533 §4.1: UTF-8 anywhere, utf-8 address type with escapes decoded.
    values = read(
        "Reporting-MTA: dns; mx.example.cn\n\n"
        "Original-Recipient: utf-8; \\x{5F20}\\x{4E09}@example.cn\n"
        "Final-Recipient: utf-8; 张三@example.cn\n"
        "Action: failed\nStatus: 5.1.1\n"
        "Diagnostic-Code: smtp; 550 5.1.1 用户不存在\n",
        utf8=True,
    )
    assert values["recipients"] == (
        DSNRecipient(
            original_recipient=AddressField(type="utf-8", address="张三@example.cn"),
            final_recipient=AddressField(type="utf-8", address="张三@example.cn"),
            action=DSNAction.FAILED,
            status=StatusCode(code="5.1.1"),
            diagnostic_code=Diagnostic(type="smtp", text="550 5.1.1 用户不存在"),
        ),
    )
    assert (values["utf8"], values["defects"]) == (True, ())


def test_duplicate_recipient_field_that_does_not_start_a_recipient() -> None:
    values = read(
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822;jane@example.org\nAction: failed\nStatus: 5.0.0\n"
        "Remote-MTA: dns; a.example.org\nRemote-MTA: dns; b.example.org\n"
    )
    assert (summary(values), values["recipients"][0].remote_mta, codes(values)) == (
        [("jane@example.org", "failed", "5.0.0")],
        dns("a.example.org"),
        ["duplicate-field"],
    )


def test_glued_recipient_takes_its_original_recipient_along() -> None:
    # RFC 3464 Appendix A puts Original-Recipient before Final-Recipient: when
    # recipients are glued together, the Original-Recipient just before a
    # second Final-Recipient starts the next recipient.
    values = read(
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822;one@example.org\nAction: failed\nStatus: 5.0.0\n"
        "Original-Recipient: rfc822;alias@example.org\n"
        "Final-Recipient: rfc822;two@example.org\nAction: failed\nStatus: 5.1.1\n"
    )
    assert [(r.original_recipient, r.address) for r in values["recipients"]] == [
        (None, "one@example.org"),
        (rfc822("alias@example.org"), "two@example.org"),
    ]
    assert codes(values) == ["missing-blank-line"]


def test_per_message_field_in_a_recipient_group() -> None:
    values = read(
        "Reporting-MTA: dns; mx.example.org\n\n"
        "Final-Recipient: rfc822;jane@example.org\nAction: failed\nStatus: 5.0.0\n"
        "Arrival-Date: Tue, 14 Mar 2023 09:12:44 -0400\n"
    )
    assert values["recipients"][0].extension_fields == Headers(
        [("Arrival-Date", "Tue, 14 Mar 2023 09:12:44 -0400")]
    )
    assert values["defects"] == (
        Defect(
            "misplaced-field",
            "Arrival-Date describes the message but sits in a recipient group (line 6); "
            "kept with the recipient's extension fields",
            "Arrival-Date",
        ),
    )


# ---------------------------------------------------------------------------
# Bounds


def test_too_many_recipients_is_refused() -> None:
    group = "Final-Recipient: rfc822; r@example.org\nAction: failed\nStatus: 5.0.0\n\n"
    text = "Reporting-MTA: dns; mx.example.org\n\n" + group * 4
    assert len(read(text, limits=Limits(max_recipients=4))["recipients"]) == 4
    with pytest.raises(ParseError) as caught:
        read(text + group, limits=Limits(max_recipients=4))
    assert (caught.value.code, str(caught.value)) == (
        "limit-exceeded",
        "More than 4 recipient groups in one DSN",
    )


@pytest.mark.parametrize(
    "template",
    [
        "Reporting-MTA: dns; mx.example.org\n\nAction: {} failed\n",
        "Reporting-MTA: dns; mx.example.org\n\nStatus: 5.0.0 {}\n",
        "Reporting-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; a@b.example {}\n",
        "Reporting-MTA: {} dns; mx.example.org\n\nFinal-Recipient: rfc822; a@b.example\n",
    ],
)
def test_comment_nesting_is_bounded(template: str) -> None:
    text = template.format("(" * 5 + "x" + ")" * 5)
    with pytest.raises(ParseError) as caught:
        read(text, limits=Limits(max_comment_depth=4))
    assert (caught.value.code, caught.value.message) == (
        "limit-exceeded",
        "Comments nested deeper than 4",
    )


def test_glued_recipients_count_towards_the_bound() -> None:
    glued = "Final-Recipient: rfc822; r@example.org\nAction: failed\nStatus: 5.0.0\n" * 3
    with pytest.raises(ParseError, match="More than 2 recipient groups"):
        read("Reporting-MTA: dns; mx.example.org\n\n" + glued, limits=Limits(max_recipients=2))


# ---------------------------------------------------------------------------
# Properties


_atext = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
_addresses = st.builds(lambda local, host: f"{local}@{host}.example", _atext, _atext)
_comments = st.none() | st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="()\\"),
    min_size=1,
    max_size=20,
)
_statuses = st.builds(
    lambda k, s, d, c: StatusCode(code=f"{k}.{s}.{d}", comment=c),
    st.sampled_from([2, 4, 5]),
    st.integers(0, 999),
    st.integers(0, 999),
    _comments,
)
_dates = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))
_words = st.text(
    alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="();"),
    min_size=1,
    max_size=10,
)
_text = st.lists(_words, min_size=1, max_size=6).map(" ".join)


@st.composite
def _recipients(draw: st.DrawFn) -> DSNRecipient:
    action = draw(st.sampled_from(list(DSNAction)))
    return DSNRecipient(
        original_recipient=draw(st.none() | _addresses.map(rfc822)),
        final_recipient=rfc822(draw(_addresses)),
        action=action,
        status=draw(_statuses),
        remote_mta=draw(st.none() | _atext.map(lambda h: dns(f"{h}.example"))),
        diagnostic_code=draw(st.none() | _text.map(lambda t: Diagnostic(type="smtp", text=t))),
        last_attempt_date=draw(st.none() | _dates),
        final_log_id=draw(st.none() | _words),
        will_retry_until=draw(_dates) if action is DSNAction.DELAYED else None,
        extension_fields=Headers(
            draw(st.lists(st.tuples(_atext.map(lambda n: "X-" + n), _text), max_size=2))
        ),
    )


def _render(recipient: DSNRecipient, order: list[int], case: str, fold: bool) -> str:
    def date(value: datetime) -> str:
        return value.strftime("%a, %d %b %Y %H:%M:%S +0000")

    def status(value: StatusCode) -> str:
        return f"{value.code} ({value.comment})" if value.comment else value.code

    def diagnostic(value: Diagnostic) -> str:
        # A long reply folded at every space, as MTAs do near 78 columns.
        text = value.text.replace(" ", "\r\n  ") if fold else value.text
        return f"{value.type}; {text}"

    fields = [
        ("Original-Recipient", recipient.original_recipient),
        ("Final-Recipient", recipient.final_recipient),
        ("Action", recipient.action),
        ("Status", recipient.status and status(recipient.status)),
        ("Remote-MTA", recipient.remote_mta),
        ("Diagnostic-Code", recipient.diagnostic_code and diagnostic(recipient.diagnostic_code)),
        ("Last-Attempt-Date", recipient.last_attempt_date and date(recipient.last_attempt_date)),
        ("Final-Log-ID", recipient.final_log_id),
        ("Will-Retry-Until", recipient.will_retry_until and date(recipient.will_retry_until)),
    ]
    present = [(name, str(value)) for name, value in fields if value is not None]
    # RFC 3464 gives no order for per-recipient fields, and field names are
    # case-insensitive: shuffle them, and spell them as real MTAs do.
    shuffled = [present[i] for i in order if i < len(present)]
    spell = {"as-is": str, "lower": str.lower, "upper": str.upper}[case]
    lines = [f"{spell(name)}: {value}" for name, value in shuffled]
    lines += [f"{name}: {value}" for name, value in recipient.extension_fields]
    return "\r\n".join(lines) + "\r\n"


@settings(max_examples=150)
@given(
    st.lists(_recipients(), min_size=1, max_size=4),
    st.permutations(list(range(9))),
    st.sampled_from(["as-is", "lower", "upper"]),
    st.booleans(),
)
def test_rendered_recipient_groups_read_back(
    recipients: list[DSNRecipient], order: list[int], case: str, fold: bool
) -> None:
    text = "Reporting-MTA: dns; mx.example.org\r\n\r\n" + "\r\n".join(
        _render(r, order, case, fold) for r in recipients
    )
    values = read(text)
    assert (values["recipients"], values["defects"]) == (tuple(recipients), ())


_field_names = st.sampled_from(
    [
        "Reporting-MTA",
        "Original-Envelope-Id",
        "Arrival-Date",
        "Final-Recipient",
        "Original-Recipient",
        "Action",
        "Status",
        "Diagnostic-Code",
        "Remote-MTA",
        "Will-Retry-Until",
        "Content-Transfer-Encoding",
        "X-Other",
    ]
)
_lines = st.one_of(
    st.builds(lambda n, v: f"{n}: {v}", _field_names, st.text(max_size=30)),
    st.just(""),
    st.just("Content-Transfer-Encoding: base64"),
    st.text(max_size=40),
    st.binary(max_size=30).map(lambda b: base64.b64encode(b).decode()),
)


@settings(max_examples=300)
@given(st.lists(_lines, max_size=25))
def test_any_text_gives_values_or_a_parse_error(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        values = read(text, limits=Limits(max_recipients=5))
    except ParseError as error:
        code = error.code
        values = {"recipients": ()}
    else:
        code = None
    assert code in (None, "limit-exceeded")
    assert all(isinstance(r, DSNRecipient) for r in values["recipients"])
    assert len(values["recipients"]) <= 5


_USUAL_VALUES = st.sampled_from(
    [
        "",
        "rfc822; user0@example.org",
        "rfc822;user0@example.org",
        "dns; mx.example.org",
        "failed",
        "Delayed",
        "failure",
        "5.1.1",
        "4.0.0 (unknown temporary failure)",
        "smtp; 550 5.1.1 <user0@example.org>: Recipient address\r\n    rejected",
        "Mon,  5 Jan 2026 10:14:58 +0000 (UTC)",
        "ENV+2B1",
        "(unclosed",
    ]
) | st.text(max_size=20)


@settings(max_examples=300)
@given(st.data())
def test_usual_field_orders_read_as_the_field_loops_read_them(data: st.DataObject) -> None:
    # Groups in the usual orders are read by place, without the field
    # loops' lookups and duplicate checks: same values, same defects.
    from unittest import mock

    from mdnkit import _dsn

    def group(orders: list[tuple[str, ...]]) -> str:
        case = data.draw(st.sampled_from([str.lower, str.upper, str.title]))
        order = data.draw(st.sampled_from(orders))
        return "".join(f"{case(name)}: {data.draw(_USUAL_VALUES)}\r\n" for name in order)

    per_message = group(sorted(_dsn._USUAL_PER_MESSAGE))
    recipients = data.draw(st.lists(st.just(sorted(_dsn._USUAL_RECIPIENTS)), max_size=3))
    text = "\r\n".join([per_message, *map(group, recipients)])

    def values() -> tuple[object, object, object]:
        problems = Problems()
        try:
            result: object = dsn_values(text, problems, DEFAULT_LIMITS, utf8=False)
        except ParseError as error:
            return None, (error.code, error.message), problems.defects()
        return result, None, problems.defects()

    by_place = values()
    with (
        mock.patch.object(_dsn, "_USUAL_PER_MESSAGE", {}),
        mock.patch.object(_dsn, "_USUAL_RECIPIENTS", {}),
    ):
        assert values() == by_place
