"""Cross-cutting attacks: header injection through the builders, token forgery,
SQL metacharacters through every string input, hostile store files.

Each module has its own tests; these feed the same hostile values through
every public entry point at once and check what comes out the other end
(the serialised message, the database file), not the code path.
"""

from __future__ import annotations

import email
import email.errors
import email.policy
import inspect
import io
import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import mdnkit
from mdnkit import pixel
from mdnkit.errors import MdnkitError, ParseError, RequestError, StoreError
from mdnkit.model import MDN, MessageRef, RefSource
from mdnkit.pixel import _token
from mdnkit.request import split_mailboxes
from mdnkit.respond import mdn_envelope
from mdnkit.store import SQLiteStore

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
KEY = b"k" * 32

# Pieces a header injection is made of: line breaks of every kind (RFC 5322
# §2.2 allows only CRLF-folding; Python's str.splitlines() also breaks on
# U+0085, U+2028, U+2029, which the email package's header folder honours),
# NUL, encoded words that decode to CRLF + a new field (RFC 2047 §5 says
# they must not be decoded into structure, some clients do), and plain text.
INJECTION_PIECES = [
    "\r",
    "\n",
    "\r\n",
    "\r\n ",
    "\u2028",
    "\u2029",
    "\x85",
    "\x00",
    "\x0b",
    "\x0c",
    "=?utf-8?b?DQpCY2M6IGV2aWxAeC5leGFtcGxl?=",  # "\r\nBcc: evil@x.example"
    "=?utf-8?q?=0D=0ABcc:_evil@x.example?=",
    "Bcc: evil@x.example",
    "X-Injected: 1",
    "a",
    "b.example",
    "@",
    "<",
    ">",
    '"',
    " ",
    ",",
    ";",
    ":",
    "é",
    "x" * 300,
]
HOSTILE = st.lists(st.sampled_from(INJECTION_PIECES), min_size=1, max_size=12).map("".join)
# A valid mailbox with hostile text glued on somewhere.
HOSTILE_MAILBOX = (
    st.builds(lambda before, after: before + "reader@receiver.example" + after, HOSTILE, HOSTILE)
    | HOSTILE
)


def header_names(raw: bytes) -> list[str]:
    """Field names of the top header block, as a receiving MTA would see them."""
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    return [name.lower() for name in parsed]


def assert_clean_header_block(raw: bytes) -> None:
    """Every line of the header block is a field or a fold; no stray control bytes."""
    head = raw.split(b"\r\n\r\n", 1)[0] if b"\r\n\r\n" in raw else raw.split(b"\n\n", 1)[0]
    for line in head.replace(b"\r\n", b"\n").split(b"\n"):
        assert line[:1] in (b" ", b"\t") or b":" in line, line[:120]
        assert not any(b < 0x20 and b != 0x09 for b in line), line[:120]
        assert b"\xc2\x85" not in line
        assert b"\xe2\x80\xa8" not in line
        assert b"\xe2\x80\xa9" not in line


def serialised(msg: Message) -> bytes:
    return msg.as_bytes(policy=email.policy.SMTP)


def outgoing() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Sender <sender@origin.example>"
    msg["To"] = "reader@receiver.example"
    msg["Subject"] = "Quarterly figures"
    msg["Message-ID"] = "<q1.42@origin.example>"
    msg.set_content("Hello.\n")
    msg.add_alternative("<html><body><p>Hello.</p></body></html>", subtype="html")
    return msg


ORIGINAL_FIELDS = ["from", "to", "subject", "message-id", "mime-version", "content-type"]


# ---------------------------------------------------------------------------
# Builders: no header injection through any argument


@given(HOSTILE_MAILBOX, st.booleans())
def test_request_receipt_notify_to(value: str, legacy: bool) -> None:
    msg = outgoing()
    try:
        mdnkit.request_receipt(msg, value, legacy=legacy)
    except RequestError:
        assert msg.get("Disposition-Notification-To") is None
        return
    raw = serialised(msg)
    assert_clean_header_block(raw)
    added = ["disposition-notification-to"] + (["return-receipt-to"] if legacy else [])
    assert sorted(header_names(raw)) == sorted(ORIGINAL_FIELDS + added)


@given(HOSTILE, HOSTILE, st.sampled_from(["required", "optional"]))
def test_request_receipt_options(attribute: str, value: str, importance: str) -> None:
    msg = outgoing()
    try:
        mdnkit.request_receipt(msg, options={attribute: (importance, [value])})
    except RequestError:
        return
    raw = serialised(msg)
    assert_clean_header_block(raw)
    assert sorted(header_names(raw)) == sorted(
        [*ORIGINAL_FIELDS, "disposition-notification-to", "disposition-notification-options"]
    )


