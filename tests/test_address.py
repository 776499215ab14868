from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit import _address


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("joe@example.com", "joe@example.com"),
        ("<joe@example.com>", "joe@example.com"),
        ("Joe <joe@example.com>", "joe@example.com"),
        ('"Jean" <Jean@opsstation.lab>', "Jean@opsstation.lab"),
        ("@smtp.example.net:kijitora@server", "kijitora@server"),
        ("<@a.example,@b.example:user@host>", "user@host"),
        ("joe@example.com (Joe)", "joe@example.com"),
        ("  joe@example.com  ", "joe@example.com"),
        ('"odd local"@example.com', '"odd local"@example.com'),
        ("", None),
        ("no-at-sign", None),
        ("@example.com", None),
        ("joe@", None),
    ],
)
def test_addr_spec(text: str, expected: str | None) -> None:
    assert _address.addr_spec(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Joe@Example.COM", "Joe@example.com"),
        ('"joe"@example.com', "joe@example.com"),
        ('"j\\"oe"@example.com', 'j"oe@example.com'),
        ("joe@example.com.", "joe@example.com"),
        (None, None),
        ("nothing", None),
    ],
)
def test_normalize(text: str | None, expected: str | None) -> None:
    assert _address.normalize(text) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("joe@example.com", "joe@EXAMPLE.com", True),  # domain: case-insensitive
        ("joe@example.com", "Joe@example.com", False),  # local part: case-sensitive
        ('"joe"@example.com', "joe@example.com", True),  # RFC 8098 §2.1 canonicalisation
        ("Joe <joe@example.com>", "<joe@example.com>", True),
        ("joe@example.com", None, False),
        (None, None, False),
    ],
)
def test_same_address_follows_rfc8098_section_2_1(a: str | None, b: str | None, same: bool) -> None:
    assert _address.same_address(a, b) is same


@pytest.mark.parametrize(
    ("spec", "valid"),
    [
        ("joe@example.com", True),
        ("joe.bloggs+tag@mail.example.org", True),
        ('"joe bloggs"@example.com', True),
        ("joe@[192.0.2.1]", True),
        ("jo\u00e9@exampl\u00e9.com", False),  # not a dot-atom: needs quoting rules of RFC 6531
        ("joe@example.com\r\nBcc: x@y", False),
        ("joe@exa\u2028mple.com", False),
        ("joe\x00@example.com", False),
        ("joe..bloggs@example.com", False),
        ("joe@@example.com", False),
        ("@example.com", False),
        ("joe@", False),
        ("joe@example..com", False),
        ("a" * 65 + "@example.com", False),
        ("joe@" + "a" * 256, False),
        ('"unterminated@example.com', False),
    ],
)
def test_is_valid_mailbox(spec: str, valid: bool) -> None:
    assert _address.is_valid_mailbox(spec) is valid


@given(st.text())
def test_any_text_is_handled(text: str) -> None:
    spec = _address.addr_spec(text)
    assert spec is None or "@" in spec
    _address.normalize(text)
    _address.is_valid_mailbox(text)
