"""Where report parsing spends its steps: Python lines run per report, by module and function.

    python benchmarks/steps_parse.py            # per module, and the 15 busiest functions
    python benchmarks/steps_parse.py --top 40

A deterministic companion to the timings of ``bench_parse.py``: the same
49 reports are parsed once under ``sys.settrace`` and every line event is
counted.  On a busy machine timings wander by a tenth from run to run;
these counts do not, so they show whether a change removed work.  A line
is not a unit of time (a line that runs a regular expression over a whole
part costs more than an assignment), so read them beside the timings.
"""

from __future__ import annotations

import argparse
import collections
import pathlib
import sys
from collections.abc import Sequence
from types import FrameType
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import bench_parse  # noqa: E402
import generate  # noqa: E402

import mdnkit  # noqa: E402


def count_lines(reports: Sequence[bytes]) -> collections.Counter[tuple[str, str]]:
    """Line events per (module file, function) for parsing each of *reports* once."""
    counts: collections.Counter[tuple[str, str]] = collections.Counter()

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            code = frame.f_code
            counts[(pathlib.Path(code.co_filename).name, code.co_name)] += 1
        return local

    def calls(frame: FrameType, event: str, arg: Any) -> Any:
        return local if "mdnkit" in frame.f_code.co_filename else None

    sys.settrace(calls)
    try:
        for data in reports:
            mdnkit.parse(data)
    finally:
        sys.settrace(None)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--top", type=int, default=15, help="functions to list")
    args = parser.parse_args(argv)
    reports = bench_parse.fixtures() + generate.realistic_reports(40)
    for data in reports:
        mdnkit.parse(data)  # imports and first-use work are not counted
    counts = count_lines(reports)
    total = sum(counts.values())
    n = len(reports)
    print(f"{n} reports: {total / n:.0f} lines of Python per report\n")
    modules: collections.Counter[str] = collections.Counter()
    for (module, _function), lines in counts.items():
        modules[module] += lines
    print("per module")
    for module, lines in modules.most_common():
        print(f"  {module:18s} {lines / n:7.1f}  {100 * lines / total:5.1f} %")
    print("\nbusiest functions")
    for (module, function), lines in counts.most_common(args.top):
        print(f"  {module:18s} {function:28s} {lines / n:7.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