@given(HOSTILE_MAILBOX)
def test_request_receipt_from_a_hostile_from_header(value: str) -> None:
    """The default notify_to is the From header: its value is checked too."""
    msg = Message()  # compat32 lets any value in, as a message read from a file would
    msg["From"] = value
    msg["Message-ID"] = "<q1.42@origin.example>"
    try:
        mdnkit.request_receipt(msg)
    except RequestError:
        return
    # The From header is the caller's own (broken or not); what mdnkit
    # added is one clean field.
    (added,) = msg.get_all("Disposition-Notification-To")
    unfolded = str(added).replace("\r\n ", " ").replace("\n ", " ")
    assert unfolded.isprintable(), unfolded
    assert "=?" not in unfolded


def hostile_original(subject: str, dnt_name: str, message_id: str) -> bytes:
    """A stranger's message asking for a receipt, with hostile header values."""
    return (
        f"From: stranger@sender.example\r\n"
        f"To: reader@receiver.example\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: {message_id}\r\n"
        f"Return-Path: <stranger@sender.example>\r\n"
        f'Disposition-Notification-To: "{dnt_name}" <stranger@sender.example>\r\n'
        f"\r\nbody\r\n"
    ).encode("utf-8", "surrogateescape")


MDN_FIELDS = {
    "from",
    "to",
    "subject",
    "message-id",
    "date",
    "in-reply-to",
    "references",
    "mime-version",
    "content-type",
    "auto-submitted",
}


def check_mdn(mdn: Message, *, extension: dict[str, str] | None = None) -> MDN:
    raw = serialised(mdn)
    assert_clean_header_block(raw)
    assert set(header_names(raw)) <= MDN_FIELDS
    found = mdnkit.parse(raw)
    assert isinstance(found, MDN)
    # The report part carries only the fields make_mdn writes (values trimmed).
    given = {k: v.strip() for k, v in (extension or {}).items()}
    assert {k: v.strip() for k, v in found.extension_fields} == given
    return found


@given(
    st.sampled_from(
        [
            "final_recipient",
            "reporting_ua",
            "original_recipient",
            "error",
            "message_id",
            "subject",
            "extension_name",
            "extension_value",
        ]
    ),
    HOSTILE_MAILBOX,
)
def test_make_mdn_arguments(argument: str, value: str) -> None:
    original = hostile_original("Figures", "Stranger", "<orig.1@sender.example>")
    kwargs: dict[str, Any] = {"final_recipient": "reader@receiver.example", "now": NOW}
    extension: dict[str, str] | None = None
    if argument == "extension_name":
        extension = {value: "1"}
    elif argument == "extension_value":
        extension = {"X-Note": value}
    else:
        kwargs[argument] = value
    try:
        mdn = mdnkit.make_mdn(
            original, disposition="displayed", extension_fields=extension, **kwargs
        )
    except RequestError:
        return
    found = check_mdn(mdn, extension=extension)
    if argument == "final_recipient":
        # The one mailbox of the value (a mailbox list may end with a
        # null member, RFC 5322 §4.4: "reader@receiver.example,").
        assert found.final_recipient is not None
        assert found.final_recipient.address == split_mailboxes(value)[0][1]


# An encoded word next to raw UTF-8 is not decoded by mdnkit; the email
# policy must not decode it either (regression: Subject gained a Bcc).
HOSTILE_SUBJECT = "=?utf-8?b?DQpCY2M6IGV2aWxAeC5leGFtcGxl?=\u00e9"


def test_make_mdn_leaves_no_encoded_word_for_the_policy_to_decode() -> None:
    original = hostile_original(HOSTILE_SUBJECT, HOSTILE_SUBJECT, "<ok.2@sender.example>")
    mdn = mdnkit.make_mdn(
        original, disposition="displayed", final_recipient="reader@receiver.example", now=NOW
    )
    raw = serialised(mdn)
    assert_clean_header_block(raw)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert str(parsed["Subject"]) == "Read: = ?utf-8?b?DQpCY2M6IGV2aWxAeC5leGFtcGxl?=é"
    assert "bcc" not in header_names(raw)
    check_mdn(mdn)


