"""The long fuzz run: random mutations of the test seeds through every reader.

    python benchmarks/fuzz_long.py --inputs 1000000          # a million inputs
    python benchmarks/fuzz_long.py --minutes 60              # an hour
    python benchmarks/fuzz_long.py --replay 12345            # one input again

Input number *n* is built from ``random.Random(seed + n)`` alone, so any
failure is replayed from the number printed with it.  Every input goes
through ``parse`` (lenient and strict) and ``parse_all``; every fourth also
through ``receipt_request``, ``decide``, ``Tracker.ingest`` (in memory) and
``parse_disposition`` on a slice.  A failure is any exception that is not
a :class:`mdnkit.MdnkitError` (or, in strict mode, an ``ExceptionGroup``
of them), and any input that takes longer than ``--slow`` seconds (a hang
in the making; wall-clock, so reported, not fatal).

The hypothesis tests run longer with their own profile::

    HYPOTHESIS_PROFILE=fuzz FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz.py
"""

from __future__ import annotations

import argparse
import pathlib
import random
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

import fuzz_corpus  # noqa: E402
import mdnkit  # noqa: E402
from mdnkit.errors import MdnkitError  # noqa: E402

RECEIVED = datetime(2026, 3, 1, tzinfo=UTC)


def _expected(exc: BaseException) -> bool:
    if isinstance(exc, MdnkitError):
        return True
    if isinstance(exc, ExceptionGroup):
        return all(_expected(e) for e in exc.exceptions)
    return False


def build(seed: int) -> tuple[str, bytes]:
    """The seed message and mutated input numbered *seed*."""
    rng = random.Random(seed)
    index = rng.randrange(len(fuzz_corpus.SEEDS))
    ops = fuzz_corpus.random_ops(rng, max_ops=6, max_size=400)
    return fuzz_corpus.seed_names()[index], fuzz_corpus.mutate(fuzz_corpus.SEEDS[index], ops)


def targets(data: bytes, full: bool) -> list[tuple[str, Callable[[], object]]]:
    calls: list[tuple[str, Callable[[], object]]] = [
        ("parse", lambda: mdnkit.parse(data)),
        ("parse-strict", lambda: mdnkit.parse(data, strict=True)),
        ("parse_all", lambda: mdnkit.parse_all(data)),
    ]
    if full:
        text = data.decode("utf-8", "surrogateescape")
        calls += [
            ("receipt_request", lambda: mdnkit.receipt_request(data)),
            ("decide", lambda: mdnkit.decide(data, me="reader@receiver.example")),
            ("ingest", lambda: mdnkit.Tracker().ingest(data, received_at=RECEIVED)),
            ("parse_disposition", lambda: _disposition(text)),
        ]
    return calls


def _disposition(text: str) -> object:
    at = text.find("Disposition:")
    piece = text[at + 12 : at + 400] if at >= 0 else text[:400]
    return mdnkit.parse_disposition(piece)


def run_one(seed: int, slow: float) -> list[str]:
    """Problems found with input *seed* (empty when all went well)."""
    name, data = build(seed)
    found: list[str] = []
    for label, call in targets(data, full=seed % 4 == 0):
        started = time.perf_counter()
        try:
            call()
        except BaseException as exc:  # sorting exceptions is the point
            if isinstance(exc, KeyboardInterrupt):
                raise
            if not _expected(exc):
                found.append(
                    f"FAIL seed={seed} target={label} from={name} len={len(data)}: "
                    + "".join(traceback.format_exception(exc)).rstrip()
                )
        elapsed = time.perf_counter() - started
        if elapsed > slow:
            found.append(
                f"SLOW seed={seed} target={label} from={name} len={len(data)}: {elapsed:.2f}s"
            )
    return found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0, help="number of the first input")
    ap.add_argument("--inputs", type=int, default=1_000_000, help="stop after this many inputs")
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long")
    ap.add_argument("--slow", type=float, default=2.0, help="report inputs slower than this (s)")
    ap.add_argument("--every", type=int, default=10_000, help="progress line every N inputs")
    ap.add_argument("--replay", type=int, default=None, help="run input number N and print it")
    args = ap.parse_args(argv)

    if args.replay is not None:
        name, data = build(args.replay)
        print(f"input {args.replay} from {name}, {len(data)} bytes:")
        print(repr(data[:2000]) + (" ..." if len(data) > 2000 else ""))
        problems = run_one(args.replay, args.slow)
        print("\n".join(problems) or "no problem")
        return 1 if problems else 0

    deadline = None if args.minutes is None else time.monotonic() + args.minutes * 60
    started = time.monotonic()
    failures = slow = done = 0
    print(
        f"fuzz_long: seeds={len(fuzz_corpus.SEEDS)} first={args.seed} inputs<={args.inputs} "
        f"minutes={args.minutes}",
        flush=True,
    )
    for seed in range(args.seed, args.seed + args.inputs):
        if deadline is not None and time.monotonic() > deadline:
            break
        for line in run_one(seed, args.slow):
            if line.startswith("SLOW"):
                slow += 1
            else:
                failures += 1
            print(line, flush=True)
        done += 1
        if done % args.every == 0:
            rate = done / (time.monotonic() - started)
            print(
                f"progress: {done} inputs, {rate:.0f} inputs/s, {failures} failures, {slow} slow",
                flush=True,
            )
    elapsed = time.monotonic() - started
    print(
        f"done: {done} inputs (seeds {args.seed}..{args.seed + done - 1}) in {elapsed:.0f}s, "
        f"{done / max(elapsed, 1e-9):.0f} inputs/s, {failures} failures, {slow} slow",
        flush=True,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
