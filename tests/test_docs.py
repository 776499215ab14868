"""The documentation stays true to the code."""

from __future__ import annotations

import pathlib
import re

import mdnkit

ROOT = pathlib.Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "mdnkit"

# A defect code is a kebab-case literal given to a problem collector or an error.
_CODE = re.compile(
    r"""(?:\.add\(\s*|\bcode\s*=\s*|Defect\(\s*)["']([a-z0-9]+(?:-[a-z0-9]+)+)["']"""
)


def _codes_in_source() -> set[str]:
    codes: set[str] = set()
    for path in SRC.rglob("*.py"):
        codes.update(_CODE.findall(path.read_text(encoding="utf-8")))
    return codes


def test_every_defect_code_is_documented() -> None:
    documented = set(
        re.findall(r"^\| `([a-z0-9-]+)` \|", (ROOT / "docs" / "defects.md").read_text(), re.M)
    )
    codes = _codes_in_source()
    assert len(codes) > 40  # the scan found the codes at all
    assert sorted(codes - documented) == []


def test_every_public_name_is_importable_and_listed() -> None:
    for name in mdnkit.__all__:
        assert getattr(mdnkit, name) is not None
    assert len(set(mdnkit.__all__)) == len(mdnkit.__all__)


def test_docs_pages_named_in_the_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\(((?:docs/)?[\w./-]+\.md)\)", readme):
        assert (ROOT / link).is_file(), link