@pytest.mark.parametrize(
    ("message_id", "references", "in_reply_to"),
    [
        # An encoded word that decodes to CRLF + Bcc (regression: it was
        # decoded by the default policy and written as a Bcc field).
        (
            "=?utf-8?b?DQpCY2M6IGV2aWxAeC5leGFtcGxl?=",
            "<=?utf-8?q?=0D=0ABcc:_evil@x.example?=>",
            "<=?utf-8?b?DQpCY2M6IGV2aWxAeC5leGFtcGxl?=>",
        ),
        # A control character is dropped from the id before it is used.
        ("<a\x0bb@sender.example>", "<ok.1@sender.example>", "<ab@sender.example>"),
    ],
)
def test_make_mdn_writes_a_strangers_ids_verbatim(
    message_id: str, references: str, in_reply_to: str | None
) -> None:
    original = hostile_original("Figures", "Stranger", message_id).replace(
        b"\r\n\r\n", f"\r\nReferences: {references}\r\n\r\n".encode(), 1
    )
    mdn = mdnkit.make_mdn(
        original, disposition="displayed", final_recipient="reader@receiver.example", now=NOW
    )
    raw = serialised(mdn)
    assert_clean_header_block(raw)
    assert "bcc" not in header_names(raw)
    parsed = email.message_from_bytes(raw, policy=email.policy.compat32)
    assert parsed["In-Reply-To"] == in_reply_to
    check_mdn(mdn)


@pytest.mark.parametrize(
    "dnt_name",
    [
        # Long words around a space: the standard library's folder wrote an
        # empty line inside To, and the rest of the header became body.
        "a" * 100 + "; " + "b" * 100,
        "x" * 300 + "b.example;\x00" + "x" * 300,
        "Bcc: evil@x.example\x0b" + "x" * 200 + "Bcc: evil@x.example" + "x" * 200,
    ],
)
def test_make_mdn_keeps_a_long_display_name_from_ending_the_header(dnt_name: str) -> None:
    original = hostile_original("Figures", dnt_name, "<ok.3@sender.example>")
    mdn = mdnkit.make_mdn(
        original, disposition="displayed", final_recipient="reader@receiver.example", now=NOW
    )
    found = check_mdn(mdn)
    assert found.message_ref == MessageRef("ok.3@sender.example", RefSource.ORIGINAL_MESSAGE_ID)
    assert mdn_envelope(mdn)[1] == ["stranger@sender.example"]


@given(HOSTILE, HOSTILE, HOSTILE)
def test_make_mdn_for_a_hostile_original(subject: str, dnt_name: str, message_id: str) -> None:
    """The original's own values (Subject, DNT name, Message-ID) cannot inject either."""
    original = hostile_original(subject, dnt_name, message_id)
    try:
        mdn = mdnkit.make_mdn(
            original,
            disposition="displayed",
            final_recipient="reader@receiver.example",
            now=NOW,
        )
    except MdnkitError:
        return
    check_mdn(mdn)


# ---------------------------------------------------------------------------
# Pixel


@pytest.fixture
def tracker() -> Iterator[mdnkit.Tracker]:
    with mdnkit.Tracker() as t:
        yield t


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(HOSTILE_MAILBOX, HOSTILE)
def test_personalize_recipient_and_message_id(
    tracker: mdnkit.Tracker, recipient: str, message_id: str
) -> None:
    px = pixel.Pixel(tracker, keys=[KEY], base_url="https://t.example.org/o/")
    for msg_id in ("<q1.42@origin.example>", message_id):
        msg = outgoing()
        del msg["Message-ID"]
        try:
            # What the email package itself accepts (it refuses line breaks,
            # and its header classes raise on some odd ids when read).
            msg["Message-ID"] = msg_id
            str(msg["Message-ID"])
            before = serialised(msg)
        except (ValueError, IndexError, email.errors.HeaderParseError):
            continue
        if sorted(header_names(before)) != sorted(ORIGINAL_FIELDS):
            # The email package itself decodes an encoded word set as a
            # Message-ID into a line break: the caller's message is already
            # broken before mdnkit sees it.
            continue
        try:
            copy = px.personalize(msg, recipient)
        except RequestError:
            continue
        raw = serialised(copy.message)
        assert_clean_header_block(raw)
        assert sorted(header_names(raw)) == sorted(ORIGINAL_FIELDS)
        assert copy.url is not None
        # The URL is ours, opaque, and safe inside an HTML attribute.
        assert copy.url.startswith("https://t.example.org/o/")
        assert all(c.isalnum() or c in "-_./:" for c in copy.url)
        assert "@" not in copy.url


def test_token_comparison_is_constant_time() -> None:
    """The MAC check goes through hmac.compare_digest, never ==."""
    source = inspect.getsource(_token.Signer.verify)
    assert "hmac.compare_digest(" in source
    assert "== tag" not in source
    assert "tag ==" not in source


