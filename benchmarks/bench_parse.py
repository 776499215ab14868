"""Report parsing: mdnkit.parse against the standard library way.

    python benchmarks/bench_parse.py            # everything
    python benchmarks/bench_parse.py --quick    # fewer repetitions

"The standard library way" is what a user would otherwise write:
``email.message_from_bytes`` (compat32, then policy.default), a walk to
the report part, and reading its fields.  Both sides run in one process on
the same inputs, taking turns run by run (so that a change in the machine's
speed while the script runs touches both alike, and what one side left
for the garbage collector is collected before the other runs); each figure
is the best of several runs, in CPU time of
this process (``time.process_time``: other processes on a busy machine do
not count) and in wall-clock time (``time.perf_counter``).  Ratios are
taken on CPU time.

Sections:
1. reports: the project's own fixtures plus generated reports of realistic size;
2. a receipt that returns a 20 MB original;
3. non-reports (ordinary mail with attachments);
4. linearity: doubling header length, parts, recipients, nesting depth
   (with the garbage collector running, and paused), and the cost per
   recipient of DSNs from 250 to 4,000 recipients.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import gc
import os
import pathlib
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from email.message import Message

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

import generate  # noqa: E402

import mdnkit  # noqa: E402

REPORT_TYPES = {
    "message/disposition-notification",
    "message/delivery-status",
    "message/global-disposition-notification",
    "message/global-delivery-status",
}


def stdlib_read(data: bytes, policy: email.policy.Policy) -> list[tuple[str, str]] | None:
    """Parse, walk to the report part, read its fields: the usual hand-written way."""
    msg = email.message_from_bytes(data, policy=policy)
    for part in msg.walk():
        if part.get_content_type() in REPORT_TYPES:
            fields: list[tuple[str, str]] = []
            payload = part.get_payload()
            blocks = payload if isinstance(payload, list) else [part]
            for block in blocks:
                if isinstance(block, Message):
                    fields.extend((name, str(value)) for name, value in block.items())
            return fields
    return None


def mdnkit_read(data: bytes) -> object:
    return mdnkit.parse(data)


# A side of a comparison: the function, its inputs, and every how many
# rounds it runs.
Side = tuple[Callable[[bytes], object], Sequence[bytes], int]


def side_by_side(sides: dict[str, Side], rounds: int) -> dict[str, tuple[float, float]]:
    """(best CPU time, best wall-clock time) of each side.

    *sides* maps a name to ``(function, inputs, every)``: the function runs
    over all its inputs in every *every*-th of *rounds* rounds (at least
    once).  The sides take turns within each round, so that a machine
    whose speed drifts while the benchmark runs (a shared virtual machine
    does) slows them alike: their ratio holds even when their times move.
    """
    best = {name: (float("inf"), float("inf")) for name in sides}
    for round_ in range(rounds):
        for name, (func, inputs, every) in sides.items():
            if round_ % every:
                continue
            # What the previous side left is collected before, not during, this run.
            gc.collect()
            start_cpu, start_wall = time.process_time(), time.perf_counter()
            for data in inputs:
                func(data)
            cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start_wall
            best[name] = (min(best[name][0], cpu), min(best[name][1], wall))
    return best


def _compat32(data: bytes) -> object:
    return stdlib_read(data, email.policy.compat32)


def _default(data: bytes) -> object:
    return stdlib_read(data, email.policy.default)


def fixtures() -> list[bytes]:
    found = []
    for path in sorted((HERE.parent / "tests" / "fixtures").rglob("*")):
        if path.is_file() and path.suffix in {".eml", ".txt", ".msg", ".mdn"}:
            data = path.read_bytes()
            if mdnkit.parse(data) is not None:
                found.append(data)
    return found


def compare(title: str, inputs: Sequence[bytes], repeat: int) -> dict[str, float]:
    total = sum(len(d) for d in inputs)
    # policy.default is the slowest by far: every other round is enough.
    best = side_by_side(
        {
            "ours": (mdnkit_read, inputs, 1),
            "compat32": (_compat32, inputs, 1),
            "default": (_default, inputs, 2),
        },
        repeat,
    )
    (ours, ours_wall), (compat, compat_wall) = best["ours"], best["compat32"]
    default, default_wall = best["default"]
    print(f"\n{title}: {len(inputs)} messages, {total / 1e6:.2f} MB   (CPU ms, wall ms)")
    print(
        f"  mdnkit.parse              {ours * 1e3:10.2f} {ours_wall * 1e3:10.2f}"
        f"  {total / ours / 1e6:8.1f} MB/s"
    )
    print(
        f"  stdlib compat32 + walk    {compat * 1e3:10.2f} {compat_wall * 1e3:10.2f}"
        f"  ratio {compat / ours:6.1f}x (wall {compat_wall / ours_wall:.1f}x)"
    )
    print(
        f"  stdlib policy.default     {default * 1e3:10.2f} {default_wall * 1e3:10.2f}"
        f"  ratio {default / ours:6.1f}x (wall {default_wall / ours_wall:.1f}x)"
    )
    return {"ours": ours, "compat32": compat, "default": default}


def by_shape(groups: dict[str, list[bytes]], repeat: int) -> None:
    """Per-report CPU time of each kind of report, against compat32.

    Small reports weigh most: what a report costs mdnkit is mostly a fixed
    number of steps, while the standard library's cost grows with size.
    """
    print("\n   by shape (per report, CPU us)        size    mdnkit  compat32   ratio  stdlib read")
    for name, inputs in groups.items():
        best = side_by_side(
            {"ours": (mdnkit_read, inputs, 1), "compat32": (_compat32, inputs, 1)}, repeat
        )
        ours, compat = best["ours"][0] / len(inputs), best["compat32"][0] / len(inputs)
        size = sum(len(d) for d in inputs) // len(inputs)
        read = sum(_compat32(d) is not None for d in inputs)
        print(
            f"   {name:34s} {size:7d} {ours * 1e6:9.1f} {compat * 1e6:9.1f} "
            f"{compat / ours:6.1f}x   {read}/{len(inputs)}"
        )


def linearity(repeat: int) -> None:
    print("\nlinearity: CPU time ratio when the input doubles (at most 2.0 is linear)")
    shapes: dict[str, Callable[[int], bytes]] = {
        "header length": lambda n: b"Subject: " + b"x" * n + b"\r\n" + generate.read_receipt(1),
        "folded lines": lambda n: b"X-Long: a\r\n" + b" b\r\n" * n + generate.read_receipt(1),
        "parts": _many_parts,
        "recipients": lambda n: generate.bounce(1, recipients=n, original_size=1000),
        "nesting depth": _nested,
    }
    sizes = {
        "header length": 100_000,
        "folded lines": 20_000,
        "parts": 1_000,
        "recipients": 1_000,
        "nesting depth": 15,
    }
    for name, make in shapes.items():
        n = sizes[name]
        small, large = make(n), make(2 * n)
        # Each run reads the input often enough to last about 20 ms: a
        # single reading of the smaller inputs (under a millisecond) is
        # within the machine's jitter.
        start = time.process_time()
        mdnkit_read(small)
        times = max(1, int(0.02 / max(time.process_time() - start, 1e-6)))
        runs = {
            "small": (mdnkit_read, [small] * times, 1),
            "large": (mdnkit_read, [large] * times, 1),
        }
        best = side_by_side(runs, repeat)
        # Again with the cyclic garbage collector paused, as timeit runs:
        # its full collections look at every object of the process, so a
        # reading that builds thousands of objects (a 2,000-recipient DSN)
        # pays a little more than twice what half as many cost.
        gc.disable()
        try:
            paused = side_by_side(runs, repeat)
        finally:
            gc.enable()
        t_small, t_large = best["small"][0] / times, best["large"][0] / times
        ratio_paused = paused["large"][0] / paused["small"][0]
        print(
            f"  {name:15s} n={n:>7}  {t_small * 1e3:8.2f} ms -> {t_large * 1e3:8.2f} ms"
            f"  x{t_large / t_small:4.2f}   collector paused x{ratio_paused:4.2f}"
        )


def recipients_series(repeat: int) -> None:
    """CPU time per recipient, and the memory a parse peaks at, as a DSN grows.

    A linear reader costs the same per recipient at every size: this shows
    it over four doublings rather than one, where a single ratio moves by
    a few hundredths with the machine's load (and with the processor's
    caches, which the objects of a few thousand recipients outgrow).
    """
    print("\n  recipients  us per recipient  peak MB (tracemalloc)")
    for n in (250, 500, 1_000, 2_000, 4_000):
        data = generate.bounce(1, recipients=n, original_size=1000)
        times = max(1, 4_000 // n)
        best = side_by_side({"dsn": (mdnkit_read, [data] * times, 1)}, repeat)
        tracemalloc.start()
        try:
            mdnkit_read(data)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        per = best["dsn"][0] / times / n
        print(f"  {n:10d}  {per * 1e6:16.1f}  {peak / 1e6:7.1f}")


def _many_parts(n: int) -> bytes:
    parts = b"".join(b"--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n" for _ in range(n))
    report = (
        b"--b\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; bob@example.org\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n"
    )
    return b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n' + parts + report + b"--b--\r\n"


def _nested(depth: int) -> bytes:
    # Boundaries of one width, as mail generators write them: none is the
    # start of another ("n1" would be the start of "n10" to "n19", whose
    # delimiter lines every search for "--n1" would stop at too).
    head = b""
    tail = b""
    for level in range(depth):
        head += b'--n%03d\r\nContent-Type: multipart/mixed; boundary="n%03d"\r\n\r\n' % (
            level,
            level + 1,
        )
        tail = b"--n%03d--\r\n" % (level + 1) + tail
    report = (
        b"--n%03d\r\nContent-Type: message/disposition-notification\r\n\r\n"
        b"Final-Recipient: rfc822; bob@example.org\r\n"
        b"Disposition: manual-action/MDN-sent-manually; displayed\r\n\r\n" % depth
    )
    return (
        b'Content-Type: multipart/mixed; boundary="n000"\r\n\r\n'
        + head
        + report
        + tail
        + b"--n000--\r\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args(argv)
    repeat = 3 if args.quick else 7
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"mdnkit {mdnkit.__version__}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {load}"
    )

    own = fixtures()
    generated = generate.realistic_reports(40)
    reports = own + generated
    result = compare("1. reports (fixtures + generated)", reports, repeat)
    by_shape(
        {
            f"{len(own)} fixtures (quirks)": own,
            "read receipts (Outlook-like)": generated[0::4],
            "bounces, 1-4 recipients": generated[1::4],
            "AS2 MDNs (multipart/signed)": generated[2::4],
            "bounces returning 30 KB": generated[3::4],
        },
        repeat,
    )
    big = [generate.big_original()]
    result_big = compare("2. a report returning a 20 MB original", big, max(2, repeat // 2))
    plain = [generate.ordinary_mail(i) for i in range(20)] + [
        generate.plain_text_mail(i) for i in range(20)
    ]
    result_plain = compare("3. non-reports (ordinary mail)", plain, repeat)
    linearity(repeat)
    recipients_series(repeat)

    print("\ntargets")
    print(f"  reports vs compat32   {result['compat32'] / result['ours']:6.1f}x (target 5x)")
    print(f"  reports vs default    {result['default'] / result['ours']:6.1f}x (target 50x)")
    print(
        f"  20 MB vs compat32     {result_big['compat32'] / result_big['ours']:6.1f}x (target 20x)"
    )
    print(f"  non-reports vs compat {result_plain['compat32'] / result_plain['ours']:6.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
