"""``mdnkit pixel serve``: the pixel endpoint on a local port (wsgiref).

For trying things out and for a small deployment behind a reverse proxy;
a production WSGI server (gunicorn, uWSGI) can serve
:meth:`mdnkit.pixel.Pixel.wsgi_app` instead (see docs/tracking-opens.md).

Keys never come from the command line (it is visible to every user of the
machine in the process list): they come from ``MDNKIT_PIXEL_KEYS`` or from
``--keys-file``.  Either holds one or more keys, newest first, separated by
commas (environment) or by commas or lines (file), each written as

- ``hex:<hex digits>`` or ``base64:<base64>`` (standard or URL-safe), or
- bare: hex when it is only hex digits (even count), else base64.

Each key must decode to at least 16 bytes; make one with
``python -c "import secrets; print(secrets.token_hex(32))"``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import os
import re
import signal
import sys
import threading
from collections.abc import Mapping
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from ..errors import MdnkitError, RequestError

if TYPE_CHECKING:
    from ..tracker import Tracker
    from ._wsgi import PixelApp

__all__ = ["ENV_KEYS", "PixelServer", "add_arguments", "build_server", "parse_keys", "run"]

ENV_KEYS = "MDNKIT_PIXEL_KEYS"
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+\Z")
# A keys file is a few lines; anything much larger is a mistake.
_MAX_KEYS_FILE = 64 * 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``mdnkit pixel serve``."""
    parser.add_argument("--db", default="receipts.db", help="SQLite store (default: receipts.db)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8025, help="port (default: 8025; 0: any)")
    parser.add_argument(
        "--base-url",
        required=True,
        help="the public URL of the endpoint, e.g. https://t.example.org/o/",
    )
    parser.add_argument(
        "--keys-file",
        metavar="PATH",
        help=f"file with the signing keys (default: the {ENV_KEYS} environment variable)",
    )
    parser.add_argument(
        "--client-address",
        choices=("truncate", "full", "drop"),
        default="truncate",
        help="what to keep of the client IP address (default: truncate to /24 or /48)",
    )
    parser.add_argument(
        "--background",
        action="store_true",
        help="answer at once and keep hits in batches (faster; queued hits die with the process)",
    )
    parser.add_argument(
        "--trust-forwarded",
        action="store_true",
        help="take the client address from X-Forwarded-For (only behind your own proxy)",
    )


def parse_keys(text: str) -> list[bytes]:
    """The keys written in *text* (see the module docstring), newest first."""
    keys = []
    for index, item in enumerate(re.split(r"[,\s]+", text.strip())):
        if not item:
            continue
        kind, _, value = item.partition(":") if ":" in item else ("", "", item)
        if kind not in ("", "hex", "base64"):
            raise RequestError(f"key {index}: unknown encoding {kind!r} (use hex: or base64:)")
        try:
            if kind == "hex" or (not kind and _HEX.match(value)):
                key = bytes.fromhex(value)
            else:
                padded = value + "=" * (-len(value) % 4)
                key = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
        except (ValueError, binascii.Error) as exc:
            raise RequestError(f"key {index} is neither valid hex nor valid base64") from exc
        keys.append(key)
    if not keys:
        raise RequestError(f"no pixel keys: set {ENV_KEYS} or pass --keys-file")
    return keys


def _read_keys(args: argparse.Namespace, environ: Mapping[str, str]) -> list[bytes]:
    if args.keys_file:
        try:
            with open(args.keys_file, encoding="utf-8") as handle:
                text = handle.read(_MAX_KEYS_FILE + 1)
        except (OSError, UnicodeDecodeError) as exc:
            raise RequestError(f"cannot read the keys file {args.keys_file}: {exc}") from exc
        if len(text) > _MAX_KEYS_FILE:
            raise RequestError(f"the keys file {args.keys_file} is too large to be a keys file")
        return parse_keys(text)
    return parse_keys(environ.get(ENV_KEYS, ""))


class _QuietHandler(WSGIRequestHandler):
    # The default handler writes every request, with the full client address,
    # to stderr: that would keep exactly what --client-address promises to drop.
    def log_message(self, format: str, *args: object) -> None:
        return


class PixelServer(ThreadingMixIn, WSGIServer):
    """wsgiref's server, one thread per request, holding the tracker it feeds."""

    daemon_threads = True
    tracker: Tracker | None = None
    pixel_app: PixelApp | None = None

    def server_close(self) -> None:
        super().server_close()
        if self.pixel_app is not None:
            self.pixel_app.close()  # keeps what a background writer still holds
            self.pixel_app = None
        if self.tracker is not None:
            self.tracker.close()
            self.tracker = None


def build_server(args: argparse.Namespace, environ: Mapping[str, str] | None = None) -> PixelServer:
    """The wsgiref server ``run`` serves forever (separate for tests and embedding)."""
    from ..tracker import Tracker
    from . import Pixel

    keys = _read_keys(args, os.environ if environ is None else environ)
    tracker = Tracker(args.db)
    try:
        pixel = Pixel(
            tracker,
            keys,
            args.base_url,
            client_address=args.client_address,
            trust_forwarded=args.trust_forwarded,
        )
        app = pixel.wsgi_app(background=bool(getattr(args, "background", False)))
        server = make_server(
            args.host,
            args.port,
            app,
            server_class=PixelServer,
            handler_class=_QuietHandler,
        )
    except BaseException:
        tracker.close()
        raise
    server.tracker = tracker
    server.pixel_app = app
    return server


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted; 0 on Ctrl-C, 2 for a configuration error."""
    try:
        server = build_server(args)
    except (MdnkitError, OSError) as exc:
        print(f"mdnkit pixel serve: {exc}", file=sys.stderr)
        return 2
    host, port = server.server_address[:2]
    print(f"pixel endpoint on http://{host!s}:{port} (Ctrl-C to stop)", file=sys.stderr)
    previous = None
    if threading.current_thread() is threading.main_thread():
        # A service manager stops us with SIGTERM: shut down as for Ctrl-C,
        # so that queued hits are kept and the store is closed.
        previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        server.server_close()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