def wsgi_get(app: Any, path: str) -> tuple[str, bytes]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "REMOTE_ADDR": "198.51.100.7",
        "QUERY_STRING": "",
        "SCRIPT_NAME": "",
        "SERVER_NAME": "t.example.org",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_USER_AGENT": "Thunderbird'; DROP TABLE events; --",
        "wsgi.input": io.BytesIO(),
        "wsgi.url_scheme": "https",
        "wsgi.errors": io.StringIO(),
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    status: list[str] = []
    body = b"".join(app(environ, lambda s, h, e=None: status.append(s)))
    return status[0], body


TAMPER = st.one_of(
    st.tuples(st.just("replace"), st.integers(0, 47), st.sampled_from("AQgw_-09zZ")),
    st.tuples(st.just("cut"), st.integers(0, 47), st.just("")),
    st.tuples(st.just("extend"), st.integers(0, 47), st.text("A_-=.%", min_size=1, max_size=4)),
)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(TAMPER, min_size=1, max_size=3))
def test_forged_truncated_and_foreign_tokens_record_nothing(
    tracker: mdnkit.Tracker, edits: list[tuple[str, int, str]]
) -> None:
    ours = pixel.Pixel(tracker, keys=[KEY], base_url="https://t.example.org/o/")
    foreign = pixel.Pixel(tracker, keys=[b"f" * 32], base_url="https://t.example.org/o/")
    app = ours.wsgi_app()
    genuine = ours.url("q1.42@origin.example", "reader@receiver.example").rsplit("/", 1)[1]
    token = genuine[: -len(".gif")]
    forged = token
    for how, at, text in edits:
        if how == "replace":
            forged = forged[:at] + text + forged[at + 1 :]
        elif how == "cut":
            forged = forged[:at]
        else:
            forged = forged[:at] + text + forged[at:]
    alien = foreign.url("q1.42@origin.example", "reader@receiver.example").rsplit("/", 1)[1]
    before = list(tracker.events())
    for path in (f"/o/{forged}.gif", f"/o/{alien}", f"/{forged}"):
        status, body = wsgi_get(app, path)
        assert (status, body) == ("200 OK", pixel.GIF)
    if forged == token:  # the edits put it back as it was
        return
    assert list(tracker.events()) == before
    # The control: the genuine token does record (so the test can fail).
    wsgi_get(app, f"/o/{genuine}")
    assert len(list(tracker.events())) == len(before) + 1


# ---------------------------------------------------------------------------
# Store: SQL metacharacters through every string input


SQL_PIECES = ["'", '"', ";", "--", "/*", "*/", "\\", "%", "_", "?", ":x", "$1", "\x00", "é"]
SQL_HOSTILE = st.lists(
    st.sampled_from([*SQL_PIECES, "DROP TABLE events", " OR 1=1", ")", "("]), max_size=8
).map("".join)


