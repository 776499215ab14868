from __future__ import annotations

import pytest

from mdnkit._defects import MAX_PROBLEMS, Problems
from mdnkit.errors import ParseError
from mdnkit.model import Defect


def test_lenient_and_strict_agree() -> None:
    problems = Problems()
    assert not problems
    problems.add("missing-disposition", "no Disposition field", field="Disposition")
    assert problems.defects() == (
        Defect("missing-disposition", "no Disposition field", "Disposition"),
    )
    with pytest.raises(ParseError) as caught:
        problems.raise_if_any()
    assert caught.value.code == "missing-disposition"
    assert caught.value.field == "Disposition"


def test_several_problems_raise_an_exception_group() -> None:
    problems = Problems()
    problems.add("a", "first")
    problems.add_error(ParseError("second", source="xy", position=1, code="b"))
    assert problems.codes() == ["a", "b"]
    with pytest.raises(ExceptionGroup) as caught:
        problems.raise_if_any("the MDN is malformed")
    assert str(caught.value) == "the MDN is malformed (2 sub-exceptions)"
    assert [e.code for e in caught.value.exceptions] == ["a", "b"]
    assert caught.value.exceptions[1].position == 1


def test_nothing_to_raise() -> None:
    Problems().raise_if_any()


def test_bounded() -> None:
    problems = Problems()
    for i in range(MAX_PROBLEMS + 5):
        problems.add("x", str(i))
    assert len(problems) == MAX_PROBLEMS
    defects = problems.defects()
    assert defects[-1] == Defect("too-many-defects", "5 further problems were not recorded")


# Problems records a light tuple and builds the ParseError only when a
# strict parse raises: the error must be the one the record describes.


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"field": "Date"},
        {"field": "Disposition", "source": "manual-action/x; displayed", "position": 14},
        {"source": "abc", "position": None},
    ],
)
def test_raised_error_equals_a_direct_parse_error(kwargs: dict[str, object]) -> None:
    problems = Problems()
    problems.add("some-code", "Something is wrong.", **kwargs)  # type: ignore[arg-type]
    direct = ParseError("Something is wrong.", code="some-code", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ParseError) as caught:
        problems.raise_if_any()
    got = caught.value
    assert type(got) is ParseError
    assert (got.args, str(got), got.code, got.field, got.source, got.position) == (
        direct.args,
        str(direct),
        direct.code,
        direct.field,
        direct.source,
        direct.position,
    )
    assert problems.defects() == (
        Defect("some-code", "Something is wrong.", kwargs.get("field")),  # type: ignore[arg-type]
    )


def test_records_pass_between_collectors() -> None:
    # What _mime does when it keeps one of two readings: a recorded problem
    # handed to add_error is recorded again unchanged.
    first = Problems()
    first.add("a", "first", field="F", source="xy", position=1)
    second = Problems()
    for record in first._errors:
        second.add_error(record)
    with pytest.raises(ParseError) as caught:
        second.raise_if_any()
    assert (caught.value.code, caught.value.field, caught.value.position) == ("a", "F", 1)
    assert second.defects() == first.defects()
