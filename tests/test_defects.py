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
