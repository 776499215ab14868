"""Each bomb of the test suite: time and peak memory through every reader.

    python benchmarks/bench_bombs.py             # every bomb, every reader
    python benchmarks/bench_bombs.py nested      # bombs whose name contains "nested"

The bombs are the ones ``tests/test_bombs.py`` checks (``tests/fuzz_corpus.py``,
``BOMBS``).  The tests assert the outcome and a memory bound, never a time;
the times are here.  Each figure is one run: the time without tracing
(``time.perf_counter``), then the peak of Python allocations in a second
run under ``tracemalloc`` (tracing slows allocation-heavy code, so it is
not timed).
"""

from __future__ import annotations

import os
import pathlib
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

import fuzz_corpus  # noqa: E402
import mdnkit  # noqa: E402
from mdnkit.errors import MdnkitError  # noqa: E402

RECEIVED = datetime(2026, 3, 1, tzinfo=UTC)
READERS: list[tuple[str, Callable[[bytes], object]]] = [
    ("parse", mdnkit.parse),
    ("parse_all", mdnkit.parse_all),
    ("receipt_request", mdnkit.receipt_request),
    ("decide", lambda d: mdnkit.decide(d, me="reader@receiver.example")),
    ("Tracker.ingest", lambda d: mdnkit.Tracker().ingest(d, received_at=RECEIVED)),
]


def outcome(call: Callable[[], object]) -> str:
    try:
        result = call()
    except MdnkitError as exc:
        return f"{type(exc).__name__}({getattr(exc, 'code', '')})"
    except Exception as exc:  # a bug: shown, not hidden
        return f"BUG {type(exc).__name__}: {str(exc)[:60]}"
    if isinstance(result, tuple):
        return f"{len(result)} items"
    return type(result).__name__


def main(argv: list[str]) -> int:
    wanted = argv[0] if argv else ""
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    print(f"{'bomb':34} {'MB':>6} {'reader':16} {'seconds':>8} {'peak MB':>8}  outcome")
    for bomb in fuzz_corpus.BOMBS:
        if wanted not in bomb.name:
            continue
        data = bomb.build()
        for label, reader in READERS:
            started = time.perf_counter()
            what = outcome(lambda: reader(data))  # noqa: B023 -- called at once
            elapsed = time.perf_counter() - started
            tracemalloc.start()
            outcome(lambda: reader(data))  # noqa: B023
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(
                f"{bomb.name:34} {len(data) / 1e6:6.1f} {label:16} {elapsed:8.3f} "
                f"{peak / 1e6:8.1f}  {what}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
