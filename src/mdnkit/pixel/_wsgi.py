"""The pixel endpoint: a PEP 3333 application that always answers with a GIF.

Every GET or HEAD gets the same 1x1 transparent GIF and the same headers,
whatever the path: a forged, tampered, expired or garbage token is not told
apart from a genuine one, so the endpoint is no oracle for guessing tokens.
Only a genuine token whose id the tracker knows records an event.  Nothing
the request does may raise out of the application: a failing store is
logged and the GIF still sent.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

from ..events import Event, EventType, Source
from ._classify import DEFAULT_PREFETCH_SECONDS, Classification, OpenKind, explain
from ._token import TOKEN_LENGTH, Signer
from ._writer import BackgroundWriter

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from . import TrackerLike

__all__ = ["GIF", "PixelApp"]

log = logging.getLogger("mdnkit.pixel")

# The smallest transparent GIF: GIF89a, 1x1, a 2-colour table, a Graphic
# Control Extension marking colour 0 transparent, one LZW-coded pixel.
GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00"
    b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
# Longer paths are answered at once without looking at them: a genuine one
# is the mount prefix plus 52 characters.
MAX_PATH = 512
_SUFFIX = ".gif"
_NO_CACHE = [
    # Every open must reach us: no browser, proxy or CDN may keep the image.
    ("Cache-Control", "no-store, no-cache, must-revalidate, private, max-age=0"),
    ("Pragma", "no-cache"),  # HTTP/1.0 caches (RFC 9111 §5.4)
    ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ("X-Content-Type-Options", "nosniff"),
]
_GIF_HEADERS = [("Content-Type", "image/gif"), ("Content-Length", str(len(GIF))), *_NO_CACHE]
_405_HEADERS = [
    ("Allow", "GET, HEAD"),
    ("Content-Type", "text/plain; charset=utf-8"),
    ("Content-Length", "0"),
    *_NO_CACHE,
]
# A user agent is stored, not trusted: bounded so a hostile one cannot fill the store.
_MAX_USER_AGENT = 512
_SENT_CACHE = 4096  # sending times remembered (message ids)
# REMOTE_ADDR and the tail of X-Forwarded-For as queued: client_address()
# refuses anything over 64 characters, so this keeps every address it would
# accept, and a queued hit stays under a kilobyte (10,000 of them, 10 MB).
_MAX_ADDRESS_FIELD = 256
_HEAD = Classification(
    kind=OpenKind.SCANNER, reason="a HEAD request checks the image without showing it"
)

# A dotted quad as ipaddress reads it (RFC 791): 0-255, no leading zeros
# (ipaddress refuses them: octal would be ambiguous); the fourth octet
# only checked, since truncation drops it.
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_DOTTED_QUAD = re.compile(
    rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])\Z"
)

ClientAddress = Literal["truncate", "full", "drop"]


class _Hit(NamedTuple):
    """A genuine token's request, as noted before the answer."""

    token_id: str
    at: datetime
    user_agent: str
    method: str
    remote_addr: str
    forwarded: str  # X-Forwarded-For, only when trusted


