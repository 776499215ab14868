from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit.model import (
    DSN,
    MDN,
    REPORT_VALUES,
    ActionMode,
    AddressField,
    Defect,
    Diagnostic,
    Disposition,
    DispositionType,
    DSNAction,
    DSNRecipient,
    Headers,
    MessageRef,
    RefSource,
    Report,
    SendingMode,
    StatusCode,
    _address_field,
    _defect,
    _diagnostic,
    _dsn_recipient,
    _message_ref,
    _status_code,
)
from mdnkit.model import _dsn as fast_dsn
from mdnkit.model import _mdn as fast_mdn

DISPLAYED = Disposition(
    action_mode=ActionMode.MANUAL,
    sending_mode=SendingMode.MANUAL,
    type=DispositionType.DISPLAYED,
)


def test_disposition_renders_the_field_value() -> None:
    assert str(DISPLAYED) == "manual-action/MDN-sent-manually; displayed"
    with_modifiers = dataclasses.replace(DISPLAYED, modifiers=("error", "x-custom"))
    assert str(with_modifiers) == "manual-action/MDN-sent-manually; displayed/error,x-custom"
    assert DISPLAYED.automatic is False
    auto = dataclasses.replace(DISPLAYED, sending_mode=SendingMode.AUTOMATIC)
    assert auto.automatic is True


def test_values_are_frozen_and_slotted() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        DISPLAYED.type = DispositionType.DELETED  # type: ignore[misc]
    assert not hasattr(DISPLAYED, "__dict__")


def test_obsolete_disposition_types() -> None:
    assert DispositionType.DENIED.obsolete
    assert DispositionType.FAILED.obsolete
    assert not DispositionType.DISPLAYED.obsolete


def test_address_field_str() -> None:
    assert str(AddressField("rfc822", "Joe@example.com")) == "rfc822; Joe@example.com"


@pytest.mark.parametrize(
    ("status", "klass", "subject", "detail", "permanent"),
    [
        (StatusCode(code="5.1.1"), 5, 1, 1, True),
        (StatusCode(code="4.4.7", comment="timeout"), 4, 4, 7, False),
        (StatusCode(code="2.0.0"), 2, 0, 0, False),
        (StatusCode(code="553 Too big", valid=False), None, None, None, False),
    ],
)
def test_status_code_parts(
    status: StatusCode, klass: int | None, subject: int | None, detail: int | None, permanent: bool
) -> None:
    assert (status.klass, status.subject, status.detail, status.permanent) == (
        klass,
        subject,
        detail,
        permanent,
    )
    assert str(status) == status.code


def test_headers_lookup_is_case_insensitive_and_ordered() -> None:
    headers = Headers([("Subject", "Hi"), ("X-A", "1"), ("x-a", "2")])
    assert headers.get("subject") == "Hi"
    assert headers.get("missing") is None
    assert headers.get("missing", "d") == "d"
    assert headers.get_all("X-A") == ("1", "2")
    assert headers.get("x-A") == "1"  # the first of several
    assert headers.get_all("missing") == ()
    assert list(headers) == [("Subject", "Hi"), ("X-A", "1"), ("x-a", "2")]
    assert headers[0] == ("Subject", "Hi")
    assert headers[1:] == Headers([("X-A", "1"), ("x-a", "2")])
    assert len(headers) == 3
    assert hash(headers) == hash(Headers(list(headers)))
    assert headers != Headers()


def test_defect_str() -> None:
    assert str(
        Defect("missing-final-recipient", "no Final-Recipient field", "Final-Recipient")
    ) == ("missing-final-recipient [Final-Recipient]: no Final-Recipient field")
    assert str(Defect("x", "y")) == "x: y"


def _mdn() -> MDN:
    return MDN(
        message_ref=MessageRef("199509192301.23456@example.org", RefSource.ORIGINAL_MESSAGE_ID),
        message_id="report-1@example.com",
        date=datetime(1995, 9, 20, 9, 0, tzinfo=UTC),
        subject="Disposition notification",
        human_text="The message was displayed.",
        reporting_ua="joes-pc.cs.example.com; Foomail 97.1",
        original_recipient=AddressField("rfc822", "Joe_Recipient@example.com"),
        final_recipient=AddressField("rfc822", "Joe_Recipient@example.com"),
        original_message_id="199509192301.23456@example.org",
        disposition=DISPLAYED,
        extension_fields=Headers([("X-Foo", "bar")]),
    )


def test_mdn_to_dict_is_json_ready() -> None:
    data = _mdn().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["kind"] == "mdn"
    assert data["disposition"] == {
        "action_mode": "manual-action",
        "sending_mode": "MDN-sent-manually",
        "type": "displayed",
        "modifiers": [],
    }
    assert data["message_ref"] == {
        "message_id": "199509192301.23456@example.org",
        "by": "original-message-id",
        "envelope_id": None,
    }
    assert data["date"] == "1995-09-20T09:00:00+00:00"
    assert data["extension_fields"] == [["X-Foo", "bar"]]


