"""Who fetched the pixel: a person's mail client, a proxy, a scanner, a prefetch.

A pixel fetch is evidence that *something* loaded the image, nothing more.
Mail providers fetch images through their own proxies, security gateways
fetch every URL of a message before the recipient sees it, and many people
never load images at all.  The rules below only label a fetch; every fetch
is recorded and the user decides what to count.

The rules, checked in this order (the first that matches wins):

1. No User-Agent at all: no mail client or browser omits it, so a script
   or a scanner made the request -> ``scanner``.
2. A security gateway or an HTTP library that names itself -> ``scanner``
   (see ``_SCANNERS`` for each token and why it is there).
3. A mail provider's image proxy -> ``proxy``:

   - ``GoogleImageProxy``: Gmail fetches every image through its proxy
     (``... (via ggpht.com GoogleImageProxy)``), usually when a person
     opens the message, but the proxy caches the image, so later opens
     may not be seen at all.
   - ``YahooMailProxy``: Yahoo Mail's image proxy, same behaviour.
   - exactly ``Mozilla/5.0`` and nothing else: Apple Mail Privacy
     Protection loads remote content through Apple's proxies, in the
     background, whether or not the message is ever read, with this
     bare user agent.

4. A fetch within ``prefetch_seconds`` of sending -> ``prefetch``: gateways
   that scan images on delivery do it seconds after the message leaves,
   before a person could plausibly have read it.
5. Anything else -> ``human``: a mail client displayed the image, as far
   as the request can tell.

``Microsoft Office/16.0 (... Microsoft Outlook ...)`` is deliberately NOT a
scanner: that is the user agent of desktop Outlook displaying a message to
its user.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re

__all__ = ["DEFAULT_PREFETCH_SECONDS", "Classification", "OpenKind", "classify", "explain"]

# Long enough for a gateway that scans on delivery, short enough that a
# person who reads at once is rarely mislabelled (they still get an event).
DEFAULT_PREFETCH_SECONDS = 10.0
# User agents longer than this are cut before matching: the patterns are
# all near the start of real ones, and matching stays cheap.
_MAX_MATCHED = 1024


class OpenKind(enum.StrEnum):
    """What most likely fetched the pixel (a label, never a reason to drop the fetch)."""

    HUMAN = "human"  # a mail client displayed the message
    PROXY = "proxy"  # a provider's image proxy, usually on a person's behalf
    SCANNER = "scanner"  # a security scanner or a script, no person involved
    PREFETCH = "prefetch"  # fetched too soon after sending to be a reader

    @property
    def automatic(self) -> bool | None:
        """True: a machine fetched it; False: a person's client did; None: cannot tell."""
        return _AUTOMATIC[self]


_AUTOMATIC: dict[OpenKind, bool | None] = {
    OpenKind.HUMAN: False,
    # A Gmail or Yahoo proxy fetch usually follows a person opening the
    # message, an Apple one usually does not: the request cannot say which.
    OpenKind.PROXY: None,
    OpenKind.SCANNER: True,
    OpenKind.PREFETCH: True,
}


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Classification:
    """The label of one fetch and the rule that gave it."""

    kind: OpenKind
    reason: str

    @property
    def automatic(self) -> bool | None:
        return self.kind.automatic


# (pattern, reason); matched case-insensitively against the user agent.
_SCANNERS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        # Security gateways that announce themselves in the user agent.
        (r"barracuda", "Barracuda email security scanner"),
        (r"mimecast", "Mimecast email security scanner"),
        (r"proofpoint", "Proofpoint email security scanner"),
        # Generic crawler self-identification (RFC 9309 §2.2.1 product tokens).
        (r"\b(?:bot|crawler|spider)\b|bot/", "a crawler that says so in its user agent"),
        # HTTP libraries and tools: no person reads mail with these.
        (r"\bcurl/", "an HTTP tool (curl)"),
        (r"\bwget/", "an HTTP tool (Wget)"),
        (r"python-requests/|python-urllib/|\bhttpx/|aiohttp/", "a Python HTTP library"),
        (r"go-http-client/", "a Go HTTP library"),
        (r"^java/|okhttp/|apache-httpclient/", "a Java HTTP library"),
        (r"libwww-perl/", "a Perl HTTP library"),
        (r"headlesschrome/", "a headless browser (automated sandbox)"),
    )
)

# One search for the common case (a mail client matching no rule); the
# individual patterns are tried only when something matched.
_ANY = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _SCANNERS), re.IGNORECASE)

_PROXIES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"googleimageproxy", re.IGNORECASE), "Gmail image proxy (GoogleImageProxy)"),
    (re.compile(r"yahoomailproxy", re.IGNORECASE), "Yahoo Mail image proxy (YahooMailProxy)"),
    (
        re.compile(r"mozilla/5\.0\Z", re.IGNORECASE),
        "bare 'Mozilla/5.0': Apple Mail Privacy Protection proxy",
    ),
)


def explain(
    user_agent: str | None,
    *,
    seconds_since_sent: float | None = None,
    prefetch_seconds: float = DEFAULT_PREFETCH_SECONDS,
) -> Classification:
    """The :class:`OpenKind` of a fetch and the rule that chose it.

    >>> explain("Mozilla/5.0 (via ggpht.com GoogleImageProxy)")
    Classification(kind=<OpenKind.PROXY: 'proxy'>, reason='Gmail image proxy (GoogleImageProxy)')
    """
    agent = (user_agent or "").strip()[:_MAX_MATCHED]
    if not agent:
        return Classification(
            kind=OpenKind.SCANNER, reason="no User-Agent: mail clients always send one"
        )
    by_agent = _by_agent(agent)
    if by_agent is not None:
        return by_agent
    if seconds_since_sent is not None and seconds_since_sent < prefetch_seconds:
        return Classification(
            kind=OpenKind.PREFETCH,
            reason=f"fetched {max(seconds_since_sent, 0.0):.1f} s after sending "
            f"(under {prefetch_seconds:g} s)",
        )
    return Classification(kind=OpenKind.HUMAN, reason="a mail client's user agent")


# A few user agents make most fetches (one per client version and proxy):
# remember their verdicts rather than run the patterns on every hit.
@functools.lru_cache(maxsize=1024)
def _by_agent(agent: str) -> Classification | None:
    if _ANY.search(agent):
        for pattern, reason in _SCANNERS:
            if pattern.search(agent):
                return Classification(kind=OpenKind.SCANNER, reason=reason)
    for pattern, reason in _PROXIES:
        if pattern.search(agent):
            return Classification(kind=OpenKind.PROXY, reason=reason)
    return None


def classify(
    user_agent: str | None,
    *,
    seconds_since_sent: float | None = None,
    prefetch_seconds: float = DEFAULT_PREFETCH_SECONDS,
) -> OpenKind:
    """What most likely fetched the pixel; :func:`explain` also says why.

    >>> classify("YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html")
    <OpenKind.PROXY: 'proxy'>
    >>> classify("Mozilla/5.0 (Windows NT 10.0) Thunderbird/128.0", seconds_since_sent=3600)
    <OpenKind.HUMAN: 'human'>
    """
    return explain(
        user_agent, seconds_since_sent=seconds_since_sent, prefetch_seconds=prefetch_seconds
    ).kind
