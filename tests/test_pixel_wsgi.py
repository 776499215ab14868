"""The pixel endpoint: always the GIF, an event only for a genuine token."""

from __future__ import annotations

import dataclasses
import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdnkit import Tracker
from mdnkit.events import Event, EventType, Source
from mdnkit.pixel import GIF, Pixel
from mdnkit.pixel._token import Signer
from mdnkit.pixel._wsgi import MAX_PATH, client_address

KEY = b"k" * 32
OLD = b"o" * 32
FOREIGN = b"f" * 32
BASE = "https://t.example.org/o/"
NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
MID = "20261127.42@mail.example.org"
RCPT = "bob@Example.NET"
THUNDERBIRD = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0"
GMAIL = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"

GIF_HEADERS = [
    ("Content-Type", "image/gif"),
    ("Content-Length", "43"),
    ("Cache-Control", "no-store, no-cache, must-revalidate, private, max-age=0"),
    ("Pragma", "no-cache"),
    ("Expires", "Thu, 01 Jan 1970 00:00:00 GMT"),
    ("X-Content-Type-Options", "nosniff"),
]


@dataclasses.dataclass
class Response:
    status: str
    headers: list[tuple[str, str]]
    body: bytes


def call(
    app: Any,
    path: str,
    method: str = "GET",
    remote: str = "198.51.100.77",
    *,
    validate: bool = True,
    **headers: str,
) -> Response:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "REMOTE_ADDR": remote,
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "wsgi.input": io.BytesIO(),
    }
    setup_testing_defaults(environ)
    for name, value in headers.items():
        environ["HTTP_" + name.upper()] = value
    seen: dict[str, Any] = {}

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Any:
        seen["status"], seen["headers"] = status, response_headers
        return lambda data: None

    # wsgiref.validate checks every PEP 3333 rule on both sides of the call
    # (it also refuses some requests a real server passes on: odd methods,
    # paths without a leading slash; those are sent to the app directly).
    result = (validator(app) if validate else app)(environ, start_response)
    try:
        body = b"".join(result)
    finally:
        if hasattr(result, "close"):
            result.close()
    return Response(seen["status"], seen["headers"], body)


@pytest.fixture
def clock() -> list[datetime]:
    return [NOW]


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    with Tracker() as t:
        yield t


@pytest.fixture
def pixel(tracker: Tracker, clock: list[datetime]) -> Pixel:
    return Pixel(tracker, keys=[KEY, OLD], base_url=BASE, clock=lambda: clock[0])


def token_of(url: str) -> str:
    assert url.startswith(BASE)
    assert url.endswith(".gif")
    return url[len(BASE) : -len(".gif")]


def record(tracker: Tracker, sent_at: datetime = NOW - timedelta(hours=1)) -> None:
    msg = EmailMessage()
    msg["From"] = "alice@example.org"
    msg["To"] = "bob@example.net, carol@example.com"
    msg["Message-ID"] = f"<{MID}>"
    tracker.record_sent(msg, sent_at=sent_at)


def only_event(tracker: Tracker) -> Event:
    events = list(tracker.events())
    assert len(events) == 1
    return events[0]


def test_genuine_get_records_one_open(pixel: Pixel, tracker: Tracker) -> None:
    record(tracker)
    url = pixel.url(f"<{MID}>", RCPT)
    response = call(pixel.wsgi_app(), "/o/" + token_of(url) + ".gif", user_agent=THUNDERBIRD)
    assert response == Response("200 OK", GIF_HEADERS, GIF)
    event = only_event(tracker)
    assert event == Event(
        event_id=event.event_id,
        type=EventType.OPENED,
        source=Source.PIXEL,
        message_id=MID,
        recipient="bob@example.net",
        timestamp=NOW,
        automatic=False,
        correlated_by="token",
        detail={
            "open_kind": "human",
            "reason": "a mail client's user agent",
            "method": "GET",
            "user_agent": THUNDERBIRD,
            "client_address": "198.51.100.0/24",
            "ref_message_id": MID,
            "ref_by": "token",
            "recipient_by": "token",
        },
    )
    assert len(event.event_id) == 32
    status = tracker.status(MID).recipient("bob@example.net")
    assert status is not None
    assert (status.opens, status.first_opened_at, status.read) == (1, NOW, EventType.OPENED)


