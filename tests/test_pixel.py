"""mdnkit.pixel: URLs, personalised copies, and the whole loop over real HTTP."""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest

from mdnkit import RequestError, Tracker
from mdnkit.events import EventType, Source
from mdnkit.pixel import GIF, Personalized, Pixel
from mdnkit.pixel._html import img_tag

KEY = b"k" * 32
FOREIGN = b"f" * 32
BASE = "https://t.example.org/o/"
MID = "20261127.7@mail.example.org"
TOKEN_URL = re.compile(re.escape(BASE) + r"([A-Za-z0-9_-]{48})\.gif\Z")


@pytest.fixture
def tracker() -> Iterator[Tracker]:
    with Tracker() as t:
        yield t


@pytest.fixture
def pixel(tracker: Tracker) -> Pixel:
    return Pixel(tracker, keys=[KEY], base_url=BASE)


def newsletter(message_id: str | None = f"<{MID}>") -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "bob@example.net, carol@example.com"
    msg["Subject"] = "November news"
    if message_id is not None:
        msg["Message-ID"] = message_id
    msg.set_content("Hello,\nplain version.\n")
    msg.add_alternative(
        "<html><head><title>N</title></head><body><p>Hello, rich version.</p></body></html>\n",
        subtype="html",
    )
    return msg


# -- url ---------------------------------------------------------------------------


def test_url_is_opaque_and_registered(pixel: Pixel, tracker: Tracker) -> None:
    url = pixel.url(f" <{MID}> ", "Bob.Smith@Example.NET")
    match = TOKEN_URL.match(url)
    assert match is not None
    assert not {"bob", "smith", "example", "mail", "20261127"} & set(
        re.split(r"[^a-z0-9]+", match.group(1).lower())
    )
    token_id = pixel.wsgi_app()._signer.verify(match.group(1))
    assert token_id is not None
    assert tracker.resolve_token(token_id) == (MID, "Bob.Smith@example.net")


def test_every_url_is_new(pixel: Pixel) -> None:
    urls = {pixel.url(MID, "bob@example.net") for _ in range(50)}
    assert len(urls) == 50


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://t.example.org/o/", "https://t.example.org/o/"),
        ("https://t.example.org/o", "https://t.example.org/o/"),
        ("http://localhost:8025", "http://localhost:8025/"),
    ],
)
def test_base_url(tracker: Tracker, base: str, expected: str) -> None:
    pixel = Pixel(tracker, keys=[KEY], base_url=base)
    assert pixel.base_url == expected
    assert pixel.url(MID, "bob@example.net").startswith(expected)


@pytest.mark.parametrize(
    ("base", "message"),
    [
        (
            "ftp://t.example.org/o/",
            "base_url must be an http or https URL, not 'ftp://t.example.org/o/'",
        ),
        ("t.example.org/o/", "base_url must be an http or https URL, not 't.example.org/o/'"),
        ("https:///o/", "base_url must be an http or https URL, not 'https:///o/'"),
        (
            "https://t.example.org/o/\r\nX: y",
            "base_url must be a string without control characters",
        ),
        (
            'https://t.example.org/o/"onerror="x',
            "base_url must be a plain URL without query or quotes: "
            "'https://t.example.org/o/\"onerror=\"x'",
        ),
        (
            "https://t.example.org/o/?a=1",
            "base_url must be a plain URL without query or quotes: 'https://t.example.org/o/?a=1'",
        ),
        (b"https://t.example.org/", "base_url must be a string without control characters"),
    ],
)
def test_bad_base_url(tracker: Tracker, base: object, message: str) -> None:
    with pytest.raises(RequestError) as info:
        Pixel(tracker, keys=[KEY], base_url=base)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_bad_settings(tracker: Tracker) -> None:
    with pytest.raises(RequestError) as info:
        Pixel(tracker, keys=[KEY], base_url=BASE, client_address="hash")  # type: ignore[arg-type]
    assert str(info.value) == "client_address must be 'truncate', 'full' or 'drop', not 'hash'"
    with pytest.raises(RequestError) as info:
        Pixel(tracker, keys=[b"short"], base_url=BASE)
    assert str(info.value) == (
        "key 0 is 5 bytes long; a key needs at least 16 random bytes (secrets.token_bytes(32))"
    )


