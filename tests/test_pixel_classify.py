"""Labelling pixel fetches: proxies, scanners, prefetches and people."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit.pixel import Classification, OpenKind, classify, explain

GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
YAHOO = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"
OUTLOOK = "Mozilla/4.0 (compatible; ms-office; MSOffice 16) Microsoft Outlook 16.0.17928; Pro"
OUTLOOK_NEW = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.5278; Pro)"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148"

VECTORS = [
    # (user agent, seconds since sent, kind, reason)
    (GMAIL, None, OpenKind.PROXY, "Gmail image proxy (GoogleImageProxy)"),
    (GMAIL, 1.0, OpenKind.PROXY, "Gmail image proxy (GoogleImageProxy)"),
    (YAHOO, 3600.0, OpenKind.PROXY, "Yahoo Mail image proxy (YahooMailProxy)"),
    (
        "Mozilla/5.0",
        None,
        OpenKind.PROXY,
        "bare 'Mozilla/5.0': Apple Mail Privacy Protection proxy",
    ),
    (
        " mozilla/5.0 ",
        2.0,
        OpenKind.PROXY,
        "bare 'Mozilla/5.0': Apple Mail Privacy Protection proxy",
    ),
    ("Barracuda Sentinel (EE)", None, OpenKind.SCANNER, "Barracuda email security scanner"),
    ("Mozilla/5.0 Mimecast-Scanner", None, OpenKind.SCANNER, "Mimecast email security scanner"),
    ("Proofpoint URL Defense", 5000.0, OpenKind.SCANNER, "Proofpoint email security scanner"),
    (
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        None,
        OpenKind.SCANNER,
        "a crawler that says so in its user agent",
    ),
    ("curl/8.5.0", None, OpenKind.SCANNER, "an HTTP tool (curl)"),
    ("Wget/1.21.4", None, OpenKind.SCANNER, "an HTTP tool (Wget)"),
    ("python-requests/2.32.3", None, OpenKind.SCANNER, "a Python HTTP library"),
    ("Python-urllib/3.11", None, OpenKind.SCANNER, "a Python HTTP library"),
    ("Go-http-client/1.1", None, OpenKind.SCANNER, "a Go HTTP library"),
    ("Java/17.0.2", None, OpenKind.SCANNER, "a Java HTTP library"),
    ("okhttp/4.12.0", None, OpenKind.SCANNER, "a Java HTTP library"),
    ("libwww-perl/6.72", None, OpenKind.SCANNER, "a Perl HTTP library"),
    (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0.0.0 Safari/537.36",
        None,
        OpenKind.SCANNER,
        "a headless browser (automated sandbox)",
    ),
    ("", None, OpenKind.SCANNER, "no User-Agent: mail clients always send one"),
    (None, 3600.0, OpenKind.SCANNER, "no User-Agent: mail clients always send one"),
    ("   ", None, OpenKind.SCANNER, "no User-Agent: mail clients always send one"),
    (THUNDERBIRD, None, OpenKind.HUMAN, "a mail client's user agent"),
    (THUNDERBIRD, 10.0, OpenKind.HUMAN, "a mail client's user agent"),
    (THUNDERBIRD, 9.5, OpenKind.PREFETCH, "fetched 9.5 s after sending (under 10 s)"),
    (IPHONE, 0.2, OpenKind.PREFETCH, "fetched 0.2 s after sending (under 10 s)"),
    (IPHONE, -3.0, OpenKind.PREFETCH, "fetched 0.0 s after sending (under 10 s)"),
    # Desktop Outlook showing a message to its user is a person, not a scanner.
    (OUTLOOK, 600.0, OpenKind.HUMAN, "a mail client's user agent"),
    (OUTLOOK_NEW, 600.0, OpenKind.HUMAN, "a mail client's user agent"),
    (IPHONE, 86400.0, OpenKind.HUMAN, "a mail client's user agent"),
    # Only the bare string is Apple's proxy; a full browser string is not.
    ("Mozilla/5.0 (Macintosh)", None, OpenKind.HUMAN, "a mail client's user agent"),
    # "bot" as part of a longer word is not a crawler's self-identification.
    ("Mozilla/5.0 Abbotsford-Mail/2.0x", None, OpenKind.HUMAN, "a mail client's user agent"),
]


@pytest.mark.parametrize(("agent", "since", "kind", "reason"), VECTORS)
def test_vectors(agent: str | None, since: float | None, kind: OpenKind, reason: str) -> None:
    assert explain(agent, seconds_since_sent=since) == Classification(kind=kind, reason=reason)
    assert classify(agent, seconds_since_sent=since) is kind


def test_prefetch_window_is_configurable() -> None:
    assert explain(THUNDERBIRD, seconds_since_sent=45.0, prefetch_seconds=60) == Classification(
        kind=OpenKind.PREFETCH, reason="fetched 45.0 s after sending (under 60 s)"
    )
    assert classify(THUNDERBIRD, seconds_since_sent=1.0, prefetch_seconds=0) is OpenKind.HUMAN


@pytest.mark.parametrize(
    ("kind", "automatic"),
    [
        (OpenKind.HUMAN, False),
        (OpenKind.PROXY, None),
        (OpenKind.SCANNER, True),
        (OpenKind.PREFETCH, True),
    ],
)
def test_automatic(kind: OpenKind, automatic: bool | None) -> None:
    assert kind.automatic is automatic
    assert Classification(kind=kind, reason="r").automatic is automatic


def test_values() -> None:
    assert [str(k) for k in OpenKind] == ["human", "proxy", "scanner", "prefetch"]


def test_long_user_agent_is_matched_on_its_start() -> None:
    assert classify("curl/8.0 " + "x" * 100_000) is OpenKind.SCANNER
    assert classify("x" * 2000 + " curl/8.0") is OpenKind.HUMAN


@given(st.one_of(st.none(), st.text(max_size=300)), st.one_of(st.none(), st.floats()))
def test_any_input_gets_a_label(agent: str | None, since: float | None) -> None:
    verdict = explain(agent, seconds_since_sent=since)
    assert verdict.kind in OpenKind
    assert verdict.reason