def tables(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master"))


def hostile_report(text: str) -> bytes:
    safe = text.replace("\x00", "")
    return (
        "From: gw@receiver.example\r\n"
        f"Subject: {safe}\r\n"
        "Message-ID: <mdn.1@receiver.example>\r\n"
        "Content-Type: multipart/report; report-type=disposition-notification; boundary=B\r\n"
        "\r\n--B\r\nContent-Type: message/disposition-notification\r\n\r\n"
        f"Reporting-UA: {safe}\r\n"
        "Final-Recipient: rfc822; reader@receiver.example\r\n"
        f"Original-Message-ID: <{safe}@origin.example>\r\n"
        "Disposition: manual-action/MDN-sent-manually; displayed\r\n"
        f"X-Note: {safe}\r\n"
        "--B--\r\n"
    ).encode()


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(SQL_HOSTILE)
def test_sql_metacharacters_through_every_input(tmp_path: Path, text: str) -> None:
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "receipts.db"  # fresh for every example
    with mdnkit.Tracker(str(path)) as tracker:
        expected_tables = tables(path)
        sent = Message()  # compat32: takes any value, as a message read from a file
        sent["From"] = "sender@origin.example"
        sent["To"] = "reader@receiver.example"
        sent["Subject"] = text.replace("\x00", "")
        sent["Message-ID"] = f"<{text.replace(chr(0), '')}@origin.example>"
        try:
            recorded = tracker.record_sent(sent, sent_at=NOW, envelope_id=text or None)
        except RequestError:
            recorded = None
        events = tracker.ingest(hostile_report(text), received_at=NOW)
        assert tracker.ingest(hostile_report(text), received_at=NOW) == events
        px = pixel.Pixel(tracker, keys=[KEY], base_url="https://t.example.org/o/")
        token = px.url("q1.42@origin.example", "reader@receiver.example").rsplit("/", 1)[1]
        wsgi_get(px.wsgi_app(), f"/o/{text}{token}")
        wsgi_get(px.wsgi_app(), f"/o/{token}")
        if recorded is not None:
            assert tracker.status(recorded.message_id).message_id == recorded.message_id
        list(tracker.events(message_id=text))
        kept = list(tracker.events())
        # Everything ingested is there, once, as given.
        assert {e.event_id for e in events} <= {e.event_id for e in kept}
        # The genuine hit is kept (the first one too when the endpoint
        # found the token after the hostile prefix).
        assert sum(e.type == "opened" for e in kept) in (1, 2)
    assert tables(path) == expected_tables
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for suffix in ("-wal", "-shm"):
        side = Path(f"{path}{suffix}")
        if side.exists():
            assert stat.S_IMODE(os.stat(side).st_mode) == 0o600


# ---------------------------------------------------------------------------
# Store files: corrupt, truncated, foreign; never silently replaced


def filled_store(path: Path) -> bytes:
    with mdnkit.Tracker(str(path)) as tracker:
        for n in range(40):
            tracker.ingest(hostile_report(f"r{n}"), received_at=NOW)
    for suffix in ("-wal", "-shm"):
        assert not Path(f"{path}{suffix}").exists()  # checkpointed on close
    return path.read_bytes()


@pytest.mark.parametrize("keep", [0.5, 0.1, 100 / 4096])
def test_truncated_store_is_refused_or_fails_loudly(tmp_path: Path, keep: float) -> None:
    path = tmp_path / "receipts.db"
    whole = filled_store(path)
    cut = whole[: max(1, int(len(whole) * keep))]
    path.write_bytes(cut)
    with pytest.raises(StoreError), mdnkit.Tracker(str(path)) as tracker:
        list(tracker.events())
    # Nothing was written over the evidence.
    assert path.read_bytes() == cut


@pytest.mark.parametrize("content", [b"\x00", b"x", b"\n"])
def test_one_byte_file_is_not_taken_for_an_empty_store(tmp_path: Path, content: bytes) -> None:
    """Regression: SQLite reads a one-byte file as an empty database."""
    path = tmp_path / "receipts.db"
    path.write_bytes(content)
    with pytest.raises(StoreError) as caught:
        SQLiteStore(path)
    assert str(caught.value) == (
        f"{path} is not an mdnkit store (not an SQLite database, or corrupt):"
        " shorter than an SQLite header"
    )
    assert path.read_bytes() == content


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=0, max_size=3000))
def test_random_bytes_are_never_taken_for_a_store(tmp_path: Path, content: bytes) -> None:
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "receipts.db"
    path.write_bytes(content)
    if not content:
        # An empty file is a new, empty store (what sqlite3 itself does).
        SQLiteStore(path).close()
        return
    with pytest.raises(StoreError):
        SQLiteStore(path)
    assert path.read_bytes() == content


@settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(100, 10**9), st.integers(0, 7))
@example(where=2920, bit=7)  # a schema text no longer UTF-8: sqlite3 raised UnicodeDecodeError
def test_bit_rot_in_a_store_is_never_silent(tmp_path: Path, where: int, bit: int) -> None:
    """One flipped bit: the store refuses, fails loudly, or reads back every event it kept.

    SQLite keeps no checksums of its pages, so a bit flipped inside a stored
    value (an event id, say) changes that value unnoticed; what must never
    happen is an event silently gone.  (Flipping every 23rd byte of such a
    store, two bits each: 5,725 unnoticed, 968 refused, 75 values changed,
    none lost.)
    """
    path = Path(tempfile.mkdtemp(dir=tmp_path)) / "receipts.db"
    whole = filled_store(path)
    with mdnkit.Tracker(str(path)) as tracker:
        expected = sorted(e.event_id for e in tracker.events())
    at = where % len(whole)
    path.write_bytes(whole[:at] + bytes([whole[at] ^ (1 << bit)]) + whole[at + 1 :])
    try:
        with mdnkit.Tracker(str(path)) as tracker:
            found = sorted(e.event_id for e in tracker.events())
    except (StoreError, ParseError):
        return
    # Unused space (free pages, slack in a page) may take the hit unnoticed;
    # a hit inside a stored id changes that one id; nothing is dropped.
    assert len(found) == len(expected)
    assert len(set(found) - set(expected)) <= 1
