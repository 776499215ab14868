from __future__ import annotations

import email.message

import pytest

from mdnkit import RequestError
from mdnkit._message import message_bytes, read_headers, read_message
from mdnkit.limits import DEFAULT_LIMITS

MESSAGE = b"From: a@example.org\r\nSubject: Hi\r\n\r\nbody\r\n"


def test_message_bytes() -> None:
    assert message_bytes(MESSAGE) == MESSAGE
    assert message_bytes(bytearray(MESSAGE)) == MESSAGE
    assert message_bytes(memoryview(MESSAGE)) == MESSAGE
    assert message_bytes("Subject: \u00e9") == "Subject: \u00e9".encode()
    with pytest.raises(RequestError, match="expected a Message, bytes or str, not int"):
        message_bytes(42)


def test_read_headers_does_not_parse_the_body() -> None:
    multipart = (
        b'Subject: Hi\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\n\r\none\r\n--b--\r\n"
    )
    msg = read_headers(multipart)
    assert msg["Subject"] == "Hi"
    assert not msg.is_multipart()  # the body is kept as text, its parts not read
    assert read_message(multipart).is_multipart()
    given = email.message.Message()
    assert read_headers(given) is given


def test_read_headers_sees_at_most_a_header_block() -> None:
    huge = b"X-Long: " + b"a" * (DEFAULT_LIMITS.max_header_bytes * 2) + b"\r\n\r\n"
    value = read_headers(huge)["X-Long"]
    assert value is not None
    assert len(value) < DEFAULT_LIMITS.max_header_bytes


def test_read_message_parses_the_body() -> None:
    assert read_message(MESSAGE).get_payload() == "body\r\n"


def test_read_message_refuses_what_parse_would() -> None:
    with pytest.raises(RequestError, match="larger than"):
        read_message(b"x" * (DEFAULT_LIMITS.max_input_bytes + 1))


def test_read_message_survives_deep_nesting() -> None:
    depth = 5000
    data = b"Subject: deep\r\n" + b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\r\n\r\n--b%d\r\n' % (i, i)
        for i in range(depth)
    )
    assert read_message(data)["Subject"] == "deep"