@pytest.mark.parametrize(
    ("message_id", "recipient", "message"),
    [
        (
            MID,
            "bob@example.net\r\nBcc: eve@example.com",
            "not a valid mailbox address (addr-spec): 'bob@example.net\\r\\nBcc: eve@example.com'",
        ),
        (
            MID,
            "bob@example.net\u2028",
            "not a valid mailbox address (addr-spec): 'bob@example.net\\u2028'",
        ),
        (
            MID,
            "bob\x00@example.net",
            "not a valid mailbox address (addr-spec): 'bob\\x00@example.net'",
        ),
        (
            MID,
            "Bob <bob@example.net>",
            "not a valid mailbox address (addr-spec): 'Bob <bob@example.net>'",
        ),
        (MID, "bob", "not a valid mailbox address (addr-spec): 'bob'"),
        (MID, "", "not a valid mailbox address (addr-spec): ''"),
        (MID, None, "recipient must be a string, not NoneType"),
        ("<a@b>\r\nX: y", "bob@example.net", "invalid Message-ID: '<a@b>\\r\\nX: y'"),
        ("<>", "bob@example.net", "invalid Message-ID: '<>'"),
        ("", "bob@example.net", "invalid Message-ID: ''"),
        ("<a@b> <c@d>", "bob@example.net", "invalid Message-ID: '<a@b> <c@d>'"),
        (42, "bob@example.net", "message_id must be a string, not int"),
    ],
)
def test_url_refuses_bad_input(
    pixel: Pixel, tracker: Tracker, message_id: object, recipient: object, message: str
) -> None:
    with pytest.raises(RequestError) as info:
        pixel.url(message_id, recipient)  # type: ignore[arg-type]
    assert str(info.value) == message


# -- personalize ---------------------------------------------------------------------


def test_personalize_inserts_one_pixel(pixel: Pixel, tracker: Tracker) -> None:
    original = newsletter()
    before = original.as_bytes()
    result = pixel.personalize(original, "bob@example.net")
    assert original.as_bytes() == before  # the original is untouched
    assert result.inserted is True
    assert result.url is not None
    assert TOKEN_URL.match(result.url)
    copy_ = result.message
    assert copy_ is not original
    assert [p.get_content_type() for p in copy_.walk()] == [
        "multipart/alternative",
        "text/plain",
        "text/html",
    ]
    plain, html = copy_.get_payload()  # type: ignore[misc]
    assert plain.get_content() == "Hello,\nplain version.\n"
    assert html.get_content() == (
        "<html><head><title>N</title></head><body><p>Hello, rich version.</p>\n"
        f"{img_tag(result.url)}\n</body></html>\n"
    )
    # Headers are those of the original: the copy is for one recipient, not re-addressed.
    assert copy_.items() == original.items()
    # And it survives the wire.
    reparsed = email.message_from_bytes(copy_.as_bytes(), policy=email.policy.default)
    assert isinstance(reparsed, EmailMessage)
    body = reparsed.get_body(preferencelist=("html",))
    assert body is not None
    assert body["Content-Transfer-Encoding"] == html["Content-Transfer-Encoding"]
    assert body.get_content() == html.get_content()


def test_personalize_each_recipient_gets_its_own_token(pixel: Pixel, tracker: Tracker) -> None:
    msg = newsletter()
    bob = pixel.personalize(msg, "bob@example.net")
    carol = pixel.personalize(msg, "carol@example.com")
    assert bob.url != carol.url
    assert bob.url is not None
    assert carol.url is not None
    signer = pixel.wsgi_app()._signer
    for result, who in ((bob, "bob@example.net"), (carol, "carol@example.com")):
        assert result.url is not None
        token_id = signer.verify(TOKEN_URL.match(result.url).group(1))  # type: ignore[union-attr]
        assert token_id is not None
        assert tracker.resolve_token(token_id) == (MID, who)


def test_personalize_without_html(pixel: Pixel, tracker: Tracker) -> None:
    msg = EmailMessage()
    msg["Message-ID"] = f"<{MID}>"
    msg.set_content("text only\n")
    result = pixel.personalize(msg, "bob@example.net")
    assert result == Personalized(message=result.message, inserted=False, url=None)
    assert result.message is not msg
    assert result.message.as_bytes() == msg.as_bytes()


def test_personalize_unknown_encoding_returns_an_unchanged_copy(pixel: Pixel) -> None:
    raw = (
        f"Message-ID: <{MID}>\r\nContent-Type: text/html\r\n"
        "Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 x\r\n"
    ).encode()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    result = pixel.personalize(msg, "bob@example.net")
    assert (result.inserted, result.url) == (False, None)
    assert result.message.as_bytes() == msg.as_bytes()


