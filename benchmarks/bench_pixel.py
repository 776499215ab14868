"""Pixel hits per second through the WSGI app, in-process, with the SQLite store.

    python benchmarks/bench_pixel.py [--hits 20000] [--recipients 1000] [--repeat 3]
                                     [--mode both|default|background]

Every hit is a genuine token of a recorded message: MAC check, token
look-up, classification (the sending time is looked up once per message)
and one kept event (SQLite, WAL, synchronous=NORMAL).  Two modes:

- default (``wsgi_app()``): each hit is committed before its response;
- background (``wsgi_app(background=True)``): the request checks the MAC
  and queues the hit; the writer thread resolves tokens, classifies and
  keeps the hits in batches (group commit: up to 500 per transaction, at
  most 50 ms after a hit arrives).

"answered" is the rate of responses; "kept" counts until every event is in
the store (``app.flush()``), so it is the rate the endpoint can sustain
with nothing left behind.  Forged tokens are measured too: they never touch
the store.  The load average is printed: figures on a busy machine are low.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from mdnkit import Tracker
from mdnkit.pixel import GIF, Pixel

KEY = b"benchmark-key-0123456789abcdef!!"
BASE = "https://t.example.org/o/"
AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0",
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
    "Mozilla/5.0",
    "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5278; Pro)",
]


def environ(path: str, agent: str, n: int) -> dict[str, Any]:
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "REMOTE_ADDR": f"198.51.{n % 250}.{n % 200}",
        "HTTP_USER_AGENT": agent,
        "SERVER_NAME": "t.example.org",
        "SERVER_PORT": "443",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "https",
    }


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
    return None


def run(hits: int, recipients: int, directory: Path, *, background: bool) -> dict[str, float]:
    with Tracker(directory / "receipts.db") as tracker:
        msg = EmailMessage()
        msg["From"] = "news@example.org"
        msg["Message-ID"] = "<bench.1@example.org>"
        addresses = [f"user{i}@example.net" for i in range(recipients)]
        tracker.record_sent(
            msg, sent_at=datetime.now(UTC) - timedelta(hours=1), recipients=addresses
        )
        pixel = Pixel(tracker, keys=[KEY], base_url=BASE)
        started = time.perf_counter()
        paths = [pixel.url("bench.1@example.org", a)[len(BASE) - 3 :] for a in addresses]
        url_rate = recipients / (time.perf_counter() - started)
        app = pixel.wsgi_app(background=background)
        envs = [environ(paths[i % recipients], AGENTS[i % len(AGENTS)], i) for i in range(hits)]
        started = time.perf_counter()
        for env in envs:
            assert b"".join(app(env, start_response)) == GIF
        answered = time.perf_counter() - started
        app.flush()  # every hit kept before the clock stops
        genuine = time.perf_counter() - started
        forged = [environ("/o/" + "A" * 48 + ".gif", AGENTS[0], i) for i in range(hits)]
        started = time.perf_counter()
        for env in forged:
            app(env, start_response)
        forged_time = time.perf_counter() - started
        app.close()
        status = tracker.status("bench.1@example.org")
        opens = sum(r.opens for r in status.recipients)
        assert opens == hits, (opens, hits)
    return {
        "answered hits/s": hits / answered,
        "kept hits/s": hits / genuine,
        "forged hits/s": hits / forged_time,
        "url() calls/s": url_rate,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=20_000)
    parser.add_argument("--recipients", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("both", "default", "background"), default="both")
    args = parser.parse_args()
    load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"{args.hits} hits, {args.recipients} recipients, SQLite store, median of {args.repeat}"
        f" (load average {load}, {os.cpu_count()} CPUs)"
    )
    modes = {"both": (False, True), "default": (False,), "background": (True,)}[args.mode]
    for background in modes:
        results: dict[str, list[float]] = {}
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                run_results = run(args.hits, args.recipients, Path(tmp), background=background)
                for name, value in run_results.items():
                    results.setdefault(name, []).append(value)
        mode = "background writer (group commit)" if background else "commit per hit (default)"
        print(mode)
        for name, values in results.items():
            runs = ", ".join(f"{v:,.0f}" for v in values)
            print(f"  {name:>17}: {statistics.median(values):>10,.0f}   ({runs})")


if __name__ == "__main__":
    main()
