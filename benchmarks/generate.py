"""Realistic inputs for the benchmarks, generated (deterministically) in memory.

Shapes follow what real servers send: an Outlook-style read receipt with a
multipart/alternative first part, a Postfix bounce with a returned
original, an Exchange bounce with several recipients, an AS2 signed MDN,
and ordinary mail with attachments (the non-reports a pipeline mostly sees).
"""

from __future__ import annotations

import base64
import random

CRLF = b"\r\n"


def _lines(*lines: str) -> bytes:
    return CRLF.join(line.encode() for line in lines) + CRLF


def _filler(rng: random.Random, size: int) -> bytes:
    words = [b"receipt", b"delivery", b"status", b"message", b"example", b"report", b"mail"]
    out = bytearray()
    while len(out) < size:
        out += b" ".join(rng.choice(words) for _ in range(12)) + CRLF
    return bytes(out[: max(0, size - 2)]) + CRLF


def _received(rng: random.Random, n: int) -> list[str]:
    return [
        f"Received: from relay{i}.example.net (relay{i}.example.net [192.0.2.{rng.randint(1, 254)}])\r\n"
        f"\tby mx{i}.example.org (Postfix) with ESMTPS id {rng.getrandbits(40):X}\r\n"
        f"\tfor <bob@example.org>; Mon, 5 Jan 2026 10:0{i % 10}:00 +0000"
        for i in range(n)
    ]


def read_receipt(seed: int = 0, *, received: int = 6) -> bytes:
    """An Outlook-style MDN: alternative text+HTML first part, headers third part."""
    rng = random.Random(seed)
    boundary = f"----=_NextPart_{rng.getrandbits(64):016x}"
    alt = f"----=_Alt_{rng.getrandbits(64):016x}"
    head = _lines(
        *_received(rng, received),
        "From: Bob Example <bob@example.org>",
        "To: alice@example.com",
        f"Subject: Read: Quarterly figures {seed}",
        "Date: Mon, 5 Jan 2026 10:15:00 +0000",
        f"Message-ID: <mdn-{seed}-{rng.getrandbits(32):x}@example.org>",
        "MIME-Version: 1.0",
        f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{boundary}"',
        "",
    )
    html = _filler(rng, 3000)
    body = (
        _lines("", f"--{boundary}", f'Content-Type: multipart/alternative; boundary="{alt}"', "")
        + _lines(f"--{alt}", "Content-Type: text/plain; charset=utf-8", "")
        + _filler(rng, 600)
        + _lines(f"--{alt}", "Content-Type: text/html; charset=utf-8", "")
        + html
        + _lines(
            f"--{alt}--", f"--{boundary}", "Content-Type: message/disposition-notification", ""
        )
        + _lines(
            "Reporting-UA: pc.example.org; Mail Client 16.0",
            "Final-Recipient: rfc822;bob@example.org",
            f"Original-Message-ID: <sent-{seed}@example.com>",
            "Disposition: manual-action/MDN-sent-automatically; displayed",
            "",
            f"--{boundary}",
            "Content-Type: text/rfc822-headers",
            "",
            "From: Alice <alice@example.com>",
            "To: bob@example.org",
            f"Subject: Quarterly figures {seed}",
            f"Message-ID: <sent-{seed}@example.com>",
            "Disposition-Notification-To: alice@example.com",
            "",
            f"--{boundary}--",
        )
    )
    return head + body


