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

import pathlib
import random
import re
from collections.abc import Sequence

__all__ = [
    "KINDS",
    "SEEDS",
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
