from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit import _ids


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<abc@example.org>", "abc@example.org"),
        ("abc@example.org", "abc@example.org"),
        ("  <abc@example.org>  (a comment)", "abc@example.org"),
        (
            "<9501051053.aa04167@IETF.CNR I.Reston.VA.US>",
            "9501051053.aa04167@IETF.CNRI.Reston.VA.US",
        ),
        ("<folded.id@\r\n example.org>", "folded.id@example.org"),
        ("<Case@Example.ORG>", "Case@Example.ORG"),
        ("<first@a> <second@b>", "first@a"),
        ("<unclosed@example.org", "unclosed@example.org"),
        ("<>", None),
        ("   ", None),
        (None, None),
    ],
)
def test_canonical(text: str | None, expected: str | None) -> None:
    assert _ids.canonical(text) == expected


@given(st.text())
def test_canonical_is_idempotent_and_free_of_white_space(text: str) -> None:
    key = _ids.canonical(text)
    if key is not None:
        assert not any(c.isspace() for c in key)
        assert _ids.canonical(key) == key or "<" in key
