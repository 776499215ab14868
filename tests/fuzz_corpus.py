"""Seeds and mutations for fuzzing mdnkit with hostile mail.

Shared by ``tests/test_fuzz.py`` (hypothesis draws the operations, so a
failure shrinks to a short list of edits) and ``benchmarks/fuzz_long.py``
(a seeded ``random.Random`` draws them, so a failure is replayed from its
seed).  Standard library only.

A mutation is a tuple of small integers ``(kind, where, size, pick)``;
:func:`mutate` applies a list of them.  The kinds reproduce what broken
and hostile mail really does: bit rot, truncated downloads, lines
duplicated by buggy relays, stray MIME boundaries, bare CR/LF and NUL
(RFC 5322 §2.3 forbids them, old gateways send them anyway), storms of
encoded words (RFC 2047), comments and quotes (RFC 5322 §3.2.2-§3.2.4),
and nesting far beyond anything a real client writes.
"""

from __future__ import annotations

import base64
import dataclasses
import pathlib
import random
import re
from collections.abc import Callable, Sequence

__all__ = [
    "BOMBS",
    "ENCODED_WORDS",
    "KINDS",
    "SEEDS",
    "Bomb",
    "Op",
    "mutate",
    "random_ops",
    "seed_names",
]

Op = tuple[int, int, int, int]

_HERE = pathlib.Path(__file__).parent
_FIXTURES = _HERE / "fixtures"
_SAMPLES = _HERE.parent / "src" / "mdnkit" / "samples"