def test_every_hit_is_an_event(pixel: Pixel, tracker: Tracker, clock: list[datetime]) -> None:
    record(tracker)
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    app = pixel.wsgi_app()
    for minutes in (0, 0, 5):  # the same second twice still counts twice
        clock[0] = NOW + timedelta(minutes=minutes)
        assert call(app, path, user_agent=GMAIL).body == GIF
    status = tracker.status(MID).recipient("bob@example.net")
    assert status is not None
    assert (status.opens, status.first_opened_at, status.read_automatic) == (3, NOW, None)
    assert {e.detail["open_kind"] for e in tracker.events()} == {"proxy"}
    assert len({e.event_id for e in tracker.events()}) == 3


def test_head_is_answered_and_labelled_a_scanner(pixel: Pixel, tracker: Tracker) -> None:
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    response = call(pixel.wsgi_app(), path, method="HEAD", user_agent=THUNDERBIRD)
    assert response == Response("200 OK", GIF_HEADERS, b"")
    event = only_event(tracker)
    assert (event.automatic, event.detail["open_kind"], event.detail["method"]) == (
        True,
        "scanner",
        "HEAD",
    )
    assert event.detail["reason"] == "a HEAD request checks the image without showing it"


def test_prefetch_right_after_sending(pixel: Pixel, tracker: Tracker) -> None:
    record(tracker, sent_at=NOW - timedelta(seconds=2))
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    call(pixel.wsgi_app(), path, user_agent=THUNDERBIRD)
    event = only_event(tracker)
    assert (event.automatic, event.detail["open_kind"], event.detail["reason"]) == (
        True,
        "prefetch",
        "fetched 2.0 s after sending (under 10 s)",
    )


def test_token_without_recorded_message_is_still_tied(pixel: Pixel, tracker: Tracker) -> None:
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    call(pixel.wsgi_app(), path, user_agent="")
    event = only_event(tracker)
    assert (event.message_id, event.recipient, event.automatic) == (MID, "bob@example.net", True)
    assert "user_agent" not in event.detail
    assert event.detail["open_kind"] == "scanner"


