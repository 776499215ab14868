"""Putting the pixel in the right HTML part, keeping charset and encoding."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message

import pytest

from mdnkit.pixel._html import find_html_part, img_tag, insert_pixel

TAG = img_tag("https://t.example.org/o/TOKEN.gif")


def parse(raw: str) -> EmailMessage:
    data = raw.replace("\n", "\r\n").encode("latin-1")
    msg = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def test_img_tag() -> None:
    assert img_tag('https://t.example.org/o/a"b<c>&.gif') == (
        '<img src="https://t.example.org/o/a&quot;b&lt;c&gt;&amp;.gif" width="1" height="1" '
        'alt="" style="border:0;width:1px;height:1px;overflow:hidden" />'
    )


BODY_VECTORS = [
    # (html, expected after insertion)
    (
        "<html><body><p>Hi</p></body></html>",
        f"<html><body><p>Hi</p>\n{TAG}\n</body></html>\n",
    ),
    (
        "<HTML><BODY>Hi</BODY >\n</HTML>\n",
        f"<HTML><BODY>Hi\n{TAG}\n</BODY >\n</HTML>\n",
    ),
    # The last </body> (an earlier one may sit in a quoted reply or a comment).
    (
        "<body>a<!-- </body> --></body>b</body>",
        f"<body>a<!-- </body> --></body>b\n{TAG}\n</body>\n",
    ),
    # No </body>: at the end, on a line of its own.
    ("<p>fragment</p>", f"<p>fragment</p>\n{TAG}\n"),
    ("", f"\n{TAG}\n"),
]


@pytest.mark.parametrize(("html", "expected"), BODY_VECTORS)
def test_position(html: str, expected: str) -> None:
    msg = EmailMessage()
    msg.set_content(html, subtype="html", cte="quoted-printable")
    assert insert_pixel(msg, TAG) is True
    assert msg.get_content() == expected


SINGLE = """\
From: a@example.org
To: b@example.net
Subject: single
Message-ID: <s1@example.org>
MIME-Version: 1.0
Content-Type: text/html; charset={charset}
Content-Transfer-Encoding: {cte}

{body}"""


@pytest.mark.parametrize(
    ("charset", "cte", "body", "expected_payload", "expected_wire"),
    [
        (
            "us-ascii",
            "7bit",
            "<html><body>Hi</body></html>\n",
            f"<html><body>Hi\r\n{TAG}\r\n</body></html>\r\n",
            f"\r\n\r\n<html><body>Hi\r\n{TAG}\r\n</body></html>\r\n".encode(),
        ),
        # 8bit Latin-1: bytes spliced, never decoded, so they stay as they were.
        (
            "iso-8859-1",
            "8bit",
            "<html><body>Gr\xfc\xdfe</body></html>\n",
            f"<html><body>Gr\xfc\xdfe\r\n{TAG}\r\n</body></html>\r\n",
            b"\r\n\r\n<html><body>Gr\xfc\xdfe\r\n" + TAG.encode() + b"\r\n</body></html>\r\n",
        ),
        (
            "utf-8",
            "base64",
            "PGh0bWw+PGJvZHk+SGk8L2JvZHk+PC9odG1sPgo=\n",
            "PGh0bWw+PGJvZHk+SGkKPGltZyBzcmM9Imh0dHBzOi8vdC5leGFtcGxlLm9yZy9vL1RPS0VOLmdp\n"
            "ZiIgd2lkdGg9IjEiIGhlaWdodD0iMSIgYWx0PSIiIHN0eWxlPSJib3JkZXI6MDt3aWR0aDoxcHg7\n"
            "aGVpZ2h0OjFweDtvdmVyZmxvdzpoaWRkZW4iIC8+CjwvYm9keT48L2h0bWw+Cg==\n",
            b"\r\n\r\nPGh0bWw+PGJvZHk+SGkKPGltZyBzcmM9Imh0dHBzOi8vdC5leGFtcGxlLm9yZy9vL1RPS0VOLmdp\r\n"
            b"ZiIgd2lkdGg9IjEiIGhlaWdodD0iMSIgYWx0PSIiIHN0eWxlPSJib3JkZXI6MDt3aWR0aDoxcHg7\r\n"
            b"aGVpZ2h0OjFweDtvdmVyZmxvdzpoaWRkZW4iIC8+CjwvYm9keT48L2h0bWw+Cg==\r\n",
        ),
        (
            "utf-8",
            "quoted-printable",
            "<html><body>Gr=C3=BC=C3=9Fe</body></html>\n",
            "<html><body>Gr=C3=BC=C3=9Fe\n"
            '<img src=3D"https://t.example.org/o/TOKEN.gif" width=3D"1" height=3D"1" alt=\n'
            '=3D"" style=3D"border:0;width:1px;height:1px;overflow:hidden" />\n'
            "</body></html>\n",
            b"\r\n\r\n<html><body>Gr=C3=BC=C3=9Fe\r\n"
            b'<img src=3D"https://t.example.org/o/TOKEN.gif" width=3D"1" height=3D"1" alt=\r\n'
            b'=3D"" style=3D"border:0;width:1px;height:1px;overflow:hidden" />\r\n'
            b"</body></html>\r\n",
        ),
    ],
)
def test_transfer_encoding_kept(
    charset: str, cte: str, body: str, expected_payload: str, expected_wire: bytes
) -> None:
    msg = parse(SINGLE.format(charset=charset, cte=cte, body=body))
    before = msg.get_content()
    assert insert_pixel(msg, TAG) is True
    assert msg["Content-Transfer-Encoding"] == cte
    assert msg.get_content_charset() == charset
    assert msg.get_payload() == expected_payload
    # Line endings may change (quoted-printable is re-encoded with LF), the text may not.
    after = msg.get_content().replace("\r\n", "\n")
    assert after == before.replace("\r\n", "\n").replace("</body>", f"\n{TAG}\n</body>")
    # What goes on the wire: the original octets, the pixel on its own line.
    assert msg.as_bytes(policy=email.policy.SMTP).endswith(expected_wire)


def test_utf16_is_decoded_and_reencoded() -> None:
    html = "<html><body>\u00a1Hola!</body></html>"
    msg = EmailMessage()
    msg.set_content(html.encode("utf-16"), "text", "html", cte="base64")
    msg.set_param("charset", "utf-16")
    assert insert_pixel(msg, TAG) is True
    data = msg.get_payload(decode=True)
    assert isinstance(data, bytes)
    assert data.decode("utf-16") == f"<html><body>\u00a1Hola!\n{TAG}\n</body></html>"


def test_unknown_transfer_encoding_is_left_alone() -> None:
    msg = parse(SINGLE.format(charset="utf-8", cte="x-uuencode", body="begin 644 x\n"))
    assert insert_pixel(msg, TAG) is False
    assert msg.get_payload() == "begin 644 x\r\n"


def test_undecodable_wide_charset_is_left_alone() -> None:
    msg = parse(SINGLE.format(charset="utf-16", cte="8bit", body="<body>odd</body>!"))
    assert insert_pixel(msg, TAG) is False
    assert msg.get_payload() == "<body>odd</body>!"


NESTED = """\
From: a@example.org
To: b@example.net
Subject: nested
Message-ID: <n1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="outer"