class PixelApp:
    """The WSGI callable (see :meth:`mdnkit.pixel.Pixel.wsgi_app`)."""

    def __init__(
        self,
        tracker: TrackerLike,
        signer: Signer,
        *,
        clock: Callable[[], datetime],
        client_address: ClientAddress,
        trust_forwarded: bool,
        prefetch_seconds: float = DEFAULT_PREFETCH_SECONDS,
        background: bool = False,
    ) -> None:
        self._tracker = tracker
        self._signer = signer
        self._clock = clock
        self._client_address = client_address
        self._trust_forwarded = trust_forwarded
        self._prefetch_seconds = prefetch_seconds
        self._sent_cache: dict[str, datetime] = {}
        # Event ids (see _event): a random half for this app, a counted half.
        self._id_prefix = secrets.token_hex(8)
        self._counter = itertools.count(1)
        # The writer is made here, so that it turns queued hits into events
        # with this app's _events (token look-ups and all, off the request path).
        self._writer = BackgroundWriter(tracker, prepare=self._events) if background else None

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        if method not in ("GET", "HEAD"):
            start_response("405 Method Not Allowed", list(_405_HEADERS))
            return [b""]
        try:
            self._record(environ, method)
        except Exception:  # never let the server see an error: the GIF still goes out
            log.exception("pixel hit not recorded")
        start_response("200 OK", list(_GIF_HEADERS))
        return [b"" if method == "HEAD" else GIF]

    def _record(self, environ: WSGIEnvironment, method: str) -> None:
        # The request path does only what must happen before the answer:
        # check the MAC (forgeries cost nothing more) and note the hit.
        # Token look-up, classification and the event itself are made by
        # _events, at once by default, in batches by the background writer.
        path = environ.get("PATH_INFO", "")
        if not isinstance(path, str) or len(path) > MAX_PATH or not path.endswith(_SUFFIX):
            return
        # The token is the last path segment, whatever prefix a proxy or a
        # mount point put before it: the MAC, not the path, makes it genuine.
        token = path[path.rfind("/") + 1 : -len(_SUFFIX)]
        if len(token) != TOKEN_LENGTH:
            return
        token_id = self._signer.verify(token)
        if token_id is None:
            return
        hit = _Hit(
            token_id,
            self._clock(),
            # Bounded now: a hostile agent cannot make a queued hit large.
            str(environ.get("HTTP_USER_AGENT", ""))[:_MAX_USER_AGENT],
            method,
            str(environ.get("REMOTE_ADDR", ""))[:_MAX_ADDRESS_FIELD],
            # The tail: the right-most entry is the one taken.
            str(environ.get("HTTP_X_FORWARDED_FOR", ""))[-_MAX_ADDRESS_FIELD:]
            if self._trust_forwarded
            else "",
        )
        if self._writer is not None:
            self._writer.put(hit)
        else:
            for event in self._events([hit]):
                self._tracker.add(event)

    def _events(self, hits: list[_Hit]) -> list[Event]:
        """The events for genuine *hits*: one look-up for all their tokens."""
        resolve_many = getattr(self._tracker, "resolve_tokens", None)
        if resolve_many is not None:
            targets: dict[str, tuple[str, str]] = resolve_many(list({h.token_id for h in hits}))
        else:
            targets = {}
            for token_id in {h.token_id for h in hits}:
                target = self._tracker.resolve_token(token_id)
                if target is not None:
                    targets[token_id] = target
        events = []
        for hit in hits:
            target = targets.get(hit.token_id)
            if target is None:
                log.warning("genuine pixel token %s unknown to the tracker", hit.token_id)
                continue
            events.append(self._event(hit, *target))
        return events

    def _event(self, hit: _Hit, message_id: str, recipient: str) -> Event:
        now = hit.at
        user_agent = hit.user_agent
        if not user_agent.isprintable():
            # Kept for people to read later (status tables, logs): a hostile
            # agent must not carry terminal escapes or line breaks there.
            user_agent = "".join(c if c.isprintable() else "?" for c in user_agent)
        if hit.method == "HEAD":
            # A HEAD asks whether the image exists without showing it.
            verdict = _HEAD
        else:
            sent_at = self._sent_at(message_id)
            since = (now - sent_at).total_seconds() if sent_at is not None else None
            verdict = explain(
                user_agent, seconds_since_sent=since, prefetch_seconds=self._prefetch_seconds
            )
        detail = {"open_kind": str(verdict.kind), "reason": verdict.reason, "method": hit.method}
        if user_agent:
            detail["user_agent"] = user_agent
        address = self._address(hit)
        if address is not None:
            detail["client_address"] = address
        # Each hit is its own event (the tracker counts opens): its id is 64
        # random bits drawn once per app and a 64-bit count of its hits, 32
        # hex digits like every event id.  Unique without a system call per
        # hit (next() on a count is atomic), and increasing, so a store's
        # index on event ids takes appends rather than a random page each.
        count = next(self._counter)
        return Event(
            event_id=f"{self._id_prefix}{count & 0xFFFF_FFFF_FFFF_FFFF:016x}",
            type=EventType.OPENED,
            source=Source.PIXEL,
            message_id=message_id,
            recipient=recipient,
            timestamp=now,
            automatic=verdict.automatic,
            correlated_by="token",
            detail=detail,
        )

    def flush(self) -> None:
        """Wait until the hits answered so far are kept (background mode; else no-op)."""
        if self._writer is not None:
            self._writer.flush()

    def close(self) -> None:
        """Keep the queued hits and stop the background writer (no-op otherwise)."""
        if self._writer is not None:
            self._writer.close()

    def _sent_at(self, message_id: str) -> datetime | None:
        # A recorded message keeps its sending time, and reading a sent
        # message can cost as much as its recipient list: remember it.
        # Bounded by forgetting everything at once, which costs one lookup
        # per message afterwards; dict operations are atomic under threads.
        if message_id in self._sent_cache:
            return self._sent_cache[message_id]
        sent = self._tracker.sent(message_id)
        if sent is None:
            return None  # not recorded yet: ask again next time
        if len(self._sent_cache) >= _SENT_CACHE:
            self._sent_cache.clear()
        self._sent_cache[message_id] = sent.sent_at
        return sent.sent_at

    def _address(self, hit: _Hit) -> str | None:
        if self._client_address == "drop":
            return None
        raw = hit.remote_addr
        if self._trust_forwarded:
            # The right-most entry was added by our own proxy; the ones to
            # its left are whatever the client chose to send.
            hops = [hop.strip() for hop in hit.forwarded.split(",") if hop.strip()]
            if hops:
                raw = hops[-1]
        return client_address(raw, self._client_address)


def client_address(raw: str, mode: ClientAddress) -> str | None:
    """*raw* as stored: the /24 (IPv4) or /48 (IPv6) network, the address, or None."""
    if mode == "drop" or len(raw) > 64:
        return None
    if mode == "truncate":
        # Fast path for the common case, a plain dotted quad (RFC 791).
        quad = _DOTTED_QUAD.match(raw)
        if quad is not None:
            return f"{quad[1]}.{quad[2]}.{quad[3]}.0/24"
    try:
        address = ipaddress.ip_address(raw.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if mode == "full":
        return str(address)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