@pytest.mark.parametrize(
    "method", ["POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "get", "PROPFIND"]
)
def test_other_methods(pixel: Pixel, tracker: Tracker, method: str) -> None:
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    valid = method in ("POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE")
    response = call(pixel.wsgi_app(), path, method=method, validate=valid)
    assert response == Response(
        "405 Method Not Allowed",
        [
            ("Allow", "GET, HEAD"),
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", "0"),
            *GIF_HEADERS[2:],
        ],
        b"",
    )
    assert list(tracker.events()) == []


def _tamper(token: str) -> str:
    return token[:10] + ("A" if token[10] != "A" else "B") + token[11:]


BAD_PATHS = [
    # (description, path maker from a genuine token)
    ("tampered", lambda t: f"/o/{_tamper(t)}.gif"),
    ("truncated", lambda t: f"/o/{t[:-1]}.gif"),
    ("extended", lambda t: f"/o/{t}A.gif"),
    ("no suffix", lambda t: f"/o/{t}"),
    ("other suffix", lambda t: f"/o/{t}.png"),
    ("suffix twice", lambda t: f"/o/{t}.gif.gif"),
    ("garbage", lambda t: "/o/not-a-token.gif"),
    ("root", lambda t: "/"),
    ("empty", lambda t: ""),
    ("dot segments", lambda t: "/o/../../etc/passwd"),
    ("very long", lambda t: "/o/" + "A" * 100_000 + t + ".gif"),
    ("just too long", lambda t: "/" * (MAX_PATH - 52) + f"/{t}.gif"),
    ("non-ASCII", lambda t: "/o/\u00e9\u00e8" + t[2:] + ".gif"),
    ("percent-decoded NUL", lambda t: f"/o/{t[:-1]}\x00.gif"),
]


@pytest.mark.parametrize(("name", "make"), BAD_PATHS, ids=[n for n, _ in BAD_PATHS])
def test_bad_paths_get_the_gif_and_record_nothing(
    pixel: Pixel, tracker: Tracker, name: str, make: Any
) -> None:
    token = token_of(pixel.url(MID, "bob@example.net"))
    path = make(token)
    assert call(pixel.wsgi_app(), path, user_agent=THUNDERBIRD) == Response(
        "200 OK", GIF_HEADERS, GIF
    )
    assert list(tracker.events()) == []


def test_any_prefix_before_the_token(pixel: Pixel, tracker: Tracker) -> None:
    # Behind a proxy that strips or changes the mount point, the MAC decides.
    token = token_of(pixel.url(MID, "bob@example.net"))
    call(pixel.wsgi_app(), f"/{token}.gif", user_agent=THUNDERBIRD)
    call(pixel.wsgi_app(), f"/a/b/c/{token}.gif", user_agent=THUNDERBIRD)
    assert len(list(tracker.events())) == 2


def test_foreign_key_and_retired_key(tracker: Tracker, clock: list[datetime]) -> None:
    foreign = Pixel(tracker, keys=[FOREIGN], base_url=BASE)
    old_only = Pixel(tracker, keys=[OLD], base_url=BASE)
    current = Pixel(tracker, keys=[KEY], base_url=BASE, clock=lambda: clock[0])
    foreign_token = token_of(foreign.url(MID, "bob@example.net"))
    old_token = token_of(old_only.url(MID, "carol@example.com"))
    app = current.wsgi_app()
    for token in (foreign_token, old_token):
        assert call(app, f"/o/{token}.gif").body == GIF
    assert list(tracker.events()) == []
    # The rotated configuration still accepts the old key's tokens.
    rotated = Pixel(tracker, keys=[KEY, OLD], base_url=BASE, clock=lambda: clock[0])
    call(rotated.wsgi_app(), f"/o/{old_token}.gif", user_agent=THUNDERBIRD)
    assert only_event(tracker).recipient == "carol@example.com"


def test_genuine_token_unknown_to_the_tracker(
    pixel: Pixel, tracker: Tracker, caplog: pytest.LogCaptureFixture
) -> None:
    token, token_id = Signer([KEY]).new()  # signed by us, never registered
    with caplog.at_level(logging.WARNING, logger="mdnkit.pixel"):
        assert call(pixel.wsgi_app(), f"/o/{token}.gif").body == GIF
    assert list(tracker.events()) == []
    assert caplog.messages == [f"genuine pixel token {token_id} unknown to the tracker"]


def test_store_failure_still_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, clock: list[datetime]
) -> None:
    tracker = Tracker(tmp_path / "receipts.db")
    pixel = Pixel(tracker, keys=[KEY], base_url=BASE, clock=lambda: clock[0])
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    tracker.close()  # every store call fails from now on
    with caplog.at_level(logging.ERROR, logger="mdnkit.pixel"):
        assert call(pixel.wsgi_app(), path) == Response("200 OK", GIF_HEADERS, GIF)
    assert caplog.messages == ["pixel hit not recorded"]


def test_sqlite_store_keeps_the_open(tmp_path: Path, clock: list[datetime]) -> None:
    db = tmp_path / "receipts.db"
    with Tracker(db) as tracker:
        record(tracker)
        pixel = Pixel(tracker, keys=[KEY], base_url=BASE, clock=lambda: clock[0])
        path = "/o/" + token_of(pixel.url(MID, "carol@example.com")) + ".gif"
        call(pixel.wsgi_app(), path, user_agent=THUNDERBIRD, remote="2001:db8:1234:5678::9")
    with Tracker(db) as reopened:
        event = only_event(reopened)
        assert (event.message_id, event.recipient, event.detail["client_address"]) == (
            MID,
            "carol@example.com",
            "2001:db8:1234::/48",
        )
        status = reopened.status(MID)
        assert [(r.recipient, r.opens) for r in status.recipients] == [
            ("bob@example.net", 0),
            ("carol@example.com", 1),
        ]


