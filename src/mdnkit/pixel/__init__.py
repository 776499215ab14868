"""Open tracking with an HTML pixel, feeding the same events as receipts.

Many recipients' clients never send a read receipt; an image fetched from
your server when the message is displayed is the other common signal.  It
is weaker evidence still: image proxies, security scanners and clients that
block images all bend it (see :func:`classify`), so every fetch is recorded
with what most likely made it, and nothing is dropped.

>>> import mdnkit
>>> from mdnkit import pixel
>>> tracker = mdnkit.Tracker()
>>> px = pixel.Pixel(tracker, keys=[b"0123456789abcdef0123456789abcdef"],
...                  base_url="https://t.example.org/o/")
>>> url = px.url("<20261127.1@example.org>", "bob@example.net")
>>> url.startswith("https://t.example.org/o/") and url.endswith(".gif")
True
>>> "bob" in url or "example" in url[len("https://t.example.org/o/"):]
False

``import mdnkit`` never imports this module: it is loaded only when asked for.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import urllib.parse
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from email.message import Message
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from .. import _address
from ..errors import RequestError
from ._classify import DEFAULT_PREFETCH_SECONDS, Classification, OpenKind, classify, explain
from ._html import find_html_part, img_tag, insert_pixel
from ._token import Signer
from ._wsgi import GIF, ClientAddress, PixelApp

if TYPE_CHECKING:
    from ..events import Event

__all__ = [
    "GIF",
    "Classification",
    "OpenKind",
    "Personalized",
    "Pixel",
    "PixelApp",
    "TrackerLike",
    "classify",
    "explain",
]

M = TypeVar("M", bound=Message)

# Characters that must never reach a header, a URL or a store key.
_FORBIDDEN = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")
_MAX_MESSAGE_ID = 998  # RFC 5322 §2.1.1: a header line, at most


class _SentLike(Protocol):
    @property
    def sent_at(self) -> datetime: ...


class _TransactionalLike(Protocol):
    def transaction(self) -> AbstractContextManager[None]: ...


class TrackerLike(Protocol):
    """The part of :class:`mdnkit.Tracker` the pixel uses."""

    @property
    def store(self) -> _TransactionalLike: ...

    def add(self, event: Event) -> Event: ...

    def register_token(self, token_id: str, message_id: str, recipient: str) -> None: ...

    def resolve_token(self, token_id: str) -> tuple[str, str] | None: ...

    def sent(self, message_id: str) -> _SentLike | None: ...


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Personalized(Generic[M]):
    """A per-recipient copy of a message.

    ``inserted`` is False, and ``url`` None, when the message has no HTML
    part (or one in an unknown transfer encoding): such a message is
    returned unchanged, and no token is registered.
    """

    message: M
    inserted: bool
    url: str | None


class Pixel:
    """Tokens, personalised copies and the endpoint for one tracker.

    *keys*: the signing keys, newest first, each at least 16 random bytes
    (``secrets.token_bytes(32)``).  The first signs new URLs; all of them
    verify, so a key can be retired gracefully: put the new one first,
    drop the old one once its messages no longer matter.  A dropped key's
    tokens still get the image, and record nothing.

    *base_url*: where the endpoint is reached, ``http`` or ``https``; URLs
    are ``base_url + token + ".gif"`` (a ``/`` is added when missing).

    *client_address*: what is kept of the requester's IP address:
    ``"truncate"`` (default: the IPv4 /24 or IPv6 /48 network),
    ``"full"`` or ``"drop"``.  *trust_forwarded*: take the address from the
    right-most ``X-Forwarded-For`` entry (only behind your own proxy).

    *clock*: returns the current time (timezone-aware); for tests.
    *prefetch_seconds*: fetches sooner than this after sending are labelled
    ``prefetch`` (see :func:`classify`).
    """

    def __init__(
        self,
        tracker: TrackerLike,
        keys: Iterable[bytes],
        base_url: str,
        *,
        clock: Callable[[], datetime] | None = None,
        client_address: ClientAddress = "truncate",
        trust_forwarded: bool = False,
        prefetch_seconds: float = DEFAULT_PREFETCH_SECONDS,
    ) -> None:
        self._signer = Signer(keys)
        self._base_url = _check_base_url(base_url)
        if client_address not in ("truncate", "full", "drop"):
            raise RequestError(
                f"client_address must be 'truncate', 'full' or 'drop', not {client_address!r}"
            )
        self._tracker = tracker
        self._clock = clock or _now
        self._client_address: ClientAddress = client_address
        self._trust_forwarded = bool(trust_forwarded)
        self._prefetch_seconds = float(prefetch_seconds)

    @property
    def base_url(self) -> str:
        return self._base_url

    def url(self, message_id: str, recipient: str) -> str:
        """A new pixel URL for *recipient* of the message *message_id*.

        Every call makes a new token (128 random bits) and registers it with
        the tracker; the URL carries nothing about the message or the
        recipient, not even encrypted.  Raises :class:`~mdnkit.RequestError`
        for a Message-ID or an address that could smuggle a line break.
        """
        mid = _check_message_id(message_id)
        rcpt = _check_recipient(recipient)
        token, token_id = self._signer.new()
        self._tracker.register_token(token_id, mid, rcpt)
        return f"{self._base_url}{token}.gif"

    def personalize(self, msg: M, recipient: str) -> Personalized[M]:
        """A copy of *msg* for *recipient*, with a pixel in its HTML part.

        The pixel goes into the first HTML body part, before its last
        ``</body>`` (at the end when there is none); multipart structure,
        charset and transfer encoding are kept; *msg* is not modified.
        *msg* must have the Message-ID the tracker knows it by.
        """
        if not isinstance(msg, Message):
            raise RequestError(f"expected an email message, not {type(msg).__name__}")
        raw_id = msg.get("Message-ID")
        if raw_id is None or not str(raw_id).strip():
            raise RequestError("the message has no Message-ID: set one before personalising")
        mid = _check_message_id(str(raw_id))
        rcpt = _check_recipient(recipient)
        copied = copy.deepcopy(msg)
        part = find_html_part(copied)
        if part is None:
            return Personalized(message=copied, inserted=False, url=None)
        url = self.url(mid, rcpt)
        if not insert_pixel(part, img_tag(url)):
            return Personalized(message=copy.deepcopy(msg), inserted=False, url=None)
        return Personalized(message=copied, inserted=True, url=url)

    def wsgi_app(self, *, background: bool = False) -> PixelApp:
        """The endpoint as a PEP 3333 application.

        By default each genuine hit is kept (committed) before the GIF is
        sent.  ``background=True`` checks the token, answers at once and
        leaves the rest to a thread of its own, which keeps the hits from a
        bounded queue in batches (group commit: 500 hits, or 50 ms after the
        first, whichever comes first): several times the throughput, at the
        price of the hits still queued when the process is killed.  The
        app's ``close()`` keeps what is queued and stops the thread (a
        normal interpreter exit calls it); ``flush()`` waits for the queue
        without stopping.
        """
        return PixelApp(
            self._tracker,
            self._signer,
            clock=self._clock,
            client_address=self._client_address,
            trust_forwarded=self._trust_forwarded,
            prefetch_seconds=self._prefetch_seconds,
            background=background,
        )


def _now() -> datetime:
    return datetime.now(UTC)


def _check_base_url(base_url: str) -> str:
    if not isinstance(base_url, str) or _FORBIDDEN.search(base_url):
        raise RequestError("base_url must be a string without control characters")
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise RequestError(f"base_url must be an http or https URL, not {base_url!r}")
    if parts.query or parts.fragment or any(c in base_url for c in " \"<>'`\\"):
        raise RequestError(f"base_url must be a plain URL without query or quotes: {base_url!r}")
    return base_url if base_url.endswith("/") else base_url + "/"


def _check_message_id(message_id: str) -> str:
    if not isinstance(message_id, str):
        raise RequestError(f"message_id must be a string, not {type(message_id).__name__}")
    if _FORBIDDEN.search(message_id.strip()) or len(message_id) > _MAX_MESSAGE_ID:
        raise RequestError(f"invalid Message-ID: {message_id[:80]!r}")
    # Stored as the parser stores it: no angle brackets, no white space.
    value = "".join(message_id.split())
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if not value or "<" in value or ">" in value:
        raise RequestError(f"invalid Message-ID: {message_id[:80]!r}")
    return value


def _check_recipient(recipient: str) -> str:
    if not isinstance(recipient, str):
        raise RequestError(f"recipient must be a string, not {type(recipient).__name__}")
    if not _address.is_valid_mailbox(recipient):
        raise RequestError(f"not a valid mailbox address (addr-spec): {recipient[:80]!r}")
    normal = _address.normalize(recipient)
    if normal is None:  # pragma: no cover - a valid mailbox always normalises
        raise RequestError(f"not a valid mailbox address (addr-spec): {recipient[:80]!r}")
    return normal
