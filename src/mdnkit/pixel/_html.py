"""Putting a pixel in the HTML part of a message, and nowhere else.

The pixel goes in the first HTML body part (not an attachment, not inside
an attached ``message/rfc822``), just before the last ``</body>``, or at
the end when there is none.  The part keeps its charset and its
Content-Transfer-Encoding; the rest of the message is not touched.
"""

from __future__ import annotations

import base64
import html
import quopri
import re
from email.message import Message

__all__ = ["find_html_part", "img_tag", "insert_pixel"]

_BODY_END = re.compile(rb"</body\s*>", re.IGNORECASE)
# Charsets in which ASCII text is not ASCII bytes: decode, insert, encode.
_WIDE = ("utf-16", "utf-32", "utf16", "utf32", "ucs-2", "ucs2", "ucs-4", "ucs4")
_KNOWN_CTE = ("7bit", "8bit", "binary", "quoted-printable", "base64")


def img_tag(url: str) -> str:
    """The pixel's ``<img>``: 1x1, no border, empty ``alt`` so readers skip it."""
    return (
        f'<img src="{html.escape(url, quote=True)}" width="1" height="1" alt="" '
        'style="border:0;width:1px;height:1px;overflow:hidden" />'
    )


def find_html_part(msg: Message) -> Message | None:
    """The first ``text/html`` part that is part of the body, or None."""
    stack = [msg]
    while stack:
        part = stack.pop()
        ctype = part.get_content_type()
        if part.is_multipart():
            if ctype.startswith("multipart/"):
                payload: object = part.get_payload()
                if isinstance(payload, list):
                    stack.extend(p for p in reversed(payload) if isinstance(p, Message))
            # message/rfc822 and friends: a forwarded message is not ours to mark.
            continue
        if ctype == "text/html" and part.get_content_disposition() != "attachment":
            return part
    return None


def insert_pixel(part: Message, tag: str) -> bool:
    """Insert *tag* in the HTML *part*, in place; False when its encoding is unknown."""
    cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if cte not in _KNOWN_CTE:
        return False
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        return False
    charset = (part.get_content_charset() or "us-ascii").lower()
    if charset.startswith(_WIDE):
        try:
            text = data.decode(charset)
            data = _insert(text.encode("utf-8"), tag).decode("utf-8").encode(charset)
        except (LookupError, UnicodeError):
            return False
    else:
        # ASCII-compatible charsets (and unknown ones, which in mail are
        # in practice): the tag is ASCII, so splice bytes and never decode,
        # which keeps undecodable or mislabelled text exactly as it was.
        data = _insert(data, tag)
    part.set_payload(_encode(data, cte))
    return True


def _insert(data: bytes, tag: str) -> bytes:
    # On a line of its own: a 7bit/8bit body must keep lines under 998
    # octets (RFC 5322 §2.1.1), and a newline before </body> changes nothing.
    # The body's own line ending, so that the part stays consistent.
    eol = b"\r\n" if b"\r\n" in data else b"\n"
    line = eol + tag.encode("ascii") + eol
    last = None
    for match in _BODY_END.finditer(data):
        last = match
    if last is None:
        return data + (line[len(eol) :] if data.endswith(b"\n") else line)
    return data[: last.start()] + line + data[last.start() :]


def _encode(data: bytes, cte: str) -> str:
    if cte == "base64":
        return base64.encodebytes(data).decode("ascii")
    if cte == "quoted-printable":
        return quopri.encodestring(data.replace(b"\r\n", b"\n")).decode("ascii")
    # 7bit/8bit/binary: the email package keeps raw octets as surrogates.
    return data.decode("ascii", "surrogateescape")