--outer
Content-Type: multipart/related; boundary="rel"

--rel
Content-Type: multipart/alternative; boundary="alt"

--alt
Content-Type: text/plain; charset=utf-8

plain
--alt
Content-Type: text/html; charset=utf-8

<html><body>rich <img src="cid:logo"></body></html>
--alt--
--rel
Content-Type: image/png
Content-ID: <logo>
Content-Transfer-Encoding: base64

iVBORw0KGgo=
--rel--
--outer
Content-Type: text/html; name="invoice.html"
Content-Disposition: attachment; filename="invoice.html"

<html><body>attached</body></html>
--outer--
"""

FORWARDED = """\
From: a@example.org
Message-ID: <f1@example.org>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

see below
--b
Content-Type: message/rfc822

From: c@example.com
Content-Type: text/html

<html><body>someone else's</body></html>
--b
Content-Type: text/html; charset=utf-8
Content-Disposition: inline

<html><body>ours</body></html>
--b--
"""


def test_nested_structure_first_body_html_part() -> None:
    msg = parse(NESTED)
    part = find_html_part(msg)
    assert part is not None
    assert part.get_content() == '<html><body>rich <img src="cid:logo"></body></html>'


def test_forwarded_message_is_not_ours() -> None:
    msg = parse(FORWARDED)
    part = find_html_part(msg)
    assert part is not None
    assert part.get_content() == "<html><body>ours</body></html>"


@pytest.mark.parametrize(
    "raw",
    [
        "From: a@example.org\nContent-Type: text/plain\n\nonly text\n",
        "From: a@example.org\n\nno content type\n",
        "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        "Content-Type: text/html\nContent-Disposition: attachment\n\n<b>x</b>\n--b--\n",
        "From: a@example.org\nContent-Type: multipart/mixed; boundary=b\n\n--b\n"
        "Content-Type: message/rfc822\n\nContent-Type: text/html\n\n<b>x</b>\n--b--\n",
    ],
)
def test_no_html_body(raw: str) -> None:
    assert find_html_part(parse(raw)) is None


def test_legacy_message_class() -> None:
    msg = email.message_from_string("Content-Type: text/html; charset=us-ascii\n\n<body>x</body>\n")
    assert type(msg) is Message
    part = find_html_part(msg)
    assert part is msg
    assert insert_pixel(msg, TAG) is True
    assert msg.get_payload() == f"<body>x\n{TAG}\n</body>\n"