def test_personalize_legacy_message(pixel: Pixel) -> None:
    msg = email.message_from_string(
        f"Message-ID: <{MID}>\nContent-Type: text/html; charset=us-ascii\n\n<body>x</body>\n"
    )
    result = pixel.personalize(msg, "bob@example.net")
    assert result.url is not None
    assert type(result.message) is type(msg)
    assert result.message.get_payload() == f"<body>x\n{img_tag(result.url)}\n</body>\n"
    assert msg.get_payload() == "<body>x</body>\n"


@pytest.mark.parametrize(
    ("message_id", "message"),
    [
        (None, "the message has no Message-ID: set one before personalising"),
        ("   ", "the message has no Message-ID: set one before personalising"),
    ],
)
def test_personalize_needs_a_message_id(pixel: Pixel, message_id: str | None, message: str) -> None:
    with pytest.raises(RequestError) as info:
        pixel.personalize(newsletter(message_id), "bob@example.net")
    assert str(info.value) == message


def test_personalize_refuses_bad_input(pixel: Pixel) -> None:
    with pytest.raises(RequestError) as info:
        pixel.personalize(b"From: a@b\r\n\r\nx", "bob@example.net")  # type: ignore[type-var]
    assert str(info.value) == "expected an email message, not bytes"
    with pytest.raises(RequestError) as info:
        pixel.personalize(newsletter(), "bob@example.net\nBcc: eve@example.com")
    assert str(info.value) == (
        "not a valid mailbox address (addr-spec): 'bob@example.net\\nBcc: eve@example.com'"
    )


# -- the whole loop, over real HTTP -----------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Pixel, Tracker, str]]:
    tracker = Tracker(tmp_path / "receipts.db")
    server: WSGIServer = make_server("127.0.0.1", 0, lambda e, s: [], handler_class=_Quiet)
    base = f"http://127.0.0.1:{server.server_address[1]}/o/"
    pixel = Pixel(tracker, keys=[KEY], base_url=base)
    server.set_app(pixel.wsgi_app())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield pixel, tracker, base
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        tracker.close()


def fetch(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url,
        method=method,
        headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Thunderbird/128.5.0"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, dict(response.headers.items()), response.read()


def test_real_http_open_is_recorded_once(served: tuple[Pixel, Tracker, str]) -> None:
    pixel, tracker, _ = served
    msg = newsletter()
    tracker.record_sent(msg, sent_at=datetime.now(UTC) - timedelta(hours=1))
    for rcpt in ("bob@example.net", "carol@example.com"):
        pixel.personalize(msg, rcpt)
    bob = pixel.personalize(msg, "bob@example.net")
    # What a mail client does: read the HTML, find the image, fetch it.
    html = bob.message.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    src = re.search(r'<img src="([^"]+)"', html)
    assert src is not None
    assert src.group(1) == bob.url
    status, headers, body = fetch(src.group(1))
    assert (status, body) == (200, GIF)
    assert headers["Content-Type"] == "image/gif"
    assert headers["Cache-Control"] == "no-store, no-cache, must-revalidate, private, max-age=0"
    assert "Set-Cookie" not in headers
    state = tracker.status(MID)
    assert [(r.recipient, r.opens, r.read) for r in state.recipients] == [
        ("bob@example.net", 1, EventType.OPENED),
        ("carol@example.com", 0, None),
    ]
    (event,) = tracker.events(message_id=MID)
    assert (event.source, event.correlated_by, event.automatic) == (Source.PIXEL, "token", False)
    assert event.detail["client_address"] == "127.0.0.0/24"


def test_real_http_forged_and_foreign_tokens(served: tuple[Pixel, Tracker, str]) -> None:
    pixel, tracker, base = served
    genuine = pixel.url(MID, "bob@example.net")
    token = TOKEN_URL.match(genuine.replace(base, BASE))
    assert token is not None
    tampered = base + token.group(1)[:-2] + ("AA" if token.group(1)[-2:] != "AA" else "BB") + ".gif"
    foreign = Pixel(tracker, keys=[FOREIGN], base_url=base).url(MID, "bob@example.net")
    for url in (tampered, foreign, base + "nothing.gif", base + "%C3%A9t%C3%A9.gif"):
        assert fetch(url)[::2] == (200, GIF)
    assert fetch(foreign, method="HEAD")[::2] == (200, b"")
    assert list(tracker.events()) == []


def test_import_mdnkit_does_not_import_the_pixel() -> None:
    code = "import sys, mdnkit; mdnkit.Tracker; mdnkit.parse; print('mdnkit.pixel' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout == "False\n"
