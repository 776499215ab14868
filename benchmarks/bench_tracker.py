"""Tracker throughput on a SQLite store of a given size.

    python benchmarks/bench_tracker.py [--sizes 100000 1000000] [--receipts 2000] [--lookups 2000]

For each size N: record N sent messages (3 recipients each) into a fresh
SQLiteStore in a temporary directory, then

- ingest rate: receipts per second through ``Tracker.ingest`` (bytes in:
  MIME parsing, correlation and a committed write per receipt), half read
  receipts and half bounces, for random recorded messages;
- batched ingest: as many other receipts, 100 per transaction
  (``with tracker.store.transaction():``), as a bulk import of a mailbox
  would do: one commit per batch instead of one per receipt;
- parse only: the same receipts through ``parse_all`` alone, to show
  what correlation and storage add;
- status lookup: the time of ``Tracker.status`` for random messages
  (median and 99th percentile).

Figures depend on the machine and the disk; nothing here is asserted.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

from mdnkit import Tracker, parse_all

T0 = datetime(2026, 3, 1, tzinfo=UTC)

MDN = """\
From: {rcpt}
To: sender@bench.example
Date: Mon, 02 Mar 2026 10:00:00 +0000
Subject: Read: message {n}
Message-ID: <mdn-{k}@reader.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="b{k}"

--b{k}
Content-Type: text/plain

Your message was displayed.

--b{k}
Content-Type: message/disposition-notification

Reporting-UA: reader.example; Bench 1.0
Final-Recipient: rfc822;{rcpt}
Original-Message-ID: <msg-{n}@bench.example>
Disposition: manual-action/MDN-sent-manually; displayed

--b{k}--
"""

DSN = """\
From: MAILER-DAEMON@mx.bench.example
To: sender@bench.example
Date: Mon, 02 Mar 2026 10:00:00 +0000
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{k}@mx.bench.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="d{k}"

--d{k}
Content-Type: text/plain

Delivery failed.

--d{k}
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.bench.example

Final-Recipient: rfc822; {rcpt}
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--d{k}
Content-Type: text/rfc822-headers

Message-ID: <msg-{n}@bench.example>
Subject: message {n}

--d{k}--
"""


def sent_message(n: int) -> bytes:
    return (
        f"From: sender@bench.example\r\nTo: a{n}@one.example, b{n}@two.example\r\n"
        f"Cc: c{n}@three.example\r\nSubject: message {n}\r\nMessage-ID: <msg-{n}@bench.example>\r\n"
        "\r\nbody\r\n"
    ).encode()


def record(tracker: Tracker, count: int) -> float:
    start = time.perf_counter()
    batch = 5000
    for first in range(0, count, batch):
        # One transaction per batch: recording a mailbox of sent mail at once.
        with tracker.store.transaction():
            for n in range(first, min(first + batch, count)):
                tracker.record_sent(sent_message(n), sent_at=T0 + timedelta(seconds=n))
        if sys.stderr.isatty():
            print(f"\r  recorded {min(first + batch, count)}/{count}", end="", file=sys.stderr)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return time.perf_counter() - start


def run(size: int, receipts: int, lookups: int, rng: random.Random) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "bench.db")
        with Tracker(path) as tracker:
            took = record(tracker, size)
            print(f"N={size}: recorded in {took:.1f}s ({size / took:,.0f} messages/s)")
            data = []
            for k in range(receipts):
                n = rng.randrange(size)
                rcpt = f"{'abc'[k % 3]}{n}@{('one', 'two', 'three')[k % 3]}.example"
                template = MDN if k % 2 == 0 else DSN
                data.append(template.format(n=n, k=k, rcpt=rcpt).encode())
            start = time.perf_counter()
            for item in data:
                parse_all(item)
            parse_took = time.perf_counter() - start
            print(f"N={size}: parse only: {receipts / parse_took:,.0f} receipts/s (for comparison)")
            start = time.perf_counter()
            tied = 0
            for item in data:
                tied += sum(1 for e in tracker.ingest(item) if e.message_id is not None)
            took = time.perf_counter() - start
            print(
                f"N={size}: ingest {receipts} receipts in {took:.2f}s = {receipts / took:,.0f} receipts/s"
                f" ({tied} events tied)"
            )
            batched = [
                item.replace(b"@reader.example>", b"@batch.reader.example>").replace(
                    b"@mx.bench.example>", b"@batch.mx.bench.example>"
                )
                for item in data
            ]
            start = time.perf_counter()
            tied = 0
            for first in range(0, receipts, 100):
                with tracker.store.transaction():
                    for item in batched[first : first + 100]:
                        tied += sum(1 for e in tracker.ingest(item) if e.message_id is not None)
            took = time.perf_counter() - start
            print(
                f"N={size}: ingest {receipts} receipts, 100 per transaction, in {took:.2f}s"
                f" = {receipts / took:,.0f} receipts/s ({tied} events tied)"
            )
            times = []
            for _ in range(lookups):
                message_id = f"msg-{rng.randrange(size)}@bench.example"
                start = time.perf_counter()
                tracker.status(message_id)
                times.append(time.perf_counter() - start)
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            print(
                f"N={size}: status lookup median {statistics.median(times) * 1e3:.3f} ms,"
                f" p99 {p99 * 1e3:.3f} ms ({lookups} lookups)"
            )
            size_mb = os.path.getsize(path) / 1e6
            print(f"N={size}: database {size_mb:,.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--receipts", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=8098)
    args = parser.parse_args()
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average {load}, {os.cpu_count()} CPUs")
    rng = random.Random(args.seed)
    for size in args.sizes:
        run(size, args.receipts, args.lookups, rng)


if __name__ == "__main__":
    main()