def bounce(
    seed: int = 0, *, recipients: int = 1, original_size: int = 8_000, received: int = 6
) -> bytes:
    """A Postfix-style DSN with *recipients* groups and a returned original of *original_size* bytes."""
    rng = random.Random(seed)
    boundary = f"{rng.getrandbits(48):X}.{seed}/mx.example.net"
    groups = []
    for i in range(recipients):
        groups += [
            f"Final-Recipient: rfc822; user{i}@example.org",
            f"Original-Recipient: rfc822;user{i}@example.org",
            "Action: failed",
            "Status: 5.1.1",
            "Remote-MTA: dns; mx.example.org",
            f"Diagnostic-Code: smtp; 550 5.1.1 <user{i}@example.org>: Recipient address",
            "    rejected: User unknown in virtual mailbox table",
            "",
        ]
    attachment = base64.encodebytes(_filler(rng, original_size * 3 // 4)).replace(b"\n", CRLF)
    head = _lines(
        *_received(rng, received),
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)",
        "To: alice@example.com",
        "Subject: Undelivered Mail Returned to Sender",
        "Date: Mon, 5 Jan 2026 10:15:00 +0000",
        f"Message-ID: <{rng.getrandbits(64):x}@mx.example.net>",
        "Auto-Submitted: auto-replied",
        "MIME-Version: 1.0",
        "Content-Type: multipart/report; report-type=delivery-status;",
        f'\tboundary="{boundary}"',
        "",
    )
    body = (
        _lines(
            "This is a MIME-encapsulated message.",
            "",
            f"--{boundary}",
            "Content-Description: Notification",
            "Content-Type: text/plain; charset=us-ascii",
            "",
            "This is the mail system at host mx.example.net.",
            "I'm sorry to have to inform you that your message could not",
            "be delivered to one or more recipients.",
            "",
            f"--{boundary}",
            "Content-Description: Delivery report",
            "Content-Type: message/delivery-status",
            "",
            "Reporting-MTA: dns; mx.example.net",
            f"X-Postfix-Queue-ID: {rng.getrandbits(40):X}",
            "X-Postfix-Sender: rfc822; alice@example.com",
            "Arrival-Date: Mon,  5 Jan 2026 10:14:58 +0000 (UTC)",
            "",
            *groups,
            f"--{boundary}",
            "Content-Description: Undelivered Message",
            "Content-Type: message/rfc822",
            "",
            "From: Alice <alice@example.com>",
            "To: user0@example.org",
            "Subject: Quarterly figures",
            f"Message-ID: <sent-{seed}@example.com>",
            "MIME-Version: 1.0",
            'Content-Type: multipart/mixed; boundary="orig"',
            "",
            "--orig",
            "Content-Type: text/plain",
            "",
            "Figures attached.",
            "--orig",
            "Content-Type: application/octet-stream",
            "Content-Transfer-Encoding: base64",
            "",
        )
        + attachment
        + _lines("--orig--", "", f"--{boundary}--")
    )
    return head + body


def as2_signed_mdn(seed: int = 0) -> bytes:
    """An AS2 MDN: multipart/signed around multipart/report, binary-looking signature."""
    rng = random.Random(seed)
    outer = f"----=_Part_{seed}_{rng.getrandbits(32)}"
    inner = f"----=_Part_{seed + 1}_{rng.getrandbits(32)}"
    signature = base64.encodebytes(rng.randbytes(1200)).replace(b"\n", CRLF)
    return (
        _lines(
            f"Message-ID: <as2-mdn-{seed}@partner.example>",
            "AS2-From: partner",
            "AS2-To: us",
            f'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; micalg=sha-256; boundary="{outer}"',
            "",
            f"--{outer}",
            f'Content-Type: multipart/report; report-type=disposition-notification; boundary="{inner}"',
            "",
            f"--{inner}",
            "Content-Type: text/plain",
            "",
            "The AS2 message has been received.",
            f"--{inner}",
            "Content-Type: message/disposition-notification",
            "",
            "Reporting-UA: AS2 Server",
            "Original-Recipient: rfc822; us",
            "Final-Recipient: rfc822; us",
            f"Original-Message-ID: <as2-{seed}@us.example>",
            "Received-Content-MIC: 7v7F++fQaNB1sVLFtMRp+dF+eG4=, sha1",
            "Disposition: automatic-action/MDN-sent-automatically; processed",
            "",
            f"--{inner}--",
            "",
            f"--{outer}",
            "Content-Type: application/pkcs7-signature; name=smime.p7s",
            "Content-Transfer-Encoding: base64",
            "",
        )
        + signature
        + _lines(f"--{outer}--")
    )


def ordinary_mail(seed: int = 0, *, attachment_size: int = 200_000, received: int = 8) -> bytes:
    """A non-report: multipart/mixed with text, HTML and a base64 attachment."""
    rng = random.Random(seed)
    boundary = f"=_mixed_{rng.getrandbits(64):x}"
    attachment = base64.encodebytes(_filler(rng, attachment_size * 3 // 4)).replace(b"\n", CRLF)
    return (
        _lines(
            *_received(rng, received),
            "From: Carol <carol@example.net>",
            "To: alice@example.com",
            "Subject: Minutes",
            "Date: Mon, 5 Jan 2026 09:00:00 +0000",
            f"Message-ID: <plain-{seed}@example.net>",
            "MIME-Version: 1.0",
            f'Content-Type: multipart/mixed; boundary="{boundary}"',
            "",
            f"--{boundary}",
            "Content-Type: text/plain; charset=utf-8",
            "",
        )
        + _filler(rng, 2000)
        + _lines(
            f"--{boundary}",
            'Content-Type: application/pdf; name="minutes.pdf"',
            "Content-Transfer-Encoding: base64",
            "",
        )
        + attachment
        + _lines(f"--{boundary}--")
    )


def plain_text_mail(seed: int = 0) -> bytes:
    """The commonest mail of all: one text/plain part."""
    rng = random.Random(seed)
    return _lines(
        *_received(rng, 5),
        "From: Dave <dave@example.net>",
        "To: alice@example.com",
        "Subject: Lunch?",
        "Date: Mon, 5 Jan 2026 09:00:00 +0000",
        f"Message-ID: <text-{seed}@example.net>",
        "Content-Type: text/plain; charset=utf-8",
        "",
    ) + _filler(rng, 4000)


def realistic_reports(count: int = 40) -> list[bytes]:
    """A mixed bag of reports of realistic size."""
    makers = [
        read_receipt,
        lambda i: bounce(i, recipients=1 + i % 4),
        as2_signed_mdn,
        lambda i: bounce(i, recipients=2, original_size=30_000),
    ]
    return [makers[i % len(makers)](i) for i in range(count)]


def big_original(size: int = 20 * 1024 * 1024) -> bytes:
    """A bounce that returns a *size*-byte original."""
    return bounce(99, original_size=size)