def test_mdn_to_jmap_follows_rfc9007() -> None:
    assert _mdn().to_jmap(for_email_id="M1") == {
        "forEmailId": "M1",
        "subject": "Disposition notification",
        "textBody": "The message was displayed.",
        "includeOriginalMessage": False,
        "reportingUA": "joes-pc.cs.example.com; Foomail 97.1",
        "disposition": {
            "actionMode": "manual-action",
            "sendingMode": "mdn-sent-manually",
            "type": "displayed",
        },
        "mdnGateway": None,
        "originalRecipient": "rfc822; Joe_Recipient@example.com",
        "finalRecipient": "rfc822; Joe_Recipient@example.com",
        "originalMessageId": "<199509192301.23456@example.org>",
        "error": None,
        "extensionFields": {"X-Foo": "bar"},
    }


def test_dsn_to_dict_and_recipient_address() -> None:
    rcpt = DSNRecipient(
        original_recipient=AddressField("rfc822", "a@example.com"),
        action=DSNAction.FAILED,
        status=StatusCode(code="5.1.1"),
        diagnostic_code=Diagnostic(type="smtp", text="550 5.1.1 no such user"),
    )
    assert rcpt.address == "a@example.com"
    assert DSNRecipient().address is None
    data = DSN(recipients=(rcpt,), original_envelope_id="env-1").to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["kind"] == "dsn"
    assert data["recipients"][0]["action"] == "failed"
    assert data["recipients"][0]["status"]["code"] == "5.1.1"
    assert data["recipients"][0]["diagnostic_code"] == {
        "type": "smtp",
        "text": "550 5.1.1 no such user",
    }
    assert str(rcpt.diagnostic_code) == "smtp; 550 5.1.1 no such user"


# The parser's fast constructors must build exactly what the ordinary ones do.
_RECIPIENT_VALUES = [
    {},
    {"final_recipient": AddressField("rfc822", "b@example.org")},
    {
        "original_recipient": AddressField("rfc822", "a@example.org"),
        "final_recipient": AddressField("rfc822", "b@example.org"),
        "action": DSNAction.DELAYED,
        "status": StatusCode(code="4.4.7"),
        "remote_mta": AddressField("dns", "mx.example.org"),
        "diagnostic_code": Diagnostic(type="smtp", text="451 try later"),
        "last_attempt_date": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        "final_log_id": "Q1",
        "will_retry_until": datetime(2026, 1, 8, 10, 0, tzinfo=UTC),
    },
]


@pytest.mark.parametrize("values", _RECIPIENT_VALUES)
def test_fast_dsn_recipient_equals_constructor(values: dict[str, object]) -> None:
    extensions = Headers._from_pairs((("X-Queue", "q1"),))
    fast = _dsn_recipient(values, extensions)
    slow = DSNRecipient(**values, extension_fields=Headers([("X-Queue", "q1")]))  # type: ignore[arg-type]
    assert fast == slow
    assert repr(fast) == repr(slow)
    assert hash(fast) == hash(slow)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.action = None  # type: ignore[misc]


@given(
    st.dictionaries(
        st.sampled_from([f.name for f in dataclasses.fields(DSNRecipient)][:-1]),
        st.one_of(st.none(), st.text(max_size=5)),
    ),
    st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3),
)
def test_fast_dsn_recipient_equals_constructor_for_any_fields(
    values: dict[str, object], extensions: list[tuple[str, str]]
) -> None:
    fast = _dsn_recipient(values, Headers._from_pairs(tuple(extensions)))
    slow = DSNRecipient(**values, extension_fields=Headers(extensions))  # type: ignore[arg-type]
    assert (type(fast), fast, repr(fast), hash(fast)) == (type(slow), slow, repr(slow), hash(slow))


def test_fast_address_field_equals_constructor() -> None:
    fast = _address_field("rfc822", "a@example.org")
    assert fast == AddressField(type="rfc822", address="a@example.org")
    assert hash(fast) == hash(AddressField("rfc822", "a@example.org"))
    assert str(fast) == "rfc822; a@example.org"


def _fast_args(values: dict[str, Any]) -> tuple[Any, ...]:
    """The arguments of the fast report constructors for what *values* names."""
    common = tuple(values[name] for name in REPORT_VALUES)
    return values, common, values["message_ref"], values["defects"]


# Every field of each report: the defaults, and a few others.
_MDN_VALUES = {
    **{f.name: getattr(MDN(), f.name) for f in dataclasses.fields(MDN)},
    "errors": ("Error: x",),
    "received_content_mic": "mic, sha1",
}
_DSN_VALUES = {
    **{f.name: getattr(DSN(), f.name) for f in dataclasses.fields(DSN)},
    "recipients": (DSNRecipient(),),
    "utf8": True,
}


