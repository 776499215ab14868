"""Tests for the fields of message/disposition-notification (RFC 8098 §3.2)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit._defects import Problems
from mdnkit._grammar import Field
from mdnkit._mdn import MDN_FIELDS, mdn_values
from mdnkit.errors import ParseError
from mdnkit.limits import DEFAULT_LIMITS, Limits
from mdnkit.model import (
    MDN,
    ActionMode,
    AddressField,
    Defect,
    Disposition,
    DispositionType,
    Headers,
    SendingMode,
)

AUTO = {"action_mode": ActionMode.AUTOMATIC, "sending_mode": SendingMode.AUTOMATIC}
MANUAL = {"action_mode": ActionMode.MANUAL, "sending_mode": SendingMode.MANUAL}


def values(**given_values: object) -> dict[str, object]:
    """The whole result of mdn_values, with defaults for what a vector leaves out."""
    base: dict[str, object] = {
        "reporting_ua": None,
        "mdn_gateway": None,
        "original_recipient": None,
        "final_recipient": None,
        "original_message_id": None,
        "disposition": None,
        "errors": (),
        "received_content_mic": None,
        "extension_fields": Headers(),
    }
    base.update(given_values)
    return base


def rfc822(address: str) -> AddressField:
    return AddressField(type="rfc822", address=address)


# Each vector: the body of the report part, the expected values, the defect codes.
VECTORS = [
    pytest.param(
        # RFC 8098 §9, verbatim.
        "Reporting-UA: joes-pc.cs.example.com; Foomail 97.1\r\n"
        "Original-Recipient: rfc822;Joe_Recipient@example.com\r\n"
        "Final-Recipient: rfc822;Joe_Recipient@example.com\r\n"
        "Original-Message-ID: <199509192301.23456@example.org>\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
        "\r\n",
        values(
            reporting_ua="joes-pc.cs.example.com; Foomail 97.1",
            original_recipient=rfc822("Joe_Recipient@example.com"),
            final_recipient=rfc822("Joe_Recipient@example.com"),
            original_message_id="199509192301.23456@example.org",
            disposition=Disposition(**MANUAL, type=DispositionType.DISPLAYED),
        ),
        [],
        id="rfc8098-sec9",
    ),
    pytest.param(
        # A Direct Project style agent: Disposition first, no space after ':',
        # a display name in Final-Recipient, an empty extension field.
        "Disposition:automatic-action/MDN-sent-automatically;dispatched\r\n"
        "X-DIRECT-FINAL-DESTINATION-DELIVERY:\r\n"
        "Reporting-UA:hisp.example.test;Trust Agent\r\n"
        "Original-Message-ID:<k3p9x@hisp.example.test>\r\n"
        'Final-Recipient:rfc822;"Marie" <Marie@clinic.example.test>\r\n',
        values(
            reporting_ua="hisp.example.test;Trust Agent",
            final_recipient=rfc822("Marie@clinic.example.test"),
            original_message_id="k3p9x@hisp.example.test",
            disposition=Disposition(**AUTO, type=DispositionType.DISPATCHED),
            extension_fields=Headers([("X-DIRECT-FINAL-DESTINATION-DELIVERY", "")]),
        ),
        ["display-name"],
        id="direct-order-and-display-name",
    ),
    pytest.param(
        # Direct test agents: no address type, white space inside the msg-id.
        "Disposition: automatic-action/MDN-sent-automatically;processed\n"
        "Reporting-UA: hisp.example.test;Trust Agent\n"
        "Final-Recipient: User Two <user2@clinic.example.test>\n"
        "Original-Message-ID: <20260101.ab12@HOST.EXAMPLE TEST.ORG>\n",
        values(
            reporting_ua="hisp.example.test;Trust Agent",
            final_recipient=rfc822("user2@clinic.example.test"),
            original_message_id="20260101.ab12@HOST.EXAMPLE TEST.ORG",
            disposition=Disposition(**AUTO, type=DispositionType.PROCESSED),
        ),
        ["missing-address-type", "display-name", "white-space-in-message-id"],
        id="direct-no-type-space-in-id",
    ),
    pytest.param(
        # An IBM Sterling style AS2 receipt: MIC before Disposition, mixed case.
        "Original-Recipient: rfc822;ACMEPROD01\r\n"
        "Final-Recipient: rfc822;ACMEPROD01\r\n"
        "Original-Message-ID: 7d1c2e5a-0000-4a4a-9e9e-1234abcd@GATEWAY-X01\r\n"
        "Received-Content-MIC: q1w2e3r4t5y6u7i8o9p0AbCdEfG=,sha1\r\n"
        "Disposition: Automatic-action/mdn-sent-automatically;processed\r\n",
        values(
            original_recipient=rfc822("ACMEPROD01"),
            final_recipient=rfc822("ACMEPROD01"),
            original_message_id="7d1c2e5a-0000-4a4a-9e9e-1234abcd@GATEWAY-X01",
            received_content_mic="q1w2e3r4t5y6u7i8o9p0AbCdEfG=,sha1",
            disposition=Disposition(**AUTO, type=DispositionType.PROCESSED),
        ),
        ["missing-angle-brackets"],
        id="as2-sterling-order-mixed-case",
    ),
    pytest.param(
        # An OpenAS2 style error receipt, RFC 4130 modifier with text.
        "Reporting-UA: OpenAS2 9.9@10.0.0.7:443\n"
        "Original-Recipient: rfc822; PARTNERB\n"
        "Final-Recipient: rfc822; PARTNERB\n"
        "Original-Message-ID: <aa-bb-cc@1700000000000>\n"
        "Disposition: automatic-action/MDN-sent-automatically; "
        "processed/Error:unexpected-processing-error\n"
        "Received-Content-MIC: AAAABBBBCCCCDDDD=, sha1\n",
        values(
            reporting_ua="OpenAS2 9.9@10.0.0.7:443",
            original_recipient=rfc822("PARTNERB"),
            final_recipient=rfc822("PARTNERB"),
            original_message_id="aa-bb-cc@1700000000000",
            disposition=Disposition(
                **AUTO,
                type=DispositionType.PROCESSED,
                modifiers=("error: unexpected-processing-error",),
            ),
            received_content_mic="AAAABBBBCCCCDDDD=, sha1",
        ),
        ["as2-modifier"],
        id="as2-error-modifier",
    ),
    pytest.param(
        # RFC 4130 §7.5.6 historic form with RFC 2298 fields, folded Disposition.
        "Reporting-UA: b2b.example.com; Gateway\r\n"
        "Final-Recipient: rfc822; SELF\r\n"
        "Original-Message-ID: <m1@b2b.example.com>\r\n"
        "Disposition: automatic-action/MDN-sent-automatically;\r\n"
        "  failed/failure: sender-equals-receiver\r\n"
        "Failure: The AS2-To name is identical to the AS2-From name.\r\n"
        "Warning: processing continued\r\n",
        values(
            reporting_ua="b2b.example.com; Gateway",
            final_recipient=rfc822("SELF"),
            original_message_id="m1@b2b.example.com",
            disposition=Disposition(
                **AUTO,
                type=DispositionType.FAILED,
                modifiers=("failure: sender-equals-receiver",),
            ),
            errors=(
                "Failure: The AS2-To name is identical to the AS2-From name.",
                "Warning: processing continued",
            ),
        ),
        ["obsolete-disposition-type", "as2-modifier", "obsolete-field", "obsolete-field"],
        id="as2-failed-failure-fields",
    ),
    pytest.param(
        # Exchange: lower-case "recipient", upper-case type, X- fields, no id.
        "Final-recipient: RFC822; bob@example.net\r\n"
        "Disposition: automatic-action/MDN-sent-automatically; displayed\r\n"
        "X-MSExch-Correlation-Key: AbCdEf0123==\r\n"
        "X-Display-Name: Bob\r\n"
        "\r\n"
        "\r\n",
        values(
            final_recipient=rfc822("bob@example.net"),
            disposition=Disposition(**AUTO, type=DispositionType.DISPLAYED),
            extension_fields=Headers(
                [("X-MSExch-Correlation-Key", "AbCdEf0123=="), ("X-Display-Name", "Bob")]
            ),
        ),
        [],
        id="exchange",
    ),
    pytest.param(
        # Delta Chat: manual action, automatic sending.
        "Reporting-UA: Delta Chat 1.99\n"
        "Original-Recipient: rfc822;carol@chat.example\n"
        "Final-Recipient: rfc822;carol@chat.example\n"
        "Original-Message-ID: <Mr.abc123.def456@chat.example>\n"
        "Disposition: manual-action/MDN-sent-automatically; displayed\n",
        values(
            reporting_ua="Delta Chat 1.99",
            original_recipient=rfc822("carol@chat.example"),
            final_recipient=rfc822("carol@chat.example"),
            original_message_id="Mr.abc123.def456@chat.example",
            disposition=Disposition(
                action_mode=ActionMode.MANUAL,
                sending_mode=SendingMode.AUTOMATIC,
                type=DispositionType.DISPLAYED,
            ),
        ),
        [],
        id="deltachat",
    ),
    pytest.param(
        # Several Error fields and extension fields interleaved (JMAP servers).
        "X-Server-Id: 42\n"
        "Reporting-UA: Webmail; Product\n"
        "Final-Recipient: rfc822; dave@example.com\n"
        "Disposition: manual-action/MDN-sent-manually;displayed/error\n"
        "Error: first problem\n"
        "x-server-port: 8000\n"
        "error: second problem\n",
        values(
            reporting_ua="Webmail; Product",
            final_recipient=rfc822("dave@example.com"),
            disposition=Disposition(**MANUAL, type=DispositionType.DISPLAYED, modifiers=("error",)),
            errors=("first problem", "second problem"),
            extension_fields=Headers([("X-Server-Id", "42"), ("x-server-port", "8000")]),
        ),
        [],
        id="errors-and-extensions",
    ),
    pytest.param(
        # Comments wherever OWS is (RFC 8098 §7), an MDN-Gateway.
        "Reporting-UA: gw.example.org (the gateway); X400 Bridge 2\n"
        "MDN-Gateway: dns (name) ; gw.example.org\n"
        "Final-Recipient: (final) rfc822 ; erin@example.org (Erin)\n"
        "Original-Message-ID: (id) <e1@example.org> (end)\n"
        "Disposition: (m) automatic-action (a) / MDN-sent-automatically ; (t) deleted (z)\n",
        values(
            reporting_ua="gw.example.org (the gateway); X400 Bridge 2",
            mdn_gateway=AddressField(type="dns", address="gw.example.org"),
            final_recipient=rfc822("erin@example.org"),
            original_message_id="e1@example.org",
            disposition=Disposition(**AUTO, type=DispositionType.DELETED),
        ),
        [],
        id="comments-everywhere",
    ),
    pytest.param(
        # RFC 6533 message/global-disposition-notification: utf-8 address type.
        "Final-Recipient: utf-8; \\x{4E2D}\\x{6587}@\\x{4F8B}\\x{3048}.\\x{30C6}\\x{30B9}\\x{30C8}\n"
        "Original-Recipient: utf-8; j\u00fcrgen@b\u00fccher.example\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n",
        values(
            final_recipient=AddressField(type="utf-8", address="中文@例え.テスト"),
            original_recipient=AddressField(
                type="utf-8", address="j\u00fcrgen@b\u00fccher.example"
            ),
            disposition=Disposition(**MANUAL, type=DispositionType.DISPLAYED),
        ),
        [],
        id="rfc6533-utf8",
    ),
    pytest.param(
        # An Azure/BizTalk style fragment: bare GUID, no Reporting-UA.
        "Final-Recipient: rfc822; Fabrikam\n"
        "Original-Message-ID: 0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0\n"
        "Disposition: automatic-action/MDN-sent-automatically; processed\n"
        "Received-Content-MIC: abcdEFGH/ijkl+mnop=, sha2256\n",
        values(
            final_recipient=rfc822("Fabrikam"),
            original_message_id="0F1E2D3C-4B5A-6978-8796-A5B4C3D2E1F0",
            disposition=Disposition(**AUTO, type=DispositionType.PROCESSED),
            received_content_mic="abcdEFGH/ijkl+mnop=, sha2256",
        ),
        ["missing-angle-brackets", "message-id-without-at"],
        id="as2-guid-id",
    ),
    pytest.param(
        "Reporting-UA: x.example; Y\nOriginal-Message-ID: <n@x.example>\n",
        values(reporting_ua="x.example; Y", original_message_id="n@x.example"),
        ["missing-final-recipient", "missing-disposition"],
        id="missing-required-fields",
    ),
    pytest.param(
        "Final-Recipient: rfc822; f@x.example\n"
        "Disposition: manual-action MDN-sent-manually; displayed\n",
        values(final_recipient=rfc822("f@x.example")),
        ["malformed-disposition"],
        id="malformed-disposition-is-none",
    ),
    pytest.param(
        "Final-Recipient: rfc822; first@x.example\n"
        "Final-Recipient: rfc822; second@x.example\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n"
        "DISPOSITION: manual-action/MDN-sent-manually; deleted\n",
        values(
            final_recipient=rfc822("first@x.example"),
            disposition=Disposition(**MANUAL, type=DispositionType.DISPLAYED),
        ),
        ["duplicate-field", "duplicate-field"],
        id="duplicates-first-wins",
    ),
    pytest.param(
        "Final-Recipient: rfc822; g@x.example\n"
        "\n"
        "Disposition: manual-action/MDN-sent-manually; Read\n"
        "Reporting-UA:\n",
        values(
            final_recipient=rfc822("g@x.example"),
            disposition=Disposition(**MANUAL, type="read"),
        ),
        ["several-field-groups", "unknown-disposition-type", "empty-field"],
        id="blank-line-unknown-type-empty-field",
    ),
    pytest.param(
        "Final-Recipient: rfc822; h@x.example\n"
        "Disposition: manual-action/MDN-sent-manually; denied/superseded\n",
        values(
            final_recipient=rfc822("h@x.example"),
            disposition=Disposition(
                **MANUAL, type=DispositionType.DENIED, modifiers=("superseded",)
            ),
        ),
        ["obsolete-disposition-type", "obsolete-modifier"],
        id="rfc2298-vocabulary",
    ),
    pytest.param(
        "",
        values(),
        ["missing-final-recipient", "missing-disposition"],
        id="empty-body",
    ),
]


@pytest.mark.parametrize(("text", "expected", "codes"), VECTORS)
def test_mdn_values(text: str, expected: dict[str, object], codes: list[str]) -> None:
    problems = Problems()
    assert mdn_values(text, problems, DEFAULT_LIMITS) == expected
    assert problems.codes() == codes


@pytest.mark.parametrize(("text", "expected", "codes"), VECTORS[:3])
def test_values_build_an_mdn(text: str, expected: dict[str, object], codes: list[str]) -> None:
    mdn = MDN(**mdn_values(text, Problems(), DEFAULT_LIMITS))  # type: ignore[arg-type]
    assert mdn.final_recipient == expected["final_recipient"]


def test_defect_messages() -> None:
    problems = Problems()
    mdn_values(
        "Final-Recipient: rfc822; a@x.example\n"
        "Final-Recipient: rfc822; b@x.example\n"
        "Disposition: manual-action MDN-sent-manually; displayed\n"
        "Failure: bad\n",
        problems,
        DEFAULT_LIMITS,
    )
    assert problems.defects() == (
        Defect(
            "duplicate-field",
            "Final-Recipient appears more than once; the first is used",
            "Final-Recipient",
        ),
        Defect(
            "malformed-disposition",
            "Expected '/' between action mode and sending mode",
            "Disposition",
        ),
        Defect(
            "obsolete-field",
            "Failure is an RFC 2298 field that RFC 8098 removed; kept with the errors",
            "Failure",
        ),
    )


def test_missing_field_messages() -> None:
    problems = Problems()
    mdn_values("X: y\n", problems, DEFAULT_LIMITS)
    assert [str(d) for d in problems.defects()] == [
        "missing-final-recipient [Final-Recipient]: "
        "No Final-Recipient field (RFC 8098 §3.2.4 requires one)",
        "missing-disposition [Disposition]: No Disposition field (RFC 8098 §3.2.6 requires one)",
    ]


def test_strict_error_shows_the_caret() -> None:
    problems = Problems()
    mdn_values(
        "Final-Recipient: rfc822; a@x.example\n"
        "Disposition: automatic-action/MDN-sent-automatically processed\n",
        problems,
        DEFAULT_LIMITS,
    )
    with pytest.raises(ParseError) as caught:
        problems.raise_if_any()
    assert str(caught.value) == (
        "Disposition: Expected ';' after sending mode\n"
        "  automatic-action/MDN-sent-automatically processed\n"
        "                                         ^"
    )


def test_fields_in_the_part_header() -> None:
    # Direct Project agents write the MDN fields right after Content-Type,
    # with no blank line, so they land in the part's MIME header block.
    header = [
        Field("Content-Type", "message/disposition-notification", 10),
        Field("Disposition", "automatic-action/MDN-sent-automatically;processed", 11),
        Field("Reporting-UA", "hisp.example.test;Trust Agent", 12),
    ]
    problems = Problems()
    assert mdn_values("", problems, DEFAULT_LIMITS, header_fields=header) == values(
        reporting_ua="hisp.example.test;Trust Agent",
        disposition=Disposition(**AUTO, type=DispositionType.PROCESSED),
    )
    assert problems.codes() == ["fields-in-part-header", "missing-final-recipient"]


def test_header_fields_without_mdn_fields_are_ignored() -> None:
    header = [Field("Content-Type", "message/disposition-notification", 1)]
    problems = Problems()
    result = mdn_values(
        "Final-Recipient: rfc822; a@x.example\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n",
        problems,
        DEFAULT_LIMITS,
        header_fields=header,
    )
    assert result["extension_fields"] == Headers()
    assert not problems


def test_body_fields_after_header_fields_are_duplicates() -> None:
    header = [Field("Final-Recipient", "rfc822; head@x.example", 1)]
    problems = Problems()
    result = mdn_values(
        "Final-Recipient: rfc822; body@x.example\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\n",
        problems,
        DEFAULT_LIMITS,
        header_fields=header,
    )
    assert result["final_recipient"] == rfc822("head@x.example")
    assert problems.codes() == ["fields-in-part-header", "duplicate-field"]


@pytest.mark.parametrize(
    ("text", "limits"),
    [
        ("Disposition: manual-action" + "(" * 10 + ")" * 10 + "/x", Limits(max_comment_depth=5)),
        ("Final-Recipient: rfc822; " + "(" * 10 + ")" * 10, Limits(max_comment_depth=5)),
        ("A: 1\nB: 2\nC: 3\n", Limits(max_report_fields=2)),
    ],
)
def test_limits_are_raised_not_recorded(text: str, limits: Limits) -> None:
    with pytest.raises(ParseError) as caught:
        mdn_values(text, Problems(), limits)
    assert caught.value.code == "limit-exceeded"


def outcome(function: Callable[[], object]) -> tuple[object, ParseError | None]:
    try:
        return function(), None
    except ParseError as error:
        return None, error


_FIELD_NAMES = st.sampled_from(
    [
        "Reporting-UA",
        "MDN-Gateway",
        "original-recipient",
        "FINAL-RECIPIENT",
        "Original-Message-ID",
        "Disposition",
        "Error",
        "Failure",
        "Warning",
        "Received-Content-MIC",
        "X-Other",
    ]
)


@given(st.lists(st.tuples(_FIELD_NAMES, st.text()), max_size=12))
def test_any_fields_give_values_or_a_parse_error(fields: list[tuple[str, str]]) -> None:
    text = "".join(f"{name}: {value}\r\n" for name, value in fields)
    result, error = outcome(lambda: mdn_values(text, Problems(), DEFAULT_LIMITS))
    if error is not None:
        assert error.code == "limit-exceeded"
        return
    assert isinstance(result, dict)
    MDN(**result)


@given(st.text())
def test_any_text_gives_values_or_a_parse_error(text: str) -> None:
    result, error = outcome(lambda: mdn_values(text, Problems(), DEFAULT_LIMITS))
    assert isinstance(result, dict) or error is not None


def test_reader_table_covers_mdn_fields() -> None:
    # MDN_FIELDS (public) and the readers list the same fields and keywords.
    from mdnkit import _mdn

    readers = {key: target for key, (target, _read) in _mdn._READERS.items()}
    repeatable = dict.fromkeys(_mdn._REPEATABLE, "errors")
    assert {**readers, **repeatable} == MDN_FIELDS


_USUAL_VALUES = st.sampled_from(
    [
        "",
        "rfc822; carla@example.net",
        "RFC822;PARTNER-B",
        "<id-1@example.org>",
        "automatic-action/MDN-sent-automatically; processed",
        "manual-action/MDN-sent-manually; displayed/error",
        "manual-action/MDN-sent-manually; failed",
        "(unclosed",
    ]
) | st.text(max_size=20)


@given(st.data())
def test_usual_field_orders_read_as_the_field_loop_reads_them(data: st.DataObject) -> None:
    # A group in one of the usual orders is read by place, without the
    # field loop's lookups: same values, same defects, same errors.
    from unittest import mock

    from mdnkit import _mdn

    order = data.draw(st.sampled_from(sorted(_mdn._USUAL_FIELDS)))
    case = data.draw(st.sampled_from([str.lower, str.upper, str.title]))
    text = "".join(f"{case(name)}: {data.draw(_USUAL_VALUES)}\r\n" for name in order)

    def read() -> tuple[object, object, object]:
        problems = Problems()
        result, error = outcome(lambda: mdn_values(text, problems, DEFAULT_LIMITS))
        return result, error and (error.code, error.message), problems.defects()

    by_place = read()
    with mock.patch.object(_mdn, "_USUAL_FIELDS", {}):
        assert read() == by_place


def test_usual_orders_hold_known_fields_only() -> None:
    # A group read by place calls each reader with no test for an
    # extension or error field: the usual orders name read-once fields only.
    from mdnkit import _mdn

    for plan in _mdn._USUAL_FIELDS.values():
        assert all(read is not None for _target, read in plan)