@pytest.mark.parametrize(
    ("mode", "trust", "remote", "forwarded", "expected"),
    [
        ("truncate", False, "198.51.100.77", None, "198.51.100.0/24"),
        ("truncate", False, "2001:db8:abcd:12::1", None, "2001:db8:abcd::/48"),
        ("truncate", False, "::ffff:192.0.2.9", None, "192.0.2.0/24"),
        ("truncate", False, "fe80::1%eth0", None, "fe80::/48"),
        ("full", False, "198.51.100.77", None, "198.51.100.77"),
        ("full", False, "2001:DB8::1", None, "2001:db8::1"),
        ("drop", False, "198.51.100.77", None, None),
        ("truncate", False, "not an address", None, None),
        ("truncate", False, "", None, None),
        # Not trusted: X-Forwarded-For is ignored.
        ("full", False, "10.0.0.1", "192.0.2.1", "10.0.0.1"),
        # Trusted: the right-most entry, the one our proxy added.
        ("full", True, "10.0.0.1", "203.0.113.5, 192.0.2.1", "192.0.2.1"),
        ("truncate", True, "10.0.0.1", "192.0.2.1", "192.0.2.0/24"),
        ("full", True, "10.0.0.1", "", "10.0.0.1"),
        ("full", True, "10.0.0.1", "garbage", None),
        ("drop", True, "10.0.0.1", "192.0.2.1", None),
        # A huge header: only its tail is kept, and the right-most entry is in it.
        ("full", True, "10.0.0.1", "203.0.113.5, " * 1000 + "192.0.2.9", "192.0.2.9"),
    ],
)
def test_client_address(
    tracker: Tracker,
    mode: Any,
    trust: bool,
    remote: str,
    forwarded: str | None,
    expected: str | None,
) -> None:
    pixel = Pixel(tracker, keys=[KEY], base_url=BASE, client_address=mode, trust_forwarded=trust)
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    headers = {"user_agent": THUNDERBIRD}
    if forwarded is not None:
        headers["x_forwarded_for"] = forwarded
    call(pixel.wsgi_app(), path, remote=remote, **headers)
    assert only_event(tracker).detail.get("client_address") == expected


def test_client_address_function_bounds_its_input() -> None:
    assert client_address("1" * 65, "full") is None
    assert client_address("[2001:db8::1]", "full") == "2001:db8::1"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("0.0.0.0", "0.0.0.0/24"),
        ("255.255.255.255", "255.255.255.0/24"),
        ("256.1.1.1", None),
        ("198.051.100.1", None),  # leading zeros: octal to some parsers, refused
        ("1.2.3", None),
        ("1.2.3.4.5", None),
        ("\u0663.1.1.1", None),  # a non-ASCII digit
        ("+1.2.3.4", None),
    ],
)
def test_client_address_ipv4(raw: str, expected: str | None) -> None:
    assert client_address(raw, "truncate") == expected