@pytest.mark.parametrize(
    ("fast", "slow"),
    [
        (_address_field("dns", "mx.example.org"), AddressField("dns", "mx.example.org")),
        (_defect("bad-date", "no date", "Date"), Defect("bad-date", "no date", "Date")),
        (_defect("bad-date", "no date", None), Defect("bad-date", "no date")),
        (_status_code("5.1.1"), StatusCode(code="5.1.1")),
        (_status_code("4.0.0", "later"), StatusCode(code="4.0.0", comment="later")),
        (_diagnostic("smtp", "550 no"), Diagnostic(type="smtp", text="550 no")),
        (
            _message_ref("a@example.org", RefSource.IN_REPLY_TO),
            MessageRef("a@example.org", RefSource.IN_REPLY_TO),
        ),
        (_dsn_recipient({}, Headers()), DSNRecipient()),
        (fast_mdn(*_fast_args(_MDN_VALUES)), MDN(**_MDN_VALUES)),
        (fast_dsn(*_fast_args(_DSN_VALUES)), DSN(**_DSN_VALUES)),
    ],
)
def test_fast_values_are_the_real_frozen_classes(fast: object, slow: object) -> None:
    # Built as an unfrozen twin, then turned into the class itself.
    assert type(fast) is type(slow)
    assert (fast, repr(fast), hash(fast)) == (slow, repr(slow), hash(slow))
    assert dataclasses.astuple(fast) == dataclasses.astuple(slow)  # type: ignore[call-overload]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(fast, dataclasses.fields(fast)[0].name, "changed")  # type: ignore[arg-type]
    assert not hasattr(fast, "__dict__")


@pytest.mark.parametrize(
    "args",
    [
        ("a@example.org", RefSource.ORIGINAL_MESSAGE_ID, None),
        (None, RefSource.ENVELOPE_ID, "ENV-1"),
    ],
)
def test_fast_message_ref_equals_constructor(
    args: tuple[str | None, RefSource, str | None],
) -> None:
    fast = _message_ref(*args)
    slow = MessageRef(*args)
    assert (fast, repr(fast), hash(fast)) == (slow, repr(slow), hash(slow))


def test_fast_constructors_cover_every_field() -> None:
    # _dsn_recipient sets the slots in declaration order: a new field must
    # be added there too.
    assert [f.name for f in dataclasses.fields(DSNRecipient)] == [
        "original_recipient",
        "final_recipient",
        "action",
        "status",
        "remote_mta",
        "diagnostic_code",
        "last_attempt_date",
        "final_log_id",
        "will_retry_until",
        "extension_fields",
    ]
    assert [f.name for f in dataclasses.fields(AddressField)] == ["type", "address"]
    assert [f.name for f in dataclasses.fields(Defect)] == ["code", "message", "field"]
    assert [f.name for f in dataclasses.fields(MessageRef)] == ["message_id", "by", "envelope_id"]
    assert [f.name for f in dataclasses.fields(StatusCode)] == ["code", "comment", "valid"]
    assert [f.name for f in dataclasses.fields(Diagnostic)] == ["type", "text"]


def test_headers_from_pairs_equals_constructor() -> None:
    pairs = (("From", "a@example.org"), ("Subject", "hi"))
    assert Headers._from_pairs(pairs) == Headers(list(pairs))
    assert Headers._from_pairs(pairs).get("subject") == "hi"


def test_fast_report_constructors_equal_constructors() -> None:
    common = {
        "message_ref": MessageRef("a@example.org", RefSource.ORIGINAL_MESSAGE_ID),
        "message_id": "r@example.org",
        "date": datetime(2026, 1, 5, 10, 0, tzinfo=UTC),
        "sender": "b@example.org",
        "subject": "Read: hi",
        "human_text": "Your message was read.",
        "original_headers": Headers([("Subject", "hi")]),
        "extension_fields": Headers([("X-Foo", "bar")]),
        "defects": (Defect("missing-disposition", "No Disposition field"),),
    }
    mdn = {
        **common,
        "reporting_ua": "ua.example.org; Mail 1",
        "mdn_gateway": None,
        "original_recipient": None,
        "final_recipient": AddressField("rfc822", "b@example.org"),
        "original_message_id": "a@example.org",
        "disposition": DISPLAYED,
        "errors": ("Error: x",),
        "received_content_mic": None,
    }
    assert fast_mdn(*_fast_args(mdn)) == MDN(**mdn)  # type: ignore[arg-type]
    assert repr(fast_mdn(*_fast_args(mdn))) == repr(MDN(**mdn))  # type: ignore[arg-type]
    dsn = {
        **common,
        "original_envelope_id": "env-1",
        "reporting_mta": AddressField("dns", "mx.example.org"),
        "dsn_gateway": None,
        "received_from_mta": None,
        "arrival_date": None,
        "recipients": (DSNRecipient(action=DSNAction.FAILED),),
        "utf8": True,
    }
    assert fast_dsn(*_fast_args(dsn)) == DSN(**dsn)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        fast_dsn(*_fast_args(common))  # every field must be named


def test_report_values_and_the_rest_are_every_report_field() -> None:
    # The parser passes REPORT_VALUES as one tuple, the other three apart.
    rest = ["message_ref", "extension_fields", "defects"]
    assert sorted([*REPORT_VALUES, *rest]) == sorted(f.name for f in dataclasses.fields(Report))