def _crlf(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


# A read receipt whose report part is base64 (Lotus Domino does this) and
# whose Subject is encoded (RFC 2047) -- own values.
_MDN_BASE64 = """\
From: =?utf-8?q?Ren=C3=A9e_Faure?= <renee@receiver.example>
To: sender@origin.example
Subject: =?iso-8859-1?q?Lu=A0:?= =?utf-8?b?UmFwcG9ydCBtZW5zdWVs?=
Message-ID: <dn.5512@receiver.example>
Date: Mon, 2 Feb 2026 08:01:02 +0100
In-Reply-To: <report.77@origin.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification;
\tboundary="==b64=="

--==b64==
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Votre message a =E9t=E9 lu.
--==b64==
Content-Type: message/disposition-notification
Content-Transfer-Encoding: base64

UmVwb3J0aW5nLVVBOiByZWNlaXZlci5leGFtcGxlOyBEb21pbm8NCkZpbmFsLVJlY2lwaWVudDog
cmZjODIyO3JlbmVlQHJlY2VpdmVyLmV4YW1wbGUNCk9yaWdpbmFsLU1lc3NhZ2UtSUQ6IDxyZXBv
cnQuNzdAb3JpZ2luLmV4YW1wbGU+DQpEaXNwb3NpdGlvbjogbWFudWFsLWFjdGlvbi9NRE4tc2Vu
dC1tYW51YWxseTsgZGlzcGxheWVkDQo=
--==b64==
Content-Type: text/rfc822-headers

From: sender@origin.example
To: renee@receiver.example
Message-ID: <report.77@origin.example>
Subject: Rapport mensuel

--==b64==--
"""

# An RFC 6533 global DSN with UTF-8 addresses and comments in the fields.
_DSN_GLOBAL = """\
From: MAILER-DAEMON@relay.example (Mail Delivery System)
To: envoi@origin.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <20260301.X1@relay.example>
Date: Sun, 1 Mar 2026 10:00:00 +0000 (UTC)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="g/1"

--g/1
Content-Type: text/plain; charset=utf-8

Ihre Nachricht konnte nicht zugestellt werden.
--g/1
Content-Type: message/global-delivery-status

Reporting-MTA: dns; relay.example
Original-Envelope-Id: env+2D7f3
Arrival-Date: Sun, 1 Mar 2026 09:59:58 +0000 (UTC)

Original-Recipient: utf-8; jürgen@empfänger.example
Final-Recipient: utf-8; jürgen@empfänger.example
Action: failed
Status: 5.1.1 (user (unknown) here)
Remote-MTA: dns; mx.empfänger.example
Diagnostic-Code: smtp; 550 5.1.1 "no such user"
 (folded comment (nested))

Final-Recipient: rfc822; "quoted local"@empfänger.example
Action: delayed
Status: 4.4.1
Will-Retry-Until: Wed, 4 Mar 2026 10:00:00 +0000

--g/1
Content-Type: message/global-headers

From: envoi@origin.example
Message-ID: <g.1@origin.example>

--g/1--
"""

# Two read receipts in one message (multipart/parallel of reports), one of
# them forwarded inside message/rfc822.
_PARALLEL = """\
From: gateway@receiver.example
Message-ID: <par.1@receiver.example>
MIME-Version: 1.0
Content-Type: multipart/parallel; boundary=P

--P
Content-Type: multipart/report; report-type=disposition-notification; boundary=R1

--R1

shown
--R1
Content-Type: message/disposition-notification

Final-Recipient: rfc822; one@receiver.example
Original-Message-ID: <m.1@origin.example>
Disposition: automatic-action/MDN-sent-automatically; deleted/expired

--R1--
--P
Content-Type: message/rfc822

From: two@receiver.example
Message-ID: <par.2@receiver.example>
Content-Type: multipart/report; report-type=disposition-notification; boundary=R2

--R2
Content-Type: message/disposition-notification

Reporting-UA: pc; Mailer 2 (build (7))
Final-Recipient: rfc822; "two (not) a comment"@receiver.example
Original-Message-ID: <m.1@origin.example> (the "original")
Disposition: manual-action/MDN-sent-manually; displayed
Error: none

--R2--
--P--
"""

# An outgoing message that asks for receipts, for receipt_request/decide.
_REQUEST = """\
From: "Sender, A." <sender@origin.example>
To: reader@receiver.example, "Other (x)" <other@receiver.example>
Subject: =?utf-8?q?Bitte_best=C3=A4tigen?=
Message-ID: <ask.9@origin.example>
Return-Path: <sender@origin.example>
Disposition-Notification-To: "Sender, A." <sender@origin.example>
Disposition-Notification-Options: signed-receipt-protocol=optional,pkcs7-signature
Original-Recipient: rfc822;reader@receiver.example
Return-Receipt-To: sender@origin.example
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Bitte lesen.
"""

_DSN_WRAPPER = """\
From: postmaster@relay.example
Message-ID: <wrap.{n}@relay.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="w{n}"

--w{n}

Delivery report.
--w{n}
Content-Type: message/delivery-status

"""


def _load() -> dict[str, bytes]:
    seeds = {
        "inline:mdn-base64": _crlf(_MDN_BASE64),
        "inline:dsn-global": _crlf(_DSN_GLOBAL),
        "inline:parallel": _crlf(_PARALLEL),
        "inline:request": _crlf(_REQUEST),
    }
    for n, path in enumerate(sorted(_FIXTURES.iterdir())):
        data = path.read_bytes()
        if path.suffix == ".txt" and path.name.startswith("dsn_"):
            # Bare report bodies: wrap them as the second part of a report.
            head = _crlf(_DSN_WRAPPER.format(n=n))
            data = head + data + b"\r\n--w%d--\r\n" % n
        seeds[f"fixture:{path.name}"] = data
    for path in sorted(_SAMPLES.glob("*.eml")):
        seeds[f"sample:{path.name}"] = path.read_bytes()
    return seeds


_SEEDS = _load()
SEEDS: tuple[bytes, ...] = tuple(_SEEDS.values())


def seed_names() -> tuple[str, ...]:
    """Where each of :data:`SEEDS` comes from, in the same order."""
    return tuple(_SEEDS)


# ---------------------------------------------------------------------------
# Mutations

_BOUNDARY = re.compile(rb'boundary="?([^";\r\n]+)"?', re.IGNORECASE)
_INJECT = (b"\r", b"\n", b"\x00", b"\r\n", b"\n\n", b"\r\r\n", b"\r\n\r\n", b"\r\n ", b"\x85")
_WORDS = (
    b"=?utf-8?b?DQo=?=",  # decodes to CRLF
    b"=?utf-8?q?a=0D=0Ab?=",  # CRLF again, quoted-printable
    b"=?iso-8859-1?q?=E9?=",
    b"=?x-unknown?b?AAAA?=",
    b"=?utf-8?b?4oCo?=",  # U+2028
    b"=?utf-8?b?AA==?=",  # NUL
    b"=?utf-8*fr?q?x?=",  # RFC 2231 language
    b"=?=?=?",
    b"=?utf-8?b?!!!?=",
)
_HEADERS = (
    b'Content-Type: multipart/report; report-type=disposition-notification; boundary="{b}"',
    b"Content-Type: multipart/mixed; boundary={b}",
    b"Content-Type: message/rfc822",
    b"Content-Type: message/disposition-notification",
    b"Content-Type: message/global-delivery-status",
    b"Content-Type: text/rfc822-headers",
    b"Content-Transfer-Encoding: base64",
    b"Content-Transfer-Encoding: quoted-printable",
    b"Content-Type: text/plain; charset*=utf-8''%FF%00; name*0=a; name*1*=%E9",
    b"Disposition: manual-action/MDN-sent-manually; displayed/error, x",
    b'Final-Recipient: rfc822; "a\\"b"@x (c)',
    b"Original-Message-ID: <<<a@b>>>",
    b"Status: 5.999.999999999999999",
    b"Action: failed",
    b"Message-ID: <{b}@x>",
    b"Date: Mon, 99 Foo 99999 99:99:99 +9999",
)
KINDS = (
    "flip",
    "truncate",
    "duplicate-line",
    "stray-boundary",
    "inject-control",
    "encoded-word-storm",
    "comment-storm",
    "quote-storm",
    "deep-nesting",
    "delete",
    "insert-header",
    "splice",
)


def _line_start(data: bytes, at: int) -> int:
    return max(data.rfind(b"\n", 0, at) + 1, 0)


def _boundaries(data: bytes) -> list[bytes]:
    return _BOUNDARY.findall(data[:200_000]) or [b"b"]


def mutate(data: bytes, ops: Sequence[Op]) -> bytes:
    """*data* with every operation of *ops* applied in turn.

    ``where`` is taken modulo the current length, so any integers make a
    valid operation; ``size`` scales storms (it is the caller's budget).
    """
    for kind, where, size, pick in ops:
        at = where % (len(data) + 1)
        name = KINDS[kind % len(KINDS)]
        if name == "flip":
            if data:
                at = min(at, len(data) - 1)
                data = data[:at] + bytes([data[at] ^ (1 << (pick % 8))]) + data[at + 1 :]
        elif name == "truncate":
            data = data[:at]
        elif name == "duplicate-line":
            start = _line_start(data, at)
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            data = data[:end] + data[start:end] * (1 + size) + data[end:]
        elif name == "stray-boundary":
            found = _boundaries(data)
            line = b"--" + found[pick % len(found)] + (b"--" if pick & 1 else b"") + b"\r\n"
            start = _line_start(data, at)
            data = data[:start] + line * (1 + size % 50) + data[start:]
        elif name == "inject-control":
            data = data[:at] + _INJECT[pick % len(_INJECT)] * (1 + size % 8) + data[at:]
        elif name == "encoded-word-storm":
            word = _WORDS[pick % len(_WORDS)]
            data = data[:at] + b" ".join([word] * (1 + size)) + data[at:]
        elif name == "comment-storm":
            storm = b"(" * size + b"x" + b")" * (size if pick & 1 else size // 2)
            if pick & 2:
                storm = b"(\\" * size
            data = data[:at] + storm + data[at:]
        elif name == "quote-storm":
            storm = (b'"', b'\\"', b'"\\', b'"(', b'<"')[pick % 5] * (1 + size)
            data = data[:at] + storm + data[at:]
        elif name == "deep-nesting":
            start = _line_start(data, at)
            depth = 1 + size
            if pick & 1:
                nest = b"".join(
                    b"Content-Type: multipart/mixed; boundary=z%d\r\n\r\n--z%d\r\n" % (i, i)
                    for i in range(depth)
                )
            else:
                nest = b"Content-Type: message/rfc822\r\n\r\n" * depth
            data = data[:start] + nest + data[start:]
        elif name == "delete":
            data = data[:at] + data[at + 1 + size :]
        elif name == "insert-header":
            found = _boundaries(data)
            header = _HEADERS[pick % len(_HEADERS)].replace(b"{b}", found[size % len(found)])
            start = _line_start(data, at)
            data = data[:start] + header + b"\r\n" + data[start:]
        else:  # splice: a slice of another seed
            other = SEEDS[pick % len(SEEDS)]
            begin = (size * 37) % (len(other) + 1)
            data = data[:at] + other[begin : begin + 1 + size * 8] + data[at:]
    return data


def random_ops(rng: random.Random, *, max_ops: int = 6, max_size: int = 64) -> list[Op]:
    """Operations drawn from *rng*: mostly small, now and then a storm."""
    ops: list[Op] = []
    for _ in range(rng.randint(1, max_ops)):
        size = rng.randint(0, 8) if rng.random() < 0.8 else rng.randint(0, max_size)
        ops.append(
            (rng.randrange(len(KINDS)), rng.randrange(1 << 20), size, rng.randrange(1 << 16))
        )
    return ops


# ---------------------------------------------------------------------------
# Bombs: one input per way of exhausting a reader


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class Bomb:
    """A hostile input, built on demand (some are tens of megabytes)."""

    name: str
    build: Callable[[], bytes]
    refused: str | None  # the whole ParseError message; None: read as a report


def _report(kind: bytes, body: bytes, *, headers: bytes = b"", cte: bytes = b"") -> bytes:
    report_type = b"delivery-status" if kind == b"message/delivery-status" else kind[8:]
    return (
        b"From: postmaster@relay.example\r\nMessage-ID: <bomb@relay.example>\r\n"
        + headers
        + b"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type="
        + report_type
        + b'; boundary="BB"\r\n\r\n--BB\r\n\r\nA report.\r\n--BB\r\nContent-Type: '
        + kind
        + b"\r\n"
        + cte
        + b"\r\n"
        + body
        + b"\r\n--BB--\r\n"
    )


_DSN = b"message/delivery-status"
_MDN = b"message/disposition-notification"
_DSN_HEAD = b"Reporting-MTA: dns; relay.example\r\n\r\n"
_ONE_RECIPIENT = b"Final-Recipient: rfc822; a@rcpt.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
_MDN_HEAD = b"Final-Recipient: rfc822; a@rcpt.example\r\n"
ENCODED_WORDS = 10_000


def _nested_multiparts() -> bytes:
    return b'Content-Type: multipart/mixed; boundary="n0."\r\n\r\n' + b"".join(
        b'--n%d.\r\nContent-Type: multipart/mixed; boundary="n%d."\r\n\r\n' % (i, i + 1)
        for i in range(50_000)
    )


def _huge_base64() -> bytes:
    body = base64.encodebytes(b"X-Padding: " + b"y" * 30_000_000 + b"\r\n")
    return _report(_MDN, body, cte=b"Content-Transfer-Encoding: base64\r\n")


def _many_reports() -> bytes:
    one = (
        b"--P\r\nContent-Type: multipart/report; report-type=disposition-notification; "
        b"boundary=R\r\n\r\n--R\r\nContent-Type: message/disposition-notification\r\n\r\n"
        + _MDN_HEAD
        + b"Disposition: manual-action/MDN-sent-manually; displayed\r\n--R--\r\n"
    )
    return b"Content-Type: multipart/parallel; boundary=P\r\n\r\n" + one * 1000 + b"--P--\r\n"


_LIMIT = "The message has {}; refused."
BOMBS: tuple[Bomb, ...] = (
    Bomb(
        name="10 MB header line",
        build=lambda: b"Subject: " + b"x" * 10_000_000 + b"\r\n\r\nbody\r\n",
        refused=_LIMIT.format("a header block longer than 1048576 bytes"),
    ),
    Bomb(
        name="a million folded lines",
        build=lambda: b"Content-Type: multipart/report;\r\n" + b" x=y;\r\n" * 1_000_000 + b"\r\n",
        refused=_LIMIT.format("a header block longer than 1048576 bytes"),
    ),
    Bomb(
        name="3000 header fields",
        build=lambda: b"X-A: b\r\n" * 3000 + b"\r\nbody\r\n",
        refused=_LIMIT.format("more than 2000 header fields in one block"),
    ),
    Bomb(
        name="50,000 nested multiparts",
        build=_nested_multiparts,
        refused=_LIMIT.format("MIME parts nested more than 32 deep"),
    ),
    Bomb(
        name="50,000 nested forwarded messages",
        build=lambda: b"Content-Type: message/rfc822\r\n\r\n" * 50_000,
        refused=_LIMIT.format("MIME parts nested more than 32 deep"),
    ),
    Bomb(
        name="100,000 parts",
        build=lambda: (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
            + b"--b\r\n\r\nx\r\n" * 100_000
            + b"--b--\r\n"
        ),
        refused=_LIMIT.format("more than 10000 MIME parts"),
    ),
    Bomb(
        name="1000 reports in one message",
        build=_many_reports,
        refused=None,  # parse reads the first; parse_all refuses (see test_bombs)
    ),
    Bomb(
        name="a million DSN recipients",
        # 52 bytes a recipient: the message stays under max_input_bytes.
        build=lambda: _report(
            _DSN, _DSN_HEAD + b"Final-Recipient: rfc822;a@b\r\nAction: failed\r\n\r\n" * 1_000_000
        ),
        refused=_LIMIT.format("a report part larger than 4194304 bytes"),
    ),
    Bomb(
        name="20,000 small DSN recipients",
        build=lambda: _report(_DSN, _DSN_HEAD + b"Action: failed\r\n\r\n" * 20_000),
        refused="More than 10000 recipient groups in one DSN",
    ),
    Bomb(
        name="100,001 report fields",
        build=lambda: _report(_MDN, b"X-A:b\r\n" * 100_001),
        refused="More than 100000 fields in the report part",
    ),
    Bomb(
        name="300 KB report field",
        build=lambda: _report(_MDN, _MDN_HEAD + b"X-A: " + b"y" * 300_000 + b"\r\n"),
        refused="The field at line 2 is longer than 262144 bytes",
    ),
    Bomb(
        name="huge base64 report part",
        build=_huge_base64,
        refused=_LIMIT.format("a report part larger than 4194304 bytes"),
    ),
    Bomb(
        name="comment storm, unbalanced",
        build=lambda: _report(_MDN, _MDN_HEAD + b"Disposition: " + b"(" * 200_000 + b"\r\n"),
        refused="Disposition: Comments nested deeper than 64",
    ),
    Bomb(
        name="comment storm, balanced",
        build=lambda: _report(
            _MDN,
            _MDN_HEAD
            + b"Disposition: manual-action/MDN-sent-manually; displayed "
            + b"(a)" * 80_000
            + b"\r\n",
        ),
        refused=None,
    ),
    Bomb(
        name="quote storm in a recipient",
        build=lambda: _report(
            _DSN,
            _DSN_HEAD
            + b"Final-Recipient: rfc822; "
            + b'"\\' * 100_000
            + b"@x\r\nAction: failed\r\nStatus: 5.0.0\r\n",
        ),
        refused=None,
    ),
    Bomb(
        name="quote storm in In-Reply-To",
        build=lambda: _report(
            _DSN, _DSN_HEAD + _ONE_RECIPIENT, headers=b"In-Reply-To: " + b'"' * 200_000 + b"\r\n"
        ),
        refused=None,
    ),
    Bomb(
        name="comment storm in Message-ID",
        build=lambda: _report(
            _DSN, _DSN_HEAD + _ONE_RECIPIENT, headers=b"Message-ID: " + b"(" * 200_000 + b"\r\n"
        ),
        refused=None,
    ),
    Bomb(
        name="encoded words in Subject",
        build=lambda: _report(
            _DSN,
            _DSN_HEAD + _ONE_RECIPIENT,
            headers=b"Subject: "
            + b"\r\n ".join([b"=?utf-8?q?a=C3=A9?="] * ENCODED_WORDS)
            + b"\r\n",
        ),
        refused=None,
    ),
)