def _reference(raw: str) -> str | None:
    import ipaddress

    try:
        address = ipaddress.ip_address(raw.strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@given(
    st.one_of(
        st.ip_addresses().map(str),
        st.lists(st.text("0123456789", max_size=4), min_size=3, max_size=5).map(".".join),
        st.text(max_size=40),
    )
)
def test_client_address_truncation_matches_ipaddress(raw: str) -> None:
    assert client_address(raw, "truncate") == (_reference(raw) if len(raw) <= 64 else None)


def test_control_characters_in_user_agent_are_masked(pixel: Pixel, tracker: Tracker) -> None:
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    call(pixel.wsgi_app(), path, user_agent="Thunderbird\x1b[2J\x07/128\x85", validate=False)
    assert only_event(tracker).detail["user_agent"] == "Thunderbird?[2J?/128?"


def test_long_user_agent_is_cut(pixel: Pixel, tracker: Tracker) -> None:
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    call(pixel.wsgi_app(), path, user_agent="Thunderbird/128 " + "x" * 10_000)
    assert only_event(tracker).detail["user_agent"] == "Thunderbird/128 " + "x" * 496


METHODS = st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "BREW", ""])
# PEP 3333 native strings: code points below 256 ("bytes as unicode").
LATIN1 = st.text(alphabet=st.characters(max_codepoint=255), max_size=700)


@given(path=st.one_of(LATIN1, st.builds(lambda s: "/o/" + s + ".gif", LATIN1)), method=METHODS)
def test_any_request_gets_the_gif_or_405(path: str, method: str) -> None:
    tracker = Tracker()
    pixel = Pixel(tracker, keys=[KEY], base_url=BASE, clock=lambda: NOW)
    response = call(pixel.wsgi_app(), path, method=method, validate=False, user_agent="x")
    if method in ("GET", "HEAD"):
        assert response == Response("200 OK", GIF_HEADERS, GIF if method == "GET" else b"")
    else:
        assert response.status == "405 Method Not Allowed"
    assert list(tracker.events()) == []


def test_missing_environ_keys_still_get_the_gif() -> None:
    pixel = Pixel(Tracker(), keys=[KEY], base_url=BASE)
    seen: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append(status)

    assert b"".join(pixel.wsgi_app()({}, start_response)) == GIF
    assert seen == ["200 OK"]


def test_background_app_keeps_what_the_default_app_keeps(
    tmp_path: Path, clock: list[datetime], caplog: pytest.LogCaptureFixture
) -> None:
    with Tracker(tmp_path / "r.db") as tracker:
        record(tracker)
        pixel = Pixel(tracker, keys=[KEY], base_url=BASE, clock=lambda: clock[0])
        path = "/o/" + token_of(pixel.url(MID, "carol@example.com")) + ".gif"
        stray, stray_id = Signer([KEY]).new()  # genuine, never registered
        default = pixel.wsgi_app()
        background = pixel.wsgi_app(background=True)
        with caplog.at_level(logging.WARNING, logger="mdnkit.pixel"):
            for app in (default, background):
                for method, agent in (("GET", THUNDERBIRD), ("HEAD", "curl/8.0")):
                    call(app, path, method, user_agent=agent)
                call(app, f"/o/{stray}.gif", user_agent=THUNDERBIRD)
            background.flush()
        background.close()
        events = list(tracker.events())
        # Each hit its own event, with an id of 32 hex digits; the rest alike.
        assert len({e.event_id for e in events}) == 4
        assert all(len(e.event_id) == 32 and int(e.event_id, 16) >= 0 for e in events)
        plain = [dataclasses.replace(e, event_id="") for e in events]
        assert plain[:2] == plain[2:]
        assert [e.detail["open_kind"] for e in events[:2]] == ["human", "scanner"]
        assert caplog.messages == [f"genuine pixel token {stray_id} unknown to the tracker"] * 2


def test_event_ids_of_one_app_are_counted() -> None:
    tracker = Tracker()
    pixel = Pixel(tracker, keys=[KEY], base_url=BASE)
    path = "/o/" + token_of(pixel.url(MID, "bob@example.net")) + ".gif"
    app = pixel.wsgi_app()
    for _ in range(3):
        call(app, path, user_agent=THUNDERBIRD)
    ids = [e.event_id for e in tracker.events()]
    prefix = ids[0][:16]
    assert ids == [f"{prefix}{n:016x}" for n in (1, 2, 3)]
    other = pixel.wsgi_app()
    call(other, path, user_agent=THUNDERBIRD)
    assert list(tracker.events())[-1].event_id[:16] != prefix  # a new app draws a new half
