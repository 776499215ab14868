from __future__ import annotations

import pickle

import pytest

from mdnkit.errors import MdnkitError, ParseError, RequestError, StoreError


def test_one_root_split_by_fault() -> None:
    for cls in (ParseError, RequestError, StoreError):
        assert issubclass(cls, MdnkitError)
    assert issubclass(ParseError, ValueError)
    assert issubclass(RequestError, ValueError)


def test_parse_error_shows_source_and_caret() -> None:
    error = ParseError(
        "Expected '/' between action mode and sending mode",
        source="manual-action MDN-sent-manually; displayed",
        position=13,
        field="Disposition",
        code="malformed-disposition",
    )
    assert str(error) == (
        "Disposition: Expected '/' between action mode and sending mode\n"
        "  manual-action MDN-sent-manually; displayed\n"
        "               ^"
    )
    assert error.code == "malformed-disposition"


def test_parse_error_without_source_is_the_message() -> None:
    assert str(ParseError("no report part")) == "no report part"


def test_caret_window_is_bounded_and_control_characters_hidden() -> None:
    source = "a" * 500 + "\x1b[31m" + "b" * 500
    error = ParseError("bad", source=source, position=500)
    text = str(error)
    assert len(text) < 200
    assert "\x1b" not in text
    first, second = text.splitlines()[1:]
    assert second.index("^") == first.index("?")


def test_position_is_clamped() -> None:
    assert str(ParseError("x", source="abc", position=99)) == "x\n  abc\n     ^"
    assert str(ParseError("x", source="abc", position=-5)) == "x\n  abc\n  ^"


def test_parse_error_pickles() -> None:
    error = ParseError("bad", source="value", position=2, field="F", code="c")
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.message, copy.source, copy.position, copy.field, copy.code) == (
        "bad",
        "value",
        2,
        "F",
        "c",
    )


def test_raising_and_catching_by_root() -> None:
    with pytest.raises(MdnkitError):
        raise RequestError("no")
